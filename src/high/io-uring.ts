/**
 * IoUring: an io_uring whose requests are Promises.
 *
 * Each method writes one SQE (one call into C), and the first of a tick
 * queues a flush behind the current microtasks: everything queued until then
 * goes to the kernel with one io_uring_enter, which also reaps whatever
 * completed inside it (reads served from the page cache do). Completions that
 * come later wake the ring's own fd through the readiness backend, watched
 * only while requests are in flight; the first requests queued after such a
 * wake go at once (EARLY_SUBMIT).
 *
 * A request's buffers (and the path bytes it points at) are held in its
 * record until its completion arrives, whatever the caller does meanwhile;
 * `close()` cancels what is in flight and waits until the kernel is done
 * with each request before it lets go of anything (src/native/io_uring.c).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { AbortError, invalidArgType, invalidArgValue, sysError, EBADF, ECANCELED } from '../core/errors';
import { toPath, type PathLike } from '../core/fs';
import { native, type NativeHandle } from '../core/native';
import {
  abortError, isArray, validateAbortSignal, validateBoolean, validateFd, validateInt32, validateInteger, validateOptions, validateUint32,
} from '../core/validate';
import {
  ioUringProbe, IoUringRing, nulTerminated, IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_ANY, IORING_REGISTER_BUFFERS,
  IORING_REGISTER_FILES, IORING_REGISTER_SYNC_CANCEL, IORING_UNREGISTER_BUFFERS, IORING_UNREGISTER_FILES, IOSQE_FIXED_FILE,
  IOSQE_IO_HARDLINK, IOSQE_IO_LINK, type OpName,
} from '../raw/io-uring';

const C = native.io_uring.constants;
const ETIME = 62;
const EINTR = 4;
const EBUSY = 16;
const ENOENT = 2;
const AT_FDCWD = -100;
const O_CLOEXEC = 0o2000000;
const SOCK_CLOEXEC = 0o2000000;
/** user_data of Butter's own requests (cancels), whose completions settle nothing. */
const INTERNAL = 0xffffffff;
/** CQEs taken per call into C. */
const BATCH = 256;
/**
 * Completions settled in one turn of the event loop before the next flush
 * waits for the loop's next turn. Reads from the page cache complete inside
 * the flush's io_uring_enter, so a loop of awaited reads would otherwise run
 * from microtask to microtask and starve timers and all other I/O.
 */
const COMPLETIONS_PER_TURN = 1024;
const resolved = Promise.resolve();
/**
 * Requests queued after a wake that go to the kernel at once rather than at
 * the tick's end. A wake means the last batch went to a device (or io-wq),
 * and the requests its completions lead to would reach the device only after
 * JS has queued all of them: with O_DIRECT the device idles meanwhile (at QD
 * 64 on a virtio disk, 160 µs of each 730 µs batch; docs/benchmarks.md). The
 * first few start it while JS queues the rest, at the cost of one more
 * io_uring_enter per wake.
 */
const EARLY_SUBMIT = 8;

export interface IoUringOptions {
  /** Submission queue entries (rounded up to a power of two). Default 256. */
  entries?: number;
  /** Completion queue entries (IORING_SETUP_CQSIZE). Default twice `entries`. */
  cqEntries?: number;
  /** More IORING_SETUP_* flags (SQPOLL, COOP_TASKRUN, SINGLE_ISSUER | DEFER_TASKRUN, NO_MMAP, ...). */
  flags?: number;
  /** With IORING_SETUP_SQPOLL: how long (ms) the kernel's thread polls before it sleeps. */
  sqThreadIdle?: number;
  /** Closes the ring when aborted. */
  signal?: AbortSignal;
}

/** Options every request takes. */
export interface RequestOptions {
  /** Cancels the request (IORING_OP_ASYNC_CANCEL); it rejects with an AbortError unless it completed first. */
  signal?: AbortSignal;
  /** Links the next request queued to this one (IOSQE_IO_LINK): it starts only after this one succeeds, and fails with ECANCELED otherwise. */
  link?: boolean;
  /** As `link`, but the next request runs even if this one fails (IOSQE_IO_HARDLINK). */
  hardlink?: boolean;
  /** `fd` is an index among the files registered with `registerFiles()` (IOSQE_FIXED_FILE). */
  fixedFile?: boolean;
}

/** `struct statx`, as statx(2) fills it. Times are nanoseconds since the epoch. */
export interface IoUringStatx {
  mask: number;
  blksize: number;
  attributes: bigint;
  nlink: number;
  uid: number;
  gid: number;
  mode: number;
  ino: bigint;
  size: bigint;
  blocks: bigint;
  attributesMask: bigint;
  atimeNs: bigint;
  btimeNs: bigint;
  ctimeNs: bigint;
  mtimeNs: bigint;
  rdevMajor: number;
  rdevMinor: number;
  devMajor: number;
  devMinor: number;
}

/** One request waiting for its completion. */
class Request {
  aborted = false;
  onAbort: (() => void) | null = null;
  constructor(
    readonly resolve: (value: never) => void,
    readonly reject: (err: unknown) => void,
    readonly syscall: string,
    /** What the kernel may still read or write: held until the completion. */
    readonly keep: unknown,
    readonly result: ((res: number) => unknown) | null,
    readonly signal: AbortSignal | undefined,
    readonly path?: string,
    readonly dest?: string,
  ) {}
}

