/**
 * spawn() into a sandbox: child_process.spawn's process, started through
 * butter-helper (src/core/helper.ts), which unshares the namespaces, builds
 * a new root on a tmpfs, drops privileges and then execs the target. What
 * bubblewrap does, with Node's own ChildProcess and no setuid program.
 *
 * The new root is built as bwrap builds it: a tmpfs on /tmp (in the new mount
 * namespace only) holds `newroot` (another tmpfs) and `oldroot`; pivot_root
 * makes the first tmpfs the root with the host's at /oldroot, so each mount's
 * source is found under /oldroot and its target under /newroot; a last
 * pivot_root(".", ".") onto /newroot and a lazy unmount drop the rest.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { capabilityBit } from '../core/capabilities';
import { invalidArgType, invalidArgValue, type SystemError } from '../core/errors';
import { spawnHelper, type HelperStep } from '../core/helper';
import { native } from '../core/native';
import { isArray, validateBoolean, validateFd, validateInt32, validateOptions, validateUint32 } from '../core/validate';
import type { SeccompFilter } from './seccomp';
import { SeccompNotify, type SeccompNotifyOptions } from './seccomp-notify';

const NS = native.namespaces.constants;
const { MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_SLAVE, MNT_DETACH, MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV } = native.mount.constants;

/** Namespace names, as `unshare(1)` and bwrap's `--unshare-*` call them, with their `CLONE_NEW*` flags. */
const NAMESPACES = {
  user: NS.CLONE_NEWUSER,
  mount: NS.CLONE_NEWNS,
  pid: NS.CLONE_NEWPID,
  net: NS.CLONE_NEWNET,
  uts: NS.CLONE_NEWUTS,
  ipc: NS.CLONE_NEWIPC,
  cgroup: NS.CLONE_NEWCGROUP,
  time: NS.CLONE_NEWTIME, // Linux 5.6
} as const;

export type Namespace = keyof typeof NAMESPACES;
const PR_SET_PDEATHSIG = 1;
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
const SIGKILL = 9;

/** One entry of `mounts`: what the new root holds, made in order (bwrap's options of the same names). */
export type SandboxMount =
  /** `source` (outside) at `target` (inside), and every mount below it: nosuid; `ro-bind` read-only; `dev-bind` keeps devices usable (the others are nodev). With `optional`, a missing source mounts nothing (bwrap's `--bind-try`). */
  | { type: 'bind' | 'ro-bind' | 'dev-bind'; source: string; target: string; optional?: boolean }
  /** A new tmpfs (`mode` default 0o755, `size` in bytes). */
  | { type: 'tmpfs'; target: string; mode?: number; size?: number }
  /** proc (of the new PID namespace when there is one), with sys, sysrq-trigger, irq and bus read-only. */
  | { type: 'proc'; target: string }
  /** A tmpfs with null, zero, full, random, urandom and tty from the host, the stdio and fd links, shm, and a devpts of its own. */
  | { type: 'dev'; target: string }
  | { type: 'mqueue'; target: string }
  /** A directory, with its parents (`mode` default 0o755). */
  | { type: 'dir'; target: string; mode?: number }
  /** A symbolic link at `target` whose content is `source`. */
  | { type: 'symlink'; source: string; target: string }
  /** A file holding `data`, or what `fd` (an fd of this process) reads to its end (`mode` default 0o666, less the umask). */
  | { type: 'file'; target: string; data?: string | Uint8Array; fd?: number; mode?: number }
  /** Makes the mount at `target` read-only (that mount alone, not those below it). */
  | { type: 'remount-ro'; target: string };

