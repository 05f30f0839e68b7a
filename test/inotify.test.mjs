// inotify: the 1:1 calls, the record parser, and the Inotify object, against
// what the kernel actually emits on a temp dir. Run once per readiness backend:
// inotify-epoll.test.mjs imports this file with the portable backend forced.
//
// Nothing global is changed. The watch and instance limits are lowered only in
// a child's own user namespace (/proc/sys/user/max_inotify_*, which is per
// namespace), by a child that is not the global root, so the machine's
// fs.inotify sysctls are not even writable to it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import {
  inotifyInit,
  inotifyAddWatch,
  inotifyRmWatch,
  inotifyRead,
  inotifyQueued,
  inotifySetNextWd,
  parseInotifyEvents,
  inotifyMask,
  inotifyMaskNames,
  Inotify,
  constants as C,
  readinessBackend,
} from 'butter';
import { nobodyUnavailable } from './support/nobody.mjs';
import { assertSysError, copySysErrorSource } from './support/errors.mjs';
import { runChild, root } from './support/child.mjs';

const BUTTER_ESM = import.meta.resolve('butter');
const expectedBackend = process.env.BUTTER_READINESS === 'epoll' ? 'epoll' : 'uv';
const isRoot = process.getuid() === 0;

let tmp;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-inotify-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let dirs = 0;
/** A fresh directory under the suite's temp dir. */
function mkdir(name = `d${dirs++}`) {
  const d = path.join(tmp, name);
  fs.mkdirSync(d);
  return d;
}

/** The inotify watches of an fd, from /proc: [{ wd, ino, mask }]. */
function fdinfoWatches(fd) {
  return fs
    .readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('inotify '))
    .map((l) => {
      const f = Object.fromEntries(l.slice(8).split(' ').map((kv) => kv.split(':')));
      return { wd: Number(f.wd), ino: parseInt(f.ino, 16), mask: parseInt(f.mask, 16) };
    });
}

function fdFlags(fd) {
  return parseInt(/^flags:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8);
}

/** Events as short strings: 'create:f', 'rename:a>b', 'delete_self:', with '/d' for directories. */
function brief(events, base) {
  return events.map((e) => {
    const rel = (p) => (p === null ? '' : path.relative(base, p));
    if (e.type === 'rename') return `rename${e.isDir ? '/d' : ''}:${rel(e.oldPath)}>${rel(e.path)}`;
    return `${e.type}${e.isDir ? '/d' : ''}:${rel(e.path)}`;
  });
}


const ok = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;

// A child in a new user namespace, mapped to root there but not the global root
// here: root would otherwise write the machine's own /proc/sys/fs/inotify files.
const USERNS_PREFIX = isRoot
  ? ok('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '-U', '-r', 'true']) && !nobodyUnavailable
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '-U', '-r', '--']
    : null
  : ok('unshare', ['-U', '-r', 'true'])
    ? ['unshare', '-U', '-r', '--']
    : null;
const NO_USERNS = 'needs unshare(1), user namespaces and (as root) setpriv(1) with nobody able to read this checkout';

// A child in a private mount namespace, where it may mount and unmount a tmpfs.
const MOUNTNS_PREFIX = isRoot
  ? ok('unshare', ['-m', '--propagation', 'private', 'true']) ? ['unshare', '-m', '--propagation', 'private', '--'] : null
  : ok('unshare', ['-U', '-r', '-m', 'true']) ? ['unshare', '-U', '-r', '-m', '--'] : null;
const NO_MOUNTNS = 'needs unshare(1) and a mount namespace (root, or user namespaces)';

const CHILD_PRELUDE = `
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Inotify, inotifyInit, inotifyAddWatch, constants as C } from ${JSON.stringify(BUTTER_ESM)};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-inotify-child-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
/** Lowers a per-user-namespace limit, after making sure the machine's own sysctls are out of reach. */
function lowerLimit(name, value) {
  for (const f of ['max_user_watches', 'max_user_instances', 'max_queued_events']) {
    assert.throws(() => fs.accessSync('/proc/sys/fs/inotify/' + f, fs.constants.W_OK), { code: 'EACCES' }, 'global sysctl writable: refusing to go on');
  }
  fs.writeFileSync('/proc/sys/user/' + name, String(value));
}
const shape = ${copySysErrorSource};
`;

test('the readiness backend in force is the one asked for', () => {
  assert.equal(readinessBackend(), expectedBackend);
});

