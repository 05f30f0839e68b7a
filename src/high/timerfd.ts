/**
 * TimerFd: a kernel timer as an event source. Unlike Node's timers it keeps
 * nanosecond deadlines on a fixed grid (no drift), counts the expirations a busy
 * event loop missed instead of losing them, offers absolute deadlines on any
 * clock, and can tell when the wall clock was set.
 */
import { check, invalidArgType, invalidArgValue, outOfRange, EAGAIN, ECANCELED } from '../core/errors';
import { native } from '../core/native';
import { FdSource } from '../core/source';
import { closeOnAbort, validateAbortSignal, validateBoolean, validateOptions } from '../core/validate';
import {
  CLOCK_BOOTTIME,
  CLOCK_BOOTTIME_ALARM,
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  CLOCK_REALTIME_ALARM,
  TFD_CLOEXEC,
  TFD_NONBLOCK,
  TFD_TIMER_ABSTIME,
  TFD_TIMER_CANCEL_ON_SET,
  timerfdGettime,
  validateNanoseconds,
  type TimerSpec,
} from '../raw/timerfd';


const CLOCKS = {
  monotonic: CLOCK_MONOTONIC,
  realtime: CLOCK_REALTIME,
  boottime: CLOCK_BOOTTIME,
  realtime_alarm: CLOCK_REALTIME_ALARM,
  boottime_alarm: CLOCK_BOOTTIME_ALARM,
} as const;

/**
 * The clock a `TimerFd` runs on:
 * - `'monotonic'`: time since boot, not counting suspend; never jumps (default).
 * - `'realtime'`: the wall clock (what `Date.now()` reads); jumps when it is set.
 * - `'boottime'`: like `'monotonic'`, but counts time suspended.
 * - `'realtime_alarm'`, `'boottime_alarm'`: like `'realtime'` / `'boottime'`, and
 *   wake the system from suspend; need `CAP_WAKE_ALARM` (else EPERM).
 */
export type TimerClock = keyof typeof CLOCKS;

export interface TimerFdOptions {
  /** The clock the timer runs on. Default `'monotonic'`. */
  clock?: TimerClock;
  /** Closes it when aborted. */
  signal?: AbortSignal;
}

export interface TimerSetOptions {
  /**
   * The period, for a periodic timer: milliseconds (a number, may be
   * fractional) or nanoseconds (a bigint). `0` or absent: one-shot.
   */
  interval?: number | bigint;
  /**
   * The value is a time on the timer's clock (as `now()` reads it), not a
   * delay. A time already past expires at once. Default false.
   */
  absolute?: boolean;
  /**
   * With `absolute` on a realtime clock: when the clock is set, deliver a
   * `{ type: 'clockset' }` event. Default false.
   */
  cancelOnSet?: boolean;
}

/** The timer expired `expirations` times (at least 1n) since the last event. */
export interface TimerExpireEvent {
  type: 'expire';
  expirations: bigint;
}

/**
 * The realtime clock was set (only for timers armed with `cancelOnSet`).
 * Expirations the kernel held at that moment are discarded; arm the timer again
 * with a deadline computed on the new clock (see the user guide).
 */
export interface TimerClocksetEvent {
  type: 'clockset';
}

export type TimerFdEvent = TimerExpireEvent | TimerClocksetEvent;

/** The largest number of milliseconds accepted: whole milliseconds below KTIME_MAX. */
const MAX_MS = 9_223_372_036_854;

/** Milliseconds (number, rounded to the nearest nanosecond) or nanoseconds (bigint). */
function toNanoseconds(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') return validateNanoseconds(value, name);
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number or bigint', value);
  if (!(value >= 0 && value <= MAX_MS)) throw outOfRange(name, `>= 0 && <= ${MAX_MS}`, value);
  return BigInt(Math.round(value * 1e6));
}

function validateClock(value: unknown, name: string): TimerClock {
  if (typeof value === 'string' && Object.hasOwn(CLOCKS, value)) return value as TimerClock;
  const allowed = Object.keys(CLOCKS).map((c) => `'${c}'`).join(', ');
  throw invalidArgValue(name, value, `must be one of: ${allowed}`);
}

