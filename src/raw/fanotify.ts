/**
 * fanotify, 1:1: fanotify_init(2), fanotify_mark(2), the read(2) that returns
 * `struct fanotify_event_metadata` records with their info records, and their
 * parser.
 *
 * Ownership of event fds: every `fd >= 0` of an event, and every `pidfd >= 0`
 * of a PIDFD info record, is a new open file descriptor of this process that
 * the kernel created during the read. `fanotifyRead()` hands them to its
 * caller, who must close each exactly once (`fs.closeSync`, or
 * `fanotifyCloseEvents()`, which sets them to `FAN_NOFD` once closed so a
 * second call cannot close a reused number). `FAN_NOFD` (-1), `FAN_EPIDFD` (-2)
 * and, with `FAN_REPORT_FD_ERROR`, negative errnos are never fds and are never
 * closed. `parseFanotifyEvents()` only decodes bytes: the numbers it returns are
 * owned by whoever read those bytes from the kernel.
 */
import { types } from 'node:util';
import { constants as osConstants, endianness } from 'node:os';
import { check, invalidArgType, invalidArgValue, outOfRange, sysError } from '../core/errors';
import { closeQuietly, toPath, type PathLike } from '../core/fs';
import { native, type NativeHandle } from '../core/native';
import { isArray, validateFd, validateInt32, validateInteger } from '../core/validate';

