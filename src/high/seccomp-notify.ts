/**
 * SeccompNotify: a seccomp listener as an event source. Each event is a
 * syscall a target process waits in until this side answers it: fail it
 * with an errno, complete it with a value, let it run, or give it an fd.
 *
 * Never an unanswered notification: every one is answered exactly once, by
 * the caller, or with `defaultAnswer` at its deadline, when an `'event'`
 * listener throws or rejects, and at `close()`. (Closing the listener alone
 * would also release the waiting targets, with ENOSYS, and so would the end
 * of this process.)
 *
 * Fd ownership: the object works on its own close-on-exec duplicate of the
 * listener it is given (FdSource owns it); the caller's stays the caller's.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { invalidArgType, invalidArgValue, outOfRange, sysError, EAGAIN, EFAULT, ENOENT, EPIPE } from '../core/errors';
import { native } from '../core/native';
import { FdSource } from '../core/source';
import { closeOnAbort, validateAbortSignal, validateBigUint, validateBoolean, validateFd, validateInteger, validateOptions, UINT64_MAX } from '../core/validate';
import {
  errnoOf,
  SECCOMP_ADDFD_FLAG_SEND,
  SECCOMP_ADDFD_FLAG_SETFD,
  SECCOMP_NOTIF_SIZE,
  SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
  SECCOMP_USER_NOTIF_FLAG_CONTINUE,
  validateInt64,
} from '../raw/seccomp-notify';
import { syscallName } from '../raw/seccomp-notify-syscalls';

const O_CLOEXEC = 0o2000000;
const ENAMETOOLONG = 36;
/** /proc/PID/mem is read a page at a time when looking for a string's end: the next page may not be mapped. */
const PAGE = 4096;

/** An answer: fail the syscall with an errno, complete it with a value, or (`'continue'`) let it run. */
export type SeccompAnswer = { error: string | number } | { value: bigint | number } | 'continue';

export interface SeccompNotifyOptions {
  /**
   * Milliseconds a notification may wait for its answer before it gets
   * `defaultAnswer`, from its read, or, for one handed to `'event'` listeners
   * as it arrives, from their return. Default 1000; `Infinity` for no
   * deadline (it is still answered at `close()`).
   */
  deadline?: number;
  /**
   * The answer of a notification left unanswered (deadline, a listener's
   * throw, `close()`). Default `{ error: 'ENOSYS' }`, what the kernel answers
   * when a listener goes away.
   */
  defaultAnswer?: SeccompAnswer;
  /** `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP` (Linux 6.6): the kernel wakes this process on the target's CPU. Default false. */
  syncWakeUp?: boolean;
  /** Closes it when aborted. */
  signal?: AbortSignal;
}

/** Options of `addFd()`. */
export interface SeccompAddFdOptions {
  /** The fd number it gets in the target (`SECCOMP_ADDFD_FLAG_SETFD`), replacing whatever is open there. Default: the lowest free one. */
  targetFd?: number;
  /** Close-on-exec in the target. Default false. */
  cloexec?: boolean;
  /** Answers the notification with the new fd's number, atomically (`SECCOMP_ADDFD_FLAG_SEND`). Default false. */
  send?: boolean;
}

/** What the kernel is told: `seccomp_notif_resp` without the id. */
interface Response {
  /** A safe integer, or the 64 bits as a bigint. */
  val: bigint | number;
  error: number;
  flags: number;
}

/** One syscall waiting for its answer. */
export class SeccompNotification {
  /** The notification's cookie (unique for the filter). */
  readonly id: bigint;
  /** The target thread, as this process's pid namespace sees it (0 when outside it). */
  readonly pid: number;
  /** The target's `AUDIT_ARCH_*` (`0xc000003e` for x86_64). */
  readonly arch: number;
  /** The syscall's number. */
  readonly nr: number;
  readonly instructionPointer: bigint;
  /** @internal */ _answered = false;
  /** @internal */ _due = 0;
  readonly #owner: SeccompNotify;
  readonly #args: bigint[];

