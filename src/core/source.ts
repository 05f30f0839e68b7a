/**
 * The base of every event-like object that owns an fd (EventFd, TimerFd,
 * SignalFd, Inotify, Fanotify, the helper's channel).
 *
 * A subclass supplies one thing: `readBatch(out)`, which reads what the kernel
 * has ready without blocking and appends the parsed events. This class does the
 * rest: ownership (close exactly once, EBADF after close, never touching a
 * reused fd number), ref/unref, the native watch, the sync reads and `read()`;
 * its base, `EventPump`, does the queue, async iteration, AbortSignal and
 * 'event' listeners.
 *
 * Readiness is watched only while someone consumes (a pending read or next(),
 * or an 'event' listener): an idle object costs nothing, and the kernel queue is
 * the backpressure. When the last consumer goes away the watch is kept until the
 * fd next becomes ready (and then dropped), so a `for await` loop does not pay
 * two epoll_ctl calls per event; the loop is released at once all the same.
 */
import { AbortError, sysError, type SystemError, EAGAIN, EBADF, EFAULT, EINVAL } from './errors';
import { native, type NativeHandle } from './native';
import { EventPump, type ReadOptions, type SourceEvents } from './pump';
import { abortError, validateSignalOptions } from './validate';

export type { ReadOptions } from './pump';

/**
 * Read errors that say the fd or the buffer is unusable, so reading again
 * would fail the same way. Any other error is one read's (fanotify's EMFILE
 * when it cannot open an event's fd, ENOMEM, EINTR, ...): it is reported and
 * reading goes on.
 */
const FATAL_READ_ERRORS = new Set([EBADF, EFAULT, EINVAL]);
/** Reading after a failed read resumes after this long, doubled per failure in a row up to the maximum. */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 512;
const resolved = Promise.resolve();
/** How many events one `readEvents()` call gathers at most (it may return a batch more). */
export const READ_EVENTS_MAX = 4096;

/** Events every source emits: `'event'` (one per event), `'error'`, `'close'`. */
export type FdSourceEvents<T> = SourceEvents<T>;

