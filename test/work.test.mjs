// Blocking work off the loop (src/native/work.c, src/core/work.ts), through
// its first users, the Promise forms of the zero-copy calls: the loop runs
// while a call blocks, AbortSignal cancels a queued call and interrupts a
// running one, a call that had an effect settles with it ("too late"), fds
// closed meanwhile are never touched under a reused number, buffers are held,
// and Workers and processes that end with calls in flight end promptly and
// leak no fd.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { pipe2, setPipeSize, promises, blockSignals, constants as C, AbortError } from 'butter';
import { assertSysError } from './support/errors.mjs';
import { runChild } from './support/child.mjs';
import { closedAfter, scratchDir } from './support/fds.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const BUTTER_ESM = import.meta.resolve('butter');
const dir = scratchDir('work');
const opened = closedAfter();
const track = (...fds) => (opened.push(...fds), fds);
const blockingPipe = () => track(...pipe2(C.O_CLOEXEC));
let files = 0;
function file(content = '') {
  const p = path.join(dir, `f${files++}`);
  fs.writeFileSync(p, content);
  return { fd: track(fs.openSync(p, 'r+'))[0], p };
}
const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const queued = (fd) => {
  const buf = Buffer.alloc(65536);
  try {
    return buf.subarray(0, fs.readSync(fd, buf)).toString();
  } catch (e) {
    if (e.code === 'EAGAIN') return '';
    throw e;
  }
};

test('the loop runs while a call blocks, and a pending call keeps the process alive', () => {
  const r = runChild(`
    import { writeSync } from 'node:fs';
    import { pipe2, promises, constants as C } from 'butter';
    const [r, w] = pipe2(C.O_CLOEXEC);
    const [pr, pw] = pipe2(C.O_CLOEXEC);
    let ticks = 0;
    const t = setInterval(() => ticks++, 5);
    // Nothing but the call keeps the process alive once the interval is cleared.
    setTimeout(() => { clearInterval(t); writeSync(w, 'late'); }, 100).unref();
    promises.splice(r, null, pw, null, 10).then((res) => console.log(JSON.stringify({ ...res, ticks })));`);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.bytes, 4);
  assert.ok(out.ticks >= 5, `timers ran while the call blocked (${out.ticks})`);
});

test('an already aborted signal rejects at once and the call never runs', async () => {
  const [r, w] = track(...pipe2());
  const out = file();
  fs.writeSync(w, 'keep');
  const ac = new AbortController();
  ac.abort(new Error('why'));
  await assert.rejects(promises.splice(r, null, out.fd, 0n, 10, 0, { signal: ac.signal }), (e) => {
    assert.ok(e instanceof AbortError);
    assert.equal(e.code, 'ABORT_ERR');
    assert.equal(e.cause.message, 'why');
    return true;
  });
  assert.equal(queued(r), 'keep');
});

test('abort during a blocking call interrupts it: AbortError, and nothing was consumed', async () => {
  const [r, w] = blockingPipe();
  const out = file();
  const ac = new AbortController();
  const started = Date.now();
  const p = promises.splice(r, null, out.fd, 0n, 10, 0, { signal: ac.signal });
  await sleep(50); // running: blocked in splice on an empty pipe
  ac.abort();
  await assert.rejects(p, (e) => e instanceof AbortError && e.code === 'ABORT_ERR');
  assert.ok(Date.now() - started < 5000, 'interrupted, not left to block');
  fs.writeSync(w, 'after');
  assert.equal(fs.readFileSync(out.p, 'utf8'), '', 'the aborted call moved nothing');
  // vmsplice into a full pipe, and sendfile into one, are interrupted the same way.
  const [, fullW] = blockingPipe();
  fs.writeSync(fullW, Buffer.alloc(65536));
  const ac2 = new AbortController();
  const src = file('abc');
  const waits = [promises.vmsplice(fullW, Buffer.from('x'), 0, { signal: ac2.signal }), promises.sendfile(fullW, src.fd, 0n, 3, { signal: ac2.signal })];
  await sleep(50);
  ac2.abort();
  // Both handled at once: the second may reject while the first is awaited (an unhandled rejection then).
  await Promise.all(waits.map((p) => assert.rejects(p, AbortError)));
});

