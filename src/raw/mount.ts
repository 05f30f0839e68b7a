/**
 * mount, 1:1: mount(2), umount2(2), pivot_root(2), the new mount API
 * (fsopen(2), fsconfig(2), fsmount(2), move_mount(2), open_tree(2), fspick(2),
 * mount_setattr(2)), statmount(2) and listmount(2) (Linux 6.8); and
 * `mountinfo()`, /proc/PID/mountinfo as typed records.
 *
 * Mounts belong to the mount namespace of the calling thread. In Node's
 * process that is every thread's unless one of them was moved with
 * `unshare(CLONE_NEWNS, { thisThreadOnly: true })` (the namespaces family):
 * to mount for a new process, run it in a namespace of its own.
 *
 * `fsopen`, `fsmount`, `openTree`, `fspick` return fds the caller owns and
 * closes (`fs.closeSync`); they are close-on-exec unless the flags say
 * otherwise. The synchronous `mount` and `umount2` block the thread as long as
 * the filesystem takes (a network one can take long): their Promise forms
 * (`promises.mount`, `promises.umount2`, ./mount-promises.ts) run on Butter's
 * work threads.
 */
import { readFileSync } from 'node:fs';
import { check, invalidArgType, invalidArgValue, outOfRange, sysError } from '../core/errors';
import { toPath, type PathLike } from '../core/fs';
import { native } from '../core/native';
import { validateBigUint, validateBytes, validateFd, validateInt32, validateInteger, validateOptions, validateUint32, INT32_MAX, UINT64_MAX } from '../core/validate';
import type { NativeWork, WorkDone } from '../core/work';

