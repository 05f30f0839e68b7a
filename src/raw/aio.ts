/**
 * Linux AIO, 1:1: io_setup(2), io_submit(2), io_getevents(2), io_cancel(2),
 * io_destroy(2), on a context that keeps every buffer an operation uses alive
 * until its completion is reaped (src/native/aio.c).
 *
 * Only O_DIRECT reads and writes (and polls, and fsyncs) run asynchronously:
 * the kernel performs a buffered read or write inside io_submit, which returns
 * once it is done. io_submit refuses (ERR_INVALID_ARG_VALUE) a read or write
 * of a blocking fd that is neither a regular file nor a block device: the
 * kernel would sleep in it, holding the thread, until a peer acted.
 */
import { check, illegalConstructor, invalidArgType, invalidArgValue, outOfRange, sysError, EINPROGRESS } from '../core/errors';
import { native } from '../core/native';
import { isArray, validateBigUint, validateFd, validateInt32, validateInteger, validateUint32, UINT64_MAX } from '../core/validate';

declare const contextBrand: unique symbol;
/** A context as the native core holds it (an external; io_destroy'd when collected). */
export type NativeAioContext = { readonly [contextBrand]: true };
declare const aiocbBrand: unique symbol;
/** A POSIX `struct aiocb` in native memory, holding its buffer (src/native/aio.c). */
export type NativeAiocb = { readonly [aiocbBrand]: true };
declare const notifierBrand: unique symbol;
/** Where glibc's completion threads report to (src/native/aio.c). */
export type NativeAioNotifier = { readonly [notifierBrand]: true };

/** The aio family's binding (src/native/aio.c); failing calls return -errno. */
export interface AioNative {
  ioSetup(nrEvents: number): NativeAioContext | number;
  ioDestroy(ctx: NativeAioContext): number;
  /** `desc` holds AIO_DESC_STRIDE numbers per iocb; `[index]`: iocb `index` would block io_submit. */
  ioSubmit(ctx: NativeAioContext, desc: Float64Array, buffers: unknown[], n: number): number | [number];
  /** Fills AIO_EVENT_STRIDE numbers of `out` per event (data, res, res2); a timeout of 2^64 - 1 is none. */
  ioGetevents(ctx: NativeAioContext, minNr: number, nr: number, timeoutNs: bigint, out: Float64Array): number;
  ioCancel(ctx: NativeAioContext, data: number): number;
  alignedBuffer(size: number, alignment: number): [ArrayBuffer, number];
  /** POSIX AIO (glibc): results are -errno, `[0]` for an fd whose read or write could block glibc's thread for good. */
  aiocbNew(fd: number, opcode: number, buffer: Uint8Array | null, offset: number, reqprio: number, notifier?: NativeAioNotifier, id?: number): NativeAiocb | number;
  aioRead(aiocb: NativeAiocb): number | [number];
  aioWrite(aiocb: NativeAiocb): number | [number];
  aioFsync(aiocb: NativeAiocb, op: number): number;
  /** 0, EINPROGRESS, ECANCELED or the request's errno (positive); -EINVAL when never submitted. */
  aioError(aiocb: NativeAiocb): number;
  aioReturn(aiocb: NativeAiocb): number;
  aioCancel(fd: number, aiocb: NativeAiocb | null): number;
  aioSuspend(aiocbs: NativeAiocb[], timeoutNs: bigint): number;
  lioListio(mode: number, aiocbs: NativeAiocb[]): number | [number];
  /** lio_listio(LIO_NOWAIT) with one notification for the batch, reporting `ids`. */
  lioListioNotify(notifier: NativeAioNotifier, aiocbs: NativeAiocb[], ids: Float64Array): number | [number];
  /** A notifier adds 1 to (a duplicate of) `eventfd` per completion and queues the request's id. */
  aioNotifierNew(eventfd: number): NativeAioNotifier | [number, string];
  aioNotifierTake(notifier: NativeAioNotifier, out: Float64Array): number;
  /** Closes the notifier's eventfd duplicate (notifications still to come are dropped). */
  aioNotifierClose(notifier: NativeAioNotifier): number;
  readonly constants: Readonly<Record<
    | 'IOCB_CMD_PREAD' | 'IOCB_CMD_PWRITE' | 'IOCB_CMD_FSYNC' | 'IOCB_CMD_FDSYNC' | 'IOCB_CMD_POLL' | 'IOCB_CMD_NOOP'
    | 'IOCB_CMD_PREADV' | 'IOCB_CMD_PWRITEV' | 'IOCB_FLAG_RESFD' | 'IOCB_FLAG_IOPRIO'
    | 'RWF_HIPRI' | 'RWF_DSYNC' | 'RWF_SYNC' | 'RWF_NOWAIT' | 'RWF_APPEND' | 'RWF_NOAPPEND' | 'RWF_ATOMIC' | 'RWF_DONTCACHE'
    | 'IOPRIO_CLASS_NONE' | 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE' | 'IOPRIO_CLASS_SHIFT'
    | 'LIO_READ' | 'LIO_WRITE' | 'LIO_NOP' | 'LIO_WAIT' | 'LIO_NOWAIT' | 'AIO_CANCELED' | 'AIO_NOTCANCELED' | 'AIO_ALLDONE' | 'O_SYNC' | 'O_DSYNC', number>>;
}

