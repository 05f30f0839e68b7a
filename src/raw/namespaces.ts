/**
 * namespaces, 1:1: unshare(2), setns(2) and the ioctls of namespace fds
 * (ioctl_nsfs(2)).
 *
 * Node's process is multi-threaded, and namespaces belong to threads. So:
 * - A user namespace cannot be entered or created at all (the kernel says
 *   EINVAL to a multi-threaded caller), nor can `CLONE_THREAD`,
 *   `CLONE_SIGHAND` or `CLONE_VM` be unshared: the error says so and points to
 *   `spawn()`, which starts a new process in new namespaces.
 * - Every other form succeeds for the calling thread alone: the other threads
 *   (libuv's pool, which runs `fs` calls, V8's, Workers) stay where they were,
 *   and a child spawned from another thread starts in the old namespaces.
 *   These forms are refused (`ERR_INVALID_ARG_VALUE`) unless the caller asks
 *   for exactly that with `{ thisThreadOnly: true }`.
 */
import { check, invalidArgValue, sysError, type SystemError } from '../core/errors';
import { native } from '../core/native';
import { validateBoolean, validateFd, validateInt32, validateOptions, validateUint32 } from '../core/validate';

/** The family's binding (src/native/namespaces.c); failing calls return -errno. */
export interface NamespacesNative {
  unshare(flags: number): number;
  setns(fd: number, nstype: number): number;
  /** NS_GET_USERNS, NS_GET_PARENT, NS_GET_NSTYPE and the pid translations: the ioctl's result. */
  nsIoctl(fd: number, request: number, arg: number): number;
  nsGetOwnerUid(fd: number): number;
  /** NS_GET_MNTNS_ID and NS_GET_ID: the id the ioctl writes. */
  nsIoctlU64(fd: number, request: number): bigint | number;
  /** NS_MNT_GET_INFO, NS_MNT_GET_NEXT, NS_MNT_GET_PREV: [0 or the new fd, nr_mounts, mnt_ns_id]. */
  nsMntInfo(fd: number, request: number): [number, number, bigint] | number;
  readonly constants: Readonly<Record<
    | 'CLONE_NEWNS' | 'CLONE_NEWUTS' | 'CLONE_NEWIPC' | 'CLONE_NEWUSER' | 'CLONE_NEWPID' | 'CLONE_NEWNET'
    | 'CLONE_NEWCGROUP' | 'CLONE_NEWTIME' | 'CLONE_FILES' | 'CLONE_FS' | 'CLONE_SYSVSEM' | 'CLONE_THREAD'
    | 'CLONE_SIGHAND' | 'CLONE_VM' | 'NS_GET_USERNS' | 'NS_GET_PARENT' | 'NS_GET_NSTYPE' | 'NS_GET_OWNER_UID'
    | 'NS_GET_MNTNS_ID' | 'NS_GET_PID_FROM_PIDNS' | 'NS_GET_TGID_FROM_PIDNS' | 'NS_GET_PID_IN_PIDNS'
    | 'NS_GET_TGID_IN_PIDNS' | 'NS_GET_ID' | 'NS_MNT_GET_INFO' | 'NS_MNT_GET_NEXT' | 'NS_MNT_GET_PREV', number>>;
}

declare module '../core/native' {
  interface Families {
    namespaces: NamespacesNative;
  }
}

const C = native.namespaces.constants;
const EINVAL = 22;

/** Flags no thread of a multi-threaded process can unshare. */
const PROCESS_WIDE = C.CLONE_NEWUSER | C.CLONE_THREAD | C.CLONE_SIGHAND | C.CLONE_VM;
const SPAWN = 'use spawn() to start a process in new namespaces';

/** Options of `unshare` and `setns`. */
export interface ThreadOptions {
  /** Change the calling thread's namespaces though Node's other threads stay in theirs. Default false: refused. */
  thisThreadOnly?: boolean;
}

function thisThreadOnly(options: unknown): boolean {
  const { thisThreadOnly = false } = validateOptions<ThreadOptions>(options, 'options', ['thisThreadOnly']);
  return validateBoolean(thisThreadOnly, 'options.thisThreadOnly');
}

