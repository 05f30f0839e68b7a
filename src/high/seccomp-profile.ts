/**
 * Docker / OCI seccomp profiles (the JSON of moby's profiles/seccomp/default.json
 * and of runtime-spec's `linux.seccomp`) compiled by Butter's own compiler.
 *
 * A profile's rules are chosen as `docker run` chooses them: a rule applies
 * when the container has every capability in its `includes.caps` and none in
 * its `excludes.caps`, when the architecture compiled for is (or is not) in
 * `includes.arches`/`excludes.arches`, and when the running kernel is at least
 * `includes.minKernel`. Syscall names an architecture does not have are
 * skipped there, as libseccomp skips them: profiles list every architecture's.
 */
import { release } from 'node:os';
import { invalidArgType, invalidArgValue } from '../core/errors';
import { isArray, validateOptions } from '../core/validate';
import { actionValue, compileProfileText, compileRules, nativeArch, Rules, type SeccompAction, type SeccompArch, type SeccompArgCheck, type SeccompFilter } from './seccomp';
import { SECCOMP_RET_KILL_PROCESS } from '../raw/seccomp';

/** Docker's default capabilities: what a container gets without `--cap-add`/`--cap-drop`. */
export const DOCKER_DEFAULT_CAPS: readonly string[] = Object.freeze([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
]);

export interface SeccompProfileOptions {
  /** The container's capabilities (default: DOCKER_DEFAULT_CAPS). */
  caps?: readonly string[];
  /** The architecture to compile for (default: this machine's); the profile's archMap adds its sub-architectures Butter knows. */
  arch?: SeccompArch;
}

// The profile's names for the architectures Butter knows: SCMP_ARCH_* at the top, Go's names in includes/excludes.
const scmpArch: Record<string, SeccompArch> = { SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_AARCH64: 'aarch64' };
const goArch: Record<SeccompArch, string> = { x86_64: 'amd64', x32: 'x32', aarch64: 'arm64' };
const scmpOps: Record<string, SeccompArgCheck['op']> = {
  SCMP_CMP_EQ: 'eq', SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le', SCMP_CMP_GT: 'gt', SCMP_CMP_GE: 'ge', SCMP_CMP_MASKED_EQ: 'masked_eq',
};

interface ProfileFilter { caps?: string[]; arches?: string[]; minKernel?: string }
interface ProfileArg { index: number; value: number | string; valueTwo?: number | string; op: string }
interface ProfileSyscall {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: ProfileArg[] | null;
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
}
interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: ProfileSyscall[];
}

// An OCI action as Butter's: SCMP_ACT_ERRNO's and SCMP_ACT_TRACE's data is errnoRet (EPERM, libseccomp's default, when absent).
function action(name: unknown, errnoRet: unknown, at: string): SeccompAction {
  const data = errnoRet === undefined || errnoRet === null ? 1 : errnoRet;
  switch (name) {
    case 'SCMP_ACT_ALLOW': return 'allow';
    case 'SCMP_ACT_LOG': return 'log';
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return 'kill_thread';
    case 'SCMP_ACT_KILL_PROCESS': return 'kill_process';
    case 'SCMP_ACT_TRAP': return 'trap';
    case 'SCMP_ACT_NOTIFY': return 'user_notif';
    case 'SCMP_ACT_ERRNO': return { errno: data as number };
    case 'SCMP_ACT_TRACE': return { trace: data as number };
    default: throw invalidArgValue(at, name, 'is not an SCMP_ACT_* action Butter knows');
  }
}

const running = release().split(/[.-]/).map(Number);

function strings(value: unknown, at: string): string[] {
  if (value === undefined || value === null) return [];
  if (!isArray(value)) throw invalidArgType(at, 'an array of strings', value);
  // A loop rather than some(): a profile has hundreds of names, and this runs cold.
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') throw invalidArgType(at, 'an array of strings', value);
  return value as string[];
}

function object<T>(value: unknown, at: string): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || isArray(value)) throw invalidArgType(at, 'of type object', value);
  return value as Partial<T>;
}

// A profile's includes/excludes, checked.
function selector(value: unknown, at: string): ProfileFilter {
  const o = object<ProfileFilter>(value, at);
  if (o.minKernel !== undefined && (typeof o.minKernel !== 'string' || !/^\d+(\.\d+)*$/.test(o.minKernel))) {
    throw invalidArgValue(`${at}.minKernel`, o.minKernel, "must be a kernel version such as '4.8'");
  }
  return { caps: strings(o.caps, `${at}.caps`), arches: strings(o.arches, `${at}.arches`), minKernel: o.minKernel };
}

function kernelAtLeast(version: string): boolean {
  const want = String(version).split('.').map(Number);
  const have = running;
  for (let i = 0; i < want.length; i++) {
    if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i];
  }
  return true;
}

function applies(inc: ProfileFilter, exc: ProfileFilter, arch: SeccompArch, caps: Set<string>): boolean {
  for (const c of inc.caps!) if (!caps.has(c)) return false;
  for (const c of exc.caps!) if (caps.has(c)) return false;
  if (inc.arches!.length > 0 && !inc.arches!.includes(goArch[arch])) return false;
  if (exc.arches!.includes(goArch[arch])) return false;
  if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
  if (exc.minKernel && kernelAtLeast(exc.minKernel)) return false;
  return true;
}

