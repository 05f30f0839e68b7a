// IoUring's socket requests: sendmsg/recvmsg (addresses, SCM_RIGHTS, MSG_TRUNC
// and MSG_CTRUNC), zero-copy sends, provided-buffer rings, the multishot
// iterators (accept, poll, recv, read), epoll_ctl/epoll_wait and the socket
// commands, over loopback sockets and pipes, with their errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { IoUring, IoUringBufferRing, pipe2 } from 'butter';
import { assertSysError } from './support/errors.mjs';
import { fdinfo } from './support/child.mjs';
import { closeAfterTests } from './support/fds.mjs';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_RCVBUF = 8;
const MSG_TRUNC = 0x20;
const MSG_CTRUNC = 0x8;
const POLLIN = 1;
const EPOLLIN = 1;
const EPOLL_CTL_ADD = 1;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-io-uring-sockets-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const opened = [];
const track = (fd) => (opened.push(fd), fd);
after(() => {
  for (const fd of opened) {
    try {
      fs.closeSync(fd);
    } catch {}
  }
});
const keep = closeAfterTests();
/** How many of this process's fds are `fd`'s file (a pipe's: either end), dups and fds received for it included: other fds come and go with the runtime. */
const copiesOf = (fd) => {
  const link = fs.readlinkSync(`/proc/self/fd/${fd}`);
  return fs.readdirSync('/proc/self/fd').filter((f) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${f}`) === link;
    } catch {
      return false;
    }
  }).length;
};
const cloexec = (fd) => (parseInt(fdinfo(fd).flags, 8) & 0o2000000) !== 0;
let socks = 0;
const sockPath = () => path.join(dir, `s${socks++}`);

/** A listening Unix stream socket made through the ring, and its path. */
async function listener(ring) {
  const p = sockPath();
  const fd = track(await ring.socket(AF_UNIX, SOCK_STREAM));
  await ring.bind(fd, p);
  await ring.listen(fd, 16);
  return { fd, p };
}

/** Two connected Unix stream sockets, both the ring's. */
async function streamPair(ring) {
  const { fd: lfd, p } = await listener(ring);
  const a = track(await ring.socket(AF_UNIX, SOCK_STREAM));
  const accepted = ring.accept(lfd);
  await ring.connect(a, p);
  return [a, track(await accepted)];
}

/** A TCP connection from a ring socket to a Node server on loopback: [the ring's fd, the server's socket]. */
async function tcpPair(ring, host = '127.0.0.1') {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const fd = track(await ring.socket(host.includes(':') ? AF_INET6 : AF_INET, SOCK_STREAM));
  const conn = once(server, 'connection');
  await ring.connect(fd, host, server.address().port);
  const [peer] = await conn;
  server.close();
  return [fd, peer];
}

// ---- sendmsg / recvmsg ----

test('sendmsg/recvmsg: gathered buffers, fds passed as SCM_RIGHTS arrive as the receiver\'s own, close-on-exec', async () => {
  const ring = keep(new IoUring());
  const [a, b] = await streamPair(ring);
  const [r, w] = pipe2().map(track);
  const n = await ring.sendmsg(a, [Buffer.from('hello, '), new Uint8Array(Buffer.from('fds'))], { fds: [r, w] });
  assert.equal(n, 10);
  const head = Buffer.alloc(4);
  const tail = Buffer.alloc(16);
  const msg = await ring.recvmsg(b, [head, tail], { maxFds: 4 });
  assert.equal(msg.bytesRead, 10);
  assert.equal(head.toString() + tail.toString('latin1', 0, 6), 'hello, fds');
  assert.equal(msg.flags & (MSG_TRUNC | MSG_CTRUNC), 0);
  assert.equal(msg.address, undefined, 'an unnamed Unix socket has no address');
  assert.equal(msg.fds.length, 2);
  msg.fds.forEach(track);
  for (const fd of msg.fds) {
    assert.ok(![r, w].includes(fd));
    assert.ok(cloexec(fd), `fd ${fd} is close-on-exec`);
  }
  fs.writeSync(msg.fds[1], 'through');
  const out = Buffer.alloc(7);
  assert.equal(fs.readSync(r, out), 7);
  assert.equal(out.toString(), 'through');
});

test('recvmsg: more fds than maxFds sets MSG_CTRUNC and leaves none behind; a datagram longer than the buffers sets MSG_TRUNC', async () => {
  const ring = keep(new IoUring());
  const [a, b] = await streamPair(ring);
  const [r, w] = pipe2().map(track);
  await ring.sendmsg(a, [Buffer.from('x')], { fds: [r, w, r] });
  const msg = await ring.recvmsg(b, [Buffer.alloc(1)], { maxFds: 1 });
  assert.ok(msg.flags & MSG_CTRUNC);
  assert.equal(msg.fds.length, 1);
  fs.closeSync(msg.fds[0]);
  await ring.sendmsg(a, [Buffer.from('y')], { fds: [w] });
  const none = await ring.recvmsg(b, [Buffer.alloc(1)]);
  assert.ok(none.flags & MSG_CTRUNC, 'no room at all for the fd');
  assert.equal(none.fds, undefined);
  assert.equal(copiesOf(r), 2, 'the fds that did not fit were closed: the pipe has its own two ends only');

  const p1 = sockPath();
  const p2 = sockPath();
  const d1 = track(await ring.socket(AF_UNIX, SOCK_DGRAM));
  const d2 = track(await ring.socket(AF_UNIX, SOCK_DGRAM));
  await ring.bind(d1, p1);
  await ring.bind(d2, p2);
  assert.equal(await ring.sendmsg(d2, [Buffer.from('a long datagram')], { address: p1 }), 15);
  const small = Buffer.alloc(6);
  const got = await ring.recvmsg(d1, [small]);
  assert.equal(got.bytesRead, 6);
  assert.ok(got.flags & MSG_TRUNC);
  assert.equal(small.toString(), 'a long');
  assert.deepEqual(got.address, { family: 'unix', address: p2 });
});

test('sendmsg/recvmsg: UDP over IPv4 and IPv6 loopback, to and from addresses with ports', async (t) => {
  const ring = keep(new IoUring());
  for (const [type, host, family] of [['udp4', '127.0.0.1', AF_INET], ['udp6', '::1', AF_INET6]]) {
    const peer = dgram.createSocket(type);
    try {
      await new Promise((resolve, reject) => peer.once('error', reject).bind(0, host, resolve));
    } catch (err) {
      peer.close();
      t.diagnostic(`${type} loopback unavailable: ${err.code}`);
      continue;
    }
    const fd = track(await ring.socket(family, SOCK_DGRAM));
    await ring.bind(fd, host, 0);
    const got = once(peer, 'message');
    assert.equal(await ring.sendmsg(fd, [Buffer.from('ping')], { address: host, port: peer.address().port }), 4);
    const [data, rinfo] = await got;
    assert.equal(data.toString(), 'ping');
    const reply = ring.recvmsg(fd, [Buffer.alloc(8)]);
    peer.send('pong', rinfo.port, host);
    const msg = await reply;
    assert.equal(msg.bytesRead, 4);
    assert.deepEqual(msg.address, { family: type === 'udp4' ? 'IPv4' : 'IPv6', address: host, port: peer.address().port });
    peer.close();
  }
});

test('sendmsg/recvmsg: errors are fs-shaped (EBADF, ENOTSOCK, EISCONN); bad arguments throw before anything is queued', async () => {
  const ring = keep(new IoUring());
  const [r, w] = pipe2().map(track);
  const closed = fs.openSync('/dev/null', 'r');
  fs.closeSync(closed);
  await assert.rejects(ring.sendmsg(closed, [Buffer.from('x')]), (e) => assertSysError(e, 'EBADF', 'sendmsg'));
  await assert.rejects(ring.sendmsg(w, [Buffer.from('x')]), (e) => assertSysError(e, 'ENOTSOCK', 'sendmsg'));
  await assert.rejects(ring.recvmsg(r, [Buffer.alloc(1)]), (e) => assertSysError(e, 'ENOTSOCK', 'recvmsg'));
  const [a] = await streamPair(ring);
  await assert.rejects(ring.sendmsg(a, [Buffer.from('x')], { address: '127.0.0.1', port: 9 }), (e) => assertSysError(e, 'EISCONN', 'sendmsg'));
  const ac = new AbortController();
  const idle = ring.recvmsg(a, [Buffer.alloc(1)], { maxFds: 1 }, { signal: ac.signal });
  await sleep(5);
  ac.abort();
  await assert.rejects(idle, { name: 'AbortError' });
  const pending = ring.pending;
  assert.throws(() => ring.sendmsg(a, Buffer.from('x')), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => ring.sendmsg(a, ['x']), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => ring.sendmsg(a, [], { fds: [] }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => ring.sendmsg(a, [], { fds: [-1] }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => ring.sendmsg(a, [], { address: 'nowhere', port: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ring.sendmsg(a, [], { adress: 'x' }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ring.recvmsg(a, [Buffer.alloc(1)], { maxFds: 254 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.equal(ring.pending, pending);
});

// ---- zero copy ----

test('sendZc/sendmsgZc: resolve with the bytes sent once the kernel let go of the buffer; not on a Unix socket', async (t) => {
  const ring = keep(new IoUring());
  if (!ring.supported.has('SEND_ZC')) return t.skip('this kernel has no IORING_OP_SEND_ZC (6.0)');
  const [fd, peer] = await tcpPair(ring);
  const chunks = [];
  peer.on('data', (d) => chunks.push(d));
  const big = Buffer.alloc(256 * 1024, 'z');
  const sends = [ring.sendZc(fd, big), ring.nop(), ring.sendZc(fd, Buffer.from('tail'))];
  if (ring.supported.has('SENDMSG_ZC')) sends.push(ring.sendmsgZc(fd, [Buffer.from('ms'), Buffer.from('g')]));
  const [n, nop, m, k] = await Promise.all(sends);
  assert.equal(n, big.length);
  assert.equal(nop, undefined);
  assert.equal(m, 4);
  if (k !== undefined) assert.equal(k, 3);
  assert.equal(ring.pending, 0, 'no request left waiting for its notification');
  const total = big.length + 4 + (k ?? 0);
  while (chunks.reduce((s, c) => s + c.length, 0) < total) await once(peer, 'data');
  const all = Buffer.concat(chunks);
  assert.equal(all.subarray(big.length).toString(), k === undefined ? 'tail' : 'tailmsg');
  peer.destroy();

  const [a] = await streamPair(ring);
  await assert.rejects(ring.sendZc(a, Buffer.from('x')), (e) => assertSysError(e, 'ENOTSUP', 'send'));
  assert.throws(() => ring.sendZc(a, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
});

// ---- provided buffers and multishot ----

test('bufferRing + recvMultishot: each message in a buffer of the ring, given back by release(); ends at EOF', async (t) => {
  const ring = keep(new IoUring());
  const [a, b] = await streamPair(ring);
  const buffers = ring.bufferRing({ group: 1, entries: 4, size: 64 });
  assert.ok(buffers instanceof IoUringBufferRing);
  assert.equal(buffers.available, 4);
  const got = [];
  const reading = (async () => {
    for await (const view of ring.recvMultishot(b, buffers)) {
      got.push(Buffer.from(view).toString());
      buffers.release(view);
    }
  })();
  for (const word of ['one', 'two', 'three']) {
    await ring.send(a, Buffer.from(word));
    await sleep(10);
  }
  await ring.shutdown(a, 1);
  await reading;
  assert.equal(got.join(''), 'onetwothree');
  assert.equal(buffers.available, 4);
  assert.equal(ring.pending, 0);
  buffers.close();
  t.diagnostic(`messages: ${got.length}`);
});

test('recvMultishot: a consumer slower than the sender loses nothing (ENOBUFS re-arms); one that holds every buffer gets ENOBUFS', async () => {
  const ring = keep(new IoUring());
  const [a, b] = await streamPair(ring);
  const buffers = ring.bufferRing({ group: 2, entries: 2, size: 8 });
  const sent = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789'.repeat(4));
  await ring.send(a, sent);
  await ring.shutdown(a, 1);
  const got = [];
  for await (const view of ring.recvMultishot(b, buffers)) {
    await sleep(2);
    got.push(Buffer.from(view));
    buffers.release(view);
  }
  assert.equal(Buffer.concat(got).toString(), sent.toString());

  const [c, d] = await streamPair(ring);
  await ring.send(c, Buffer.alloc(64, 'h'));
  const held = [];
  const it = ring.recvMultishot(d, buffers);
  held.push((await it.next()).value, (await it.next()).value);
  await assert.rejects(it.next(), (e) => assertSysError(e, 'ENOBUFS', 'recv'));
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  held.forEach((v) => buffers.release(v));
  assert.equal(buffers.available, 2);
  buffers.close();
});

test('provideBuffers (PROVIDE_BUFFERS) feeds recvMultishot as a buffer ring does; released buffers are provided again; removeBuffers takes them back', async () => {
  const ring = keep(new IoUring());
  const [a, b] = await streamPair(ring);
  const buffers = await ring.provideBuffers({ group: 7, entries: 3, size: 8 });
  assert.ok(buffers instanceof IoUringBufferRing);
  await assert.rejects(ring.provideBuffers({ group: 7, entries: 1, size: 8 }), (e) => assertSysError(e, 'EEXIST', 'provide_buffers'));
  const sent = Buffer.from('the quick brown fox jumps over the lazy dog');
  await ring.send(a, sent);
  await ring.shutdown(a, 1);
  const got = [];
  for await (const view of ring.recvMultishot(b, buffers)) {
    await sleep(1);
    got.push(Buffer.from(view));
    buffers.release(view);
  }
  assert.equal(Buffer.concat(got).toString(), sent.toString());
  await ring.nop(); // the last release's PROVIDE_BUFFERS has run
  assert.equal(await ring.removeBuffers(7, 10), 3, 'every buffer is the kernel\'s again');
  assert.equal(await ring.removeBuffers(7, 1), 0);
  await assert.rejects(ring.removeBuffers(99, 1), (e) => assertSysError(e, 'ENOENT', 'remove_buffers'));
  buffers.close();
  assert.throws(() => ring.recvMultishot(b, buffers), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => ring.provideBuffers({ group: 8, entries: 65537, size: 1 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => ring.removeBuffers(8, 0), { code: 'ERR_OUT_OF_RANGE' });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(ring.provideBuffers({ group: 8, entries: 1, size: 1, signal: ac.signal }), { name: 'AbortError' });
  const again = await ring.provideBuffers({ group: 8, entries: 1, size: 1 });
  again.close();
});

test('bufferRing: release() refuses what it did not hand out, or twice; bad options throw; a closed ring frees it', async () => {
  const ring = keep(new IoUring());
  const buffers = ring.bufferRing({ group: 3, entries: 2, size: 4 });
  assert.throws(() => buffers.release(new Uint8Array(4)), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => buffers.release('x'), { code: 'ERR_INVALID_ARG_TYPE' });
  const [a, b] = await streamPair(ring);
  await ring.send(a, Buffer.from('1234'));
  const it = ring.recvMultishot(b, buffers);
  const { value } = await it.next();
  assert.equal(Buffer.from(value).toString(), '1234');
  buffers.release(value);
  assert.throws(() => buffers.release(value), { code: 'ERR_INVALID_ARG_VALUE' });
  await it.return();
  assert.throws(() => ring.bufferRing({ group: 3, entries: 2, size: 4 }), (e) => assertSysError(e, 'EEXIST', 'io_uring_register'));
  assert.throws(() => ring.bufferRing({ group: 4, entries: 3, size: 4 }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => ring.bufferRing({ group: 70000, entries: 2, size: 4 }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => ring.bufferRing({ group: 4, entries: 2, size: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  buffers.close();
  assert.throws(() => ring.recvMultishot(b, buffers), { code: 'ERR_INVALID_ARG_TYPE' });
  const other = keep(new IoUring());
  assert.throws(() => other.recvMultishot(b, ring.bufferRing({ group: 3, entries: 2, size: 4 })), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('acceptMultishot: connections as they come (close-on-exec); break cancels it; ring.close() mid-iteration rejects with ECANCELED and leaks no fd', async () => {
  const ring = keep(new IoUring());
  const { fd: lfd, p } = await listener(ring);
  const clients = [0, 1, 2].map(() => net.connect(p));
  const fds = [];
  for await (const fd of ring.acceptMultishot(lfd)) {
    fds.push(track(fd));
    assert.ok(cloexec(fd));
    if (fds.length === 3) break;
  }
  assert.equal(new Set(fds).size, 3);
  await ring.nop();
  await sleep(5);
  assert.equal(ring.pending, 0, 'break cancelled the request');
  clients.forEach((c) => c.destroy());

  const before = new Set(fs.readdirSync('/proc/self/fd'));
  const other = new IoUring();
  const { fd: l2, p: p2 } = await listener(other);
  const it = other.acceptMultishot(l2);
  const more = [net.connect(p2), net.connect(p2)];
  const first = (await it.next()).value;
  assert.equal(typeof first, 'number');
  const waiting = it.next().then((r) => (r.value === undefined ? r : (fs.closeSync(r.value), it.next())));
  other.close();
  await assert.rejects(waiting, (e) => assertSysError(e, 'ECANCELED', 'accept'));
  await Promise.all(more.map((c) => (c.destroy(), once(c, 'close'))));
  fs.closeSync(first);
  fs.closeSync(l2);
  opened.splice(opened.indexOf(l2), 1);
  assert.deepEqual(fs.readdirSync('/proc/self/fd').filter((f) => !before.has(f)), [], 'no fd left: no ring, no connection');
});

test('multishot errors come from the iterator: EINVAL (not listening), ENOTSOCK (a pipe), EBADF (a closed ring)', async () => {
  const ring = keep(new IoUring());
  const sock = track(await ring.socket(AF_UNIX, SOCK_STREAM));
  await assert.rejects(ring.acceptMultishot(sock).next(), (e) => assertSysError(e, 'EINVAL', 'accept'));
  const [r] = pipe2().map(track);
  const buffers = ring.bufferRing({ group: 9, entries: 2, size: 8 });
  await assert.rejects(ring.recvMultishot(r, buffers).next(), (e) => assertSysError(e, 'ENOTSOCK', 'recv'));
  assert.equal(buffers.available, 2);
  const closed = new IoUring();
  closed.close();
  const it = closed.pollMultishot(r, POLLIN);
  await assert.rejects(it.next(), (e) => assertSysError(e, 'EBADF', 'poll'));
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  assert.throws(() => ring.acceptMultishot(sock, 0, { signal: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.equal(ring.pending, 0);
});

test('pollMultishot: events each time they come; an AbortSignal ends it with an AbortError', async () => {
  const ring = keep(new IoUring());
  const [r, w] = pipe2().map(track);
  const ac = new AbortController();
  const it = ring.pollMultishot(r, POLLIN, { signal: ac.signal });
  fs.writeSync(w, 'a');
  assert.equal((await it.next()).value & POLLIN, POLLIN);
  fs.readSync(r, Buffer.alloc(1));
  fs.writeSync(w, 'b');
  assert.equal((await it.next()).value & POLLIN, POLLIN);
  const waiting = it.next();
  ac.abort();
  await assert.rejects(waiting, { name: 'AbortError' });
  assert.equal(ring.pending, 0);
  assert.throws(() => ring.pollMultishot(r, -1), { code: 'ERR_OUT_OF_RANGE' });
});

test('readMultishot: a pipe\'s bytes into the ring\'s buffers until EOF; errors come from the iterator', async (t) => {
  const ring = keep(new IoUring());
  if (!ring.supported.has('READ_MULTISHOT')) return t.skip('this kernel has no IORING_OP_READ_MULTISHOT (6.7)');
  const [r, w] = pipe2();
  track(r);
  const buffers = ring.bufferRing({ group: 5, entries: 4, size: 16 });
  const got = [];
  const reading = (async () => {
    for await (const view of ring.readMultishot(r, buffers)) {
      got.push(Buffer.from(view).toString());
      buffers.release(view);
    }
  })();
  fs.writeSync(w, 'first ');
  await sleep(10);
  fs.writeSync(w, 'second');
  await sleep(10);
  fs.closeSync(w);
  await reading;
  assert.equal(got.join(''), 'first second');
  const { fd } = { fd: track(fs.openSync(path.join(dir, 'regular'), 'w+')) };
  // A regular file cannot be polled: the kernel refuses (EBADFD, which libuv has no name for).
  await assert.rejects(ring.readMultishot(fd, buffers).next(), { errno: -77, syscall: 'read' });
  buffers.close();
});

// ---- epoll and socket commands ----

test('epollCtl/epollWait on an epoll fd passed over SCM_RIGHTS by another process', async (t) => {
  const ring = keep(new IoUring());
  const { fd: lfd, p } = await listener(ring);
  const child = spawn('python3', ['-c', `
import socket, select, sys
ep = select.epoll()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
socket.send_fds(s, [b"e"], [ep.fileno()])
s.recv(1)
`, p], { stdio: 'ignore' });
  const spawned = await Promise.race([once(child, 'spawn').then(() => true), once(child, 'error').then(() => false)]);
  if (!spawned) return t.skip('no python3 to make an epoll fd');
  const conn = track(await ring.accept(lfd));
  const msg = await ring.recvmsg(conn, [Buffer.alloc(1)], { maxFds: 1 });
  const epfd = track(msg.fds[0]);
  await ring.send(conn, Buffer.from('x'));
  await once(child, 'exit');
  const [r, w] = pipe2().map(track);
  await ring.epollCtl(epfd, EPOLL_CTL_ADD, r, EPOLLIN, 42n);
  await assert.rejects(ring.epollCtl(epfd, EPOLL_CTL_ADD, r, EPOLLIN), (e) => assertSysError(e, 'EEXIST', 'epoll_ctl'));
  await assert.rejects(ring.epollCtl(r, EPOLL_CTL_ADD, w, EPOLLIN), (e) => assertSysError(e, 'EINVAL', 'epoll_ctl'));
  if (!ring.supported.has('EPOLL_WAIT')) return t.skip('this kernel has no IORING_OP_EPOLL_WAIT (6.15)');
  const waiting = ring.epollWait(epfd, 8);
  await sleep(5);
  fs.writeSync(w, 'go');
  assert.deepEqual(await waiting, [{ events: EPOLLIN, data: 42n }]);
  await assert.rejects(ring.epollWait(r), (e) => assertSysError(e, 'EINVAL', 'epoll_wait'));
  assert.throws(() => ring.epollWait(epfd, 0), { code: 'ERR_OUT_OF_RANGE' });
});

test('socket commands: SIOCINQ, SIOCOUTQ, getsockopt and setsockopt; EOPNOTSUPP where the file or protocol has none', async (t) => {
  const ring = keep(new IoUring());
  const [fd, peer] = await tcpPair(ring);
  try {
    assert.equal(await ring.siocinq(fd), 0);
  } catch (err) {
    if (err.code === 'ENOTSUP') return t.skip('this kernel has no socket uring_cmd (6.7)');
    throw err;
  }
  peer.write('12345');
  await ring.pollAdd(fd, POLLIN);
  assert.equal(await ring.siocinq(fd), 5);
  assert.equal(await ring.siocoutq(fd), 0);
  peer.destroy();
  const [a, b] = await streamPair(ring);
  await assert.rejects(ring.siocinq(b), (e) => assertSysError(e, 'ENOTSUP', 'ioctl'), 'a Unix socket has no such ioctl here');
  assert.equal(Buffer.from(await ring.getsockopt(a, SOL_SOCKET, SO_TYPE)).readInt32LE(), SOCK_STREAM);
  await ring.setsockopt(a, SOL_SOCKET, SO_RCVBUF, 65536);
  assert.ok(Buffer.from(await ring.getsockopt(a, SOL_SOCKET, SO_RCVBUF)).readInt32LE() >= 65536);
  const [r] = pipe2().map(track);
  await assert.rejects(ring.siocinq(r), (e) => assertSysError(e, 'ENOTSUP', 'ioctl'), 'a pipe takes no uring_cmd');
  await assert.rejects(ring.getsockopt(a, 6 /* IPPROTO_TCP */, 1), (e) => assertSysError(e, 'ENOTSUP', 'getsockopt'));
  assert.throws(() => ring.setsockopt(a, SOL_SOCKET, SO_RCVBUF, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => ring.getsockopt(a, SOL_SOCKET, SO_TYPE, 0), { code: 'ERR_OUT_OF_RANGE' });
});

test('fuzz: the socket requests take arbitrary arguments and only settle, throw an argument error, or reject with a system error', async () => {
  const [a, b] = await streamPair(keep(new IoUring()));
  const [r, w] = pipe2().map(track);
  const closed = fs.openSync('/dev/null', 'r');
  fs.closeSync(closed);
  const before = copiesOf(r);
  const ring = new IoUring();
  const buffers = ring.bufferRing({ group: 11, entries: 4, size: 16 });
  let seed = 0x2545f491;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const pick = (xs) => xs[rand(xs.length)];
  const fds = [a, b, r, w, closed, -1, 2 ** 31, 'x'];
  const junk = () => pick([
    undefined, null, 0, -1, 1.5, NaN, 2 ** 32, 2n ** 64n, 'str', '127.0.0.1', '::1', path.join(dir, 'nowhere'), {}, [], [1],
    [Buffer.alloc(3)], [new Uint16Array(2), 'x'], Buffer.alloc(5), new DataView(new ArrayBuffer(4)), { fds: [r] }, { fds: [-5] },
    { address: '127.0.0.1', port: 70000 }, { address: 'a'.repeat(200) }, { maxFds: 3 }, { maxFds: -1 }, { flags: 0x40 },
    { signal: AbortSignal.abort() }, { link: 'yes' }, buffers, () => {},
  ]);
  const calls = [
    (f) => ring.sendmsg(f, junk(), junk(), junk()),
    (f) => ring.recvmsg(f, junk(), junk(), { signal: AbortSignal.timeout(20) }),
    (f) => ring.sendZc(f, junk(), junk()),
    (f) => ring.sendmsgZc(f, junk(), junk()),
    (f) => ring.epollCtl(f, junk(), pick(fds), junk(), junk()),
    (f) => ring.getsockopt(f, junk(), junk(), junk()),
    (f) => ring.setsockopt(f, junk(), junk(), junk()),
    (f) => ring.siocinq(f),
    (f) => ring.removeBuffers(junk(), junk()),
    () => ring.bufferRing(junk()),
    () => buffers.release(junk()),
    (f) => ring.pollMultishot(f, junk(), { signal: AbortSignal.timeout(20) }).next(),
    (f) => ring.acceptMultishot(f, junk(), { signal: AbortSignal.timeout(20) }).next(),
    (f) => ring.recvMultishot(f, pick([buffers, junk()]), junk(), { signal: AbortSignal.timeout(20) }).next(),
  ];
  const settled = [];
  for (let i = 0; i < 600; i++) {
    try {
      const p = pick(calls)(pick(fds));
      if (p instanceof Promise) {
        settled.push(p.then(
          (v) => v?.fds?.forEach((fd) => fs.closeSync(fd)), // fds received are the caller's to close
          (e) => assert.ok(e.syscall !== undefined || e.name === 'AbortError' || e.code?.startsWith('ERR_'), String(e)),
        ));
      }
    } catch (e) {
      assert.ok(e.code?.startsWith('ERR_') || e.syscall !== undefined, String(e));
    }
  }
  ring.close(); // what still waits is cancelled
  await Promise.all(settled);
  assert.equal(copiesOf(r), before, 'every fd received was closed');
});
