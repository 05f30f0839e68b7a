/**
 * `butter doctor`'s check of the namespaces family. unshare and setns are not
 * called: in Node's process they move only the calling thread, doctor's own.
 * The ioctls of namespace fds are read from this process's /proc/self/ns.
 */
import { closeSync, openSync } from 'node:fs';
import { report, call, probe, errorText, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

const TYPES: [string, string][] = [['mnt', 'CLONE_NEWNS'], ['uts', 'CLONE_NEWUTS'], ['ipc', 'CLONE_NEWIPC'], ['user', 'CLONE_NEWUSER'], ['pid', 'CLONE_NEWPID'], ['net', 'CLONE_NEWNET'], ['cgroup', 'CLONE_NEWCGROUP'], ['time', 'CLONE_NEWTIME']];

export function check(env: Environment): FamilyReport {
  const { butter } = env;
  const C = butter.constants as unknown as Record<string, number>;
  const facts: Record<string, Fact> = { CAP_SYS_ADMIN: env.hasCap('CAP_SYS_ADMIN') };
  const calls: CallCheck[] = [];
  calls.push(probe(['nsGetNstype', 'nsGetUserns', 'nsGetOwnerUid'], () => {
    const found: string[] = [];
    let outside = 0;
    for (const [name, flag] of TYPES) {
      let fd: number;
      try {
        fd = openSync(`/proc/self/ns/${name}`, 'r');
      } catch {
        continue; // a kernel without that namespace type
      }
      try {
        if (butter.nsGetNstype(fd) !== C[flag]) throw new Error(`nsGetNstype(/proc/self/ns/${name}) is not ${flag}`);
        // EPERM: the owner is outside the caller's user namespace (the initial one has none).
        try {
          closeSync(butter.nsGetUserns(fd));
        } catch (err) {
          if ((err as { code?: string }).code !== 'EPERM') throw err;
          outside++;
        }
        found.push(name);
      } finally {
        closeSync(fd);
      }
    }
    facts.namespaceTypes = found.join(' ');
    const user = openSync('/proc/self/ns/user', 'r');
    try {
      const owners = outside === 0 ? '' : `; ${outside} owned outside this user namespace (EPERM)`;
      return `types ${found.join(', ')}${owners}; owner of this user namespace: uid ${butter.nsGetOwnerUid(user)}`;
    } finally {
      closeSync(user);
    }
  }));
  calls.push(probe(['nsGetMntnsId', 'nsGetId'], () => {
    const fd = openSync('/proc/self/ns/mnt', 'r');
    try {
      const id = butter.nsGetMntnsId(fd);
      let any: string;
      try {
        any = butter.nsGetId(fd) === id ? 'nsGetId agrees' : 'nsGetId gave another id';
      } catch (err) {
        any = `no nsGetId (6.18): ${errorText(err)}`;
      }
      return `this mount namespace is ${id} (6.8); ${any}`;
    } finally {
      closeSync(fd);
    }
  }));
  calls.push(probe(['nsGetPidInPidns', 'nsGetPidFromPidns'], () => {
    const fd = openSync('/proc/self/ns/pid', 'r');
    try {
      const pid = butter.nsGetPidInPidns(fd, process.pid);
      if (pid !== process.pid || butter.nsGetPidFromPidns(fd, pid) !== pid) throw new Error(`this process is ${pid} in its own pid namespace, not ${process.pid}`);
      return `pid ${pid} translated both ways in this pid namespace (6.9)`;
    } finally {
      closeSync(fd);
    }
  }));
  const failed = calls.filter((c) => c.status !== 'ok');
  const how = 'they move the calling thread only (with { thisThreadOnly: true }); a user namespace cannot be entered from Node\'s multi-threaded process: spawn() starts a process in new namespaces';
  if (env.hasCap('CAP_SYS_ADMIN')) {
    calls.push(call(['unshare', 'setns'], 'ok', `permitted (CAP_SYS_ADMIN); not called: ${how}`));
    return report('namespaces', calls, failed.length === 0 ? 'every call is permitted, for the calling thread' : `${failed.map((c) => c.calls.join(', ')).join('; ')} failed`, failed.length === 0 ? null : 'see the detail', facts);
  }
  calls.push(call(['unshare', 'setns'], 'limited', `EPERM for every type but a user namespace without CAP_SYS_ADMIN; not called: ${how}`));
  return report('namespaces', calls, 'namespace fds can be inspected; unshare and setns need CAP_SYS_ADMIN, which this process lacks', 'start the work with spawn() in a user namespace of its own, where it holds CAP_SYS_ADMIN for the others', facts);
}
