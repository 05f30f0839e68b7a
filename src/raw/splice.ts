/**
 * Zero-copy I/O, 1:1: splice(2), tee(2), vmsplice(2), sendfile(2),
 * copy_file_range(2), pipe2(2) and the pipe-size fcntl(2)s. The data moves
 * inside the kernel, never through JS.
 *
 * These are the synchronous forms, for non-blocking fds (Butter's pipes are):
 * they return what moved, or throw EAGAIN. On a blocking fd or a regular file
 * they block the thread; use the Promise forms (`promises.splice(...)`, in
 * ./splice-promises.ts), which run on Butter's work threads.
 *
 * Offsets are bigint, or null for "use and move the file position". When one
 * is given the kernel advances the copy it was passed and the file position
 * stays where it was; the calls return that advanced offset.
 */
import { check, invalidArgType } from '../core/errors';
import { native, type NativeHandle } from '../core/native';
import type { NativeWork, WorkDone } from '../core/work';

/** What a moving call returns natively: bytes moved and the offsets as the kernel left them. */
type Moved = [bytes: number, offIn: bigint | null, offOut: bigint | null];

/** The family's binding (src/native/splice.c). */
export interface SpliceNative {
  /** The moving calls: [bytes, offIn | null, offOut | null] (sendfile: its offset is offIn) or -errno. */
  splice(fdIn: number, offIn: bigint | null, fdOut: number, offOut: bigint | null, len: number, flags: number): Moved | number;
  spliceStart(fdIn: number, offIn: bigint | null, fdOut: number, offOut: bigint | null, len: number, flags: number, done: WorkDone): NativeWork | number;
  tee(fdIn: number, fdOut: number, len: number, flags: number): number;
  teeStart(fdIn: number, fdOut: number, len: number, flags: number, done: WorkDone): NativeWork | number;
  sendfile(outFd: number, inFd: number, offset: bigint | null, count: number): Moved | number;
  sendfileStart(outFd: number, inFd: number, offset: bigint | null, count: number, done: WorkDone): NativeWork | number;
  copyFileRange(fdIn: number, offIn: bigint | null, fdOut: number, offOut: bigint | null, len: number, flags: number): Moved | number;
  copyFileRangeStart(fdIn: number, offIn: bigint | null, fdOut: number, offOut: bigint | null, len: number, flags: number, done: WorkDone): NativeWork | number;
  vmsplice(fd: number, buffers: Uint8Array[], flags: number): number;
  vmspliceStart(fd: number, buffers: Uint8Array[], flags: number, done: WorkDone): NativeWork | number;
  /** With handles, each end goes to its handle in the call (Pipe). */
  pipe2(flags: number, readHandle?: NativeHandle, writeHandle?: NativeHandle): [number, number] | number;
  /** sendFile, proxy, pipeline: moves `length` bytes (-1: to the input's end) with sendfile (pipeR -1) or splice through the pipe; done gets the bytes. */
  relayStart(fdIn: number, offIn: bigint | null, fdOut: number, length: number, pipeR: number, pipeW: number, chunk: number, flags: number, done: WorkDone): NativeWork | number;
  /** teeTo: every byte of pipe fdIn to outA and outB through the empty pipe (pipeR, pipeW); done gets the bytes each got. */
  teeRelayStart(fdIn: number, outA: number, outB: number, pipeR: number, pipeW: number, chunk: number, done: WorkDone): NativeWork | number;
  /** copyFile on two open files: FICLONE, else copy_file_range over the data segments; done gets the size. */
  copyFileStart(fdIn: number, fdOut: number, mode: number, done: WorkDone): NativeWork | number;
  /** F_SETPIPE_SZ for size >= 0, F_GETPIPE_SZ for -1. */
  pipeSize(fd: number, size: number): number;
  readonly constants: Readonly<Record<
    | 'SPLICE_F_MOVE' | 'SPLICE_F_NONBLOCK' | 'SPLICE_F_MORE' | 'SPLICE_F_GIFT' | 'F_SETPIPE_SZ' | 'F_GETPIPE_SZ'
    | 'O_CLOEXEC' | 'O_NONBLOCK' | 'O_DIRECT' | 'O_NOTIFICATION_PIPE', number>>;
}

