/**
 * The consumer side every event source shares (`FdSource`, and `Watcher`,
 * which owns no fd): the queue of events read and not yet consumed, the
 * waiting reads and `next()`s, async iteration with `AbortSignal`, the count
 * of `'event'` listeners, and the dispatch of a batch to all of them.
 *
 * A subclass fills the queue (`queue`, from `head` on) and calls `dispatch()`;
 * it hears through `consumersChanged()` when a consumer comes or may have
 * gone, to read only while someone consumes.
 */
import { EventEmitter } from 'node:events';
import { abortError, validateSignalOptions } from './validate';

/** Options for `read()` and `events()`. */
export interface ReadOptions {
  /** Cancels the read (or the iteration) with an `AbortError`. */
  signal?: AbortSignal;
}

/** Events every source emits: `'event'` (one per event), `'error'`, `'close'`. */
export interface SourceEvents<T> {
  event: [event: T];
  error: [error: Error];
  close: [];
  newListener: [event: string | symbol, listener: (...args: unknown[]) => void];
  removeListener: [event: string | symbol, listener: (...args: unknown[]) => void];
}

export interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
  /** For an iterator's next(): resolves `{ done: true }` at close. */
  end?: () => void;
}

const noop = (): void => {};
/** For deferring by a microtask: queueMicrotask makes an AsyncResource per call. */
const resolved = Promise.resolve();

