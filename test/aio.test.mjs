// Linux AIO: the 1:1 calls (every IOCB_CMD_*, RWF_* and IOCB_FLAG_*), every
// errno that can be provoked here, buffers held until their event is reaped,
// and LinuxAio (Promises, one context, completions through an eventfd).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ioSetup, ioDestroy, ioSubmit, ioGetevents, ioCancel, alignedBuffer, AioContext, LinuxAio, EventFd, eventfdRead, pipe2, constants as C,
  Aiocb, aioRead, aioWrite, aioFsync, aioError, aioReturn, aioSuspend, aioCancel, lioListio, PosixAio,
} from 'butter';
import { assertSysError } from './support/errors.mjs';
import { runChild } from './support/child.mjs';
import { closedAfter, scratchDir } from './support/fds.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

// /tmp is ext4 here, which supports O_DIRECT; a tmpfs would do buffered I/O for it.
const dir = scratchDir('aio');
const opened = closedAfter();
const track = (...fds) => (opened.push(...fds), fds);
const objects = [];
after(() => objects.forEach((o) => o.close()));
const own = (o) => (objects.push(o), o);

let files = 0;
/** A new file of `size` bytes, byte i = i % 251, opened with `flags`. */
function file(size = 65536, flags = 'r+') {
  const p = path.join(dir, `f${files++}`);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = i % 251;
  fs.writeFileSync(p, data);
  const [fd] = track(fs.openSync(p, flags));
  return { fd, p, data };
}
const POLLIN = 1;
const POLLOUT = 4;
const pipe = () => track(...pipe2());
const blockingPipe = () => track(...pipe2(C.O_CLOEXEC));

