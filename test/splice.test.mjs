// Zero-copy I/O, 1:1: splice, tee, vmsplice, sendfile, copy_file_range, pipe2
// and the pipe-size fcntls; their synchronous forms and their Promise forms
// (promises.*), every errno that can be provoked here, and argument errors.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { splice, tee, vmsplice, sendfile, copyFileRange, pipe2, getPipeSize, setPipeSize, promises, constants as C } from 'butter';
import { assertSysError } from './support/errors.mjs';
import { fdinfo, root } from './support/child.mjs';
import { NOBODY, nobodyUnavailable } from './support/nobody.mjs';
import { closedAfter, scratchDir } from './support/fds.mjs';

const dir = scratchDir('splice');

const opened = closedAfter();
const track = (...fds) => (opened.push(...fds), fds);

let files = 0;
/** A new file with `content`, open read-write; the file position is 0. */
function file(content = '') {
  const p = path.join(dir, `f${files++}`);
  fs.writeFileSync(p, content);
  const [fd] = track(fs.openSync(p, 'r+'));
  return { fd, p };
}
/** A pipe, non-blocking (Butter's default) unless flags say otherwise. */
const pipe = (flags) => track(...(flags === undefined ? pipe2() : pipe2(flags)));
const blockingPipe = () => pipe(C.O_CLOEXEC);
const readAll = (fd, n = 65536) => {
  const buf = Buffer.alloc(n);
  const got = fs.readSync(fd, buf, 0, n, null);
  return buf.subarray(0, got).toString();
};
/** Where the file position is: write one byte there (position null), see where it landed. */
function position(fd, p) {
  const before = fs.readFileSync(p);
  fs.writeSync(fd, '#');
  const after = fs.readFileSync(p);
  for (let i = 0; i < after.length; i++) if (before[i] !== after[i]) return i;
  return after.length - 1;
}