/** The fanotify family's binding (src/native/fanotify.c); failing calls return -errno. */
export interface FanotifyNative {
  fanotifyInit(flags: number, eventFFlags: number, handle?: NativeHandle): number;
  /** A null path marks dirfd itself. */
  fanotifyMark(fd: number, flags: number, mask: bigint, dirfd: number, path: Uint8Array | null): number;
  /** With the group's `handle`, the handle holds every event fd and pidfd read until released through it. */
  fanotifyRead(fd: number, buffer: Uint8Array, handle?: NativeHandle): number;
  fanotifyQueued(fd: number): number;
  /**
   * One write(2) of a `struct fanotify_response` and `info`'s records; with
   * `release`, once the answer is taken, closes eventFd and pidfd (>= 0): with
   * `handle`, only those it holds.
   */
  fanotifyRespond(fd: number, eventFd: number, response: number, info: Uint8Array | null, release: boolean, pidfd: number, handle?: NativeHandle): number;
  /** readlink of /proc/self/fd/<fd> (a Buffer when not UTF-8); closes fd after when `close`. With `handle`, EBADF unless it holds fd. */
  fanotifyFdPath(fd: number, close: boolean, handle?: NativeHandle): string | Buffer | number;
  /** A directory fd for path, or the directory holding it (dirfd itself when null), owned by handle. */
  fanotifyOpenMount(dirfd: number, path: Uint8Array | null, handle: NativeHandle): number;
  /** statfs f_fsid of fd's filesystem, as two uint32 words. */
  fanotifyFsid(fd: number): [number, number] | number;
  /** The path of a `struct file_handle` through open_by_handle_at(mountFd, O_PATH). */
  fanotifyHandlePath(mountFd: number, fileHandle: Uint8Array): string | Buffer | number;
  readonly constants: Readonly<Record<
    'FAN_ACCESS' | 'FAN_MODIFY' | 'FAN_ATTRIB' | 'FAN_CLOSE_WRITE' | 'FAN_CLOSE_NOWRITE' | 'FAN_OPEN' | 'FAN_MOVED_FROM'
    | 'FAN_MOVED_TO' | 'FAN_CREATE' | 'FAN_DELETE' | 'FAN_DELETE_SELF' | 'FAN_MOVE_SELF' | 'FAN_OPEN_EXEC' | 'FAN_Q_OVERFLOW'
    | 'FAN_FS_ERROR' | 'FAN_OPEN_PERM' | 'FAN_ACCESS_PERM' | 'FAN_OPEN_EXEC_PERM' | 'FAN_PRE_ACCESS' | 'FAN_MNT_ATTACH' | 'FAN_MNT_DETACH'
    | 'FAN_EVENT_ON_CHILD' | 'FAN_RENAME' | 'FAN_ONDIR' | 'FAN_CLOSE' | 'FAN_MOVE' | 'FAN_CLOEXEC' | 'FAN_NONBLOCK'
    | 'FAN_CLASS_NOTIF' | 'FAN_CLASS_CONTENT' | 'FAN_CLASS_PRE_CONTENT' | 'FAN_ALL_CLASS_BITS' | 'FAN_UNLIMITED_QUEUE' | 'FAN_UNLIMITED_MARKS' | 'FAN_ENABLE_AUDIT'
    | 'FAN_REPORT_PIDFD' | 'FAN_REPORT_TID' | 'FAN_REPORT_FID' | 'FAN_REPORT_DIR_FID' | 'FAN_REPORT_NAME' | 'FAN_REPORT_TARGET_FID' | 'FAN_REPORT_FD_ERROR'
    | 'FAN_REPORT_MNT' | 'FAN_REPORT_DFID_NAME' | 'FAN_REPORT_DFID_NAME_TARGET' | 'FAN_ALL_INIT_FLAGS' | 'FAN_MARK_ADD' | 'FAN_MARK_REMOVE' | 'FAN_MARK_DONT_FOLLOW'
    | 'FAN_MARK_ONLYDIR' | 'FAN_MARK_IGNORED_MASK' | 'FAN_MARK_IGNORED_SURV_MODIFY' | 'FAN_MARK_FLUSH' | 'FAN_MARK_EVICTABLE' | 'FAN_MARK_IGNORE' | 'FAN_MARK_INODE'
    | 'FAN_MARK_MOUNT' | 'FAN_MARK_FILESYSTEM' | 'FAN_MARK_MNTNS' | 'FAN_MARK_IGNORE_SURV' | 'FAN_ALL_MARK_FLAGS' | 'FAN_ALL_EVENTS' | 'FAN_ALL_PERM_EVENTS'
    | 'FAN_ALL_OUTGOING_EVENTS' | 'FANOTIFY_METADATA_VERSION' | 'FAN_EVENT_METADATA_LEN' | 'FAN_EVENT_INFO_TYPE_FID' | 'FAN_EVENT_INFO_TYPE_DFID_NAME' | 'FAN_EVENT_INFO_TYPE_DFID' | 'FAN_EVENT_INFO_TYPE_PIDFD'
    | 'FAN_EVENT_INFO_TYPE_ERROR' | 'FAN_EVENT_INFO_TYPE_RANGE' | 'FAN_EVENT_INFO_TYPE_MNT' | 'FAN_EVENT_INFO_TYPE_OLD_DFID_NAME' | 'FAN_EVENT_INFO_TYPE_NEW_DFID_NAME' | 'FAN_ALLOW' | 'FAN_DENY'
    | 'FAN_AUDIT' | 'FAN_INFO' | 'FAN_RESPONSE_INFO_NONE' | 'FAN_RESPONSE_INFO_AUDIT_RULE' | 'FAN_ERRNO_BITS' | 'FAN_ERRNO_SHIFT' | 'FAN_ERRNO_MASK'
    | 'FAN_NOFD' | 'FAN_NOPIDFD' | 'FAN_EPIDFD' | 'O_CLOEXEC', number>>;
}

declare module '../core/native' {
  interface Families {
    fanotify: FanotifyNative;
  }
}

/** Every FAN_* constant of <linux/fanotify.h> (with the newer kernels' ones), and O_CLOEXEC. */
export const fanotifyConstants = native.fanotify.constants;

