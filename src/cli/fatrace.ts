/**
 * `butter fatrace`: fatrace(8) on Butter's `Fanotify`, for one mount (or one
 * filesystem) rather than every mount of the machine: the same line
 * (`comm(pid): CWO /path`), letters, options and `--json` field names where
 * they overlap.
 *
 * The default is a mount mark in a group with event fds (open, read, write,
 * close). `--filesystem` marks the whole filesystem in a FID group with entry
 * names instead, which also reports creations, deletions and moves, as
 * fatrace does on kernels that have FID groups.
 */
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, describe, loadButter, parseOrUsage } from './common';
import type { Command, Io } from './main';

type Butter = typeof import('../index');
type Fan = InstanceType<Butter['Fanotify']>;
type FanEvent = import('../index').FanotifyEvent;
type EventName = import('../index').FanotifyEventName;

const EXIT_OK = 0;
/** fatrace's (and `butter watch`'s) status for bad usage. */
const EXIT_USAGE = 1;
/** fanotify, or the output file, failed: told apart from bad usage. */
const EXIT_FAILURE = 2;

/** What a `-f` letter lets through. `<` and `>` both mean "move", as in fatrace. */
const FILTER: Readonly<Record<string, readonly EventName[]>> = {
  R: ['access'],
  C: ['close'],
  W: ['modify', 'close_write'],
  O: ['open'],
  '+': ['create'],
  D: ['delete'],
  '<': ['move'],
  '>': ['move'],
};
/** The letters only a FID group (`--filesystem`) can report. */
const ENTRY_LETTERS = '+D<>';

/** fatrace's letters in the order it prints them, each shown when any of its events is in the mask. */
const LETTERS: readonly (readonly [string, readonly string[]])[] = [
  ['R', ['access']],
  ['C', ['close_write', 'close_nowrite']],
  ['W', ['modify', 'close_write']],
  ['O', ['open']],
  ['+', ['create']],
  ['D', ['delete']],
  ['<', ['moved_from']],
  ['>', ['moved_to']],
];

/** fatrace's longest comm: the kernel keeps 15 bytes of a process name. */
const COMM_LEN = 15;
/** Names kept for processes that have exited; cleared when this many. */
const CACHE_LIMIT = 4096;

interface Options {
  path: string;
  filesystem: boolean;
  output: string | null;
  seconds: number;
  timestamp: number;
  user: boolean;
  ignore: Set<number>;
  events: EventName[];
  command: string | null;
  json: boolean;
}

/** What /proc says about an event's process. */
interface Proc {
  comm: string;
  uid: number;
  gid: number;
}


/** The letters of an event's mask names, e.g. `CWO`. */
function letters(names: readonly string[]): string {
  return LETTERS.filter(([, events]) => events.some((e) => names.includes(e))).map(([l]) => l).join('');
}