/** The family's binding (src/native/mount.c); failing calls return -errno. Strings travel as bytes, null for NULL. */
export interface MountNative {
  mount(source: Uint8Array | null, target: Uint8Array, fstype: Uint8Array | null, flags: number, data: Uint8Array | null): number;
  mountStart(source: Uint8Array | null, target: Uint8Array, fstype: Uint8Array | null, flags: number, data: Uint8Array | null, done: WorkDone): NativeWork | number;
  umount2(target: Uint8Array, flags: number): number;
  umount2Start(target: Uint8Array, flags: number, done: WorkDone): NativeWork | number;
  pivotRoot(newRoot: Uint8Array, putOld: Uint8Array): number;
  fsopen(fsname: Uint8Array, flags: number): number;
  fsconfig(fd: number, cmd: number, key: Uint8Array | null, value: Uint8Array | null, aux: number): number;
  fsmount(fd: number, flags: number, attrFlags: number): number;
  moveMount(fromDirfd: number, fromPathname: Uint8Array, toDirfd: number, toPathname: Uint8Array, flags: number): number;
  openTree(dirfd: number, path: Uint8Array, flags: number): number;
  fspick(dirfd: number, path: Uint8Array, flags: number): number;
  mountSetattr(dirfd: number, path: Uint8Array, flags: number, attrSet: number, attrClr: number, propagation: number, usernsFd: number): number;
  /** 0 with the kernel's struct statmount in `buffer`, or -errno (EOVERFLOW: too small). */
  statmount(mntId: bigint, mask: bigint, mntNsId: bigint, flags: number, buffer: Uint8Array): number;
  /** How many 64-bit mount ids it put in `buffer`, or -errno. */
  listmount(mntId: bigint, lastId: bigint, mntNsId: bigint, flags: number, buffer: Uint8Array): number;
  readonly constants: Readonly<Record<
    | 'MS_RDONLY' | 'MS_NOSUID' | 'MS_NODEV' | 'MS_NOEXEC' | 'MS_SYNCHRONOUS' | 'MS_REMOUNT' | 'MS_MANDLOCK' | 'MS_DIRSYNC'
    | 'MS_NOSYMFOLLOW' | 'MS_NOATIME' | 'MS_NODIRATIME' | 'MS_BIND' | 'MS_MOVE' | 'MS_REC' | 'MS_VERBOSE' | 'MS_SILENT'
    | 'MS_POSIXACL' | 'MS_UNBINDABLE' | 'MS_PRIVATE' | 'MS_SLAVE' | 'MS_SHARED' | 'MS_RELATIME' | 'MS_KERNMOUNT'
    | 'MS_I_VERSION' | 'MS_STRICTATIME' | 'MS_LAZYTIME' | 'MS_SUBMOUNT' | 'MS_NOREMOTELOCK' | 'MS_NOSEC' | 'MS_BORN'
    | 'MS_ACTIVE' | 'MS_NOUSER' | 'MS_RMT_MASK' | 'MS_MGC_VAL' | 'MS_MGC_MSK'
    | 'MNT_FORCE' | 'MNT_DETACH' | 'MNT_EXPIRE' | 'UMOUNT_NOFOLLOW'
    | 'FSOPEN_CLOEXEC' | 'FSCONFIG_SET_FLAG' | 'FSCONFIG_SET_STRING' | 'FSCONFIG_SET_BINARY' | 'FSCONFIG_SET_PATH'
    | 'FSCONFIG_SET_PATH_EMPTY' | 'FSCONFIG_SET_FD' | 'FSCONFIG_CMD_CREATE' | 'FSCONFIG_CMD_RECONFIGURE'
    | 'FSCONFIG_CMD_CREATE_EXCL' | 'FSMOUNT_CLOEXEC'
    | 'MOUNT_ATTR_RDONLY' | 'MOUNT_ATTR_NOSUID' | 'MOUNT_ATTR_NODEV' | 'MOUNT_ATTR_NOEXEC' | 'MOUNT_ATTR__ATIME'
    | 'MOUNT_ATTR_RELATIME' | 'MOUNT_ATTR_NOATIME' | 'MOUNT_ATTR_STRICTATIME' | 'MOUNT_ATTR_NODIRATIME'
    | 'MOUNT_ATTR_IDMAP' | 'MOUNT_ATTR_NOSYMFOLLOW' | 'MOUNT_ATTR_SIZE_VER0'
    | 'OPEN_TREE_CLONE' | 'OPEN_TREE_CLOEXEC'
    | 'MOVE_MOUNT_F_SYMLINKS' | 'MOVE_MOUNT_F_AUTOMOUNTS' | 'MOVE_MOUNT_F_EMPTY_PATH' | 'MOVE_MOUNT_T_SYMLINKS'
    | 'MOVE_MOUNT_T_AUTOMOUNTS' | 'MOVE_MOUNT_T_EMPTY_PATH' | 'MOVE_MOUNT_SET_GROUP' | 'MOVE_MOUNT_BENEATH'
    | 'FSPICK_CLOEXEC' | 'FSPICK_SYMLINK_NOFOLLOW' | 'FSPICK_NO_AUTOMOUNT' | 'FSPICK_EMPTY_PATH'
    | 'AT_FDCWD' | 'AT_EMPTY_PATH' | 'AT_SYMLINK_NOFOLLOW' | 'AT_NO_AUTOMOUNT' | 'AT_RECURSIVE'
    | 'STATMOUNT_SB_BASIC' | 'STATMOUNT_MNT_BASIC' | 'STATMOUNT_PROPAGATE_FROM' | 'STATMOUNT_MNT_ROOT'
    | 'STATMOUNT_MNT_POINT' | 'STATMOUNT_FS_TYPE' | 'STATMOUNT_MNT_NS_ID' | 'STATMOUNT_MNT_OPTS'
    | 'STATMOUNT_FS_SUBTYPE' | 'STATMOUNT_SB_SOURCE' | 'STATMOUNT_OPT_ARRAY' | 'STATMOUNT_OPT_SEC_ARRAY'
    | 'STATMOUNT_SUPPORTED_MASK' | 'STATMOUNT_MNT_UIDMAP' | 'STATMOUNT_MNT_GIDMAP' | 'LISTMOUNT_REVERSE', number>>;
}

declare module '../core/native' {
  interface Families {
    mount: MountNative;
  }
}

const C = native.mount.constants;

/** A path as the calls take it, for the kernel and for the error. */
type Path = { bytes: Buffer; text: string };

/** A directory fd for the *at paths: an fd, or `AT_FDCWD`. */
function validateDirfd(value: unknown, name: string): number {
  if (value === C.AT_FDCWD) return value;
  return validateInteger(value, name, 0, INT32_MAX);
}