describe('constants', () => {
  test('every IN_* of <linux/inotify.h>, with its value', () => {
    const expected = {
      IN_ACCESS: 0x1,
      IN_MODIFY: 0x2,
      IN_ATTRIB: 0x4,
      IN_CLOSE_WRITE: 0x8,
      IN_CLOSE_NOWRITE: 0x10,
      IN_OPEN: 0x20,
      IN_MOVED_FROM: 0x40,
      IN_MOVED_TO: 0x80,
      IN_CREATE: 0x100,
      IN_DELETE: 0x200,
      IN_DELETE_SELF: 0x400,
      IN_MOVE_SELF: 0x800,
      IN_UNMOUNT: 0x2000,
      IN_Q_OVERFLOW: 0x4000,
      IN_IGNORED: 0x8000,
      IN_CLOSE: 0x18,
      IN_MOVE: 0xc0,
      IN_ONLYDIR: 0x1000000,
      IN_DONT_FOLLOW: 0x2000000,
      IN_EXCL_UNLINK: 0x4000000,
      IN_MASK_CREATE: 0x10000000,
      IN_MASK_ADD: 0x20000000,
      IN_ISDIR: 0x40000000,
      IN_ONESHOT: 0x80000000,
      IN_ALL_EVENTS: 0xfff,
      IN_CLOEXEC: 0o2000000,
      IN_NONBLOCK: 0o4000,
      INOTIFY_IOC_SETNEXTWD: 0x40044900,
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(C[name], value, name);
    assert.ok(Object.isFrozen(C));
  });
});

describe('inotify, 1:1', () => {
  test('inotifyInit defaults to a non-blocking, close-on-exec fd; flags pass through as given', () => {
    const fd = inotifyInit();
    const blocking = inotifyInit(0);
    const cloexec = inotifyInit(C.IN_CLOEXEC);
    try {
      assert.equal(fdFlags(fd) & (C.IN_NONBLOCK | C.IN_CLOEXEC), C.IN_NONBLOCK | C.IN_CLOEXEC);
      assert.equal(fdFlags(blocking) & (C.IN_NONBLOCK | C.IN_CLOEXEC), 0);
      assert.equal(fdFlags(cloexec) & (C.IN_NONBLOCK | C.IN_CLOEXEC), C.IN_CLOEXEC);
      assert.match(fs.readlinkSync(`/proc/self/fd/${fd}`), /^anon_inode:inotify$/);
    } finally {
      for (const f of [fd, blocking, cloexec]) fs.closeSync(f);
    }
  });

  test('inotifyAddWatch: a wd per inode, mask replaced or extended, as /proc shows', () => {
    const d = mkdir();
    fs.symlinkSync(d, `${d}-link`);
    const fd = inotifyInit();
    try {
      const wd = inotifyAddWatch(fd, d, C.IN_CREATE);
      assert.ok(Number.isInteger(wd) && wd >= 1);
      const ino = fs.statSync(d).ino;
      assert.deepEqual(fdinfoWatches(fd), [{ wd, ino, mask: C.IN_CREATE }]);
      // The same inode by other paths is the same watch; without IN_MASK_ADD the mask is replaced.
      assert.equal(inotifyAddWatch(fd, `${d}/`, C.IN_DELETE), wd);
      assert.equal(inotifyAddWatch(fd, Buffer.from(`${d}-link`), C.IN_DELETE | C.IN_ONESHOT), wd);
      assert.deepEqual(fdinfoWatches(fd), [{ wd, ino, mask: (C.IN_DELETE | C.IN_ONESHOT) >>> 0 }]);
      assert.equal(inotifyAddWatch(fd, pathToFileURL(d), C.IN_ATTRIB | C.IN_MASK_ADD | C.IN_EXCL_UNLINK), wd);
      assert.deepEqual(fdinfoWatches(fd), [{ wd, ino, mask: (C.IN_DELETE | C.IN_ATTRIB | C.IN_ONESHOT | C.IN_EXCL_UNLINK) >>> 0 }]);
      // IN_DONT_FOLLOW watches the link itself: another inode, another wd.
      const link = inotifyAddWatch(fd, `${d}-link`, C.IN_ATTRIB | C.IN_DONT_FOLLOW);
      assert.notEqual(link, wd);
      assert.equal(fdinfoWatches(fd).find((w) => w.wd === link).ino, fs.lstatSync(`${d}-link`).ino);
      // IN_ONLYDIR through a link to a directory is fine.
      assert.equal(inotifyAddWatch(fd, `${d}-link`, C.IN_ATTRIB | C.IN_ONLYDIR), wd);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('inotifyRead: records as the kernel wrote them; EAGAIN when none; inotifyQueued counts bytes', () => {
    const d = mkdir();
    const fd = inotifyInit();
    try {
      assert.throws(() => inotifyRead(fd), (e) => assertSysError(e, 'EAGAIN', 'read'));
      assert.equal(inotifyQueued(fd), 0);
      const wd = inotifyAddWatch(fd, d, C.IN_ALL_EVENTS);
      fs.writeFileSync(`${d}/a-file-name-of-20b`, 'x');
      fs.mkdirSync(`${d}/sub`);
      assert.equal(inotifyQueued(fd), 4 * (16 + 32) + (16 + 16));
      const name = 'a-file-name-of-20b';
      assert.deepEqual(inotifyRead(fd), [
        { wd, mask: C.IN_CREATE, cookie: 0, name, rawName: undefined },
        { wd, mask: C.IN_OPEN, cookie: 0, name, rawName: undefined },
        { wd, mask: C.IN_MODIFY, cookie: 0, name, rawName: undefined },
        { wd, mask: C.IN_CLOSE_WRITE, cookie: 0, name, rawName: undefined },
        { wd, mask: C.IN_CREATE | C.IN_ISDIR, cookie: 0, name: 'sub', rawName: undefined },
      ]);
      assert.equal(inotifyQueued(fd), 0);
      fs.renameSync(`${d}/sub`, `${d}/sub2`);
      const [from, to] = inotifyRead(fd);
      assert.equal(from.mask, C.IN_MOVED_FROM | C.IN_ISDIR);
      assert.equal(to.mask, C.IN_MOVED_TO | C.IN_ISDIR);
      assert.ok(from.cookie !== 0 && from.cookie === to.cookie, 'one cookie ties the halves');
      assert.deepEqual([from.name, to.name], ['sub', 'sub2']);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('inotifyRmWatch: the watch goes, IN_IGNORED follows; the wd is then unknown (EINVAL)', () => {
    const d = mkdir();
    const fd = inotifyInit();
    try {
      const wd = inotifyAddWatch(fd, d, C.IN_CREATE);
      inotifyRmWatch(fd, wd);
      assert.deepEqual(fdinfoWatches(fd), []);
      assert.deepEqual(inotifyRead(fd), [{ wd, mask: C.IN_IGNORED, cookie: 0, name: null, rawName: undefined }]);
      assert.throws(() => inotifyRmWatch(fd, wd), (e) => assertSysError(e, 'EINVAL', 'inotify_rm_watch'));
    } finally {
      fs.closeSync(fd);
    }
  });

  test('names that are not UTF-8 keep their exact bytes', () => {
    const d = mkdir();
    const fd = inotifyInit();
    try {
      const wd = inotifyAddWatch(fd, d, C.IN_CREATE);
      const bad = Buffer.from([0x66, 0xff, 0xfe, 0x80]);
      fs.writeFileSync(Buffer.concat([Buffer.from(`${d}/`), bad]), '');
      fs.writeFileSync(`${d}/\uFFFD-real`, ''); // a genuine U+FFFD round-trips: no rawName
      fs.writeFileSync(`${d}/é✓😀`, '');
      const [r1, r2, r3] = inotifyRead(fd);
      assert.deepEqual(r1.rawName, bad);
      assert.equal(r1.name, 'f\uFFFD\uFFFD\uFFFD');
      assert.deepEqual([r2.name, r2.rawName], ['\uFFFD-real', undefined]);
      assert.deepEqual([r3.name, r3.rawName], ['é✓😀', undefined]);
      assert.equal(r3.wd, wd);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('inotifySetNextWd picks the next wd (or ENOTTY without CONFIG_CHECKPOINT_RESTORE)', () => {
    const d = mkdir();
    const fd = inotifyInit();
    try {
      try {
        inotifySetNextWd(fd, 4242);
      } catch (e) {
        assertSysError(e, 'ENOTTY', 'ioctl');
        return;
      }
      assert.equal(inotifyAddWatch(fd, d, C.IN_CREATE), 4242);
      assert.throws(() => inotifySetNextWd(fd, 0), { code: 'ERR_OUT_OF_RANGE' });
    } finally {
      fs.closeSync(fd);
    }
  });

  test('paths: strings, Buffers, Uint8Arrays and file: URLs; NUL bytes refused as node:fs refuses them', () => {
    const d = mkdir();
    const fd = inotifyInit();
    try {
      const wd = inotifyAddWatch(fd, d, C.IN_CREATE);
      assert.equal(inotifyAddWatch(fd, Buffer.from(d), C.IN_CREATE), wd);
      assert.equal(inotifyAddWatch(fd, new Uint8Array(Buffer.from(`x${d}`)).subarray(1), C.IN_CREATE), wd);
      assert.equal(inotifyAddWatch(fd, pathToFileURL(d), C.IN_CREATE), wd);
      for (const p of [`${d}\0x`, Buffer.from(`${d}\0`), new URL('file:///tmp/a%00b')]) {
        assert.throws(() => inotifyAddWatch(fd, p, C.IN_CREATE), (e) => {
          assert.ok(e instanceof TypeError);
          assert.equal(e.code, 'ERR_INVALID_ARG_VALUE');
          assert.match(e.message, /^The argument 'path' must be a string, Uint8Array, or URL without null bytes\. Received /);
          return true;
        });
      }
      assert.throws(() => inotifyAddWatch(fd, 5, C.IN_CREATE), {
        code: 'ERR_INVALID_ARG_TYPE',
        message: 'The "path" argument must be of type string or an instance of Buffer or URL. Received type number (5)',
      });
      assert.throws(() => inotifyAddWatch(fd, new URL('http://x/'), C.IN_CREATE), { code: 'ERR_INVALID_URL_SCHEME' });
    } finally {
      fs.closeSync(fd);
    }
  });

  test('bad arguments are refused before any syscall', () => {
    const code = (c) => (e) => e.code === c;
    assert.throws(() => inotifyInit('0'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => inotifyInit(2 ** 31), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => inotifyAddWatch(-1, '/', 1), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => inotifyAddWatch(0, '/', -(2 ** 31) - 1), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => inotifyAddWatch(0, '/', 2 ** 32), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => inotifyAddWatch(0, '/', 1.5), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => inotifyAddWatch(0, '/', 'create'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => inotifyAddWatch(0, '/'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => inotifyRmWatch(0, 'x'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => inotifyRmWatch(0, 2 ** 31), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => inotifyRead(-1), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => inotifyQueued(null), code('ERR_INVALID_ARG_TYPE'));
  });
});

describe('parseInotifyEvents', () => {
  /** One record: header, then the name NUL-padded to a multiple of 16 (at least one NUL). */
  function record(wd, mask, cookie, name) {
    const bytes = name === null ? Buffer.alloc(0) : Buffer.from(name);
    const len = name === null ? 0 : Math.ceil((bytes.length + 1) / 16) * 16;
    const r = Buffer.alloc(16 + len);
    r.writeInt32LE(wd, 0);
    r.writeUInt32LE(mask, 4);
    r.writeUInt32LE(cookie, 8);
    r.writeUInt32LE(len, 12);
    bytes.copy(r, 16);
    return r;
  }

  test('exact fields: signed wd, unsigned mask and cookie, names without padding', () => {
    const buf = Buffer.concat([
      record(1, C.IN_CREATE, 0, 'abc'),
      record(-1, C.IN_Q_OVERFLOW, 0, null),
      record(2 ** 31 - 1, C.IN_MOVED_FROM | C.IN_ISDIR, 0xffffffff, 'x'.repeat(15)),
      record(3, C.IN_MOVED_TO, 7, 'y'.repeat(16)),
      record(4, C.IN_DELETE_SELF, 0, null),
      record(5, C.IN_CREATE, 0, 'n'.repeat(255)),
      record(6, C.IN_CREATE, 0, Buffer.from([0xc3, 0x28])),
    ]);
    assert.deepEqual(parseInotifyEvents(buf), [
      { wd: 1, mask: C.IN_CREATE, cookie: 0, name: 'abc', rawName: undefined },
      { wd: -1, mask: C.IN_Q_OVERFLOW, cookie: 0, name: null, rawName: undefined },
      { wd: 2 ** 31 - 1, mask: C.IN_MOVED_FROM | C.IN_ISDIR, cookie: 0xffffffff, name: 'x'.repeat(15), rawName: undefined },
      { wd: 3, mask: C.IN_MOVED_TO, cookie: 7, name: 'y'.repeat(16), rawName: undefined },
      { wd: 4, mask: C.IN_DELETE_SELF, cookie: 0, name: null, rawName: undefined },
      { wd: 5, mask: C.IN_CREATE, cookie: 0, name: 'n'.repeat(255), rawName: undefined },
      { wd: 6, mask: C.IN_CREATE, cookie: 0, name: '\uFFFD(', rawName: Buffer.from([0xc3, 0x28]) },
    ]);
    assert.deepEqual(parseInotifyEvents(buf, 16 + 16), [{ wd: 1, mask: C.IN_CREATE, cookie: 0, name: 'abc', rawName: undefined }]);
    assert.deepEqual(parseInotifyEvents(buf, 0), []);
  });

  test('any view: unaligned Uint8Arrays, a rawName that outlives the buffer', () => {
    const recs = Buffer.concat([record(9, C.IN_ATTRIB, 0, Buffer.from([0xff])), record(9, C.IN_OPEN, 0, 'ok')]);
    const backing = new Uint8Array(recs.length + 3);
    backing.set(recs, 3);
    const parsed = parseInotifyEvents(backing.subarray(3));
    assert.deepEqual(parsed.map((r) => [r.wd, r.mask, r.name]), [[9, C.IN_ATTRIB, '\uFFFD'], [9, C.IN_OPEN, 'ok']]);
    backing.fill(0);
    assert.deepEqual(parsed[0].rawName, Buffer.from([0xff]), 'a copy, not a view of the reused buffer');
  });

  test('truncated records and bad arguments are refused', () => {
    const buf = record(1, C.IN_CREATE, 0, 'abc');
    assert.throws(() => parseInotifyEvents(buf, 20), { code: 'ERR_INVALID_ARG_VALUE', message: /truncated inotify_event record at offset 0/ });
    assert.throws(() => parseInotifyEvents(buf.subarray(0, 10)), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => parseInotifyEvents(Buffer.concat([buf, buf.subarray(0, 16)]).subarray(0, 48)), { message: /at offset 32/ });
    assert.throws(() => parseInotifyEvents(buf, 33), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => parseInotifyEvents(buf, -1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => parseInotifyEvents('abc'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => parseInotifyEvents([1, 2]), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('inotifyMask and inotifyMaskNames', () => {
  test('names to bits and back', () => {
    assert.equal(inotifyMask(['create', 'close_write']), C.IN_CREATE | C.IN_CLOSE_WRITE);
    assert.equal(inotifyMask('all'), C.IN_ALL_EVENTS);
    assert.equal(inotifyMask(['close', 'move', 'unmount']), C.IN_CLOSE | C.IN_MOVE | C.IN_UNMOUNT);
    assert.equal(inotifyMask([]), 0);
    assert.equal(inotifyMask(C.IN_ONESHOT | C.IN_ATTRIB), 0x80000004, 'a negative int32 is taken as its bits');
    assert.equal(inotifyMask(0x80000004), 0x80000004);
    assert.deepEqual(inotifyMaskNames(C.IN_ISDIR | C.IN_ONESHOT), ['isdir']);
    assert.deepEqual(inotifyMaskNames(C.IN_CREATE | C.IN_ISDIR), ['create', 'isdir']);
    assert.deepEqual(inotifyMaskNames(C.IN_Q_OVERFLOW), ['q_overflow']);
    assert.deepEqual(inotifyMaskNames(C.IN_ALL_EVENTS).length, 12);
    assert.ok(Object.isFrozen(inotifyMaskNames(C.IN_IGNORED)));
    assert.throws(() => inotifyMask(['create', 'bogus']), { code: 'ERR_INVALID_ARG_VALUE', message: /unknown inotify event name \(bogus\)/ });
    assert.throws(() => inotifyMask('CREATE'), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => inotifyMask({}), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => inotifyMask(2 ** 32), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => inotifyMask(-(2 ** 31) - 1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => inotifyMaskNames('create'), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('errors, with their full shape', () => {
  test('ENOENT', () => {
    const fd = inotifyInit();
    const p = path.join(tmp, 'missing', 'x');
    try {
      assert.throws(() => inotifyAddWatch(fd, p, C.IN_CREATE), (e) => assertSysError(e, 'ENOENT', 'inotify_add_watch', p));
      assert.throws(() => inotifyAddWatch(fd, pathToFileURL(p), C.IN_CREATE), (e) => assertSysError(e, 'ENOENT', 'inotify_add_watch', p));
      assert.throws(() => inotifyAddWatch(fd, '', C.IN_CREATE), (e) => assertSysError(e, 'ENOENT', 'inotify_add_watch', ''));
      const detached = new Uint8Array(8);
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      assert.throws(() => inotifyAddWatch(fd, detached, C.IN_CREATE), (e) => assertSysError(e, 'ENOENT', 'inotify_add_watch', ''));
    } finally {
      fs.closeSync(fd);
    }
  });

  test('ENOTDIR: IN_ONLYDIR on a file, and a file used as a directory', () => {
    const f = path.join(mkdir(), 'file');
    fs.writeFileSync(f, '');
    const fd = inotifyInit();
    try {
      assert.throws(() => inotifyAddWatch(fd, f, C.IN_ATTRIB | C.IN_ONLYDIR), (e) => assertSysError(e, 'ENOTDIR', 'inotify_add_watch', f));
      assert.throws(() => inotifyAddWatch(fd, `${f}/x`, C.IN_ATTRIB), (e) => assertSysError(e, 'ENOTDIR', 'inotify_add_watch', `${f}/x`));
      assert.ok(inotifyAddWatch(fd, f, C.IN_ATTRIB) >= 1, 'without IN_ONLYDIR a file is fine');
    } finally {
      fs.closeSync(fd);
    }
  });

  test('ELOOP: a symlink loop, unless IN_DONT_FOLLOW watches the link itself', () => {
    const d = mkdir();
    fs.symlinkSync(`${d}/b`, `${d}/a`);
    fs.symlinkSync(`${d}/a`, `${d}/b`);
    const fd = inotifyInit();
    try {
      assert.throws(() => inotifyAddWatch(fd, `${d}/a`, C.IN_ATTRIB), (e) => assertSysError(e, 'ELOOP', 'inotify_add_watch', `${d}/a`));
      assert.ok(inotifyAddWatch(fd, `${d}/a`, C.IN_ATTRIB | C.IN_DONT_FOLLOW) >= 1);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('EEXIST: IN_MASK_CREATE on an inode already watched', () => {
    const d = mkdir();
    const fd = inotifyInit();
    try {
      inotifyAddWatch(fd, d, C.IN_CREATE);
      assert.throws(() => inotifyAddWatch(fd, d, C.IN_DELETE | C.IN_MASK_CREATE), (e) => assertSysError(e, 'EEXIST', 'inotify_add_watch', d));
      assert.equal(fdinfoWatches(fd)[0].mask, C.IN_CREATE, 'the watch is unchanged');
    } finally {
      fs.closeSync(fd);
    }
  });

  test('EINVAL: no event in the mask, IN_MASK_ADD with IN_MASK_CREATE, an unknown wd, bad init flags, not an inotify fd', () => {
    const d = mkdir();
    const fd = inotifyInit();
    const other = fs.openSync(d, 'r');
    try {
      assert.throws(() => inotifyAddWatch(fd, d, 0), (e) => assertSysError(e, 'EINVAL', 'inotify_add_watch', d));
      assert.throws(() => inotifyAddWatch(fd, d, C.IN_CREATE | C.IN_MASK_ADD | C.IN_MASK_CREATE), (e) => assertSysError(e, 'EINVAL', 'inotify_add_watch', d));
      for (const wd of [0, -1, 12345]) assert.throws(() => inotifyRmWatch(fd, wd), (e) => assertSysError(e, 'EINVAL', 'inotify_rm_watch'));
      for (const flags of [1, 0x40000000, -1]) assert.throws(() => inotifyInit(flags), (e) => assertSysError(e, 'EINVAL', 'inotify_init1'));
      assert.throws(() => inotifyAddWatch(other, d, C.IN_CREATE), (e) => assertSysError(e, 'EINVAL', 'inotify_add_watch', d));
      assert.throws(() => inotifyRmWatch(other, 1), (e) => assertSysError(e, 'EINVAL', 'inotify_rm_watch'));
    } finally {
      fs.closeSync(fd);
      fs.closeSync(other);
    }
  });

  test('EBADF: a closed fd', () => {
    const d = mkdir();
    const fd = inotifyInit();
    fs.closeSync(fd);
    const bad = 2 ** 31 - 1;
    for (const f of [fd, bad]) {
      assert.throws(() => inotifyAddWatch(f, d, C.IN_CREATE), (e) => assertSysError(e, 'EBADF', 'inotify_add_watch', d));
      assert.throws(() => inotifyRmWatch(f, 1), (e) => assertSysError(e, 'EBADF', 'inotify_rm_watch'));
      assert.throws(() => inotifyRead(f), (e) => assertSysError(e, 'EBADF', 'read'));
      assert.throws(() => inotifyQueued(f), (e) => assertSysError(e, 'EBADF', 'ioctl'));
    }
  });

  test('ENAMETOOLONG: a name over 255 bytes, a path of PATH_MAX or more', () => {
    const fd = inotifyInit();
    try {
      const longName = path.join(tmp, 'n'.repeat(256));
      assert.throws(() => inotifyAddWatch(fd, longName, C.IN_CREATE), (e) => assertSysError(e, 'ENAMETOOLONG', 'inotify_add_watch', longName));
      const longPath = `/${'p/'.repeat(2048)}`;
      assert.throws(() => inotifyAddWatch(fd, longPath, C.IN_CREATE), (e) => assertSysError(e, 'ENAMETOOLONG', 'inotify_add_watch', longPath));
      const justUnder = `/${'q/'.repeat(2047)}`; // 4095 bytes: reaches the lookup
      assert.throws(() => inotifyAddWatch(fd, justUnder, C.IN_CREATE), (e) => assertSysError(e, 'ENOENT', 'inotify_add_watch', justUnder));
    } finally {
      fs.closeSync(fd);
    }
  });

  test('EACCES: a directory the caller may not read', { skip: isRoot && nobodyUnavailable }, () => {
    const d = mkdir();
    fs.mkdirSync(`${d}/private`, { mode: 0o700 });
    fs.writeFileSync(`${d}/secret`, '', { mode: 0o600 });
    if (!isRoot) {
      // A normal user: a mode-0 directory of its own.
      fs.chmodSync(`${d}/private`, 0);
      const fd = inotifyInit();
      try {
        assert.throws(() => inotifyAddWatch(fd, `${d}/private`, C.IN_CREATE), (e) => assertSysError(e, 'EACCES', 'inotify_add_watch', `${d}/private`));
      } finally {
        fs.closeSync(fd);
        fs.chmodSync(`${d}/private`, 0o700);
      }
      return;
    }
    fs.chmodSync(tmp, 0o755);
    fs.chmodSync(d, 0o755);
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `
        import { inotifyInit, inotifyAddWatch, Inotify, constants as C } from ${JSON.stringify(BUTTER_ESM)};
        const shape = ${copySysErrorSource};
        const out = [];
        const fd = inotifyInit();
        for (const p of process.argv.slice(1)) {
          try { inotifyAddWatch(fd, p, C.IN_ALL_EVENTS); out.push('no error'); } catch (e) { out.push(shape(e)); }
        }
        const ino = new Inotify();
        try { ino.add(process.argv[1]); } catch (e) { out.push(shape(e)); }
        ino.close();
        console.log(JSON.stringify(out));`, `${d}/private`, `${d}/secret`],
      { cwd: root, encoding: 'utf8', uid: 65534, gid: 65534, timeout: 20_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.length, 3, r.stdout);
    [`${d}/private`, `${d}/secret`, `${d}/private`].forEach((p, i) => assertSysError(out[i], 'EACCES', 'inotify_add_watch', p));
  });

  test('ENOSPC: the watch limit, named with its value (lowered in a child user namespace)', { skip: !USERNS_PREFIX && NO_USERNS }, () => {
    const r = runChild(
      `${CHILD_PRELUDE}
      lowerLimit('max_inotify_watches', 3);
      const global = fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim();
      const dirs = [0, 1, 2, 3].map((i) => fs.mkdtempSync(path.join(tmp, 'w')));
      const ino = new Inotify();
      for (const d of dirs.slice(0, 3)) ino.add(d, ['create']);
      const out = { global };
      try { ino.add(dirs[3]); } catch (e) { out.high = shape(e); }
      const fd = inotifyInit();
      try { inotifyAddWatch(fd, dirs[3], C.IN_CREATE); } catch (e) { out.raw = shape(e); }
      out.path = dirs[3];
      ino.watches()[0].remove();
      ino.readEvents();
      out.afterRemove = ino.add(dirs[3]).active;
      console.log(JSON.stringify(out));`,
      { prefix: USERNS_PREFIX },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const message = `ENOSPC: inotify watch limit reached (fs.inotify.max_user_watches = ${out.global}, user.max_inotify_watches = 3 in this user namespace), inotify_add_watch '${out.path}'`;
    assertSysError(out.high, 'ENOSPC', 'inotify_add_watch', out.path, { message });
    assertSysError(out.raw, 'ENOSPC', 'inotify_add_watch', out.path, { message });
    assert.equal(out.afterRemove, true, 'a removed watch frees its place');
  });

  test('EMFILE: the instance limit, named with its value (lowered in a child user namespace)', { skip: !USERNS_PREFIX && NO_USERNS }, () => {
    const r = runChild(
      `${CHILD_PRELUDE}
      lowerLimit('max_inotify_instances', 2);
      const global = fs.readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8').trim();
      const fds = [inotifyInit(), inotifyInit()];
      const out = { global };
      try { inotifyInit(); } catch (e) { out.raw = shape(e); }
      try { new Inotify(); } catch (e) { out.high = shape(e); }
      fs.closeSync(fds.pop());
      const ino = new Inotify();
      out.reopened = ino.fd >= 0;
      ino.close();
      console.log(JSON.stringify(out));`,
      { prefix: USERNS_PREFIX },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    const message = `EMFILE: inotify instance limit reached (fs.inotify.max_user_instances = ${out.global}, user.max_inotify_instances = 2 in this user namespace), inotify_init1`;
    assertSysError(out.raw, 'EMFILE', 'inotify_init1', undefined, { message });
    assertSysError(out.high, 'EMFILE', 'inotify_init1', undefined, { message });
    assert.equal(out.reopened, true);
  });

  test('EMFILE: a full fd table keeps the plain message', () => {
    const script = `
      import { inotifyInit, Inotify } from ${JSON.stringify(BUTTER_ESM)};
      const copy = ${copySysErrorSource};
      // A family loads on first use, reading its files: load it while fds are left.
      void Inotify.prototype;
      const out = {};
      try { for (;;) inotifyInit(); } catch (e) { out.raw = copy(e); }
      try { new Inotify(); } catch (e) { out.high = copy(e); }
      console.log(JSON.stringify(out));`;
    // 64 fds is under the instance limit (128 by default), so the fd table fills first.
    const r = spawnSync('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" --input-type=module -e "$0"`, script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertSysError(out.raw, 'EMFILE', 'inotify_init1');
    assertSysError(out.high, 'EMFILE', 'inotify_init1');
  });
});

describe('Inotify', () => {
  test('a once() listener takes one event of a batch; the rest stay queued for the next read', async () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      ino.add(d, ['create']);
      for (const name of ['a', 'b', 'c']) fs.writeFileSync(`${d}/${name}`, '');
      const [first] = await once(ino, 'event'); // the three come in one read
      assert.equal(first.name, 'a');
      assert.deepEqual(ino.readEvents().map((e) => e.name), ['b', 'c']);
    } finally {
      ino.close();
    }
  });

  for (const backend of ['uv', 'epoll']) {
    test(`a new process's first events, made before its loop first polls, reach a listener and a for await loop [${backend}]`, () => {
      const d = mkdir();
      const r = runChild(
        `import { Inotify } from ${JSON.stringify(BUTTER_ESM)};
        import { execFileSync } from 'node:child_process';
        const d = process.env.DIR;
        const got = { listener: [], loop: [] };
        const a = new Inotify();
        a.add(d, ['create']);
        a.on('event', (e) => got.listener.push(e.name));
        const b = new Inotify();
        b.add(d, ['create']);
        const looping = (async () => { for await (const e of b) if (got.loop.push(e.name) === 2) break; })();
        execFileSync('mkdir', [d + '/t1']); // by another process, while this one's loop has not polled yet
        setTimeout(() => execFileSync('mkdir', [d + '/t2']), 100);
        const deadline = Date.now() + 5000;
        while (got.listener.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        await Promise.race([looping, new Promise((resolve) => setTimeout(resolve, deadline - Date.now()))]);
        console.log(JSON.stringify(got));
        a.close();
        b.close();`,
        { env: { DIR: d, BUTTER_READINESS: backend } },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { listener: ['t1', 't2'], loop: ['t1', 't2'] });
    });
  }

  test('a listener that comes after a once() listener took one event of a batch gets the rest, with no other event to wake it', async () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      ino.add(d, ['create']);
      for (const name of ['a', 'b', 'c']) fs.writeFileSync(`${d}/${name}`, '');
      const [first] = await once(ino, 'event'); // the three come in one read
      assert.equal(first.name, 'a');
      const rest = [];
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${JSON.stringify(rest)} within 2 s`)), 2000);
        ino.on('event', (e) => {
          if (rest.push(e.name) === 2) resolve(clearTimeout(timer));
        });
      });
      assert.deepEqual(rest, ['b', 'c']);
    } finally {
      ino.close();
    }
  });

  test('subtree: a new directory, and those already in it, are watched by the native side on the read, before JS runs; their events come under their paths', async () => {
    const d = mkdir();
    const ino = new Inotify();
    const inode = (p) => fs.statSync(p).ino;
    const seen = [];
    let wake = () => {};
    ino.on('event', (e) => {
      seen.push(e);
      wake();
    });
    const next = async () => {
      while (seen.length === 0) await new Promise((r) => (wake = r));
      return seen.shift();
    };
    try {
      const root = ino.add(d, ['create', 'close_write'], { subtree: true });
      fs.mkdirSync(`${d}/a/b/c`, { recursive: true });
      const created = await next();
      assert.equal(created.path, `${d}/a`);
      // No JS added them: b and c existed before a's watch, and came from the native side's walk of a.
      assert.deepEqual(fdinfoWatches(ino.fd).map((w) => w.ino).sort(), [d, `${d}/a`, `${d}/a/b`, `${d}/a/b/c`].map(inode).sort());
      assert.deepEqual(ino.watches(), [root]);
      fs.writeFileSync(`${d}/a/b/c/f`, 'x');
      const events = [await next(), await next()];
      assert.deepEqual(events.map((e) => `${e.type}:${e.path}`), [`create:${d}/a/b/c/f`, `close_write:${d}/a/b/c/f`]);
      const c = events[0].watch;
      assert.equal(c.path, `${d}/a/b/c`);
      assert.equal(c.mask, root.mask);
      assert.deepEqual(ino.watches().sort((x, y) => x.wd - y.wd), [root, c]);
      // add() for a directory the native side watches: that watch.
      const b = ino.add(`${d}/a/b`, ['create', 'close_write'], { subtree: true });
      assert.equal(b.wd, fdinfoWatches(ino.fd).find((w) => w.ino === inode(`${d}/a/b`)).wd);
      // A watch removed with a directory's create still queued: that directory is not watched.
      fs.mkdirSync(`${d}/x`);
      root.remove();
      fs.writeFileSync(`${d}/a/b/c/g`, 'x');
      while ((await next()).path !== `${d}/a/b/c/g`);
      assert.ok(!fdinfoWatches(ino.fd).some((w) => w.ino === inode(`${d}/x`)));
    } finally {
      ino.close();
    }
  });

  test('without subtree, a new directory is not watched', async () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      ino.add(d, ['create']);
      fs.mkdirSync(`${d}/a`);
      await once(ino, 'event');
      assert.equal(fdinfoWatches(ino.fd).length, 1);
    } finally {
      ino.close();
    }
  });

  test('add() returns this instance\'s watch, its mask as the kernel keeps it', () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      const w = ino.add(d, ['create', 'close_write'], { oneshot: true, excludeUnlinked: true });
      assert.equal(w.inotify, ino);
      assert.equal(w.path, d);
      assert.equal(w.active, true);
      assert.deepEqual(fdinfoWatches(ino.fd), [{ wd: w.wd, ino: fs.statSync(d).ino, mask: w.mask }]);
      assert.equal(w.mask, (C.IN_CREATE | C.IN_CLOSE_WRITE | C.IN_ONESHOT | C.IN_EXCL_UNLINK) >>> 0);
      assert.deepEqual(ino.watches(), [w]);
      // The same inode again: the same watch, mask replaced (flags too), path updated.
      assert.equal(ino.add(`${d}/`, C.IN_DELETE), w);
      assert.equal(w.mask, C.IN_DELETE);
      assert.equal(w.path, `${d}/`);
      assert.equal(ino.add(d, 'attrib', { maskAdd: true }), w);
      assert.equal(w.mask, C.IN_DELETE | C.IN_ATTRIB);
      assert.deepEqual(fdinfoWatches(ino.fd).map((x) => x.mask), [w.mask]);
      assert.throws(() => ino.add(d, 'create', { maskCreate: true }), (e) => assertSysError(e, 'EEXIST', 'inotify_add_watch', d));
      assert.throws(() => ino.add(d, 'create', { maskCreate: true, maskAdd: true }), (e) => assertSysError(e, 'EINVAL', 'inotify_add_watch', d));
      assert.throws(() => ino.add(d, []), (e) => assertSysError(e, 'EINVAL', 'inotify_add_watch', d));
      assert.equal(w.mask, C.IN_DELETE | C.IN_ATTRIB, 'failed calls change nothing');
      // Default: every event.
      const all = ino.add(mkdir());
      assert.equal(all.mask, C.IN_ALL_EVENTS);
      assert.notEqual(all.wd, w.wd);
    } finally {
      ino.close();
    }
  });

  test('the event object, field by field', () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      const w = ino.add(d, ['create']);
      fs.mkdirSync(`${d}/sub`);
      const [ev] = ino.readEvents();
      assert.deepEqual(Object.keys(ev), ['type', 'mask', 'names', 'isDir', 'cookie', 'watch', 'watchPath', 'name', 'rawName', 'path']);
      assert.equal(ev.type, 'create');
      assert.equal(ev.mask, C.IN_CREATE | C.IN_ISDIR);
      assert.deepEqual(ev.names, ['create', 'isdir']);
      assert.equal(ev.isDir, true);
      assert.equal(ev.cookie, 0);
      assert.equal(ev.watch, w);
      assert.equal(ev.watchPath, d);
      assert.equal(ev.name, 'sub');
      assert.equal(ev.rawName, undefined);
      assert.equal(ev.path, `${d}/sub`);
    } finally {
      ino.close();
    }
  });

  test('event sequences, as the kernel emits them', () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      ino.add(d);
      const step = (fn) => (fn(), brief(ino.readEvents(), d));
      assert.deepEqual(step(() => fs.writeFileSync(`${d}/f`, 'x')), ['create:f', 'open:f', 'modify:f', 'close_write:f']);
      assert.deepEqual(step(() => fs.appendFileSync(`${d}/f`, 'y')), ['open:f', 'modify:f', 'close_write:f']);
      assert.deepEqual(step(() => fs.readFileSync(`${d}/f`)), ['open:f', 'access:f', 'close_nowrite:f']);
      assert.deepEqual(step(() => fs.truncateSync(`${d}/f`, 0)), ['open:f', 'modify:f', 'close_write:f']);
      assert.deepEqual(step(() => fs.chmodSync(`${d}/f`, 0o600)), ['attrib:f']);
      assert.deepEqual(step(() => fs.utimesSync(`${d}/f`, 1, 1)), ['attrib:f']);
      assert.deepEqual(step(() => fs.linkSync(`${d}/f`, `${d}/h`)), ['create:h']);
      assert.deepEqual(step(() => fs.symlinkSync('f', `${d}/l`)), ['create:l']);
      assert.deepEqual(step(() => fs.unlinkSync(`${d}/h`)), ['delete:h']);
      assert.deepEqual(step(() => fs.renameSync(`${d}/f`, `${d}/g`)), ['rename:f>g']);
      fs.writeFileSync(`${d}/t`, '');
      ino.readEvents();
      assert.deepEqual(step(() => fs.renameSync(`${d}/g`, `${d}/t`)), ['rename:g>t'], 'replacing a file is one rename, no delete');
      assert.deepEqual(step(() => fs.mkdirSync(`${d}/s`)), ['create/d:s']);
      assert.deepEqual(step(() => fs.renameSync(`${d}/s`, `${d}/s2`)), ['rename/d:s>s2']);
      assert.deepEqual(step(() => fs.rmdirSync(`${d}/s2`)), ['delete/d:s2']);
      assert.deepEqual(step(() => fs.unlinkSync(`${d}/l`)), ['delete:l']);
    } finally {
      ino.close();
    }
  });

  test('a watched file: modify, attrib, then delete_self and ignored', () => {
    const d = mkdir();
    fs.writeFileSync(`${d}/f`, '');
    const ino = new Inotify();
    try {
      const w = ino.add(`${d}/f`);
      const step = (fn) => (fn(), brief(ino.readEvents(), d));
      assert.deepEqual(step(() => fs.appendFileSync(`${d}/f`, 'x')), ['open:f', 'modify:f', 'close_write:f']);
      const events = (fs.unlinkSync(`${d}/f`), ino.readEvents());
      assert.deepEqual(brief(events, d), ['attrib:f', 'delete_self:f', 'ignored:f']);
      assert.ok(events.every((e) => e.watch === w && e.name === null));
      assert.equal(w.active, false);
      assert.deepEqual(ino.watches(), []);
    } finally {
      ino.close();
    }
  });

  test('excludeUnlinked: no events for a file after it is unlinked', () => {
    const run = (excludeUnlinked) => {
      const d = mkdir();
      const ino = new Inotify();
      try {
        const fd = fs.openSync(`${d}/f`, 'w');
        ino.add(d, ['modify', 'delete', 'close_write'], { excludeUnlinked });
        fs.unlinkSync(`${d}/f`);
        fs.writeSync(fd, 'x');
        fs.closeSync(fd);
        return brief(ino.readEvents(), d);
      } finally {
        ino.close();
      }
    };
    assert.deepEqual(run(false), ['delete:f', 'modify:f', 'close_write:f']);
    assert.deepEqual(run(true), ['delete:f']);
  });

  test('followSymlinks: false watches the link, onlyDir refuses a file', () => {
    const d = mkdir();
    fs.writeFileSync(`${d}/target`, '');
    fs.symlinkSync('target', `${d}/link`);
    const ino = new Inotify();
    try {
      const target = ino.add(`${d}/link`, ['attrib']);
      const link = ino.add(`${d}/link`, ['attrib'], { followSymlinks: false });
      assert.notEqual(link, target);
      assert.deepEqual(fdinfoWatches(ino.fd).map((w) => w.ino).sort(), [fs.statSync(`${d}/target`).ino, fs.lstatSync(`${d}/link`).ino].sort());
      fs.chmodSync(`${d}/target`, 0o600);
      const [ev] = ino.readEvents();
      assert.equal(ev.watch, target);
      assert.throws(() => ino.add(`${d}/target`, 'attrib', { onlyDir: true }), (e) => assertSysError(e, 'ENOTDIR', 'inotify_add_watch', `${d}/target`));
    } finally {
      ino.close();
    }
  });

  describe('renames', () => {
    test('in place, between two watched directories, out of and into the watched set', () => {
      const d = mkdir();
      fs.mkdirSync(`${d}/a`);
      fs.mkdirSync(`${d}/b`);
      fs.mkdirSync(`${d}/outside`);
      const ino = new Inotify();
      try {
        const a = ino.add(`${d}/a`, 'move');
        const b = ino.add(`${d}/b`, 'move');
        fs.writeFileSync(`${d}/a/f`, '');
        fs.renameSync(`${d}/a/f`, `${d}/a/g`);
        fs.renameSync(`${d}/a/g`, `${d}/b/h`);
        fs.renameSync(`${d}/b/h`, `${d}/outside/h`);
        fs.renameSync(`${d}/outside/h`, `${d}/a/back`);
        const events = ino.readEvents();
        assert.deepEqual(brief(events, d), ['rename:a/f>a/g', 'rename:a/g>b/h', 'moved_from:b/h', 'moved_to:a/back']);
        const [inPlace, across, out, into] = events;
        assert.deepEqual(Object.keys(across), [
          'type', 'mask', 'names', 'isDir', 'cookie', 'watch', 'watchPath', 'name', 'rawName', 'path',
          'oldWatch', 'oldWatchPath', 'oldName', 'oldRawName', 'oldPath',
        ]);
        assert.equal(inPlace.watch, a);
        assert.equal(inPlace.oldWatch, a);
        assert.equal(across.oldWatch, a);
        assert.equal(across.watch, b);
        assert.equal(across.mask, C.IN_MOVE);
        assert.deepEqual(across.names, ['moved_from', 'moved_to']);
        assert.deepEqual([across.oldName, across.name, across.oldWatchPath, across.watchPath], ['g', 'h', `${d}/a`, `${d}/b`]);
        assert.ok(across.cookie > 0 && across.cookie !== inPlace.cookie);
        assert.equal(out.watch, b);
        assert.equal(into.watch, a);
        assert.ok(out.cookie > 0 && into.cookie > 0 && out.cookie !== into.cookie);
      } finally {
        ino.close();
      }
    });

    test('joinRenames: false passes both halves through, tied by the cookie', () => {
      const d = mkdir();
      const ino = new Inotify({ joinRenames: false });
      try {
        assert.equal(ino.joinRenames, false);
        ino.add(d, 'move');
        fs.mkdirSync(`${d}/x`);
        fs.renameSync(`${d}/x`, `${d}/y`);
        const [from, to] = ino.readEvents();
        assert.deepEqual(brief([from, to], d), ['moved_from/d:x', 'moved_to/d:y']);
        assert.equal(from.cookie, to.cookie);
      } finally {
        ino.close();
      }
    });

    test('thousands queued at once, across 64 KiB reads: every pair joined, every move out reported', () => {
      const d = mkdir();
      fs.mkdirSync(`${d}/in`);
      fs.mkdirSync(`${d}/out`);
      const n = 3000; // 3000 pairs of 32-byte records: three 64 KiB reads
      for (let i = 0; i < n; i++) fs.writeFileSync(`${d}/in/f${i}`, '');
      const ino = new Inotify();
      try {
        ino.add(`${d}/in`, 'move');
        for (let i = 0; i < n; i++) fs.renameSync(`${d}/in/f${i}`, `${d}/in/g${i}`);
        for (let i = 0; i < n; i++) fs.renameSync(`${d}/in/g${i}`, `${d}/out/g${i}`);
        const events = ino.readEvents();
        assert.equal(events.length, 2 * n);
        for (let i = 0; i < n; i++) {
          assert.equal(events[i].type, 'rename');
          assert.equal(events[i].oldName, `f${i}`);
          assert.equal(events[i].name, `g${i}`);
          assert.equal(events[n + i].type, 'moved_from');
          assert.equal(events[n + i].name, `g${i}`);
        }
      } finally {
        ino.close();
      }
    });

    test('a concurrent renamer: pairs are joined as they come', async () => {
      const d = mkdir();
      fs.writeFileSync(`${d}/a`, '');
      const ino = new Inotify();
      const n = 2000;
      try {
        ino.add(d, 'move');
        const child = spawn(process.execPath, ['-e', `
          const fs = require('fs');
          for (let i = 0; i < ${n}; i++) { fs.renameSync(process.argv[1] + '/a', process.argv[1] + '/b'); fs.renameSync(process.argv[1] + '/b', process.argv[1] + '/a'); }`, d]);
        const exited = once(child, 'exit');
        const counts = { rename: 0, moved_from: 0, moved_to: 0 };
        let halves = 0;
        for await (const e of ino) {
          counts[e.type]++;
          halves += e.type === 'rename' ? 2 : 1;
          if (halves === 4 * n) break;
        }
        const [code] = await exited;
        assert.equal(code, 0);
        assert.equal(counts.moved_from, counts.moved_to, 'halves never joined come in pairs');
        // A half on either side of a read only splits if the renamer is preempted for
        // longer than the window between its two halves: rare, never lost.
        assert.ok(counts.rename >= 2 * n * 0.95, JSON.stringify(counts));
      } finally {
        ino.close();
      }
    });

    test('a move out that ends a read waits renameWindow milliseconds (not microseconds) for its move in', () => {
      // The two halves of one rename are queued microseconds apart, so which read
      // the second lands in is a race; the wait that wins it is what can be measured.
      const d = mkdir();
      fs.mkdirSync(`${d}/in`);
      fs.mkdirSync(`${d}/out`);
      for (const [window, ms] of [[5, 5], [undefined, 0.1]]) {
        fs.writeFileSync(`${d}/in/f`, '');
        const ino = new Inotify({ renameWindow: window, coalesce: 0 });
        try {
          ino.add(`${d}/in`, 'move');
          fs.renameSync(`${d}/in/f`, `${d}/out/f`);
          const t0 = process.hrtime.bigint();
          const events = ino.readEvents();
          const waited = Number(process.hrtime.bigint() - t0) / 1e6;
          assert.deepEqual(events.map((e) => e.type), ['moved_from']);
          assert.ok(waited >= ms, `renameWindow ${window}: waited ${waited} ms, expected at least ${ms}`);
        } finally {
          ino.close();
          fs.rmSync(`${d}/out/f`);
        }
      }
    });

    test('renameWindow is validated', () => {
      assert.throws(() => new Inotify({ renameWindow: -1 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new Inotify({ renameWindow: 11 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new Inotify({ renameWindow: NaN }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new Inotify({ renameWindow: '1' }), { code: 'ERR_INVALID_ARG_TYPE' });
      new Inotify({ renameWindow: 0 }).close();
    });
  });

  describe('coalescing reads during a burst', () => {
    test('after a read of several events, the next read waits `coalesce` ms; a lone event does not', async () => {
      const d = mkdir();
      const ino = new Inotify({ coalesce: 400 });
      try {
        ino.add(d, ['create']);
        const got = [];
        ino.on('event', (e) => got.push({ name: e.name, at: performance.now() }));
        for (let i = 0; i < 50; i++) fs.writeFileSync(`${d}/burst${i}`, '');
        while (got.length < 50) await new Promise((resolve) => setTimeout(resolve, 5));
        const afterBurst = performance.now();
        fs.writeFileSync(`${d}/during-pause`, '');
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(got.length, 50, 'nothing is read during the pause');
        while (got.length < 51) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.equal(got[50].name, 'during-pause');
        assert.ok(got[50].at - afterBurst >= 300, `read after the pause: ${got[50].at - afterBurst} ms`);
        // One event alone (the pause is over): no pause follows it.
        await new Promise((resolve) => setTimeout(resolve, 500));
        fs.writeFileSync(`${d}/lone1`, '');
        while (got.length < 52) await new Promise((resolve) => setTimeout(resolve, 5));
        fs.writeFileSync(`${d}/lone2`, '');
        const t = performance.now();
        while (got.length < 53) await new Promise((resolve) => setTimeout(resolve, 5));
        assert.ok(got[52].at - t < 300, 'a lone event is read at once');
      } finally {
        ino.close();
      }
    });

    test('coalesce: 0 reads every wake; a pause never keeps an unref\'d or closed object\'s process alive', () => {
      const code = `
        import fs from 'node:fs';
        import { Inotify } from ${JSON.stringify(BUTTER_ESM)};
        const d = fs.mkdtempSync(${JSON.stringify(path.join(tmp, 'coalesce-'))});
        const a = new Inotify({ coalesce: 1000 });
        a.add(d, ['create']);
        const b = new Inotify({ coalesce: 1000 });
        b.add(d, ['create']);
        let n = 0;
        a.on('event', () => { if (++n === 3) a.unref(); });
        b.on('event', () => b.close());
        for (let i = 0; i < 3; i++) fs.writeFileSync(d + '/f' + i, '');
        const t0 = performance.now();
        process.on('exit', () => { if (performance.now() - t0 > 800) { console.error('held by a pause'); process.exitCode = 1; } });
      `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, r.stderr);
      new Inotify({ coalesce: 0 }).close();
    });

    test('coalesce is validated', () => {
      assert.throws(() => new Inotify({ coalesce: -1 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new Inotify({ coalesce: 1001 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new Inotify({ coalesce: 0.5 }), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => new Inotify({ coalesce: '1' }), { code: 'ERR_INVALID_ARG_TYPE' });
    });
  });

  describe('retiring watches', () => {
    test('remove(): queued events dropped, one ignored event, idempotent', () => {
      const d = mkdir();
      const ino = new Inotify();
      try {
        const w = ino.add(d, ['create']);
        const other = ino.add(mkdir(), ['create']);
        fs.writeFileSync(`${d}/before`, '');
        fs.writeFileSync(`${other.path}/x`, '');
        w.remove();
        assert.equal(w.active, false);
        w.remove();
        assert.deepEqual(fdinfoWatches(ino.fd).map((x) => x.wd), [other.wd]);
        fs.writeFileSync(`${d}/after`, '');
        const events = ino.readEvents();
        assert.deepEqual(events.map((e) => [e.type, e.watch]), [['create', other], ['ignored', w]]);
        assert.equal(events[1].path, d);
        assert.deepEqual(ino.watches(), [other]);
        w.remove();
        assert.deepEqual(ino.readEvents(), []);
      } finally {
        ino.close();
      }
    });

    test('deleting the watched directory: delete_self, then ignored once', () => {
      const d = mkdir();
      const ino = new Inotify();
      try {
        const w = ino.add(d);
        fs.rmdirSync(d);
        const events = ino.readEvents();
        assert.deepEqual(events.map((e) => [e.type, e.watch, e.path, e.isDir]), [['delete_self', w, d, false], ['ignored', w, d, false]]);
        assert.equal(w.active, false);
        w.remove(); // nothing to do, and no error
        assert.deepEqual(ino.readEvents(), []);
      } finally {
        ino.close();
      }
    });

    test('oneshot: one event, then the watch is retired', () => {
      const d = mkdir();
      const ino = new Inotify();
      try {
        const w = ino.add(d, ['create'], { oneshot: true });
        fs.writeFileSync(`${d}/a`, '');
        fs.writeFileSync(`${d}/b`, '');
        assert.deepEqual(brief(ino.readEvents(), d), ['create:a', 'ignored:']);
        assert.equal(w.active, false);
        assert.notEqual(ino.add(d, ['create']), w, 'adding again makes a new watch');
      } finally {
        ino.close();
      }
    });

    test('a wd the kernel gives out again never reaches the old watch', (t) => {
      const ino = new Inotify();
      try {
        try {
          inotifySetNextWd(ino.fd, 1000);
        } catch (e) {
          assertSysError(e, 'ENOTTY', 'ioctl');
          t.skip('INOTIFY_IOC_SETNEXTWD needs CONFIG_CHECKPOINT_RESTORE');
          return;
        }
        // The kernel retires a deleted directory's watch at once and frees its wd,
        // while the IN_IGNORED saying so still waits in the queue.
        const a = mkdir();
        const wa = ino.add(a, ['create', 'delete_self']);
        fs.writeFileSync(`${a}/old`, '');
        fs.rmSync(a, { recursive: true });
        inotifySetNextWd(ino.fd, wa.wd);
        const b = mkdir();
        const wb = ino.add(b, ['create']);
        assert.equal(wb.wd, wa.wd, 'the same wd, given out again');
        assert.notEqual(wb, wa);
        assert.equal(wa.active, true, 'not known to be retired until its IN_IGNORED is read');
        wa.remove(); // must not remove wb's kernel watch, which has that wd now
        fs.writeFileSync(`${b}/new`, '');
        const events = ino.readEvents();
        assert.deepEqual(events.map((e) => [e.type, e.watch === wa ? 'a' : 'b', e.name]), [['ignored', 'a', null], ['create', 'b', 'new']]);
        assert.deepEqual(ino.watches(), [wb]);

        // The same after remove(): events queued for the old watch stay with it (dropped).
        fs.writeFileSync(`${b}/late`, '');
        wb.remove();
        inotifySetNextWd(ino.fd, wb.wd);
        const c = mkdir();
        const wc = ino.add(c, ['create']);
        assert.equal(wc.wd, wb.wd);
        fs.writeFileSync(`${c}/mine`, '');
        assert.deepEqual(ino.readEvents().map((e) => [e.type, e.watch === wc ? 'c' : 'b', e.name]), [['ignored', 'b', null], ['create', 'c', 'mine']]);
        // And adding that inode again finds wc, not a retired watch.
        assert.equal(ino.add(c, ['create', 'delete']), wc);
      } finally {
        ino.close();
      }
    });

    test('unmount: every watch on the file system gets unmount, then ignored', { skip: !MOUNTNS_PREFIX && NO_MOUNTNS }, () => {
      const r = runChild(
        `${CHILD_PRELUDE}
        import { spawnSync } from 'node:child_process';
        const d = fs.mkdtempSync(path.join(tmp, 'mnt'));
        assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', d]).status, 0, 'mount');
        fs.mkdirSync(d + '/sub');
        fs.writeFileSync(d + '/file', '');
        const ino = new Inotify();
        const watches = { root: ino.add(d, ['create']), sub: ino.add(d + '/sub', ['create']), file: ino.add(d + '/file', ['modify']) };
        const name = (w) => Object.keys(watches).find((k) => watches[k] === w);
        assert.equal(spawnSync('umount', [d]).status, 0, 'umount');
        const events = ino.readEvents().map((e) => [e.type, name(e.watch), e.isDir, e.path === e.watchPath]);
        console.log(JSON.stringify({ events, active: Object.values(watches).map((w) => w.active), left: ino.watches().length }));`,
        { prefix: MOUNTNS_PREFIX },
      );
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      const byWatch = (n) => out.events.filter((e) => e[1] === n);
      assert.deepEqual(byWatch('root'), [['unmount', 'root', true, true], ['ignored', 'root', false, true]]);
      assert.deepEqual(byWatch('sub'), [['unmount', 'sub', true, true], ['ignored', 'sub', false, true]]);
      assert.deepEqual(byWatch('file'), [['unmount', 'file', false, true], ['ignored', 'file', false, true]]);
      assert.equal(out.events.length, 6);
      assert.deepEqual(out.active, [false, false, false]);
      assert.equal(out.left, 0);
    });

    test('watches belong to their instance', () => {
      const d = mkdir();
      const one = new Inotify();
      const two = new Inotify();
      try {
        const w1 = one.add(d, ['create']);
        const w2 = two.add(d, ['create']);
        assert.equal(w1.wd, w2.wd, 'wds are per instance, and both start at 1');
        assert.notEqual(w1, w2);
        fs.writeFileSync(`${d}/f`, '');
        w1.remove();
        assert.deepEqual(one.readEvents().map((e) => [e.type, e.watch === w1]), [['ignored', true]]);
        assert.deepEqual(two.readEvents().map((e) => [e.type, e.watch === w2]), [['create', true]]);
        assert.equal(w2.active, true);
      } finally {
        one.close();
        two.close();
      }
    });

    test('close(): every watch retired, no ignored events, EBADF after', async () => {
      const d = mkdir();
      const ino = new Inotify();
      const w = ino.add(d);
      const pending = ino.read();
      const it = ino.events();
      const next = it.next();
      ino.close();
      assert.equal(w.active, false);
      w.remove();
      await assert.rejects(pending, (e) => assertSysError(e, 'EBADF', 'read'));
      assert.deepEqual(await next, { value: undefined, done: true });
      assert.throws(() => ino.add(d), (e) => assertSysError(e, 'EBADF', 'inotify_add_watch'));
      assert.throws(() => ino.readEvents(), (e) => assertSysError(e, 'EBADF', 'read'));
      assert.deepEqual(ino.watches(), []);
    });
  });

  test('watch.path can follow a move; later events use it', () => {
    const d = mkdir();
    fs.mkdirSync(`${d}/old`);
    const ino = new Inotify();
    try {
      ino.add(d, ['move']);
      const sub = ino.add(`${d}/old`, ['create', 'move_self']);
      fs.renameSync(`${d}/old`, `${d}/new`);
      const [rename, moveSelf] = ino.readEvents();
      assert.equal(rename.type, 'rename');
      assert.deepEqual([moveSelf.type, moveSelf.watch], ['move_self', sub]);
      sub.path = rename.path;
      fs.writeFileSync(`${d}/new/f`, '');
      const [ev] = ino.readEvents();
      assert.equal(ev.path, `${d}/new/f`);
      assert.equal(ev.watchPath, `${d}/new`);
      assert.throws(() => (sub.path = 5), { code: 'ERR_INVALID_ARG_TYPE', message: /^The "watch\.path" property must be of type string/ });
    } finally {
      ino.close();
    }
  });

  test('names that are not UTF-8: rawName holds the bytes', () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      ino.add(d, ['create', 'move']);
      const bad = Buffer.from([0x6e, 0xe9]);
      const badPath = Buffer.concat([Buffer.from(`${d}/`), bad]);
      fs.writeFileSync(badPath, '');
      fs.renameSync(badPath, `${d}/fine`);
      const [create, rename] = ino.readEvents();
      assert.deepEqual([create.name, create.rawName, create.path], ['n\uFFFD', bad, `${d}/n\uFFFD`]);
      assert.deepEqual([rename.oldRawName, rename.rawName, rename.name], [bad, undefined, 'fine']);
    } finally {
      ino.close();
    }
  });

  test('names decoded natively, one event per wake or many per read: the exact names, rawName when not UTF-8', async () => {
    const d = mkdir();
    const ino = new Inotify();
    const batch = new Inotify();
    const got = [];
    let wake;
    ino.on('event', (e) => {
      got.push(e);
      wake?.();
    });
    const next = () => new Promise((resolve) => (wake = resolve));
    try {
      ino.add(d, ['create', 'attrib']);
      const d2 = mkdir();
      batch.add(d2, ['create']);
      const names = [
        'plain',
        'é✓😀',
        '\uFFFD-real',
        [0x6e, 0xe9], // a lead byte with no continuation
        [0xc0, 0x80], // overlong NUL
        [0xe0, 0x80, 0xaf], // overlong '/'
        [0xed, 0xa0, 0x80], // a UTF-16 surrogate
        [0xf0, 0x90, 0x80, 0x80], // U+10000, the first 4-byte code point
        [0xf4, 0x8f, 0xbf, 0xbf], // U+10FFFF, the last
        [0xf0, 0x80, 0x80, 0x80], // overlong NUL in 4 bytes
        [0xf0, 0x8f, 0xbf, 0xbf], // overlong U+FFFF
        [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
        [0xf4, 0xbf, 0xbf, 0xbf], // further past it
        [0xf5, 0x80, 0x80, 0x80], // a lead byte no code point has
        [0xf8, 0x88, 0x80, 0x80, 0x80], // the old 5-byte form
        [0xfe, 0x41], // a byte that never is, then more
        [0xf0, 0x9f, 0x98, 0x41], // a 4-byte sequence cut short in the middle
        [0x78, 0xf0, 0x9f, 0x98], // and at the end
        [0xe2, 0x9c], // truncated at the end
        [0x80, 0x41], // a lone continuation byte
        [0xf0, 0x9f, 0x98, 0x80, 0xff], // valid, then a byte that never is
      ].map((n) => Buffer.from(n));
      for (const bytes of names) {
        const arrived = next();
        fs.writeFileSync(Buffer.concat([Buffer.from(`${d}/`), bytes]), '');
        await arrived;
      }
      const arrived = next();
      fs.chmodSync(d, 0o755); // an event on the watched directory itself: no name
      await arrived;
      assert.equal(got.length, names.length + 1);
      names.forEach((bytes, i) => {
        const name = bytes.toString('utf8');
        const rawName = Buffer.from(name).equals(bytes) ? undefined : bytes;
        assert.deepEqual([got[i].type, got[i].name, got[i].rawName, got[i].path], ['create', name, rawName, `${d}/${name}`], `name ${i}`);
      });
      assert.deepEqual([got[names.length].type, got[names.length].name, got[names.length].path], ['attrib', null, d]);

      for (const bytes of names) fs.writeFileSync(Buffer.concat([Buffer.from(`${d2}/`), bytes]), '');
      const many = batch.readEvents(); // one read of all the records
      assert.deepEqual(
        many.map((e) => [e.name, e.rawName]),
        got.slice(0, names.length).map((e) => [e.name, e.rawName]),
      );
    } finally {
      ino.close();
      batch.close();
    }
  });

  test('queue overflow: an overflow event after exactly max_queued_events events', async () => {
    const max = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    assert.ok(max > 0 && max <= 1 << 20, `max_queued_events = ${max}`);
    const d = mkdir();
    fs.writeFileSync(`${d}/f`, '');
    const ino = new Inotify();
    try {
      ino.add(d, ['open', 'close_nowrite']);
      assert.equal(ino.overflows, 0);
      // A writer in another process while nobody reads; open and close alternate,
      // so the kernel cannot merge one event into the one before.
      const child = spawn(process.execPath, ['-e', `
        const fs = require('fs');
        for (let i = 0; i < ${Math.ceil(max / 2) + 100}; i++) fs.closeSync(fs.openSync(process.argv[1], 'r'));`, `${d}/f`]);
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
      let before = 0;
      let overflow;
      for await (const e of ino) {
        if (e.type === 'overflow') {
          overflow = e;
          break;
        }
        before++;
      }
      assert.equal(before, max);
      assert.deepEqual(overflow, {
        type: 'overflow', mask: C.IN_Q_OVERFLOW, names: ['q_overflow'], isDir: false, cookie: 0,
        watch: null, watchPath: null, name: null, rawName: undefined, path: null,
      });
      assert.equal(ino.overflows, 1);
      assert.deepEqual(ino.readEvents(), [], 'the rest was lost, and said so');
      fs.writeFileSync(`${d}/g`, '');
      fs.readFileSync(`${d}/g`);
      assert.deepEqual(brief(ino.readEvents(), d), ['open:g', 'close_nowrite:g'], 'events flow again');
    } finally {
      ino.close();
    }
  });

  test('async consumers: read(), for await, listeners', async () => {
    const d = mkdir();
    const ino = new Inotify();
    try {
      ino.add(d, ['create']);
      const first = ino.read();
      setTimeout(() => fs.writeFileSync(`${d}/one`, ''), 5);
      assert.equal((await first).name, 'one');
      fs.writeFileSync(`${d}/two`, '');
      fs.writeFileSync(`${d}/three`, '');
      const got = [];
      for await (const e of ino) {
        got.push(e.name);
        if (got.length === 2) break;
      }
      assert.deepEqual(got, ['two', 'three']);
      const seen = [];
      const listener = (e) => {
        seen.push(e.name);
        if (seen.length === 2) ino.off('event', listener);
      };
      ino.on('event', listener);
      fs.writeFileSync(`${d}/four`, '');
      fs.writeFileSync(`${d}/five`, '');
      while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(seen, ['four', 'five']);
    } finally {
      ino.close();
    }
  });

  test('an idle Inotify does not keep the process alive; a pending read does', () => {
    const idle = runChild(`
      import { Inotify } from ${JSON.stringify(BUTTER_ESM)};
      globalThis.keep = new Inotify();
      globalThis.keep.add('/tmp', ['create']);
      console.log('done');`);
    assert.equal(idle.status, 0, idle.stderr);
    assert.equal(idle.stdout.trim(), 'done');
    const waiting = runChild(`
      import { Inotify } from ${JSON.stringify(BUTTER_ESM)};
      import fs from 'node:fs';
      const d = fs.mkdtempSync('/tmp/butter-inotify-live-');
      const ino = new Inotify();
      ino.add(d, ['create']);
      ino.read().then((e) => { console.log(e.name); ino.close(); fs.rmSync(d, { recursive: true }); });
      setTimeout(() => fs.writeFileSync(d + '/late', ''), 100).unref();`);
    assert.equal(waiting.status, 0, waiting.stderr);
    assert.equal(waiting.stdout.trim(), 'late');
  });

  test('bad arguments are refused', () => {
    const d = mkdir();
    assert.throws(() => new Inotify(1), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Inotify({ joinRenames: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
    const ino = new Inotify();
    try {
      assert.throws(() => ino.add(d, ['create', 'nope']), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => ino.add(d, 'CREATE'), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => ino.add(d, { create: true }), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ino.add(d, 2 ** 32), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => ino.add(d, 'create', 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
      for (const key of ['onlyDir', 'followSymlinks', 'excludeUnlinked', 'oneshot', 'maskAdd', 'maskCreate']) {
        assert.throws(() => ino.add(d, 'create', { [key]: 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: new RegExp(`"options\\.${key}" property`) });
      }
      assert.throws(() => ino.add(`${d}\0`), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.throws(() => ino.add(null), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.deepEqual(ino.watches(), [], 'nothing was added');
    } finally {
      ino.close();
    }
  });
});