/**
 * A timerfd owned by this object. Each event is `{ type: 'expire', expirations }`
 * (how many periods passed since the last event: none are lost while the event
 * loop is busy) or, for a cancel-on-set timer, `{ type: 'clockset' }`.
 *
 * ```ts
 * using timer = new TimerFd();
 * timer.set(5, { interval: 5 });           // first in 5 ms, then every 5 ms
 * for await (const ev of timer) if (ev.type === 'expire') tick(ev.expirations);
 * ```
 */
export class TimerFd extends FdSource<TimerFdEvent> {
  /** The clock this timer runs on. */
  readonly clock: TimerClock;
  readonly #clockid: number;

  constructor(options?: TimerFdOptions) {
    const opts = validateOptions<TimerFdOptions>(options, 'options', ['clock', 'signal']);
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    const clock = opts.clock === undefined ? 'monotonic' : validateClock(opts.clock, 'options.clock');
    const clockid = CLOCKS[clock];
    super((handle) => native.timerfd.timerfdCreate(clockid, TFD_CLOEXEC | TFD_NONBLOCK, handle), 'timerfd_create');
    this.clock = clock;
    this.#clockid = clockid;
    closeOnAbort(this, signal);
  }

  /**
   * Arms the timer, replacing any earlier setting (expirations not yet read are
   * discarded). `value` is the delay, or with `absolute` the deadline on this
   * timer's clock, in milliseconds (number) or nanoseconds (bigint). A value of
   * 0 expires at once (the kernel would read 0 as "disarm": use `disarm()`).
   */
  set(value: number | bigint, options?: TimerSetOptions): this {
    const first = toNanoseconds(value, 'value');
    const opts = validateOptions<TimerSetOptions>(options, 'options', ['interval', 'absolute', 'cancelOnSet']);
    const interval = opts.interval === undefined ? 0n : toNanoseconds(opts.interval, 'options.interval');
    const absolute = opts.absolute === undefined ? false : validateBoolean(opts.absolute, 'options.absolute');
    const cancelOnSet = opts.cancelOnSet === undefined ? false : validateBoolean(opts.cancelOnSet, 'options.cancelOnSet');
    // The kernel accepts the flag anywhere and silently ignores it elsewhere: no event would ever come.
    if (cancelOnSet && !(absolute && (this.#clockid === CLOCK_REALTIME || this.#clockid === CLOCK_REALTIME_ALARM))) {
      throw invalidArgValue('options.cancelOnSet', cancelOnSet, "needs absolute: true and a 'realtime' or 'realtime_alarm' clock");
    }
    const flags = (absolute ? TFD_TIMER_ABSTIME : 0) | (cancelOnSet ? TFD_TIMER_CANCEL_ON_SET : 0);
    this.assertOpen('timerfd_settime');
    const r = native.timerfd.timerfdSettime(this.fd, flags, interval, first === 0n ? 1n : first);
    if (typeof r === 'number') check(r, 'timerfd_settime');
    return this;
  }

  /** Stops the timer; expirations not yet read are discarded. */
  disarm(): this {
    this.assertOpen('timerfd_settime');
    const r = native.timerfd.timerfdSettime(this.fd, 0, 0n, 0n);
    if (typeof r === 'number') check(r, 'timerfd_settime');
    return this;
  }

  /**
   * The current setting in nanoseconds: `value` is the time left to the next
   * expiration (`0n` when disarmed), `interval` the period (`0n`: one-shot).
   */
  get(): TimerSpec {
    this.assertOpen('timerfd_gettime');
    return timerfdGettime(this.fd);
  }

  /** This timer's clock now, in nanoseconds: the base for absolute deadlines. */
  now(): bigint {
    this.assertOpen('clock_gettime');
    const r = native.timerfd.clockGettime(this.#clockid);
    if (typeof r === 'number') check(r, 'clock_gettime');
    return r as bigint;
  }

  protected readBatch(out: TimerFdEvent[]): number {
    const r = native.timerfd.timerfdRead(this.fd);
    if (typeof r === 'bigint') {
      out.push({ type: 'expire', expirations: r });
      return 1;
    }
    if (r === -ECANCELED) {
      out.push({ type: 'clockset' });
      return 1;
    }
    return r === -EAGAIN ? 0 : r;
  }
}
