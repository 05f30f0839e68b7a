/**
 * inotify, 1:1: inotify_init1(2), inotify_add_watch(2), inotify_rm_watch(2),
 * the read(2) that returns `struct inotify_event` records and their parser, and
 * the two ioctls of inotify(7) (FIONREAD, INOTIFY_IOC_SETNEXTWD).
 */
import { openSync, closeSync, readFileSync } from 'node:fs';
import { types } from 'node:util';
import { check, invalidArgType, invalidArgValue, sysError, type SystemError, EMFILE, ENOSPC } from '../core/errors';
import { toPath, type PathLike } from '../core/fs';
import { native, type NativeHandle } from '../core/native';
import { isArray, validateFd, validateInt32, validateInteger } from '../core/validate';

/** The inotify family's binding (src/native/inotify.c); failing calls return -errno. */
export interface InotifyNative {
  inotifyInit(flags: number, handle?: NativeHandle): number;
  inotifyAddWatch(fd: number, path: Uint8Array, mask: number): number;
  inotifyRmWatch(fd: number, wd: number): number;
  inotifySubtree(handle: NativeHandle, wd: number, path: Uint8Array | null, mask: number): number;
  inotifySubtreeWatch(handle: NativeHandle, wd: number): [Buffer, number] | null;
  inotifyRead(fd: number, buffer: Uint8Array): number;
  inotifySetNextWd(fd: number, wd: number): number;
  inotifyQueued(fd: number): number;
  readonly constants: Readonly<Record<
    | 'IN_ACCESS' | 'IN_MODIFY' | 'IN_ATTRIB' | 'IN_CLOSE_WRITE' | 'IN_CLOSE_NOWRITE' | 'IN_OPEN' | 'IN_MOVED_FROM' | 'IN_MOVED_TO'
    | 'IN_CREATE' | 'IN_DELETE' | 'IN_DELETE_SELF' | 'IN_MOVE_SELF' | 'IN_UNMOUNT' | 'IN_Q_OVERFLOW' | 'IN_IGNORED' | 'IN_CLOSE' | 'IN_MOVE'
    | 'IN_ONLYDIR' | 'IN_DONT_FOLLOW' | 'IN_EXCL_UNLINK' | 'IN_MASK_CREATE' | 'IN_MASK_ADD' | 'IN_ISDIR' | 'IN_ONESHOT' | 'IN_ALL_EVENTS'
    | 'IN_CLOEXEC' | 'IN_NONBLOCK' | 'INOTIFY_IOC_SETNEXTWD', number>>;
}

declare module '../core/native' {
  interface Families {
    inotify: InotifyNative;
  }
}

/** Every IN_* constant of <linux/inotify.h>, and INOTIFY_IOC_SETNEXTWD. */
export const inotifyConstants = native.inotify.constants;

export const {
  IN_ACCESS,
  IN_MODIFY,
  IN_ATTRIB,
  IN_CLOSE_WRITE,
  IN_CLOSE_NOWRITE,
  IN_OPEN,
  IN_MOVED_FROM,
  IN_MOVED_TO,
  IN_CREATE,
  IN_DELETE,
  IN_DELETE_SELF,
  IN_MOVE_SELF,
  IN_UNMOUNT,
  IN_Q_OVERFLOW,
  IN_IGNORED,
  IN_CLOSE,
  IN_MOVE,
  IN_ONLYDIR,
  IN_DONT_FOLLOW,
  IN_EXCL_UNLINK,
  IN_MASK_CREATE,
  IN_MASK_ADD,
  IN_ISDIR,
  IN_ONESHOT,
  IN_ALL_EVENTS,
  IN_CLOEXEC,
  IN_NONBLOCK,
  INOTIFY_IOC_SETNEXTWD,
} = inotifyConstants;


/** A path as `node:fs` takes one. */
export type InotifyPath = PathLike;

