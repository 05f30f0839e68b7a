/**
 * `butter/watcher`: `@parcel/watcher`'s API on Butter's recursive `watch()`
 * (src/high/watch.ts), so that switching is a change of module name. Events
 * are coalesced per path and batched on @parcel/watcher's clock; queue
 * overflows, which it drops, are rescanned and reported.
 */
import { lstatSync, readdirSync, readFileSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { invalidArgType, sysError } from './core/errors';
import { validateOptions } from './core/validate';
import { globToRegExp, watch, type WatchEvent, type Watcher } from './high/watch';

export type EventType = 'create' | 'update' | 'delete';
export type BackendType = 'fs-events' | 'watchman' | 'inotify' | 'windows' | 'brute-force';

export interface Event {
  path: string;
  type: EventType;
}

export interface Options {
  /** Paths (relative to the watched directory, or absolute), globs (relative paths) and RegExps (searched in relative paths). */
  ignore?: (string | RegExp)[];
  /** Accepted for compatibility; Butter always uses inotify (and a tree walk for snapshots). */
  backend?: BackendType;
}

export type SubscribeCallback = (err: Error | null, events: Event[]) => unknown;

export interface AsyncSubscription {
  unsubscribe(): Promise<void>;
}

/** @parcel/watcher's batching: a batch closes after 50 ms without events, or 500 ms after the last one was delivered. */
const QUIET_MS = 50;
const MAX_WAIT_MS = 500;
/** File timestamps come from the kernel's coarse clock, up to a tick (10 ms at HZ=100) behind: margin for it. */
const CTIME_SLACK_MS = 100;

/** What happened to one path within a batch (@parcel/watcher's rules: create + delete is nothing, delete + create an update). */
interface Change {
  created: boolean;
  deleted: boolean;
}

/** `ignore` as one predicate on full paths; `null` when nothing is ignored. */
function ignorePredicate(dir: string, options: Partial<Options>): ((path: string) => boolean) | null {
  const list = options.ignore;
  if (list === undefined) return null;
  if (!Array.isArray(list)) throw invalidArgType('options.ignore', 'an array', list);
  const paths: string[] = [];
  const res: RegExp[] = [];
  for (const item of list) {
    if (item instanceof RegExp) {
      // As @parcel/watcher: its native matcher has no flags.
      if (item.flags !== '') throw new Error(`RegExp ignore patterns must not have flags (got /${item.source}/${item.flags}). Flags are not supported by the native matcher.`);
      res.push(item);
    } else if (typeof item !== 'string') {
      throw invalidArgType('options.ignore[]', 'of type string or an instance of RegExp', item);
    } else if (isGlob(item)) {
      res.push(globToRegExp(item));
    } else {
      paths.push(resolvePath(dir, item));
    }
  }
  if (paths.length === 0 && res.length === 0) return null;
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return (path) => {
    for (const p of paths) if (path === p || path.startsWith(`${p}/`)) return true;
    if (!path.startsWith(base)) return false;
    const rel = path.slice(base.length);
    return res.some((re) => re.test(rel));
  };
}

/** What is-glob (which @parcel/watcher uses) calls a glob, for the syntax globToRegExp knows. */
function isGlob(s: string): boolean {
  return s.includes('*') || /\[[^\]]+\]/.test(s) || /\{[^}]*\}/.test(s);
}

interface Shared {
  watcher: Watcher;
  callbacks: Set<SubscribeCallback>;
  ignored: ((path: string) => boolean) | null;
  batch: Map<string, Change>;
  error: Error | null;
  timer: NodeJS.Timeout | NodeJS.Immediate | null;
  /** When the last batch was delivered (performance.now()). */
  lastDelivery: number;
  /** When the last event was handled (performance.now()). */
  lastEvent: number;
  /** When the last event of an earlier read was handled: the queue was not full then, so what an overflow lost came later. */
  lastRead: number;
  /** Whether events of the current read are being handled (cleared on the next turn). */
  reading: boolean;
}

/** Subscriptions by directory and ignore list: one watch serves every callback with the same key, as in @parcel/watcher. */
const subscriptions = new Map<string, Shared>();

