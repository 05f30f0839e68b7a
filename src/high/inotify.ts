/**
 * Inotify: file system events as typed objects with full paths, watch handles
 * that belong to their instance, renames joined into one event, and queue
 * overflow as an event of its own. The base a recursive watcher builds on.
 */
import { invalidArgType, outOfRange, sysError, EAGAIN, EEXIST, EINVAL } from '../core/errors';
import { toPath } from '../core/fs';
import { native } from '../core/native';
import { FdSource } from '../core/source';
import { closeOnAbort, validateAbortSignal, validateBoolean, validateInteger, validateOptions } from '../core/validate';
import {
  IN_ALL_EVENTS,
  IN_CLOEXEC,
  IN_DONT_FOLLOW,
  IN_EXCL_UNLINK,
  IN_IGNORED,
  IN_ISDIR,
  IN_MASK_ADD,
  IN_MASK_CREATE,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_NONBLOCK,
  IN_ONESHOT,
  IN_ONLYDIR,
  IN_Q_OVERFLOW,
  IN_UNMOUNT,
  INOTIFY_EVENT_SIZE,
  INOTIFY_RECORD_MAX,
  addWatchError,
  initError,
  inotifyMask,
  maskNames,
  int32View,
  nameEnd,
  rawNameOf,
  type InotifyEventName,
  type InotifyEventSelector,
  type InotifyMaskName,
  type InotifyPath,
} from '../raw/inotify';


const READ_SIZE = 64 * 1024;
/** `options.coalesce`'s default, in ms. */
const COALESCE_DEFAULT = 1;
/** Reads per drain: up to 1 MiB of records (some 30,000 events) per wake, then the loop gets a turn. */
const MAX_READS = 16;
/** Moves out awaiting a partner within one drain; the kernel queues the two halves back to back. */
const MAX_PENDING = 1024;
/** Every bit inotify_add_watch looks at; a mask with none of them is EINVAL. */
const ALL_INOTIFY_BITS = (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_ADD | IN_MASK_CREATE | IN_ISDIR | IN_ONESHOT) >>> 0;
/** The part of a mask the kernel keeps for a watch (what /proc/<pid>/fdinfo shows). */
const KEPT_BITS = (IN_ALL_EVENTS | IN_EXCL_UNLINK | IN_ONESHOT) >>> 0;

// One buffer for every instance of this thread: each drain parses it completely before returning.
const buffer = Buffer.alloc(READ_SIZE);
const view = int32View(buffer);
/** The names of the records in `buffer`, decoded by the native side with each read (inotify.c's decode_names): undefined for one that is not UTF-8. */
const names: (string | null | undefined)[] = [];

/**
 * What an event is about. The kernel's event names, plus `'unknown'` for an
 * event bit this version of Butter does not know (a newer kernel's; see `mask`).
 * In a joined stream (the default), `'moved_from'` means the entry moved out of
 * the watched set and `'moved_to'` that it moved in; a move inside it is a
 * `'rename'` event.
 */
export type InotifyEventType = InotifyEventName | 'unmount' | 'ignored' | 'unknown';

interface InotifyEventCommon {
  /** The kernel's mask: the event bit, plus `IN_ISDIR` when the subject is a directory. */
  mask: number;
  /** The mask's bits by name, e.g. `['create', 'isdir']` (frozen; shared between events). */
  names: readonly InotifyMaskName[];
  /** Whether the subject is a directory (`IN_ISDIR`). */
  isDir: boolean;
  /** Ties the two halves of a rename together; 0 for other events. */
  cookie: number;
}

/** An event on one watch: about the watched object itself (`name === null`) or an entry of the watched directory. */
export interface InotifyWatchEvent extends InotifyEventCommon {
  type: InotifyEventType;
  /** The watch that reported it. */
  watch: InotifyWatch;
  /** The watch's path when the event was read. */
  watchPath: string;
  /** The entry's name in the watched directory; `null` when the event is about the watched object itself. */
  name: string | null;
  /** The name's exact bytes when they are not valid UTF-8 (then `name` has U+FFFD in their place). */
  rawName: Buffer | undefined;
  /** The full path: `watchPath` and `name` joined, or `watchPath` itself. */
  path: string;
}

