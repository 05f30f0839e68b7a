/**
 * Drop-in `setTimeout`/`setInterval`: Node's signatures and semantics, with a
 * TimerFd under each timer instead of Node's millisecond timer lists.
 *
 * Why each timer gets its own kernel timer on an absolute grid: Node re-arms an
 * interval from the time its callback ran, so every late wake moves all later
 * ticks (a 1 ms interval drifts hundreds of ms in 5 s), and the ticks a busy
 * loop missed are simply gone. A timerfd armed with an absolute first deadline
 * and a period keeps tick k at `t0 + k * delay` on CLOCK_MONOTONIC however late
 * it is read, and its read returns how many ticks passed since the last one.
 *
 * What a late wake does with that count: the callback runs once, and the count
 * is on the Timeout (`expirations`, `overrun`, `missed`). We never call it again
 * to catch up: a burst of back-to-back calls would run the work at the moment
 * the process can least afford it (it was late because it was busy), each call
 * would see nearly the same clock, and code written for Node's timers assumes
 * one call per wake. Code that needs every tick reads `this.overrun`.
 *
 * Why there is also a schedule in JS: every timer's fd wakes the loop on its
 * own, and ready fds are not always handed over in deadline order (libuv adds an
 * fd to its epoll set on the next loop turn, and timers that expired before that
 * come back in the order they were added). Node runs due timers earliest first,
 * so a wake runs the earliest timer due, whichever fd woke (reading that timer's
 * fd itself; its own wake then finds nothing to read). One timer per wake, so
 * that promise reactions and nextTicks run between two timers' callbacks as in
 * Node; when more are due and their wakes were already used, an immediate goes on.
 */
import { AsyncResource } from 'node:async_hooks';
import * as nodeTimers from 'node:timers';
import { deprecate, inspect } from 'node:util';
import { check, invalidArgType, outOfRange } from '../core/errors';
import { native } from '../core/native';
import { CLOCK_MONOTONIC } from '../raw/timerfd';
import { TimerFd, type TimerFdEvent } from './timerfd';

/** The longest delay Node's timers take (2^31 - 1 ms, about 24.8 days); longer ones become 1 ms. */
export const TIMEOUT_MAX = 2 ** 31 - 1;

/**
 * Node's delay coercion, kept exactly so that switching changes no timing
 * decision: `delay * 1` (so `'5'` is 5 and a bigint or symbol throws the
 * TypeError Node throws), then anything not in 1..TIMEOUT_MAX is 1 ms, with
 * Node's TimeoutOverflowWarning when it was too large. Fractions are kept.
 */
export function timerDuration(delay: unknown): number {
  let after = (delay as number) * 1;
  if (!(after >= 1 && after <= TIMEOUT_MAX)) {
    if (after > TIMEOUT_MAX) {
      process.emitWarning(`${after} does not fit into a 32-bit signed integer.\nTimeout duration was set to 1.`, 'TimeoutOverflowWarning');
    }
    after = 1;
  }
  return after;
}

/** CLOCK_MONOTONIC in nanoseconds: the clock of every grid here, and of the kernel's deadlines. */
function monotonicNow(): bigint {
  const r = native.timerfd.clockGettime(CLOCK_MONOTONIC);
  if (typeof r === 'number') check(r, 'clock_gettime');
  return r as bigint;
}

/** A timer callback; `this` is the Timeout, as with Node's timers. */
export type TimerCallback<TArgs extends unknown[] = unknown[]> = (this: Timeout, ...args: TArgs) => void;

type AnyCallback = (this: Timeout, ...args: unknown[]) => unknown;

/**
 * What `+timeout` gives, so a number or string can stand for the timer in
 * `clearTimeout` (as in Node and browsers). Ids are async ids, drawn from the
 * same counter as Node's own timers, so they never collide with Node's.
 */
const knownTimersById = new Map<string, Timeout>();

