/**
 * Fanotify: mount-, filesystem- and inode-wide file events with the acting
 * pid and a resolved path, and permission events answered through the event.
 *
 * Fd ownership: the group fd is the object's (FdSource). Every event fd the
 * kernel opens in this process is held by the group's native handle from
 * inside the read that made it, and closed exactly once, through that handle:
 * a notification event's right after its path is read (in the same native
 * call), a permission event's when it is answered (by `allow()`/`deny()`, by
 * the deadline, after a listener throws, or at `close()`), and whatever is
 * left when the handle closes (a Worker ending mid-way). pidfds go with their
 * event fd. Mount fds kept for resolving file handles are native handles, so a
 * forgotten object's are closed by their finalizers.
 */
import { inspect } from 'node:util';
import { invalidArgType, invalidArgValue, outOfRange, sysError, EAGAIN, EBADF, EINVAL } from '../core/errors';
import { toPath } from '../core/fs';
import { native, type NativeHandle } from '../core/native';
import { FdSource } from '../core/source';
import { closeOnAbort, validateAbortSignal, validateBoolean, validateInt32, validateOptions } from '../core/validate';
import {
  AT_FDCWD,
  auditRuleRecord,
  fanotifyConstants as K,
  fanotifyDenyErrno,
  fanotifyEventBits,
  fanotifyMaskNames,
  parseInto,
  type FanotifyAuditRule,
  type FanotifyFidInfo,
  type FanotifyInfo,
  type FanotifyPath,
  type FanotifyRecord,
} from '../raw/fanotify';

const READ_SIZE = 16 * 1024;
/**
 * How many queued events `close()` reads at most to deny them (the kernel's
 * queue length without `unlimitedQueue`): openers that keep coming cannot hold it up.
 */
const CLOSE_DENY_MAX = 16384;
/** The events that wait for an answer. */
const PERM_BITS = (K.FAN_OPEN_PERM | K.FAN_ACCESS_PERM | K.FAN_OPEN_EXEC_PERM | K.FAN_PRE_ACCESS) >>> 0;

/** Event names as `mark()` takes them: each event bit, plus the `close` and `move` pairs. */
export type FanotifyEventName =
  | 'access' | 'modify' | 'attrib' | 'close_write' | 'close_nowrite' | 'open' | 'moved_from' | 'moved_to'
  | 'create' | 'delete' | 'delete_self' | 'move_self' | 'open_exec' | 'fs_error' | 'open_perm' | 'access_perm'
  | 'open_exec_perm' | 'pre_access' | 'mnt_attach' | 'mnt_detach' | 'rename' | 'close' | 'move'
  | 'ondir' | 'event_on_child';

/** What `report` can ask for: the `FAN_REPORT_*` flags by name. */
export type FanotifyReportName =
  | 'tid' | 'pidfd' | 'fid' | 'dir_fid' | 'name' | 'target_fid' | 'fd_error' | 'mnt' | 'dfid_name' | 'dfid_name_target';

const eventBits: ReadonlyMap<string, number> = new Map<string, number>([
  ...fanotifyEventBits.filter(([name]) => name !== 'q_overflow'), // the kernel's to send, never a mark's
  ['close', K.FAN_CLOSE],
  ['move', K.FAN_MOVE],
]);

const reportBits: Readonly<Record<FanotifyReportName, number>> = {
  tid: K.FAN_REPORT_TID,
  pidfd: K.FAN_REPORT_PIDFD,
  fid: K.FAN_REPORT_FID,
  dir_fid: K.FAN_REPORT_DIR_FID,
  name: K.FAN_REPORT_NAME,
  target_fid: K.FAN_REPORT_TARGET_FID,
  fd_error: K.FAN_REPORT_FD_ERROR,
  mnt: K.FAN_REPORT_MNT,
  dfid_name: K.FAN_REPORT_DFID_NAME,
  dfid_name_target: K.FAN_REPORT_DFID_NAME_TARGET,
};
const FID_BITS = (K.FAN_REPORT_FID | K.FAN_REPORT_DIR_FID) >>> 0;

/** A path as read: a string, or its bytes when they are not UTF-8. */
type PathValue = string | Buffer | null;
const SLASH = Buffer.from('/');
const textOf = (p: PathValue): string | null => (p === null || typeof p === 'string' ? p : p.toString('utf8'));

