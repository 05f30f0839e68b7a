/**
 * seccomp user notification, 1:1 (seccomp_unotify(2)): the ioctls of a
 * listener fd, which a filter with `SECCOMP_RET_USER_NOTIF` actions made with
 * `SECCOMP_FILTER_FLAG_NEW_LISTENER`. Each waiting syscall of a target is a
 * notification: received (`seccompNotifyRecv`), then answered once
 * (`seccompNotifySend`, or `seccompNotifyAddfd` with `SECCOMP_ADDFD_FLAG_SEND`).
 */
import { constants as osConstants } from 'node:os';
import { check, invalidArgType, invalidArgValue, outOfRange, ENOENT } from '../core/errors';
import { native, type NativeHandle } from '../core/native';
import { validateBigUint, validateFd, validateInteger, validateOptions, validateUint32, UINT64_MAX } from '../core/validate';
import { syscallName } from './seccomp-notify-syscalls';

/** The seccomp_notify family's binding (src/native/seccomp_notify.c); failing calls return -errno. */
export interface SeccompNotifyNative {
  seccompNotifyRecv(fd: number, buffer: Uint8Array, nonblock: boolean): number;
  /** `val`: a bigint, or a safe integer. */
  seccompNotifySend(fd: number, id: bigint, val: bigint | number, error: number, flags: number): number;
  seccompNotifyIdValid(fd: number, id: bigint): number;
  seccompNotifyAddfd(fd: number, id: bigint, flags: number, srcfd: number, newfd: number, newfdFlags: number): number;
  seccompNotifySetFlags(fd: number, flags: bigint): number;
  seccompNotifyDup(fd: number, handle?: NativeHandle): number;
  readonly constants: {
    readonly SECCOMP_RET_USER_NOTIF: number;
    readonly SECCOMP_FILTER_FLAG_NEW_LISTENER: number;
    readonly SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: number;
    readonly SECCOMP_USER_NOTIF_FLAG_CONTINUE: number;
    readonly SECCOMP_ADDFD_FLAG_SETFD: number;
    readonly SECCOMP_ADDFD_FLAG_SEND: number;
    readonly SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: number;
  };
}

declare module '../core/native' {
  interface Families {
    seccomp_notify: SeccompNotifyNative;
  }
}

export const {
  SECCOMP_RET_USER_NOTIF,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  SECCOMP_USER_NOTIF_FLAG_CONTINUE,
  SECCOMP_ADDFD_FLAG_SETFD,
  SECCOMP_ADDFD_FLAG_SEND,
  SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
} = native.seccomp_notify.constants;

/** `struct seccomp_notif`: one syscall waiting for its answer. */
export interface SeccompNotif {
  /** The notification's cookie: what answers name. */
  id: bigint;
  /** The target thread, as this process's pid namespace sees it (0 when outside it). */
  pid: number;
  /** The syscall's name, where Butter's table for `arch` has one (else null). */
  syscall: string | null;
  /** The syscall's number. */
  nr: number;
  /** The target's `AUDIT_ARCH_*` (`0xc000003e` for x86_64). */
  arch: number;
  instructionPointer: bigint;
  /** The six argument registers, unsigned (pointers are addresses in the target). */
  args: bigint[];
}

/** Bytes of `struct seccomp_notif` in the headers Butter is built with (the kernel may have more). */
export const SECCOMP_NOTIF_SIZE = 80;