/** The kernel's EINVAL, with why, in Node's process, and what to do instead. */
function explained(err: SystemError, why: string): SystemError {
  err.message = `${err.message}: ${why}`;
  err.stack = `Error: ${err.message}${err.stack!.slice(err.stack!.indexOf('\n'))}`;
  return err;
}

function refuse(name: string, value: number, what: string): TypeError {
  return invalidArgValue(name, value, `would change ${what} of the calling thread only, as Node's process is multi-threaded: pass { thisThreadOnly: true } to do that, or ${SPAWN}`);
}

/**
 * unshare(2): moves the calling thread into new namespaces (`CLONE_NEW*`) or
 * gives it its own copy of shared state (`CLONE_FS`, `CLONE_FILES`,
 * `CLONE_SYSVSEM`). See the module's note on threads: every form except 0
 * needs `{ thisThreadOnly: true }`, and `CLONE_NEWUSER` fails with EINVAL.
 * `CLONE_NEWPID` and `CLONE_NEWTIME` move the thread's future children, not
 * the thread.
 */
export function unshare(flags: number, options?: ThreadOptions): void {
  const f = validateUint32(flags, 'flags');
  const only = thisThreadOnly(options);
  if ((f & PROCESS_WIDE) === 0 && f !== 0 && !only) throw refuse('flags', f, 'the namespaces');
  const r = native.namespaces.unshare(f);
  if (r === -EINVAL && (f & PROCESS_WIDE) !== 0) {
    throw explained(sysError(EINVAL, 'unshare'), `Node's process is multi-threaded, and CLONE_NEWUSER, CLONE_THREAD, CLONE_SIGHAND and CLONE_VM need a single-threaded caller; ${SPAWN}`);
  }
  check(r, 'unshare');
}

/** NS_GET_NSTYPE, or 0 when `fd` is not a namespace fd (a pidfd, or anything else: setns itself says what). */
function typeOf(fd: number): number {
  return Math.max(0, native.namespaces.nsIoctl(fd, C.NS_GET_NSTYPE, 0));
}

/**
 * setns(2): moves the calling thread into the namespace of `fd` (a
 * /proc/PID/ns/* fd; `nstype` 0 for any type, or the `CLONE_NEW*` it must
 * be), or into several of the namespaces of the process a pidfd refers to
 * (`nstype` the `CLONE_NEW*` set, 5.8). Needs `{ thisThreadOnly: true }` (see
 * the module's note); a user namespace fails with EINVAL, and so does a mount
 * namespace while the thread shares its filesystem context with the others
 * (`unshare(CLONE_FS, { thisThreadOnly: true })` first).
 */
export function setns(fd: number, nstype = 0, options?: ThreadOptions): void {
  validateFd(fd);
  const t = validateUint32(nstype, 'nstype');
  const only = thisThreadOnly(options);
  const kind = t === 0 ? typeOf(fd) : t;
  if ((kind & C.CLONE_NEWUSER) === 0 && !only) throw refuse('fd', fd, 'a namespace');
  const r = native.namespaces.setns(fd, t);
  if (r === -EINVAL && (kind & C.CLONE_NEWUSER) !== 0) {
    throw explained(sysError(EINVAL, 'setns'), `Node's process is multi-threaded, and joining a user namespace needs a single-threaded caller; ${SPAWN}`);
  }
  if (r === -EINVAL && (kind & C.CLONE_NEWNS) !== 0) {
    throw explained(sysError(EINVAL, 'setns'), `this thread shares its filesystem context with Node's other threads: unshare(CLONE_FS, { thisThreadOnly: true }) first, or ${SPAWN}`);
  }
  check(r, 'setns');
}

function nsFd(fd: number, request: number): number {
  validateFd(fd);
  return check(native.namespaces.nsIoctl(fd, request, 0), 'ioctl');
}

/** NS_GET_USERNS (4.9): an fd for the user namespace that owns the namespace of `fd`. The caller owns it (close-on-exec). */
export function nsGetUserns(fd: number): number {
  return nsFd(fd, C.NS_GET_USERNS);
}

/** NS_GET_PARENT (4.9): an fd for the parent of a pid or user namespace (EPERM past the caller's own). The caller owns it (close-on-exec). */
export function nsGetParent(fd: number): number {
  return nsFd(fd, C.NS_GET_PARENT);
}

