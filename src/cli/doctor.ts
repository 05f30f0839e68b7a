/**
 * `butter doctor`: for each family Butter offers, whether it works here and
 * now, and if not, why and what to change.
 *
 * Two parts: the system facts every family's verdict depends on (kernel,
 * runtime, readiness backend, user, capabilities, user namespace, seccomp),
 * gathered once into an `Environment`; then one check function per family in
 * `families`, each returning a `FamilyReport`. A new family (timerfd, signalfd,
 * inotify, fanotify, io_uring, seccomp, namespaces, …) adds one entry there.
 *
 * Doctor never changes machine state: it reads /proc and /proc/sys, and
 * exercises Butter only on objects it creates and closes itself (an eventfd).
 * It never calls sethostname, writes a sysctl, or enters a namespace; where
 * only such a call would tell, it reasons from capabilities and sysctls and
 * says so.
 */
import { closeSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { runtime, signalBlockingRefusal } from '../core/runtime';
import type { Command, Io } from './main';

type Butter = typeof import('../index');
type ReadinessBackend = ReturnType<Butter['readinessBackend']>;

// ---------------------------------------------------------------- results

/**
 * `ok`: works here. `limited`: works, but privileges or configuration hold
 * part of it back (the fix says what to change). `unavailable`: does not work
 * here at all, or Butter's own call misbehaved.
 */
export type Status = 'ok' | 'limited' | 'unavailable';

/** One call (or group of calls that stand or fall together) within a family. */
export interface CallCheck {
  calls: string[];
  status: Status;
  detail: string;
}

/** A value shown as-is in `--json`; `null` means "not present on this system". */
export type Fact = string | number | boolean | null;

export interface FamilyReport {
  family: string;
  /** The worst status among `calls`. */
  status: Status;
  /** One sentence: why the status is what it is. */
  reason: string;
  /** What to change to get to `ok`; `null` when nothing needs changing. */
  fix: string | null;
  calls: CallCheck[];
  /** The settings and observations the verdict rests on (sysctls, backend, …). */
  facts: Record<string, Fact>;
}

export interface SystemFacts {
  kernel: { sysname: string; release: string; version: string };
  arch: { node: string; machine: string };
  node: { version: string; napi: string | null; runtime: string };
  butter: { version: string; loaded: boolean; error: string | null };
  readiness: {
    backend: ReadinessBackend | null;
    /** The value of BUTTER_READINESS, if set. */
    env: string | null;
    note: string;
  };
  user: { uid: number; euid: number; gid: number; egid: number; root: boolean };
  capabilities: {
    /** Names decoded from CapEff in /proc/self/status. */
    effective: string[];
    /** Capabilities this kernel knows (up to kernel.cap_last_cap) that are not effective. */
    missing: string[];
    /** CapEff as the kernel prints it, for bits newer than Butter's table. */
    hex: string | null;
  };
  /** `initial: null` when /proc/self/uid_map cannot be read. */
  userNamespace: { initial: boolean | null; uidMap: string | null };
  seccomp: { mode: 'disabled' | 'strict' | 'filter' | null; noNewPrivs: boolean | null };
}

export interface DoctorReport {
  butter: string;
  /** The worst family status: `unavailable` makes `butter doctor` exit 1. */
  status: Status;
  system: SystemFacts;
  families: FamilyReport[];
}

// ---------------------------------------------------------------- environment

/** What a family check gets: the facts, Butter itself, and readers for /proc. */
export interface Environment {
  readonly system: SystemFacts;
  readonly butter: Butter;
  hasCap(name: CapabilityName): boolean;
  /** A sysctl's value (`'user.max_user_namespaces'`), trimmed; `null` if this kernel has none. */
  sysctl(name: string): string | null;
}

/** linux/capability.h, in bit order. */
const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

export type CapabilityName = (typeof CAPABILITIES)[number];

function capabilityName(bit: number): string {
  // A kernel newer than this table still gets every bit reported, by number.
  return CAPABILITIES[bit] ?? `CAP_${bit}`;
}

/** Decodes a capability mask as /proc prints it (16 hex digits) into names. */
export function decodeCapabilities(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) names.push(capabilityName(bit));
  return names;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // Absent (older kernel, no such sysctl) or hidden (restricted /proc): the callers report null.
    return null;
  }
}

function sysctl(name: string): string | null {
  return readText(`/proc/sys/${name.replace(/\./g, '/')}`)?.trim() ?? null;
}

function statusFields(): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of (readText('/proc/self/status') ?? '').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** One line: a report row is no place for a require stack. */
function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

