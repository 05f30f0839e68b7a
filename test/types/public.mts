// Compile-time checks of the public types, as an ESM TypeScript user sees them
// (`npm test` runs tsc on this file; it is never executed).
import {
  EventFd,
  eventfd,
  eventfdRead,
  eventfdWrite,
  gethostname,
  uname,
  getpid,
  constants,
  readinessBackend,
  TimerFd,
  timerfdCreate,
  timerfdSettime,
  timerfdGettime,
  timerfdSetTicks,
  timerfdRead,
  type TimerSpec,
  type TimerFdEvent,
  type TimerClock,
  type SystemError,
  type UtsName,
  type ReadinessBackend,
} from 'butter';

export async function checks(): Promise<void> {
  const pid: number = getpid();
  const name: string = gethostname();
  const bytes: Buffer = gethostname({ encoding: 'buffer' });
  const u: UtsName = uname();
  const b: ReadinessBackend = readinessBackend();
  const fd: number = eventfd(0, constants.EFD_CLOEXEC | constants.EFD_NONBLOCK);
  eventfdWrite(fd, 1n);
  eventfdWrite(fd, 1);
  const v: bigint = eventfdRead(fd);

  const ev = new EventFd({ initval: 1, semaphore: true });
  const one: bigint = await ev.read({ signal: AbortSignal.timeout(10) });
  const maybe: bigint | null = ev.readEvent();
  const all: bigint[] = ev.readEvents();
  for await (const n of ev) {
    const x: bigint = n;
    void x;
  }
  ev.on('event', (n) => {
    const x: bigint = n;
    void x;
  });
  ev.on('error', (err: Error) => void err);
  ev.ref().unref();
  ev[Symbol.dispose]();
  await ev[Symbol.asyncDispose]();

  try {
    eventfdRead(-1);
  } catch (e) {
    const err = e as SystemError;
    const code: string = err.code;
    const errno: number = err.errno;
    void code, errno;
  }

  const tfd: number = timerfdCreate(constants.CLOCK_MONOTONIC, constants.TFD_CLOEXEC | constants.TFD_NONBLOCK);
  const old: TimerSpec = timerfdSettime(tfd, constants.TFD_TIMER_ABSTIME, { value: 1n, interval: 2n });
  timerfdSettime(tfd, 0, { value: 1n });
  const cur: bigint = timerfdGettime(tfd).value;
  timerfdSetTicks(tfd, 1n);
  const ticks: bigint = timerfdRead(tfd);
  const clock: TimerClock = 'boottime';
  const timer = new TimerFd({ clock }).set(5, { interval: 5n, absolute: false, cancelOnSet: false });
  timer.set(5n).disarm();
  const spec: TimerSpec = timer.get();
  const now: bigint = timer.now();
  const tev: TimerFdEvent = await timer.read();
  if (tev.type === 'expire') {
    const n: bigint = tev.expirations;
    void n;
  } else {
    const t: 'clockset' = tev.type;
    void t;
  }
  for await (const e of timer) void e.type;
  timer.on('event', (e) => void (e.type === 'expire' && e.expirations));
  // @ts-expect-error: nanoseconds at the 1:1 layer are bigints
  timerfdSettime(tfd, 0, { value: 1 });
  // @ts-expect-error: only the named clocks
  new TimerFd({ clock: 'tai' });
  // @ts-expect-error: a clockset event has no count
  void (tev.type === 'clockset' && tev.expirations);
  void old, cur, ticks, spec, now;

  // @ts-expect-error: counts are bigints, not strings
  ev.write('1');
  // @ts-expect-error: initval is a number
  new EventFd({ initval: '1' });
  // @ts-expect-error: unknown event names are refused
  ev.on('data', () => {});
  void pid, name, bytes, u, b, v, one, maybe, all;
}
