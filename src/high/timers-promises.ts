/**
 * Drop-in `timers/promises`: `setTimeout(delay, value, { signal, ref })` and
 * the `setInterval(delay, value, { signal, ref })` async iterator, with Node's
 * signatures, validation order and errors. As in Node, both are made of the
 * callback timers (src/high/timers.ts), so they share their schedule: timers
 * of either kind run in deadline order.
 *
 * The interval keeps tick k at `t0 + k * delay` (t0: the first `next()`, when
 * Node starts its timer too) on CLOCK_MONOTONIC. Each step yields `value`, as
 * Node's does; the ticks that passed since the previous step are counted on the
 * iterator (`expirations`, `overrun`, `missed`) instead of being yielded in a
 * burst: Node's iterator queues one value per firing while the consumer is busy
 * and then yields them back to back, which replays work the consumer was too
 * slow for in the first place, with no way to tell a fresh tick from a stale one.
 */
import { setImmediate as nodeSetImmediate } from 'node:timers/promises';
import { illegalConstructor, invalidArgType, invalidThis } from '../core/errors';
import { abortError, validateAbortSignal, validateBoolean } from '../core/validate';
import { Timeout, timerDuration } from './timers';

/** As Node's `TimerOptions`. */
export interface TimerOptions {
  /** Cancels the timer: the promise (or the pending `next()`) rejects with an `AbortError`. */
  signal?: AbortSignal | undefined;
  /** `false`: the pending timer does not keep the process alive. Default `true`. */
  ref?: boolean | undefined;
}

/** Node's argument checks, in Node's order; returns the options' parts. */
function validateTimerArgs(delay: unknown, options: unknown): { signal: AbortSignal | undefined; ref: boolean } {
  if (delay !== undefined && typeof delay !== 'number') throw invalidArgType('delay', 'of type number', delay);
  if (options === undefined) return { signal: undefined, ref: true };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType('options', 'of type object', options);
  }
  const { signal, ref } = options as TimerOptions;
  return {
    signal: validateAbortSignal(signal, 'options.signal'),
    ref: ref === undefined ? true : validateBoolean(ref, 'options.ref'),
  };
}

/**
 * Resolves with `value` after `delay` ms (Node's coercion; fractions kept to the
 * nanosecond). Bad arguments reject, as in Node; they never throw.
 */
export function setTimeout<T = void>(delay?: number, value?: T, options?: TimerOptions): Promise<T> {
  let signal: AbortSignal | undefined;
  let ref: boolean;
  try {
    ({ signal, ref } = validateTimerArgs(delay, options));
  } catch (err) {
    return Promise.reject(err);
  }
  if (signal?.aborted) return Promise.reject(abortError(signal));
  const s = signal;
  let onAbort: (() => void) | undefined;
  const promise = new Promise<T>((resolve, reject) => {
    const timeout = new Timeout(() => resolve(value as T), timerDuration(delay), [], false, ref);
    if (s === undefined) return;
    onAbort = () => {
      timeout.close();
      reject(abortError(s));
    };
    s.addEventListener('abort', onAbort, { once: true });
  });
  const listener = onAbort;
  if (s === undefined || listener === undefined) return promise;
  return promise.finally(() => s.removeEventListener('abort', listener));
}

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(err: unknown): void;
}

/**
 * What `setInterval()` returns: an async iterator that yields `value` once per
 * step, with the kernel's tick counts alongside. Ends only through `return()`
 * (a `break` out of `for await`), `throw()`, or the signal (an `AbortError`,
 * after one more step when ticks fired since the last one).
 */