const fidRank = { dfid: 1, fid: 2, dfid_name: 3, new_dfid_name: 4, old_dfid_name: 0 } as const;
const isFid = (info: FanotifyInfo): info is FanotifyFidInfo => Object.hasOwn(fidRank, info.type);

const classes = { notif: K.FAN_CLASS_NOTIF, content: K.FAN_CLASS_CONTENT, pre_content: K.FAN_CLASS_PRE_CONTENT } as const;

export interface FanotifyOptions {
  /**
   * `true` selects `FAN_CLASS_CONTENT`, the class that can receive permission
   * events (`open_perm`, `access_perm`, `open_exec_perm`). Default false.
   */
  permission?: boolean;
  /** The class by name, for `pre_content` (or to be explicit); overrides `permission`. */
  class?: keyof typeof classes;
  /** `FAN_REPORT_*` flags by name: `['dfid_name']` for directory-entry events with names. */
  report?: readonly FanotifyReportName[];
  /** `FAN_UNLIMITED_QUEUE`: no 16,384-event queue limit (so no overflow). */
  unlimitedQueue?: boolean;
  /** `FAN_UNLIMITED_MARKS`: no 8,192-mark limit per group. */
  unlimitedMarks?: boolean;
  /** `FAN_ENABLE_AUDIT`: answers may ask for an audit record (`allow({ audit: true })`). */
  audit?: boolean;
  /**
   * Open flags of event fds, as fanotify_init's `event_f_flags` (`O_RDONLY`,
   * `O_RDWR`, `O_NOATIME`, …). `O_CLOEXEC` is always added. Default `O_RDONLY`.
   */
  eventFlags?: number;
  /**
   * Milliseconds a permission event may wait for its answer before it gets
   * `defaultAnswer`. Default 1000; `Infinity` for no deadline (it is still
   * answered at `close()`).
   */
  deadline?: number;
  /** The answer a permission event gets when its deadline passes, a listener throws, or at `close()`. Default `'allow'`. */
  defaultAnswer?: 'allow' | 'deny';
  /** Closes it when aborted. */
  signal?: AbortSignal;
}

/** Which object a mark is on. At most one of `mount`, `filesystem`, `mntns`; none is an inode mark. */
export interface FanotifyMarkOptions {
  /** The events (names, or a `FAN_*` mask as a number or bigint). */
  events: readonly FanotifyEventName[] | number | bigint;
  /** `FAN_MARK_MOUNT`: every object on the mount holding `path`. */
  mount?: boolean;
  /** `FAN_MARK_FILESYSTEM`: every object on its filesystem, whatever the mount. */
  filesystem?: boolean;
  /** `FAN_MARK_INODE` (the default): the object itself (and with `event_on_child`, a directory's entries). */
  inode?: boolean;
  /** `FAN_MARK_MNTNS` (Linux 6.15): `path` names a mount namespace (`/proc/<pid>/ns/mnt`); needs `report: ['mnt']`. */
  mntns?: boolean;
  /** `FAN_MARK_IGNORE` (or `FAN_MARK_IGNORED_MASK` with `legacyIgnore`): the events are ones NOT to report. */
  ignore?: boolean;
  /** With `ignore`: the old `FAN_MARK_IGNORED_MASK` semantics instead of `FAN_MARK_IGNORE`. */
  legacyIgnore?: boolean;
  /** With `ignore`: the ignore mask survives modifications (`FAN_MARK_IGNORED_SURV_MODIFY`). */
  ignoreSurviveModify?: boolean;
  /** `FAN_MARK_DONT_FOLLOW`: a symbolic link `path` is marked itself. */
  dontFollow?: boolean;
  /** `FAN_MARK_ONLYDIR`: ENOTDIR unless `path` is a directory. */
  onlyDir?: boolean;
  /** `FAN_MARK_EVICTABLE`: an inode mark that does not pin the inode in the cache. */
  evictable?: boolean;
  /** A directory fd `path` is relative to, or the object itself when `path` is null. Default `AT_FDCWD`. */
  dirfd?: number;
}

/** Options of `allow()` and `deny()`. */
export interface FanotifyAnswerOptions {
  /** `FAN_AUDIT` (the group needs `audit: true`); an object also sends the audit rule record (`FAN_INFO`). */
  audit?: boolean | FanotifyAuditRule;
}