/** A path argument that may also be an empty string (the `*_EMPTY_PATH` flags: the fd itself). */
function pathOrEmpty(value: unknown, name: string): Path {
  if (value === '') return { bytes: Buffer.alloc(0), text: '' };
  return toPath(value, name);
}

/** A string or bytes, null allowed, without NUL: the filesystem type, option data and fsconfig's keys and values. */
function optionalBytes(value: unknown, name: string): Buffer | null {
  return value === null || value === undefined ? null : validateBytes(value, name);
}

/** The arguments mount(2) gets, checked; shared with the Promise form. */
export function validateMountArgs(source: unknown, target: unknown, fstype: unknown, flags: unknown, data: unknown) {
  const src = source === null || source === undefined ? null : toPath(source, 'source');
  const tgt = toPath(target, 'target');
  const type = optionalBytes(fstype, 'fstype');
  const f = validateUint32(flags, 'flags');
  const d = optionalBytes(data, 'data');
  return { args: [src?.bytes ?? null, tgt.bytes, type, f, d] as const, path: src?.text ?? tgt.text, dest: src ? tgt.text : undefined };
}

/**
 * mount(2): attaches `source` (a device, a directory for `MS_BIND`, or a name
 * such as `'tmpfs'`; null when the flags need none) on `target`, as filesystem
 * `fstype` with the filesystem's comma-separated `data` options; or, with
 * `MS_REMOUNT`, `MS_BIND`, `MS_MOVE` or a propagation flag (`MS_SHARED`,
 * `MS_PRIVATE`, `MS_SLAVE`, `MS_UNBINDABLE`, each with `MS_REC` for the whole
 * subtree), changes an existing mount. Needs CAP_SYS_ADMIN in the user
 * namespace owning the caller's mount namespace. Errors carry `source` as
 * `path` and `target` as `dest` (as `fs.rename`'s), or `target` as `path`
 * when there is no source.
 */
export function mount(source: PathLike | null, target: PathLike, fstype: string | Uint8Array | null = null, flags = 0, data: string | Uint8Array | null = null): void {
  const { args, path, dest } = validateMountArgs(source, target, fstype, flags, data);
  const r = native.mount.mount(...args);
  if (r < 0) throw sysError(-r, 'mount', path, dest);
}

/** umount2(2): detaches the mount on `target`; `flags`: `MNT_FORCE`, `MNT_DETACH` (lazy), `MNT_EXPIRE`, `UMOUNT_NOFOLLOW`. */
export function umount2(target: PathLike, flags = 0): void {
  const t = toPath(target, 'target');
  check(native.mount.umount2(t.bytes, validateUint32(flags, 'flags')), 'umount2', t.text);
}

/**
 * pivot_root(2): makes `newRoot` (a mount point) the root of the caller's
 * mount namespace and moves the old root to `putOld` (under `newRoot`; `'.'`
 * for both stacks it there, to be detached with `umount2('.', MNT_DETACH)`).
 * The root is per process: every thread that shares the caller's filesystem
 * context (all of Node's) moves with it.
 */
export function pivotRoot(newRoot: PathLike, putOld: PathLike): void {
  const n = toPath(newRoot, 'newRoot');
  const o = toPath(putOld, 'putOld');
  const r = native.mount.pivotRoot(n.bytes, o.bytes);
  if (r < 0) throw sysError(-r, 'pivot_root', n.text, o.text);
}

/**
 * fsopen(2): a filesystem context for `fsname` (`'tmpfs'`, `'ext4'`, …) to
 * configure with `fsconfig` and create with `FSCONFIG_CMD_CREATE`. Returns
 * an fd the caller owns; `flags` defaults to `FSOPEN_CLOEXEC`. Reading the fd
 * gives the filesystem's messages about the configuration.
 */
export function fsopen(fsname: string | Uint8Array, flags: number = C.FSOPEN_CLOEXEC): number {
  return check(native.mount.fsopen(validateBytes(fsname, 'fsname'), validateUint32(flags, 'flags')), 'fsopen');
}

