/**
 * watch(): a directory tree watched through one `Inotify`, one watch per
 * directory, with the races of recursive watching closed by scanning each new
 * directory after its watch lands and deduplicating against the events.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { invalidArgType, invalidArgValue } from '../core/errors';
import { EventPump, type SourceEvents } from '../core/pump';
import { validateAbortSignal, validateBoolean, validateEncoding, validateOptions, type Encoding } from '../core/validate';
import { Inotify, type InotifyEvent, type InotifyWatch } from './inotify';
import { toPath } from '../core/fs';
import type { InotifyEventName, InotifyPath } from '../raw/inotify';

/** What a `watch()` event is about. */
export type WatchEventType =
  | 'create'
  | 'modify'
  | 'attrib'
  | 'close_write'
  | 'close_nowrite'
  | 'open'
  | 'access'
  | 'delete'
  | 'rename'
  /** Moved out of the watched tree (or onto an ignored path); the other half is unknown. */
  | 'moved_out'
  /** Moved in from outside the watched tree (or from an ignored path). */
  | 'moved_in'
  | 'overflow'
  | 'error';

/** The event types delivered unless `events` says otherwise. */
const DEFAULT_EVENTS: readonly WatchEventType[] = ['create', 'modify', 'attrib', 'close_write', 'delete', 'rename', 'moved_out', 'moved_in', 'overflow', 'error'];
const ALL_TYPES = new Set<WatchEventType>([...DEFAULT_EVENTS, 'close_nowrite', 'open', 'access']);
/** What a watched file (not a directory) reports about itself beyond attrib, delete and move. */
const CONTENT_TYPES = new Set<string>(['modify', 'close_write', 'close_nowrite', 'open', 'access']);
/** What the tree bookkeeping needs from the kernel whatever the user asked for. */
const STRUCTURAL: readonly InotifyEventName[] = ['create', 'delete', 'moved_from', 'moved_to', 'delete_self', 'move_self'];

/** Paths are strings, or Buffers with `encoding: 'buffer'`. */
export interface WatchEntryEvent<P extends string | Buffer = string> {
  type: 'create' | 'modify' | 'attrib' | 'close_write' | 'close_nowrite' | 'open' | 'access' | 'delete' | 'moved_out' | 'moved_in';
  path: P;
  isDir: boolean;
  /**
   * Set when a scan of a directory that just appeared (created or moved in)
   * found the entry rather than the kernel reporting it: its `create`, and for
   * a regular file a `close_write` as well, since whatever wrote it may have
   * finished before the directory was watched. The file existed at the scan;
   * whether a writer still had it open is not known.
   */
  scanned?: true;
}

export interface WatchRenameEvent<P extends string | Buffer = string> {
  type: 'rename';
  path: P;
  oldPath: P;
  isDir: boolean;
}

/** What a rescan after a queue overflow found changed, as full paths. */
export interface WatchChanges<P extends string | Buffer = string> {
  created: P[];
  deleted: P[];
}

/** The kernel's queue overflowed; Butter rescanned the tree and lists what differed. Other events in the gap are lost. */
export interface WatchOverflowEvent<P extends string | Buffer = string> {
  type: 'overflow';
  /** The root. */
  path: P;
  isDir: true;
  changes: WatchChanges<P>;
}

/**
 * A directory that could not be watched or read (EACCES, ELOOP, ...), or a
 * path the `ignore` predicate threw on (then watched and reported as if not
 * ignored); the rest of the tree is unaffected.
 */
export interface WatchErrorEvent<P extends string | Buffer = string> {
  type: 'error';
  path: P;
  isDir: boolean;
  error: Error;
}

export type WatchEvent<P extends string | Buffer = string> = WatchEntryEvent<P> | WatchRenameEvent<P> | WatchOverflowEvent<P> | WatchErrorEvent<P>;

/** A listener given to `watch()`, attached as an `'event'` listener. */
export type WatchListener<P extends string | Buffer = string> = (event: WatchEvent<P>) => void;

