/**
 * io_uring, 1:1: io_uring_setup(2), io_uring_enter(2), io_uring_register(2),
 * and the rings between them, mapped and driven in C (src/native/io_uring.c).
 *
 * `ioUringSetup` hands back an `IoUringRing`: it owns the ring's fd and its
 * mappings (closed by `close()`, or by a finalizer when forgotten). SQEs are
 * written with `ioUringPrep` from plain objects named after `struct
 * io_uring_sqe`'s fields; a field the kernel reads as an address takes a
 * Uint8Array (a path, a string), never a number, so nothing a caller passes can
 * point the kernel at memory it does not own: `SQE_POINTERS` says which field
 * of which opcode is one, and an opcode missing there is refused. CQEs come
 * back from `ioUringReap` as `{ userData, res, flags }`. The ring keeps every
 * Uint8Array an SQE points into until `ioUringReap` has returned that SQE's
 * completion (by `userData`), and its registered buffers until unregistered.
 */
import { check, invalidArgType, invalidArgValue, sysError } from '../core/errors';
import { toPath } from '../core/fs';
import { native, type NativeHandle } from '../core/native';
import { isArray, validateBigUint, validateInt32, validateInteger, validateOptions, validateUint32, UINT64_MAX } from '../core/validate';

type ConstantName =
  | 'IORING_SETUP_IOPOLL' | 'IORING_SETUP_SQPOLL' | 'IORING_SETUP_SQ_AFF' | 'IORING_SETUP_CQSIZE' | 'IORING_SETUP_CLAMP'
  | 'IORING_SETUP_ATTACH_WQ' | 'IORING_SETUP_R_DISABLED' | 'IORING_SETUP_SUBMIT_ALL' | 'IORING_SETUP_COOP_TASKRUN'
  | 'IORING_SETUP_TASKRUN_FLAG' | 'IORING_SETUP_SQE128' | 'IORING_SETUP_CQE32' | 'IORING_SETUP_SINGLE_ISSUER'
  | 'IORING_SETUP_DEFER_TASKRUN' | 'IORING_SETUP_NO_MMAP' | 'IORING_SETUP_REGISTERED_FD_ONLY' | 'IORING_SETUP_NO_SQARRAY'
  | 'IORING_SETUP_HYBRID_IOPOLL'
  | 'IORING_FEAT_SINGLE_MMAP' | 'IORING_FEAT_NODROP' | 'IORING_FEAT_SUBMIT_STABLE' | 'IORING_FEAT_RW_CUR_POS'
  | 'IORING_FEAT_CUR_PERSONALITY' | 'IORING_FEAT_FAST_POLL' | 'IORING_FEAT_POLL_32BITS' | 'IORING_FEAT_SQPOLL_NONFIXED'
  | 'IORING_FEAT_EXT_ARG' | 'IORING_FEAT_NATIVE_WORKERS' | 'IORING_FEAT_RSRC_TAGS' | 'IORING_FEAT_CQE_SKIP'
  | 'IORING_FEAT_LINKED_FILE' | 'IORING_FEAT_REG_REG_RING' | 'IORING_FEAT_RECVSEND_BUNDLE' | 'IORING_FEAT_MIN_TIMEOUT'
  | 'IORING_ENTER_GETEVENTS' | 'IORING_ENTER_SQ_WAKEUP' | 'IORING_ENTER_SQ_WAIT'
  | 'IORING_SQ_NEED_WAKEUP' | 'IORING_SQ_CQ_OVERFLOW' | 'IORING_SQ_TASKRUN'
  | 'IOSQE_FIXED_FILE' | 'IOSQE_IO_DRAIN' | 'IOSQE_IO_LINK' | 'IOSQE_IO_HARDLINK' | 'IOSQE_ASYNC' | 'IOSQE_CQE_SKIP_SUCCESS'
  | 'IORING_ASYNC_CANCEL_ALL' | 'IORING_ASYNC_CANCEL_FD' | 'IORING_ASYNC_CANCEL_ANY' | 'IORING_ASYNC_CANCEL_FD_FIXED'
  | 'IORING_TIMEOUT_ABS' | 'IORING_TIMEOUT_BOOTTIME' | 'IORING_TIMEOUT_REALTIME' | 'IORING_TIMEOUT_ETIME_SUCCESS'
  | 'IORING_CQE_F_BUFFER' | 'IORING_CQE_F_MORE'
  | 'IORING_REGISTER_BUFFERS' | 'IORING_UNREGISTER_BUFFERS' | 'IORING_REGISTER_FILES' | 'IORING_UNREGISTER_FILES'
  | 'IORING_REGISTER_EVENTFD' | 'IORING_UNREGISTER_EVENTFD' | 'IORING_REGISTER_EVENTFD_ASYNC' | 'IORING_REGISTER_PROBE'
  | 'IORING_REGISTER_RESTRICTIONS' | 'IORING_REGISTER_ENABLE_RINGS' | 'IORING_REGISTER_RING_FDS' | 'IORING_UNREGISTER_RING_FDS'
  | 'IORING_REGISTER_SYNC_CANCEL'
  | 'IORING_RESTRICTION_REGISTER_OP' | 'IORING_RESTRICTION_SQE_OP' | 'IORING_RESTRICTION_SQE_FLAGS_ALLOWED'
  | 'IORING_RESTRICTION_SQE_FLAGS_REQUIRED' | 'IO_URING_OP_SUPPORTED'
  | 'RESOLVE_NO_XDEV' | 'RESOLVE_NO_MAGICLINKS' | 'RESOLVE_NO_SYMLINKS' | 'RESOLVE_BENEATH' | 'RESOLVE_IN_ROOT' | 'RESOLVE_CACHED'
  | 'MADV_NORMAL' | 'MADV_RANDOM' | 'MADV_SEQUENTIAL' | 'MADV_WILLNEED' | 'MADV_HUGEPAGE' | 'MADV_NOHUGEPAGE' | 'MADV_COLD'
  | 'MADV_PAGEOUT' | 'MADV_POPULATE_READ' | 'MADV_POPULATE_WRITE'
  | 'XATTR_CREATE' | 'XATTR_REPLACE' | 'P_ALL' | 'P_PID' | 'P_PGID' | 'P_PIDFD'
  | 'WEXITED' | 'WSTOPPED' | 'WCONTINUED' | 'WNOHANG' | 'WNOWAIT'
  | 'CLD_EXITED' | 'CLD_KILLED' | 'CLD_DUMPED' | 'CLD_TRAPPED' | 'CLD_STOPPED' | 'CLD_CONTINUED'
  | 'IORING_TIMEOUT_UPDATE' | 'IORING_LINK_TIMEOUT_UPDATE' | 'IORING_POLL_ADD_MULTI' | 'IORING_POLL_UPDATE_EVENTS'
  | 'IORING_POLL_UPDATE_USER_DATA' | 'IORING_MSG_DATA' | 'IORING_MSG_SEND_FD' | 'IORING_MSG_RING_CQE_SKIP'
  | 'IORING_MSG_RING_FLAGS_PASS' | 'IORING_FILE_INDEX_ALLOC' | 'IORING_FIXED_FD_NO_CLOEXEC' | 'FUTEX2_SIZE_U32' | 'FUTEX2_PRIVATE'
  | 'IORING_REGISTER_FILES_UPDATE' | 'IORING_REGISTER_FILES2' | 'IORING_REGISTER_FILES_UPDATE2' | 'IORING_REGISTER_BUFFERS2'
  | 'IORING_REGISTER_BUFFERS_UPDATE' | 'IORING_REGISTER_FILE_ALLOC_RANGE' | 'IORING_RSRC_REGISTER_SPARSE'
  | `IORING_OP_${OpName}`;