export interface FanotifyDenyOptions extends FanotifyAnswerOptions {
  /** The errno the caller gets instead of EPERM (Linux 6.14, pre-content groups only): `'EIO'`, `'EBUSY'`, … */
  errno?: string | number;
}

/** One event: a notification, a permission request (`permission`), or the queue's overflow (`overflow`). */
export class FanotifyEvent {
  /** The event bits (`FAN_*`), with `FAN_ONDIR` for a directory. */
  readonly mask: number;
  /** The acting process (the thread with `report: ['tid']`); 0 when outside this pid namespace. */
  readonly pid: number;
  /**
   * The object's path when the event was read: from the event fd, or for FID
   * events the directory's path and the entry's name (the object's own path
   * without a name). `null` for overflow, and when the object is gone (ESTALE)
   * or no path could be made.
   */
  readonly path: string | null;
  /** The path's exact bytes when they are not valid UTF-8 (then `path` has U+FFFD in their place); otherwise `undefined`. */
  readonly rawPath: Buffer | undefined;
  /** For `rename` events: the path the entry had. */
  readonly oldPath: string | null;
  /** `oldPath`'s exact bytes when they are not valid UTF-8. */
  readonly oldRawPath: Buffer | undefined;
  /** The entry name of a `*_NAME` record (the new name for `rename`), or null. */
  readonly name: string | null;
  /** Whether the subject is a directory (`FAN_ONDIR`). */
  readonly isDir: boolean;
  /** Whether the event waits for `allow()` or `deny()`. */
  readonly permission: boolean;
  /** Whether this is `FAN_Q_OVERFLOW`: events were lost after this point. */
  readonly overflow: boolean;
  /** The info records (FID, DFID_NAME, PIDFD, ERROR, RANGE, MNT, …), as `parseFanotifyEvents` gives them. */
  readonly info: FanotifyInfo[];
  /** @internal */ _fd: number;
  /** @internal */ _pidfd: number;
  /** @internal */ _answer: 'allow' | 'deny' | null = null;
  /** @internal */ _due = 0;
  readonly #owner: Fanotify;

  /** @internal */
  constructor(owner: Fanotify, rec: FanotifyRecord, path: PathValue, oldPath: PathValue, name: string | null, fd: number, pidfd: number) {
    this.#owner = owner;
    this.mask = rec.mask;
    this.pid = rec.pid;
    this.path = textOf(path);
    this.rawPath = typeof path === 'object' && path !== null ? path : undefined;
    this.oldPath = textOf(oldPath);
    this.oldRawPath = typeof oldPath === 'object' && oldPath !== null ? oldPath : undefined;
    this.name = name;
    this.isDir = (rec.mask & K.FAN_ONDIR) !== 0;
    this.permission = (rec.mask & PERM_BITS) !== 0;
    this.overflow = (rec.mask & K.FAN_Q_OVERFLOW) !== 0;
    this.info = rec.info;
    this._fd = fd;
    this._pidfd = pidfd;
  }

  /** The mask's bits by name, e.g. `['open', 'close_nowrite']` (the kernel merges events); frozen, shared between events. */
  get names(): readonly string[] {
    return namesOf(this.mask);
  }

  /** The open event fd of an unanswered permission event (to read the file's content), else -1. */
  get fd(): number {
    return this._fd;
  }

  /** The pidfd of an unanswered permission event with `report: ['pidfd']`, else -1. */
  get pidfd(): number {
    return this._pidfd;
  }

  /** `'allow'` or `'deny'` once a permission event is answered; null before (and for other events). */
  get answer(): 'allow' | 'deny' | null {
    return this._answer;
  }

  /**
   * Lets the access go ahead. Returns false if the event was answered already
   * (by a deadline, at close, or earlier), true when this call answered it.
   */
  allow(options?: FanotifyAnswerOptions): boolean {
    return this.#owner._answerByUser(this, 'allow', options);
  }

  /** Refuses the access: the caller's open()/read() fails with EPERM (or `errno`). Returns as `allow()`. */
  deny(options?: FanotifyDenyOptions): boolean {
    return this.#owner._answerByUser(this, 'deny', options);
  }
}

