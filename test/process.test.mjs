// process family: getpid(), getppid(), gettid() by raw syscall.
//
// The ids must be the kernel's answer at the moment of the call: equal to what
// Node reports for this process, per-thread for gettid() (each Worker is its own
// kernel task), and never a cached value (getppid() follows a reparenting).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync, readdirSync, existsSync } from 'node:fs';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { getpid, getppid, gettid } from 'butter';

// Absolute location of the package, so children and Workers load exactly this build.
const BUTTER_ESM = import.meta.resolve('butter');

/** Runs an ESM script in a fresh node process; resolves with its exit status and output. */
async function runNode(script, { timeout = 20_000 } = {}) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  // 'close' (not 'exit'): waits until every holder of the pipes (grandchildren too) is gone.
  const [status, signal] = await once(child, 'close');
  return { pid: child.pid, status, signal, stdout, stderr };
}

/** Starts a Worker running `source` (an ESM module body) with `butter` and a few fs helpers imported. */
function inWorker(source) {
  const w = new Worker(
    new URL(`data:text/javascript,${encodeURIComponent(`import { parentPort } from 'node:worker_threads';
     import * as butter from ${JSON.stringify(BUTTER_ESM)};
     import { readlinkSync, existsSync } from 'node:fs';
     ${source}`)}`),
  );
  return w;
}

test('getpid() is the kernel pid of this process', () => {
  const pid = getpid();
  assert.equal(typeof pid, 'number');
  assert.ok(Number.isSafeInteger(pid) && pid > 0, `pid ${pid}`);
  assert.equal(pid, process.pid);
  // /proc/self is the kernel's own view of "the calling process".
  assert.equal(readlinkSync('/proc/self'), String(pid));
  // Stable across calls.
  for (let i = 0; i < 1000; i++) assert.equal(getpid(), pid);
});

test('getppid() is the kernel parent pid of this process', () => {
  const ppid = getppid();
  assert.equal(typeof ppid, 'number');
  assert.ok(Number.isSafeInteger(ppid) && ppid >= 0, `ppid ${ppid}`);
  assert.equal(ppid, process.ppid);
  assert.notEqual(ppid, getpid());
  // Field 4 of /proc/self/stat is the ppid (the comm field in parentheses may contain spaces).
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const ppidFromStat = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  assert.equal(ppid, ppidFromStat);
});

test('gettid() equals getpid() on the main thread and names a task of this process', () => {
  const tid = gettid();
  assert.equal(typeof tid, 'number');
  assert.equal(tid, getpid());
  assert.equal(readlinkSync('/proc/thread-self'), `${getpid()}/task/${tid}`);
  assert.ok(readdirSync('/proc/self/task').includes(String(tid)));
});

test('gettid() in Workers: the Worker thread\'s own kernel tid, different per Worker', async () => {
  const N = 3;
  const workers = [];
  for (let i = 0; i < N; i++) {
    // Each Worker reports its ids, then stays alive until told to go, so the main
    // thread can check that its tid is a live task of this very process.
    workers.push(
      await inWorker(`
        const tid = butter.gettid();
        parentPort.postMessage({
          tid,
          tid2: butter.gettid(),
          pid: butter.getpid(),
          ppid: butter.getppid(),
          threadSelf: readlinkSync('/proc/thread-self'),
        });
        parentPort.once('message', () => {
          parentPort.postMessage({ tidAfterWait: butter.gettid() });
          parentPort.close();
        });
      `),
    );
  }
  const reports = await Promise.all(workers.map(async (w) => (await once(w, 'message'))[0]));
  const mainTid = gettid();
  for (const r of reports) {
    assert.equal(r.pid, process.pid, 'a Worker is a thread of this process');
    assert.equal(r.ppid, process.ppid);
    assert.equal(r.tid, r.tid2, 'stable within the thread');
    assert.notEqual(r.tid, mainTid, 'a Worker thread is not the main thread');
    assert.notEqual(r.tid, r.pid);
    // The kernel agrees that this is the calling thread's id.
    assert.equal(r.threadSelf, `${process.pid}/task/${r.tid}`);
    // ... and it is a live task of this process, seen from the main thread.
    assert.ok(existsSync(`/proc/${process.pid}/task/${r.tid}`), `task ${r.tid} exists`);
  }
  assert.equal(new Set(reports.map((r) => r.tid)).size, N, 'each Worker has its own tid');
  // The main thread's id is unaffected by the Workers.
  assert.equal(gettid(), getpid());

  const after = await Promise.all(
    workers.map(async (w) => {
      // Both listeners first: a Worker's last message and its exit can be emitted in one go.
      const exited = once(w, 'exit');
      const replied = once(w, 'message');
      w.postMessage('go');
      const [msg] = await replied;
      const [code] = await exited;
      assert.equal(code, 0);
      return msg.tidAfterWait;
    }),
  );
  assert.deepEqual(after, reports.map((r) => r.tid));
});