/** One `struct inotify_event`, as the kernel wrote it. */
export interface InotifyRecord {
  /** The watch descriptor; -1 for `IN_Q_OVERFLOW`. */
  wd: number;
  /** One event bit, plus `IN_ISDIR` when the subject is a directory. */
  mask: number;
  /** Links the `IN_MOVED_FROM` and `IN_MOVED_TO` of one rename; 0 otherwise. */
  cookie: number;
  /**
   * The entry's name in the watched directory, without the kernel's NUL
   * padding, decoded as UTF-8; `null` when the event is about the watched
   * object itself.
   */
  name: string | null;
  /**
   * The name's exact bytes, set only when they are not valid UTF-8 (the string
   * `name` then holds U+FFFD where they were). Otherwise `Buffer.from(name)` is
   * exact, and this is `undefined`.
   */
  rawName: Buffer | undefined;
}

/** `sizeof(struct inotify_event)`; names are NUL-padded to a multiple of it. */
export const INOTIFY_EVENT_SIZE = 16;
/** The longest record: a header and a 255-byte name with its NUL, padded. */
export const INOTIFY_RECORD_MAX = INOTIFY_EVENT_SIZE + 256;

/**
 * A mask as a uint32. Negative int32s are taken as their bits: `IN_ONESHOT` is
 * bit 31, so `C.IN_CREATE | C.IN_ONESHOT` is negative in JavaScript.
 */
export function validateMask(value: unknown, name: string): number {
  return validateInteger(value, name, -(2 ** 31), 2 ** 32 - 1) >>> 0;
}

// ---- limits named in errors ----

function readLimit(file: string): number | undefined {
  try {
    const value = Number.parseInt(readFileSync(file, 'latin1'), 10);
    return Number.isNaN(value) ? undefined : value;
  } catch {
    return undefined;
  }
}

/** "fs.inotify.<sysctl> = N", and the user namespace's own limit when it is lower (it is per namespace). */
function describeLimit(sysctl: string, perNamespace: string): string {
  const global = readLimit(`/proc/sys/fs/inotify/${sysctl}`);
  const own = readLimit(`/proc/sys/user/${perNamespace}`);
  let text = `fs.inotify.${sysctl} = ${global ?? 'unknown'}`;
  if (own !== undefined && (global === undefined || own < global)) text += `, user.${perNamespace} = ${own} in this user namespace`;
  return text;
}

function withDescription(err: SystemError, description: string, path?: string): SystemError {
  err.message = `${err.code}: ${description}, ${err.syscall}${path === undefined ? '' : ` '${path}'`}`;
  return err;
}

/**
 * The error for a failed inotify_add_watch. ENOSPC there is the watch limit,
 * not a full disk, so the message says which limit and its value.
 */
export function addWatchError(errno: number, path: string): SystemError {
  const err = sysError(errno, 'inotify_add_watch', path);
  if (errno !== ENOSPC) return err;
  return withDescription(err, `inotify watch limit reached (${describeLimit('max_user_watches', 'max_inotify_watches')})`, path);
}

/**
 * The error for a failed inotify_init1. EMFILE is either the per-user instance
 * limit or a full fd table; if another fd can still be opened it is the former.
 */
export function initError(errno: number): SystemError {
  const err = sysError(errno, 'inotify_init1');
  if (errno !== EMFILE) return err;
  try {
    closeSync(openSync('/dev/null', 'r'));
  } catch {
    return err;
  }
  return withDescription(err, `inotify instance limit reached (${describeLimit('max_user_instances', 'max_inotify_instances')})`);
}

// ---- the calls ----

/**
 * inotify_init1(2): a new inotify instance. `flags` defaults to
 * `IN_CLOEXEC | IN_NONBLOCK` (Butter's defaults); pass `0` for a blocking fd.
 * The caller owns the fd (close it with `fs.closeSync`).
 */
export function inotifyInit(flags: number = IN_CLOEXEC | IN_NONBLOCK): number {
  const fd = native.inotify.inotifyInit(validateInt32(flags, 'flags'));
  if (fd < 0) throw initError(-fd);
  return fd;
}

/**
 * inotify_add_watch(2): watches the inode `path` names, for the events in
 * `mask` (with `IN_ONLYDIR`, `IN_DONT_FOLLOW`, `IN_EXCL_UNLINK`, `IN_ONESHOT`,
 * `IN_MASK_ADD`, `IN_MASK_CREATE` as flags). Returns the watch descriptor: the
 * same one again if this instance already watches that inode (its mask is then
 * replaced, or extended with `IN_MASK_ADD`, or EEXIST with `IN_MASK_CREATE`).
 */
