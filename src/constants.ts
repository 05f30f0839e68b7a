/**
 * Every constant Butter exposes, under its C name (as `fs.constants`).
 */
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } from './raw/eventfd';

export const constants = Object.freeze({
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EFD_SEMAPHORE,
});