export class IntervalIterator<T = void> implements AsyncIteratorObject<T, undefined, unknown> {
  readonly #delay: unknown;
  readonly #value: T;
  readonly #options: unknown;
  #state: 'new' | 'running' | 'done' = 'new';
  #timeout: Timeout | null = null;
  #origin: bigint | undefined;
  #signal: AbortSignal | undefined;
  /** Set when the signal fired with no `next()` waiting: the next one rejects with it. */
  #abortError: Error | null = null;
  #waiters: Waiter<T>[] = [];
  /** Expirations counted that no step has accounted for yet. */
  #unstepped = 0;
  #expirations = 0;
  #overrun = 0;
  #missed = 0;
  readonly #onTick = (): void => {
    // The interval runs whether or not anyone waits (as Node's does): a ref'ed one
    // keeps holding the loop open while the consumer is busy elsewhere.
    const n = (this.#timeout as Timeout).overrun + 1;
    this.#expirations += n;
    this.#unstepped += n;
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(this.#step());
  };
  readonly #onAbort = (): void => this.#abort();

  /** Not for users: `setInterval()` makes these. */
  constructor(delay: unknown, value: T, options: unknown) {
    this.#delay = delay;
    this.#value = value;
    this.#options = options;
  }

  /**
   * The origin of the grid (CLOCK_MONOTONIC ns, as `process.hrtime.bigint()`),
   * set by the first `next()`: tick k is due at `start + k * delay`. Undefined
   * before that.
   */
  get start(): bigint | undefined {
    return this.#origin;
  }

  /** How many periods have passed on the grid so far, as the kernel counted them. */
  get expirations(): number {
    return this.#expirations;
  }

  /** The ticks missed before the latest step: periods that passed since the previous step, minus one. */
  get overrun(): number {
    return this.#overrun;
  }

  /** The ticks that got no step of their own, in all: `expirations` minus the steps (once counted). */
  get missed(): number {
    return this.#missed;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#state === 'new') {
      try {
        this.#start();
      } catch (err) {
        this.#finish();
        return Promise.reject(err);
      }
    }
    if (this.#state === 'done') {
      // The ticks that fired before an abort are still a step, as Node's
      // iterator still yields them before its AbortError.
      if (this.#unstepped > 0) return Promise.resolve(this.#step());
      const err = this.#abortError;
      if (err === null) return Promise.resolve({ value: undefined, done: true });
      this.#abortError = null;
      return Promise.reject(err);
    }
    if (this.#unstepped > 0) return Promise.resolve(this.#step());
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops the timer and ends the iteration (what `break` in `for await` calls). */
  return(value?: undefined | PromiseLike<undefined>): Promise<IteratorResult<T, undefined>> {
    this.#end();
    return Promise.resolve(value).then((v) => ({ value: v, done: true }));
  }

  /** Stops the timer, ends the iteration and rejects with `err` (as a generator's `throw()` before its body runs). */
  throw(err?: unknown): Promise<IteratorResult<T, undefined>> {
    this.#end();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  // ---- internals ----

  #start(): void {
    const { signal, ref } = validateTimerArgs(this.#delay, this.#options);
    if (signal?.aborted) throw abortError(signal);
    this.#timeout = new Timeout(this.#onTick, timerDuration(this.#delay), [], true, ref);
    this.#origin = this.#timeout.start;
    if (signal) {
      this.#signal = signal;
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    this.#state = 'running';
  }

  #step(): IteratorResult<T, undefined> {
    const n = this.#unstepped;
    this.#unstepped = 0;
    this.#overrun = n - 1;
    this.#missed += n - 1;
    return { value: this.#value, done: false };
  }

  #abort(): void {
    const signal = this.#signal as AbortSignal;
    const waiters = this.#waiters;
    this.#finish();
    const err = abortError(signal);
    if (waiters.length === 0) this.#abortError = err;
    else waiters[0]?.reject(err);
    for (const w of waiters.slice(1)) w.resolve({ value: undefined, done: true });
  }

  /** Ends the iteration; `next()`s still waiting finish with `done: true`. */
  #end(): void {
    const waiters = this.#waiters;
    this.#finish();
    this.#unstepped = 0;
    this.#abortError = null;
    for (const w of waiters) w.resolve({ value: undefined, done: true });
  }

  #finish(): void {
    this.#state = 'done';
    this.#waiters = [];
    this.#timeout?.close();
    this.#timeout = null;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#signal = undefined;
  }
}

/**
 * An async iterator that yields `value` every `delay` ms on a fixed grid; see
 * `IntervalIterator` for how missed ticks are reported. As in Node, nothing
 * (not even argument validation) happens before the first `next()`.
 */
export function setInterval<T = void>(delay?: number, value?: T, options?: TimerOptions): IntervalIterator<T> {
  return new IntervalIterator<T>(delay, value as T, options);
}

let makingScheduler = false;

/**
 * As Node's `timers/promises` `scheduler` (experimental there) and its class:
 * `wait()` on the timers here, `yield()` is Node's. As Node's, the class makes
 * no other instance, and its methods need the scheduler as `this`.
 */
export class Scheduler {
  constructor() {
    if (!makingScheduler) throw illegalConstructor();
  }

  /** `setTimeout(delay, undefined, options)`. */
  wait(delay: number, options?: TimerOptions): Promise<void> {
    if (this !== scheduler) throw invalidThis('Scheduler');
    return setTimeout(delay, undefined, options);
  }

  /** Resolves after the I/O phase of this loop turn (Node's `setImmediate()`). */
  yield(): Promise<void> {
    if (this !== scheduler) throw invalidThis('Scheduler');
    return nodeSetImmediate();
  }
}

makingScheduler = true;
export const scheduler = new Scheduler();
makingScheduler = false;