/** The opcodes Butter knows, by the name after `IORING_OP_`. */
export type OpName =
  | 'NOP' | 'READV' | 'WRITEV' | 'FSYNC' | 'READ_FIXED' | 'WRITE_FIXED' | 'POLL_ADD' | 'POLL_REMOVE' | 'SYNC_FILE_RANGE'
  | 'SENDMSG' | 'RECVMSG' | 'TIMEOUT' | 'TIMEOUT_REMOVE' | 'ACCEPT' | 'ASYNC_CANCEL' | 'LINK_TIMEOUT' | 'CONNECT'
  | 'FALLOCATE' | 'OPENAT' | 'CLOSE' | 'FILES_UPDATE' | 'STATX' | 'READ' | 'WRITE' | 'FADVISE' | 'MADVISE' | 'SEND'
  | 'RECV' | 'OPENAT2' | 'EPOLL_CTL' | 'SPLICE' | 'PROVIDE_BUFFERS' | 'REMOVE_BUFFERS' | 'TEE' | 'SHUTDOWN' | 'RENAMEAT'
  | 'UNLINKAT' | 'MKDIRAT' | 'SYMLINKAT' | 'LINKAT' | 'MSG_RING' | 'FSETXATTR' | 'SETXATTR' | 'FGETXATTR' | 'GETXATTR'
  | 'SOCKET' | 'URING_CMD' | 'SEND_ZC' | 'SENDMSG_ZC' | 'READ_MULTISHOT' | 'WAITID' | 'FUTEX_WAIT' | 'FUTEX_WAKE'
  | 'FUTEX_WAITV' | 'FIXED_FD_INSTALL' | 'FTRUNCATE' | 'BIND' | 'LISTEN' | 'RECV_ZC' | 'EPOLL_WAIT' | 'READV_FIXED'
  | 'WRITEV_FIXED' | 'PIPE';

/** What a pointer argument of ioUringPrep is: a Uint8Array, or an iovec array's bytes followed by its buffers. */
export type NativePointer = Uint8Array | Uint8Array[] | null;