/**
 * fsconfig(2), every command: `FSCONFIG_SET_FLAG` (key), `SET_STRING` (key,
 * value), `SET_BINARY` (key, value as bytes; aux defaults to their length),
 * `SET_PATH` and `SET_PATH_EMPTY` (key, value a path, aux its dirfd:
 * default `AT_FDCWD`), `SET_FD` (key, aux an fd), `CMD_CREATE`,
 * `CMD_CREATE_EXCL`, `CMD_RECONFIGURE` (nothing else). Errors carry a
 * path value as `path`.
 */
export function fsconfig(fd: number, cmd: number, key: string | Uint8Array | null = null, value: PathLike | null = null, aux?: number): void {
  validateFd(fd);
  const c = validateUint32(cmd, 'cmd');
  const k = optionalBytes(key, 'key');
  let v: Buffer | null = null;
  let path: string | undefined;
  let a = aux === undefined ? 0 : validateInt32(aux, 'aux');
  if (c === C.FSCONFIG_SET_BINARY) {
    if (!(value instanceof Uint8Array)) throw invalidArgValue('value', value, 'must be a Buffer or Uint8Array for FSCONFIG_SET_BINARY');
    v = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (aux === undefined) a = v.length;
    else if (a < 0 || a > v.length) throw outOfRange('aux', `>= 0 && <= ${v.length} (the value's length)`, aux);
  } else if (c === C.FSCONFIG_SET_PATH || c === C.FSCONFIG_SET_PATH_EMPTY) {
    const p = c === C.FSCONFIG_SET_PATH_EMPTY ? pathOrEmpty(value, 'value') : toPath(value, 'value');
    v = p.bytes;
    path = p.text;
    if (aux === undefined) a = C.AT_FDCWD;
    else validateDirfd(aux, 'aux');
  } else if (value !== null) {
    v = validateBytes(value, 'value');
  }
  check(native.mount.fsconfig(fd, c, k, v, a), 'fsconfig', path);
}

/**
 * fsmount(2): a mount of the filesystem a context created, detached until
 * `moveMount` attaches it; `attrFlags` are `MOUNT_ATTR_*`. Returns an fd the
 * caller owns (closing an unattached mount's last fd unmounts it); `flags`
 * defaults to `FSMOUNT_CLOEXEC`.
 */
export function fsmount(fd: number, flags: number = C.FSMOUNT_CLOEXEC, attrFlags = 0): number {
  validateFd(fd);
  return check(native.mount.fsmount(fd, validateUint32(flags, 'flags'), validateUint32(attrFlags, 'attrFlags')), 'fsmount');
}

/**
 * move_mount(2): moves the mount at `fromDirfd`/`fromPathname` (with
 * `MOVE_MOUNT_F_EMPTY_PATH` and `''`, the mount fd itself, as `fsmount` and
 * `openTree` return) onto `toDirfd`/`toPathname`. Errors carry the paths as
 * `path` and `dest`.
 */
export function moveMount(fromDirfd: number, fromPathname: PathLike, toDirfd: number, toPathname: PathLike, flags = 0): void {
  validateDirfd(fromDirfd, 'fromDirfd');
  const from = pathOrEmpty(fromPathname, 'fromPathname');
  validateDirfd(toDirfd, 'toDirfd');
  const to = pathOrEmpty(toPathname, 'toPathname');
  const r = native.mount.moveMount(fromDirfd, from.bytes, toDirfd, to.bytes, validateUint32(flags, 'flags'));
  if (r < 0) throw sysError(-r, 'move_mount', from.text, to.text);
}

function atPathCall(call: 'openTree' | 'fspick', syscall: string, dirfd: number, path: PathLike, flags: number): number {
  validateDirfd(dirfd, 'dirfd');
  const p = pathOrEmpty(path, 'path');
  return check(native.mount[call](dirfd, p.bytes, validateUint32(flags, 'flags')), syscall, p.text);
}

/**
 * open_tree(2): an fd for the mount at `dirfd`/`path`; with
 * `OPEN_TREE_CLONE` (and `AT_RECURSIVE` for its submounts) a detached copy of
 * it, for `moveMount` or `mountSetattr` (an idmapped mount is made this way).
 * Returns an fd the caller owns; `flags` defaults to `OPEN_TREE_CLOEXEC`, and
 * takes `AT_EMPTY_PATH`, `AT_NO_AUTOMOUNT`, `AT_SYMLINK_NOFOLLOW`.
 */