/** Why the addon did not load (completing "the native addon …"), and what to do about it. */
function loadFailure(err: Error): { why: string; fix: string } {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'MODULE_NOT_FOUND' && err.message.includes('butter.node')) {
    return {
      why: 'not built (no build/Release/butter.node), and no prebuilt one fits this platform',
      fix: 'build it: `npm run build:native` in the package (node-gyp needs python3, make and a C compiler), or `npm rebuild butter` where it is installed',
    };
  }
  if (code === 'ERR_DLOPEN_FAILED') {
    return { why: `does not load: ${errorText(err)}`, fix: 'rebuild it for this Node and this system: `npm rebuild butter` (or `npm run build:native` in the package)' };
  }
  return { why: `failed to start: ${errorText(err)}`, fix: 'report it, with this output' };
}

function loadButter(): Butter | Error {
  try {
    // Loaded here rather than imported at the top: if the addon cannot load,
    // that is the first thing doctor has to report, not a crash.
    return require('../index') as Butter;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function readinessFacts(butter: Butter | Error): SystemFacts['readiness'] {
  const env = process.env.BUTTER_READINESS ?? null;
  const forcing = env === 'uv' || env === 'epoll';
  const ignored = env !== null && env !== '' && !forcing ? `; BUTTER_READINESS='${env}' is ignored (only 'uv' and 'epoll' are understood)` : '';
  if (butter instanceof Error) return { backend: null, env, note: `none: the native addon did not load${ignored}` };
  const backend = butter.readinessBackend();
  let note: string;
  if (backend === 'uv') {
    note = `libuv's own loop, Node's fast path${forcing ? ' (forced by BUTTER_READINESS=uv)' : ''}; BUTTER_READINESS=epoll forces the portable backend`;
  } else if (env === 'epoll') {
    note = 'the portable backend (an epoll thread of Butter\'s own), forced by BUTTER_READINESS=epoll';
  } else {
    note = 'the portable backend (an epoll thread of Butter\'s own): libuv\'s loop is not usable in this runtime';
  }
  return { backend, env, note: note + ignored };
}

function gatherFacts(butter: Butter | Error, butterVersion: string): SystemFacts {
  const status = statusFields();
  const capHex = status.get('CapEff') ?? null;
  const effective = capHex === null ? [] : decodeCapabilities(capHex);
  const lastCap = Number(sysctl('kernel.cap_last_cap') ?? CAPABILITIES.length - 1);
  const missing: string[] = [];
  for (let bit = 0; bit <= lastCap; bit++) if (!effective.includes(capabilityName(bit))) missing.push(capabilityName(bit));

  // The initial user namespace maps every id to itself; a namespace made by
  // unshare/a container maps a range. (Only a privileged creator could make a
  // child namespace with the full identity map, and nobody has a reason to.)
  const uidMap = readText('/proc/self/uid_map')?.trim().split(/\s+/).join(' ') ?? null;
  const seccompMode = status.get('Seccomp');
  const noNewPrivs = status.get('NoNewPrivs');

  return {
    kernel: { sysname: os.type(), release: os.release(), version: os.version() },
    arch: { node: process.arch, machine: os.machine() },
    node: {
      version: process.version,
      napi: process.versions.napi ?? null,
      runtime: 'bun' in process.versions ? 'bun' : 'deno' in process.versions ? 'deno' : (process.release?.name ?? 'unknown'),
    },
    butter: { version: butterVersion, loaded: !(butter instanceof Error), error: butter instanceof Error ? loadFailure(butter).why : null },
    readiness: readinessFacts(butter),
    user: {
      uid: process.getuid?.() ?? -1,
      euid: process.geteuid?.() ?? -1,
      gid: process.getgid?.() ?? -1,
      egid: process.getegid?.() ?? -1,
      root: process.geteuid?.() === 0,
    },
    capabilities: { effective, missing, hex: capHex },
    userNamespace: { initial: uidMap === null ? null : uidMap === '0 0 4294967295', uidMap },
    seccomp: {
      mode: seccompMode === '0' ? 'disabled' : seccompMode === '1' ? 'strict' : seccompMode === '2' ? 'filter' : null,
      noNewPrivs: noNewPrivs === undefined ? null : noNewPrivs === '1',
    },
  };
}

// ---------------------------------------------------------------- helpers for checks

const RANK: Record<Status, number> = { ok: 0, limited: 1, unavailable: 2 };

function worst(statuses: Status[]): Status {
  return statuses.reduce<Status>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok');
}

function report(family: string, calls: CallCheck[], reason: string, fix: string | null = null, facts: Record<string, Fact> = {}): FamilyReport {
  return { family, status: worst(calls.map((c) => c.status)), reason, fix, calls, facts };
}

function call(calls: string | string[], status: Status, detail: string): CallCheck {
  return { calls: typeof calls === 'string' ? [calls] : calls, status, detail };
}

/** Runs one probe; an exception is a finding about that call, not a crash of doctor. */
function probe(calls: string | string[], fn: () => string): CallCheck {
  try {
    return call(calls, 'ok', fn());
  } catch (err) {
    return call(calls, 'unavailable', errorText(err));
  }
}

function expectEqual<T>(what: string, got: T, want: T, wantText: string): void {
  if (got !== want) throw new Error(`${what} gave ${String(got)}, but ${wantText} is ${String(want)}`);
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** Whether a process without privileges could get a user namespace of its own, and if not why. */
interface UsernsVerdict {
  possible: boolean;
  why: string;
  fix: string | null;
  facts: Record<string, Fact>;
}

function unprivilegedUserns(env: Environment): UsernsVerdict {
  const max = env.sysctl('user.max_user_namespaces');
  const clone = env.sysctl('kernel.unprivileged_userns_clone');
  const apparmor = env.sysctl('kernel.apparmor_restrict_unprivileged_userns');
  const facts: Record<string, Fact> = {
    'user.max_user_namespaces': max === null ? null : Number(max),
    'kernel.unprivileged_userns_clone': clone === null ? null : Number(clone),
    'kernel.apparmor_restrict_unprivileged_userns': apparmor === null ? null : Number(apparmor),
  };
  if (max === null) {
    return { possible: false, why: 'this kernel has no user namespaces (no /proc/sys/user/max_user_namespaces)', fix: 'a kernel built with CONFIG_USER_NS', facts };
  }
  if (max === '0') {
    return { possible: false, why: 'user namespaces are disabled (user.max_user_namespaces = 0)', fix: 'as root: sysctl -w user.max_user_namespaces=10000', facts };
  }
  // A Debian/Ubuntu patch: 0 keeps user namespaces to privileged callers.
  if (clone === '0') {
    return { possible: false, why: 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)', fix: 'as root: sysctl -w kernel.unprivileged_userns_clone=1', facts };
  }
  // Ubuntu ≥ 23.10: the namespace is created, but without capabilities in it,
  // unless an AppArmor profile for the program grants `userns`.
  if (apparmor === '1') {
    return {
      possible: false,
      why: 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): the namespace comes without capabilities',
      fix: 'an AppArmor profile for node (or unshare) with the `userns,` rule, or as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
      facts,
    };
  }
  let why = `unprivileged user namespaces are enabled (user.max_user_namespaces = ${max})`;
  // Docker's default seccomp profile, for one, refuses unshare(CLONE_NEWUSER) without CAP_SYS_ADMIN.
  if (env.system.seccomp.mode === 'filter') why += '; a seccomp filter is in force, which may refuse unshare(2) (container runtimes\' default profiles do)';
  return { possible: true, why, fix: null, facts };
}

// ---------------------------------------------------------------- families

function checkProcess(env: Environment): FamilyReport {
  const { butter } = env;
  const calls = [
    probe('getpid', () => {
      const pid = butter.getpid();
      expectEqual('getpid()', pid, process.pid, 'process.pid');
      return `${pid}, as process.pid`;
    }),
    probe('getppid', () => {
      const ppid = butter.getppid();
      expectEqual('getppid()', ppid, process.ppid, 'process.ppid');
      return `${ppid}, as process.ppid`;
    }),
    probe('gettid', () => {
      const tid = butter.gettid();
      // Doctor runs on the main thread, whose thread id is the process id.
      expectEqual('gettid()', tid, process.pid, 'on the main thread the pid');
      return `${tid}, the pid (doctor runs on the main thread)`;
    }),
  ];
  const bad = calls.filter((c) => c.status !== 'ok');
  return bad.length === 0
    ? report('process', calls, 'raw getpid, getppid and gettid agree with Node\'s own view')
    : report('process', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} disagree with Node: a bug in Butter`, 'report it, with this output');
}

function checkHost(env: Environment): FamilyReport {
  const { butter, system } = env;
  const calls: CallCheck[] = [
    probe('uname', () => {
      const u = butter.uname();
      expectEqual('uname().release', u.release, os.release(), 'os.release()');
      expectEqual('uname().machine', u.machine, os.machine(), 'os.machine()');
      return `${u.sysname} ${u.release} ${u.machine}, nodename ${u.nodename}`;
    }),
    probe('gethostname', () => {
      const name = butter.gethostname();
      expectEqual('gethostname()', name, os.hostname(), 'os.hostname()');
      return `'${name}', as os.hostname()`;
    }),
    probe('getdomainname', () => {
      const name = butter.getdomainname();
      expectEqual('getdomainname()', name, butter.uname().domainname, 'uname().domainname');
      return `'${name}', as uname().domainname`;
    }),
  ];

  const setters = ['sethostname', 'setdomainname'];
  const userns = unprivilegedUserns(env);
  const facts: Record<string, Fact> = { CAP_SYS_ADMIN: env.hasCap('CAP_SYS_ADMIN'), ...userns.facts };
  // sethostname is never called: on success it would rename this UTS namespace,
  // which is the whole machine's unless doctor runs in a private one.
  if (env.hasCap('CAP_SYS_ADMIN')) {
    const where = system.userNamespace.initial === false
      ? 'CAP_SYS_ADMIN in this user namespace: works when the UTS namespace belongs to it (as under `unshare -Uru`), EPERM when it belongs to an outer one (as in some containers)'
      : 'permitted (CAP_SYS_ADMIN): they rename this UTS namespace, the machine\'s own unless it is a private one (`unshare --uts`)';
    calls.push(call(setters, 'ok', `${where}; not called, doctor changes nothing`));
    return report('host', calls, 'every call is permitted', null, facts);
  }

  calls.push(call(setters, 'limited', 'EPERM without CAP_SYS_ADMIN in this UTS namespace; not called, doctor changes nothing'));
  let fix: string;
  if (userns.possible) {
    const tool = onPath('unshare') ? '' : ' (unshare is part of util-linux)';
    fix = `run it in a user and UTS namespace of its own, where it holds CAP_SYS_ADMIN: \`unshare -Uru node app.js\`${tool}. Here ${userns.why}.`;
  } else {
    fix = `run it with CAP_SYS_ADMIN (as root, or e.g. \`docker run --cap-add SYS_ADMIN\`); or let \`unshare -Uru\` give it in a namespace of its own, which needs user namespaces: here ${userns.why}; to change that: ${userns.fix ?? 'n/a'}.`;
  }
  return report('host', calls, 'uname and the getters work; sethostname and setdomainname need CAP_SYS_ADMIN, which this process lacks', fix, facts);
}

/**
 * Whether `fd` is (still) an eventfd. After close() the number may in theory be
 * reused by another thread at once; only an eventfd there counts as a leak.
 */
function isEventfd(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]';
  } catch {
    return false;
  }
}