/** The io_uring family's binding (src/native/io_uring.c); failing calls return -errno. */
export interface IoUringNative {
  /** `params` is a struct io_uring_params the kernel fills in; `handle` takes the fd and the ring's mappings. */
  ioUringSetup(entries: number, params: Uint8Array, handle: NativeHandle): number;
  ioUringEnter(handle: NativeHandle, toSubmit: number, minComplete: number, flags: number): number;
  ioUringRegister(handle: NativeHandle, opcode: number, arg: Uint8Array | Uint8Array[] | null, nrArgs: number): number;
  /** Copies the 64-byte image into the next SQ slot, adding each pointer's address to addr, addr2, addr3; -EBUSY when the SQ is full. */
  ioUringPrep(handle: NativeHandle, sqe: Uint8Array, addr?: NativePointer, addr2?: NativePointer, addr3?: NativePointer): number;
  /** CQEs into `out`, four int32s each (user_data low, high, res, flags): how many. */
  ioUringReap(handle: NativeHandle, out: Uint8Array): number;
  /** One io_uring_enter for everything prepped, then ioUringReap. */
  ioUringSubmit(handle: NativeHandle, out: Uint8Array): number;
  /** The registrations whose struct (`head`, pointer fields 0) points at `data` (fds, or buffers) and `tags`; `nr` is nr_args. */
  ioUringRegisterRsrc(handle: NativeHandle, opcode: number, head: Uint8Array, data: Uint8Array | Uint8Array[] | null, tags: Uint8Array | null, nr: number): number;
  /** Writes each word's address into the struct futex_waitv array (24 bytes each) at uaddr; 0 or -EINVAL. */
  ioUringFutexWaitv(waitv: Uint8Array, words: Uint8Array[]): number;
  /** `out` (two uint32s) receives the offset of the first page boundary in `bytes` and the length of the whole pages from there. */
  ioUringPageRange(bytes: Uint8Array, out: Uint8Array): number;
  /** Writes a struct msghdr naming these buffers into `hdr` (56 bytes, then 16 per buffer for the iovecs). */
  ioUringMsghdr(hdr: Uint8Array, name: Uint8Array | null, buffers: Uint8Array[], control: Uint8Array | null): number;
  /** IORING_REGISTER_PBUF_RING of a ring of `entries` descriptors (a power of two) for buffer group `bgid`. */
  ioUringBufRingRegister(handle: NativeHandle, bgid: number, entries: number): number;
  ioUringBufRingUnregister(handle: NativeHandle, bgid: number): number;
  /** Hands the kernel `buffer` as buffer `bid` of group `bgid`. */
  ioUringBufRingAdd(handle: NativeHandle, bgid: number, bid: number, buffer: Uint8Array): number;
  readonly constants: { readonly [K in ConstantName]: number };
}

declare module '../core/native' {
  interface Families {
    io_uring: IoUringNative;
  }
}

const C = native.io_uring.constants;
export const {
  IORING_SETUP_IOPOLL, IORING_SETUP_SQPOLL, IORING_SETUP_SQ_AFF, IORING_SETUP_CQSIZE, IORING_SETUP_CLAMP,
  IORING_SETUP_ATTACH_WQ, IORING_SETUP_R_DISABLED, IORING_SETUP_SUBMIT_ALL, IORING_SETUP_COOP_TASKRUN,
  IORING_SETUP_TASKRUN_FLAG, IORING_SETUP_SQE128, IORING_SETUP_CQE32, IORING_SETUP_SINGLE_ISSUER,
  IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_NO_MMAP, IORING_SETUP_REGISTERED_FD_ONLY, IORING_SETUP_NO_SQARRAY,
  IORING_SETUP_HYBRID_IOPOLL, IOSQE_FIXED_FILE, IOSQE_IO_LINK, IOSQE_IO_HARDLINK, IOSQE_CQE_SKIP_SUCCESS,
  IORING_REGISTER_BUFFERS, IORING_UNREGISTER_BUFFERS, IORING_REGISTER_FILES, IORING_UNREGISTER_FILES,
  IORING_REGISTER_EVENTFD, IORING_UNREGISTER_EVENTFD, IORING_REGISTER_EVENTFD_ASYNC, IORING_REGISTER_PROBE,
  IORING_REGISTER_RESTRICTIONS, IORING_REGISTER_ENABLE_RINGS, IORING_REGISTER_RING_FDS, IORING_UNREGISTER_RING_FDS,
  IORING_REGISTER_SYNC_CANCEL, IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_ANY, IO_URING_OP_SUPPORTED,
  IORING_REGISTER_FILES_UPDATE, IORING_REGISTER_FILES2, IORING_REGISTER_FILES_UPDATE2, IORING_REGISTER_BUFFERS2,
  IORING_REGISTER_BUFFERS_UPDATE, IORING_REGISTER_FILE_ALLOC_RANGE,
} = C;

/**
 * What a pointer field of an opcode holds: a buffer bounded by `len`, iovecs
 * (`len` of them), `len` fds, a C string, a sockaddr (bounded by the length
 * in `off`, or for accept by the socklen_t in `addr2`), or a struct of at
 * least that many bytes.
 */
type PointerKind = 'buffer' | 'iovecs' | 'fds' | 'path' | 'sockaddr' | number;
type PointerFields = { addr?: PointerKind; addr2?: PointerKind; addr3?: PointerKind };

/**
 * The opcodes ioUringPrep accepts, and which of their fields are addresses.
 * Left out: the ones whose structs hold pointers of their own (SENDMSG,
 * RECVMSG, SENDMSG_ZC, FUTEX_WAITV, URING_CMD), whose memory the kernel keeps
 * past the completion (PROVIDE_BUFFERS, SEND_ZC's notification, RECV_ZC,
 * READ_MULTISHOT), and MADVISE, which acts on the process's memory itself.
 * An xattr's name and path are C strings ('path'), its value a buffer bounded by len.
 */
