/**
 * LinuxAio: Linux AIO with Promises. Operations started in one tick go to the
 * kernel in one io_submit; completions are signalled on an EventFd
 * (IOCB_FLAG_RESFD) and reaped when it wakes, so nothing waits on the loop.
 */
import { invalidArgType, sysError, EAGAIN, EBADF, ECANCELED, EINPROGRESS, EINTR } from '../core/errors';
import { native } from '../core/native';
import { abortError, isArray, validateAbortSignal, validateFd, validateInteger, validateOptions, UINT64_MAX } from '../core/validate';
import { EventFd } from './eventfd';
import {
  describeIocb, ioSetup, nativeContext, wouldBlock, AIO_DESC_STRIDE, AIO_EVENT_STRIDE,
  IOCB_CMD_FDSYNC, IOCB_CMD_FSYNC, IOCB_CMD_POLL, IOCB_CMD_PREAD, IOCB_CMD_PREADV, IOCB_CMD_PWRITE, IOCB_CMD_PWRITEV,
  IOCB_FLAG_IOPRIO, IOCB_FLAG_RESFD, type NativeAioContext,
} from '../raw/aio';

export interface LinuxAioOptions {
  /** Operations in flight at once (io_setup's nr_events); more wait in a queue. Default 128. */
  entries?: number;
}

export interface LinuxAioOperationOptions {
  /** `RWF_*` flags of a read or write. */
  rwFlags?: number;
  /** An I/O priority (`IOCB_FLAG_IOPRIO`): `class << IOPRIO_CLASS_SHIFT | level`. */
  priority?: number;
  /**
   * Rejects with an AbortError: at once while the operation waits in the
   * queue; in flight, only if the kernel cancels it (polls; reads and writes
   * run to completion and resolve).
   */
  signal?: AbortSignal;
}

interface Operation {
  id: number;
  opcode: number;
  fd: number;
  buffer: Uint8Array | readonly Uint8Array[] | null;
  offset: number;
  rwFlags: number;
  priority: number;
  events: number;
  syscall: string;
  resolve(value: number): void;
  reject(err: Error): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  inFlight: boolean;
  /** io_cancel took it: a cancelled poll completes with no events (res 0). */
  cancelled: boolean;
}

const OPTIONS = ['rwFlags', 'priority', 'signal'] as const;

/** A Buffer or Uint8Array argument (this family's objects). */
export function validateBuffer(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidArgType(name, 'an instance of Buffer or Uint8Array', value);
  return value;
}

function validateBuffers(value: unknown, name: string): Uint8Array[] {
  if (!isArray(value)) throw invalidArgType(name, 'an instance of Array', value);
  return value.map((b, i) => validateBuffer(b, `${name}[${i}]`));
}

/** A file offset argument: a safe integer >= 0, default 0. */
export function validatePosition(value: unknown): number {
  return value === undefined ? 0 : validateInteger(value, 'position', 0, Number.MAX_SAFE_INTEGER);
}

/**
 * A Linux AIO context with its eventfd. Each method starts one operation and
 * resolves with its result (bytes, or a poll's revents), or rejects with the
 * fs-shaped error of its `syscall` (`read`, `write`, ...). A Buffer stays
 * referenced until its operation completes, whatever the caller does.
 *
 * Reads and writes run asynchronously only with `O_DIRECT` (aligned buffers:
 * `alignedBuffer()`): a buffered one is done inside io_submit, on the JS
 * thread. Pipes, sockets and terminals must be non-blocking (or use `poll`).
 *
 * ```ts
 * using aio = new LinuxAio();
 * const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
 * const buf = alignedBuffer(4096);
 * const n = await aio.read(fd, buf, 0);
 * ```
 */