export type WatchIgnore = string | readonly string[] | ((path: string) => boolean);

export interface WatchOptions {
  /** Watch every directory under the root (default false: the root's entries only). */
  recursive?: boolean;
  /** Bytes of events to hold while the event loop is busy (see `InotifyOptions.buffer`). Default 0: off. */
  buffer?: number;
  /** Milliseconds between reads during a burst (see `InotifyOptions.coalesce`). */
  coalesce?: number;
  /** Which event types to deliver (default: all but `open`, `access` and `close_nowrite`); `overflow` and `error` always are. */
  events?: readonly WatchEventType[];
  /** Glob(s) matched against the full path (`*`, `?`, `**`), or a predicate; ignored directories are not watched. */
  ignore?: WatchIgnore;
  /** Descend into symlinks to directories (default false). A directory reached twice is watched once. */
  followSymlinks?: boolean;
  /** Closes the watcher when aborted. */
  signal?: AbortSignal;
  /** Whether the watcher keeps the process alive (default true; false is `unref()`). */
  persistent?: boolean;
  /** How paths are given: `'utf8'` (default), another Buffer encoding, or `'buffer'` for Buffers. */
  encoding?: Encoding;
}

const WATCH_OPTIONS = ['recursive', 'buffer', 'coalesce', 'events', 'ignore', 'followSymlinks', 'signal', 'persistent', 'encoding'] as const;

/** The path as the caller asked for it (`encoding`). */
function encodePath(path: string, encoding: Encoding): string | Buffer {
  if (encoding === 'utf8' || encoding === 'utf-8') return path;
  const bytes = Buffer.from(path, 'utf8');
  return encoding === 'buffer' ? bytes : bytes.toString(encoding);
}

function encodeEvent(event: WatchEvent, encoding: Encoding): WatchEvent<string | Buffer> {
  if (encoding === 'utf8' || encoding === 'utf-8') return event;
  const out: WatchEvent<string | Buffer> = { ...event, path: encodePath(event.path, encoding) };
  if (event.type === 'rename') (out as WatchRenameEvent<string | Buffer>).oldPath = encodePath(event.oldPath, encoding);
  if (event.type === 'overflow') {
    (out as WatchOverflowEvent<string | Buffer>).changes = {
      created: event.changes.created.map((p) => encodePath(p, encoding)),
      deleted: event.changes.deleted.map((p) => encodePath(p, encoding)),
    };
  }
  return out;
}

/**
 * Compiles a glob to a RegExp: `**` crosses `/`, `*` and `?` do not; a
 * leading `**\/` may match nothing, a trailing `/**` too; `{a,b}` is either,
 * `[abc]` / `[a-z]` / `[!a]` a character class, as in picomatch.
 */
export function globToRegExp(glob: string): RegExp {
  if (typeof glob !== 'string') throw invalidArgType('glob', 'of type string', glob);
  return new RegExp(`^${globSource(glob)}$`);
}

function globSource(glob: string): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '/' && glob.length - i === 3 && glob.endsWith('/**')) {
      // `dir/**` covers `dir` too, as in picomatch.
      re += '(?:/.*)?';
      break;
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[' && glob.indexOf(']', i + 2) > 0) {
      const end = glob.indexOf(']', i + 2);
      let body = glob.slice(i + 1, end);
      const negated = body[0] === '!' || body[0] === '^';
      if (negated) body = body.slice(1);
      re += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{' && closingBrace(glob, i) > 0) {
      const end = closingBrace(glob, i);
      re += `(?:${splitTopLevel(glob.slice(i + 1, end)).map(globSource).join('|')})`;
      i = end;
    } else {
      re += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
    }
  }
  return re;
}