const namesByMask = new Map<number, readonly string[]>();
function namesOf(mask: number): readonly string[] {
  let names = namesByMask.get(mask);
  if (names === undefined) {
    names = Object.freeze(fanotifyMaskNames(mask));
    // Masks are combinations of a few dozen bits, mostly the same few: the cache stays small.
    if (namesByMask.size < 4096) namesByMask.set(mask, names);
  }
  return names;
}

/**
 * A fanotify group owned by this object.
 *
 * ```ts
 * using fan = new Fanotify({ permission: true });
 * fan.mark('/srv/data', { mount: true, events: ['open_perm', 'close_write'] });
 * for await (const ev of fan) {
 *   if (ev.permission) ev.path?.endsWith('.key') ? ev.deny() : ev.allow();
 *   else console.log(ev.pid, ev.names, ev.path);
 * }
 * ```
 */
export class Fanotify extends FdSource<FanotifyEvent> {
  /** The `FAN_CLASS_*` of the group. */
  readonly class: keyof typeof classes;
  /** Milliseconds a permission event waits for its answer. */
  readonly deadline: number;
  /** The answer of a permission event left unanswered. */
  readonly defaultAnswer: 'allow' | 'deny';
  readonly #fid: boolean;
  readonly #buffer = Buffer.alloc(READ_SIZE);
  /** Unanswered permission events, oldest first (their deadlines are in the same order). */
  #pending: FanotifyEvent[] = [];
  #pendingHead = 0;
  #timer: NodeJS.Timeout | null = null;
  /** A directory fd on each marked filesystem, by fsid, for open_by_handle_at. */
  readonly #mounts = new Map<string, { handle: NativeHandle; fd: number }>();

  constructor(options?: FanotifyOptions) {
    const opts = validateOptions<FanotifyOptions>(options, 'options', ['permission', 'class', 'report', 'unlimitedQueue', 'unlimitedMarks', 'audit', 'eventFlags', 'deadline', 'defaultAnswer', 'signal']);
    const signal = validateAbortSignal(opts.signal, 'options.signal');
    const permission = opts.permission === undefined ? false : validateBoolean(opts.permission, 'options.permission');
    let cls: keyof typeof classes = permission ? 'content' : 'notif';
    if (opts.class !== undefined) {
      if (typeof opts.class !== 'string' || !Object.hasOwn(classes, opts.class)) {
        throw invalidArgValue('options.class', opts.class, "must be one of: 'notif', 'content', 'pre_content'");
      }
      cls = opts.class;
    }
    let flags = K.FAN_CLOEXEC | K.FAN_NONBLOCK | classes[cls];
    if (opts.report !== undefined) {
      if (!Array.isArray(opts.report)) throw invalidArgType('options.report', 'an instance of Array', opts.report);
      for (const name of opts.report as unknown[]) {
        if (typeof name !== 'string' || !Object.hasOwn(reportBits, name)) {
          throw invalidArgValue('options.report', opts.report, `has an unknown report flag ${inspect(name)}`);
        }
        flags |= reportBits[name as FanotifyReportName];
      }
    }
    if (opts.unlimitedQueue !== undefined && validateBoolean(opts.unlimitedQueue, 'options.unlimitedQueue')) flags |= K.FAN_UNLIMITED_QUEUE;
    if (opts.unlimitedMarks !== undefined && validateBoolean(opts.unlimitedMarks, 'options.unlimitedMarks')) flags |= K.FAN_UNLIMITED_MARKS;
    if (opts.audit !== undefined && validateBoolean(opts.audit, 'options.audit')) flags |= K.FAN_ENABLE_AUDIT;
    const eventFlags = (opts.eventFlags === undefined ? 0 : validateInt32(opts.eventFlags, 'options.eventFlags', 0)) | K.O_CLOEXEC;
    const deadline = opts.deadline === undefined ? 1000 : validateDeadline(opts.deadline);
    const defaultAnswer = opts.defaultAnswer ?? 'allow';
    if (defaultAnswer !== 'allow' && defaultAnswer !== 'deny') {
      throw invalidArgValue('options.defaultAnswer', defaultAnswer, "must be 'allow' or 'deny'");
    }
    super((handle) => native.fanotify.fanotifyInit(flags >>> 0, eventFlags >>> 0, handle), 'fanotify_init', { captureRejections: true });
    this.class = cls;
    this.deadline = deadline;
    this.defaultAnswer = defaultAnswer;
    this.#fid = (flags & FID_BITS) !== 0;
    // Deadlines run from the read: a group that can get permission events reads
    // whether or not anyone consumes. Reading keeps the object reachable (the
    // native side holds its callback), so it is never collected with events pending.
    if (cls !== 'notif') this.readAhead();
    closeOnAbort(this, signal);
  }