const {
  FAN_CLOEXEC,
  FAN_NONBLOCK,
  FAN_CLASS_NOTIF,
  FAN_NOFD,
  FANOTIFY_METADATA_VERSION,
  FAN_EVENT_METADATA_LEN,
  FAN_EVENT_INFO_TYPE_FID,
  FAN_EVENT_INFO_TYPE_DFID_NAME,
  FAN_EVENT_INFO_TYPE_DFID,
  FAN_EVENT_INFO_TYPE_PIDFD,
  FAN_EVENT_INFO_TYPE_ERROR,
  FAN_EVENT_INFO_TYPE_RANGE,
  FAN_EVENT_INFO_TYPE_MNT,
  FAN_EVENT_INFO_TYPE_OLD_DFID_NAME,
  FAN_EVENT_INFO_TYPE_NEW_DFID_NAME,
  FAN_DENY,
  FAN_INFO,
  FAN_RESPONSE_INFO_AUDIT_RULE,
  FAN_ERRNO_SHIFT,
  FAN_ERRNO_MASK,
  O_CLOEXEC,
} = fanotifyConstants;

/** `AT_FDCWD`: a relative path is taken from the current directory. */
export const AT_FDCWD = -100;

/** A path as `node:fs` takes one. */
export type FanotifyPath = PathLike;

/** A file identifier record: `FID`, `DFID`, `DFID_NAME`, `OLD_DFID_NAME` or `NEW_DFID_NAME`. */
export interface FanotifyFidInfo {
  type: 'fid' | 'dfid' | 'dfid_name' | 'old_dfid_name' | 'new_dfid_name';
  /** `FAN_EVENT_INFO_TYPE_*` as the kernel wrote it. */
  infoType: number;
  /** `__kernel_fsid_t`: the two 32-bit words of the filesystem id, as unsigned numbers. */
  fsid: readonly [number, number];
  /** `struct file_handle`'s `handle_type` (`FILEID_*`). */
  handleType: number;
  /** The opaque `f_handle` bytes (a copy). */
  handle: Buffer;
  /**
   * The whole `struct file_handle` (`handle_bytes`, `handle_type`, `f_handle`),
   * as `open_by_handle_at(2)` takes it (a copy).
   */
  fileHandle: Buffer;
  /** The entry name of a `*_NAME` record (UTF-8); `null` for `FID`/`DFID`, and for "." (the kernel's name for the directory itself). */
  name: string | null;
  /** The name's exact bytes when they are not valid UTF-8; otherwise `undefined`. */
  rawName: Buffer | undefined;
}

/** `FAN_EVENT_INFO_TYPE_PIDFD` (`FAN_REPORT_PIDFD`). */
export interface FanotifyPidfdInfo {
  type: 'pidfd';
  infoType: number;
  /** A pidfd the caller owns when >= 0; `FAN_NOPIDFD` (-1) if the process is gone, `FAN_EPIDFD` (-2) on error. */
  pidfd: number;
}

/** `FAN_EVENT_INFO_TYPE_ERROR` (`FAN_FS_ERROR`). */
export interface FanotifyErrorInfo {
  type: 'error';
  infoType: number;
  /** The filesystem's errno (positive). */
  error: number;
  /** Errors since the last one reported. */
  errorCount: number;
}

/** `FAN_EVENT_INFO_TYPE_RANGE` (`FAN_PRE_ACCESS`, Linux 6.14). */
export interface FanotifyRangeInfo {
  type: 'range';
  infoType: number;
  offset: bigint;
  count: bigint;
}

/** `FAN_EVENT_INFO_TYPE_MNT` (`FAN_MNT_ATTACH`/`FAN_MNT_DETACH`, Linux 6.15). */
export interface FanotifyMntInfo {
  type: 'mnt';
  infoType: number;
  /** The unique 64-bit mount id (`statmount(2)`'s). */
  mntId: bigint;
}

export type FanotifyInfo = FanotifyFidInfo | FanotifyPidfdInfo | FanotifyErrorInfo | FanotifyRangeInfo | FanotifyMntInfo;

