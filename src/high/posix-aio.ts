/**
 * PosixAio: POSIX AIO (glibc's thread pool) with Promises. The reads and
 * writes started in one tick go to glibc in one lio_listio, with one
 * notification for the batch: glibc starts a thread to notify (SIGEV_THREAD),
 * which queues the batch's ids natively and wakes an EventFd, so no signal
 * reaches the process and nothing waits on the loop.
 */
import { sysError, EBADF, ECANCELED, EINPROGRESS } from '../core/errors';
import { native } from '../core/native';
import { validateFd, UINT64_MAX } from '../core/validate';
import { validateBuffer, validatePosition } from './aio';
import { EventFd } from './eventfd';
import { wouldBlock, type NativeAioNotifier, type NativeAiocb } from '../raw/aio';
import { Aiocb, nativeAiocb, notifyingAiocb, LIO_READ, LIO_WRITE, O_DSYNC, O_SYNC } from '../raw/posix-aio';

interface Request {
  id: number;
  aiocb: NativeAiocb;
  fd: number;
  syscall: string;
  resolve(value: number): void;
  reject(err: Error): void;
}

/**
 * POSIX AIO requests as Promises. Each method resolves with the request's
 * result (bytes; 0 for a sync) or rejects with its fs-shaped error
 * (`aio_read`, `aio_write`, `aio_fsync`). glibc runs the requests of one fd
 * one at a time, in order, and a tick's reads and writes complete together,
 * when the last of them is done (docs/guide.md, "aio").
 */
export class PosixAio {
  #ev: EventFd;
  #notifier: NativeAioNotifier | null;
  #requests = new Map<number, Request>();
  #nextId = 0;
  #out = new Float64Array(256);
  #batch: Request[] = [];
  #scheduled = false;
  #onWake = (): void => this.#reap();
  #flush = (): void => {
    this.#scheduled = false;
    this.#submit();
  };

  constructor() {
    this.#ev = new EventFd();
    const n = native.aio.aioNotifierNew(this.#ev.fd);
    if (Array.isArray(n)) {
      this.#ev.close();
      throw sysError(-n[0], n[1]);
    }
    this.#notifier = n;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#notifier === null;
  }

  /** aio_read: resolves with the bytes read into `buffer` (all of it) from `position`. */
  read(fd: number, buffer: Uint8Array, position?: number): Promise<number> {
    return this.#start(validateFd(fd), LIO_READ, validateBuffer(buffer, 'buffer'), validatePosition(position), 'aio_read', 0);
  }

  /** aio_write: resolves with the bytes written from `buffer` at `position`. */
  write(fd: number, buffer: Uint8Array, position?: number): Promise<number> {
    return this.#start(validateFd(fd), LIO_WRITE, validateBuffer(buffer, 'buffer'), validatePosition(position), 'aio_write', 0);
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
    this.#submit(); // rejects (EBADF) the batch still waiting for its tick
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
    // A sync has no lio_listio opcode: it goes alone, with a notification of its own.
    const fsync = syscall === 'aio_fsync';
    const aiocb = nativeAiocb(fsync ? notifyingAiocb({ fd }, notifier, id) : new Aiocb({ fd, opcode, offset, ...(buffer ? { buffer } : {}) }));
    if (fsync) {
      const r = native.aio.aioFsync(aiocb, syncOp);
      if (r < 0) return Promise.reject(sysError(-r, syscall));
    }
    return new Promise<number>((resolve, reject) => {
      const req = { id, aiocb, fd, syscall, resolve, reject };
      if (fsync) this.#track(req);
      else {
        this.#batch.push(req);
        if (!this.#scheduled) {
          this.#scheduled = true;
          queueMicrotask(this.#flush);
        }
      }
    });
  }

  #track(req: Request): void {
    if (this.#requests.size === 0) this.#ev.on('event', this.#onWake);
    this.#requests.set(req.id, req);
  }

  /** One lio_listio for the tick's reads and writes. */
  #submit(): void {
    const batch = this.#batch;
    this.#batch = [];
    const notifier = this.#notifier;
    if (notifier === null) {
      for (const req of batch) req.reject(sysError(EBADF, req.syscall));
      return;
    }
    let list = batch;
    for (;;) {
      if (list.length === 0) return;
      const r = native.aio.lioListioNotify(notifier, list.map((req) => req.aiocb), Float64Array.from(list, (req) => req.id));
      if (typeof r === 'number') break;
      // Nothing was submitted: take out the one whose fd would block glibc's thread, and retry.
      const [bad] = list.splice(r[0], 1) as [Request];
      bad.reject(wouldBlock('fd', bad.fd));
    }
    // Submitted, even on EAGAIN or EIO: glibc notifies for the batch, and each request's aio_return tells.
    for (const req of list) this.#track(req);
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

