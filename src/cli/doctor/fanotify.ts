/** `butter doctor`'s check of the fanotify family: which group classes this process may create. */
import { closeSync } from 'node:fs';
import { report, call, errorText, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

export function check(env: Environment): FamilyReport {
  const { butter } = env;
  const C = butter.constants;
  const calls: CallCheck[] = [];
  // Creating groups marks nothing: doctor never watches any of the machine's files.
  const groups: [string, number][] = [
    ['fanotifyInit (notification class)', C.FAN_CLASS_NOTIF],
    ['fanotifyInit (permission class)', C.FAN_CLASS_CONTENT],
    ['fanotifyInit (FID + names)', C.FAN_CLASS_NOTIF | C.FAN_REPORT_DFID_NAME],
  ];
  for (const [what, cls] of groups) {
    try {
      closeSync(butter.fanotifyInit(cls | C.FAN_CLOEXEC | C.FAN_NONBLOCK));
      calls.push(call(what, 'ok', 'group created and closed (nothing marked)'));
    } catch (err) {
      const eperm = (err as { code?: unknown }).code === 'EPERM';
      calls.push(call(what, eperm ? 'limited' : 'unavailable', eperm ? 'EPERM: needs CAP_SYS_ADMIN' : errorText(err)));
    }
  }
  const facts: Record<string, Fact> = { CAP_SYS_ADMIN: env.hasCap('CAP_SYS_ADMIN') };
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length === 0) return report('fanotify', calls, 'every group class can be created', null, facts);
  return bad.some((c) => c.status === 'unavailable')
    ? report('fanotify', calls, 'fanotify does not work here', 'a kernel with CONFIG_FANOTIFY (and CONFIG_FANOTIFY_ACCESS_PERMISSIONS for permission events)', facts)
    : report('fanotify', calls, 'only unprivileged FID groups are allowed without CAP_SYS_ADMIN', 'run as root, or grant CAP_SYS_ADMIN', facts);
}