export function openTree(dirfd: number, path: PathLike, flags: number = C.OPEN_TREE_CLOEXEC): number {
  return atPathCall('openTree', 'open_tree', dirfd, path, flags);
}

/**
 * fspick(2): a filesystem context for the superblock of the mount at
 * `dirfd`/`path`, to reconfigure with `fsconfig` (`FSCONFIG_CMD_RECONFIGURE`).
 * Returns an fd the caller owns; `flags` defaults to `FSPICK_CLOEXEC`.
 */
export function fspick(dirfd: number, path: PathLike, flags: number = C.FSPICK_CLOEXEC): number {
  return atPathCall('fspick', 'fspick', dirfd, path, flags);
}

/** `struct mount_attr`: what `mountSetattr` changes. */
export interface MountAttr {
  /** `MOUNT_ATTR_*` to set. */
  attrSet?: number;
  /** `MOUNT_ATTR_*` to clear (`MOUNT_ATTR__ATIME` before setting an atime mode). */
  attrClr?: number;
  /** One of `MS_SHARED`, `MS_SLAVE`, `MS_PRIVATE`, `MS_UNBINDABLE`, or 0 to leave it. */
  propagation?: number;
  /** With `MOUNT_ATTR_IDMAP`: a user namespace fd whose mappings the mount takes (an idmapped mount). */
  usernsFd?: number;
}

/**
 * mount_setattr(2): changes the mount at `dirfd`/`path` (`AT_RECURSIVE`: and
 * every mount below it) as `attr` says. Idmapped mounts: a detached mount
 * from `openTree(..., OPEN_TREE_CLONE)`, `attrSet: MOUNT_ATTR_IDMAP` and a
 * `/proc/PID/ns/user` fd as `usernsFd`.
 */
export function mountSetattr(dirfd: number, path: PathLike, flags: number, attr: MountAttr): void {
  validateDirfd(dirfd, 'dirfd');
  const p = pathOrEmpty(path, 'path');
  const f = validateUint32(flags, 'flags');
  const { attrSet = 0, attrClr = 0, propagation = 0, usernsFd = 0 } = validateOptions<MountAttr>(attr, 'attr', ['attrSet', 'attrClr', 'propagation', 'usernsFd']);
  const r = native.mount.mountSetattr(dirfd, p.bytes, f, validateUint32(attrSet, 'attr.attrSet'), validateUint32(attrClr, 'attr.attrClr'),
    validateUint32(propagation, 'attr.propagation'), validateFd(usernsFd, 'attr.usernsFd'));
  check(r, 'mount_setattr', p.text);
}

// ---- statmount and listmount ----

/** The root of the caller's mount namespace, for `listmount` (LSMT_ROOT). */
const LSMT_ROOT = UINT64_MAX;
/** sizeof(struct statmount): the strings start here. */
const STATMOUNT_STR = 512;
/** statmount's buffer, reused (the strings are copied out before it returns), grown when a mount's strings do not fit. */
let statmountBuffer = Buffer.alloc(4096);
/** The strings of one mount fill a few pages at most; past this, EOVERFLOW is the kernel's answer. */
const MAX_STATMOUNT_BUFFER = 16 * 1024 * 1024;
const EOVERFLOW = 75;

