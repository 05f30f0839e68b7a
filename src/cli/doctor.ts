/**
 * `butter doctor`: for each family Butter offers, whether it works here and
 * now, and if not, why and what to change.
 *
 * Two parts: the system facts every family's verdict depends on (kernel,
 * runtime, readiness backend, user, capabilities, user namespace, seccomp),
 * gathered once into an `Environment`; then each family's own check, the
 * module src/cli/doctor/<family>.ts, which returns a `FamilyReport`. The
 * families and their order are the registry's (src/index.ts); a new family
 * adds its module there and nothing here.
 *
 * Doctor never changes machine state: it reads /proc and /proc/sys, and
 * exercises Butter only on objects it creates and closes itself (an eventfd).
 * It never calls sethostname, writes a sysctl, or enters a namespace itself
 * (the sandbox check's probes are short-lived children in namespaces of their
 * own); where only such a call would tell, it reasons from capabilities and
 * sysctls and says so.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CAPABILITIES } from '../core/capabilities';
import type { Command, Io } from './main';

import { errorText, readText, worst, type Butter, type Environment, type FamilyReport, type Status } from './doctor/check';

type ReadinessBackend = ReturnType<Butter['readinessBackend']>;

// ---------------------------------------------------------------- results

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

export type { CapabilityName } from '../core/capabilities';

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

// ---------------------------------------------------------------- running

interface Family {
  name: string;
  check(env: Environment): FamilyReport | Promise<FamilyReport>;
}

/**
 * Every family Butter offers, in the registry's order (written out by
 * scripts/build-entries.js), each checked by its own module, loaded when it runs.
 */
const families: readonly Family[] = (JSON.parse(readFileSync(join(__dirname, '..', 'families.json'), 'utf8')) as string[]).map((name) => ({
  name,
  check: (env) => (require(`./doctor/${name}`) as Pick<Family, 'check'>).check(env),
}));

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