/** A move inside the watched set: both halves (`IN_MOVED_FROM`, `IN_MOVED_TO`) in one event. */
export interface InotifyRenameEvent extends InotifyEventCommon {
  type: 'rename';
  /** The watch of the directory the entry moved into. */
  watch: InotifyWatch;
  watchPath: string;
  /** The new name. */
  name: string;
  rawName: Buffer | undefined;
  /** The new full path. */
  path: string;
  /** The watch of the directory the entry left (the same as `watch` for a rename in place). */
  oldWatch: InotifyWatch;
  oldWatchPath: string;
  oldName: string;
  oldRawName: Buffer | undefined;
  oldPath: string;
}

/**
 * The kernel's queue overflowed (`IN_Q_OVERFLOW`): events after this point were
 * lost. Whoever keeps state from events must rescan.
 */
export interface InotifyOverflowEvent extends InotifyEventCommon {
  type: 'overflow';
  watch: null;
  watchPath: null;
  name: null;
  rawName: undefined;
  path: null;
}

export type InotifyEvent = InotifyWatchEvent | InotifyRenameEvent | InotifyOverflowEvent;

export interface InotifyOptions {
  /**
   * Join the two halves of a rename into one `'rename'` event. Default true;
   * false passes `'moved_from'` and `'moved_to'` events through, each with the cookie.
   */
  joinRenames?: boolean;
  /**
   * Milliseconds (0 to 10, fractions allowed) a read that ends on a move out
   * waits for its move in. Default 0.1: the kernel queues the two halves a few
   * microseconds apart, and a reader woken by the first can come in between. A
   * move out of the watched set costs this wait (plus the kernel's timer slack,
   * 50 µs by default) when it is the last event of a read. A half that still
   * comes later is reported on its own, as `'moved_from'` then `'moved_to'`;
   * with 0 that happens to about one rename in a few hundred under a fast reader.
   */
  renameWindow?: number;
  /**
   * Bytes (at least 65,536) of events to hold in memory while JS is busy.
   * Default 0: off, the kernel's queue (`fs.inotify.max_queued_events`) is the
   * only buffer, and a stalled event loop overflows it. With a buffer, a thread
   * of Butter's own keeps reading the kernel's queue as events arrive, so a
   * loop blocked for a while loses nothing; past the bound the thread stops
   * reading and the kernel's overflow reporting (an `'overflow'` event) takes
   * over again. Events are then delivered as if read directly.
   */
  buffer?: number;
  /**
   * Milliseconds (a whole number, 0 to 1000) to wait after a wake that brought
   * more than one event before reading again. Under a burst, each read then
   * takes a batch, instead of a wake, a read and a JS call every event or two
   * (most of a consumer's CPU under churn is the kernel's sleep and wake-up,
   * not the events). A lone event is delivered at once either way; during a
   * burst an event may wait up to this long. Default 1; 0 reads on every wake.
   */
  coalesce?: number;
  /** Closes it when aborted. */
  signal?: AbortSignal;
}

/** Flags for `add()`; each is also accepted as its bit in a numeric mask. */
export interface InotifyWatchOptions {
  /** Fail with ENOTDIR unless the path is a directory (`IN_ONLYDIR`). */
  onlyDir?: boolean;
  /** Watch what a symlink points to (the default), or with false the link itself (`IN_DONT_FOLLOW`). */
  followSymlinks?: boolean;
  /** No events for entries unlinked from the watched directory (`IN_EXCL_UNLINK`). */
  excludeUnlinked?: boolean;
  /** One event, then the watch is retired (`IN_ONESHOT`). */
  oneshot?: boolean;
  /** If the inode is watched already, add to its mask instead of replacing it (`IN_MASK_ADD`). */
  maskAdd?: boolean;
  /** Fail with EEXIST if the inode is watched already (`IN_MASK_CREATE`). */
  maskCreate?: boolean;
  /**
   * Also watch, with the same events and this option, each directory created
   * in or moved into this one, and the directories already in those: Butter's
   * native side adds the watch as soon as the read that brings the event is
   * made, before any JavaScript runs, so that what a writer does in a new
   * directory right away still has its events. Such a watch becomes one of
   * this instance's, under its path, when its first event is read or when
   * `add()` is called for its directory; remove the ones you do not want.
   */
  subtree?: boolean;
}