export class LinuxAio {
  /** The number of operations it keeps in flight. */
  readonly entries: number;
  #ctx: NativeAioContext | null;
  #ev: EventFd;
  #ops: (Operation | undefined)[] = [];
  #freeIds: number[] = [];
  #queue: Operation[] = [];
  #scheduled = false;
  #inFlight = 0;
  #listening = false;
  #desc: Float64Array;
  #buffers: unknown[] = [];
  #out: Float64Array;
  #onWake = (): void => {
    this.#reap();
    if (this.#queue.length > 0 && !this.#scheduled) this.#submit();
  };
  #flush = (): void => {
    this.#scheduled = false;
    this.#submit();
  };

  constructor(options?: LinuxAioOptions) {
    const opts = validateOptions<LinuxAioOptions>(options, 'options', ['entries']);
    this.entries = opts.entries === undefined ? 128 : validateInteger(opts.entries, 'options.entries', 1, 65536);
    this.#desc = new Float64Array(this.entries * AIO_DESC_STRIDE);
    this.#out = new Float64Array(this.entries * AIO_EVENT_STRIDE);
    this.#ev = new EventFd();
    try {
      this.#ctx = nativeContext(ioSetup(this.entries));
    } catch (err) {
      this.#ev.close();
      throw err;
    }
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#ctx === null;
  }

  /** pread: resolves with the bytes read into `buffer` (all of it) from `position`. */
  read(fd: number, buffer: Uint8Array, position?: number, options?: LinuxAioOperationOptions): Promise<number> {
    return this.#start(IOCB_CMD_PREAD, 'read', validateFd(fd), validateBuffer(buffer, 'buffer'), validatePosition(position), 0, options);
  }

  /** pwrite: resolves with the bytes written from `buffer` (all of it) at `position`. */
  write(fd: number, buffer: Uint8Array, position?: number, options?: LinuxAioOperationOptions): Promise<number> {
    return this.#start(IOCB_CMD_PWRITE, 'write', validateFd(fd), validateBuffer(buffer, 'buffer'), validatePosition(position), 0, options);
  }

  /** preadv: resolves with the bytes read into `buffers`, in order. */
  readv(fd: number, buffers: readonly Uint8Array[], position?: number, options?: LinuxAioOperationOptions): Promise<number> {
    return this.#start(IOCB_CMD_PREADV, 'readv', validateFd(fd), validateBuffers(buffers, 'buffers'), validatePosition(position), 0, options);
  }

  /** pwritev: resolves with the bytes written from `buffers`, in order. */
  writev(fd: number, buffers: readonly Uint8Array[], position?: number, options?: LinuxAioOperationOptions): Promise<number> {
    return this.#start(IOCB_CMD_PWRITEV, 'writev', validateFd(fd), validateBuffers(buffers, 'buffers'), validatePosition(position), 0, options);
  }

  /** fsync, on a kernel worker: resolves with 0 once data and metadata are on disk. */
  fsync(fd: number, options?: LinuxAioOperationOptions): Promise<number> {
    return this.#start(IOCB_CMD_FSYNC, 'fsync', validateFd(fd), null, 0, 0, options);
  }

  /** fdatasync, on a kernel worker: resolves with 0 once the data is on disk. */
  fdatasync(fd: number, options?: LinuxAioOperationOptions): Promise<number> {
    return this.#start(IOCB_CMD_FDSYNC, 'fdatasync', validateFd(fd), null, 0, 0, options);
  }

  /** A one-shot poll of `fd` for `events` (`POLLIN`, ...): resolves with the revents. Cancellable. */
  poll(fd: number, events: number, options?: LinuxAioOperationOptions): Promise<number> {
    return this.#start(IOCB_CMD_POLL, 'poll', validateFd(fd), null, 0, validateInteger(events, 'events', 0, 0xffff), options);
  }

  /** Lets the process exit while operations are in flight (as `timer.unref()`). */
  unref(): this {
    this.#ev.unref();
    return this;
  }

  /** Undoes `unref()`. */
  ref(): this {
    this.#ev.ref();
    return this;
  }

  /**
   * Cancels what the kernel can cancel (polls) and waits, blocking, for the
   * operations in flight that it cannot (reads, writes, fsyncs: they resolve
   * as usual), then frees the context and its eventfd. Queued and cancelled
   * operations reject with EBADF, as any operation started after close().
   */
  close(): void {
    const ctx = this.#ctx;
    if (ctx === null) return;
    const queued = this.#queue.splice(0);
    for (const op of queued) this.#settle(op, sysError(EBADF, op.syscall));
    for (const op of this.#ops) if (op?.inFlight) this.#cancel(ctx, op);
    while (this.#inFlight > 0) {
      const r = native.aio.ioGetevents(ctx, this.#inFlight, this.entries, UINT64_MAX, this.#out);
      if (r < 0 && r !== -EINTR) break; // only an interrupted wait is worth another
      if (r > 0) this.#complete(r, true);
    }
    this.#ctx = null;
    native.aio.ioDestroy(ctx);
    this.#ev.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #start(opcode: number, syscall: string, fd: number, buffer: Uint8Array | readonly Uint8Array[] | null, offset: number, events: number, options: LinuxAioOperationOptions | undefined): Promise<number> {
    const opts = validateOptions<LinuxAioOperationOptions>(options, 'options', OPTIONS);
    const rwFlags = opts.rwFlags === undefined ? 0 : validateInteger(opts.rwFlags, 'options.rwFlags', 0, 0xffffffff);
    const priority = opts.priority === undefined ? -1 : validateInteger(opts.priority, 'options.priority', 0, 0xffff);
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    if (this.#ctx === null) return Promise.reject(sysError(EBADF, syscall));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let resolve!: (value: number) => void, reject!: (err: Error) => void;
    const promise = new Promise<number>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const id = this.#freeIds.length > 0 ? (this.#freeIds.pop() as number) : this.#ops.length;
    const op: Operation = { id, opcode, fd, buffer, offset, rwFlags, priority, events, syscall, resolve, reject, signal, onAbort: undefined, inFlight: false, cancelled: false };
    this.#ops[id] = op;
    if (signal) {
      op.onAbort = () => this.#abort(op);
      signal.addEventListener('abort', op.onAbort, { once: true });
    }
    this.#queue.push(op);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
    return promise;
  }

  /**
   * Submits what the queue holds, as far as the context has room. A buffered
   * read or write is done by the time io_submit returns, so each batch is
   * reaped at once: that saves the eventfd's wake (and its listener, when
   * nothing is left in flight), and makes room for the next.
   */
  #submit(): void {
    const ctx = this.#ctx;
    while (ctx !== null && this.#queue.length > 0 && this.#inFlight < this.entries) {
      const n = Math.min(this.#queue.length, this.entries - this.#inFlight);
      const resfd = this.#ev.fd;
      for (let i = 0; i < n; i++) {
        const op = this.#queue[i] as Operation;
        describeIocb(this.#desc, i, op.id, op.opcode, op.fd, op.offset, op.rwFlags,
          IOCB_FLAG_RESFD | (op.priority >= 0 ? IOCB_FLAG_IOPRIO : 0), Math.max(op.priority, 0), resfd, op.events);
        this.#buffers[i] = op.buffer;
      }
      const r = native.aio.ioSubmit(ctx, this.#desc, this.#buffers, n);
      this.#buffers.length = 0;
      if (typeof r !== 'number') {
        const op = this.#queue.splice(r[0], 1)[0] as Operation;
        this.#settle(op, wouldBlock('fd', op.fd));
      } else if (r > 0) {
        for (const op of this.#queue.splice(0, r)) op.inFlight = true;
        this.#inFlight += r;
        this.#reap();
        // Only what is still in flight needs the eventfd (and holds the loop).
        if (this.#inFlight > 0 && !this.#listening) {
          this.#listening = true;
          this.#ev.on('event', this.#onWake);
        }
      } else if (r === -EAGAIN && this.#inFlight > 0) {
        break; // the kernel is out of room: completions make more
      } else {
        const op = this.#queue.shift() as Operation;
        this.#settle(op, sysError(-r, 'io_submit'));
      }
    }
  }

  /** Takes every completion there is, without waiting. */
  #reap(): void {
    const ctx = this.#ctx;
    let r: number;
    do {
      r = ctx === null ? 0 : native.aio.ioGetevents(ctx, 0, this.entries, 0n, this.#out);
      if (r > 0) this.#complete(r, false);
    } while (r === this.entries);
  }

  #complete(count: number, closing: boolean): void {
    const out = this.#out;
    for (let i = 0; i < count; i++) {
      const e = i * AIO_EVENT_STRIDE;
      const op = this.#ops[out[e] as number];
      if (op === undefined || !op.inFlight) continue;
      this.#inFlight--;
      const res = out[e + 1] as number;
      if (op.cancelled && (res === 0 || res === -ECANCELED)) {
        this.#settle(op, !closing && op.signal?.aborted ? abortError(op.signal) : sysError(EBADF, op.syscall));
      } else {
        this.#settle(op, res >= 0 ? res : sysError(-res, op.syscall));
      }
    }
    if (this.#inFlight === 0 && this.#listening) {
      this.#listening = false;
      this.#ev.off('event', this.#onWake);
    }
  }

  #settle(op: Operation, result: number | Error): void {
    op.inFlight = false;
    this.#ops[op.id] = undefined;
    this.#freeIds.push(op.id);
    if (op.onAbort) op.signal?.removeEventListener('abort', op.onAbort);
    op.buffer = null;
    if (typeof result === 'number') op.resolve(result);
    else op.reject(result);
  }

  #abort(op: Operation): void {
    if (this.#ops[op.id] !== op) return;
    const i = this.#queue.indexOf(op);
    if (i >= 0) {
      this.#queue.splice(i, 1);
      this.#settle(op, abortError(op.signal as AbortSignal));
    } else if (this.#ctx !== null) {
      this.#cancel(this.#ctx, op);
    }
  }

  /** io_cancel: EINPROGRESS when the kernel cancels it (polls only). */
  #cancel(ctx: NativeAioContext, op: Operation): void {
    if (native.aio.ioCancel(ctx, op.id) === -EINPROGRESS) op.cancelled = true;
  }
}
