/**
 * Zero-copy I/O, the Promise forms: the same calls, names and arguments as
 * ./splice.ts, plus `{ signal }`, run on Butter's work threads
 * (src/core/work.ts), for blocking fds and regular files. Exported as
 * `promises`, as `node:fs` exports its Promise API beside the synchronous one.
 *
 * As in `fs.promises`, bad arguments reject (they are async functions).
 * An aborted call that had not started, or was interrupted before it moved
 * anything, rejects with an `AbortError`; one that had moved data settles
 * with what it moved ("too late").
 */
import { native } from '../core/native';
import { runWork } from '../core/work';
import { validateFd, validateSignalOptions, validateUint32 } from '../core/validate';
import {
  toSendfileResult,
  toSpliceResult,
  validateBuffers,
  validateLength,
  validateMove,
  validateOffset,
  type SendfileResult,
  type SpliceResult,
} from './splice';

/** Options of every Promise form. */
export interface WorkOptions {
  /** Aborts the call if it has not started, or interrupts it if it blocks (see `promises`). */
  signal?: AbortSignal;
}

const asNumber = (value: unknown): number => value as number;

/** splice(2) off the loop; see the synchronous `splice`. */
export async function splice(fdIn: number, offIn: bigint | number | null, fdOut: number, offOut: bigint | number | null, len: number, flags = 0, options?: WorkOptions): Promise<SpliceResult> {
  const args = validateMove(fdIn, offIn, fdOut, offOut, len, flags);
  return runWork((done) => native.splice.spliceStart(...args, done), 'splice', validateSignalOptions(options), toSpliceResult);
}

/** tee(2) off the loop; see the synchronous `tee`. */
export async function tee(fdIn: number, fdOut: number, len: number, flags = 0, options?: WorkOptions): Promise<number> {
  validateFd(fdIn, 'fdIn');
  validateFd(fdOut, 'fdOut');
  const n = validateLength(len, 'len');
  const f = validateUint32(flags, 'flags');
  return runWork((done) => native.splice.teeStart(fdIn, fdOut, n, f, done), 'tee', validateSignalOptions(options), asNumber);
}

/**
 * vmsplice(2) off the loop; see the synchronous `vmsplice`. The buffers are
 * kept alive until the call is over, not until the reader has read them: the
 * pipe still refers to their memory then, so the caller keeps them (unchanged).
 */
export async function vmsplice(fd: number, buffers: ArrayBufferView | readonly ArrayBufferView[], flags = 0, options?: WorkOptions): Promise<number> {
  validateFd(fd);
  const views = validateBuffers(buffers, 'buffers');
  const f = validateUint32(flags, 'flags');
  return runWork((done) => native.splice.vmspliceStart(fd, views, f, done), 'vmsplice', validateSignalOptions(options), asNumber);
}

/** sendfile(2) off the loop; see the synchronous `sendfile`. */
export async function sendfile(outFd: number, inFd: number, offset: bigint | number | null, count: number, options?: WorkOptions): Promise<SendfileResult> {
  validateFd(outFd, 'outFd');
  validateFd(inFd, 'inFd');
  const off = validateOffset(offset, 'offset');
  const n = validateLength(count, 'count');
  return runWork((done) => native.splice.sendfileStart(outFd, inFd, off, n, done), 'sendfile', validateSignalOptions(options), toSendfileResult);
}

/** copy_file_range(2) off the loop; see the synchronous `copyFileRange`. */
export async function copyFileRange(fdIn: number, offIn: bigint | number | null, fdOut: number, offOut: bigint | number | null, len: number, flags = 0, options?: WorkOptions): Promise<SpliceResult> {
  const args = validateMove(fdIn, offIn, fdOut, offOut, len, flags);
  return runWork((done) => native.splice.copyFileRangeStart(...args, done), 'copy_file_range', validateSignalOptions(options), toSpliceResult);
}