/** A watch of one inode, owned by the `Inotify` that made it. */
export interface InotifyWatch {
  /** The kernel's watch descriptor. It may be given out again once this watch is retired. */
  readonly wd: number;
  /** The instance this watch belongs to. */
  readonly inotify: Inotify;
  /**
   * The path events are reported under. Butter sets it from `add()` and never
   * changes it on its own; assign it when you learn the watched object moved
   * (a recursive watcher does, from rename events).
   */
  path: string;
  /** The mask the kernel keeps: the events, plus `IN_ONESHOT` and `IN_EXCL_UNLINK` if set. */
  readonly mask: number;
  /** False once `remove()` was called, the kernel retired the watch (`'ignored'`), or the instance closed. */
  readonly active: boolean;
  /**
   * Stops the watch (inotify_rm_watch). Events still queued for it are dropped;
   * its `'ignored'` event follows. Does nothing if the watch is no longer active.
   */
  remove(): void;
}

const ACTIVE = 0;
const REMOVED = 1; // by remove(); its IN_IGNORED is still to come
const RETIRED = 2; // its IN_IGNORED was read, or the instance closed

class Watch implements InotifyWatch {
  state = ACTIVE;
  /** A newer watch the kernel gave the same wd while this one's IN_IGNORED was still queued. */
  next: Watch | null = null;
  /** The path with a trailing '/', ready for names. */
  prefix = '';
  /** For a watch of a subtree (`subtree`): tells the native side its path, or that it is gone. */
  sync: ((watch: Watch) => void) | null = null;
  #path = '';

  constructor(
    readonly inotify: Inotify,
    readonly wd: number,
    path: string,
    public mask: number,
  ) {
    this.path = path;
  }

  get path(): string {
    return this.#path;
  }

  set path(value: string) {
    if (typeof value !== 'string') throw invalidArgType('watch.path', 'of type string', value);
    this.#path = value;
    this.prefix = value.endsWith('/') ? value : `${value}/`;
    this.sync?.(this);
  }

  get active(): boolean {
    return this.state === ACTIVE;
  }

  remove(): void {
    if (this.state !== ACTIVE) return;
    // With a successor, the kernel's wd is that watch's now: this one is gone already.
    if (this.next === null) {
      const r = native.inotify.inotifyRmWatch(this.inotify.fd, this.wd);
      // EINVAL: the kernel retired it already and its IN_IGNORED is on the way.
      if (r < 0 && r !== -EINVAL) throw sysError(-r, 'inotify_rm_watch', this.#path);
    }
    this.state = REMOVED;
    this.sync?.(this);
  }
}

function validateNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!(value >= min && value <= max)) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

/** What a record's mask says: its event type and its names. */
interface Kind {
  readonly type: InotifyEventType;
  readonly names: readonly InotifyMaskName[];
}
/** The kind of each single event bit by bit number, without IN_ISDIR and with it. */
const kindByBit: Kind[] = [];
const dirKindByBit: Kind[] = [];
for (let n = 0; n < 32; n++) {
  const bit = 2 ** n;
  const [name] = maskNames(bit);
  const type = name === undefined || name === 'q_overflow' || name === 'isdir' || bit > IN_IGNORED ? 'unknown' : name;
  kindByBit.push({ type, names: maskNames(bit) });
  dirKindByBit.push({ type, names: maskNames((bit | IN_ISDIR) >>> 0) });
}

function kindOf(mask: number): Kind {
  const bits = mask & ~IN_ISDIR;
  // One event bit per record; anything else is a kernel's newer combination.
  if (bits !== 0 && (bits & (bits - 1)) === 0) return (mask & IN_ISDIR ? dirKindByBit : kindByBit)[31 - Math.clz32(bits)]!;
  return { type: 'unknown', names: maskNames(mask) };
}

