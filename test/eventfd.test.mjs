// eventfd: the 1:1 calls, the EventFd object, and (through EventFd) the
// readiness and fd-ownership base every event source shares. Run once per
// readiness backend: eventfd-epoll.test.mjs imports this file with the portable
// backend forced.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, readdirSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { getEventListeners, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { eventfd, eventfdRead, eventfdWrite, EventFd, constants as C, readinessBackend, AbortError } from 'butter';
import { assertSysError, copySysErrorSource } from './support/errors.mjs';
import { fdinfo, runChild, root } from './support/child.mjs';

const expectedBackend = process.env.BUTTER_READINESS === 'epoll' ? 'epoll' : 'uv';
const MAX = 0xfffffffffffffffen; // the largest value the counter can hold
const require = createRequire(import.meta.url);

/** Keeps the JS thread busy for `ms` milliseconds. */
function blockFor(ms) {
  const until = performance.now() + ms;
  while (performance.now() < until);
}



test('the readiness backend in force is the one asked for', () => {
  assert.equal(readinessBackend(), expectedBackend);
});

describe('eventfd, 1:1', () => {
  test('defaults to a non-blocking, close-on-exec fd holding initval', () => {
    const fd = eventfd(5);
    try {
      const info = fdinfo(fd);
      const flags = parseInt(info.flags, 8);
      assert.ok(flags & 0o4000, 'O_NONBLOCK');
      assert.ok(flags & 0o2000000, 'O_CLOEXEC');
      assert.equal(info['eventfd-count'], '5');
      assert.equal(eventfdRead(fd), 5n);
    } finally {
      closeSync(fd);
    }
  });

  test('explicit flags are passed through as given', () => {
    const fd = eventfd(0, C.EFD_CLOEXEC);
    try {
      const flags = parseInt(fdinfo(fd).flags, 8);
      assert.equal(flags & 0o4000, 0, 'blocking when EFD_NONBLOCK is not given');
      eventfdWrite(fd, 2n);
      assert.equal(eventfdRead(fd), 2n);
    } finally {
      closeSync(fd);
    }
  });

  test('counter mode sums writes; semaphore mode takes one at a time', () => {
    const fd = eventfd(0);
    const sem = eventfd(0, C.EFD_NONBLOCK | C.EFD_CLOEXEC | C.EFD_SEMAPHORE);
    try {
      eventfdWrite(fd, 1n);
      eventfdWrite(fd, 41);
      assert.equal(eventfdRead(fd), 42n);
      eventfdWrite(sem, 2n);
      assert.equal(eventfdRead(sem), 1n);
      assert.equal(eventfdRead(sem), 1n);
      assert.throws(() => eventfdRead(sem), (e) => assertSysError(e, 'EAGAIN', 'read'));
    } finally {
      closeSync(fd);
      closeSync(sem);
    }
  });

  test('64-bit values survive the round trip exactly', () => {
    const fd = eventfd(0);
    try {
      eventfdWrite(fd, MAX);
      assert.equal(eventfdRead(fd), MAX);
      eventfdWrite(fd, Number.MAX_SAFE_INTEGER);
      assert.equal(eventfdRead(fd), BigInt(Number.MAX_SAFE_INTEGER));
    } finally {
      closeSync(fd);
    }
  });

  test('EAGAIN: reading a zero counter without blocking', () => {
    const fd = eventfd(0);
    try {
      assert.throws(() => eventfdRead(fd), (e) => assertSysError(e, 'EAGAIN', 'read') && e.errno === -11);
    } finally {
      closeSync(fd);
    }
  });

  test('EAGAIN: a write that would overflow the counter', () => {
    const fd = eventfd(0);
    try {
      eventfdWrite(fd, MAX);
      assert.throws(() => eventfdWrite(fd, 1n), (e) => assertSysError(e, 'EAGAIN', 'write'));
      assert.equal(eventfdRead(fd), MAX, 'the failed write changed nothing');
    } finally {
      closeSync(fd);
    }
  });

  test('EINVAL: writing 0xffffffffffffffff', () => {
    const fd = eventfd(0);
    try {
      assert.throws(() => eventfdWrite(fd, 0xffffffffffffffffn), (e) => assertSysError(e, 'EINVAL', 'write') && e.errno === -22);
    } finally {
      closeSync(fd);
    }
  });

  test('EINVAL: unknown flags', () => {
    assert.throws(() => eventfd(0, 0x40000000), (e) => assertSysError(e, 'EINVAL', 'eventfd'));
  });

  test('EBADF: reading and writing an fd that is not open', () => {
    const fd = 2 ** 31 - 1;
    assert.throws(() => eventfdRead(fd), (e) => assertSysError(e, 'EBADF', 'read') && e.errno === -9);
    assert.throws(() => eventfdWrite(fd, 1n), (e) => assertSysError(e, 'EBADF', 'write'));
  });

  test('EMFILE: out of file descriptors (in a child with a low RLIMIT_NOFILE)', () => {
    const script = `
      import { eventfd, EventFd } from 'butter';
      const copy = ${copySysErrorSource};
      // A family loads on first use, reading its files: load it while fds are left.
      void EventFd.prototype;
      const out = {};
      try { for (;;) eventfd(); } catch (e) { out.raw = copy(e); }
      try { new EventFd(); } catch (e) { out.object = copy(e); }
      console.log(JSON.stringify(out));`;
    const r = spawnSync('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" --input-type=module -e "$0"`, script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assertSysError(out.raw, 'EMFILE', 'eventfd');
    assertSysError(out.object, 'EMFILE', 'eventfd');
  });

  test('bad arguments are refused before any syscall', () => {
    const code = (c) => (e) => e.code === c;
    assert.throws(() => eventfd(-1), RangeError);
    assert.throws(() => eventfd(-1), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfd(2 ** 32), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfd(1.5), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfd('1'), TypeError);
    assert.throws(() => eventfd('1'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => eventfd(0, 2 ** 31), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfdRead(-1), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfdRead('3'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => eventfdWrite(0, -1n), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfdWrite(0, 2n ** 64n), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfdWrite(0, 2 ** 53), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfdWrite(0, 0.5), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => eventfdWrite(0, '1'), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => eventfdWrite(0), code('ERR_INVALID_ARG_TYPE'));
  });

  test('argument errors read like Node\'s', () => {
    assert.throws(() => eventfd('x'), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: `The "initval" argument must be of type number. Received type string ('x')`,
    });
    assert.throws(() => eventfdRead(-1), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: 'The value of "fd" is out of range. It must be >= 0 && <= 2147483647. Received -1',
    });
  });
});

describe('EventFd', () => {
  test('sync reads: readEvent gives the sum or null, never blocks', () => {
    const ev = new EventFd({ initval: 3 });
    try {
      assert.equal(ev.readEvent(), 3n);
      assert.equal(ev.readEvent(), null);
      ev.write();
      ev.write(4);
      ev.write(5n);
      assert.deepEqual(ev.readEvents(), [10n]);
      assert.deepEqual(ev.readEvents(), []);
    } finally {
      ev.close();
    }
  });

  test('semaphore mode yields 1n per unit', () => {
    const ev = new EventFd({ semaphore: true, initval: 2 });
    try {
      assert.equal(ev.semaphore, true);
      ev.write(1n);
      assert.deepEqual(ev.readEvents(), [1n, 1n, 1n]);
      assert.equal(ev.readEvent(), null);
    } finally {
      ev.close();
    }
  });

  test('write: EAGAIN when the counter is full; tryWrite says false instead', () => {
    const ev = new EventFd();
    try {
      ev.write(MAX);
      assert.throws(() => ev.write(1n), (e) => assertSysError(e, 'EAGAIN', 'write'));
      assert.equal(ev.tryWrite(1n), false);
      assert.equal(ev.readEvent(), MAX);
      assert.equal(ev.tryWrite(1n), true);
      assert.throws(() => ev.write(0xffffffffffffffffn), (e) => assertSysError(e, 'EINVAL', 'write'));
      assert.throws(() => ev.tryWrite(0xffffffffffffffffn), (e) => assertSysError(e, 'EINVAL', 'write'));
    } finally {
      ev.close();
    }
  });

  test('read() resolves when another party writes', async () => {
    const ev = new EventFd();
    try {
      setTimeout(() => eventfdWrite(ev.fd, 7n), 5);
      assert.equal(await ev.read(), 7n);
    } finally {
      ev.close();
    }
  });

  test('pending reads are served in order, one event each', async () => {
    const ev = new EventFd();
    try {
      const a = ev.read();
      const b = ev.read();
      ev.write(1n);
      assert.equal(await a, 1n);
      ev.write(2n);
      assert.equal(await b, 2n);
    } finally {
      ev.close();
    }
  });

  test('for await sums writes, and break leaves the object usable', async () => {
    const ev = new EventFd();
    try {
      let total = 0n;
      let wakes = 0;
      const writer = setInterval(() => ev.write(1n), 1);
      for await (const n of ev) {
        total += n;
        wakes++;
        if (total >= 20n) break;
      }
      clearInterval(writer);
      assert.ok(total >= 20n);
      assert.ok(wakes >= 1 && wakes <= 20);
      ev.readEvent(); // whatever the writer added after the break
      ev.write(3n);
      assert.equal(await ev.read(), 3n);
    } finally {
      ev.close();
    }
  });

  test('a Worker writing wakes the main thread\'s for await', async () => {
    const ev = new EventFd();
    const worker = new Worker(
      `const { eventfdWrite } = require('butter');
       const { workerData } = require('node:worker_threads');
       for (let i = 0; i < 100; i++) eventfdWrite(workerData, 1n);`,
      { eval: true, workerData: ev.fd },
    );
    // Listened for now: a fast Worker can be gone before the loop below ends.
    const exited = once(worker, 'exit');
    let total = 0n;
    for await (const n of ev) {
      total += n;
      if (total === 100n) break;
    }
    assert.equal(total, 100n);
    const [code] = await exited;
    assert.equal(code, 0);
    ev.close();
  });

  test('an EventFd inside a Worker works with its own backend state', async () => {
    const worker = new Worker(
      `const { EventFd, readinessBackend } = require('butter');
       const { parentPort } = require('node:worker_threads');
       (async () => {
         const ev = new EventFd();
         setTimeout(() => ev.write(9n), 1);
         const got = await ev.read();
         ev.close();
         parentPort.postMessage({ got, backend: readinessBackend() });
       })();`,
      { eval: true },
    );
    const [msg] = await once(worker, 'message');
    assert.deepEqual(msg, { got: 9n, backend: expectedBackend });
  });

  test('promise reactions and nextTicks run between two objects\' callbacks, as between Node\'s own', async () => {
    // Fifty objects ready at once: the portable backend's thread sees several in one epoll_wait.
    const evs = Array.from({ length: 50 }, () => new EventFd());
    try {
      for (const ev of evs) ev.write(1n);
      const log = [];
      await Promise.all(
        evs.map((ev, i) => new Promise((resolve) => ev.once('event', () => {
          log.push(`${i}`);
          process.nextTick(() => log.push(`${i}:tick`));
          Promise.resolve().then(() => {
            log.push(`${i}:promise`);
            resolve();
          });
        }))),
      );
      for (let k = 0; k < log.length; k += 3) {
        const i = log[k];
        assert.deepEqual(log.slice(k, k + 3), [i, `${i}:tick`, `${i}:promise`], log.slice(0, 12).join(' '));
      }
    } finally {
      for (const ev of evs) ev.close();
    }
  });

  test('a wake queued for an object closed before delivery never reaches the handle that takes its slot', async () => {
    // The portable backend's thread queues a ready handle's id for the JS
    // thread; a new handle reuses a closed one's slot at once, and only the id's
    // generation tells them apart. The callback of a bare native handle shows
    // a wake the base class would read past (finding nothing) without a trace.
    const { native } = require('../dist/cjs/core/native.js');
    for (let round = 0; round < 3; round++) {
      const ev = new EventFd({ initval: 1 });
      ev.on('event', () => assert.fail('a closed object got an event'));
      blockFor(30); // meanwhile the thread sees it readable and queues its wake
      ev.close();
      let wakes = 0;
      const handle = native.handleNew(() => wakes++);
      try {
        assert.ok(native.eventfd.eventfd(0, C.EFD_CLOEXEC | C.EFD_NONBLOCK, handle) >= 0);
        assert.equal(native.handleSet(handle, native.READABLE, native.KEEP_CALLBACK), 0);
        await sleep(30);
        assert.equal(wakes, 0, `round ${round}: a never-ready eventfd was woken`);
      } finally {
        native.handleClose(handle);
      }
    }
  });

  test('one wake per readiness however long the JS thread is busy, and none once the handle stops watching', async () => {
    // The portable backend arms each fd one-shot: while the JS thread is busy, its
    // thread queues one wake for a ready fd, not one per epoll_wait. And a wake
    // queued before the handle stopped watching is not delivered.
    const { native } = require('../dist/cjs/core/native.js');
    const flags = C.EFD_CLOEXEC | C.EFD_NONBLOCK;
    let wakes = 0;
    const consumer = native.handleNew(() => {
      wakes++;
      eventfdRead(fd);
    });
    const fd = native.eventfd.eventfd(1, flags, consumer);
    let stoppedWakes = 0;
    const stopped = native.handleNew(() => stoppedWakes++);
    try {
      assert.ok(fd >= 0 && native.eventfd.eventfd(1, flags, stopped) >= 0);
      assert.equal(native.handleSet(consumer, native.READABLE, native.KEEP_CALLBACK), 0);
      assert.equal(native.handleSet(stopped, native.READABLE, native.KEEP_CALLBACK), 0);
      blockFor(30); // both are ready: the thread queues their wakes meanwhile
      assert.equal(native.handleSet(stopped, 0, 0), 0);
      await sleep(30);
      assert.equal(wakes, 1, 'wakes of the ready fd, read at the first');
      assert.equal(stoppedWakes, 0, 'wakes after the handle stopped watching');
    } finally {
      native.handleClose(consumer);
      native.handleClose(stopped);
    }
  });

  test('a creating call given a closed handle closes the new fd and says EBADF', () => {
    // The guard for a Worker ended between handleNew and the creating call: no fd nobody would close.
    const { native } = require('../dist/cjs/core/native.js');
    const handle = native.handleNew(() => {});
    native.handleClose(handle);
    const before = readdirSync('/proc/self/fd').length;
    assert.equal(native.eventfd.eventfd(0, C.EFD_CLOEXEC | C.EFD_NONBLOCK, handle), -9);
    assert.equal(readdirSync('/proc/self/fd').length, before);
  });

  test('\'event\' listeners see every event; removing the last stops watching', async () => {
    const ev = new EventFd();
    try {
      const seen = [];
      const listener = (n) => seen.push(n);
      ev.on('event', listener);
      ev.write(1n);
      await sleep(20);
      ev.write(2n);
      await sleep(20);
      assert.deepEqual(seen, [1n, 2n]);
      ev.off('event', listener);
      ev.write(5n);
      await sleep(20);
      assert.deepEqual(seen, [1n, 2n]);
      assert.equal(ev.readEvent(), 5n, 'nothing consumed the write without a consumer');
    } finally {
      ev.close();
    }
  });

  test('AbortSignal: an aborted read rejects with AbortError and consumes nothing', async () => {
    const ev = new EventFd();
    try {
      const ac = new AbortController();
      const p = ev.read({ signal: ac.signal });
      ac.abort(new Error('why'));
      await assert.rejects(p, (e) => e instanceof AbortError && e.name === 'AbortError' && e.code === 'ABORT_ERR' && e.cause.message === 'why');
      await assert.rejects(ev.read({ signal: AbortSignal.abort() }), { name: 'AbortError' });
      ev.write(4n);
      assert.equal(await ev.read(), 4n);
    } finally {
      ev.close();
    }
  });

  test('AbortSignal: aborting an iteration rejects the pending next() and ends it', async () => {
    const ev = new EventFd();
    try {
      const ac = new AbortController();
      const it = ev.events({ signal: ac.signal });
      ev.write(1n);
      assert.deepEqual(await it.next(), { value: 1n, done: false });
      const pending = it.next();
      setTimeout(() => ac.abort(), 5);
      await assert.rejects(pending, { name: 'AbortError' });
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    } finally {
      ev.close();
    }
  });

  test('return() ends an iteration whose next() waits: that next() resolves done, and the event it would have taken stays for others', async () => {
    const ev = new EventFd();
    try {
      const it = ev.events();
      const pending = it.next();
      assert.deepEqual(await it.return(), { value: undefined, done: true });
      assert.deepEqual(await Promise.race([pending, sleep(200, 'still waiting')]), { value: undefined, done: true });
      ev.write(1n);
      assert.equal(await ev.read(), 1n);
      assert.deepEqual(await it.next(), { value: undefined, done: true });
    } finally {
      ev.close();
    }
  });

  test('next()s called without awaiting resolve in order, and return() ends every one still waiting', async () => {
    const ev = new EventFd({ semaphore: true });
    try {
      const it = ev.events();
      const [a, b, c, d] = [it.next(), it.next(), it.next(), it.next()];
      ev.write(2n);
      assert.deepEqual(await a, { value: 1n, done: false });
      assert.deepEqual(await b, { value: 1n, done: false });
      assert.deepEqual(await it.return(), { value: undefined, done: true });
      const late = await Promise.race([Promise.all([c, d]), sleep(200, 'still waiting')]);
      assert.deepEqual(late, [{ value: undefined, done: true }, { value: undefined, done: true }]);
      ev.write(1n);
      assert.equal(await ev.read(), 1n, 'no event taken for an ended iteration');
    } finally {
      ev.close();
    }
  });

  test('AbortSignal: aborting rejects every next() of the iteration still waiting', async () => {
    const ev = new EventFd();
    try {
      const ac = new AbortController();
      const it = ev.events({ signal: ac.signal });
      const [a, b] = [it.next(), it.next()];
      ac.abort();
      await assert.rejects(a, { name: 'AbortError' });
      await assert.rejects(b, { name: 'AbortError' });
      assert.deepEqual(await it.next(), { value: undefined, done: true });
      ev.write(1n);
      assert.equal(await ev.read(), 1n);
    } finally {
      ev.close();
    }
  });

  test('AbortSignal: an iteration holds an abort listener only while a next() waits or follows the last at once', async () => {
    const ev = new EventFd();
    const ac = new AbortController();
    const listeners = () => getEventListeners(ac.signal, 'abort').length;
    try {
      const it = ev.events({ signal: ac.signal });
      const pending = it.next();
      assert.equal(listeners(), 1);
      ev.write(1n);
      assert.deepEqual(await pending, { value: 1n, done: false });
      await sleep(1); // the loop body awaits: nobody waits, so nothing listens
      assert.equal(listeners(), 0);
      ev.write(2n);
      let seen = 0;
      for await (const _ of it) {
        assert.equal(listeners(), 1, 'kept from one next() to the next');
        if (++seen === 2) break;
        ev.write(1n);
      }
      await sleep(1);
      assert.equal(listeners(), 0, 'none left after break');
    } finally {
      ev.close();
    }
  });

  test('close: pending reads reject with EBADF, iterations end, close is emitted once', async () => {
    const ev = new EventFd();
    const fd = ev.fd;
    const read = ev.read();
    const it = ev[Symbol.asyncIterator]();
    const next = it.next();
    let closes = 0;
    ev.on('close', () => closes++);
    ev.close();
    ev.close();
    await assert.rejects(read, (e) => assertSysError(e, 'EBADF', 'read'));
    assert.deepEqual(await next, { value: undefined, done: true });
    await sleep(1);
    assert.equal(closes, 1);
    assert.equal(ev.closed, true);
    assert.equal(ev.fd, -1);
    assert.throws(() => fdinfo(fd), { code: 'ENOENT' }, 'the fd is closed');
  });

  test('use after close throws EBADF and never touches the fd number', async () => {
    const ev = new EventFd();
    const old = ev.fd;
    ev.close();
    const other = eventfd(0); // likely reuses the number
    try {
      assert.throws(() => ev.readEvent(), (e) => assertSysError(e, 'EBADF', 'read'));
      assert.throws(() => ev.readEvents(), (e) => assertSysError(e, 'EBADF', 'read'));
      assert.throws(() => ev.write(1n), (e) => assertSysError(e, 'EBADF', 'write'));
      assert.throws(() => ev.tryWrite(1n), (e) => assertSysError(e, 'EBADF', 'write'));
      await assert.rejects(ev.read(), (e) => assertSysError(e, 'EBADF', 'read'));
      assert.deepEqual(await ev.events().next(), { value: undefined, done: true });
      eventfdWrite(other, 1n);
      assert.equal(eventfdRead(other), 1n, old === other ? 'reused number untouched' : 'other fd untouched');
    } finally {
      closeSync(other);
    }
  });

  test('Symbol.dispose and Symbol.asyncDispose close it', async () => {
    const a = new EventFd();
    a[Symbol.dispose]();
    assert.equal(a.closed, true);
    const b = new EventFd();
    await b[Symbol.asyncDispose]();
    assert.equal(b.closed, true);
  });

  test('bad options and arguments are refused', () => {
    assert.throws(() => new EventFd(5), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new EventFd({ initval: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new EventFd({ initval: 2 ** 32 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new EventFd({ semaphore: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    const ev = new EventFd();
    try {
      assert.throws(() => ev.write(-1), { code: 'ERR_OUT_OF_RANGE' });
      assert.throws(() => ev.write('1'), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.throws(() => ev.events({ signal: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
      return assert.rejects(ev.read({ signal: 'no' }), { code: 'ERR_INVALID_ARG_TYPE' });
    } finally {
      ev.close();
    }
  });
});

describe('event loop liveness', () => {
  test('an idle EventFd does not keep the process alive', () => {
    const r = runChild(`import { EventFd } from 'butter'; globalThis.keep = new EventFd(); console.log('done');`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'done');
  });

  test('a pending read keeps it alive until the event comes', () => {
    const r = runChild(`
      import { EventFd } from 'butter';
      const ev = new EventFd();
      const t0 = Date.now();
      ev.read().then((n) => { console.log(n, Date.now() - t0 >= 150); ev.close(); });
      // The write comes from a timer that does not itself keep the loop alive.
      setTimeout(() => ev.write(6n), 200).unref();
      setTimeout(() => {}, 150);`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '6n true');
  });

  test('unref() lets the process exit with a read pending; ref() restores', async () => {
    const r = runChild(`
      import { EventFd } from 'butter';
      const ev = new EventFd();
      ev.read().then(() => console.log('never'));
      ev.unref();
      console.log(ev.hasRef());`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'false');

    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      import { EventFd } from 'butter';
      const ev = new EventFd();
      ev.read().then(() => console.log('never'));
      ev.unref().ref();
      console.log('waiting');`], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }); // not the runner's stderr: see docs/development.md
    await once(child.stdout, 'data');
    await sleep(300);
    assert.equal(child.exitCode, null, 'a ref\'d pending read keeps the process alive');
    child.kill();
    await once(child, 'exit');
  });

  test('an exception thrown by a listener surfaces as uncaughtException', () => {
    const r = runChild(`
      import { EventFd } from 'butter';
      const ev = new EventFd();
      process.on('uncaughtException', (e) => { console.log('caught', e.message); ev.close(); });
      ev.on('event', () => { throw new Error('boom'); });
      ev.write(1n);`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'caught boom');
  });
});