function keyOf(dir: string, options: Partial<Options>): string {
  const ignore = (options.ignore ?? []).map((i) => (i instanceof RegExp ? `re:${i.source}` : `s:${i}`));
  return JSON.stringify([dir, ignore]);
}

function created(s: Shared, path: string): void {
  const c = s.batch.get(path);
  if (c === undefined) s.batch.set(path, { created: true, deleted: false });
  // Deleted then created again within a batch: the path changed, it did not appear.
  else if (c.deleted) c.deleted = false;
  else c.created = true;
}

function updated(s: Shared, path: string): void {
  if (!s.batch.has(path)) s.batch.set(path, { created: false, deleted: false });
}

function deleted(s: Shared, path: string): void {
  const c = s.batch.get(path);
  if (c === undefined) s.batch.set(path, { created: false, deleted: true });
  else c.deleted = true;
}

function endRead(s: Shared): void {
  s.reading = false;
}

function onEvent(s: Shared, ev: WatchEvent): void {
  if (!s.reading) {
    s.reading = true;
    s.lastRead = s.lastEvent;
    setImmediate(endRead, s);
  }
  s.lastEvent = performance.now();
  switch (ev.type) {
    case 'create':
    case 'moved_in':
      created(s, ev.path);
      break;
    case 'modify':
    case 'attrib':
      updated(s, ev.path);
      break;
    case 'delete':
    case 'moved_out':
      deleted(s, ev.path);
      break;
    case 'rename':
      deleted(s, ev.oldPath);
      created(s, ev.path);
      break;
    case 'overflow':
      for (const p of ev.changes.deleted) deleted(s, p);
      for (const p of ev.changes.created) created(s, p);
      for (const p of changedSince(ev.path, s.ignored, Date.now() - (performance.now() - s.lastRead) - CTIME_SLACK_MS)) updated(s, p);
      break;
    case 'error':
      s.error ??= ev.error;
      break;
    default:
      return;
  }
  schedule(s);
}

/**
 * As @parcel/watcher's debouncer: the first change after a quiet spell goes
 * out at once (with the rest of its read), later ones when 50 ms pass without
 * a change or 500 ms after the last delivery. One timer per batch: it checks
 * for calm when it fires rather than being re-armed by every event.
 */
function schedule(s: Shared): void {
  if (s.timer !== null) return;
  if (s.lastEvent - s.lastDelivery > MAX_WAIT_MS) s.timer = setImmediate(deliver, s);
  else s.timer = setTimeout(settle, QUIET_MS, s);
}

function settle(s: Shared): void {
  const t = performance.now();
  const calm = t - s.lastEvent;
  const waited = t - s.lastDelivery;
  if (calm >= QUIET_MS || waited >= MAX_WAIT_MS) deliver(s);
  else s.timer = setTimeout(settle, Math.min(QUIET_MS - calm, MAX_WAIT_MS - waited), s);
}

