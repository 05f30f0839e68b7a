/**
 * `butter/timers`: `node:timers` with `setTimeout` and `setInterval` on kernel
 * timers (src/high/timers.ts), so that switching is a change of import path.
 * Immediates have nothing to gain from a timerfd: they are Node's own.
 */
import { promisify } from 'node:util';
import { setTimeout } from './high/timers';
import * as promises from './timers/promises';

export { setTimeout, setInterval, clearTimeout, clearInterval, enroll, unenroll, active, _unrefActive } from './high/timers';
export type { Timeout, TimerCallback } from './high/timers';
export { setImmediate, clearImmediate } from 'node:timers';
export { promises };

// As Node's: util.promisify(setTimeout) is the promise version.
Object.defineProperty(setTimeout, promisify.custom, { enumerable: true, value: promises.setTimeout });
