/**
 * signals, 1:1: pthread_sigmask(3), signalfd(2), sigqueue(3), and the
 * process-wide blocking every signalfd user needs (see blockSignals).
 *
 * A signal is given as a number or a name (`'SIGUSR1'`, `'SIGRTMIN+2'`); sets
 * are arrays of those. Sets come back as sorted arrays of numbers.
 */
import { constants as osConstants } from 'node:os';
import { check, invalidArgType, invalidArgValue, outOfRange } from '../core/errors';
import { native, type NativeHandle } from '../core/native';
import { isArray, validateFd, validateInt32, validateInteger } from '../core/validate';

/** The signal family's binding (src/native/signal.c); failing calls return -errno. */
export interface SignalNative {
  pthreadSigmask(how: number, mask: bigint | null): bigint | number;
  sigblock(mask: bigint, acquire: boolean): number;
  signalfd(fd: number, mask: bigint, flags: number, handle?: NativeHandle): number;
  signalfdRead(fd: number, buffer: Buffer): number;
  sigqueue(pid: number, signal: number, value: number): number;
  readonly constants: {
    readonly SIG_BLOCK: number;
    readonly SIG_UNBLOCK: number;
    readonly SIG_SETMASK: number;
    readonly SFD_CLOEXEC: number;
    readonly SFD_NONBLOCK: number;
    readonly SIGRTMIN: number;
    readonly SIGRTMAX: number;
  };
}

declare module '../core/native' {
  interface Families {
    signal: SignalNative;
  }
}

export const { SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK, SFD_CLOEXEC, SFD_NONBLOCK, SIGRTMIN, SIGRTMAX } =
  native.signal.constants;

/** A signal: its number, or its name (`'SIGTERM'`, `'SIGRTMIN'`, `'SIGRTMIN+3'`, `'SIGRTMAX-1'`). */
export type Signal = number | NodeJS.Signals | `SIGRTMIN${'' | `+${number}`}` | `SIGRTMAX${'' | `-${number}`}`;

const byName = new Map<string, number>(Object.entries(osConstants.signals));
const names: string[] = [];
for (const [name, num] of Object.entries(osConstants.signals)) {
  // Prefer the common names where Linux has aliases (SIGIOT, SIGPOLL).
  if (names[num] === undefined || name === 'SIGABRT' || name === 'SIGIO') names[num] = name;
}

/** The name of a signal number: `'SIGTERM'`, `'SIGRTMIN+2'`; `undefined` if none. */
export function signalName(signo: number): string | undefined {
  if (typeof signo !== 'number') throw invalidArgType('signo', 'of type number', signo);
  if (!Number.isInteger(signo)) return undefined;
  if (names[signo]) return names[signo];
  if (signo === SIGRTMIN) return 'SIGRTMIN';
  if (signo === SIGRTMAX) return 'SIGRTMAX';
  if (signo > SIGRTMIN && signo < SIGRTMAX) return `SIGRTMIN+${signo - SIGRTMIN}`;
  return undefined;
}

/** A signal's number, validated: 1-31 or SIGRTMIN-SIGRTMAX (glibc keeps 32 and 33 for itself). */
export function signalNumber(value: unknown, name: string): number {
  if (typeof value === 'string') {
    let num: number | undefined = byName.get(value);
    const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(value);
    if (num === undefined && rt) {
      const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
      const offset = rt[3] === undefined ? 0 : Number(rt[3]);
      if ((rt[1] === 'MIN' && rt[2] !== '-') || (rt[1] === 'MAX' && rt[2] !== '+')) {
        num = rt[1] === 'MIN' ? base + offset : base - offset;
        if (num < SIGRTMIN || num > SIGRTMAX) num = undefined;
      }
    }
    if (num === undefined) throw invalidArgValue(name, value, 'must be a signal name');
    return num;
  }
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number or string', value);
  validateInteger(value, name, 1, SIGRTMAX);
  if (value > 31 && value < SIGRTMIN) throw outOfRange(name, `1-31 or ${SIGRTMIN}-${SIGRTMAX}`, value);
  return value;
}

/** A set of signals as the native mask: bit (n - 1) for signal n. */
export function signalMask(value: unknown, name: string): bigint {
  const list = isArray(value) ? value : [value];
  let mask = 0n;
  list.forEach((s, i) => {
    mask |= 1n << BigInt(signalNumber(s, list === value ? `${name}[${i}]` : name) - 1);
  });
  return mask;
}

function maskToList(mask: bigint): number[] {
  const out: number[] = [];
  for (let s = 1; s <= 64; s++) if (mask & (1n << BigInt(s - 1))) out.push(s);
  return out;
}

/**
 * pthread_sigmask(3): changes (or, with `set` null, reads) the **calling
 * thread's** signal mask; returns the previous one. `how` is `SIG_BLOCK`,
 * `SIG_UNBLOCK` or `SIG_SETMASK`. Other threads keep theirs: see
 * `blockSignals()` for the process-wide form. SIGKILL and SIGSTOP are silently
 * left out by the kernel, as the man page says.
 */
export function pthreadSigmask(how: number, set: Signal | readonly Signal[] | null): number[] {
  validateInt32(how, 'how');
  const mask = set === null ? null : signalMask(set, 'set');
  const r = native.signal.pthreadSigmask(how, mask);
  if (typeof r === 'number') check(r, 'pthread_sigmask');
  return maskToList(r as bigint);
}

