/**
 * seccomp filters compiled by Butter: rules to classic BPF (checked and
 * resolved to numbers here, laid out by the addon's code generator), a filter
 * object that can say what it does (interpret, disassemble), and loading into
 * the running process only when the filter lets Node's own threads live.
 *
 * The program's shape (docs/architecture.md, "seccomp"): the architecture
 * first; then, per architecture, a binary search over the syscall number
 * whose leaves are either a return (a run of numbers with one action) or one
 * syscall's argument checks. No argument is read before the number is known,
 * so the kernel's per-syscall action cache (which holds what a filter returns
 * without looking at arguments) applies to every syscall without argument
 * rules.
 */
import { illegalConstructor, invalidArgType, invalidArgValue, outOfRange, sysError } from '../core/errors';
import { native } from '../core/native';
import { isArray, validateBoolean, validateInteger, validateOptions, UINT32_MAX, UINT64_MAX } from '../core/validate';
import { readdirSync, readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  BPF_MAXINSNS,
  SOCK_FILTER_SIZE,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
  prctlSetNoNewPrivs,
  seccompSetModeFilter,
} from '../raw/seccomp';
import type * as Bpf from './seccomp-bpf';
import { syscallTables } from './seccomp-syscalls';

/** The architectures Butter has syscall tables for. x32 is x86_64's ILP32 ABI: the same AUDIT_ARCH, numbers with bit 30 set. */
export type SeccompArch = 'x86_64' | 'x32' | 'aarch64';

/**
 * What a filter does with a syscall. `errno` makes it fail with that error
 * (a name such as `'EPERM'` or a number, 0-4095); `trace` hands it to a
 * ptrace tracer with the given message (or fails with ENOSYS when none);
 * `user_notif` to the filter's listener (ENOSYS without one); `log` allows it
 * and logs it; `trap` sends SIGSYS; `kill_thread` and `kill_process` kill.
 */
export type SeccompAction =
  | 'allow'
  | 'log'
  | 'kill_process'
  | 'kill_thread'
  | 'trap'
  | 'user_notif'
  | { errno: number | string }
  | { trace: number };

/** A comparison of one syscall argument (all 64 bits, unsigned) with `value`; `masked_eq` compares `arg & mask` with `value`. */
export interface SeccompArgCheck {
  index: number;
  op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'masked_eq';
  value: bigint | number;
  mask?: bigint | number;
}

/**
 * One rule: `action` for `syscall` (a name, or a number on the architecture
 * compiled for) when every argument check holds. A syscall's rules are tried
 * in the order given and the first that holds decides; when none does, the
 * default action applies. `arch` limits the rule to some architectures.
 */
export interface SeccompRule {
  syscall: string | number;
  action: SeccompAction;
  args?: readonly SeccompArgCheck[];
  arch?: readonly SeccompArch[];
}

export interface SeccompCompileOptions {
  /** The action for every syscall no rule decides. */
  defaultAction: SeccompAction;
  /** The architectures the filter knows (default: this machine's). */
  arch?: SeccompArch | readonly SeccompArch[];
  /** The action for a syscall made through any other architecture or ABI (default `'kill_process'`). */
  badArchAction?: SeccompAction;
}

/** A verdict, decoded: the action's name, its 16 data bits (the errno, the trace message) and the raw 32-bit value. */
export interface SeccompVerdict {
  action: 'kill_process' | 'kill_thread' | 'trap' | 'errno' | 'user_notif' | 'trace' | 'log' | 'allow';
  data: number;
  value: number;
}

/** A syscall to run a filter on (seccompInterpret). */
export interface SeccompSyscall {
  /** A name (on `arch`) or a number. */
  nr: string | number;
  /** Default: this machine's architecture. */
  arch?: SeccompArch;
  /** Up to six arguments (missing ones are 0). */
  args?: readonly (bigint | number)[];
  instructionPointer?: bigint;
}

const machineArch = ({ x64: 'x86_64', arm64: 'aarch64' } as Partial<Record<string, SeccompArch>>)[process.arch];