/** NS_GET_NSTYPE (4.11): the `CLONE_NEW*` type of the namespace of `fd`. */
export function nsGetNstype(fd: number): number {
  return nsFd(fd, C.NS_GET_NSTYPE);
}

/** NS_GET_OWNER_UID (4.11): the uid (in the caller's user namespace) that created the user namespace of `fd`. */
export function nsGetOwnerUid(fd: number): number {
  validateFd(fd);
  return check(native.namespaces.nsGetOwnerUid(fd), 'ioctl');
}

function nsId(fd: number, request: number): bigint {
  validateFd(fd);
  const r = native.namespaces.nsIoctlU64(fd, request);
  if (typeof r === 'number') check(r, 'ioctl');
  return r as bigint;
}

/** NS_GET_MNTNS_ID (6.8): the 64-bit id of the mount namespace of `fd` (`statmount`'s and `listmount`'s `mntNsId`). */
export function nsGetMntnsId(fd: number): bigint {
  return nsId(fd, C.NS_GET_MNTNS_ID);
}

/** NS_GET_ID (6.18): the 64-bit id of the namespace of `fd`, of any type, unique for the machine's uptime (inode numbers are reused). */
export function nsGetId(fd: number): bigint {
  return nsId(fd, C.NS_GET_ID);
}

function translate(fd: number, request: number, pid: number): number {
  validateFd(fd);
  return check(native.namespaces.nsIoctl(fd, request, validateInt32(pid, 'pid', 1)), 'ioctl');
}

/** NS_GET_PID_FROM_PIDNS (6.9): thread `pid` of the pid namespace of `fd`, as the caller's pid namespace numbers it (ESRCH: not visible). */
export function nsGetPidFromPidns(fd: number, pid: number): number {
  return translate(fd, C.NS_GET_PID_FROM_PIDNS, pid);
}

/** NS_GET_TGID_FROM_PIDNS (6.9): as `nsGetPidFromPidns`, for the process (thread group) of `pid`. */
export function nsGetTgidFromPidns(fd: number, pid: number): number {
  return translate(fd, C.NS_GET_TGID_FROM_PIDNS, pid);
}

/** NS_GET_PID_IN_PIDNS (6.9): the caller's thread `pid`, as the pid namespace of `fd` numbers it. */
export function nsGetPidInPidns(fd: number, pid: number): number {
  return translate(fd, C.NS_GET_PID_IN_PIDNS, pid);
}

/** NS_GET_TGID_IN_PIDNS (6.9): as `nsGetPidInPidns`, for the process (thread group) of `pid`. */
export function nsGetTgidInPidns(fd: number, pid: number): number {
  return translate(fd, C.NS_GET_TGID_IN_PIDNS, pid);
}

/** What `nsMntGetInfo` tells of a mount namespace (`struct mnt_ns_info`). */
export interface MntNsInfo {
  /** How many mounts it has. */
  nrMounts: number;
  /** Its id, as `nsGetMntnsId` gives. */
  mntNsId: bigint;
}

function mntInfo(fd: number, request: number): [number, MntNsInfo] {
  validateFd(fd);
  const r = native.namespaces.nsMntInfo(fd, request);
  if (typeof r === 'number') check(r, 'ioctl');
  const [result, nrMounts, mntNsId] = r as [number, number, bigint];
  return [result, { nrMounts, mntNsId }];
}

/** NS_MNT_GET_INFO (6.12): the size and id of the mount namespace of `fd`. */
export function nsMntGetInfo(fd: number): MntNsInfo {
  return mntInfo(fd, C.NS_MNT_GET_INFO)[1];
}

/**
 * NS_MNT_GET_NEXT (6.12): the mount namespace after that of `fd` (by id)
 * among those the caller may see (owned by its user namespace, or below):
 * `fd` is a new fd for it, which the caller owns (close-on-exec). ENOENT
 * after the last.
 */
export function nsMntGetNext(fd: number): MntNsInfo & { fd: number } {
  const [next, info] = mntInfo(fd, C.NS_MNT_GET_NEXT);
  return { fd: next, ...info };
}

/** NS_MNT_GET_PREV (6.12): as `nsMntGetNext`, the one before. */
export function nsMntGetPrev(fd: number): MntNsInfo & { fd: number } {
  const [prev, info] = mntInfo(fd, C.NS_MNT_GET_PREV);
  return { fd: prev, ...info };
}
