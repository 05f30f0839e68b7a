/**
 * `butter/fs`: the `node:fs/promises` calls a file-heavy program uses, with
 * Node's signatures, defaults, results and errors, on one io_uring per thread
 * (an IoUring made on first use). Where io_uring cannot be set up (no
 * io_uring in the kernel, kernel.io_uring_disabled, a seccomp filter), the
 * calls are Node's own: the choice is made once, and `backend()` tells which
 * and why.
 */
import * as nodeFs from 'node:fs/promises';
import { constants as fsConstants, statSync, Stats, type BigIntStats, type PathLike } from 'node:fs';
import { fileTooLarge, invalidArgType, invalidArgValue, outOfRange, sysError } from './core/errors';
import { toPath } from './core/fs';
import { abortError, isArray, validateAbortSignal, validateBoolean, validateEncoding, validateInteger, validateOptions, INT64_MAX } from './core/validate';
import { IoUring, readFor, type IoUringStatx, type RequestOwner } from './high/io-uring';
import type { OpName } from './raw/io-uring';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC } = fsConstants;
const AT_EMPTY_PATH = 0x1000;
const STATX_BASIC_STATS_BTIME = 0xfff;
const STATX_BTIME = 0x800;
/** What Node's readFile reads at a time from a file whose size stat cannot tell (a pipe, /proc). */
const CHUNK = 64 * 1024;

/** Node's flags strings (lib/internal/fs/utils.js stringToFlags). */
const FLAGS: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  'r+': O_RDWR,
  'rs+': O_RDWR | O_SYNC,
  'sr+': O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/** Which implementation the calls use, and why when it is Node's. */
export interface Backend {
  name: 'io_uring' | 'node:fs/promises';
  reason: string | null;
}

let ring: IoUring | null = null;
let chosen: Backend | null = null;

/** The opcodes these calls use: Linux 5.6 has them all; 5.1-5.5 set up rings without OPENAT and STATX. */
const NEEDED: readonly OpName[] = ['OPENAT', 'CLOSE', 'READ', 'WRITE', 'READV', 'WRITEV', 'STATX', 'FSYNC'];

