// POSIX AIO as glibc implements it: Aiocb and the 1:1 calls, every errno that
// can be provoked here, and PosixAio (completions through an eventfd, no
// signal, nothing blocking the loop).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Aiocb, aioRead, aioWrite, aioFsync, aioError, aioReturn, aioSuspend, aioCancel, lioListio, PosixAio, pipe2, constants as C,
} from 'butter';
import { assertSysError } from './support/errors.mjs';
import { runChild } from './support/child.mjs';
import { closedAfter, scratchDir } from './support/fds.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const { EINPROGRESS, EBADF, EINVAL } = os.constants.errno;

const dir = scratchDir('posix-aio');
const opened = closedAfter();
const track = (...fds) => (opened.push(...fds), fds);
const objects = [];
after(() => objects.forEach((o) => o.close()));
const own = (o) => (objects.push(o), o);

let files = 0;
function file(content = 'hello world', flags = 'r+') {
  const p = path.join(dir, `f${files++}`);
  fs.writeFileSync(p, content);
  const [fd] = track(fs.openSync(p, flags));
  return { fd, p };
}

/** Waits (blocking) for every aiocb, then returns their aio_return results (or error codes). */
function finish(aiocbs) {
  for (const a of aiocbs) while (aioError(a) === EINPROGRESS) aioSuspend([a], 5_000_000_000n);
  return aiocbs.map((a) => {
    try {
      return aioReturn(a);
    } catch (err) {
      return err.code;
    }
  });
}