export function inotifyAddWatch(fd: number, path: InotifyPath, mask: number): number {
  validateFd(fd);
  const { bytes, text } = toPath(path);
  const wd = native.inotify.inotifyAddWatch(fd, bytes, validateMask(mask, 'mask'));
  if (wd < 0) throw addWatchError(-wd, text);
  return wd;
}

/** inotify_rm_watch(2): removes a watch; the kernel then queues its `IN_IGNORED`. EINVAL for an unknown wd. */
export function inotifyRmWatch(fd: number, wd: number): void {
  check(native.inotify.inotifyRmWatch(validateFd(fd), validateInt32(wd, 'wd')), 'inotify_rm_watch');
}

const readBuffer = Buffer.alloc(64 * 1024);

/**
 * Reads the events queued on an inotify fd (as many as 64 KiB holds) and
 * parses them. Throws EAGAIN when none is queued on a non-blocking fd; on a
 * blocking fd it blocks the thread until one is.
 */
export function inotifyRead(fd: number): InotifyRecord[] {
  const n = check(native.inotify.inotifyRead(validateFd(fd), readBuffer), 'read');
  return parseInotifyEvents(readBuffer, n);
}

/** FIONREAD: how many bytes of events the kernel holds for this instance. */
export function inotifyQueued(fd: number): number {
  return check(native.inotify.inotifyQueued(validateFd(fd)), 'ioctl');
}

/**
 * INOTIFY_IOC_SETNEXTWD: the number the kernel tries first for the next watch
 * descriptor (1 to 2^31 - 1). For checkpoint/restore, and for testing code
 * against a descriptor being reused; ENOTTY without CONFIG_CHECKPOINT_RESTORE.
 */
export function inotifySetNextWd(fd: number, wd: number): void {
  check(native.inotify.inotifySetNextWd(validateFd(fd), validateInt32(wd, 'wd', 1)), 'ioctl');
}

// ---- the parser ----

/** Record fields through a view in native byte order (the struct is native-endian). */
export function int32View(buf: Uint8Array): Int32Array {
  return new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
}

/** Where the name in the `len` bytes at `start` ends: before its NUL padding. */
export function nameEnd(buf: Uint8Array, start: number, len: number): number {
  let end = start + len;
  // The padding is 1 to 16 NULs and a name never contains one: trimming from the end is short.
  while (end > start && buf[end - 1] === 0) end--;
  return end;
}

/** The name's exact bytes if `name` (decoded from them) lost any; else undefined. */
export function rawNameOf(buf: Buffer, start: number, end: number, name: string): Buffer | undefined {
  // Only a decoded U+FFFD can hide a loss; a genuine one round-trips.
  if (!name.includes('\uFFFD')) return undefined;
  const bytes = buf.subarray(start, end);
  return Buffer.from(name, 'utf8').equals(bytes) ? undefined : Buffer.from(bytes);
}

function truncated(buf: Uint8Array, offset: number): TypeError {
  return invalidArgValue('buffer', buf, `holds a truncated inotify_event record at offset ${offset}`);
}

/**
 * Parses the first `length` bytes of `buffer` as `struct inotify_event`
 * records (what a read(2) of an inotify fd returns). Names lose their NUL
 * padding; names that are not valid UTF-8 keep their bytes in `rawName`.
 * Throws ERR_INVALID_ARG_VALUE if the bytes end inside a record.
 */
export function parseInotifyEvents(buffer: Uint8Array, length?: number): InotifyRecord[] {
  if (!types.isUint8Array(buffer)) throw invalidArgType('buffer', 'an instance of Buffer or Uint8Array', buffer);
  length = length === undefined ? buffer.byteLength : validateInt32(length, 'length', 0, buffer.byteLength);
  if (length === 0) return []; // a detached view has no bytes, and no buffer to view them through
  let buf = Buffer.from(buffer.buffer, buffer.byteOffset, length);
  if (buf.byteOffset % 4 !== 0) buf = Buffer.from(buf); // a copy, aligned for the view
  const view = int32View(buf);
  const out: InotifyRecord[] = [];
  for (let o = 0; o < length; ) {
    if (o + INOTIFY_EVENT_SIZE > length) throw truncated(buffer, o);
    const i = o >> 2;
    const len = view[i + 3]! >>> 0;
    const start = o + INOTIFY_EVENT_SIZE;
    if (len > length - start) throw truncated(buffer, o);
    const end = nameEnd(buf, start, len);
    const name = end === start ? null : buf.toString('utf8', start, end);
    out.push({
      wd: view[i]!,
      mask: view[i + 1]! >>> 0,
      cookie: view[i + 2]! >>> 0,
      name,
      rawName: name === null ? undefined : rawNameOf(buf, start, end, name),
    });
    o = start + len;
  }
  return out;
}