/** @internal This machine's architecture, where an argument leaves it out. */
export function nativeArch(name: string): SeccompArch {
  if (machineArch === undefined) throw invalidArgValue(name, undefined, `must be given: Butter has no syscall tables for this machine's architecture (${process.arch})`);
  return machineArch;
}
const X32_SYSCALL_BIT = 0x40000000;
const auditArch: Record<SeccompArch, number> = { x86_64: AUDIT_ARCH_X86_64, x32: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };
/** The architectures, in the order the code generator numbers them. */
const archNames = Object.keys(auditArch) as SeccompArch[];

const actionNames: Record<number, SeccompVerdict['action']> = {
  [SECCOMP_RET_KILL_PROCESS]: 'kill_process',
  [SECCOMP_RET_KILL_THREAD]: 'kill_thread',
  [SECCOMP_RET_TRAP]: 'trap',
  [SECCOMP_RET_ERRNO]: 'errno',
  [SECCOMP_RET_USER_NOTIF]: 'user_notif',
  [SECCOMP_RET_TRACE]: 'trace',
  [SECCOMP_RET_LOG]: 'log',
  [SECCOMP_RET_ALLOW]: 'allow',
};
const simpleActions: Record<string, number> = {
  allow: SECCOMP_RET_ALLOW,
  log: SECCOMP_RET_LOG,
  kill_process: SECCOMP_RET_KILL_PROCESS,
  kill_thread: SECCOMP_RET_KILL_THREAD,
  trap: SECCOMP_RET_TRAP,
  user_notif: SECCOMP_RET_USER_NOTIF,
};

/** A verdict's meaning. An action the kernel does not know is taken as kill_process, as the kernel does. */
export function seccompVerdict(value: number): SeccompVerdict {
  const full = (value & SECCOMP_RET_ACTION_FULL) >>> 0;
  return { action: actionNames[full] ?? 'kill_process', data: value & SECCOMP_RET_DATA, value: value >>> 0 };
}

function describe(value: number): string {
  const v = seccompVerdict(value);
  return v.action === 'errno' || v.action === 'trace' ? `${v.action}(${v.data})` : v.action;
}

/** An action as its 32-bit return value. */
export function actionValue(action: unknown, name: string): number {
  if (typeof action === 'string') {
    const v = Object.hasOwn(simpleActions, action) ? simpleActions[action] : undefined;
    if (v === undefined) throw invalidArgValue(name, action, `must be one of ${Object.keys(simpleActions).map((a) => `'${a}'`).join(', ')}, { errno } or { trace }`);
    return v;
  }
  if (typeof action !== 'object' || action === null) throw invalidArgType(name, 'of type string or object', action);
  const a = action as { errno?: unknown; trace?: unknown };
  if ('errno' in a) {
    const errnos = osConstants.errno as Record<string, number>;
    const n = typeof a.errno === 'string' ? (Object.hasOwn(errnos, a.errno) ? errnos[a.errno] : undefined) : a.errno;
    if (n === undefined) throw invalidArgValue(`${name}.errno`, a.errno, 'is not an errno name');
    return (SECCOMP_RET_ERRNO | validateInteger(n, `${name}.errno`, 0, 4095)) >>> 0;
  }
  if ('trace' in a) return (SECCOMP_RET_TRACE | validateInteger(a.trace, `${name}.trace`, 0, 0xffff)) >>> 0;
  throw invalidArgValue(name, action, 'must have an errno or a trace property');
}

/** @internal A syscall's number on `arch`, or undefined when that architecture has no such call. */
export function syscallNumber(name: string, arch: SeccompArch): number | undefined {
  return numberMap(arch).get(name);
}

/**
 * A syscall's number on `arch` (default: this machine's), from the tables
 * Butter was built with, or undefined when that architecture has no such call
 * (as libseccomp's `scmp_sys_resolver`). x32's numbers include its bit 30.
 */
