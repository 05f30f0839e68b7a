// io_uring: the 1:1 calls (setup with its flags, prep, enter, reap, register),
// IoUring's requests and their errors, batching, cancellation, and the
// hazards: reads tmpfs hands to kernel workers, short reads, ECANCELED, CQ
// overflow, a fork with a ring open, a Worker ended with requests in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import {
  IoUring, ioUringSetup, ioUringPrep, ioUringEnter, ioUringReap, ioUringRegister, ioUringProbe, ioUringRegisterRingFd, IoUringRing,
  eventfd, eventfdRead, pipe2, constants as C,
} from 'butter';
import { assertSysError } from './support/errors.mjs';
import { root, runChild } from './support/child.mjs';
import { closeAfterTests, closedAfter, scratchDir } from './support/fds.mjs';

const require = createRequire(import.meta.url);
const release = path.join(root, 'build', 'Release', 'butter.node');
const addon = require(fs.existsSync(release) ? release : path.join(root, 'build', 'Debug', 'butter.node'));

const dir = scratchDir('io-uring');
const opened = closedAfter();
const track = (fd) => (opened.push(fd), fd);
const keep = closeAfterTests();
let files = 0;
function file(content = '') {
  const p = path.join(dir, `f${files++}`);
  fs.writeFileSync(p, content);
  return { p, fd: track(fs.openSync(p, 'r+')) };
}
const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const ringFds = (pid = 'self') => fs.readdirSync(`/proc/${pid}/fd`).filter((f) => {
  try {
    return fs.readlinkSync(`/proc/${pid}/fd/${f}`) === 'anon_inode:[io_uring]';
  } catch {
    return false;
  }
}).length;

// ---- 1:1 ----

test('ioUringSetup: every setup flag this kernel takes makes a ring that reads a file', () => {
  const { fd } = file('hello, ring');
  const flags = {
    none: 0,
    SQPOLL: C.IORING_SETUP_SQPOLL,
    CLAMP: C.IORING_SETUP_CLAMP,
    SUBMIT_ALL: C.IORING_SETUP_SUBMIT_ALL,
    COOP_TASKRUN: C.IORING_SETUP_COOP_TASKRUN | C.IORING_SETUP_TASKRUN_FLAG,
    SINGLE_ISSUER_DEFER_TASKRUN: C.IORING_SETUP_SINGLE_ISSUER | C.IORING_SETUP_DEFER_TASKRUN,
    SQE128_CQE32: C.IORING_SETUP_SQE128 | C.IORING_SETUP_CQE32,
    NO_MMAP: C.IORING_SETUP_NO_MMAP,
    NO_SQARRAY: C.IORING_SETUP_NO_SQARRAY,
  };
  for (const [name, f] of Object.entries(flags)) {
    const ring = keep(ioUringSetup(4, { flags: f }));
    assert.equal(ring.params.flags, f, name);
    const buf = Buffer.alloc(11);
    assert.equal(ioUringPrep(ring, { opcode: C.IORING_OP_READ, fd, addr: buf, len: 11, off: 0, userData: 42n }), true);
    // Under SQPOLL the kernel's thread submits, and sleeps when idle: the caller wakes it (as liburing does).
    const wake = f & C.IORING_SETUP_SQPOLL ? C.IORING_ENTER_SQ_WAKEUP : 0;
    assert.equal(ioUringEnter(ring, 1, 1, C.IORING_ENTER_GETEVENTS | wake), 1, name);
    assert.deepEqual(ioUringReap(ring), [{ userData: 42n, res: 11, flags: 0 }], name);
    assert.equal(buf.toString(), 'hello, ring', name);
  }
});

test('ioUringSetup: CQSIZE, ATTACH_WQ and R_DISABLED; what the kernel made', () => {
  const a = keep(ioUringSetup(4, { flags: C.IORING_SETUP_CQSIZE, cqEntries: 100 }));
  assert.equal(a.params.sqEntries, 4);
  assert.equal(a.params.cqEntries, 128);
  assert.ok(a.params.features & C.IORING_FEAT_NODROP);
  const b = keep(ioUringSetup(4, { flags: C.IORING_SETUP_ATTACH_WQ, wqFd: a.fd }));
  assert.ok(b.fd >= 0);
  const c = keep(ioUringSetup(4, { flags: C.IORING_SETUP_R_DISABLED }));
  ioUringPrep(c, { opcode: C.IORING_OP_NOP });
  const disabled = captured(() => ioUringEnter(c, 1));
  assert.equal(disabled.code, 'EBADFD'); // not among the errnos os.constants names
  assert.equal(disabled.syscall, 'io_uring_enter');
  ioUringRegister(c, C.IORING_REGISTER_ENABLE_RINGS);
  assert.equal(ioUringEnter(c, 1, 1, C.IORING_ENTER_GETEVENTS), 1);
});

