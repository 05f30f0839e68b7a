// Zero-copy I/O, high level: Pipe, sendFile, copyFile, proxy, pipeline, and
// how they borrow a net.Socket's fd from libuv (reading stopped, write queue
// waited out, given back as it was, TLS refused).
import { test, describe, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { Pipe, sendFile, copyFile, proxy, pipeline, teeTo, splice, vmsplice, pipe2, AbortError } from 'butter';
import { assertSysError } from './support/errors.mjs';
import { openFds, fdsOpenedSince } from './support/fds.mjs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-splice-high-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const FD_BASELINE = openFds();
after(() => assert.deepEqual(fdsOpenedSince(FD_BASELINE), [], 'every fd these tests opened is closed'));

/** Pipes a test made, closed after it. */
const pipes = [];
const own = (pipe) => (pipes.push(pipe), pipe);
/** Sockets a test made, destroyed after it (also when it fails half-way). */
const sockets = [];
afterEach(() => {
  for (const pipe of pipes.splice(0)) pipe.close();
  for (const socket of sockets.splice(0)) socket.destroy();
});

let files = 0;
/** A new file of `size` bytes of a recognisable pattern (or `content`). */
function file(size, content) {
  const p = path.join(dir, `f${files++}`);
  fs.writeFileSync(p, content ?? Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + (i >> 12)) & 255)));
  return p;
}

/** A connected pair of TCP sockets on loopback: [server side, client side]. */
async function socketPair(options = {}) {
  const server = net.createServer(options);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = net.connect({ port: server.address().port, host: '127.0.0.1', ...options });
  const [[accepted]] = await Promise.all([once(server, 'connection'), once(client, 'connect')]);
  server.close();
  sockets.push(accepted, client);
  return [accepted, client];
}

/** Everything `socket` receives until its peer ends. */
async function readToEnd(socket) {
  const chunks = [];
  socket.on('data', (d) => chunks.push(d));
  await once(socket, 'end');
  return Buffer.concat(chunks);
}