/** What `statmount` returns: the fields the kernel filled (`mask`); the others are absent. */
export interface Statmount {
  /** The `STATMOUNT_*` groups filled. */
  mask: number;
  /** STATMOUNT_SB_BASIC */
  sbDevMajor?: number;
  sbDevMinor?: number;
  sbMagic?: number;
  /** `SB_RDONLY`, `SB_SYNCHRONOUS`, `SB_DIRSYNC`, `SB_LAZYTIME` (the MS_* values). */
  sbFlags?: number;
  /** STATMOUNT_MNT_BASIC: the 64-bit ids (as `listmount` gives), the old ones of mountinfo, `MOUNT_ATTR_*`, `MS_*` propagation. */
  mntId?: bigint;
  mntParentId?: bigint;
  mntIdOld?: number;
  mntParentIdOld?: number;
  mntAttr?: number;
  mntPropagation?: number;
  mntPeerGroup?: number;
  mntMaster?: number;
  /** STATMOUNT_PROPAGATE_FROM */
  propagateFrom?: number;
  /** STATMOUNT_MNT_ROOT, STATMOUNT_MNT_POINT, STATMOUNT_FS_TYPE */
  mntRoot?: string;
  mntPoint?: string;
  fsType?: string;
  /** STATMOUNT_MNT_NS_ID (6.11) */
  mntNsId?: bigint;
  /** STATMOUNT_MNT_OPTS (6.11): the superblock's options, comma separated. */
  mntOpts?: string;
  /** STATMOUNT_FS_SUBTYPE, STATMOUNT_SB_SOURCE (6.13) */
  fsSubtype?: string;
  sbSource?: string;
  /** STATMOUNT_OPT_ARRAY, STATMOUNT_OPT_SEC_ARRAY (6.14): the options one by one. */
  optArray?: string[];
  optSecArray?: string[];
  /** STATMOUNT_SUPPORTED_MASK (6.15): the groups this kernel knows. */
  supportedMask?: number;
  /** STATMOUNT_MNT_UIDMAP, STATMOUNT_MNT_GIDMAP (6.15): an idmapped mount's mappings, `'inside outside count'` each. */
  mntUidmap?: string[];
  mntGidmap?: string[];
}

/** What `statmount` and `listmount` take besides their arguments. */
export interface MountNamespaceOptions {
  /** The mount namespace to look in, by id (`nsGetMntnsId`, 6.11); default the caller's. */
  mntNsId?: bigint;
}

function namespaceId(options: unknown, known: string[]): { mntNsId: bigint; o: Record<string, unknown> } {
  const o = validateOptions<Record<string, unknown>>(options, 'options', known);
  return { mntNsId: o.mntNsId === undefined ? 0n : validateBigUint(o.mntNsId, 'options.mntNsId', UINT64_MAX), o };
}

function parseStatmount(buf: Buffer): Statmount {
  const mask = Number(buf.readBigUInt64LE(8));
  const str = (at: number): string => {
    const start = STATMOUNT_STR + buf.readUInt32LE(at);
    return buf.toString('utf8', start, buf.indexOf(0, start));
  };
  const strings = (countAt: number, at: number): string[] => {
    const out: string[] = [];
    let start = STATMOUNT_STR + buf.readUInt32LE(at);
    for (let i = buf.readUInt32LE(countAt); i > 0; i--) {
      const end = buf.indexOf(0, start);
      out.push(buf.toString('utf8', start, end));
      start = end + 1;
    }
    return out;
  };
  const s: Statmount = { mask };
  const has = (bit: number): boolean => (mask & bit) !== 0;
  if (has(C.STATMOUNT_SB_BASIC)) {
    s.sbDevMajor = buf.readUInt32LE(16);
    s.sbDevMinor = buf.readUInt32LE(20);
    s.sbMagic = Number(buf.readBigUInt64LE(24));
    s.sbFlags = buf.readUInt32LE(32);
  }
  if (has(C.STATMOUNT_MNT_BASIC)) {
    s.mntId = buf.readBigUInt64LE(40);
    s.mntParentId = buf.readBigUInt64LE(48);
    s.mntIdOld = buf.readUInt32LE(56);
    s.mntParentIdOld = buf.readUInt32LE(60);
    s.mntAttr = Number(buf.readBigUInt64LE(64));
    s.mntPropagation = Number(buf.readBigUInt64LE(72));
    s.mntPeerGroup = Number(buf.readBigUInt64LE(80));
    s.mntMaster = Number(buf.readBigUInt64LE(88));
  }
  if (has(C.STATMOUNT_PROPAGATE_FROM)) s.propagateFrom = Number(buf.readBigUInt64LE(96));
  if (has(C.STATMOUNT_MNT_ROOT)) s.mntRoot = str(104);
  if (has(C.STATMOUNT_MNT_POINT)) s.mntPoint = str(108);
  if (has(C.STATMOUNT_FS_TYPE)) s.fsType = str(36);
  if (has(C.STATMOUNT_MNT_NS_ID)) s.mntNsId = buf.readBigUInt64LE(112);
  if (has(C.STATMOUNT_MNT_OPTS)) s.mntOpts = str(4);
  if (has(C.STATMOUNT_FS_SUBTYPE)) s.fsSubtype = str(120);
  if (has(C.STATMOUNT_SB_SOURCE)) s.sbSource = str(124);
  if (has(C.STATMOUNT_OPT_ARRAY)) s.optArray = strings(128, 132);
  if (has(C.STATMOUNT_OPT_SEC_ARRAY)) s.optSecArray = strings(136, 140);
  if (has(C.STATMOUNT_SUPPORTED_MASK)) s.supportedMask = Number(buf.readBigUInt64LE(144));
  if (has(C.STATMOUNT_MNT_UIDMAP)) s.mntUidmap = strings(152, 156);
  if (has(C.STATMOUNT_MNT_GIDMAP)) s.mntGidmap = strings(160, 164);
  return s;
}