/** The fields of the `struct seccomp_notif` at the start of `buffer` (as `seccompNotifyRecv` fills it). */
export function parseSeccompNotif(buffer: Uint8Array): SeccompNotif {
  if (!(buffer instanceof Uint8Array) || buffer.byteLength < SECCOMP_NOTIF_SIZE) {
    throw invalidArgValue('buffer', buffer, `must be a Uint8Array of at least ${SECCOMP_NOTIF_SIZE} bytes`);
  }
  const v = new DataView(buffer.buffer, buffer.byteOffset, SECCOMP_NOTIF_SIZE);
  const le = LE;
  const nr = v.getInt32(16, le);
  const arch = v.getUint32(20, le);
  const args: bigint[] = [];
  for (let i = 0; i < 6; i++) args.push(v.getBigUint64(32 + 8 * i, le));
  return {
    id: v.getBigUint64(0, le),
    pid: v.getUint32(8, le),
    syscall: syscallName(arch, nr),
    nr,
    arch,
    instructionPointer: v.getBigUint64(24, le),
    args,
  };
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * SECCOMP_IOCTL_NOTIF_RECV: the next notification. Never blocks (the ioctl
 * itself would, whatever O_NONBLOCK says): EAGAIN when none is pending, EPIPE
 * when none can come any more (no process uses the filter). ENOENT when the
 * target went away between the two.
 */
export function seccompNotifyRecv(fd: number): SeccompNotif {
  validateFd(fd);
  const buffer = new Uint8Array(SECCOMP_NOTIF_SIZE);
  check(native.seccomp_notify.seccompNotifyRecv(fd, buffer, true), 'ioctl');
  return parseSeccompNotif(buffer);
}

/** `struct seccomp_notif_resp`. */
export interface SeccompNotifResp {
  id: bigint;
  /** The syscall's return value when `error` is 0. Default 0. */
  val?: bigint | number;
  /** 0, or the errno the syscall fails with: a code (`'EPERM'`) or a positive number. Default 0. */
  error?: string | number;
  /** `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: let the syscall run (then `val` and `error` must be 0). */
  flags?: number;
}

/**
 * SECCOMP_IOCTL_NOTIF_SEND: answers notification `resp.id`. ENOENT when its
 * target no longer waits (it died, or a signal interrupted the syscall);
 * EINPROGRESS when an ADDFD for it is under way, or when it was answered
 * and its target is still waking.
 */
export function seccompNotifySend(fd: number, resp: SeccompNotifResp): void {
  validateFd(fd);
  const r = validateOptions<SeccompNotifResp>(resp, 'resp', ['id', 'val', 'error', 'flags']);
  const id = validateBigUint(r.id, 'resp.id', UINT64_MAX);
  const val = r.val === undefined ? 0n : validateInt64(r.val, 'resp.val');
  const error = r.error === undefined ? 0 : errnoOf(r.error, 'resp.error');
  const flags = r.flags === undefined ? 0 : validateUint32(r.flags, 'resp.flags');
  check(native.seccomp_notify.seccompNotifySend(fd, id, BigInt.asUintN(64, val), -error, flags), 'ioctl');
}

/** SECCOMP_IOCTL_NOTIF_ID_VALID: whether notification `id`'s target still waits for its answer. */
export function seccompNotifyIdValid(fd: number, id: bigint): boolean {
  validateFd(fd);
  const r = native.seccomp_notify.seccompNotifyIdValid(fd, validateBigUint(id, 'id', UINT64_MAX));
  if (r === -ENOENT) return false;
  check(r, 'ioctl');
  return true;
}

/** `struct seccomp_notif_addfd`. */
export interface SeccompNotifAddfd {
  id: bigint;
  /** `SECCOMP_ADDFD_FLAG_SETFD` (use `newfd`), `SECCOMP_ADDFD_FLAG_SEND` (answer with the new number). */
  flags?: number;
  /** The fd, in this process, to copy into the target. */
  srcfd: number;
  /** With `SECCOMP_ADDFD_FLAG_SETFD`: the number it gets there (replacing what is open there). */
  newfd?: number;
  /** `O_CLOEXEC` or 0: the new fd's flags in the target. */
  newfdFlags?: number;
}

/**
 * SECCOMP_IOCTL_NOTIF_ADDFD: installs a copy of `srcfd` in the target of
 * notification `addfd.id`, and returns its number there. With
 * `SECCOMP_ADDFD_FLAG_SEND` that number also answers the notification.
 */
export function seccompNotifyAddfd(fd: number, addfd: SeccompNotifAddfd): number {
  validateFd(fd);
  const a = validateOptions<SeccompNotifAddfd>(addfd, 'addfd', ['id', 'flags', 'srcfd', 'newfd', 'newfdFlags']);
  const id = validateBigUint(a.id, 'addfd.id', UINT64_MAX);
  const flags = a.flags === undefined ? 0 : validateUint32(a.flags, 'addfd.flags');
  const srcfd = validateFd(a.srcfd, 'addfd.srcfd');
  const newfd = a.newfd === undefined ? 0 : validateFd(a.newfd, 'addfd.newfd');
  const newfdFlags = a.newfdFlags === undefined ? 0 : validateUint32(a.newfdFlags, 'addfd.newfdFlags');
  return check(native.seccomp_notify.seccompNotifyAddfd(fd, id, flags, srcfd, newfd, newfdFlags), 'ioctl');
}

/**
 * SECCOMP_IOCTL_NOTIF_SET_FLAGS (Linux 6.6): `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`
 * asks the kernel to wake the supervisor's thread on the target's CPU (for a
 * supervisor that answers at once). EINVAL on older kernels (no such ioctl).
 */
export function seccompNotifySetFlags(fd: number, flags: number | bigint): void {
  validateFd(fd);
  check(native.seccomp_notify.seccompNotifySetFlags(fd, validateBigUint(flags, 'flags', UINT64_MAX)), 'ioctl');
}

/** An answer's errno: 0, a code such as `'EPERM'`, or a positive number up to 4095 (the kernel's MAX_ERRNO). */
export function errnoOf(error: unknown, name: string): number {
  if (typeof error === 'string') {
    const n = (osConstants.errno as Record<string, number>)[error];
    if (n === undefined) throw invalidArgValue(name, error, 'is not an errno code');
    return n;
  }
  return validateInteger(error, name, 0, 4095);
}

/** An int64 (a syscall's return value): a safe integer or a bigint in range. */
export function validateInt64(value: unknown, name: string): bigint {
  if (typeof value === 'number') return BigInt(validateInteger(value, name, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
  if (typeof value !== 'bigint') throw invalidArgType(name, 'of type bigint or number', value);
  if (value < -(1n << 63n) || value >= 1n << 63n) throw outOfRange(name, '>= -(2 ** 63) && < 2 ** 63', value);
  return value;
}