export interface SandboxOptions {
  /** The namespaces the target gets of its own. */
  namespaces?: Namespace[];
  /**
   * The new root, built from these in order on an empty tmpfs (needs the
   * `mount` namespace). Without it the target sees the caller's mounts.
   */
  mounts?: SandboxMount[];
  /** The uid the caller's maps to in the user namespace (bwrap's `--uid`). Default: the caller's own. */
  uidMap?: number;
  /** The gid the caller's maps to in the user namespace (bwrap's `--gid`). Default: the caller's own. */
  gidMap?: number;
  /** The host name in the UTS namespace (needs `uts`). */
  hostname?: string;
  /** Starts a new session (setsid), so the target has no controlling terminal to push input into (TIOCSTI). */
  newSession?: boolean;
  /**
   * SIGKILL when the thread that spawned it ends (`PR_SET_PDEATHSIG`): in
   * Node, the main thread at process exit, or the Worker that called spawn()
   * when that Worker ends.
   */
  dieWithParent?: boolean;
  /** `PR_SET_NO_NEW_PRIVS`: execve grants no privileges (setuid, file capabilities). */
  noNewPrivs?: boolean;
  /**
   * The capabilities the target keeps (`'CAP_NET_RAW'` or `'net_raw'`); all
   * others leave every set, the bounding set included. Default: unchanged.
   */
  capabilities?: string[];
  /** With the `pid` namespace: the target is pid 1, with no init to reap orphans or pass signals on (bwrap's `--as-pid-1`). */
  asPid1?: boolean;
  /**
   * Seccomp filters the target runs under, loaded last before the exec, in
   * order (each stacks on the ones before): what `seccompCompile` and
   * `seccompProfile` return, or raw `struct sock_filter` bytes (bwrap's
   * `--seccomp FD` program). `no_new_privs` is set first, as bwrap does.
   */
  seccomp?: SeccompFilter | Uint8Array | readonly (SeccompFilter | Uint8Array)[];
  /**
   * The last filter's `user_notif` actions are answered from here: it is
   * loaded with a listener, and the returned child's `seccompNotify`
   * resolves to a `SeccompNotify` on it (with these options; `true` for the
   * defaults) before the target runs.
   */
  seccompNotify?: boolean | SeccompNotifyOptions;
}

export type SandboxSpawnOptions = SpawnOptions & SandboxOptions;

/** Node's ChildProcess; with `seccompNotify`, the listener of the target's filter. */
export interface SandboxChildProcess extends ChildProcess {
  /** Resolves before the target runs; rejects with the sandbox's error when it fails first. */
  seccompNotify?: Promise<SeccompNotify>;
}

const SANDBOX_KEYS = ['namespaces', 'mounts', 'uidMap', 'gidMap', 'hostname', 'newSession', 'dieWithParent', 'noNewPrivs', 'capabilities', 'asPid1', 'seccomp', 'seccompNotify'] as const;

/** A step, and what an error in it is called (`mounts[2]`, `uidMap`, ...). */
interface Planned {
  step: HelperStep;
  label: string;
}

/**
 * Starts `command` with `args` in a sandbox: child_process.spawn's options
 * (`shell` excepted) and the sandbox's. Returns Node's ChildProcess. A step
 * that fails emits `'error'` with the fs-shaped error of its call (`step`
 * names the option it came from: `'mounts[2]'`, `'namespaces'`, `'exec'`...)
 * and the process exits with code 127: the target never runs outside the
 * sandbox asked for.
 */
export function spawn(command: string, args?: readonly string[] | SandboxSpawnOptions, options?: SandboxSpawnOptions): SandboxChildProcess {
  if (!isArray(args)) {
    options = args as SandboxSpawnOptions | undefined;
    args = [];
  }
  const opts = validateOptions<SandboxSpawnOptions>(options);
  const sandbox: SandboxOptions = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(opts)) {
    if ((SANDBOX_KEYS as readonly string[]).includes(key)) (sandbox as Record<string, unknown>)[key] = value;
    else rest[key] = value;
  }
  const spawnOptions = rest as SpawnOptions;
  const newRoot = sandbox.mounts !== undefined;
  let cwd = '/';
  if (newRoot && spawnOptions.cwd !== undefined) {
    // The helper starts in the caller's world: the cwd is a path inside, set after the new root.
    if (typeof spawnOptions.cwd !== 'string') throw invalidArgType('options.cwd', 'of type string', spawnOptions.cwd);
    cwd = spawnOptions.cwd;
    delete spawnOptions.cwd;
  }
  return spawnSandbox(command, args, sandbox, spawnOptions, { cwd: newRoot ? cwd : undefined });
}