  /**
   * Adds `options.events` to the mark on `path` (a mount, a filesystem, or by
   * default the inode). With `ignore`, adds them to the mark's ignore mask.
   */
  mark(path: FanotifyPath | null, options: FanotifyMarkOptions): void {
    this.#mark(K.FAN_MARK_ADD, path, options);
  }

  /** Removes `options.events` from the mark on `path` (the mark goes when its mask is empty). */
  unmark(path: FanotifyPath | null, options: FanotifyMarkOptions): void {
    this.#mark(K.FAN_MARK_REMOVE, path, options);
  }

  /** Removes every mark of one kind: inode marks by default, or `{ mount }`, `{ filesystem }`, `{ mntns }`. */
  flush(options?: Pick<FanotifyMarkOptions, 'mount' | 'filesystem' | 'inode' | 'mntns'>): void {
    const type = markType(validateOptions<FanotifyMarkOptions>(options, 'options', ['mount', 'filesystem', 'inode', 'mntns']));
    this.assertOpen('fanotify_mark');
    const r = native.fanotify.fanotifyMark(this.fd, (K.FAN_MARK_FLUSH | type) >>> 0, 0n, AT_FDCWD, null);
    if (r < 0) throw sysError(-r, 'fanotify_mark');
  }

  /** How many permission events wait for an answer (read, and not answered yet). */
  get pendingAnswers(): number {
    let n = 0;
    for (let i = this.#pendingHead; i < this.#pending.length; i++) if (this.#pending[i]!._answer === null) n++;
    return n;
  }

  /**
   * Answers every pending permission event with `defaultAnswer` (read, or
   * still in the kernel's queue), closes the group and the fds it holds.
   */
  override close(): void {
    if (this.closed) return;
    this.#answerPending(() => true);
    if (this.defaultAnswer === 'deny' && this.class !== 'notif') this.#denyQueued();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const { handle } of this.#mounts.values()) native.handleClose(handle);
    this.#mounts.clear();
    super.close();
  }

  override ref(): this {
    super.ref();
    this.#timer?.ref();
    return this;
  }

  override unref(): this {
    super.unref();
    this.#timer?.unref();
    return this;
  }

  protected override emitEvent(event: FanotifyEvent): void {
    try {
      super.emitEvent(event);
    } catch (err) {
      // A permission event never waits for a handler that is gone.
      if (event._answer === null && event.permission) this.#answer(event, this.defaultAnswer, this.#defaultResponse());
      throw err;
    }
  }

  /** EventEmitter's hook for a listener's rejected promise (captureRejections). */
  [Symbol.for('nodejs.rejection')](err: unknown, name: string, ...args: unknown[]): void {
    const event = args[0];
    if (name === 'event' && event instanceof FanotifyEvent && event.permission && event._answer === null) {
      this.#answer(event, this.defaultAnswer, this.#defaultResponse());
    }
    this.emit('error', err as Error);
  }

  protected readBatch(out: FanotifyEvent[]): number {
    const n = native.fanotify.fanotifyRead(this.fd, this.#buffer, this.handle);
    if (n < 0) return n === -EAGAIN ? 0 : n;
    const records: FanotifyRecord[] = [];
    try {
      parseInto(this.#buffer, n, records);
    } finally {
      // Even if the parse stops part way, every record it got has its fds closed once: here or at its
      // answer (the handle closes the others' at close()).
      for (const rec of records) out.push(this.#event(rec));
    }
    return records.length;
  }

  /** @internal */
  _answerByUser(event: FanotifyEvent, answer: 'allow' | 'deny', options: FanotifyDenyOptions | undefined): boolean {
    let response = answer === 'allow' ? K.FAN_ALLOW : K.FAN_DENY;
    let info: Buffer | null = null;
    if (options !== undefined) {
      const opts = validateOptions<FanotifyDenyOptions>(options, 'options', ['audit', 'errno']);
      if (opts.errno !== undefined) {
        if (answer !== 'deny') throw invalidArgValue('options.errno', opts.errno, 'is only for deny()');
        response = fanotifyDenyErrno(opts.errno);
      }
      if (opts.audit !== undefined && validateAudit(opts.audit)) {
        response |= K.FAN_AUDIT;
        if (opts.audit !== true) {
          info = auditRuleRecord(opts.audit, 'options.audit');
          response |= K.FAN_INFO;
        }
      }
    }
    if (!event.permission) throw invalidArgValue('event', event.names.join('|'), 'is not a permission event');
    if (event._answer !== null) return false;
    this.assertOpen('write');
    const r = native.fanotify.fanotifyRespond(this.fd, event._fd, response >>> 0, info, true, event._pidfd, this.handle);
    if (r < 0) throw sysError(-r, 'write');
    this.#answered(event, answer);
    return true;
  }

  // ---- internals ----

  #defaultResponse(): number {
    return this.defaultAnswer === 'allow' ? K.FAN_ALLOW : K.FAN_DENY;
  }

  #event(rec: FanotifyRecord): FanotifyEvent {
    const handle = this.handle;
    const permission = (rec.mask & PERM_BITS) !== 0;
    let fd = rec.fd;
    let path: PathValue = null;
    let oldPath: PathValue = null;
    let name: string | null = null;
    if (fd >= 0) {
      // One native call reads the path and, unless the event waits for an answer, closes the fd.
      const p = native.fanotify.fanotifyFdPath(fd, !permission, handle);
      path = typeof p === 'number' ? null : p;
      if (!permission) fd = -1;
    } else if (this.#fid) {
      // The object's own record wins: the new name of a rename, then an entry name, then the object, then its directory.
      let best = 0;
      for (const info of rec.info) {
        if (info.type === 'old_dfid_name') {
          oldPath = this.#resolve(info);
          continue;
        }
        if (!isFid(info) || fidRank[info.type] <= best) continue;
        best = fidRank[info.type];
        path = this.#resolve(info);
        name = info.type === 'fid' || info.type === 'dfid' ? null : info.name;
      }
    }
    let pidfd = -1;
    for (const info of rec.info) {
      if (info.type === 'pidfd' && info.pidfd >= 0) {
        if (permission) pidfd = info.pidfd;
        else native.handleCloseHeld(handle, info.pidfd);
        info.pidfd = K.FAN_NOFD;
      }
    }
    rec.fd = K.FAN_NOFD;
    const event = new FanotifyEvent(this, rec, path, oldPath, name, permission ? fd : -1, pidfd);
    if (permission) this.#track(event);
    return event;
  }

  /**
   * The path of a FID record's object (joined with its name), through a mount
   * fd on its filesystem; a Buffer when the directory's path or the name is not UTF-8.
   */
  #resolve(info: FanotifyFidInfo): PathValue {
    const mount = this.#mounts.get(`${info.fsid[0]}:${info.fsid[1]}`);
    if (mount === undefined) return null;
    const dir = native.fanotify.fanotifyHandlePath(mount.fd, info.fileHandle);
    if (typeof dir === 'number') return null;
    if (info.name === null || info.type === 'fid' || info.type === 'dfid') return dir;
    if (typeof dir === 'string' && info.rawName === undefined) return dir === '/' ? `/${info.name}` : `${dir}/${info.name}`;
    const d = typeof dir === 'string' ? Buffer.from(dir) : dir;
    return Buffer.concat([d, d.length === 1 && d[0] === 0x2f ? Buffer.alloc(0) : SLASH, info.rawName ?? Buffer.from(info.name)]);
  }

  #track(event: FanotifyEvent): void {
    if (event._fd < 0) {
      // FAN_REPORT_FD_ERROR: no fd to answer with; the kernel denied it when it could not open one.
      event._answer = 'deny';
      if (event._pidfd >= 0) {
        native.handleCloseHeld(this.handle, event._pidfd);
        event._pidfd = -1;
      }
      return;
    }
    if (this.deadline === Infinity) {
      this.#pending.push(event);
      return;
    }
    event._due = performance.now() + this.deadline;
    this.#pending.push(event);
    if (this.#timer === null) this.#arm(this.deadline);
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#onDeadline, Math.max(1, Math.ceil(ms)));
    if (!this.hasRef()) this.#timer.unref();
  }

  readonly #onDeadline = (): void => {
    this.#timer = null;
    const now = performance.now();
    this.#answerPending((e) => e._due <= now);
    const next = this.#pending[this.#pendingHead];
    if (next !== undefined && this.deadline !== Infinity) this.#arm(next._due - now);
  };

