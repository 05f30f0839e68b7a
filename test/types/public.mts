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

import {
  mount, umount2, fsopen, fsconfig, fsmount, moveMount, openTree, mountSetattr, statmount, listmount, mountinfo,
  unshare, setns, nsGetMntnsId, type MountInfo, type Statmount, type MountAttr, type ThreadOptions,
} from 'butter';

export async function mountChecks(signal: AbortSignal, userns: number): Promise<void> {
  mount('tmpfs', new URL('file:///mnt'), 'tmpfs', constants.MS_NOSUID, 'size=1m');
  await zeroCopy.mount(null, '/mnt', null, constants.MS_PRIVATE | constants.MS_REC, null, { signal });
  await zeroCopy.umount2(Buffer.from('/mnt'), constants.MNT_DETACH);
  umount2('/mnt');
  const ctx: number = fsopen('tmpfs');
  fsconfig(ctx, constants.FSCONFIG_SET_STRING, 'size', '1m');
  fsconfig(ctx, constants.FSCONFIG_SET_BINARY, 'key', new Uint8Array(2), 2);
  fsconfig(ctx, constants.FSCONFIG_CMD_CREATE);
  const m: number = fsmount(ctx, constants.FSMOUNT_CLOEXEC, constants.MOUNT_ATTR_RDONLY);
  moveMount(m, '', constants.AT_FDCWD, '/mnt', constants.MOVE_MOUNT_F_EMPTY_PATH);
  const attr: MountAttr = { attrSet: constants.MOUNT_ATTR_IDMAP, usernsFd: userns };
  mountSetattr(openTree(constants.AT_FDCWD, '/mnt', constants.OPEN_TREE_CLONE), '', constants.AT_EMPTY_PATH, attr);
  const ids: bigint[] = listmount(undefined, 0, { max: 10 });
  const s: Statmount = statmount(ids[0], constants.STATMOUNT_MNT_POINT, 0, { mntNsId: nsGetMntnsId(3) });
  const point: string | undefined = s.mntPoint;
  const table: MountInfo[] = mountinfo();
  const propagation: 'shared' | 'slave' | 'shared-slave' | 'unbindable' | 'private' = table[0].propagation;
  const only: ThreadOptions = { thisThreadOnly: true };
  unshare(constants.CLONE_NEWUTS, only);
  setns(3, constants.CLONE_NEWNET, only);
  // @ts-expect-error mountSetattr needs the attributes
  mountSetattr(3, '', 0);
  // @ts-expect-error the option is thisThreadOnly
  unshare(constants.CLONE_NEWNS, { threadOnly: true });
  void [point, propagation];
}

import { seccompCompile, seccompProfile, seccompInterpret, seccompLoad, type SeccompFilter, type SeccompRule, type SeccompVerdict } from 'butter';

export function seccompChecks(profile: string): void {
  const rules: SeccompRule[] = [
    { syscall: 'getppid', action: { errno: 'EPERM' } },
    { syscall: 'personality', action: 'allow', args: [{ index: 0, op: 'masked_eq', mask: 0xffn, value: 8 }], arch: ['x86_64', 'x32'] },
  ];
  const filter: SeccompFilter = seccompCompile(rules, { defaultAction: 'allow', arch: ['x86_64', 'aarch64'] });
  const verdict: SeccompVerdict = seccompInterpret(filter, { nr: 'getppid', args: [1n, 2] });
  const program: Uint8Array = seccompProfile(profile, { caps: ['CAP_SYS_ADMIN'] }).program;
  seccompLoad(filter, { tsync: true, log: false });
  // @ts-expect-error an action is a name or { errno } / { trace }
  seccompCompile([{ syscall: 'read', action: 'deny' }], { defaultAction: 'allow' });
  void [verdict.action, program];
}

import { spawn as spawnSandboxed, type SandboxMount, type SandboxSpawnOptions } from 'butter';
import type { ChildProcess } from 'node:child_process';

export function sandboxChecks(): void {
  const mounts: SandboxMount[] = [
    { type: 'ro-bind', source: '/usr', target: '/usr' },
    { type: 'bind', source: '/srv', target: '/srv', optional: true },
    { type: 'tmpfs', target: '/tmp', mode: 0o1777, size: 1 << 20 },
    { type: 'file', target: '/etc/motd', data: Buffer.from('hi') },
    { type: 'symlink', source: 'usr/bin', target: '/bin' },
  ];
  const options: SandboxSpawnOptions = { namespaces: ['user', 'mount', 'pid'], mounts, uidMap: 0, cwd: '/', stdio: 'inherit', dieWithParent: true };
  const child: ChildProcess = spawnSandboxed('sh', ['-c', 'true'], options);
  const bare: ChildProcess = spawnSandboxed('true', { namespaces: ['net'] });
  // @ts-expect-error not a namespace
  spawnSandboxed('true', [], { namespaces: ['users'] });
  // @ts-expect-error a bind needs its source
  const noSource: SandboxMount = { type: 'bind', target: '/x' };
  void [child, bare, noSource];
// seccomp_notify: the supervisor object, its notifications, answers, the 1:1 calls.
}