/** `-t`: local HH:MM:SS.micros; `-tt`: seconds.micros since the epoch. */
function timestamp(level: number, micros: number): string {
  const frac = String(micros % 1_000_000).padStart(6, '0');
  if (level === 2) return `${Math.floor(micros / 1_000_000)}.${frac}`;
  const d = new Date(Math.floor(micros / 1000));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${frac}`;
}

function positiveInt(text: string, message: string): number {
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(message);
  return n;
}

function parse(args: string[]): Options {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'current-mount': { type: 'boolean', short: 'c', default: false },
      filesystem: { type: 'boolean', default: false },
      output: { type: 'string', short: 'o' },
      seconds: { type: 'string', short: 's' },
      timestamp: { type: 'boolean', short: 't', multiple: true, default: [] },
      user: { type: 'boolean', short: 'u', default: false },
      'ignore-pid': { type: 'string', short: 'p', multiple: true, default: [] },
      filter: { type: 'string', short: 'f' },
      command: { type: 'string', short: 'C' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 1) throw new UsageError('only one path can be given');
  if (values['current-mount'] && positionals.length === 1) throw new UsageError('--current-mount and a path cannot both be given');
  if (values.timestamp.length > 2) throw new UsageError('--timestamp option can be given at most two times');
  const filesystem = values.filesystem;
  let events: EventName[] = filesystem ? ['access', 'modify', 'open', 'close', 'create', 'delete', 'move'] : ['access', 'modify', 'open', 'close'];
  if (values.filter !== undefined) {
    const chosen = new Set<EventName>();
    for (const c of values.filter) {
      const letter = c.toUpperCase();
      const add = FILTER[letter];
      if (add === undefined) throw new UsageError(`Unknown --filter type '${c}'`);
      if (!filesystem && ENTRY_LETTERS.includes(letter)) throw new UsageError(`--filter type '${c}' needs --filesystem: a mount mark reports no directory entry events`);
      for (const e of add) chosen.add(e);
    }
    if (chosen.size === 0) throw new UsageError('--filter needs at least one type');
    events = [...chosen];
  }
  return {
    path: positionals[0] ?? '.',
    filesystem,
    output: values.output ?? null,
    seconds: values.seconds === undefined ? 0 : positiveInt(values.seconds, 'Invalid number of seconds'),
    timestamp: values.timestamp.length,
    user: values.user,
    // fatrace never reports itself: its own output file would feed it events.
    ignore: new Set([process.pid, ...values['ignore-pid'].map((p) => positiveInt(p, 'Invalid PID'))]),
    events,
    command: values.command === undefined ? null : values.command.slice(0, COMM_LEN),
    json: values.json,
  };
}

/** "Operation not permitted (EPERM)", with a hint when the missing privilege is the reason. */
function failure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const text = typeof code === 'string' ? `${describe(err)} (${code})` : describe(err);
  return code === 'EPERM' ? `${text}\nbutter fatrace: fanotify needs CAP_SYS_ADMIN for this (run it as root)` : text;
}

/** Wall-clock microseconds (Date has only milliseconds). */
function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

class Session {
  readonly #o: Options;
  readonly #io: Io;
  readonly #fan: Fan;
  /** Processes seen, for events that arrive after theirs exited (fatrace keeps the last one). */
  readonly #procs = new Map<number, Proc>();
  #outFd = -1;
  #timer: NodeJS.Timeout | null = null;
  #finish: (code: number) => void = () => undefined;
  #done = false;

  constructor(b: Butter, o: Options, io: Io) {
    this.#o = o;
    this.#io = io;
    // FID with names: directory entry events, and a path for every event without an event fd.
    this.#fan = new b.Fanotify(o.filesystem ? { report: ['dfid_name'] } : {});
  }

  /** Marks, then opens the output: a script may take the file's existence to mean "ready", as with fatrace. */
  setup(): number {
    const o = this.#o;
    const events: EventName[] = [...o.events, 'ondir'];
    try {
      this.#fan.mark(o.path, o.filesystem ? { filesystem: true, events } : { mount: true, events });
    } catch (err) {
      this.#io.err(`butter fatrace: Failed to add watch for ${o.path}: ${failure(err)}\n`);
      return EXIT_FAILURE;
    }
    if (o.output !== null) {
      try {
        // O_EXCL as fatrace: an existing file (a log, or worse) is never overwritten.
        this.#outFd = openSync(o.output, 'wx');
      } catch (err) {
        this.#io.err(`butter fatrace: Failed to open output file ${o.output}: ${failure(err)}\n`);
        return EXIT_FAILURE;
      }
    }
    return EXIT_OK;
  }

  close(): void {
    this.#fan.close();
    if (this.#outFd >= 0) closeSync(this.#outFd);
    this.#outFd = -1;
  }

  run(): Promise<number> {
    return new Promise<number>((resolve) => {
      const stop = (): void => this.#finish(EXIT_OK);
      this.#finish = (code) => {
        if (this.#done) return;
        this.#done = true;
        if (this.#timer !== null) clearTimeout(this.#timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        this.close();
        resolve(code);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      this.#fan.on('event', (ev: FanEvent) => {
        if (!this.#done) this.#handle(ev);
      });
      this.#fan.on('error', (err: Error) => {
        this.#io.err(`butter fatrace: ${failure(err)}\n`);
        this.#finish(EXIT_FAILURE);
      });
      if (this.#o.seconds > 0) this.#timer = setTimeout(stop, this.#o.seconds * 1000);
    });
  }

  #write(text: string): void {
    if (this.#outFd < 0) {
      this.#io.out(text);
      return;
    }
    try {
      writeSync(this.#outFd, text);
    } catch (err) {
      this.#io.err(`butter fatrace: Failed to write to ${this.#o.output}: ${failure(err)}\n`);
      this.#finish(EXIT_FAILURE);
    }
  }

  /** The process's name (and owner) now; the last one seen if it has exited; null if never seen (or pid 0). */
  #proc(pid: number): Proc | null {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n+$/, '');
      // /proc/<pid> belongs to the process's effective uid and gid.
      const st = this.#o.user ? statSync(`/proc/${pid}`) : null;
      const proc = { comm, uid: st?.uid ?? -1, gid: st?.gid ?? -1 };
      if (this.#procs.size >= CACHE_LIMIT) this.#procs.clear();
      this.#procs.set(pid, proc);
      return proc;
    } catch {
      return this.#procs.get(pid) ?? null;
    }
  }

  #handle(ev: FanEvent): void {
    const o = this.#o;
    const micros = nowMicros();
    if (ev.overflow) {
      // fatrace drops it without a word; losing events silently is what Butter exists to avoid.
      this.#io.err('butter fatrace: the kernel\'s event queue overflowed: events were lost\n');
      if (o.json) this.#write(`${JSON.stringify({ overflow: true, time: new Date(micros / 1000).toISOString() })}\n`);
      return;
    }
    if (o.ignore.has(ev.pid)) return;
    const proc = this.#proc(ev.pid);
    if (o.command !== null && proc?.comm !== o.command) return;
    // fatrace's text for an object that can no longer be named.
    const path = ev.path ?? '(deleted)';
    const types = letters(ev.names);
    if (o.json) {
      const user = o.user ? { uid: proc?.uid ?? null, gid: proc?.gid ?? null } : {};
      const record = { time: new Date(micros / 1000).toISOString(), comm: proc?.comm ?? null, pid: ev.pid, ...user, types, path, names: ev.names };
      this.#write(`${JSON.stringify(record)}\n`);
      return;
    }
    const time = o.timestamp > 0 ? `${timestamp(o.timestamp, micros)} ` : '';
    const user = o.user ? ` [${proc?.uid ?? '?'}:${proc?.gid ?? '?'}]` : '';
    this.#write(`${time}${proc?.comm ?? 'unknown'}(${ev.pid})${user}: ${types} ${path}\n`);
  }
}