test('blockSignals() reaches a work thread blocked in a call, and the call goes on undisturbed', async () => {
  const [r, w] = blockingPipe();
  const out = file();
  const p = promises.splice(r, null, out.fd, 0n, 10);
  await sleep(30); // a work thread now sleeps in splice
  const started = Date.now();
  const block = blockSignals('SIGUSR2');
  try {
    assert.ok(Date.now() - started < 1500, 'every thread acknowledged, ours included');
    const sigusr2 = 1n << 11n;
    for (const tid of fs.readdirSync('/proc/self/task')) {
      let status;
      try {
        status = fs.readFileSync(`/proc/self/task/${tid}/status`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      assert.ok(BigInt(`0x${/^SigBlk:\s*([0-9a-f]+)/m.exec(status)[1]}`) & sigusr2, `thread ${tid} blocks SIGUSR2`);
    }
  } finally {
    block.release();
  }
  fs.writeSync(w, 'on');
  assert.deepEqual(await p, { bytes: 2, offIn: null, offOut: 2n });
});

test('an abort once the call has moved data is too late: it settles with what moved', async () => {
  let aborted = 0;
  let completed = 0;
  for (let i = 0; i < 300; i++) {
    const [r, w] = track(...pipe2());
    const out = file();
    fs.writeSync(w, 'data');
    const ac = new AbortController();
    const p = promises.splice(r, null, out.fd, 0n, 10, 0, { signal: ac.signal });
    if (i % 3) await sleep(i % 2); // abort now, a little later, or after completion
    ac.abort();
    try {
      assert.deepEqual(await p, { bytes: 4, offIn: null, offOut: 4n });
      assert.equal(fs.readFileSync(out.p, 'utf8'), 'data');
      completed++;
    } catch (e) {
      assert.ok(e instanceof AbortError, e);
      assert.equal(queued(r), 'data', 'an AbortError means the call had no effect');
      aborted++;
    }
  }
  assert.ok(completed > 0, `${aborted} aborted, ${completed} completed`);
  assert.ok(aborted > 0, `${aborted} aborted, ${completed} completed`);
});

test('with one thread: a queued call is cancelled by abort without running, and runs on its own fds even if they were closed and the numbers reused', () => {
  const r = runChild(`
    import fs from 'node:fs';
    import { pipe2, promises, constants as C } from 'butter';
    const [br, bw] = pipe2(C.O_CLOEXEC);
    const [sink] = pipe2();
    const [, sinkW] = pipe2(C.O_CLOEXEC);
    const out = {};
    const readOnce = (fd) => { const b = Buffer.alloc(100); return b.subarray(0, fs.readSync(fd, b)).toString(); };
    // The only thread blocks in this splice until bw is written.
    const first = promises.splice(br, null, sinkW, null, 10);
    await new Promise((r) => setTimeout(r, 30));
    // Queued behind it, then aborted: it must never run.
    const [r1, w1] = pipe2();
    fs.writeSync(w1, 'one');
    const ac = new AbortController();
    const cancelled = promises.splice(r1, null, sinkW, null, 10, 0, { signal: ac.signal });
    ac.abort();
    out.cancelled = await cancelled.then(() => 'resolved', (e) => e.name);
    out.leftInR1 = readOnce(r1);
    // Queued behind it, its input closed, the number given to another pipe with other data.
    const [r2, w2] = pipe2();
    fs.writeSync(w2, 'mine');
    fs.closeSync(w2);
    const [, outW] = pipe2(C.O_CLOEXEC);
    const queuedCall = promises.splice(r2, null, outW, null, 10);
    fs.closeSync(r2);
    const [victimR, victimW] = pipe2();
    out.reused = victimR === r2 || victimW === r2;
    fs.writeSync(victimW, 'victim');
    fs.writeSync(bw, 'go');
    out.first = (await first).bytes;
    out.queued = (await queuedCall).bytes;
    out.victimLeft = readOnce(victimR);
    console.log(JSON.stringify(out));`, { env: { BUTTER_WORK_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { cancelled: 'AbortError', leftInR1: 'one', reused: true, first: 2, queued: 4, victimLeft: 'victim' });
});

test('no fd is left open: completed, failed, cancelled and interrupted calls', async () => {
  const [r, w] = track(...pipe2());
  const [br] = blockingPipe();
  const out = file();
  const before = fdCount();
  for (let round = 0; round < 50; round++) {
    const calls = [];
    for (let i = 0; i < 20; i++) {
      fs.writeSync(w, 'x');
      calls.push(promises.splice(r, null, out.fd, BigInt(i), 1)); // completes
      calls.push(promises.splice(out.fd, 0n, out.fd, 0n, 1).catch((e) => assertSysError(e, 'EINVAL', 'splice'))); // fails
      const ac = new AbortController();
      calls.push(promises.splice(br, null, out.fd, 0n, 1, 0, { signal: ac.signal }).catch((e) => assert.ok(e instanceof AbortError)));
      if (i % 2) ac.abort(); // maybe before it starts
      else setTimeout(() => ac.abort(), 5); // while it blocks
    }
    await Promise.all(calls);
  }
  assert.equal(fdCount(), before);
});

test('buffers are held until the call is over, through garbage collections', async () => {
  const [r, w] = track(...pipe2());
  const capacity = setPipeSize(w, 1 << 20);
  fs.writeSync(w, Buffer.alloc(capacity, 0x2e)); // full: the call waits for room before it touches the buffer
  // Larger than glibc's largest mmap threshold: once freed, its pages are unmapped.
  const size = 40 << 20;
  const pattern = (i) => (i * 7 + (i >> 12)) & 0xff;
  const pending = (() => {
    const buf = Buffer.allocUnsafeSlow(size);
    for (let i = 0; i < size; i++) buf[i] = pattern(i);
    return promises.vmsplice(w, buf, 0); // flags 0: waits for room, in its thread
  })();
  // Only the call refers to the buffer now.
  for (let i = 0; i < 10; i++) {
    gc();
    await sleep(5);
  }
  const chunk = Buffer.alloc(capacity);
  assert.equal(fs.readSync(r, chunk), capacity); // room: the call goes on, reading the buffer's pages
  const bytes = await pending; // vmsplice returns once it has filled the pipe
  assert.ok(bytes > 0 && bytes <= capacity, `${bytes}`);
  let total = 0;
  while (total < bytes) {
    const n = fs.readSync(r, chunk);
    for (let i = 0; i < n; i++) if (chunk[i] !== pattern(total + i)) assert.fail(`byte ${total + i} differs from what the buffer held`);
    total += n;
  }
  assert.equal(total, bytes);
});

const [fileFd] = track(fs.openSync('/proc/self/exe', 'r'));

/** A Worker (ESM) with butter imported, running `body`. */
function startWorker(body, env) {
  const src = `import { parentPort, workerData } from 'node:worker_threads';
    globalThis.fileFd = workerData;
    import fs from 'node:fs';
    import * as butter from ${JSON.stringify(BUTTER_ESM)};
    ${body}`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`), { stderr: true, env, workerData: fileFd });
}

// Blocks one call of each kind on pipes nobody will write to or read from, and reports the raw fds.
const BLOCKED_CALLS = `
  const { pipe2, promises, constants: C } = butter;
  const fds = [];
  const pipe = () => { const p = pipe2(C.O_CLOEXEC); fds.push(...p); return p; };
  const [r] = pipe();
  const [, full] = pipe();
  fs.writeFileSync(full, Buffer.alloc(65536));
  // A Worker's fs.openSync fds are closed by Node when it ends: the test passes it one of its own.
  const file = globalThis.fileFd ?? fs.openSync('/proc/self/exe', 'r');
  const calls = [];
  for (let i = 0; i < 3; i++) calls.push(promises.splice(r, null, full, null, 10));
  calls.push(promises.tee(r, full, 10));
  calls.push(promises.vmsplice(full, Buffer.alloc(10), 0));
  calls.push(promises.sendfile(full, file, 0n, 10));
  for (const c of calls) c.catch(() => {});
  globalThis.pending = calls;
`;

test('a Worker terminated with calls blocked in flight ends promptly and leaves no fd open', async () => {
  const before = fdCount();
  for (let round = 0; round < 5; round++) {
    const w = startWorker(`${BLOCKED_CALLS}
      setTimeout(() => parentPort.postMessage(fds), 20);`);
    let stderr = '';
    w.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    try {
      const [fds] = await once(w, 'message');
      const targets = new Set(fds.map((fd) => fs.readlinkSync(`/proc/self/fd/${fd}`)).concat(fs.realpathSync('/proc/self/exe')));
      const onTargets = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return targets.has(fs.readlinkSync(`/proc/self/fd/${fd}`));
        } catch {
          return false; // the directory's own fd, closed by now
        }
      }).length;
      assert.equal(onTargets(), fds.length + 1 + 11, 'each call holds duplicates of its fds (vmsplice one, the others two)');
      const started = Date.now();
      assert.equal(await w.terminate(), 1);
      assert.ok(Date.now() - started < 5000, `terminate took ${Date.now() - started} ms`);
      for (const fd of fds) fs.closeSync(fd); // the Worker's raw fds are the user's, not Butter's
      assert.equal(onTargets(), 1, 'no duplicate left open (only the test\'s own file fd)');
      assert.equal(fdCount(), before);
      assert.equal(stderr, '');
    } finally {
      await w.terminate();
    }
  }
});

test('a Worker that exits with calls blocked in flight (process.exit, or queued behind a busy pool) leaves no fd open', async () => {
  const before = fdCount();
  const w = startWorker(`${BLOCKED_CALLS}
    for (let i = 0; i < 100; i++) promises.splice(r, null, full, null, 1).catch(() => {});
    parentPort.postMessage(fds);
    setTimeout(() => process.exit(7), 20);`);
  const exited = once(w, 'exit');
  const [fds] = await once(w, 'message');
  assert.deepEqual(await exited, [7]);
  for (const fd of fds) fs.closeSync(fd);
  assert.equal(fdCount(), before);
});

test('a process that exits with calls blocked in flight exits promptly, however it ends', () => {
  const endings = {
    'process.exit': 'setTimeout(() => process.exit(0), 20);',
    'an uncaught exception': "process.on('uncaughtException', () => process.exit(0)); setTimeout(() => { throw new Error('boom'); }, 20);",
    'a Worker holding calls, then process.exit': `
      import { Worker } from 'node:worker_threads';
      const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(${JSON.stringify(`import fs from 'node:fs'; import * as butter from ${JSON.stringify(BUTTER_ESM)}; import { parentPort } from 'node:worker_threads'; ${BLOCKED_CALLS}; parentPort.postMessage(1);`)})));
      w.once('message', () => setTimeout(() => process.exit(0), 20));`,
  };
  for (const [name, ending] of Object.entries(endings)) {
    const started = Date.now();
    const r = runChild(`import fs from 'node:fs'; import * as butter from 'butter'; ${BLOCKED_CALLS} ${ending}`, { timeout: 15_000 });
    assert.equal(r.signal, null, `${name}: killed (hung?) ${r.stderr}`);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    assert.equal(r.stderr, '', name);
    assert.ok(Date.now() - started < 10_000, name);
  }
});
