/**
 * timerfd, 1:1: timerfd_create(2), timerfd_settime(2), timerfd_gettime(2), the
 * TFD_IOC_SET_TICKS ioctl, and the 8-byte read that returns the expirations.
 *
 * Times are bigint nanoseconds: exact (a number of nanoseconds loses precision
 * past ~104 days), and split into tv_sec/tv_nsec natively with 64-bit math, so
 * no value is ever rounded. The range is the kernel's: it keeps timer times as
 * ktime_t, signed 64-bit nanoseconds, and would silently clamp anything longer.
 */
import { check, invalidArgType, outOfRange } from '../core/errors';
import { native, type NativeHandle } from '../core/native';
import { validateBigUint, validateFd, validateInt32, UINT64_MAX } from '../core/validate';

/** The timerfd family's binding (src/native/timerfd.c); failing calls return -errno. */
export interface TimerfdNative {
  timerfdCreate(clockid: number, flags: number, handle?: NativeHandle): number;
  /** Times are nanoseconds; the result is the old `[interval, value]`. */
  timerfdSettime(fd: number, flags: number, interval: bigint, value: bigint): [bigint, bigint] | number;
  timerfdGettime(fd: number): [bigint, bigint] | number;
  timerfdSetTicks(fd: number, ticks: bigint): number;
  timerfdRead(fd: number): bigint | number;
  clockGettime(clockid: number): bigint | number;
  readonly constants: {
    readonly CLOCK_REALTIME: number;
    readonly CLOCK_MONOTONIC: number;
    readonly CLOCK_BOOTTIME: number;
    readonly CLOCK_REALTIME_ALARM: number;
    readonly CLOCK_BOOTTIME_ALARM: number;
    readonly TFD_CLOEXEC: number;
    readonly TFD_NONBLOCK: number;
    readonly TFD_TIMER_ABSTIME: number;
    readonly TFD_TIMER_CANCEL_ON_SET: number;
    readonly TFD_IOC_SET_TICKS: number;
  };
}

declare module '../core/native' {
  interface Families {
    timerfd: TimerfdNative;
  }
}

export const {
  CLOCK_REALTIME,
  CLOCK_MONOTONIC,
  CLOCK_BOOTTIME,
  CLOCK_REALTIME_ALARM,
  CLOCK_BOOTTIME_ALARM,
  TFD_CLOEXEC,
  TFD_NONBLOCK,
  TFD_TIMER_ABSTIME,
  TFD_TIMER_CANCEL_ON_SET,
  TFD_IOC_SET_TICKS,
} = native.timerfd.constants;

/** The longest time the kernel represents (KTIME_MAX): 2^63 - 1 ns, about 292 years. */
export const KTIME_MAX = 2n ** 63n - 1n;

/**
 * A `struct itimerspec` in nanoseconds. `value` is the time until the next
 * expiration (`0n`: disarmed; always relative when read back, even for a timer
 * set with `TFD_TIMER_ABSTIME`); `interval` the period (`0n`: one-shot).
 */
export interface TimerSpec {
  interval: bigint;
  value: bigint;
}

/** What `timerfdSettime()` takes: a `TimerSpec` whose `interval` defaults to `0n`. */
export interface TimerSpecInit {
  interval?: bigint;
  value: bigint;
}

/** A bigint number of nanoseconds within the kernel's range. */
export function validateNanoseconds(value: unknown, name: string): bigint {
  if (typeof value !== 'bigint') throw invalidArgType(name, 'of type bigint', value);
  if (value < 0n || value > KTIME_MAX) throw outOfRange(name, `>= 0 && <= ${KTIME_MAX}`, value);
  return value;
}

function toSpec(result: [bigint, bigint] | number, syscall: string): TimerSpec {
  if (typeof result === 'number') check(result, syscall);
  const [interval, value] = result as [bigint, bigint];
  return { interval, value };
}

/**
 * timerfd_create(2): a new, disarmed timer on `clockid` (`CLOCK_MONOTONIC`,
 * `CLOCK_REALTIME`, `CLOCK_BOOTTIME`, `CLOCK_REALTIME_ALARM`,
 * `CLOCK_BOOTTIME_ALARM`; the alarm clocks need `CAP_WAKE_ALARM`). `flags`
 * defaults to `TFD_CLOEXEC | TFD_NONBLOCK` (Butter's defaults); pass `0` for a
 * blocking fd. The caller owns the fd (close it with `fs.closeSync`).
 */
export function timerfdCreate(clockid: number, flags: number = TFD_CLOEXEC | TFD_NONBLOCK): number {
  return check(native.timerfd.timerfdCreate(validateInt32(clockid, 'clockid'), validateInt32(flags, 'flags')), 'timerfd_create');
}

/**
 * timerfd_settime(2): arms (`newValue.value > 0n`) or disarms (`0n`) the timer
 * and returns the previous setting. `flags`: `TFD_TIMER_ABSTIME` makes `value`
 * a time on the timer's clock rather than a delay; `TFD_TIMER_CANCEL_ON_SET`
 * (with `TFD_TIMER_ABSTIME`, on a realtime clock; the kernel ignores it
 * otherwise) makes reads fail with ECANCELED when the clock is set.
 */
export function timerfdSettime(fd: number, flags: number, newValue: TimerSpecInit): TimerSpec {
  validateFd(fd);
  validateInt32(flags, 'flags');
  if (typeof newValue !== 'object' || newValue === null || Array.isArray(newValue)) {
    throw invalidArgType('newValue', 'of type object', newValue);
  }
  const interval = newValue.interval === undefined ? 0n : validateNanoseconds(newValue.interval, 'newValue.interval');
  const value = validateNanoseconds(newValue.value, 'newValue.value');
  return toSpec(native.timerfd.timerfdSettime(fd, flags, interval, value), 'timerfd_settime');
}

/** timerfd_gettime(2): the time to the next expiration and the interval. */
export function timerfdGettime(fd: number): TimerSpec {
  return toSpec(native.timerfd.timerfdGettime(validateFd(fd)), 'timerfd_gettime');
}

/**
 * ioctl(fd, TFD_IOC_SET_TICKS, &ticks): sets the expiration count the next read
 * returns, and wakes readers (meant for checkpoint/restore). EINVAL for `0`;
 * ECANCELED after a cancel-on-set clock change; ENOTTY when `fd` is not a
 * timerfd, or on kernels built without CONFIG_CHECKPOINT_RESTORE.
 */
export function timerfdSetTicks(fd: number, ticks: bigint | number): void {
  validateFd(fd);
  check(native.timerfd.timerfdSetTicks(fd, validateBigUint(ticks, 'ticks', UINT64_MAX)), 'ioctl');
}

/**
 * Reads the number of expirations since the last read (and resets it). Throws
 * EAGAIN when none on a non-blocking fd (on a blocking fd it blocks the thread),
 * and ECANCELED once after the clock of a cancel-on-set timer was set.
 */
export function timerfdRead(fd: number): bigint {
  const r = native.timerfd.timerfdRead(validateFd(fd));
  if (typeof r === 'number') check(r, 'read');
  return r as bigint;
}
