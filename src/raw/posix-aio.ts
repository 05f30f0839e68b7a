/**
 * POSIX AIO, 1:1, as glibc implements it: aio_read(3), aio_write(3),
 * aio_fsync(3), aio_error(3), aio_return(3), aio_suspend(3), aio_cancel(3),
 * lio_listio(3), on `Aiocb`s whose memory and buffer live as long as glibc
 * may use them.
 *
 * glibc runs each request on a thread of its own pool with a blocking pread
 * or pwrite (up to 20 threads, one per fd at a time: requests on one fd run
 * one after another, in order). The kernel never sees an asynchronous
 * request. These calls use no notification (SIGEV_NONE): poll with
 * `aioError()`, or block with `aioSuspend()`; `PosixAio` gets completions
 * on the loop.
 */
import { check, invalidArgType, sysError, EINPROGRESS, EINVAL } from '../core/errors';
import { native } from '../core/native';
import { isArray, validateBigUint, validateFd, validateInteger, validateOptions, UINT64_MAX } from '../core/validate';
import { wouldBlock, type NativeAioNotifier, type NativeAiocb } from './aio';

export const { LIO_READ, LIO_WRITE, LIO_NOP, LIO_WAIT, LIO_NOWAIT, AIO_CANCELED, AIO_NOTCANCELED, AIO_ALLDONE, O_SYNC, O_DSYNC } = native.aio.constants;

export interface AiocbOptions {
  fd: number;
  /** What lio_listio does with it: `LIO_READ`, `LIO_WRITE` or `LIO_NOP` (the default). */
  opcode?: number;
  /** The memory a read fills or a write sends, whole; none for an fsync. */
  buffer?: Uint8Array;
  /** The file offset. Default 0. */
  offset?: number;
  /** `aio_reqprio`: lowers the request's priority by this much (0 to AIO_PRIO_DELTA_MAX). Default 0. */
  reqprio?: number;
}

const natives = new WeakMap<Aiocb, NativeAiocb>();
/** The call that last submitted each Aiocb: the `syscall` of its request's error. */
const lastCalls = new WeakMap<Aiocb, string>();
let notify: { notifier: NativeAioNotifier; id: number } | null = null;

/**
 * A `struct aiocb`. Its fields are fixed at construction; it may be
 * submitted again once its request is over. Keep its fd open until then: the
 * request runs on whatever file that number names when glibc's thread gets
 * to it. Collected while its request runs, it waits for it first.
 */
export class Aiocb {
  readonly fd: number;
  readonly opcode: number;
  readonly buffer: Uint8Array | null;
  readonly offset: number;
  readonly reqprio: number;

  constructor(options: AiocbOptions) {
    const opts = validateOptions<AiocbOptions>(options, 'options', ['fd', 'opcode', 'buffer', 'offset', 'reqprio']);
    this.fd = validateFd(opts.fd, 'options.fd');
    this.opcode = opts.opcode === undefined ? LIO_NOP : validateInteger(opts.opcode, 'options.opcode', -(2 ** 31), 2 ** 31 - 1);
    if (opts.buffer !== undefined && !(opts.buffer instanceof Uint8Array)) throw invalidArgType('options.buffer', 'an instance of Buffer or Uint8Array', opts.buffer);
    this.buffer = opts.buffer ?? null;
    this.offset = opts.offset === undefined ? 0 : validateInteger(opts.offset, 'options.offset', 0, Number.MAX_SAFE_INTEGER);
    this.reqprio = opts.reqprio === undefined ? 0 : validateInteger(opts.reqprio, 'options.reqprio', -(2 ** 31), 2 ** 31 - 1);
    const r = notify === null
      ? native.aio.aiocbNew(this.fd, this.opcode, this.buffer, this.offset, this.reqprio)
      : native.aio.aiocbNew(this.fd, this.opcode, this.buffer, this.offset, this.reqprio, notify.notifier, notify.id);
    if (typeof r === 'number') throw sysError(-r, 'malloc');
    natives.set(this, r);
  }
}

/** An Aiocb whose completion `notifier` reports as `id` (PosixAio's). */
export function notifyingAiocb(options: AiocbOptions, notifier: NativeAioNotifier, id: number): Aiocb {
  notify = { notifier, id };
  try {
    return new Aiocb(options);
  } finally {
    notify = null;
  }
}

export function nativeAiocb(aiocb: unknown, name = 'aiocb'): NativeAiocb {
  const n = typeof aiocb === 'object' && aiocb !== null ? natives.get(aiocb as Aiocb) : undefined;
  if (n === undefined) throw invalidArgType(name, 'an instance of Aiocb', aiocb);
  return n;
}

function submitted(aiocb: Aiocb, r: number | [number], call: string): void {
  if (typeof r !== 'number') throw wouldBlock('aiocb.fd', aiocb.fd);
  check(r, call);
  lastCalls.set(aiocb, call);
}

function requireBuffer(aiocb: Aiocb, call: string): NativeAiocb {
  const n = nativeAiocb(aiocb);
  if (aiocb.buffer === null) throw invalidArgType('aiocb.buffer', `an instance of Buffer or Uint8Array for ${call}`, null);
  return n;
}

