/**
 * `butter watch`: inotify-tools' `inotifywait` on Butter's `Inotify`, with the
 * same options, output and exit codes where they overlap, so that a script
 * written for `inotifywait` can switch; plus `--json` lines and joined renames.
 *
 * One `Inotify` serves every case: recursion is done here rather than with
 * `watch()` because `%e` must print the kernel's own mask names, which only
 * `Inotify` events carry.
 *
 * Paths are bytes, and printed as bytes (as inotifywait prints them): a name
 * that is not UTF-8 reaches stdout as the kernel gave it, so a script can open
 * it. Only the filters (regexes) and `--json` see decoded text.
 */
import { isUtf8 } from 'node:buffer';
import { readdirSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, describe, loadButter, parseOrUsage } from './common';
import type { Command, Io } from './main';

type Butter = typeof import('../index');
type Ino = InstanceType<Butter['Inotify']>;
type InoEvent = import('../index').InotifyEvent;
type InoWatch = import('../index').InotifyWatch;

/** inotifywait's exit codes. */
const EXIT_EVENT = 0;
const EXIT_FAILURE = 1;
const EXIT_TIMEOUT = 2;

/** The event names `-e` takes: inotifywait's list (`close` and `move` are groups). */
const EVENT_NAMES = [
  'access', 'modify', 'attrib', 'close_write', 'close_nowrite', 'close', 'open',
  'moved_to', 'moved_from', 'move', 'move_self', 'create', 'delete', 'delete_self', 'unmount',
] as const;
type EventName = (typeof EVENT_NAMES)[number];

/**
 * The order inotifytools prints a mask in. It is not the bit order: `CLOSE`
 * (printed for either close bit) comes after `IGNORED`, and `MOVE_SELF` after it.
 */
const PRINT_ORDER = [
  'access', 'modify', 'attrib', 'close_write', 'close_nowrite', 'open', 'moved_from', 'moved_to',
  'create', 'delete', 'delete_self', 'unmount', 'q_overflow', 'ignored', 'close', 'move_self', 'isdir',
] as const;

/** One line of output: an inotify record, or one half (or both) of a rename. */
interface Item {
  type: string;
  /** `%w`: the watch's path, with a trailing `/` for a directory. */
  watchPath: Buffer;
  /** `%f`: the entry's name, empty for the watched object itself. */
  name: Buffer;
  names: readonly string[];
  isDir: boolean;
  cookie: number;
  /** `%w%f`. */
  path: Buffer;
  oldPath: Buffer | null;
  time: Date;
  /** Found by the listing of a new directory rather than reported by the kernel (`--json` says so). */
  scanned?: true;
}

const SLASH = 0x2f;
const EMPTY = Buffer.alloc(0);

/** A path's bytes as a string that keeps every byte (for Set and Map keys: decoded names may collide). */
function byteKey(path: Buffer): string {
  return path.toString('latin1');
}

function withSlash(path: Buffer): Buffer {
  return path[path.length - 1] === SLASH ? path : Buffer.concat([path, Buffer.from('/')]);
}

interface Options {
  monitor: boolean;
  recursive: boolean;
  quiet: number;
  csv: boolean;
  json: boolean;
  joinRenames: boolean;
  format: string | null;
  timefmt: string | null;
  timeoutMs: number;
  exclude: RegExp | null;
  include: RegExp | null;
  events: EventName[];
  paths: string[];
}


// ---------------------------------------------------------------- formatting

function pad(n: number, width = 2, fill = '0'): string {
  return String(n).padStart(width, fill);
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Expands the `%` directives of `fmt` into pieces: `directive(k, next)` gets
 * the character after a `%` (and the one after it) and returns the piece and
 * how many of the two it used. A `%` at the very end stays as it is.
 */
function expandDirectives<P extends string | Buffer>(fmt: string, directive: (k: string, next: string | undefined) => [piece: P, used: 1 | 2]): (string | P)[] {
  const out: (string | P)[] = [];
  let text = '';
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%' || i + 1 >= fmt.length) {
      text += fmt[i];
      continue;
    }
    const [piece, used] = directive(fmt[i + 1]!, fmt[i + 2]);
    out.push(text, piece);
    text = '';
    i += used;
  }
  out.push(text);
  return out;
}