/**
 * signalfd(2): a new signalfd for `mask` (`fd` = -1), or a new mask for an
 * existing one. `flags` defaults to `SFD_CLOEXEC | SFD_NONBLOCK`. The signals
 * must be blocked (in every thread: `blockSignals()`), or they are delivered
 * the usual way instead. Returns the fd.
 */
export function signalfd(fd: number, mask: Signal | readonly Signal[], flags: number = SFD_CLOEXEC | SFD_NONBLOCK): number {
  validateInteger(fd, 'fd', -1, 2 ** 31 - 1);
  return check(native.signal.signalfd(fd, signalMask(mask, 'mask'), validateInt32(flags, 'flags')), 'signalfd');
}

/** One `struct signalfd_siginfo`, fields under their C names without `ssi_`. */
export interface SignalInfo {
  /** The signal number. */
  signo: number;
  /** Its name (`'SIGTERM'`), or `undefined` for a number without one. */
  name: string | undefined;
  errno: number;
  /** How it was sent (`si_code`): see `codeName`. */
  code: number;
  /** `'SI_USER'` (kill), `'SI_QUEUE'` (sigqueue), `'SI_TKILL'`, `'SI_KERNEL'`, `'CLD_EXITED'`, … */
  codeName: string | undefined;
  /** The sender's pid (kill, sigqueue) or the child's (SIGCHLD). */
  pid: number;
  /** The sender's real uid. */
  uid: number;
  fd: number;
  /** The kernel timer id (POSIX timers). */
  tid: number;
  band: number;
  overrun: number;
  trapno: number;
  /** Exit status or signal (SIGCHLD). */
  status: number;
  /** The value sent with sigqueue(3), as an int. */
  int: number;
  /** The value sent with sigqueue(3), as a pointer-sized integer. */
  ptr: bigint;
  /** User CPU time consumed (SIGCHLD), in clock ticks. */
  utime: bigint;
  /** System CPU time consumed (SIGCHLD), in clock ticks. */
  stime: bigint;
  /** The faulting address (hardware-generated signals). */
  addr: bigint;
  addr_lsb: number;
  syscall: number;
  call_addr: bigint;
  arch: number;
}

export const SIGNALFD_SIGINFO_SIZE = 128;

const siCodes: Record<number, string> = {
  0: 'SI_USER',
  0x80: 'SI_KERNEL',
  [-1]: 'SI_QUEUE',
  [-2]: 'SI_TIMER',
  [-3]: 'SI_MESGQ',
  [-4]: 'SI_ASYNCIO',
  [-5]: 'SI_SIGIO',
  [-6]: 'SI_TKILL',
  [-7]: 'SI_DETHREAD',
  [-60]: 'SI_ASYNCNL',
};
const cldCodes = ['', 'CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED'];
const pollCodes = ['', 'POLL_IN', 'POLL_OUT', 'POLL_MSG', 'POLL_ERR', 'POLL_PRI', 'POLL_HUP'];

function codeName(signo: number, code: number): string | undefined {
  if (code <= 0 || code === 0x80) return siCodes[code];
  if (signo === osConstants.signals.SIGCHLD) return cldCodes[code];
  if (signo === osConstants.signals.SIGIO) return pollCodes[code];
  return undefined;
}

/** Parses `length` bytes of `struct signalfd_siginfo` records from `buf` into `out`. */
export function parseSignalfdSiginfo(buf: Buffer, length: number, out: SignalInfo[]): number {
  let n = 0;
  for (let o = 0; o + SIGNALFD_SIGINFO_SIZE <= length; o += SIGNALFD_SIGINFO_SIZE, n++) {
    const signo = buf.readUInt32LE(o);
    const code = buf.readInt32LE(o + 8);
    out.push({
      signo,
      name: signalName(signo),
      errno: buf.readInt32LE(o + 4),
      code,
      codeName: codeName(signo, code),
      pid: buf.readUInt32LE(o + 12),
      uid: buf.readUInt32LE(o + 16),
      fd: buf.readInt32LE(o + 20),
      tid: buf.readUInt32LE(o + 24),
      band: buf.readUInt32LE(o + 28),
      overrun: buf.readUInt32LE(o + 32),
      trapno: buf.readUInt32LE(o + 36),
      status: buf.readInt32LE(o + 40),
      int: buf.readInt32LE(o + 44),
      ptr: buf.readBigUInt64LE(o + 48),
      utime: buf.readBigUInt64LE(o + 56),
      stime: buf.readBigUInt64LE(o + 64),
      addr: buf.readBigUInt64LE(o + 72),
      addr_lsb: buf.readUInt16LE(o + 80),
      syscall: buf.readInt32LE(o + 84),
      call_addr: buf.readBigUInt64LE(o + 88),
      arch: buf.readUInt32LE(o + 96),
    });
  }
  return n;
}

const readBuffer = Buffer.alloc(SIGNALFD_SIGINFO_SIZE * 32);

/** Reads the signals pending on a signalfd (up to 32). EAGAIN when none, on a non-blocking fd. */
export function signalfdRead(fd: number): SignalInfo[] {
  const n = check(native.signal.signalfdRead(validateFd(fd), readBuffer), 'read');
  const out: SignalInfo[] = [];
  parseSignalfdSiginfo(readBuffer, n, out);
  return out;
}

/** sigqueue(3): sends `signal` with an int `value` to process `pid` (the receiver sees it as `int`). */
export function sigqueue(pid: number, signal: Signal, value = 0): void {
  validateInt32(pid, 'pid');
  const sig = signal === 0 ? 0 : signalNumber(signal, 'signal');
  check(native.signal.sigqueue(pid, sig, validateInt32(value, 'value')), 'sigqueue');
}
