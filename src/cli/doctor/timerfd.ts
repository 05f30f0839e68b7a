/** `butter doctor`'s check of the timerfd family: every clock, the alarm ones included. */
import { report, call, probe, errorText, WAKE_TIMEOUT_MS, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

export async function check(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const calls: CallCheck[] = [];
  for (const clock of ['monotonic', 'realtime', 'boottime'] as const) {
    calls.push(probe(`TimerFd (${clock})`, () => {
      const t = new butter.TimerFd({ clock });
      t.close();
      return 'created and closed';
    }));
  }
  // The alarm clocks can wake a suspended system, which takes CAP_WAKE_ALARM in
  // the initial user namespace (holding it in a namespace of one's own is not enough).
  let alarm = true;
  for (const clock of ['realtime_alarm', 'boottime_alarm'] as const) {
    try {
      new butter.TimerFd({ clock }).close();
      calls.push(call(`TimerFd (${clock})`, 'ok', 'created and closed'));
    } catch (err) {
      const eperm = (err as { code?: unknown }).code === 'EPERM';
      if (eperm) alarm = false;
      calls.push(call(`TimerFd (${clock})`, eperm ? 'limited' : 'unavailable', eperm ? 'EPERM: needs CAP_WAKE_ALARM in the initial user namespace' : errorText(err)));
    }
  }
  const t = new butter.TimerFd();
  try {
    t.set(1);
    const ev = await t.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    calls.push(ev.type === 'expire' && ev.expirations >= 1n
      ? call('TimerFd.read', 'ok', `a 1 ms one-shot expired and woke a read through the ${butter.readinessBackend()} backend`)
      : call('TimerFd.read', 'unavailable', `unexpected event ${JSON.stringify(ev, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`));
  } catch (err) {
    calls.push(call('TimerFd.read', 'unavailable', errorText(err)));
  } finally {
    t.close();
  }
  const facts: Record<string, Fact> = { CAP_WAKE_ALARM: env.hasCap('CAP_WAKE_ALARM'), alarmClocks: alarm };
  const bad = calls.filter((c) => c.status === 'unavailable');
  if (bad.length > 0) return report('timerfd', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} failed`, 'see the detail', facts);
  return alarm
    ? report('timerfd', calls, 'every clock works, alarm clocks included', null, facts)
    : report('timerfd', calls, 'all clocks work but the *_ALARM ones, which need CAP_WAKE_ALARM', 'to use realtime_alarm/boottime_alarm, grant CAP_WAKE_ALARM outside any user namespace (e.g. `setcap cap_wake_alarm+ep` on node, or run as root)', facts);
}
