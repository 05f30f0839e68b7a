/**
 * The JavaScript runtime this process runs on, and what Butter refuses on it
 * and why (see the runtime matrix in README.md).
 */

export type Runtime = 'node' | 'bun' | 'deno';

export const runtime: Runtime = 'bun' in process.versions ? 'bun' : 'deno' in process.versions ? 'deno' : 'node';

/**
 * Why process-wide signal blocking (SignalFd, blockSignals) cannot work on
 * this runtime, or `null` where it does.
 */
export const signalBlockingRefusal: string | null =
  runtime === 'bun'
    ? "Bun's event loop waits in epoll_pwait2 with an empty signal mask, so a signal blocked in every thread is still delivered to the main thread during the wait, and its default action (often death) is taken"
    : null;

/** Throws `ERR_FEATURE_UNAVAILABLE_ON_PLATFORM` (Node's code) when signal blocking cannot work here. */
export function checkSignalBlocking(): void {
  if (signalBlockingRefusal === null) return;
  const err = new Error(`SignalFd and blockSignals are unavailable on ${runtime}: ${signalBlockingRefusal}`);
  throw Object.assign(err, { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' });
}
