// The mount family: every call that mounts runs in a child in a mount
// namespace of its own (test/support/mount-ns.mjs); only reads run here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as B from 'butter';
import { assertSysError } from './support/errors.mjs';
import { inMountNamespace, noMountNamespace } from './support/mount-ns.mjs';
import { nobodyUnavailable, NOBODY } from './support/nobody.mjs';
import { runChild } from './support/child.mjs';
import { copySysErrorSource } from './support/errors.mjs';

const C = B.constants;
const skip = noMountNamespace;

test('constants: every MS_*, MNT_*, MOUNT_ATTR_*, FSCONFIG_*, OPEN_TREE_*, MOVE_MOUNT_*, FSPICK_*, FSMOUNT_*, STATMOUNT_* as the kernel defines them', () => {
  assert.equal(C.MS_RDONLY, 1);
  assert.equal(C.MS_BIND, 4096);
  assert.equal(C.MS_REC, 16384);
  assert.equal(C.MS_PRIVATE, 1 << 18);
  assert.equal(C.MS_SLAVE, 1 << 19);
  assert.equal(C.MS_SHARED, 1 << 20);
  assert.equal(C.MS_UNBINDABLE, 1 << 17);
  assert.equal(C.MS_NOUSER, 2 ** 31);
  assert.equal(C.MNT_DETACH, 2);
  assert.equal(C.UMOUNT_NOFOLLOW, 8);
  assert.equal(C.FSCONFIG_CMD_CREATE_EXCL, 8);
  assert.equal(C.MOVE_MOUNT_BENEATH, 0x200);
  assert.equal(C.MOUNT_ATTR_IDMAP, 0x100000);
  assert.equal(C.OPEN_TREE_CLOEXEC, C.O_CLOEXEC);
  assert.equal(C.AT_RECURSIVE, 0x8000);
  assert.equal(C.STATMOUNT_MNT_GIDMAP, 0x4000);
  assert.equal(C.LISTMOUNT_REVERSE, 1);
});