test('in a child process, getpid() is the pid the parent was given and getppid() is the parent', async () => {
  const r = await runNode(`
    import * as butter from ${JSON.stringify(BUTTER_ESM)};
    console.log(JSON.stringify({ pid: butter.getpid(), ppid: butter.getppid(), tid: butter.gettid(), nodePid: process.pid }));
  `);
  assert.equal(r.status, 0, r.stderr);
  const ids = JSON.parse(r.stdout);
  assert.equal(ids.pid, r.pid, 'the pid spawn() reported to the parent');
  assert.equal(ids.nodePid, r.pid);
  assert.equal(ids.tid, r.pid);
  assert.equal(ids.ppid, process.pid, 'the parent is this test process');
  assert.notEqual(ids.pid, process.pid);
});

test('getppid() is never cached: it follows a reparenting when the parent dies', async () => {
  // This test spawns a middle process that spawns a grandchild and exits at once.
  // The grandchild records getppid() (its parent, the middle process), waits until
  // the kernel reparents it (to init or a subreaper), and records getppid() again.
  // A cached value would never change.
  const r = await runNode(`
    import { spawn } from 'node:child_process';
    const grandchild = spawn(process.execPath, ['--input-type=module', '-e', ${JSON.stringify(`
      import * as butter from ${JSON.stringify(BUTTER_ESM)};
      import { writeSync, closeSync } from 'node:fs';
      const before = butter.getppid();
      writeSync(3, 'ready'); // tells the middle process it may exit now
      closeSync(3);
      const deadline = Date.now() + 15000;
      const poll = () => {
        const now = butter.getppid();
        if (now !== before || Date.now() > deadline) {
          console.log(JSON.stringify({ before, after: now, nodePpid: process.ppid, pid: butter.getpid() }));
        } else {
          setTimeout(poll, 5);
        }
      };
      poll();
    `)}], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'], detached: true });
    console.log(JSON.stringify({ middle: process.pid, grandchild: grandchild.pid }));
    // Exit only once the grandchild has read its parent: until then, it is us.
    grandchild.stdio[3].once('data', () => process.exit(0));
  `);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2, r.stdout + r.stderr);
  const { middle, grandchild } = lines[0];
  const g = lines[1];
  assert.equal(g.pid, grandchild);
  assert.equal(g.before, middle, 'before: the parent is the middle process');
  assert.notEqual(g.after, middle, 'after the middle process exited, the kernel reparented the grandchild');
  assert.ok(g.after > 0);
  assert.equal(g.after, g.nodePpid, 'the new parent as Node sees it');
});

test('the id functions ignore arguments and have no side effects', () => {
  assert.equal(getpid(1, 'x', {}), process.pid);
  assert.equal(getppid(null), process.ppid);
  assert.equal(gettid(undefined, 2n), process.pid);
});
