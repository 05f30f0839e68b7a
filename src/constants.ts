/**
 * Every constant Butter exposes, under its C name (as `fs.constants`). The
 * values come from the kernel and libc headers the addon was built with.
 */
import { native } from './core/native';

export const constants = Object.freeze({
  ...native.eventfdConstants,
  ...native.timerfdConstants,
  ...native.signalConstants,
  ...native.inotifyConstants,
  ...native.fanotifyConstants,
  ...native.spliceConstants,
});