/**
 * statmount(2) (Linux 6.8): the `mask` groups (`STATMOUNT_*`) of what the
 * kernel knows of mount `mntId` (a 64-bit id, as `listmount` and
 * `statmount().mntId` give). `flags` must be 0 on this kernel.
 */
export function statmount(mntId: bigint, mask: bigint | number, flags = 0, options?: MountNamespaceOptions): Statmount {
  const id = validateBigUint(mntId, 'mntId', UINT64_MAX);
  const m = validateBigUint(mask, 'mask', UINT64_MAX);
  const f = validateUint32(flags, 'flags');
  const { mntNsId } = namespaceId(options, ['mntNsId']);
  for (;;) {
    const r = native.mount.statmount(id, m, mntNsId, f, statmountBuffer);
    if (r === -EOVERFLOW && statmountBuffer.length < MAX_STATMOUNT_BUFFER) {
      statmountBuffer = Buffer.alloc(statmountBuffer.length * 2);
      continue;
    }
    check(r, 'statmount');
    return parseStatmount(statmountBuffer);
  }
}

/** `listmount`'s options. */
export interface ListmountOptions extends MountNamespaceOptions {
  /** List the mounts after this id (as the previous call's last); default from the start. */
  last?: bigint;
  /** One call of at most this many ids; default: every mount, in as many calls as it takes. */
  max?: number;
}

const LISTMOUNT_CHUNK = 512;

/**
 * listmount(2) (Linux 6.8): the 64-bit ids of the mounts below `mntId`
 * (default the root of the caller's mount namespace), in order of their ids
 * (`LISTMOUNT_REVERSE`, 6.13: latest first).
 */
export function listmount(mntId: bigint = LSMT_ROOT, flags = 0, options?: ListmountOptions): bigint[] {
  const id = validateBigUint(mntId, 'mntId', UINT64_MAX);
  const f = validateUint32(flags, 'flags');
  const { mntNsId, o } = namespaceId(options, ['mntNsId', 'last', 'max']);
  let last = o.last === undefined ? 0n : validateBigUint(o.last, 'options.last', UINT64_MAX);
  const max = o.max === undefined ? undefined : validateInteger(o.max, 'options.max', 1, 2 ** 24);
  const ids: bigint[] = [];
  for (;;) {
    const n = max ?? LISTMOUNT_CHUNK;
    const buf = new BigUint64Array(n);
    const got = check(native.mount.listmount(id, last, mntNsId, f, new Uint8Array(buf.buffer)), 'listmount');
    for (let i = 0; i < got; i++) ids.push(buf[i]);
    if (max !== undefined || got < n) return ids;
    last = buf[got - 1];
  }
}

// ---- /proc/PID/mountinfo ----