// Set by Timeout's static block: what the functions below do to one of our
// Timeouts (false when `value` is not one).
let clearOwn: (value: unknown) => boolean;
let enrollOwn: (value: unknown, msecs: number) => boolean;
let unenrollOwn: (value: unknown) => boolean;
let activateOwn: (value: unknown, ref: boolean) => boolean;

/** A timer of Node's own, made and cleared at the first need. */
let nodeCleared: NodeJS.Timeout | undefined;

function clearedNodeTimer(): NodeJS.Timeout {
  if (nodeCleared === undefined) {
    nodeCleared = nodeTimers.setTimeout(() => {}, 0);
    nodeTimers.clearTimeout(nodeCleared);
  }
  return nodeCleared;
}

/**
 * A Timeout method called with a `this` that is not one of ours is Node's
 * method, so it does exactly what Node's does with that `this`
 * (`t.unref.call({})` returns the object, `t.hasRef.call(1)` undefined, ...).
 */
function callNodeMethod(name: PropertyKey, self: unknown, args: unknown[] = []): unknown {
  const method = (Object.getPrototypeOf(clearedNodeTimer()) as Record<PropertyKey, (...args: unknown[]) => unknown>)[name];
  return Reflect.apply(method as (...args: unknown[]) => unknown, self, args);
}

/** What Node's own clearTimeout() leaves in `_onTimeout`: null up to Node 22, undefined from Node 24. */
function clearedCallback(): null | undefined {
  return (clearedNodeTimer() as unknown as { _onTimeout: unknown })._onTimeout === undefined ? undefined : null;
}

/**
 * Runs `fn` outside any domain. What the timers make after a callback threw
 * (the nextTick of a TimerFd's close, an immediate that goes on serving) is
 * made while the callback's domain is still entered: such a resource would
 * re-enter that domain when it runs, and its exit would leave `process.domain`
 * `undefined` where Node's error handling left it `null`.
 */
function outsideDomain(fn: () => void): void {
  const proc = process as { domain?: unknown };
  const domain = proc.domain;
  if (domain === null || domain === undefined) return fn();
  proc.domain = null;
  try {
    fn();
  } finally {
    proc.domain = domain;
  }
}

// ---- the schedule: every armed timer's next unserved tick, earliest first ----

interface Entry {
  /** When the tick is due (CLOCK_MONOTONIC ns): exactly the kernel's deadline for it. */
  due: bigint;
  /** Arming order: equal deadlines run in the order their timers were set, as in Node. */
  seq: number;
  /** Position in the heap (-1: not in it), for O(log n) removal when a timer is cleared. */
  index: number;
  readonly timeout: Timeout;
}

let nextSeq = 0;
/** A binary min-heap on (due, seq). */
const heap: Entry[] = [];

function earlier(a: Entry, b: Entry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

function place(e: Entry, i: number): void {
  heap[i] = e;
  e.index = i;
}

function siftUp(e: Entry, i: number): void {
  while (i > 0) {
    const up = (i - 1) >> 1;
    const parent = heap[up] as Entry;
    if (!earlier(e, parent)) break;
    place(parent, i);
    i = up;
  }
  place(e, i);
}

function siftDown(e: Entry, i: number): void {
  const n = heap.length;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && earlier(heap[child + 1] as Entry, heap[child] as Entry)) child++;
    const c = heap[child] as Entry;
    if (!earlier(c, e)) break;
    place(c, i);
    i = child;
  }
  place(e, i);
}

/** Adds `e` as armed now: after every entry with the same deadline already there. */
function schedule(e: Entry): void {
  e.seq = nextSeq++;
  heap.push(e);
  siftUp(e, heap.length - 1);
}

function unschedule(e: Entry): void {
  const i = e.index;
  if (i < 0) return;
  e.index = -1;
  const last = heap.pop() as Entry;
  if (last === e) return;
  if (i > 0 && earlier(last, heap[(i - 1) >> 1] as Entry)) siftUp(last, i);
  else siftDown(last, i);
}

