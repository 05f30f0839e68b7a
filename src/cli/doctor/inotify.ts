/** `butter doctor`'s check of the inotify family: a watch on a fresh directory, and the limits. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { report, call, errorText, WAKE_TIMEOUT_MS, type Butter, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

export async function check(env: Environment): Promise<FamilyReport> {
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
