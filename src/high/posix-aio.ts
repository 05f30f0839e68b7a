/**
 * PosixAio: POSIX AIO (glibc's thread pool) with Promises. glibc starts a
 * thread per completion to notify (SIGEV_THREAD); ours queues the request's
 * id and wakes an EventFd, so no signal reaches the process and nothing
 * waits on the loop.
 */
import { invalidArgType, sysError, EBADF, ECANCELED, EINPROGRESS } from '../core/errors';
import { native } from '../core/native';
import { validateFd, validateInteger, UINT64_MAX } from '../core/validate';
import { EventFd } from './eventfd';
import { wouldBlock, type NativeAioNotifier, type NativeAiocb } from '../raw/aio';
import { nativeAiocb, notifyingAiocb, LIO_READ, LIO_WRITE, O_DSYNC, O_SYNC } from '../raw/posix-aio';

interface Request {
  aiocb: NativeAiocb;
  fd: number;
  syscall: string;
  resolve(value: number): void;
  reject(err: Error): void;
}

function validateBuffer(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidArgType('buffer', 'an instance of Buffer or Uint8Array', value);
  return value;
}

function validatePosition(value: unknown): number {
  return value === undefined ? 0 : validateInteger(value, 'position', 0, Number.MAX_SAFE_INTEGER);
}

/**
 * POSIX AIO requests as Promises. Each method resolves with the request's
 * result (bytes; 0 for a sync) or rejects with its fs-shaped error
 * (`aio_read`, `aio_write`, `aio_fsync`, or the submitting call's). glibc
 * runs the requests of one fd one at a time, in order: queue depth on a
 * single fd buys nothing (docs/guide.md, "POSIX AIO").
 */
export class PosixAio {
  #ev: EventFd;
  #notifier: NativeAioNotifier | null;
  #requests = new Map<number, Request>();
  #nextId = 0;
  #out = new Float64Array(256);
  #onWake = (): void => this.#reap();

  constructor() {
    this.#ev = new EventFd();
    const n = native.aio.aioNotifierNew(this.#ev.fd);
    if (typeof n === 'number') {
      this.#ev.close();
      throw sysError(-n, 'fcntl');
    }
    this.#notifier = n;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#notifier === null;
  }

  /** aio_read: resolves with the bytes read into `buffer` (all of it) from `position`. */
  read(fd: number, buffer: Uint8Array, position?: number): Promise<number> {
    return this.#start(validateFd(fd), LIO_READ, validateBuffer(buffer), validatePosition(position), 'aio_read', 0);
  }

  /** aio_write: resolves with the bytes written from `buffer` at `position`. */
  write(fd: number, buffer: Uint8Array, position?: number): Promise<number> {
    return this.#start(validateFd(fd), LIO_WRITE, validateBuffer(buffer), validatePosition(position), 'aio_write', 0);
  }

  /** aio_fsync(O_SYNC): once the requests on `fd` before it are done. */
  fsync(fd: number): Promise<number> {
    return this.#start(validateFd(fd), 0, null, 0, 'aio_fsync', O_SYNC);
  }

  /** aio_fsync(O_DSYNC). */
  fdatasync(fd: number): Promise<number> {
    return this.#start(validateFd(fd), 0, null, 0, 'aio_fsync', O_DSYNC);
  }

  unref(): this {
    this.#ev.unref();
    return this;
  }

  ref(): this {
    this.#ev.ref();
    return this;
  }

  /**
   * Cancels the requests no thread has started (they reject with EBADF, as
   * requests made after close() do), waits, blocking, for those running (they
   * resolve as usual), and closes the eventfd.
   */
  close(): void {
    const notifier = this.#notifier;
    if (notifier === null) return;
    this.#notifier = null;
    native.aio.aioNotifierClose(notifier);
    const all = [...this.#requests.values()];
    for (const req of all) native.aio.aioCancel(req.fd, req.aiocb);
    for (const req of all) {
      while (native.aio.aioError(req.aiocb) === EINPROGRESS) native.aio.aioSuspend([req.aiocb], UINT64_MAX);
    }
    for (const [id, req] of this.#requests) this.#finish(id, req);
    this.#ev.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #start(fd: number, opcode: number, buffer: Uint8Array | null, offset: number, syscall: string, syncOp: number): Promise<number> {
    const notifier = this.#notifier;
    if (notifier === null) return Promise.reject(sysError(EBADF, syscall));
    const id = this.#nextId++;
    const aiocb = nativeAiocb(notifyingAiocb({ fd, opcode, offset, ...(buffer ? { buffer } : {}) }, notifier, id));
    const r = syscall === 'aio_fsync' ? native.aio.aioFsync(aiocb, syncOp) : opcode === LIO_READ ? native.aio.aioRead(aiocb) : native.aio.aioWrite(aiocb);
    if (typeof r !== 'number') return Promise.reject(wouldBlock('fd', fd));
    if (r < 0) return Promise.reject(sysError(-r, syscall));
    return new Promise<number>((resolve, reject) => {
      if (this.#requests.size === 0) this.#ev.on('event', this.#onWake);
      this.#requests.set(id, { aiocb, fd, syscall, resolve, reject });
    });
  }

  #reap(): void {
    const out = this.#out;
    let n: number;
    do {
      n = this.#notifier === null ? 0 : native.aio.aioNotifierTake(this.#notifier, out);
      for (let i = 0; i < n; i++) {
        const id = out[i] as number;
        const req = this.#requests.get(id);
        if (req) this.#finish(id, req);
      }
    } while (n === out.length);
  }

  #finish(id: number, req: Request): void {
    this.#requests.delete(id);
    if (this.#requests.size === 0) this.#ev.off('event', this.#onWake);
    const r = native.aio.aioReturn(req.aiocb);
    if (r >= 0) req.resolve(r);
    else req.reject(sysError(r === -ECANCELED ? EBADF : -r, req.syscall));
  }
}