describe('the 1:1 calls', () => {
  test('every operation: pread, pwrite, preadv, pwritev, fsync, fdsync, poll; data comes back in the event', () => {
    const { fd, data } = file();
    const ctx = ioSetup(16);
    try {
      const a = Buffer.alloc(100);
      const v1 = Buffer.alloc(3);
      const v2 = Buffer.alloc(5);
      const [r, w] = pipe();
      fs.writeSync(w, 'x');
      const n = ioSubmit(ctx, [
        { opcode: C.IOCB_CMD_PREAD, fd, buffer: a, offset: 1000, data: 1 },
        { opcode: C.IOCB_CMD_PWRITE, fd, buffer: Buffer.from('hello'), offset: 0, data: 2 },
        { opcode: C.IOCB_CMD_PREADV, fd, buffers: [v1, v2], offset: 2000, data: 3 },
        { opcode: C.IOCB_CMD_PWRITEV, fd, buffers: [Buffer.from('ab'), Buffer.from('cd')], offset: 10, data: 4 },
        { opcode: C.IOCB_CMD_FSYNC, fd, data: 5 },
        { opcode: C.IOCB_CMD_FDSYNC, fd, data: 6 },
        { opcode: C.IOCB_CMD_POLL, fd: r, events: POLLIN, data: 2 ** 53 - 1 },
      ]);
      assert.equal(n, 7);
      const events = [];
      while (events.length < 7) events.push(...ioGetevents(ctx, 1, 16, 5_000_000_000n));
      const byData = Object.fromEntries(events.map((e) => [e.data, e.res]));
      assert.equal(byData[2 ** 53 - 1] & POLLIN, POLLIN);
      delete byData[2 ** 53 - 1];
      assert.deepEqual(byData, { 1: 100, 2: 5, 3: 8, 4: 4, 5: 0, 6: 0 });
      assert.deepEqual(a, data.subarray(1000, 1100));
      assert.deepEqual(Buffer.concat([v1, v2]), data.subarray(2000, 2008));
      const back = Buffer.alloc(14);
      fs.readSync(fd, back, 0, 14, 0);
      assert.equal(back.toString('latin1', 0, 5), 'hello');
      assert.equal(back.toString('latin1', 10, 14), 'abcd');
      for (const e of events) assert.equal(e.res2, 0);
    } finally {
      ioDestroy(ctx);
    }
  });

  test('RWF_* flags reach the kernel: RWF_APPEND writes at the end whatever the offset; RWF_NOWAIT; an unknown flag is EOPNOTSUPP (ENOTSUP, the same number)', () => {
    const { fd } = file(10);
    const ctx = ioSetup(4);
    try {
      ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PWRITE, fd, buffer: Buffer.from('END'), offset: 0, rwFlags: C.RWF_APPEND | C.RWF_DSYNC, data: 1 }]);
      assert.equal(ioGetevents(ctx, 1, 1)[0].res, 3);
      assert.equal(fs.fstatSync(fd).size, 13);
      ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(3), offset: 10, rwFlags: C.RWF_NOWAIT }]);
      assert.equal(ioGetevents(ctx, 1, 1)[0].res, 3, 'cached: RWF_NOWAIT reads it');
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(1), rwFlags: 0x80000000 }]),
        (err) => assertSysError(err, 'ENOTSUP', 'io_submit'));
    } finally {
      ioDestroy(ctx);
    }
  });

  test('IOCB_FLAG_RESFD: each completion adds 1 to the eventfd', () => {
    const { fd } = file();
    const ev = new EventFd();
    const ctx = ioSetup(4);
    try {
      const iocb = (data) => ({ opcode: C.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(8), data, flags: C.IOCB_FLAG_RESFD, resfd: ev.fd });
      assert.equal(ioSubmit(ctx, [iocb(1), iocb(2), iocb(3)]), 3);
      assert.equal(eventfdRead(ev.fd), 3n);
      assert.equal(ioGetevents(ctx, 3, 4).length, 3);
    } finally {
      ioDestroy(ctx);
      ev.close();
    }
  });

  test('IOCB_FLAG_IOPRIO: a valid priority is taken, an unknown class is EINVAL', () => {
    const { fd } = file();
    const ctx = ioSetup(2);
    try {
      const prio = (C.IOPRIO_CLASS_BE << C.IOPRIO_CLASS_SHIFT) | 4;
      assert.equal(ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(8), flags: C.IOCB_FLAG_IOPRIO, reqprio: prio }]), 1);
      assert.equal(ioGetevents(ctx, 1, 2)[0].res, 8);
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(8), flags: C.IOCB_FLAG_IOPRIO, reqprio: 7 << C.IOPRIO_CLASS_SHIFT }]),
        (err) => assertSysError(err, 'EINVAL', 'io_submit'));
    } finally {
      ioDestroy(ctx);
    }
  });

  test('buffered reads are synchronous: the events are there as soon as io_submit returns', () => {
    const { fd } = file(1 << 20);
    const ctx = ioSetup(64);
    try {
      const iocbs = Array.from({ length: 64 }, (_, i) => ({ opcode: C.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(4096), offset: i * 16384, data: i }));
      assert.equal(ioSubmit(ctx, iocbs), 64);
      // min_nr 0, timeout 0: nothing is waited for.
      assert.equal(ioGetevents(ctx, 0, 64, 0n).length, 64);
    } finally {
      ioDestroy(ctx);
    }
  });

  test('O_DIRECT: an aligned read reads; one at a misaligned offset completes with EINVAL', () => {
    const { p, data } = file(1 << 16);
    const [fd] = track(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
    const ctx = ioSetup(2);
    try {
      const buf = alignedBuffer(4096);
      assert.equal(buf.length, 4096);
      // The file offset and length must be multiples of the device's logical block size (memory
      // alignment is the device's DMA alignment, smaller on some).
      assert.equal(ioSubmit(ctx, [
        { opcode: C.IOCB_CMD_PREAD, fd, buffer: buf, offset: 8192, data: 1 },
        { opcode: C.IOCB_CMD_PREAD, fd, buffer: alignedBuffer(4096), offset: 8193, data: 2 },
      ]), 2);
      const events = ioGetevents(ctx, 2, 2, 5_000_000_000n).sort((x, y) => x.data - y.data);
      assert.deepEqual(events.map((e) => e.res), [4096, -os.constants.errno.EINVAL]);
      assert.deepEqual(buf, data.subarray(8192, 8192 + 4096));
    } finally {
      ioDestroy(ctx);
    }
  });

  test('tmpfs and O_DIRECT: refused (EINVAL at open) before Linux 6.6, accepted since', { skip: !fs.existsSync('/dev/shm') && 'no /dev/shm' }, async () => {
    const shm = fs.mkdtempSync('/dev/shm/butter-aio-');
    try {
      const p = path.join(shm, 'f');
      fs.writeFileSync(p, 'x'.repeat(8192));
      const [major, minor] = os.release().split('.').map(Number);
      let fd;
      try {
        fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
      } catch (err) {
        assert.ok(major < 6 || (major === 6 && minor < 6), `Linux ${os.release()} refused O_DIRECT on tmpfs: ${err.code}`);
        assert.equal(err.code, 'EINVAL');
        return;
      }
      try {
        assert.ok(major > 6 || (major === 6 && minor >= 6), `Linux ${os.release()} took O_DIRECT on tmpfs`);
        const aio = own(new LinuxAio());
        assert.equal(await aio.read(fd, alignedBuffer(4096), 4096), 4096);
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });

  test('errors: io_setup EINVAL and EAGAIN; io_submit EBADF, EINVAL (NOOP, an unknown opcode, a bad resfd, fsync of a pipe), EAGAIN when full', () => {
    assert.throws(() => ioSetup(0), (err) => assertSysError(err, 'EINVAL', 'io_setup'));
    const max = Number(fs.readFileSync('/proc/sys/fs/aio-max-nr', 'utf8'));
    if (max < 2 ** 32 - 1) assert.throws(() => ioSetup(max + 1), (err) => assertSysError(err, 'EAGAIN', 'io_setup'));
    const { fd, p } = file();
    const [wronly] = track(fs.openSync(p, 'a'));
    const [r, w] = pipe();
    const ctx = ioSetup(1);
    try {
      const closed = fs.openSync(p, 'r');
      fs.closeSync(closed);
      const read = (over) => ({ opcode: C.IOCB_CMD_PREAD, fd, buffer: Buffer.alloc(4), ...over });
      assert.throws(() => ioSubmit(ctx, [read({ fd: closed })]), (err) => assertSysError(err, 'EBADF', 'io_submit'));
      assert.throws(() => ioSubmit(ctx, [read({ fd: wronly })]), (err) => assertSysError(err, 'EBADF', 'io_submit'));
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_NOOP, fd }]), (err) => assertSysError(err, 'EINVAL', 'io_submit'));
      assert.throws(() => ioSubmit(ctx, [{ opcode: 4, fd }]), (err) => assertSysError(err, 'EINVAL', 'io_submit'));
      assert.throws(() => ioSubmit(ctx, [read({ flags: C.IOCB_FLAG_RESFD, resfd: fd })]), (err) => assertSysError(err, 'EINVAL', 'io_submit'));
      assert.throws(() => ioSubmit(ctx, [read({ flags: C.IOCB_FLAG_RESFD, resfd: closed })]), (err) => assertSysError(err, 'EBADF', 'io_submit'));
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_FSYNC, fd: r }]), (err) => assertSysError(err, 'EINVAL', 'io_submit'));
      // The one slot is taken by a poll that never completes: a second operation finds no room.
      assert.equal(ioSubmit(ctx, [{ opcode: C.IOCB_CMD_POLL, fd: r, events: POLLIN, data: 9 }, read()]), 1);
      assert.throws(() => ioSubmit(ctx, [read()]), (err) => assertSysError(err, 'EAGAIN', 'io_submit'));
      assert.equal(ioSubmit(ctx, []), 0);
      fs.writeSync(w, 'x');
      const [polled] = ioGetevents(ctx, 1, 1, 5_000_000_000n);
      assert.equal(polled.data, 9);
      assert.equal(polled.res & POLLIN, POLLIN);
      assert.equal(ioSubmit(ctx, [read()]), 1, 'reaping frees the slot');
      assert.equal(ioGetevents(ctx, 1, 1).length, 1);
    } finally {
      ioDestroy(ctx);
    }
  });

  test('errors: io_getevents EINVAL (min_nr > nr, negative nr); after io_destroy every call is EINVAL', () => {
    const ctx = ioSetup(4);
    assert.throws(() => ioGetevents(ctx, 2, 1, 0n), (err) => assertSysError(err, 'EINVAL', 'io_getevents'));
    assert.throws(() => ioGetevents(ctx, 0, -1, 0n), (err) => assertSysError(err, 'EINVAL', 'io_getevents'));
    assert.deepEqual(ioGetevents(ctx, 0, 4, 1_000_000n), [], 'a timeout with nothing in flight');
    ioDestroy(ctx);
    const { fd } = file();
    assert.throws(() => ioDestroy(ctx), (err) => assertSysError(err, 'EINVAL', 'io_destroy'));
    assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_FSYNC, fd }]), (err) => assertSysError(err, 'EINVAL', 'io_submit'));
    assert.throws(() => ioGetevents(ctx, 0, 1, 0n), (err) => assertSysError(err, 'EINVAL', 'io_getevents'));
    assert.throws(() => ioCancel(ctx, 0), (err) => assertSysError(err, 'EINVAL', 'io_cancel'));
  });

  test('io_cancel: a poll is cancelled (its event comes with res 0, no events); a read cannot be (EINVAL), nor what is not in flight', () => {
    const [r] = pipe();
    const { fd } = file();
    const ctx = ioSetup(4);
    try {
      assert.equal(ioSubmit(ctx, [{ opcode: C.IOCB_CMD_POLL, fd: r, events: POLLIN, data: 5 }]), 1);
      assert.throws(() => ioCancel(ctx, 6), (err) => assertSysError(err, 'EINVAL', 'io_cancel'));
      ioCancel(ctx, 5);
      assert.deepEqual(ioGetevents(ctx, 1, 4, 5_000_000_000n), [{ data: 5, res: 0, res2: 0 }]);
      const { p } = file(1 << 16);
      const [direct] = track(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
      ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREAD, fd: direct, buffer: alignedBuffer(4096), data: 7 }]);
      assert.throws(() => ioCancel(ctx, 7), (err) => assertSysError(err, 'EINVAL', 'io_cancel'));
      assert.equal(ioGetevents(ctx, 1, 4, 5_000_000_000n)[0].res, 4096);
      void fd;
    } finally {
      ioDestroy(ctx);
    }
  });

  test('a read or write of a blocking pipe is refused before io_submit (it would hold the thread); non-blocking, or RWF_NOWAIT, gives EAGAIN', () => {
    const [br, bw] = blockingPipe();
    const [nr] = pipe();
    const ctx = ioSetup(4);
    try {
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_FSYNC, fd: bw }, { opcode: C.IOCB_CMD_PREAD, fd: br, buffer: Buffer.alloc(1) }]), {
        name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: /^The property 'iocbs\[1\]\.fd' is a blocking fd that is neither a regular file nor a block device/,
      });
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREADV, fd: br, buffers: [Buffer.alloc(1)] }]), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.deepEqual(ioGetevents(ctx, 0, 4, 0n), [], 'nothing of the refused batch was submitted');
      assert.equal(ioSubmit(ctx, [
        { opcode: C.IOCB_CMD_PREAD, fd: nr, buffer: Buffer.alloc(1), data: 1 },
        { opcode: C.IOCB_CMD_PREAD, fd: br, buffer: Buffer.alloc(1), rwFlags: C.RWF_NOWAIT, data: 2 },
      ]), 2);
      const events = ioGetevents(ctx, 2, 4, 5_000_000_000n);
      assert.deepEqual(events.map((e) => e.res), [-os.constants.errno.EAGAIN, -os.constants.errno.EAGAIN]);
    } finally {
      ioDestroy(ctx);
    }
  });

  test('a buffer in flight stays alive until its event is reaped, whatever the caller drops', async () => {
    const [r, w] = pipe();
    const ctx = ioSetup(2);
    try {
      let collected = false;
      const registry = new FinalizationRegistry(() => (collected = true));
      (() => {
        const buffer = Buffer.alloc(1 << 20); // its own ArrayBuffer, not the pool's
        registry.register(buffer, 'buffer');
        // A non-blocking pipe read completes at once with EAGAIN; a write to it too. A PREADV on a
        // pipe with data waiting reads it: use that, unreaped, so the slot holds the buffer.
        fs.writeSync(w, 'abc');
        assert.equal(ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREADV, fd: r, buffers: [buffer], data: 1 }]), 1);
      })();
      for (let i = 0; i < 5 && !collected; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(collected, false, 'collected while its slot was unreaped');
      assert.equal(ioGetevents(ctx, 1, 2)[0].res, 3);
      for (let i = 0; i < 20 && !collected; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(collected, true, 'released once reaped');
    } finally {
      ioDestroy(ctx);
    }
  });

  test('argument errors', () => {
    const ctx = ioSetup(2);
    try {
      assert.throws(() => new AioContext(), { code: 'ERR_ILLEGAL_CONSTRUCTOR' });
      for (const bad of [undefined, 1, {}, Object.create(AioContext.prototype)]) {
        assert.throws(() => ioSubmit(bad, []), { code: 'ERR_INVALID_ARG_TYPE', message: /"ctx"/ });
        assert.throws(() => ioGetevents(bad, 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
      }
      assert.throws(() => ioSubmit(ctx, {}), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ioSubmit(ctx, [null]), { code: 'ERR_INVALID_ARG_TYPE', message: /"iocbs\[0\]"/ });
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PREAD, fd: 0 }]), { code: 'ERR_INVALID_ARG_TYPE', message: /"iocbs\[0\]\.buffer"/ });
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_PWRITEV, fd: 0, buffers: [1] }]), { code: 'ERR_INVALID_ARG_TYPE', message: /buffers\[0\]/ });
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_FSYNC, fd: -1 }]), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_FSYNC, fd: 0, data: -1 }]), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => ioSubmit(ctx, [{ opcode: C.IOCB_CMD_FSYNC, fd: 0, offset: 2 ** 53 }]), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => ioGetevents(ctx, 3, 3), { code: 'ERR_OUT_OF_RANGE', message: /nrEvents/ }, 'could never complete');
      assert.throws(() => ioGetevents(ctx, 0, 1, -1n), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => ioSetup(-1), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => alignedBuffer(10, 3), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.equal(ctx.nrEvents, 2);
    } finally {
      ioDestroy(ctx);
    }
  });
});