declare module '../core/native' {
  interface Families {
    splice: SpliceNative;
  }
}
import { validateBigUint, validateFd, validateInt32, validateInteger, validateUint32, INT64_MAX } from '../core/validate';

/**
 * The family's constants. `SPLICE_F_*` (Linux 2.6.17): `MOVE` asks to move
 * pages instead of copying them (a hint, and a no-op since 2.6.21),
 * `NONBLOCK` makes the pipe side of this call non-blocking, `MORE` says more
 * data follows (a socket output corks), `GIFT` (vmsplice) gives the pages to
 * the kernel. `F_SETPIPE_SZ`/`F_GETPIPE_SZ` (2.6.35). For pipe2 (2.6.27):
 * `O_CLOEXEC`, `O_NONBLOCK`, `O_DIRECT` (packet mode, 3.4) and
 * `O_NOTIFICATION_PIPE` (5.8, with CONFIG_WATCH_QUEUE).
 */
export const {
  SPLICE_F_MOVE,
  SPLICE_F_NONBLOCK,
  SPLICE_F_MORE,
  SPLICE_F_GIFT,
  F_SETPIPE_SZ,
  F_GETPIPE_SZ,
  O_CLOEXEC,
  O_NONBLOCK,
  O_DIRECT,
  O_NOTIFICATION_PIPE,
} = native.splice.constants;

/** What `splice` and `copyFileRange` return: the bytes moved, and each offset given, advanced by the kernel. */
export interface SpliceResult {
  bytes: number;
  /** The input offset after the call; null when none was given (the file position moved instead). */
  offIn: bigint | null;
  offOut: bigint | null;
}

/** What `sendfile` returns. */
export interface SendfileResult {
  bytes: number;
  /** The input offset after the call; null when none was given. */
  offset: bigint | null;
}

/** An offset: null or undefined for the file position, else a bigint (or safe integer) in loff_t's range. */
export function validateOffset(value: unknown, name: string): bigint | null {
  return value === null || value === undefined ? null : validateBigUint(value, name, INT64_MAX);
}

/** A byte count (size_t): the kernel caps one call at 2 GiB - 4 KiB itself. */
export function validateLength(value: unknown, name: string): number {
  return validateInteger(value, name, 0, Number.MAX_SAFE_INTEGER);
}

/** vmsplice's buffers: one view or an array of them, as Uint8Arrays over the same memory. */
export function validateBuffers(value: unknown, name: string): Uint8Array[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((b, i) => {
    if (!ArrayBuffer.isView(b)) {
      throw invalidArgType(Array.isArray(value) ? `${name}[${i}]` : name, 'an instance of Buffer, TypedArray, or DataView', b);
    }
    return b instanceof Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  });
}

export function toSpliceResult(value: unknown): SpliceResult {
  const [bytes, offIn, offOut] = value as Moved;
  return { bytes, offIn, offOut };
}

export function toSendfileResult(value: unknown): SendfileResult {
  const [bytes, offset] = value as Moved;
  return { bytes, offset };
}

function moved(result: Moved | number, syscall: string): unknown {
  if (typeof result === 'number') check(result, syscall);
  return result;
}

/** The arguments splice(2) and copy_file_range(2) share, validated in order, as the native calls take them. */
export function validateMove(fdIn: unknown, offIn: unknown, fdOut: unknown, offOut: unknown, len: unknown, flags: unknown): [number, bigint | null, number, bigint | null, number, number] {
  validateFd(fdIn, 'fdIn');
  const inOff = validateOffset(offIn, 'offIn');
  validateFd(fdOut, 'fdOut');
  const outOff = validateOffset(offOut, 'offOut');
  return [fdIn as number, inOff, fdOut as number, outOff, validateLength(len, 'len'), validateUint32(flags, 'flags')];
}

/**
 * splice(2): moves up to `len` bytes from `fdIn` to `fdOut`, one of which must
 * be a pipe, without copying them through JS. An offset is for the side that
 * is not a pipe (ESPIPE on a pipe). Returns 0 at end of input.
 */