/** The open flags of one of our fds, from /proc/self/fdinfo (octal there). */
function fdFlags(fd: number): number | null {
  const m = /^flags:\s*([0-7]+)/m.exec(readText(`/proc/self/fdinfo/${fd}`) ?? '');
  return m ? parseInt(m[1] as string, 8) : null;
}

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const WAKE_TIMEOUT_MS = 2000;

async function checkEventfd(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const backend = butter.readinessBackend();
  const calls: CallCheck[] = [
    probe(['eventfd', 'eventfdWrite', 'eventfdRead'], () => {
      const fd = butter.eventfd(0);
      try {
        const flags = fdFlags(fd);
        // Butter promises O_CLOEXEC | O_NONBLOCK by default; a regression there would leak fds into children or block the loop.
        if (flags !== null && (flags & (O_NONBLOCK | O_CLOEXEC)) !== (O_NONBLOCK | O_CLOEXEC)) {
          throw new Error(`fd ${fd} lacks O_CLOEXEC or O_NONBLOCK (flags 0${flags.toString(8)})`);
        }
        butter.eventfdWrite(fd, 5n);
        butter.eventfdWrite(fd, 2);
        expectEqual('eventfdRead() after writing 5n and 2', butter.eventfdRead(fd), 7n, 'the sum');
      } finally {
        closeSync(fd);
      }
      return 'created (O_CLOEXEC | O_NONBLOCK), wrote 5n + 2, read 7n, closed';
    }),
  ];

  calls.push(probe('EventFd (semaphore)', () => {
    const ev = new butter.EventFd({ initval: 2, semaphore: true });
    const fd = ev.fd;
    try {
      const got = [ev.readEvent(), ev.readEvent(), ev.readEvent()];
      if (got[0] !== 1n || got[1] !== 1n || got[2] !== null) throw new Error(`readEvent() x3 on initval 2 gave ${got.map(String).join(', ')}, not 1, 1, null`);
    } finally {
      ev.close();
    }
    if (isEventfd(fd)) throw new Error(`fd ${fd} is still an open eventfd after close()`);
    return 'initval 2 read as 1n, 1n, then nothing; closed';
  }));

  // The async path goes through the readiness backend: the one part of eventfd
  // that depends on the runtime rather than on the kernel.
  let wake: CallCheck;
  const ev = new butter.EventFd();
  const fd = ev.fd;
  try {
    const pending = ev.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    ev.write(3n);
    const value = await pending;
    wake = value === 3n
      ? call('EventFd.read', 'ok', `a pending read woke through the ${backend} backend with 3n`)
      : call('EventFd.read', 'unavailable', `the ${backend} backend delivered ${String(value)}, not 3n`);
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'AbortError';
    wake = call('EventFd.read', 'unavailable', timedOut
      ? `the ${backend} backend did not wake the read within ${WAKE_TIMEOUT_MS} ms`
      : errorText(err));
  } finally {
    ev.close();
  }
  calls.push(wake);
  if (isEventfd(fd)) calls.push(call('EventFd.close', 'unavailable', `fd ${fd} is still an open eventfd after close()`));

  const facts: Record<string, Fact> = { readiness: backend };
  if (wake.status !== 'ok') {
    const other = backend === 'uv' ? 'epoll' : 'uv';
    return report('eventfd', calls, `async reads do not work on the ${backend} backend`, `try BUTTER_READINESS=${other}, and report it with this output`, facts);
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length > 0) return report('eventfd', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} failed`, 'see the detail; if the kernel lacks eventfd2 (CONFIG_EVENTFD), a kernel with it', facts);
  return report('eventfd', calls, `created, written, read and closed; async reads wake through the ${backend} backend`, null, facts);
}

async function checkTimerfd(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const calls: CallCheck[] = [];
  for (const clock of ['monotonic', 'realtime', 'boottime'] as const) {
    calls.push(probe(`TimerFd (${clock})`, () => {
      const t = new butter.TimerFd({ clock });
      t.close();
      return 'created and closed';
    }));
  }
  // The alarm clocks can wake a suspended system, which takes CAP_WAKE_ALARM in
  // the initial user namespace (holding it in a namespace of one's own is not enough).
  let alarm = true;
  for (const clock of ['realtime_alarm', 'boottime_alarm'] as const) {
    try {
      new butter.TimerFd({ clock }).close();
      calls.push(call(`TimerFd (${clock})`, 'ok', 'created and closed'));
    } catch (err) {
      const eperm = (err as { code?: unknown }).code === 'EPERM';
      if (eperm) alarm = false;
      calls.push(call(`TimerFd (${clock})`, eperm ? 'limited' : 'unavailable', eperm ? 'EPERM: needs CAP_WAKE_ALARM in the initial user namespace' : errorText(err)));
    }
  }
  const t = new butter.TimerFd();
  try {
    t.set(1);
    const ev = await t.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    calls.push(ev.type === 'expire' && ev.expirations >= 1n
      ? call('TimerFd.read', 'ok', `a 1 ms one-shot expired and woke a read through the ${butter.readinessBackend()} backend`)
      : call('TimerFd.read', 'unavailable', `unexpected event ${JSON.stringify(ev, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`));
  } catch (err) {
    calls.push(call('TimerFd.read', 'unavailable', errorText(err)));
  } finally {
    t.close();
  }
  const facts: Record<string, Fact> = { CAP_WAKE_ALARM: env.hasCap('CAP_WAKE_ALARM'), alarmClocks: alarm };
  const bad = calls.filter((c) => c.status === 'unavailable');
  if (bad.length > 0) return report('timerfd', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} failed`, 'see the detail', facts);
  return alarm
    ? report('timerfd', calls, 'every clock works, alarm clocks included', null, facts)
    : report('timerfd', calls, 'all clocks work but the *_ALARM ones, which need CAP_WAKE_ALARM', 'to use realtime_alarm/boottime_alarm, grant CAP_WAKE_ALARM outside any user namespace (e.g. `setcap cap_wake_alarm+ep` on node, or run as root)', facts);
}

async function checkSignals(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  if (signalBlockingRefusal !== null) {
    const calls = [call(['blockSignals', 'SignalFd'], 'unavailable', `refused on ${runtime}: ${signalBlockingRefusal}`)];
    return report('signals', calls, `process-wide signal blocking cannot work on ${runtime}`, 'run under Node.js or Deno');
  }
  const calls: CallCheck[] = [];
  // SIGRTMAX carries the broadcast that blocks a signal in every thread; a
  // handler someone else installed there makes process-wide blocking refuse (EBUSY).
  const sig = 'SIGRTMIN+7';
  let s: InstanceType<Butter['SignalFd']> | null = null;
  try {
    s = new butter.SignalFd(sig);
    const threads = readdirSync('/proc/self/task');
    const unblocked = threads.filter((tid) => {
      const m = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readText(`/proc/self/task/${tid}/status`) ?? '');
      return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(butter.constants.SIGRTMIN + 7 - 1))) === 0n;
    });
    calls.push(unblocked.length === 0
      ? call(['blockSignals', 'SignalFd'], 'ok', `${sig} blocked in all ${threads.length} threads while held`)
      : call(['blockSignals', 'SignalFd'], 'unavailable', `${unblocked.length} of ${threads.length} threads do not block ${sig}`));
    butter.sigqueue(process.pid, sig, 77);
    const ev = await s.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    calls.push(ev.pid === process.pid && ev.int === 77 && ev.codeName === 'SI_QUEUE'
      ? call(['signalfd', 'sigqueue'], 'ok', `a queued ${sig} arrived with its sender (pid ${ev.pid}) and value 77`)
      : call(['signalfd', 'sigqueue'], 'unavailable', `got ${ev.name} from ${ev.pid} with value ${ev.int}`));
  } catch (err) {
    calls.push(call(['blockSignals', 'SignalFd'], 'unavailable', errorText(err)));
  } finally {
    s?.close();
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length > 0) {
    return report('signals', calls, 'process-wide blocking or signalfd does not work here', 'if the error is EBUSY, something else handles SIGRTMAX; otherwise report it with this output');
  }
  return report('signals', calls, 'signals are blocked in every thread and read with their sender');
}