/** One `struct fanotify_event_metadata` and the info records that follow it. */
export interface FanotifyRecord {
  /** The event bits (`FAN_*`, with `FAN_ONDIR`); the kernel's field is 64-bit, every defined bit fits a number. */
  mask: number;
  /**
   * An open fd for the object (the caller's: see the module comment);
   * `FAN_NOFD` (-1) with FID reporting or on overflow; a negative errno when it
   * could not be opened and `FAN_REPORT_FD_ERROR` was asked for.
   */
  fd: number;
  /** The acting process (thread with `FAN_REPORT_TID`); 0 when unknown to this pid namespace. */
  pid: number;
  /** Info records, in the kernel's order; records of unknown types are skipped. */
  info: FanotifyInfo[];
}

// ---- validation ----

/** A uint32 flags word; negative int32s are taken as their bits, as `|` in JavaScript makes them. */
function validateFlags(value: unknown, name: string): number {
  return validateInteger(value, name, -(2 ** 31), 2 ** 32 - 1) >>> 0;
}

/** A 64-bit mask as a bigint, from a bigint or a safe integer (negative int32s taken as their bits). */
function validateMask64(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw outOfRange(name, '>= 0 && <= 18446744073709551615', value);
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw outOfRange(name, 'a safe integer or a bigint', value);
    if (value < -(2 ** 31)) throw outOfRange(name, `>= ${-(2 ** 31)} && <= ${Number.MAX_SAFE_INTEGER}`, value);
    return BigInt(value < 0 ? value >>> 0 : value);
  }
  throw invalidArgType(name, 'of type bigint or number', value);
}

// ---- the calls ----

/** Butter's default `flags`: close-on-exec, non-blocking, notification class (no permission events). */
export const FANOTIFY_DEFAULT_FLAGS = FAN_CLOEXEC | FAN_NONBLOCK | FAN_CLASS_NOTIF;
/**
 * Butter's default `eventFFlags`: event fds are read-only and close-on-exec
 * (an event fd leaking into a child would keep the file open there).
 */
export const FANOTIFY_DEFAULT_EVENT_F_FLAGS = O_CLOEXEC; // O_RDONLY is 0

/**
 * fanotify_init(2): a new fanotify group. `flags` defaults to
 * `FAN_CLOEXEC | FAN_NONBLOCK | FAN_CLASS_NOTIF`, `eventFFlags` (the open
 * flags of event fds) to `O_RDONLY | O_CLOEXEC`. Needs CAP_SYS_ADMIN, except
 * for a notification group with FID reporting and without the unlimited or
 * audit flags. The caller owns the fd (close it with `fs.closeSync`).
 */
export function fanotifyInit(flags: number = FANOTIFY_DEFAULT_FLAGS, eventFFlags: number = FANOTIFY_DEFAULT_EVENT_F_FLAGS): number {
  const fd = native.fanotify.fanotifyInit(validateFlags(flags, 'flags'), validateFlags(eventFFlags, 'eventFFlags'));
  if (fd < 0) throw sysError(-fd, 'fanotify_init');
  return fd;
}

/**
 * fanotify_mark(2): adds, removes or flushes marks. `flags` is one of
 * `FAN_MARK_ADD`/`REMOVE`/`FLUSH` with a mark type (`FAN_MARK_INODE`, `MOUNT`,
 * `FILESYSTEM`, `MNTNS`) and modifiers; `mask` (a bigint or a number: the
 * kernel's mask is 64-bit) the events. The object is `path` relative to
 * `dirfd` (default `AT_FDCWD`), or `dirfd` itself when `path` is `null` or
 * `undefined`.
 */
export function fanotifyMark(fd: number, flags: number, mask: bigint | number, dirfd: number = AT_FDCWD, path?: FanotifyPath | null): void {
  validateFd(fd);
  const f = validateFlags(flags, 'flags');
  const m = validateMask64(mask, 'mask');
  validateInt32(dirfd, 'dirfd');
  const p = path === undefined || path === null ? null : toPath(path);
  check(native.fanotify.fanotifyMark(fd, f, m, dirfd, p === null ? null : p.bytes), 'fanotify_mark', p === null ? undefined : p.text);
}