  /**
   * @internal From `struct seccomp_notif` as the kernel wrote it (host byte
   * order), seen as 64-bit words and as 32-bit ints.
   */
  constructor(owner: SeccompNotify, words: BigUint64Array, ints: Int32Array) {
    this.#owner = owner;
    this.id = words[0]!;
    this.pid = ints[2]! >>> 0;
    this.nr = ints[4]!;
    this.arch = ints[5]! >>> 0;
    this.instructionPointer = words[3]!;
    this.#args = [words[4]!, words[5]!, words[6]!, words[7]!, words[8]!, words[9]!];
  }

  /** The syscall's name, where Butter's table for `arch` has one (else null). */
  get syscall(): string | null {
    return syscallName(this.arch, this.nr);
  }

  /** The six argument registers, unsigned: pointers are addresses in the target (`readMemory()`). */
  get args(): readonly bigint[] {
    // Frozen when first asked for: most answers never look.
    return Object.freeze(this.#args);
  }

  /** Whether it is answered (by this side, a deadline, at close, or because its target no longer waits). */
  get answered(): boolean {
    return this._answered;
  }

  /**
   * Answers: the syscall fails with `error` (`'EPERM'`, or a positive errno),
   * or returns `value`. Returns true when this call answered it; false when it
   * was answered already, or its target no longer waits (it died, or a signal
   * interrupted the syscall: it fails with EINTR, or restarts as a new
   * notification when the handler has SA_RESTART).
   */
  respond(answer: { error: string | number } | { value: bigint | number }): boolean {
    return this.#owner._answer(this, responseOf(answer, 'answer'));
  }

  /**
   * Lets the syscall run as if no filter had stopped it
   * (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`). Returns as `respond()`.
   *
   * Not a security decision: the target's memory can change between what
   * this side read and what the kernel reads when the syscall runs (another
   * thread of the target, or shared memory, rewrites a path after the check),
   * so `continue()` after inspecting pointer arguments allows what they
   * point at then, not what was checked. Use it for syscalls allowed on their
   * number and register values alone; emulate the others (`addFd()`,
   * `respond({ value })`) or deny them.
   */
  continue(): boolean {
    return this.#owner._answer(this, { val: 0n, error: 0, flags: SECCOMP_USER_NOTIF_FLAG_CONTINUE });
  }

  /**
   * Installs a copy of `fd` (an fd of this process) in the target
   * (`SECCOMP_IOCTL_NOTIF_ADDFD`) and returns its number there. With `send`,
   * that number is also the syscall's result (the notification is answered);
   * otherwise answer it afterwards. Throws ENOENT when the target no longer waits.
   */
  addFd(fd: number, options?: SeccompAddFdOptions): number {
    validateFd(fd);
    const opts = validateOptions<SeccompAddFdOptions>(options, 'options', ['targetFd', 'cloexec', 'send']);
    let flags = 0;
    let targetFd = 0;
    if (opts.targetFd !== undefined) {
      targetFd = validateFd(opts.targetFd, 'options.targetFd');
      flags |= SECCOMP_ADDFD_FLAG_SETFD;
    }
    const cloexec = opts.cloexec !== undefined && validateBoolean(opts.cloexec, 'options.cloexec');
    const send = opts.send !== undefined && validateBoolean(opts.send, 'options.send');
    if (send) flags |= SECCOMP_ADDFD_FLAG_SEND;
    return this.#owner._addFd(this, fd, flags, targetFd, cloexec ? O_CLOEXEC : 0, send);
  }

  /** Whether the target still waits for this answer (`SECCOMP_IOCTL_NOTIF_ID_VALID`). */
  idValid(): boolean {
    return this.#owner._idValid(this);
  }

  /**
   * Reads `length` bytes of the target's memory at `address` (`/proc/PID/mem`;
   * fewer where the mapping ends). The notification is checked valid after
   * the open, so the pid names the target and not a process that reused its
   * number, and again after the read, so the bytes are those of a target
   * still waiting in this syscall. Throws ENOENT when it no longer waits.
   * See `continue()` for why what is read here may differ from what the
   * kernel would read.
   */
  readMemory(address: bigint | number, length: number): Buffer {
    const at = validateBigUint(address, 'address', UINT64_MAX);
    validateInteger(length, 'length', 0, 2 ** 31 - 1);
    return this.#read((fd) => {
      const buffer = Buffer.alloc(length);
      return buffer.subarray(0, readAt(fd, buffer, at));
    });
  }

  /**
   * Reads the NUL-terminated string at `address` in the target's memory (a
   * path argument), as UTF-8, checked as `readMemory()` is. ENAMETOOLONG when
   * no NUL comes within `maxLength` bytes (default 4096, PATH_MAX), EFAULT
   * when the string runs into unmapped memory (as the syscall itself would).
   */
  readString(address: bigint | number, maxLength = PAGE): string {
    const at = validateBigUint(address, 'address', UINT64_MAX);
    validateInteger(maxLength, 'maxLength', 1, 2 ** 31 - 1);
    return this.#read((fd) => {
      const buffer = Buffer.alloc(maxLength);
      let got = 0;
      while (got < maxLength) {
        // Up to the end of the page: the page after it may not be mapped.
        const want = Math.min(maxLength - got, PAGE - Number((at + BigInt(got)) % BigInt(PAGE)));
        const n = readAt(fd, buffer.subarray(got, got + want), at + BigInt(got));
        const nul = buffer.subarray(got, got + n).indexOf(0);
        if (nul >= 0) return buffer.toString('utf8', 0, got + nul);
        if (n < want) throw sysError(EFAULT, 'read', `/proc/${this.pid}/mem`);
        got += n;
      }
      throw sysError(ENAMETOOLONG, 'read', `/proc/${this.pid}/mem`);
    });
  }

  #read<T>(read: (fd: number) => T): T {
    const path = `/proc/${this.pid}/mem`;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      // A target that is gone (ESRCH while it exits, ENOENT once reaped) is the same finding as below.
      if (!this.idValid()) throw sysError(ENOENT, 'ioctl');
      throw err;
    }
    try {
      if (!this.idValid()) throw sysError(ENOENT, 'ioctl');
      const result = read(fd);
      if (!this.idValid()) throw sysError(ENOENT, 'ioctl');
      return result;
    } finally {
      closeSync(fd);
    }
  }
}