/** aio_read(3): queues a read of `aiocb.buffer.length` bytes at `aiocb.offset`. EBUSY while its previous request runs. */
export function aioRead(aiocb: Aiocb): void {
  submitted(aiocb, native.aio.aioRead(requireBuffer(aiocb, 'aio_read')), 'aio_read');
}

/** aio_write(3): queues a write of `aiocb.buffer` at `aiocb.offset` (at the end with O_APPEND). */
export function aioWrite(aiocb: Aiocb): void {
  submitted(aiocb, native.aio.aioWrite(requireBuffer(aiocb, 'aio_write')), 'aio_write');
}

/** aio_fsync(3): `op` `O_SYNC` (fsync) or `O_DSYNC` (fdatasync) of `aiocb.fd`, once the requests queued before it are done. */
export function aioFsync(op: number, aiocb: Aiocb): void {
  const n = nativeAiocb(aiocb);
  submitted(aiocb, native.aio.aioFsync(n, validateInteger(op, 'op', -(2 ** 31), 2 ** 31 - 1)), 'aio_fsync');
}

/** aio_error(3): 0 when done, `EINPROGRESS`, `ECANCELED`, or the request's errno (positive). EINVAL for an Aiocb never submitted. */
export function aioError(aiocb: Aiocb): number {
  const r = native.aio.aioError(nativeAiocb(aiocb));
  if (r < 0) throw sysError(-r, 'aio_error');
  return r;
}

/**
 * aio_return(3): the result of a finished request (bytes, or 0 for an
 * fsync); throws its error under the call that submitted it (ECANCELED when
 * cancelled). EINVAL while it is in progress, or never submitted.
 */
export function aioReturn(aiocb: Aiocb): number {
  const n = nativeAiocb(aiocb);
  const state = native.aio.aioError(n);
  if (state < 0 || state === EINPROGRESS) throw sysError(EINVAL, 'aio_return');
  const r = native.aio.aioReturn(n);
  if (r < 0) throw sysError(-r, lastCalls.get(aiocb) ?? 'aio_return');
  return r;
}

function aiocbList(aiocbs: unknown): NativeAiocb[] {
  if (!isArray(aiocbs)) throw invalidArgType('aiocbs', 'an instance of Array', aiocbs);
  return aiocbs.map((a, i) => nativeAiocb(a, `aiocbs[${i}]`));
}

/**
 * aio_suspend(3): blocks the thread until one of `aiocbs` is done, or
 * `timeout` nanoseconds pass (EAGAIN); none: no limit. Aiocbs never submitted
 * are ignored, as null entries are.
 */
export function aioSuspend(aiocbs: readonly Aiocb[], timeout?: bigint | number | null): void {
  const list = aiocbList(aiocbs);
  const ns = timeout === undefined || timeout === null ? UINT64_MAX : validateBigUint(timeout, 'timeout', UINT64_MAX - 1n);
  check(native.aio.aioSuspend(list, ns), 'aio_suspend');
}

/**
 * aio_cancel(3): cancels `aiocb`'s request, or every request on `fd`
 * (`aiocb` omitted), that no thread runs yet. Returns `AIO_CANCELED`,
 * `AIO_NOTCANCELED` (some still run) or `AIO_ALLDONE`. EBADF for a closed fd;
 * EINVAL when `aiocb` belongs to another fd.
 */
export function aioCancel(fd: number, aiocb?: Aiocb | null): number {
  validateFd(fd);
  const n = aiocb === undefined || aiocb === null ? null : nativeAiocb(aiocb);
  if (aiocb && aiocb.fd !== fd) throw sysError(EINVAL, 'aio_cancel');
  return check(native.aio.aioCancel(fd, n), 'aio_cancel');
}

/**
 * lio_listio(3): submits each Aiocb's `opcode` (`LIO_READ`, `LIO_WRITE`,
 * `LIO_NOP`). `LIO_WAIT` blocks the thread until all are done (EIO when any
 * failed: see each one's `aioError()`); `LIO_NOWAIT` returns at once.
 */
export function lioListio(mode: number, aiocbs: readonly Aiocb[]): void {
  validateInteger(mode, 'mode', -(2 ** 31), 2 ** 31 - 1);
  const list = aiocbList(aiocbs);
  aiocbs.forEach((a, i) => {
    if ((a.opcode === LIO_READ || a.opcode === LIO_WRITE) && a.buffer === null) throw invalidArgType(`aiocbs[${i}].buffer`, 'an instance of Buffer or Uint8Array', null);
  });
  const r = native.aio.lioListio(mode, list);
  if (typeof r !== 'number') throw wouldBlock(`aiocbs[${r[0]}].fd`, (aiocbs[r[0]] as Aiocb).fd);
  check(r, 'lio_listio');
  for (const a of aiocbs) lastCalls.set(a, a.opcode === LIO_WRITE ? 'aio_write' : 'aio_read');
}