/** FIONREAD: how many bytes of events the group has queued. */
export function fanotifyQueued(fd: number): number {
  return check(native.fanotify.fanotifyQueued(validateFd(fd)), 'ioctl');
}

let readBuffer = Buffer.alloc(16 * 1024);

/**
 * Reads the events queued on a fanotify fd (at most `size` bytes of them,
 * default 16 KiB: every event may open an fd in this process, so the size
 * bounds how many fds one read creates) and parses them. The fds and pidfds in
 * the result are the caller's to close. Throws EAGAIN when none is queued on
 * a non-blocking fd, and EINVAL if `size` cannot hold the next event.
 */
export function fanotifyRead(fd: number, size = 16 * 1024): FanotifyRecord[] {
  validateFd(fd);
  validateInt32(size, 'size', FAN_EVENT_METADATA_LEN, 1 << 20);
  if (readBuffer.byteLength < size) readBuffer = Buffer.alloc(size);
  const n = check(native.fanotify.fanotifyRead(fd, readBuffer.subarray(0, size)), 'read');
  const out: FanotifyRecord[] = [];
  try {
    parseInto(readBuffer, n, out);
  } catch (err) {
    // The kernel's bytes did not parse (a newer metadata version): the fds of the events that did are ours to close.
    fanotifyCloseEvents(out);
    throw err;
  }
  return out;
}

/**
 * Closes every event fd and pidfd >= 0 of `events` once, setting each to
 * `FAN_NOFD` after, so calling it again (or on the same events twice) closes
 * nothing. Errors of close(2) are ignored: the number is released either way.
 */
export function fanotifyCloseEvents(events: readonly FanotifyRecord[]): void {
  if (!isArray(events)) throw invalidArgType('events', 'an instance of Array', events);
  // Every record is checked, and each fd read once, before anything is closed:
  // a bad record closes nothing.
  const open: [holder: { fd?: number; pidfd?: number }, key: 'fd' | 'pidfd', fd: number][] = [];
  events.forEach((e: unknown, n) => {
    if (typeof e !== 'object' || e === null) throw invalidArgType(`events[${n}]`, 'of type object', e);
    const { fd, info } = e as { fd: unknown; info: unknown };
    if (validateInt32(fd, `events[${n}].fd`) >= 0) open.push([e, 'fd', fd as number]);
    if (!isArray(info)) throw invalidArgType(`events[${n}].info`, 'an instance of Array', info);
    info.forEach((i: unknown, k) => {
      if (typeof i !== 'object' || i === null) throw invalidArgType(`events[${n}].info[${k}]`, 'of type object', i);
      const { type, pidfd } = i as { type: unknown; pidfd: unknown };
      if (type !== 'pidfd') return;
      if (validateInt32(pidfd, `events[${n}].info[${k}].pidfd`) >= 0) open.push([i, 'pidfd', pidfd as number]);
    });
  });
  for (const [holder, key, fd] of open) {
    holder[key] = FAN_NOFD;
    closeQuietly(fd);
  }
}

/**
 * `struct fanotify_response_info_audit_rule`: the audit rule that made a
 * decision, logged with it (Linux 6.3; the group needs `FAN_ENABLE_AUDIT` and
 * the response `FAN_AUDIT`).
 */
export interface FanotifyAuditRule {
  /** The rule's number (uint32). */
  ruleNumber: number;
  /** Whether the subject (the process) is trusted: 0 no, 1 yes, 2 unknown (the default). */
  subjTrust?: number;
  /** Whether the object (the file) is trusted: 0 no, 1 yes, 2 unknown (the default). */
  objTrust?: number;
}