/** What spawn() derives from Node's options, and `butter run` from bwrap's. */
export interface PlanExtras {
  /** Where the target starts inside a new root; with `cwdTry`, `/` when `cwd` is not there. */
  cwd?: string;
  cwdTry?: boolean;
  detached?: boolean;
  /** The kept capabilities are not made ambient (bwrap's root keeps its own that way). */
  noAmbient?: boolean;
  /** With `seccompNotify`: given the last filter's listener fd, before the exec (closed when it returns). */
  onListener?: (fd: number) => void;
}

/** spawn() with the options split: `butter run` starts here. */
export function spawnSandbox(command: string, args: readonly string[], sandbox: SandboxOptions, spawnOptions: SpawnOptions, extras: PlanExtras): SandboxChildProcess {
  const listener = notifyOptions(sandbox);
  let settle: { resolve(n: SeccompNotify): void; reject(err: unknown): void } | undefined;
  const notify = listener && new Promise<SeccompNotify>((resolve, reject) => (settle = { resolve, reject }));
  const onListener = settle && ((fd: number) => settle!.resolve(new SeccompNotify(fd, listener === true ? undefined : listener)));
  const plan = planSandbox(sandbox, { ...extras, detached: spawnOptions.detached === true, onListener });
  const { child, ready } = spawnHelper(command, args, { ...spawnOptions, steps: plan.map((p) => p.step) }) as { child: SandboxChildProcess; ready: Promise<void> };
  if (notify) {
    // Awaiting it is the caller's choice: a failed sandbox is also reported as 'error'.
    notify.catch(() => {});
    child.seccompNotify = notify;
  }
  ready.catch((err: SystemError & { step?: number | string; signal?: string | null }) => {
    settle?.reject(err);
    // Node has emitted its own error for a helper that could not start; one killed during the setup ends as any killed child.
    if (child.pid === undefined || (err.code === 'ERR_BUTTER_HELPER_EXITED' && err.signal !== null)) return;
    if (typeof err.step === 'number') {
      const label = plan[err.step]?.label ?? 'exec';
      if (err.code === 'EPERM' || err.code === 'ENOSPC') addUsernsReason(err, plan[err.step]?.step);
      err.step = label;
    }
    child.emit('error', err);
  });
  return child;
}

