/**
 * Loads the native core and picks the readiness backend for this environment
 * (main thread or Worker: each has its own instance of the addon's state).
 */
import { join } from 'node:path';

declare const handleBrand: unique symbol;
/** An fd owned by the native core, with its readiness watch (src/native/handle.c). */
export type NativeHandle = { readonly [handleBrand]: true };

export type ReadinessBackend = 'uv' | 'epoll';

/** The addon's functions. Failing calls return `-errno`; see src/native/butter.h. */
export interface Native {
  strerror(errno: number): string;
  strerrorname(errno: number): string | undefined;

  /** A handle owning no fd yet: pass it to a creating call, which gives it the new fd. */
  /** `bytes` is there when the handle has a buffer (handleSetBuffer) and the wake was read into it. */
  handleNew(onReady: (status: number, events: number, bytes?: number) => void): NativeHandle;
  handleSet(handle: NativeHandle, events: number, flags: number): number;
  handleClose(handle: NativeHandle): number;
  /**
   * Makes every readable wake of a consumed handle (KEEP_CALLBACK, no drain)
   * read(2) into `buffer` before the callback, which gets the bytes read or
   * -errno as its third argument. With a `format` other than WAKE_BYTES,
   * every read through the handle (that one and handleRead's) also fills
   * `decoded`: for WAKE_INOTIFY, element i is record i's name (a string, null
   * for none, or undefined when it is not valid UTF-8).
   */
  handleSetBuffer(handle: NativeHandle, buffer: Uint8Array, format: number, decoded?: unknown[]): number;
  pollBackend(want: string): ReadinessBackend | 'none';
  /** Starts a thread that reads the handle's fd ahead of JS, into at most `capacity` bytes. */
  drainStart(handle: NativeHandle, capacity: number): number;
  /** The next chunk a drain read, or a plain read(2) without one. */
  handleRead(handle: NativeHandle, buffer: Uint8Array): number;
  /** Waits up to `timeoutNs` for the handle to be readable: 1, 0, or -errno. */
  handlePoll(handle: NativeHandle, timeoutNs: number): number;
  readonly READABLE: number;
  readonly WRITABLE: number;
  readonly KEEP_CALLBACK: number;
  readonly KEEP_LOOP: number;
  readonly WAKE_BYTES: number;
  readonly WAKE_INOTIFY: number;

  getpid(): number;
  getppid(): number;
  gettid(): number;

  uname(): Buffer[] | number;
  gethostname(): Buffer | number;
  sethostname(name: Uint8Array): number;
  getdomainname(): Buffer | number;
  setdomainname(name: Uint8Array): number;

  eventfd(initval: number, flags: number, handle?: NativeHandle): number;
  eventfdRead(fd: number): bigint | number;
  eventfdWrite(fd: number, value: bigint): number;
  readonly eventfdConstants: { readonly EFD_CLOEXEC: number; readonly EFD_NONBLOCK: number; readonly EFD_SEMAPHORE: number };

  inotifyInit(flags: number, handle?: NativeHandle): number;
  inotifyAddWatch(fd: number, path: Uint8Array, mask: number): number;
  inotifyRmWatch(fd: number, wd: number): number;
  inotifyRead(fd: number, buffer: Uint8Array): number;
  inotifySetNextWd(fd: number, wd: number): number;
  inotifyQueued(fd: number): number;
  readonly inotifyConstants: Readonly<Record<
    | 'IN_ACCESS' | 'IN_MODIFY' | 'IN_ATTRIB' | 'IN_CLOSE_WRITE' | 'IN_CLOSE_NOWRITE' | 'IN_OPEN' | 'IN_MOVED_FROM' | 'IN_MOVED_TO'
    | 'IN_CREATE' | 'IN_DELETE' | 'IN_DELETE_SELF' | 'IN_MOVE_SELF' | 'IN_UNMOUNT' | 'IN_Q_OVERFLOW' | 'IN_IGNORED' | 'IN_CLOSE' | 'IN_MOVE'
    | 'IN_ONLYDIR' | 'IN_DONT_FOLLOW' | 'IN_EXCL_UNLINK' | 'IN_MASK_CREATE' | 'IN_MASK_ADD' | 'IN_ISDIR' | 'IN_ONESHOT' | 'IN_ALL_EVENTS'
    | 'IN_CLOEXEC' | 'IN_NONBLOCK' | 'INOTIFY_IOC_SETNEXTWD', number>>;

