/**
 * `butter/timers/promises`: `node:timers/promises` with `setTimeout`,
 * `setInterval` and `scheduler.wait` on kernel timers
 * (src/high/timers-promises.ts); `setImmediate` is Node's own.
 */
export { setTimeout, setInterval, scheduler } from '../high/timers-promises';
export type { IntervalIterator, TimerOptions, Scheduler } from '../high/timers-promises';
export { setImmediate } from 'node:timers/promises';