/** The helper's steps for `options`; `cwd` is the directory inside a new root. */
export function planSandbox(options: SandboxOptions, { cwd, cwdTry = false, detached = false, noAmbient = false, onListener }: PlanExtras = {}): Planned[] {
  const plan: Planned[] = [];
  const add = (label: string, ...steps: HelperStep[]): void => void steps.forEach((step) => plan.push({ step, label }));
  const namespaces = validateNamespaces(options.namespaces);
  const has = (ns: Namespace): boolean => namespaces.includes(ns);
  const flag = (key: 'newSession' | 'dieWithParent' | 'noNewPrivs' | 'asPid1'): boolean =>
    options[key] === undefined ? false : validateBoolean(options[key], `options.${key}`);

  // The monitor's own: it is the process the spawning thread forked.
  if (flag('dieWithParent')) add('dieWithParent', { op: 'prctl', option: PR_SET_PDEATHSIG, args: [SIGKILL] });
  const flags = namespaces.reduce((all, ns) => all | NAMESPACES[ns], 0) >>> 0;
  for (const key of ['uidMap', 'gidMap'] as const) {
    if (options[key] !== undefined && !has('user')) throw invalidArgValue(`options.${key}`, options[key], "needs the 'user' namespace");
  }
  if (flag('asPid1') && !has('pid')) throw invalidArgValue('options.asPid1', true, "needs the 'pid' namespace");
  if (has('pid') && !has('time')) {
    // The target and its init are made in the namespaces by clone: the monitor holds none, so their teardown comes after 'exit'.
    add('namespaces', { op: 'fork', flags, asPid1: flag('asPid1') });
  } else if (flags !== 0) {
    add('namespaces', { op: 'unshare', flags });
    // A new PID or time namespace is for the children (and clone cannot make a time namespace).
    if (has('pid') || has('time')) add('namespaces', { op: 'fork', asPid1: flag('asPid1') });
  }
  // The process is in the user namespace now, and writes its own maps.
  if (has('user')) {
    const uid = options.uidMap === undefined ? process.getuid!() : validateUint32(options.uidMap, 'options.uidMap');
    const gid = options.gidMap === undefined ? process.getgid!() : validateUint32(options.gidMap, 'options.gidMap');
    add('uidMap', { op: 'write', path: '/proc/self/uid_map', data: `${uid} ${process.getuid!()} 1` });
    // Without setgroups denied a process without CAP_SETGID may not write its gid_map.
    add('gidMap', { op: 'write', path: '/proc/self/setgroups', data: 'deny' }, { op: 'write', path: '/proc/self/gid_map', data: `${gid} ${process.getgid!()} 1` });
  }
  // Nothing mounted inside propagates out, whatever the host's propagation.
  if (has('mount')) add('namespaces', { op: 'mount', target: '/', flags: MS_SLAVE | MS_REC });
  if (options.mounts !== undefined) {
    if (!has('mount')) throw invalidArgValue('options.mounts', options.mounts, "needs the 'mount' namespace");
    if (!isArray(options.mounts)) throw invalidArgType('options.mounts', 'an instance of Array', options.mounts);
    add(
      'mounts',
      { op: 'mount', source: 'tmpfs', target: '/tmp', fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: 'mode=0755' },
      { op: 'mount', source: 'tmpfs', target: '/tmp/newroot', fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: 'mode=0755', makeTarget: true },
      { op: 'mkdir', path: '/tmp/oldroot' },
      { op: 'pivotRoot', newRoot: '/tmp', putOld: '/tmp/oldroot' },
      { op: 'chdir', path: '/' },
    );
    options.mounts.forEach((m, i) => add(`mounts[${i}]`, ...mountSteps(m, `options.mounts[${i}]`)));
    add('mounts', { op: 'chdir', path: '/newroot' }, { op: 'pivotRoot', newRoot: '.', putOld: '.' }, { op: 'umount', path: '.', flags: MNT_DETACH }, { op: 'chdir', path: '/' });
  }
  if (options.hostname !== undefined) {
    if (!has('uts')) throw invalidArgValue('options.hostname', options.hostname, "needs the 'uts' namespace");
    if (typeof options.hostname !== 'string') throw invalidArgType('options.hostname', 'of type string', options.hostname);
    add('hostname', { op: 'sethostname', name: options.hostname });
  }
  // detached: Node's spawn has made the session already.
  if (flag('newSession') && !detached) add('newSession', { op: 'setsid' });
  if (cwd !== undefined) add('cwd', { op: 'chdir', path: cwd, try: cwdTry });
  if (options.capabilities !== undefined) add('capabilities', { op: 'caps', keep: capabilityMask(options.capabilities), ...(noAmbient ? { ambient: 0n } : {}) });
  const filters = seccompPrograms(options.seccomp);
  if (flag('noNewPrivs') || filters.length > 0) add('noNewPrivs', { op: 'prctl', option: PR_SET_NO_NEW_PRIVS, args: [1] });
  if (onListener !== undefined && filters.length === 0) throw invalidArgValue('options.seccompNotify', options.seccompNotify, 'needs a seccomp filter');
  // Last before the exec, so the steps above are not filtered.
  filters.forEach((filter, i) => {
    const listen = onListener !== undefined && i === filters.length - 1;
    add(`seccomp[${i}]`, listen ? { op: 'seccomp', flags: SECCOMP_FILTER_FLAG_NEW_LISTENER, filter, onListener } : { op: 'seccomp', flags: 0, filter });
  });
  return plan;
}