export const fatrace: Command = {
  name: 'fatrace',
  summary: 'print file accesses on a mount or filesystem with the process, like fatrace',
  usage: 'butter fatrace [options] [path]',
  help: [
    'Watches the mount holding the path (default: the current directory\'s) with',
    'fanotify and prints one line per event in the shape of fatrace(8):',
    '`comm(pid): TYPES path`, e.g. `sh(1234): CWO /mnt/data/log`. Needs',
    'CAP_SYS_ADMIN. Events of butter itself are never reported.',
    '',
    'Types: R read, W write, O open, C close; with --filesystem also + create,',
    'D delete, < moved from, > moved to (the entry\'s path).',
    '',
    'Options:',
    '  --filesystem             the whole filesystem holding the path, whatever the mount,',
    '                           with creations, deletions and moves',
    '  -c, --current-mount      the current directory\'s mount (the default without a path)',
    '  -o, --output <file>      write events to this new file (made once the marks are in place)',
    '  -s, --seconds <n>        stop after n seconds',
    '  -t, --timestamp          add the time (HH:MM:SS.micros); twice: seconds since the epoch',
    '  -u, --user               add the process\'s [uid:gid]',
    '  -p, --ignore-pid <pid>   ignore events of this process (repeatable)',
    '  -f, --filter <types>     only these types, e.g. OC (< and > both mean "move")',
    '  -C, --command <comm>     only events of processes with this name',
    '  --json                   one JSON object per line: time, comm, pid, (uid, gid,) types,',
    '                           path, names',
    '',
    'Exit status: 0 after the time limit, SIGINT or SIGTERM; 1 on bad usage;',
    '2 when fanotify or the output file fails.',
  ].join('\n'),

  async run(args: string[], io: Io): Promise<number> {
    const o = parseOrUsage('fatrace', fatrace.usage, parse, args, io);
    if (o === null) return EXIT_USAGE;
    const b = loadButter('fatrace', io);
    if (b === null) return EXIT_FAILURE;
    let session: Session;
    try {
      session = new Session(b, o, io);
    } catch (err) {
      io.err(`butter fatrace: Cannot initialize fanotify: ${failure(err)}\n`);
      return EXIT_FAILURE;
    }
    const code = session.setup();
    if (code !== EXIT_OK) {
      session.close();
      return code;
    }
    return session.run();
  },
};