/** strftime(3) in local time, for the conversions scripts use; others are printed as given. */
export function strftime(fmt: string, d: Date): string {
  return expandDirectives(fmt, (k) => [strftimeOne(k, d), 1]).join('');
}

function strftimeOne(k: string, d: Date): string {
  const h12 = d.getHours() % 12 || 12;
  let out = '';
  switch (k) {
    case 'Y': out += d.getFullYear(); break;
    case 'y': out += pad(d.getFullYear() % 100); break;
    case 'C': out += pad(Math.floor(d.getFullYear() / 100)); break;
    case 'm': out += pad(d.getMonth() + 1); break;
    case 'd': out += pad(d.getDate()); break;
    case 'e': out += pad(d.getDate(), 2, ' '); break;
    case 'H': out += pad(d.getHours()); break;
    case 'I': out += pad(h12); break;
    case 'M': out += pad(d.getMinutes()); break;
    case 'S': out += pad(d.getSeconds()); break;
    case 'p': out += d.getHours() < 12 ? 'AM' : 'PM'; break;
    case 'T': out += `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`; break;
    case 'R': out += `${pad(d.getHours())}:${pad(d.getMinutes())}`; break;
    case 'F': out += `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`; break;
    case 'D': out += `${pad(d.getMonth() + 1)}/${pad(d.getDate())}/${pad(d.getFullYear() % 100)}`; break;
    case 's': out += Math.floor(d.getTime() / 1000); break;
    case 'j': {
      const start = new Date(d.getFullYear(), 0, 1);
      out += pad(Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86_400_000) + 1, 3);
      break;
    }
    case 'a': out += DAYS[d.getDay()]!.slice(0, 3); break;
    case 'A': out += DAYS[d.getDay()]; break;
    case 'b': case 'h': out += MONTHS[d.getMonth()]!.slice(0, 3); break;
    case 'B': out += MONTHS[d.getMonth()]; break;
    case 'u': out += d.getDay() || 7; break;
    case 'w': out += d.getDay(); break;
    case 'z': {
      const off = -d.getTimezoneOffset();
      out += `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
      break;
    }
    case 'n': out += '\n'; break;
    case 't': out += '\t'; break;
    case '%': out += '%'; break;
    default: out += `%${k}`;
  }
  return out;
}

/** A mask as inotifywait prints it: UPPERCASE names joined by `sep`, `CLOSE` added for a close. */
export function eventString(names: readonly string[], sep = ','): string {
  const has = new Set(names);
  if (has.has('close_write') || has.has('close_nowrite')) has.add('close');
  return PRINT_ORDER.filter((n) => has.has(n)).map((n) => n.toUpperCase()).join(sep);
}

/** inotifytools' csv_escape: quote a field holding a comma, quote, newline, or edge space. */
export function csvField(field: Buffer): Buffer {
  const text = field.toString('latin1'); // one character per byte: the bytes come back as they were
  if (!/[",\n]/.test(text) && !text.startsWith(' ') && !text.endsWith(' ')) return field;
  return Buffer.from(`"${text.replace(/"/g, '""')}"`, 'latin1');
}