declare module '../core/native' {
  interface Families {
    aio: AioNative;
  }
}

export const {
  IOCB_CMD_PREAD, IOCB_CMD_PWRITE, IOCB_CMD_FSYNC, IOCB_CMD_FDSYNC, IOCB_CMD_POLL, IOCB_CMD_NOOP,
  IOCB_CMD_PREADV, IOCB_CMD_PWRITEV, IOCB_FLAG_RESFD, IOCB_FLAG_IOPRIO,
  RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_NOWAIT, RWF_APPEND, RWF_NOAPPEND, RWF_ATOMIC, RWF_DONTCACHE,
  IOPRIO_CLASS_NONE, IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE, IOPRIO_CLASS_SHIFT,
} = native.aio.constants;

/** The layout of src/native/aio.c's iocb description and event arrays. */
export const AIO_DESC_STRIDE = 9;
export const AIO_EVENT_STRIDE = 3;

const natives = new WeakMap<AioContext, NativeAioContext>();
const sizes = new WeakMap<AioContext, number>();
let making = false;

/** A Linux AIO context (`aio_context_t`) from `ioSetup()`. */
export class AioContext {
  /** @internal */
  constructor() {
    if (!making) throw illegalConstructor();
  }

  /** How many operations it holds in flight or unreaped (ioSetup's `nrEvents`). */
  get nrEvents(): number {
    return sizes.get(this) ?? 0;
  }
}

/** The native context of a JS one, for this family's objects. */
export function nativeContext(ctx: unknown, name = 'ctx'): NativeAioContext {
  const n = typeof ctx === 'object' && ctx !== null ? natives.get(ctx as AioContext) : undefined;
  if (n === undefined) throw invalidArgType(name, 'an instance of AioContext', ctx);
  return n;
}

/** One `struct iocb`. */
export interface Iocb {
  /** `IOCB_CMD_*`. */
  opcode: number;
  fd: number;
  /** `aio_data`: any safe integer >= 0, handed back in the operation's `IoEvent`. Default 0. */
  data?: number;
  /** The memory of `IOCB_CMD_PREAD`/`PWRITE`, whole. */
  buffer?: Uint8Array;
  /** The vector of `IOCB_CMD_PREADV`/`PWRITEV`. */
  buffers?: readonly Uint8Array[];
  /** The file offset (ignored by pipes and sockets). Default 0. */
  offset?: number;
  /** `RWF_*` for reads and writes. Default 0. */
  rwFlags?: number;
  /** `IOCB_FLAG_RESFD` (completions add 1 to `resfd`, an eventfd), `IOCB_FLAG_IOPRIO` (use `reqprio`). Default 0. */
  flags?: number;
  /** An I/O priority (`class << IOPRIO_CLASS_SHIFT | level`), with `IOCB_FLAG_IOPRIO`. Default 0. */
  reqprio?: number;
  /** The eventfd `IOCB_FLAG_RESFD` signals. Default 0. */
  resfd?: number;
  /** `IOCB_CMD_POLL`'s poll(2) events (`POLLIN`, ...). */
  events?: number;
}