import {
  SeccompNotify,
  SeccompNotification,
  seccompNotifyRecv,
  seccompNotifySend,
  seccompNotifyIdValid,
  seccompNotifyAddfd,
  type SeccompNotifyOptions,
  type SeccompNotif,
} from 'butter';

export async function seccompNotifyChecks(listener: number): Promise<void> {
  const options: SeccompNotifyOptions = { deadline: 500, defaultAnswer: { error: 'EPERM' }, syncWakeUp: false };
  using notify = new SeccompNotify(listener, options);
  for await (const n of notify) {
    const s: SeccompNotification = n;
    const name: string | null = s.syscall;
    const arg: bigint | undefined = s.args[1];
    if (name === 'openat' && arg !== undefined) {
      const path: string = s.readString(arg);
      const fd: number = s.addFd(3, { send: path === '/etc/hosts', cloexec: true });
      void fd;
    }
    const answered: boolean = name === 'connect' ? s.respond({ error: 'EACCES' }) : s.idValid() ? s.continue() : s.respond({ value: 0n });
    // @ts-expect-error an answer is an error or a value, not a string
    s.respond('EPERM');
    void answered;
  }
  new SeccompNotify(listener, { defaultAnswer: 'continue' }).close();
  const raw: SeccompNotif = seccompNotifyRecv(listener);
  seccompNotifySend(listener, { id: raw.id, val: 0, flags: constants.SECCOMP_USER_NOTIF_FLAG_CONTINUE });
  const valid: boolean = seccompNotifyIdValid(listener, raw.id);
  const added: number = seccompNotifyAddfd(listener, { id: raw.id, srcfd: 3, flags: constants.SECCOMP_ADDFD_FLAG_SEND });
  void [valid, added, notify.pendingAnswers];
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

// io_uring: requests resolve to what they return; multishot requests are async iterators; messages are events.
import {
  IoUring, IoUringBufferRing, type IoUringMessage, type IoUringReceivedMessage, type IoUringSiginfo, type IoUringStatx,
} from 'butter';
import * as bfs from 'butter/fs';

export async function ioUringChecks(fd: number, sock: Buffer, signal: AbortSignal): Promise<void> {
  using ring = new IoUring({ entries: 64 });
  const bytes: number = await ring.read(fd, sock, 0n, { signal });
  const st: IoUringStatx = await ring.statx(null, 'file.bin');
  const opened: number = await ring.openat2(null, 'file.bin', { flags: 0, resolve: 0 });
  const msg: IoUringReceivedMessage = await ring.recvmsg(fd, [sock], { maxFds: 2 });
  const passed: number[] | undefined = msg.fds;
  const sent: number = await ring.sendZc(fd, sock);
  const buffers: IoUringBufferRing = ring.bufferRing({ group: 1, entries: 8, size: 4096 });
  for await (const data of ring.recvMultishot(fd, buffers)) {
    const view: Uint8Array = data;
    buffers.release(view);
  }
  for await (const conn of ring.acceptMultishot(fd)) void (conn satisfies number);
  const [r, w]: [number, number] = await ring.pipe();
  const info: IoUringSiginfo = await ring.waitid(0, 0, 4);
  const woken: number = await ring.futexWaitv([{ array: new Int32Array(new SharedArrayBuffer(4)), index: 0, value: 0 }]);
  const expired: boolean = await ring.linkTimeout(100);
  const value: Buffer = await ring.getxattr('file.bin', 'user.x');
  ring.on('message', (m: IoUringMessage) => void (m.data satisfies bigint));
  for await (const m of ring.messages({ signal })) void (m.res satisfies number);
  // @ts-expect-error a path is no fd
  await ring.read('file.bin', sock);
  const handle = await bfs.open('file.bin', 'r');
  const { bytesRead } = await handle.read(sock, 0, 4096, 0);
  await bfs.writeFile('out.bin', (async function* () { yield 'chunk'; })());
  void [bytes, st, opened, passed, sent, r, w, info, woken, expired, value, bytesRead];
}