  /**
   * Answers (with the default) the pending events from the oldest while
   * `due(event)`. The FIFO's head is always unanswered: `#answered` drops
   * answered events from it.
   */
  #answerPending(due: (event: FanotifyEvent) => boolean): void {
    while (this.#pendingHead < this.#pending.length) {
      const event = this.#pending[this.#pendingHead]!;
      if (!due(event)) break;
      this.#answer(event, this.defaultAnswer, this.#defaultResponse());
    }
  }

  /**
   * Denies the permission events still in the kernel's queue, which closing
   * the group would allow (fanotify_release); an `'allow'` default needs no
   * read. Records are answered as they are, without paths, since nobody sees
   * them. Bounded by CLOSE_DENY_MAX: the kernel allows what is left, as it
   * does what arrives after the last read.
   */
  #denyQueued(): void {
    const handle = this.handle;
    const records: FanotifyRecord[] = [];
    for (let taken = 0; taken < CLOSE_DENY_MAX; taken += Math.max(records.length, 1)) {
      const n = native.fanotify.fanotifyRead(this.fd, this.#buffer, handle);
      if (n === -EAGAIN || n === -EBADF || n === -EINVAL) return; // empty, or nothing readable: an event too big stays queued
      // Any other failure (EMFILE: no fd for the event) took its event off the queue, and the kernel denied it.
      records.length = 0;
      if (n < 0) continue;
      try {
        parseInto(this.#buffer, n, records);
      } catch {
        return; // bytes this version cannot parse: close() still closes, and the kernel allows the rest
      } finally {
        for (const rec of records) denyRecord(this.fd, rec, handle);
      }
    }
  }

  /**
   * A default answer: its errors are nobody's to handle, and the fds are
   * released either way (once closed, the handle has closed them).
   */
  #answer(event: FanotifyEvent, answer: 'allow' | 'deny', response: number): void {
    if (!this.closed) {
      const handle = this.handle;
      if (native.fanotify.fanotifyRespond(this.fd, event._fd, response, null, true, event._pidfd, handle) < 0) {
        native.handleCloseHeld(handle, event._fd);
        if (event._pidfd >= 0) native.handleCloseHeld(handle, event._pidfd);
      }
    }
    this.#answered(event, answer);
  }

  /** Marks an answered event (its fds are closed by now) and drops answered events from the FIFO's head. */
  #answered(event: FanotifyEvent, answer: 'allow' | 'deny'): void {
    event._answer = answer;
    event._fd = event._pidfd = -1;
    const pending = this.#pending;
    while (this.#pendingHead < pending.length && pending[this.#pendingHead]!._answer !== null) {
      pending[this.#pendingHead++] = undefined as unknown as FanotifyEvent;
    }
    if (this.#pendingHead === pending.length) pending.length = this.#pendingHead = 0;
  }

  /** Keeps a directory fd on the filesystem of a marked object, to resolve FID events' handles. */
  #keepMount(dirfd: number, bytes: Buffer | null): void {
    const handle = native.handleNew(() => {});
    const fd = native.fanotify.fanotifyOpenMount(dirfd, bytes, handle);
    const fsid = fd < 0 ? fd : native.fanotify.fanotifyFsid(fd);
    if (typeof fsid === 'number' || this.#mounts.has(`${fsid[0]}:${fsid[1]}`)) {
      native.handleClose(handle); // not resolvable, or this filesystem has one already
      return;
    }
    this.#mounts.set(`${fsid[0]}:${fsid[1]}`, { handle, fd });
  }

  #mark(action: number, path: FanotifyPath | null, options: FanotifyMarkOptions): void {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    validateOptions<FanotifyMarkOptions>(options, 'options', ['events', 'mount', 'filesystem', 'inode', 'mntns', 'ignore', 'legacyIgnore', 'ignoreSurviveModify', 'dontFollow', 'onlyDir', 'evictable', 'dirfd']);
    const p = path === null ? null : toPath(path);
    let flags = action | markType(options);
    const mask = eventsMask(options.events);
    const bool = (key: keyof FanotifyMarkOptions, bit: number): void => {
      if (options[key] !== undefined && validateBoolean(options[key], `options.${key}`)) flags |= bit;
    };
    if (options.ignore !== undefined && validateBoolean(options.ignore, 'options.ignore')) {
      flags |= options.legacyIgnore === true ? K.FAN_MARK_IGNORED_MASK : K.FAN_MARK_IGNORE;
      bool('ignoreSurviveModify', K.FAN_MARK_IGNORED_SURV_MODIFY);
    } else if (options.ignoreSurviveModify !== undefined || options.legacyIgnore !== undefined) {
      throw invalidArgValue('options.ignore', options.ignore, 'must be true with ignoreSurviveModify or legacyIgnore');
    }
    bool('dontFollow', K.FAN_MARK_DONT_FOLLOW);
    bool('onlyDir', K.FAN_MARK_ONLYDIR);
    bool('evictable', K.FAN_MARK_EVICTABLE);
    const dirfd = options.dirfd === undefined ? AT_FDCWD : validateInt32(options.dirfd, 'options.dirfd');
    if (p === null && options.dirfd === undefined) throw invalidArgType('path', 'of type string or an instance of Buffer or URL', path);
    this.assertOpen('fanotify_mark');
    const r = native.fanotify.fanotifyMark(this.fd, flags >>> 0, mask, dirfd, p === null ? null : p.bytes);
    if (r < 0) throw sysError(-r, 'fanotify_mark', p === null ? undefined : p.text);
    if (this.#fid && action === K.FAN_MARK_ADD) this.#keepMount(dirfd, p === null ? null : p.bytes);
  }
}