function captured(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('did not throw');
}

test('ioUringSetup: errors are fs-shaped, bad arguments are refused before any syscall', () => {
  assertSysError(captured(() => ioUringSetup(4, { flags: 1 << 30 })), 'EINVAL', 'io_uring_setup');
  assert.throws(() => ioUringSetup(0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => ioUringSetup(4, { flgs: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ioUringEnter({}, 1), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('ioUringPrep: an address field takes only a Uint8Array (or a path), bounded by the length the kernel uses', () => {
  const ring = keep(ioUringSetup(4));
  const { fd } = file('x');
  assert.throws(() => ioUringPrep(ring, { opcode: C.IORING_OP_READ, fd, addr: 0x1000n, len: 4 }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => ioUringPrep(ring, { opcode: C.IORING_OP_READ, fd, addr: Buffer.alloc(4), len: 5 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ioUringPrep(ring, { opcode: C.IORING_OP_STATX, fd: -100, addr: '/', addr2: Buffer.alloc(100) }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ioUringPrep(ring, { opcode: C.IORING_OP_SENDMSG, fd, addr: Buffer.alloc(64) }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ioUringPrep(ring, { opcode: C.IORING_OP_CONNECT, fd, addr: Buffer.alloc(8), off: 16 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ioUringPrep(ring, { opcode: C.IORING_OP_READV, fd, addr: [Buffer.alloc(1)], len: 2 }), { code: 'ERR_INVALID_ARG_VALUE' });
  // A path is made a C string; the kernel's errors come back in the CQE.
  ioUringPrep(ring, { opcode: C.IORING_OP_OPENAT, fd: -100, addr: path.join(dir, 'missing'), userData: 1 });
  ioUringPrep(ring, { opcode: C.IORING_OP_READV, fd, addr: [Buffer.alloc(1)], len: 1, off: 0, userData: 2 });
  ioUringEnter(ring, 2, 2, C.IORING_ENTER_GETEVENTS);
  // openat goes to a kernel worker: its completion may come second.
  assert.deepEqual(ioUringReap(ring).map((c) => [c.userData, c.res]).sort(), [[1n, -os.constants.errno.ENOENT], [2n, 1]]);
});

test('ioUringPrep: false when the submission queue is full', () => {
  const ring = keep(ioUringSetup(2));
  assert.equal(ioUringPrep(ring, { opcode: C.IORING_OP_NOP }), true);
  assert.equal(ioUringPrep(ring, { opcode: C.IORING_OP_NOP }), true);
  assert.equal(ioUringPrep(ring, { opcode: C.IORING_OP_NOP }), false);
  assert.equal(ioUringEnter(ring, 2), 2);
  assert.equal(ioUringPrep(ring, { opcode: C.IORING_OP_NOP }), true);
});

test('CQ overflow: completions past the CQ wait in the kernel and are all reaped, in order', () => {
  const ring = keep(ioUringSetup(1)); // a CQ of 2
  assert.equal(ring.params.cqEntries, 2);
  for (let i = 0; i < 10; i++) {
    ioUringPrep(ring, { opcode: C.IORING_OP_NOP, userData: i });
    ioUringEnter(ring, 1);
  }
  assert.deepEqual(ioUringReap(ring).map((c) => c.userData), Array.from({ length: 10 }, (_, i) => BigInt(i)));
  assert.deepEqual(ioUringReap(ring), []);
});

test('ioUringProbe: the opcodes this kernel supports, by name', () => {
  const ring = keep(ioUringSetup(2));
  const probe = ioUringProbe(ring);
  const names = new Set(probe.ops.map((o) => o.name));
  for (const n of ['NOP', 'READ', 'WRITE', 'OPENAT', 'STATX', 'ASYNC_CANCEL']) assert.ok(names.has(n), n);
  assert.ok(probe.lastOp >= C.IORING_OP_SENDMSG_ZC);
});

test('ioUringRegister: files, eventfd, restrictions, ring fds; close() leaves no fd', () => {
  const before = fdCount();
  const { fd } = file('registered');
  const ring = ioUringSetup(4);
  ioUringRegister(ring, C.IORING_REGISTER_FILES, [-1, fd]);
  const efd = eventfd();
  ioUringRegister(ring, C.IORING_REGISTER_EVENTFD, efd);
  assert.ok(ioUringRegisterRingFd(ring) >= 0);
  const buf = Buffer.alloc(10);
  ioUringPrep(ring, { opcode: C.IORING_OP_READ, flags: C.IOSQE_FIXED_FILE, fd: 1, addr: buf, len: 10, off: 0 });
  ioUringEnter(ring, 1, 1, C.IORING_ENTER_GETEVENTS);
  assert.equal(ioUringReap(ring)[0].res, 10);
  assert.equal(buf.toString(), 'registered');
  assert.equal(eventfdRead(efd), 1n);
  ioUringRegister(ring, C.IORING_UNREGISTER_FILES);
  ioUringRegister(ring, C.IORING_UNREGISTER_EVENTFD);
  ring.close();
  ring.close();
  fs.closeSync(efd);
  assert.equal(ring.fd, -1);
  assert.equal(fdCount(), before + 1); // the file
  assertSysError(captured(() => ioUringEnter(ring, 0)), 'EBADF', 'io_uring_enter');

  const limited = keep(ioUringSetup(4, { flags: C.IORING_SETUP_R_DISABLED }));
  ioUringRegister(limited, C.IORING_REGISTER_RESTRICTIONS, [{ type: C.IORING_RESTRICTION_SQE_OP, value: C.IORING_OP_NOP }]);
  ioUringRegister(limited, C.IORING_REGISTER_ENABLE_RINGS);
  ioUringPrep(limited, { opcode: C.IORING_OP_NOP, userData: 1 });
  ioUringPrep(limited, { opcode: C.IORING_OP_READ, fd, addr: buf, len: 1, userData: 2 });
  ioUringEnter(limited, 2, 2, C.IORING_ENTER_GETEVENTS);
  assert.deepEqual(ioUringReap(limited).map((c) => c.res), [0, -os.constants.errno.EACCES]);
});

// ---- IoUring ----

test('IoUring: files through the ring (openat, write, read, readv, writev, fsync, fallocate, statx, closeFd)', async () => {
  const ring = keep(new IoUring({ entries: 8 }));
  const p = path.join(dir, 'through');
  const fd = await ring.openat(null, p, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  try {
    assert.ok(fs.fstatSync(fd).isFile());
    assert.equal(await ring.write(fd, Buffer.from('hello world'), 0), 11);
    assert.equal(await ring.writev(fd, [Buffer.from('!'), new Uint16Array([0x4141])], 11), 3);
    const a = Buffer.alloc(5);
    const b = Buffer.alloc(20);
    assert.equal(await ring.readv(fd, [a, b], 0), 14);
    assert.equal(a.toString() + b.toString('latin1', 0, 9), 'hello world!AA');
    const buf = Buffer.alloc(5);
    assert.equal(await ring.read(fd, buf, 6), 5);
    assert.equal(buf.toString(), 'world');
    await ring.fsync(fd);
    await ring.fsync(fd, { datasync: true });
    await ring.fallocate(fd, 0, 0, 8192);
    const st = await ring.statx(null, p);
    assert.equal(st.size, 8192n);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.ino, BigInt(fs.statSync(p).ino));
    const flags = parseInt(/flags:\s*(\d+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8);
    assert.equal(flags & 0o2000000, 0o2000000, 'O_CLOEXEC');
  } finally {
    await ring.closeFd(fd);
  }
  assert.throws(() => fs.fstatSync(fd), { code: 'EBADF' });
});

test('IoUring: paths (mkdirat, renameat, linkat, symlinkat, unlinkat) and their errors name the path', async () => {
  const ring = keep(new IoUring());
  const d = path.join(dir, 'paths');
  await ring.mkdirat(null, d, 0o755);
  assert.ok(fs.statSync(d).isDirectory());
  assertSysError(await ring.mkdirat(null, d).catch((e) => e), 'EEXIST', 'mkdirat', d);
  fs.writeFileSync(path.join(d, 'a'), 'A');
  await ring.renameat(null, path.join(d, 'a'), null, path.join(d, 'b'));
  assert.equal(fs.readFileSync(path.join(d, 'b'), 'utf8'), 'A');
  assertSysError(await ring.renameat(null, path.join(d, 'a'), null, path.join(d, 'c')).catch((e) => e), 'ENOENT', 'renameat', path.join(d, 'a'), { dest: path.join(d, 'c') });
  await ring.linkat(null, path.join(d, 'b'), null, path.join(d, 'hard'));
  assert.equal(fs.statSync(path.join(d, 'b')).nlink, 2);
  await ring.symlinkat('b', null, path.join(d, 'soft'));
  assert.equal(fs.readlinkSync(path.join(d, 'soft')), 'b');
  const dirfd = track(fs.openSync(d, 'r'));
  await ring.unlinkat(dirfd, 'soft');
  await ring.unlinkat(dirfd, 'hard');
  await ring.unlinkat(dirfd, 'b');
  assertSysError(await ring.unlinkat(null, path.join(d, 'b')).catch((e) => e), 'ENOENT', 'unlinkat', path.join(d, 'b'));
  assertSysError(await ring.openat(null, path.join(d, 'none')).catch((e) => e), 'ENOENT', 'openat', path.join(d, 'none'));
  await ring.unlinkat(null, d, 0x200); // AT_REMOVEDIR
  assert.equal(fs.existsSync(d), false);
});

test('IoUring: errors are fs-shaped and named after the request; bad arguments throw before anything is queued', async () => {
  const ring = keep(new IoUring());
  const [r] = pipe2().map(track);
  assertSysError(await ring.write(r, Buffer.from('x')).catch((e) => e), 'EBADF', 'write');
  assertSysError(await ring.read(999_999, Buffer.alloc(1)).catch((e) => e), 'EBADF', 'read');
  assert.throws(() => ring.read(-1, Buffer.alloc(1)), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => ring.read(r, 'text'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => ring.read(r, Buffer.alloc(1), 0, { sigal: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ring.openat(null, 'a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.equal(ring.pending, 0);
  ring.close();
  assertSysError(await ring.nop().catch((e) => e), 'EBADF', 'nop');
});

test('IoUring: a submission the kernel refuses fails the requests it carried with that errno', async () => {
  const ring = keep(new IoUring({ flags: C.IORING_SETUP_R_DISABLED }));
  const err = await ring.nop().catch((e) => e);
  assert.equal(err.code, 'EBADFD');
  assert.equal(err.syscall, 'nop');
  assert.equal(ring.pending, 0);
});

test('IoUring: short reads resolve with the bytes there were; reads at EOF with 0', async () => {
  const ring = keep(new IoUring());
  const { fd } = file('0123456789');
  const buf = Buffer.alloc(4096);
  assert.equal(await ring.read(fd, buf, 6), 4);
  assert.equal(buf.toString('latin1', 0, 4), '6789');
  assert.equal(await ring.read(fd, buf, 10), 0);
  // -1: the file position, which reads advance.
  assert.equal(await ring.read(fd, buf.subarray(0, 3), -1), 3);
  assert.equal(await ring.read(fd, buf.subarray(0, 3), null), 3);
  assert.equal(buf.toString('latin1', 0, 3), '345');
});

test('IoUring: everything queued in one tick goes to the kernel in one io_uring_enter', async () => {
  const ring = keep(new IoUring({ entries: 256 }));
  const { fd } = file('x'.repeat(4096));
  const original = addon.io_uring.ioUringSubmit;
  let calls = 0;
  addon.io_uring.ioUringSubmit = (...args) => (calls++, original(...args));
  try {
    const reads = Array.from({ length: 200 }, (_, i) => ring.read(fd, Buffer.alloc(16), i * 16));
    assert.equal(calls, 0, 'nothing before the tick ends');
    await null;
    assert.equal(calls, 1);
    assert.deepEqual(new Set(await Promise.all(reads)), new Set([16]));
    // More than the SQ holds: the full queue goes early, the rest at the tick's end.
    calls = 0;
    const many = Array.from({ length: 600 }, () => ring.nop());
    assert.equal(calls, 2);
    await Promise.all(many);
    assert.equal(calls, 3);
  } finally {
    addon.io_uring.ioUringSubmit = original;
  }
});

test('IoUring: after a wake, the first requests its completions lead to go to the kernel at once, the rest at the tick\'s end', async () => {
  const ring = keep(new IoUring());
  const [r, w] = pipe2().map(track);
  const { fd } = file('x'.repeat(64));
  const original = addon.io_uring.ioUringSubmit;
  let calls = 0;
  addon.io_uring.ioUringSubmit = (...args) => (calls++, original(...args));
  try {
    const woken = ring.read(r, Buffer.alloc(1));
    setTimeout(() => fs.writeSync(w, 'x'), 5);
    await woken; // runs in the microtasks after the wake
    calls = 0;
    const reads = Array.from({ length: 20 }, (_, i) => ring.read(fd, Buffer.alloc(1), i));
    assert.equal(calls, 1, 'the first 8 went at once');
    await null;
    assert.equal(calls, 2);
    assert.equal((await Promise.all(reads)).join(''), '1'.repeat(20));
  } finally {
    addon.io_uring.ioUringSubmit = original;
  }
});

test('IoUring: a wake that leaves the ring idle stops watching its fd only at the end of the turn, after the requests it leads to', async () => {
  const ring = keep(new IoUring());
  const [r, w] = pipe2().map(track);
  const original = addon.handleSet;
  let stops = 0;
  const watched = new Set(); // this ring's handle: other tests' rings may stop watching meanwhile
  addon.handleSet = (handle, events, flags) => {
    if (events !== 0) watched.add(handle);
    else if (watched.has(handle)) stops++;
    return original(handle, events, flags);
  };
  try {
    for (let i = 0; i < 5; i++) {
      const read = ring.read(r, Buffer.alloc(1));
      setTimeout(() => fs.writeSync(w, 'x'), 1);
      assert.equal(await read, 1);
    }
    assert.equal(stops, 0, 'each wake\'s next read came before the turn ended');
    await new Promise(setImmediate);
    assert.equal(stops, 1, 'an idle ring is not watched');
  } finally {
    addon.handleSet = original;
  }
});

test('IoUring: a loop of reads that complete at once (page cache) still lets timers and other I/O run', async () => {
  const ring = keep(new IoUring());
  const { fd } = file('x'.repeat(4096));
  const buf = Buffer.alloc(4096);
  let stop = false;
  setTimeout(() => (stop = true), 20);
  let reads = 0;
  while (!stop && reads < 20_000_000) {
    await ring.read(fd, buf, 0);
    reads++;
  }
  assert.equal(stop, true, `the timer never ran in ${reads} reads`);
});

test('IoUring: completions that come later wake the ring through the readiness backend (pipes, sockets, poll, timeout)', async () => {
  const ring = keep(new IoUring());
  const [r, w] = pipe2().map(track);
  const buf = Buffer.alloc(5);
  const pending = ring.read(r, buf);
  const polled = ring.pollAdd(r, 1); // POLLIN
  setTimeout(() => fs.writeSync(w, 'later'), 20);
  assert.equal(await pending, 5);
  assert.equal(buf.toString(), 'later');
  assert.equal((await polled) & 1, 1);

  const t0 = performance.now();
  await ring.timeout(30);
  assert.ok(performance.now() - t0 >= 25);

  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const sock = await ring.socket(2, 1); // AF_INET, SOCK_STREAM
  track(sock);
  await ring.connect(sock, '127.0.0.1', server.address().port);
  const [conn] = await accepted;
  assert.equal(await ring.send(sock, Buffer.from('ping')), 4);
  const got = once(conn, 'data');
  assert.equal(String((await got)[0]), 'ping');
  conn.write('pong');
  const rb = Buffer.alloc(4);
  assert.equal(await ring.recv(sock, rb), 4);
  assert.equal(rb.toString(), 'pong');
  const ended = once(conn.resume(), 'end');
  await ring.shutdown(sock, 1); // SHUT_WR
  await ended;
  conn.destroy();
  server.close();
  const unix = track(await ring.socket(1, 1)); // AF_UNIX, SOCK_STREAM
  const missing = path.join(dir, 'no-socket');
  assertSysError(await ring.connect(unix, missing).catch((e) => e), 'ENOENT', 'connect', missing);
});

test('IoUring: bind, listen and accept on a Unix socket; splice and tee between pipes', async (t) => {
  const ring = keep(new IoUring());
  const sockPath = path.join(dir, 'sock');
  const lfd = track(await ring.socket(1, 1));
  if (!ring.supported.has('BIND')) t.skip('this kernel has no IORING_OP_BIND (6.11)');
  else {
    await ring.bind(lfd, sockPath);
    await ring.listen(lfd, 8);
    const client = net.connect(sockPath);
    const conn = track(await ring.accept(lfd));
    client.write('hi');
    const b = Buffer.alloc(2);
    assert.equal(await ring.recv(conn, b), 2);
    assert.equal(b.toString(), 'hi');
    client.destroy();
  }
  const [r1, w1] = pipe2().map(track);
  const [r3, w3] = pipe2().map(track);
  fs.writeSync(w1, 'abcdef');
  assert.equal(await ring.tee(r1, w3, 3), 3);
  const { fd, p } = file('');
  assert.equal(await ring.splice(r1, null, fd, 2, 6), 6);
  assert.equal(fs.readFileSync(p, 'latin1'), '\0\0abcdef');
  const out = Buffer.alloc(3);
  assert.equal(fs.readSync(r3, out), 3);
  assert.equal(out.toString(), 'abc');
});

test('IoUring: linked requests run in order; a failed link cancels the rest with ECANCELED', async () => {
  const ring = keep(new IoUring());
  const { fd, p } = file('');
  const w = ring.write(fd, Buffer.from('linked'), 0, { link: true });
  const s = ring.fsync(fd, { link: true });
  const r = ring.read(fd, Buffer.alloc(6), 0);
  assert.deepEqual(await Promise.all([w, s, r]), [6, undefined, 6]);
  assert.equal(fs.readFileSync(p, 'utf8'), 'linked');

  const bad = ring.read(999_999, Buffer.alloc(1), 0, { link: true });
  const next = ring.write(fd, Buffer.from('never'), 0);
  assertSysError(await bad.catch((e) => e), 'EBADF', 'read');
  assertSysError(await next.catch((e) => e), 'ECANCELED', 'write');
  assert.equal(fs.readFileSync(p, 'utf8'), 'linked');

  // A chain is never cut across two submissions: what would need that is refused.
  const small = keep(new IoUring({ entries: 2 }));
  const first = small.nop({ link: true });
  const second = small.nop({ link: true });
  assertSysError(await small.nop().catch((e) => e), 'EBUSY', 'nop');
  assert.deepEqual(await Promise.all([first, second]), [undefined, undefined]);
  assert.equal(await small.nop(), undefined);
});

test('IoUring: registered buffers and files', async () => {
  const ring = keep(new IoUring());
  const { fd } = file('fixed buffers');
  const big = Buffer.alloc(64);
  ring.registerBuffers([Buffer.alloc(8), big]);
  ring.registerFiles([fd]);
  assert.equal(await ring.readFixed(0, 1, 10, 5, 6, { fixedFile: true }), 5);
  assert.equal(big.toString('latin1', 10, 15), 'buffe');
  big.write('FIXED', 20);
  assert.equal(await ring.writeFixed(fd, 1, 20, 5, 0), 5);
  assert.equal(fs.readFileSync(`/proc/self/fd/${fd}`, 'latin1').slice(0, 5), 'FIXED');
  assert.throws(() => ring.readFixed(fd, 2, 0, 1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => ring.readFixed(fd, 1, 60, 5), { code: 'ERR_OUT_OF_RANGE' });
  ring.unregisterBuffers();
  ring.unregisterFiles();
  assertSysError(await ring.readFixed(fd, 0, 0, 1).catch((e) => e), 'EBADF', 'read');
});

test('IoUring: an AbortSignal cancels a request (AbortError), cancel(fd) cancels every request on an fd', async () => {
  const ring = keep(new IoUring());
  const [r, w] = pipe2().map(track);
  const ac = new AbortController();
  const reading = ring.read(r, Buffer.alloc(4), null, { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('enough')), 10);
  const err = await reading.catch((e) => e);
  assert.equal(err.name, 'AbortError');
  assert.equal(err.cause.message, 'enough');
  assert.equal(ring.pending, 0);
  assert.rejects(ring.nop({ signal: AbortSignal.abort() }), { name: 'AbortError' });

  const a = ring.read(r, Buffer.alloc(4));
  const b = ring.pollAdd(r, 1);
  await ring.nop(); // a and b are in the kernel
  assert.equal(await ring.cancel(r), 2);
  assertSysError(await a.catch((e) => e), 'ECANCELED', 'read');
  assertSysError(await b.catch((e) => e), 'ECANCELED', 'poll');
  assert.equal(await ring.cancel(r), 0);
  // Too late to cancel: the data came first.
  fs.writeSync(w, 'done');
  const ac2 = new AbortController();
  const late = ring.read(r, Buffer.alloc(4), null, { signal: ac2.signal });
  await ring.nop();
  ac2.abort();
  assert.equal(await late, 4);
});

test('IoUring: close() with requests in flight cancels them (ECANCELED) and leaves no fd', async () => {
  const before = fdCount();
  const ring = new IoUring();
  const [r] = pipe2().map(track);
  const reads = [ring.read(r, Buffer.alloc(1)), ring.pollAdd(r, 1), ring.timeout(60_000)];
  await ring.nop();
  const queued = ring.nop(); // still in the SQ: submitted by close(), completed before it returns
  ring.close();
  for (const p of reads) assert.equal((await p.catch((e) => e)).code, 'ECANCELED');
  assert.equal(await queued, undefined);
  assert.equal(ring.fd, -1);
  assert.equal(fdCount(), before + 2); // the pipe
  ring.close();
});

test('hazard: tmpfs reads punted to io-wq workers deliver the right bytes', async () => {
  const shm = fs.mkdtempSync('/dev/shm/butter-io-uring-');
  try {
    const p = path.join(shm, 'data');
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    fs.writeFileSync(p, data);
    const fd = track(fs.openSync(p, 'r'));
    const ring = keep(new IoUring({ entries: 64 }));
    const offs = Array.from({ length: 256 }, (_, i) => ((i * 7919) % 256) * 4096);
    const bufs = offs.map(() => Buffer.alloc(4096));
    const n = await Promise.all(offs.map((o, i) => ring.read(fd, bufs[i], o)));
    assert.ok(n.every((x) => x === 4096));
    offs.forEach((o, i) => assert.equal(bufs[i].readUInt32LE(100), o + 100));
  } finally {
    fs.rmSync(shm, { recursive: true, force: true });
  }
});

test('hazard: a request\'s buffer stays alive until its completion, whatever the caller drops', () => {
  const r = runChild(`
    import { IoUring, pipe2 } from 'butter';
    import fs from 'node:fs';
    import v8 from 'node:v8';
    import vm from 'node:vm';
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    const ring = new IoUring();
    const [rd, wr] = pipe2();
    let collected = false;
    const registry = new FinalizationRegistry(() => { collected = true; });
    (() => { const b = Buffer.alloc(1 << 20); registry.register(b, 'b'); ring.read(rd, b).then((n) => { globalThis.n = n; }); })();
    for (let i = 0; i < 5; i++) { gc(); await new Promise((r) => setImmediate(r)); }
    const before = collected;
    fs.writeSync(wr, 'x'.repeat(1000));
    while (globalThis.n === undefined) await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 5 && !collected; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
    console.log(JSON.stringify({ before, after: collected, n: globalThis.n }));
    ring.close();
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { before: false, after: true, n: 1000 });
});

test('hazard: a child forked with a ring open inherits no ring fd; the parent\'s requests carry on', async () => {
  const ring = keep(new IoUring());
  const [r, w] = pipe2().map(track);
  const pending = ring.read(r, Buffer.alloc(2));
  await ring.nop();
  const child = spawnSync('sh', ['-c', 'ls -l /proc/self/fd/ | grep -c io_uring || true'], { encoding: 'utf8' });
  assert.equal(child.stdout.trim(), '0');
  assert.ok(ringFds() >= 1);
  fs.writeSync(w, 'ok');
  assert.equal(await pending, 2);
});

test('hazard: a Worker ended with requests in flight leaves no ring and no fd behind', async () => {
  const before = fdCount();
  const rings = ringFds();
  const [r] = pipe2().map(track);
  for (const when of [0, 5, 20]) {
    const w = new Worker(`
      const { IoUring } = require(${JSON.stringify(root)});
      const { parentPort } = require('node:worker_threads');
      const ring = new IoUring();
      const r = ${r};
      for (let i = 0; i < 50; i++) ring.read(r, Buffer.alloc(1 << 16));
      ring.timeout(60_000);
      ring.nop().then(() => parentPort.postMessage('busy'));
    `, { eval: true });
    await once(w, 'message');
    await new Promise((r) => setTimeout(r, when));
    await w.terminate();
  }
  assert.equal(ringFds(), rings);
  assert.equal(fdCount(), before + 2); // the pipe
});

test('hazard: a consumer that throws rejects only its own chain; the rest of the batch settles', () => {
  const r = runChild(`
    import { IoUring } from 'butter';
    const ring = new IoUring();
    let unhandled = 0, settled = 0;
    process.on('unhandledRejection', () => unhandled++);
    for (let i = 0; i < 10; i++) ring.nop().then(() => { settled++; if (i % 2) throw new Error('consumer'); });
    await new Promise((r) => setTimeout(r, 50));
    ring.close();
    console.log(JSON.stringify({ unhandled, settled }));
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { unhandled: 5, settled: 10 });
});

test('IoUring: unref() lets the process exit with requests in flight; ref() keeps it', () => {
  const src = (unref) => `
    import { IoUring, pipe2 } from 'butter';
    const ring = new IoUring();
    const [r] = pipe2();
    ring.read(r, Buffer.alloc(1));
    ${unref ? 'ring.unref();' : 'setTimeout(() => { console.log("alive"); process.exit(0); }, 300);'}
  `;
  const a = runChild(src(true), { timeout: 5000 });
  assert.equal(a.status, 0, a.stderr);
  const b = runChild(src(false), { timeout: 5000 });
  assert.equal(b.stdout.trim(), 'alive');
});

test('IoUring: supported lists what the probe reports, and IoUringRing is what ioUringSetup returns', () => {
  const ring = keep(new IoUring({ entries: 4 }));
  assert.ok(ring.supported.has('READ'));
  assert.ok(ring.params.sqEntries === 4);
  const raw = keep(ioUringSetup(2));
  assert.ok(raw instanceof IoUringRing);
});

test('fuzz: ioUringPrep takes arbitrary SQE objects, and only writes SQEs or throws an argument error (nothing reaches the kernel: the ring is never entered)', async () => {
  const { default: fc } = await import('fast-check');
  let ring = ioUringSetup(8);
  const anything = fc.oneof(
    fc.anything(), fc.integer(), fc.bigInt(), fc.double(), fc.uint8Array({ maxLength: 300 }),
    fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 3 }), fc.string(), fc.constantFrom(null, undefined, -1, 2 ** 53, 2n ** 64n),
  );
  const opcodes = fc.oneof(fc.integer({ min: -1, max: 300 }), anything);
  const fields = ['flags', 'ioprio', 'fd', 'off', 'addr', 'addr2', 'addr3', 'len', 'opFlags', 'userData', 'bufIndex', 'personality', 'spliceFdIn'];
  const sqes = fc.record({ opcode: opcodes, ...Object.fromEntries(fields.map((f) => [f, anything])) }, { requiredKeys: ['opcode'] });
  try {
    fc.assert(fc.property(fc.oneof(sqes, anything), (sqe) => {
      try {
        const r = ioUringPrep(ring, sqe);
        assert.equal(typeof r, 'boolean');
        if (!r) {
          // Full: start over with a fresh ring rather than submit what the fuzzer wrote.
          ring.close();
          ring = ioUringSetup(8);
        }
      } catch (err) {
        assert.ok(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE'].includes(err.code), `${err.code}: ${err.message}`);
      }
    }), { numRuns: 3000 });
  } finally {
    ring.close();
  }
});