  fanotifyInit(flags: number, eventFFlags: number, handle?: NativeHandle): number;
  /** A null path marks dirfd itself. */
  fanotifyMark(fd: number, flags: number, mask: bigint, dirfd: number, path: Uint8Array | null): number;
  fanotifyRead(fd: number, buffer: Uint8Array): number;
  fanotifyQueued(fd: number): number;
  /**
   * One write(2) of a `struct fanotify_response` and `info`'s records; with
   * `release`, once the answer is taken, closes eventFd and pidfd (>= 0).
   */
  fanotifyRespond(fd: number, eventFd: number, response: number, info: Uint8Array | null, release: boolean, pidfd: number): number;
  /** readlink of /proc/self/fd/<fd> (a Buffer when not UTF-8); closes fd after when `close`. */
  fanotifyFdPath(fd: number, close: boolean): string | Buffer | number;
  /** A directory fd for path, or the directory holding it (dirfd itself when null), owned by handle. */
  fanotifyOpenMount(dirfd: number, path: Uint8Array | null, handle: NativeHandle): number;
  /** statfs f_fsid of fd's filesystem, as two uint32 words. */
  fanotifyFsid(fd: number): [number, number] | number;
  /** The path of a `struct file_handle` through open_by_handle_at(mountFd, O_PATH). */
  fanotifyHandlePath(mountFd: number, fileHandle: Uint8Array): string | Buffer | number;
  readonly fanotifyConstants: Readonly<Record<
    'FAN_ACCESS' | 'FAN_MODIFY' | 'FAN_ATTRIB' | 'FAN_CLOSE_WRITE' | 'FAN_CLOSE_NOWRITE' | 'FAN_OPEN' | 'FAN_MOVED_FROM'
    | 'FAN_MOVED_TO' | 'FAN_CREATE' | 'FAN_DELETE' | 'FAN_DELETE_SELF' | 'FAN_MOVE_SELF' | 'FAN_OPEN_EXEC' | 'FAN_Q_OVERFLOW'
    | 'FAN_FS_ERROR' | 'FAN_OPEN_PERM' | 'FAN_ACCESS_PERM' | 'FAN_OPEN_EXEC_PERM' | 'FAN_PRE_ACCESS' | 'FAN_MNT_ATTACH' | 'FAN_MNT_DETACH'
    | 'FAN_EVENT_ON_CHILD' | 'FAN_RENAME' | 'FAN_ONDIR' | 'FAN_CLOSE' | 'FAN_MOVE' | 'FAN_CLOEXEC' | 'FAN_NONBLOCK'
    | 'FAN_CLASS_NOTIF' | 'FAN_CLASS_CONTENT' | 'FAN_CLASS_PRE_CONTENT' | 'FAN_ALL_CLASS_BITS' | 'FAN_UNLIMITED_QUEUE' | 'FAN_UNLIMITED_MARKS' | 'FAN_ENABLE_AUDIT'
    | 'FAN_REPORT_PIDFD' | 'FAN_REPORT_TID' | 'FAN_REPORT_FID' | 'FAN_REPORT_DIR_FID' | 'FAN_REPORT_NAME' | 'FAN_REPORT_TARGET_FID' | 'FAN_REPORT_FD_ERROR'
    | 'FAN_REPORT_MNT' | 'FAN_REPORT_DFID_NAME' | 'FAN_REPORT_DFID_NAME_TARGET' | 'FAN_ALL_INIT_FLAGS' | 'FAN_MARK_ADD' | 'FAN_MARK_REMOVE' | 'FAN_MARK_DONT_FOLLOW'
    | 'FAN_MARK_ONLYDIR' | 'FAN_MARK_IGNORED_MASK' | 'FAN_MARK_IGNORED_SURV_MODIFY' | 'FAN_MARK_FLUSH' | 'FAN_MARK_EVICTABLE' | 'FAN_MARK_IGNORE' | 'FAN_MARK_INODE'
    | 'FAN_MARK_MOUNT' | 'FAN_MARK_FILESYSTEM' | 'FAN_MARK_MNTNS' | 'FAN_MARK_IGNORE_SURV' | 'FAN_ALL_MARK_FLAGS' | 'FAN_ALL_EVENTS' | 'FAN_ALL_PERM_EVENTS'
    | 'FAN_ALL_OUTGOING_EVENTS' | 'FANOTIFY_METADATA_VERSION' | 'FAN_EVENT_METADATA_LEN' | 'FAN_EVENT_INFO_TYPE_FID' | 'FAN_EVENT_INFO_TYPE_DFID_NAME' | 'FAN_EVENT_INFO_TYPE_DFID' | 'FAN_EVENT_INFO_TYPE_PIDFD'
    | 'FAN_EVENT_INFO_TYPE_ERROR' | 'FAN_EVENT_INFO_TYPE_RANGE' | 'FAN_EVENT_INFO_TYPE_MNT' | 'FAN_EVENT_INFO_TYPE_OLD_DFID_NAME' | 'FAN_EVENT_INFO_TYPE_NEW_DFID_NAME' | 'FAN_ALLOW' | 'FAN_DENY'
    | 'FAN_AUDIT' | 'FAN_INFO' | 'FAN_RESPONSE_INFO_NONE' | 'FAN_RESPONSE_INFO_AUDIT_RULE' | 'FAN_ERRNO_BITS' | 'FAN_ERRNO_SHIFT' | 'FAN_ERRNO_MASK'
    | 'FAN_NOFD' | 'FAN_NOPIDFD' | 'FAN_EPIDFD' | 'O_CLOEXEC', number>>;

