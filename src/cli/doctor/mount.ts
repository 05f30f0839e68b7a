/**
 * `butter doctor`'s check of the mount family. Nothing is mounted: mount,
 * umount2, pivot_root and the calls that attach or change mounts would change
 * this process's mount namespace, the machine's unless it runs in its own.
 * What is read (mountinfo, listmount, statmount) and made (a filesystem
 * context, closed unused) changes nothing.
 */
import { closeSync } from 'node:fs';
import { report, call, probe, errorText, expectEqual, unprivilegedUserns, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

/** The statmount groups by bit, for the report of what this kernel supports. */
const GROUPS = ['sb_basic', 'mnt_basic', 'propagate_from', 'mnt_root', 'mnt_point', 'fs_type', 'mnt_ns_id', 'mnt_opts', 'fs_subtype', 'sb_source', 'opt_array', 'opt_sec_array', 'supported_mask', 'mnt_uidmap', 'mnt_gidmap'];

export function check(env: Environment): FamilyReport {
  const { butter } = env;
  const C = butter.constants;
  const facts: Record<string, Fact> = { CAP_SYS_ADMIN: env.hasCap('CAP_SYS_ADMIN') };
  const calls: CallCheck[] = [];
  let mounts = 0;
  calls.push(probe('mountinfo', () => {
    mounts = butter.mountinfo().length;
    return `${mounts} mounts in this mount namespace, parsed from /proc/self/mountinfo`;
  }));
  try {
    const ids = butter.listmount();
    const root = butter.statmount(ids[0], C.STATMOUNT_MNT_BASIC | C.STATMOUNT_MNT_POINT | C.STATMOUNT_SUPPORTED_MASK);
    expectEqual('listmount()', ids.length, mounts, 'mountinfo()\'s count');
    const supported = root.supportedMask === undefined ? 'no STATMOUNT_SUPPORTED_MASK (before 6.15)' : `groups ${GROUPS.filter((_, i) => (root.supportedMask! & (1 << i)) !== 0).join(', ')}`;
    facts.statmountSupportedMask = root.supportedMask ?? null;
    const reverse = (() => {
      try {
        return butter.listmount(undefined, C.LISTMOUNT_REVERSE, { max: 1 })[0] === ids.at(-1) ? 'LISTMOUNT_REVERSE works' : 'LISTMOUNT_REVERSE gave another order';
      } catch (err) {
        return `no LISTMOUNT_REVERSE (6.13): ${errorText(err)}`;
      }
    })();
    calls.push(call(['listmount', 'statmount'], 'ok', `${ids.length} mounts, as mountinfo(); the first at '${root.mntPoint}'; ${supported}; ${reverse}`));
  } catch (err) {
    const old = (err as { code?: string }).code === 'ENOSYS';
    calls.push(call(['listmount', 'statmount'], old ? 'limited' : 'unavailable', old ? 'ENOSYS: they are Linux 6.8; mountinfo() has the same facts' : errorText(err)));
  }

  const changing = [['mount', 'umount2', 'pivotRoot'], ['fsmount', 'moveMount'], ['openTree', 'fspick', 'mountSetattr']];
  let fsopen: CallCheck;
  try {
    // A superblock made and dropped, never mounted: FSCONFIG_CMD_CREATE_EXCL is 6.6.
    const ctx = butter.fsopen('tmpfs');
    let excl: string;
    try {
      butter.fsconfig(ctx, C.FSCONFIG_CMD_CREATE_EXCL);
      excl = 'FSCONFIG_CMD_CREATE_EXCL works';
    } catch (err) {
      excl = `no FSCONFIG_CMD_CREATE_EXCL (6.6): ${errorText(err)}`;
    } finally {
      closeSync(ctx);
    }
    fsopen = call(['fsopen', 'fsconfig'], 'ok', `a tmpfs context made, its superblock created, neither mounted; ${excl}`);
  } catch (err) {
    fsopen = call('fsopen', (err as { code?: string }).code === 'EPERM' ? 'limited' : 'unavailable', errorText(err));
  }
  calls.push(fsopen);
  if (env.hasCap('CAP_SYS_ADMIN') && fsopen.status === 'ok') {
    calls.push(call(changing[0], 'ok', 'permitted (CAP_SYS_ADMIN); not called, doctor changes no mount: in Node\'s process they change the mount namespace of every thread, the machine\'s own unless it is a private one'));
    for (const group of changing.slice(1)) calls.push(call(group, 'ok', 'permitted; not called'));
    return report('mount', calls, calls.some((c) => c.status !== 'ok') ? 'mounting is permitted; see the detail for what this kernel lacks' : 'every call is permitted', null, facts);
  }
  const userns = unprivilegedUserns(env);
  Object.assign(facts, userns.facts);
  for (const group of changing) calls.push(call(group, 'limited', 'EPERM without CAP_SYS_ADMIN over this mount namespace; not called'));
  const fix = userns.possible
    ? 'mount in a user and mount namespace of the process\'s own, where it holds CAP_SYS_ADMIN: `unshare -Urm node app.js`, or start the work with spawn() in new namespaces'
    : `run with CAP_SYS_ADMIN, or in a user namespace of its own, which needs user namespaces: here ${userns.why}; to change that: ${userns.fix ?? 'n/a'}`;
  return report('mount', calls, 'the mount table can be read; mounting needs CAP_SYS_ADMIN, which this process lacks', fix, facts);
}