export abstract class FdSource<T> extends EventPump<T> {
  #handle: NativeHandle | null = null;
  #fd = -1;
  #eager = false;
  #coalesceMs = 0;
  /** While set, reading is paused after a busy wake; the timer resumes it. */
  #pause: NodeJS.Timeout | null = null;
  readonly #resume = (): void => {
    this.#pause = null;
    this.#update();
  };
  #ref = true;
  #events = 0;
  #flags = 0;
  #updateQueued = false;
  readonly #runQueuedUpdate = (): void => {
    this.#updateQueued = false;
    this.#update();
  };
  /** The pause after the last failed read, 0 after a read that succeeded. */
  #retryMs = 0;

  /** The syscall named in errors from reading (`'read'`). */
  protected readonly readSyscall: string = 'read';

  /**
   * `open(handle)` makes the fd with a native creating call that hands it to
   * `handle` in the same call (so nothing, not even a Worker's termination, can
   * come between the fd's creation and its owner), and returns it or `-errno`.
   * On failure this throws `sysError(errno, syscall)`, or what `syscall(errno)`
   * makes when it is a function (for errors worth a more telling message).
   */
  protected constructor(
    open: (handle: NativeHandle) => number,
    syscall: string | ((errno: number) => Error),
    emitterOptions?: { captureRejections?: boolean },
  ) {
    super(emitterOptions);
    // The native side holds this callback weakly while idle; this object keeps it alive.
    const handle = native.handleNew(this.#onReady);
    const fd = open(handle);
    if (fd < 0) {
      native.handleClose(handle);
      throw typeof syscall === 'string' ? sysError(-fd, syscall) : syscall(-fd);
    }
    this.#handle = handle;
    this.#fd = fd;
  }

  /**
   * Reads what is ready without blocking and appends the events to `out`.
   * Returns how many it appended (0 when nothing is ready), or `-errno`.
   * `ready`, on a wake of a source that called `readOnWake(buffer)`, is what
   * the native side read into that buffer already (bytes, or `-errno`): the
   * batch's first read, not to be made again.
   */
  protected abstract readBatch(out: T[], ready?: number): number;

  /**
   * The short way for a wake whose bytes the native side read already (see
   * `readOnWake`) when only `'event'` listeners consume and nothing is queued:
   * parse and `emitEvent()` at once, skipping the queue. Returns false, having
   * changed nothing, to take the general way (`readBatch(queue, bytes)` and
   * dispatch) instead. The default always does.
   */
  protected emitReady(_bytes: number): boolean {
    return false;
  }

  /**
   * Has the native side read each readable wake into `buffer` before calling
   * back (while someone consumes; a drain's next chunk, or the fd), and pass the
   * result to `readBatch` as `ready`: one call into C per wake instead of two.
   * With `decoded`, every read through the handle also fills it with the
   * decoding the family registered with the handle's fd (see
   * `native.handleSetBuffer`).
   */
  protected readOnWake(buffer: Uint8Array, decoded?: unknown[]): void {
    native.handleSetBuffer(this.handle, buffer, decoded);
  }

  /**
   * Reads the fd whenever it is ready, consumers or not, into the queue (for
   * events that must be seen promptly, such as permission events with a
   * deadline). The queue then grows while nobody consumes.
   */
  protected readAhead(): void {
    this.#eager = true;
    this.#update();
  }

  /**
   * After a wake that brought more than one event, reads again only `ms`
   * milliseconds later: under a burst each wake then carries a batch, instead
   * of a wake (and an epoll_wait, a read and a JS callback) every event or two.
   * A lone event is still delivered at once. 0 (the default) reads on every wake.
   */
  protected coalesce(ms: number): void {
    this.#coalesceMs = ms;
  }

  /** The file descriptor, or -1 once closed (as `FileHandle.fd`). */
  get fd(): number {
    return this.#fd;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#handle === null;
  }

  /** The native handle, for subclasses' reads through it (drains); EBADF once closed. */
  protected get handle(): NativeHandle {
    if (this.#handle === null) throw sysError(EBADF, this.readSyscall);
    return this.#handle;
  }

  /** Throws the EBADF error a closed object gives; for subclasses' own methods. */
  protected assertOpen(syscall: string): void {
    if (this.#handle === null) throw sysError(EBADF, syscall);
  }

  /** The next event if one is ready, else `null`. Never blocks. */
  readEvent(): T | null {
    this.assertOpen(this.readSyscall);
    if (this.head === this.queue.length) this.#fill();
    return this.head < this.queue.length ? this.shift() : null;
  }

  /**
   * Every event ready now (possibly none), up to `READ_EVENTS_MAX` per call so
   * that a source that never runs dry (a semaphore with a huge count) cannot
   * hold the thread. Never blocks.
   */
  readEvents(): T[] {
    this.assertOpen(this.readSyscall);
    const out = this.queue.slice(this.head);
    this.queue.length = this.head = 0;
    while (out.length < READ_EVENTS_MAX && this.#checked(this.readBatch(out)) > 0);
    return out;
  }

  /** Resolves with the next event. Rejects with EBADF if the object is closed first. */
  read(options?: ReadOptions): Promise<T> {
    let signal: AbortSignal | undefined;
    try {
      signal = validateSignalOptions(options);
      this.assertOpen(this.readSyscall);
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.head < this.queue.length) return Promise.resolve(this.shift());
    return new Promise<T>((resolve, reject) => this.wait({ resolve, reject }, signal));
  }

  /** Lets the process exit while this object waits for events (as `timer.unref()`). */
  unref(): this {
    this.#ref = false;
    this.#pause?.unref();
    this.#update();
    return this;
  }

  /** Undoes `unref()`: waiting for events keeps the process alive again (the default). */
  ref(): this {
    this.#ref = true;
    if (this.waiters.length > 0 || this.listening > 0) this.#pause?.ref();
    this.#update();
    return this;
  }

  hasRef(): boolean {
    return this.#ref;
  }

  /**
   * Closes the fd (once; later calls do nothing). Pending `read()`s reject with
   * EBADF, iterations end, and `'close'` is emitted.
   */
  close(): void {
    const handle = this.#handle;
    if (handle === null) return;
    this.#handle = null;
    this.#fd = -1;
    if (this.#pause !== null) clearTimeout(this.#pause);
    this.#pause = null;
    const result = native.handleClose(handle);
    this.closeQueue(() => sysError(EBADF, this.readSyscall));
    process.nextTick(() => this.emit('close'));
    if (result < 0) throw sysError(-result, 'close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  // ---- internals ----

  #checked(result: number): number {
    if (result < 0) throw sysError(-result, this.readSyscall);
    return result;
  }

  #fill(): void {
    this.#checked(this.readBatch(this.queue));
  }

  protected consumersChanged(came: boolean): void {
    if (came) this.#update();
    else this.#queueUpdate();
  }

  /** Brings the native watch in line with who is consuming. */
  #update(): void {
    const handle = this.#handle;
    if (handle === null || this.#pause !== null) return; // paused: the resume timer updates

    let events = this.#events;
    let flags = 0;
    const consumed = this.waiters.length > 0 || this.listening > 0;
    if (consumed || this.#eager) {
      events = native.READABLE;
      // Reading ahead alone does not keep the process alive: only a consumer does.
      flags = native.KEEP_CALLBACK | (this.#ref && consumed ? native.KEEP_LOOP : 0);
    }
    if (events === this.#events && flags === this.#flags) return;
    const result = native.handleSet(handle, events, flags);
    if (result < 0) {
      this.#fail(sysError(-result, 'epoll_ctl'));
      return;
    }
    this.#events = events;
    this.#flags = flags;
  }

  /** Defers an update by a microtask, so a consumer that comes straight back costs nothing. */
  #queueUpdate(): void {
    if (this.#updateQueued) return;
    this.#updateQueued = true;
    // A resolved promise, not queueMicrotask: that one makes an AsyncResource per call.
    resolved.then(this.#runQueuedUpdate);
  }

  #stopWatching(): void {
    if (this.#handle === null || this.#events === 0) return;
    native.handleSet(this.#handle, 0, 0);
    this.#events = this.#flags = 0;
  }

  /** The wake callback: an arrow, so the native side calls it directly (one JS call per wake). */
  readonly #onReady = (status: number, _events: number, ready?: number): void => {
    if (this.#handle === null) return;
    if (status < 0) {
      this.#fail(sysError(-status, 'epoll_wait'));
      return;
    }
    if (ready !== undefined && ready > 0 && this.listening > 0 && this.waiters.length === 0 && this.head === this.queue.length && this.emitReady(ready)) return;
    if (this.waiters.length === 0 && this.listening === 0 && !this.#eager) {
      // Read already (the native side reads only while someone consumes, so
      // hardly ever here): queue it rather than lose it.
      if (ready !== undefined && ready > 0) this.readBatch(this.queue, ready);
      this.#stopWatching();
      return;
    }
    // One drain per wake: the waiters queue is empty whenever someone waits.
    const result = this.readBatch(this.queue, ready);
    if (result < 0) {
      if (result !== -EAGAIN) this.#readFailed(-result);
      return;
    }
    this.#retryMs = 0;
    this.dispatch();
    if (result > 1 && this.#coalesceMs > 0 && this.#handle !== null && this.#pause === null) this.#pauseReading(this.#coalesceMs);
  };

  /** A failed read on a wake: reported, and unless the fd is unusable, reading resumes after a pause that grows while reads keep failing. */
  #readFailed(errno: number): void {
    const err = sysError(errno, this.readSyscall);
    if (FATAL_READ_ERRORS.has(errno)) {
      this.#fail(err);
      return;
    }
    this.#retryMs = Math.min(2 * this.#retryMs || RETRY_MIN_MS, RETRY_MAX_MS);
    this.#pauseReading(this.#retryMs); // first: the report may throw (an 'error' nobody listens to)
    this.report(err);
  }

  #pauseReading(ms: number): void {
    const consumed = this.waiters.length > 0 || this.listening > 0;
    this.#stopWatching();
    if (this.#pause !== null) clearTimeout(this.#pause);
    this.#pause = setTimeout(this.#resume, ms);
    // The timer stands in for the watch: it keeps the process alive only as the watch would have.
    if (!(this.#ref && consumed)) this.#pause.unref();
  }

  #fail(err: SystemError | AbortError): void {
    this.#stopWatching();
    this.report(err);
  }
}