/**
 * The event of record `k` of the shared read buffer, its name at `start` (`len`
 * bytes with NUL padding): decoded already, unless it is not valid UTF-8.
 */
function watchEvent(watch: Watch, mask: number, cookie: number, k: number, start: number, len: number): InotifyWatchEvent {
  let name = names[k];
  let rawName: Buffer | undefined;
  if (name === undefined) {
    const end = nameEnd(buffer, start, len);
    name = buffer.toString('utf8', start, end);
    rawName = rawNameOf(buffer, start, end, name);
  }
  const kind = kindOf(mask);
  return {
    type: kind.type,
    mask,
    names: kind.names,
    isDir: (mask & IN_ISDIR) !== 0,
    cookie,
    watch,
    watchPath: watch.path,
    name,
    rawName,
    path: name === null ? watch.path : watch.prefix + name,
  };
}

function renameOf(from: InotifyWatchEvent, to: InotifyWatchEvent): InotifyRenameEvent {
  const mask = (from.mask | to.mask) >>> 0;
  return {
    type: 'rename',
    mask,
    names: maskNames(mask),
    isDir: to.isDir,
    cookie: to.cookie,
    watch: to.watch,
    watchPath: to.watchPath,
    name: to.name as string,
    rawName: to.rawName,
    path: to.path,
    oldWatch: from.watch,
    oldWatchPath: from.watchPath,
    oldName: from.name as string,
    oldRawName: from.rawName,
    oldPath: from.path,
  };
}

/**
 * An inotify instance owned by this object.
 *
 * ```ts
 * using ino = new Inotify();
 * ino.add('/srv/in', ['create', 'close_write', 'move']);
 * for await (const ev of ino) {
 *   if (ev.type === 'overflow') rescan();
 *   else if (ev.type === 'rename') console.log(ev.oldPath, '->', ev.path);
 *   else console.log(ev.type, ev.path);
 * }
 * ```
 */