/** Chooses the implementation (once per thread): io_uring if a ring can be set up and runs every opcode needed. */
export function backend(): Backend {
  if (chosen !== null) return chosen;
  try {
    ring = new IoUring({ entries: 256 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    chosen = { name: 'node:fs/promises', reason: `io_uring_setup failed: ${e.code ?? e.message}` };
    return chosen;
  }
  const missing = NEEDED.filter((op) => !ring!.supported.has(op));
  if (missing.length > 0) {
    ring.close();
    ring = null;
    chosen = { name: 'node:fs/promises', reason: `this kernel's io_uring lacks ${missing.join(', ')} (Linux 5.6 has them)` };
  } else {
    chosen = { name: 'io_uring', reason: null };
  }
  return chosen;
}

function uring(): IoUring | null {
  if (chosen === null) backend();
  return ring;
}

/** An error of the ring's request as Node's call reports it: its syscall's name, and the path where Node gives one. */
function renamed(err: unknown, syscall: string, path?: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno !== 'number' || typeof e.code !== 'string') return err;
  const out = sysError(-e.errno, syscall, path);
  Error.captureStackTrace(out, renamed);
  return out;
}

function flagsOf(flags: unknown, fallback: number): number {
  if (flags === undefined || flags === null) return fallback;
  if (typeof flags === 'number') return flags;
  const f = typeof flags === 'string' ? FLAGS[flags] : undefined;
  if (f === undefined) throw invalidArgValue('flags', flags);
  return f;
}

/** Node's parseFileMode: a uint32, or an octal string. */
function modeOf(mode: unknown, name: string, fallback: number): number {
  if (mode === undefined || mode === null) return fallback;
  if (typeof mode === 'string') {
    if (!/^[0-7]+$/.test(mode)) throw invalidArgValue(name, mode, 'must be a 32-bit unsigned integer or an octal string');
    mode = parseInt(mode, 8);
  }
  return validateInteger(mode, name, 0, 0xffffffff);
}

function positionOf(position: unknown): number | bigint | null {
  if (typeof position === 'number') return Number.isSafeInteger(position) && position >= 0 ? position : null;
  if (typeof position === 'bigint') return position >= 0n ? position : null;
  return null;
}

/** A bigint position as Node 22+ takes one: -1 (the current position) up to where `length` bytes still end by 2 ** 63 - 1. */
function checkBigPosition(position: bigint, length: number): void {
  const max = INT64_MAX - BigInt(length);
  if (position < -1n || position > max) throw outOfRange('position', `>= -1 && <= ${max}`, position);
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

// ---- Stats ----

let bigIntStatsPrototype: object | null = null;

function makedev(major: number, minor: number): number {
  // glibc's makedev, which libuv's st_dev and st_rdev are.
  return (major & 0xfff) * 256 + (minor & 0xff) + ((minor & 0xfff00) >>> 8) * 0x100000 + (major >>> 12) * 0x100000000 * 0x1000;
}

/** Whether a Stats prototype makes its Dates from the *Ms fields when first read (Node 22 and later), rather than each object having its own. */
function lazyDates(prototype: object): boolean {
  return typeof Object.getOwnPropertyDescriptor(prototype, 'atime')?.get === 'function';
}

/** An fs.Stats (or fs.BigIntStats) of statx's fields, as Node fills it from libuv's statx. */
function statsOf(s: IoUringStatx, bigint: boolean): Stats | BigIntStats {
  const btimeNs = s.mask & STATX_BTIME ? s.btimeNs : 0n;
  const dev = makedev(s.devMajor, s.devMinor);
  const rdev = makedev(s.rdevMajor, s.rdevMinor);
  const ns = [s.atimeNs, s.mtimeNs, s.ctimeNs, btimeNs];
  if (!bigint) {
    const ms = ns.map((t) => Number(t / 1_000_000_000n) * 1e3 + Number(t % 1_000_000_000n) / 1e6);
    const st = Object.create(Stats.prototype) as Stats;
    Object.assign(st, {
      dev, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, rdev, blksize: s.blksize, ino: Number(s.ino), size: Number(s.size), blocks: Number(s.blocks),
      atimeMs: ms[0], mtimeMs: ms[1], ctimeMs: ms[2], birthtimeMs: ms[3],
    });
    // Node's Dates are of the rounded milliseconds.
    if (!lazyDates(Stats.prototype)) Object.assign(st, { atime: new Date(Math.round(ms[0]!)), mtime: new Date(Math.round(ms[1]!)), ctime: new Date(Math.round(ms[2]!)), birthtime: new Date(Math.round(ms[3]!)) });
    return st;
  }
  // BigIntStats is not exported: its prototype is a real one's.
  bigIntStatsPrototype ??= Object.getPrototypeOf(statSync('/', { bigint: true })) as object;
  const st = Object.create(bigIntStatsPrototype) as BigIntStats;
  const ms = ns.map((t) => t / 1_000_000n);
  Object.assign(st, {
    dev: BigInt(dev), mode: BigInt(s.mode), nlink: BigInt(s.nlink), uid: BigInt(s.uid), gid: BigInt(s.gid), rdev: BigInt(rdev), blksize: BigInt(s.blksize),
    ino: s.ino, size: s.size, blocks: s.blocks,
    atimeMs: ms[0], mtimeMs: ms[1], ctimeMs: ms[2], birthtimeMs: ms[3],
    atimeNs: ns[0], mtimeNs: ns[1], ctimeNs: ns[2], birthtimeNs: ns[3],
  });
  if (!lazyDates(bigIntStatsPrototype)) Object.assign(st, { atime: new Date(Number(ms[0])), mtime: new Date(Number(ms[1])), ctime: new Date(Number(ms[2])), birthtime: new Date(Number(ms[3])) });
  return st;
}

function bigintOption(options: unknown): boolean {
  const o = validateOptions<{ bigint: boolean }>(options);
  return o.bigint === true;
}

// ---- FileHandle ----

function closedError(syscall: string): Error {
  // As Node's FileHandle after close(): no errno, the message 'file closed'.
  const err = new Error('file closed') as NodeJS.ErrnoException;
  err.code = 'EBADF';
  err.syscall = syscall;
  return err;
}

function validateBuffer(buffer: unknown, name = 'buffer'): ArrayBufferView {
  if (!ArrayBuffer.isView(buffer)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', buffer);
  return buffer;
}

function validateBuffers(buffers: unknown): ArrayBufferView[] {
  if (!isArray(buffers)) throw invalidArgType('buffers', 'an instance of ArrayBufferView[]', buffers);
  for (const b of buffers) if (!ArrayBuffer.isView(b)) throw invalidArgType('buffers', 'an instance of ArrayBufferView[]', buffers);
  return buffers as ArrayBufferView[];
}

function bytesAt(buffer: ArrayBufferView, offset: number, length: number): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length);
}

/** Node's validateOffsetLengthRead. */
function validateReadRange(offset: number, length: number, size: number): void {
  if (length < 0) throw outOfRange('length', '>= 0', length);
  if (offset + length > size) throw outOfRange('length', `<= ${size - offset}`, length);
}

/** Node's validateOffsetLengthWrite. */
function validateWriteRange(offset: number, length: number, size: number): void {
  if (offset > size) throw outOfRange('offset', `<= ${size}`, offset);
  if (length > size - offset) throw outOfRange('length', `<= ${size - offset}`, length);
  if (length < 0) throw outOfRange('length', '>= 0', length);
}

export interface ReadResult<T extends ArrayBufferView> {
  bytesRead: number;
  buffer: T;
}

export interface ReadOptions<T extends ArrayBufferView> {
  buffer?: T;
  offset?: number | null;
  length?: number;
  position?: number | bigint | null;
}

/** FileHandle.read's (options) and (buffer, options) overloads, as Node reads them: the buffer, offset, length and position they stand for. */
function readOptions(bufferOrOptions: unknown, offset: unknown, length: unknown, position: unknown): { buffer: ArrayBufferView; offset: unknown; length: unknown; position: unknown } {
  let buffer: ArrayBufferView;
  if (ArrayBuffer.isView(bufferOrOptions)) {
    buffer = bufferOrOptions;
  } else {
    const o = validateOptions<ReadOptions<ArrayBufferView>>(bufferOrOptions);
    buffer = validateBuffer(o.buffer ?? Buffer.alloc(16384));
    offset = o.offset ?? 0;
    length = o.length ?? buffer.byteLength - (offset as number);
    position = o.position ?? null;
  }
  if (offset !== null && typeof offset === 'object') {
    const o = offset as ReadOptions<ArrayBufferView>;
    offset = o.offset ?? 0;
    length = o.length ?? buffer.byteLength - (offset as number);
    position = o.position ?? null;
  }
  return { buffer, offset, length, position };
}

/** The part of `buffer` FileHandle.read reads into, as Node validates it (null: nothing to read). */
function readView(buffer: ArrayBufferView, offset: unknown, length: unknown): Uint8Array | null {
  const off = offset === undefined || offset === null ? 0 : validateInteger(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const len = length === undefined || length === null ? buffer.byteLength - off : Number(length) | 0;
  if (len === 0) return null;
  if (buffer.byteLength === 0) throw invalidArgValue('buffer', buffer, 'is empty and cannot be written');
  validateReadRange(off, len, buffer.byteLength);
  return off === 0 && len === buffer.byteLength && buffer instanceof Uint8Array ? buffer : bytesAt(buffer, off, len);
}

/** A file opened by `open()`: `fs/promises`' FileHandle, its requests on the thread's ring. */
export class FileHandle {
  #fd: number;
  #ring: IoUring;
  /** Its requests in flight, which close() waits for. */
  readonly #requests: RequestOwner = { inFlight: 0, idle: null };
  #closing: Promise<void> | null = null;

  constructor(fd: number, ring: IoUring) {
    this.#fd = fd;
    this.#ring = ring;
  }

  /** The file descriptor, -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * Runs one request, holding close() back until it is done; `method` names it
   * once the file is closed, as Node's does. then() rather than an async
   * function, and `result` made in its callback: two Promises less per read.
   */
  #call<T, R = T>(syscall: string, fn: (fd: number, ring: IoUring) => Promise<T>, method = syscall, result?: (value: T) => R): Promise<R> {
    if (this.#fd === -1 || this.#closing !== null) return Promise.reject(closedError(method));
    let request: Promise<T>;
    try {
      request = fn(this.#fd, this.#ring);
    } catch (err) {
      return Promise.reject(renamed(err, syscall));
    }
    this.#requests.inFlight++;
    return request.then(
      (value) => {
        this.#settled();
        return result ? result(value) : (value as unknown as R);
      },
      (err: unknown) => {
        this.#settled();
        throw renamed(err, syscall);
      },
    );
  }

  #settled(): void {
    if (--this.#requests.inFlight === 0) this.#requests.idle?.();
  }

  read<T extends ArrayBufferView = Buffer>(buffer: T, offset?: number | null, length?: number | null, position?: number | bigint | null): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(buffer: T, options?: ReadOptions<T>): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(options?: ReadOptions<T>): Promise<ReadResult<T>>;
  read(bufferOrOptions?: unknown, offset?: unknown, length?: unknown, position?: unknown): Promise<ReadResult<ArrayBufferView>> {
    // The hot path (buffer, offset, length, position) as #call would run it,
    // without its closures and then(): the ring resolves the result itself.
    let buffer = bufferOrOptions as ArrayBufferView;
    let view: Uint8Array | null;
    try {
      if (!ArrayBuffer.isView(buffer) || (offset !== null && typeof offset === 'object')) {
        ({ buffer, offset, length, position } = readOptions(bufferOrOptions, offset, length, position));
      }
      view = readView(buffer, offset, length);
    } catch (err) {
      return Promise.reject(err);
    }
    if (view === null) return Promise.resolve({ bytesRead: 0, buffer });
    if (this.#fd === -1 || this.#closing !== null) return Promise.reject(closedError('read'));
    try {
      if (typeof position === 'bigint') checkBigPosition(position, view.byteLength);
      return readFor(this.#ring, this.#fd, view, positionOf(position), (bytesRead) => ({ bytesRead, buffer }), this.#requests) as Promise<ReadResult<ArrayBufferView>>;
    } catch (err) {
      return Promise.reject(renamed(err, 'read'));
    }
  }

  write<T extends ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null, position?: number | null): Promise<{ bytesWritten: number; buffer: T }>;
  write<T extends ArrayBufferView>(buffer: T, options?: { offset?: number; length?: number; position?: number | null }): Promise<{ bytesWritten: number; buffer: T }>;
  write(data: string, position?: number | null, encoding?: BufferEncoding | null): Promise<{ bytesWritten: number; buffer: string }>;
  async write(data: unknown, offset?: unknown, length?: unknown, position?: unknown): Promise<{ bytesWritten: number; buffer: unknown }> {
    if (ArrayBuffer.isView(data)) {
      if (data.byteLength === 0) return { bytesWritten: 0, buffer: data };
      if (offset !== null && typeof offset === 'object') {
        const o = offset as { offset?: number; length?: number; position?: number | null };
        offset = o.offset ?? 0;
        length = o.length ?? data.byteLength - (offset as number);
        position = o.position ?? null;
      }
      const off = offset === undefined || offset === null ? 0 : validateInteger(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
      const len = typeof length === 'number' ? length : data.byteLength - off;
      validateWriteRange(off, len, data.byteLength);
      const pos = typeof position === 'number' ? positionOf(position) : null;
      const bytesWritten = await this.#call('write', (fd, r) => r.write(fd, bytesAt(data, off, len), pos));
      return { bytesWritten, buffer: data };
    }
    if (typeof data !== 'string') throw invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
    const encoding = length === undefined || length === null ? 'utf8' : validateEncoding(length, 'encoding');
    const bytes = Buffer.from(data, encoding === 'buffer' ? 'utf8' : encoding);
    const pos = typeof offset === 'number' ? positionOf(offset) : null;
    const bytesWritten = await this.#call('write', (fd, r) => r.write(fd, bytes, pos));
    return { bytesWritten, buffer: data };
  }

  async readv<T extends ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesRead: number; buffers: T }> {
    validateBuffers(buffers);
    const pos = typeof position === 'number' ? positionOf(position) : null;
    const bytesRead = await this.#call('read', (fd, r) => r.readv(fd, buffers, pos), 'readv');
    return { bytesRead, buffers };
  }

  async writev<T extends ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesWritten: number; buffers: T }> {
    validateBuffers(buffers);
    if (buffers.length === 0) return { bytesWritten: 0, buffers };
    const pos = typeof position === 'number' ? positionOf(position) : null;
    const bytesWritten = await this.#call('write', (fd, r) => r.writev(fd, buffers, pos), 'writev');
    return { bytesWritten, buffers };
  }

  stat(options?: { bigint?: false }): Promise<Stats>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  async stat(options?: { bigint?: boolean }): Promise<Stats | BigIntStats> {
    const bigint = bigintOption(options);
    const s = await this.#call('fstat', (fd, r) => r.statx(fd, '', AT_EMPTY_PATH, STATX_BASIC_STATS_BTIME));
    return statsOf(s, bigint);
  }

  sync(): Promise<void> {
    return this.#call('fsync', (fd, r) => r.fsync(fd));
  }

  datasync(): Promise<void> {
    return this.#call('fdatasync', (fd, r) => r.fsync(fd, { datasync: true }));
  }

  /** Closes the file once the requests in flight are done; again, it resolves at once. */
  close(): Promise<void> {
    if (this.#fd === -1) return Promise.resolve();
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#requests.inFlight > 0) await new Promise<void>((resolve) => (this.#requests.idle = resolve));
    const fd = this.#fd;
    try {
      await this.#ring.closeFd(fd);
    } catch (err) {
      throw renamed(err, 'close');
    } finally {
      this.#fd = -1;
      this.#closing = null;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

// ---- the calls ----

/**
 * `fsPromises.open(path, flags = 'r', mode = 0o666)`. Where `backend()` is
 * Node's, the handle is Node's own FileHandle, typed as this module's: it has
 * every call of this one, with the same signatures, and a union of the two
 * classes' overloaded methods would not be callable.
 */
export async function open(path: PathLike, flags?: string | number, mode?: string | number): Promise<FileHandle> {
  const r = uring();
  if (r === null) return (await nodeFs.open(path, flags, mode)) as unknown as FileHandle;
  const p = toPath(path);
  const f = flagsOf(flags, O_RDONLY);
  const m = modeOf(mode, 'mode', 0o666);
  return new FileHandle(await openFd(r, p.bytes, p.text, f, m), r);
}

async function openFd(r: IoUring, path: Buffer, text: string, flags: number, mode: number, signal?: AbortSignal): Promise<number> {
  try {
    return await r.openat(null, path, flags, mode, signal ? { signal } : undefined);
  } catch (err) {
    throw renamed(err, 'open', text);
  }
}

/** `fsPromises.stat(path, { bigint })`. */
export async function stat(path: PathLike, options?: { bigint?: false }): Promise<Stats>;
export async function stat(path: PathLike, options: { bigint: true }): Promise<BigIntStats>;
export async function stat(path: PathLike, options?: { bigint?: boolean }): Promise<Stats | BigIntStats> {
  const r = uring();
  if (r === null) return nodeFs.stat(path, options as { bigint: true });
  const p = toPath(path);
  const bigint = bigintOption(options);
  try {
    return statsOf(await r.statx(null, p.bytes, 0, STATX_BASIC_STATS_BTIME), bigint);
  } catch (err) {
    throw renamed(err, 'stat', p.text);
  }
}

interface ReadFileOptions {
  encoding?: BufferEncoding | null;
  flag?: string | number;
  signal?: AbortSignal;
}

function fileOptions<T extends object>(options: unknown, defaults: T): T {
  if (options === undefined || options === null) return defaults;
  if (typeof options === 'string') return { ...defaults, encoding: validateEncoding(options, 'encoding') };
  if (typeof options !== 'object') throw invalidArgType('options', 'one of type string or object', options);
  const o = { ...defaults, ...(options as T) } as T & { encoding?: unknown; signal?: unknown };
  if (o.encoding !== undefined && o.encoding !== null) validateEncoding(o.encoding, 'encoding');
  validateAbortSignal(o.signal, 'options.signal');
  return o;
}

/**
 * Reads from `fd`'s position to its end: a regular file in one read of its
 * size and one more byte (which sees it grew), anything else in chunks.
 */
/** The most one read (and readFile) returns, as Node's `kIoMaxLength`. */
const kIoMaxLength = 2 ** 31 - 1;

async function readAll(r: IoUring, fd: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const opts = signal ? { signal } : undefined;
  let s: IoUringStatx;
  try {
    s = await r.statx(fd, '', AT_EMPTY_PATH, STATX_BASIC_STATS_BTIME, opts);
  } catch (err) {
    throw renamed(err, 'fstat');
  }
  checkAborted(signal);
  const size = (s.mode & 0o170000) === 0o100000 ? Number(s.size) : 0;
  if (size > kIoMaxLength) throw fileTooLarge(size);
  const chunks: Buffer[] = [];
  let total = 0;
  for (let want = size > 0 ? size + 1 : CHUNK; ; want = CHUNK) {
    const chunk = Buffer.allocUnsafe(want);
    let n: number;
    try {
      n = await r.read(fd, chunk, null, opts);
    } catch (err) {
      throw renamed(err, 'read');
    }
    checkAborted(signal);
    if (n === 0) break;
    chunks.push(n === want ? chunk : chunk.subarray(0, n));
    total += n;
    if (total > kIoMaxLength) throw fileTooLarge(total);
    // A regular file's short read is its end.
    if (size > 0 && n < want) break;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** `fsPromises.readFile(path | FileHandle, options)`. */
export async function readFile(path: PathLike | FileHandle, options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer> {
  const r = uring();
  if (r === null) return nodeFs.readFile(path as PathLike, options);
  const o = fileOptions<ReadFileOptions>(options, { flag: 'r' });
  const signal = o.signal;
  checkAborted(signal);
  let data: Buffer;
  if (path instanceof FileHandle) {
    if (path.fd === -1) throw closedError('read');
    data = await readAll(r, path.fd, signal);
  } else {
    const p = toPath(path);
    const fd = await openFd(r, p.bytes, p.text, flagsOf(o.flag, O_RDONLY), 0o666, signal);
    try {
      data = await readAll(r, fd, signal);
    } finally {
      await r.closeFd(fd);
    }
  }
  return o.encoding ? data.toString(o.encoding) : data;
}

interface WriteFileOptions {
  encoding?: BufferEncoding | null;
  mode?: number | string;
  flag?: string | number;
  signal?: AbortSignal;
  /** fsync(2) the file before closing it (not when writing to a FileHandle). */
  flush?: boolean;
}

type WriteData = string | ArrayBufferView | Iterable<string | ArrayBufferView> | AsyncIterable<string | ArrayBufferView>;

async function writeAll(r: IoUring, fd: number, bytes: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
  const opts = signal ? { signal } : undefined;
  for (let at = 0; at < bytes.byteLength;) {
    checkAborted(signal);
    try {
      at += await r.write(fd, bytes.subarray(at), null, opts);
    } catch (err) {
      throw renamed(err, 'write');
    }
  }
}

/** A chunk as Node's writeFile takes it: a view as it is, anything else through Buffer.from (an array of bytes, an ArrayBuffer; its errors for the rest). */
function bytesOfChunk(chunk: unknown, encoding: BufferEncoding): Uint8Array {
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(chunk as string, encoding);
}

async function writeData(r: IoUring, fd: number, data: WriteData, encoding: BufferEncoding, signal: AbortSignal | undefined): Promise<void> {
  if (typeof data === 'string' || ArrayBuffer.isView(data)) return writeAll(r, fd, bytesOfChunk(data, encoding), signal);
  for await (const chunk of data as AsyncIterable<unknown>) {
    checkAborted(signal);
    await writeAll(r, fd, bytesOfChunk(chunk, encoding), signal);
  }
}

/** What Node's writeFile iterates: an object with a Symbol.iterator or Symbol.asyncIterator method (a String object too). */
function isIterable(data: unknown): boolean {
  const o = data as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown } | null;
  return o !== null && typeof o === 'object' && (typeof o[Symbol.iterator] === 'function' || typeof o[Symbol.asyncIterator] === 'function');
}

/** `fsPromises.writeFile(path | FileHandle, data, options)`. */
export async function writeFile(path: PathLike | FileHandle, data: WriteData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
  const r = uring();
  if (r === null) return nodeFs.writeFile(path as PathLike, data as string, options);
  const o = fileOptions<WriteFileOptions>(options, { encoding: 'utf8', mode: 0o666, flag: 'w' });
  const flush = validateBoolean(o.flush ?? false, 'options.flush');
  if (typeof data !== 'string' && !ArrayBuffer.isView(data) && !isIterable(data)) {
    throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  }
  const encoding = (o.encoding ?? 'utf8') as BufferEncoding;
  checkAborted(o.signal);
  if (path instanceof FileHandle) {
    if (path.fd === -1) throw closedError('write');
    return writeData(r, path.fd, data, encoding, o.signal);
  }
  const p = toPath(path);
  const fd = await openFd(r, p.bytes, p.text, flagsOf(o.flag, O_TRUNC | O_CREAT | O_WRONLY), modeOf(o.mode, 'mode', 0o666), o.signal);
  try {
    await writeData(r, fd, data, encoding, o.signal);
    if (flush) await r.fsync(fd);
  } finally {
    await r.closeFd(fd);
  }
}