/** An immediate is queued to go on serving timers due whose own wakes were spent. */
let continuing = false;

/**
 * The object `setTimeout()` and `setInterval()` return: Node's `Timeout`
 * (`ref`, `unref`, `hasRef`, `refresh`, `close`, `[Symbol.toPrimitive]`,
 * `[Symbol.dispose]`), plus the overrun counters.
 */
export class Timeout implements NodeJS.Timeout {
  #callback: AnyCallback | null;
  readonly #args: unknown[];
  /** Node's `_idleTimeout`: the delay of the next arming; -1 once cleared or unenrolled. */
  #idleTimeout: number;
  /** Node's `_repeat`: an interval's delay, null for a timeout. Read after each call, as Node does. */
  #repeatDelay: number | null;
  /** The period of the grid armed now; 0n for a one-shot. */
  #period = 0n;
  /** The `_repeat` the grid was armed with: a callback that changes `_repeat` gets a new grid. */
  #armedRepeat: number | null = null;
  #resource: AsyncResource;
  #timer: TimerFd | null = null;
  #ref = true;
  /** The next unserved tick while armed; null when nothing is armed. */
  #entry: Entry | null = null;
  /** The grid's origin (CLOCK_MONOTONIC ns): tick k is due at t0 + k * period. */
  #t0 = 0n;
  /** Ticks of the current grid served so far. */
  #ticks = 0;
  /** Expirations this timer's own wake read, not yet served (the schedule serves them in order). */
  #unserved = 0;
  /** Fired-and-done or cleared: the fd is closed and the id forgotten. */
  #destroyed = false;
  #primitive = false;
  #expirations = 0;
  #overrun = 0;
  #missed = 0;
  readonly #onEvent = (event: TimerFdEvent): void => {
    if (event.type !== 'expire' || this.#entry === null) return;
    this.#unserved += Number(event.expirations);
    Timeout.#runDue();
  };

