/**
 * eventfd, 1:1: eventfd(2) and the 8-byte reads and writes that drive it.
 */
import { check } from '../core/errors';
import { native, type NativeHandle } from '../core/native';
import { validateBigUint, validateFd, validateInt32, validateUint32, UINT64_MAX } from '../core/validate';

/** The eventfd family's binding (src/native/eventfd.c); failing calls return -errno. */
export interface EventfdNative {
  eventfd(initval: number, flags: number, handle?: NativeHandle): number;
  eventfdRead(fd: number): bigint | number;
  eventfdWrite(fd: number, value: bigint): number;
  readonly constants: { readonly EFD_CLOEXEC: number; readonly EFD_NONBLOCK: number; readonly EFD_SEMAPHORE: number };
}

declare module '../core/native' {
  interface Families {
    eventfd: EventfdNative;
  }
}

export const { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } = native.eventfd.constants;

/**
 * eventfd(2): a new eventfd with counter `initval`. `flags` defaults to
 * `EFD_CLOEXEC | EFD_NONBLOCK` (Butter's defaults); pass `0` for a blocking fd.
 * The caller owns the fd (close it with `fs.closeSync`).
 */
export function eventfd(initval = 0, flags: number = EFD_CLOEXEC | EFD_NONBLOCK): number {
  return check(native.eventfd.eventfd(validateUint32(initval, 'initval'), validateInt32(flags, 'flags')), 'eventfd');
}

/**
 * Reads the counter (and resets it, or in semaphore mode takes 1). Throws EAGAIN
 * when it is zero on a non-blocking fd; on a blocking fd it blocks the thread.
 */
export function eventfdRead(fd: number): bigint {
  const r = native.eventfd.eventfdRead(validateFd(fd));
  if (typeof r === 'number') check(r, 'read');
  return r as bigint;
}

/**
 * Adds `value` to the counter. EAGAIN if the sum would exceed 2^64 - 2 on a
 * non-blocking fd; EINVAL for 2^64 - 1, which the kernel refuses.
 */
export function eventfdWrite(fd: number, value: bigint | number): void {
  validateFd(fd);
  check(native.eventfd.eventfdWrite(fd, validateBigUint(value, 'value', UINT64_MAX)), 'write');
}
