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

  // @ts-expect-error: counts are bigints, not strings
  ev.write('1');
  // @ts-expect-error: initval is a number
  new EventFd({ initval: '1' });
  // @ts-expect-error: unknown event names are refused
  ev.on('data', () => {});
  void pid, name, bytes, u, b, v, one, maybe, all;
}