export const SQE_POINTERS: Readonly<Partial<Record<OpName, PointerFields>>> = {
  NOP: {}, FSYNC: {}, POLL_ADD: {}, POLL_REMOVE: {}, SYNC_FILE_RANGE: {}, ASYNC_CANCEL: {},
  FALLOCATE: {}, CLOSE: {}, FADVISE: {}, SPLICE: {}, TEE: {}, SHUTDOWN: {}, SOCKET: {}, FTRUNCATE: {}, LISTEN: {},
  MSG_RING: {}, REMOVE_BUFFERS: {}, FIXED_FD_INSTALL: {},
  READ: { addr: 'buffer' }, WRITE: { addr: 'buffer' }, SEND: { addr: 'buffer' }, RECV: { addr: 'buffer' },
  READ_FIXED: { addr: 'buffer' }, WRITE_FIXED: { addr: 'buffer' },
  READV: { addr: 'iovecs' }, WRITEV: { addr: 'iovecs' },
  TIMEOUT: { addr: 16 }, LINK_TIMEOUT: { addr: 16 }, TIMEOUT_REMOVE: { addr2: 16 },
  ACCEPT: { addr: 'sockaddr', addr2: 4 }, CONNECT: { addr: 'sockaddr' }, BIND: { addr: 'sockaddr' },
  OPENAT: { addr: 'path' }, OPENAT2: { addr: 'path', addr2: 'buffer' }, STATX: { addr: 'path', addr2: 256 },
  UNLINKAT: { addr: 'path' }, MKDIRAT: { addr: 'path' },
  RENAMEAT: { addr: 'path', addr2: 'path' }, SYMLINKAT: { addr: 'path', addr2: 'path' }, LINKAT: { addr: 'path', addr2: 'path' },
  FILES_UPDATE: { addr: 'fds' }, EPOLL_CTL: { addr: 12 }, FUTEX_WAIT: { addr: 4 }, FUTEX_WAKE: { addr: 4 },
  WAITID: { addr2: 128 }, PIPE: { addr: 8 },
  GETXATTR: { addr: 'path', addr2: 'buffer', addr3: 'path' }, SETXATTR: { addr: 'path', addr2: 'buffer', addr3: 'path' },
  FGETXATTR: { addr: 'path', addr2: 'buffer' }, FSETXATTR: { addr: 'path', addr2: 'buffer' },
  READV_FIXED: { addr: 'iovecs' }, WRITEV_FIXED: { addr: 'iovecs' },
};

const OPCODE_NAMES = new Map<number, OpName>(
  (Object.keys(C) as ConstantName[]).filter((k) => k.startsWith('IORING_OP_')).map((k) => [C[k], k.slice(10) as OpName]),
);

/** `struct io_uring_params` as given to and returned by io_uring_setup. */
export interface IoUringParams {
  /** IORING_SETUP_* flags. */
  flags?: number;
  /** With IORING_SETUP_CQSIZE. */
  cqEntries?: number;
  /** With IORING_SETUP_SQ_AFF: the CPU the SQPOLL thread runs on. */
  sqThreadCpu?: number;
  /** With IORING_SETUP_SQPOLL: milliseconds the thread spins before it sleeps. */
  sqThreadIdle?: number;
  /** With IORING_SETUP_ATTACH_WQ: the ring fd whose io-wq to share. */
  wqFd?: number;
}

/** What the kernel made: the entries it rounded to, the flags in force and its features (IORING_FEAT_*). */
export interface IoUringSetupResult {
  readonly sqEntries: number;
  readonly cqEntries: number;
  readonly flags: number;
  readonly features: number;
}

/** One SQE, named after `struct io_uring_sqe`'s fields (`opFlags` is the union of rw_flags, fsync_flags, ...). */
export interface IoUringSqe {
  opcode: number;
  flags?: number;
  ioprio?: number;
  fd?: number;
  /** off, or addr2 when it is an address (SQE_POINTERS). */
  off?: number | bigint;
  addr?: number | bigint | Uint8Array | string | readonly Uint8Array[];
  addr2?: number | bigint | Uint8Array | string;
  addr3?: number | bigint | Uint8Array;
  len?: number;
  opFlags?: number;
  userData?: number | bigint;
  bufIndex?: number;
  personality?: number;
  /** splice_fd_in, file_index or addr_len. */
  spliceFdIn?: number;
}

export interface IoUringCqe {
  userData: bigint;
  res: number;
  flags: number;
}

/** An opcode's support, from IORING_REGISTER_PROBE. */
export interface IoUringProbe {
  /** The last opcode this kernel knows. */
  lastOp: number;
  /** The opcodes it supports, by number, with their names where Butter knows them. */
  ops: { op: number; name: OpName | undefined }[];
}

const PARAMS_SIZE = 120;
export const SQE_SIZE = 64;

/**
 * A ring made by ioUringSetup: its fd, what the kernel made, and the JS
 * memory its requests and registrations point into.
 */
export class IoUringRing {
  readonly params: IoUringSetupResult;
  #handle: NativeHandle | null;
  #fd: number;
  /** Memory each SQE points into, by user_data, until its completion is reaped. */
  readonly #inFlight = new Map<bigint, unknown[]>();
  #buffers: readonly Uint8Array[] = [];
  readonly #out = new Uint8Array(16 * 256);
  readonly #cqes = new Int32Array(this.#out.buffer);

  /** @internal */
  constructor(handle: NativeHandle, fd: number, params: IoUringSetupResult) {
    this.#handle = handle;
    this.#fd = fd;
    this.params = params;
  }

