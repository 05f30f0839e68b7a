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
import { validateBigUint, validateBoolean, validateBytes, validateFd, validateInt32, validateUint32, UINT64_MAX } from './validate';

const EAGAIN = 11;
const EPIPE = 32;
const ECONNRESET = 104;
const EPROTO = 71;
const EMFILE = 24;

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

/**
 * One reply: `seq` is the request's index (0: the hello), `error` 0 or an
 * errno, `value` the result, `fd` the fd that came with it (a seccomp
 * listener, held by the channel until `closeHeld()` or `close()`) or -1.
 */
export interface HelperReply {
  seq: number;
  error: number;
  value: number;
  fd: number;
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

  /** Closes an fd a reply brought (once: a number closed already is left alone). */
  closeHeld(fd: number): void {
    if (!this.closed) native.handleCloseHeld(this.handle, fd);
  }

  override close(): void {
    this.closePeer();
    super.close();
  }

  protected readBatch(out: (HelperReply | null)[]): number {
    let count = 0;
    for (;;) {
      const n = native.helperRecv(this.handle, this.#bytes);
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
      const fd = this.#buffer[3]!;
      out.push(n === 12 ? { seq: this.#buffer[0]!, error: this.#buffer[1]!, value: this.#buffer[2]! >>> 0, fd } : { seq: -1, error: EPROTO, value: 0, fd });
    }
  }
}

/** One request: an op number, its integer, its payload, and an fd to pass. */
interface Request {
  op: number;
  value: number;
  payload?: Uint8Array;
  fd?: number;
  /** A seccomp step's: called with the listener its reply brings. */
  onListener?: (fd: number) => void;
  /** For errors: the syscall it names, and its paths. */
  syscall: string;
  path?: string | Uint8Array;
  dest?: string | Uint8Array;
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

/**
 * The paths an error names instead of the step's own, which may be the
 * helper's view (a sandbox's /newroot/etc is its caller's /etc).
 */
export interface StepNames {
  path?: string;
  dest?: string;
}

/** A setup step the helper runs in itself, in order, before the exec. */
export type HelperStep = (
  /** unshare(2) with `CLONE_*` flags. */
  | { op: 'unshare'; flags: number }
  /** setns(2) into the namespace `fd` refers to (a /proc/PID/ns/* or pidfd); `nstype` 0 accepts any. */
  | { op: 'setns'; fd: number; nstype?: number }
  /** One write(2) of `data` to `path` opened write-only, e.g. /proc/self/uid_map. */
  | { op: 'write'; path: string | Uint8Array; data: string | Uint8Array }
  | { op: 'sethostname'; name: string | Uint8Array }
  /** prctl(2) with `option` and up to four further arguments. */
  | { op: 'prctl'; option: number; args?: (bigint | number)[] }
  /** chdir(2); with `try`, a missing directory leaves the helper where it is. */
  | { op: 'chdir'; path: string | Uint8Array; try?: boolean }
  /**
   * mount(2), after making `target` (and its parents) with `makeTarget`: a
   * directory, or an empty file for a bind of a non-directory; with `try`, a
   * bind whose source is missing mounts nothing. `attributes` (`MOUNT_ATTR_*`)
   * are then set on the new mount and every mount below it.
   */
  | { op: 'mount'; source?: string | Uint8Array; target: string | Uint8Array; fstype?: string; flags?: number; data?: string; attributes?: number; makeTarget?: boolean; try?: boolean }
  /** mount_setattr(2): `set` and `clear` are `MOUNT_ATTR_*`, `flags` `AT_*` (`AT_RECURSIVE`). */
  | { op: 'setattr'; path: string | Uint8Array; set?: number; clear?: number; flags?: number }
  /** umount2(2). */
  | { op: 'umount'; path: string | Uint8Array; flags?: number }
  | { op: 'pivotRoot'; newRoot: string | Uint8Array; putOld: string | Uint8Array }
  /** mkdir -p: an existing directory is kept. */
  | { op: 'mkdir'; path: string | Uint8Array; mode?: number }
  /** symlink(2) at `path` to `target` (parents made; the same link already there is kept). */
  | { op: 'symlink'; target: string | Uint8Array; path: string | Uint8Array }
  /** A new file at `path` (parents made) holding `data`, or what `fd` reads up to its end. */
  | { op: 'file'; path: string | Uint8Array; data?: string | Uint8Array; fd?: number; mode?: number }
  /**
   * The rest runs in a child made by clone(2) in new namespaces (`CLONE_NEW*`
   * flags, `CLONE_NEWTIME` excepted): in a new PID namespace pid 2 under an
   * init, or pid 1 with `asPid1`. The helper stays outside as a monitor (protocol.h).
   */
  | { op: 'fork'; flags?: number; asPid1?: boolean }
  | { op: 'setsid' }
  /**
   * The capabilities the target keeps (a bit per `CAP_*`); all others leave
   * every set, the bounding set included. `ambient` (a subset, default all of
   * `keep`) are also inheritable and ambient: what a target that is not uid 0 keeps across execve.
   */
  | { op: 'caps'; keep: bigint; ambient?: bigint }
  /**
   * seccomp(2) `SECCOMP_SET_MODE_FILTER` with `flags` (`SECCOMP_FILTER_FLAG_*`)
   * and `filter`, an array of `struct sock_filter` (8 bytes each). Unless
   * running as root, a `prctl` step with `PR_SET_NO_NEW_PRIVS` must come
   * first. With `SECCOMP_FILTER_FLAG_NEW_LISTENER`, `onListener` is called
   * with the listener fd as soon as the reply brings it (before the later
   * steps and the exec may need answers); the fd is closed when it returns,
   * so keep a duplicate (`new SeccompNotify(fd)` makes one). The filter must
   * let the helper finish: its `sendmsg`, `recvmsg`, `close`, `execve` and
   * the later steps' calls run under it.
   */
  | { op: 'seccomp'; flags: number; filter: Uint8Array; onListener?: (fd: number) => void }
) & { names?: StepNames };

/** `step[key]` as bytes for the kernel, `undefined` as empty (a NULL to the helper). */
function bytesOf(step: object, key: string, name: string, optional = false): Buffer {
  const value = (step as Record<string, unknown>)[key];
  if (optional && value === undefined) return Buffer.alloc(0);
  return validateBytes(value, `${name}.${key}`);
}

const NUL = Buffer.alloc(1);

function stepRequest(step: HelperStep, i: number): Request {
  const name = `steps[${i}]`;
  if (step === null || typeof step !== 'object') throw invalidArgType(name, 'of type object', step);
  const request = stepRequestOf(step, name, i);
  if (step.names !== undefined) Object.assign(request, { path: step.names.path, dest: step.names.dest });
  return request;
}

function stepRequestOf(step: HelperStep, name: string, i: number): Request {
  const flag = (value: unknown, key: string): boolean => (value === undefined ? false : validateBoolean(value, `${name}.${key}`));
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
    case 'chdir': {
      const value = flag(step.try, 'try') ? P.BUTTER_HELPER_CHDIR_TRY : 0;
      return { op: P.BUTTER_HELPER_CHDIR, value, payload: validateBytes(step.path, `${name}.path`), syscall: 'chdir', path: step.path, step: i };
    }
    case 'mount': {
      const head = new BigUint64Array([BigInt(validateUint32(step.flags ?? 0, `${name}.flags`)), BigInt(validateUint32(step.attributes ?? 0, `${name}.attributes`))]);
      const fields = [bytesOf(step, 'source', name, true), bytesOf(step, 'target', name), bytesOf(step, 'fstype', name, true), bytesOf(step, 'data', name, true)];
      const value = (flag(step.try, 'try') ? P.BUTTER_HELPER_MOUNT_TRY : 0) | (flag(step.makeTarget, 'makeTarget') ? P.BUTTER_HELPER_MOUNT_MKTARGET : 0);
      const payload = Buffer.concat([new Uint8Array(head.buffer), ...fields.flatMap((f) => [f, NUL])]);
      return { op: P.BUTTER_HELPER_MOUNT, value, payload, syscall: 'mount', path: step.source ?? step.target, dest: step.source === undefined ? undefined : step.target, step: i };
    }
    case 'setattr': {
      const head = new BigUint64Array([BigInt(validateUint32(step.set ?? 0, `${name}.set`)), BigInt(validateUint32(step.clear ?? 0, `${name}.clear`))]);
      const payload = Buffer.concat([new Uint8Array(head.buffer), bytesOf(step, 'path', name)]);
      return { op: P.BUTTER_HELPER_SETATTR, value: validateUint32(step.flags ?? 0, `${name}.flags`), payload, syscall: 'mount_setattr', path: step.path, step: i };
    }
    case 'umount':
      return { op: P.BUTTER_HELPER_UMOUNT, value: validateUint32(step.flags ?? 0, `${name}.flags`), payload: bytesOf(step, 'path', name), syscall: 'umount2', path: step.path, step: i };
    case 'pivotRoot': {
      const newRoot = bytesOf(step, 'newRoot', name);
      return { op: P.BUTTER_HELPER_PIVOT_ROOT, value: newRoot.byteLength, payload: Buffer.concat([newRoot, bytesOf(step, 'putOld', name)]), syscall: 'pivot_root', path: step.newRoot, dest: step.putOld, step: i };
    }
    case 'mkdir':
      return { op: P.BUTTER_HELPER_MKDIR, value: validateInt32(step.mode ?? 0o755, `${name}.mode`, 0, 0o7777), payload: absolute(step, 'path', name), syscall: 'mkdir', path: step.path, step: i };
    case 'symlink': {
      const target = bytesOf(step, 'target', name);
      return { op: P.BUTTER_HELPER_SYMLINK, value: target.byteLength, payload: Buffer.concat([target, absolute(step, 'path', name)]), syscall: 'symlink', path: step.target, dest: step.path, step: i };
    }
    case 'file': {
      const mode = validateInt32(step.mode ?? 0o666, `${name}.mode`, 0, 0o7777);
      const path = absolute(step, 'path', name);
      if (step.fd !== undefined) {
        if (step.data !== undefined) throw invalidArgValue(`${name}.data`, step.data, 'must not be given with fd');
        return { op: P.BUTTER_HELPER_FILE, value: mode, payload: path, fd: validateFd(step.fd, `${name}.fd`), syscall: 'write', path: step.path, step: i };
      }
      const data = typeof step.data === 'string' ? Buffer.from(step.data) : step.data;
      if (!(data instanceof Uint8Array)) throw invalidArgType(`${name}.data`, 'of type string or an instance of Buffer or Uint8Array', data);
      return { op: P.BUTTER_HELPER_FILE, value: mode, payload: Buffer.concat([path, NUL, data]), syscall: 'write', path: step.path, step: i };
    }
    case 'fork':
      return {
        op: P.BUTTER_HELPER_FORK,
        value: flag(step.asPid1, 'asPid1') ? P.BUTTER_HELPER_FORK_AS_PID_1 : 0,
        payload: new Uint8Array(new BigUint64Array([BigInt(validateUint32(step.flags ?? 0, `${name}.flags`))]).buffer),
        syscall: 'clone',
        step: i,
      };
    case 'setsid':
      return { op: P.BUTTER_HELPER_SETSID, value: 0, syscall: 'setsid', step: i };
    case 'caps': {
      const keep = validateBigUint(step.keep, `${name}.keep`, UINT64_MAX);
      const ambient = step.ambient === undefined ? keep : validateBigUint(step.ambient, `${name}.ambient`, UINT64_MAX);
      if ((ambient & ~keep) !== 0n) throw invalidArgValue(`${name}.ambient`, step.ambient, 'must be a subset of keep');
      return { op: P.BUTTER_HELPER_CAPS, value: 0, payload: new Uint8Array(new BigUint64Array([keep, ambient]).buffer), syscall: 'capset', step: i };
    }
    case 'seccomp': {
      const flags = validateUint32(step.flags, `${name}.flags`);
      const filter = step.filter;
      if (!(filter instanceof Uint8Array)) throw invalidArgType(`${name}.filter`, 'an instance of Buffer or Uint8Array', filter);
      if (filter.byteLength === 0 || filter.byteLength % 8 !== 0 || filter.byteLength > P.BUTTER_HELPER_MAX_REQUEST) {
        throw invalidArgValue(`${name}.filter`, filter, `must be 1 to ${P.BUTTER_HELPER_MAX_REQUEST / 8} struct sock_filter (8 bytes each)`);
      }
      const listening = (flags & P.SECCOMP_FILTER_FLAG_NEW_LISTENER) !== 0;
      if (listening !== (step.onListener !== undefined)) {
        throw invalidArgValue(`${name}.onListener`, step.onListener, 'must be a function exactly when flags has SECCOMP_FILTER_FLAG_NEW_LISTENER');
      }
      if (listening && typeof step.onListener !== 'function') throw invalidArgType(`${name}.onListener`, 'of type function', step.onListener);
      return { op: P.BUTTER_HELPER_SECCOMP, value: flags, payload: filter, onListener: step.onListener, syscall: 'seccomp', step: i };
    }
    default:
      throw invalidArgValue(`${name}.op`, (step as { op: unknown }).op);
  }
}

/** An absolute path (the helper makes its parents, from the root). */
function absolute(step: object, key: string, name: string): Buffer {
  const path = bytesOf(step, key, name);
  if (path[0] !== 0x2f) throw invalidArgValue(`${name}.${key}`, (step as Record<string, unknown>)[key], 'must be an absolute path');
  return path;
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
      if (reply.fd >= 0 || req.onListener !== undefined) listener(channel, reply, req);
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

/** The call a failed request's reply value names, when not the request's main one. */
const FAILED_CALLS: Record<number, string> = {
  [P.BUTTER_HELPER_FAILED_OPEN]: 'open',
  [P.BUTTER_HELPER_FAILED_MKDIR]: 'mkdir',
  [P.BUTTER_HELPER_FAILED_STAT]: 'stat',
  [P.BUTTER_HELPER_FAILED_READ]: 'read',
  [P.BUTTER_HELPER_FAILED_SETATTR]: 'mount_setattr',
  [P.BUTTER_HELPER_FAILED_PRCTL]: 'prctl',
};
/** Hands a seccomp step's listener to its `onListener`, then closes this process's copy. */
function listener(channel: HelperChannel, reply: HelperReply, req: Request): void {
  try {
    if (req.onListener === undefined) throw sysError(EPROTO, 'butter-helper', helperPath());
    // The kernel drops an fd the receiver has no room for (MSG_CTRUNC).
    if (reply.fd < 0) throw Object.assign(sysError(EMFILE, 'recvmsg'), { step: req.step });
    req.onListener(reply.fd);
  } finally {
    if (reply.fd >= 0) channel.closeHeld(reply.fd);
  }
}

function stepError(reply: HelperReply, req: Request): SystemError {
  const detailed = req.op !== P.BUTTER_HELPER_PRCTL && reply.value !== 0 ? FAILED_CALLS[reply.value] : undefined;
  // A target made or changed after the mount is the request's dest.
  const onDest = reply.value === P.BUTTER_HELPER_FAILED_MKDIR || reply.value === P.BUTTER_HELPER_FAILED_SETATTR;
  const err = detailed === undefined ? sysError(reply.error, req.syscall, req.path, req.dest) : sysError(reply.error, detailed, onDest ? (req.dest ?? req.path) : req.path);
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