const AUDIT_RULE_LEN = 16;
const auditRule = Buffer.alloc(AUDIT_RULE_LEN);
const auditRuleView = new DataView(auditRule.buffer, auditRule.byteOffset, AUDIT_RULE_LEN);

function validateTrust(value: unknown, name: string): number {
  return value === undefined ? 2 : validateInteger(value, name, 0, 2);
}

/**
 * Validates `rule` and writes it as a `struct fanotify_response_info_audit_rule`
 * into a buffer shared by every call (valid until the next one).
 */
export function auditRuleRecord(rule: unknown, name = 'auditRule'): Buffer {
  if (rule === null || typeof rule !== 'object') throw invalidArgType(name, 'of type object', rule);
  const r = rule as Partial<FanotifyAuditRule>;
  const number = validateInteger(r.ruleNumber, `${name}.ruleNumber`, 0, 2 ** 32 - 1);
  const subj = validateTrust(r.subjTrust, `${name}.subjTrust`);
  const obj = validateTrust(r.objTrust, `${name}.objTrust`);
  auditRule[0] = FAN_RESPONSE_INFO_AUDIT_RULE;
  auditRule[1] = 0;
  auditRuleView.setUint16(2, AUDIT_RULE_LEN, LE);
  auditRuleView.setUint32(4, number, LE);
  auditRuleView.setUint32(8, subj, LE);
  auditRuleView.setUint32(12, obj, LE);
  return auditRule;
}

/**
 * Answers a permission event: one write(2) of `struct fanotify_response`
 * (`eventFd`, `response`). `response` is `FAN_ALLOW` or `FAN_DENY` (or
 * `fanotifyDenyErrno(errno)`), optionally with `FAN_AUDIT`; with `auditRule`,
 * `FAN_INFO` is added and the audit-rule record follows. The event fd stays
 * the caller's to close. ENOENT if no event of this group waits on `eventFd`;
 * EINVAL for a response the group cannot give.
 */
export function fanotifyRespond(fd: number, eventFd: number, response_: number, auditRule?: FanotifyAuditRule): void {
  validateFd(fd);
  validateInt32(eventFd, 'eventFd');
  let r = validateFlags(response_, 'response');
  let info: Buffer | null = null;
  if (auditRule !== undefined) {
    info = auditRuleRecord(auditRule);
    r = (r | FAN_INFO) >>> 0;
  }
  check(native.fanotify.fanotifyRespond(fd, eventFd, r, info, false, -1), 'write');
}

/**
 * `FAN_DENY_ERRNO(errno)` (Linux 6.14): a denial whose caller gets `errno`
 * (a positive number, or a code such as `'EIO'`) instead of EPERM. The kernel
 * takes it only from pre-content groups, and only EPERM, EIO, EBUSY, ETXTBSY,
 * EAGAIN, ENOSPC and EDQUOT.
 */
export function fanotifyDenyErrno(errno: number | string): number {
  const n = typeof errno === 'string' ? errnoOf(errno) : validateInteger(errno, 'errno', 1, FAN_ERRNO_MASK);
  return (FAN_DENY | (n << FAN_ERRNO_SHIFT)) >>> 0;
}

function errnoOf(code: string): number {
  const n = (osConstants.errno as Record<string, number>)[code];
  if (n === undefined || n > FAN_ERRNO_MASK) throw invalidArgValue('errno', code, 'is not an errno code fanotify can return');
  return n;
}

// ---- the parser ----

const LE = endianness() === 'LE';

function invalid(buf: Uint8Array, offset: number, what: string): TypeError {
  return invalidArgValue('buffer', buf, `holds ${what} at offset ${offset}`);
}

const fidTypes = new Map<number, FanotifyFidInfo['type']>([
  [FAN_EVENT_INFO_TYPE_FID, 'fid'],
  [FAN_EVENT_INFO_TYPE_DFID, 'dfid'],
  [FAN_EVENT_INFO_TYPE_DFID_NAME, 'dfid_name'],
  [FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, 'old_dfid_name'],
  [FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, 'new_dfid_name'],
]);
const namedTypes = new Set<number>([FAN_EVENT_INFO_TYPE_DFID_NAME, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME]);

