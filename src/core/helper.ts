/**
 * The single-threaded helper: how Butter starts a process whose per-thread
 * kernel state (namespaces, ...) must be set before it runs, which a
 * multi-threaded Node cannot do in itself. `spawnHelper()` starts
 * butter-helper with Node's own `child_process.spawn` (so stdio, events,
 * `kill()` and exit codes are Node's), sends it the steps, and the helper runs
 * them in itself and execs the target. The protocol is src/helper/protocol.h.
 */
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import { dirname, join } from 'node:path';
import { invalidArgType, invalidArgValue, outOfRange, sysError, type SystemError } from './errors';
import { addonPath, native, type NativeHandle } from './native';
import { FdSource } from './source';
import { validateBigUint, validateBytes, validateFd, validateInt32, validateUint32, UINT64_MAX } from './validate';

const EAGAIN = 11;
const EPIPE = 32;
const ECONNRESET = 104;
const EPROTO = 71;

const P = native.helperConstants;

/**
 * butter-helper's path: beside the addon in use, built with it (build/Release,
 * or build/Debug for a sanitizer build), or prebuilt for the same platform
 * and C library (prebuilds/linux-x64/butter-helper.glibc beside
 * butter.napi.glibc.node; scripts/prebuild.sh).
 */
export function helperPath(): string {
  const libc = /\.napi\.(glibc|musl)\.node$/.exec(addonPath)?.[1];
  return join(dirname(addonPath), libc === undefined ? 'butter-helper' : `butter-helper.${libc}`);
}

/** One reply: `seq` is the request's index (0: the hello), `error` 0 or an errno, `value` the result. */
export interface HelperReply {
  seq: number;
  error: number;
  value: number;
}

/**
 * The parent's end of the protocol socket, and the helper's end until
 * `spawn` has given it to the child. Replies are its events; `null` is EOF:
 * the helper exec'd (its end is close-on-exec) or is gone.
 */
export class HelperChannel extends FdSource<HelperReply | null> {
  #peer: NativeHandle | null;
  /** The helper's end, for `stdio`; -1 once `closePeer()` has closed it here. */
  peerFd: number;
  #buffer = new Int32Array(4);
  #bytes = new Uint8Array(this.#buffer.buffer);

  constructor() {
    // The peer's handle only owns its fd (no watch): it closes it even if this constructor never returns.
    const peer = native.handleNew(() => {});
    let peerFd = -1;
    super((handle) => {
      const r = native.helperSocketpair(handle, peer);
      if (typeof r === 'number') return r;
      peerFd = r[1];
      return r[0];
    }, 'socketpair');
    this.#peer = peer;
    this.peerFd = peerFd;
  }