function deliver(s: Shared): void {
  s.timer = null;
  s.lastDelivery = performance.now();
  const events: Event[] = [];
  for (const [path, c] of s.batch) {
    if (c.created && c.deleted) continue;
    events.push({ path, type: c.created ? 'create' : c.deleted ? 'delete' : 'update' });
  }
  const error = s.error;
  s.batch.clear();
  s.error = null;
  if (events.length === 0 && error === null) return;
  // @parcel/watcher's order: by path.
  events.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const callbacks = [...s.callbacks];
  for (const fn of callbacks) {
    try {
      // Each callback its own objects, as from @parcel/watcher.
      fn(error, callbacks.length === 1 ? events : events.map((e) => ({ ...e })));
    } catch (err) {
      // As @parcel/watcher: a callback's throw is the process's uncaught exception.
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

/** Every entry of the tree, by full path, not descending into ignored directories. */
function walk(dir: string, ignored: ((path: string) => boolean) | null, visit: (path: string, entry: Dirent) => void): void {
  const stack = [dir];
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    let list: Dirent[];
    try {
      list = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      // The root is checked by the caller; a subdirectory that went away or cannot be read has nothing to list.
      if (d === dir) throw err;
      continue;
    }
    for (const e of list) {
      const full = d.endsWith('/') ? d + e.name : `${d}/${e.name}`;
      if (ignored?.(full)) continue;
      visit(full, e);
      if (e.isDirectory()) stack.push(full);
    }
  }
}

/** Files whose inode changed at or after `since` (ms since the epoch): what an overflow may have hidden. */
function changedSince(dir: string, ignored: ((path: string) => boolean) | null, since: number): string[] {
  const paths: string[] = [];
  walk(dir, ignored, (path, e) => {
    if (e.isDirectory()) return;
    try {
      if (lstatSync(path).ctimeMs >= since) paths.push(path);
    } catch {
      // Gone since the listing: the rescan's delete says so.
    }
  });
  return paths;
}

function validateCallback(fn: unknown): SubscribeCallback {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
  return fn as SubscribeCallback;
}

function validateDir(dir: unknown, name: string): string {
  if (typeof dir !== 'string') throw invalidArgType(name, 'of type string', dir);
  return resolvePath(dir);
}

/**
 * Calls `fn(err, events)` with batches of changes under `dir` (recursively)
 * once it is watched; rejects if `dir` cannot be watched.
 */
export async function subscribe(dir: string, fn: SubscribeCallback, opts?: Options): Promise<AsyncSubscription> {
  const root = validateDir(dir, 'dir');
  const callback = validateCallback(fn);
  const options = validateOptions<Options>(opts);
  const ignored = ignorePredicate(root, options);
  const key = keyOf(root, options);
  let s = subscriptions.get(key);
  if (s === undefined) {
    // As @parcel/watcher: a file is refused (watch() would watch it alone), as IN_ONLYDIR would.
    if (!statSync(root).isDirectory()) throw sysError(20, 'inotify_add_watch', root);
    const w = watch(root, {
      recursive: true,
      events: ['create', 'modify', 'attrib', 'delete', 'rename', 'moved_in', 'moved_out'],
      ...(ignored ? { ignore: ignored } : {}),
    });
    const shared: Shared = { watcher: w, callbacks: new Set(), ignored, batch: new Map(), error: null, timer: null, lastDelivery: -Infinity, lastEvent: performance.now(), lastRead: performance.now(), reading: false };
    w.on('event', (ev) => onEvent(shared, ev));
    // A failure of the whole watch: the callbacks hear it, and the subscription ends, as in @parcel/watcher.
    w.on('error', (err) => {
      const callbacks = [...shared.callbacks];
      end(key, shared);
      for (const cb of callbacks) cb(err, []);
    });
    subscriptions.set(key, shared);
    s = shared;
    await w.ready;
  } else {
    await s.watcher.ready;
  }
  // Ended while its tree was walked (its last callback unsubscribed, or the watch failed): start afresh.
  if (subscriptions.get(key) !== s) return subscribe(dir, fn, opts);
  s.callbacks.add(callback);
  return { unsubscribe: () => unsubscribe(root, callback, opts) };
}

function end(key: string, s: Shared): void {
  if (subscriptions.get(key) === s) subscriptions.delete(key);
  s.callbacks.clear();
  if (s.timer !== null) {
    clearTimeout(s.timer as NodeJS.Timeout);
    clearImmediate(s.timer as NodeJS.Immediate);
    s.timer = null;
  }
  s.watcher.close();
}

/** Removes `fn` from the subscription with the same `dir` and options; the watch ends with its last callback. */
export async function unsubscribe(dir: string, fn: SubscribeCallback, opts?: Options): Promise<void> {
  const root = validateDir(dir, 'dir');
  const callback = validateCallback(fn);
  const key = keyOf(root, validateOptions<Options>(opts));
  const s = subscriptions.get(key);
  if (s === undefined || !s.callbacks.delete(callback)) return;
  if (s.callbacks.size === 0) end(key, s);
}

// ---- snapshots ----

/** One entry of a snapshot: what tells a changed file from an unchanged one. */
interface Entry {
  isDir: boolean;
  ino: bigint;
  mtimeNs: bigint;
  size: bigint;
}

const SNAPSHOT_MAGIC = 'butter-watcher-snapshot 1';

function tree(root: string, ignored: ((path: string) => boolean) | null): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const st = lstatSync(root);
  if (!st.isDirectory()) throw sysError(20, 'scandir', root);
  walk(root, ignored, (path) => {
    try {
      const s = lstatSync(path, { bigint: true });
      entries.set(path, { isDir: s.isDirectory(), ino: s.ino, mtimeNs: s.mtimeNs, size: s.size });
    } catch {
      // Gone since the listing.
    }
  });
  return entries;
}

/** Writes a snapshot of `dir`'s tree (paths, inodes, mtimes, sizes) to `snapshot`; resolves to its path. */
export async function writeSnapshot(dir: string, snapshot: string, opts?: Options): Promise<string> {
  const root = validateDir(dir, 'dir');
  const file = validateDir(snapshot, 'snapshot');
  const entries = tree(root, ignorePredicate(root, validateOptions<Options>(opts)));
  const lines = [SNAPSHOT_MAGIC];
  for (const [path, e] of entries) lines.push(`${e.isDir ? 1 : 0} ${e.ino} ${e.mtimeNs} ${e.size} ${JSON.stringify(path)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Reads a snapshot written by `writeSnapshot`, or by @parcel/watcher's (its
 * paths and mtimes: a project switching keeps its snapshots).
 */
function readSnapshot(file: string): Map<string, Entry> {
  const text = readFileSync(file, 'utf8');
  const entries = new Map<string, Entry>();
  if (text.startsWith(`${SNAPSHOT_MAGIC}\n`)) {
    for (const line of text.split('\n').slice(1)) {
      if (line === '') continue;
      const m = /^([01]) (\d+) (\d+) (\d+) (".*")$/.exec(line);
      if (m === null) throw new Error(`Invalid snapshot file: ${file}`);
      entries.set(JSON.parse(m[5]!) as string, { isDir: m[1] === '1', ino: BigInt(m[2]!), mtimeNs: BigInt(m[3]!), size: BigInt(m[4]!) });
    }
    return entries;
  }
  // @parcel/watcher's: a count line, then `<path length><path><mtime ns> <isDir>` per entry (lengths in bytes).
  const bytes = Buffer.from(text, 'utf8');
  let at = bytes.indexOf(10) + 1;
  const count = Number(bytes.subarray(0, at).toString());
  if (!Number.isInteger(count) || at === 0) throw new Error(`Invalid snapshot file: ${file}`);
  for (let i = 0; i < count; i++) {
    const m = /^(\d+)/.exec(bytes.subarray(at, at + 20).toString('latin1'));
    if (m === null) throw new Error(`Invalid snapshot file: ${file}`);
    at += m[1]!.length;
    const len = Number(m[1]);
    const path = bytes.subarray(at, at + len).toString();
    at += len;
    const end = bytes.indexOf(10, at);
    const rest = /^(\d+) ([01])$/.exec(bytes.subarray(at, end).toString('latin1'));
    if (end < 0 || rest === null) throw new Error(`Invalid snapshot file: ${file}`);
    at = end + 1;
    // No inode nor size there: 0 matches nothing, so only the mtime is compared.
    entries.set(path, { isDir: rest[2] === '1', ino: 0n, mtimeNs: BigInt(rest[1]!), size: -1n });
  }
  return entries;
}

/** The changes to `dir`'s tree since `snapshot` was written, coalesced as a subscription's batch is. */
export async function getEventsSince(dir: string, snapshot: string, opts?: Options): Promise<Event[]> {
  const root = validateDir(dir, 'dir');
  const file = validateDir(snapshot, 'snapshot');
  const ignored = ignorePredicate(root, validateOptions<Options>(opts));
  const before = readSnapshot(file);
  const now = tree(root, ignored);
  const events: Event[] = [];
  for (const [path, e] of now) {
    const old = before.get(path);
    if (old === undefined) events.push({ path, type: 'create' });
    else if (!e.isDir && !old.isDir && (e.mtimeNs !== old.mtimeNs || (old.ino !== 0n && (e.ino !== old.ino || e.size !== old.size)))) events.push({ path, type: 'update' });
  }
  for (const path of before.keys()) {
    // The root (in @parcel/watcher's snapshots) is no change, nor what is ignored now.
    if (path !== root && !now.has(path) && !ignored?.(path)) events.push({ path, type: 'delete' });
  }
  events.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return events;
}