/** `hdr` + fsid (8) + `struct file_handle` header (8). */
const FID_MIN = 4 + 8 + 8;

function parseInfo(buf: Buffer, dv: DataView, o: number, len: number, input: Uint8Array): FanotifyInfo | undefined {
  const infoType = buf[o]!;
  const fidType = fidTypes.get(infoType);
  if (fidType !== undefined) {
    if (len < FID_MIN) throw invalid(input, o, 'a truncated fanotify_event_info_fid record');
    const handleBytes = dv.getUint32(o + 12, LE);
    const hStart = o + FID_MIN;
    if (handleBytes > len - FID_MIN) throw invalid(input, o, 'a file handle longer than its record');
    const hEnd = hStart + handleBytes;
    let name: string | null = null;
    let rawName: Buffer | undefined;
    if (namedTypes.has(infoType)) {
      // NUL-terminated, then padded to the record's 4-byte alignment.
      let end = buf.indexOf(0, hEnd);
      if (end < 0 || end > o + len) end = o + len;
      const text = buf.toString('utf8', hEnd, end);
      if (text !== '.' && end > hEnd) {
        name = text;
        if (text.includes('\uFFFD')) {
          const bytes = buf.subarray(hEnd, end);
          if (!Buffer.from(text, 'utf8').equals(bytes)) rawName = Buffer.from(bytes);
        }
      }
    }
    return {
      type: fidType,
      infoType,
      fsid: [dv.getUint32(o + 4, LE), dv.getUint32(o + 8, LE)],
      handleType: dv.getInt32(o + 16, LE),
      handle: Buffer.from(buf.subarray(hStart, hEnd)),
      fileHandle: Buffer.from(buf.subarray(o + 12, hEnd)),
      name,
      rawName,
    };
  }
  switch (infoType) {
    case FAN_EVENT_INFO_TYPE_PIDFD:
      if (len < 8) throw invalid(input, o, 'a truncated fanotify_event_info_pidfd record');
      return { type: 'pidfd', infoType, pidfd: dv.getInt32(o + 4, LE) };
    case FAN_EVENT_INFO_TYPE_ERROR:
      if (len < 12) throw invalid(input, o, 'a truncated fanotify_event_info_error record');
      return { type: 'error', infoType, error: dv.getInt32(o + 4, LE), errorCount: dv.getUint32(o + 8, LE) };
    case FAN_EVENT_INFO_TYPE_RANGE:
      // hdr, 4 bytes of padding, then two u64s.
      if (len < 24) throw invalid(input, o, 'a truncated fanotify_event_info_range record');
      return { type: 'range', infoType, offset: dv.getBigUint64(o + 8, LE), count: dv.getBigUint64(o + 16, LE) };
    case FAN_EVENT_INFO_TYPE_MNT:
      // hdr, then the u64 at its natural alignment.
      if (len < 16) throw invalid(input, o, 'a truncated fanotify_event_info_mnt record');
      return { type: 'mnt', infoType, mntId: dv.getBigUint64(o + 8, LE) };
    default:
      return undefined; // a record type newer than Butter: its header's length lets us step over it
  }
}

