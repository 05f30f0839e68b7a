// fanotify: the 1:1 calls and the event parser, against what the kernel emits.
//
// Safety: no mark is ever placed on a filesystem or mount of this machine: every
// test that marks runs in a child with a private tmpfs (support/private-tmpfs.mjs).
// No permission event (FAN_*_PERM) is used here (fanotify-object.test.mjs answers
// them). Calls in this process only create groups, or fail validation.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  fanotifyInit,
  fanotifyMark,
  fanotifyRead,
  fanotifyQueued,
  fanotifyCloseEvents,
  parseFanotifyEvents,
  fanotifyMaskNames,
  constants as C,
} from 'butter';
import { nobodyUnavailable, NOBODY } from './support/nobody.mjs';
import { assertSysError } from './support/errors.mjs';
import { BUTTER_ESM, isRoot, noNamespace, inPrivateTmpfs } from './support/private-tmpfs.mjs';


describe('constants', () => {
  test('every FAN_* of <linux/fanotify.h> is exported with the header value', () => {
    const header = fs.readFileSync('/usr/include/linux/fanotify.h', 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\\\n/g, ' ');
    let checked = 0;
    for (const [, name, expr] of header.matchAll(/^#define\s+(FAN_\w+|FANOTIFY_\w+)\s+(.+)$/gm)) {
      if (name === 'FAN_EVENT_NEXT' || name === 'FAN_EVENT_OK') continue; // function-like helpers
      let value;
      if (name === 'FAN_EVENT_METADATA_LEN') value = 24;
      else value = Function('C', `return ${expr.replace(/\b(FAN_\w+)\b/g, 'C.$1')};`)(C);
      assert.equal(C[name], value, name);
      checked++;
    }
    assert.ok(checked > 70, `checked ${checked}`);
    // Newer than this header, from the kernel's ABI.
    assert.equal(C.FAN_PRE_ACCESS, 0x00100000);
    assert.equal(C.FAN_REPORT_FD_ERROR, 0x00002000);
    assert.equal(C.FAN_EVENT_INFO_TYPE_RANGE, 6);
    assert.equal(C.FAN_EVENT_INFO_TYPE_MNT, 7);
    assert.equal(C.FAN_NOFD, -1);
    assert.equal(C.FAN_EPIDFD, -2);
  });
});

describe('fanotifyInit', { skip: !isRoot && 'needs CAP_SYS_ADMIN' }, () => {
  test('defaults: non-blocking, close-on-exec group; event fds read-only and close-on-exec', () => {
    const fd = fanotifyInit();
    try {
      const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const flags = parseInt(/^flags:\s*(\d+)/m.exec(info)[1], 8);
      assert.ok(flags & fs.constants.O_NONBLOCK, 'O_NONBLOCK');
      assert.ok(flags & 0o2000000, 'O_CLOEXEC');
      const m = /fanotify flags:([0-9a-f]+) event-flags:([0-9a-f]+)/.exec(info);
      assert.equal(parseInt(m[1], 16), C.FAN_CLOEXEC | C.FAN_NONBLOCK | C.FAN_CLASS_NOTIF);
      const eventFlags = parseInt(m[2], 16);
      assert.equal(eventFlags & 3, fs.constants.O_RDONLY);
      assert.ok(eventFlags & C.O_CLOEXEC, 'event fds are O_CLOEXEC');
      assertSysError(catchErr(() => fanotifyRead(fd)), 'EAGAIN', 'read');
      assert.equal(fanotifyQueued(fd), 0);
    } finally {
      fs.closeSync(fd);
    }
  });

  test('EINVAL: unknown flags, FID reporting with a content class, PIDFD with TID', () => {
    assertSysError(catchErr(() => fanotifyInit(0x80000000)), 'EINVAL', 'fanotify_init');
    assertSysError(catchErr(() => fanotifyInit(C.FAN_CLASS_CONTENT | C.FAN_REPORT_FID)), 'EINVAL', 'fanotify_init');
    assertSysError(catchErr(() => fanotifyInit(C.FAN_CLASS_NOTIF | C.FAN_REPORT_PIDFD | C.FAN_REPORT_TID)), 'EINVAL', 'fanotify_init');
    // FAN_REPORT_NAME needs FAN_REPORT_DIR_FID.
    assertSysError(catchErr(() => fanotifyInit(C.FAN_REPORT_NAME)), 'EINVAL', 'fanotify_init');
  });

  test('EPERM: without CAP_SYS_ADMIN, except a FID notification group', { skip: nobodyUnavailable }, () => {
    const code = `
      import * as B from ${JSON.stringify(BUTTER_ESM)};
      const out = {};
      try { B.fanotifyInit(); } catch (e) { out.plain = { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message }; }
      try { B.fanotifyInit(B.constants.FAN_REPORT_FID | B.constants.FAN_UNLIMITED_QUEUE); } catch (e) { out.unlimited = e.code; }
      const fd = B.fanotifyInit(B.constants.FAN_CLOEXEC | B.constants.FAN_NONBLOCK | B.constants.FAN_REPORT_FID);
      out.fid = fd >= 0;
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertSysError(out.plain, 'EPERM', 'fanotify_init');
    assert.equal(out.unlimited, 'EPERM');
    assert.equal(out.fid, true, 'an unprivileged FID notification group is allowed (Linux 5.13+)');
  });
});

function catchErr(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('did not throw');
}

describe('events on a private tmpfs', { skip: noNamespace }, () => {
  test('FAN_OPEN, FAN_MODIFY, FAN_CLOSE_WRITE: the acting pid and the event fd', () => {
    const r = inPrivateTmpfs(`
      const fd = B.fanotifyInit();
      B.fanotifyMark(fd, C.FAN_MARK_ADD | C.FAN_MARK_MOUNT, C.FAN_OPEN | C.FAN_MODIFY | C.FAN_CLOSE_WRITE, undefined, mnt);
      const w = spawnSync('sh', ['-c', 'echo hello > "$0"', mnt + '/file']);
      result.writer = w.pid;
      result.queued = B.fanotifyQueued(fd);
      const events = B.fanotifyRead(fd);
      result.events = events.map((e) => ({
        mask: e.mask, names: B.fanotifyMaskNames(e.mask), pid: e.pid, fd: e.fd, info: e.info,
        path: fs.readlinkSync('/proc/self/fd/' + e.fd),
        flags: parseInt(/^flags:\\s*(\\d+)/m.exec(fs.readFileSync('/proc/self/fdinfo/' + e.fd, 'utf8'))[1], 8),
        // Read through the event fd itself: reopening /proc/self/fd/N would be a new FAN_OPEN.
        content: (() => { const b = Buffer.alloc(64); return b.toString('utf8', 0, fs.readSync(e.fd, b, 0, 64, 0)); })(),
      }));
      const fds = events.map((e) => e.fd);
      B.fanotifyCloseEvents(events);
      result.afterClose = events.map((e) => e.fd);
      result.stillOpen = fds.filter((n) => fs.existsSync('/proc/self/fd/' + n) && fs.readlinkSync('/proc/self/fd/' + n).startsWith(mnt));
      B.fanotifyCloseEvents(events); // a second call closes nothing
      result.again = errorOf(() => B.fanotifyRead(fd));
      // Our own reads of the event fds (FMODE_NONOTIFY) produce no events.
      fs.closeSync(fd);
    `);
    assert.ok(r.queued >= 24);
    assert.ok(r.events.length >= 1);
    let seen = 0;
    for (const e of r.events) {
      assert.equal(e.pid, r.writer, 'the shell that wrote is the acting process');
      assert.ok(e.fd >= 0);
      assert.match(e.path, /\/butter-fanotify-[^/]+\/file$/);
      assert.equal(e.flags & 3, fs.constants.O_RDONLY);
      assert.ok(e.flags & 0o2000000, 'event fd is O_CLOEXEC');
      assert.equal(e.content, 'hello\n');
      assert.deepEqual(e.info, []);
      seen |= e.mask;
    }
    // The kernel merges the events of one file that are still queued into one record.
    assert.equal(seen, C.FAN_OPEN | C.FAN_MODIFY | C.FAN_CLOSE_WRITE);
    assert.deepEqual(fanotifyMaskNames(seen), ['modify', 'close_write', 'open']);
    assert.deepEqual(r.afterClose, r.events.map(() => C.FAN_NOFD));
    assert.deepEqual(r.stillOpen, []);
    assertSysError(r.again, 'EAGAIN', 'read');
  });

  test('FAN_REPORT_PIDFD: a pidfd for the acting process, closed with the event', () => {
    const r = inPrivateTmpfs(`
      const fd = B.fanotifyInit(C.FAN_CLOEXEC | C.FAN_NONBLOCK | C.FAN_REPORT_PIDFD);
      fs.writeFileSync(mnt + '/f', 'x');
      B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, mnt + '/f');
      fs.readFileSync(mnt + '/f');
      const events = B.fanotifyRead(fd);
      result.pid = process.pid;
      result.events = events.map((e) => ({ pid: e.pid, info: e.info.map((i) => ({ ...i })),
        pidfdPid: /^Pid:\\s*(\\d+)/m.exec(fs.readFileSync('/proc/self/fdinfo/' + e.info[0].pidfd, 'utf8'))?.[1] }));
      const pidfd = events[0].info[0].pidfd;
      B.fanotifyCloseEvents(events);
      result.pidfdAfter = events[0].info[0].pidfd;
      result.pidfdOpen = fs.existsSync('/proc/self/fd/' + pidfd) && fs.readlinkSync('/proc/self/fd/' + pidfd) === 'anon_inode:[pidfd]';
      fs.closeSync(fd);
    `);
    assert.equal(r.events.length, 1);
    const [e] = r.events;
    assert.equal(e.pid, r.pid);
    assert.equal(e.info.length, 1);
    assert.equal(e.info[0].type, 'pidfd');
    assert.equal(e.info[0].infoType, C.FAN_EVENT_INFO_TYPE_PIDFD);
    assert.ok(e.info[0].pidfd >= 0);
    assert.equal(Number(e.pidfdPid), r.pid);
    assert.equal(r.pidfdAfter, C.FAN_NOFD);
    assert.equal(r.pidfdOpen, false);
  });

  test('FAN_REPORT_DFID_NAME: create, delete, moves and FAN_RENAME with names and file handles', () => {
    const r = inPrivateTmpfs(`
      const fd = B.fanotifyInit(C.FAN_CLOEXEC | C.FAN_NONBLOCK | C.FAN_REPORT_DFID_NAME);
      fs.mkdirSync(mnt + '/a');
      fs.mkdirSync(mnt + '/b');
      B.fanotifyMark(fd, C.FAN_MARK_ADD | C.FAN_MARK_FILESYSTEM,
        C.FAN_CREATE | C.FAN_DELETE | C.FAN_MOVED_FROM | C.FAN_MOVED_TO | C.FAN_RENAME | C.FAN_ONDIR, undefined, mnt);
      const step = (name, f) => { f(); result[name] = B.fanotifyRead(fd).map((e) => ({ ...e, names: B.fanotifyMaskNames(e.mask),
        info: e.info.map((i) => ({ ...i, handle: i.handle.toString('hex'), fileHandle: i.fileHandle.toString('hex') })) })); };
      step('create', () => fs.writeFileSync(mnt + '/a/new', ''));
      step('mkdir', () => fs.mkdirSync(mnt + '/a/sub'));
      step('rename', () => fs.renameSync(mnt + '/a/new', mnt + '/b/moved'));
      step('unlink', () => fs.unlinkSync(mnt + '/b/moved'));
      step('rmdir', () => fs.rmdirSync(mnt + '/a/sub'));
      fs.writeFileSync(Buffer.concat([Buffer.from(mnt + '/a/'), Buffer.from([0xff, 0x41])]), '');
      result.raw = B.fanotifyRead(fd).map((e) => e.info.map((i) => ({ name: i.name, rawName: i.rawName?.toString('hex') })));
      // One event is larger than 24 bytes: a read too small for it fails.
      fs.writeFileSync(mnt + '/a/x', '');
      result.small = errorOf(() => B.fanotifyRead(fd, 24));
      result.smallThenOk = B.fanotifyRead(fd).length;
      fs.closeSync(fd);
    `);
    const one = (events, names, infos) => {
      assert.equal(events.length, 1, JSON.stringify(events));
      const [e] = events;
      assert.deepEqual(e.names, names);
      assert.equal(e.fd, C.FAN_NOFD);
      assert.ok(e.pid > 0);
      assert.deepEqual(e.info.map((i) => [i.type, i.name]), infos);
      for (const i of e.info) {
        assert.equal(i.fsid.length, 2);
        assert.ok(i.handle.length > 0);
        assert.equal(i.fileHandle.length, i.handle.length + 16, 'handle_bytes and handle_type precede f_handle');
        assert.equal(Buffer.from(i.fileHandle, 'hex').readUInt32LE(0), i.handle.length / 2);
        assert.equal(Buffer.from(i.fileHandle, 'hex').readInt32LE(4), i.handleType);
      }
      return e;
    };
    const create = one(r.create, ['create'], [['dfid_name', 'new']]);
    one(r.mkdir, ['create', 'ondir'], [['dfid_name', 'sub']]);
    // A rename across directories: FAN_MOVED_FROM and FAN_MOVED_TO are separate events, FAN_RENAME carries both ends.
    assert.equal(r.rename.length, 3, JSON.stringify(r.rename));
    const [from, rename, to] = [
      r.rename.find((e) => e.names.includes('moved_from')),
      r.rename.find((e) => e.names.includes('rename')),
      r.rename.find((e) => e.names.includes('moved_to')),
    ];
    assert.deepEqual(from.info.map((i) => [i.type, i.name]), [['dfid_name', 'new']]);
    assert.deepEqual(to.info.map((i) => [i.type, i.name]), [['dfid_name', 'moved']]);
    assert.deepEqual(rename.info.map((i) => [i.type, i.name, i.infoType]), [
      ['old_dfid_name', 'new', C.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME],
      ['new_dfid_name', 'moved', C.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME],
    ]);
    // The same directory has the same handle; another directory another.
    assert.equal(from.info[0].handle, create.info[0].handle);
    assert.equal(rename.info[0].handle, create.info[0].handle);
    assert.notEqual(to.info[0].handle, create.info[0].handle);
    assert.equal(rename.info[1].handle, to.info[0].handle);
    assert.deepEqual(to.info[0].fsid, create.info[0].fsid);
    one(r.unlink, ['delete'], [['dfid_name', 'moved']]);
    one(r.rmdir, ['delete', 'ondir'], [['dfid_name', 'sub']]);
    assert.deepEqual(r.raw, [[{ name: '\uFFFDA', rawName: 'ff41' }]]);
    assertSysError(r.small, 'EINVAL', 'read');
    assert.equal(r.smallThenOk, 1, 'the event stays queued after EINVAL');
  });

  test('FAN_REPORT_FID: an inode mark reports the file itself, with no name and no fd', () => {
    const r = inPrivateTmpfs(`
      const fd = B.fanotifyInit(C.FAN_CLOEXEC | C.FAN_NONBLOCK | C.FAN_REPORT_FID);
      fs.writeFileSync(mnt + '/f', '');
      B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_MODIFY | C.FAN_ATTRIB | C.FAN_DELETE_SELF, undefined, mnt + '/f');
      fs.appendFileSync(mnt + '/f', 'x');
      fs.chmodSync(mnt + '/f', 0o600);
      fs.unlinkSync(mnt + '/f');
      result.events = B.fanotifyRead(fd).map((e) => ({ names: B.fanotifyMaskNames(e.mask), fd: e.fd, info: e.info.map((i) => [i.type, i.name, i.handle.length]) }));
      fs.closeSync(fd);
    `);
    const seen = new Set(r.events.flatMap((e) => e.names));
    for (const n of ['modify', 'attrib', 'delete_self']) assert.ok(seen.has(n), `${n} in ${[...seen]}`);
    for (const e of r.events) {
      assert.equal(e.fd, C.FAN_NOFD);
      assert.equal(e.info.length, 1);
      assert.equal(e.info[0][0], 'fid');
      assert.equal(e.info[0][1], null);
      assert.ok(e.info[0][2] > 0);
    }
  });

  test('fanotify_mark errors: ENOENT, ENOTDIR, EBADF, EINVAL, EEXIST, EOPNOTSUPP', () => {
    const r = inPrivateTmpfs(`
      const fd = B.fanotifyInit();
      fs.writeFileSync(mnt + '/file', '');
      fs.mkdirSync(mnt + '/dir');
      fs.writeFileSync(mnt + '/dir/inner', '');
      result.mnt = mnt;
      result.enoent = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, mnt + '/missing'));
      result.enoentRemove = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_REMOVE, C.FAN_OPEN, undefined, mnt + '/dir'));
      result.enotdir = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD | C.FAN_MARK_ONLYDIR, C.FAN_OPEN, undefined, mnt + '/file'));
      result.ebadf = errorOf(() => B.fanotifyMark(2 ** 31 - 1, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, mnt + '/file'));
      const dirfd = fs.openSync(mnt + '/dir', 'r');
      const filefd = fs.openSync(mnt + '/file', 'r');
      result.ebadfDirfd = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_OPEN, 2 ** 31 - 1, 'file'));
      result.enotdirDirfd = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_OPEN, filefd, 'x'));
      result.einvalNotFanotify = errorOf(() => B.fanotifyMark(filefd, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, mnt + '/file'));
      result.einvalAddRemove = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD | C.FAN_MARK_REMOVE, C.FAN_OPEN, undefined, mnt + '/file'));
      result.einvalDirent = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_CREATE, undefined, mnt + '/dir'));
      result.einvalHighBit = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD, 1n << 40n, undefined, mnt + '/file'));
      // Relative to dirfd, and dirfd itself with a null path.
      B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_OPEN, dirfd, 'inner');
      B.fanotifyMark(fd, C.FAN_MARK_ADD, C.FAN_OPEN | C.FAN_ONDIR, dirfd, null);
      result.fdinfoMarks = fs.readFileSync('/proc/self/fdinfo/' + fd, 'utf8').split('\\n').filter((l) => l.startsWith('fanotify ino:')).length;
      result.eexist = errorOf(() => B.fanotifyMark(fd, C.FAN_MARK_ADD | C.FAN_MARK_EVICTABLE, C.FAN_OPEN, dirfd, 'inner'));
      B.fanotifyMark(fd, C.FAN_MARK_REMOVE, C.FAN_OPEN, dirfd, 'inner');
      B.fanotifyMark(fd, C.FAN_MARK_FLUSH, 0, undefined, null);
      result.afterFlush = fs.readFileSync('/proc/self/fdinfo/' + fd, 'utf8').split('\\n').filter((l) => l.startsWith('fanotify ino:')).length;
      // A filesystem without file handle support refuses whole-filesystem FID marks.
      fs.mkdirSync(mnt + '/ram');
      execFileSync('mount', ['-t', 'ramfs', 'butter-fanotify-ramfs', mnt + '/ram']);
      const fid = B.fanotifyInit(C.FAN_CLOEXEC | C.FAN_NONBLOCK | C.FAN_REPORT_FID);
      result.eopnotsupp = errorOf(() => B.fanotifyMark(fid, C.FAN_MARK_ADD | C.FAN_MARK_FILESYSTEM, C.FAN_OPEN, undefined, mnt + '/ram'));
      fs.closeSync(fid);
      fs.closeSync(dirfd);
      fs.closeSync(filefd);
      fs.closeSync(fd);
      execFileSync('umount', [mnt + '/ram']);
    `);
    const m = r.mnt;
    assertSysError(r.enoent, 'ENOENT', 'fanotify_mark', `${m}/missing`);
    assertSysError(r.enoentRemove, 'ENOENT', 'fanotify_mark', `${m}/dir`);
    assertSysError(r.enotdir, 'ENOTDIR', 'fanotify_mark', `${m}/file`);
    assertSysError(r.ebadf, 'EBADF', 'fanotify_mark', `${m}/file`);
    assertSysError(r.ebadfDirfd, 'EBADF', 'fanotify_mark', 'file');
    assertSysError(r.enotdirDirfd, 'ENOTDIR', 'fanotify_mark', 'x');
    assertSysError(r.einvalNotFanotify, 'EINVAL', 'fanotify_mark', `${m}/file`);
    assertSysError(r.einvalAddRemove, 'EINVAL', 'fanotify_mark', `${m}/file`);
    assertSysError(r.einvalDirent, 'EINVAL', 'fanotify_mark', `${m}/dir`);
    assertSysError(r.einvalHighBit, 'EINVAL', 'fanotify_mark', `${m}/file`);
    assert.equal(r.fdinfoMarks, 2);
    assertSysError(r.eexist, 'EEXIST', 'fanotify_mark', 'inner');
    assert.equal(r.afterFlush, 0);
    assertSysError(r.eopnotsupp, 'ENOTSUP', 'fanotify_mark', `${m}/ram`);
  });
});

describe('bad arguments are refused before any syscall', () => {
  // An fd that cannot be open: were validation to let a call through, the kernel would say EBADF, and mark nothing.
  const BAD_FD = 2 ** 31 - 1;
  const argError = (f, code, name) =>
    assert.throws(f, (e) => {
      assert.equal(e.code, code, e.message);
      assert.ok(e.message.includes(`"${name}"`) || e.message.includes(`'${name}'`), e.message);
      return true;
    });

  test('fanotifyInit', () => {
    argError(() => fanotifyInit('1'), 'ERR_INVALID_ARG_TYPE', 'flags');
    argError(() => fanotifyInit(1.5), 'ERR_OUT_OF_RANGE', 'flags');
    argError(() => fanotifyInit(2 ** 32), 'ERR_OUT_OF_RANGE', 'flags');
    argError(() => fanotifyInit(0, 1n), 'ERR_INVALID_ARG_TYPE', 'eventFFlags');
  });

  test('fanotifyMark', () => {
    argError(() => fanotifyMark('3', C.FAN_MARK_ADD, C.FAN_OPEN, undefined, '/x'), 'ERR_INVALID_ARG_TYPE', 'fd');
    argError(() => fanotifyMark(-1, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, '/x'), 'ERR_OUT_OF_RANGE', 'fd');
    argError(() => fanotifyMark(BAD_FD, null, C.FAN_OPEN, undefined, '/x'), 'ERR_INVALID_ARG_TYPE', 'flags');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, 'open', undefined, '/x'), 'ERR_INVALID_ARG_TYPE', 'mask');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, 1.5, undefined, '/x'), 'ERR_OUT_OF_RANGE', 'mask');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, -1n, undefined, '/x'), 'ERR_OUT_OF_RANGE', 'mask');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, 1n << 64n, undefined, '/x'), 'ERR_OUT_OF_RANGE', 'mask');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, C.FAN_OPEN, '3', '/x'), 'ERR_INVALID_ARG_TYPE', 'dirfd');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, C.FAN_OPEN, 2 ** 31, '/x'), 'ERR_OUT_OF_RANGE', 'dirfd');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, 42), 'ERR_INVALID_ARG_TYPE', 'path');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, '/x\0y'), 'ERR_INVALID_ARG_VALUE', 'path');
    argError(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, Buffer.from('/x\0')), 'ERR_INVALID_ARG_VALUE', 'path');
    assert.throws(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, C.FAN_OPEN, undefined, new URL('http://x/')), { code: 'ERR_INVALID_URL_SCHEME' });
    // Valid: reaches the kernel, which refuses the fd. Numbers, bigints and negative int32 masks are all accepted.
    // The kernel checks flags and mask before the fd: bit 31 (no FAN_* event) is EINVAL, so it arrived as 0x80000000.
    for (const [mask, code] of [[C.FAN_OPEN, 'EBADF'], [BigInt(C.FAN_OPEN), 'EBADF'], [C.FAN_OPEN | 0x80000000, 'EINVAL']]) {
      assertSysError(catchErr(() => fanotifyMark(BAD_FD, C.FAN_MARK_ADD, mask, undefined, new URL('file:///x'))), code, 'fanotify_mark', '/x');
    }
  });

  test('fanotifyRead, fanotifyQueued, fanotifyCloseEvents, fanotifyMaskNames', () => {
    argError(() => fanotifyRead(-1), 'ERR_OUT_OF_RANGE', 'fd');
    argError(() => fanotifyRead(BAD_FD, 23), 'ERR_OUT_OF_RANGE', 'size');
    argError(() => fanotifyRead(BAD_FD, 2 ** 21), 'ERR_OUT_OF_RANGE', 'size');
    assertSysError(catchErr(() => fanotifyRead(BAD_FD)), 'EBADF', 'read');
    argError(() => fanotifyQueued('x'), 'ERR_INVALID_ARG_TYPE', 'fd');
    argError(() => fanotifyCloseEvents('x'), 'ERR_INVALID_ARG_TYPE', 'events');
    argError(() => fanotifyMaskNames('x'), 'ERR_INVALID_ARG_TYPE', 'mask');
    assert.deepEqual(fanotifyMaskNames(C.FAN_CLOSE | C.FAN_ONDIR | C.FAN_Q_OVERFLOW), ['close_write', 'close_nowrite', 'q_overflow', 'ondir']);
    assert.deepEqual(fanotifyMaskNames(0n), []);
  });
});

// ---- the parser, on bytes built here ----

/** fanotify_event_metadata + info records, native (little-endian) order. */
function event({ mask = 0, fd = -1, pid = 1, vers = C.FANOTIFY_METADATA_VERSION, metaLen = 24 } = {}, ...records) {
  const body = Buffer.concat(records);
  const b = Buffer.alloc(Math.max(metaLen, 24));
  b.writeUInt32LE(b.length + body.length, 0);
  b[4] = vers;
  b.writeUInt16LE(metaLen, 6);
  b.writeBigUInt64LE(BigInt(mask), 8);
  b.writeInt32LE(fd, 16);
  b.writeInt32LE(pid, 20);
  return Buffer.concat([b, body]);
}
function record(type, payload) {
  const len = 4 + payload.length;
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16LE(len, 2);
  return Buffer.concat([h, payload]);
}
function fid(type, handle, name) {
  const fsid = Buffer.alloc(8);
  fsid.writeUInt32LE(0xdeadbeef, 0);
  fsid.writeUInt32LE(7, 4);
  const fh = Buffer.alloc(8);
  fh.writeUInt32LE(handle.length, 0);
  fh.writeInt32LE(0x81, 4);
  let tail = Buffer.concat([fsid, fh, handle, name === undefined ? Buffer.alloc(0) : Buffer.from(`${name}\0`)]);
  tail = Buffer.concat([tail, Buffer.alloc((4 - ((tail.length + 4) % 4)) % 4)]);
  return record(type, tail);
}

describe('parseFanotifyEvents', () => {
  test('every info record type, unknown ones skipped, in order', () => {
    const range = Buffer.alloc(20);
    range.writeBigUInt64LE(4096n, 4);
    range.writeBigUInt64LE(2n ** 40n, 12);
    const mnt = Buffer.alloc(12);
    mnt.writeBigUInt64LE(0x1_0000_0042n, 4);
    const error = Buffer.alloc(8);
    error.writeInt32LE(5, 0);
    error.writeUInt32LE(3, 4);
    const pidfd = Buffer.alloc(4);
    pidfd.writeInt32LE(-2, 0);
    const buf = Buffer.concat([
      event(
        { mask: C.FAN_RENAME | C.FAN_ONDIR, pid: 42 },
        fid(C.FAN_EVENT_INFO_TYPE_OLD_DFID_NAME, Buffer.from('aabbccdd', 'hex'), 'old'),
        record(99, Buffer.from('future!!')),
        fid(C.FAN_EVENT_INFO_TYPE_NEW_DFID_NAME, Buffer.from('11223344', 'hex'), 'new'),
        fid(C.FAN_EVENT_INFO_TYPE_FID, Buffer.from('0102030405060708', 'hex')),
        fid(C.FAN_EVENT_INFO_TYPE_DFID_NAME, Buffer.from('0a0b0c0d', 'hex'), '.'),
        fid(C.FAN_EVENT_INFO_TYPE_DFID, Buffer.from('0a0b0c0d', 'hex')),
        record(C.FAN_EVENT_INFO_TYPE_PIDFD, pidfd),
      ),
      event({ mask: C.FAN_FS_ERROR, pid: 0 }, record(C.FAN_EVENT_INFO_TYPE_ERROR, error)),
      event({ mask: C.FAN_PRE_ACCESS, fd: 7 }, record(C.FAN_EVENT_INFO_TYPE_RANGE, range)),
      event({ mask: C.FAN_MNT_ATTACH }, record(C.FAN_EVENT_INFO_TYPE_MNT, mnt)),
      event({ mask: 2 ** 40 + C.FAN_Q_OVERFLOW }),
    ]);
    const events = parseFanotifyEvents(buf);
    assert.equal(events.length, 5);
    const [rename, err, pre, attach, overflow] = events;
    assert.equal(rename.mask, C.FAN_RENAME | C.FAN_ONDIR);
    assert.equal(rename.pid, 42);
    assert.equal(rename.fd, C.FAN_NOFD);
    assert.deepEqual(rename.info.map((i) => i.type), ['old_dfid_name', 'new_dfid_name', 'fid', 'dfid_name', 'dfid', 'pidfd']);
    const [o, n, f, dot, d, p] = rename.info;
    assert.deepEqual(o.fsid, [0xdeadbeef, 7]);
    assert.equal(o.handleType, 0x81);
    assert.equal(o.handle.toString('hex'), 'aabbccdd');
    assert.equal(o.fileHandle.toString('hex'), '04000000' + '81000000' + 'aabbccdd');
    assert.equal(o.name, 'old');
    assert.equal(o.rawName, undefined);
    assert.equal(n.name, 'new');
    assert.equal(f.name, null);
    assert.equal(f.handle.length, 8);
    assert.equal(dot.name, null, '"." names the directory itself');
    assert.equal(d.name, null);
    assert.deepEqual(p, { type: 'pidfd', infoType: C.FAN_EVENT_INFO_TYPE_PIDFD, pidfd: C.FAN_EPIDFD });
    assert.deepEqual(err.info, [{ type: 'error', infoType: C.FAN_EVENT_INFO_TYPE_ERROR, error: 5, errorCount: 3 }]);
    assert.equal(pre.fd, 7);
    assert.deepEqual(pre.info, [{ type: 'range', infoType: C.FAN_EVENT_INFO_TYPE_RANGE, offset: 4096n, count: 2n ** 40n }]);
    assert.deepEqual(attach.info, [{ type: 'mnt', infoType: C.FAN_EVENT_INFO_TYPE_MNT, mntId: 0x1_0000_0042n }]);
    assert.equal(overflow.mask, 2 ** 40 + C.FAN_Q_OVERFLOW, 'high mask bits are kept');
    assert.deepEqual(overflow.info, []);
    // A length prefix parses the events it covers; an unaligned view parses the same.
    assert.equal(parseFanotifyEvents(buf, buf.length - 24).length, 4);
    const shifted = Buffer.concat([Buffer.alloc(1), buf]).subarray(1);
    assert.deepEqual(parseFanotifyEvents(shifted), events);
    assert.deepEqual(parseFanotifyEvents(Buffer.alloc(0)), []);
  });

  test('a longer metadata_len is stepped over', () => {
    const [e] = parseFanotifyEvents(event({ mask: C.FAN_OPEN, fd: 3, metaLen: 32 }, fid(C.FAN_EVENT_INFO_TYPE_FID, Buffer.from('00', 'hex'))));
    assert.equal(e.fd, 3);
    assert.equal(e.info[0].handle.toString('hex'), '00');
  });

  test('refuses another metadata version and inconsistent lengths', () => {
    const bad = (buf, re) => assert.throws(() => parseFanotifyEvents(buf), (e) => e.code === 'ERR_INVALID_ARG_VALUE' && re.test(e.message));
    bad(event({ vers: 2 }), /metadata version 2/);
    bad(event().subarray(0, 20), /truncated fanotify_event_metadata record at offset 0/);
    bad(Buffer.concat([event(), event().subarray(0, 23)]), /at offset 24/);
    bad(event({ metaLen: 16 }), /inconsistent lengths/);
    const long = event({}, record(1, Buffer.alloc(0)));
    long.writeUInt32LE(1000, 0);
    bad(long, /inconsistent lengths/);
    const zero = event({}, record(99, Buffer.alloc(4)));
    zero.writeUInt16LE(0, 24 + 2);
    bad(zero, /impossible length/);
    const over = event({}, record(99, Buffer.alloc(4)));
    over.writeUInt16LE(12, 24 + 2);
    bad(over, /impossible length/);
    bad(event({}, record(C.FAN_EVENT_INFO_TYPE_FID, Buffer.alloc(8))), /truncated fanotify_event_info_fid/);
    const handle = event({}, fid(C.FAN_EVENT_INFO_TYPE_FID, Buffer.alloc(4)));
    handle.writeUInt32LE(100, 24 + 12);
    bad(handle, /file handle longer than its record/);
    bad(event({}, record(C.FAN_EVENT_INFO_TYPE_PIDFD, Buffer.alloc(0))), /truncated fanotify_event_info_pidfd/);
    bad(event({}, record(C.FAN_EVENT_INFO_TYPE_RANGE, Buffer.alloc(4))), /truncated fanotify_event_info_range/);
    assert.throws(() => parseFanotifyEvents('x'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => parseFanotifyEvents(Buffer.alloc(4), 5), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('fanotifyCloseEvents closes fds >= 0 once, never FAN_NOFD or negative errnos', () => {
    const a = fs.openSync('/dev/null', 'r');
    const b = fs.openSync('/dev/null', 'r');
    const events = [
      { mask: 1, fd: a, pid: 1, info: [{ type: 'pidfd', infoType: 4, pidfd: b }] },
      { mask: 1, fd: C.FAN_NOFD, pid: 1, info: [{ type: 'pidfd', infoType: 4, pidfd: C.FAN_EPIDFD }] },
      { mask: 1, fd: -13, pid: 1, info: [] },
    ];
    fanotifyCloseEvents(events);
    assert.throws(() => fs.fstatSync(a), { code: 'EBADF' });
    assert.throws(() => fs.fstatSync(b), { code: 'EBADF' });
    assert.deepEqual(events.map((e) => e.fd), [C.FAN_NOFD, C.FAN_NOFD, -13]);
    assert.deepEqual(events.map((e) => e.info[0]?.pidfd), [C.FAN_NOFD, C.FAN_EPIDFD, undefined]);
    // A number reused after the close is not closed by a second call.
    const c = fs.openSync('/dev/null', 'r');
    try {
      fanotifyCloseEvents(events);
      fs.fstatSync(c);
    } finally {
      fs.closeSync(c);
    }
  });
});
