// The fault-injection harness: every event source runs through the same faults
// (user code that throws or rejects, loops left mid-batch, aborts, close() from
// a listener, a stalled loop, a signal storm, fd exhaustion, a Worker
// terminated mid-way).
//
// A source is an adapter: `code`, child-process code that defines `A` with
//   make()           makes the source (synchronously, so EMFILE can be provoked)
//   ready(src)       resolves once it watches (optional)
//   produce(src, n)  makes n events happen; resolves when the producing is over
//   take(ev)         what a consumer does with an event (fanotify: answer it);
//                    returns how many of the n it accounts for
// plus `syscalls`, the syscalls a failed make() may name, `child`, the kind
// of child it needs ('plain', or 'tmpfs' for fanotify's private tmpfs), and
// `known`: faults this source is known to fail, by name, with the finding
// (those cases run as todo). A new family adds one adapter.
//
// Each case runs in a child process of its own, which must exit by itself: a
// case that leaves an fd watched or the loop referenced is killed at its
// timeout and fails. The child prints its `result` as JSON.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { root } from './child.mjs';
import { BUTTER_ESM, inPrivateTmpfsAsync } from './private-tmpfs.mjs';
import { notifyFilter, NR } from './seccomp.mjs';

const HELPER = pathToFileURL(`${root}/dist/cjs/core/helper.js`).href;
const CHDIR_FILTER = notifyFilter([NR.chdir]).toString('base64');

/** Events each case produces. */
export const N = 5;

// Helpers every case body may use (imported dynamically: a 'tmpfs' child runs
// the body inside a block). `dir` is a fresh directory, removed at exit, for
// the adapters that watch files; `mnt` is the private tmpfs in 'tmpfs' children.
const COMMON = `
const fsp = (await import('node:fs')).default;
const os = await import('node:os');
const { spawn: spawnChild, execFileSync: execFile } = await import('node:child_process');
const { Worker } = await import('node:worker_threads');
const N = ${N};
const fdCount = () => fsp.readdirSync('/proc/self/fd').length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (cond, ms) => { const end = Date.now() + ms; while (!cond() && Date.now() < end) await sleep(5); return cond(); };
const busy = (ms) => { const end = Date.now() + ms; while (Date.now() < end); };
const dir = fsp.mkdtempSync((fsp.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()) + '/butter-faults-');
process.on('exit', () => fsp.rmSync(dir, { recursive: true, force: true }));
`;