/** One line of /proc/PID/mountinfo (proc_pid_mountinfo(5)). */
export interface MountInfo {
  /** The mount's id (reused after unmount: `statmount().mntIdOld`). */
  mountId: number;
  /** Its parent's id (its own for the namespace's root). */
  parentId: number;
  /** The filesystem's device. */
  major: number;
  minor: number;
  /** The directory of the filesystem mounted here (`/` unless a bind mount of a subtree). */
  root: string;
  /** Where it is mounted, relative to the process's root. */
  mountPoint: string;
  /** Per-mount options: `rw` or `ro`, `nosuid`, `nodev`, `noexec`, `relatime`, … */
  options: string[];
  /** The optional fields as written (`shared:1`, `master:2`, `propagate_from:3`, `unbindable`). */
  optionalFields: string[];
  /** `shared:N`: the peer group it shares mount events with. */
  shared?: number;
  /** `master:N`: the peer group it receives mount events from (a slave). */
  master?: number;
  /** `propagate_from:N`: the nearest dominant peer group it receives from, when the master is not visible. */
  propagateFrom?: number;
  /** Bind mounts of it are refused. */
  unbindable: boolean;
  /** `shared`, `slave` (`master` set, not `shared`), `shared-slave` (both), `unbindable` or `private`. */
  propagation: 'shared' | 'slave' | 'shared-slave' | 'unbindable' | 'private';
  /** The filesystem type (`ext4`, `fuse.sshfs`: type and subtype). */
  fsType: string;
  /** The source (a device, or what the filesystem chose; `none` for many). */
  source: string;
  /** The superblock's options. */
  superOptions: string[];
}

/** The kernel's escapes in mountinfo: `\\ooo` for space, tab, newline and backslash, the only bytes it escapes. */
function unescape(field: string): string {
  return field.includes('\\') ? field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))) : field;
}

/** The fixed fields of a mountinfo line up to the separator, and what follows it. */
const MOUNTINFO_LINE = /^\d+ \d+ \d+:\d+ \S+ \S+ \S+ (?:\S+ )*- \S+ \S+(?: \S+)?$/;

function parseMountinfoLine(line: string, index: number, text: string): MountInfo {
  if (!MOUNTINFO_LINE.test(line)) throw invalidArgValue('text', text, `is not mountinfo: line ${index + 1} is malformed`);
  const fields = line.split(' ');
  const sep = fields.indexOf('-', 6);
  const [mountId, parentId, dev, root, mountPoint, options] = fields;
  const [major, minor] = dev.split(':').map(Number);
  const optionalFields = fields.slice(6, sep);
  const info: MountInfo = {
    mountId: Number(mountId),
    parentId: Number(parentId),
    major,
    minor,
    root: unescape(root),
    mountPoint: unescape(mountPoint),
    options: options.split(','),
    optionalFields,
    unbindable: false,
    propagation: 'private',
    fsType: unescape(fields[sep + 1]),
    source: unescape(fields[sep + 2]),
    superOptions: fields[sep + 3] === undefined ? [] : unescape(fields[sep + 3]).split(','),
  };
  for (const field of optionalFields) {
    const [tag, value] = field.split(':');
    if (tag === 'shared') info.shared = Number(value);
    else if (tag === 'master') info.master = Number(value);
    else if (tag === 'propagate_from') info.propagateFrom = Number(value);
    else if (tag === 'unbindable') info.unbindable = true;
  }
  if (info.unbindable) info.propagation = 'unbindable';
  else if (info.shared !== undefined) info.propagation = info.master === undefined ? 'shared' : 'shared-slave';
  else if (info.master !== undefined) info.propagation = 'slave';
  return info;
}

/** Parses the text of a mountinfo file (proc_pid_mountinfo(5)) into records, one per line. */
export function parseMountinfo(text: string): MountInfo[] {
  if (typeof text !== 'string') throw invalidArgType('text', 'of type string', text);
  return text.split('\n').filter((line) => line !== '').map((line, i) => parseMountinfoLine(line, i, text));
}

/**
 * The mounts process `pid` sees (default this process; its main thread's
 * mount namespace), from /proc/PID/mountinfo. Fails as `fs.readFileSync`
 * does (ENOENT for a process that is gone). Paths are decoded as UTF-8 (the
 * kernel writes their bytes as they are): `statmount` has the same strings.
 */
export function mountinfo(pid?: number): MountInfo[] {
  const where = pid === undefined ? 'self' : String(validateInteger(pid, 'pid', 1, INT32_MAX));
  return parseMountinfo(readFileSync(`/proc/${where}/mountinfo`, 'utf8'));
}