/** A buffer argument as the bytes the kernel writes or reads. */
function bytesOf(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
}

/** A file position: a safe integer >= 0, or -1 / null for the file's current position. */
function positionOf(value: unknown, name = 'position'): number {
  if (value === undefined || value === null) return -1;
  if (typeof value === 'bigint') value = Number(value);
  return validateInteger(value, name, -1, Number.MAX_SAFE_INTEGER);
}

function dirfdOf(value: unknown, name: string): number {
  return value === null || value === undefined ? AT_FDCWD : validateFd(value, name);
}

/**
 * An io_uring owned by this object. Every method queues one request and
 * returns its Promise; requests queued in one tick are submitted together.
 *
 * ```ts
 * await using ring = new IoUring({ entries: 256 });
 * const fd = await ring.openat(null, 'data.bin');
 * const n = await ring.read(fd, buf, 4096 * 17);
 * await ring.closeFd(fd);
 * ```
 */
export class IoUring {
  readonly #ring: IoUringRing;
  #handle: NativeHandle | null;
  /** The SQE image each method fills and ioUringPrep copies into the ring. */
  readonly #image = new Uint8Array(64);
  readonly #words = new Int32Array(this.#image.buffer);
  readonly #out = new Uint8Array(16 * BATCH);
  readonly #cqes = new Int32Array(this.#out.buffer);
  /** Requests by user_data (their slot); free slots are reused. */
  readonly #slots: (Request | undefined)[] = [];
  readonly #free: number[] = [];
  #inFlight = 0;
  /** Slots of the requests prepped since the last submission. */
  readonly #queued: number[] = [];
  #flushQueued = false;
  /** Polls for completions when the ring's fd could not be watched. */
  #poll: NodeJS.Timeout | null = null;
  /** Completions settled in this turn of the event loop. */
  #turnCompletions = 0;
  /** A flush waits for the loop's next turn (see COMPLETIONS_PER_TURN). */
  #yielding = false;
  readonly #newTurn = (): void => {
    this.#turnCompletions = 0;
    if (this.#yielding) {
      this.#yielding = false;
      this.#flush();
    }
    this.#afterWake = false;
    if (this.#inFlight === 0) this.#watch();
  };
  /** Flushes once per queued flush, even when a full SQ was submitted early since. */
  readonly #flush = (): void => {
    if (!this.#flushQueued || this.#yielding) return;
    if (this.#turnCompletions >= COMPLETIONS_PER_TURN) {
      this.#yielding = true;
      return;
    }
    this.#afterWake = false;
    this.#submit();
  };
  /** The last request prepped links to the next one. */
  #chainOpen = false;
  #watching = false;
  /** The microtasks after a wake that brought completions run (see EARLY_SUBMIT). */
  #afterWake = false;
  #ref = true;
  #files: number[] = [];
  #ops: ReadonlySet<OpName> | null = null;