describe('LinuxAio', () => {
  test('read, write, readv, writev, fsync, fdatasync and poll resolve with their results', async () => {
    const { fd, data } = file();
    const aio = own(new LinuxAio());
    const [r, w] = pipe();
    const a = Buffer.alloc(10);
    const [v1, v2] = [Buffer.alloc(2), Buffer.alloc(3)];
    const polled = aio.poll(r, POLLIN);
    const results = await Promise.all([
      aio.read(fd, a, 500),
      aio.write(fd, Buffer.from('xyz'), 0),
      aio.readv(fd, [v1, v2], 600),
      aio.writev(fd, [Buffer.from('1'), Buffer.from('23')], 3),
      aio.fsync(fd),
      aio.fdatasync(fd),
      aio.poll(w, POLLOUT),
    ]);
    assert.equal(results.pop() & POLLOUT, POLLOUT);
    assert.deepEqual(results, [10, 3, 5, 3, 0, 0]);
    assert.deepEqual(a, data.subarray(500, 510));
    assert.deepEqual(Buffer.concat([v1, v2]), data.subarray(600, 605));
    fs.writeSync(w, 'go');
    assert.equal((await polled) & POLLIN, POLLIN);
    const back = Buffer.alloc(6);
    fs.readSync(fd, back, 0, 6, 0);
    assert.equal(back.toString(), 'xyz123');
  });

  test('more operations than entries wait in a queue, and all complete in order of their data', async () => {
    const { p, data } = file(1 << 20);
    const [fd] = track(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
    const aio = own(new LinuxAio({ entries: 8 }));
    const bufs = Array.from({ length: 100 }, () => alignedBuffer(4096));
    const got = await Promise.all(bufs.map((b, i) => aio.read(fd, b, ((i * 37) % 256) * 4096)));
    assert.deepEqual(got, bufs.map(() => 4096));
    bufs.forEach((b, i) => assert.deepEqual(b, data.subarray(((i * 37) % 256) * 4096, ((i * 37) % 256) * 4096 + 4096), `read ${i}`));
  });

  test('errors are fs-shaped and name the operation; a refused one does not stop the others', async () => {
    const { fd, p } = file();
    const [wronly] = track(fs.openSync(p, 'a'));
    const [direct] = track(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
    const [br] = blockingPipe();
    const aio = own(new LinuxAio());
    const [bad, good, misaligned, blocked, sync] = await Promise.allSettled([
      aio.read(wronly, Buffer.alloc(4)),
      aio.read(fd, Buffer.alloc(4)),
      aio.read(direct, alignedBuffer(4096), 1),
      aio.read(br, Buffer.alloc(4)),
      aio.fsync(br),
    ]);
    assertSysError(bad.reason, 'EBADF', 'io_submit');
    assert.equal(good.value, 4);
    assertSysError(misaligned.reason, 'EINVAL', 'read');
    assert.equal(blocked.reason.code, 'ERR_INVALID_ARG_VALUE');
    assertSysError(sync.reason, 'EINVAL', 'io_submit');
    assert.throws(() => aio.read(-1, Buffer.alloc(1)), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => aio.read(fd, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => aio.read(fd, Buffer.alloc(1), 0, { nope: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new LinuxAio({ entries: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('an AbortSignal cancels a poll in flight and an operation still queued; a read in flight completes', async () => {
    const [r] = pipe();
    const { fd } = file();
    const aio = own(new LinuxAio({ entries: 1 }));
    const ac = new AbortController();
    const polled = aio.poll(r, POLLIN, { signal: ac.signal });
    const queued = aio.read(fd, Buffer.alloc(4), 0, { signal: ac.signal });
    await new Promise((resolve) => setImmediate(resolve));
    const rejected = [assert.rejects(polled, { name: 'AbortError' }), assert.rejects(queued, { name: 'AbortError' })];
    ac.abort();
    await Promise.all(rejected);
    await assert.rejects(aio.read(fd, Buffer.alloc(4), 0, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    const ac2 = new AbortController();
    const read = aio.read(fd, Buffer.alloc(4), 0, { signal: ac2.signal });
    ac2.abort(); // before the tick's io_submit: taken out of the queue
    await assert.rejects(read, { name: 'AbortError' });
    assert.equal(await aio.read(fd, Buffer.alloc(4), 0), 4);
  });

  test('close() cancels polls in flight (EBADF), lets reads finish, rejects what comes later; no fd is left', async () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    const [r] = pipe();
    const { fd } = file();
    const aio = new LinuxAio();
    const polled = aio.poll(r, POLLIN);
    const read = aio.read(fd, Buffer.alloc(4), 0);
    await new Promise((resolve) => setImmediate(resolve));
    const queued = aio.read(fd, Buffer.alloc(4), 0);
    aio.close();
    aio.close();
    assert.equal(aio.closed, true);
    assertSysError(await polled.catch((e) => e), 'EBADF', 'poll');
    assert.equal(await read, 4);
    assertSysError(await queued.catch((e) => e), 'EBADF', 'read');
    assertSysError(await aio.fsync(fd).catch((e) => e), 'EBADF', 'fsync');
    assert.equal(fs.readdirSync('/proc/self/fd').length, before + 3, 'only the test\'s own pipe and file');
  });

  test('the loop is held only while operations are in flight, and not after unref()', () => {
    const r = runChild(`
      import fs from 'node:fs';
      import { LinuxAio, pipe2 } from 'butter';
      const aio = new LinuxAio();
      const fd = fs.openSync(process.execPath, 'r');
      console.log(await aio.read(fd, Buffer.alloc(4), 0));
      const [r] = pipe2();
      aio.poll(r, 1).catch(() => {});
      aio.unref();
    `, { timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '4\n');
  });

  test('a Worker ending with polls in flight leaks nothing', () => {
    const r = runChild(`
      import { Worker } from 'node:worker_threads';
      import fs from 'node:fs';
      const count = () => fs.readdirSync('/proc/self/fd').length;
      const src = \`
        import { LinuxAio, pipe2 } from \${JSON.stringify(import.meta.resolve('butter'))};
        import { parentPort } from 'node:worker_threads';
        const aio = new LinuxAio();
        const [r, w] = pipe2();
        for (let j = 0; j < 10; j++) aio.poll(r, 1).catch(() => {});
        setImmediate(() => parentPort.postMessage([r, w]));
      \`;
      let before;
      // The first Worker's run opens what every later one shares: count from the second.
      for (let i = 0; i < 6; i++) {
        if (i === 1) before = count();
        const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(src)));
        const fds = await new Promise((resolve) => w.once('message', resolve));
        await w.terminate();
        fds.forEach((fd) => fs.closeSync(fd)); // the pipe is the caller's: a raw pipe2()
      }
      console.log(count() - before);
    `, { timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    // Fewer is fine: Node 24 closes something of the first Worker's later.
    assert.ok(Number(r.stdout.trim()) <= 0, r.stdout);
  });
});

test('objects closed, and objects forgotten and collected, leave no fd and no AIO context', async () => {
  const { fd } = file();
  const fds = () => fs.readdirSync('/proc/self/fd').length;
  const aioNr = () => Number(fs.readFileSync('/proc/sys/fs/aio-nr', 'utf8'));
  const before = fds();
  const contexts = aioNr();
  // A few: each io_destroy waits for an RCU grace period.
  for (let i = 0; i < 20; i++) {
    const a = new LinuxAio({ entries: 4 });
    const p = new PosixAio();
    await Promise.all([a.read(fd, Buffer.alloc(4)), p.read(fd, Buffer.alloc(4))]);
    a.close();
    p.close();
  }
  assert.equal(fds(), before);
  // In a function of its own, so that nothing of it stays on this one's frame.
  await (async () => {
    for (let i = 0; i < 20; i++) {
      const a = new LinuxAio({ entries: 4 });
      const p = new PosixAio();
      await Promise.all([a.read(fd, Buffer.alloc(4)), p.read(fd, Buffer.alloc(4))]);
      ioSetup(4);
    }
  })();
  for (let i = 0; i < 10 && fds() > before; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(fds(), before, 'every eventfd closed by its finalizer');
  // io_destroy returns before the kernel has freed a context (an RCU grace period later).
  for (let i = 0; i < 300 && aioNr() > contexts; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(aioNr(), contexts, 'every context destroyed by its finalizer');
});

describe('fuzz', () => {
  // Arbitrary values as arguments, iocb fields and options give only documented errors,
  // never a crash, a hang or another kind of error. A value is used as an fd only if it
  // is one of this test's; any other number that would pass as one becomes a closed fd.
  test('the 1:1 calls, LinuxAio, Aiocb, the POSIX calls and PosixAio: only documented errors', async () => {
    const { default: fc } = await import('fast-check');
    const { fd: fileFd } = file(8192);
    const [nr, nw] = pipe();
    const [br] = blockingPipe();
    const ours = [fileFd, nr, nw, br];
    const closed = 2 ** 31 - 1;
    const asFd = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31 ? ours[v % ours.length] ?? closed : v);
    const classify = (err) => {
      if (err instanceof TypeError && ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE'].includes(err.code)) return;
      if (err instanceof RangeError && err.code === 'ERR_OUT_OF_RANGE') return;
      if (err instanceof Error && err.name === 'Error' && /^E[A-Z0-9]+$/.test(err.code) && err.errno < 0 && typeof err.syscall === 'string') return;
      if (err?.name === 'AbortError') return;
      throw new Error(`an undocumented error: ${err?.stack ?? String(err)}`);
    };
    const settle = (fn) => {
      try {
        return fn();
      } catch (err) {
        return classify(err);
      }
    };
    const value = fc.oneof(
      fc.anything({ withBigInt: true, withTypedArray: true, maxDepth: 2 }),
      fc.integer({ min: -2, max: 20 }), fc.integer(), fc.double(), fc.bigInt(),
      fc.constantFrom(0, 1, 2, 3, 5, 6, 7, 8, -1, 2 ** 53, NaN, 0n, -1n, null, undefined, [], {}, Buffer.alloc(8), new Uint8Array(3), [Buffer.alloc(2)]),
    );
    const iocb = fc.record({
      opcode: fc.oneof(fc.integer({ min: 0, max: 9 }), value), fd: value, data: value, buffer: value, buffers: value, offset: value,
      rwFlags: fc.oneof(fc.constantFrom(0, C.RWF_NOWAIT, C.RWF_HIPRI, C.RWF_APPEND), value), flags: fc.oneof(fc.constantFrom(0, 1, 2, 3), value),
      reqprio: value, resfd: value, events: value,
    }, { requiredKeys: [] });
    const ctx = ioSetup(8);
    const aio = own(new LinuxAio({ entries: 4 }));
    const posix = own(new PosixAio());
    const pending = [];
    try {
      fc.assert(
        fc.property(fc.array(iocb, { maxLength: 4 }), value, value, value, (iocbs, a, b, c) => {
          const mapped = iocbs.map((x) => ({ ...x, fd: asFd(x.fd), resfd: asFd(x.resfd) }));
          settle(() => ioSubmit(ctx, mapped));
          settle(() => ioGetevents(ctx, 0, a, 0n));
          settle(() => ioGetevents(ctx, typeof a === 'number' && a > 0 ? 0 : a, 8, b));
          settle(() => ioCancel(ctx, a));
          settle(() => ioSubmit(a, mapped));
          settle(() => alignedBuffer(a, b));
          for (const m of ['read', 'write', 'readv', 'writev', 'fsync', 'fdatasync', 'poll']) {
            const p = settle(() => aio[m](asFd(a), m === 'poll' ? 1 : b, c, m === 'poll' ? undefined : c));
            if (p) pending.push(p.catch(classify));
          }
          const cb = settle(() => new LinuxAio(a));
          cb?.close();
          const acb = settle(() => new Aiocb({ fd: asFd(a), buffer: b, offset: c, opcode: typeof c === 'number' ? c % 3 : c }));
          if (acb) {
            settle(() => aioRead(acb));
            settle(() => aioWrite(acb));
            settle(() => aioFsync(b, acb));
            settle(() => aioError(acb));
            settle(() => lioListio(C.LIO_NOWAIT, [acb]));
            settle(() => aioCancel(asFd(a), acb));
            settle(() => aioSuspend([acb], 1_000_000n));
            settle(() => aioReturn(acb));
          }
          settle(() => aioSuspend(a, b));
          for (const m of ['read', 'write', 'fsync', 'fdatasync']) {
            const p = settle(() => posix[m](asFd(a), b, c));
            if (p) pending.push(p.catch(classify));
          }
          // Drain: a poll on the pipes could wait for good; the non-blocking pipe gets data now and then.
          if (typeof a === 'number' && a % 7 === 0) fs.writeSync(nw, 'x');
        }),
        { numRuns: 300 },
      );
    } finally {
      ioDestroy(ctx);
    }
    aio.close();
    posix.close();
    await Promise.all(pending);
  });
});