/** Denies a record read at close (when it waits for an answer) and closes its fds, through the group's handle. */
function denyRecord(groupFd: number, rec: FanotifyRecord, handle: NativeHandle): void {
  let pidfd = -1;
  for (const info of rec.info) if (info.type === 'pidfd' && info.pidfd >= 0) pidfd = info.pidfd;
  if (rec.fd >= 0 && (rec.mask & PERM_BITS) !== 0 && native.fanotify.fanotifyRespond(groupFd, rec.fd, K.FAN_DENY, null, true, pidfd, handle) === 0) return;
  if (rec.fd >= 0) native.handleCloseHeld(handle, rec.fd);
  if (pidfd >= 0) native.handleCloseHeld(handle, pidfd);
}

function markType(options: Partial<FanotifyMarkOptions>): number {
  let type = K.FAN_MARK_INODE;
  let set = 0;
  for (const [key, bit] of [['mount', K.FAN_MARK_MOUNT], ['filesystem', K.FAN_MARK_FILESYSTEM], ['mntns', K.FAN_MARK_MNTNS], ['inode', K.FAN_MARK_INODE]] as const) {
    if (options[key] !== undefined && validateBoolean(options[key], `options.${key}`)) {
      type = bit;
      set++;
    }
  }
  if (set > 1) throw invalidArgValue('options', 'mount/filesystem/mntns/inode', 'must choose one mark type');
  return type;
}