export class Inotify extends FdSource<InotifyEvent> {
  /** Whether renames are joined into `'rename'` events (see `InotifyOptions`). */
  readonly joinRenames: boolean;
  /** The oldest unretired watch per wd; later ones with the same wd hang off its `next`. */
  #byWd = new Map<number, Watch>();
  /** Index in the drain's output of each move out still looking for its move in, by cookie. */
  #pending = new Map<number, number>();
  /** Whether the last record parsed was a move out still looking for its move in. */
  #tailFrom = false;
  readonly #windowNs: number;
  #overflows = 0;
  readonly #sync = (watch: Watch): void => {
    // A successor has the wd in the kernel, and on the native side, now.
    if (this.closed || watch.next !== null) return;
    const path = watch.state === ACTIVE ? Buffer.from(watch.path, 'utf8') : null;
    // On failure (ENOMEM) the directory's new subdirectories are watched by add(), later.
    native.inotify.inotifySubtree(this.handle, watch.wd, path, watch.mask);
  };

  constructor(options?: InotifyOptions) {
    const opts = validateOptions<InotifyOptions>(options, 'options', ['joinRenames', 'renameWindow', 'buffer', 'coalesce', 'signal']);
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    const join = opts.joinRenames === undefined ? true : validateBoolean(opts.joinRenames, 'options.joinRenames');
    const window = opts.renameWindow === undefined ? 0.1 : validateNumber(opts.renameWindow, 'options.renameWindow', 0, 10);
    const bufferBytes = opts.buffer === undefined ? 0 : validateNumber(opts.buffer, 'options.buffer', 0, Number.MAX_SAFE_INTEGER);
    const coalesce = opts.coalesce === undefined ? COALESCE_DEFAULT : validateInteger(opts.coalesce, 'options.coalesce', 0, 1000);
    super((handle) => native.inotify.inotifyInit(IN_CLOEXEC | IN_NONBLOCK, handle), initError);
    this.coalesce(coalesce);
    if (bufferBytes > 0) {
      const r = native.drainStart(this.handle, bufferBytes);
      if (r !== 0) {
        this.close();
        throw sysError(-r[0], r[1]);
      }
    }
    this.readOnWake(buffer, names);
    this.joinRenames = join;
    this.#windowNs = join ? Math.round(window * 1e6) : 0;
    closeOnAbort(this, signal);
  }

  /** How many times the kernel's queue has overflowed (`'overflow'` events) since this instance was made. */
  get overflows(): number {
    return this.#overflows;
  }

  /**
   * Watches `path` for `events` (names such as `['create', 'close_write']`, or
   * a mask; default every event) and returns the watch. If this instance
   * watches that inode already, the same watch is returned, its mask replaced
   * (or extended with `maskAdd`) and its path set to `path`.
   */
  add(path: InotifyPath, events: InotifyEventSelector | readonly InotifyEventSelector[] | number = IN_ALL_EVENTS, options?: InotifyWatchOptions): InotifyWatch {
    const { bytes, text } = toPath(path);
    let mask = inotifyMask(events);
    const opts = validateOptions<InotifyWatchOptions>(options, 'options', ['onlyDir', 'followSymlinks', 'excludeUnlinked', 'oneshot', 'maskAdd', 'maskCreate', 'subtree']);
    const flag = (value: unknown, name: string): boolean => value !== undefined && validateBoolean(value, `options.${name}`);
    if (flag(opts.onlyDir, 'onlyDir')) mask |= IN_ONLYDIR;
    if (opts.followSymlinks !== undefined && !validateBoolean(opts.followSymlinks, 'options.followSymlinks')) mask |= IN_DONT_FOLLOW;
    if (flag(opts.excludeUnlinked, 'excludeUnlinked')) mask |= IN_EXCL_UNLINK;
    if (flag(opts.oneshot, 'oneshot')) mask |= IN_ONESHOT;
    if (flag(opts.maskAdd, 'maskAdd')) mask |= IN_MASK_ADD;
    if (flag(opts.maskCreate, 'maskCreate')) mask |= IN_MASK_CREATE;
    const subtree = flag(opts.subtree, 'subtree');
    mask >>>= 0;
    this.assertOpen('inotify_add_watch');

    let created = true;
    let wd: number;
    if (mask & IN_MASK_CREATE || !(mask & ALL_INOTIFY_BITS)) {
      wd = native.inotify.inotifyAddWatch(this.fd, bytes, mask);
    } else {
      // Ask for a new watch first: only a watch known to be new may take a wd
      // the kernel gave out again; EEXIST means the inode is one we watch.
      wd = native.inotify.inotifyAddWatch(this.fd, bytes, ((mask & ~IN_MASK_ADD) | IN_MASK_CREATE) >>> 0);
      if (wd === -EEXIST) {
        created = false;
        wd = native.inotify.inotifyAddWatch(this.fd, bytes, mask);
      }
    }
    if (wd < 0) throw addWatchError(-wd, text);

    let last = this.#byWd.get(wd);
    while (last?.next) last = last.next;
    if (!created && last?.state === ACTIVE) {
      last.mask = mask & IN_MASK_ADD ? (last.mask | (mask & KEPT_BITS)) >>> 0 : (mask & KEPT_BITS) >>> 0;
      if (subtree) last.sync = this.#sync;
      last.path = text;
      return last;
    }
    const watch = this.#newWatch(wd, text, (mask & KEPT_BITS) >>> 0, last);
    if (subtree) {
      watch.sync = this.#sync;
      this.#sync(watch);
    }
    return watch;
  }

  #newWatch(wd: number, path: string, mask: number, last: Watch | undefined): Watch {
    const watch = new Watch(this, wd, path, mask);
    if (last) last.next = watch;
    else this.#byWd.set(wd, watch);
    return watch;
  }

  /** The watch the native side added for a new directory of a subtree (`subtree`), if `wd` is one. */
  #adopt(wd: number): Watch | undefined {
    const known = native.inotify.inotifySubtreeWatch(this.handle, wd);
    if (known === null) return undefined;
    const watch = this.#newWatch(wd, known[0].toString('utf8'), known[1], undefined);
    watch.sync = this.#sync;
    return watch;
  }

  /** The active watches. */
  watches(): InotifyWatch[] {
    const out: InotifyWatch[] = [];
    for (const head of this.#byWd.values()) {
      for (let w: Watch | null = head; w; w = w.next) if (w.state === ACTIVE) out.push(w);
    }
    return out;
  }

  /** Closes the instance; every watch is retired with it (no `'ignored'` events follow). */
  override close(): void {
    if (!this.closed) {
      for (const head of this.#byWd.values()) for (let w: Watch | null = head; w; w = w.next) w.state = RETIRED;
      this.#byWd.clear();
    }
    super.close();
  }

  protected readBatch(out: InotifyEvent[], ready?: number): number {
    const start = out.length;
    const handle = this.handle;
    let waited = false;
    for (let reads = 0; reads < MAX_READS; reads++) {
      // A wake's first read was made by the native side, into the same buffer (readOnWake).
      const n = reads === 0 && ready !== undefined ? ready : native.handleRead(handle, buffer);
      if (n < 0) {
        if (n === -EAGAIN || out.length > start) break; // an error with events in hand comes back on the next read
        return n;
      }
      this.#tailFrom = false;
      this.#parse(n, out);
      if (n > READ_SIZE - INOTIFY_RECORD_MAX) continue; // the buffer was full: there is more
      // The kernel queues a rename's second half microseconds after the first, and
      // a fast reader can come in between: wait for it, briefly and once per drain.
      if (!this.#tailFrom || waited || this.#windowNs === 0) break;
      waited = true;
      if (native.handlePoll(handle, this.#windowNs) <= 0) break;
    }
    if (this.#pending.size !== 0) this.#pending.clear(); // clear() allocates a new table: not on every wake
    return out.length - start;
  }

  /** One plain record read on a wake, to the listeners without the queue (see `FdSource.emitReady`). */
  protected override emitReady(length: number): boolean {
    const len = view[3]! >>> 0;
    const mask = view[1]! >>> 0;
    if (length !== INOTIFY_EVENT_SIZE + len || mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_MOVED_FROM | IN_MOVED_TO)) return false;
    const watch = this.#byWd.get(view[0]!);
    if (watch === undefined || watch.state !== ACTIVE) return false;
    this.emitEvent(watchEvent(watch, mask, view[2]! >>> 0, 0, INOTIFY_EVENT_SIZE, len));
    return true;
  }

  #parse(length: number, out: InotifyEvent[]): void {
    const join = this.joinRenames;
    for (let o = 0, k = 0; o < length; k++) {
      const i = o >> 2;
      const wd = view[i]!;
      const mask = view[i + 1]! >>> 0;
      const cookie = view[i + 2]! >>> 0;
      const start = o + INOTIFY_EVENT_SIZE;
      const len = view[i + 3]! >>> 0;
      o = start + len;

      if (mask & IN_Q_OVERFLOW) {
        this.#overflows++;
        out.push({ type: 'overflow', mask, names: maskNames(mask), isDir: false, cookie, watch: null, watchPath: null, name: null, rawName: undefined, path: null });
        continue;
      }
      const watch = this.#byWd.get(wd) ?? this.#adopt(wd);
      if (watch === undefined) continue; // a watch added to this fd behind our back
      if (mask & IN_IGNORED) {
        watch.state = RETIRED;
        if (watch.next) this.#byWd.set(wd, watch.next);
        else this.#byWd.delete(wd);
      } else if (watch.state !== ACTIVE) {
        continue; // removed by the user: nothing more but its IN_IGNORED
      }

      const event = watchEvent(watch, mask, cookie, k, start, len);

      if (join && mask & IN_MOVED_FROM) {
        if (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value as number);
        this.#pending.set(cookie, out.length);
        out.push(event);
        this.#tailFrom = true;
        continue;
      }
      if (join && mask & IN_MOVED_TO) {
        const at = this.#pending.get(cookie);
        if (at !== undefined) {
          this.#pending.delete(cookie);
          out[at] = renameOf(out[at] as InotifyWatchEvent, event);
          this.#tailFrom = false;
          continue;
        }
      }
      out.push(event);
      this.#tailFrom = false;
    }
  }
}