describe('pipe2 and the pipe sizes', () => {
  test('pipe2 defaults to a non-blocking, close-on-exec pair; flags are passed as given', () => {
    const [r, w] = pipe();
    for (const fd of [r, w]) {
      const flags = parseInt(fdinfo(fd).flags, 8);
      assert.ok(flags & C.O_NONBLOCK, 'O_NONBLOCK');
      assert.ok(flags & C.O_CLOEXEC, 'O_CLOEXEC');
    }
    fs.writeSync(w, 'ping');
    assert.equal(readAll(r), 'ping');
    const [r2] = pipe(C.O_CLOEXEC);
    assert.equal(parseInt(fdinfo(r2).flags, 8) & C.O_NONBLOCK, 0, 'blocking when O_NONBLOCK is not given');
  });

  test('O_DIRECT makes a packet pipe: one read returns one write', () => {
    const [r, w] = pipe(C.O_DIRECT | C.O_NONBLOCK | C.O_CLOEXEC);
    fs.writeSync(w, 'ab');
    fs.writeSync(w, 'cd');
    assert.equal(readAll(r), 'ab');
    assert.equal(readAll(r), 'cd');
  });

  test('O_NOTIFICATION_PIPE: a notification pipe, or ENOPKG without CONFIG_WATCH_QUEUE', () => {
    let fds;
    try {
      fds = track(...pipe2(C.O_NOTIFICATION_PIPE | C.O_CLOEXEC));
    } catch (e) {
      // Node's errno table has no ENOPKG (65): the name and text come from glibc.
      assert.deepEqual({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, message: e.message },
        { name: 'Error', code: 'ENOPKG', errno: -65, syscall: 'pipe2', message: 'ENOPKG: package not installed, pipe2' });
      return;
    }
    assert.throws(() => fs.writeSync(fds[1], 'x'), { code: 'EXDEV' }); // a notification pipe takes no writes
  });

  test('pipe2: unknown flags give EINVAL', () => {
    assert.throws(() => pipe2(0x40000000), (e) => assertSysError(e, 'EINVAL', 'pipe2'));
  });

  test('getPipeSize/setPipeSize: the capacity, rounded up to a power of two pages', () => {
    const [r, w] = pipe();
    assert.equal(getPipeSize(r), 65536);
    assert.equal(setPipeSize(w, 100_000), 131072);
    assert.equal(getPipeSize(r), 131072, 'one pipe: both ends see it');
    assert.equal(setPipeSize(r, 1), 4096);
  });

  test('setPipeSize below what the pipe holds gives EBUSY; on a non-pipe EBADF', () => {
    const [, w] = pipe();
    fs.writeSync(w, Buffer.alloc(60_000));
    assert.throws(() => setPipeSize(w, 4096), (e) => assertSysError(e, 'EBUSY', 'fcntl'));
    const { fd } = file();
    assert.throws(() => getPipeSize(fd), (e) => assertSysError(e, 'EBADF', 'fcntl'));
    assert.throws(() => setPipeSize(fd, 4096), (e) => assertSysError(e, 'EBADF', 'fcntl'));
  });

  test('setPipeSize above /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE gives EPERM', { skip: nobodyUnavailable }, () => {
    const max = Number(fs.readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
    const r = spawnSync(process.execPath, ['-e', `
      const b = require('butter');
      try { b.setPipeSize(b.pipe2()[1], ${max * 2}); } catch (e) { process.stdout.write(JSON.stringify({ name: e.name, code: e.code, syscall: e.syscall, errno: e.errno, message: e.message })); }`],
    { cwd: root, uid: NOBODY, gid: NOBODY, encoding: 'utf8', timeout: 20_000 });
    assertSysError(JSON.parse(r.stdout), 'EPERM', 'fcntl');
  });
});

describe('splice', () => {
  test('pipe -> file at an offset: the kernel advances the offset returned, the file position does not move', () => {
    const [r, w] = pipe();
    const { fd, p } = file('0123456789');
    fs.writeSync(w, 'abc');
    assert.deepEqual(splice(r, null, fd, 4n, 100), { bytes: 3, offIn: null, offOut: 7n });
    assert.equal(fs.readFileSync(p, 'utf8'), '0123abc789');
    assert.equal(position(fd, p), 0, 'the file position is still 0');
  });

  test('file -> pipe at an offset leaves the position; with null it reads from and moves the position', () => {
    const [r, w] = pipe();
    const { fd, p } = file('0123456789');
    assert.deepEqual(splice(fd, 6n, w, null, 2), { bytes: 2, offIn: 8n, offOut: null });
    assert.equal(readAll(r), '67');
    assert.deepEqual(splice(fd, null, w, null, 3), { bytes: 3, offIn: null, offOut: null });
    assert.deepEqual(splice(fd, null, w, null, 3), { bytes: 3, offIn: null, offOut: null });
    assert.equal(readAll(r), '012345');
    assert.equal(position(fd, p), 6, 'null offsets moved the position by what was read');
    assert.deepEqual(splice(fd, 100n, w, null, 3), { bytes: 0, offIn: 100n, offOut: null }, 'past the end: 0, end of input');
  });

  test('pipe -> pipe with every flag; SPLICE_F_NONBLOCK makes blocking pipes give EAGAIN', () => {
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    fs.writeSync(w1, 'data');
    assert.deepEqual(splice(r1, null, w2, null, 100, C.SPLICE_F_MOVE | C.SPLICE_F_MORE | C.SPLICE_F_NONBLOCK | C.SPLICE_F_GIFT), { bytes: 4, offIn: null, offOut: null });
    assert.equal(readAll(r2), 'data');
    const [br, bw] = blockingPipe();
    const [, bw2] = blockingPipe();
    assert.throws(() => splice(br, null, bw2, null, 1, C.SPLICE_F_NONBLOCK), (e) => assertSysError(e, 'EAGAIN', 'splice'));
    assert.ok(bw);
  });

  test('EAGAIN from an empty or a full non-blocking pipe', () => {
    const [r] = pipe();
    const { fd } = file();
    assert.throws(() => splice(r, null, fd, 0n, 10), (e) => assertSysError(e, 'EAGAIN', 'splice'));
    const [r2, w2] = pipe();
    const [, wFull] = pipe();
    fs.writeSync(wFull, Buffer.alloc(65536));
    fs.writeSync(w2, 'x');
    assert.throws(() => splice(r2, null, wFull, null, 1), (e) => assertSysError(e, 'EAGAIN', 'splice'));
  });

  test('EINVAL file -> file, ESPIPE offset on a pipe, EINVAL a pipe to itself', () => {
    const a = file('abc');
    const b = file();
    assert.throws(() => splice(a.fd, 0n, b.fd, 0n, 3), (e) => assertSysError(e, 'EINVAL', 'splice'));
    const [r, w] = pipe();
    fs.writeSync(w, 'x');
    assert.throws(() => splice(r, 0n, b.fd, 0n, 1), (e) => assertSysError(e, 'ESPIPE', 'splice'));
    assert.throws(() => splice(a.fd, 0n, w, 0n, 1), (e) => assertSysError(e, 'ESPIPE', 'splice'));
    assert.throws(() => splice(r, null, w, null, 1), (e) => assertSysError(e, 'EINVAL', 'splice'));
  });

  test('EBADF: a closed fd, or an end opened the wrong way', () => {
    const [r, w] = pipe();
    const { fd } = file();
    const closed = fs.openSync(os.devNull, 'r');
    fs.closeSync(closed);
    assert.throws(() => splice(closed, null, w, null, 1), (e) => assertSysError(e, 'EBADF', 'splice'));
    assert.throws(() => splice(w, null, fd, 0n, 1), (e) => assertSysError(e, 'EBADF', 'splice'));
    const ro = track(fs.openSync(file().p, 'r'))[0];
    fs.writeSync(w, 'x');
    assert.throws(() => splice(r, null, ro, 0n, 1), (e) => assertSysError(e, 'EBADF', 'splice'));
  });

  test('EINVAL when the output offset would pass what loff_t holds', () => {
    const [r, w] = pipe();
    const { fd } = file();
    fs.writeSync(w, 'xy');
    assert.throws(() => splice(r, null, fd, 2n ** 63n - 1n, 2), (e) => assertSysError(e, 'EINVAL', 'splice'));
  });
});

describe('tee', () => {
  test('copies a pipe into another without consuming it', () => {
    const [r1, w1] = pipe();
    const [r2, w2] = pipe();
    fs.writeSync(w1, 'twice');
    assert.equal(tee(r1, w2, 100), 5);
    assert.equal(readAll(r2), 'twice');
    assert.equal(readAll(r1), 'twice', 'still in the first pipe');
    fs.writeSync(w1, 'abcdef');
    assert.equal(tee(r1, w2, 3, C.SPLICE_F_NONBLOCK | C.SPLICE_F_MOVE | C.SPLICE_F_MORE), 3);
    assert.equal(readAll(r2), 'abc');
  });

  test('EINVAL to a non-pipe or a pipe to itself; EAGAIN when empty; EBADF', () => {
    const [r, w] = pipe();
    const [, w2] = pipe();
    const { fd } = file();
    assert.throws(() => tee(r, w2, 1), (e) => assertSysError(e, 'EAGAIN', 'tee'));
    fs.writeSync(w, 'x');
    assert.throws(() => tee(r, fd, 1), (e) => assertSysError(e, 'EINVAL', 'tee'));
    assert.throws(() => tee(r, w, 1), (e) => assertSysError(e, 'EINVAL', 'tee'));
    assert.throws(() => tee(w, w2, 1), (e) => assertSysError(e, 'EBADF', 'tee'));
  });
});

describe('vmsplice', () => {
  test('puts buffers into a pipe; every view type; reads into buffers from the read end', () => {
    const [r, w] = pipe();
    assert.equal(vmsplice(w, [Buffer.from('ab'), new Uint16Array([0x6463]), new DataView(new Uint8Array([0x65]).buffer)]), 5);
    assert.equal(readAll(r), 'abcde');
    fs.writeSync(w, 'hello');
    const into = Buffer.alloc(3);
    assert.equal(vmsplice(r, into), 3);
    assert.equal(into.toString(), 'hel');
  });

  test('the pipe refers to the buffer\'s pages: changing the buffer before the read changes what is read, with SPLICE_F_GIFT or not', () => {
    for (const flags of [C.SPLICE_F_NONBLOCK, C.SPLICE_F_NONBLOCK | C.SPLICE_F_GIFT]) {
      const [r, w] = pipe();
      // A page of its own, page-aligned, as SPLICE_F_GIFT asks.
      const page = Buffer.from(new ArrayBuffer(8192)).subarray(0, 4096);
      const buf = page.byteOffset % 4096 === 0 ? page : Buffer.alloc(4096);
      buf.fill('A');
      assert.equal(vmsplice(w, buf, flags), 4096);
      buf.fill('B');
      assert.equal(readAll(r, 4096), 'B'.repeat(4096), `flags ${flags}`);
    }
  });

  test('ignores O_NONBLOCK: the default flags are SPLICE_F_NONBLOCK, so a full pipe gives EAGAIN', () => {
    const [, w] = pipe();
    fs.writeSync(w, Buffer.alloc(65536));
    assert.throws(() => vmsplice(w, Buffer.from('x')), (e) => assertSysError(e, 'EAGAIN', 'vmsplice'));
    const [r2] = pipe();
    assert.throws(() => vmsplice(r2, Buffer.alloc(1)), (e) => assertSysError(e, 'EAGAIN', 'vmsplice'));
  });

  test('EBADF on a non-pipe or closed fd', () => {
    const { fd } = file();
    assert.throws(() => vmsplice(fd, Buffer.from('x')), (e) => assertSysError(e, 'EBADF', 'vmsplice'));
  });
});

describe('sendfile', () => {
  test('file -> pipe at an offset: the offset advances, the position does not; null moves the position', () => {
    const [r, w] = pipe();
    const { fd, p } = file('0123456789');
    assert.deepEqual(sendfile(w, fd, 3n, 4), { bytes: 4, offset: 7n });
    assert.equal(readAll(r), '3456');
    assert.equal(position(fd, p), 0);
    const f2 = file('abcdef');
    assert.deepEqual(sendfile(w, f2.fd, null, 4), { bytes: 4, offset: null });
    assert.equal(readAll(r), 'abcd');
    assert.equal(position(f2.fd, f2.p), 4);
  });

  test('file -> file', () => {
    const a = file('copy me');
    const b = file();
    assert.deepEqual(sendfile(b.fd, a.fd, 0n, 100), { bytes: 7, offset: 7n });
    assert.equal(fs.readFileSync(b.p, 'utf8'), 'copy me');
  });

  test('EINVAL from a pipe (6.18 still refuses it), EAGAIN to a full pipe, EBADF', () => {
    const [r, w] = pipe();
    const b = file();
    fs.writeSync(w, 'xyz');
    assert.throws(() => sendfile(b.fd, r, null, 3), (e) => assertSysError(e, 'EINVAL', 'sendfile'));
    const [, wFull] = pipe();
    fs.writeSync(wFull, Buffer.alloc(65536));
    const a = file('abc');
    assert.throws(() => sendfile(wFull, a.fd, 0n, 3), (e) => assertSysError(e, 'EAGAIN', 'sendfile'));
    assert.throws(() => sendfile(w, a.fd + 1000, 0n, 3), (e) => assertSysError(e, 'EBADF', 'sendfile'));
  });

  test('EINVAL when the offset would pass what loff_t holds', () => {
    const [, w] = pipe();
    const a = file('abc');
    assert.throws(() => sendfile(w, a.fd, 2n ** 63n - 2n, 5), (e) => assertSysError(e, 'EINVAL', 'sendfile'));
  });
});

describe('copyFileRange', () => {
  test('copies between files at offsets; the offsets advance and the positions do not move', () => {
    const a = file('0123456789');
    const b = file('----------');
    assert.deepEqual(copyFileRange(a.fd, 2n, b.fd, 5n, 3), { bytes: 3, offIn: 5n, offOut: 8n });
    assert.equal(fs.readFileSync(b.p, 'utf8'), '-----234--');
    assert.equal(position(a.fd, a.p), 0);
    assert.equal(position(b.fd, b.p), 0);
    const c = file('xyz');
    const d = file();
    assert.deepEqual(copyFileRange(c.fd, null, d.fd, null, 2), { bytes: 2, offIn: null, offOut: null });
    assert.equal(position(c.fd, c.p), 2, 'null offsets move the positions');
  });

  test('within one file: EINVAL when the ranges overlap, fine when they do not', () => {
    const a = file('abcdefghij');
    assert.throws(() => copyFileRange(a.fd, 0n, a.fd, 2n, 5), (e) => assertSysError(e, 'EINVAL', 'copy_file_range'));
    assert.deepEqual(copyFileRange(a.fd, 0n, a.fd, 20n, 5), { bytes: 5, offIn: 5n, offOut: 25n });
  });

  test('EINVAL for flags or a pipe, EISDIR, EBADF for a read-only or append-only output, EFBIG past the limit', () => {
    const a = file('abc');
    const b = file();
    assert.throws(() => copyFileRange(a.fd, 0n, b.fd, 0n, 3, 1), (e) => assertSysError(e, 'EINVAL', 'copy_file_range'));
    const [, w] = pipe();
    assert.throws(() => copyFileRange(a.fd, 0n, w, null, 3), (e) => assertSysError(e, 'EINVAL', 'copy_file_range'));
    const [d] = track(fs.openSync(dir, 'r'));
    assert.throws(() => copyFileRange(d, 0n, b.fd, 0n, 3), (e) => assertSysError(e, 'EISDIR', 'copy_file_range'));
    const [ro] = track(fs.openSync(b.p, 'r'));
    assert.throws(() => copyFileRange(a.fd, 0n, ro, 0n, 3), (e) => assertSysError(e, 'EBADF', 'copy_file_range'));
    const [ap] = track(fs.openSync(b.p, 'a'));
    assert.throws(() => copyFileRange(a.fd, 0n, ap, null, 3), (e) => assertSysError(e, 'EBADF', 'copy_file_range'));
    assert.throws(() => copyFileRange(a.fd, 0n, b.fd, 2n ** 63n - 2n, 3), (e) => assertSysError(e, 'EFBIG', 'copy_file_range'));
  });

  test('EXDEV across filesystems that cannot copy between each other (tmpfs to another filesystem)', (t) => {
    const a = file('abc');
    if (fs.statSync('/dev/shm').dev === fs.statSync(a.p).dev) return t.skip('/dev/shm is the temp directory\'s filesystem');
    const p = fs.mkdtempSync('/dev/shm/butter-splice-');
    try {
      const [s] = track(fs.openSync(path.join(p, 'x'), 'w+'));
      assert.throws(() => copyFileRange(a.fd, 0n, s, 0n, 3), (e) => assertSysError(e, 'EXDEV', 'copy_file_range'));
    } finally {
      fs.rmSync(p, { recursive: true });
    }
  });
});

describe('the Promise forms', () => {
  test('each call runs off the loop on blocking fds and returns what the synchronous form returns', async () => {
    const [r, w] = blockingPipe();
    const { fd, p } = file('0123456789');
    const moved = promises.splice(r, null, fd, 2n, 100);
    setTimeout(() => fs.writeSync(w, 'ab'), 20); // the loop runs while the splice waits
    assert.deepEqual(await moved, { bytes: 2, offIn: null, offOut: 4n });
    assert.equal(fs.readFileSync(p, 'utf8'), '01ab456789');

    const [r2, w2] = blockingPipe();
    fs.writeSync(w, 'tee!');
    assert.equal(await promises.tee(r, w2, 10), 4);
    assert.equal(readAll(r2), 'tee!');
    assert.equal(await promises.vmsplice(w2, [Buffer.from('vm'), Buffer.from('splice')]), 8);
    assert.equal(readAll(r2), 'vmsplice');
    assert.deepEqual(await promises.sendfile(w2, fd, 5n, 3), { bytes: 3, offset: 8n });
    assert.equal(readAll(r2), '567');
    const b = file();
    assert.deepEqual(await promises.copyFileRange(fd, 0n, b.fd, 1n, 4), { bytes: 4, offIn: 4n, offOut: 5n });
    assert.equal(fs.readFileSync(b.p, 'utf8'), '\0' + '01ab');
    assert.equal(position(fd, p), 0, 'no call moved the position: each had an offset');
  });

  test('system errors reject with the same fs-shaped error', async () => {
    const a = file('abc');
    const b = file();
    await assert.rejects(promises.splice(a.fd, 0n, b.fd, 0n, 3), (e) => assertSysError(e, 'EINVAL', 'splice'));
    const [r, w] = pipe();
    await assert.rejects(promises.tee(r, a.fd, 1), (e) => assertSysError(e, 'EINVAL', 'tee'));
    fs.writeSync(w, 'x');
    await assert.rejects(promises.sendfile(b.fd, r, null, 1), (e) => assertSysError(e, 'EINVAL', 'sendfile'));
    await assert.rejects(promises.copyFileRange(a.fd, 0n, a.fd, 1n, 2), (e) => assertSysError(e, 'EINVAL', 'copy_file_range'));
    await assert.rejects(promises.vmsplice(a.fd, Buffer.from('x')), (e) => assertSysError(e, 'EBADF', 'vmsplice'));
    const closed = fs.openSync(os.devNull, 'r');
    fs.closeSync(closed);
    await assert.rejects(promises.splice(closed, null, w, null, 1), (e) => assertSysError(e, 'EBADF', 'splice'));
  });
});

describe('argument errors', () => {
  const [r, w] = pipe2();
  after(() => (fs.closeSync(r), fs.closeSync(w)));
  const cases = [
    ['fdIn', () => splice('0', null, w, null, 1), 'ERR_INVALID_ARG_TYPE'],
    ['fdIn', () => splice(-1, null, w, null, 1), 'ERR_OUT_OF_RANGE'],
    ['offIn', () => splice(r, 'x', w, null, 1), 'ERR_INVALID_ARG_TYPE'],
    ['offIn', () => splice(r, -1n, w, null, 1), 'ERR_OUT_OF_RANGE'],
    ['offOut', () => splice(r, null, w, 2n ** 63n, 1), 'ERR_OUT_OF_RANGE'],
    ['len', () => splice(r, null, w, null, -1), 'ERR_OUT_OF_RANGE'],
    ['len', () => tee(r, w, 1.5), 'ERR_OUT_OF_RANGE'],
    ['len', () => tee(r, w, 1n), 'ERR_INVALID_ARG_TYPE'],
    ['flags', () => tee(r, w, 1, 2 ** 32), 'ERR_OUT_OF_RANGE'],
    ['buffers', () => vmsplice(w, 'text'), 'ERR_INVALID_ARG_TYPE'],
    ['buffers[1]', () => vmsplice(w, [Buffer.alloc(1), null]), 'ERR_INVALID_ARG_TYPE'],
    ['offset', () => sendfile(w, r, 1.5, 1), 'ERR_OUT_OF_RANGE'],
    ['count', () => sendfile(w, r, null, '1'), 'ERR_INVALID_ARG_TYPE'],
    ['offOut', () => copyFileRange(r, null, w, {}, 1), 'ERR_INVALID_ARG_TYPE'],
    ['flags', () => pipe2('x'), 'ERR_INVALID_ARG_TYPE'],
    ['size', () => setPipeSize(w, -1), 'ERR_OUT_OF_RANGE'],
    ['fd', () => getPipeSize(null), 'ERR_INVALID_ARG_TYPE'],
  ];
  for (const [name, call, code] of cases) {
    test(`${name}: ${code} (${call.toString().slice(6)})`, () => {
      assert.throws(call, (e) => e.code === code && e.message.includes(`"${name}"`));
    });
  }

  test('the Promise forms reject with the same errors, as fs.promises does', async () => {
    await assert.rejects(promises.splice('0', null, w, null, 1), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(promises.tee(r, w, -1), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(promises.vmsplice(w, 5), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(promises.sendfile(w, r, -5n, 1), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(promises.copyFileRange(r, null, w, null, 1, 0, { signal: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(promises.splice(r, null, w, null, 1, 0, 'options'), { code: 'ERR_INVALID_ARG_TYPE' });
    // An option they do not know (a typo of signal) is refused, as every options object in Butter is.
    await assert.rejects(promises.tee(r, w, 1, 0, { sigal: AbortSignal.timeout(10) }), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});