/** Parses `length` bytes of `buffer` into `out` (for the high-level reader, which owns the fds). */
export function parseInto(buffer: Uint8Array, length: number, out: FanotifyRecord[]): void {
  const buf = Buffer.from(buffer.buffer, buffer.byteOffset, length);
  const dv = new DataView(buf.buffer, buf.byteOffset, length);
  for (let o = 0; o < length; ) {
    if (length - o < FAN_EVENT_METADATA_LEN) throw invalid(buffer, o, 'a truncated fanotify_event_metadata record');
    const eventLen = dv.getUint32(o, LE);
    const vers = buf[o + 4]!;
    // Another version may lay the fields out differently: refuse rather than guess.
    if (vers !== FANOTIFY_METADATA_VERSION) throw invalid(buffer, o, `fanotify metadata version ${vers} (Butter reads version ${FANOTIFY_METADATA_VERSION})`);
    const metaLen = dv.getUint16(o + 6, LE);
    if (metaLen < FAN_EVENT_METADATA_LEN || eventLen < metaLen || eventLen > length - o) {
      throw invalid(buffer, o, 'a fanotify_event_metadata record with inconsistent lengths');
    }
    const info: FanotifyInfo[] = [];
    const event: FanotifyRecord = {
      mask: dv.getUint32(o + 8, LE) + dv.getUint32(o + 12, LE) * 2 ** 32,
      fd: dv.getInt32(o + 16, LE),
      pid: dv.getInt32(o + 20, LE),
      info,
    };
    // Pushed before its records are read, so a failure still lets fanotifyRead close its fd.
    out.push(event);
    const end = o + eventLen;
    for (let r = o + metaLen; r < end; ) {
      if (end - r < 4) throw invalid(buffer, r, 'a truncated fanotify_event_info_header');
      const len = dv.getUint16(r + 2, LE);
      if (len < 4 || len > end - r) throw invalid(buffer, r, 'a fanotify info record with an impossible length');
      const rec = parseInfo(buf, dv, r, len, buffer);
      if (rec !== undefined) info.push(rec);
      r += len;
    }
    o = end;
  }
}

/**
 * Parses the first `length` bytes of `buffer` as fanotify events (what a
 * read(2) of a fanotify fd returns): `struct fanotify_event_metadata`, checked
 * to be `FANOTIFY_METADATA_VERSION`, then every info record walked by its
 * header's length. Records of unknown types are skipped. Throws
 * ERR_INVALID_ARG_VALUE for another metadata version or inconsistent lengths.
 * The fds in the result are numbers only: this function owns and opens nothing.
 */
export function parseFanotifyEvents(buffer: Uint8Array, length?: number): FanotifyRecord[] {
  if (!types.isUint8Array(buffer)) throw invalidArgType('buffer', 'an instance of Buffer or Uint8Array', buffer);
  length = length === undefined ? buffer.byteLength : validateInt32(length, 'length', 0, buffer.byteLength);
  const out: FanotifyRecord[] = [];
  if (length > 0) parseInto(buffer, length, out); // a detached view has no bytes, and no buffer to view them through
  return out;
}

// ---- masks by name ----

/** Event bits by the name fatrace-like tools print (FAN_CLOSE_WRITE is 'close_write'), in bit order. */
export const fanotifyEventBits: ReadonlyArray<readonly [string, number]> = Object.entries(fanotifyConstants)
  .filter(([k, v]) => k.startsWith('FAN_') && v > 0 && (v & (v - 1)) === 0 && isEventName(k))
  .map(([k, v]) => [k.slice(4).toLowerCase(), v] as const)
  .sort((a, b) => a[1] - b[1]);

function isEventName(k: string): boolean {
  return !/^FAN_(CLOEXEC|NONBLOCK|CLASS_|UNLIMITED_|ENABLE_|REPORT_|MARK_|EVENT_INFO_|EVENT_METADATA|ALL_|ALLOW|DENY|AUDIT|INFO|RESPONSE_|ERRNO_|NOFD|NOPIDFD|EPIDFD)/.test(k);
}

/**
 * The names of the event bits set in `mask` (`['close_write', 'ondir']`), in
 * bit order; bits Butter does not know are left out.
 */
export function fanotifyMaskNames(mask: bigint | number): string[] {
  const m = validateMask64(mask, 'mask');
  const lo = Number(m & 0xffff_ffffn);
  return fanotifyEventBits.filter(([, bit]) => (lo & bit) >>> 0 !== 0).map(([n]) => n);
}