  /** Closes this process's copy of the helper's end (after spawn has duplicated it into the child). */
  closePeer(): void {
    if (this.#peer === null) return;
    native.handleClose(this.#peer);
    this.#peer = null;
    this.peerFd = -1;
  }

  /** Sends one request, with `fd` as SCM_RIGHTS when given: bytes sent, or -errno (EAGAIN when the socket is full). */
  send(message: Uint8Array, fd = -1): number {
    this.assertOpen('sendmsg');
    return native.helperSend(this.fd, message, fd);
  }

  override close(): void {
    this.closePeer();
    super.close();
  }

  protected readBatch(out: (HelperReply | null)[]): number {
    let count = 0;
    for (;;) {
      const n = native.handleRead(this.handle, this.#bytes);
      if (n === -EAGAIN) return count;
      if (n === -ECONNRESET) continue; // reported once, ahead of the replies queued before it
      if (n < 0) return count || n;
      count++;
      // EOF stays: each read after it gives null again.
      if (n === 0) {
        out.push(null);
        return count;
      }
      // A reply is three int32s; anything else cannot come from the helper.
      out.push(n === 12 ? { seq: this.#buffer[0]!, error: this.#buffer[1]!, value: this.#buffer[2]! >>> 0 } : { seq: -1, error: EPROTO, value: 0 });
    }
  }
}

/** One request: an op number, its integer, its payload, and an fd to pass. */
interface Request {
  op: number;
  value: number;
  payload?: Uint8Array;
  fd?: number;
  /** For errors: the syscall it names, and its path. */
  syscall: string;
  path?: string | Uint8Array;
  step: number;
}

/** A request's bytes: `struct butter_helper_request` in the machine's byte order, then the payload. */
export function encodeRequest(op: number, value: number, payload?: Uint8Array): Uint8Array {
  const message = new Uint8Array(8 + (payload?.byteLength ?? 0));
  const head = new Uint32Array(message.buffer, 0, 2);
  head[0] = op;
  head[1] = value;
  if (payload) message.set(payload, 8);
  return message;
}

/** A setup step the helper runs in itself, in order, before the exec. */
export type HelperStep =
  /** unshare(2) with `CLONE_*` flags. */
  | { op: 'unshare'; flags: number }
  /** setns(2) into the namespace `fd` refers to (a /proc/PID/ns/* or pidfd); `nstype` 0 accepts any. */
  | { op: 'setns'; fd: number; nstype?: number }
  /** One write(2) of `data` to `path` opened write-only, e.g. /proc/self/uid_map. */
  | { op: 'write'; path: string | Uint8Array; data: string | Uint8Array }
  | { op: 'sethostname'; name: string | Uint8Array }
  /** prctl(2) with `option` and up to four further arguments. */
  | { op: 'prctl'; option: number; args?: (bigint | number)[] }
  | { op: 'chdir'; path: string | Uint8Array };

function stepRequest(step: HelperStep, i: number): Request {
  const name = `steps[${i}]`;
  if (step === null || typeof step !== 'object') throw invalidArgType(name, 'of type object', step);
  switch (step.op) {
    case 'unshare':
      return { op: P.BUTTER_HELPER_UNSHARE, value: validateUint32(step.flags, `${name}.flags`), syscall: 'unshare', step: i };
    case 'setns':
      return { op: P.BUTTER_HELPER_SETNS, value: validateUint32(step.nstype ?? 0, `${name}.nstype`), fd: validateFd(step.fd, `${name}.fd`), syscall: 'setns', step: i };
    case 'write': {
      const path = validateBytes(step.path, `${name}.path`);
      const data = typeof step.data === 'string' ? Buffer.from(step.data) : step.data;
      if (!(data instanceof Uint8Array)) throw invalidArgType(`${name}.data`, 'of type string or an instance of Buffer or Uint8Array', data);
      return { op: P.BUTTER_HELPER_WRITE, value: path.byteLength, payload: Buffer.concat([path, data]), syscall: 'write', path: step.path, step: i };
    }
    case 'sethostname':
      return { op: P.BUTTER_HELPER_SETHOSTNAME, value: 0, payload: validateBytes(step.name, `${name}.name`), syscall: 'sethostname', step: i };
    case 'prctl': {
      const given = step.args ?? [];
      if (given.length > 4) throw outOfRange(`${name}.args.length`, '<= 4', given.length);
      const args = new BigUint64Array(4);
      given.forEach((a, j) => (args[j] = validateBigUint(a, `${name}.args[${j}]`, UINT64_MAX)));
      return { op: P.BUTTER_HELPER_PRCTL, value: validateInt32(step.option, `${name}.option`, 0), payload: new Uint8Array(args.buffer), syscall: 'prctl', step: i };
    }
    case 'chdir':
      return { op: P.BUTTER_HELPER_CHDIR, value: 0, payload: validateBytes(step.path, `${name}.path`), syscall: 'chdir', path: step.path, step: i };
    default:
      throw invalidArgValue(`${name}.op`, (step as { op: unknown }).op);
  }
}

export interface HelperSpawnOptions extends SpawnOptions {
  /** What the helper does in itself before the exec, in order. */
  steps?: HelperStep[];
}

/** What `spawnHelper()` gives: Node's ChildProcess, and when the target runs. */
export interface HelperProcess {
  child: ChildProcess;
  /**
   * Resolves once the target is exec'd. Rejects with the error of the step
   * that failed (`step`: its index in `steps`, or `steps.length` for the exec),
   * or when the helper ended before the exec (`code: 'ERR_BUTTER_HELPER_EXITED'`).
   */
  ready: Promise<void>;
}

/** Node's stdio option as an array of at least three entries, so the socket can go after them. */
function stdioArray(stdio: StdioOptions | undefined): unknown[] {
  if (stdio === undefined || typeof stdio === 'string') return [stdio ?? 'pipe', stdio ?? 'pipe', stdio ?? 'pipe'];
  const out: unknown[] = [...stdio];
  while (out.length < 3) out.push(undefined); // spawn's own default for these: 'pipe'
  return out;
}

/**
 * Starts `file` (looked up in PATH, as by child_process.spawn, when it has no
 * '/') with `args`, after the helper has run `options.steps` in itself. The
 * rest of `options` is child_process.spawn's (`shell` excepted).
 */
export function spawnHelper(file: string, args: readonly string[], options: HelperSpawnOptions = {}): HelperProcess {
  const { steps = [], argv0 = file, shell: _shell, ...spawnOptions } = options;
  if (typeof file !== 'string') throw invalidArgType('file', 'of type string', file);
  if (!Array.isArray(steps)) throw invalidArgType('options.steps', 'an instance of Array', steps);
  const execPath = validateBytes(file, 'file');
  const requests: Request[] = [
    { op: P.BUTTER_HELPER_HELLO, value: P.BUTTER_HELPER_VERSION, syscall: 'hello', path: helperPath(), step: -1 },
    ...steps.map(stepRequest),
    {
      op: P.BUTTER_HELPER_EXEC,
      value: file.includes('/') ? 0 : P.BUTTER_HELPER_EXEC_SEARCH,
      payload: execPath,
      syscall: file.includes('/') ? 'execve' : 'execvp',
      path: file,
      step: steps.length,
    },
  ];
  const channel = new HelperChannel();
  let child: ChildProcess;
  try {
    const stdio = stdioArray(spawnOptions.stdio);
    child = spawn(helperPath(), [String(stdio.length), argv0, ...args], { ...spawnOptions, stdio: [...stdio, channel.peerFd] as StdioOptions });
  } catch (err) {
    channel.close();
    throw err;
  }
  channel.closePeer(); // the child has its copy: the helper's EOF is now the child's alone
  return { child, ready: talk(child, channel, requests) };
}

async function talk(child: ChildProcess, channel: HelperChannel, requests: Request[]): Promise<void> {
  try {
    // A helper that could not start: spawn's own error ('error' comes on the next tick).
    if (child.pid === undefined) throw await new Promise<Error>((resolve) => child.once('error', resolve));
    let sent = 0;
    let answered = 0;
    for (;;) {
      // Send all that fits; a full socket empties as the helper answers.
      while (sent < requests.length) {
        const req = requests[sent]!;
        const r = channel.send(encodeRequest(req.op, req.value, req.payload), req.fd);
        if (r === -EAGAIN) break;
        if (r === -EPIPE || r === -ECONNRESET) sent = requests.length; // the helper is gone: its EOF says the rest
        else if (r < 0) throw sysError(-r, 'sendmsg');
        else sent++;
      }
      const reply = await nextReply(channel);
      if (reply === null) {
        // EOF after every request but the exec was answered: the exec closed the socket.
        if (answered === requests.length - 1) return;
        throw await exited(child);
      }
      const req = requests[answered];
      if (reply.seq !== answered || req === undefined) throw sysError(EPROTO, 'butter-helper', helperPath());
      answered++;
      if (reply.error !== 0) throw stepError(reply, req);
    }
  } finally {
    channel.close();
  }
}

/**
 * The next reply, or null at EOF. A helper that ends with requests unread
 * (after a failure, or killed) resets the socket: the wake is an error (libuv
 * reports the POLLERR as EBADF), but its replies are still queued, then EOF.
 */
async function nextReply(channel: HelperChannel): Promise<HelperReply | null> {
  try {
    return await channel.read();
  } catch {
    return channel.readEvent();
  }
}

function stepError(reply: HelperReply, req: Request): SystemError {
  const failedOpen = req.op === P.BUTTER_HELPER_WRITE && reply.value === P.BUTTER_HELPER_FAILED_OPEN;
  const err = sysError(reply.error, failedOpen ? 'open' : req.syscall, req.path);
  if (req.step >= 0) Object.assign(err, { step: req.step });
  return err;
}

/** The error for a helper that ended before the exec, once its exit status is known. */
async function exited(child: ChildProcess): Promise<Error> {
  if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
  const how = child.signalCode !== null ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode}`;
  return Object.assign(new Error(`butter-helper ${how} before the exec`), {
    code: 'ERR_BUTTER_HELPER_EXITED',
    exitCode: child.exitCode,
    signal: child.signalCode,
  });
}
