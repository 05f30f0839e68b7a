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

// Drop-in timers: what compiles against node:timers must compile against butter/timers.
import * as timers from 'butter/timers';
import * as timersPromises from 'butter/timers/promises';
import type { Timeout } from 'butter/timers';
import type { IntervalIterator } from 'butter/timers/promises';

export async function timerChecks(): Promise<void> {
  let handle: NodeJS.Timeout | undefined = timers.setTimeout((a: number, b: string) => void [a, b], 10, 1, 'x');
  handle = timers.setInterval(function (this: Timeout) {
    const counts: number = this.expirations + this.overrun + this.missed;
    void counts;
  }, 5);
  timers.clearTimeout(handle);
  timers.clearInterval(+timers.setInterval(() => {}, 1));
  timers.clearTimeout(globalThis.setTimeout(() => {}, 1));
  const t: Timeout = timers.setTimeout(() => {}).unref().ref().refresh();
  const refed: boolean = t.hasRef();
  const origin: bigint = t.start;
  t.close()[Symbol.dispose]();
  await new Promise<void>((resolve) => timers.setTimeout(resolve, 1));
  timers.setImmediate(() => {});
  // @ts-expect-error: the arguments must match the callback's parameters
  timers.setTimeout((a: number) => void a, 10, 'x');

  const s: string = await timersPromises.setTimeout(1, 'x', { signal: AbortSignal.timeout(100), ref: false });
  const none: void = await timersPromises.setTimeout(1);
  const it: IntervalIterator<number> = timersPromises.setInterval(1, 5);
  const asNode: NodeJS.AsyncIterator<number> = it;
  const itOrigin: bigint | undefined = it.start;
  for await (const n of timersPromises.setInterval(1, 7)) {
    const v: number = n;
    const counts: number = it.expirations + it.overrun + it.missed;
    void v, counts;
    break;
  }
  await timersPromises.scheduler.wait(1);
  await timersPromises.setImmediate();
  // @ts-expect-error: ref is a boolean
  void timersPromises.setTimeout(1, 1, { ref: 1 });
  void refed, origin, s, none, asNode, itOrigin;
}

// inotify: the 1:1 calls and the Inotify object's events, narrowed by type.
import { Inotify, inotifyInit, inotifyAddWatch, inotifyRead, parseInotifyEvents, type InotifyEvent, type InotifyWatch, type InotifyRecord } from 'butter';

export async function inotifyChecks(): Promise<void> {
  const fd: number = inotifyInit(constants.IN_CLOEXEC);
  const wd: number = inotifyAddWatch(fd, new URL('file:///tmp'), constants.IN_CREATE | constants.IN_ONESHOT);
  const records: InotifyRecord[] = [...inotifyRead(fd), ...parseInotifyEvents(Buffer.alloc(0), 0)];
  using ino = new Inotify({ joinRenames: true, renameWindow: 0.1, coalesce: 1 });
  const w: InotifyWatch = ino.add('/tmp', ['create', 'move'], { onlyDir: true, maskAdd: true });
  ino.add(Buffer.from('/tmp'), constants.IN_ALL_EVENTS);
  for await (const ev of ino) {
    const e: InotifyEvent = ev;
    if (e.type === 'overflow') {
      const none: null = e.path;
      void none;
    } else if (e.type === 'rename') {
      const paths: [string, string, Buffer | undefined] = [e.oldPath, e.path, e.oldRawName];
      void paths;
    } else {
      const p: string = e.path;
      const n: string | null = e.name;
      const same: boolean = e.watch === w && e.isDir;
      void p, n, same;
    }
  }
  // @ts-expect-error: unknown event names are refused
  ino.add('/tmp', ['created']);
  // @ts-expect-error: the kernel owns the mask
  w.mask = 1;
  void wd, records;
}

// watch(): events narrowed by type; overflow carries the rescan's changes.
import { watch, Watcher, type WatchEvent, type WatchOptions } from 'butter';

export async function watchChecks(): Promise<void> {
  const opts: WatchOptions = { recursive: true, ignore: ['**/node_modules/**'], events: ['create', 'rename', 'overflow'], followSymlinks: false };
  await using w: Watcher = watch('/tmp', opts);
  await w.ready;
  watch('/tmp', { ignore: (p: string) => p.endsWith('.log') }).close();
  w.on('event', (e: WatchEvent) => void e.path);
  w.on('error', (err: Error) => void err.message);
  for await (const e of w) {
    if (e.type === 'rename') {
      const paths: [string, string] = [e.oldPath, e.path];
      void paths;
    } else if (e.type === 'overflow') {
      const changes: string[] = [...e.changes.created, ...e.changes.deleted];
      void changes;
    } else if (e.type === 'error') {
      const err: Error = e.error;
      void err;
    } else {
      const d: boolean = e.isDir;
      void d;
    }
  }
  const n: number = w.inotify.watches().length;
  void n;
  // @ts-expect-error: unknown event types are refused
  watch('/tmp', { events: ['created'] });
  // fs.watch's forms: a URL or Buffer, an encoding, a listener; Buffers with 'buffer'.
  watch(new URL('file:///tmp'), (e: WatchEvent) => void e.path).close();
  const b = watch(Buffer.from('/tmp'), 'buffer', (e) => {
    const p: Buffer = e.path;
    void p;
  });
  for await (const e of b) {
    const p: Buffer = e.path;
    void p;
  }
  watch('/tmp', { persistent: false, encoding: 'hex' }, (e) => void e.path.length).close();
}

