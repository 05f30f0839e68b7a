/** `butter doctor`'s check of the seccomp family: the kernel's actions and flags, this process's mode, and a compiled filter loaded in a child. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { report, call, probe, errorText, type CallCheck, type Environment, type FamilyReport } from './check';

// The actions newer than seccomp filters themselves (3.5), with the kernel that added them.
const newer: [name: string, constant: 'SECCOMP_RET_KILL_PROCESS' | 'SECCOMP_RET_LOG' | 'SECCOMP_RET_USER_NOTIF', since: string][] = [
  ['kill_process', 'SECCOMP_RET_KILL_PROCESS', '4.14'],
  ['log', 'SECCOMP_RET_LOG', '4.14'],
  ['user_notif', 'SECCOMP_RET_USER_NOTIF', '5.0'],
];

// A child loads a filter denying getppid with EACCES into every thread and calls it: compiler, load and kernel end to end.
const childProgram = `
  const b = require(process.argv[1]);
  b.seccompLoad(b.seccompCompile([{ syscall: 'getppid', action: { errno: 'EACCES' } }], { defaultAction: 'allow' }));
  console.log(JSON.stringify({ getppid: b.getppid(), mode: b.prctlGetSeccomp() }));
`;

export function check(env: Environment): FamilyReport {
  const { butter } = env;
  const C = butter.constants;
  const calls: CallCheck[] = [];
  const mode = butter.prctlGetSeccomp();
  calls.push(call('prctlGetSeccomp', 'ok', mode === C.SECCOMP_MODE_FILTER ? 'this process already runs under a filter (a container?)' : 'no filter on this thread'));
  const missing: string[] = [];
  calls.push(probe('seccompGetActionAvail', () => {
    for (const [name, constant, since] of newer) if (!butter.seccompGetActionAvail(C[constant])) missing.push(`${name} (${since})`);
    return missing.length === 0 ? 'every action' : `this kernel lacks ${missing.join(', ')}`;
  }));
  if (missing.length > 0) calls[calls.length - 1].status = 'limited';
  calls.push(probe('seccompGetNotifSizes', () => {
    const s = butter.seccompGetNotifSizes();
    return `seccomp_notif ${s.notif} bytes, seccomp_notif_resp ${s.resp}, seccomp_data ${s.data}`;
  }));
  try {
    const r = spawnSync(process.execPath, ['-e', childProgram, join(__dirname, '..', '..', 'index.js')], { encoding: 'utf8', timeout: 10_000 });
    const out = r.status === 0 ? (JSON.parse(r.stdout) as { getppid: number; mode: number }) : null;
    calls.push(out && out.getppid === -13 && out.mode === C.SECCOMP_MODE_FILTER
      ? call(['seccompCompile', 'seccompLoad'], 'ok', 'a child loaded a compiled filter on every thread; getppid failed with EACCES as it said')
      : call(['seccompCompile', 'seccompLoad'], 'unavailable', out ? `the child's getppid gave ${out.getppid}` : (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop() ?? ''));
  } catch (err) {
    calls.push(call(['seccompCompile', 'seccompLoad'], 'unavailable', errorText(err)));
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length > 0) {
    return report('seccomp', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')}: see the detail`, 'a newer kernel, or a container runtime that allows seccomp(2)', { mode });
  }
  return report('seccomp', calls, 'filters compile, load on every thread and act as compiled', null, { mode });
}