describe('Pipe', () => {
  test('owns two non-blocking, close-on-exec ends; its size can be read and set', () => {
    const pipe = own(new Pipe());
    assert.ok(pipe.readFd >= 0 && pipe.writeFd >= 0);
    for (const fd of [pipe.readFd, pipe.writeFd]) {
      const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
      const flags = parseInt(/^flags:\s+(\d+)/m.exec(info)[1], 8);
      assert.equal(flags & 0o4000, 0o4000, 'O_NONBLOCK');
      assert.equal(flags & 0o2000000, 0o2000000, 'O_CLOEXEC');
    }
    assert.equal(pipe.size, 65536);
    pipe.size = 1 << 18;
    assert.equal(pipe.size, 1 << 18);
    assert.equal(own(new Pipe({ size: 100000 })).size, 131072, 'rounded up to a power of two pages');
  });

  test('a packet pipe keeps each write apart', () => {
    const pipe = own(new Pipe({ packet: true }));
    fs.writeSync(pipe.writeFd, 'ab');
    fs.writeSync(pipe.writeFd, 'cd');
    const buf = Buffer.alloc(10);
    assert.equal(fs.readSync(pipe.readFd, buf), 2);
  });

  test('readable() waits for data, writable() for room', async () => {
    const pipe = own(new Pipe());
    let readable = false;
    const r = pipe.readable().then(() => (readable = true));
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(readable, false);
    fs.writeSync(pipe.writeFd, 'x');
    await r;
    // Fill it, then a read makes room.
    while (true) {
      try {
        fs.writeSync(pipe.writeFd, Buffer.alloc(65536));
      } catch (err) {
        assert.equal(err.code, 'EAGAIN');
        break;
      }
    }
    let writable = false;
    const w = pipe.writable().then(() => (writable = true));
    await new Promise((res) => setTimeout(res, 20));
    assert.equal(writable, false);
    fs.readSync(pipe.readFd, Buffer.alloc(65536));
    await w;
  });

  test('close() rejects pending waits with EBADF, and every use after it throws EBADF', async () => {
    const pipe = new Pipe();
    const r = pipe.readable();
    pipe.close();
    await assert.rejects(r, (err) => assertSysError(err, 'EBADF', 'epoll_wait'));
    assert.equal(pipe.readFd, -1);
    assert.equal(pipe.closed, true);
    assert.throws(() => pipe.size, (err) => assertSysError(err, 'EBADF', 'fcntl'));
    await assert.rejects(pipe.writable(), (err) => assertSysError(err, 'EBADF', 'epoll_wait'));
    pipe.close();
  });

  test('closeWrite() closes the write end only: the reader sees the end of input', async () => {
    const pipe = own(new Pipe());
    fs.writeSync(pipe.writeFd, 'last');
    const w = pipe.writable();
    pipe.closeWrite();
    await assert.rejects(w, (err) => assertSysError(err, 'EBADF', 'epoll_wait'));
    assert.equal(pipe.writeFd, -1);
    assert.equal(pipe.closed, false);
    const buf = Buffer.alloc(10);
    assert.equal(fs.readSync(pipe.readFd, buf), 4);
    await pipe.readable(); // end of input is readable
    assert.equal(fs.readSync(pipe.readFd, buf), 0);
    pipe.closeWrite();
  });

  test('an abort rejects a wait with an AbortError and stops watching', async () => {
    const pipe = own(new Pipe());
    const ac = new AbortController();
    const r = pipe.readable({ signal: ac.signal });
    ac.abort();
    await assert.rejects(r, (err) => err instanceof AbortError && err.code === 'ABORT_ERR');
    await assert.rejects(pipe.readable({ signal: AbortSignal.abort() }), AbortError);
  });

  test('bad options are refused as Node refuses them', () => {
    assert.throws(() => new Pipe({ size: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Pipe({ size: 'big' }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Pipe({ packet: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Pipe({ sise: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    const pipe = own(new Pipe());
    assert.throws(() => (pipe.size = 2 ** 31), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('its fds work with the 1:1 calls: vmsplice in, splice out', () => {
    const a = own(new Pipe());
    const b = own(new Pipe());
    vmsplice(a.writeFd, Buffer.from('hello'));
    assert.equal(splice(a.readFd, null, b.writeFd, null, 100).bytes, 5);
    const buf = Buffer.alloc(10);
    assert.equal(buf.subarray(0, fs.readSync(b.readFd, buf)).toString(), 'hello');
  });
});

describe('teeTo', () => {
  /** Writes `data` into `pipe` as room comes, then closes its write end. */
  async function feed(pipe, data) {
    for (let off = 0; off < data.length; ) {
      try {
        off += fs.writeSync(pipe.writeFd, data, off, Math.min(65536, data.length - off));
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err;
        await pipe.writable();
      }
    }
    pipe.closeWrite();
  }
  /** Reads `pipe` until its end of input, waiting `delayMs` between reads (a slow consumer). */
  async function drain(pipe, delayMs = 0) {
    const chunks = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      let n;
      try {
        n = fs.readSync(pipe.readFd, buf);
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err;
        await pipe.readable();
        continue;
      }
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(Buffer.from(buf.subarray(0, n)));
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    }
  }

  test('gives every byte of a pipe to two outputs, a slow one and a fast one, until its writers are gone', async () => {
    const data = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 31) & 255));
    const src = own(new Pipe());
    const a = own(new Pipe());
    const b = own(new Pipe());
    const out = path.join(dir, 'tee-file');
    const fh = await fs.promises.open(out, 'w');
    try {
      const [sent, gotA] = await Promise.all([
        teeTo(src, a, b).finally(() => { a.closeWrite(); b.closeWrite(); }),
        drain(a, 1),
        drain(b).then((got) => fh.write(got)),
        feed(src, data),
      ]);
      assert.equal(sent, data.length);
      assert.ok(gotA.equals(data));
    } finally {
      await fh.close();
    }
    assert.ok(fs.readFileSync(out).equals(data));
  });

  test('to a socket, which it gives back', async () => {
    const [server, client] = await socketPair();
    const src = own(new Pipe());
    const a = own(new Pipe());
    const received = readToEnd(client);
    const [sent] = await Promise.all([teeTo(src, a, server).finally(() => a.closeWrite()), drain(a), feed(src, Buffer.from('to both'))]);
    assert.equal(sent, 7);
    server.end(' and back to Node');
    assert.equal((await received).toString(), 'to both and back to Node');
  });

  test('an output whose reader is gone fails it with EPIPE; an abort with an AbortError', async () => {
    const src = own(new Pipe());
    const [r, w] = pipe2();
    fs.closeSync(r);
    const b = own(new Pipe());
    fs.writeSync(src.writeFd, 'x');
    await assert.rejects(teeTo(src, w, b), (err) => assertSysError(err, 'EPIPE', 'tee'));
    fs.closeSync(w);
    const ac = new AbortController();
    const waiting = teeTo(src, own(new Pipe()), b, { signal: ac.signal }); // src's writer is still open: it waits
    setTimeout(() => ac.abort(), 30);
    await assert.rejects(waiting, AbortError);
  });

  test('bad arguments are refused as Node refuses them', async () => {
    const p = own(new Pipe());
    await assert.rejects(teeTo('x', p, p), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(teeTo(p, {}, p), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(teeTo(p, p, -1), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(teeTo(p, p, new tls.TLSSocket(new net.Socket())), { code: 'ERR_INVALID_ARG_VALUE' });
    p.close();
    await assert.rejects(teeTo(p, 1, 2), (err) => assertSysError(err, 'EBADF', 'tee'));
  });
});

describe('sendFile', () => {
  test('sends a file to a socket after what was written to it, and gives the socket back', async () => {
    const p = file(5_000_000);
    const [server, client] = await socketPair();
    const received = readToEnd(client);
    // A write libuv cannot finish at once: sendFile must wait for its queue.
    const head = Buffer.alloc(8 << 20, 'h');
    server.write(head);
    assert.ok(server.writableLength > 0, 'the write is still queued');
    assert.equal(await sendFile(server, p), 5_000_000);
    // The send made the socket blocking for its duration: libuv gets it back non-blocking.
    const flags = parseInt(/^flags:\s+(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${server._handle.fd}`, 'utf8'))[1], 8);
    assert.equal(flags & 0o4000, 0o4000, 'O_NONBLOCK');
    server.end('tail');
    const got = await received;
    assert.equal(got.length, head.length + 5_000_000 + 4);
    assert.ok(got.subarray(0, head.length).equals(head));
    assert.ok(got.subarray(head.length, head.length + 5_000_000).equals(fs.readFileSync(p)));
    assert.equal(got.subarray(-4).toString(), 'tail');
    client.destroy();
  });

  test('libuv does not read the socket while the file goes out, and reads again afterwards', async () => {
    const p = file(32 << 20);
    const [server, client] = await socketPair();
    const seen = [];
    let sending = true;
    server.on('data', (d) => seen.push([sending, d.toString()]));
    const sent = sendFile(server, p);
    // The client reads nothing yet, so the send blocks on a full socket; meanwhile it writes.
    await new Promise((r) => setTimeout(r, 50));
    client.write('ping');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, [], 'no data event while the socket is borrowed');
    client.resume();
    assert.equal(await sent, 32 << 20);
    sending = false;
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(seen, [[false, 'ping']]);
    server.destroy();
    client.destroy();
  });

  test('offset and length pick a range; with an offset the file position stays, without one it moves', async () => {
    const p = file(100_000);
    const content = fs.readFileSync(p);
    const [server, client] = await socketPair();
    const received = readToEnd(client);
    const fd = fs.openSync(p, 'r');
    try {
      assert.equal(await sendFile(server, fd, { offset: 1000, length: 500 }), 500);
      assert.equal(await sendFile(server, fd, { length: 300 }), 300); // from the position, 0
      assert.equal(await sendFile(server, fd, { length: 10 }), 10); // from 300 now
      assert.equal(await sendFile(server, fd, { offset: 99_990n, length: 50 }), 10, 'fewer when the file ends first');
    } finally {
      fs.closeSync(fd);
    }
    server.end();
    const got = await received;
    assert.ok(got.equals(Buffer.concat([content.subarray(1000, 1500), content.subarray(0, 310), content.subarray(99_990)])));
    client.destroy();
  });

  test('to an fd or a FileHandle, from a FileHandle', async () => {
    const p = file(70_000);
    const out = path.join(dir, 'out');
    const fh = await fs.promises.open(p, 'r');
    const oh = await fs.promises.open(out, 'w');
    try {
      assert.equal(await sendFile(oh, fh), 70_000);
      assert.equal(await sendFile(oh.fd, p, { length: 5 }), 5);
    } finally {
      await fh.close();
      await oh.close();
    }
    assert.ok(fs.readFileSync(out).equals(Buffer.concat([fs.readFileSync(p), fs.readFileSync(p).subarray(0, 5)])));
  });

  test('errors are fs-shaped and name the file', async () => {
    const missing = path.join(dir, 'missing');
    const [server, client] = await socketPair({ allowHalfOpen: true });
    await assert.rejects(sendFile(server, missing), (err) => assertSysError(err, 'ENOENT', 'open', missing));
    const d = path.join(dir, 'adir');
    fs.mkdirSync(d);
    await assert.rejects(sendFile(server, d), (err) => assertSysError(err, 'EINVAL', 'sendfile', d));
    client.destroy();
    await once(server, 'end');
    await new Promise((r) => setTimeout(r, 20));
    // The peer is gone: EPIPE or ECONNRESET, as a write would get.
    await assert.rejects(sendFile(server, file(4 << 20)), (err) => ['EPIPE', 'ECONNRESET'].includes(err.code) && err.syscall === 'sendfile');
    server.destroy();
    await assert.rejects(sendFile(server, file(10)), (err) => assertSysError(err, 'EBADF', 'sendfile'));
  });

  test('a TLS socket is refused: its bytes are not the wire bytes', async () => {
    const socket = new tls.TLSSocket(new net.Socket());
    await assert.rejects(sendFile(socket, file(10)), (err) => err.code === 'ERR_INVALID_ARG_VALUE' && /TLS socket/.test(err.message));
    socket.destroy();
  });

  test('an abort rejects with an AbortError and ends the send', async () => {
    const [server, client] = await socketPair();
    const ac = new AbortController();
    const sent = sendFile(server, file(32 << 20), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50)); // blocked: the client reads nothing
    ac.abort();
    await assert.rejects(sent, AbortError);
    await assert.rejects(sendFile(server, file(1), { signal: AbortSignal.abort() }), AbortError);
    server.destroy();
    client.destroy();
  });

  test('bad arguments are refused as Node refuses them', async () => {
    await assert.rejects(sendFile({}, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(sendFile(1.5, 'x'), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(sendFile(1, 'x', { length: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(sendFile(1, 'x', { offset: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(sendFile(1, 'x', { lenght: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(sendFile(1, 'x', { signal: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(sendFile(1, 'a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('proxy', () => {
  /** A client -> proxy -> upstream chain: returns the client, the upstream's socket and the proxy's Promise. */
  async function chain(options, beforeProxy) {
    const [front, client] = await socketPair();
    const [upstream, back] = await socketPair({ allowHalfOpen: true });
    await beforeProxy?.(client, upstream);
    return { client, upstream, done: proxy(front, back, options), front, back };
  }

  test('joins two sockets both ways, half-close included, then destroys both', async () => {
    const { client, upstream, done, front, back } = await chain();
    const toUpstream = readToEnd(upstream);
    const toClient = readToEnd(client);
    client.end(Buffer.alloc(3 << 20, 'c'));
    const got = await toUpstream; // the client's end reached the upstream as an EOF
    assert.equal(got.length, 3 << 20);
    upstream.end('reply after the client half-closed');
    assert.equal((await toClient).toString(), 'reply after the client half-closed');
    assert.deepEqual(await done, { aToB: 3 << 20, bToA: 34 });
    assert.ok(front.destroyed && back.destroyed);
    upstream.destroy();
    client.destroy();
  });

  test('bytes Node had read before the proxy started go first', async () => {
    const { client, upstream, done } = await chain(undefined, async (c) => {
      c.write('early ');
      await new Promise((r) => setTimeout(r, 50)); // libuv reads them into the front socket's buffer
    });
    const toUpstream = readToEnd(upstream);
    client.end('late');
    assert.equal((await toUpstream).toString(), 'early late');
    upstream.end();
    await done;
    client.destroy();
  });

  test('an error on one side stops both, destroys both with it, and rejects with it', async () => {
    const { client, upstream, done, front, back } = await chain();
    upstream.resetAndDestroy();
    await assert.rejects(done, (err) => err.code === 'ECONNRESET' && err.syscall === 'splice' && err.errno === -os.constants.errno.ECONNRESET);
    assert.ok(front.destroyed && back.destroyed);
    client.destroy();
  });

  test('an abort stops both directions with an AbortError', async () => {
    const ac = new AbortController();
    const { client, upstream, done, front } = await chain({ signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await assert.rejects(done, AbortError);
    assert.ok(front.destroyed);
    client.destroy();
    upstream.destroy();
  });

  test('refuses TLS sockets, the same socket twice, and non-sockets', async () => {
    const [a, b] = await socketPair();
    const t = new tls.TLSSocket(new net.Socket());
    await assert.rejects(proxy(a, t), (err) => err.code === 'ERR_INVALID_ARG_VALUE' && /TLS/.test(err.message));
    await assert.rejects(proxy(a, a), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(proxy(a, {}), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.ok(!a.destroyed, 'a refused proxy leaves the sockets alone');
    t.destroy();
    a.destroy();
    b.destroy();
  });
});

describe('copyFile', () => {
  test('copies content and permission bits', async () => {
    const src = file(3_000_000);
    fs.chmodSync(src, 0o640);
    const dst = path.join(dir, 'copy1');
    await copyFile(src, dst);
    assert.ok(fs.readFileSync(dst).equals(fs.readFileSync(src)));
    assert.equal(fs.statSync(dst).mode & 0o777, 0o640);
    await copyFile(file(10, 'short'), dst); // over a longer file: truncated
    assert.equal(fs.readFileSync(dst, 'utf8'), 'short');
  });

  test('holes stay holes', async () => {
    const src = path.join(dir, 'sparse');
    const fd = fs.openSync(src, 'w');
    fs.writeSync(fd, 'start', 0);
    fs.writeSync(fd, 'middle', 32 << 20);
    fs.ftruncateSync(fd, 64 << 20); // a trailing hole too
    fs.closeSync(fd);
    const dst = path.join(dir, 'sparse-copy');
    await copyFile(src, dst);
    const [s, d] = [fs.statSync(src), fs.statSync(dst)];
    assert.equal(d.size, 64 << 20);
    assert.ok(d.blocks <= s.blocks + 16, `${d.blocks} blocks allocated for ${s.blocks} in the source`);
    assert.ok(fs.readFileSync(dst).equals(fs.readFileSync(src)));
  });

  test('errors are the ones fs.copyFile gives, with the same fields', async () => {
    const src = file(10);
    const dst = path.join(dir, 'exists');
    fs.writeFileSync(dst, 'keep');
    const { COPYFILE_EXCL, COPYFILE_FICLONE_FORCE } = fs.constants;
    const missing = path.join(dir, 'nope');
    for (const [args, code] of [[[src, dst, COPYFILE_EXCL], 'EEXIST'], [[missing, dst], 'ENOENT'], [[src, path.join(dir, 'no', 'dir')], 'ENOENT']]) {
      const theirs = await fs.promises.copyFile(...args).catch((e) => e);
      assertSysError(theirs, code, 'copyfile', String(args[0]), { dest: String(args[1]) });
      await assert.rejects(copyFile(...args), (err) => assertSysError(err, code, 'copyfile', String(args[0]), { dest: String(args[1]) }));
    }
    assert.equal(fs.readFileSync(dst, 'utf8'), 'keep', 'COPYFILE_EXCL left it alone');
    // Whether this filesystem can reflink or not, both agree.
    const forced = path.join(dir, 'forced');
    const theirs = await fs.promises.copyFile(src, forced, COPYFILE_FICLONE_FORCE).then(() => 'ok', (e) => e.code);
    fs.rmSync(forced, { force: true });
    const ours = await copyFile(src, forced, COPYFILE_FICLONE_FORCE).then(() => 'ok', (e) => e.code);
    assert.equal(ours, theirs);
    if (ours !== 'ok') assert.equal(fs.existsSync(forced), false, 'a failed copy removes what it made');
  });

  test('a file copied onto itself is left alone', async () => {
    const src = file(10, 'unchanged');
    await copyFile(src, src);
    assert.equal(fs.readFileSync(src, 'utf8'), 'unchanged');
  });

  test('bad arguments are refused as Node refuses them', async () => {
    await assert.rejects(copyFile(1, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(copyFile('a', 'b\0'), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(copyFile('a', 'b', 64), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(copyFile('a', 'b', -1), { code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('pipeline', () => {
  test('a file to a socket goes by sendfile, a socket to a file by splice', async () => {
    const p = file(2_000_000);
    const out = path.join(dir, 'from-socket');
    const [server, client] = await socketPair();
    const into = pipeline(server, fs.createWriteStream(out));
    const from = pipeline(fs.createReadStream(p, { start: 10, end: 1_000_009 }), client);
    assert.deepEqual(await from, { mode: 'sendfile', bytes: 1_000_000 });
    assert.deepEqual(await into, { mode: 'splice', bytes: 1_000_000 });
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(p).subarray(10, 1_000_010)));
    assert.ok(server.destroyed && client.destroyed);
  });

  test('streams, and says why, when an end is not fd-backed', async () => {
    const p = file(100_000);
    const sink = new PassThrough();
    const chunks = [];
    sink.on('data', (d) => chunks.push(d));
    assert.deepEqual(await pipeline(fs.createReadStream(p), sink), { mode: 'stream', bytes: null, reason: 'dst is not backed by an fd' });
    assert.ok(Buffer.concat(chunks).equals(fs.readFileSync(p)));
    const out = path.join(dir, 'appended');
    const r = await pipeline(fs.createReadStream(p), fs.createWriteStream(out, { flags: 'a' }));
    assert.equal(r.mode, 'stream');
    assert.match(r.reason, /O_APPEND/);
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(p)));
  });

  test('FileHandle to FileHandle, left open for their owner', async () => {
    const p = file(300_000);
    const out = path.join(dir, 'fh-out');
    const src = await fs.promises.open(p, 'r');
    const dst = await fs.promises.open(out, 'w');
    try {
      assert.deepEqual(await pipeline(src, dst), { mode: 'sendfile', bytes: 300_000 });
      assert.ok(src.fd >= 0 && dst.fd >= 0);
    } finally {
      await src.close();
      await dst.close();
    }
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(p)));
  });
});

test('no fd is left behind by 200 rounds of each, or by a Worker terminated in the middle of a send', async () => {
  const before = openFds();
  const p = file(100_000);
  for (let i = 0; i < 200; i++) {
    new Pipe().close();
    await copyFile(p, path.join(dir, 'leak-copy'));
    const out = await fs.promises.open(path.join(dir, 'leak-out'), 'w');
    await sendFile(out, p);
    await out.close();
  }
  assert.deepEqual(fdsOpenedSince(before), []);
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    const net = require('node:net');
    const { sendFile, Pipe } = require(${JSON.stringify(path.resolve('dist/cjs/index.js'))});
    const server = net.createServer((s) => { new Pipe(); sendFile(s, ${JSON.stringify(file(32 << 20))}); parentPort.postMessage('sending'); });
    server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
  `, { eval: true });
  const [port] = await once(worker, 'message');
  const client = net.connect(port, '127.0.0.1'); // reads nothing: the send blocks
  await once(worker, 'message');
  await new Promise((r) => setTimeout(r, 50));
  await worker.terminate();
  client.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(fdsOpenedSince(before), []);
});