// butter/watcher: @parcel/watcher's types.
import parcelCompat, { subscribe, getEventsSince, type Event as ParcelEvent, type AsyncSubscription } from 'butter/watcher';

export async function watcherChecks(): Promise<void> {
  const sub: AsyncSubscription = await subscribe('/tmp', (err: Error | null, events: ParcelEvent[]) => {
    for (const e of events) {
      const t: 'create' | 'update' | 'delete' = e.type;
      void [t, e.path, err];
    }
  }, { ignore: ['node_modules', /x/], backend: 'inotify' });
  await sub.unsubscribe();
  const snapshot: string = await parcelCompat.writeSnapshot('/tmp', '/tmp/snap');
  const events: ParcelEvent[] = await getEventsSince('/tmp', snapshot);
  void events;
}

// fanotify: the object, its events, answers.
import { Fanotify, FanotifyEvent, fanotifyRespond, fanotifyDenyErrno, type FanotifyOptions, type FanotifyMarkOptions } from 'butter';

export async function fanotifyChecks(): Promise<void> {
  const options: FanotifyOptions = { permission: true, report: ['pidfd'], deadline: 500, defaultAnswer: 'deny', eventFlags: 0 };
  using fan = new Fanotify(options);
  const mark: FanotifyMarkOptions = { mount: true, events: ['open_perm', 'close_write'] };
  fan.mark('/srv', mark);
  fan.mark(Buffer.from('/srv'), { filesystem: true, events: 0x20n, ignore: true, ignoreSurviveModify: true });
  fan.unmark(new URL('file:///srv'), { events: ['close_write'], mount: true });
  fan.flush({ mount: true });
  for await (const ev of fan) {
    const e: FanotifyEvent = ev;
    const p: string | null = e.path;
    const raw: Buffer | undefined = e.rawPath ?? e.oldRawPath;
    void raw;
    if (e.permission) {
      const answered: boolean = e.path?.endsWith('.key') ? e.deny({ audit: { ruleNumber: 1 } }) : e.allow({ audit: true });
      const a: 'allow' | 'deny' | null = e.answer;
      void [answered, a, p];
    }
    if (e.overflow) break;
  }
  fanotifyRespond(fan.fd, 3, constants.FAN_ALLOW);
  const denyEio: number = fanotifyDenyErrno('EIO');
  void denyEio;
  const pending: number = fan.pendingAnswers;
  void pending;
}

import { splice, sendfile, pipe2, vmsplice, promises as zeroCopy, type SpliceResult, type SendfileResult } from 'butter';

export async function zeroCopyChecks(signal: AbortSignal): Promise<void> {
  const [r, w]: [number, number] = pipe2();
  const moved: SpliceResult = splice(r, null, w, 0n, 10);
  const next: bigint | null = moved.offOut;
  const sent: SendfileResult = await zeroCopy.sendfile(w, r, next, 10, { signal });
  const bytes: number = sent.bytes + vmsplice(w, [Buffer.alloc(1), new Uint16Array(1)]);
  const viaPromise: SpliceResult = await zeroCopy.splice(r, 1, w, null, bytes, 0, { signal });
  // @ts-expect-error offsets are bigint, number or null
  splice(r, '0', w, null, 1);
  void [sendfile, viaPromise];
}

import { Pipe, sendFile, copyFile, proxy, pipeline, teeTo, type PipelineResult, type ProxyResult } from 'butter';
import type { Socket } from 'node:net';
import { createReadStream } from 'node:fs';

export async function zeroCopyHighChecks(socket: Socket, other: Socket, signal: AbortSignal): Promise<void> {
  const pipe = new Pipe({ size: 1 << 20, packet: false });
  const size: number = pipe.size;
  await pipe.readable({ signal });
  const sent: number = await sendFile(socket, 'file.bin', { offset: 10n, length: size, signal });
  const how: PipelineResult = await pipeline(createReadStream('file.bin'), socket);
  const mode: 'sendfile' | 'splice' | 'stream' = how.mode;
  const both: ProxyResult = await proxy(socket, other, { signal });
  const teed: number = await teeTo(pipe, 1, socket);
  await copyFile('a', 'b', 0);
  // @ts-expect-error a path is no output
  await sendFile('out', 'file.bin');
  pipe.closeWrite();
  pipe.close();
  void [sent, mode, both.aToB + both.bToA, teed];
}
