/** `butter doctor`'s check of the process family: getpid, getppid and gettid against Node's own view. */
import { report, probe, expectEqual, type Environment, type FamilyReport } from './check';

export function check(env: Environment): FamilyReport {
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