// ---- masks by name ----

/** The events a watch can ask for, by the name inotifywait uses (IN_ACCESS is 'access'). */
export type InotifyEventName =
  | 'access'
  | 'modify'
  | 'attrib'
  | 'close_write'
  | 'close_nowrite'
  | 'open'
  | 'moved_from'
  | 'moved_to'
  | 'create'
  | 'delete'
  | 'delete_self'
  | 'move_self';

/** What `inotifyMask()` accepts: event names and the groups `close`, `move`, `all`, and `unmount`. */
export type InotifyEventSelector = InotifyEventName | 'close' | 'move' | 'all' | 'unmount';

/** The names of bits that appear in an event's mask. */
export type InotifyMaskName = InotifyEventName | 'unmount' | 'q_overflow' | 'ignored' | 'isdir';

const eventBits: ReadonlyArray<readonly [InotifyMaskName, number]> = [
  ['access', IN_ACCESS],
  ['modify', IN_MODIFY],
  ['attrib', IN_ATTRIB],
  ['close_write', IN_CLOSE_WRITE],
  ['close_nowrite', IN_CLOSE_NOWRITE],
  ['open', IN_OPEN],
  ['moved_from', IN_MOVED_FROM],
  ['moved_to', IN_MOVED_TO],
  ['create', IN_CREATE],
  ['delete', IN_DELETE],
  ['delete_self', IN_DELETE_SELF],
  ['move_self', IN_MOVE_SELF],
  ['unmount', IN_UNMOUNT],
  ['q_overflow', IN_Q_OVERFLOW],
  ['ignored', IN_IGNORED],
  ['isdir', IN_ISDIR],
];

const selectorBits = new Map<string, number>([
  ...eventBits.filter(([n]) => n !== 'q_overflow' && n !== 'ignored' && n !== 'isdir'),
  ['close', IN_CLOSE],
  ['move', IN_MOVE],
  ['all', IN_ALL_EVENTS],
]);

/**
 * A mask from event names (`['create', 'close_write']`), or a number passed
 * through as given. Unknown names throw ERR_INVALID_ARG_VALUE.
 */
export function inotifyMask(events: InotifyEventSelector | readonly InotifyEventSelector[] | number): number {
  const name = 'events';
  if (typeof events === 'number') return validateMask(events, name);
  if (typeof events !== 'string' && !isArray(events)) {
    throw invalidArgType(name, 'of type string, number or an instance of Array', events);
  }
  const list: readonly unknown[] = typeof events === 'string' ? [events] : events;
  let mask = 0;
  for (const e of list) {
    const bit = typeof e === 'string' ? selectorBits.get(e) : undefined;
    if (typeof e !== 'string') throw invalidArgType(`${name}[${list.indexOf(e)}]`, 'of type string', e);
    if (bit === undefined) throw invalidArgValue(name, events, `contains an unknown inotify event name (${e})`);
    mask |= bit;
  }
  return mask >>> 0;
}

const namesCache = new Map<number, readonly InotifyMaskName[]>();

/**
 * The names of the bits set in `mask` (`['create', 'isdir']`), in the kernel's
 * bit order; bits Butter does not know are left out. The array is frozen and
 * shared between calls with the same mask.
 */
export function inotifyMaskNames(mask: number): readonly InotifyMaskName[] {
  return maskNames(validateMask(mask, 'mask'));
}

/** `inotifyMaskNames()` without the argument check, for a uint32 read from the kernel. */
export function maskNames(mask: number): readonly InotifyMaskName[] {
  let names = namesCache.get(mask);
  if (names === undefined) {
    names = Object.freeze(eventBits.filter(([, bit]) => (mask & bit) !== 0).map(([n]) => n));
    if (namesCache.size < 4096) namesCache.set(mask, names);
  }
  return names;
}