export function seccompSyscallNumber(name: string, arch?: SeccompArch): number | undefined {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  return syscallNumber(name, arch === undefined ? nativeArch('arch') : validateArch(arch, 'arch'));
}

// The generated tables as Maps, made on first use (names in seccompCompile, seccompSyscallNumber/Name; a profile's names are resolved by the code generator).
const numberMaps = new Map<SeccompArch, Map<string, number>>();
function numberMap(arch: SeccompArch): Map<string, number> {
  let map = numberMaps.get(arch);
  if (!map) {
    map = new Map();
    const words = syscallTables[arch].split(' ');
    for (let i = 0; i < words.length; i += 2) map.set(words[i], Number(words[i + 1]));
    numberMaps.set(arch, map);
  }
  return map;
}

/** A syscall's name from its number on `arch` (default: this machine's), or undefined when the tables have none. */
export function seccompSyscallName(nr: number, arch?: SeccompArch): string | undefined {
  validateInteger(nr, 'nr', 0, UINT32_MAX);
  for (const [name, n] of numberMap(arch === undefined ? nativeArch('arch') : validateArch(arch, 'arch'))) if (n === nr) return name;
  return undefined;
}

function validateArch(value: unknown, name: string): SeccompArch {
  if (typeof value !== 'string' || !archNames.includes(value as SeccompArch)) {
    throw invalidArgValue(name, value, `must be one of ${archNames.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as SeccompArch;
}

function validateArches(value: unknown, name: string): SeccompArch[] {
  if (value === undefined) return [nativeArch(name)];
  const list = isArray(value) ? value : [value];
  if (list.length === 0) throw invalidArgValue(name, value, 'must not be empty');
  return [...new Set(list.map((a, i) => validateArch(a, isArray(value) ? `${name}[${i}]` : name)))];
}

function argValue(value: unknown, name: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value !== 'bigint') throw invalidArgType(name, 'of type bigint or a non-negative safe integer', value);
  if (value < 0n || value > UINT64_MAX) throw outOfRange(name, `>= 0n && <= ${UINT64_MAX}n`, value);
  return value;
}

const ops = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'] as const;

// In a syscall record's arch (src/native/seccomp.c, RECORD_NAMED).
const NAMED = 0x100;

function halves(value: bigint): [number, number] {
  return [Number(value >> 32n), Number(value & 0xffffffffn)];
}

/**
 * @internal Rules as the code generator (seccompAssemble, src/native/seccomp.c)
 * takes them, in 32-bit words. `actions`: per rule its action's value, its
 * number of checks, and per check the argument's index, the operator (its
 * place in `ops`), then the value's and the mask's high and low halves.
 * `syscalls`: per syscall a rule is for, the arch (its place in archNames),
 * the number and the rule's offset in `actions`, in the order given, which
 * decides between the rules of one syscall; or, for a list of names, the
 * arch with NAMED set and the list's index in `names`. A profile names
 * hundreds of syscalls with a few dozen rules: the code generator resolves
 * them (from `names` as JSON, one string where the lists' strings would be
 * hundreds of N-API calls), where JS would look each up cold.
 */
export class Rules {
  readonly actions: number[] = [];
  readonly syscalls: number[] = [];
  readonly names: (readonly string[])[] = [];

  /** A rule's action and checks, checked; returns the rule's offset. */
  add(action: unknown, args: unknown, at: string): number {
    const rule = this.actions.length;
    this.actions.push(actionValue(action, `${at}.action`), 0);
    if (args === undefined) return rule;
    if (!isArray(args)) throw invalidArgType(`${at}.args`, 'an array', args);
    args.forEach((c, i) => {
      const name = `${at}.args[${i}]`;
      const o = validateOptions<SeccompArgCheck>(c, name, ['index', 'op', 'value', 'mask']);
      const index = validateInteger(o.index, `${name}.index`, 0, 5);
      const op = ops.indexOf(o.op as (typeof ops)[number]);
      if (op < 0) throw invalidArgValue(`${name}.op`, o.op, `must be one of ${ops.map((x) => `'${x}'`).join(', ')}`);
      if (o.op !== 'masked_eq' && o.mask !== undefined) throw invalidArgValue(`${name}.mask`, o.mask, "is only for 'masked_eq'");
      const mask = o.op === 'masked_eq' ? argValue(o.mask, `${name}.mask`) : UINT64_MAX;
      this.actions.push(index, op, ...halves(argValue(o.value, `${name}.value`)), ...halves(mask));
      this.actions[rule + 1]++;
    });
    return rule;
  }

  /** `rule` (an offset add() returned) for syscall `nr` on `arch`. */
  for(arch: SeccompArch, nr: number, rule: number): void {
    this.syscalls.push(archNames.indexOf(arch), nr, rule);
  }

  /** `rule` for every syscall of `names` that `arch` has; the others are skipped. */
  forNames(arch: SeccompArch, names: readonly string[], rule: number): void {
    this.syscalls.push(archNames.indexOf(arch) | NAMED, this.names.length, rule);
    this.names.push(names);
  }
}

function ruleWords(rules: unknown, arches: SeccompArch[]): Rules {
  if (!isArray(rules)) throw invalidArgType('rules', 'an array', rules);
  const words = new Rules();
  rules.forEach((r, i) => {
    const at = `rules[${i}]`;
    const o = validateOptions<SeccompRule>(r, at, ['syscall', 'action', 'args', 'arch']);
    const rule = words.add(o.action, o.args, at);
    const only = o.arch === undefined ? arches : validateArches(o.arch, `${at}.arch`).filter((a) => arches.includes(a));
    let known = false;
    for (const arch of only) {
      let nr: number | undefined;
      if (typeof o.syscall === 'string') nr = syscallNumber(o.syscall, arch);
      else {
        nr = validateInteger(o.syscall, `${at}.syscall`, 0, UINT32_MAX);
        // x86_64 and x32 share the arch check and split the numbers at bit 30.
        if ((arch === 'x86_64' && nr >= X32_SYSCALL_BIT) || (arch === 'x32' && nr < X32_SYSCALL_BIT)) nr = undefined;
      }
      if (nr === undefined) continue;
      known = true;
      words.for(arch, nr, rule);
    }
    if (!known && only.length > 0) {
      if (typeof o.syscall !== 'string' && typeof o.syscall !== 'number') throw invalidArgType(`${at}.syscall`, 'of type string or number', o.syscall);
      throw invalidArgValue(`${at}.syscall`, o.syscall, `is not a syscall on ${only.join(', ')}`);
    }
  });
  return words;
}

// Only the compiler makes filters: seccompLoad trusts what a filter says it can do.
const compiler = Symbol('seccompCompile');

/** A compiled filter: the program, and what the compiler knows of it. */
export class SeccompFilter {
  /** The program: `struct sock_filter` records, ready for seccomp(2) in this process or in a child. */
  readonly program: Uint8Array;
  /** The architectures it knows; syscalls through any other get `badArchAction`. */
  readonly arch: readonly SeccompArch[];
  readonly #actions: ArrayLike<number>;
  readonly #syscalls: Uint32Array;
  readonly #fallback: number;

  /** @internal use seccompCompile() or seccompProfile() */
  constructor(token: symbol, program: Uint8Array, arch: SeccompArch[], actions: ArrayLike<number>, syscalls: Uint32Array, fallback: number) {
    if (token !== compiler) throw illegalConstructor();
    this.program = program;
    this.arch = Object.freeze(arch);
    this.#actions = actions;
    this.#syscalls = syscalls;
    this.#fallback = fallback;
  }

  /** The number of instructions. */
  get length(): number {
    return this.program.length / SOCK_FILTER_SIZE;
  }

  /** Every verdict a syscall number can get on `arch`, whatever its arguments. */
  possibleVerdicts(nr: number, arch: SeccompArch): number[] {
    const id = archNames.indexOf(arch);
    const actions = this.#actions;
    const syscalls = this.#syscalls;
    const values = new Set<number>();
    // A syscall's rules in order; one without checks decides for every call, and those after it never apply.
    for (let at = 0; at < syscalls.length; at += 3) {
      if (syscalls[at] !== id || syscalls[at + 1] !== nr) continue;
      const rule = syscalls[at + 2];
      values.add(actions[rule]);
      if (actions[rule + 1] === 0) return [...values];
    }
    return [...values.add(this.#fallback)];
  }

  /** The program as text, one instruction a line (see seccompDisassemble). */
  disassemble(): string {
    return seccompDisassemble(this.program);
  }
}

/**
 * Compiles rules into a seccomp filter (classic BPF, no libseccomp). Throws
 * ERR_INVALID_ARG_* for a bad rule or a name no architecture compiled for
 * has, and ERR_OUT_OF_RANGE when the program would pass the kernel's 4096
 * instructions.
 */
export function seccompCompile(rules: readonly SeccompRule[], options: SeccompCompileOptions): SeccompFilter {
  const o = validateOptions<SeccompCompileOptions>(options, 'options', ['defaultAction', 'arch', 'badArchAction']);
  const fallback = actionValue(o.defaultAction, 'options.defaultAction');
  const badArch = o.badArchAction === undefined ? SECCOMP_RET_KILL_PROCESS : actionValue(o.badArchAction, 'options.badArchAction');
  const arches = validateArches(o.arch, 'options.arch');
  return compileRules(ruleWords(rules, arches), arches, fallback, badArch);
}

// Per arch as the code generator numbers them, the names it resolves a profile's in.
const tables = archNames.map((a) => syscallTables[a]);

/**
 * @internal The program for rules already checked and resolved to numbers
 * (seccompProfile's way in). The code generator is C (seccompAssemble): a
 * program is compiled once per process, where V8 would run it cold.
 */
export function compileRules(rules: Rules, arches: SeccompArch[], fallback: number, badArch: number): SeccompFilter {
  const { actions, syscalls } = rules;
  const head = 4 + arches.length;
  const words = new Uint32Array(head + actions.length + syscalls.length);
  words[0] = fallback;
  words[1] = badArch;
  words[2] = arches.length;
  arches.forEach((a, i) => (words[3 + i] = archNames.indexOf(a)));
  words[head - 1] = actions.length;
  words.set(actions, head);
  words.set(syscalls, head + actions.length);
  const result = native.seccomp.seccompAssemble(words, JSON.stringify(rules.names), tables);
  if (typeof result === 'number') throw sysError(-result, 'malloc');
  return filterOf(result[0], arches, actions, result[1], fallback);
}

/**
 * @internal seccompProfile's way in for a profile's JSON text: the usual
 * profile is read in C (seccompAssembleProfile) as seccompProfile's reader
 * would read it, since a program compiles its filter once and V8 runs that
 * reader cold. undefined for anything the C reader leaves to that reader
 * (every error among it): options it does not take, a profile it does not.
 */
export function compileProfileText(text: string, caps: unknown, arch: unknown): SeccompFilter | undefined {
  const id = archNames.indexOf((arch === undefined ? machineArch : arch) as SeccompArch);
  if (id < 0 || !isArray(caps)) return undefined;
  const result = native.seccomp.seccompAssembleProfile(text, caps as string[], id, tables);
  if (typeof result === 'number') throw sysError(-result, 'malloc');
  if (result === undefined) return undefined;
  const [program, resolved, words] = result;
  const head = 4 + words[2];
  const arches = Array.from(words.subarray(3, head - 1), (a) => archNames[a]);
  return filterOf(program, arches, words.subarray(head, head + words[head - 1]), resolved, words[0]);
}

function filterOf(program: Uint8Array, arches: SeccompArch[], actions: ArrayLike<number>, resolved: Uint32Array, fallback: number): SeccompFilter {
  const length = program.length / SOCK_FILTER_SIZE;
  if (length > BPF_MAXINSNS) {
    throw outOfRange('rules', `a program of at most ${BPF_MAXINSNS} instructions (these compile to ${length})`, length);
  }
  return new SeccompFilter(compiler, program, arches, actions, resolved, fallback);
}

// The interpreter and the disassembler load on first use: compiling and loading a filter need neither.
let bpfModule: typeof Bpf | undefined;
function bpf(): typeof Bpf {
  return (bpfModule ??= require('./seccomp-bpf') as typeof Bpf);
}

function programOf(filter: unknown): Uint8Array {
  if (filter instanceof SeccompFilter) return filter.program;
  if (filter instanceof Uint8Array && filter.length > 0 && filter.length % SOCK_FILTER_SIZE === 0) return filter;
  throw invalidArgType('filter', 'a SeccompFilter or a Uint8Array of sock_filter records', filter);
}

/**
 * Runs a filter (a SeccompFilter, or a program's bytes) on one syscall as the
 * kernel would, without loading it, and returns its verdict.
 */
export function seccompInterpret(filter: SeccompFilter | Uint8Array, syscall: SeccompSyscall): SeccompVerdict {
  const { decode, run } = bpf();
  const insns = decode(programOf(filter));
  const o = validateOptions<SeccompSyscall>(syscall, 'syscall', ['nr', 'arch', 'args', 'instructionPointer']);
  const arch = o.arch === undefined ? nativeArch('syscall.arch') : validateArch(o.arch, 'syscall.arch');
  let nr: number;
  if (typeof o.nr === 'string') {
    const found = syscallNumber(o.nr, arch);
    if (found === undefined) throw invalidArgValue('syscall.nr', o.nr, `is not a syscall on ${arch}`);
    nr = found;
  } else nr = validateInteger(o.nr, 'syscall.nr', -(2 ** 31), UINT32_MAX);
  const args = o.args === undefined ? [] : o.args;
  if (!isArray(args) || args.length > 6) throw invalidArgValue('syscall.args', args, 'must be an array of at most 6 arguments');
  const data = {
    nr,
    arch: auditArch[arch],
    instructionPointer: o.instructionPointer === undefined ? 0n : argValue(o.instructionPointer, 'syscall.instructionPointer'),
    args: args.map((a, i) => argValue(a, `syscall.args[${i}]`)),
  };
  return seccompVerdict(run(insns, data));
}

/** A program as text: one instruction a line, returns named by their action (`ret #0x50001 ; errno(1)`). */
export function seccompDisassemble(filter: SeccompFilter | Uint8Array): string {
  const { decode, disassemble } = bpf();
  return disassemble(decode(programOf(filter)), describe);
}

// What Node's and Butter's own threads call on their own, whatever the program
// does (libuv's loop and pool, V8's platform threads and GC, Butter's work
// threads and signal broadcasts); a filter that kills or traps on one of them
// kills the process from a thread the caller does not control.
const nodeNeeds = [
  'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'close', 'openat', 'newfstatat', 'fstat', 'statx',
  'lseek', 'fcntl', 'ioctl', 'dup3', 'pipe2', 'eventfd2', 'getdents64',
  'mmap', 'munmap', 'mprotect', 'madvise', 'mremap', 'brk',
  'futex', 'sched_yield', 'nanosleep', 'clock_nanosleep', 'clock_gettime', 'gettimeofday',
  'epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'epoll_pwait2',
  'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigtimedwait', 'sigaltstack', 'tgkill', 'getpid', 'gettid',
  'clone', 'clone3', 'set_robust_list', 'rseq', 'exit', 'exit_group', 'prctl', 'sched_getaffinity', 'getrandom',
  'restart_syscall', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
];

const deadly = new Set(['kill_process', 'kill_thread', 'trap']);

/** Whether this process has an io_uring instance open: libuv's own (Node 22 and later drive file I/O through one), or an IoUring. */
function hasRing(): boolean {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[io_uring]') return true;
    } catch {
      // closed since the listing
    }
  }
  return false;
}

/** With a ring open, what a filter may not deny: libuv aborts the process when io_uring_enter fails on its ring. */
function blocksRing(filter: SeccompFilter): string[] {
  const arch = machineArch!;
  return ['io_uring_enter', 'io_uring_register'].filter((name) => {
    const nr = syscallNumber(name, arch);
    return nr !== undefined && filter.possibleVerdicts(nr, arch).some((v) => !['allow', 'log'].includes(seccompVerdict(v).action));
  });
}

/** The syscalls on which `filter` could kill (or trap) one of Node's own threads on this machine. */
function killsNode(filter: SeccompFilter): string[] {
  const arch = machineArch;
  if (arch === undefined || !filter.arch.includes(arch)) return ['every syscall (the filter does not know this architecture)'];
  return nodeNeeds.filter((name) => {
    const nr = syscallNumber(name, arch);
    return nr !== undefined && filter.possibleVerdicts(nr, arch).some((v) => deadly.has(seccompVerdict(v).action));
  });
}

export interface SeccompLoadOptions {
  /** Every thread of the process (SECCOMP_FILTER_FLAG_TSYNC); must be true, the default. */
  tsync?: boolean;
  /** SECCOMP_FILTER_FLAG_LOG: log every action but allow. */
  log?: boolean;
  /** SECCOMP_FILTER_FLAG_SPEC_ALLOW: leave speculative-store-bypass mitigation off. */
  specAllow?: boolean;
}

/**
 * Loads a compiled filter into every thread of this process, for the rest of
 * its life (after setting no_new_privs, which it needs without CAP_SYS_ADMIN).
 * Refuses (ERR_INVALID_ARG_VALUE) a filter that could kill or trap on a
 * syscall Node's own threads make: a killed libuv or V8 thread takes the
 * process with it, or leaves it hanging. io_uring operations bypass seccomp:
 * a filter cannot stop what a ring already set up does.
 */
export function seccompLoad(filter: SeccompFilter, options: SeccompLoadOptions = {}): void {
  if (!(filter instanceof SeccompFilter)) throw invalidArgType('filter', 'an instance of SeccompFilter', filter);
  const o = validateOptions<SeccompLoadOptions>(options, 'options', ['tsync', 'log', 'specAllow']);
  if (o.tsync !== undefined && !validateBoolean(o.tsync, 'options.tsync')) {
    throw invalidArgValue('options.tsync', o.tsync, "must be true: a filter on one of Node's threads only protects nothing (use seccompSetModeFilter() for that)");
  }
  const kills = killsNode(filter);
  if (kills.length > 0) {
    throw invalidArgValue('filter', `a filter of ${filter.length} instructions`, `must let Node's own threads live, but can kill or trap on ${kills.join(', ')}: deny these with { errno } instead`);
  }
  const ring = hasRing() ? blocksRing(filter) : [];
  if (ring.length > 0) {
    throw invalidArgValue('filter', `a filter of ${filter.length} instructions`, `must allow ${ring.join(' and ')}: this process has an io_uring open (libuv's, which drives Node's file I/O from Node 22, or an IoUring's), and libuv aborts the process when io_uring_enter fails: load such a filter in a new process instead (spawn()'s seccomp option)`);
  }
  let flags = SECCOMP_FILTER_FLAG_TSYNC;
  if (o.log !== undefined && validateBoolean(o.log, 'options.log')) flags |= SECCOMP_FILTER_FLAG_LOG;
  if (o.specAllow !== undefined && validateBoolean(o.specAllow, 'options.specAllow')) flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  prctlSetNoNewPrivs();
  const tid = seccompSetModeFilter(flags, filter.program);
  if (tid > 0) {
    // TSYNC loads nothing when one thread cannot take the filter (it has one of its own that is not an ancestor of ours).
    const err = new Error(`seccomp: thread ${tid} cannot take the filter (it has another filter of its own); nothing was loaded`) as Error & { code: string; tid: number };
    err.code = 'ERR_BUTTER_SECCOMP_TSYNC';
    err.tid = tid;
    throw err;
  }
}
