/**
 * Zero-copy I/O, high level: `Pipe`, `sendFile`, `copyFile`, `proxy` and
 * `pipeline`. Each transfer is one work call (src/native/splice.c's relay or
 * copy): the bytes go from fd to fd inside the kernel, and no JS runs per
 * chunk.
 *
 * A `net.Socket`'s fd is libuv's. It is borrowed, not adopted (`borrow`):
 * libuv's reading is stopped and its write queue waited out, the relay works
 * on a duplicate of the fd and waits for it with poll() on its own thread (so
 * the fd is never registered with a loop twice), and the socket is handed
 * back as it was, or destroyed where the operation ends the stream (proxy,
 * pipeline). Sockets whose bytes are not the wire bytes (TLS) are refused, or
 * streamed by `pipeline`.
 */
import { once } from 'node:events';
import { constants as fsConstants, fstat, ReadStream, writeSync, WriteStream } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { check, invalidArgType, invalidArgValue, sysError, EBADF } from '../core/errors';
import { toPath, type PathLike } from '../core/fs';
import { native, type NativeHandle } from '../core/native';
import { runWork } from '../core/work';
import { abortError, validateAbortSignal, validateBoolean, validateFd, validateInt32, validateInteger, validateOptions, validateSignalOptions, validateUint32 } from '../core/validate';
import { O_CLOEXEC, O_DIRECT, O_NONBLOCK, validateOffset } from '../raw/splice';

/** Mirrors splice.c: the relay shuts the output's writing side down once the input has ended. */
const RELAY_SHUT_WR = 1;
/** Mirrors splice.c: sendfile into a borrowed socket made blocking for the call (one sendfile sleeps instead of a poll per full send buffer). */
const RELAY_BLOCK = 2;
/** Mirrors splice.c: copyFile without trying FICLONE first. */
const COPY_NO_CLONE = 8;
/** The capacity relays ask for their pipes: a chunk per splice; pipe-max-size (1 MiB) by default. */
const RELAY_PIPE_SIZE = 1 << 20;
/** The most one sendfile(2) call moves (the kernel's own cap is 2 GiB - 4 KiB). */
const SENDFILE_CHUNK = 1 << 30;

type Waiter = { resolve: () => void; reject: (err: unknown) => void; signal?: AbortSignal; onAbort?: () => void };

export interface PipeOptions {
  /** The capacity in bytes (`F_SETPIPE_SZ`, rounded up by the kernel to a power of two pages). Default: the kernel's (64 KiB). */
  size?: number;
  /** A packet pipe (`O_DIRECT`): each write is read as one packet. Default false. */
  packet?: boolean;
}

/**
 * A pipe owned by this object: both ends non-blocking and close-on-exec,
 * closed together by `close()` (or a finalizer, or the Worker's end). Its fds
 * go to `splice`, `tee`, `vmsplice` and the relays; `readable()` and
 * `writable()` wait for an end to be ready.
 *
 * ```ts
 * using pipe = new Pipe({ size: 1 << 20 });
 * vmsplice(pipe.writeFd, buffer);
 * await pipe.readable();
 * ```
 */
export class Pipe {
  /** Per end; the write end's is null once `closeWrite()` closed it, both once `close()` did. */
  #handles: [NativeHandle, NativeHandle | null] | null;
  #fds: [number, number];
  /** Per end (0 read, 1 write): the promises waiting for it to be ready. */
  readonly #waiters: [Waiter[], Waiter[]] = [[], []];
  readonly #onReady = [(status: number) => this.#ready(0, status), (status: number) => this.#ready(1, status)] as const;

