/**
 * EventFd: a kernel counter as an event source. The simplest way to wake one
 * thread (or process) from another: writers add, the reader gets the sum.
 */
import { check, sysError, EAGAIN } from '../core/errors';
import { native } from '../core/native';
import { FdSource } from '../core/source';
import { closeOnAbort, validateAbortSignal, validateBigUint, validateBoolean, validateOptions, validateUint32, UINT64_MAX } from '../core/validate';
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } from '../raw/eventfd';


export interface EventFdOptions {
  /** The counter's initial value (0 to 2^32 - 1). Default 0. */
  initval?: number;
  /**
   * Semaphore mode (`EFD_SEMAPHORE`): each read takes 1 from the counter and
   * yields `1n`, instead of taking the whole sum. Default false.
   */
  semaphore?: boolean;
  /** Closes it when aborted. */
  signal?: AbortSignal;
}

/**
 * An eventfd owned by this object. Events are bigint counts: in counter mode
 * the sum written since the last read, in semaphore mode `1n` per unit.
 *
 * ```ts
 * using ev = new EventFd();
 * new Worker(file, { workerData: ev.fd }); // the Worker calls eventfdWrite(fd, 1n)
 * for await (const n of ev) console.log(`${n} writes`);
 * ```
 */
export class EventFd extends FdSource<bigint> {
  /** Whether this EventFd is in semaphore mode. */
  readonly semaphore: boolean;

  constructor(options?: EventFdOptions) {
    const opts = validateOptions<EventFdOptions>(options, 'options', ['initval', 'semaphore', 'signal']);
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    const initval = opts.initval === undefined ? 0 : validateUint32(opts.initval, 'options.initval');
    const semaphore = opts.semaphore === undefined ? false : validateBoolean(opts.semaphore, 'options.semaphore');
    const flags = EFD_CLOEXEC | EFD_NONBLOCK | (semaphore ? EFD_SEMAPHORE : 0);
    super((handle) => native.eventfd.eventfd(initval, flags, handle), 'eventfd');
    this.semaphore = semaphore;
    closeOnAbort(this, signal);
  }

  /**
   * Adds `value` (default 1) to the counter; wakes readers. Throws EAGAIN when the
   * counter would pass 2^64 - 2 (nobody is reading), EINVAL for 2^64 - 1.
   */
  write(value: bigint | number = 1n): void {
    const v = validateBigUint(value, 'value', UINT64_MAX);
    this.assertOpen('write');
    check(native.eventfd.eventfdWrite(this.fd, v), 'write');
  }

  /** Like `write()`, but returns false instead of throwing EAGAIN when the counter is full. */
  tryWrite(value: bigint | number = 1n): boolean {
    const v = validateBigUint(value, 'value', UINT64_MAX);
    this.assertOpen('write');
    const r = native.eventfd.eventfdWrite(this.fd, v);
    if (r === -EAGAIN) return false;
    if (r < 0) throw sysError(-r, 'write');
    return true;
  }

  protected readBatch(out: bigint[]): number {
    const r = native.eventfd.eventfdRead(this.fd);
    if (typeof r === 'number') return r === -EAGAIN ? 0 : r;
    out.push(r);
    return 1;
  }
}
