/** `butter doctor`'s check of the host family: uname and the names, and whether this process may set them. */
import * as os from 'node:os';
import { report, call, probe, expectEqual, onPath, unprivilegedUserns, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

export function check(env: Environment): FamilyReport {
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
