/** `butter doctor`'s check of the eventfd family: an eventfd made, written, read and closed, and an async read woken through the readiness backend. */
import { closeSync, readlinkSync } from 'node:fs';
import { report, call, probe, expectEqual, errorText, readText, WAKE_TIMEOUT_MS, type CallCheck, type Environment, type Fact, type FamilyReport } from './check';

/**
 * Whether `fd` is (still) an eventfd. After close() the number may in theory be
 * reused by another thread at once; only an eventfd there counts as a leak.
 */
function isEventfd(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]';
  } catch {
    return false;
  }
}

/** The open flags of one of our fds, from /proc/self/fdinfo (octal there). */
function fdFlags(fd: number): number | null {
  const m = /^flags:\s*([0-7]+)/m.exec(readText(`/proc/self/fdinfo/${fd}`) ?? '');
  return m ? parseInt(m[1] as string, 8) : null;
}

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

export async function check(env: Environment): Promise<FamilyReport> {
  const { butter } = env;
  const backend = butter.readinessBackend();
  const calls: CallCheck[] = [
    probe(['eventfd', 'eventfdWrite', 'eventfdRead'], () => {
      const fd = butter.eventfd(0);
      try {
        const flags = fdFlags(fd);
        // Butter promises O_CLOEXEC | O_NONBLOCK by default; a regression there would leak fds into children or block the loop.
        if (flags !== null && (flags & (O_NONBLOCK | O_CLOEXEC)) !== (O_NONBLOCK | O_CLOEXEC)) {
          throw new Error(`fd ${fd} lacks O_CLOEXEC or O_NONBLOCK (flags 0${flags.toString(8)})`);
        }
        butter.eventfdWrite(fd, 5n);
        butter.eventfdWrite(fd, 2);
        expectEqual('eventfdRead() after writing 5n and 2', butter.eventfdRead(fd), 7n, 'the sum');
      } finally {
        closeSync(fd);
      }
      return 'created (O_CLOEXEC | O_NONBLOCK), wrote 5n + 2, read 7n, closed';
    }),
  ];

  calls.push(probe('EventFd (semaphore)', () => {
    const ev = new butter.EventFd({ initval: 2, semaphore: true });
    const fd = ev.fd;
    try {
      const got = [ev.readEvent(), ev.readEvent(), ev.readEvent()];
      if (got[0] !== 1n || got[1] !== 1n || got[2] !== null) throw new Error(`readEvent() x3 on initval 2 gave ${got.map(String).join(', ')}, not 1, 1, null`);
    } finally {
      ev.close();
    }
    if (isEventfd(fd)) throw new Error(`fd ${fd} is still an open eventfd after close()`);
    return 'initval 2 read as 1n, 1n, then nothing; closed';
  }));

  // The async path goes through the readiness backend: the one part of eventfd
  // that depends on the runtime rather than on the kernel.
  let wake: CallCheck;
  const ev = new butter.EventFd();
  const fd = ev.fd;
  try {
    const pending = ev.read({ signal: AbortSignal.timeout(WAKE_TIMEOUT_MS) });
    ev.write(3n);
    const value = await pending;
    wake = value === 3n
      ? call('EventFd.read', 'ok', `a pending read woke through the ${backend} backend with 3n`)
      : call('EventFd.read', 'unavailable', `the ${backend} backend delivered ${String(value)}, not 3n`);
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'AbortError';
    wake = call('EventFd.read', 'unavailable', timedOut
      ? `the ${backend} backend did not wake the read within ${WAKE_TIMEOUT_MS} ms`
      : errorText(err));
  } finally {
    ev.close();
  }
  calls.push(wake);
  if (isEventfd(fd)) calls.push(call('EventFd.close', 'unavailable', `fd ${fd} is still an open eventfd after close()`));

  const facts: Record<string, Fact> = { readiness: backend };
  if (wake.status !== 'ok') {
    const other = backend === 'uv' ? 'epoll' : 'uv';
    return report('eventfd', calls, `async reads do not work on the ${backend} backend`, `try BUTTER_READINESS=${other}, and report it with this output`, facts);
  }
  const bad = calls.filter((c) => c.status !== 'ok');
  if (bad.length > 0) return report('eventfd', calls, `${bad.map((c) => c.calls.join(', ')).join('; ')} failed`, 'see the detail; if the kernel lacks eventfd2 (CONFIG_EVENTFD), a kernel with it', facts);
  return report('eventfd', calls, `created, written, read and closed; async reads wake through the ${backend} backend`, null, facts);
}