  timerfdCreate(clockid: number, flags: number, handle?: NativeHandle): number;
  /** Times are nanoseconds; the result is the old `[interval, value]`. */
  timerfdSettime(fd: number, flags: number, interval: bigint, value: bigint): [bigint, bigint] | number;
  timerfdGettime(fd: number): [bigint, bigint] | number;
  timerfdSetTicks(fd: number, ticks: bigint): number;
  timerfdRead(fd: number): bigint | number;
  clockGettime(clockid: number): bigint | number;
  readonly timerfdConstants: {
    readonly CLOCK_REALTIME: number;
    readonly CLOCK_MONOTONIC: number;
    readonly CLOCK_BOOTTIME: number;
    readonly CLOCK_REALTIME_ALARM: number;
    readonly CLOCK_BOOTTIME_ALARM: number;
    readonly TFD_CLOEXEC: number;
    readonly TFD_NONBLOCK: number;
    readonly TFD_TIMER_ABSTIME: number;
    readonly TFD_TIMER_CANCEL_ON_SET: number;
    readonly TFD_IOC_SET_TICKS: number;
  };

  pthreadSigmask(how: number, mask: bigint | null): bigint | number;
  sigblock(mask: bigint, acquire: boolean): number;
  signalfd(fd: number, mask: bigint, flags: number, handle?: NativeHandle): number;
  signalfdRead(fd: number, buffer: Buffer): number;
  sigqueue(pid: number, signal: number, value: number): number;
  readonly signalConstants: {
    readonly SIG_BLOCK: number;
    readonly SIG_UNBLOCK: number;
    readonly SIG_SETMASK: number;
    readonly SFD_CLOEXEC: number;
    readonly SFD_NONBLOCK: number;
    readonly SIGRTMIN: number;
    readonly SIGRTMAX: number;
  };
}

function load(): Native {
  // dist/cjs/core -> package root. node-gyp-build takes a build of the package's
  // own (build/Release, else build/Debug with sanitizers) over the prebuilt one
  // for this platform and C library (prebuilds/, scripts/prebuild.sh).
  const root = join(__dirname, '..', '..', '..');
  const { resolve } = require('node-gyp-build') as { resolve(dir: string): string };
  let file: string;
  try {
    file = resolve(root);
  } catch {
    const release = join(root, 'build', 'Release', 'butter.node');
    const err = new Error(`butter: the native addon is not built (no ${release}) and no prebuilt one fits ${process.platform}-${process.arch}; run \`npm rebuild butter\` (in a checkout: \`npm run build:native\`)`);
    throw Object.assign(err, { code: 'MODULE_NOT_FOUND' });
  }
  return require(file) as Native;
}

export const native: Native = load();

function chooseBackend(): ReadinessBackend {
  const forced = process.env.BUTTER_READINESS;
  // libuv is only Node's: other runtimes that load Node-API addons get the portable backend.
  const onNode = process.release?.name === 'node' && !('bun' in process.versions) && !('deno' in process.versions);
  const want = forced === 'uv' || forced === 'epoll' ? forced : onNode ? '' : 'epoll';
  const got = native.pollBackend(want);
  if (got === 'none') throw new Error('butter: no readiness backend could start in this environment');
  return got;
}

/** The readiness backend in force in this thread: `'uv'` (libuv's loop) or `'epoll'` (portable). */
export const backend: ReadinessBackend = chooseBackend();

/**
 * Which readiness backend this thread uses: `'uv'` (an fd in libuv's own loop,
 * Node's fast path) or `'epoll'` (Butter's own epoll thread, the portable one;
 * forced with `BUTTER_READINESS=epoll`).
 */
export function readinessBackend(): ReadinessBackend {
  return backend;
}