/** One `struct io_event`. */
export interface IoEvent {
  /** The iocb's `data`. */
  data: number;
  /** Bytes read or written, the poll's revents, 0 for an fsync; or -errno. */
  res: number;
  res2: number;
}

/** io_setup(2): a context for `nrEvents` operations in flight. Destroy it with `ioDestroy()` (a forgotten one is destroyed when collected). */
export function ioSetup(nrEvents: number): AioContext {
  const r = native.aio.ioSetup(validateUint32(nrEvents, 'nrEvents'));
  if (typeof r === 'number') throw sysError(-r, 'io_setup');
  making = true;
  let ctx: AioContext;
  try {
    ctx = new AioContext();
  } finally {
    making = false;
  }
  natives.set(ctx, r);
  sizes.set(ctx, nrEvents);
  return ctx;
}

/**
 * io_destroy(2): cancels what can be cancelled (polls), waits for every other
 * operation in flight to finish, and frees the context; their events are lost.
 */
export function ioDestroy(ctx: AioContext): void {
  check(native.aio.ioDestroy(nativeContext(ctx)), 'io_destroy');
}

let desc = new Float64Array(64 * AIO_DESC_STRIDE);
const buffers: unknown[] = [];

function optionalInteger(value: unknown, name: string, min: number, max: number): number {
  return value === undefined ? 0 : validateInteger(value, name, min, max);
}

function iocbBuffers(iocb: Iocb, name: string): Uint8Array | readonly Uint8Array[] | null {
  const { opcode } = iocb;
  if (opcode === IOCB_CMD_PREAD || opcode === IOCB_CMD_PWRITE) {
    if (!(iocb.buffer instanceof Uint8Array)) throw invalidArgType(`${name}.buffer`, 'an instance of Buffer or Uint8Array', iocb.buffer);
    return iocb.buffer;
  }
  if (opcode === IOCB_CMD_PREADV || opcode === IOCB_CMD_PWRITEV) {
    const list = iocb.buffers;
    if (!isArray(list)) throw invalidArgType(`${name}.buffers`, 'an instance of Array', list);
    list.forEach((b, j) => {
      if (!(b instanceof Uint8Array)) throw invalidArgType(`${name}.buffers[${j}]`, 'an instance of Buffer or Uint8Array', b);
    });
    return [...list];
  }
  return null;
}

/** Writes iocb `i` into the description array src/native/aio.c reads. */
export function describeIocb(out: Float64Array, i: number, data: number, opcode: number, fd: number, offset: number, rwFlags: number, flags: number, reqprio: number, resfd: number, events: number): void {
  const d = i * AIO_DESC_STRIDE;
  out[d] = data;
  out[d + 1] = opcode;
  out[d + 2] = fd;
  out[d + 3] = offset;
  out[d + 4] = rwFlags;
  out[d + 5] = flags;
  out[d + 6] = reqprio;
  out[d + 7] = resfd;
  out[d + 8] = events;
}

/** The error for an iocb io_submit would block in (src/native/aio.c, may_sleep). */
export function wouldBlock(name: string, fd: number): TypeError {
  return invalidArgValue(name, fd, 'is a blocking fd that is neither a regular file nor a block device: io_submit would read or write it synchronously, holding the thread until it is ready (open it O_NONBLOCK, pass RWF_NOWAIT, or wait with IOCB_CMD_POLL)');
}

/**
 * io_submit(2): queues the iocbs in order; returns how many the kernel took
 * (fewer than given when it stopped at one it refused, the context is full,
 * or past 1024, the most one call submits), and throws only when it took none. A context holds `nrEvents`
 * operations in flight or unreaped: past that, EAGAIN.
 */