// Adapters: code that defines `A`, given B (butter), fsp, dir (and mnt for 'tmpfs').
export const ADAPTERS = {
  EventFd: {
    child: 'plain',
    syscalls: ['eventfd'],
    code: `const A = {
      make: () => new B.EventFd({ semaphore: true }),
      produce: async (src, n) => src.write(BigInt(n)),
      take: () => 1,
    };`,
  },
  TimerFd: {
    child: 'plain',
    syscalls: ['timerfd_create'],
    // Expired n times already (an absolute start n - 1 intervals ago): the next expiry is an interval away.
    code: `const A = {
      make: () => new B.TimerFd(),
      produce: async (src, n) => { src.set(process.hrtime.bigint() - BigInt(n - 1) * 10_000_000_000n, { absolute: true, interval: 10_000 }); },
      take: (ev) => Number(ev.expirations),
    };`,
  },
  SignalFd: {
    child: 'plain',
    syscalls: ['signalfd', 'opendir'],
    // Real-time signals queue one by one. The one sent is held blocked for the
    // child's life, so signals still pending when a SignalFd closes are never
    // delivered (their default action ends the process); the other is never
    // sent, and blocking it makes every make() reach every thread.
    code: `const held = B.blockSignals('SIGRTMIN+1');
    const A = {
      make: () => new B.SignalFd(['SIGRTMIN+1', 'SIGRTMIN+2']),
      produce: async (src, n) => { for (let i = 0; i < n; i++) process.kill(process.pid, B.constants.SIGRTMIN + 1); },
      take: () => 1,
    };`,
  },
  Inotify: {
    child: 'plain',
    syscalls: ['inotify_init1'],
    // Read on every wake (the buffered one below coalesces, by default).
    code: `let files = 0;
    const A = {
      make: () => { const src = new B.Inotify({ coalesce: 0 }); src.add(dir, ['create']); return src; },
      produce: async (src, n) => { for (let i = 0; i < n; i++) fsp.writeFileSync(dir + '/f' + files++, ''); },
      take: () => 1,
    };`,
  },
  'Inotify({ buffer })': {
    child: 'plain',
    syscalls: ['inotify_init1', 'eventfd'],
    code: `let files = 0;
    const A = {
      make: () => { const src = new B.Inotify({ buffer: 1 << 20 }); src.add(dir, ['create']); return src; },
      produce: async (src, n) => { for (let i = 0; i < n; i++) fsp.writeFileSync(dir + '/f' + files++, ''); },
      take: () => 1,
    };`,
  },
  Fanotify: {
    child: 'tmpfs',
    syscalls: ['fanotify_init'],
    // A permission group: every event is answered (by take(), else by the short
    // deadline), and each of the n events is an opener in a process of its own.
    code: `fsp.writeFileSync(mnt + '/f', '');
    const A = {
      make: () => { const src = new B.Fanotify({ permission: true, deadline: 1000 }); src.mark(mnt, { mount: true, events: ['open_perm'] }); return src; },
      produce: (src, n) => new Promise((resolve) => {
        const sh = spawnChild('sh', ['-c', 'for i in $(seq 1 ' + n + '); do cat "$0/f" >/dev/null & done; wait', mnt], { stdio: 'ignore' });
        sh.on('exit', resolve);
      }),
      take: (ev) => { if (!ev.permission) return 0; ev.allow(); return 1; },
    };`,
  },
  SeccompNotify: {
    child: 'plain',
    syscalls: ['fcntl'],
    // A shell under a filter that notifies chdir: each event is a subshell's
    // cd waiting for its answer (take()'s, else the deadline's default). The
    // listener is held by an object with no deadline, which never reads, so
    // that make() can duplicate it synchronously; notifications a closed
    // source left unread wait until this process ends, which closes the
    // listener, so producing is over once the subshells are started.
    code: `const { spawnHelper } = await import(${JSON.stringify(HELPER)});
    let holder;
    const target = spawnHelper('/bin/sh', [], { stdio: ['pipe', 'pipe', 'ignore'], steps: [
      { op: 'prctl', option: 38, args: [1] },
      { op: 'seccomp', flags: B.constants.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter: Buffer.from(${JSON.stringify(CHDIR_FILTER)}, 'base64'),
        onListener: (fd) => (holder = new B.SeccompNotify(fd, { deadline: Infinity })) },
    ] });
    await target.ready;
    // The shell reads its commands until this process ends: it must not keep it alive.
    const sh = target.child;
    sh.unref();
    sh.stdin.unref();
    sh.stdout.unref();
    let dones = 0;
    const waiting = [];
    sh.stdout.setEncoding('utf8').on('data', (s) => { dones += s.split('\\n').length - 1; while (waiting.length && waiting[0][0] <= dones) waiting.shift()[1](); });
    let produced = 0;
    const A = {
      make: () => new B.SeccompNotify(holder.fd, { deadline: 1000 }),
      produce: (src, n) => new Promise((resolve) => {
        sh.stdout.ref();
        waiting.push([++produced, () => { sh.stdout.unref(); resolve(); }]);
        sh.stdin.write('i=0; while [ $i -lt ' + n + ' ]; do (cd /) & i=$((i+1)); done; echo done\\n');
      }),
      take: (ev) => { ev.respond({ value: 0 }); return 1; },
    };`,
  },
  'watch()': {
    child: 'plain',
    syscalls: ['inotify_init1'],
    code: `let files = 0;
    const A = {
      make: () => B.watch(dir, { events: ['create'] }),
      ready: (src) => src.ready,
      produce: async (src, n) => { for (let i = 0; i < n; i++) fsp.writeFileSync(dir + '/f' + files++, ''); },
      take: (ev) => (ev.type === 'create' ? 1 : 0),
    };`,
  },
};