export abstract class EventPump<T> extends EventEmitter {
  /** Events read and not yet consumed are `queue[head..]`; the array is reused. */
  protected queue: T[] = [];
  protected head = 0;
  protected waiters: Waiter<T>[] = [];
  /** How many `'event'` listeners there are. */
  protected listening = 0;
  #dispatchQueued = false;
  readonly #runQueuedDispatch = (): void => {
    this.#dispatchQueued = false;
    if (!this.closed) this.dispatch();
  };
  readonly #onNewListener = (name: string | symbol): void => {
    if (name === 'event') {
      this.listening++;
      this.consumersChanged(true);
      // Events read while nobody consumed (read ahead) wake nothing again: the
      // newcomer gets them on the next turn, once it is in the listener list.
      this.#queueDispatch();
    }
  };
  readonly #onRemoveListener = (name: string | symbol): void => {
    if (name === 'event') {
      this.listening--;
      this.consumersChanged(false);
    }
  };

  protected constructor(emitterOptions?: { captureRejections?: boolean }) {
    super(emitterOptions);
    this.on('newListener', this.#onNewListener);
    this.on('removeListener', this.#onRemoveListener);
  }

  /** Whether `close()` has been called. */
  abstract get closed(): boolean;

  /**
   * A consumer came (`true`: start reading now) or may have gone (`false`: a
   * consumer that comes straight back should cost nothing, so act later).
   */
  protected abstract consumersChanged(came: boolean): void;

  /** Emits one event to the 'event' listeners; a subclass may wrap it (to act on a listener's throw). */
  protected emitEvent(event: T): void {
    this.emit('event', event);
  }

  /**
   * Async iteration over events, ending when the object is closed or at
   * `return()` (the `next()`s still waiting then resolve done). With a
   * `signal`, aborting rejects the pending `next()`s with an `AbortError` and
   * ends the iteration.
   */
  events(options?: ReadOptions): AsyncIterableIterator<T> {
    const signal = validateSignalOptions(options);
    let done = false;
    // A next() that waits costs its promise and its result, nothing more: the
    // iteration has one waiter, in `waiters` once for each pending next(), and
    // keeps the pending next()s' promise functions, oldest first.
    let resolveNext: ((result: IteratorResult<T>) => void) | null = null;
    let rejectNext: (err: unknown) => void = noop;
    /** The promise functions of the next()s pending behind the oldest (called without awaiting). */
    const later: [(result: IteratorResult<T>) => void, (err: unknown) => void][] = [];
    const capture = (resolve: (result: IteratorResult<T>) => void, reject: (err: unknown) => void): void => {
      if (resolveNext === null) {
        resolveNext = resolve;
        rejectNext = reject;
      } else later.push([resolve, reject]);
    };
    /** Settles the oldest pending next() with its resolve (0) or reject (1). */
    const settle = (which: 0 | 1, arg: unknown): void => {
      const settleNext = which === 0 ? resolveNext! : rejectNext;
      if (later.length === 0) {
        resolveNext = null;
        rejectNext = noop;
      } else {
        [resolveNext, rejectNext] = later.shift()!;
      }
      settleNext(arg as never);
      // After settling, so that the consumer's reaction runs first and can come back.
      if (signal && resolveNext === null && !unwatchQueued) {
        unwatchQueued = true;
        resolved.then(unwatchIfIdle);
      }
    };
    const waiter: Waiter<T> = {
      resolve: (value) => settle(0, { value, done: false }),
      reject: (err) => {
        done = true;
        settle(1, err);
      },
      end: () => {
        done = true;
        settle(0, { value: undefined, done: true });
      },
    };
    // The abort listener stays while next()s follow one another: it is taken
    // off a microtask after the last one settles if no other came, since adding
    // and removing it costs more than the rest of a next().
    let watchingAbort = false;
    let unwatchQueued = false;
    const onAbort = (): void => {
      while (resolveNext !== null && this.forget(waiter)) waiter.reject(abortError(signal!));
    };
    const unwatchIfIdle = (): void => {
      unwatchQueued = false;
      if (resolveNext !== null || !watchingAbort) return;
      watchingAbort = false;
      signal!.removeEventListener('abort', onAbort);
    };
    const it: AsyncIterableIterator<T> = {
      next: () => {
        if (done || this.closed) return it.return!();
        if (signal?.aborted) {
          void it.return!();
          return Promise.reject(abortError(signal));
        }
        if (this.head < this.queue.length) return Promise.resolve({ value: this.shift(), done: false });
        if (signal && !watchingAbort) {
          watchingAbort = true;
          signal.addEventListener('abort', onAbort);
        }
        const promise = new Promise<IteratorResult<T>>(capture);
        this.wait(waiter, undefined);
        return promise;
      },
      return: () => {
        done = true;
        // A next() left waiting would take an event from the other consumers, for nobody.
        while (resolveNext !== null && this.forget(waiter)) waiter.end!();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this.events();
  }

  /** As EventEmitter's, but this object's own bookkeeping of 'event' listeners survives it. */
  override removeAllListeners(...args: [event?: string | symbol]): this {
    // Node's takes every 'newListener'/'removeListener' listener, this class's too; its own count comes from them.
    super.removeAllListeners(...args);
    if (!this.rawListeners('newListener').includes(this.#onNewListener)) this.on('newListener', this.#onNewListener);
    if (!this.rawListeners('removeListener').includes(this.#onRemoveListener)) this.on('removeListener', this.#onRemoveListener);
    this.listening = this.listenerCount('event');
    this.consumersChanged(false);
    return this;
  }

  /** Takes the event at the head of the queue (there must be one). */
  protected shift(): T {
    const value = this.queue[this.head] as T;
    (this.queue as (T | undefined)[])[this.head++] = undefined;
    if (this.head === this.queue.length) {
      // pop(), not `length = 0`: V8 sets an array's length in a runtime call (~40 ns an event).
      while (this.queue.length > 0) this.queue.pop();
      this.head = 0;
    }
    return value;
  }

  /** Queues a waiter for the next event; aborting `signal` rejects it with an `AbortError`. */
  protected wait(waiter: Waiter<T>, signal: AbortSignal | undefined): void {
    if (signal) {
      const onAbort = (): void => {
        if (!this.forget(waiter)) return;
        waiter.reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const { resolve, reject, end } = waiter;
      const detach = (): void => signal.removeEventListener('abort', onAbort);
      waiter.resolve = (v) => (detach(), resolve(v));
      waiter.reject = (e) => (detach(), reject(e));
      if (end) waiter.end = () => (detach(), end());
    }
    this.waiters.push(waiter);
    this.consumersChanged(true);
  }

  /** Removes a waiter that has not been served; false if it is gone already. */
  protected forget(waiter: Waiter<T>): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    this.consumersChanged(false);
    return true;
  }

  /**
   * Delivers the queue: each event to the next waiter and to every 'event'
   * listener; what no one consumes stays queued. A listener's throw is the
   * listener's to surface (uncaughtException, as from a socket): it is
   * rethrown, the rest of the batch delivered on the next turn, since nothing
   * else would wake the pump again for events already read.
   */
  protected dispatch(): void {
    while (this.head < this.queue.length) {
      const listening = this.listening > 0;
      if (!listening && this.waiters.length === 0) break;
      const event = this.shift();
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(event);
      if (listening) {
        try {
          this.emitEvent(event);
        } catch (err) {
          this.#queueDispatch();
          throw err;
        }
      }
      if (this.closed) return; // a consumer closed us
    }
    // With a listener nothing changes; only the last waiter served can.
    if (this.listening === 0 && this.waiters.length === 0) this.consumersChanged(false);
  }

  #queueDispatch(): void {
    if (this.#dispatchQueued || this.head === this.queue.length) return;
    this.#dispatchQueued = true;
    setImmediate(this.#runQueuedDispatch);
  }

  /** Rejects the pending reads with `err`, and emits it to 'error' listeners, or as 'error' if anyone listens for events. */
  protected report(err: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
    if (this.listening > 0 || this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * At close: empties the queue and ends the iterations; a subclass that has
   * `read()` passes what its pending reads reject with.
   */
  protected closeQueue(readError?: () => Error): void {
    this.queue.length = this.head = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (w.end) w.end();
      else w.reject(readError!());
    }
  }
}

export interface EventPump<T> {
  on<K extends keyof SourceEvents<T>>(event: K, listener: (...args: SourceEvents<T>[K]) => void): this;
  once<K extends keyof SourceEvents<T>>(event: K, listener: (...args: SourceEvents<T>[K]) => void): this;
  off<K extends keyof SourceEvents<T>>(event: K, listener: (...args: SourceEvents<T>[K]) => void): this;
  addListener<K extends keyof SourceEvents<T>>(event: K, listener: (...args: SourceEvents<T>[K]) => void): this;
  removeListener<K extends keyof SourceEvents<T>>(event: K, listener: (...args: SourceEvents<T>[K]) => void): this;
  emit<K extends keyof SourceEvents<T>>(event: K, ...args: SourceEvents<T>[K]): boolean;
}