export function ioSubmit(ctx: AioContext, iocbs: readonly Iocb[]): number {
  const c = nativeContext(ctx);
  if (!isArray(iocbs)) throw invalidArgType('iocbs', 'an instance of Array', iocbs);
  const n = iocbs.length;
  if (desc.length < n * AIO_DESC_STRIDE) desc = new Float64Array(n * AIO_DESC_STRIDE);
  buffers.length = n;
  try {
    for (let i = 0; i < n; i++) {
      const iocb = iocbs[i] as Iocb;
      const name = `iocbs[${i}]`;
      if (typeof iocb !== 'object' || iocb === null) throw invalidArgType(name, 'of type object', iocb);
      const opcode = validateInteger(iocb.opcode, `${name}.opcode`, 0, 0xffff);
      buffers[i] = iocbBuffers(iocb, name);
      describeIocb(desc, i, optionalInteger(iocb.data, `${name}.data`, 0, Number.MAX_SAFE_INTEGER), opcode,
        validateFd(iocb.fd, `${name}.fd`), optionalInteger(iocb.offset, `${name}.offset`, 0, Number.MAX_SAFE_INTEGER),
        optionalInteger(iocb.rwFlags, `${name}.rwFlags`, 0, 0xffffffff), optionalInteger(iocb.flags, `${name}.flags`, 0, 0xffffffff),
        optionalInteger(iocb.reqprio, `${name}.reqprio`, 0, 0xffff), iocb.resfd === undefined ? 0 : validateFd(iocb.resfd, `${name}.resfd`),
        optionalInteger(iocb.events, `${name}.events`, 0, 0xffff));
    }
    if (n === 0) return 0;
    const r = native.aio.ioSubmit(c, desc, buffers, n);
    if (typeof r !== 'number') throw wouldBlock(`iocbs[${r[0]}].fd`, (iocbs[r[0]] as Iocb).fd);
    return check(r, 'io_submit');
  } finally {
    buffers.length = 0;
  }
}

/**
 * io_getevents(2): waits until `minNr` operations have completed, or `timeout`
 * nanoseconds have passed (none: no limit), and returns up to `nr` events.
 * With `minNr` 0 it never waits; otherwise it blocks the thread while it
 * waits, so the high-level `LinuxAio` waits on an eventfd instead. `minNr`
 * may not exceed the context's `nrEvents`, which could never all complete.
 */
export function ioGetevents(ctx: AioContext, minNr: number, nr: number, timeout?: bigint | number | null): IoEvent[] {
  const c = nativeContext(ctx);
  validateInt32(minNr, 'minNr');
  validateInt32(nr, 'nr');
  if (minNr > ctx.nrEvents) throw outOfRange('minNr', `<= ${ctx.nrEvents} (the context's nrEvents)`, minNr);
  const timeoutNs = timeout === undefined || timeout === null ? UINT64_MAX : validateBigUint(timeout, 'timeout', UINT64_MAX - 1n);
  // No more than nrEvents can be reaped at once; minNr > nr is left for the kernel to refuse.
  const want = minNr <= nr ? Math.min(nr, ctx.nrEvents) : nr;
  const out = new Float64Array(Math.max(want, 0) * AIO_EVENT_STRIDE);
  const r = check(native.aio.ioGetevents(c, minNr, want, timeoutNs, out), 'io_getevents');
  const events: IoEvent[] = [];
  for (let i = 0; i < r; i++) {
    const e = i * AIO_EVENT_STRIDE;
    events.push({ data: out[e] as number, res: out[e + 1] as number, res2: out[e + 2] as number });
  }
  return events;
}

/**
 * io_cancel(2) of the operation in flight submitted with `data`. Returns once
 * the kernel is cancelling it (its event then comes through `ioGetevents()`:
 * a cancelled poll's res is 0, no events); EINVAL when no such operation can
 * be cancelled: Linux cancels only polls, and reads and writes run to completion.
 */
export function ioCancel(ctx: AioContext, data: number): void {
  const c = nativeContext(ctx);
  const r = native.aio.ioCancel(c, validateInteger(data, 'data', 0, Number.MAX_SAFE_INTEGER));
  if (r !== -EINPROGRESS) check(r, 'io_cancel');
}

/**
 * A zero-filled Buffer of `size` bytes whose memory starts on an `alignment`
 * boundary (a power of two, default 4096): what O_DIRECT reads and writes
 * need (a file system refuses misaligned ones with EINVAL).
 */
export function alignedBuffer(size: number, alignment = 4096): Buffer {
  validateInteger(size, 'size', 0, 2 ** 31 - 1);
  validateInteger(alignment, 'alignment', 1, 2 ** 21);
  if ((alignment & (alignment - 1)) !== 0) throw invalidArgValue('alignment', alignment, 'must be a power of two');
  const [ab, offset] = native.aio.alignedBuffer(size, alignment);
  return Buffer.from(ab, offset, size);
}
