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

/**
 * Runs `start(done)` (a native `…Start` call with its arguments bound) and
 * settles the Promise from its `done`. `syscall` names the errors; `convert`
 * maps a successful native value to what the caller gets.
 */
export function runWork<T>(
  start: (done: WorkDone) => NativeWork | number,
  syscall: string,
  signal: AbortSignal | undefined,
  convert: (value: unknown) => T,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    let retry: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const token = start((result, aborted) => {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      if (retry) clearInterval(retry);
      if (aborted) reject(abortError(signal!));
      else if (typeof result === 'number' && result < 0) reject(sysError(-result, syscall));
      else resolve(convert(result));
    });
    if (typeof token === 'number') {
      reject(sysError(-token, syscall)); // the call could not be queued (an fd would not duplicate)
      return;
    }
    if (signal) {
      onAbort = () => {
        // 1: running and interrupted, if the kernel lets it; keep interrupting until done comes.
        if (native.workAbort(token) === 1) retry = setInterval(() => native.workAbort(token), ABORT_RETRY_MS).unref();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}