async function checkInotify(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const limit = (name: string): number | null => {
    const v = env.sysctl(name);
    return v === null ? null : Number(v);
  };
  const facts: Record<string, Fact> = {
    'fs.inotify.max_user_watches': limit('fs.inotify.max_user_watches'),
    'fs.inotify.max_user_instances': limit('fs.inotify.max_user_instances'),
    'fs.inotify.max_queued_events': limit('fs.inotify.max_queued_events'),
  };
  const calls: CallCheck[] = [];
  const dir = mkdtempSync(join(os.tmpdir(), 'butter-doctor-'));
  let ino: InstanceType<Butter['Inotify']> | null = null;
  try {
    ino = new butter.Inotify();
    ino.add(dir, ['create']);
    const pending = ino.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    writeFileSync(join(dir, 'probe'), '');
    const ev = await pending;
    calls.push(ev.type === 'create' && ev.path === join(dir, 'probe')
      ? call(['inotifyInit', 'inotifyAddWatch', 'Inotify.read'], 'ok', `a create in a temporary directory arrived through the ${butter.readinessBackend()} backend`)
      : call(['inotifyInit', 'inotifyAddWatch', 'Inotify.read'], 'unavailable', `expected a create of ${join(dir, 'probe')}, got ${ev.type} ${String(ev.path)}`));
  } catch (err) {
    calls.push(call(['inotifyInit', 'inotifyAddWatch', 'Inotify.read'], 'unavailable', errorText(err)));
  } finally {
    ino?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  // A recursive watch takes one watch per directory; a small budget is the usual surprise.
  const watches = facts['fs.inotify.max_user_watches'];
  if (typeof watches === 'number' && watches < 65536) {
    calls.push(call('watch budget', 'limited', `fs.inotify.max_user_watches is ${watches}: large trees will hit ENOSPC`));
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length === 0) return report('inotify', calls, `works; ${String(watches)} watches and ${String(facts['fs.inotify.max_user_instances'])} instances per user`, null, facts);
  return bad.some((c) => c.status === 'unavailable')
    ? report('inotify', calls, 'inotify does not work here', 'a kernel with CONFIG_INOTIFY_USER; see the detail', facts)
    : report('inotify', calls, 'works, with a small watch budget', 'raise it: `sysctl fs.inotify.max_user_watches=524288` (as root, machine-wide)', facts);
}

function checkFanotify(env: Environment): FamilyReport {
  const { butter } = env;
  const C = butter.constants;
  const calls: CallCheck[] = [];
  // Creating groups marks nothing: doctor never watches any of the machine's files.
  const groups: [string, number][] = [
    ['fanotifyInit (notification class)', C.FAN_CLASS_NOTIF],
    ['fanotifyInit (permission class)', C.FAN_CLASS_CONTENT],
    ['fanotifyInit (FID + names)', C.FAN_CLASS_NOTIF | C.FAN_REPORT_DFID_NAME],
  ];
  for (const [what, cls] of groups) {
    try {
      closeSync(butter.fanotifyInit(cls | C.FAN_CLOEXEC | C.FAN_NONBLOCK));
      calls.push(call(what, 'ok', 'group created and closed (nothing marked)'));
    } catch (err) {
      const eperm = (err as { code?: unknown }).code === 'EPERM';
      calls.push(call(what, eperm ? 'limited' : 'unavailable', eperm ? 'EPERM: needs CAP_SYS_ADMIN' : errorText(err)));
    }
  }
  const facts: Record<string, Fact> = { CAP_SYS_ADMIN: env.hasCap('CAP_SYS_ADMIN') };
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length === 0) return report('fanotify', calls, 'every group class can be created', null, facts);
  return bad.some((c) => c.status === 'unavailable')
    ? report('fanotify', calls, 'fanotify does not work here', 'a kernel with CONFIG_FANOTIFY (and CONFIG_FANOTIFY_ACCESS_PERMISSIONS for permission events)', facts)
    : report('fanotify', calls, 'only unprivileged FID groups are allowed without CAP_SYS_ADMIN', 'run as root, or grant CAP_SYS_ADMIN', facts);
}

