/**
 * Blocking work off the loop: the Promise side of src/native/work.c.
 *
 * A family's native `…Start(...args, done)` queues one syscall on a thread of
 * Butter's own and returns a token; `done(value | -errno, aborted)` comes back
 * on this thread. `runWork` turns that into a Promise that resolves with the
 * converted value, rejects with the fs-shaped error built here from -errno, or
 * rejects with an `AbortError` when the signal aborted the call before it had
 * any effect (not started yet, or interrupted before it moved anything). A call
 * that had an effect settles with its real result, even when aborted: "too late".
 */
import { sysError } from './errors';
import { native } from './native';
import { abortError } from './validate';

declare const workBrand: unique symbol;
/** A queued call (src/native/work.c), for `workAbort`. */
export type NativeWork = { readonly [workBrand]: true };

/** What a native `…Start` function gets last: called once, on the JS thread. */
export type WorkDone = (result: unknown, aborted: boolean) => void;

/** An interrupt can be lost if it lands just before the syscall starts: repeat it this often until the call is over. */
const ABORT_RETRY_MS = 10;

/** One call's Promise and abort wiring. Built apart from `start` so that no closure keeps the call's arguments: the native side holds what the call uses, for as long as it runs. */
class PendingWork<T> {
  readonly promise: Promise<T>;
  private resolve!: (value: T) => void;
  private reject!: (reason: unknown) => void;
  private retry: NodeJS.Timeout | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly syscall: string,
    private readonly signal: AbortSignal | undefined,
    private readonly convert: (value: unknown) => T,
    private readonly path: string | undefined,
    private readonly dest: string | undefined,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  readonly done: WorkDone = (result, aborted) => {
    if (this.onAbort) this.signal!.removeEventListener('abort', this.onAbort);
    if (this.retry) clearInterval(this.retry);
    if (aborted) this.reject(abortError(this.signal!));
    else if (typeof result === 'number' && result < 0) this.reject(sysError(-result, this.syscall, this.path, this.dest));
    else this.resolve(this.convert(result));
  };

  started(token: NativeWork | number): void {
    if (typeof token === 'number') {
      this.reject(sysError(-token, this.syscall, this.path, this.dest)); // not queued: an fd would not duplicate
    } else if (this.signal) {
      this.onAbort = () => {
        // 1: running, and interrupted if the kernel lets it; repeat until done comes.
        if (native.workAbort(token) === 1) this.retry = setInterval(() => native.workAbort(token), ABORT_RETRY_MS).unref();
      };
      this.signal.addEventListener('abort', this.onAbort, { once: true });
    }
  }
}

/**
 * Runs `start(done)` (a native `…Start` call with its arguments bound) and
 * settles the Promise from its `done`. `syscall` names the errors (with
 * `path` and `dest` when the call has them); `convert` maps a successful
 * native value to what the caller gets.
 */
export function runWork<T>(
  start: (done: WorkDone) => NativeWork | number,
  syscall: string,
  signal: AbortSignal | undefined,
  convert: (value: unknown) => T,
  path?: string,
  dest?: string,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const work = new PendingWork(syscall, signal, convert, path, dest);
  work.started(start(work.done));
  return work.promise;
}