test('parseMountinfo: octal escapes, optional fields, propagation, fs subtypes', () => {
  const text = [
    '36 35 98:0 /mnt1 /mnt\\040with\\011tab\\134 rw,noatime master:1 - ext3 /dev/root rw,errors=continue',
    '37 36 0:5 / /shared rw shared:2 master:7 - tmpfs tmpfs rw,size=1024k',
    '38 36 0:6 / /from ro,nosuid propagate_from:4 master:9 - fuse.sshfs host:/a\\040b rw',
    '39 36 0:7 / /unb rw unbindable - proc proc rw',
    '40 36 0:8 /sub /private rw - tmpfs none rw',
    '',
  ].join('\n');
  const [a, b, c, d, e] = B.parseMountinfo(text);
  assert.deepEqual(a, {
    mountId: 36, parentId: 35, major: 98, minor: 0, root: '/mnt1', mountPoint: '/mnt with\ttab\\', options: ['rw', 'noatime'],
    optionalFields: ['master:1'], master: 1, unbindable: false, propagation: 'slave', fsType: 'ext3', source: '/dev/root',
    superOptions: ['rw', 'errors=continue'],
  });
  assert.equal(b.propagation, 'shared-slave');
  assert.equal(b.shared, 2);
  assert.equal(b.master, 7);
  assert.equal(c.propagateFrom, 4);
  assert.equal(c.fsType, 'fuse.sshfs');
  assert.equal(c.source, 'host:/a b');
  assert.deepEqual(c.options, ['ro', 'nosuid']);
  assert.equal(d.unbindable, true);
  assert.equal(d.propagation, 'unbindable');
  assert.equal(e.propagation, 'private');
  assert.equal(e.root, '/sub');
  assert.deepEqual(e.optionalFields, []);
  assert.deepEqual(B.parseMountinfo(''), []);
  assert.throws(() => B.parseMountinfo('36 35 98:0 /mnt1 /mnt rw master:1 ext3 /dev/root rw'), {
    code: 'ERR_INVALID_ARG_VALUE', message: /^The argument 'text' is not mountinfo: line 1 is malformed\./,
  });
  assert.throws(() => B.parseMountinfo(`${text}x`), { code: 'ERR_INVALID_ARG_VALUE', message: /line 6 is malformed/ });
  assert.throws(() => B.parseMountinfo(Buffer.from(text)), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('mountinfo() is /proc/self/mountinfo; mountinfo(pid) another process\'s; a gone pid is ENOENT', () => {
  const mine = B.mountinfo();
  assert.equal(mine.length, readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length);
  assert.ok(mine.some((m) => m.mountPoint === '/'));
  assert.deepEqual(B.mountinfo(process.pid), mine);
  assert.throws(() => B.mountinfo(2 ** 31 - 1), (e) => e.code === 'ENOENT' && e.syscall === 'open');
  assert.throws(() => B.mountinfo(0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.mountinfo('self'), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('mount, bind, remount read-only, propagation flags and umount2, as mountinfo() shows them', { skip }, () => {
  const out = inMountNamespace(`
    const find = (p) => B.mountinfo().filter((m) => m.mountPoint === p).at(-1);
    fs.mkdirSync('/tmp/a'); fs.mkdirSync('/tmp/b'); fs.mkdirSync('/tmp/c');
    B.mount('tmpfs', '/tmp/a', 'tmpfs', C.MS_NOSUID | C.MS_NODEV, 'size=1m,mode=755');
    out.a = find('/tmp/a');
    fs.writeFileSync('/tmp/a/f', 'x');
    B.mount('/tmp/a', '/tmp/b', null, C.MS_BIND);
    out.bound = fs.readFileSync('/tmp/b/f', 'utf8');
    B.mount(null, '/tmp/b', null, C.MS_REMOUNT | C.MS_BIND | C.MS_RDONLY);
    out.ro = find('/tmp/b').options;
    out.erofs = fails(() => fs.writeFileSync('/tmp/b/g', 'y'))?.code;
    B.mount(null, '/tmp/a', null, C.MS_SHARED);
    out.shared = find('/tmp/a').propagation;
    B.mount('/tmp/a', '/tmp/c', null, C.MS_BIND);
    B.mount(null, '/tmp/c', null, C.MS_SLAVE);
    out.slave = find('/tmp/c');
    out.master = find('/tmp/a').shared;
    B.mount(null, '/tmp/c', null, C.MS_PRIVATE);
    out.private = find('/tmp/c').propagation;
    B.mount(null, '/tmp/c', null, C.MS_UNBINDABLE);
    out.unbindable = find('/tmp/c').propagation;
    out.unbindBind = fails(() => B.mount('/tmp/c', '/tmp/b', null, C.MS_BIND));
    B.umount2('/tmp/c');
    B.umount2('/tmp/b', C.MNT_DETACH);
    out.after = [find('/tmp/b'), find('/tmp/c')];
    fs.mkdirSync('/tmp/a b'); // a name mountinfo escapes
    B.mount('tmpfs', Buffer.from('/tmp/a b'), 'tmpfs');
    out.escaped = find('/tmp/a b')?.mountPoint;
  `);
  assert.equal(out.a.fsType, 'tmpfs');
  assert.equal(out.a.source, 'tmpfs');
  assert.ok(out.a.options.includes('nosuid') && out.a.options.includes('nodev'), out.a.options);
  assert.ok(out.a.superOptions.includes('size=1024k'), out.a.superOptions);
  assert.ok(out.a.superOptions.includes('mode=755'), out.a.superOptions);
  assert.equal(out.bound, 'x');
  assert.ok(out.ro.includes('ro'));
  assert.equal(out.erofs, 'EROFS');
  assert.equal(out.shared, 'shared');
  assert.equal(out.slave.propagation, 'slave');
  assert.equal(out.slave.master, out.master);
  assert.equal(out.private, 'private');
  assert.equal(out.unbindable, 'unbindable');
  assertSysError(out.unbindBind, 'EINVAL', 'mount', '/tmp/c', { dest: '/tmp/b' });
  assert.deepEqual(out.after, [null, null]);
  assert.equal(out.escaped, '/tmp/a b');
});

test('mount\'s errors: ENOENT, ENOTDIR, ENODEV, ENOTBLK, EINVAL, ELOOP, ENAMETOOLONG, EBUSY, with the paths', { skip }, () => {
  const out = inMountNamespace(`
    fs.mkdirSync('/tmp/d'); fs.writeFileSync('/tmp/file', '');
    fs.symlinkSync('/tmp/loop', '/tmp/loop');
    out.enoent = fails(() => B.mount('tmpfs', '/tmp/none', 'tmpfs'));
    out.enotdir = fails(() => B.mount('tmpfs', '/tmp/file/x', 'tmpfs'));
    out.enodev = fails(() => B.mount('x', '/tmp/d', 'nosuchfs'));
    out.enotblk = fails(() => B.mount('/tmp/file', '/tmp/d', 'ext4'));
    out.einval = fails(() => B.mount(null, '/tmp/d', null, C.MS_MOVE));
    out.eloop = fails(() => B.mount('tmpfs', '/tmp/loop', 'tmpfs'));
    const long = '/tmp/' + 'x'.repeat(5000);
    out.enametoolong = fails(() => B.mount('tmpfs', long, 'tmpfs'));
    B.mount('tmpfs', '/tmp/d', 'tmpfs');
    fs.mkdirSync('/tmp/d/in');
    B.mount('tmpfs', '/tmp/d/in', 'tmpfs');
    out.ebusy = fails(() => B.umount2('/tmp/d'));
    out.notMounted = fails(() => B.umount2('/tmp/file'));
    out.umountEnoent = fails(() => B.umount2('/tmp/none'));
    out.expireForce = fails(() => B.umount2('/tmp/d/in', C.MNT_EXPIRE | C.MNT_FORCE));
    out.eagain = fails(() => B.umount2('/tmp/d/in', C.MNT_EXPIRE));
    out.expired = fails(() => B.umount2('/tmp/d/in', C.MNT_EXPIRE));
    out.nofollow = fails(() => B.umount2('/tmp/loop', C.UMOUNT_NOFOLLOW));
  `);
  assertSysError(out.enoent, 'ENOENT', 'mount', 'tmpfs', { dest: '/tmp/none' });
  assertSysError(out.enotdir, 'ENOTDIR', 'mount', 'tmpfs', { dest: '/tmp/file/x' });
  assertSysError(out.enodev, 'ENODEV', 'mount', 'x', { dest: '/tmp/d' });
  // libuv has no ENOTBLK: Butter names it from glibc, and Node's errno table lacks it.
  assert.deepEqual({ ...out.enotblk, stack: undefined }, {
    name: 'Error', code: 'ENOTBLK', errno: -15, syscall: 'mount', path: '/tmp/file', dest: '/tmp/d', stack: undefined,
    message: "ENOTBLK: block device required, mount '/tmp/file' -> '/tmp/d'",
  });
  assertSysError(out.einval, 'EINVAL', 'mount', '/tmp/d');
  assertSysError(out.eloop, 'ELOOP', 'mount', 'tmpfs', { dest: '/tmp/loop' });
  assertSysError(out.enametoolong, 'ENAMETOOLONG', 'mount', 'tmpfs', { dest: `/tmp/${'x'.repeat(5000)}` });
  assertSysError(out.ebusy, 'EBUSY', 'umount2', '/tmp/d');
  assertSysError(out.notMounted, 'EINVAL', 'umount2', '/tmp/file');
  assertSysError(out.umountEnoent, 'ENOENT', 'umount2', '/tmp/none');
  assertSysError(out.expireForce, 'EINVAL', 'umount2', '/tmp/d/in');
  // MNT_EXPIRE marks an unused mount on the first call and unmounts it on the second.
  assertSysError(out.eagain, 'EAGAIN', 'umount2', '/tmp/d/in');
  assert.equal(out.expired, null);
  assertSysError(out.nofollow, 'EINVAL', 'umount2', '/tmp/loop');
});

test('more errnos of the man pages: EBUSY, ELOOP, ENXIO, ENOENT and ENOTBLK at creation, EINVAL of flags and state', { skip }, () => {
  const out = inMountNamespace(`
    const { execFileSync } = await import('node:child_process');
    fs.mkdirSync('/tmp/a'); fs.mkdirSync('/tmp/n'); fs.mkdirSync('/tmp/b'); fs.writeFileSync('/tmp/file', '');
    B.mount('tmpfs', '/tmp/a', 'tmpfs');
    const w = fs.openSync('/tmp/a/f', 'w');
    out.remountBusy = fails(() => B.mount(null, '/tmp/a', null, C.MS_REMOUNT | C.MS_RDONLY));
    out.setattrBusy = fails(() => B.mountSetattr(C.AT_FDCWD, '/tmp/a', 0, { attrSet: C.MOUNT_ATTR_RDONLY }));
    fs.closeSync(w);
    fs.mkdirSync('/tmp/a/sub');
    out.moveLoop = fails(() => B.mount('/tmp/a', '/tmp/a/sub', null, C.MS_MOVE));
    out.moveMountLoop = fails(() => B.moveMount(C.AT_FDCWD, '/tmp/a', C.AT_FDCWD, '/tmp/a/sub'));
    execFileSync('mknod', ['/tmp/blk', 'b', '4095', '0']); // a block device no driver has
    out.enxio = fails(() => B.mount('/tmp/blk', '/tmp/b', 'ext4'));
    for (const [name, source] of [['createEnoent', '/tmp/none'], ['createEnotblk', '/tmp/file']]) {
      const ctx = B.fsopen('ext4');
      B.fsconfig(ctx, C.FSCONFIG_SET_STRING, 'source', source);
      out[name] = fails(() => B.fsconfig(ctx, C.FSCONFIG_CMD_CREATE));
      fs.closeSync(ctx);
    }
    const ctx = B.fsopen('tmpfs');
    out.fsmountEarly = fails(() => B.fsmount(ctx));
    B.fsconfig(ctx, C.FSCONFIG_CMD_CREATE);
    fs.closeSync(B.fsmount(ctx));
    out.fsmountTwice = fails(() => B.fsmount(ctx));
    out.fsmountFlags = fails(() => B.fsmount(ctx, 0x80));
    fs.closeSync(ctx);
    out.fsopenFlags = fails(() => B.fsopen('tmpfs', 0x80));
    out.umountLong = fails(() => B.umount2('/tmp/' + 'x'.repeat(5000)));
    B.mount(null, '/tmp/a', null, C.MS_UNBINDABLE);
    out.cloneUnbindable = fails(() => B.openTree(C.AT_FDCWD, '/tmp/a', C.OPEN_TREE_CLONE));
    B.mount('tmpfs', '/tmp/n', 'tmpfs');
    out.putOldOutside = fails(() => B.pivotRoot('/tmp/n', '/tmp/b'));
  `);
  assertSysError(out.remountBusy, 'EBUSY', 'mount', '/tmp/a');
  assertSysError(out.setattrBusy, 'EBUSY', 'mount_setattr', '/tmp/a');
  assertSysError(out.moveLoop, 'ELOOP', 'mount', '/tmp/a', { dest: '/tmp/a/sub' });
  assertSysError(out.moveMountLoop, 'ELOOP', 'move_mount', '/tmp/a', { dest: '/tmp/a/sub' });
  assertSysError(out.enxio, 'ENXIO', 'mount', '/tmp/blk', { dest: '/tmp/b' });
  assertSysError(out.createEnoent, 'ENOENT', 'fsconfig');
  assert.equal(out.createEnotblk.code, 'ENOTBLK');
  assert.equal(out.createEnotblk.syscall, 'fsconfig');
  assertSysError(out.fsmountEarly, 'EINVAL', 'fsmount');
  assertSysError(out.fsmountTwice, 'EBUSY', 'fsmount');
  assertSysError(out.fsmountFlags, 'EINVAL', 'fsmount');
  assertSysError(out.fsopenFlags, 'EINVAL', 'fsopen');
  assertSysError(out.umountLong, 'ENAMETOOLONG', 'umount2', `/tmp/${'x'.repeat(5000)}`);
  assertSysError(out.cloneUnbindable, 'EINVAL', 'open_tree', '/tmp/a');
  assertSysError(out.putOldOutside, 'EINVAL', 'pivot_root', '/tmp/n', { dest: '/tmp/b' });
});

test('without CAP_SYS_ADMIN every mounting call is EPERM (as nobody); a path nobody may not search is EACCES first', { skip: nobodyUnavailable }, (t) => {
  const closed = mkdtempSync(join(tmpdir(), 'butter-mount-')); // 0700, root's
  t.after(() => rmSync(closed, { recursive: true, force: true }));
  const hidden = join(closed, 'x');
  const r = runChild(`
    import * as B from 'butter';
    const copy = ${copySysErrorSource};
    const C = B.constants;
    const fails = (fn) => { try { fn(); return null; } catch (e) { return copy(e); } };
    const out = {
      mount: fails(() => B.mount('tmpfs', '/tmp', 'tmpfs')),
      umount2: fails(() => B.umount2('/proc')),
      pivotRoot: fails(() => B.pivotRoot('/tmp', '/tmp')),
      fsopen: fails(() => B.fsopen('tmpfs')),
      openTree: fails(() => B.openTree(C.AT_FDCWD, '/tmp', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC)),
      fspick: fails(() => B.fspick(C.AT_FDCWD, '/proc')),
      moveMount: fails(() => B.moveMount(C.AT_FDCWD, '/proc', C.AT_FDCWD, '/tmp')),
      mountSetattr: fails(() => B.mountSetattr(C.AT_FDCWD, '/proc', 0, { attrSet: C.MOUNT_ATTR_RDONLY })),
      eaccesMount: fails(() => B.mount('tmpfs', ${JSON.stringify(hidden)}, 'tmpfs')),
      eaccesUmount: fails(() => B.umount2(${JSON.stringify(hidden)})),
      eaccesOpenTree: fails(() => B.openTree(C.AT_FDCWD, ${JSON.stringify(hidden)})),
    };
    process.stdout.write(JSON.stringify(out));
  `, { prefix: ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assertSysError(out.mount, 'EPERM', 'mount', 'tmpfs', { dest: '/tmp' });
  assertSysError(out.umount2, 'EPERM', 'umount2', '/proc');
  assertSysError(out.pivotRoot, 'EPERM', 'pivot_root', '/tmp', { dest: '/tmp' });
  assertSysError(out.fsopen, 'EPERM', 'fsopen');
  assertSysError(out.openTree, 'EPERM', 'open_tree', '/tmp');
  assertSysError(out.fspick, 'EPERM', 'fspick', '/proc');
  assertSysError(out.moveMount, 'EPERM', 'move_mount', '/proc', { dest: '/tmp' });
  assertSysError(out.mountSetattr, 'EPERM', 'mount_setattr', '/proc');
  assertSysError(out.eaccesMount, 'EACCES', 'mount', 'tmpfs', { dest: hidden });
  assertSysError(out.eaccesUmount, 'EACCES', 'umount2', hidden);
  assertSysError(out.eaccesOpenTree, 'EACCES', 'open_tree', hidden);
});

test('pivotRoot: a tmpfs becomes the root; its errors', { skip }, () => {
  const out = inMountNamespace(`
    fs.mkdirSync('/tmp/new'); fs.writeFileSync('/tmp/file', '');
    out.notMount = fails(() => B.pivotRoot('/tmp/new', '/tmp/new'));
    out.enotdir = fails(() => B.pivotRoot('/tmp/file', '/tmp/file'));
    out.enoent = fails(() => B.pivotRoot('/tmp/none', '/tmp/none'));
    B.mount('tmpfs', '/tmp/new', 'tmpfs');
    fs.mkdirSync('/tmp/new/old');
    fs.writeFileSync('/tmp/new/marker', 'new root');
    // The root is the process's: the other threads' (fs calls on libuv's pool) move too.
    B.pivotRoot('/tmp/new', '/tmp/new/old');
    process.chdir('/');
    out.marker = fs.readFileSync('/marker', 'utf8');
    out.marker2 = await fs.promises.readFile('/marker', 'utf8');
    B.umount2('/old', C.MNT_DETACH);
    fs.mkdirSync('/proc');
    B.mount('proc', '/proc', 'proc');
    out.root = B.mountinfo().find((m) => m.mountPoint === '/').fsType;
    out.left = B.mountinfo().map((m) => m.mountPoint);
  `);
  assertSysError(out.notMount, 'EINVAL', 'pivot_root', '/tmp/new', { dest: '/tmp/new' });
  assertSysError(out.enotdir, 'ENOTDIR', 'pivot_root', '/tmp/file', { dest: '/tmp/file' });
  assertSysError(out.enoent, 'ENOENT', 'pivot_root', '/tmp/none', { dest: '/tmp/none' });
  assert.equal(out.marker, 'new root');
  assert.equal(out.marker2, 'new root');
  assert.equal(out.root, 'tmpfs');
  assert.deepEqual(out.left, ['/', '/proc']);
});

test('the new mount API: fsopen, fsconfig, fsmount, moveMount; fspick and reconfigure; fds owned by the caller', { skip }, () => {
  const out = inMountNamespace(`
    fs.mkdirSync('/tmp/m');
    const find = (p) => B.mountinfo().filter((m) => m.mountPoint === p).at(-1);
    const fsfd = B.fsopen('tmpfs');
    out.cloexec = fs.readFileSync('/proc/self/fdinfo/' + fsfd, 'utf8').match(/flags:\\s*(\\d+)/)[1];
    B.fsconfig(fsfd, C.FSCONFIG_SET_STRING, 'size', '2m');
    B.fsconfig(fsfd, C.FSCONFIG_SET_STRING, 'mode', '0700');
    out.unknownKey = fails(() => B.fsconfig(fsfd, C.FSCONFIG_SET_STRING, 'nosuchoption', 'x'));
    const log = Buffer.alloc(512);
    out.log = log.toString('utf8', 0, fs.readSync(fsfd, log));
    out.binary = fails(() => B.fsconfig(fsfd, C.FSCONFIG_SET_BINARY, 'size', Buffer.from('1m')));
    // tmpfs takes no path parameter: the errors carry the path given.
    out.path = fails(() => B.fsconfig(fsfd, C.FSCONFIG_SET_PATH, 'source', '/tmp/none'));
    out.pathEmpty = fails(() => B.fsconfig(fsfd, C.FSCONFIG_SET_PATH_EMPTY, 'source', '', 0));
    out.fd = fails(() => B.fsconfig(fsfd, C.FSCONFIG_SET_FD, 'source', null, 1000));
    out.badCmd = fails(() => B.fsconfig(fsfd, 99));
    B.fsconfig(fsfd, C.FSCONFIG_CMD_CREATE);
    const mfd = B.fsmount(fsfd, C.FSMOUNT_CLOEXEC, C.MOUNT_ATTR_NOEXEC | C.MOUNT_ATTR_NODEV);
    fs.closeSync(fsfd);
    out.detached = find('/tmp/m') ?? null;
    B.moveMount(mfd, '', C.AT_FDCWD, '/tmp/m', C.MOVE_MOUNT_F_EMPTY_PATH);
    fs.closeSync(mfd);
    out.attached = find('/tmp/m');
    const pick = B.fspick(C.AT_FDCWD, '/tmp/m');
    B.fsconfig(pick, C.FSCONFIG_SET_STRING, 'size', '4m');
    B.fsconfig(pick, C.FSCONFIG_CMD_RECONFIGURE);
    fs.closeSync(pick);
    out.reconfigured = find('/tmp/m').superOptions;
    fs.mkdirSync('/tmp/m/sub');
    out.fspickNotRoot = fails(() => B.fspick(C.AT_FDCWD, '/tmp/m/sub'));
    out.fspickEnoent = fails(() => B.fspick(C.AT_FDCWD, '/tmp/none'));
    out.fsopenEnodev = fails(() => B.fsopen('nosuchfs'));
    out.fsmountEbadf = fails(() => B.fsmount(999));
    const excl = B.fsopen('tmpfs');
    B.fsconfig(excl, C.FSCONFIG_CMD_CREATE_EXCL);
    out.twice = fails(() => B.fsconfig(excl, C.FSCONFIG_CMD_CREATE));
    fs.closeSync(excl);
    out.moveEnoent = fails(() => B.moveMount(C.AT_FDCWD, '/tmp/none', C.AT_FDCWD, '/tmp/m'));
    out.moveEinval = fails(() => B.moveMount(C.AT_FDCWD, '/tmp/m/sub', C.AT_FDCWD, '/tmp/m', 0));
    out.moveFlags = fails(() => B.moveMount(C.AT_FDCWD, '/tmp/m', C.AT_FDCWD, '/tmp/m', 0x8000));
  `);
  assert.equal(Number.parseInt(out.cloexec, 8) & 0o2000000, 0o2000000, 'close-on-exec by default');
  assertSysError(out.unknownKey, 'EINVAL', 'fsconfig');
  assert.match(out.log, /nosuchoption/, 'the context fd reads the filesystem\'s message');
  assertSysError(out.binary, 'EINVAL', 'fsconfig');
  assertSysError(out.path, 'EINVAL', 'fsconfig', '/tmp/none');
  assertSysError(out.pathEmpty, 'EINVAL', 'fsconfig', '');
  assertSysError(out.fd, 'EBADF', 'fsconfig');
  assertSysError(out.badCmd, 'ENOTSUP', 'fsconfig'); // EOPNOTSUPP, which libuv names ENOTSUP
  assert.equal(out.detached, null);
  assert.equal(out.attached.fsType, 'tmpfs');
  assert.ok(out.attached.options.includes('noexec') && out.attached.options.includes('nodev'), out.attached.options);
  assert.ok(out.attached.superOptions.includes('size=2048k') && out.attached.superOptions.includes('mode=700'), out.attached.superOptions);
  assert.ok(out.reconfigured.includes('size=4096k'), out.reconfigured);
  assertSysError(out.fspickNotRoot, 'EINVAL', 'fspick', '/tmp/m/sub');
  assertSysError(out.fspickEnoent, 'ENOENT', 'fspick', '/tmp/none');
  assertSysError(out.fsopenEnodev, 'ENODEV', 'fsopen');
  assertSysError(out.fsmountEbadf, 'EBADF', 'fsmount');
  assertSysError(out.twice, 'EBUSY', 'fsconfig');
  assertSysError(out.moveEnoent, 'ENOENT', 'move_mount', '/tmp/none', { dest: '/tmp/m' });
  assertSysError(out.moveEinval, 'EINVAL', 'move_mount', '/tmp/m/sub', { dest: '/tmp/m' });
  assertSysError(out.moveFlags, 'EINVAL', 'move_mount', '/tmp/m', { dest: '/tmp/m' });
});

test('openTree with OPEN_TREE_CLONE, mountSetattr (read-only, propagation, recursive) and an idmapped mount', { skip }, () => {
  const out = inMountNamespace(`
    const { spawn } = await import('node:child_process');
    const find = (p) => B.mountinfo().filter((m) => m.mountPoint === p).at(-1);
    fs.mkdirSync('/tmp/src'); fs.mkdirSync('/tmp/dst'); fs.mkdirSync('/tmp/idm');
    B.mount('tmpfs', '/tmp/src', 'tmpfs');
    fs.writeFileSync('/tmp/src/f', 'x');
    fs.chownSync('/tmp/src/f', 0, 0);
    const tree = B.openTree(C.AT_FDCWD, '/tmp/src', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC | C.AT_RECURSIVE);
    B.mountSetattr(tree, '', C.AT_EMPTY_PATH, { attrSet: C.MOUNT_ATTR_RDONLY | C.MOUNT_ATTR_NOSUID });
    B.moveMount(tree, '', C.AT_FDCWD, '/tmp/dst', C.MOVE_MOUNT_F_EMPTY_PATH);
    fs.closeSync(tree);
    out.dst = find('/tmp/dst');
    out.erofs = fails(() => fs.writeFileSync('/tmp/dst/g', ''))?.code;
    B.mountSetattr(C.AT_FDCWD, '/tmp/dst', C.AT_RECURSIVE, { attrClr: C.MOUNT_ATTR_RDONLY, propagation: C.MS_SHARED });
    out.rw = find('/tmp/dst');
    out.badAttr = fails(() => B.mountSetattr(C.AT_FDCWD, '/tmp/dst', 0, { attrSet: 0x40000000 }));
    out.badProp = fails(() => B.mountSetattr(C.AT_FDCWD, '/tmp/dst', 0, { propagation: C.MS_SHARED | C.MS_SLAVE }));
    out.idmapAttached = fails(() => B.mountSetattr(C.AT_FDCWD, '/tmp/dst', 0, { attrSet: C.MOUNT_ATTR_IDMAP, usernsFd: 0 }));
    out.openEnoent = fails(() => B.openTree(C.AT_FDCWD, '/tmp/none'));
    out.openEinval = fails(() => B.openTree(C.AT_FDCWD, '/tmp/src', 0x4000));
    out.openEbadf = fails(() => B.openTree(999, 'x'));
    // An idmapped mount: a user namespace mapping uid and gid 0 inside to 1000 outside.
    const child = spawn('unshare', ['--user', 'sleep', '30'], { stdio: 'ignore' });
    const ns = '/proc/' + child.pid + '/ns/user';
    while (fs.readlinkSync(ns) === fs.readlinkSync('/proc/self/ns/user')) await new Promise((r) => setTimeout(r, 5));
    fs.writeFileSync('/proc/' + child.pid + '/uid_map', '0 1000 1');
    fs.writeFileSync('/proc/' + child.pid + '/gid_map', '0 1000 1');
    const userns = fs.openSync(ns, 'r');
    const clone = B.openTree(C.AT_FDCWD, '/tmp/src', C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC);
    B.mountSetattr(clone, '', C.AT_EMPTY_PATH, { attrSet: C.MOUNT_ATTR_IDMAP, usernsFd: userns });
    B.moveMount(clone, '', C.AT_FDCWD, '/tmp/idm', C.MOVE_MOUNT_F_EMPTY_PATH);
    fs.closeSync(clone);
    fs.closeSync(userns);
    child.kill();
    out.owner = fs.statSync('/tmp/idm/f').uid;
    out.sourceOwner = fs.statSync('/tmp/src/f').uid;
    out.idmapped = find('/tmp/idm').options;
  `);
  assert.ok(out.dst.options.includes('ro') && out.dst.options.includes('nosuid'), out.dst.options);
  assert.equal(out.erofs, 'EROFS');
  assert.ok(out.rw.options.includes('rw'));
  assert.equal(out.rw.propagation, 'shared');
  assertSysError(out.badAttr, 'EINVAL', 'mount_setattr', '/tmp/dst');
  assertSysError(out.badProp, 'EINVAL', 'mount_setattr', '/tmp/dst');
  assertSysError(out.idmapAttached, 'EINVAL', 'mount_setattr', '/tmp/dst');
  assertSysError(out.openEnoent, 'ENOENT', 'open_tree', '/tmp/none');
  assertSysError(out.openEinval, 'EINVAL', 'open_tree', '/tmp/src');
  assertSysError(out.openEbadf, 'EBADF', 'open_tree', 'x');
  assert.equal(out.sourceOwner, 0);
  assert.equal(out.owner, 1000, 'the idmapped mount shows uid 0 as the namespace maps it');
  assert.ok(out.idmapped.includes('idmapped'), out.idmapped);
});

test('listmount and statmount agree with mountinfo(); mntNsId; their errors', { skip }, () => {
  const out = inMountNamespace(`
    fs.mkdirSync('/tmp/s');
    B.mount('tmpfs', '/tmp/s', 'tmpfs', C.MS_NOEXEC, 'size=1m');
    const ids = B.listmount();
    out.count = ids.length;
    out.mountinfo = B.mountinfo().length;
    out.one = B.listmount(undefined, 0, { max: 1 }).length;
    out.after = B.listmount(undefined, 0, { last: ids[0] })[0] === ids[1];
    out.reverse = B.listmount(undefined, C.LISTMOUNT_REVERSE)[0] === ids.at(-1);
    const all = 0x7fff;
    const s = ids.map((id) => B.statmount(id, all)).find((m) => m.mntPoint === '/tmp/s');
    out.s = s;
    out.info = B.mountinfo().find((m) => m.mountPoint === '/tmp/s');
    const nsfd = fs.openSync('/proc/self/ns/mnt', 'r');
    out.nsId = B.nsGetMntnsId(nsfd);
    fs.closeSync(nsfd);
    out.byNs = B.listmount(undefined, 0, { mntNsId: out.nsId }).length;
    out.enoent = fails(() => B.statmount(2n ** 40n, all));
    out.oldId = fails(() => B.statmount(1n, all));
    out.einval = fails(() => B.statmount(ids[0], all, 1));
    out.listEnoent = fails(() => B.listmount(2n ** 40n));
    out.badNs = fails(() => B.listmount(undefined, 0, { mntNsId: 1n }));
    // A mount point longer than statmount's first buffer: it grows until the strings fit.
    let deep = '/tmp';
    process.chdir(deep);
    for (let i = 0; i < 60; i++) {
      const part = String(i).padStart(99, 'd');
      fs.mkdirSync(part);
      process.chdir(part);
      deep += '/' + part;
    }
    B.mount('tmpfs', '.', 'tmpfs');
    const deepId = B.listmount().find((id) => B.statmount(id, C.STATMOUNT_MNT_BASIC).mntIdOld === B.mountinfo().at(-1).mountId);
    out.deep = B.statmount(deepId, C.STATMOUNT_MNT_POINT).mntPoint === deep;
    out.deepLength = deep.length;
  `);
  assert.equal(out.count, out.mountinfo);
  assert.equal(out.one, 1);
  assert.equal(out.after, true);
  assert.equal(out.reverse, true);
  const { s, info } = out;
  assert.equal(s.fsType, 'tmpfs');
  assert.equal(s.sbSource, 'tmpfs');
  assert.equal(s.mntRoot, '/');
  assert.equal(s.mntIdOld, info.mountId);
  assert.equal(s.mntParentIdOld, info.parentId);
  assert.equal(s.sbDevMajor, info.major);
  assert.equal(s.sbDevMinor, info.minor);
  assert.equal(s.sbMagic, 0x01021994); // TMPFS_MAGIC
  assert.equal(s.mntAttr & C.MOUNT_ATTR_NOEXEC, C.MOUNT_ATTR_NOEXEC);
  assert.equal(s.mntPropagation, C.MS_PRIVATE);
  assert.match(s.mntOpts, /size=1024k/);
  assert.ok(s.optArray.includes('size=1024k'), s.optArray);
  assert.equal(s.mntNsId, out.nsId);
  assert.equal(typeof s.supportedMask, 'number');
  assert.equal(out.byNs, out.count);
  assertSysError(out.enoent, 'ENOENT', 'statmount');
  assertSysError(out.oldId, 'EINVAL', 'statmount'); // an old (mountinfo) id, not a 64-bit one
  assertSysError(out.einval, 'EINVAL', 'statmount');
  assertSysError(out.listEnoent, 'ENOENT', 'listmount');
  assertSysError(out.badNs, 'ENOENT', 'listmount');
  assert.ok(out.deepLength > 4096 * 1.4);
  assert.equal(out.deep, true);
});

test('promises.mount and promises.umount2 run off the loop; their errors carry the paths', { skip }, () => {
  const out = inMountNamespace(`
    fs.mkdirSync('/tmp/p');
    await B.promises.mount('tmpfs', '/tmp/p', 'tmpfs', C.MS_NODEV, 'size=1m');
    out.mounted = B.mountinfo().some((m) => m.mountPoint === '/tmp/p');
    out.enoent = await rejects(B.promises.mount('tmpfs', '/tmp/none', 'tmpfs'));
    out.busy = await rejects(B.promises.umount2('/tmp'));
    await B.promises.umount2('/tmp/p');
    out.unmounted = !B.mountinfo().some((m) => m.mountPoint === '/tmp/p');
    const ac = new AbortController();
    ac.abort();
    out.aborted = (await rejects(B.promises.mount('tmpfs', '/tmp/p', 'tmpfs', 0, null, { signal: ac.signal })))?.name;
    out.badOption = await B.promises.umount2('/tmp/p', 0, { nope: 1 }).catch((e) => e.code);
  `);
  assert.equal(out.mounted, true);
  assertSysError(out.enoent, 'ENOENT', 'mount', 'tmpfs', { dest: '/tmp/none' });
  assertSysError(out.busy, 'EBUSY', 'umount2', '/tmp');
  assert.equal(out.unmounted, true);
  assert.equal(out.aborted, 'AbortError');
  assert.equal(out.badOption, 'ERR_INVALID_ARG_VALUE');
});

test('bad arguments throw Node\'s argument errors before any call', async () => {
  assert.throws(() => B.mount('a', 1), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => B.mount('a', '/x\0'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => B.mount('a', '/x', 'tmpfs', -1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.mount('a', '/x', 'tmp\0fs'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => B.mount('a', '/x', 'tmpfs', 0, {}), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => B.umount2('/x', 1.5), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.fsconfig(-1, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.fsconfig(0, C.FSCONFIG_SET_BINARY, 'k', 'text'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => B.fsconfig(0, C.FSCONFIG_SET_BINARY, 'k', Buffer.alloc(2), 3), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.moveMount(-2, '', -100, '/x'), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.openTree(C.AT_FDCWD, 5), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => B.mountSetattr(C.AT_FDCWD, '/', 0, { attrSet: 1, bogus: 2 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => B.statmount(-1n, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.listmount(undefined, 0, { max: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await assert.rejects(B.promises.mount('a', 1), { code: 'ERR_INVALID_ARG_TYPE' });
  await assert.rejects(B.promises.umount2(null), { code: 'ERR_INVALID_ARG_TYPE' });
});
