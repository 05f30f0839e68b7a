/**
 * seccomp, 1:1: seccomp(2) and prctl(2)'s PR_SET_NO_NEW_PRIVS,
 * PR_GET_NO_NEW_PRIVS and PR_GET_SECCOMP.
 *
 * Everything here acts on the calling thread only (a filter on every thread
 * needs SECCOMP_FILTER_FLAG_TSYNC) and cannot be undone: a filter stays for
 * the thread's life, and so does no_new_privs. In one of Node's threads that
 * is rarely what is wanted; `seccompLoad()` (src/high/seccomp.ts) loads a
 * compiled filter into the whole process, after checking that it lets Node's
 * own threads live.
 */
import { check, invalidArgType, invalidArgValue, EOPNOTSUPP } from '../core/errors';
import { native } from '../core/native';
import { validateUint32 } from '../core/validate';

/** The seccomp family's binding (src/native/seccomp.c); failing calls return -errno. */
export interface SeccompNative {
  seccompSetModeStrict(): number;
  /** 0, the listener fd (NEW_LISTENER), or the id of a thread TSYNC could not reach. */
  seccompSetModeFilter(flags: number, program: Uint8Array): number;
  seccompGetActionAvail(action: number): number;
  seccompGetNotifSizes(): [notif: number, resp: number, data: number] | number;
  prctlSetNoNewPrivs(): number;
  prctlGetNoNewPrivs(): number;
  prctlGetSeccomp(): number;
  /** The code generator of seccompCompile (src/high/seccomp.ts, compileRules): rules as words to a program and the syscalls they are for, or -ENOMEM. */
  seccompAssemble(words: Uint32Array, names: string, tables: readonly string[]): [program: Uint8Array, syscalls: Uint32Array] | number;
  seccompAssembleProfile(text: string, caps: readonly string[], arch: number, tables: readonly string[]): [program: Uint8Array, syscalls: Uint32Array, words: Uint32Array] | undefined | number;
  readonly constants: Readonly<Record<
    | 'SECCOMP_SET_MODE_STRICT' | 'SECCOMP_SET_MODE_FILTER' | 'SECCOMP_GET_ACTION_AVAIL' | 'SECCOMP_GET_NOTIF_SIZES'
    | 'SECCOMP_FILTER_FLAG_TSYNC' | 'SECCOMP_FILTER_FLAG_LOG' | 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'
    | 'SECCOMP_FILTER_FLAG_NEW_LISTENER' | 'SECCOMP_FILTER_FLAG_TSYNC_ESRCH' | 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'
    | 'SECCOMP_RET_KILL_PROCESS' | 'SECCOMP_RET_KILL_THREAD' | 'SECCOMP_RET_KILL' | 'SECCOMP_RET_TRAP' | 'SECCOMP_RET_ERRNO'
    | 'SECCOMP_RET_USER_NOTIF' | 'SECCOMP_RET_TRACE' | 'SECCOMP_RET_LOG' | 'SECCOMP_RET_ALLOW'
    | 'SECCOMP_RET_ACTION_FULL' | 'SECCOMP_RET_ACTION' | 'SECCOMP_RET_DATA'
    | 'SECCOMP_MODE_DISABLED' | 'SECCOMP_MODE_STRICT' | 'SECCOMP_MODE_FILTER'
    | 'PR_SET_NO_NEW_PRIVS' | 'PR_GET_NO_NEW_PRIVS' | 'PR_GET_SECCOMP'
    | 'AUDIT_ARCH_X86_64' | 'AUDIT_ARCH_AARCH64', number>>;
}

declare module '../core/native' {
  interface Families {
    seccomp: SeccompNative;
  }
}

const C = native.seccomp.constants;

/** The size of one `struct sock_filter` (code u16, jt u8, jf u8, k u32). */
export const SOCK_FILTER_SIZE = 8;
/** The kernel's limit on one program's instructions (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** The sizes SECCOMP_GET_NOTIF_SIZES reports: the kernel's structs, in bytes. */
export interface SeccompNotifSizes {
  /** `struct seccomp_notif` */
  notif: number;
  /** `struct seccomp_notif_resp` */
  resp: number;
  /** `struct seccomp_data` */
  data: number;
}