  constructor(options?: IoUringOptions) {
    const opts = validateOptions<IoUringOptions>(options, 'options', ['entries', 'cqEntries', 'flags', 'sqThreadIdle', 'signal']);
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    const entries = opts.entries === undefined ? 256 : validateInteger(opts.entries, 'options.entries', 1, 32768);
    let flags = opts.flags === undefined ? 0 : validateUint32(opts.flags, 'options.flags');
    const p = new Uint32Array(30);
    if (opts.cqEntries !== undefined) {
      p[1] = validateInteger(opts.cqEntries, 'options.cqEntries', 1, 65536);
      flags |= C.IORING_SETUP_CQSIZE;
    }
    p[2] = flags;
    p[4] = opts.sqThreadIdle === undefined ? 0 : validateUint32(opts.sqThreadIdle, 'options.sqThreadIdle');
    const handle = native.handleNew(this.#onReady);
    const fd = native.io_uring.ioUringSetup(entries, new Uint8Array(p.buffer), handle);
    if (fd < 0) {
      native.handleClose(handle);
      throw sysError(-fd, 'io_uring_setup');
    }
    this.#handle = handle;
    this.#ring = new IoUringRing(handle, fd, { sqEntries: p[0]!, cqEntries: p[1]!, flags: p[2]!, features: p[5]! });
    if (signal !== undefined) {
      if (signal.aborted) this.close();
      else signal.addEventListener('abort', () => this.close(), { once: true });
    }
  }

  /** The ring's fd, or -1 once closed. */
  get fd(): number {
    return this.#handle === null ? -1 : this.#ring.fd;
  }

  /** What the kernel made: entries, flags in force, features (IORING_FEAT_*). */
  get params(): IoUringRing['params'] {
    return this.#ring.params;
  }

  /** Requests queued or in flight. */
  get pending(): number {
    return this.#inFlight;
  }

  /** The opcodes this kernel supports (IORING_REGISTER_PROBE), by name. */
  get supported(): ReadonlySet<OpName> {
    if (this.#ops === null) {
      this.#assertOpen('io_uring_register');
      this.#ops = new Set(ioUringProbe(this.#ring).ops.flatMap((o) => (o.name === undefined ? [] : [o.name])));
    }
    return this.#ops;
  }

  /** Lets the process exit while requests are in flight. */
  unref(): this {
    this.#ref = false;
    this.#watch();
    return this;
  }

  ref(): this {
    this.#ref = true;
    this.#watch();
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  // ---- registration ----

  /**
   * Registers buffers (IORING_REGISTER_BUFFERS) for `readFixed`/`writeFixed`;
   * the kernel pins them, and the ring holds them until `unregisterBuffers()`
   * or close.
   */
  registerBuffers(buffers: readonly ArrayBufferView[]): void {
    if (!isArray(buffers)) throw invalidArgType('buffers', 'an array of Buffer, TypedArray, or DataView', buffers);
    const views = buffers.map((b, i) => bytesOf(b, `buffers[${i}]`));
    this.#assertOpen('io_uring_register');
    this.#register(IORING_REGISTER_BUFFERS, views, views.length);
    this.#ring.registered(views);
  }

  unregisterBuffers(): void {
    this.#assertOpen('io_uring_register');
    this.#register(IORING_UNREGISTER_BUFFERS, null, 0);
    this.#ring.registered([]);
  }

  /** Registers fds (IORING_REGISTER_FILES): requests with `{ fixedFile: true }` name them by index. -1 leaves a slot empty. */
  registerFiles(fds: readonly number[]): void {
    if (!isArray(fds)) throw invalidArgType('fds', 'an array of numbers', fds);
    const list = fds.map((fd, i) => validateInt32(fd, `fds[${i}]`, -1));
    this.#assertOpen('io_uring_register');
    this.#register(IORING_REGISTER_FILES, new Uint8Array(Int32Array.from(list).buffer), list.length);
    this.#files = list;
  }

  unregisterFiles(): void {
    this.#assertOpen('io_uring_register');
    this.#register(IORING_UNREGISTER_FILES, null, 0);
    this.#files = [];
  }

  // ---- requests ----

  /** IORING_OP_NOP: completes at once; resolves undefined. */
  nop(options?: RequestOptions): Promise<void> {
    return this.#request('nop', C.IORING_OP_NOP, 0, -1, 0, 0, 0, null, null, undefined, toVoid, options);
  }

  /** Reads into `buffer` at `position` (-1 or null: the file's current position); resolves with the bytes read, as read(2): a short read is not an error. */
  read(fd: number, buffer: ArrayBufferView, position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    const b = bytesOf(buffer, 'buffer');
    return this.#request('read', C.IORING_OP_READ, this.#fd(fd, options), positionOf(position), 0, b.byteLength, 0, b, null, undefined, null, options);
  }

  /** Writes `buffer` at `position` (-1 or null: the current position, or the end with O_APPEND); resolves with the bytes written. */
  write(fd: number, buffer: ArrayBufferView, position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    const b = bytesOf(buffer, 'buffer');
    return this.#request('write', C.IORING_OP_WRITE, this.#fd(fd, options), positionOf(position), 0, b.byteLength, 0, b, null, undefined, null, options);
  }

  /** Scatter read (preadv2): resolves with the bytes read. */
  readv(fd: number, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    const iov = this.#iovecs(buffers);
    return this.#request('readv', C.IORING_OP_READV, this.#fd(fd, options), positionOf(position), 0, iov.length - 1, 0, iov, null, undefined, null, options);
  }

  /** Gather write (pwritev2): resolves with the bytes written. */
  writev(fd: number, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    const iov = this.#iovecs(buffers);
    return this.#request('writev', C.IORING_OP_WRITEV, this.#fd(fd, options), positionOf(position), 0, iov.length - 1, 0, iov, null, undefined, null, options);
  }

  /** Reads into registered buffer `index` (IORING_OP_READ_FIXED), `length` bytes from `offset` in it. */
  readFixed(fd: number, index: number, offset: number, length: number, position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    return this.#fixed('read', C.IORING_OP_READ_FIXED, fd, index, offset, length, position, options);
  }

  /** Writes from registered buffer `index` (IORING_OP_WRITE_FIXED). */
  writeFixed(fd: number, index: number, offset: number, length: number, position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    return this.#fixed('write', C.IORING_OP_WRITE_FIXED, fd, index, offset, length, position, options);
  }

  /** fsync(2), or fdatasync(2) with `datasync`. */
  fsync(fd: number, options?: RequestOptions & { datasync?: boolean }): Promise<void> {
    const datasync = options?.datasync === undefined ? false : validateBoolean(options.datasync, 'options.datasync');
    return this.#request('fsync', C.IORING_OP_FSYNC, this.#fd(fd, options), 0, 0, 0, datasync ? 1 : 0, null, null, undefined, toVoid, options);
  }

  /** fallocate(2): `mode` FALLOC_FL_*, over [offset, offset + length). */
  fallocate(fd: number, mode: number, offset: number, length: number, options?: RequestOptions): Promise<void> {
    validateInt32(mode, 'mode');
    const off = positionOf(offset, 'offset');
    const len = validateInteger(length, 'length', 0, Number.MAX_SAFE_INTEGER);
    // The kernel takes the length in addr and the mode in len.
    return this.#request('fallocate', C.IORING_OP_FALLOCATE, this.#fd(fd, options), off, len, mode, 0, null, null, undefined, toVoid, options);
  }

  /** posix_fadvise(2). */
  fadvise(fd: number, offset: number, length: number, advice: number, options?: RequestOptions): Promise<void> {
    const off = positionOf(offset, 'offset');
    return this.#request('fadvise', C.IORING_OP_FADVISE, this.#fd(fd, options), off, 0, validateUint32(length, 'length'), validateInt32(advice, 'advice'), null, null, undefined, toVoid, options);
  }

  /** sync_file_range(2). */
  syncFileRange(fd: number, offset: number, length: number, flags: number, options?: RequestOptions): Promise<void> {
    const off = positionOf(offset, 'offset');
    return this.#request('sync_file_range', C.IORING_OP_SYNC_FILE_RANGE, this.#fd(fd, options), off, 0, validateUint32(length, 'length'), validateUint32(flags, 'flags'), null, null, undefined, toVoid, options);
  }

  /** ftruncate(2) (Linux 6.9). */
  ftruncate(fd: number, length: number, options?: RequestOptions): Promise<void> {
    const len = validateInteger(length, 'length', 0, Number.MAX_SAFE_INTEGER);
    return this.#request('ftruncate', C.IORING_OP_FTRUNCATE, this.#fd(fd, options), len, 0, 0, 0, null, null, undefined, toVoid, options);
  }

  /**
   * openat(2) relative to `dirfd` (null: the working directory); O_CLOEXEC is
   * always added. Resolves with the new fd, which the caller owns.
   */
  openat(dirfd: number | null, path: PathLike, flags = 0, mode = 0o666, options?: RequestOptions): Promise<number> {
    const p = toPath(path);
    const d = dirfdOf(dirfd, 'dirfd');
    const f = validateInt32(flags, 'flags') | O_CLOEXEC;
    return this.#request('openat', C.IORING_OP_OPENAT, d, 0, 0, validateUint32(mode, 'mode'), f, nulTerminated(p.bytes), null, undefined, null, options, p.text);
  }

  /** close(2) of `fd` (named so as not to be the ring's own `close()`). */
  closeFd(fd: number, options?: RequestOptions): Promise<void> {
    return this.#request('close', C.IORING_OP_CLOSE, validateFd(fd), 0, 0, 0, 0, null, null, undefined, toVoid, options);
  }

  /** statx(2): `flags` AT_*, `mask` STATX_* (default STATX_BASIC_STATS | STATX_BTIME). */
  statx(dirfd: number | null, path: PathLike, flags = 0, mask = 0xfff, options?: RequestOptions): Promise<IoUringStatx> {
    const p = toPath(path);
    const d = dirfdOf(dirfd, 'dirfd');
    const out = new Uint8Array(256);
    return this.#request('statx', C.IORING_OP_STATX, d, 0, 0, validateUint32(mask, 'mask'), validateInt32(flags, 'flags'), nulTerminated(p.bytes), out, undefined, () => parseStatx(out), options, p.text);
  }

  /** renameat2(2). */
  renameat(olddirfd: number | null, oldpath: PathLike, newdirfd: number | null, newpath: PathLike, flags = 0, options?: RequestOptions): Promise<void> {
    const from = toPath(oldpath, 'oldpath');
    const to = toPath(newpath, 'newpath');
    const d = dirfdOf(olddirfd, 'olddirfd');
    const nd = dirfdOf(newdirfd, 'newdirfd');
    return this.#request('renameat', C.IORING_OP_RENAMEAT, d, 0, 0, nd >>> 0, validateUint32(flags, 'flags'), nulTerminated(from.bytes), nulTerminated(to.bytes), undefined, toVoid, options, from.text, to.text);
  }

  /** unlinkat(2): `flags` AT_REMOVEDIR removes a directory. */
  unlinkat(dirfd: number | null, path: PathLike, flags = 0, options?: RequestOptions): Promise<void> {
    const p = toPath(path);
    return this.#request('unlinkat', C.IORING_OP_UNLINKAT, dirfdOf(dirfd, 'dirfd'), 0, 0, 0, validateInt32(flags, 'flags'), nulTerminated(p.bytes), null, undefined, toVoid, options, p.text);
  }

  /** mkdirat(2). */
  mkdirat(dirfd: number | null, path: PathLike, mode = 0o777, options?: RequestOptions): Promise<void> {
    const p = toPath(path);
    return this.#request('mkdirat', C.IORING_OP_MKDIRAT, dirfdOf(dirfd, 'dirfd'), 0, 0, validateUint32(mode, 'mode'), 0, nulTerminated(p.bytes), null, undefined, toVoid, options, p.text);
  }

  /** symlinkat(2): a link at `linkpath` pointing to `target`. */
  symlinkat(target: PathLike, newdirfd: number | null, linkpath: PathLike, options?: RequestOptions): Promise<void> {
    const t = toPath(target, 'target');
    const l = toPath(linkpath, 'linkpath');
    return this.#request('symlinkat', C.IORING_OP_SYMLINKAT, dirfdOf(newdirfd, 'newdirfd'), 0, 0, 0, 0, nulTerminated(t.bytes), nulTerminated(l.bytes), undefined, toVoid, options, t.text, l.text);
  }

  /** linkat(2). */
  linkat(olddirfd: number | null, oldpath: PathLike, newdirfd: number | null, newpath: PathLike, flags = 0, options?: RequestOptions): Promise<void> {
    const from = toPath(oldpath, 'oldpath');
    const to = toPath(newpath, 'newpath');
    const nd = dirfdOf(newdirfd, 'newdirfd');
    return this.#request('linkat', C.IORING_OP_LINKAT, dirfdOf(olddirfd, 'olddirfd'), 0, 0, nd >>> 0, validateInt32(flags, 'flags'), nulTerminated(from.bytes), nulTerminated(to.bytes), undefined, toVoid, options, from.text, to.text);
  }

  /** splice(2): `offIn`/`offOut` -1 or null for a pipe (or the current position). Resolves with the bytes moved. */
  splice(fdIn: number, offIn: number | bigint | null, fdOut: number, offOut: number | bigint | null, length: number, flags = 0, options?: RequestOptions): Promise<number> {
    const inFd = validateFd(fdIn, 'fdIn');
    const offset = positionOf(offIn, 'offIn');
    const len = validateUint32(length, 'length');
    // splice_off_in is the addr field; splice_fd_in comes last.
    return this.#request('splice', C.IORING_OP_SPLICE, this.#fd(fdOut, options), positionOf(offOut, 'offOut'), offset, len, validateUint32(flags, 'flags'), null, null, inFd, null, options);
  }

  /** tee(2) between two pipes. */
  tee(fdIn: number, fdOut: number, length: number, flags = 0, options?: RequestOptions): Promise<number> {
    const inFd = validateFd(fdIn, 'fdIn');
    return this.#request('tee', C.IORING_OP_TEE, this.#fd(fdOut, options), 0, 0, validateUint32(length, 'length'), validateUint32(flags, 'flags'), null, null, inFd, null, options);
  }

  /** send(2) on a socket: resolves with the bytes sent. */
  send(fd: number, buffer: ArrayBufferView, flags = 0, options?: RequestOptions): Promise<number> {
    const b = bytesOf(buffer, 'buffer');
    return this.#request('send', C.IORING_OP_SEND, this.#fd(fd, options), 0, 0, b.byteLength, validateUint32(flags, 'flags'), b, null, undefined, null, options);
  }

  /** recv(2) on a socket: resolves with the bytes received (0 at EOF). */
  recv(fd: number, buffer: ArrayBufferView, flags = 0, options?: RequestOptions): Promise<number> {
    const b = bytesOf(buffer, 'buffer');
    return this.#request('recv', C.IORING_OP_RECV, this.#fd(fd, options), 0, 0, b.byteLength, validateUint32(flags, 'flags'), b, null, undefined, null, options);
  }

  /** accept4(2) with SOCK_CLOEXEC added: resolves with the connection's fd, which the caller owns. */
  accept(fd: number, flags = 0, options?: RequestOptions): Promise<number> {
    return this.#request('accept', C.IORING_OP_ACCEPT, this.#fd(fd, options), 0, 0, 0, validateInt32(flags, 'flags') | SOCK_CLOEXEC, null, null, undefined, null, options);
  }

  /** connect(2) to an IPv4 or IPv6 `address` and `port`, or without a port to a Unix socket path. */
  connect(fd: number, address: string, port?: number, options?: RequestOptions): Promise<void> {
    const sa = sockaddr(address, port);
    return this.#request('connect', C.IORING_OP_CONNECT, this.#fd(fd, options), sa.byteLength, 0, 0, 0, sa, null, undefined, toVoid, options, port === undefined ? address : undefined);
  }

  /** bind(2) to an IPv4 or IPv6 `address` and `port`, or without a port to a Unix socket path (Linux 6.11). */
  bind(fd: number, address: string, port?: number, options?: RequestOptions): Promise<void> {
    const sa = sockaddr(address, port);
    return this.#request('bind', C.IORING_OP_BIND, this.#fd(fd, options), sa.byteLength, 0, 0, 0, sa, null, undefined, toVoid, options, port === undefined ? address : undefined);
  }

  /** listen(2) (Linux 6.11). */
  listen(fd: number, backlog = 511, options?: RequestOptions): Promise<void> {
    return this.#request('listen', C.IORING_OP_LISTEN, this.#fd(fd, options), 0, 0, validateInt32(backlog, 'backlog'), 0, null, null, undefined, toVoid, options);
  }

  /** shutdown(2). */
  shutdown(fd: number, how: number, options?: RequestOptions): Promise<void> {
    return this.#request('shutdown', C.IORING_OP_SHUTDOWN, this.#fd(fd, options), 0, 0, validateInt32(how, 'how'), 0, null, null, undefined, toVoid, options);
  }

  /** socket(2) with SOCK_CLOEXEC added: resolves with the fd, which the caller owns. */
  socket(domain: number, type: number, protocol = 0, options?: RequestOptions): Promise<number> {
    return this.#request('socket', C.IORING_OP_SOCKET, validateInt32(domain, 'domain'), validateInt32(type, 'type') | SOCK_CLOEXEC, 0, validateInt32(protocol, 'protocol'), 0, null, null, undefined, null, options);
  }

  /** poll(2) on one fd: resolves with the events that came (POLLIN, ...), once. */
  pollAdd(fd: number, events: number, options?: RequestOptions): Promise<number> {
    return this.#request('poll', C.IORING_OP_POLL_ADD, this.#fd(fd, options), 0, 0, 0, validateUint32(events, 'events'), null, null, undefined, null, options);
  }

  /** Resolves after `ms` milliseconds (IORING_OP_TIMEOUT), or once `count` other requests have completed, whichever comes first. */
  timeout(ms: number, options?: RequestOptions & { count?: number }): Promise<void> {
    validateInteger(ms, 'ms', 0, Number.MAX_SAFE_INTEGER);
    const count = options?.count === undefined ? 0 : validateUint32(options.count, 'options.count');
    const ts = new BigInt64Array([BigInt(Math.floor(ms / 1000)), BigInt((ms % 1000) * 1e6)]);
    return this.#request('timeout', C.IORING_OP_TIMEOUT, 0, count, 0, 1, 0, new Uint8Array(ts.buffer), null, undefined, timedOut, options);
  }

  /** Cancels every request on `fd` (IORING_ASYNC_CANCEL_FD | ALL): resolves with how many were. */
  cancel(fd: number, options?: RequestOptions): Promise<number> {
    const flags = C.IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL | (options?.fixedFile ? C.IORING_ASYNC_CANCEL_FD_FIXED : 0);
    return this.#request('io_uring_cancel', C.IORING_OP_ASYNC_CANCEL, validateFd(fd), 0, 0, 0, flags, null, null, undefined, noneIsZero, { ...options, fixedFile: false });
  }

  /**
   * Closes the ring: what is queued is submitted, everything in flight is
   * cancelled and waited for (requests that cannot be interrupted, such as a
   * regular file's read in a kernel worker, finish first), and each pending
   * Promise settles: cancelled ones reject with ECANCELED.
   */
  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    if (this.#inFlight > 0) {
      this.#submit();
      const reg = new Uint8Array(64);
      const words = new Int32Array(reg.buffer);
      words[2] = -1;
      words[3] = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
      words[6] = 500e6; // tv_nsec; the native teardown waits again for what outlasts it
      for (let i = 0; i < 4 && this.#inFlight > 0; i++) {
        native.io_uring.ioUringRegister(handle, IORING_REGISTER_SYNC_CANCEL, reg, 1);
        this.#reap();
      }
    }
    this.#handle = null;
    this.#ops = null;
    if (this.#poll !== null) clearTimeout(this.#poll);
    this.#ring.close(); // native teardown: cancels and waits for anything left
    for (let i = 0; i < this.#slots.length; i++) {
      const req = this.#slots[i];
      if (req !== undefined) this.#settle(i, req, -ECANCELED);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // ---- internals ----

  #assertOpen(syscall: string): NativeHandle {
    if (this.#handle === null) throw sysError(EBADF, syscall);
    return this.#handle;
  }

  #register(opcode: number, arg: Uint8Array | Uint8Array[] | null, nr: number): void {
    const r = native.io_uring.ioUringRegister(this.#handle!, opcode, arg, nr);
    if (r < 0) throw sysError(-r, 'io_uring_register');
  }

  /** An fd argument: a registered file's index with `fixedFile`. */
  #fd(fd: number, options: RequestOptions | undefined): number {
    if (options?.fixedFile === true) return validateInteger(fd, 'fd', 0, Math.max(0, this.#files.length - 1));
    return validateFd(fd);
  }

  #iovecs(buffers: readonly ArrayBufferView[]): Uint8Array[] {
    if (!isArray(buffers) || buffers.length === 0) throw invalidArgType('buffers', 'a non-empty array of Buffer, TypedArray, or DataView', buffers);
    if (buffers.length > 1024) throw invalidArgValue('buffers', buffers, 'must hold at most 1024 buffers (IOV_MAX)');
    const iov: Uint8Array[] = [new Uint8Array(16 * buffers.length)];
    for (let i = 0; i < buffers.length; i++) iov.push(bytesOf(buffers[i], `buffers[${i}]`));
    return iov;
  }

  #fixed(syscall: string, opcode: number, fd: number, index: number, offset: number, length: number, position: unknown, options: RequestOptions | undefined): Promise<number> {
    const buffers = this.#ring.buffers;
    validateInteger(index, 'index', 0, Math.max(0, buffers.length - 1));
    const buffer = buffers[index];
    if (buffer === undefined) return Promise.reject(sysError(EBADF, syscall)); // none registered
    validateInteger(offset, 'offset', 0, buffer.byteLength);
    validateInteger(length, 'length', 0, buffer.byteLength - offset);
    return this.#request(syscall, opcode, this.#fd(fd, options), positionOf(position), offset, length, 0, buffer, null, undefined, null, options, undefined, undefined, index);
  }

  /**
   * Queues one request: fills the SQE image (addr holds the offset into `a`
   * when `a` is given), writes it into the ring, and schedules the flush.
   */
  #request<T>(
    syscall: string, opcode: number, fd: number, off: number, addr: number, len: number, opFlags: number,
    a: Uint8Array | Uint8Array[] | null, b: Uint8Array | null, spliceFdIn: number | undefined,
    result: ((res: number) => unknown) | null, options: RequestOptions | undefined, path?: string, dest?: string, bufIndex = 0,
  ): Promise<T> {
    let sqeFlags = 0;
    let signal: AbortSignal | undefined;
    if (options !== undefined && options !== null) {
      const o = validateOptions<RequestOptions & { datasync?: boolean; count?: number }>(options, 'options', ['signal', 'link', 'hardlink', 'fixedFile', 'datasync', 'count']);
      signal = validateAbortSignal(o.signal, 'options.signal');
      if (o.link !== undefined && validateBoolean(o.link, 'options.link')) sqeFlags |= IOSQE_IO_LINK;
      if (o.hardlink !== undefined && validateBoolean(o.hardlink, 'options.hardlink')) sqeFlags |= IOSQE_IO_HARDLINK;
      if (o.fixedFile !== undefined && validateBoolean(o.fixedFile, 'options.fixedFile')) sqeFlags |= IOSQE_FIXED_FILE;
    }
    const handle = this.#handle;
    if (handle === null) return Promise.reject(sysError(EBADF, syscall));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#slots.length;
    const w = this.#words;
    const image = this.#image;
    image[0] = opcode;
    image[1] = sqeFlags;
    image[2] = image[3] = 0;
    w[1] = fd;
    // off: -1 is all ones (the current position), as the kernel reads it.
    if (off < 0) w[2] = w[3] = -1;
    else {
      w[2] = off % 0x100000000;
      w[3] = off / 0x100000000;
    }
    if (addr < 0) w[4] = w[5] = -1;
    else {
      w[4] = addr % 0x100000000;
      w[5] = addr / 0x100000000;
    }
    w[6] = len;
    w[7] = opFlags;
    w[8] = slot;
    w[9] = 0;
    w[10] = bufIndex;
    w[11] = spliceFdIn ?? 0;
    w[12] = w[13] = 0;
    let r = native.io_uring.ioUringPrep(handle, image, a, b);
    if (r === -EBUSY && !this.#chainOpen) {
      // The SQ is full: what is in it goes now (a chain is never cut: that is refused).
      this.#submit();
      r = native.io_uring.ioUringPrep(handle, image, a, b);
    }
    if (r < 0) {
      this.#free.push(slot);
      return Promise.reject(sysError(-r, syscall));
    }
    this.#chainOpen = (sqeFlags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK)) !== 0;
    this.#inFlight++;
    this.#queued.push(slot);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      // A resolved promise, not queueMicrotask: that one makes an AsyncResource per call.
      resolved.then(this.#flush);
    }
    const promise = new Promise<T>((resolve, reject) => {
      const req = new Request(resolve as (v: never) => void, reject, syscall, b === null ? a : [a, b], result, signal, path, dest);
      this.#slots[slot] = req;
      if (signal !== undefined) {
        req.onAbort = () => this.#abort(slot, req);
        signal.addEventListener('abort', req.onAbort, { once: true });
      }
    });
    if (this.#afterWake && !this.#chainOpen && this.#queued.length === EARLY_SUBMIT) {
      this.#afterWake = false;
      this.#submit();
    }
    return promise;
  }

  #abort(slot: number, req: Request): void {
    req.onAbort = null;
    if (this.#slots[slot] !== req || this.#handle === null) return;
    req.aborted = true;
    const w = this.#words;
    w.fill(0);
    this.#image[0] = C.IORING_OP_ASYNC_CANCEL;
    w[4] = slot;
    w[8] = INTERNAL;
    if (native.io_uring.ioUringPrep(this.#handle, this.#image) === -EBUSY) {
      this.#submit();
      native.io_uring.ioUringPrep(this.#handle, this.#image);
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      resolved.then(this.#flush);
    }
  }

  /** One io_uring_enter for what was queued, then the completions that came. */
  #submit(): void {
    this.#flushQueued = false;
    this.#chainOpen = false;
    const handle = this.#handle;
    if (handle === null) return;
    const n = native.io_uring.ioUringSubmit(handle, this.#out);
    const queued = this.#queued.splice(0);
    if (n < 0) {
      // The kernel took none of them (ENOMEM, ...), and never will: they fail
      // with that errno. Requests submitted before are the kernel's still.
      for (const slot of queued) {
        const req = this.#slots[slot];
        if (req !== undefined) this.#settle(slot, req, n);
      }
      this.#watch();
      return;
    }
    this.#complete(n);
    if (n === BATCH) this.#reap();
    this.#watch();
  }

  #reap(): void {
    const handle = this.#handle;
    if (handle === null) return;
    let n;
    do this.#complete((n = native.io_uring.ioUringReap(handle, this.#out)));
    while (n === BATCH && this.#handle !== null);
  }

  #complete(n: number): void {
    if (this.#turnCompletions === 0 && n > 0) setImmediate(this.#newTurn);
    this.#turnCompletions += n;
    const cqes = this.#cqes;
    for (let i = 0; i < n; i++) {
      const slot = cqes[4 * i]! >>> 0;
      if (slot === INTERNAL) continue;
      const req = this.#slots[slot];
      if (req !== undefined) this.#settle(slot, req, cqes[4 * i + 2]!);
    }
  }

  #settle(slot: number, req: Request, res: number): void {
    this.#slots[slot] = undefined;
    this.#free.push(slot);
    this.#inFlight--;
    if (req.onAbort !== null) req.signal!.removeEventListener('abort', req.onAbort);
    if (res >= 0 || (res === -ETIME && req.result === timedOut)) {
      req.resolve((req.result === null ? res : req.result(res)) as never);
    } else if (req.aborted && (res === -ECANCELED || res === -EINTR)) {
      req.reject(new AbortError(undefined, { cause: req.signal!.reason }));
    } else if (req.result === noneIsZero && res === -ENOENT) {
      req.resolve(0 as never);
    } else {
      req.reject(sysError(-res, req.syscall, req.path, req.dest));
    }
  }

  /**
   * Watches the ring's fd while requests are in flight, keeping the loop
   * alive unless unref'd. A ring that completions left idle stops watching
   * at the end of the loop's turn (#newTurn), not at once: the requests they
   * lead to come in the microtasks right after, and stopping and starting
   * again would cost three epoll_ctl calls per wake.
   */
  #watch(): void {
    const handle = this.#handle;
    if (handle === null) return;
    const want = this.#inFlight > 0;
    if (!want && (!this.#watching || this.#turnCompletions > 0)) return;
    const r = native.handleSet(handle, want ? native.READABLE : 0, want ? native.KEEP_CALLBACK | (this.#ref ? native.KEEP_LOOP : 0) : 0);
    if (r < 0) {
      // The requests are the kernel's whatever the backend says: look for their completions every millisecond instead.
      this.#pollLater();
      return;
    }
    this.#watching = want;
  }

  #pollLater(): void {
    if (this.#poll !== null || this.#inFlight === 0) return;
    this.#poll = setTimeout(() => {
      this.#poll = null;
      this.#submit();
    }, 1);
    if (!this.#ref) this.#poll.unref();
  }

  /** The ring's fd is readable: completions came. */
  readonly #onReady = (status: number): void => {
    if (this.#handle === null) return;
    if (status < 0) {
      this.#watching = false;
      this.#pollLater();
      return;
    }
    const settled = this.#turnCompletions;
    this.#submit();
    this.#afterWake = this.#turnCompletions > settled;
  };
}

/** What requests that return nothing resolve with. */
function toVoid(): undefined {
  return undefined;
}

/** A timeout's own expiry (-ETIME) is its success. */
function timedOut(): undefined {
  return undefined;
}

/** A cancel that found nothing (-ENOENT) cancelled zero requests. */
function noneIsZero(res: number): number {
  return res;
}

function parseStatx(b: Uint8Array): IoUringStatx {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ns = (at: number): bigint => v.getBigInt64(at, true) * 1_000_000_000n + BigInt(v.getUint32(at + 8, true));
  return {
    mask: v.getUint32(0, true),
    blksize: v.getUint32(4, true),
    attributes: v.getBigUint64(8, true),
    nlink: v.getUint32(16, true),
    uid: v.getUint32(20, true),
    gid: v.getUint32(24, true),
    mode: v.getUint16(28, true),
    ino: v.getBigUint64(32, true),
    size: v.getBigUint64(40, true),
    blocks: v.getBigUint64(48, true),
    attributesMask: v.getBigUint64(56, true),
    atimeNs: ns(64),
    btimeNs: ns(80),
    ctimeNs: ns(96),
    mtimeNs: ns(112),
    rdevMajor: v.getUint32(128, true),
    rdevMinor: v.getUint32(132, true),
    devMajor: v.getUint32(136, true),
    devMinor: v.getUint32(140, true),
  };
}

/** A struct sockaddr_in, sockaddr_in6 or sockaddr_un. */
function sockaddr(address: string, port: number | undefined): Uint8Array {
  if (typeof address !== 'string') throw invalidArgType('address', 'of type string', address);
  if (port === undefined) {
    const path = Buffer.from(address);
    if (path.byteLength >= 108 || path.includes(0)) throw invalidArgValue('address', address, 'must be a Unix socket path shorter than 108 bytes');
    const sa = new Uint8Array(2 + path.byteLength + 1);
    new Uint16Array(sa.buffer, 0, 1)[0] = 1; // AF_UNIX
    sa.set(path, 2);
    return sa;
  }
  validateInteger(port, 'port', 0, 65535);
  if (isIPv4(address)) {
    const sa = new Uint8Array(16);
    new Uint16Array(sa.buffer, 0, 1)[0] = 2; // AF_INET
    sa[2] = port >> 8;
    sa[3] = port & 255;
    sa.set(address.split('.').map(Number), 4);
    return sa;
  }
  if (isIPv6(address)) {
    const sa = new Uint8Array(28);
    new Uint16Array(sa.buffer, 0, 1)[0] = 10; // AF_INET6
    sa[2] = port >> 8;
    sa[3] = port & 255;
    sa.set(ipv6Bytes(address), 8);
    return sa;
  }
  throw invalidArgValue('address', address, 'must be an IPv4 or IPv6 address, or a Unix socket path without a port');
}

function ipv6Bytes(address: string): Uint8Array {
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const text = v4 ? address.slice(0, v4.index) + [(+v4[1]! << 8) | +v4[2]!, (+v4[3]! << 8) | +v4[4]!].map((g) => g.toString(16)).join(':') : address;
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 255;
  });
  return out;
}
