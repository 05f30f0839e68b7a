/**
 * `butter doctor`'s check of the seccomp_notify family: a shell started
 * through butter-helper under a filter that notifies its chdir(2), supervised
 * and answered from here; then which of the listener's later ioctls
 * (SET_FLAGS, Linux 6.6) this kernel has.
 */
import { spawnHelper } from '../../core/helper';
import { report, call, errorText, WAKE_TIMEOUT_MS, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_RET_ALLOW = 0x7fff0000;
/** The architectures a probe filter is written for: AUDIT_ARCH_* and chdir's number. */
const ARCHES: Partial<Record<string, [number, number]>> = { x64: [0xc000003e, 80], arm64: [0xc00000b7, 49] };

/** ld arch; jne → allow; ld nr; jeq chdir → notify; allow; notify. */
function chdirFilter(arch: number, nr: number, notify: number): Buffer {
  const insns: [number, number, number, number][] = [
    [0x20, 0, 0, 4],
    [0x15, 0, 2, arch],
    [0x20, 0, 0, 0],
    [0x15, 1, 0, nr],
    [0x06, 0, 0, SECCOMP_RET_ALLOW],
    [0x06, 0, 0, notify],
  ];
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

export async function check(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const C = butter.constants;
  const facts: Record<string, Fact> = { syncWakeUp: null };
  const target = ARCHES[process.arch];
  if (target === undefined) {
    return report('seccomp-notify', [call('SeccompNotify', 'limited', `doctor has no probe filter for ${process.arch}`)], `not probed on ${process.arch}`, null, facts);
  }
  const calls: CallCheck[] = [];
  let notify: InstanceType<typeof butter.SeccompNotify> | null = null;
  try {
    const { child, ready } = spawnHelper('/bin/sh', ['-c', 'cd / && exit 7'], {
      stdio: 'ignore',
      steps: [
        { op: 'prctl', option: PR_SET_NO_NEW_PRIVS, args: [1] },
        { op: 'seccomp', flags: C.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter: chdirFilter(target[0], target[1], C.SECCOMP_RET_USER_NOTIF), onListener: (fd) => (notify = new butter.SeccompNotify(fd)) },
      ],
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await ready;
    const n = await notify!.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    const syscall = `${n.syscall ?? '?'} (${n.nr})`;
    if (n.nr !== target[1] || n.pid !== child.pid) throw new Error(`the notification was ${syscall} from pid ${n.pid}, not chdir from ${child.pid}`);
    // Before the answer: once the shell is gone, the object closes itself.
    const r = probeSetFlags(butter, notify!.fd);
    n.respond({ value: 0 });
    const code = await exit;
    if (code !== 7) throw new Error(`the shell exited with ${code}, not 7, after its chdir was answered`);
    calls.push(call('SeccompNotify', 'ok', `a shell's ${syscall} was received and answered, and the shell went on`));
    facts.syncWakeUp = r === null;
    calls.push(call('seccompNotifySetFlags', r === null ? 'ok' : 'limited', r === null ? 'SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP accepted' : `${r}: the kernel lacks SECCOMP_IOCTL_NOTIF_SET_FLAGS (Linux 6.6)`));
  } catch (err) {
    calls.push(call('SeccompNotify', 'unavailable', errorText(err)));
  } finally {
    (notify as InstanceType<typeof butter.SeccompNotify> | null)?.close();
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length === 0) return report('seccomp-notify', calls, 'a new process\'s syscalls can be supervised from JavaScript', null, facts);
  return bad.some((c) => c.status === 'unavailable')
    ? report('seccomp-notify', calls, 'user notification does not work here', 'a kernel with CONFIG_SECCOMP_FILTER, Linux 5.0 or later (5.14 for addFd({ send }))', facts)
    : report('seccomp-notify', calls, 'notifications work; SET_FLAGS needs Linux 6.6', 'a newer kernel, for syncWakeUp', facts);
}

/** null when SET_FLAGS works, else its error's code. */
function probeSetFlags(butter: Environment['butter'], fd: number): string | null {
  try {
    butter.seccompNotifySetFlags(fd, butter.constants.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    return null;
  } catch (err) {
    return String((err as { code?: unknown }).code ?? errorText(err));
  }
}
