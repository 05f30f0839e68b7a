/**
 * Signals the Node way: SignalFd (signals as events, with their sender) and
 * blockSignals (process-wide blocking, shared with every SignalFd).
 *
 * Process-wide blocking is reference-counted per signal across the whole
 * process (all Workers included): the first holder blocks the signal in every
 * thread, the last one to let go unblocks it again, unless the thread that
 * first blocked it had it blocked already. See docs/guide.md#signals.
 */
import { constants as osConstants } from 'node:os';
import { invalidArgValue, sysError, EAGAIN } from '../core/errors';
import { native } from '../core/native';
import { isArray } from '../core/validate';
import { checkSignalBlocking } from '../core/runtime';
import { FdSource } from '../core/source';
import { closeOnAbort, validateAbortSignal, validateOptions } from '../core/validate';
import {
  parseSignalfdSiginfo,
  signalMask,
  signalName,
  SFD_CLOEXEC,
  SFD_NONBLOCK,
  SIGNALFD_SIGINFO_SIZE,
  SIGRTMAX,
  type Signal,
  type SignalInfo,
} from '../raw/signals';

const S = osConstants.signals;

/** Signals that cannot usefully be blocked process-wide, and why. */
const refused: Record<number, string> = {
  [S.SIGKILL]: 'cannot be blocked or caught',
  [S.SIGSTOP]: 'cannot be blocked or caught',
  [S.SIGCHLD]:
    "is how libuv learns that a child_process child exited: taken by Butter, spawnSync would wait forever and 'exit' would never be emitted. Use the child's 'exit' event",
  [S.SIGSEGV]: 'is a fault signal: blocked, a fault kills the process instead',
  [S.SIGBUS]: 'is a fault signal: blocked, a fault kills the process instead',
  [S.SIGFPE]: 'is a fault signal: blocked, a fault kills the process instead',
  [S.SIGILL]: 'is a fault signal: blocked, a fault kills the process instead',
  [S.SIGTRAP]: 'is a fault signal: blocked, a fault kills the process instead',
  [SIGRTMAX]: 'is the signal Butter uses to reach every thread when it changes their masks',
  [SIGRTMAX - 1]: "is the signal Butter uses to interrupt its work threads' blocking calls when they are aborted",
};

function processWideMask(signals: unknown): { mask: bigint; list: number[] } {
  if (isArray(signals) && signals.length === 0) throw invalidArgValue('signals', signals, 'must not be empty');
  const mask = signalMask(signals, 'signals');
  const list: number[] = [];
  for (let s = 1; s <= 64; s++) {
    if (!(mask & (1n << BigInt(s - 1)))) continue;
    if (refused[s]) throw invalidArgValue('signals', signals, `must not include ${signalName(s)}, which ${refused[s]}`);
    list.push(s);
  }
  return { mask, list };
}

function acquire(mask: bigint): void {
  checkSignalBlocking();
  const r = native.signal.sigblock(mask, true);
  // A failed call (opening /proc/self/task, say, when out of fds) is named as
  // itself; the broadcast's own refusals (EBUSY, EDEADLK, ETIMEDOUT) as the mask change.
  if (typeof r !== 'number') throw sysError(-r[0], r[1], r[2]);
  if (r < 0) throw sysError(-r, 'pthread_sigmask');
}

function release(mask: bigint): void {
  native.signal.sigblock(mask, false);
}

// A SignalFd or SignalBlock that is collected without being closed lets go here.
const forgotten = new FinalizationRegistry<bigint>(release);

/** A process-wide block of some signals, held until `release()`. */
export class SignalBlock implements Disposable {
  readonly #mask: bigint;
  #held = true;
  /** The signals held, as numbers. */
  readonly signals: readonly number[];

  /** @internal use blockSignals() */
  constructor(mask: bigint, list: number[]) {
    this.#mask = mask;
    this.signals = Object.freeze(list);
    forgotten.register(this, mask, this);
  }

  /** Whether this block is still held. */
  get held(): boolean {
    return this.#held;
  }

  /** Lets go (once); signals nobody else holds are unblocked in every thread. */
  release(): void {
    if (!this.#held) return;
    this.#held = false;
    forgotten.unregister(this);
    release(this.#mask);
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * Blocks `signals` in **every** thread of the process, those running now and
 * those started later, until the returned block is released. Without this a
 * signal "blocked" on the main thread is still delivered (and its default
 * action taken) through another thread. Cooperates with SignalFd: a signal stays
 * blocked while anyone holds it.
 */
export function blockSignals(signals: Signal | readonly Signal[]): SignalBlock {
  const { mask, list } = processWideMask(signals);
  acquire(mask);
  return new SignalBlock(mask, list);
}

export interface SignalFdOptions {
  /** Closes it when aborted. */
  signal?: AbortSignal;
}

/**
 * Signals as events. While open, its signals are blocked in every thread of the
 * process, so they arrive here (with sender, value and the rest of
 * `signalfd_siginfo`) instead of taking their usual action; closing unblocks
 * them again, and a signal still pending then is delivered the usual way.
 *
 * ```ts
 * using signals = new SignalFd(['SIGTERM', 'SIGINT']);
 * const s = await signals.read();
 * console.log(`${s.name} from pid ${s.pid} (uid ${s.uid})`);
 * ```
 */
export class SignalFd extends FdSource<SignalInfo> {
  /** The signals this SignalFd takes, as numbers. */
  readonly signals: readonly number[];
  readonly #mask: bigint;
  readonly #buf: Buffer;

  constructor(signals: Signal | readonly Signal[], options?: SignalFdOptions) {
    const { mask, list } = processWideMask(signals);
    const signal = validateAbortSignal(validateOptions<SignalFdOptions>(options, 'options', ['signal']).signal, 'options.signal');
    acquire(mask);
    try {
      super((handle) => native.signal.signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK, handle), 'signalfd');
    } catch (err) {
      release(mask);
      throw err;
    }
    this.#buf = Buffer.alloc(SIGNALFD_SIGINFO_SIZE * 32);
    this.#mask = mask;
    this.signals = Object.freeze(list);
    forgotten.register(this, mask, this);
    closeOnAbort(this, signal);
  }

  override close(): void {
    if (this.closed) return;
    try {
      super.close();
    } finally {
      forgotten.unregister(this);
      release(this.#mask);
    }
  }

  protected readBatch(out: SignalInfo[]): number {
    const n = native.signal.signalfdRead(this.fd, this.#buf);
    if (n < 0) return n === -EAGAIN ? 0 : n;
    return parseSignalfdSiginfo(this.#buf, n, out);
  }
}