  static {
    clearOwn = (value) => {
      if (!Timeout.#isOwn(value)) return false;
      value.#clear();
      return true;
    };
    enrollOwn = (value, msecs) => {
      if (!Timeout.#isOwn(value)) return false;
      if (value.#entry !== null) value.#unenroll();
      value.#idleTimeout = msecs;
      return true;
    };
    unenrollOwn = (value) => {
      if (!Timeout.#isOwn(value)) return false;
      value.#unenroll();
      return true;
    };
    activateOwn = (value, ref) => {
      if (!Timeout.#isOwn(value)) return false;
      value.#activate(ref);
      return true;
    };
  }

  static #isOwn(value: unknown): value is Timeout {
    return typeof value === 'object' && value !== null && #callback in value;
  }

  /** Not for users: the `setTimeout()`s and `setInterval()`s make these (`delay` already coerced). */
  constructor(callback: AnyCallback, delay: number, args: unknown[], repeat: boolean, ref = true) {
    this.#callback = callback;
    this.#ref = ref;
    this.#args = args;
    this.#idleTimeout = delay;
    this.#repeatDelay = repeat ? delay : null;
    this.#resource = new AsyncResource('Timeout', { requireManualDestroy: true });
    this.#arm();
  }

  /**
   * The origin of the timer's grid: CLOCK_MONOTONIC in nanoseconds (the clock of
   * `process.hrtime.bigint()`) when it was set or last refreshed. Tick k is due
   * at `start + k * delay` exactly; the kernel never fires before that.
   */
  get start(): bigint {
    return this.#t0;
  }

  /**
   * How many times the timer expired in all, as the kernel counted: for an
   * interval, how many periods have passed on its grid (since it was set, or
   * since the last `refresh()`, plus those before), whether or not the
   * callback could run for each of them.
   */
  get expirations(): number {
    return this.#expirations;
  }

  /**
   * The periods missed at the latest call: how many ticks of the grid passed,
   * beyond the one this call is for, since the previous call. `0` when the
   * call was on time (as `timer_getoverrun(2)` reports for POSIX timers).
   * Read it in the callback.
   */
  get overrun(): number {
    return this.#overrun;
  }

  /** The ticks that got no call of their own, in all: `expirations` minus the calls made. */
  get missed(): number {
    return this.#missed;
  }

  /**
   * Node's field, kept so that a Timeout is a `NodeJS.Timeout` for TypeScript
   * and so that Node's global `clearTimeout()` (which sets it to null, or
   * from Node 24 to undefined) clears this timer too: the callback, or once
   * cleared what Node's own leave there.
   */
  get _onTimeout(): (...args: unknown[]) => void {
    return (this.#callback ?? clearedCallback()) as (...args: unknown[]) => void;
  }

  set _onTimeout(value: unknown) {
    if (typeof value === 'function') this.#callback = value as AnyCallback;
    else if (value === null || value === undefined) this.#clear();
    else throw invalidArgType('_onTimeout', 'of type function', value);
  }

  /**
   * Node's field: the delay in ms (as coerced), -1 once cleared. Set to -1
   * inside the callback, it ends an interval after this call, as in Node.
   */
  get _idleTimeout(): number {
    return this.#idleTimeout;
  }

  set _idleTimeout(value: number) {
    this.#idleTimeout = value;
  }

  /**
   * Node's field: an interval's delay, null for a timeout. Set inside the
   * callback, it makes a timeout repeat (on a new grid from then) or, null,
   * ends an interval after this call, as in Node.
   */
  get _repeat(): number | null {
    return this.#repeatDelay;
  }

  set _repeat(value: unknown) {
    this.#repeatDelay = value ? timerDuration(value) : null;
  }

  /** Node's field: true once the timer fired (a timeout) or was cleared. */
  get _destroyed(): boolean {
    return this.#destroyed;
  }

  /** Written by Node's own timer functions given this timer: `true` is Node's `unenroll()`, so it stops the timer. */
  set _destroyed(value: unknown) {
    if (value === true) this.#unenroll();
  }

  /**
   * Starts the timer again from now with the same delay (an interval's grid
   * restarts at now). Re-arms a one-shot that already fired, as in Node; does
   * nothing once cleared.
   */
  refresh(): this {
    if (!Timeout.#isOwn(this)) return callNodeMethod('refresh', this) as this;
    this.#activate(this.#ref);
    return this;
  }

  /** Lets the process exit while only this timer is pending. */
  unref(): this {
    if (!Timeout.#isOwn(this)) return callNodeMethod('unref', this) as this;
    this.#ref = false;
    this.#timer?.unref();
    return this;
  }

  /** Undoes `unref()`: the pending timer keeps the process alive (the default). */
  ref(): this {
    if (!Timeout.#isOwn(this)) return callNodeMethod('ref', this) as this;
    this.#ref = true;
    this.#timer?.ref();
    return this;
  }

  hasRef(): boolean {
    if (!Timeout.#isOwn(this)) return callNodeMethod('hasRef', this) as boolean;
    return this.#ref;
  }

  /** Cancels the timer, as `clearTimeout(this)`. */
  close(): this {
    if (!Timeout.#isOwn(this)) return callNodeMethod('close', this) as this;
    this.#clear();
    return this;
  }

  [Symbol.dispose](): void {
    if (!Timeout.#isOwn(this)) {
      callNodeMethod(Symbol.dispose, this);
      return;
    }
    this.#clear();
  }

  /** The timer's id, which `clearTimeout()` also accepts (as a number or a string). */
  [Symbol.toPrimitive](): number {
    if (!Timeout.#isOwn(this)) return callNodeMethod(Symbol.toPrimitive, this) as number;
    const id = this.#resource.asyncId();
    if (!this.#primitive) {
      this.#primitive = true;
      if (!this.#destroyed) knownTimersById.set(String(id), this);
    }
    return id;
  }

  [inspect.custom](): string {
    const state = this.#callback === null ? 'cleared' : this.#destroyed ? 'done' : 'active';
    const kind = this.#repeatDelay !== null ? 'interval' : 'timeout';
    return `Timeout { ${kind}: ${this.#repeatDelay ?? this.#idleTimeout} ms, ${state}, expirations: ${this.#expirations}, overrun: ${this.#overrun}, missed: ${this.#missed}${this.#ref ? '' : ', unref'} }`;
  }

  // ---- internals ----

  /**
   * Arms the timer from now, with `ref` (as Node's `active()`/`_unrefActive()`,
   * which `refresh()` is): nothing once cleared or unenrolled.
   */
  #activate(ref: boolean): void {
    if (this.#callback === null || !(this.#idleTimeout >= 0)) return;
    if (this.#destroyed) {
      // As Node: a timer brought back from the dead is a new async resource.
      this.#destroyed = false;
      this.#resource = new AsyncResource('Timeout', { requireManualDestroy: true });
      if (this.#primitive) knownTimersById.set(String(this.#resource.asyncId()), this);
    }
    if (ref) this.ref();
    else this.unref();
    this.#arm();
  }

  /** Sets the first deadline a delay from now, and the grid from there for an interval. */
  #arm(): void {
    let timer = this.#timer;
    if (timer === null) {
      timer = new TimerFd();
      if (!this.#ref) timer.unref();
      timer.on('event', this.#onEvent);
      this.#timer = timer;
    }
    if (this.#entry !== null) Timeout.#unscheduled(this.#entry);
    const repeat = this.#repeatDelay !== null;
    // `_idleTimeout` may have been set to anything: as Node's lists, no longer than TIMEOUT_MAX.
    const period = BigInt(Math.round(Math.min(this.#repeatDelay ?? this.#idleTimeout, TIMEOUT_MAX) * 1e6));
    try {
      const t0 = monotonicNow();
      timer.set(t0 + period, { absolute: true, interval: repeat ? period : 0n });
      this.#t0 = t0;
      this.#period = repeat ? period : 0n;
      this.#armedRepeat = this.#repeatDelay;
    } catch (err) {
      this.#destroy();
      throw err;
    }
    this.#ticks = 0;
    this.#unserved = 0; // set() discarded whatever the kernel held
    this.#entry = { due: this.#t0 + period, seq: 0, index: -1, timeout: this };
    schedule(this.#entry);
  }

  /**
   * Serves the earliest timer, if it is due. No clock is read: the heap is in
   * deadline order, so when a later timer's wake has come, the earliest is due
   * too, and whether the kernel has fired it is what a read of its fd says.
   */
  static #runDue(): void {
    const e = heap[0];
    if (e === undefined) return;
    const t = e.timeout;
    if (t.#unserved === 0) {
      const event = t.#timer?.readEvent();
      if (event?.type === 'expire') t.#unserved = Number(event.expirations);
    }
    // Not fired yet (its interrupt is on the way): its own wake comes next, and
    // the timers after it wait for it.
    if (t.#unserved === 0) return;
    const n = t.#unserved;
    unschedule(e);
    t.#unserved = 0;
    try {
      t.#serve(e, n);
    } finally {
      // A timer whose wake was spent waiting for this one gets no wake of its own.
      if (heap[0] !== undefined && heap[0].timeout.#unserved > 0) Timeout.#continueSoon();
    }
  }

  static #continueSoon(): void {
    if (continuing) return;
    continuing = true;
    outsideDomain(() => {
      nodeTimers.setImmediate(() => {
        continuing = false;
        Timeout.#runDue();
      });
    });
  }

  /**
   * After a timer leaves the schedule: the next one may hold expirations its
   * own wake already read, waiting for the one that left (see #runDue), and
   * will get no wake of its own.
   */
  static #unscheduled(e: Entry): void {
    const wasFirst = e.index === 0;
    unschedule(e);
    if (wasFirst && heap[0] !== undefined && heap[0].timeout.#unserved > 0) Timeout.#continueSoon();
  }

  /** Runs the callback for `n` expirations of the tick `e`. */
  #serve(e: Entry, n: number): void {
    const callback = this.#callback as AnyCallback;
    const period = this.#period;
    this.#expirations += n;
    this.#overrun = n - 1;
    this.#missed += n - 1;
    this.#ticks += n;
    if (period > 0n) {
      // The next tick is scheduled before the callback, which may clear or refresh it.
      e.due = this.#t0 + BigInt(this.#ticks + 1) * period;
      schedule(e);
    } else {
      this.#entry = null;
    }
    try {
      // A throw goes to 'uncaughtException' and an interval goes on, as in Node.
      this.#resource.runInAsyncScope(callback, this, ...this.#args);
    } finally {
      // Unless the callback refreshed or cleared the timer, Node's fields say
      // what comes next (the callback may have set them); an interval they
      // leave as it was goes on with the tick scheduled above.
      const repeat = this.#repeatDelay;
      if (this.#entry === (period > 0n ? e : null) && !this.#destroyed && (repeat === null || repeat !== this.#armedRepeat || this.#idleTimeout === -1)) {
        outsideDomain(this.#next);
      }
    }
  }

  /** After a call that ended the timer or changed `_repeat`: as Node's timers go on. */
  readonly #next = (): void => {
    const repeat = this.#repeatDelay;
    if (repeat === null || this.#idleTimeout === -1) {
      // Done: free the fd at once (a process may make thousands of timeouts
      // before a GC would close them).
      this.#destroy();
    } else {
      // Made to repeat, or with another delay: a new grid from now.
      this.#idleTimeout = repeat;
      this.#arm();
    }
  };

  #clear(): void {
    if (this.#callback === null) return;
    this.#callback = null;
    this.#unenroll();
  }

  /** Node's `unenroll()`: stops the timer, unless it is already done. */
  #unenroll(): void {
    if (this.#destroyed) return;
    this.#destroy();
    this.#idleTimeout = -1;
  }

  #destroy(): void {
    this.#destroyed = true;
    if (this.#entry !== null) Timeout.#unscheduled(this.#entry);
    this.#entry = null;
    this.#unserved = 0;
    const timer = this.#timer;
    this.#timer = null;
    timer?.close();
    if (this.#primitive) knownTimersById.delete(String(this.#resource.asyncId()));
    this.#resource.emitDestroy();
  }
}

function validateCallback(callback: unknown): AnyCallback {
  if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
  return callback as AnyCallback;
}

/**
 * Calls `callback(...args)` once, `delay` ms from now (Node's coercion: see
 * `timerDuration`; fractions are kept to the nanosecond). `this` in the
 * callback is the returned Timeout.
 */
export function setTimeout<TArgs extends unknown[]>(callback: TimerCallback<TArgs>, delay?: number, ...args: TArgs): Timeout;
export function setTimeout(callback: (this: Timeout, _: void) => void, delay?: number): Timeout;
export function setTimeout(callback: unknown, delay?: unknown, ...args: unknown[]): Timeout {
  return new Timeout(validateCallback(callback), timerDuration(delay), args, false);
}

/**
 * Calls `callback(...args)` every `delay` ms, tick k due at `t0 + k * delay`
 * (t0: this call) on CLOCK_MONOTONIC. A late wake calls once and records the
 * ticks it missed in `this.overrun` / `this.missed`.
 */
export function setInterval<TArgs extends unknown[]>(callback: TimerCallback<TArgs>, delay?: number, ...args: TArgs): Timeout;
export function setInterval(callback: (this: Timeout, _: void) => void, delay?: number): Timeout;
export function setInterval(callback: unknown, delay?: unknown, ...args: unknown[]): Timeout {
  return new Timeout(validateCallback(callback), timerDuration(delay), args, true);
}

/**
 * Cancels a timer made by `setTimeout()` or `setInterval()` (either function
 * clears either kind, as in Node), given as the object or as its primitive id.
 * Anything else goes to Node's own `clearTimeout()`, so Node's timers can be
 * cleared through this one too; values that are no timer are ignored.
 */
export function clearTimeout(timeout: NodeJS.Timeout | string | number | undefined | null): void {
  if (clearOwn(timeout)) return;
  if (typeof timeout === 'number' || typeof timeout === 'string') {
    const own = knownTimersById.get(String(timeout));
    if (own !== undefined) {
      clearOwn(own);
      return;
    }
  }
  nodeTimers.clearTimeout(timeout as NodeJS.Timeout | string | number | undefined);
}

/** The same as `clearTimeout()`. */
export function clearInterval(timeout: NodeJS.Timeout | string | number | undefined | null): void {
  clearTimeout(timeout);
}

// ---- Node's deprecated timer functions (in Node 20 and 22; Node 24 removed them) ----
//
// On one of our Timeouts they act on it; on any other object they are Node's
// own, which time it with Node's timer lists: these exist for code that
// schedules its own objects, and a kernel timer has nothing to add there.
// util.deprecate() with Node's codes warns once per code, shared with Node's.

/** The deprecated functions of `node:timers`, which its type declarations leave out. */
const nodeDeprecated = nodeTimers as unknown as Partial<{
  enroll(item: unknown, msecs: unknown): void;
  unenroll(item: unknown): void;
  active(item: unknown): void;
  _unrefActive(item: unknown): void;
}>;

/** Node's own `name` for an object that is not one of our timers: from Node 24 there is none, and only ours are taken. */
function nodeOwn<K extends keyof typeof nodeDeprecated>(name: K, item: unknown): NonNullable<(typeof nodeDeprecated)[K]> {
  const fn = nodeDeprecated[name];
  if (fn === undefined) throw invalidArgType('item', `a Timeout of butter/timers (this Node has no timers.${name}() of its own)`, item);
  return fn as NonNullable<(typeof nodeDeprecated)[K]>;
}

/** `timers.enroll(item, msecs)`: sets the delay the next `active(item)` arms (Node's `_idleTimeout`). */
export const enroll = deprecate(
  function enroll(item: unknown, msecs: unknown): void {
    if (typeof msecs !== 'number') throw invalidArgType('msecs', 'of type number', msecs);
    if (msecs < 0 || !Number.isFinite(msecs)) throw outOfRange('msecs', 'a non-negative finite number', msecs);
    if (!enrollOwn(item, Math.min(msecs, TIMEOUT_MAX))) {
      nodeOwn('enroll', item)(item, msecs);
    } else if (msecs > TIMEOUT_MAX) {
      process.emitWarning(`${msecs} does not fit into a 32-bit signed integer.\nTimer duration was truncated to ${TIMEOUT_MAX}.`, 'TimeoutOverflowWarning');
    }
  },
  'timers.enroll() is deprecated. Please use setTimeout instead.',
  'DEP0095',
);

/** `timers.unenroll(item)`: stops the timer (its callback is kept; `_idleTimeout` becomes -1). */
export const unenroll = deprecate(
  function unenroll(item: unknown): void {
    if (!unenrollOwn(item)) nodeOwn('unenroll', item)(item);
  },
  'timers.unenroll() is deprecated. Please use clearTimeout instead.',
  'DEP0096',
);

/** `timers.active(item)`: (re)starts the timer from now with its `_idleTimeout`, ref'ed. */
export const active = deprecate(
  function active(item: unknown): void {
    if (!activateOwn(item, true)) nodeOwn('active', item)(item);
  },
  'timers.active() is deprecated. Please use timeout.refresh() instead.',
  'DEP0126',
);

/** `timers._unrefActive(item)`: as `active()`, unref'ed. */
export const _unrefActive = deprecate(
  function _unrefActive(item: unknown): void {
    if (!activateOwn(item, false)) nodeOwn('_unrefActive', item)(item);
  },
  'timers._unrefActive() is deprecated. Please use timeout.refresh() instead.',
  'DEP0127',
);

