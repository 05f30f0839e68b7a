/** `butter doctor`'s check of the io_uring family: a ring set up, probed and read through, and IoUring woken through the readiness backend. */
import { closeSync, writeSync } from 'node:fs';
import { backend } from '../../fs';
import { report, call, probe, errorText, expectEqual, WAKE_TIMEOUT_MS, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

/** IoUring's requests by the opcode each needs, and the kernel that added the opcode where it is newer than 5.19. */
const NEWER: Record<string, string> = {
  FTRUNCATE: '6.9 (ftruncate)', BIND: '6.11 (bind)', LISTEN: '6.11 (listen)',
  SEND_ZC: '6.0 (sendZc)', SENDMSG_ZC: '6.1 (sendmsgZc)', READ_MULTISHOT: '6.7 (readMultishot)', EPOLL_WAIT: '6.15 (epollWait)',
  WAITID: '6.7 (waitid)', FUTEX_WAIT: '6.7 (futexWait)', FUTEX_WAKE: '6.7 (futexWake)', FUTEX_WAITV: '6.7 (futexWaitv)',
  FIXED_FD_INSTALL: '6.8 (fixedFdInstall)',
  READV_FIXED: '6.15 (readvFixed)', WRITEV_FIXED: '6.15 (writevFixed)', PIPE: '6.16 (pipe)',
};

export async function check(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const disabled = env.sysctl('kernel.io_uring_disabled');
  const facts: Record<string, Fact> = { 'kernel.io_uring_disabled': disabled === null ? null : Number(disabled) };
  let ring;
  try {
    ring = butter.ioUringSetup(4);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOSYS' ? 'this kernel has no io_uring (before 5.1, or built without CONFIG_IO_URING)'
      : disabled === '2' ? 'io_uring is disabled for everyone (kernel.io_uring_disabled = 2)'
      : disabled === '1' && code === 'EPERM' ? 'io_uring is limited to privileged processes and kernel.io_uring_group (kernel.io_uring_disabled = 1)'
      : env.system.seccomp.mode === 'filter' && code === 'EPERM' ? 'a seccomp filter refuses io_uring_setup (container runtimes\' default profiles do)'
      : `io_uring_setup failed: ${errorText(err)}`;
    const fix = code === 'ENOSYS' ? 'a kernel with CONFIG_IO_URING (5.6 or later for IoUring\'s file requests)'
      : disabled !== null && disabled !== '0' ? 'as root: sysctl -w kernel.io_uring_disabled=0 (or add this user to kernel.io_uring_group)'
      : 'a seccomp profile that allows io_uring_setup, io_uring_enter and io_uring_register';
    return report('io-uring', [call('ioUringSetup', 'unavailable', why), fsCall()], why, fix, facts);
  }
  const calls: CallCheck[] = [];
  let missing: string[] = [];
  try {
    facts.features = `0x${ring.params.features.toString(16)}`;
    calls.push(probe(['ioUringSetup', 'ioUringEnter'], () => {
      butter.ioUringPrep(ring, { opcode: butter.constants.IORING_OP_NOP, userData: 7 });
      butter.ioUringEnter(ring, 1, 1, butter.constants.IORING_ENTER_GETEVENTS);
      const cqes = butter.ioUringReap(ring);
      expectEqual('the NOP\'s completion user_data', cqes[0]?.userData, 7n, 'the one it was given');
      return 'a ring of 4 mapped; a NOP prepared, submitted, reaped';
    }));
    calls.push(probe('ioUringProbe', () => {
      const p = butter.ioUringProbe(ring);
      const names = new Set(p.ops.map((o) => o.name));
      facts.opcodes = p.ops.length;
      missing = Object.keys(NEWER).filter((n) => !names.has(n as never));
      return `${p.ops.length} opcodes supported (the last this kernel knows: ${p.lastOp})`;
    }));
  } finally {
    ring.close();
  }
  calls.push(probe('IORING_SETUP_NO_MMAP', () => {
    butter.ioUringSetup(4, { flags: butter.constants.IORING_SETUP_NO_MMAP }).close();
    return 'rings in memory of Butter\'s own (6.5)';
  }));
  if (calls[calls.length - 1]!.status !== 'ok') calls[calls.length - 1]!.status = 'limited';

  // The completions of requests that wait go through the readiness backend.
  const backend = butter.readinessBackend();
  const io = new butter.IoUring({ entries: 4 });
  const [r, w] = butter.pipe2();
  try {
    const pending = io.read(r, Buffer.alloc(2), null, { signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    await io.nop();
    writeSync(w, 'ok');
    const n = await pending;
    calls.push(n === 2
      ? call('IoUring.read', 'ok', `a read waiting on a pipe completed through the ${backend} backend`)
      : call('IoUring.read', 'unavailable', `the read gave ${n} bytes, not 2`));
  } catch (err) {
    calls.push(call('IoUring.read', 'unavailable', errorText(err)));
  } finally {
    io.close();
    closeSync(r);
    closeSync(w);
  }
  calls.push(await socketCommands(butter));
  calls.push(fsCall());
  if (missing.length > 0) {
    calls.push(call(missing.map((n) => `IORING_OP_${n}`), 'limited', `IoUring's requests for these need Linux ${missing.map((n) => NEWER[n]).join(', ')}`));
  }
  const bad = calls.filter((c) => c.status === 'unavailable');
  if (bad.length > 0) return report('io-uring', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} failed`, 'see the detail, and report it with this output', facts);
  const limited = calls.filter((c) => c.status === 'limited');
  if (limited.length > 0) return report('io-uring', calls, `io_uring works; ${limited.map((c) => c.detail).join('; ')}`, 'a newer kernel', facts);
  return report('io-uring', calls, `rings set up, probed and driven; IoUring's completions wake through the ${backend} backend`, null, facts);
}

/** IoUring's siocinq/siocoutq/getsockopt/setsockopt: socket uring_cmds, 6.7. */
async function socketCommands(butter: Environment['butter']): Promise<CallCheck> {
  const io = new butter.IoUring({ entries: 4 });
  let fd = -1;
  try {
    fd = await io.socket(2, 2); // AF_INET, SOCK_DGRAM
    await io.siocinq(fd);
    return call(['IoUring.siocinq', 'IoUring.getsockopt'], 'ok', 'socket commands through IORING_OP_URING_CMD');
  } catch (err) {
    return call(['IoUring.siocinq', 'IoUring.getsockopt'], 'limited', `socket commands need Linux 6.7: ${errorText(err)}`);
  } finally {
    io.close();
    if (fd >= 0) closeSync(fd);
  }
}

/** Which implementation butter/fs chose in this process, and why. */
function fsCall(): CallCheck {
  const b = backend();
  return b.name === 'io_uring'
    ? call('butter/fs', 'ok', 'open, readFile, writeFile, stat and FileHandle run on io_uring')
    : call('butter/fs', 'limited', `Node's own fs/promises: ${b.reason}`);
}