interface Family {
  name: string;
  check(env: Environment): FamilyReport | Promise<FamilyReport>;
}

/** Every family Butter offers, in the order doctor reports them. One entry per family. */
const families: readonly Family[] = [
  { name: 'process', check: checkProcess },
  { name: 'host', check: checkHost },
  { name: 'eventfd', check: checkEventfd },
  { name: 'timerfd', check: checkTimerfd },
  { name: 'signals', check: checkSignals },
  { name: 'inotify', check: checkInotify },
  { name: 'fanotify', check: checkFanotify },
];

// ---------------------------------------------------------------- running

export async function diagnose(butterVersion: string): Promise<DoctorReport> {
  const butter = loadButter();
  const system = gatherFacts(butter, butterVersion);
  const results: FamilyReport[] = [];
  for (const family of families) {
    if (butter instanceof Error) {
      const { why, fix } = loadFailure(butter);
      results.push({ family: family.name, status: 'unavailable', reason: `Butter's native addon ${why}`, fix, calls: [], facts: {} });
      continue;
    }
    const env: Environment = {
      system,
      butter,
      hasCap: (name) => system.capabilities.effective.includes(name),
      sysctl,
    };
    try {
      results.push(await family.check(env));
    } catch (err) {
      // A check that throws is a bug in the check or in Butter: report it in place and go on.
      results.push({ family: family.name, status: 'unavailable', reason: `the check itself failed: ${errorText(err)}`, fix: 'report it, with this output', calls: [], facts: {} });
    }
  }
  return { butter: butterVersion, status: worst(results.map((r) => r.status)), system, families: results };
}

