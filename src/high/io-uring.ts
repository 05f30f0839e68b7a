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
import { EventEmitter, on } from 'node:events';
import { closeSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { AbortError, invalidArgType, invalidArgValue, outOfRange, sysError, EBADF, ECANCELED, EINVAL } from '../core/errors';
import { toPath, type PathLike } from '../core/fs';
import { native, type NativeHandle } from '../core/native';
import {
  abortError, isArray, validateAbortSignal, validateBigUint, validateBoolean, validateFd, validateInt32, validateInteger, validateOptions,
  validateUint32, INT32_MAX, INT64_MAX, UINT64_MAX,
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
const EEXIST = 17;
const AT_FDCWD = -100;
const O_CLOEXEC = 0o2000000;
const O_CREAT = 0o100;
const O_TMPFILE = 0o20200000;
/** XATTR_SIZE_MAX: the largest value an attribute holds. */
const XATTR_SIZE_MAX = 65536;
/** futex2 flags of FUTEX_WAIT/WAKE: a 32-bit futex of this process (Workers share its memory). */
const FUTEX2_SIZE_U32 = 0x02;
const FUTEX2_PRIVATE = 128;
const FUTEX_FLAGS = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
const FUTEX_WAITV_MAX = 128;
const KEEPING_ADVICE = new Set([
  C.MADV_NORMAL, C.MADV_RANDOM, C.MADV_SEQUENTIAL, C.MADV_WILLNEED, C.MADV_HUGEPAGE, C.MADV_NOHUGEPAGE, C.MADV_COLD, C.MADV_PAGEOUT,
  C.MADV_POPULATE_READ, C.MADV_POPULATE_WRITE,
]);
/** The NOP completes with the res in its len (6.10). */
const IORING_NOP_INJECT_RESULT = 1;
const SOCK_CLOEXEC = 0o2000000;
/**
 * The high word of the user_data of every request of an IoUring's own: a CQE
 * without it was posted by another ring (IORING_OP_MSG_RING), and is a
 * message, never a completion. Small enough that OWN * 2 ** 32 + slot is
 * still a safe integer.
 */
const OWN = 0x1b077;
/** user_data (low word) of Butter's own requests (cancels), whose completions settle nothing. */
const INTERNAL = 0xffffffff;
/** user_data (low word) that names no request: a remove or update aimed at a request no longer in flight finds nothing (ENOENT). */
const NOTHING = 0xfffffffe;
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
// The sockets block's values (linux/io_uring.h, sys/socket.h); those newer than 6.1's headers say when they came.
const IORING_CQE_F_MORE = 1 << 1;
const IORING_CQE_F_NOTIF = 1 << 3;
const IORING_CQE_BUFFER_SHIFT = 16;
const IOSQE_BUFFER_SELECT = 1 << 5;
const IORING_POLL_ADD_MULTI = 1 << 0;
const IORING_RECV_MULTISHOT = 1 << 1;
const IORING_ACCEPT_MULTISHOT = 1 << 0;
const SOCKET_URING_OP_SIOCINQ = 0; // 6.7
const SOCKET_URING_OP_SIOCOUTQ = 1; // 6.7
const SOCKET_URING_OP_GETSOCKOPT = 2; // 6.7
const SOCKET_URING_OP_SETSOCKOPT = 3; // 6.7
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SCM_MAX_FD = 253;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SOCKADDR_STORAGE = 128;
/** sizeof(struct msghdr) on 64-bit Linux; its iovecs follow it in the same bytes. */
const MSGHDR_SIZE = 56;
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

/** `struct open_how` of openat2(2). */
export interface IoUringOpenHow {
  /** O_* flags; O_CLOEXEC is always added. */
  flags?: number;
  /** The new file's mode, with O_CREAT or O_TMPFILE (default 0o666 then, 0 otherwise: the kernel refuses a mode it would not use). */
  mode?: number;
  /** RESOLVE_* flags. */
  resolve?: number;
}

/** The `siginfo_t` waitid(2) fills for a child. */
export interface IoUringSiginfo {
  /** SIGCHLD, or 0 when WNOHANG found no child that changed state. */
  signo: number;
  /** CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED, CLD_TRAPPED or CLD_CONTINUED. */
  code: number;
  pid: number;
  uid: number;
  /** The exit status (CLD_EXITED), or the signal. */
  status: number;
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

/** A CQE another ring posted into this one (IORING_OP_MSG_RING), or a registered resource's tag. */
export interface IoUringMessage {
  /** The CQE's user_data: the sender's `data`. */
  data: bigint;
  /** The CQE's res: the sender's `res`, or with `sendFile` the index of the file installed here. */
  res: number;
  /** The CQE's flags. */
  flags: number;
}

/** A socket address: IPv4 or IPv6 with a port, or a Unix socket path (abstract ones start with NUL). */
export type SocketAddress = { family: 'IPv4' | 'IPv6'; address: string; port: number } | { family: 'unix'; address: string };

/** What `sendmsg` sends besides its buffers. */
export interface SendMessage {
  /** The destination (a datagram socket's): an IPv4 or IPv6 address with `port`, or a Unix socket path without. */
  address?: string;
  port?: number;
  /** fds passed as SCM_RIGHTS (1 to 253). */
  fds?: readonly number[];
  /** MSG_* flags. */
  flags?: number;
}

export interface RecvMessageOptions {
  /** How many SCM_RIGHTS fds there is room for (default 0: fds that come are closed by the kernel, and MSG_CTRUNC says so). */
  maxFds?: number;
  /** MSG_* flags (MSG_CMSG_CLOEXEC is always added). */
  flags?: number;
}

/** What `recvmsg` resolves with. */
export interface ReceivedMessage {
  bytesRead: number;
  /** The sender's address, where it has one (not an unnamed Unix socket's). */
  address?: SocketAddress;
  /** The fds that came as SCM_RIGHTS: the caller's, close-on-exec. */
  fds?: number[];
  /** The message's MSG_* flags: MSG_TRUNC (a datagram longer than the buffers), MSG_CTRUNC (more fds than `maxFds`), ... */
  flags: number;
}

/** One request waiting for its completion. */
class Request {
  aborted = false;
  onAbort: (() => void) | null = null;
  /** Sees each CQE of a request that has more than one (SqeExtra.more). */
  more: ((res: number, flags: number) => void) | null = null;
  /** The result of a zero-copy send, held until its notification settles it. */
  held = 0;
  owner: RequestOwner | null = null;
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

/**
 * Counts its requests in flight, and is told when the last one settles
 * (butter/fs's FileHandle, whose close() waits for them): a count the ring
 * keeps, where a then() per request would cost a Promise and two closures.
 */
export interface RequestOwner {
  inFlight: number;
  idle: (() => void) | null;
}

/**
 * butter/fs's FileHandle.read: IORING_OP_READ of `fd` (valid) into `view`,
 * resolving with `result(bytesRead)`, counted in `owner`; no options.
 */
export let readFor: (ring: IoUring, fd: number, view: Uint8Array, position: number | bigint | null, result: (res: number) => unknown, owner: RequestOwner) => Promise<unknown>;

/** What a request beyond one plain SQE and one CQE adds (the sockets block's requests). */
interface SqeExtra {
  /** sqe.ioprio: the opcode's own flags (IORING_RECV_MULTISHOT, ...). */
  ioprio?: number;
  /** More IOSQE_* flags (IOSQE_BUFFER_SELECT). */
  sqeFlags?: number;
  /** sqe.addr3: a number, or the bytes it points at. */
  addr3?: number | Uint8Array;
  /** More memory the kernel uses (through a msghdr, a buffer ring): held with the request. */
  keep?: unknown;
  /**
   * Sees every CQE of a request that has more than one (IORING_CQE_F_MORE),
   * before its last one settles it; a notification (IORING_CQE_F_NOTIF)
   * settles it with the result of the CQE before.
   */
  more?: (res: number, flags: number) => void;
  /** Told the request's slot (its user_data), to cancel it by. */
  slot?: (slot: number) => void;
}

/** A buffer argument as the bytes the kernel writes or reads. */
function bytesOf(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
}

/** A file position: a safe integer >= 0, or -1 / null for the file's current position. */
/** A file position or offset: -1 (or null) for the current position; a bigint reaches past 2 ** 53, as the kernel's loff_t does. */
function positionOf(value: unknown, name = 'position'): number | bigint {
  if (value === undefined || value === null) return -1;
  if (typeof value === 'bigint') {
    if (value < -1n || value > INT64_MAX) throw outOfRange(name, `>= -1 && <= ${INT64_MAX}`, value);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  return validateInteger(value, name, -1, Number.MAX_SAFE_INTEGER);
}

/** A 64-bit SQE field as the two words at `i`: -1 is all ones. */
function put64(w: Int32Array, i: number, v: number | bigint): void {
  if (typeof v === 'bigint') {
    w[i] = Number(BigInt.asIntN(32, v));
    w[i + 1] = Number(BigInt.asIntN(32, v >> 32n));
  } else if (v < 0) {
    w[i] = w[i + 1] = -1;
  } else {
    w[i] = v % 0x100000000;
    w[i + 1] = v / 0x100000000;
  }
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
export class IoUring extends EventEmitter {
  static {
    readFor = (ring, fd, view, position, result, owner) =>
      ring.#request('read', C.IORING_OP_READ, fd, positionOf(position), 0, view.byteLength, 0, view, null, undefined, result, undefined, undefined, undefined, 0, undefined, owner);
  }

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
  /** The slot of the last request queued, or -1 when it was refused. */
  #lastSlot = -1;
  /** In-flight requests that removes and updates can name, by their Promise. */
  readonly #targets = new WeakMap<Promise<unknown>, { slot: number; req: Request; kind: 'poll' | 'timeout' }>();
  readonly #bufferRings = new Set<IoUringBufferRing>();

  constructor(options?: IoUringOptions) {
    super();
    // Messages come only while the ring's fd is watched: a 'message' listener watches it.
    this.on('newListener', (name: string | symbol) => {
      if (name === 'message') resolved.then(() => this.#watch());
    });
    this.on('removeListener', (name: string | symbol) => {
      if (name === 'message') this.#watch();
    });
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
  nop(options?: RequestOptions): Promise<void>;
  /**
   * With `result` (IORING_NOP_INJECT_RESULT, 6.10) the NOP completes with
   * that res: it resolves with it, or rejects with that errno when negative.
   */
  nop(options: RequestOptions & { result: number }): Promise<number>;
  nop(options?: RequestOptions & { result?: number }): Promise<void | number> {
    if (options?.result === undefined) return this.#request('nop', C.IORING_OP_NOP, 0, -1, 0, 0, 0, null, null, undefined, toVoid, options);
    const o = validateOptions<RequestOptions & { result?: number }>(options, 'options', ['signal', 'link', 'hardlink', 'fixedFile', 'result']);
    const result = validateInt32(o.result, 'options.result');
    return this.#request('nop', C.IORING_OP_NOP, 0, -1, 0, result >>> 0, IORING_NOP_INJECT_RESULT, null, null, undefined, null, requestOptions(o));
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

  // ---- sockets: messages, zero copy, provided buffers, multishot ----

  /**
   * sendmsg(2): `buffers` gathered into one message, to `message.address`
   * (and `port`; a datagram socket's destination), with `message.fds` passed
   * as SCM_RIGHTS. Resolves with the bytes sent.
   */
  sendmsg(fd: number, buffers: readonly ArrayBufferView[], message?: SendMessage, options?: RequestOptions): Promise<number> {
    return this.#sendmsg('sendmsg', C.IORING_OP_SENDMSG, fd, buffers, message, options, undefined);
  }

  /**
   * recvmsg(2) into `buffers`: resolves with the bytes read, the sender's
   * address (where the socket has one), the fds that came as SCM_RIGHTS (up
   * to `message.maxFds`; they are the caller's, close-on-exec) and the
   * message's flags (MSG_TRUNC, MSG_CTRUNC: more data or fds than there was room for).
   */
  recvmsg(fd: number, buffers: readonly ArrayBufferView[], message?: RecvMessageOptions, options?: RequestOptions): Promise<ReceivedMessage> {
    const m = validateOptions<RecvMessageOptions>(message, 'message', ['maxFds', 'flags']);
    const maxFds = m.maxFds === undefined ? 0 : validateInteger(m.maxFds, 'message.maxFds', 0, SCM_MAX_FD);
    const flags = m.flags === undefined ? 0 : validateUint32(m.flags, 'message.flags');
    const views = this.#messageBuffers(buffers);
    const name = new Uint8Array(SOCKADDR_STORAGE);
    // CMSG_LEN, not CMSG_SPACE: the kernel fills all the room there is, and the padding would be room for one more.
    const control = maxFds > 0 ? new Uint8Array(16 + 4 * maxFds) : null;
    const hdr = msghdr(name, views, control);
    return this.#request('recvmsg', C.IORING_OP_RECVMSG, this.#fd(fd, options), 0, 0, 1, flags | MSG_CMSG_CLOEXEC, hdr, null, undefined, (res) => receivedMessage(res, hdr, name, control), options, undefined, undefined, 0, { keep: [name, views, control] });
  }

  /**
   * send(2) without copying (IORING_OP_SEND_ZC, Linux 6.0): the kernel sends
   * from `buffer` itself, and the Promise resolves with the bytes sent once
   * the kernel has let go of it (its notification came), not before; `buffer`
   * is held until then. TCP and UDP; other sockets reject with EOPNOTSUPP.
   */
  sendZc(fd: number, buffer: ArrayBufferView, flags = 0, options?: RequestOptions): Promise<number> {
    const b = bytesOf(buffer, 'buffer');
    return this.#request('send', C.IORING_OP_SEND_ZC, this.#fd(fd, options), 0, 0, b.byteLength, validateUint32(flags, 'flags'), b, null, undefined, null, options, undefined, undefined, 0, { more: ignore });
  }

  /** sendmsg(2) without copying (IORING_OP_SENDMSG_ZC, Linux 6.1): as `sendmsg`, settled as `sendZc`. */
  sendmsgZc(fd: number, buffers: readonly ArrayBufferView[], message?: SendMessage, options?: RequestOptions): Promise<number> {
    return this.#sendmsg('sendmsg', C.IORING_OP_SENDMSG_ZC, fd, buffers, message, options, ignore);
  }

  /**
   * A ring of `entries` buffers of `size` bytes each that the kernel picks
   * from for `recvMultishot` and `readMultishot` (IORING_REGISTER_PBUF_RING,
   * Linux 5.19), as buffer group `group`. See IoUringBufferRing.
   */
  bufferRing(options: BufferRingOptions): IoUringBufferRing {
    const { group, entries, size } = bufferRingOptions(options, true);
    const handle = this.#assertOpen('io_uring_register');
    const r = native.io_uring.ioUringBufRingRegister(handle, group, entries);
    if (r < 0) throw sysError(-r, 'io_uring_register');
    const ring = new IoUringBufferRing(group, entries, size, true, (bid, view) => {
      if (this.#handle !== null) native.io_uring.ioUringBufRingAdd(this.#handle, group, bid, view);
    }, () => {
      this.#bufferRings.delete(ring);
      const h = this.#handle;
      const res = h === null ? 0 : native.io_uring.ioUringBufRingUnregister(h, group);
      if (res < 0) throw sysError(-res, 'io_uring_register');
    });
    this.#bufferRings.add(ring);
    return ring;
  }

  /**
   * The same buffers as `bufferRing()`, handed to the kernel the older way
   * (IORING_OP_PROVIDE_BUFFERS, Linux 5.7): one request for all of them, then
   * one per buffer released; `close()` takes back those the kernel still has
   * (REMOVE_BUFFERS). Resolves once the kernel has them.
   */
  provideBuffers(options: BufferRingOptions & { signal?: AbortSignal }): Promise<IoUringBufferRing> {
    const { group, entries, size } = bufferRingOptions(options, false);
    const signal = validateAbortSignal(options.signal, 'options.signal');
    // Two sets of buffers in one group would be told apart by id only.
    if ([...this.#bufferRings].some((r) => r.group === group)) return Promise.reject(sysError(EEXIST, 'provide_buffers'));
    const provide = (view: Uint8Array, bid: number, count: number, opts?: RequestOptions): Promise<void> =>
      this.#request('provide_buffers', C.IORING_OP_PROVIDE_BUFFERS, count, bid, 0, size, 0, view, null, undefined, toVoid, opts, undefined, undefined, group, { keep: ring });
    const ring: IoUringBufferRing = new IoUringBufferRing(group, entries, size, false, (bid, view) => {
      // A buffer the kernel could not take back is one buffer fewer (ENOBUFS sooner), nothing worse.
      provide(view, bid, 1).catch(ignore);
    }, () => {
      // Held until the kernel has let go of every buffer it still had.
      const removed = this.#handle === null ? resolved : this.#request('remove_buffers', C.IORING_OP_REMOVE_BUFFERS, entries, 0, 0, 0, 0, null, null, undefined, null, undefined, undefined, undefined, group, { keep: ring });
      removed.catch(ignore).finally(() => this.#bufferRings.delete(ring));
    });
    this.#bufferRings.add(ring);
    return provide(ring.memory, 0, entries, signal === undefined ? undefined : { signal }).then(() => ring, (err: unknown) => {
      ring.close(); // the kernel may have taken some
      throw err;
    });
  }

  /** IORING_OP_REMOVE_BUFFERS (Linux 5.7): takes up to `count` buffers of `group` back from the kernel; resolves with how many it had. */
  removeBuffers(group: number, count: number, options?: RequestOptions): Promise<number> {
    const g = validateInteger(group, 'group', 0, 65535);
    const n = validateInteger(count, 'count', 1, 65536);
    return this.#request('remove_buffers', C.IORING_OP_REMOVE_BUFFERS, n, 0, 0, 0, 0, null, null, undefined, null, options, undefined, undefined, g);
  }

  /**
   * accept4(2) again and again (IORING_ACCEPT_MULTISHOT, Linux 5.19): the
   * connections' fds (SOCK_CLOEXEC, the caller's) as they come.
   */
  acceptMultishot(fd: number, flags = 0, options?: RequestOptions): AsyncIterableIterator<number> {
    const f = validateInt32(flags, 'flags') | SOCK_CLOEXEC;
    const sfd = this.#fd(fd, options);
    return new Multishot<number>(
      (extra) => this.#request('accept', C.IORING_OP_ACCEPT, sfd, 0, 0, 0, f, null, null, undefined, null, options, undefined, undefined, 0, { ...extra, ioprio: IORING_ACCEPT_MULTISHOT }),
      (res) => (res >= 0 ? res : undefined), closeQuietly, (slot) => this.#cancelSlot(slot), null,
    );
  }

  /** poll(2) on one fd, armed until stopped (IORING_POLL_ADD_MULTI, Linux 5.13): the events, each time they come. */
  pollMultishot(fd: number, events: number, options?: RequestOptions): AsyncIterableIterator<number> {
    const e = validateUint32(events, 'events');
    const pfd = this.#fd(fd, options);
    return new Multishot<number>(
      (extra) => this.#request('poll', C.IORING_OP_POLL_ADD, pfd, 0, 0, IORING_POLL_ADD_MULTI, e, null, null, undefined, null, options, undefined, undefined, 0, extra),
      (res) => (res >= 0 ? res : undefined), ignore, (slot) => this.#cancelSlot(slot), null,
    );
  }

  /**
   * recv(2) again and again into buffers the kernel picks from `buffers`
   * (IORING_RECV_MULTISHOT, Linux 6.0): each message's bytes as a view of
   * the buffer it landed in, to give back with `buffers.release(view)`.
   * Ends at EOF.
   */
  recvMultishot(fd: number, buffers: IoUringBufferRing, flags = 0, options?: RequestOptions): AsyncIterableIterator<Uint8Array> {
    const f = validateUint32(flags, 'flags');
    const rfd = this.#fd(fd, options);
    return this.#bufferMultishot(buffers, (extra) => this.#request('recv', C.IORING_OP_RECV, rfd, 0, 0, 0, f, null, null, undefined, null, options, undefined, undefined, buffers.group, { ...extra, ioprio: IORING_RECV_MULTISHOT }));
  }

  /**
   * read(2) again and again from a pipe, socket or other pollable fd into
   * buffers the kernel picks from `buffers` (IORING_OP_READ_MULTISHOT, Linux
   * 6.7), as `recvMultishot`.
   */
  readMultishot(fd: number, buffers: IoUringBufferRing, options?: RequestOptions): AsyncIterableIterator<Uint8Array> {
    const rfd = this.#fd(fd, options);
    return this.#bufferMultishot(buffers, (extra) => this.#request('read', C.IORING_OP_READ_MULTISHOT, rfd, -1, 0, 0, 0, null, null, undefined, null, options, undefined, undefined, buffers.group, extra));
  }

  /** epoll_ctl(2) (Linux 5.6): `data` (default: `fd`) comes back with `fd`'s events. */
  epollCtl(epfd: number, op: number, fd: number, events = 0, data?: number | bigint, options?: RequestOptions): Promise<void> {
    const target = validateFd(fd);
    const event = new Uint8Array(12);
    const v = new DataView(event.buffer);
    v.setUint32(0, validateUint32(events, 'events'), true);
    v.setBigUint64(4, data === undefined ? BigInt(target) : validateBigUint(data, 'data', UINT64_MAX), true);
    return this.#request('epoll_ctl', C.IORING_OP_EPOLL_CTL, this.#fd(epfd, options), target, 0, validateInt32(op, 'op'), 0, event, null, undefined, toVoid, options);
  }

  /** epoll_wait(2) (Linux 6.15): waits until an fd is ready, then resolves with up to `maxEvents` of them. */
  epollWait(epfd: number, maxEvents = 64, options?: RequestOptions): Promise<{ events: number; data: bigint }[]> {
    const max = validateInteger(maxEvents, 'maxEvents', 1, 65536);
    const out = new Uint8Array(12 * max);
    return this.#request('epoll_wait', C.IORING_OP_EPOLL_WAIT, this.#fd(epfd, options), 0, 0, max, 0, out, null, undefined, (n) => {
      const v = new DataView(out.buffer);
      return Array.from({ length: n }, (_, i) => ({ events: v.getUint32(12 * i, true), data: v.getBigUint64(12 * i + 4, true) }));
    }, options);
  }

  /** The bytes in a socket's receive queue (SOCKET_URING_OP_SIOCINQ, Linux 6.7). */
  siocinq(fd: number, options?: RequestOptions): Promise<number> {
    return this.#socketCommand('ioctl', SOCKET_URING_OP_SIOCINQ, fd, 0, 0, null, null, options);
  }

  /** The bytes in a socket's send queue not yet acknowledged (SOCKET_URING_OP_SIOCOUTQ, Linux 6.7). */
  siocoutq(fd: number, options?: RequestOptions): Promise<number> {
    return this.#socketCommand('ioctl', SOCKET_URING_OP_SIOCOUTQ, fd, 0, 0, null, null, options);
  }

  /** getsockopt(2) (SOCKET_URING_OP_GETSOCKOPT, Linux 6.7; the kernel takes SOL_SOCKET only): the option's bytes, up to `length`. */
  getsockopt(fd: number, level: number, optname: number, length = 4, options?: RequestOptions): Promise<Uint8Array> {
    const value = new Uint8Array(validateInteger(length, 'length', 1, 65536));
    return this.#socketCommand('getsockopt', SOCKET_URING_OP_GETSOCKOPT, fd, level, optname, value, (n) => value.subarray(0, n), options);
  }

  /** setsockopt(2) (SOCKET_URING_OP_SETSOCKOPT, Linux 6.7): a number is an int option. */
  setsockopt(fd: number, level: number, optname: number, value: number | ArrayBufferView, options?: RequestOptions): Promise<void> {
    const bytes = typeof value === 'number' ? new Uint8Array(Int32Array.of(validateInt32(value, 'value')).buffer) : bytesOf(value, 'value');
    return this.#socketCommand('setsockopt', SOCKET_URING_OP_SETSOCKOPT, fd, level, optname, bytes, toVoid, options);
  }

  /** poll(2) on one fd: resolves with the events that came (POLLIN, ...), once. */
  pollAdd(fd: number, events: number, options?: RequestOptions): Promise<number> {
    return this.#track(this.#request('poll', C.IORING_OP_POLL_ADD, this.#fd(fd, options), 0, 0, 0, validateUint32(events, 'events'), null, null, undefined, null, options), 'poll');
  }

  /** Resolves after `ms` milliseconds (IORING_OP_TIMEOUT), or once `count` other requests have completed, whichever comes first. */
  timeout(ms: number, options?: RequestOptions & { count?: number }): Promise<void> {
    validateInteger(ms, 'ms', 0, Number.MAX_SAFE_INTEGER);
    const count = options?.count === undefined ? 0 : validateUint32(options.count, 'options.count');
    const ts = new BigInt64Array([BigInt(Math.floor(ms / 1000)), BigInt((ms % 1000) * 1e6)]);
    return this.#track(this.#request('timeout', C.IORING_OP_TIMEOUT, 0, count, 0, 1, 0, new Uint8Array(ts.buffer), null, undefined, timedOut, options), 'timeout');
  }

  /** Cancels every request on `fd` (IORING_ASYNC_CANCEL_FD | ALL): resolves with how many were. */
  cancel(fd: number, options?: RequestOptions): Promise<number> {
    const flags = C.IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL | (options?.fixedFile ? C.IORING_ASYNC_CANCEL_FD_FIXED : 0);
    return this.#request('io_uring_cancel', C.IORING_OP_ASYNC_CANCEL, validateFd(fd), 0, 0, 0, flags, null, null, undefined, noneIsZero, { ...options, fixedFile: false });
  }

  // ---- files, processes, futexes and messages ----

  /**
   * openat2(2): `how.flags` O_* (O_CLOEXEC always added), `how.mode` (only
   * with O_CREAT or O_TMPFILE; default 0o666 then), `how.resolve` RESOLVE_*.
   * Resolves with the new fd, which the caller owns.
   */
  openat2(dirfd: number | null, path: PathLike, how?: IoUringOpenHow, options?: RequestOptions): Promise<number> {
    const p = toPath(path);
    const d = dirfdOf(dirfd, 'dirfd');
    const h = validateOptions<IoUringOpenHow>(how, 'how', ['flags', 'mode', 'resolve']);
    const flags = (h.flags === undefined ? 0 : validateInt32(h.flags, 'how.flags')) | O_CLOEXEC;
    const creates = (flags & O_CREAT) !== 0 || (flags & O_TMPFILE) === O_TMPFILE;
    const st = new BigUint64Array(3);
    st[0] = BigInt(flags >>> 0);
    st[1] = BigInt(h.mode === undefined ? (creates ? 0o666 : 0) : validateUint32(h.mode, 'how.mode'));
    st[2] = BigInt(h.resolve === undefined ? 0 : validateUint32(h.resolve, 'how.resolve'));
    return this.#request('openat2', C.IORING_OP_OPENAT2, d, 0, 0, 24, 0, nulTerminated(p.bytes), new Uint8Array(st.buffer), undefined, null, options, p.text);
  }

  /**
   * madvise(2) (IORING_OP_MADVISE) on the whole pages that lie inside
   * `buffer` (EINVAL when it holds no whole page). Only advice
   * that leaves the memory as it is: a Buffer's pages hold whatever else V8
   * put beside it, so MADV_DONTNEED, MADV_FREE and the like are refused.
   */
  madvise(buffer: ArrayBufferView, advice: number, options?: RequestOptions): Promise<void> {
    const b = bytesOf(buffer, 'buffer');
    validateInt32(advice, 'advice');
    if (!KEEPING_ADVICE.has(advice)) throw invalidArgValue('advice', advice, 'must be advice that keeps the memory\'s contents (MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ, MADV_POPULATE_WRITE)');
    const range = new Uint32Array(2);
    native.io_uring.ioUringPageRange(b, new Uint8Array(range.buffer));
    if (range[1] === 0) return Promise.reject(sysError(EINVAL, 'madvise')); // no whole page (the kernel's answer but for an aligned start)
    const pages = b.subarray(range[0]!, range[0]! + range[1]!);
    return this.#request('madvise', C.IORING_OP_MADVISE, -1, 0, 0, pages.byteLength, advice, pages, null, undefined, toVoid, options);
  }

  /** getxattr(2): resolves with the value of attribute `name` of `path`. `size` bounds it (default XATTR_SIZE_MAX, 64 KiB: any value fits; a larger value than `size` is ERANGE). */
  getxattr(path: PathLike, name: string, options?: RequestOptions & { size?: number }): Promise<Buffer> {
    const p = toPath(path);
    return this.#getxattr('getxattr', C.IORING_OP_GETXATTR, 0, xattrName(name), nulTerminated(p.bytes), p.text, options);
  }

  /** fgetxattr(2): as getxattr, of an open fd. */
  fgetxattr(fd: number, name: string, options?: RequestOptions & { size?: number }): Promise<Buffer> {
    return this.#getxattr('fgetxattr', C.IORING_OP_FGETXATTR, this.#fd(fd, options), xattrName(name), 0, undefined, options);
  }

  /** setxattr(2): `flags` XATTR_CREATE (EEXIST if it is there) or XATTR_REPLACE (ENODATA if it is not). */
  setxattr(path: PathLike, name: string, value: ArrayBufferView | string, flags = 0, options?: RequestOptions): Promise<void> {
    const p = toPath(path);
    const v = typeof value === 'string' ? Buffer.from(value) : bytesOf(value, 'value');
    return this.#request('setxattr', C.IORING_OP_SETXATTR, 0, 0, 0, v.byteLength, validateInt32(flags, 'flags'), xattrName(name), v, undefined, toVoid, options, p.text, undefined, 0, { addr3: nulTerminated(p.bytes) });
  }

  /** fsetxattr(2): as setxattr, on an open fd. */
  fsetxattr(fd: number, name: string, value: ArrayBufferView | string, flags = 0, options?: RequestOptions): Promise<void> {
    const v = typeof value === 'string' ? Buffer.from(value) : bytesOf(value, 'value');
    return this.#request('fsetxattr', C.IORING_OP_FSETXATTR, this.#fd(fd, options), 0, 0, v.byteLength, validateInt32(flags, 'flags'), xattrName(name), v, undefined, toVoid, options);
  }

  /** Removes a `pollAdd()` in flight (IORING_OP_POLL_REMOVE): that one rejects with ECANCELED; this rejects with ENOENT when it is over already. */
  pollRemove(target: Promise<number>, options?: RequestOptions): Promise<void> {
    const ud = this.#target(target, 'poll');
    return this.#request('poll_remove', C.IORING_OP_POLL_REMOVE, -1, 0, ud, 0, 0, null, null, undefined, toVoid, options);
  }

  /** Changes the events a `pollAdd()` in flight waits for (IORING_POLL_UPDATE_EVENTS); ENOENT when it is over already. */
  pollUpdate(target: Promise<number>, events: number, options?: RequestOptions): Promise<void> {
    const ud = this.#target(target, 'poll');
    const ev = validateUint32(events, 'events');
    return this.#request('poll_update', C.IORING_OP_POLL_REMOVE, -1, 0, ud, C.IORING_POLL_UPDATE_EVENTS, ev, null, null, undefined, toVoid, options);
  }

  /** Removes a `timeout()` in flight (IORING_OP_TIMEOUT_REMOVE): that one rejects with ECANCELED; this rejects with ENOENT when it is over already. */
  timeoutRemove(target: Promise<void>, options?: RequestOptions): Promise<void> {
    const ud = this.#target(target, 'timeout');
    return this.#request('timeout_remove', C.IORING_OP_TIMEOUT_REMOVE, -1, 0, ud, 0, 0, null, null, undefined, toVoid, options);
  }

  /** Restarts a `timeout()` in flight to expire `ms` from now (IORING_TIMEOUT_UPDATE); ENOENT when it is over already. */
  timeoutUpdate(target: Promise<void>, ms: number, options?: RequestOptions): Promise<void> {
    const ud = this.#target(target, 'timeout');
    return this.#request('timeout_update', C.IORING_OP_TIMEOUT_REMOVE, -1, 0, ud, 0, C.IORING_TIMEOUT_UPDATE, null, timespec(ms), undefined, toVoid, options);
  }

  /**
   * IORING_OP_LINK_TIMEOUT: bounds the request queued just before, which
   * must have `{ link: true }`: after `ms` that request is cancelled (it
   * rejects with ECANCELED). Resolves true when the timeout expired, false
   * when the request ended first; rejects with EINVAL when no linked request
   * precedes it.
   */
  linkTimeout(ms: number, options?: RequestOptions): Promise<boolean> {
    return this.#request('link_timeout', C.IORING_OP_LINK_TIMEOUT, -1, 0, 0, 1, 0, timespec(ms), null, undefined, linkExpired, options);
  }

  /**
   * IORING_OP_FILES_UPDATE: puts `fds` into the registered files from
   * `offset` on (-1 empties a slot), or with no `offset` into free slots the
   * kernel picks (IORING_FILE_INDEX_ALLOC). Resolves with the indices filled.
   */
  filesUpdate(fds: readonly number[], offset?: number, options?: RequestOptions): Promise<number[]> {
    if (!isArray(fds) || fds.length === 0) throw invalidArgType('fds', 'a non-empty array of numbers', fds);
    const list = Int32Array.from(fds, (fd, i) => validateInt32(fd, `fds[${i}]`, -1));
    const alloc = offset === undefined;
    const off = alloc ? C.IORING_FILE_INDEX_ALLOC : validateInteger(offset, 'offset', 0, 0xfffffffe);
    const fdsIn = Array.from(list);
    return this.#request('files_update', C.IORING_OP_FILES_UPDATE, -1, off, 0, list.length, 0, new Uint8Array(list.buffer), null, undefined, (n) => {
      const indices = alloc ? Array.from(list.subarray(0, n)) : Array.from({ length: n }, (_, i) => off + i);
      indices.forEach((index, i) => (this.#files[index] = fdsIn[i]!));
      return indices;
    }, options);
  }

  /** IORING_OP_FIXED_FD_INSTALL (6.8): a real fd for registered file `index`, close-on-exec unless `cloexec` is false. The caller owns it. */
  fixedFdInstall(index: number, options?: RequestOptions & { cloexec?: boolean }): Promise<number> {
    const o = validateOptions<RequestOptions & { cloexec?: boolean }>(options, 'options', ['signal', 'link', 'hardlink', 'fixedFile', 'cloexec']);
    const cloexec = o.cloexec === undefined ? true : validateBoolean(o.cloexec, 'options.cloexec');
    const fd = this.#fd(index, { fixedFile: true });
    return this.#request('fixed_fd_install', C.IORING_OP_FIXED_FD_INSTALL, fd, 0, 0, 0, cloexec ? 0 : C.IORING_FIXED_FD_NO_CLOEXEC, null, null, undefined, null, requestOptions(o, true));
  }

  /** preadv2(2) into `buffers`, each a view into registered buffer `index` (IORING_OP_READV_FIXED, 6.15). */
  readvFixed(fd: number, index: number, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    return this.#vfixed('readv', C.IORING_OP_READV_FIXED, fd, index, buffers, position, options);
  }

  /** pwritev2(2) from `buffers`, each a view into registered buffer `index` (IORING_OP_WRITEV_FIXED, 6.15). */
  writevFixed(fd: number, index: number, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: RequestOptions): Promise<number> {
    return this.#vfixed('writev', C.IORING_OP_WRITEV_FIXED, fd, index, buffers, position, options);
  }

  /** pipe2(2) (IORING_OP_PIPE, 6.16), O_CLOEXEC added to `flags`: resolves with [readFd, writeFd], which the caller owns. */
  pipe(flags = 0, options?: RequestOptions): Promise<[number, number]> {
    const f = validateInt32(flags, 'flags') | O_CLOEXEC;
    const fds = new Int32Array(2);
    return this.#request('pipe', C.IORING_OP_PIPE, 0, 0, 0, 0, f, new Uint8Array(fds.buffer), null, undefined, () => [fds[0]!, fds[1]!], options);
  }

  /**
   * waitid(2) (IORING_OP_WAITID, 6.7): `idtype` P_PID, P_PIDFD, P_PGID or
   * P_ALL, `options` WEXITED, WSTOPPED, WCONTINUED, WNOHANG, WNOWAIT.
   * Resolves with the siginfo the kernel fills (`pid` 0 under WNOHANG when no
   * child changed state). A child of `child_process` is Node's to reap: wait
   * for it with WNOWAIT, or Node never sees it exit.
   */
  waitid(idtype: number, id: number, options: number, reqOptions?: RequestOptions): Promise<IoUringSiginfo> {
    const type = validateUint32(idtype, 'idtype');
    const upid = validateInt32(id, 'id', 0);
    const opts = validateInt32(options, 'options');
    const info = new Uint8Array(128);
    return this.#request('waitid', C.IORING_OP_WAITID, upid, 0, 0, type, 0, null, info, opts, () => parseSiginfo(info), reqOptions);
  }

  /**
   * FUTEX_WAIT (IORING_OP_FUTEX_WAIT, 6.7) on `array[index]`, an Int32Array
   * (over a SharedArrayBuffer, to be woken from another thread): resolves
   * once a `futexWake()` wakes it; rejects with EAGAIN at once when the
   * element is not `value`. The kernel's futexes are 32-bit, and
   * `Atomics.notify` does not wake them (V8 keeps its own waiters).
   */
  futexWait(array: Int32Array, index: number, value: number, options?: RequestOptions & { mask?: number }): Promise<void> {
    const o = validateOptions<RequestOptions & { mask?: number }>(options, 'options', ['signal', 'link', 'hardlink', 'fixedFile', 'mask']);
    const word = futexWord(array, index);
    const v = validateInt32(value, 'value') >>> 0;
    return this.#request('futex_wait', C.IORING_OP_FUTEX_WAIT, FUTEX_FLAGS, v, 0, 0, 0, word, null, undefined, toVoid, requestOptions(o), undefined, undefined, 0, { addr3: futexMask(o.mask) });
  }

  /** FUTEX_WAKE (IORING_OP_FUTEX_WAKE, 6.7): wakes up to `count` waiters on `array[index]`; resolves with how many it woke. */
  futexWake(array: Int32Array, index: number, count = 1, options?: RequestOptions & { mask?: number }): Promise<number> {
    const o = validateOptions<RequestOptions & { mask?: number }>(options, 'options', ['signal', 'link', 'hardlink', 'fixedFile', 'mask']);
    const word = futexWord(array, index);
    const n = validateInteger(count, 'count', 1, INT32_MAX);
    return this.#request('futex_wake', C.IORING_OP_FUTEX_WAKE, FUTEX_FLAGS, n, 0, 0, 0, word, null, undefined, null, requestOptions(o), undefined, undefined, 0, { addr3: futexMask(o.mask) });
  }

  /**
   * FUTEX_WAITV (IORING_OP_FUTEX_WAITV, 6.7): waits on up to 128 futexes at
   * once, each `{ array, index, value }` as `futexWait` takes them; resolves
   * with the index in `waits` of the one woken. EAGAIN at once when one of
   * them is not its `value`.
   */
  futexWaitv(waits: readonly { array: Int32Array; index: number; value: number }[], options?: RequestOptions): Promise<number> {
    if (!isArray(waits) || waits.length === 0) throw invalidArgType('waits', 'a non-empty array of { array, index, value }', waits);
    if (waits.length > FUTEX_WAITV_MAX) throw invalidArgValue('waits', waits, `must hold at most ${FUTEX_WAITV_MAX} futexes`);
    const waitv = new Uint8Array(24 * waits.length);
    const v = new DataView(waitv.buffer);
    const words = waits.map((w, i) => {
      const o = validateOptions<{ array: Int32Array; index: number; value: number }>(w, `waits[${i}]`, ['array', 'index', 'value']);
      const word = futexWord(o.array, o.index);
      v.setUint32(24 * i, validateInt32(o.value, `waits[${i}].value`) >>> 0, true);
      v.setUint32(24 * i + 16, FUTEX_FLAGS, true);
      return word;
    });
    native.io_uring.ioUringFutexWaitv(waitv, words);
    // The result function holds the futex words until the completion.
    return this.#request('futex_waitv', C.IORING_OP_FUTEX_WAITV, 0, 0, 0, waits.length, 0, waitv, null, undefined, (res) => (words.length, res), options);
  }

  /**
   * IORING_OP_MSG_RING (5.18): posts a CQE into `target` (an IoUring, or a
   * ring's fd) whose user_data is `data` (a uint32) and whose res is
   * `options.res`; the target IoUring emits it as a `'message'` event. With
   * `options.sendFile` (6.0) it passes this ring's registered file of that
   * index into the target's registered files instead, at `targetIndex` or a
   * free slot; the message's res is the slot. Resolves with the sender's res
   * (the slot, for a file; 0 otherwise).
   */
  msgRing(target: IoUring | number, data: number, options?: RequestOptions & { res?: number; sendFile?: number; targetIndex?: number }): Promise<number> {
    const o = validateOptions<RequestOptions & { res?: number; sendFile?: number; targetIndex?: number }>(options, 'options', ['signal', 'link', 'hardlink', 'res', 'sendFile', 'targetIndex']);
    const fd = target instanceof IoUring ? target.fd : validateFd(target, 'target');
    const d = validateUint32(data, 'data');
    const req = requestOptions(o, false);
    if (fd < 0) return Promise.reject(sysError(EBADF, 'msg_ring'));
    if (o.sendFile === undefined) {
      if (o.targetIndex !== undefined) throw invalidArgValue('options.targetIndex', o.targetIndex, 'needs options.sendFile');
      const res = o.res === undefined ? 0 : validateInt32(o.res, 'options.res');
      return this.#request('msg_ring', C.IORING_OP_MSG_RING, fd, d, C.IORING_MSG_DATA, res >>> 0, 0, null, null, undefined, null, req);
    }
    if (o.res !== undefined) throw invalidArgValue('options.res', o.res, 'is the slot when a file is sent');
    const source = this.#fd(o.sendFile, { fixedFile: true });
    // file_index is the target slot + 1; IORING_FILE_INDEX_ALLOC lets the kernel pick.
    const slot = o.targetIndex === undefined ? C.IORING_FILE_INDEX_ALLOC : validateInteger(o.targetIndex, 'options.targetIndex', 0, 0xfffffffd) + 1;
    return this.#request('msg_ring', C.IORING_OP_MSG_RING, fd, d, C.IORING_MSG_SEND_FD, 0, 0, null, null, slot, null, req, undefined, undefined, 0, { addr3: source });
  }

  /**
   * The messages other rings post into this one (`msgRing`), as an async
   * iterator; the same as the `'message'` event, whose listeners keep the
   * ring's fd watched (and the process alive, unless `unref()`). Ends at
   * `close()`.
   */
  async *messages(options?: { signal?: AbortSignal }): AsyncGenerator<IoUringMessage, void, undefined> {
    const o = validateOptions<{ signal?: AbortSignal }>(options, 'options', ['signal']);
    const signal = validateAbortSignal(o.signal, 'options.signal');
    if (this.#handle === null) return;
    for await (const [m] of on(this, 'message', { signal, close: ['close'] })) yield m as IoUringMessage;
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
    for (const ring of this.#bufferRings) ring.close();
    this.#bufferRings.clear();
    for (let i = 0; i < this.#slots.length; i++) {
      const req = this.#slots[i];
      if (req !== undefined) this.#settle(i, req, -ECANCELED);
    }
    this.emit('close');
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

  /** Remembers a request that removes and updates can name, by its Promise. */
  #track<T>(promise: Promise<T>, kind: 'poll' | 'timeout'): Promise<T> {
    if (this.#lastSlot >= 0) this.#targets.set(promise, { slot: this.#lastSlot, req: this.#slots[this.#lastSlot]!, kind });
    return promise;
  }

  /** The user_data of a request a remove or update names; one that names nothing when it is over. */
  #target(target: Promise<unknown>, kind: 'poll' | 'timeout'): number {
    const found = this.#targets.get(target);
    if (found === undefined || found.kind !== kind) {
      throw invalidArgValue('target', target, `must be a Promise that ${kind === 'poll' ? 'pollAdd()' : 'timeout()'} of this ring returned`);
    }
    return OWN * 2 ** 32 + (this.#slots[found.slot] === found.req ? found.slot : NOTHING);
  }

  #getxattr(syscall: string, opcode: number, fd: number, name: Uint8Array, path: Uint8Array | 0, text: string | undefined, options: (RequestOptions & { size?: number }) | undefined): Promise<Buffer> {
    const o = validateOptions<RequestOptions & { size?: number }>(options, 'options', ['signal', 'link', 'hardlink', 'fixedFile', 'size']);
    const value = Buffer.alloc(o.size === undefined ? XATTR_SIZE_MAX : validateInteger(o.size, 'options.size', 0, XATTR_SIZE_MAX));
    return this.#request(syscall, opcode, fd, 0, 0, value.byteLength, 0, name, value, undefined, (n) => value.subarray(0, n), requestOptions(o), text, undefined, 0, { addr3: path });
  }

  #vfixed(syscall: string, opcode: number, fd: number, index: number, buffers: readonly ArrayBufferView[], position: unknown, options: RequestOptions | undefined): Promise<number> {
    const registered = this.#ring.buffers;
    validateInteger(index, 'index', 0, Math.max(0, registered.length - 1));
    if (registered[index] === undefined) return Promise.reject(sysError(EBADF, syscall)); // none registered
    const iov = this.#iovecs(buffers);
    // The kernel checks that each iovec lies inside the registered buffer (EFAULT).
    return this.#request(syscall, opcode, this.#fd(fd, options), positionOf(position), 0, iov.length - 1, 0, iov, null, undefined, null, options, undefined, undefined, index);
  }

  /** A CQE this ring's requests did not make: another ring's message. */
  #message(lo: number, hi: number, res: number, flags: number): void {
    const message: IoUringMessage = { data: BigInt(lo >>> 0) | (BigInt(hi >>> 0) << 32n), res, flags: flags >>> 0 };
    // Emitted outside the reaping loop, which a listener's throw must not cut short.
    process.nextTick(() => this.emit('message', message));
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

  #sendmsg(syscall: string, opcode: number, fd: number, buffers: readonly ArrayBufferView[], message: SendMessage | undefined, options: RequestOptions | undefined, more: (() => void) | undefined): Promise<number> {
    const m = validateOptions<SendMessage>(message, 'message', ['address', 'port', 'fds', 'flags']);
    const name = m.address === undefined ? null : sockaddr(m.address, m.port);
    let control: Uint8Array | null = null;
    if (m.fds !== undefined) {
      if (!isArray(m.fds) || m.fds.length === 0 || m.fds.length > SCM_MAX_FD) throw invalidArgType('message.fds', `an array of 1 to ${SCM_MAX_FD} fds`, m.fds);
      const fds = m.fds.map((f, i) => validateFd(f, `message.fds[${i}]`));
      control = new Uint8Array(cmsgSpace(4 * fds.length));
      const v = new DataView(control.buffer);
      v.setBigUint64(0, BigInt(16 + 4 * fds.length), true);
      v.setInt32(8, SOL_SOCKET, true);
      v.setInt32(12, SCM_RIGHTS, true);
      fds.forEach((f, i) => v.setInt32(16 + 4 * i, f, true));
    }
    const flags = m.flags === undefined ? 0 : validateUint32(m.flags, 'message.flags');
    const views = this.#messageBuffers(buffers);
    const hdr = msghdr(name, views, control);
    return this.#request(syscall, opcode, this.#fd(fd, options), 0, 0, 1, flags, hdr, null, undefined, null, options, undefined, undefined, 0, { keep: [name, views, control], more });
  }

  #messageBuffers(buffers: readonly ArrayBufferView[]): Uint8Array[] {
    if (!isArray(buffers)) throw invalidArgType('buffers', 'an array of Buffer, TypedArray, or DataView', buffers);
    if (buffers.length > 1024) throw invalidArgValue('buffers', buffers, 'must hold at most 1024 buffers (IOV_MAX)');
    return buffers.map((b, i) => bytesOf(b, `buffers[${i}]`));
  }

  /**
   * A multishot request whose CQEs each carry a buffer of `buffers`; the
   * request holds the buffer ring, so the memory it names outlives it.
   */
  #bufferMultishot(buffers: IoUringBufferRing, start: (extra: SqeExtra) => Promise<unknown>): AsyncIterableIterator<Uint8Array> {
    if (!(buffers instanceof IoUringBufferRing) || !this.#bufferRings.has(buffers) || !buffers.open) throw invalidArgType('buffers', 'an open IoUringBufferRing of this ring', buffers);
    return new Multishot<Uint8Array>(
      (extra) => start({ ...extra, sqeFlags: IOSQE_BUFFER_SELECT, keep: buffers }),
      (res, flags) => {
        if (!(flags & C.IORING_CQE_F_BUFFER)) return undefined;
        const view = buffers.take(flags >>> IORING_CQE_BUFFER_SHIFT, Math.max(res, 0));
        if (res > 0) return view;
        buffers.release(view);
        return undefined;
      },
      (view) => buffers.release(view), (slot) => this.#cancelSlot(slot),
      // Out of buffers: armed again when the consumer asks for more with some given back.
      { starved: (err) => (err as NodeJS.ErrnoException).code === 'ENOBUFS', ready: () => buffers.available > 0 },
    );
  }

  #socketCommand<T>(syscall: string, cmd: number, fd: number, level: number, optname: number, value: Uint8Array | null, result: ((res: number) => unknown) | null, options: RequestOptions | undefined): Promise<T> {
    const l = validateInt32(level, 'level');
    const o = validateInt32(optname, 'optname');
    // cmd_op is the off field; level and optname share addr; optlen is the file_index field; optval is addr3.
    return this.#request(syscall, C.IORING_OP_URING_CMD, this.#fd(fd, options), cmd, (l >>> 0) + (o >>> 0) * 2 ** 32, 0, 0, null, null, value?.byteLength ?? 0, result, options, undefined, undefined, 0, value === null ? undefined : { addr3: value });
  }

  /**
   * Queues one request: fills the SQE image (addr holds the offset into `a`
   * when `a` is given), writes it into the ring, and schedules the flush.
   */
  #request<T>(
    syscall: string, opcode: number, fd: number, off: number | bigint, addr: number | bigint, len: number, opFlags: number,
    a: Uint8Array | Uint8Array[] | null, b: Uint8Array | null, spliceFdIn: number | undefined,
    result: ((res: number) => unknown) | null, options: RequestOptions | undefined, path?: string, dest?: string, bufIndex = 0,
    extra?: SqeExtra, owner?: RequestOwner,
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
    image[1] = sqeFlags | (extra?.sqeFlags ?? 0);
    const ioprio = extra?.ioprio ?? 0;
    image[2] = ioprio & 255;
    image[3] = ioprio >> 8;
    w[1] = fd;
    // off: -1 is all ones (the current position), as the kernel reads it.
    put64(w, 2, off);
    put64(w, 4, addr);
    w[6] = len;
    w[7] = opFlags;
    w[8] = slot;
    w[9] = OWN;
    w[10] = bufIndex;
    w[11] = spliceFdIn ?? 0;
    const addr3 = extra?.addr3 ?? 0;
    const c = typeof addr3 === 'number' ? null : addr3;
    w[12] = c === null ? (addr3 as number) % 0x100000000 : 0;
    w[13] = 0;
    let r = native.io_uring.ioUringPrep(handle, image, a, b, c);
    if (r === -EBUSY && !this.#chainOpen) {
      // The SQ is full: what is in it goes now (a chain is never cut: that is refused).
      this.#submit();
      r = native.io_uring.ioUringPrep(handle, image, a, b, c);
    }
    this.#lastSlot = r < 0 ? -1 : slot;
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
      const req = new Request(resolve as (v: never) => void, reject, syscall, extra !== undefined ? [a, b, extra] : b === null ? a : [a, b], result, signal, path, dest);
      this.#slots[slot] = req;
      if (extra !== undefined) {
        req.more = extra.more ?? null;
        extra.slot?.(slot);
      }
      if (signal !== undefined) {
        req.onAbort = () => this.#abort(slot, req);
        signal.addEventListener('abort', req.onAbort, { once: true });
      }
      if (owner !== undefined) {
        req.owner = owner;
        owner.inFlight++;
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
    this.#cancelSlot(slot);
  }

  /** Queues an IORING_OP_ASYNC_CANCEL of the request in `slot`. */
  #cancelSlot(slot: number): void {
    if (this.#handle === null) return;
    const w = this.#words;
    w.fill(0);
    this.#image[0] = C.IORING_OP_ASYNC_CANCEL;
    w[4] = slot;
    w[5] = OWN;
    w[8] = INTERNAL;
    w[9] = OWN;
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
      if (cqes[4 * i + 1] !== OWN) {
        this.#message(cqes[4 * i]!, cqes[4 * i + 1]!, cqes[4 * i + 2]!, cqes[4 * i + 3]!);
        continue;
      }
      const slot = cqes[4 * i]! >>> 0;
      if (slot === INTERNAL) continue;
      const req = this.#slots[slot];
      if (req === undefined) continue;
      let res = cqes[4 * i + 2]!;
      if (req.more !== null) {
        const flags = cqes[4 * i + 3]!;
        if (flags & IORING_CQE_F_NOTIF) res = req.held;
        else {
          req.held = res;
          req.more(res, flags);
          if (flags & IORING_CQE_F_MORE) continue;
        }
      }
      this.#settle(slot, req, res);
    }
  }

  #settle(slot: number, req: Request, res: number): void {
    this.#slots[slot] = undefined;
    this.#free.push(slot);
    this.#inFlight--;
    if (req.onAbort !== null) req.signal!.removeEventListener('abort', req.onAbort);
    if (req.owner !== null && --req.owner.inFlight === 0) req.owner.idle?.();
    if (res >= 0 || (res === -ETIME && req.result === timedOut)) {
      req.resolve((req.result === null ? res : req.result(res)) as never);
    } else if (req.aborted && (res === -ECANCELED || res === -EINTR)) {
      req.reject(new AbortError(undefined, { cause: req.signal!.reason }));
    } else if (req.result === linkExpired && (res === -ETIME || res === -ECANCELED)) {
      req.resolve(linkExpired(res) as never);
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
    const want = this.#inFlight > 0 || this.listenerCount('message') > 0;
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
    if (this.#poll !== null || (this.#inFlight === 0 && this.listenerCount('message') === 0)) return;
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

/** The request options of a method that takes options of its own, with IOSQE_FIXED_FILE as the method needs it. */
function requestOptions(o: RequestOptions, fixedFile?: boolean): RequestOptions {
  return { signal: o.signal, link: o.link, hardlink: o.hardlink, fixedFile: fixedFile ?? o.fixedFile };
}

/** A `struct __kernel_timespec` of `ms` milliseconds. */
function timespec(ms: number): Uint8Array {
  validateInteger(ms, 'ms', 0, Number.MAX_SAFE_INTEGER);
  return new Uint8Array(new BigInt64Array([BigInt(Math.floor(ms / 1000)), BigInt((ms % 1000) * 1e6)]).buffer);
}

/** An attribute's name, NUL-terminated. */
function xattrName(name: unknown): Uint8Array {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (name.length === 0 || name.includes('\0')) throw invalidArgValue('name', name, 'must be a non-empty string without null bytes');
  return nulTerminated(Buffer.from(name));
}

/** The 4 bytes of `array[index]` a futex request names. */
function futexWord(array: unknown, index: unknown): Uint8Array {
  if (!(array instanceof Int32Array)) throw invalidArgType('array', 'an instance of Int32Array (the kernel\'s futexes are 32-bit)', array);
  const i = validateInteger(index, 'index', 0, Math.max(0, array.length - 1));
  if (array.length === 0) throw outOfRange('index', 'an index of a non-empty array', index);
  return new Uint8Array(array.buffer, array.byteOffset + 4 * i, 4);
}

function futexMask(mask: unknown): number {
  return mask === undefined ? 0xffffffff : validateUint32(mask, 'options.mask');
}

function parseSiginfo(b: Uint8Array): IoUringSiginfo {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { signo: v.getInt32(0, true), code: v.getInt32(8, true), pid: v.getInt32(16, true), uid: v.getUint32(20, true), status: v.getInt32(24, true) };
}

/** What requests that return nothing resolve with. */
function toVoid(): undefined {
  return undefined;
}

/** A timeout's own expiry (-ETIME) is its success. */
function timedOut(): undefined {
  return undefined;
}

/** A link timeout resolves true when it expired (and cancelled its request), false when the request ended first. */
function linkExpired(res: number): boolean {
  return res === -ETIME;
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

function ignore(): void {}

export interface BufferRingOptions {
  /** The buffer group (0-65535) requests pick from. */
  group: number;
  /** How many buffers: a power of two up to 32768 for `bufferRing()`, up to 65536 for `provideBuffers()`. */
  entries: number;
  /** Each buffer's bytes. */
  size: number;
}

function bufferRingOptions(options: unknown, ring: boolean): BufferRingOptions {
  const o = validateOptions<BufferRingOptions & RequestOptions>(options, 'options', ring ? ['group', 'entries', 'size'] : ['group', 'entries', 'size', 'signal']);
  const group = validateInteger(o.group, 'options.group', 0, 65535);
  const entries = validateInteger(o.entries, 'options.entries', 1, ring ? 32768 : 65536);
  if (ring && (entries & (entries - 1)) !== 0) throw invalidArgValue('options.entries', entries, 'must be a power of two');
  const size = validateInteger(o.size, 'options.size', 1, 2 ** 31 - 1);
  if (entries * size > 2 ** 31 - 1) throw invalidArgValue('options.size', size, 'must make entries * size at most 2 GiB');
  return { group, entries, size };
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

function cmsgSpace(length: number): number {
  return 16 + ((length + 7) & ~7);
}

/** A struct msghdr (and its iovecs), written by C: it holds pointers. */
function msghdr(name: Uint8Array | null, buffers: Uint8Array[], control: Uint8Array | null): Uint8Array {
  const hdr = new Uint8Array(MSGHDR_SIZE + 16 * buffers.length);
  native.io_uring.ioUringMsghdr(hdr, name, buffers, control);
  return hdr;
}

/** recvmsg's result, from the msghdr the kernel updated (msg_namelen, msg_controllen, msg_flags). */
function receivedMessage(res: number, hdr: Uint8Array, name: Uint8Array, control: Uint8Array | null): ReceivedMessage {
  const v = new DataView(hdr.buffer, hdr.byteOffset);
  const out: ReceivedMessage = { bytesRead: res, flags: v.getInt32(48, true) & ~MSG_CMSG_CLOEXEC };
  const address = parseSockaddr(name.subarray(0, Math.min(v.getUint32(8, true), name.byteLength)));
  if (address !== undefined) out.address = address;
  if (control !== null) {
    const fds: number[] = [];
    const end = Math.min(Number(v.getBigUint64(40, true)), control.byteLength);
    const c = new DataView(control.buffer);
    for (let at = 0; at + 16 <= end;) {
      const len = Number(c.getBigUint64(at, true));
      if (len < 16 || at + len > end) break;
      if (c.getInt32(at + 8, true) === SOL_SOCKET && c.getInt32(at + 12, true) === SCM_RIGHTS) {
        for (let i = at + 16; i + 4 <= at + len; i += 4) fds.push(c.getInt32(i, true));
      }
      at += (len + 7) & ~7;
    }
    if (fds.length > 0) out.fds = fds;
  }
  return out;
}

function parseSockaddr(sa: Uint8Array): SocketAddress | undefined {
  if (sa.byteLength < 2) return undefined;
  const family = sa[0]! | (sa[1]! << 8);
  const port = (sa[2]! << 8) | sa[3]!;
  if (family === 2 && sa.byteLength >= 16) return { family: 'IPv4', address: sa.subarray(4, 8).join('.'), port };
  if (family === 10 && sa.byteLength >= 24) {
    const groups = Array.from({ length: 8 }, (_, i) => ((sa[8 + 2 * i]! << 8) | sa[9 + 2 * i]!).toString(16));
    // The longest run of zero groups (two or more) becomes '::', as inet_ntop writes it.
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8;) {
      let j = i;
      while (j < 8 && groups[j] === '0') j++;
      if (j - i > bestLen) [best, bestLen] = [i, j - i];
      i = j === i ? i + 1 : j;
    }
    const text = best < 0 ? groups.join(':') : `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
    return { family: 'IPv6', address: text, port };
  }
  if (family === 1 && sa.byteLength > 2) {
    const path = sa.subarray(2);
    const nul = path[0] === 0 ? -1 : path.indexOf(0);
    return { family: 'unix', address: Buffer.from(nul < 0 ? path : path.subarray(0, nul)).toString() };
  }
  return undefined;
}

/**
 * Buffers the kernel picks from (a provided-buffer ring, IORING_REGISTER_PBUF_RING),
 * made by `IoUring.bufferRing()`: `entries` buffers of `size` bytes in one
 * block of memory. A request that picked one yields a view of it, which the
 * caller gives back with `release(view)` once done with its bytes; until then
 * the kernel does not pick that buffer again, so a view is never written
 * under its reader. One not given back is only one buffer fewer: the memory is
 * held until the ring is closed and no request can pick from it.
 */
export class IoUringBufferRing {
  readonly group: number;
  readonly entries: number;
  readonly size: number;
  readonly #memory: Uint8Array;
  /** 1 where the buffer of that id is the caller's. */
  readonly #out: Uint8Array;
  #available: number;
  #add: ((bid: number, view: Uint8Array) => void) | null;
  readonly #unregister: () => void;

  /** @internal */
  constructor(group: number, entries: number, size: number, addEach: boolean, add: (bid: number, view: Uint8Array) => void, unregister: () => void) {
    this.group = group;
    this.entries = entries;
    this.size = size;
    this.#memory = new Uint8Array(entries * size);
    this.#out = new Uint8Array(entries);
    this.#add = add;
    this.#unregister = unregister;
    if (addEach) for (let bid = 0; bid < entries; bid++) add(bid, this.#buffer(bid));
    this.#available = entries;
  }

  /** @internal */
  get open(): boolean {
    return this.#add !== null;
  }

  /** @internal All the buffers, in order of id. */
  get memory(): Uint8Array {
    return this.#memory;
  }

  /** Buffers the kernel may pick now. */
  get available(): number {
    return this.#available;
  }

  /** Gives a view this ring's requests yielded back to the kernel. Once the ring is closed, does nothing. */
  release(view: Uint8Array): void {
    if (!(view instanceof Uint8Array)) throw invalidArgType('view', 'an instance of Uint8Array', view);
    const bid = view.buffer === this.#memory.buffer ? view.byteOffset / this.size : -1;
    if (!Number.isInteger(bid) || bid < 0 || bid >= this.entries || this.#out[bid] !== 1) {
      throw invalidArgValue('view', view, 'must be a buffer this ring handed out and not yet released');
    }
    this.#out[bid] = 0;
    if (this.#add === null) return;
    this.#available++;
    this.#add(bid, this.#buffer(bid));
  }

  /** Unregisters the ring (IORING_UNREGISTER_PBUF_RING); requests in flight that picked a buffer keep its memory. */
  close(): void {
    if (this.#add === null) return;
    this.#add = null;
    this.#unregister();
  }

  /** @internal A buffer the kernel picked: the caller's until released. */
  take(bid: number, length: number): Uint8Array {
    this.#out[bid] = 1;
    this.#available--;
    return this.#memory.subarray(bid * this.size, bid * this.size + Math.min(length, this.size));
  }

  #buffer(bid: number): Uint8Array {
    return this.#memory.subarray(bid * this.size, (bid + 1) * this.size);
  }
}

/**
 * One multishot request's CQEs as an async iterator. Every CQE is taken off
 * the CQ as soon as the ring wakes and what it carries waits here until the
 * consumer asks for it, so a slow consumer never overflows the CQ; requests
 * that pick buffers are bounded by their ring instead (the kernel stops them
 * with ENOBUFS, and the iterator arms them again once the consumer asks for
 * more with buffers given back). The request ends when the kernel stops it
 * (its last CQE without IORING_CQE_F_MORE: the iterator then ends, or throws
 * that CQE's error after what came before it), on `return()` (a `break`),
 * which cancels it and frees what was not delivered, or on its AbortSignal.
 */
class Multishot<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  readonly #waiters: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void }[] = [];
  #failure: { error: unknown } | null = null;
  #ended = false;
  #stopped = false;
  /** The ENOBUFS that stopped a request that picks buffers, until it is armed again. */
  #starved: unknown = null;
  /** The request's slot while it is in flight, to cancel it by; -1 otherwise. */
  #slot = -1;

  constructor(
    private readonly start: (extra: SqeExtra) => Promise<unknown>,
    /** What a CQE carries for the consumer, or undefined. */
    private readonly item: (res: number, flags: number) => T | undefined,
    /** Frees an item never delivered. */
    private readonly drop: (item: T) => void,
    private readonly cancel: (slot: number) => void,
    /** Whether the request stopped for want of buffers, and whether there are some again. */
    private readonly buffers: { starved: (err: unknown) => boolean; ready: () => boolean } | null,
  ) {
    this.#arm();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return Promise.resolve({ value: this.#items.shift()!, done: false });
    if (this.#failure !== null) {
      const { error } = this.#failure;
      this.#failure = null;
      return Promise.reject(error);
    }
    if (this.#ended || this.#stopped) return Promise.resolve({ value: undefined, done: true });
    if (this.#starved !== null && !this.#rearm()) return Promise.reject(this.#starved);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#stopped) {
      this.#stopped = true;
      for (const item of this.#items.splice(0)) this.drop(item);
      if (this.#slot >= 0) this.cancel(this.#slot);
      for (const w of this.#waiters.splice(0)) w.resolve({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Arms a starved request again if the consumer gave buffers back; false (it ends with the ENOBUFS) when it holds them all. */
  #rearm(): boolean {
    if (!this.buffers!.ready()) {
      this.#ended = true;
      return false;
    }
    this.#arm();
    return true;
  }

  #arm(): void {
    this.#starved = null;
    this.start({ more: (res, flags) => this.#cqe(res, flags), slot: (slot) => (this.#slot = slot) }).then(() => this.#over(null), (err: unknown) => this.#over(err));
  }

  #cqe(res: number, flags: number): void {
    // The last CQE frees the slot at once (another request may take it before #over runs).
    if (!(flags & IORING_CQE_F_MORE)) this.#slot = -1;
    if (res < 0) return; // the last CQE's error: the request's Promise rejects with it
    const item = this.item(res, flags);
    if (item === undefined) return;
    if (this.#stopped) this.drop(item);
    else if (this.#waiters.length > 0) this.#waiters.shift()!.resolve({ value: item, done: false });
    else this.#items.push(item);
  }

  #over(err: unknown): void {
    this.#slot = -1; // settled without a last CQE: the ring was closed, or the request never reached it
    if (this.#stopped) return;
    if (err !== null && this.buffers?.starved(err)) {
      this.#starved = err;
      if (this.#waiters.length === 0 || this.#rearm()) return;
    }
    this.#ended = true;
    const waiters = this.#waiters.splice(0);
    if (err !== null) {
      if (waiters.length > 0) waiters.shift()!.reject(err);
      else this.#failure = { error: err };
    }
    for (const w of waiters) w.resolve({ value: undefined, done: true });
  }
}