/**
 * seccomp(SECCOMP_SET_MODE_STRICT): the calling thread may from now on make
 * only read(2), write(2), _exit(2) and sigreturn(2); any other syscall kills
 * the process (SIGKILL). In a Node thread that is the next mmap or epoll_wait:
 * this is for single-threaded programs, shown here 1:1.
 */
export function seccompSetModeStrict(): void {
  check(native.seccomp.seccompSetModeStrict(), 'seccomp');
}

/**
 * seccomp(SECCOMP_SET_MODE_FILTER, flags, &fprog): loads `program`, an array
 * of `struct sock_filter` (8 bytes each, in this machine's byte order), onto
 * the calling thread, or with `SECCOMP_FILTER_FLAG_TSYNC` onto every thread.
 * Needs no_new_privs (`prctlSetNoNewPrivs()`) or CAP_SYS_ADMIN. Returns 0,
 * the listener fd with `SECCOMP_FILTER_FLAG_NEW_LISTENER` (the caller owns
 * it), or with TSYNC (without TSYNC_ESRCH) the id of a thread that could not
 * take the filter, in which case nothing was loaded.
 */
export function seccompSetModeFilter(flags: number, program: Uint8Array): number {
  validateUint32(flags, 'flags');
  if (!(program instanceof Uint8Array)) throw invalidArgType('program', 'an instance of Buffer or Uint8Array', program);
  const bytes = program;
  if (bytes.length === 0 || bytes.length % SOCK_FILTER_SIZE !== 0 || bytes.length > BPF_MAXINSNS * SOCK_FILTER_SIZE) {
    throw invalidArgValue('program', program, `must hold 1 to ${BPF_MAXINSNS} sock_filter records of ${SOCK_FILTER_SIZE} bytes`);
  }
  return check(native.seccomp.seccompSetModeFilter(flags, bytes), 'seccomp');
}

/**
 * seccomp(SECCOMP_GET_ACTION_AVAIL): whether this kernel knows `action` (a
 * `SECCOMP_RET_*` action, its data bits clear). Unknown actions are false
 * (the kernel's EOPNOTSUPP); other errors throw.
 */
export function seccompGetActionAvail(action: number): boolean {
  const r = native.seccomp.seccompGetActionAvail(validateUint32(action, 'action'));
  if (r === -EOPNOTSUPP) return false;
  check(r, 'seccomp');
  return true;
}

/** seccomp(SECCOMP_GET_NOTIF_SIZES): the kernel's sizes of the user-notification structs. */
export function seccompGetNotifSizes(): SeccompNotifSizes {
  const r = native.seccomp.seccompGetNotifSizes();
  if (typeof r === 'number') check(r, 'seccomp');
  const [notif, resp, data] = r as [number, number, number];
  return { notif, resp, data };
}

/** prctl(PR_SET_NO_NEW_PRIVS, 1): execve can no longer grant privileges (setuid bits, file capabilities) to this thread or its children. Cannot be undone. */
export function prctlSetNoNewPrivs(): void {
  check(native.seccomp.prctlSetNoNewPrivs(), 'prctl');
}

/** prctl(PR_GET_NO_NEW_PRIVS): whether the calling thread has no_new_privs. */
export function prctlGetNoNewPrivs(): boolean {
  return check(native.seccomp.prctlGetNoNewPrivs(), 'prctl') === 1;
}

/** prctl(PR_GET_SECCOMP): the calling thread's mode, `SECCOMP_MODE_DISABLED` or `SECCOMP_MODE_FILTER` (a strict-mode thread is killed by asking). */
export function prctlGetSeccomp(): number {
  return check(native.seccomp.prctlGetSeccomp(), 'prctl');
}

export const {
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_USER_NOTIF,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_LOG,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_DATA,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  AUDIT_ARCH_X86_64,
  AUDIT_ARCH_AARCH64,
} = C;