function concat(pieces: readonly (string | Buffer)[]): Buffer {
  return Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

function formatLine(item: Item, fmt: string, timefmt: string | null): Buffer {
  return concat(expandDirectives<string | Buffer>(fmt, (k, next) => {
    switch (k) {
      case 'w': return [item.watchPath, 1];
      case 'f': return [item.name, 1];
      case 'e': return [eventString(item.names), 1];
      case 'T': return [timefmt === null ? '' : strftime(timefmt, item.time), 1];
      case 'c': return [String(item.cookie), 1];
      case 'o': return [item.oldPath ?? '', 1];
      case '%': return ['%', 1];
      // %Xe: the events separated by X.
      default: return next === 'e' ? [eventString(item.names, k), 2] : [`%${k}`, 1];
    }
  }));
}

/**
 * `--json`: JSON has no bytes, so `path` and `oldPath` are decoded (U+FFFD
 * for what is not UTF-8), and a path that does not survive that also comes as
 * `rawPath` / `oldRawPath`, its bytes in base64.
 */
function jsonLine(item: Item): string {
  const { path, oldPath } = item;
  const line: Record<string, unknown> = { type: item.type, path: path.toString(), oldPath: oldPath?.toString() ?? null, names: item.names, isDir: item.isDir, time: item.time.toISOString() };
  if (!isUtf8(path)) line.rawPath = path.toString('base64');
  if (oldPath !== null && !isUtf8(oldPath)) line.oldRawPath = oldPath.toString('base64');
  if (item.scanned) line.scanned = true;
  return `${JSON.stringify(line)}\n`;
}

function render(item: Item, o: Options): string | Buffer {
  if (o.json) return jsonLine(item);
  if (o.csv) {
    const fields = [csvField(item.watchPath), csvField(Buffer.from(eventString(item.names))), csvField(item.name)];
    if (item.oldPath !== null) fields.push(csvField(item.oldPath));
    return concat([...fields.flatMap((f, i) => (i === 0 ? [f] : [',', f])), '\n']);
  }
  if (o.format !== null) return concat([formatLine(item, o.format, o.timefmt), '\n']);
  return concat([formatLine(item, item.oldPath === null ? '%w %,e %f' : '%w %,e %f %o', null), '\n']);
}

// ---------------------------------------------------------------- options

function parse(args: string[]): Options {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      monitor: { type: 'boolean', short: 'm', default: false },
      recursive: { type: 'boolean', short: 'r', default: false },
      event: { type: 'string', short: 'e', multiple: true, default: [] },
      quiet: { type: 'boolean', short: 'q', multiple: true, default: [] },
      timeout: { type: 'string', short: 't' },
      csv: { type: 'boolean', short: 'c', default: false },
      json: { type: 'boolean', default: false },
      'join-renames': { type: 'boolean', default: false },
      format: { type: 'string' },
      timefmt: { type: 'string' },
      exclude: { type: 'string' },
      excludei: { type: 'string' },
      include: { type: 'string' },
      includei: { type: 'string' },
    },
  });
  const events: EventName[] = [];
  for (const list of values.event) {
    for (const e of list.split(',')) {
      // inotifywait accepts the names in any case.
      const name = e.trim().toLowerCase();
      if (!(EVENT_NAMES as readonly string[]).includes(name)) {
        throw new UsageError(`'${e}' is not a valid event!  Run with the '--help' option to see a list of events.`);
      }
      events.push(name as EventName);
    }
  }
  const format = values.format ?? null;
  const timefmt = values.timefmt ?? null;
  if (values.exclude !== undefined && values.excludei !== undefined) throw new UsageError('--exclude and --excludei cannot both be specified.');
  if (values.include !== undefined && values.includei !== undefined) throw new UsageError('--include and --includei cannot both be specified.');
  const exc = values.exclude ?? values.excludei;
  const inc = values.include ?? values.includei;
  if (exc !== undefined && inc !== undefined) throw new UsageError('include and exclude regexp cannot both be specified.');
  if (format !== null && values.csv) throw new UsageError('-c and --format cannot both be specified.');
  if (values.json && (values.csv || format !== null)) throw new UsageError('--json cannot be combined with --csv or --format.');
  if (format === null && timefmt !== null) throw new UsageError('--timefmt cannot be specified without --format.');
  if (format !== null && format.includes('%T') && timefmt === null) throw new UsageError('%T is in --format string, but --timefmt was not specified.');
  let timeoutMs = 0;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (values.timeout.trim() === '' || !Number.isFinite(s) || s < 0) throw new UsageError(`The timeout value provided is not a valid number: ${values.timeout}`);
    timeoutMs = s * 1000;
  }
  if (positionals.length === 0) throw new UsageError('No files specified to watch!');
  const regex = (source: string | undefined, flags: string): RegExp | null => {
    if (source === undefined) return null;
    try {
      return new RegExp(source, flags);
    } catch (err) {
      throw new UsageError(`invalid regular expression '${source}': ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    monitor: values.monitor,
    recursive: values.recursive,
    quiet: values.quiet.length,
    csv: values.csv,
    json: values.json,
    joinRenames: values['join-renames'],
    format,
    timefmt,
    timeoutMs,
    exclude: regex(exc, values.excludei !== undefined ? 'i' : ''),
    include: regex(inc, values.includei !== undefined ? 'i' : ''),
    events,
    paths: positionals,
  };
}


// ---------------------------------------------------------------- watching

class Session {
  readonly #b: Butter;
  readonly #o: Options;
  readonly #io: Io;
  readonly #ino: Ino;
  /** The events asked for (inotifywait's orig_events); the kernel may be asked for more under -m -r. */
  readonly #wanted: number;
  readonly #kernelMask: number;
  /**
   * Every watch made whose 'ignored' has not been handled yet, with its path's
   * bytes as `%w` prints them (a directory's ending in '/'). Its own count, not
   * `watches()`: a watch is retired when its IN_IGNORED is read, which may be
   * a batch ahead of the events still to print.
   */
  readonly #paths = new Map<InoWatch, Buffer>();
  /**
   * Entries of new directories (by `byteKey`) that a scan reported before the
   * kernel's own CREATE for them came in: that CREATE is then a duplicate.
   */
  readonly #scanned = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #finish: (code: number) => void = () => undefined;
  #done = false;

  constructor(b: Butter, o: Options, io: Io) {
    this.#b = b;
    this.#o = o;
    this.#io = io;
    // Joined in the instance always: following a directory renamed within the tree needs both halves.
    this.#ino = new b.Inotify({ joinRenames: true });
    this.#wanted = o.events.length === 0 ? b.constants.IN_ALL_EVENTS : b.inotifyMask(o.events);
    // Under -m -r new directories must be seen to be watched, whatever was asked for (as inotifywait does).
    this.#kernelMask = o.monitor && o.recursive ? (this.#wanted | b.inotifyMask(['create', 'move'])) >>> 0 : this.#wanted;
  }

  #err(text: string): void {
    if (this.#o.quiet < 2) this.#io.err(text);
  }

  #excluded(path: Buffer): boolean {
    const { exclude, include } = this.#o;
    if (exclude !== null && exclude.test(path.toString())) return true;
    if (include !== null && !include.test(path.toString())) return true;
    return false;
  }

  /** Only --exclude prunes the tree: with --include '\.log$', the files matching are in directories that do not. */
  #pruned(path: Buffer): boolean {
    return this.#o.exclude !== null && this.#o.exclude.test(path.toString());
  }

  #add(path: Buffer, options?: { onlyDir: boolean }): void {
    // Under -m -r a directory's new subdirectories are watched natively, on the read that
    // brings their creation, before JS runs; --exclude needs JS to decide, so it keeps the JS path.
    const subtree = options?.onlyDir === true && this.#o.monitor && this.#o.recursive && this.#o.exclude === null;
    this.#paths.set(this.#ino.add(path, this.#kernelMask, subtree ? { ...options, subtree } : options), path);
  }

  /** The bytes `%w` prints for a watch. */
  #pathOf(watch: InoWatch): Buffer {
    return this.#paths.get(watch) ?? Buffer.from(watch.path);
  }

  /**
   * The directories of a tree, `dir` (ending in '/') first. Listed before any
   * is watched, so that our own reads of them are not reported as events.
   */
  #walk(dir: Buffer, out: Buffer[]): Buffer[] {
    out.push(dir);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      throw Object.assign(err as Error, { butterPath: dir });
    }
    for (const entry of entries) {
      const path = Buffer.concat([dir, entry.name]);
      if (entry.isDirectory() && !this.#pruned(path)) this.#walk(withSlash(path), out);
    }
    return out;
  }

  /**
   * Watches a directory that appeared under -m -r, then lists it: whatever was
   * made in it before the watch landed is reported as CREATE by the listing
   * (inotifywait misses it), and subdirectories get the same treatment. A
   * regular file the listing finds is also reported as CLOSE_WRITE: its own
   * close may have come before the watch, and a script that asked for
   * close_write alone must still learn of it (watch()'s scanned close_write).
   */
  #addNew(dir: Buffer): void {
    try {
      this.#add(dir, { onlyDir: true });
    } catch (err) {
      // Gone or unreadable by now: the rest of the tree is still watched.
      this.#err(`Couldn't watch new directory ${dir}: ${describe(err)}\n`);
      return;
    }
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return; // deleted again already: its events say so
    }
    for (const entry of entries) {
      const path = Buffer.concat([dir, entry.name]);
      if (this.#pruned(path)) continue;
      const isDir = entry.isDirectory();
      this.#scanned.add(byteKey(path));
      const C = this.#b.constants;
      const item = { watchPath: dir, name: entry.name, isDir, cookie: 0, path, oldPath: null, time: new Date(), scanned: true } as const;
      if (this.#wants(C.IN_CREATE)) this.#emit({ ...item, type: 'create', names: isDir ? ['create', 'isdir'] : ['create'] });
      if (entry.isFile() && this.#wants(C.IN_CLOSE_WRITE)) this.#emit({ ...item, type: 'close_write', names: ['close_write'] });
      if (isDir) this.#addNew(withSlash(path));
    }
  }

  close(): void {
    this.#ino.close();
  }

  setup(): number {
    const o = this.#o;
    if (o.quiet === 0) {
      this.#io.err(o.recursive ? 'Setting up watches.  Beware: since -r was given, this may take a while!\n' : 'Setting up watches.\n');
    }
    for (const given of o.paths) {
      let path: Buffer = Buffer.from(given);
      try {
        // The kernel says whether it is a directory: only a directory gets the '/' inotifywait prints.
        let isDir = false;
        try {
          isDir = statSync(given).isDirectory();
        } catch {
          // inotify_add_watch below reports why, in its own words.
        }
        if (!isDir) {
          this.#add(path);
        } else {
          path = withSlash(path);
          for (const dir of o.recursive ? this.#walk(path, []) : [path]) {
            try {
              this.#add(dir, { onlyDir: true });
            } catch (err) {
              throw Object.assign(err as Error, { butterPath: dir });
            }
          }
        }
      } catch (err) {
        const where = (err as { butterPath?: Buffer }).butterPath ?? given;
        this.#err(`Couldn't watch ${where}: ${describe(err)}\n`);
        return EXIT_FAILURE;
      }
    }
    if (o.quiet === 0) this.#io.err('Watches established.\n');
    return EXIT_EVENT;
  }

  run(): Promise<number> {
    return new Promise<number>((resolve) => {
      this.#finish = (code) => {
        if (this.#done) return;
        this.#done = true;
        if (this.#timer !== null) clearTimeout(this.#timer);
        this.#ino.close();
        resolve(code);
      };
      this.#ino.on('event', (ev: InoEvent) => {
        if (!this.#done) this.#handle(ev);
      });
      this.#ino.on('error', (err: Error) => {
        this.#err(`${describe(err)}\n`);
        this.#finish(EXIT_FAILURE);
      });
      this.#armTimer();
    });
  }

  #armTimer(): void {
    if (this.#o.timeoutMs <= 0) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#finish(EXIT_TIMEOUT), this.#o.timeoutMs);
  }

  /** Prints one item if it passes the filters; without -m the first one printed ends the run. */
  #emit(item: Item): void {
    if (this.#done || this.#excluded(item.path)) return;
    this.#io.out(render(item, this.#o));
    if (!this.#o.monitor) this.#finish(EXIT_EVENT);
    else this.#armTimer();
  }

  #wants(mask: number): boolean {
    return (mask & this.#wanted) !== 0;
  }

  #handle(ev: InoEvent): void {
    const time = new Date();
    const bytes = (name: string, raw: Buffer | undefined): Buffer => raw ?? Buffer.from(name);
    if (ev.type === 'overflow') {
      // inotifywait drops it without a word; losing events silently is what Butter exists to avoid.
      this.#err('butter watch: the kernel\'s event queue overflowed: events were lost\n');
      if (this.#o.json) this.#io.out(`${JSON.stringify({ type: 'overflow', path: null, oldPath: null, names: ev.names, isDir: false, time: time.toISOString() })}\n`);
      return;
    }
    const b = this.#b;
    const C = b.constants;
    const tracking = this.#o.monitor && this.#o.recursive;

    if (ev.type === 'rename') {
      const watchPath = this.#pathOf(ev.watch);
      const oldWatchPath = this.#pathOf(ev.oldWatch);
      const name = bytes(ev.name, ev.rawName);
      const oldName = bytes(ev.oldName, ev.oldRawName);
      const path = Buffer.concat([watchPath, name]);
      const oldPath = Buffer.concat([oldWatchPath, oldName]);
      if (tracking && ev.isDir) this.#moveDirs(withSlash(oldPath), withSlash(path));
      const dirBit = ev.isDir ? C.IN_ISDIR : 0;
      if (this.#o.joinRenames) {
        if (this.#wants(ev.mask)) {
          this.#emit({ type: 'rename', watchPath, name, names: ev.names, isDir: ev.isDir, cookie: ev.cookie, path, oldPath, time });
        }
        return;
      }
      const fromMask = (C.IN_MOVED_FROM | dirBit) >>> 0;
      const toMask = (C.IN_MOVED_TO | dirBit) >>> 0;
      if (this.#wants(fromMask)) {
        this.#emit({ type: 'moved_from', watchPath: oldWatchPath, name: oldName, names: b.inotifyMaskNames(fromMask), isDir: ev.isDir, cookie: ev.cookie, path: oldPath, oldPath: null, time });
      }
      if (this.#wants(toMask)) {
        this.#emit({ type: 'moved_to', watchPath, name, names: b.inotifyMaskNames(toMask), isDir: ev.isDir, cookie: ev.cookie, path, oldPath: null, time });
      }
      return;
    }

    if (ev.type === 'ignored') {
      this.#paths.delete(ev.watch);
      if (!this.#o.monitor) {
        // inotifywait ends with failure on an event it did not ask for, as the watch is gone.
        this.#finish(EXIT_FAILURE);
      } else if (this.#paths.size === 0) {
        this.#finish(EXIT_EVENT);
      }
      return;
    }

    const watchPath = this.#pathOf(ev.watch);
    const name = ev.name === null ? EMPTY : bytes(ev.name, ev.rawName);
    const path = Buffer.concat([watchPath, name]);
    if (tracking && ev.name !== null) {
      if (ev.type === 'delete' || ev.type === 'moved_from') this.#scanned.delete(byteKey(path));
      if (ev.isDir && ev.type === 'moved_from') this.#dropDirs(withSlash(path));
      if (ev.type === 'create' && this.#scanned.delete(byteKey(path))) return;
    }
    if (this.#wants(ev.mask)) {
      this.#emit({ type: ev.type, watchPath, name, names: ev.names, isDir: ev.isDir, cookie: ev.cookie, path, oldPath: null, time });
    }
    if (tracking && ev.isDir && ev.name !== null && (ev.type === 'create' || ev.type === 'moved_to') && !this.#done && !this.#pruned(path)) {
      this.#addNew(withSlash(path));
      // Bounded: entries whose CREATE came before the watch never see a duplicate to cancel them.
      if (this.#scanned.size > 65_536) this.#scanned.clear();
    }
  }

  /** The directory watches (paths ending in '/') at or under `prefix`. */
  #dirsUnder(prefix: Buffer): [InoWatch, Buffer][] {
    return [...this.#paths].filter(([, path]) => path[path.length - 1] === SLASH && path.subarray(0, prefix.length).equals(prefix));
  }

  #moveDirs(from: Buffer, to: Buffer): void {
    for (const [watch, path] of this.#dirsUnder(from)) {
      const next = Buffer.concat([to, path.subarray(from.length)]);
      this.#paths.set(watch, next);
      watch.path = next.toString();
    }
  }

  #dropDirs(prefix: Buffer): void {
    for (const [watch] of this.#dirsUnder(prefix)) {
      this.#paths.delete(watch);
      watch.remove();
    }
  }
}

export const watch: Command = {
  name: 'watch',
  summary: 'wait for file system events and print them, like inotifywait',
  usage: 'butter watch [options] <path>...',
  help: [
    'Waits for inotify events on the paths and prints them, in the shape of',
    'inotify-tools\' inotifywait: one line per event, `%w %e %f` by default',
    '(e.g. `/tmp/d/ CREATE,ISDIR x`).',
    '',
    'Options:',
    '  -m, --monitor        keep printing events (default: exit after the first)',
    '  -r, --recursive      watch every directory below each path, and new ones',
    '  -e, --event <names>  only these events (repeatable, comma lists): access, modify,',
    '                       attrib, close_write, close_nowrite, close, open, moved_to,',
    '                       moved_from, move, move_self, create, delete, delete_self, unmount',
    '  --exclude <regex>    no events for paths matching (JavaScript RegExp); --excludei ignores case',
    '  --include <regex>    events only for paths matching; --includei ignores case',
    '  --format <fmt>       %w watched path, %f name, %e events (%Xe: separated by X),',
    '                       %T time (needs --timefmt), %c cookie, %o old path of a joined rename, %%',
    '  --timefmt <fmt>      strftime format for %T (%Y %m %d %H %M %S %T %F %s …)',
    '  -c, --csv            CSV lines: watched path, events, name',
    '  --json               one JSON object per line: type, path, oldPath, names, isDir, time',
    '                       (and rawPath, oldRawPath: base64 bytes of a path that is not UTF-8)',
    '  --join-renames       a rename inside the watched set as one event (MOVED_FROM,MOVED_TO)',
    '  -q, --quiet          once: no "Setting up watches" lines; twice: nothing but events',
    '  -t, --timeout <s>    exit 2 when no event comes for this many seconds',
    '',
    'Exit status: 0 after an event, 1 on an error, 2 on a timeout.',
  ].join('\n'),

  async run(args: string[], io: Io): Promise<number> {
    // inotifywait exits 1 on bad usage: 2 would read as "timed out" to its scripts.
    const o = parseOrUsage('watch', watch.usage, parse, args, io);
    if (o === null) return EXIT_FAILURE;
    const b = loadButter('watch', io);
    if (b === null) return EXIT_FAILURE;
    let session: Session;
    try {
      session = new Session(b, o, io);
    } catch (err) {
      // inotify_init1's EMFILE, which Butter's message says is the instance limit.
      if (o.quiet < 2) io.err(`butter watch: ${describe(err)}\n`);
      return EXIT_FAILURE;
    }
    const code = session.setup();
    if (code !== EXIT_EVENT) {
      session.close();
      return code;
    }
    return session.run();
  },
};
