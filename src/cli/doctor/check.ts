/**
 * What every family's doctor check (src/cli/doctor/<family>.ts) uses: the
 * report types, the environment it is given, and the helpers that make a
 * probe's outcome a finding rather than a crash.
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { CapabilityName, SystemFacts } from '../doctor';

export type Butter = typeof import('../../index');

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

/** What a family check gets: the facts, Butter itself, and readers for /proc. */
export interface Environment {
  readonly system: SystemFacts;
  readonly butter: Butter;
  hasCap(name: CapabilityName): boolean;
  /** A sysctl's value (`'user.max_user_namespaces'`), trimmed; `null` if this kernel has none. */
  sysctl(name: string): string | null;
}

/** How long a check waits for an event it caused. */
export const WAKE_TIMEOUT_MS = 2000;

export function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // Absent (older kernel, no such sysctl) or hidden (restricted /proc): the callers report null.
    return null;
  }
}

/** One line: a report row is no place for a require stack. */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

const RANK: Record<Status, number> = { ok: 0, limited: 1, unavailable: 2 };

export function worst(statuses: Status[]): Status {
  return statuses.reduce<Status>((a, b) => (RANK[b] > RANK[a] ? b : a), 'ok');
}

export function report(family: string, calls: CallCheck[], reason: string, fix: string | null = null, facts: Record<string, Fact> = {}): FamilyReport {
  return { family, status: worst(calls.map((c) => c.status)), reason, fix, calls, facts };
}

export function call(calls: string | string[], status: Status, detail: string): CallCheck {
  return { calls: typeof calls === 'string' ? [calls] : calls, status, detail };
}

/** Runs one probe; an exception is a finding about that call, not a crash of doctor. */
export function probe(calls: string | string[], fn: () => string): CallCheck {
  try {
    return call(calls, 'ok', fn());
  } catch (err) {
    return call(calls, 'unavailable', errorText(err));
  }
}

export function expectEqual<T>(what: string, got: T, want: T, wantText: string): void {
  if (got !== want) throw new Error(`${what} gave ${String(got)}, but ${wantText} is ${String(want)}`);
}

export function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** Whether a process without privileges could get a user namespace of its own, and if not why. */
export interface UsernsVerdict {
  possible: boolean;
  why: string;
  fix: string | null;
  facts: Record<string, Fact>;
}

export function unprivilegedUserns(env: Environment): UsernsVerdict {
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