  constructor(options?: PipeOptions) {
    const opts = validateOptions<PipeOptions>(options, 'options', ['size', 'packet']);
    const size = opts.size === undefined ? undefined : validateInt32(opts.size, 'options.size', 1);
    const packet = opts.packet === undefined ? false : validateBoolean(opts.packet, 'options.packet');
    const handles: [NativeHandle, NativeHandle] = [native.handleNew(this.#onReady[0]), native.handleNew(this.#onReady[1])];
    const r = native.splice.pipe2(O_CLOEXEC | O_NONBLOCK | (packet ? O_DIRECT : 0), handles[0], handles[1]);
    if (typeof r === 'number') {
      for (const h of handles) native.handleClose(h);
      throw sysError(-r, 'pipe2');
    }
    this.#handles = handles;
    this.#fds = r;
    if (size !== undefined) {
      try {
        this.size = size;
      } catch (err) {
        this.close();
        throw err;
      }
    }
  }

  /** The read end's fd, or -1 once closed. */
  get readFd(): number {
    return this.#fds[0];
  }

  /** The write end's fd, or -1 once closed. */
  get writeFd(): number {
    return this.#fds[1];
  }

  get closed(): boolean {
    return this.#handles === null;
  }

  /** The capacity in bytes (`F_GETPIPE_SZ`). */
  get size(): number {
    this.#assertOpen('fcntl');
    return check(native.splice.pipeSize(this.#fds[0], -1), 'fcntl');
  }

  /** Sets the capacity (`F_SETPIPE_SZ`): EBUSY below what the pipe holds, EPERM above pipe-max-size without CAP_SYS_RESOURCE. */
  set size(bytes: number) {
    const n = validateInt32(bytes, 'size', 1);
    this.#assertOpen('fcntl');
    check(native.splice.pipeSize(this.#fds[0], n), 'fcntl');
  }

  /** Resolves once the read end has data (or every writer has gone). */
  readable(options?: { signal?: AbortSignal }): Promise<void> {
    return this.#wait(0, options);
  }

  /** Resolves once the write end has room (or the reader has gone). */
  writable(options?: { signal?: AbortSignal }): Promise<void> {
    return this.#wait(1, options);
  }

  /**
   * Closes the write end only (once): readers then see the end of input once
   * the pipe is empty (`teeTo` and the relays end). Pending `writable()`s
   * reject with EBADF.
   */
  closeWrite(): void {
    const handle = this.#handles?.[1];
    if (!handle) return;
    this.#handles![1] = null;
    this.#fds[1] = -1;
    const result = native.handleClose(handle);
    this.#settle(1, sysError(EBADF, 'epoll_wait'));
    if (result < 0) throw sysError(-result, 'close');
  }

  /** Closes both ends (once; later calls do nothing); pending waits reject with EBADF. */
  close(): void {
    const handles = this.#handles;
    if (handles === null) return;
    this.#handles = null;
    this.#fds = [-1, -1];
    const results = handles.map((h) => (h ? native.handleClose(h) : 0));
    for (const end of [0, 1] as const) this.#settle(end, sysError(EBADF, 'epoll_wait'));
    const failed = results.find((r) => r < 0);
    if (failed !== undefined) throw sysError(-failed, 'close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #assertOpen(syscall: string): void {
    if (this.#handles === null) throw sysError(EBADF, syscall);
  }

  #wait(end: 0 | 1, options: unknown): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      signal = validateSignalOptions(options);
      if (!this.#handles?.[end]) throw sysError(EBADF, 'epoll_wait');
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const list = this.#waiters[end];
          list.splice(list.indexOf(waiter), 1);
          if (list.length === 0) this.#watch(end, false);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters[end].push(waiter);
      if (this.#waiters[end].length === 1) this.#watch(end, true);
    });
  }

  #watch(end: 0 | 1, on: boolean): void {
    const handle = this.#handles?.[end];
    if (!handle) return;
    const events = on ? (end === 0 ? native.READABLE : native.WRITABLE) : 0;
    const r = native.handleSet(handle, events, on ? native.KEEP_CALLBACK | native.KEEP_LOOP : 0);
    if (r < 0) this.#settle(end, sysError(-r, 'epoll_ctl'));
  }

  #ready(end: 0 | 1, status: number): void {
    this.#watch(end, false);
    this.#settle(end, status < 0 ? sysError(-status, 'epoll_wait') : undefined);
  }

  #settle(end: 0 | 1, err: Error | undefined): void {
    const list = this.#waiters[end].splice(0);
    if (list.length > 0 && err) this.#watch(end, false);
    for (const w of list) {
      if (w.onAbort) w.signal!.removeEventListener('abort', w.onAbort);
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}

// ---- borrowing a socket from libuv ----

/** The parts of Node's stream handle (TCPWrap, PipeWrap) a borrow uses. */
interface StreamHandle {
  fd?: number;
  reading?: boolean;
  readStop(): number;
  readStart(): number;
}

const handleOf = (socket: Socket): StreamHandle | null => (socket as unknown as { _handle: StreamHandle | null })._handle;

/** A socket's fd while Butter moves its bytes, and how to give it back. */
interface Borrowed {
  socket: Socket;
  fd: number;
  /** What libuv had read and nobody consumed yet (proxy forwards it first). */
  unread: Buffer[];
  /** Restarts libuv's reading if it was reading: the socket is Node's again. */
  giveBack(): void;
}

/** Why a socket cannot be borrowed, or null when it can: TLS and other sockets whose bytes are not the wire bytes. */
function notWireBytes(socket: Socket): string | null {
  if (socket instanceof TLSSocket || (socket as { encrypted?: boolean }).encrypted) return 'is a TLS socket: its bytes are not the wire bytes';
  const handle = handleOf(socket);
  if (handle && typeof handle.fd !== 'number') return 'is not backed by an fd of its own (its bytes are not the wire bytes)';
  // Bun's and Deno's sockets are not libuv's: there is no handle to stop and take the fd from.
  if (!handle && !socket.destroyed && ('bun' in process.versions || 'deno' in process.versions)) return 'has no libuv handle on this runtime to take its fd from';
  return null;
}

/** Writes nothing, with a callback: it runs once everything queued before it has reached the kernel. */
function flushed(socket: Socket): Promise<void> {
  while (socket.writableCorked > 0) socket.uncork();
  if (socket.writableLength === 0) return Promise.resolve();
  return new Promise((resolve, reject) => socket.write(Buffer.alloc(0), (err) => (err ? reject(err) : resolve())));
}

/**
 * Takes a socket's fd from libuv: waits for a connect in progress, stops
 * libuv's reading (`keepUnread`: and takes what it had read), and waits until
 * its write queue is empty, so the bytes Butter sends come after the ones
 * Node was given.
 */
async function borrow(socket: Socket, name: string, syscall: string, keepUnread: boolean): Promise<Borrowed> {
  const why = notWireBytes(socket);
  if (why !== null) throw invalidArgValue(name, socket, why);
  if (socket.connecting) await once(socket, 'connect');
  const handle = handleOf(socket);
  if (socket.destroyed || !handle || handle.fd === undefined || handle.fd < 0) throw sysError(EBADF, syscall);
  const wasReading = handle.reading === true;
  const stop = (): void => {
    if (handle.reading) {
      handle.reading = false;
      handle.readStop();
    }
  };
  stop();
  const unread: Buffer[] = [];
  if (keepUnread) {
    socket.pause();
    for (let chunk: Buffer | null; (chunk = socket.read() as Buffer | null) !== null; ) unread.push(chunk);
    stop(); // read() may have asked libuv to read again
  }
  await flushed(socket);
  stop(); // and whatever read() someone made while the writes drained
  return {
    socket,
    fd: handle.fd,
    unread,
    giveBack: () => {
      if (wasReading && !socket.destroyed && handle.reading === false) {
        handle.reading = true;
        handle.readStart();
      }
    },
  };
}

// ---- relays ----

interface RelayEnds {
  fdIn: number;
  offset: bigint | null;
  fdOut: number;
  /** Bytes to move, or -1 for all until the input ends. */
  length: number;
  /** Through this pipe with splice(2); without one, sendfile(2). */
  pipe?: Pipe;
  shutWr?: boolean;
  /** fdOut is a borrowed socket, which the sendfile may make blocking for the call. */
  borrowed?: boolean;
}

function relay(ends: RelayEnds, signal: AbortSignal | undefined, path?: string): Promise<number> {
  const { pipe } = ends;
  const syscall = pipe ? 'splice' : 'sendfile';
  return runWork(
    (done) => native.splice.relayStart(ends.fdIn, ends.offset, ends.fdOut, ends.length, pipe ? pipe.readFd : -1, pipe ? pipe.writeFd : -1,
      pipe ? pipe.size : SENDFILE_CHUNK, (ends.shutWr ? RELAY_SHUT_WR : 0) | (ends.borrowed && !pipe ? RELAY_BLOCK : 0), done),
    syscall,
    signal,
    (v) => v as number,
  ).catch((err: Error & { errno?: number; path?: string }) => {
    throw path !== undefined && err.errno !== undefined && err.path === undefined ? sysError(-err.errno, syscall, path) : err;
  });
}

/** A pipe for a relay: as large as the system lets an unprivileged process make one, else the default. */
function relayPipe(): Pipe {
  const pipe = new Pipe();
  try {
    pipe.size = RELAY_PIPE_SIZE;
  } catch {
    // The default capacity works, in smaller chunks.
  }
  return pipe;
}

// ---- sendFile ----

export interface SendFileOptions {
  /** Where in the file to start. Default: the file's position (0 for a path), which then moves past what was sent. */
  offset?: bigint | number;
  /** How many bytes to send at most. Default: up to the end of the file. */
  length?: number;
  signal?: AbortSignal;
}

/** An fd, a `FileHandle`, or (for inputs) a path: the fd, and how to let it go. */
interface Opened {
  fd: number;
  path?: string;
  close(): Promise<void>;
}

const isFileHandle = (v: unknown): v is FileHandle =>
  typeof v === 'object' && v !== null && typeof (v as FileHandle).fd === 'number' && typeof (v as FileHandle).stat === 'function' && typeof (v as FileHandle).close === 'function';

const nothing = async (): Promise<void> => {};

async function openInput(file: unknown, name: string): Promise<Opened> {
  if (typeof file === 'number') return { fd: validateFd(file, name), close: nothing };
  if (isFileHandle(file)) {
    if (file.fd < 0) throw sysError(EBADF, 'sendfile');
    return { fd: file.fd, close: nothing };
  }
  const path = toPath(file, name).text;
  const fh = await open(path, 'r');
  return { fd: fh.fd, path, close: () => fh.close() };
}

/**
 * Sends a file's bytes to `out` with sendfile(2), in one work call: they never
 * enter JS. `out` is a `net.Socket` (not TLS), an fd or a `FileHandle`; `file`
 * a path, an fd or a `FileHandle`. Resolves with the bytes sent: fewer than
 * `length` only when the file ended first.
 *
 * A socket is borrowed from libuv for the call: what was written to it before
 * goes first, its reading pauses, and it is Node's again when the Promise
 * settles. Do not write to it meanwhile. Aborting rejects with an `AbortError`,
 * whatever was sent by then.
 */
export async function sendFile(out: Socket | number | FileHandle, file: PathLike | number | FileHandle, options?: SendFileOptions): Promise<number> {
  const opts = validateOptions<SendFileOptions>(options, 'options', ['offset', 'length', 'signal']);
  const offset = validateOffset(opts.offset, 'options.offset');
  const length = opts.length === undefined ? -1 : validateInteger(opts.length, 'options.length', 0, Number.MAX_SAFE_INTEGER);
  const signal = validateAbortSignal(opts.signal, 'options.signal');
  if (!(out instanceof Socket) && typeof out !== 'number' && !isFileHandle(out)) {
    throw invalidArgType('out', 'of type number or an instance of net.Socket or FileHandle', out);
  }
  if (typeof out === 'number') validateFd(out, 'out');
  if (signal?.aborted) throw abortError(signal);
  const input = await openInput(file, 'file');
  let lent: Borrowed | undefined;
  try {
    if (out instanceof Socket) lent = await borrow(out, 'out', 'sendfile', false);
    const fdOut = lent ? lent.fd : typeof out === 'number' ? out : (out as FileHandle).fd;
    if (fdOut < 0) throw sysError(EBADF, 'sendfile');
    return await relay({ fdIn: input.fd, offset, fdOut, length, borrowed: lent !== undefined }, signal, input.path);
  } finally {
    await input.close();
    lent?.giveBack(); // last: the socket is Node's again as the Promise settles, not before
  }
}

// ---- proxy ----

export interface ProxyResult {
  /** Bytes that went from `a` to `b`. */
  aToB: number;
  /** Bytes that went from `b` to `a`. */
  bToA: number;
}

/**
 * Joins two sockets both ways through splice(2) pipes, until both directions
 * have ended: the end of one side's input shuts the other's writing side
 * (half-close), and the other direction goes on. Then both sockets are
 * destroyed, as `stream.pipeline` destroys its streams. An error in either
 * direction (or an abort) stops both, destroys both sockets with it, and
 * rejects with it.
 *
 * Bytes Node had read and nobody consumed are forwarded first. Neither socket
 * may be TLS.
 */
export async function proxy(a: Socket, b: Socket, options?: { signal?: AbortSignal }): Promise<ProxyResult> {
  const signal = validateSignalOptions(options);
  if (!(a instanceof Socket)) throw invalidArgType('a', 'an instance of net.Socket', a);
  if (!(b instanceof Socket)) throw invalidArgType('b', 'an instance of net.Socket', b);
  if (a === b) throw invalidArgValue('b', b, 'must be a different socket from a');
  for (const [s, name] of [[a, 'a'], [b, 'b']] as const) {
    const why = notWireBytes(s);
    if (why !== null) throw invalidArgValue(name, s, why);
  }
  if (signal?.aborted) throw abortError(signal);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const pipes: Pipe[] = [];
  let failure: unknown;
  try {
    const [la, lb] = await Promise.all([borrow(a, 'a', 'splice', true), borrow(b, 'b', 'splice', true)]);
    for (const chunk of la.unread) b.write(chunk);
    for (const chunk of lb.unread) a.write(chunk);
    await Promise.all([flushed(a), flushed(b)]);
    pipes.push(relayPipe(), relayPipe());
    const direction = (from: Borrowed, to: Borrowed, pipe: Pipe): Promise<number> =>
      relay({ fdIn: from.fd, offset: null, fdOut: to.fd, length: -1, pipe, shutWr: true }, stop.signal).catch((err) => {
        failure ??= signal?.aborted ? abortError(signal) : err;
        stop.abort(failure);
        throw failure;
      });
    const [aToB, bToA] = await Promise.allSettled([direction(la, lb, pipes[0]), direction(lb, la, pipes[1])]);
    if (failure !== undefined) throw failure;
    return {
      aToB: (aToB as PromiseFulfilledResult<number>).value + la.unread.reduce((n, c) => n + c.length, 0),
      bToA: (bToA as PromiseFulfilledResult<number>).value + lb.unread.reduce((n, c) => n + c.length, 0),
    };
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const p of pipes) p.close();
    destroyWith(a, failure as Error | undefined);
    destroyWith(b, failure as Error | undefined);
  }
}

/**
 * Destroys a stream with the operation's error, as `stream.pipeline` does: the
 * stream is `errored`, and its `'error'` event is handled (the error is the
 * Promise's), not an uncaught exception.
 */
function destroyWith(stream: Readable | Writable, err: Error | undefined): void {
  if (err !== undefined) stream.once('error', () => {});
  stream.destroy(err);
}

// ---- tee to two consumers ----

/** An output of `teeTo`: an fd, a `FileHandle`, a `Pipe` (its write end) or a `net.Socket` (borrowed). */
export type TeeOutput = number | FileHandle | Pipe | Socket;

async function outputFd(out: unknown, name: string): Promise<{ fd: number; lent?: Borrowed }> {
  if (out instanceof Socket) {
    const lent = await borrow(out, name, 'splice', false);
    return { fd: lent.fd, lent };
  }
  if (out instanceof Pipe) return { fd: out.writeFd };
  if (isFileHandle(out)) return { fd: out.fd };
  if (typeof out === 'number') return { fd: validateFd(out, name) };
  throw invalidArgType(name, 'of type number or an instance of FileHandle, Pipe, or net.Socket', out);
}

/**
 * Gives every byte read from `src` (a `Pipe`, or the read end of a pipe as an
 * fd) to both `a` and `b`, without copying it through JS: tee(2) duplicates
 * each chunk into a pipe of its own, and splice(2) moves it to each output.
 * Runs until every writer of `src` has closed its end and `src` is empty;
 * resolves with the bytes each output got. The slower output sets the pace.
 * Sockets are borrowed and given back as `sendFile` does; an output that is
 * closed under it fails the call (`EPIPE`).
 */
export async function teeTo(src: Pipe | number, a: TeeOutput, b: TeeOutput, options?: { signal?: AbortSignal }): Promise<number> {
  const signal = validateSignalOptions(options);
  if (!(src instanceof Pipe) && typeof src !== 'number') throw invalidArgType('src', 'of type number or an instance of Pipe', src);
  const fdIn = src instanceof Pipe ? src.readFd : validateFd(src, 'src');
  if (fdIn < 0) throw sysError(EBADF, 'tee');
  for (const [out, name] of [[a, 'a'], [b, 'b']] as const) {
    if (out instanceof Socket) {
      const why = notWireBytes(out);
      if (why !== null) throw invalidArgValue(name, out, why);
    }
  }
  if (signal?.aborted) throw abortError(signal);
  const outs: { fd: number; lent?: Borrowed }[] = [];
  const pipe = relayPipe();
  try {
    outs.push(await outputFd(a, 'a'), await outputFd(b, 'b'));
    if (outs.some((o) => o.fd < 0)) throw sysError(EBADF, 'splice');
    return await runWork((done) => native.splice.teeRelayStart(fdIn, outs[0].fd, outs[1].fd, pipe.readFd, pipe.writeFd, pipe.size, done), 'tee', signal, (v) => v as number);
  } finally {
    pipe.close();
    for (const o of outs) o.lent?.giveBack();
  }
}

// ---- copyFile ----

/**
 * Copies `src` to `dest` as `fs.promises.copyFile` does, with the same `mode`
 * flags (`COPYFILE_EXCL`, `COPYFILE_FICLONE`, `COPYFILE_FICLONE_FORCE`), but
 * always tries a reflink first (`FICLONE`: no data moves) and otherwise copies
 * inside the kernel with copy_file_range(2) over the source's data only, so
 * its holes stay holes. `dest` gets `src`'s permission bits; a copy that fails
 * after `dest` was opened removes it. Errors name `copyfile`, `src` and `dest`.
 */
export async function copyFile(src: PathLike, dest: PathLike, mode = 0): Promise<void> {
  const from = toPath(src, 'src').text;
  const to = toPath(dest, 'dest').text;
  const flags = validateUint32(mode, 'mode');
  const known = fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE | fsConstants.COPYFILE_FICLONE_FORCE | COPY_NO_CLONE;
  if ((flags & ~known) !== 0) throw invalidArgValue('mode', mode, 'must be a combination of the fs.constants.COPYFILE_* flags');
  const fail = (err: unknown): never => {
    const errno = (err as { errno?: number }).errno;
    throw typeof errno === 'number' ? sysError(-errno, 'copyfile', from, to) : err;
  };
  const input = await open(from, 'r').catch(fail);
  let output: FileHandle | undefined;
  try {
    const { mode: srcMode } = await input.stat();
    const excl = flags & fsConstants.COPYFILE_EXCL ? fsConstants.O_EXCL : 0;
    output = await open(to, fsConstants.O_WRONLY | fsConstants.O_CREAT | excl, srcMode).catch(fail);
    const fdIn = input.fd;
    const fdOut = output.fd;
    await runWork((done) => native.splice.copyFileStart(fdIn, fdOut, flags, done), 'copyfile', undefined, (v) => v);
    await output.chmod(srcMode & 0o7777);
  } catch (err) {
    if (output) {
      await output.close().catch(() => {});
      output = undefined;
      await unlink(to).catch(() => {});
    }
    fail(err);
  } finally {
    await output?.close();
    await input.close();
  }
}

// ---- pipeline ----

/** How `pipeline` moved the bytes. */
export interface PipelineResult {
  /** `'sendfile'` or `'splice'` inside the kernel; `'stream'` through `stream.pipeline`, when an end is not fd-backed. */
  mode: 'sendfile' | 'splice' | 'stream';
  /** Bytes moved; null for `'stream'`, which does not count them. */
  bytes: number | null;
  /** Why it streamed, when it did. */
  reason?: string;
}

/** One end as an fd: what it is, and how to finish with it afterwards. */
interface FdEnd {
  fd: number;
  /** A regular file (sendfile's input, an offset that can be given). */
  file: boolean;
  offset: bigint | null;
  length: number;
  lent?: Borrowed;
}

async function streamFd(stream: ReadStream | WriteStream): Promise<number> {
  const s = stream as unknown as { fd: number | null };
  if (s.fd === null) await once(stream, 'open');
  return s.fd as number;
}

/** An end's fd, or why it has none (then the pipeline streams). */
async function fdEnd(end: Readable | Writable | FileHandle, reading: boolean): Promise<FdEnd | string> {
  const name = reading ? 'src' : 'dst';
  if (isFileHandle(end)) return { fd: end.fd, file: (await end.stat()).isFile(), offset: null, length: -1 };
  if (end instanceof Socket) {
    if ((end as { isTTY?: boolean }).isTTY) return `${name} is a terminal`;
    const why = notWireBytes(end);
    if (why !== null) return `${name} ${why}`;
    if (reading && end.readableEncoding !== null) return `${name} decodes its bytes (setEncoding)`;
    const lent = await borrow(end, name, 'splice', reading);
    return { fd: lent.fd, file: false, offset: null, length: -1, lent };
  }
  if (end instanceof ReadStream || end instanceof WriteStream) {
    const s = end as (ReadStream | WriteStream) & { start?: number; end?: number; flags?: string | number; pos?: number };
    if (reading && ((end as ReadStream).readableLength > 0 || (end as ReadStream).readableEncoding !== null)) return `${name} has read or decoded bytes already`;
    if (!reading && (typeof s.flags !== 'string' || s.flags.includes('a'))) return `${name} appends (splice refuses O_APPEND)`;
    const fd = await streamFd(end);
    const isFile = await new Promise<boolean>((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st.isFile()))));
    if (!reading && s.start !== undefined) return `${name} writes at an offset (start)`;
    if (!reading) return { fd, file: isFile, offset: null, length: -1 };
    const start = s.start ?? 0;
    const last = s.end === undefined || s.end === Infinity ? -1 : s.end;
    return { fd, file: isFile, offset: isFile ? BigInt(start) : null, length: last < 0 ? -1 : Math.max(0, last - start + 1) };
  }
  const fd = (end as { fd?: unknown }).fd;
  if (!reading && typeof fd === 'number' && fd >= 0 && !(end as { isTTY?: boolean }).isTTY) {
    // process.stdout and stderr on a file: a SyncWriteStream, written synchronously (nothing queued).
    return { fd, file: false, offset: null, length: -1 };
  }
  return `${name} is not backed by an fd`;
}

/**
 * Moves everything from `src` to `dst` inside the kernel when both are
 * fd-backed (`fs.ReadStream`/`WriteStream`, a `net.Socket` that is not TLS,
 * a `FileHandle`, `process.stdin`/`stdout` on a pipe, file or socket):
 * sendfile(2) from a regular file, splice(2) through a pipe otherwise.
 * Otherwise it is `stream.pipeline(src, dst)`. The result says which it did,
 * and why it streamed. As `stream.pipeline`, it ends `dst` and destroys both
 * streams when done, and on an error destroys both with it; a `FileHandle` is
 * left open (its owner closes it).
 */
export async function pipeline(src: Readable | FileHandle, dst: Writable | FileHandle, options?: { signal?: AbortSignal }): Promise<PipelineResult> {
  const signal = validateSignalOptions(options);
  const isStream = (v: unknown): boolean => typeof v === 'object' && v !== null && typeof (v as Readable).on === 'function';
  if (!isStream(src) && !isFileHandle(src)) throw invalidArgType('src', 'an instance of Readable or FileHandle', src);
  if (!isStream(dst) && !isFileHandle(dst)) throw invalidArgType('dst', 'an instance of Writable or FileHandle', dst);
  if (signal?.aborted) throw abortError(signal);
  const from = await fdEnd(src, true);
  const to = typeof from === 'string' ? from : await fdEnd(dst, false);
  if (typeof from === 'string' || typeof to === 'string') {
    if (typeof from !== 'string') from.lent?.giveBack();
    if (isFileHandle(src) || isFileHandle(dst)) throw invalidArgValue(isFileHandle(src) ? 'dst' : 'src', isFileHandle(src) ? dst : src, `cannot stream with a FileHandle: ${from as string}`);
    const reason = (typeof from === 'string' ? from : to) as string;
    await streamPipeline(src as Readable, dst as Writable, { signal });
    return { mode: 'stream', bytes: null, reason };
  }
  const pipe = from.file ? undefined : relayPipe();
  let failure: Error | undefined;
  try {
    for (const chunk of from.lent?.unread ?? []) {
      if (to.lent) to.lent.socket.write(chunk);
      else writeSync(to.fd, chunk);
    }
    if (to.lent) await flushed(to.lent.socket);
    let bytes = await relay({ fdIn: from.fd, offset: from.offset, fdOut: to.fd, length: from.length, pipe, borrowed: to.lent !== undefined }, signal);
    bytes += from.lent?.unread.reduce((n, c) => n + c.length, 0) ?? 0;
    return { mode: pipe ? 'splice' : 'sendfile', bytes };
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    pipe?.close();
    from.lent?.giveBack();
    to.lent?.giveBack();
    await finish(src, dst, failure);
  }
}

/** What `stream.pipeline` does at the end: end `dst`, then destroy both (with the error, if any). */
async function finish(src: Readable | FileHandle, dst: Writable | FileHandle, failure: Error | undefined): Promise<void> {
  if (!isFileHandle(src)) destroyWith(src as Readable, failure);
  if (isFileHandle(dst)) return;
  const out = dst as Writable;
  if (failure || out === process.stdout || out === process.stderr) {
    if (failure) destroyWith(out, failure);
    return;
  }
  if (!out.writableEnded) {
    const finished = once(out, 'finish');
    out.end();
    await finished;
  }
  out.destroy();
}
