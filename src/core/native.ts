/**
 * Loads the native core and picks the readiness backend for this environment
 * (main thread or Worker: each has its own instance of the addon's state).
 */
import { join } from 'node:path';
import type { NativeWork } from './work';

declare const handleBrand: unique symbol;
/** An fd owned by the native core, with its readiness watch (src/native/handle.c). */
export type NativeHandle = { readonly [handleBrand]: true };

export type ReadinessBackend = 'uv' | 'epoll';

/**
 * The families' bindings, by their name in the C registry (BUTTER_FAMILIES in
 * src/native/butter.h). Each family adds its own, typed beside it:
 * `declare module '../core/native' { interface Families { inotify: InotifyNative } }`.
 */
export interface Families {}

/** The addon's functions. Failing calls return `-errno`; see src/native/butter.h. */
export interface Native extends Families {
  /** The families' names, in the registry's order. */
  readonly families: readonly (keyof Families)[];
  strerror(errno: number): string;
  strerrorname(errno: number): string | undefined;

  /** A handle owning no fd yet: pass it to a creating call, which gives it the new fd. */
  /** `bytes` is there when the handle has a buffer (handleSetBuffer) and the wake was read into it. */
  handleNew(onReady: (status: number, events: number, bytes?: number) => void): NativeHandle;
  handleSet(handle: NativeHandle, events: number, flags: number): number;
  handleClose(handle: NativeHandle): number;
  /** Closes `fd` if the handle holds it (fanotify's event fds and pidfds): 0, else -EBADF and nothing closed. */
  handleCloseHeld(handle: NativeHandle, fd: number): number;
  /**
   * Makes every readable wake of a consumed handle (KEEP_CALLBACK, no drain)
   * read(2) into `buffer` before the callback, which gets the bytes read or
   * -errno as its third argument. With `decoded`, every read through the
   * handle (that one and handleRead's) also fills it with the decoding the
   * handle's family registered with its fd: for inotify's, element i is record
   * i's name (a string, null for none, or undefined when it is not valid UTF-8).
   */
  handleSetBuffer(handle: NativeHandle, buffer: Uint8Array, decoded?: unknown[]): number;
  pollBackend(want: string): ReadinessBackend | 'none';
  /** Starts a thread that reads the handle's fd ahead of JS, into at most `capacity` bytes. */
  /** 0, or [-errno, the call that failed]. */
  drainStart(handle: NativeHandle, capacity: number): 0 | [number, string];
  /** The next chunk a drain read, or a plain read(2) without one. */
  handleRead(handle: NativeHandle, buffer: Uint8Array): number;
  /** Waits up to `timeoutNs` for the handle to be readable: 1, 0, or -errno. */
  handlePoll(handle: NativeHandle, timeoutNs: number): number;
  readonly READABLE: number;
  readonly WRITABLE: number;
  readonly KEEP_CALLBACK: number;
  readonly KEEP_LOOP: number;

  /** butter-helper's protocol socket (src/helper/protocol.h): each end goes to its handle. */
  helperSocketpair(parent: NativeHandle, child: NativeHandle): [number, number] | number;
  /** One sendmsg(2) of `message`, with `passFd` as SCM_RIGHTS when >= 0. */
  helperSend(fd: number, message: Uint8Array, passFd: number): number;
  /** One reply into `buffer` (bytes, or -errno); the int32 after it is the fd that came with it, held by `handle`, or -1. */
  helperRecv(handle: NativeHandle, buffer: Uint8Array): number;
  readonly helperConstants: Readonly<Record<
    | 'BUTTER_HELPER_VERSION' | 'BUTTER_HELPER_HELLO' | 'BUTTER_HELPER_UNSHARE' | 'BUTTER_HELPER_SETNS' | 'BUTTER_HELPER_WRITE'
    | 'BUTTER_HELPER_SETHOSTNAME' | 'BUTTER_HELPER_PRCTL' | 'BUTTER_HELPER_CHDIR' | 'BUTTER_HELPER_EXEC' | 'BUTTER_HELPER_EXEC_SEARCH'
    | 'BUTTER_HELPER_FAILED_OPEN' | 'BUTTER_HELPER_MAX_REQUEST'
    | 'BUTTER_HELPER_MOUNT' | 'BUTTER_HELPER_SETATTR' | 'BUTTER_HELPER_UMOUNT' | 'BUTTER_HELPER_PIVOT_ROOT' | 'BUTTER_HELPER_MKDIR'
    | 'BUTTER_HELPER_SYMLINK' | 'BUTTER_HELPER_FILE' | 'BUTTER_HELPER_FORK' | 'BUTTER_HELPER_SETSID' | 'BUTTER_HELPER_CAPS'
    | 'BUTTER_HELPER_CHDIR_TRY' | 'BUTTER_HELPER_MOUNT_TRY' | 'BUTTER_HELPER_MOUNT_MKTARGET' | 'BUTTER_HELPER_FORK_AS_PID_1'
    | 'BUTTER_HELPER_FAILED_MKDIR' | 'BUTTER_HELPER_FAILED_STAT' | 'BUTTER_HELPER_FAILED_READ' | 'BUTTER_HELPER_FAILED_SETATTR'
    | 'BUTTER_HELPER_FAILED_PRCTL' | 'BUTTER_HELPER_SECCOMP' | 'SECCOMP_FILTER_FLAG_NEW_LISTENER', number>>;
  /** 0: cancelled before it ran; 1: running, interrupted if the kernel lets it; 2: over. */
  workAbort(work: NativeWork): number;
}

/** The addon: the file loaded, and its binding. */
function load(): [file: string, addon: Native] {
  // dist/cjs/core -> package root. A build of the package's own comes first
  // (build/Release, else build/Debug with sanitizers), tried directly: the
  // common case then costs no loader. Otherwise node-gyp-build picks the
  // prebuilt one for this platform and C library (prebuilds/, scripts/prebuild.sh).
  const root = join(__dirname, '..', '..', '..');
  for (const type of ['Release', 'Debug']) {
    const file = join(root, 'build', type, 'butter.node');
    try {
      return [file, require(file) as Native];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  const { resolve } = require('node-gyp-build') as { resolve(dir: string): string };
  let file: string;
  try {
    file = resolve(root);
  } catch {
    const release = join(root, 'build', 'Release', 'butter.node');
    const err = new Error(`butter: the native addon is not built (no ${release}) and no prebuilt one fits ${process.platform}-${process.arch}; run \`npm rebuild butter\` (in a checkout: \`npm run build:native\`)`);
    throw Object.assign(err, { code: 'MODULE_NOT_FOUND' });
  }
  return [file, require(file) as Native];
}

const [file, addon] = load();
export const native: Native = addon;
/** The addon file in use: build/Release/butter.node, say, or prebuilds/linux-x64/butter.napi.glibc.node. */
export const addonPath: string = file;

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
