/** The timerfd family: the 1:1 calls and TimerFd (the drop-in timers are the `butter/timers` subpaths). */
export { timerfdCreate, timerfdSettime, timerfdGettime, timerfdSetTicks, timerfdRead } from '../raw/timerfd';
export type { TimerSpec, TimerSpecInit } from '../raw/timerfd';
export { TimerFd } from '../high/timerfd';
export type { TimerClock, TimerFdOptions, TimerSetOptions, TimerFdEvent, TimerExpireEvent, TimerClocksetEvent } from '../high/timerfd';