export function splice(fdIn: number, offIn: bigint | number | null, fdOut: number, offOut: bigint | number | null, len: number, flags = 0): SpliceResult {
  return toSpliceResult(moved(native.splice.splice(...validateMove(fdIn, offIn, fdOut, offOut, len, flags)), 'splice'));
}

/**
 * tee(2): copies up to `len` bytes from pipe `fdIn` to pipe `fdOut` without
 * consuming them: `fdIn` still reads them afterwards.
 */
export function tee(fdIn: number, fdOut: number, len: number, flags = 0): number {
  validateFd(fdIn, 'fdIn');
  validateFd(fdOut, 'fdOut');
  return check(native.splice.tee(fdIn, fdOut, validateLength(len, 'len'), validateUint32(flags, 'flags')), 'tee');
}

/**
 * vmsplice(2): puts the memory of `buffers` into pipe `fd`. The pipe refers
 * to the pages themselves, it does not copy them (with `SPLICE_F_GIFT` or
 * without): a buffer written to before the reader has consumed the data
 * changes what the reader gets, and its memory must stay alive until then.
 * Keep a reference to each buffer and leave it unchanged until the reader has
 * read everything; a collected buffer's memory may be reused for other data.
 *
 * vmsplice alone ignores the pipe's O_NONBLOCK and honours only
 * `SPLICE_F_NONBLOCK`, so that is the default here: a full pipe throws EAGAIN
 * instead of blocking the thread. Flags given replace it.
 */
export function vmsplice(fd: number, buffers: ArrayBufferView | readonly ArrayBufferView[], flags: number = SPLICE_F_NONBLOCK): number {
  validateFd(fd);
  return check(native.splice.vmsplice(fd, validateBuffers(buffers, 'buffers'), validateUint32(flags, 'flags')), 'vmsplice');
}

/**
 * sendfile(2): copies up to `count` bytes from `inFd` (a file that can be
 * mmap'ed or spliced: not a pipe's read end on most kernels) to `outFd` (any
 * fd since 2.6.33). With an `offset` the input's file position stays put.
 */
export function sendfile(outFd: number, inFd: number, offset: bigint | number | null, count: number): SendfileResult {
  validateFd(outFd, 'outFd');
  validateFd(inFd, 'inFd');
  const off = validateOffset(offset, 'offset');
  return toSendfileResult(moved(native.splice.sendfile(outFd, inFd, off, validateLength(count, 'count')), 'sendfile'));
}

/**
 * copy_file_range(2): copies up to `len` bytes between two regular files
 * inside the kernel (a reflink, or a server-side copy, where the filesystem
 * can). `flags` must be 0.
 */
export function copyFileRange(fdIn: number, offIn: bigint | number | null, fdOut: number, offOut: bigint | number | null, len: number, flags = 0): SpliceResult {
  return toSpliceResult(moved(native.splice.copyFileRange(...validateMove(fdIn, offIn, fdOut, offOut, len, flags)), 'copy_file_range'));
}

/**
 * pipe2(2): a new pipe, `[readFd, writeFd]`. `flags` defaults to
 * `O_CLOEXEC | O_NONBLOCK` (Butter's defaults); `O_DIRECT` makes a packet
 * pipe (each write is one read). The caller owns both fds.
 */
export function pipe2(flags: number = O_CLOEXEC | O_NONBLOCK): [number, number] {
  const r = native.splice.pipe2(validateInt32(flags, 'flags'));
  if (typeof r === 'number') check(r, 'pipe2');
  return r as [number, number];
}

/** fcntl(fd, F_GETPIPE_SZ): a pipe's capacity in bytes. */
export function getPipeSize(fd: number): number {
  return check(native.splice.pipeSize(validateFd(fd), -1), 'fcntl');
}

/**
 * fcntl(fd, F_SETPIPE_SZ, size): sets a pipe's capacity, rounded up by the
 * kernel to a power of two pages, and returns it. EBUSY below what the pipe
 * holds; EPERM above /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE.
 */
export function setPipeSize(fd: number, size: number): number {
  validateFd(fd);
  return check(native.splice.pipeSize(fd, validateInt32(size, 'size', 0)), 'fcntl');
}