/** The programs of `options.seccomp`: filters' bytes, in order. */
function seccompPrograms(value: unknown): Uint8Array[] {
  if (value === undefined) return [];
  const list = isArray(value) ? value : [value];
  return list.map((f, i) => {
    const name = isArray(value) ? `options.seccomp[${i}]` : 'options.seccomp';
    if (f instanceof Uint8Array) return f;
    const program = typeof f === 'object' && f !== null ? (f as { program?: unknown }).program : undefined;
    if (!(program instanceof Uint8Array)) throw invalidArgType(name, 'a SeccompFilter or an instance of Uint8Array', f);
    return program;
  });
}

/** `seccompNotify`'s options, checked before anything starts; undefined when not asked for. */
function notifyOptions(options: SandboxOptions): SeccompNotifyOptions | true | undefined {
  const value = options.seccompNotify;
  if (value === undefined || value === null || value === false) return undefined;
  if (value === true) return true;
  return validateOptions<SeccompNotifyOptions>(value, 'options.seccompNotify', ['deadline', 'defaultAnswer', 'syncWakeUp', 'signal']);
}

function validateNamespaces(value: unknown): Namespace[] {
  if (value === undefined) return [];
  if (!isArray(value)) throw invalidArgType('options.namespaces', 'an instance of Array', value);
  value.forEach((ns, i) => {
    if (typeof ns !== 'string' || !Object.hasOwn(NAMESPACES, ns)) throw invalidArgValue(`options.namespaces[${i}]`, ns, `must be one of: ${Object.keys(NAMESPACES).join(', ')}`);
  });
  return value as Namespace[];
}

export function capabilityMask(names: unknown): bigint {
  if (!isArray(names)) throw invalidArgType('options.capabilities', 'an instance of Array', names);
  let mask = 0n;
  names.forEach((name, i) => {
    const cap = typeof name === 'string' ? capabilityBit(name) : -1;
    if (cap < 0) throw invalidArgValue(`options.capabilities[${i}]`, name, 'is not a capability');
    mask |= 1n << BigInt(cap);
  });
  return mask;
}

/** A path inside the sandbox: absolute, under /newroot while the root is built. */
function inside(path: unknown, name: string): string {
  if (typeof path !== 'string') throw invalidArgType(name, 'of type string', path);
  if (!path.startsWith('/')) throw invalidArgValue(name, path, 'must be an absolute path');
  const normal = posix.normalize(path);
  return normal === '/' ? '/newroot' : `/newroot${normal.replace(/\/$/, '')}`;
}