/** The index of the `}` closing the `{` at `open`, or -1. */
function closingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    if (glob[i] === '{') depth++;
    else if (glob[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** `a,{b,c},d` -> `a`, `{b,c}`, `d`. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function ignoreFn(ignore: unknown): ((path: string) => boolean) | null {
  if (ignore === undefined) return null;
  if (typeof ignore === 'function') return ignore as (path: string) => boolean;
  const globs = typeof ignore === 'string' ? [ignore] : ignore;
  if (!Array.isArray(globs) || !globs.every((g): g is string => typeof g === 'string')) {
    throw invalidArgType('options.ignore', 'a string, an array of strings or a function', ignore);
  }
  const res = globs.map(globToRegExp);
  // `dir/**` should also cover `dir` itself, so that the directory is not watched.
  return (path) => res.some((re) => re.test(path) || re.test(`${path}/`));
}

/** What a predicate threw, as the Error an error event carries. */
function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error('options.ignore threw a value that is not an Error', { cause: thrown });
}

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
}

/** A directory that vanished or stopped being one between the event and our look: the events tell the rest. */
function isRace(err: unknown): boolean {
  const code = errnoOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** One watched directory: its watch, and the names in it as last seen (for dedupe and overflow diffs). */
interface Dir {
  watch: InotifyWatch;
  parent: Dir | null;
  name: string;
  /** Name -> whether it is a directory. Bounded by the tree: one entry per existing name. */
  entries: Map<string, boolean>;
  subdirs: Map<string, Dir>;
}

/**
 * A watched tree. Events flow only while someone consumes (an `'event'`
 * listener or a pending `next()`): otherwise the kernel queue holds them, and
 * if it overflows the watcher rescans and says so.
 */
export class Watcher<P extends string | Buffer = string> extends EventPump<WatchEvent<P>> {
  readonly root: string;
  readonly recursive: boolean;
  /** Resolves once every directory that existed at the start is watched and scanned. */
  readonly ready: Promise<void>;
  readonly #ino: Inotify;
  readonly #types: ReadonlySet<WatchEventType>;
  readonly #mask: InotifyEventName[];
  readonly #ignored: ((path: string) => boolean) | null;
  readonly #follow: boolean;
  /** New directories are watched by the native side as soon as their event is read (`InotifyWatchOptions.subtree`). */
  readonly #subtree: boolean;
  readonly #encoding: Encoding;
  readonly #byWatch = new Map<InotifyWatch, Dir>();
  readonly #rootDir: Dir;
  #attached = false;
  #detachQueued = false;
  #closed = false;
  readonly #onEvent = (ev: InotifyEvent): void => {
    this.#handle(ev);
    this.dispatch();
  };
  readonly #onError = (err: Error): void => this.report(err);

  constructor(root: InotifyPath, options?: WatchOptions) {
    super();
    const { text } = toPath(root, 'root');
    const opts = validateOptions<WatchOptions>(options, 'options', WATCH_OPTIONS);
    const persistent = opts.persistent === undefined ? true : validateBoolean(opts.persistent, 'options.persistent');
    this.#encoding = opts.encoding === undefined ? 'utf8' : validateEncoding(opts.encoding, 'options.encoding');
    this.recursive = opts.recursive === undefined ? false : validateBoolean(opts.recursive, 'options.recursive');
    this.#follow = opts.followSymlinks === undefined ? false : validateBoolean(opts.followSymlinks, 'options.followSymlinks');
    const types = opts.events ?? DEFAULT_EVENTS;
    if (!Array.isArray(types)) throw invalidArgType('options.events', 'an array', types);
    for (const t of types) if (!ALL_TYPES.has(t as WatchEventType)) throw invalidArgValue('options.events', t, 'has an unknown event type');
    // Never filtered out: both say that something was missed, which no filter makes untrue.
    this.#types = new Set<WatchEventType>([...types, 'overflow', 'error']);
    const mask = new Set<InotifyEventName>(STRUCTURAL);
    for (const t of this.#types) {
      if (t !== 'rename' && t !== 'moved_out' && t !== 'moved_in' && t !== 'overflow' && t !== 'error') mask.add(t);
    }
    this.#mask = [...mask];
    this.#ignored = ignoreFn(opts.ignore);
    // The native side cannot ask an ignore predicate: with one, every new directory is watched from here.
    this.#subtree = this.recursive && this.#ignored === null;
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    this.root = text.length > 1 && text.endsWith('/') ? text.slice(0, -1) : text;

    this.#ino = new Inotify({ buffer: opts.buffer, coalesce: opts.coalesce });
    this.#ino.on('error', this.#onError);
    try {
      // The root fails loudly (as fs.watch does); everything below it is per-subtree.
      const watch = this.#ino.add(this.root, this.#mask, { followSymlinks: this.#follow, subtree: this.#subtree });
      this.#rootDir = { watch, parent: null, name: '', entries: new Map(), subdirs: new Map() };
      this.#byWatch.set(watch, this.#rootDir);
    } catch (err) {
      this.#ino.close();
      throw err;
    }
    if (signal) {
      if (signal.aborted) this.close();
      else signal.addEventListener('abort', () => this.close(), { once: true });
    }
    if (!persistent) this.unref();
    // After a macrotask, so that listeners attached now see the walk's error events.
    this.ready = new Promise<void>((resolve) => {
      setImmediate(() => {
        if (!this.#closed) this.#scan(this.#rootDir, null);
        try {
          this.dispatch();
        } finally {
          resolve(); // a listener's throw goes on to uncaughtException
        }
      });
    });
  }

  /** The Inotify this watcher owns (for `watches()` and `overflows`); do not add or remove watches through it. */
  get inotify(): Inotify {
    return this.#ino;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops watching. Pending `next()`s resolve done; `'close'` is emitted. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ino.off('event', this.#onEvent);
    this.#ino.close();
    this.#byWatch.clear();
    this.closeQueue();
    process.nextTick(() => this.emit('close'));
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  ref(): this {
    this.#ino.ref();
    return this;
  }

  unref(): this {
    this.#ino.unref();
    return this;
  }

  // ---- consumption ----

  /** Reads from the kernel only while someone consumes; otherwise its queue is the backpressure. */
  protected consumersChanged(): void {
    if (this.#closed) return;
    const wanted = this.waiters.length > 0 || this.listening > 0;
    if (wanted && !this.#attached) {
      this.#attached = true;
      this.#ino.on('event', this.#onEvent);
    } else if (!wanted && this.#attached && !this.#detachQueued) {
      // Later: Inotify delivers the rest of a batch to the listeners it saw at its start.
      this.#detachQueued = true;
      queueMicrotask(() => {
        this.#detachQueued = false;
        if (this.#attached && !this.#closed && this.waiters.length === 0 && this.listening === 0) {
          this.#attached = false;
          this.#ino.off('event', this.#onEvent);
        }
      });
    }
  }

  /**
   * Queues an event of the bookkeeping step under way; `dispatch()` delivers
   * them once the step is done, so that user code runs on an up-to-date tree
   * (a new directory watched and scanned before its create is seen) and cannot
   * cut a step short.
   */
  #push(event: WatchEvent): void {
    if (this.#types.has(event.type)) this.queue.push(encodeEvent(event, this.#encoding) as WatchEvent<P>);
  }

  /** A predicate that throws ignores nothing: the path is watched and reported, after an error event with the throw. */
  #ignore(path: string, isDir: boolean): boolean {
    if (this.#ignored === null) return false;
    try {
      return this.#ignored(path);
    } catch (err) {
      this.#push({ type: 'error', path, isDir, error: asError(err) });
      return false;
    }
  }

  // ---- the tree ----

  #pathOf(parent: Dir, name: string): string {
    const p = parent.watch.path;
    return p.endsWith('/') ? p + name : `${p}/${name}`;
  }

  /**
   * Watches `parent/name` and then scans it (watch first, so nothing created
   * in between is missed), with its subdirectories. Names not yet known are
   * reported as creates (`emit`) or collected (`created`).
   */
  #addDir(parent: Dir, name: string, emit: boolean, created: string[] | null): void {
    if (this.#closed) return; // by an ignore predicate
    const path = this.#pathOf(parent, name);
    let watch: InotifyWatch;
    try {
      watch = this.#ino.add(path, this.#mask, { onlyDir: true, followSymlinks: this.#follow, subtree: this.#subtree });
    } catch (err) {
      if (!isRace(err)) this.#push({ type: 'error', path, isDir: true, error: err as Error });
      return;
    }
    const seen = this.#byWatch.get(watch);
    if (seen) {
      // The same directory by another path (a symlink loop, a bind mount): keep one watch, under its first path.
      watch.path = seen.parent ? this.#pathOf(seen.parent, seen.name) : this.root;
      return;
    }
    const old = parent.subdirs.get(name);
    if (old) this.#retire(old, null);
    const dir: Dir = { watch, parent, name, entries: new Map(), subdirs: new Map() };
    this.#byWatch.set(watch, dir);
    parent.subdirs.set(name, dir);
    this.#scan(dir, emit ? null : created, emit);
  }

  #scan(dir: Dir, created: string[] | null, emit = false): void {
    const path = dir.watch.path;
    let list: Dirent[];
    try {
      list = readdirSync(path, { withFileTypes: true });
    } catch (err) {
      if (!isRace(err)) this.#push({ type: 'error', path, isDir: true, error: err as Error });
      return;
    }
    for (const d of list) {
      const full = this.#pathOf(dir, d.name);
      const isDir = d.isDirectory() || (this.#follow && d.isSymbolicLink() && this.#isDirTarget(full));
      if (this.#ignore(full, isDir)) continue;
      if (!dir.entries.has(d.name)) {
        dir.entries.set(d.name, isDir);
        if (emit) {
          this.#push({ type: 'create', path: full, isDir, scanned: true });
          // Its open, write and close may all have come before the watch: the kernel will not report them.
          if (d.isFile()) this.#push({ type: 'close_write', path: full, isDir: false, scanned: true });
        } else {
          created?.push(full);
        }
      }
      if (isDir && (this.recursive) && !dir.subdirs.has(d.name)) this.#addDir(dir, d.name, emit, created);
    }
  }

  #isDirTarget(path: string): boolean {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  }

  /** Drops a directory and everything under it; collects the paths it knew into `deleted`. */
  #retire(dir: Dir, deleted: string[] | null): void {
    if (dir.parent && dir.parent.subdirs.get(dir.name) === dir) dir.parent.subdirs.delete(dir.name);
    const stack = [dir];
    for (let d = stack.pop(); d; d = stack.pop()) {
      if (this.#byWatch.get(d.watch) === d) {
        this.#byWatch.delete(d.watch);
        try {
          d.watch.remove();
        } catch {
          // Gone already; its IN_IGNORED is on the way.
        }
      }
      if (deleted) for (const name of d.entries.keys()) deleted.push(this.#pathOf(d, name));
      for (const sub of d.subdirs.values()) stack.push(sub);
    }
  }

  /** Points every watch of a moved subtree at its new path. */
  #rebase(dir: Dir): void {
    const stack = [dir];
    for (let d = stack.pop(); d; d = stack.pop()) {
      if (d.parent) d.watch.path = this.#pathOf(d.parent, d.name);
      for (const sub of d.subdirs.values()) stack.push(sub);
    }
  }

  #handle(ev: InotifyEvent): void {
    if (this.#closed) return;
    if (ev.type === 'overflow') {
      this.#push({ type: 'overflow', path: this.root, isDir: true, changes: this.#rescan() });
      return;
    }
    if (ev.type === 'ignored') {
      const dir = this.#byWatch.get(ev.watch);
      if (dir) {
        this.#byWatch.delete(ev.watch);
        if (dir.parent && dir.parent.subdirs.get(dir.name) === dir) dir.parent.subdirs.delete(dir.name);
      }
      return;
    }
    if (ev.type === 'rename') {
      this.#onRename(ev.oldWatch, ev.oldName, ev.oldPath, ev.watch, ev.name, ev.path, ev.isDir);
      return;
    }
    const dir = this.#byWatch.get(ev.watch);
    if (!dir) {
      // The native side's watch of a directory that left the tree before our scan got to it.
      try {
        ev.watch.remove();
      } catch {
        // Gone already; its IN_IGNORED is on the way.
      }
      return;
    }
    if (ev.name === null) {
      // A directory's own events repeat its parent's, except for the root, whose parent is not watched.
      if (dir !== this.#rootDir) return;
      if (ev.type === 'delete_self') this.#push({ type: 'delete', path: this.root, isDir: true });
      else if (ev.type === 'move_self') this.#push({ type: 'moved_out', path: this.root, isDir: true });
      else if (ev.type === 'attrib') this.#push({ type: 'attrib', path: this.root, isDir: ev.isDir });
      // A watched file's content and opens (a directory's are our own scans).
      else if (!ev.isDir && CONTENT_TYPES.has(ev.type)) this.#push({ type: ev.type as WatchEntryEvent['type'], path: this.root, isDir: false });
      return;
    }
    const name = ev.name;
    // From the tree, not ev.path: a batch is parsed before the renames in it move our watches.
    const path = this.#pathOf(dir, name);
    if (this.#ignore(path, ev.isDir)) return;
    switch (ev.type) {
      case 'create':
        if (dir.entries.has(name)) return; // reported already by a scan
        dir.entries.set(name, ev.isDir);
        this.#push({ type: 'create', path, isDir: ev.isDir });
        if (this.recursive && this.#isDir(ev.isDir, path)) this.#addDir(dir, name, true, null);
        return;
      case 'delete':
        dir.entries.delete(name);
        this.#dropSub(dir, name);
        this.#push({ type: 'delete', path, isDir: ev.isDir });
        return;
      case 'moved_from':
        dir.entries.delete(name);
        this.#dropSub(dir, name);
        this.#push({ type: 'moved_out', path, isDir: ev.isDir });
        return;
      case 'moved_to':
        this.#movedIn(dir, name, path, ev.isDir);
        return;
      case 'modify':
      case 'attrib':
      case 'close_write':
      case 'close_nowrite':
      case 'open':
      case 'access':
        this.#push({ type: ev.type, path, isDir: ev.isDir });
        return;
      default:
        return;
    }
  }

  /** Whether a created entry is a directory to descend into (a symlink to one counts with followSymlinks). */
  #isDir(isDir: boolean, path: string): boolean {
    return isDir || (this.#follow && this.#isDirTarget(path));
  }

  #dropSub(dir: Dir, name: string): void {
    const sub = dir.subdirs.get(name);
    if (sub) this.#retire(sub, null);
  }

  #movedIn(dir: Dir, name: string, path: string, isDir: boolean): void {
    dir.entries.set(name, isDir);
    this.#push({ type: 'moved_in', path, isDir });
    if (this.recursive && this.#isDir(isDir, path)) this.#addDir(dir, name, true, null);
  }

  #onRename(oldWatch: InotifyWatch, oldName: string, staleOldPath: string, newWatch: InotifyWatch, name: string, stalePath: string, isDir: boolean): void {
    const from = this.#byWatch.get(oldWatch);
    const to = this.#byWatch.get(newWatch);
    const oldPath = from ? this.#pathOf(from, oldName) : staleOldPath;
    const path = to ? this.#pathOf(to, name) : stalePath;
    const fromIgnored = !from || this.#ignore(oldPath, isDir);
    const toIgnored = !to || this.#ignore(path, isDir);
    if (fromIgnored && toIgnored) return;
    if (toIgnored) {
      from!.entries.delete(oldName);
      this.#dropSub(from!, oldName);
      this.#push({ type: 'moved_out', path: oldPath, isDir });
      return;
    }
    if (fromIgnored) {
      this.#movedIn(to!, name, path, isDir);
      return;
    }
    from!.entries.delete(oldName);
    to!.entries.set(name, isDir);
    const sub = from!.subdirs.get(oldName);
    this.#push({ type: 'rename', path, oldPath, isDir });
    if (sub) {
      from!.subdirs.delete(oldName);
      const replaced = to!.subdirs.get(name);
      if (replaced && replaced !== sub) this.#retire(replaced, null);
      sub.parent = to!;
      sub.name = name;
      to!.subdirs.set(name, sub);
      this.#rebase(sub);
    } else if (this.recursive && this.#isDir(isDir, path)) {
      this.#addDir(to!, name, true, null);
    }
  }

  /**
   * After an overflow: compare every known directory's names with the disk.
   * Deletions are applied before additions, so that a directory moved while
   * events were lost is re-watched under its new path rather than found
   * "watched already" under its old one.
   */
  #rescan(): WatchChanges {
    const changes: WatchChanges = { created: [], deleted: [] };
    // Each directory's listing, without what is ignored.
    const fresh: [Dir, Dirent[]][] = [];
    const stack: Dir[] = [this.#rootDir];
    for (let d = stack.pop(); d; d = stack.pop()) {
      if (this.#byWatch.get(d.watch) !== d) continue;
      let list: Dirent[];
      try {
        list = readdirSync(d.watch.path, { withFileTypes: true });
      } catch (err) {
        if (!isRace(err)) this.#push({ type: 'error', path: d.watch.path, isDir: true, error: err as Error });
        list = [];
      }
      const kept: Dirent[] = [];
      for (const e of list) if (!this.#ignore(this.#pathOf(d, e.name), e.isDirectory())) kept.push(e);
      const now = new Set(kept.map((e) => e.name));
      for (const name of [...d.entries.keys()]) {
        if (now.has(name)) continue;
        d.entries.delete(name);
        changes.deleted.push(this.#pathOf(d, name));
        const sub = d.subdirs.get(name);
        if (sub) this.#retire(sub, changes.deleted);
      }
      fresh.push([d, kept]);
      for (const sub of d.subdirs.values()) stack.push(sub);
    }
    for (const [d, list] of fresh) {
      if (this.#byWatch.get(d.watch) !== d) continue;
      for (const e of list) {
        const full = this.#pathOf(d, e.name);
        const isDir = e.isDirectory() || (this.#follow && e.isSymbolicLink() && this.#isDirTarget(full));
        if (!d.entries.has(e.name)) {
          d.entries.set(e.name, isDir);
          changes.created.push(full);
        }
        if (isDir && this.recursive && !d.subdirs.has(e.name)) this.#addDir(d, e.name, false, changes.created);
      }
    }
    return changes;
  }
}

/**
 * Watches `root` (with `recursive`, its whole tree: one inotify watch per
 * directory). Throws if the root itself cannot be watched. Takes the
 * arguments `fs.watch` takes: a path as a string, Buffer or URL; options as
 * an object or an encoding; a listener, attached for `'event'`.
 */
export function watch(root: InotifyPath, options: 'buffer' | (WatchOptions & { encoding: 'buffer' }), listener?: WatchListener<Buffer>): Watcher<Buffer>;
export function watch(root: InotifyPath, options?: BufferEncoding | WatchOptions | WatchListener, listener?: WatchListener): Watcher;
export function watch(root: InotifyPath, options?: unknown, listener?: unknown): Watcher<string | Buffer> {
  if (typeof options === 'function') {
    listener = options;
    options = undefined;
  } else if (typeof options === 'string') {
    options = { encoding: validateEncoding(options, 'options') };
  }
  if (listener !== undefined && typeof listener !== 'function') throw invalidArgType('listener', 'of type function', listener);
  const w = new Watcher<string | Buffer>(root, options as WatchOptions | undefined);
  if (listener !== undefined) w.on('event', listener as WatchListener<string | Buffer>);
  return w;
}

export type WatcherEvents<P extends string | Buffer = string> = SourceEvents<WatchEvent<P>>;