// ---------------------------------------------------------------- human output

interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  status(s: Status, text?: string): string;
}

function paint(color: boolean): Paint {
  const sgr = (code: string) => (s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const byStatus: Record<Status, (s: string) => string> = { ok: sgr('32'), limited: sgr('33'), unavailable: sgr('31') };
  return { bold: sgr('1'), dim: sgr('2'), status: (s, text = s) => byStatus[s](text) };
}

/** Wraps `text` to `width` columns, indenting continuation lines by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const room = Math.max(width - indent, 30);
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function describeCapabilities(caps: SystemFacts['capabilities']): string {
  const total = caps.effective.length + caps.missing.length;
  if (caps.hex === null) return 'unknown (no CapEff in /proc/self/status)';
  if (caps.effective.length === 0) return 'none';
  if (caps.missing.length === 0) return `all ${total}`;
  if (caps.missing.length < caps.effective.length) return `${caps.effective.length} of ${total}, all but ${caps.missing.join(', ')}`;
  return caps.effective.join(', ');
}

function describeUser(s: SystemFacts): string {
  const { user, userNamespace } = s;
  const ids = `uid ${user.uid}, gid ${user.gid}${user.euid !== user.uid ? `, euid ${user.euid}` : ''}`;
  if (!user.root) return `not root (${ids})`;
  return userNamespace.initial === false ? `root in a user namespace, not on the host (${ids})` : `root (${ids})`;
}

function render(r: DoctorReport, io: Io): string {
  const p = paint(io.color);
  const s = r.system;
  const rows: [string, string][] = [
    ['kernel', `${s.kernel.sysname} ${s.kernel.release} (${s.kernel.version})`],
    ['architecture', `${s.arch.node} (${s.arch.machine})`],
    ['runtime', `${s.node.runtime} ${s.node.version}${s.node.napi ? `, Node-API ${s.node.napi}` : ''}`],
    ['native addon', s.butter.loaded ? 'loaded' : p.status('unavailable', s.butter.error ?? 'did not load')],
    ['readiness', s.readiness.backend === null ? s.readiness.note : `${s.readiness.backend}: ${s.readiness.note}`],
    ['user', describeUser(s)],
    ['capabilities', describeCapabilities(s.capabilities)],
    ['user namespace', s.userNamespace.initial === null ? 'unknown (/proc/self/uid_map unreadable)' : s.userNamespace.initial ? 'initial' : `not the initial one (uid_map ${s.userNamespace.uidMap ?? ''})`],
    ['seccomp', `${s.seccomp.mode ?? 'unknown'}${s.seccomp.noNewPrivs ? ', no_new_privs set' : ''}`],
  ];
  const keyWidth = Math.max(...rows.map(([k]) => k.length)) + 2;
  const out: string[] = [p.bold(`butter ${r.butter} doctor`), '', p.bold('System')];
  for (const [k, v] of rows) out.push(`  ${k.padEnd(keyWidth)}${wrap(v, io.width, 2 + keyWidth)}`);

  const nameWidth = Math.max(...r.families.map((f) => f.family.length)) + 2;
  const used = [...r.families.map((f) => f.status), ...r.families.flatMap((f) => f.calls.map((c) => c.status))];
  const statusWidth = Math.max(...used.map((st) => st.length)) + 2;
  out.push('', p.bold('Families'));
  for (const f of r.families) {
    const head = `  ${p.bold(f.family.padEnd(nameWidth))}${p.status(f.status, f.status.padEnd(statusWidth))}`;
    out.push(head + wrap(f.reason, io.width, 2 + nameWidth + statusWidth));
    // Calls line up under the reason, so the eye runs down one column of statuses per family.
    const callWidth = Math.max(...f.calls.map((c) => c.calls.join(', ').length)) + 2;
    const lead = ' '.repeat(2 + nameWidth);
    for (const c of f.calls) {
      const names = c.calls.join(', ');
      out.push(`${lead}${p.status(c.status, c.status.padEnd(statusWidth))}${names.padEnd(callWidth)}${wrap(c.detail, io.width, lead.length + statusWidth + callWidth)}`);
    }
    if (f.fix !== null) out.push(`${lead}${p.bold('fix'.padEnd(statusWidth))}${wrap(f.fix, io.width, lead.length + statusWidth)}`);
    out.push('');
  }
  const counts = (['ok', 'limited', 'unavailable'] as const)
    .map((st) => [st, r.families.filter((f) => f.status === st).length] as const)
    .filter(([, n]) => n > 0)
    .map(([st, n]) => p.status(st, `${n} ${st}`));
  out.push(`${p.bold('Summary:')} ${counts.join(', ')}`);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- the command

export const doctor: Command = {
  name: 'doctor',
  summary: 'what this kernel, these privileges and this runtime allow, family by family',
  usage: 'butter doctor [--json]',
  help: [
    `Checks each family Butter offers (${families.map((f) => f.name).join(', ')}) by using it,`,
    'and reports ok, limited or unavailable, why, and what to change. Changes',
    'nothing: it never sets the hostname, writes a sysctl or enters a namespace.',
    '',
    'Options:',
    '  --json   one JSON object on stdout instead of the human report',
    '',
    'Exit status: 0 when every family works (perhaps limited by privileges),',
    '1 when a family is unavailable, 2 on a usage error.',
    '',
    'Environment: BUTTER_READINESS=epoll forces the portable readiness backend.',
  ].join('\n'),
  async run(args: string[], io: Io): Promise<number> {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true, allowPositionals: false });
    // Not a static import: main imports this module, and a load-time cycle could hand main an undefined `doctor`.
    const { version } = await import('./main');
    const result = await diagnose(version());
    io.out(values.json ? `${JSON.stringify(result, null, 2)}\n` : render(result, io));
    return result.status === 'unavailable' ? 1 : 0;
  },
};