  /** The ring's fd, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** @internal */
  handle(syscall: string): NativeHandle {
    if (this.#handle === null) throw sysError(9, syscall);
    return this.#handle;
  }

  /** @internal */
  keep(userData: bigint, refs: unknown[]): void {
    const held = this.#inFlight.get(userData);
    if (held) held.push(...refs);
    else this.#inFlight.set(userData, refs);
  }

  /** The buffers registered with REGISTER_BUFFERS, by index (kept alive here while the kernel has them pinned). */
  get buffers(): readonly Uint8Array[] {
    return this.#buffers;
  }

  /** @internal */
  registered(buffers: Uint8Array[]): void {
    this.#buffers = Object.freeze(buffers);
  }

  /** @internal */
  reap(max: number): IoUringCqe[] {
    const handle = this.handle('io_uring_enter');
    const out: IoUringCqe[] = [];
    while (out.length < max) {
      const n = check(native.io_uring.ioUringReap(handle, this.#out), 'io_uring_enter');
      for (let i = 0; i < n && out.length < max; i++) {
        const userData = BigInt(this.#cqes[4 * i + 0]! >>> 0) | (BigInt(this.#cqes[4 * i + 1]! >>> 0) << 32n);
        this.#inFlight.delete(userData);
        out.push({ userData, res: this.#cqes[4 * i + 2]!, flags: this.#cqes[4 * i + 3]! >>> 0 });
      }
      if (n < 256) break;
    }
    return out;
  }

  /**
   * Closes the ring: cancels its requests and waits until each is over, then
   * unmaps and closes it (once; later calls do nothing).
   */
  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    this.#fd = -1;
    const r = native.handleClose(handle);
    this.#inFlight.clear();
    this.#buffers = [];
    if (r < 0) throw sysError(-r, 'close');
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * io_uring_setup(2): a ring of `entries` SQEs, owned by the returned object.
 * With IORING_SETUP_NO_MMAP (6.5) Butter provides the rings' memory.
 */
export function ioUringSetup(entries: number, params?: IoUringParams): IoUringRing {
  validateInteger(entries, 'entries', 1, 32768 * 2);
  const opts = validateOptions<IoUringParams>(params, 'params', ['flags', 'cqEntries', 'sqThreadCpu', 'sqThreadIdle', 'wqFd']);
  const p = new Uint32Array(PARAMS_SIZE / 4);
  p[1] = opts.cqEntries === undefined ? 0 : validateUint32(opts.cqEntries, 'params.cqEntries');
  p[2] = opts.flags === undefined ? 0 : validateUint32(opts.flags, 'params.flags');
  p[3] = opts.sqThreadCpu === undefined ? 0 : validateUint32(opts.sqThreadCpu, 'params.sqThreadCpu');
  p[4] = opts.sqThreadIdle === undefined ? 0 : validateUint32(opts.sqThreadIdle, 'params.sqThreadIdle');
  p[6] = opts.wqFd === undefined ? 0 : validateInt32(opts.wqFd, 'params.wqFd', 0);
  const handle = native.handleNew(() => {});
  const fd = native.io_uring.ioUringSetup(entries, new Uint8Array(p.buffer), handle);
  if (fd < 0) {
    native.handleClose(handle);
    throw sysError(-fd, 'io_uring_setup');
  }
  return new IoUringRing(handle, fd, { sqEntries: p[0]!, cqEntries: p[1]!, flags: p[2]!, features: p[5]! });
}

/** io_uring_enter(2), having first handed the kernel the SQEs ioUringPrep wrote. Returns the SQEs it consumed. */
export function ioUringEnter(ring: IoUringRing, toSubmit: number, minComplete = 0, flags = 0): number {
  validateRing(ring);
  const handle = ring.handle('io_uring_enter');
  return check(native.io_uring.ioUringEnter(handle, validateUint32(toSubmit, 'toSubmit'), validateUint32(minComplete, 'minComplete'), validateUint32(flags, 'flags')), 'io_uring_enter');
}

/**
 * Writes one SQE into the ring's next slot; the kernel sees it at the next
 * ioUringEnter. Returns false when the submission queue is full.
 */
export function ioUringPrep(ring: IoUringRing, sqe: IoUringSqe): boolean {
  validateRing(ring);
  const s = validateOptions<IoUringSqe>(sqe, 'sqe', ['opcode', 'flags', 'ioprio', 'fd', 'off', 'addr', 'addr2', 'addr3', 'len', 'opFlags', 'userData', 'bufIndex', 'personality', 'spliceFdIn']);
  const opcode = validateInteger(s.opcode, 'sqe.opcode', 0, 255);
  const name = OPCODE_NAMES.get(opcode);
  const pointers = name === undefined ? undefined : SQE_POINTERS[name];
  if (pointers === undefined) throw invalidArgValue('sqe.opcode', opcode, `is not an opcode Butter can prepare${name ? ` (IORING_OP_${name})` : ''}`);
  const image = new Uint8Array(SQE_SIZE);
  const words = new Uint32Array(image.buffer);
  const len = s.len === undefined ? 0 : validateUint32(s.len, 'sqe.len');
  image[0] = opcode;
  image[1] = s.flags === undefined ? 0 : validateInteger(s.flags, 'sqe.flags', 0, 255);
  new Uint16Array(image.buffer)[1] = s.ioprio === undefined ? 0 : validateInteger(s.ioprio, 'sqe.ioprio', 0, 65535);
  words[1] = s.fd === undefined ? 0 : validateInt32(s.fd, 'sqe.fd') >>> 0;
  words[6] = len;
  words[7] = s.opFlags === undefined ? 0 : validateUint32(s.opFlags, 'sqe.opFlags');
  const userData = s.userData === undefined ? 0n : validateBigUint(s.userData, 'sqe.userData', UINT64_MAX);
  new BigUint64Array(image.buffer)[4] = userData;
  new Uint16Array(image.buffer)[20] = s.bufIndex === undefined ? 0 : validateInteger(s.bufIndex, 'sqe.bufIndex', 0, 65535);
  new Uint16Array(image.buffer)[21] = s.personality === undefined ? 0 : validateInteger(s.personality, 'sqe.personality', 0, 65535);
  words[11] = s.spliceFdIn === undefined ? 0 : validateInt32(s.spliceFdIn, 'sqe.spliceFdIn') >>> 0;
  const keep: unknown[] = [];
  const big = new BigUint64Array(image.buffer);
  const field = (key: 'addr' | 'addr2' | 'addr3', index: number, kind: PointerKind | undefined, value: unknown): NativePointer => {
    if (kind === undefined) {
      big[index] = value === undefined ? 0n : validateBigUint(value, `sqe.${key}`, UINT64_MAX);
      return null;
    }
    if (value === undefined || value === null) return null; // NULL: the kernel's own EFAULT, or "none" (accept's peer address)
    const pointer = pointerOf(`sqe.${key}`, kind, value, len);
    keep.push(pointer);
    return pointer;
  };
  const a = field('addr', 2, pointers.addr, s.addr);
  // off and addr2 are one field: an address when the opcode says so.
  const b = pointers.addr2 === undefined ? field('addr2', 1, undefined, s.off) : field('addr2', 1, pointers.addr2, s.addr2);
  const c = field('addr3', 6, pointers.addr3, s.addr3);
  if (pointers.addr === 'sockaddr' && a !== null) {
    // The kernel reads (connect, bind) or writes (accept) this many bytes of the sockaddr.
    const length = opcode === C.IORING_OP_ACCEPT ? new Uint32Array((b as Uint8Array).slice(0, 4).buffer)[0]! : Number(big[1]);
    if ((a as Uint8Array).byteLength < length) throw invalidArgValue('sqe.addr', s.addr, `must be at least the sockaddr length (${length}) long`);
  }
  const r = native.io_uring.ioUringPrep(ring.handle('io_uring_enter'), image, a, b, c);
  if (r === -16) return false; // EBUSY: the SQ is full
  check(r, 'io_uring_enter');
  if (keep.length > 0) ring.keep(userData, keep);
  return true;
}

/** Every completion ready now (up to `max`), oldest first. A CQ that overflowed is read on from the kernel's backlog. */
export function ioUringReap(ring: IoUringRing, max = 4096): IoUringCqe[] {
  validateRing(ring);
  return ring.reap(validateInteger(max, 'max', 1, 2 ** 31 - 1));
}

export interface IoUringRestriction {
  /** IORING_RESTRICTION_*. */
  type: number;
  /** The register opcode, SQE opcode or SQE flags it allows, by its type. */
  value: number;
}

/** REGISTER_FILES2 / BUFFERS2 (5.13): a table of `nr` slots (default: as many as given), with a tag per slot (IORING_RSRC_REGISTER_SPARSE in `flags`: all empty). */
export interface IoUringRsrcRegister {
  fds?: readonly number[];
  buffers?: readonly Uint8Array[];
  nr?: number;
  /** IORING_RSRC_REGISTER_SPARSE. */
  flags?: number;
  /** A tag per slot: when what a slot held is let go, the ring gets a CQE with the tag as user_data (0: none). */
  tags?: readonly (number | bigint)[];
}

/** REGISTER_FILES_UPDATE (`fds`), FILES_UPDATE2 (`fds`, `tags`), BUFFERS_UPDATE (`buffers`, `tags`): slots from `offset` on. */
export interface IoUringRsrcUpdate {
  offset: number;
  fds?: readonly number[];
  buffers?: readonly Uint8Array[];
  tags?: readonly (number | bigint)[];
}

/** io_uring_register(2) with no argument: UNREGISTER_BUFFERS, UNREGISTER_FILES, UNREGISTER_EVENTFD, ENABLE_RINGS. */
export function ioUringRegister(ring: IoUringRing, opcode: number): number;
/** REGISTER_BUFFERS: the ring keeps them until UNREGISTER_BUFFERS or close. */
export function ioUringRegister(ring: IoUringRing, opcode: number, buffers: readonly Uint8Array[]): number;
/** REGISTER_FILES (fds, -1 for an empty slot), REGISTER_EVENTFD(_ASYNC) (one fd). */
export function ioUringRegister(ring: IoUringRing, opcode: number, fds: readonly number[] | number): number;
/** REGISTER_RESTRICTIONS (on a ring made with IORING_SETUP_R_DISABLED). */
export function ioUringRegister(ring: IoUringRing, opcode: number, restrictions: readonly IoUringRestriction[]): number;
/** REGISTER_FILES2, REGISTER_BUFFERS2: tables with tags, or sparse ones. */
export function ioUringRegister(ring: IoUringRing, opcode: number, table: IoUringRsrcRegister): number;
/** REGISTER_FILES_UPDATE, FILES_UPDATE2, BUFFERS_UPDATE: returns how many slots were updated. */
export function ioUringRegister(ring: IoUringRing, opcode: number, update: IoUringRsrcUpdate): number;
/** REGISTER_FILE_ALLOC_RANGE (6.0): the slots IORING_FILE_INDEX_ALLOC picks from. */
export function ioUringRegister(ring: IoUringRing, opcode: number, range: { offset: number; length: number }): number;
/**
 * io_uring_register(2). REGISTER_PROBE and REGISTER_RING_FDS have calls of
 * their own (ioUringProbe, ioUringRegisterRingFd) for what they return.
 */
export function ioUringRegister(ring: IoUringRing, opcode: number, arg?: unknown): number {
  validateRing(ring);
  validateUint32(opcode, 'opcode');
  const handle = ring.handle('io_uring_register');
  if (RSRC_OPCODES.includes(opcode)) return registerRsrc(ring, handle, opcode, arg);
  let bytes: Uint8Array | Uint8Array[] | null = null;
  let nr = 0;
  if (opcode === IORING_REGISTER_FILE_ALLOC_RANGE) {
    const range = validateOptions<{ offset: number; length: number }>(arg, 'range', ['offset', 'length']);
    bytes = new Uint8Array(16);
    new Uint32Array(bytes.buffer).set([validateUint32(range.offset, 'range.offset'), validateUint32(range.length, 'range.length')]);
  } else if (opcode === IORING_REGISTER_BUFFERS) {
    if (!isArray(arg) || !arg.every((b) => b instanceof Uint8Array)) throw invalidArgType('buffers', 'an array of Uint8Array', arg);
    bytes = [...(arg as Uint8Array[])];
    nr = bytes.length;
  } else if (opcode === IORING_REGISTER_FILES) {
    if (!isArray(arg)) throw invalidArgType('fds', 'an array of numbers', arg);
    bytes = new Uint8Array(Int32Array.from(arg, (fd, i) => validateInt32(fd, `fds[${i}]`, -1)).buffer);
    nr = arg.length;
  } else if (opcode === IORING_REGISTER_EVENTFD || opcode === IORING_REGISTER_EVENTFD_ASYNC) {
    bytes = new Uint8Array(Int32Array.of(validateInt32(arg, 'fd', 0)).buffer);
    nr = 1;
  } else if (opcode === IORING_REGISTER_RESTRICTIONS) {
    if (!isArray(arg)) throw invalidArgType('restrictions', 'an array of objects', arg);
    const out = new Uint8Array(16 * arg.length);
    const halves = new Uint16Array(out.buffer);
    arg.forEach((x, i) => {
      const r = validateOptions<IoUringRestriction>(x, `restrictions[${i}]`, ['type', 'value']);
      halves[8 * i] = validateInteger(r.type, `restrictions[${i}].type`, 0, 65535);
      out[16 * i + 2] = validateInteger(r.value, `restrictions[${i}].value`, 0, 255);
    });
    bytes = out;
    nr = arg.length;
  } else if (![IORING_UNREGISTER_BUFFERS, IORING_UNREGISTER_FILES, IORING_UNREGISTER_EVENTFD, IORING_REGISTER_ENABLE_RINGS].includes(opcode)) {
    throw invalidArgValue('opcode', opcode, 'is not a register opcode this call takes');
  }
  const r = check(native.io_uring.ioUringRegister(handle, opcode, bytes, nr), 'io_uring_register');
  if (opcode === IORING_REGISTER_BUFFERS) ring.registered(bytes as Uint8Array[]);
  if (opcode === IORING_UNREGISTER_BUFFERS) ring.registered([]);
  return r;
}

const RSRC_OPCODES = [IORING_REGISTER_FILES_UPDATE, IORING_REGISTER_FILES2, IORING_REGISTER_FILES_UPDATE2, IORING_REGISTER_BUFFERS2, IORING_REGISTER_BUFFERS_UPDATE];

/** The registrations whose structs point at fds or buffers, and tags: the pointers are filled in C. */
function registerRsrc(ring: IoUringRing, handle: NativeHandle, opcode: number, arg: unknown): number {
  const files = opcode === IORING_REGISTER_FILES_UPDATE || opcode === IORING_REGISTER_FILES2 || opcode === IORING_REGISTER_FILES_UPDATE2;
  const table = opcode === IORING_REGISTER_FILES2 || opcode === IORING_REGISTER_BUFFERS2;
  const o = validateOptions<IoUringRsrcRegister & IoUringRsrcUpdate>(arg, table ? 'table' : 'update', table ? ['fds', 'buffers', 'nr', 'flags', 'tags'] : ['offset', 'fds', 'buffers', 'tags']);
  const what = files ? 'fds' : 'buffers';
  const list = o[what];
  if (list !== undefined && !isArray(list)) throw invalidArgType(what, files ? 'an array of numbers' : 'an array of Uint8Array', list);
  if (!table && list === undefined) throw invalidArgType(what, files ? 'an array of numbers' : 'an array of Uint8Array', list);
  if (opcode === IORING_REGISTER_FILES_UPDATE && o.tags !== undefined) throw invalidArgValue('update.tags', o.tags, 'needs IORING_REGISTER_FILES_UPDATE2');
  const nr = !table || o.nr === undefined ? (list?.length ?? 0) : validateUint32(o.nr, 'table.nr');
  if (list !== undefined && list.length > nr) throw invalidArgValue('table.nr', nr, `must be at least the ${list.length} ${what} given`);
  // The kernel reads nr of each (fds, iovecs, tags): there must be that many.
  if (!files && list !== undefined && list.length !== nr) throw invalidArgValue('table.nr', nr, `must be the number of buffers given (${list.length})`);
  let data: Uint8Array | Uint8Array[] | null = null;
  if (list !== undefined) {
    if (files) {
      const fds = new Int32Array(nr).fill(-1); // the slots past those given are empty
      (list as readonly unknown[]).forEach((fd, i) => (fds[i] = validateInt32(fd, `fds[${i}]`, -2)));
      data = new Uint8Array(fds.buffer);
    } else {
      data = (list as readonly unknown[]).map((b, i) => {
        if (!(b instanceof Uint8Array)) throw invalidArgType(`buffers[${i}]`, 'an instance of Uint8Array', b);
        return b;
      });
    }
  }
  let tags: Uint8Array | null = null;
  if (o.tags !== undefined) {
    if (!isArray(o.tags) || o.tags.length !== nr) throw invalidArgValue('tags', o.tags, `must hold a tag for each of the ${nr} slots`);
    tags = new Uint8Array(BigUint64Array.from(o.tags, (t, i) => validateBigUint(t, `tags[${i}]`, UINT64_MAX)).buffer);
  }
  const head = new Uint8Array(32);
  const words = new Uint32Array(head.buffer);
  let nrArgs = 32;
  if (table) {
    words[0] = nr;
    words[1] = o.flags === undefined ? 0 : validateUint32(o.flags, 'table.flags');
  } else {
    words[0] = validateUint32(o.offset, 'update.offset');
    words[6] = list!.length; // rsrc_update2's nr
    if (opcode === IORING_REGISTER_FILES_UPDATE) nrArgs = list!.length;
  }
  const r = check(native.io_uring.ioUringRegisterRsrc(handle, opcode, head, data, tags, nrArgs), 'io_uring_register');
  // The kernel pins registered buffers: the ring holds them while it does.
  if (opcode === IORING_REGISTER_BUFFERS2) ring.registered(Array.from({ length: nr }, (_, i) => (data as Uint8Array[] | null)?.[i]) as Uint8Array[]);
  if (opcode === IORING_REGISTER_BUFFERS_UPDATE) {
    const held = [...ring.buffers];
    (data as Uint8Array[]).forEach((b, i) => (held[words[0]! + i] = b));
    ring.registered(held);
  }
  return r;
}

/** IORING_REGISTER_PROBE: the opcodes this kernel supports. */
export function ioUringProbe(ring: IoUringRing): IoUringProbe {
  validateRing(ring);
  const ops = 256;
  const probe = new Uint8Array(16 + 8 * ops);
  check(native.io_uring.ioUringRegister(ring.handle('io_uring_register'), IORING_REGISTER_PROBE, probe, ops), 'io_uring_register');
  const out: IoUringProbe = { lastOp: probe[0]!, ops: [] };
  const count = probe[1]!;
  for (let i = 0; i < count; i++) {
    const op = probe[16 + 8 * i]!;
    const flags = new Uint16Array(probe.buffer, 16 + 8 * i + 2, 1)[0]!;
    if (flags & IO_URING_OP_SUPPORTED) out.ops.push({ op, name: OPCODE_NAMES.get(op) });
  }
  return out;
}

/**
 * IORING_REGISTER_RING_FDS of the ring's own fd: enters (and registers, where
 * the kernel allows) then go through the registered index, which saves the
 * kernel an fd lookup per call. Registered ring fds belong to the calling
 * thread. Returns the index.
 */
export function ioUringRegisterRingFd(ring: IoUringRing): number {
  validateRing(ring);
  const update = new Uint8Array(16);
  new Uint32Array(update.buffer)[0] = 0xffffffff; // any free slot
  new BigInt64Array(update.buffer)[1] = -1n; // the ring itself (io_uring.c fills in its fd)
  check(native.io_uring.ioUringRegister(ring.handle('io_uring_register'), IORING_REGISTER_RING_FDS, update, 1), 'io_uring_register');
  return new Uint32Array(update.buffer)[0]!;
}

function validateRing(ring: unknown): asserts ring is IoUringRing {
  if (!(ring instanceof IoUringRing)) throw invalidArgType('ring', 'an instance of IoUringRing', ring);
}

function pointerOf(name: string, kind: PointerKind, value: unknown, len: number): Uint8Array | Uint8Array[] {
  if (kind === 'path') return nulTerminated(toPath(value, name).bytes);
  if (kind === 'iovecs') {
    if (!isArray(value) || !value.every((b) => b instanceof Uint8Array)) throw invalidArgType(name, 'an array of Uint8Array', value);
    if (value.length !== len) throw invalidArgValue(name, value, `must hold sqe.len (${len}) buffers`);
    return [new Uint8Array(16 * value.length), ...(value as Uint8Array[])];
  }
  if (!(value instanceof Uint8Array)) throw invalidArgType(name, 'an instance of Uint8Array', value);
  if (kind === 'sockaddr') return value;
  const need = kind === 'buffer' ? len : kind === 'fds' ? 4 * len : kind;
  if (value.byteLength < need) throw invalidArgValue(name, value, `must be at least ${need} bytes long`);
  return value;
}

/** Path bytes with the NUL the kernel stops at. */
export function nulTerminated(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + 1);
  out.set(bytes);
  return out;
}