function big(value: unknown, at: string): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  throw invalidArgValue(at, value, 'must be a non-negative integer');
}

/**
 * Compiles a Docker/OCI seccomp profile (an object, or its JSON text) for
 * `options.arch` and the sub-architectures its `archMap` lists that Butter
 * knows (x86_64's x32). The others (i386, arm) are not compiled: their
 * syscalls get `kill_process`, as those of any architecture a filter does not
 * know.
 */
export function seccompProfile(profile: object | string, options: SeccompProfileOptions = {}): SeccompFilter {
  const o = validateOptions<SeccompProfileOptions>(options, 'options', ['caps', 'arch']);
  if (typeof profile === 'string') {
    const filter = compileProfileText(profile, o.caps === undefined ? DOCKER_DEFAULT_CAPS : o.caps, o.arch);
    if (filter !== undefined) return filter;
  }
  return readProfile(profile, o);
}

// The JS reader: of a profile object, and of a text the C reader left (anything unusual, every error
// among it). A function of its own, so that a call the C reader answers does not compile it.
function readProfile(profile: object | string, o: Partial<SeccompProfileOptions>): SeccompFilter {
  let p: Profile;
  if (typeof profile === 'string') {
    try {
      p = JSON.parse(profile);
    } catch (err) {
      throw invalidArgValue('profile', profile.slice(0, 40), `is not JSON: ${(err as Error).message}`);
    }
  } else p = profile as Profile;
  if (typeof p !== 'object' || p === null || isArray(p)) throw invalidArgType('profile', 'of type object or string', profile);
  const defaultAction = action(p.defaultAction, p.defaultErrnoRet, 'profile.defaultAction');
  const caps = new Set(o.caps === undefined ? DOCKER_DEFAULT_CAPS : strings(o.caps, 'options.caps'));
  const main: SeccompArch = o.arch ?? nativeArch('options.arch');
  if (typeof main !== 'string' || !Object.hasOwn(goArch, main)) throw invalidArgValue('options.arch', o.arch, "must be 'x86_64', 'x32' or 'aarch64'");

  // The architectures: the main one's archMap entry (or the profile's list), those Butter knows.
  let listed = strings(p.architectures, 'profile.architectures');
  const archMap = p.archMap ?? [];
  if (!isArray(archMap)) throw invalidArgType('profile.archMap', 'an array', archMap);
  archMap.forEach((e, i) => {
    const entry = object<{ architecture: string; subArchitectures: string[] }>(e, `profile.archMap[${i}]`);
    const subs = strings(entry.subArchitectures, `profile.archMap[${i}].subArchitectures`);
    if (typeof entry.architecture === 'string' && scmpArch[entry.architecture] === main) listed = [entry.architecture, ...subs];
  });
  const arches = [...new Set([main, ...listed.map((a) => (Object.hasOwn(scmpArch, a) ? scmpArch[a] : undefined)).filter((a): a is SeccompArch => a !== undefined)])];
  const syscalls = p.syscalls ?? [];
  if (!isArray(syscalls)) throw invalidArgType('profile.syscalls', 'an array', p.syscalls);

  const rules = new Rules();
  syscalls.forEach((entry, i) => {
    const at = `profile.syscalls[${i}]`;
    const s = object<ProfileSyscall>(entry, at);
    if (entry === null || entry === undefined) throw invalidArgType(at, 'of type object', entry);
    const act = action(s.action, s.errnoRet, `${at}.action`);
    const argList = s.args ?? [];
    if (!isArray(argList)) throw invalidArgType(`${at}.args`, 'an array', s.args);
    const args: SeccompArgCheck[] = argList.map((raw, j) => {
      const a = object<ProfileArg>(raw, `${at}.args[${j}]`);
      const op = typeof a.op === 'string' && Object.hasOwn(scmpOps, a.op) ? scmpOps[a.op] : undefined;
      if (op === undefined) throw invalidArgValue(`${at}.args[${j}].op`, a.op, 'is not an SCMP_CMP_* operator');
      // libseccomp's masked equality: `value` is the mask, `valueTwo` what the masked argument must equal.
      return op === 'masked_eq'
        ? { index: a.index as number, op, mask: big(a.value, `${at}.args[${j}].value`), value: big(a.valueTwo ?? 0, `${at}.args[${j}].valueTwo`) }
        : { index: a.index as number, op, value: big(a.value, `${at}.args[${j}].value`) };
    });
    const names = s.names !== undefined && s.names !== null ? strings(s.names, `${at}.names`) : s.name !== undefined ? strings([s.name], `${at}.name`) : [];
    const inc = selector(s.includes, `${at}.includes`);
    const exc = selector(s.excludes, `${at}.excludes`);
    const rule = rules.add(act, args, at);
    for (const arch of arches) if (applies(inc, exc, arch, caps)) rules.forNames(arch, names, rule);
  });
  return compileRules(rules, arches, actionValue(defaultAction, 'profile.defaultAction'), SECCOMP_RET_KILL_PROCESS);
}
