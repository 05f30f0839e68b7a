// io_uring: IoUring's requests on files, processes, futexes and other rings
// (openat2, xattrs, poll and timeout removes and updates, link timeouts,
// registered-file updates, pipe, waitid, futexes, msgRing), with the errnos
// each can give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { IoUring, ioUringSetup, ioUringPrep, ioUringEnter, ioUringReap, ioUringRegister, pipe2, constants as C } from 'butter';
import { assertSysError } from './support/errors.mjs';
import { runChild } from './support/child.mjs';
import { closeAfterTests, closedAfter, scratchDir } from './support/fds.mjs';

const dir = scratchDir('io-uring-ops');
const opened = closedAfter();
const track = (fd) => (opened.push(fd), fd);
const keep = closeAfterTests();
const ring = (options) => keep(new IoUring(options));
let files = 0;
function file(content = '') {
  const p = path.join(dir, `f${files++}`);
  fs.writeFileSync(p, content);
  return { p, fd: track(fs.openSync(p, 'r+')) };
}
/** Whether an fd is close-on-exec (O_CLOEXEC in /proc's fdinfo flags, in octal). */
const cloexec = (fd) => (parseInt(/flags:\s+([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8) & 0o2000000) !== 0;
const rejects = (promise, code, syscall, p, extra) => assert.rejects(promise, (err) => assertSysError(err, code, syscall, p, extra));

test('nop: a result injected (IORING_NOP_INJECT_RESULT) is what it resolves with, or the errno it rejects with', async () => {
  const io = ring();
  assert.equal(await io.nop({ result: 42 }), 42);
  await rejects(io.nop({ result: -2 }), 'ENOENT', 'nop');
  // A failure injected into a chain cancels the rest of it.
  const failed = io.nop({ result: -5, link: true });
  const rest = io.nop();
  await rejects(failed, 'EIO', 'nop');
  await rejects(rest, 'ECANCELED', 'nop');
  assert.equal(await io.nop(), undefined);
  assert.throws(() => io.nop({ result: 2 ** 31 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => io.nop({ result: 1, count: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('madvise: advice on the pages inside a buffer, which keep their contents; advice that would drop them is refused', async () => {
  const io = ring();
  const buf = Buffer.alloc(1 << 16, 7);
  await io.madvise(buf, C.MADV_WILLNEED);
  await io.madvise(buf.subarray(100), C.MADV_PAGEOUT);
  await io.madvise(new Uint32Array(buf.buffer, buf.byteOffset + 4, 8000), C.MADV_COLD);
  await io.madvise(buf, C.MADV_POPULATE_WRITE);
  assert.ok(buf.every((b) => b === 7));
  await rejects(io.madvise(Buffer.alloc(16), C.MADV_NORMAL), 'EINVAL', 'madvise');
  assert.throws(() => io.madvise(buf, 4 /* MADV_DONTNEED */), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => io.madvise(buf, 8 /* MADV_FREE */), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => io.madvise('buf', C.MADV_NORMAL), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('openat2: flags, mode and RESOLVE_* flags; errors name the path', async () => {
  const io = ring();
  const { p } = file('openat2');
  const fd = track(await io.openat2(null, p));
  assert.equal(fs.readFileSync(fd, 'utf8'), 'openat2');
  assert.ok(fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith(path.basename(p)));
  assert.equal(cloexec(fd), true, 'O_CLOEXEC added');
  const created = path.join(dir, 'created');
  const cfd = track(await io.openat2(null, created, { flags: fs.constants.O_CREAT | fs.constants.O_WRONLY, mode: 0o600 }));
  assert.equal(fs.fstatSync(cfd).mode & 0o777, 0o600 & ~process.umask());
  // RESOLVE_BENEATH: '..' out of the directory is refused (EXDEV), as is an absolute path.
  const dfd = track(fs.openSync(dir, 'r'));
  await rejects(io.openat2(dfd, '../x', { resolve: C.RESOLVE_BENEATH }), 'EXDEV', 'openat2', '../x');
  fs.symlinkSync(p, path.join(dir, 'link'));
  await rejects(io.openat2(dfd, 'link', { resolve: C.RESOLVE_NO_SYMLINKS }), 'ELOOP', 'openat2', 'link');
  track(await io.openat2(dfd, 'link'));
  await rejects(io.openat2(null, path.join(dir, 'missing')), 'ENOENT', 'openat2', path.join(dir, 'missing'));
  // A mode without O_CREAT is the kernel's EINVAL; unknown option keys are refused before anything is queued.
  await rejects(io.openat2(null, p, { mode: 0o600 }), 'EINVAL', 'openat2', p);
  assert.throws(() => io.openat2(null, p, { flag: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => io.openat2(null, p, { resolve: -1 }), { code: 'ERR_OUT_OF_RANGE' });
});

test('xattrs: setxattr/getxattr by path, fsetxattr/fgetxattr by fd, and their errnos (ENODATA, EEXIST, ERANGE, ENOENT, EBADF)', async () => {
  const io = ring();
  const { p, fd } = file();
  await io.setxattr(p, 'user.butter', 'by path');
  assert.equal((await io.getxattr(p, 'user.butter')).toString(), 'by path');
  await io.fsetxattr(fd, 'user.fd', Buffer.from([1, 2, 3]));
  assert.deepEqual([...(await io.fgetxattr(fd, 'user.fd'))], [1, 2, 3]);
  assert.deepEqual([...(await io.getxattr(p, 'user.fd', { size: 3 }))], [1, 2, 3]);
  await rejects(io.getxattr(p, 'user.fd', { size: 2 }), 'ERANGE', 'getxattr', p);
  await rejects(io.getxattr(p, 'user.missing'), 'ENODATA', 'getxattr', p);
  await rejects(io.fgetxattr(fd, 'user.missing'), 'ENODATA', 'fgetxattr');
  await rejects(io.setxattr(p, 'user.butter', 'again', C.XATTR_CREATE), 'EEXIST', 'setxattr', p);
  await rejects(io.fsetxattr(fd, 'user.other', 'x', C.XATTR_REPLACE), 'ENODATA', 'fsetxattr');
  await io.setxattr(p, 'user.butter', 'replaced', C.XATTR_REPLACE);
  assert.equal((await io.fgetxattr(fd, 'user.butter')).toString(), 'replaced');
  const missing = path.join(dir, 'missing');
  await rejects(io.getxattr(missing, 'user.butter'), 'ENOENT', 'getxattr', missing);
  await rejects(io.setxattr(missing, 'user.butter', 'x'), 'ENOENT', 'setxattr', missing);
  const closed = fs.openSync(p, 'r');
  fs.closeSync(closed);
  await rejects(io.fgetxattr(closed, 'user.butter'), 'EBADF', 'fgetxattr');
  assert.throws(() => io.getxattr(p, ''), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => io.getxattr(p, 'user.a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => io.setxattr(p, 42, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => io.getxattr(p, 'user.x', { size: 65537 }), { code: 'ERR_OUT_OF_RANGE' });
});

test('pollRemove and pollUpdate act on a pollAdd in flight; on one that is over they reject with ENOENT', async () => {
  const io = ring();
  const [r, w] = pipe2();
  track(r);
  track(w);
  const POLLIN = 1;
  const POLLOUT = 4;
  const polled = io.pollAdd(r, POLLIN);
  await io.pollRemove(polled);
  await rejects(polled, 'ECANCELED', 'poll');
  await rejects(io.pollRemove(polled), 'ENOENT', 'poll_remove');
  // A poll for POLLIN on the write end never comes; updated to POLLOUT, it completes.
  const waiting = io.pollAdd(w, POLLIN);
  await io.nop();
  await io.pollUpdate(waiting, POLLOUT);
  assert.equal(await waiting, POLLOUT);
  await rejects(io.pollUpdate(waiting, POLLIN), 'ENOENT', 'poll_update');
  assert.throws(() => io.pollRemove(io.nop()), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => io.pollRemove(io.timeout(0)), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ring().pollRemove(polled), { code: 'ERR_INVALID_ARG_VALUE' }, 'another ring\'s poll');
});

test('timeoutRemove and timeoutUpdate act on a timeout in flight', async () => {
  const io = ring();
  const long = io.timeout(60_000);
  await io.timeoutRemove(long);
  await rejects(long, 'ECANCELED', 'timeout');
  await rejects(io.timeoutRemove(long), 'ENOENT', 'timeout_remove');
  const start = performance.now();
  const t = io.timeout(60_000);
  await io.timeoutUpdate(t, 10);
  await t;
  assert.ok(performance.now() - start < 30_000);
  await rejects(io.timeoutUpdate(t, 10), 'ENOENT', 'timeout_update');
  assert.throws(() => io.timeoutUpdate(t, -1), { code: 'ERR_OUT_OF_RANGE' });
});

test('linkTimeout: bounds the linked request before it; resolves true when it expired, false when the request was in time', async () => {
  const io = ring();
  const [r, w] = pipe2();
  track(r);
  track(w);
  const read = io.read(r, Buffer.alloc(4), null, { link: true });
  const expired = io.linkTimeout(20);
  await rejects(read, 'ECANCELED', 'read');
  assert.equal(await expired, true);
  fs.writeSync(w, 'data');
  const buf = Buffer.alloc(4);
  const inTime = io.read(r, buf, null, { link: true });
  const notExpired = io.linkTimeout(60_000);
  assert.equal(await inTime, 4);
  assert.equal(await notExpired, false);
  assert.equal(buf.toString(), 'data');
  // A chain of three: the timeout bounds the second, which the first's success started.
  fs.writeSync(w, 'one');
  const first = io.read(r, Buffer.alloc(3), null, { link: true });
  const second = io.read(r, Buffer.alloc(3), null, { link: true });
  const bound = io.linkTimeout(20);
  assert.equal(await first, 3);
  await rejects(second, 'ECANCELED', 'read');
  assert.equal(await bound, true);
  // Alone, with no linked request before it: the kernel's EINVAL.
  await rejects(io.linkTimeout(10), 'EINVAL', 'link_timeout');
});

test('filesUpdate: into slots from an offset, or slots the kernel picks; fixedFdInstall makes a real fd of one', async () => {
  const io = ring();
  const a = file('first');
  const b = file('second');
  io.registerFiles([-1, -1, -1, -1]);
  assert.deepEqual(await io.filesUpdate([a.fd], 2), [2]);
  const buf = Buffer.alloc(5);
  assert.equal(await io.read(2, buf, 0, { fixedFile: true }), 5);
  assert.equal(buf.toString(), 'first');
  const [slot] = await io.filesUpdate([b.fd]);
  assert.notEqual(slot, 2);
  const fd = track(await io.fixedFdInstall(slot));
  assert.equal(fs.readFileSync(fd, 'utf8'), 'second');
  assert.equal(cloexec(fd), true);
  const inherited = track(await io.fixedFdInstall(slot, { cloexec: false }));
  assert.equal(cloexec(inherited), false);
  // -1 empties a slot: a fixed-file request on it is EBADF, as is installing it.
  assert.deepEqual(await io.filesUpdate([-1], 2), [2]);
  await rejects(io.read(2, buf, 0, { fixedFile: true }), 'EBADF', 'read');
  await rejects(io.fixedFdInstall(2), 'EBADF', 'fixed_fd_install');
  const closed = fs.openSync(a.p, 'r');
  fs.closeSync(closed);
  await rejects(io.filesUpdate([closed]), 'EBADF', 'files_update');
  await rejects(io.filesUpdate([a.fd], 4), 'EINVAL', 'files_update');
  assert.throws(() => io.filesUpdate([]), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => io.fixedFdInstall(4), { code: 'ERR_OUT_OF_RANGE' });
});

test('readvFixed / writevFixed: iovecs inside a registered buffer; outside it, EFAULT', async (t) => {
  const io = ring();
  if (!io.supported.has('READV_FIXED')) return t.skip('this kernel has no IORING_OP_READV_FIXED (6.15)');
  const { fd } = file();
  const reg = Buffer.alloc(64);
  io.registerBuffers([reg]);
  reg.write('hello world');
  assert.equal(await io.writevFixed(fd, 0, [reg.subarray(6, 11), reg.subarray(5, 6), reg.subarray(0, 5)], 0), 11);
  assert.equal(fs.readFileSync(fd, 'utf8'), 'world hello');
  assert.equal(await io.readvFixed(fd, 0, [reg.subarray(32, 37), reg.subarray(40, 46)], 0), 11);
  assert.equal(reg.subarray(32, 37).toString() + reg.subarray(40, 46).toString(), 'world hello');
  await rejects(io.readvFixed(fd, 0, [Buffer.alloc(4)], 0), 'EFAULT', 'readv');
  assert.throws(() => io.readvFixed(fd, 1, [reg], 0), { code: 'ERR_OUT_OF_RANGE' });
});

test('pipe: resolves with two close-on-exec fds joined to each other', async (t) => {
  const io = ring();
  if (!io.supported.has('PIPE')) return t.skip('this kernel has no IORING_OP_PIPE (6.16)');
  const [r, w] = await io.pipe();
  track(r);
  track(w);
  fs.writeSync(w, 'through');
  const buf = Buffer.alloc(7);
  assert.equal(await io.read(r, buf), 7);
  assert.equal(buf.toString(), 'through');
  assert.equal(cloexec(r), true);
  assert.equal(cloexec(w), true);
  await rejects(io.pipe(0o1), 'EINVAL', 'pipe');
});

test('waitid: a real child\'s exit, with WNOWAIT leaving it for Node to reap; ECHILD, and WNOHANG with nothing to report', async () => {
  const io = ring();
  const child = spawn('sh', ['-c', 'read x; exit 3'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = once(child, 'exit');
  const info = io.waitid(C.P_PID, child.pid, C.WEXITED | C.WNOWAIT);
  await io.nop();
  child.stdin.end('\n');
  assert.deepEqual(await info, { signo: 17, code: C.CLD_EXITED, pid: child.pid, uid: process.getuid(), status: 3 });
  assert.deepEqual(await exited, [3, null], 'Node still sees the exit');
  await rejects(io.waitid(C.P_PID, process.pid, C.WEXITED), 'ECHILD', 'waitid', undefined, { message: 'ECHILD: no child processes, waitid' });
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  const none = await io.waitid(C.P_PID, sleeper.pid, C.WEXITED | C.WNOHANG | C.WNOWAIT);
  assert.equal(none.pid, 0);
  // An AbortSignal cancels a wait for a child that does not exit.
  const ac = new AbortController();
  const waiting = io.waitid(C.P_PID, sleeper.pid, C.WEXITED | C.WNOWAIT, { signal: ac.signal });
  await io.nop();
  ac.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  sleeper.kill();
  await once(sleeper, 'exit');
  await rejects(io.waitid(C.P_PID, 0, 0), 'EINVAL', 'waitid');
  assert.throws(() => io.waitid(C.P_PID, -1, C.WEXITED), { code: 'ERR_OUT_OF_RANGE' });
});

test('futexWait / futexWake / futexWaitv on an Int32Array: woken by this ring, by another thread\'s ring; EAGAIN when the value differs', async () => {
  const io = ring();
  const words = new Int32Array(new SharedArrayBuffer(16));
  await rejects(io.futexWait(words, 1, 5), 'EAGAIN', 'futex_wait');
  assert.equal(await io.futexWake(words, 1), 0, 'nobody waits');
  const waited = io.futexWait(words, 1, 0);
  await io.nop();
  assert.equal(await io.futexWake(words, 1, 10), 1);
  await waited;
  // Woken from a Worker, through its own ring, after it changed the value.
  const waiting = io.futexWait(words, 2, 0);
  const worker = new Worker(`
    const { workerData } = require('node:worker_threads');
    const { IoUring } = require(${JSON.stringify(path.resolve('.'))});
    const words = new Int32Array(workerData);
    const ring = new IoUring();
    Atomics.store(words, 2, 1);
    ring.futexWake(words, 2).then((n) => { Atomics.store(words, 3, n); ring.close(); });
  `, { eval: true, workerData: words.buffer });
  await waiting;
  await once(worker, 'exit');
  assert.equal(Atomics.load(words, 3), 1);
  // A mask: a wake whose bits miss the waiter's wakes nobody.
  const masked = io.futexWait(words, 0, 0, { mask: 0b01 });
  await io.nop();
  assert.equal(await io.futexWake(words, 0, 1, { mask: 0b10 }), 0);
  assert.equal(await io.futexWake(words, 0, 1, { mask: 0b01 }), 1);
  await masked;
  // futexWaitv: the index of the one woken, among futexes of two arrays.
  const other = new Int32Array(new SharedArrayBuffer(8));
  const either = io.futexWaitv([{ array: words, index: 0, value: 0 }, { array: other, index: 1, value: 0 }]);
  await io.nop();
  assert.equal(await io.futexWake(other, 1), 1);
  assert.equal(await either, 1);
  await rejects(io.futexWaitv([{ array: words, index: 0, value: 0 }, { array: other, index: 1, value: 7 }]), 'EAGAIN', 'futex_waitv');
  assert.throws(() => io.futexWaitv([]), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => io.futexWaitv(Array.from({ length: 129 }, () => ({ array: words, index: 0, value: 0 }))), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => io.futexWaitv([{ array: words, index: 0 }]), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => io.futexWait(new BigInt64Array(new SharedArrayBuffer(8)), 0, 0), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => io.futexWait(words, 4, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => io.futexWake(words, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
  await rejects(io.futexWait(words, 0, 0, { mask: 0 }), 'EINVAL', 'futex_wait');
});

test('msgRing: a CQE posted into another IoUring is a \'message\' event there, never a completion; a registered file passes between rings', async () => {
  const a = ring();
  const b = ring();
  const got = once(b, 'message');
  assert.equal(await a.msgRing(b, 7, { res: -5 }), 0);
  assert.deepEqual((await got)[0], { data: 7n, res: -5, flags: 0 });
  // Messages sent while b's requests are in flight settle none of them.
  const t = b.timeout(20);
  const iter = b.messages();
  await a.msgRing(b, 0);
  await a.msgRing(b.fd, 1);
  assert.deepEqual((await iter.next()).value, { data: 0n, res: 0, flags: 0 });
  assert.deepEqual((await iter.next()).value, { data: 1n, res: 0, flags: 0 });
  assert.equal(b.pending, 1);
  await iter.return();
  await t;
  // A registered file of a's goes into b's table; b reads through it.
  const { fd } = file('passed');
  a.registerFiles([fd]);
  b.registerFiles([-1, -1]);
  const sent = b.messages().next();
  const slot = await a.msgRing(b, 9, { sendFile: 0 });
  assert.deepEqual((await sent).value, { data: 9n, res: slot, flags: 0 });
  const buf = Buffer.alloc(6);
  assert.equal(await b.read(slot, buf, 0, { fixedFile: true }), 6);
  assert.equal(buf.toString(), 'passed');
  const tenth = once(b, 'message');
  assert.equal(await a.msgRing(b, 10, { sendFile: 0, targetIndex: 1 - slot }), 0);
  assert.deepEqual((await tenth)[0], { data: 10n, res: 0, flags: 0 });
  // Into a ring with no registered file slot free (none registered).
  await rejects(a.msgRing(ring(), 0, { sendFile: 0 }), 'ENFILE', 'msg_ring');
  // A closed ring ends its iterators; messages to what is not a ring are EBADF.
  const ended = b.messages().next();
  await new Promise((resolve) => setImmediate(resolve));
  b.close();
  assert.deepEqual(await ended, { done: true, value: undefined });
  await rejects(a.msgRing(b, 0), 'EBADF', 'msg_ring');
  await assert.rejects(a.msgRing(fd, 0), { code: 'EBADFD', errno: -77, syscall: 'msg_ring', message: 'EBADFD: file descriptor in bad state, msg_ring' });
  assert.throws(() => a.msgRing(a, 2 ** 32), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => a.msgRing(a, 0, { res: 1, sendFile: 0 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => a.msgRing(a, 0, { targetIndex: 0 }), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('msgRing: a \'message\' listener keeps a ring with nothing in flight watched', async () => {
  const io = ring();
  const sender = ring();
  const messages = [];
  io.on('message', (m) => messages.push(m.data));
  await new Promise((resolve) => setTimeout(resolve, 5));
  await sender.msgRing(io, 1);
  await sender.msgRing(io, 2);
  while (messages.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(messages, [1n, 2n]);
  io.removeAllListeners('message');
});

test('ioUringRegister: FILES2 and BUFFERS2 (sparse, with tags), FILES_UPDATE, FILES_UPDATE2, BUFFERS_UPDATE, FILE_ALLOC_RANGE', () => {
  const r = ioUringSetup(8);
  try {
    const a = file('alpha');
    const b = file('bravo');
    const read = (index, fixedBuf) => {
      const buf = Buffer.alloc(5);
      const sqe = fixedBuf === undefined
        ? { opcode: C.IORING_OP_READ, fd: index, flags: C.IOSQE_FIXED_FILE, addr: buf, len: 5, userData: 1n }
        : { opcode: C.IORING_OP_READ_FIXED, fd: index, flags: C.IOSQE_FIXED_FILE, addr: fixedBuf, len: 5, bufIndex: 1, userData: 1n };
      assert.equal(ioUringPrep(r, sqe), true);
      ioUringEnter(r, 1, 1, C.IORING_ENTER_GETEVENTS);
      const [cqe] = ioUringReap(r);
      return cqe.res < 0 ? cqe.res : (fixedBuf ?? buf).subarray(0, cqe.res).toString();
    };
    assert.equal(ioUringRegister(r, C.IORING_REGISTER_FILES2, { fds: [a.fd], nr: 4, tags: [0xabcn, 0n, 0n, 0n] }), 0);
    assert.equal(read(0), 'alpha');
    assert.equal(read(1), -9, 'an empty slot: EBADF');
    assert.equal(ioUringRegister(r, C.IORING_REGISTER_FILES_UPDATE, { offset: 1, fds: [b.fd] }), 1);
    assert.equal(read(1), 'bravo');
    // Replacing slot 0 lets go of alpha: its tag comes back as a CQE.
    assert.equal(ioUringRegister(r, C.IORING_REGISTER_FILES_UPDATE2, { offset: 0, fds: [b.fd], tags: [0n] }), 1);
    // (posted by task work, which an enter runs: a NOP's)
    ioUringPrep(r, { opcode: C.IORING_OP_NOP, userData: 5n });
    ioUringEnter(r, 1, 1, C.IORING_ENTER_GETEVENTS);
    assert.deepEqual(ioUringReap(r), [{ userData: 0xabcn, res: 0, flags: 0 }, { userData: 5n, res: 0, flags: 0 }]);
    assert.equal(read(0), 'bravo');
    assert.equal(ioUringRegister(r, C.IORING_REGISTER_FILE_ALLOC_RANGE, { offset: 2, length: 2 }), 0);
    assert.throws(() => ioUringRegister(r, C.IORING_REGISTER_FILE_ALLOC_RANGE, { offset: 3, length: 2 }), (err) => assertSysError(err, 'EINVAL', 'io_uring_register'));
    assert.throws(() => ioUringRegister(r, C.IORING_REGISTER_FILES_UPDATE, { offset: 9, fds: [a.fd] }), (err) => assertSysError(err, 'EINVAL', 'io_uring_register'));
    // Buffers: a sparse table of two, the second filled in by an update.
    assert.equal(ioUringRegister(r, C.IORING_REGISTER_BUFFERS2, { nr: 2, flags: C.IORING_RSRC_REGISTER_SPARSE }), 0);
    const reg = Buffer.alloc(8);
    assert.equal(ioUringRegister(r, C.IORING_REGISTER_BUFFERS_UPDATE, { offset: 1, buffers: [reg], tags: [0n] }), 1);
    assert.equal(r.buffers[1], reg);
    assert.equal(read(1, reg), 'bravo');
    assert.throws(() => ioUringRegister(r, C.IORING_REGISTER_FILES2, { fds: [1], nr: 2, tags: [1n] }), { code: 'ERR_INVALID_ARG_VALUE' }, 'a tag for each slot');
    assert.throws(() => ioUringRegister(r, C.IORING_REGISTER_BUFFERS2, { buffers: [reg], nr: 2 }), { code: 'ERR_INVALID_ARG_VALUE' }, 'an iovec for each slot');
    assert.throws(() => ioUringRegister(r, C.IORING_REGISTER_FILES_UPDATE, { offset: 0, fds: [1], tags: [1n] }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => ioUringRegister(r, C.IORING_REGISTER_BUFFERS_UPDATE, { offset: 0, buffers: ['x'] }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ioUringRegister(r, C.IORING_REGISTER_FILES_UPDATE, { offset: 0 }), { code: 'ERR_INVALID_ARG_TYPE' });
  } finally {
    r.close();
  }
});

test('ioUringPrep: the xattr opcodes take their name and path as strings and their value as a buffer bounded by len', () => {
  const r = ioUringSetup(4);
  try {
    const { p } = file();
    const value = Buffer.from('raw');
    assert.equal(ioUringPrep(r, { opcode: C.IORING_OP_SETXATTR, addr: 'user.raw', addr2: value, len: 3, addr3: p, flags: C.IOSQE_IO_LINK, userData: 1n }), true);
    const out = Buffer.alloc(8);
    assert.equal(ioUringPrep(r, { opcode: C.IORING_OP_GETXATTR, addr: 'user.raw', addr2: out, len: 8, addr3: p, userData: 2n }), true);
    ioUringEnter(r, 2, 2, C.IORING_ENTER_GETEVENTS);
    assert.deepEqual(ioUringReap(r).map((c) => c.res), [0, 3]);
    assert.equal(out.subarray(0, 3).toString(), 'raw');
    assert.throws(() => ioUringPrep(r, { opcode: C.IORING_OP_GETXATTR, addr: 'user.raw', addr2: out, len: 9, addr3: p }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => ioUringPrep(r, { opcode: C.IORING_OP_FGETXATTR, addr: 0x1000, addr2: out, len: 8 }), { code: 'ERR_INVALID_ARG_TYPE' });
  } finally {
    r.close();
  }
});

test('msgRing: a \'message\' listener keeps the process alive for messages to come; unref() lets it exit', () => {
  const src = (unref) => `
    import { IoUring } from 'butter';
    const ring = new IoUring();
    ring.on('message', (m) => { console.log('message', m.data); process.exit(0); });
    ${unref ? 'ring.unref();' : ''}
    // An unref'd timer: only the ring can keep the process alive until it fires.
    setTimeout(() => new IoUring().msgRing(ring, 5), 200).unref();
  `;
  const kept = runChild(src(false), { timeout: 10_000 });
  assert.equal(kept.stdout.trim(), 'message 5n', kept.stderr);
  const released = runChild(src(true), { timeout: 10_000 });
  assert.equal(released.status, 0, released.stderr);
  assert.equal(released.stdout, '');
});
