// Fd leaks: every fd Butter opens is closed exactly once: by close(), by the
// finalizer of an object the user dropped, or when the Worker or process that
// owns it goes away. The evidence is this process's open-fd count
// (/proc/self/fd), which must come back to where it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, readdirSync, readlinkSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { EventFd, eventfd, eventfdRead, eventfdWrite, readinessBackend } from 'butter';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const BUTTER_ESM = import.meta.resolve('butter');
const BACKENDS = ['uv', 'epoll'];

const fdCount = () => readdirSync('/proc/self/fd').length;
const fdTarget = (fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
};
const isEventfd = (fd) => fdTarget(fd) === 'anon_inode:[eventfd]';
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Collects garbage across event-loop turns (Node-API finalizers run after GC, on a later turn) until `done()`. */
async function collectUntil(done, rounds = 30) {
  for (let i = 0; i < rounds && !done(); i++) {
    gc();
    await turn();
    await turn();
  }
  return done();
}

/** How many fds this process may still open, keeping a margin. */
function fdHeadroom() {
  const limit = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))[1];
  return (limit === 'unlimited' ? 1 << 20 : Number(limit)) - fdCount() - 256;
}

test('EventFd: created and closed 100,000 times, the open-fd count is unchanged', () => {
  const before = fdCount();
  let lastFd = -1;
  for (let i = 0; i < 100_000; i++) {
    const ev = new EventFd({ initval: i & 0xff, semaphore: (i & 1) === 1 });
    if (i === 0) assert.ok(isEventfd(ev.fd));
    lastFd = ev.fd;
    ev.close();
    if (i % 10_000 === 0) {
      assert.equal(ev.fd, -1);
      assert.equal(ev.closed, true);
      assert.equal(isEventfd(lastFd), false);
      assert.equal(fdCount(), before);
    }
  }
  assert.equal(fdCount(), before);
  assert.equal(isEventfd(lastFd), false, 'the last fd is closed');
});

test('raw eventfd() + fs.closeSync 100,000 times: the open-fd count is unchanged', () => {
  const before = fdCount();
  for (let i = 0; i < 100_000; i++) {
    const fd = eventfd(i + 1);
    if (i % 10_000 === 0) {
      assert.ok(isEventfd(fd));
      assert.equal(eventfdRead(fd), BigInt(i + 1));
    }
    closeSync(fd);
  }
  assert.equal(fdCount(), before);
});

// The consumption patterns, as one self-contained function so a Worker running the
// other readiness backend can run exactly the same code (from its source text).
async function consumeCycles(butter, n) {
  const { EventFd, AbortError } = butter;
  const outcomes = { pendingReadEBADF: 0, readResolved: 0, iteratorEnded: 0, iteratorValue: 0, listenerEvent: 0, aborted: 0, iteratorAborted: 0 };
  for (let i = 0; i < n; i++) {
    // A read() pending when the object is closed rejects with EBADF.
    {
      const ev = new EventFd();
      const p = ev.read();
      const p2 = ev.read();
      ev.close();
      for (const r of await Promise.allSettled([p, p2])) {
        if (r.status !== 'rejected' || r.reason.code !== 'EBADF' || r.reason.syscall !== 'read') throw new Error(`pending read: ${r.reason ?? r.value}`);
        outcomes.pendingReadEBADF++;
      }
    }
    // A read() that is served by a write (the watch was armed and fired), then close.
    {
      const ev = new EventFd({ semaphore: i % 2 === 1 });
      const p = ev.read();
      ev.write(3n);
      const v = await p;
      if (v !== (i % 2 === 1 ? 1n : 3n)) throw new Error(`read resolved with ${v}`);
      outcomes.readResolved++;
      ev.close();
    }
    // An async iterator started (next() pending) and the object closed: the iteration ends.
    {
      const ev = new EventFd();
      const it = ev[Symbol.asyncIterator]();
      const next = it.next();
      ev.close();
      const r = await next;
      if (r.done !== true) throw new Error('iterator did not end at close');
      outcomes.iteratorEnded++;
    }
    // for await that receives an event, then the object is closed from inside the loop.
    {
      const ev = new EventFd();
      setImmediate(() => ev.write(7n));
      for await (const v of ev) {
        if (v !== 7n) throw new Error(`iterated ${v}`);
        outcomes.iteratorValue++;
        ev.close();
      }
    }
    // An 'event' listener that receives an event, then close.
    {
      const ev = new EventFd();
      const got = new Promise((resolve) => ev.once('event', resolve));
      ev.write(2n);
      if ((await got) !== 2n) throw new Error('listener');
      outcomes.listenerEvent++;
      ev.on('event', () => {});
      ev.close();
    }
    // Aborted read and aborted iteration, then close.
    {
      const ev = new EventFd();
      const ac = new AbortController();
      const p = ev.read({ signal: ac.signal });
      const it = ev.events({ signal: ac.signal });
      const next = it.next();
      ac.abort();
      const [a, b] = await Promise.allSettled([p, next]);
      if (!(a.reason instanceof AbortError)) throw new Error(`abort read: ${a.reason}`);
      if (!(b.reason instanceof AbortError)) throw new Error(`abort iteration: ${b.reason}`);
      outcomes.aborted++;
      outcomes.iteratorAborted++;
      ev.close();
    }
  }
  return outcomes;
}

