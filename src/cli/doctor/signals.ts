/** `butter doctor`'s check of the signals family: a signal blocked in every thread and read with its sender. */
import { readdirSync } from 'node:fs';
import { report, call, errorText, readText, WAKE_TIMEOUT_MS, type Butter, type CallCheck, type Environment, type FamilyReport } from './check';
import { runtime, signalBlockingRefusal } from '../../core/runtime';

export async function check(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  if (signalBlockingRefusal !== null) {
    const calls = [call(['blockSignals', 'SignalFd'], 'unavailable', `refused on ${runtime}: ${signalBlockingRefusal}`)];
    return report('signals', calls, `process-wide signal blocking cannot work on ${runtime}`, 'run under Node.js or Deno');
  }
  const calls: CallCheck[] = [];
  // SIGRTMAX carries the broadcast that blocks a signal in every thread; a
  // handler someone else installed there makes process-wide blocking refuse (EBUSY).
  const sig = 'SIGRTMIN+7';
  let s: InstanceType<Butter['SignalFd']> | null = null;
  try {
    s = new butter.SignalFd(sig);
    const threads = readdirSync('/proc/self/task');
    const unblocked = threads.filter((tid) => {
      const m = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readText(`/proc/self/task/${tid}/status`) ?? '');
      return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(butter.constants.SIGRTMIN + 7 - 1))) === 0n;
    });
    calls.push(unblocked.length === 0
      ? call(['blockSignals', 'SignalFd'], 'ok', `${sig} blocked in all ${threads.length} threads while held`)
      : call(['blockSignals', 'SignalFd'], 'unavailable', `${unblocked.length} of ${threads.length} threads do not block ${sig}`));
    butter.sigqueue(process.pid, sig, 77);
    const ev = await s.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    calls.push(ev.pid === process.pid && ev.int === 77 && ev.codeName === 'SI_QUEUE'
      ? call(['signalfd', 'sigqueue'], 'ok', `a queued ${sig} arrived with its sender (pid ${ev.pid}) and value 77`)
      : call(['signalfd', 'sigqueue'], 'unavailable', `got ${ev.name} from ${ev.pid} with value ${ev.int}`));
  } catch (err) {
    calls.push(call(['blockSignals', 'SignalFd'], 'unavailable', errorText(err)));
  } finally {
    s?.close();
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length > 0) {
    return report('signals', calls, 'process-wide blocking or signalfd does not work here', 'if the error is EBUSY, something else handles SIGRTMAX; otherwise report it with this output');
  }
  return report('signals', calls, 'signals are blocked in every thread and read with their sender');
}