// Faults: code run after the adapter's; each makes its own source and fills `result`.
export const FAULTS = {
  'a listener that throws on the first event': `
    const uncaught = [];
    process.on('uncaughtException', (err) => uncaught.push(err.message));
    const src = A.make();
    await A.ready?.(src);
    let got = 0;
    src.on('event', (ev) => { const first = got === 0; got += A.take(ev); if (first) throw new Error('listener threw'); });
    await A.produce(src, N);
    await until(() => got >= N, 3000);
    await sleep(20);
    src.close();
    Object.assign(result, { got, uncaught });`,

  'an async listener that rejects': `
    const surfaced = [];
    process.on('unhandledRejection', (err) => surfaced.push(err.message));
    process.on('uncaughtException', (err) => surfaced.push(err.message));
    const src = A.make();
    await A.ready?.(src);
    src.on('error', (err) => surfaced.push(err.message));
    let got = 0;
    src.on('event', async (ev) => { const first = got === 0; got += A.take(ev); if (first) throw new Error('listener rejected'); });
    await A.produce(src, N);
    await until(() => got >= N, 3000);
    await sleep(20);
    src.close();
    Object.assign(result, { got, surfaced });`,

  'a for await loop that breaks mid-batch': `
    const src = A.make();
    await A.ready?.(src);
    const producing = A.produce(src, N);
    let got = 0;
    for await (const ev of src) { got += A.take(ev); if (got > 0) break; }
    await producing;
    // Not closed: with nobody consuming, nothing may keep the process alive.
    Object.assign(result, { got, open: !src.closed });`,

  'a for await loop that throws mid-batch': `
    const src = A.make();
    await A.ready?.(src);
    const producing = A.produce(src, N);
    let got = 0;
    let caught = null;
    try {
      for await (const ev of src) { got += A.take(ev); if (got > 0) throw new Error('loop threw'); }
    } catch (err) { caught = err.message; }
    await producing;
    Object.assign(result, { got, caught, open: !src.closed });`,

  'an AbortSignal aborted while waiting': `
    const src = A.make();
    await A.ready?.(src);
    const ac = new AbortController();
    const it = src.events({ signal: ac.signal });
    const next = it.next();
    setTimeout(() => ac.abort(new Error('stop')), 20);
    const settled = await next.then((v) => ({ value: v }), (err) => ({ name: err.name, code: err.code, cause: err.cause?.message }));
    const after = await it.next();
    Object.assign(result, { settled, afterDone: after.done, open: !src.closed });`,

  'close() from inside a listener': `
    const uncaught = [];
    process.on('uncaughtException', (err) => uncaught.push(err.message));
    const src = A.make();
    await A.ready?.(src);
    let calls = 0;
    let closes = 0;
    src.on('close', () => closes++);
    src.on('event', (ev) => { calls++; A.take(ev); src.close(); });
    await A.produce(src, N);
    await until(() => calls > 0, 3000);
    await sleep(50);
    Object.assign(result, { calls, closes, closed: src.closed, uncaught });`,

  'a stalled loop while events pile up': `
    const src = A.make();
    await A.ready?.(src);
    let got = 0;
    src.on('event', (ev) => { got += A.take(ev); });
    const producing = A.produce(src, N);
    busy(200);
    await producing;
    await until(() => got >= N, 3000);
    await sleep(20);
    src.close();
    Object.assign(result, { got });`,

  'a signal storm while events flow': `
    // Each signal interrupts whatever system call a thread is in (EINTR).
    let signals = 0;
    process.on('SIGUSR2', () => signals++);
    const src = A.make();
    await A.ready?.(src);
    let got = 0;
    src.on('event', (ev) => { got += A.take(ev); });
    const storm = new Promise((resolve) => {
      spawnChild('sh', ['-c', 'for i in $(seq 1 300); do kill -USR2 ' + process.pid + '; done'], { stdio: 'ignore' }).on('exit', resolve);
    });
    await A.produce(src, N);
    await storm;
    await until(() => got >= N && signals > 0, 3000);
    await sleep(20);
    src.close();
    process.removeAllListeners('SIGUSR2');
    Object.assign(result, { got, signalled: signals > 0 });`,

  'removeAllListeners(), then a listener': `
    const src = A.make();
    await A.ready?.(src);
    src.on('event', () => {});
    src.removeAllListeners('newListener');
    src.removeAllListeners('removeListener');
    src.removeAllListeners();
    let got = 0;
    src.on('event', (ev) => { got += A.take(ev); });
    await A.produce(src, N);
    await until(() => got >= N, 3000);
    await sleep(20);
    // Not closed: with its listeners gone, nothing may keep the process alive.
    src.removeAllListeners('event');
    Object.assign(result, { got, open: !src.closed });`,

  'fd exhaustion (EMFILE) at construction': `
    execFile('prlimit', ['--pid', String(process.pid), '--nofile=256:']);
    // A family's modules load at its first use, and loading opens files: load them first.
    A.make().close();
    const before = fdCount();
    const hog = [];
    try { for (;;) hog.push(fsp.openSync('/dev/null', 'r')); } catch (err) { if (err.code !== 'EMFILE') throw err; }
    // 0, 1, 2, ... fds free: every step of construction meets EMFILE once.
    const outcomes = [];
    for (let free = 0; free <= 4; free++) {
      if (free > 0) fsp.closeSync(hog.pop());
      try {
        A.make().close();
        outcomes.push('made');
      } catch (err) {
        outcomes.push({ name: err.name, code: err.code, errno: err.errno, syscall: err.syscall, message: err.message });
      }
    }
    for (const fd of hog) fsp.closeSync(fd);
    await sleep(20);
    Object.assign(result, { outcomes, leaked: fdCount() - before });`,

  'a Worker terminated at a random step': `
    const ROUNDS = 4;
    const code = 'import { parentPort } from "node:worker_threads";'
      + 'import * as B from ' + JSON.stringify(BUTTER_ESM) + ';'
      + 'const fsp = (await import("node:fs")).default;'
      + 'const { spawn: spawnChild } = await import("node:child_process");'
      + 'const dir = ' + JSON.stringify(dir) + ';'
      + 'const mnt = ' + JSON.stringify(typeof mnt === 'string' ? mnt : null) + ';'
      + ADAPTER
      + 'parentPort.postMessage("running");'
      + 'for (let i = 0; ; i++) {'
      + '  const src = A.make();'
      + '  await A.ready?.(src);'
      + '  if (i % 2) src.on("event", (ev) => A.take(ev)); else src.events().next().then((r) => r.done || A.take(r.value));'
      + '  await A.produce(src, 1);'
      + '  await new Promise((r) => setImmediate(r));'
      + '  if (i % 3) src.close();'
      + '}';
    const before = new Set(fsp.readdirSync('/proc/self/fd'));
    const leaks = [];
    for (let round = 0; round < ROUNDS; round++) {
      const w = new Worker(new URL('data:text/javascript,' + encodeURIComponent(code)), { stdout: true, stderr: true });
      await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
      await sleep(Math.floor(Math.random() * 30));
      await w.terminate();
      await sleep(10);
      const extra = fsp.readdirSync('/proc/self/fd').filter((fd) => !before.has(fd));
      if (extra.length > 0) leaks.push(extra.map((fd) => { try { return fsp.readlinkSync('/proc/self/fd/' + fd); } catch { return fd; } }));
    }
    Object.assign(result, { rounds: ROUNDS, leaks });`,
};

/**
 * Runs one fault against one adapter in a child (on `backend`); resolves
 * `{ status, signal, stderr, result }`.
 */
export async function runCase(adapterName, faultName, { backend, timeout = 10_000 } = {}) {
  const adapter = ADAPTERS[adapterName];
  const body = `${COMMON}
const ADAPTER = ${JSON.stringify(adapter.code)};
const BUTTER_ESM = ${JSON.stringify(BUTTER_ESM)};
${adapter.code}
${FAULTS[faultName]}`;
  const env = { BUTTER_READINESS: backend };
  let r;
  if (adapter.child === 'tmpfs') {
    r = await inPrivateTmpfsAsync(body, { timeout, env });
  } else {
    const code = `import * as B from ${JSON.stringify(BUTTER_ESM)};
const result = {};
${body}
process.stdout.write(JSON.stringify(result));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: root,
      env: { ...process.env, ...env },
      timeout,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const [status, signal] = await once(child, 'close');
    r = { status, signal, stdout, stderr };
  }
  let result = null;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    // No result: the child died or never finished; status and stderr tell.
  }
  return { status: r.status, signal: r.signal, stderr: r.stderr, result };
}
