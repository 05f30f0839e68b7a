/**
 * `butter doctor`'s check of the sandbox family: which namespaces a process
 * started through butter-helper can have here, each tried in a child of its
 * own (doctor changes nothing in itself), and a full sandbox as spawn() makes one.
 */
import { report, call, unprivilegedUserns, type CallCheck, type Environment, type Fact, type FamilyReport, type Status } from './check';

type Namespace = 'user' | 'mount' | 'pid' | 'net' | 'uts' | 'ipc' | 'cgroup' | 'time';
const NAMESPACES: Namespace[] = ['user', 'mount', 'pid', 'net', 'uts', 'ipc', 'cgroup', 'time'];

/** Runs /bin/true through spawn() with `options`: null when it ran, else the error's text. */
function attempt(env: Environment, options: object): Promise<string | null> {
  return new Promise((resolve) => {
    let failure: string | null = null;
    const child = env.butter.spawn('/bin/true', [], { stdio: 'ignore', ...options });
    child.on('error', (err: Error & { step?: string }) => (failure ??= err.message));
    child.on('close', (code) => resolve(failure ?? (code === 0 ? null : `exited with code ${code}`)));
  });
}

export async function check(env: Environment): Promise<FamilyReport> {
  // Without privileges every other namespace comes inside a user namespace of its own, as bwrap makes them.
  const privileged = env.hasCap('CAP_SYS_ADMIN');
  const facts: Record<string, Fact> = { CAP_SYS_ADMIN: privileged };
  const calls: CallCheck[] = [];
  const made: Namespace[] = [];
  for (const ns of NAMESPACES) {
    const namespaces = privileged || ns === 'user' ? [ns] : ['user', ns];
    const failure = await attempt(env, { namespaces });
    facts[`namespace.${ns}`] = failure === null;
    if (failure === null) made.push(ns);
    calls.push(call(`spawn({ namespaces: ['${namespaces.join("', '")}'] })`, failure === null ? 'ok' : 'unavailable', failure ?? 'created'));
  }
  const full = await attempt(env, {
    namespaces: made.filter((ns) => ns !== 'time'),
    mounts: [{ type: 'ro-bind', source: '/', target: '/' }, { type: 'proc', target: '/proc' }, { type: 'dev', target: '/dev' }, { type: 'tmpfs', target: '/tmp' }],
  });
  if (made.includes('mount')) calls.push(call('spawn({ mounts })', full === null ? 'ok' : 'unavailable', full ?? `a new root (ro-bind /, proc, dev, tmpfs) with ${made.filter((ns) => ns !== 'time').join(', ')}`));

  const missing = NAMESPACES.filter((ns) => !made.includes(ns));
  const userns = unprivilegedUserns(env);
  Object.assign(facts, userns.facts);
  if (missing.length === 0 && full === null) return report('sandbox', calls, 'every namespace can be created here, and a full sandbox starts', null, facts);
  const status: Status = made.length === 0 ? 'unavailable' : 'limited';
  const reason = `${missing.join(', ')} ${missing.length === 1 ? 'namespace' : 'namespaces'} cannot be created here`;
  const fix = !privileged && !made.includes('user')
    ? `spawn() needs user namespaces without privileges: here ${userns.why}; to change that: ${userns.fix ?? 'n/a'}`
    : 'the errors above name the call that failed (a kernel built without the namespace, or a seccomp filter or LSM refusing it)';
  return { ...report('sandbox', calls, reason, fix, facts), status };
}