describe('the 1:1 calls', () => {
  test('aio_read, aio_write, aio_fsync (O_SYNC, O_DSYNC); aio_error and aio_return; aio_suspend waits', () => {
    const { fd, p } = file();
    const buf = Buffer.alloc(5);
    const r = new Aiocb({ fd, buffer: buf, offset: 6 });
    assert.throws(() => aioError(r), (err) => assertSysError(err, 'EINVAL', 'aio_error'), 'never submitted');
    assert.throws(() => aioReturn(r), (err) => assertSysError(err, 'EINVAL', 'aio_return'));
    aioRead(r);
    aioSuspend([r]);
    assert.equal(aioError(r), 0);
    assert.equal(aioReturn(r), 5);
    assert.equal(buf.toString(), 'world');
    const w = new Aiocb({ fd, buffer: Buffer.from('HELLO'), offset: 0 });
    aioWrite(w);
    const s = new Aiocb({ fd });
    aioFsync(C.O_SYNC, s);
    const d = new Aiocb({ fd });
    aioFsync(C.O_DSYNC, d);
    assert.deepEqual(finish([w, s, d]), [5, 0, 0]);
    assert.equal(fs.readFileSync(p, 'latin1'), 'HELLO world');
    aioRead(r);
    assert.deepEqual(finish([r]), [5], 'an aiocb is submitted again once done');
  });

  test('lio_listio: LIO_WAIT runs every opcode (LIO_NOP does nothing); LIO_NOWAIT returns at once', () => {
    const { fd, p } = file('0123456789');
    const a = new Aiocb({ fd, opcode: C.LIO_READ, buffer: Buffer.alloc(3), offset: 2 });
    const b = new Aiocb({ fd, opcode: C.LIO_WRITE, buffer: Buffer.from('ab'), offset: 8 });
    const n = new Aiocb({ fd, opcode: C.LIO_NOP });
    lioListio(C.LIO_WAIT, [a, b, n]);
    assert.equal(aioReturn(a), 3);
    assert.equal(a.buffer.toString(), '234');
    assert.equal(aioReturn(b), 2);
    assert.equal(fs.readFileSync(p, 'latin1'), '01234567ab');
    const c = new Aiocb({ fd, opcode: C.LIO_READ, buffer: Buffer.alloc(10) });
    lioListio(C.LIO_NOWAIT, [c]);
    assert.deepEqual(finish([c]), [10]);
  });

  test('errors: EBADF (a closed fd, a read of a write-only fd), EINVAL (a bad aio_fsync op, a negative offset, lio_listio mode), EIO from LIO_WAIT', () => {
    const { fd, p } = file();
    const closed = fs.openSync(p, 'r');
    fs.closeSync(closed);
    // glibc's aio_fsync checks the fd; a read finds it closed in glibc's thread.
    const gone = new Aiocb({ fd: closed, buffer: Buffer.alloc(1) });
    aioRead(gone);
    assert.deepEqual(finish([gone]), ['EBADF']);
    assert.throws(() => aioFsync(C.O_SYNC, new Aiocb({ fd: closed })), (err) => assertSysError(err, 'EBADF', 'aio_fsync'));
    assert.throws(() => aioFsync(12345, new Aiocb({ fd })), (err) => assertSysError(err, 'EINVAL', 'aio_fsync'));
    const [wronly] = track(fs.openSync(p, 'a'));
    const r = new Aiocb({ fd: wronly, buffer: Buffer.alloc(4) });
    aioRead(r);
    assert.deepEqual(finish([r]), ['EBADF']);
    assert.throws(() => aioReturn(r), (err) => assertSysError(err, 'EINVAL', 'aio_return'), 'aio_return takes a result once');
    const r2 = new Aiocb({ fd: wronly, buffer: Buffer.alloc(4) });
    aioRead(r2);
    while (aioError(r2) === EINPROGRESS) aioSuspend([r2]);
    assert.throws(() => aioReturn(r2), (err) => assertSysError(err, 'EBADF', 'aio_read'), 'the error names the call that submitted it');
    assert.throws(() => lioListio(99, [new Aiocb({ fd })]), (err) => assertSysError(err, 'EINVAL', 'lio_listio'));
    const bad = new Aiocb({ fd: wronly, opcode: C.LIO_READ, buffer: Buffer.alloc(1) });
    assert.throws(() => lioListio(C.LIO_WAIT, [bad, new Aiocb({ fd, opcode: C.LIO_READ, buffer: Buffer.alloc(1) })]), (err) => assertSysError(err, 'EIO', 'lio_listio'));
    assert.equal(aioError(bad), EBADF);
  });

  test('aio_suspend times out with EAGAIN; aio_cancel: AIO_ALLDONE for what is done, EBADF for a closed fd, EINVAL for another fd\'s aiocb', () => {
    const [r, w] = pipe2();
    track(r, w);
    const waiting = new Aiocb({ fd: r, buffer: Buffer.alloc(1) });
    // A non-blocking pipe: glibc's thread reads EAGAIN at once.
    aioRead(waiting);
    assert.deepEqual(finish([waiting]), ['EAGAIN']);
    const { fd } = file();
    const done = new Aiocb({ fd, buffer: Buffer.alloc(1) });
    aioRead(done);
    finish([done]);
    assert.equal(aioCancel(fd, done), C.AIO_ALLDONE);
    assert.equal(aioCancel(fd), C.AIO_ALLDONE);
    assert.equal(aioCancel(fd, new Aiocb({ fd })), C.AIO_ALLDONE, 'never submitted: nothing to cancel');
    assert.throws(() => aioCancel(r, done), (err) => assertSysError(err, 'EINVAL', 'aio_cancel'));
    const closed = fs.openSync(process.execPath, 'r');
    fs.closeSync(closed);
    assert.throws(() => aioCancel(closed), (err) => assertSysError(err, 'EBADF', 'aio_cancel'));
    // An aiocb never submitted is not waited for.
    aioSuspend([new Aiocb({ fd })], 1_000_000n);
    // The last of 20 reads glibc runs one after another on one fd cannot be done 1 ns after they were queued.
    const { fd: big } = file('x'.repeat(1 << 20));
    const queue = Array.from({ length: 20 }, () => new Aiocb({ fd: big, buffer: Buffer.alloc(1 << 20) }));
    queue.forEach(aioRead);
    assert.throws(() => aioSuspend([queue[19]], 1n), (err) => assertSysError(err, 'EAGAIN', 'aio_suspend'));
    assert.deepEqual(finish(queue), queue.map(() => 1 << 20));
  });

  test('a read or write of a blocking pipe is refused: glibc\'s thread would block for good', () => {
    const [br, bw] = pipe2(C.O_CLOEXEC);
    track(br, bw);
    assert.throws(() => aioRead(new Aiocb({ fd: br, buffer: Buffer.alloc(1) })), { code: 'ERR_INVALID_ARG_VALUE', message: /'aiocb\.fd' is a blocking fd/ });
    assert.throws(() => lioListio(C.LIO_NOWAIT, [new Aiocb({ fd: br, opcode: C.LIO_NOP }), new Aiocb({ fd: br, opcode: C.LIO_READ, buffer: Buffer.alloc(1) })]),
      { code: 'ERR_INVALID_ARG_VALUE', message: /'aiocbs\[1\]\.fd'/ });
  });

  test('an aiocb in flight cannot be submitted again (EBUSY); one collected while in flight waits for its request', async () => {
    const { fd } = file('x'.repeat(1 << 20));
    const big = new Aiocb({ fd, buffer: Buffer.alloc(1 << 20) });
    let seen = false;
    for (let i = 0; i < 50 && !seen; i++) {
      aioRead(big);
      let busy = false;
      try {
        aioRead(big);
      } catch (err) {
        assertSysError(err, 'EBUSY', 'aio_read');
        busy = true;
      }
      finish([big]);
      seen = busy;
    }
    assert.ok(seen, 'a second aio_read while the first runs is EBUSY');
    // Forgotten aiocbs with requests queued behind each other on one fd: their finalizers wait.
    (() => {
      for (let i = 0; i < 20; i++) aioRead(new Aiocb({ fd, buffer: Buffer.alloc(1 << 20) }));
    })();
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const after = new Aiocb({ fd, buffer: Buffer.alloc(1) });
    aioRead(after);
    assert.deepEqual(finish([after]), [1]);
  });

  test('argument errors', () => {
    assert.throws(() => new Aiocb(), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Aiocb({ fd: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Aiocb({ fd: 0, buffer: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Aiocb({ fd: 0, nope: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => aioRead(new Aiocb({ fd: 0 })), { code: 'ERR_INVALID_ARG_TYPE', message: /aiocb\.buffer/ });
    for (const bad of [undefined, {}, Object.create(Aiocb.prototype)]) {
      assert.throws(() => aioRead(bad), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => aioSuspend([bad]), { code: 'ERR_INVALID_ARG_TYPE', message: /aiocbs\[0\]/ });
    }
    assert.throws(() => aioSuspend([], -1n), { code: 'ERR_OUT_OF_RANGE' });
  });
});

describe('PosixAio', () => {
  test('read, write, fsync and fdatasync resolve with their results; errors are fs-shaped', async () => {
    const { fd, p } = file();
    const aio = own(new PosixAio());
    const buf = Buffer.alloc(5);
    assert.deepEqual(await Promise.all([aio.read(fd, buf, 6), aio.write(fd, Buffer.from('J'), 0), aio.fsync(fd), aio.fdatasync(fd)]), [5, 1, 0, 0]);
    assert.equal(buf.toString(), 'world');
    assert.equal(fs.readFileSync(p, 'latin1'), 'Jello world');
    const [wronly] = track(fs.openSync(p, 'a'));
    assertSysError(await aio.read(wronly, Buffer.alloc(1)).catch((e) => e), 'EBADF', 'aio_read');
    const closed = fs.openSync(p, 'r');
    fs.closeSync(closed);
    assertSysError(await aio.fsync(closed).catch((e) => e), 'EBADF', 'aio_fsync');
    const [br, bw] = pipe2(C.O_CLOEXEC);
    track(br, bw);
    await assert.rejects(aio.read(br, Buffer.alloc(1)), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => aio.read(fd, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => aio.write(fd, Buffer.alloc(1), -1), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('many requests on several fds all complete, and the loop stays free meanwhile', async () => {
    const fds = Array.from({ length: 4 }, (_, i) => file(String(i).repeat(65536)).fd);
    const aio = own(new PosixAio());
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const b = Buffer.alloc(100);
      return aio.read(fds[i % 4], b, i * 100).then((n) => [n, b.toString('latin1', 0, 1)]);
    }));
    clearInterval(timer);
    results.forEach(([n, c], i) => assert.deepEqual([n, c], [100, String(i % 4)]));
    assert.ok(ticks > 0, 'timers ran while requests were in flight');
  });

  test('close() settles everything and rejects later requests with EBADF; no fd is left; no signal reaches the process', () => {
    const r = runChild(`
      import fs from 'node:fs';
      import { PosixAio } from 'butter';
      const count = () => fs.readdirSync('/proc/self/fd').length;
      for (const s of ['SIGUSR1', 'SIGUSR2', 'SIGIO', 'SIGRTMIN']) process.on(s, () => { console.log('signal', s); });
      const before = count();
      const fd = fs.openSync(process.execPath, 'r');
      const aio = new PosixAio();
      const pending = Array.from({ length: 50 }, (_, i) => aio.read(fd, Buffer.alloc(4096), i * 4096).then((n) => n, (e) => e.code));
      aio.close();
      const settled = await Promise.all(pending);
      if (!settled.every((s) => s === 4096 || s === 'EBADF')) throw new Error(String(settled));
      const out = [await aio.read(fd, Buffer.alloc(1)).catch((e) => e.code)];
      const again = new PosixAio();
      out.push(await again.read(fd, Buffer.alloc(4), 0));
      again.close();
      fs.closeSync(fd);
      out.push(count() - before);
      console.log(out.join('\\n'));
    `, { timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'EBADF\n4\n0\n');
  });

  test('a Worker ending with requests in flight ends, leaks no fd and does not crash', () => {
    const r = runChild(`
      import { Worker } from 'node:worker_threads';
      import fs from 'node:fs';
      const count = () => fs.readdirSync('/proc/self/fd').length;
      const src = \`
        import { PosixAio } from \${JSON.stringify(import.meta.resolve('butter'))};
        import { parentPort } from 'node:worker_threads';
        import fs from 'node:fs';
        const aio = new PosixAio();
        const fd = fs.openSync(process.execPath, 'r');
        for (let j = 0; j < 64; j++) aio.read(fd, Buffer.alloc(65536), j * 65536).catch(() => {});
        parentPort.postMessage(fd);
      \`;
      let before;
      for (let i = 0; i < 6; i++) {
        if (i === 1) before = count();
        const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(src)));
        await new Promise((resolve) => w.once('message', resolve));
        await w.terminate(); // Node closes the fds a Worker opened with fs.openSync
      }
      console.log(count() - before);
    `, { timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '0');
  });
});