function expectedOutcomes(n) {
  return { pendingReadEBADF: 2 * n, readResolved: n, iteratorEnded: n, iteratorValue: n, listenerEvent: n, aborted: n, iteratorAborted: n };
}

const CYCLES = 2000;

test(`EventFds consumed and closed (${CYCLES} × pending reads, served reads, iterators, listeners, aborts): no fd left open [${readinessBackend()}]`, async () => {
  const butter = await import('butter');
  const before = fdCount();
  const outcomes = await consumeCycles(butter, CYCLES);
  assert.deepEqual(outcomes, expectedOutcomes(CYCLES));
  await turn(); // uv_close callbacks
  assert.equal(fdCount(), before);
});

/** Starts a Worker running an ESM body with `butter` (and a few helpers) imported, on the given backend. */
function startWorker(body, backend) {
  return new Worker(
    esmSource(`import { parentPort, workerData } from 'node:worker_threads';
     import { readdirSync, readlinkSync } from 'node:fs';
     import * as butter from ${JSON.stringify(BUTTER_ESM)};
     const isEventfd = (fd) => { try { return readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[eventfd]'; } catch { return false; } };
     ${body}`),
    { env: { ...process.env, BUTTER_READINESS: backend }, stdout: true, stderr: true },
  );
}

/** An ESM module as a data: URL, for `new Worker(url)`. */
function esmSource(source) {
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

for (const backend of BACKENDS.filter((b) => b !== readinessBackend())) {
  test(`EventFds consumed and closed, in a Worker on the other readiness backend [${backend}]`, async () => {
    const before = fdCount();
    const w = startWorker(
      `const consumeCycles = ${consumeCycles.toString()};
       const outcomes = await consumeCycles(butter, ${CYCLES});
       parentPort.postMessage({ backend: butter.readinessBackend(), outcomes });`,
      backend,
    );
    const exited = once(w, 'exit'); // attached first: a Worker's last message and its exit can come in one go
    const [msg] = await once(w, 'message');
    const [code] = await exited;
    assert.equal(code, 0);
    assert.equal(msg.backend, backend);
    assert.deepEqual(msg.outcomes, expectedOutcomes(CYCLES));
    assert.equal(fdCount(), before);
  });
}

test('EventFds dropped without close are collected and their fds closed by the finalizer', async () => {
  const N = Math.min(10_000, fdHeadroom());
  assert.ok(N >= 1000, `room for ${N} fds`);
  const before = fdCount();
  let fds = [];
  (() => {
    for (let i = 0; i < N; i++) {
      const ev = new EventFd({ initval: 1 });
      ev.readEvent(); // used, but never closed
      fds.push(ev.fd);
    }
  })();
  assert.equal(fdCount(), before + N, 'the fds are open while the objects may be alive');
  assert.ok(await collectUntil(() => fdCount() === before), `fd count back to ${before} (now ${fdCount()})`);
  assert.equal(fds.filter(isEventfd).length, 0, 'every dropped object\'s eventfd is closed');
  fds = null;
});

test('the finalizer of an object closed explicitly never closes a reused fd number', async () => {
  const before = fdCount();
  const raw = [];
  (() => {
    for (let i = 0; i < 1000; i++) {
      const ev = new EventFd();
      const n = ev.fd;
      ev.close();
      const fd = eventfd(i + 1); // the kernel hands out the lowest free number: usually ev's old one
      raw.push({ fd, reused: fd === n, value: BigInt(i + 1) });
    }
  })();
  assert.ok(raw.some((r) => r.reused), 'fd numbers were reused');
  await collectUntil(() => false, 6); // collect every dropped EventFd
  for (const { fd, value } of raw) {
    assert.ok(isEventfd(fd), `fd ${fd} is still open`);
    assert.equal(eventfdRead(fd), value, 'and still the same eventfd');
    closeSync(fd);
  }
  assert.equal(fdCount(), before);
});

test('a dropped EventFd with a pending read stays alive until served, then is collected', async () => {
  const before = fdCount();
  let fd = -1;
  const pending = (() => {
    const ev = new EventFd();
    fd = ev.fd;
    return ev.read(); // only the promise is kept
  })();
  await collectUntil(() => false, 6);
  assert.ok(isEventfd(fd), 'a consumer keeps the object (and its fd) alive');
  eventfdWrite(fd, 5n); // as another thread or process would
  assert.equal(await pending, 5n);
  // No consumer any more: the object can go, and its fd with it.
  assert.ok(await collectUntil(() => !isEventfd(fd)), 'collected once nobody consumes');
  assert.equal(fdCount(), before);
});

// ---- Workers and processes that exit with open objects ----

// Opens objects of every kind of state, checks they are open, and reports their fds.
const OPEN_OBJECTS = `
  const objs = [];
  const fds = [];
  for (let i = 0; i < 50; i++) {
    const ev = new butter.EventFd({ initval: i % 3, semaphore: i % 2 === 0 });
    objs.push(ev);
    fds.push(ev.fd);
    switch (i % 6) {
      case 0: ev.read().catch(() => {}); break;                       // pending read (loop kept alive)
      case 1: ev.read().catch(() => {}); ev.unref(); break;           // pending read, unref'd
      case 2: ev.events().next(); break;                              // iteration started
      case 3: ev.on('event', () => {}); break;                        // listener
      case 4: ev.read({ signal: new AbortController().signal }).catch(() => {}); break;
      default: break;                                                 // idle
    }
  }
  // Held for the Worker's life: a module's top-level const that no function
  // uses is gone once the module has run, and idle objects would be collected.
  globalThis.openObjects = objs;
  for (let i = 0; i < 20; i++) fds.push(butter.eventfd(i)); // raw fds a user forgot: not Butter's to close
  const rawFds = fds.splice(50);
  if (!fds.every(isEventfd) || !rawFds.every(isEventfd)) throw new Error('not open');
`;

for (const backend of BACKENDS) {
  test(`a Worker that calls process.exit() with open EventFds leaves none open and does not crash [${backend}]`, async () => {
    const before = fdCount();
    for (let round = 0; round < 5; round++) {
      const w = startWorker(
        `${OPEN_OBJECTS}
         parentPort.postMessage({ fds, rawFds, backend: butter.readinessBackend() });
         setImmediate(() => process.exit(${round}));`,
        backend,
      );
      let stderr = '';
      w.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      const exited = once(w, 'exit'); // attached first: a Worker's last message and its exit can come in one go
      const [msg] = await once(w, 'message');
      const [code] = await exited;
      assert.equal(code, round, 'the exit code the Worker chose');
      assert.equal(msg.backend, backend);
      assert.equal(stderr, '');
      // The raw fds belong to the user (the same process): still open, so close them.
      for (const fd of msg.rawFds) {
        assert.ok(isEventfd(fd));
        closeSync(fd);
      }
      // Every EventFd of the Worker was closed by the environment's cleanup.
      assert.equal(msg.fds.filter(isEventfd).length, 0, `EventFd fds still open: ${msg.fds.filter(isEventfd)}`);
      assert.equal(fdCount(), before);
    }
  });

  test(`a Worker terminated with open EventFds leaves none open [${backend}]`, async () => {
    const before = fdCount();
    for (let round = 0; round < 5; round++) {
      // Terminated while idle in its event loop, waiting on its pending reads.
      const w = startWorker(
        `${OPEN_OBJECTS}
         parentPort.postMessage({ fds, rawFds });`,
        backend,
      );
      try {
        const [msg] = await once(w, 'message');
        assert.ok(msg.fds.every(isEventfd), 'open while the Worker runs');
        assert.equal(await w.terminate(), 1);
        for (const fd of msg.rawFds) {
          assert.ok(isEventfd(fd), 'raw fds are the user\'s, not closed by Butter');
          closeSync(fd);
        }
        assert.equal(msg.fds.filter(isEventfd).length, 0);
        assert.equal(fdCount(), before);
      } finally {
        await w.terminate(); // a failed check must not leave a Worker keeping this process alive
      }
    }
  });

  test(`a Worker terminated while busy creating EventFds leaves none open and does not crash [${backend}]`, async () => {
    const before = fdCount();
    const leaked = [];
    for (let round = 0; round < 20; round++) {
      const snapshot = new Set(readdirSync('/proc/self/fd'));
      const w = startWorker(
        `parentPort.postMessage('running');
         for (let i = 0; ; i++) {
           const ev = new butter.EventFd({ initval: 1 });
           ev.read().catch(() => {});
           if (i % 3) ev.close();
         }`,
        backend,
      );
      await once(w, 'message');
      await new Promise((r) => setTimeout(r, 10 + (round % 5) * 10));
      assert.equal(await w.terminate(), 1);
      if (fdCount() !== before) leaked.push({ round, extra: fdCount() - before });
      // Close what leaked (new since the round began, and made as the Worker made its
      // EventFds: counter 1), so that the next rounds start from the baseline again.
      for (const f of readdirSync('/proc/self/fd')) {
        if (!snapshot.has(f) && isEventfd(Number(f)) && /^eventfd-count:\s+1$/m.test(readFileSync(`/proc/self/fdinfo/${f}`, 'utf8'))) {
          closeSync(Number(f));
        }
      }
    }
    assert.equal(fdCount(), before);
    assert.deepEqual(leaked, [], `leaked in ${leaked.length} of 20 rounds`);
  });

  test(`a Worker whose loop empties with unref'd EventFds exits by itself and closes them [${backend}]`, async () => {
    const before = fdCount();
    const w = startWorker(
      `const fds = [];
       for (let i = 0; i < 20; i++) {
         const ev = new butter.EventFd();
         ev.read().catch(() => {});
         ev.unref();
         fds.push(ev.fd);
       }
       parentPort.postMessage({ fds });`,
      backend,
    );
    const exited = once(w, 'exit'); // attached first: a Worker's last message and its exit can come in one go
    const [msg] = await once(w, 'message');
    const [code] = await exited;
    assert.equal(code, 0);
    assert.equal(msg.fds.filter(isEventfd).length, 0);
    assert.equal(fdCount(), before);
  });

  test(`a process that exits with open EventFds (and Workers holding some) exits cleanly [${backend}]`, () => {
    const cases = {
      'process.exit(0) with pending reads': `${OPEN_OBJECTS} setImmediate(() => process.exit(0));`,
      'natural exit, everything unref\'d': `${OPEN_OBJECTS} for (const o of objs) { o.removeAllListeners('event'); o.unref(); }`,
      'process.exit(0) while a Worker holds EventFds': `
        import { Worker } from 'node:worker_threads';
        const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(${JSON.stringify(`
          import { parentPort } from 'node:worker_threads';
          import * as butter from ${JSON.stringify(BUTTER_ESM)};
          const objs = Array.from({ length: 20 }, () => new butter.EventFd());
          for (const o of objs) o.read().catch(() => {});
          parentPort.postMessage('ready');
        `)})));
        w.once('message', () => process.exit(0));`,
      'an uncaught exception handled, then exit with open objects': `${OPEN_OBJECTS}
        process.on('uncaughtException', () => process.exit(0));
        setImmediate(() => { throw new Error('boom'); });`,
    };
    for (const [name, body] of Object.entries(cases)) {
      const script = `
        import { readlinkSync } from 'node:fs';
        import * as butter from ${JSON.stringify(BUTTER_ESM)};
        const isEventfd = (fd) => { try { return readlinkSync('/proc/self/fd/' + fd) === 'anon_inode:[eventfd]'; } catch { return false; } };
        if (butter.readinessBackend() !== ${JSON.stringify(backend)}) throw new Error('backend');
        ${body}`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 20_000,
        env: { ...process.env, BUTTER_READINESS: backend },
      });
      assert.equal(r.signal, null, `${name}: killed by ${r.signal} ${r.stderr}`);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr, '', name);
    }
  });
}