function mountSteps(m: SandboxMount, name: string): HelperStep[] {
  if (m === null || typeof m !== 'object') throw invalidArgType(name, 'of type object', m);
  const target = inside(m.target, `${name}.target`);
  const names = { path: m.target };
  switch (m.type) {
    case 'bind':
    case 'ro-bind':
    case 'dev-bind': {
      if (typeof m.source !== 'string') throw invalidArgType(`${name}.source`, 'of type string', m.source);
      const optional = m.optional === undefined ? false : validateBoolean(m.optional, `${name}.optional`);
      const attributes = MOUNT_ATTR_NOSUID | (m.type === 'dev-bind' ? 0 : MOUNT_ATTR_NODEV) | (m.type === 'ro-bind' ? MOUNT_ATTR_RDONLY : 0);
      const source = resolve(m.source);
      return [{ op: 'mount', source: `/oldroot${source}`, target, flags: MS_BIND | MS_REC, attributes, makeTarget: true, try: optional, names: { path: source, dest: m.target } }];
    }
    case 'tmpfs': {
      const mode = validateInt32(m.mode ?? 0o755, `${name}.mode`, 0, 0o7777);
      const size = m.size === undefined ? '' : `,size=${validateUint32(m.size, `${name}.size`)}`;
      return [{ op: 'mount', source: 'tmpfs', target, fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: `mode=0${mode.toString(8)}${size}`, makeTarget: true, names }];
    }
    case 'proc':
      return [
        { op: 'mount', source: 'proc', target, fstype: 'proc', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV, makeTarget: true, names },
        // What would let a process change the host from a proc of its own (as bwrap covers).
        ...['sys', 'sysrq-trigger', 'irq', 'bus'].map((sub): HelperStep => ({
          op: 'mount', source: `${target}/${sub}`, target: `${target}/${sub}`, flags: MS_BIND | MS_REC, attributes: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, try: true, names: { path: `${m.target}/${sub}` },
        })),
      ];
    case 'dev':
      return [
        { op: 'mount', source: 'tmpfs', target, fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: 'mode=0755', makeTarget: true, names },
        ...['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((dev): HelperStep => ({
          op: 'mount', source: `/oldroot/dev/${dev}`, target: `${target}/${dev}`, flags: MS_BIND | MS_REC, attributes: MOUNT_ATTR_NOSUID, makeTarget: true, names: { path: `/dev/${dev}`, dest: `${m.target}/${dev}` },
        })),
        ...([['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['fd', '/proc/self/fd'], ['core', '/proc/kcore']] as const).map(
          ([link, to]): HelperStep => ({ op: 'symlink', target: to, path: `${target}/${link}` }),
        ),
        { op: 'mkdir', path: `${target}/shm` },
        { op: 'mount', source: 'devpts', target: `${target}/pts`, fstype: 'devpts', flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=620', makeTarget: true, names: { path: `${m.target}/pts` } },
        { op: 'symlink', target: 'pts/ptmx', path: `${target}/ptmx` },
      ];
    case 'mqueue':
      return [{ op: 'mount', source: 'mqueue', target, fstype: 'mqueue', makeTarget: true, names }];
    case 'dir':
      return [{ op: 'mkdir', path: target, mode: validateInt32(m.mode ?? 0o755, `${name}.mode`, 0, 0o7777), names }];
    case 'symlink':
      if (typeof m.source !== 'string') throw invalidArgType(`${name}.source`, 'of type string', m.source);
      return [{ op: 'symlink', target: m.source, path: target, names: { path: m.source, dest: m.target } }];
    case 'file': {
      const mode = validateInt32(m.mode ?? 0o666, `${name}.mode`, 0, 0o7777);
      if (m.fd !== undefined) return [{ op: 'file', path: target, fd: validateFd(m.fd, `${name}.fd`), mode, names }];
      if (typeof m.data !== 'string' && !(m.data instanceof Uint8Array)) throw invalidArgType(`${name}.data`, 'of type string or an instance of Buffer or Uint8Array', m.data);
      return [{ op: 'file', path: target, data: m.data, mode, names }];
    }
    case 'remount-ro':
      return [{ op: 'setattr', path: target, set: MOUNT_ATTR_RDONLY, names }];
    default:
      throw invalidArgValue(`${name}.type`, (m as { type: unknown }).type);
  }
}

/**
 * For an EPERM (or ENOSPC) from creating a user namespace: what forbids it
 * here, as the sysctl or LSM that does, on `err.reason` and in the message.
 */
function addUsernsReason(err: SystemError & { reason?: string }, step: HelperStep | undefined): void {
  if ((step?.op !== 'unshare' && step?.op !== 'fork') || ((step.flags ?? 0) & NAMESPACES.user) === 0) return;
  const sysctl = (name: string): string | null => readMaybe(`/proc/sys/${name.replaceAll('.', '/')}`);
  let reason: string;
  if (err.code === 'ENOSPC') reason = `the limit on user namespaces is reached (user.max_user_namespaces = ${sysctl('user.max_user_namespaces')})`;
  else if (sysctl('user.max_user_namespaces') === '0') reason = 'user namespaces are disabled (user.max_user_namespaces = 0)';
  else if (sysctl('kernel.unprivileged_userns_clone') === '0') reason = 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)';
  else if (sysctl('kernel.apparmor_restrict_unprivileged_userns') === '1') reason = 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)';
  else if (readMaybe('/proc/self/uid_map') === '') reason = "this process's uid has no mapping in its own user namespace (/proc/self/uid_map is empty), and a user namespace needs one";
  else reason = 'an LSM or a seccomp filter (a container runtime\'s) refuses them';
  err.reason = reason;
  err.message += `: ${reason}`;
}

/** A /proc file's text, trimmed; null when it cannot be read (no such sysctl here). */
function readMaybe(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