function eventsMask(events: unknown): bigint {
  if (typeof events === 'bigint' || typeof events === 'number') {
    if (typeof events === 'number' && (!Number.isSafeInteger(events) || events < 0)) throw outOfRange('options.events', '>= 0 and a safe integer', events);
    if (typeof events === 'bigint' && (events < 0n || events > 0xffff_ffff_ffff_ffffn)) throw outOfRange('options.events', '>= 0 && <= 2^64 - 1', events);
    return BigInt(events);
  }
  if (!Array.isArray(events)) throw invalidArgType('options.events', 'an instance of Array, or of type number or bigint', events);
  let mask = 0;
  for (const name of events as unknown[]) {
    const bit = typeof name === 'string' ? eventBits.get(name) : undefined;
    if (bit === undefined) throw invalidArgValue('options.events', events, `has an unknown event ${inspect(name)}`);
    mask = (mask | bit) >>> 0;
  }
  return BigInt(mask);
}

function validateAudit(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value !== null && typeof value === 'object') return true;
  throw invalidArgType('options.audit', 'of type boolean or object', value);
}

function validateDeadline(value: unknown): number {
  if (typeof value !== 'number') throw invalidArgType('options.deadline', 'of type number', value);
  if (!(value > 0)) throw outOfRange('options.deadline', '> 0', value);
  return value;
}