/** One pread of the target's memory: bytes read (0 at an unmapped address, which reads as EIO). */
function readAt(fd: number, buffer: Buffer, at: bigint): number {
  if (buffer.length === 0) return 0;
  try {
    return readSync(fd, buffer, 0, buffer.length, at);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EIO') return 0;
    throw err;
  }
}

function responseOf(answer: unknown, name: string): Response {
  if (answer === 'continue') return { val: 0n, error: 0, flags: SECCOMP_USER_NOTIF_FLAG_CONTINUE };
  if (answer === null || typeof answer !== 'object') throw invalidArgType(name, "of type object, or 'continue'", answer);
  const a = validateOptions<{ error: string | number; value: bigint | number }>(answer, name, ['error', 'value']);
  if ((a.error === undefined) === (a.value === undefined)) throw invalidArgValue(name, answer, 'must have one of error and value');
  if (a.value !== undefined) return { val: valueOf(a.value, `${name}.value`), error: 0, flags: 0 };
  const errno = errnoOf(a.error, `${name}.error`);
  if (errno === 0) throw outOfRange(`${name}.error`, '>= 1 && <= 4095, or an errno code', a.error);
  return { val: 0n, error: errno, flags: 0 };
}

/** A syscall's return value as the native side takes it: a number stays one (no bigint to make), a bigint is sent as its 64 bits. */
function valueOf(value: unknown, name: string): bigint | number {
  if (typeof value === 'number') return validateInteger(value, name, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return BigInt.asUintN(64, validateInt64(value, name));
}

/**
 * A seccomp listener owned by this object.
 *
 * ```ts
 * using notify = new SeccompNotify(listenerFd);
 * for await (const n of notify) {
 *   if (n.syscall === 'connect') n.respond({ error: 'EPERM' });
 *   else n.respond({ value: 0 });
 * }
 * ```
 *
 * When no process uses the filter any more (the targets have exited, and
 * been reaped), nothing can come: the object closes itself, and iterations
 * end.
 */
export class SeccompNotify extends FdSource<SeccompNotification> {
  /** Milliseconds a notification waits for its answer. */
  readonly deadline: number;
  /** The answer of a notification left unanswered. */
  readonly defaultAnswer: SeccompAnswer;
  readonly #default: Response;
  readonly #buffer = new Uint8Array(SECCOMP_NOTIF_SIZE);
  readonly #words = new BigUint64Array(this.#buffer.buffer);
  readonly #ints = new Int32Array(this.#buffer.buffer);
  /** Notifications read and not answered, in the order read (answered ones leave from the head). */
  #pending: SeccompNotification[] = [];
  #pendingHead = 0;
  /** The wake's notification while the 'event' listeners have it (emitReady), not in #pending unless they leave it unanswered. */
  #emitting: SeccompNotification | null = null;
  #timer: NodeJS.Timeout | null = null;

  /** Supervises the listener `fd` (a duplicate of it: `fd` stays the caller's). */
  constructor(fd: number, options?: SeccompNotifyOptions) {
    validateFd(fd);
    const opts = validateOptions<SeccompNotifyOptions>(options, 'options', ['deadline', 'defaultAnswer', 'syncWakeUp', 'signal']);
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    const deadline = opts.deadline === undefined ? 1000 : validateDeadline(opts.deadline);
    const defaultAnswer = opts.defaultAnswer ?? { error: 'ENOSYS' };
    const response = responseOf(defaultAnswer, 'options.defaultAnswer');
    const syncWakeUp = opts.syncWakeUp !== undefined && validateBoolean(opts.syncWakeUp, 'options.syncWakeUp');
    super((handle) => native.seccomp_notify.seccompNotifyDup(fd, handle), 'fcntl', { captureRejections: true });
    this.deadline = deadline;
    this.defaultAnswer = defaultAnswer;
    this.#default = response;
    // Any other fd would pass as readable and fail every read: refuse it here (ENOTTY).
    const valid = native.seccomp_notify.seccompNotifyIdValid(this.fd, 0n);
    if (valid < 0 && valid !== -ENOENT) {
      this.close();
      throw sysError(-valid, 'ioctl');
    }
    if (syncWakeUp) {
      const r = native.seccomp_notify.seccompNotifySetFlags(this.fd, BigInt(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP));
      if (r < 0) {
        this.close();
        throw sysError(-r, 'ioctl');
      }
    }
    this.readOnWake(this.#buffer);
    // Deadlines run from the read: with one, notifications are read whether or
    // not anyone consumes (which keeps this object reachable while it waits).
    if (deadline !== Infinity) this.readAhead();
    closeOnAbort(this, signal);
  }

  /** How many notifications wait for an answer (read, and not answered yet). */
  get pendingAnswers(): number {
    let n = 0;
    for (let i = this.#pendingHead; i < this.#pending.length; i++) if (!this.#pending[i]!._answered) n++;
    return this.#emitting !== null && !this.#emitting._answered ? n + 1 : n;
  }

  /** Answers every pending notification with `defaultAnswer`, and closes the listener. */
  override close(): void {
    if (this.closed) return;
    if (this.#emitting !== null && !this.#emitting._answered) this.#answerDefault(this.#emitting);
    for (const event of this.#pending.slice(this.#pendingHead)) if (!event._answered) this.#answerDefault(event);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    super.close();
  }

  override ref(): this {
    super.ref();
    this.#timer?.ref();
    return this;
  }

  override unref(): this {
    super.unref();
    this.#timer?.unref();
    return this;
  }

  protected override emitEvent(event: SeccompNotification): void {
    try {
      super.emitEvent(event);
    } catch (err) {
      // A target never waits for a handler that is gone.
      if (!event._answered) this.#answerDefault(event);
      throw err;
    }
  }

  /** EventEmitter's hook for a listener's rejected promise (captureRejections). */
  [Symbol.for('nodejs.rejection')](err: unknown, name: string, ...args: unknown[]): void {
    const event = args[0];
    if (name === 'event' && event instanceof SeccompNotification && !event._answered) this.#answerDefault(event);
    this.emit('error', err as Error);
  }

  /**
   * One notification per read: the native side receives it on the wake itself
   * (poll, then SECCOMP_IOCTL_NOTIF_RECV, in C), and readiness, which stays
   * while more are pending, brings the next, so a lone notification costs no
   * read that finds the batch over.
   */
  protected readBatch(out: SeccompNotification[], ready?: number): number {
    const r = ready ?? native.handleRead(this.handle, this.#buffer);
    if (r === -EPIPE) {
      // No process uses the filter: nothing can come.
      this.close();
      return 0;
    }
    if (r < 0) return r === -EAGAIN ? 0 : r;
    const event = this.#received();
    this.#track(event);
    out.push(event);
    return 1;
  }

  /**
   * The wake's notification straight to the 'event' listeners, with no
   * queue. It is tracked (its deadline started) only if they return without
   * answering it: a listener that answers at once costs no clock read, no
   * timer and no bookkeeping.
   */
  protected override emitReady(bytes: number): boolean {
    if (bytes !== SECCOMP_NOTIF_SIZE) return false;
    const event = this.#received();
    this.#emitting = event;
    try {
      this.emitEvent(event);
    } finally {
      this.#emitting = null;
    }
    if (!event._answered) this.#track(event);
    return true;
  }

  /** @internal */
  _answer(event: SeccompNotification, response: Response): boolean {
    if (event._answered) return false;
    this.assertOpen('ioctl');
    const r = native.seccomp_notify.seccompNotifySend(this.fd, event.id, response.val, -response.error, response.flags);
    if (r < 0 && r !== -ENOENT) throw sysError(-r, 'ioctl');
    this.#answered(event);
    return r === 0;
  }

  /** @internal */
  _addFd(event: SeccompNotification, fd: number, flags: number, targetFd: number, fdFlags: number, send: boolean): number {
    if (send && event._answered) throw sysError(ENOENT, 'ioctl');
    this.assertOpen('ioctl');
    const r = native.seccomp_notify.seccompNotifyAddfd(this.fd, event.id, flags, fd, targetFd, fdFlags);
    if (r === -ENOENT || (r >= 0 && send)) this.#answered(event);
    if (r < 0) throw sysError(-r, 'ioctl');
    return r;
  }

  /** @internal */
  _idValid(event: SeccompNotification): boolean {
    if (this.closed) return false;
    const r = native.seccomp_notify.seccompNotifyIdValid(this.fd, event.id);
    if (r === -ENOENT) return false;
    if (r < 0) throw sysError(-r, 'ioctl');
    return true;
  }

  // ---- internals ----

  /** The notification the last read put in the buffer. */
  #received(): SeccompNotification {
    return new SeccompNotification(this, this.#words, this.#ints);
  }

  /** Keeps an unanswered notification until it is answered, by its deadline if nobody else. */
  #track(event: SeccompNotification): void {
    this.#pending.push(event);
    if (this.deadline === Infinity) return;
    event._due = performance.now() + this.deadline;
    if (this.#timer === null) this.#arm(this.deadline);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#onDeadline, Math.max(1, Math.ceil(ms)));
    if (!this.hasRef()) this.#timer.unref();
  }

  readonly #onDeadline = (): void => {
    this.#timer = null;
    const now = performance.now();
    let next = Infinity;
    // Every pending one: deadlines are not in the order read, since a listener's starts when it returns.
    for (const event of this.#pending.slice(this.#pendingHead)) {
      if (event._answered) continue;
      if (event._due <= now) this.#answerDefault(event);
      else next = Math.min(next, event._due);
    }
    if (next !== Infinity) this.#arm(next - now);
  };

  /** A default answer: its errors are nobody's to handle (the target is gone, or the kernel took it as its own). */
  #answerDefault(event: SeccompNotification): void {
    if (!this.closed) native.seccomp_notify.seccompNotifySend(this.fd, event.id, this.#default.val, -this.#default.error, this.#default.flags);
    this.#answered(event);
  }

  /** Marks an answered notification and drops answered ones from the FIFO's head. */
  #answered(event: SeccompNotification): void {
    event._answered = true;
    const pending = this.#pending;
    while (this.#pendingHead < pending.length && pending[this.#pendingHead]!._answered) {
      pending[this.#pendingHead++] = undefined as unknown as SeccompNotification;
    }
    if (this.#pendingHead === pending.length && pending.length > 0) {
      // pop(), not `length = 0`: V8 sets an array's length in a runtime call (~40 ns).
      while (pending.length > 0) pending.pop();
      this.#pendingHead = 0;
    }
  }
}

function validateDeadline(value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType('options.deadline', 'of type number', value);
  if (!(value > 0)) throw outOfRange('options.deadline', '> 0', value);
  return value;
}
