/**
 * Loads the native core and picks the readiness backend for this environment
 * (main thread or Worker: each has its own instance of the addon's state).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

declare const handleBrand: unique symbol;
/** An fd owned by the native core, with its readiness watch (src/native/handle.c). */
export type NativeHandle = { readonly [handleBrand]: true };

export type ReadinessBackend = 'uv' | 'epoll';

/** The addon's functions. Failing calls return `-errno`; see src/native/butter.h. */
export interface Native {
  strerror(errno: number): string;
  strerrorname(errno: number): string | undefined;

  handleNew(fd: number, onReady: (status: number, events: number) => void): NativeHandle;
  handleSet(handle: NativeHandle, events: number, flags: number): number;
  handleClose(handle: NativeHandle): number;
  pollBackend(want: string): ReadinessBackend | 'none';
  readonly READABLE: number;
  readonly WRITABLE: number;
  readonly KEEP_CALLBACK: number;
  readonly KEEP_LOOP: number;

  getpid(): number;
  getppid(): number;
  gettid(): number;

  uname(): Buffer[] | number;
  gethostname(): Buffer | number;
  sethostname(name: Uint8Array): number;
  getdomainname(): Buffer | number;
  setdomainname(name: Uint8Array): number;

  eventfd(initval: number, flags: number): number;
  eventfdRead(fd: number): bigint | number;
  eventfdWrite(fd: number, value: bigint): number;
  readonly eventfdConstants: { readonly EFD_CLOEXEC: number; readonly EFD_NONBLOCK: number; readonly EFD_SEMAPHORE: number };
}

function load(): Native {
  // dist/cjs/core -> package root. A Debug build (sanitizers) is used when it is the only one.
  const root = join(__dirname, '..', '..', '..');
  const release = join(root, 'build', 'Release', 'butter.node');
  const file = existsSync(release) ? release : join(root, 'build', 'Debug', 'butter.node');
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
