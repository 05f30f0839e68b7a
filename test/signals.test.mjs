// signals: pthreadSigmask, process-wide blocking, signalfd, SignalFd, sigqueue.
// Every test that changes a signal mask does it in a child process: the test
// runner's own mask is never touched.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { constants as osConstants } from 'node:os';
import { nobodyUnavailable } from './support/nobody.mjs';
import { assertSysError, copySysErrorSource } from './support/errors.mjs';
import { signalName, sigqueue, signalfd, signalfdRead, pthreadSigmask, SignalFd, blockSignals, constants as C } from 'butter';

const root = fileURLToPath(new URL('..', import.meta.url));
const S = osConstants.signals;

// Shared by every child: read each thread's blocked mask from /proc.
const prelude = `
  import * as b from 'butter';
  import { readdirSync, readFileSync, readFile } from 'node:fs';
  import { Worker } from 'node:worker_threads';
  import { spawn, spawnSync } from 'node:child_process';
  import { once } from 'node:events';
  const blocked = (path) => BigInt('0x' + readFileSync(path + '/status', 'utf8').match(/SigBlk:\\s*(\\S+)/)[1]);
  const threads = () => readdirSync('/proc/self/task').map((t) => ({ tid: Number(t), mask: blocked('/proc/self/task/' + t) }));
  const bit = (n) => 1n << BigInt(n - 1);
  const allBlock = (n) => threads().every((t) => (t.mask & bit(n)) !== 0n);
  const noneBlock = (n, except = []) => threads().filter((t) => !except.includes(t.tid)).every((t) => (t.mask & bit(n)) === 0n || t.mask === ${'0xfffffffe7ffbfeffn'});
  const out = (v) => console.log(JSON.stringify(v, (k, x) => typeof x === 'bigint' ? x.toString() : x));
  const copy = ${copySysErrorSource};
`;

/** Runs an ESM body in a child node (with the prelude); returns its JSON output. */
function inChild(body, { env = {}, timeout = 20_000, uid } = {}) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', prelude + body], {
    cwd: root,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, ...env },
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  assert.equal(r.status, 0, `child failed (${r.signal ?? r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

describe('names and numbers', () => {
  test('signalName knows the standard and real-time names', () => {
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(6), 'SIGABRT');
    assert.equal(signalName(29), 'SIGIO');
    assert.equal(signalName(C.SIGRTMIN), 'SIGRTMIN');
    assert.equal(signalName(C.SIGRTMIN + 3), 'SIGRTMIN+3');
    assert.equal(signalName(C.SIGRTMAX), 'SIGRTMAX');
    assert.equal(signalName(32), undefined);
    assert.equal(C.SIGRTMIN, 34, 'glibc keeps 32 and 33');
    assert.equal(C.SIGRTMAX, 64);
  });

  test('bad signals are refused before any syscall', () => {
    const code = (c) => (e) => e.code === c;
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, [0]), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, [65]), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, [32]), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, ['SIGNOPE']), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, ['SIGRTMIN+31']), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, ['SIGRTMAX+1']), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, [1.5]), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => pthreadSigmask(C.SIG_BLOCK, [{}]), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => pthreadSigmask('block', []), code('ERR_INVALID_ARG_TYPE'));
    assert.throws(() => signalfd(-2, ['SIGUSR1']), code('ERR_OUT_OF_RANGE'));
    assert.throws(() => sigqueue(1, 'SIGNOPE'), code('ERR_INVALID_ARG_VALUE'));
    assert.throws(() => sigqueue(1, 'SIGUSR1', 2 ** 31), code('ERR_OUT_OF_RANGE'));
  });

  test('SignalFd and blockSignals refuse what cannot or must not be blocked process-wide', () => {
    for (const sig of ['SIGKILL', 'SIGSTOP', 'SIGCHLD', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP', 'SIGRTMAX', 'SIGRTMAX-1', S.SIGKILL]) {
      assert.throws(() => new SignalFd(['SIGUSR1', sig]), (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE', String(sig));
      assert.throws(() => blockSignals(sig), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    assert.throws(() => new SignalFd('SIGCHLD'), /'exit' event/);
    assert.throws(() => new SignalFd([]), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new SignalFd(), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('pthreadSigmask (in a child)', () => {
  test('changes and reports the calling thread\'s mask only', () => {
    const r = inChild(`
      readFile('/etc/hostname', () => {});
      await new Promise((r) => setTimeout(r, 20));
      const prev = b.pthreadSigmask(b.constants.SIG_BLOCK, ['SIGUSR2', 'SIGRTMIN+1']);
      const now = b.pthreadSigmask(b.constants.SIG_BLOCK, null);
      const main = blocked('/proc/self/task/' + process.pid);
      const others = threads().filter((t) => t.tid !== process.pid && (t.mask & bit(12)) !== 0n && t.mask !== 0xfffffffe7ffbfeffn).length;
      const back = b.pthreadSigmask(b.constants.SIG_SETMASK, prev);
      const after = b.pthreadSigmask(b.constants.SIG_UNBLOCK, []);
      let einval;
      try { b.pthreadSigmask(99, []); } catch (e) { einval = copy(e); }
      out({ prev, now, mainHas: (main & bit(12)) !== 0n, others, back, after, einval });`);
    assert.deepEqual(r.prev, []);
    assert.deepEqual(r.now, [12, 35]);
    assert.equal(r.mainHas, true);
    assert.equal(r.others, 0, 'no other thread changed');
    assert.deepEqual(r.back, [12, 35]);
    assert.deepEqual(r.after, []);
    assertSysError(r.einval, 'EINVAL', 'pthread_sigmask');
  });
});

describe('process-wide blocking (in a child)', () => {
  test('blocks in every thread, running and future, and restores on release', () => {
    const r = inChild(`
      readFile('/etc/hostname', () => {}); // start libuv's pool threads
      const early = new Worker('setTimeout(() => {}, 2000)', { eval: true, execArgv: [] });
      await once(early, 'online');
      const before = threads().length;
      const block = b.blockSignals(['SIGUSR1', 'SIGHUP']);
      const everyThread = allBlock(10) && allBlock(1);
      const late = new Worker("const { parentPort } = require('node:worker_threads'); parentPort.postMessage(require('butter').gettid()); setTimeout(() => {}, 2000)", { eval: true, execArgv: [] });
      const [lateTid] = await once(late, 'message');
      const lateMask = blocked('/proc/self/task/' + lateTid);
      block.release();
      block.release();
      // V8's own threads always block SIGUSR1, so check SIGHUP everywhere, SIGUSR1 in this thread.
      const restored = noneBlock(1) && (blocked('/proc/self/task/' + process.pid) & bit(10)) === 0n;
      await early.terminate(); await late.terminate();
      out({ before, everyThread, lateBlocks: (lateMask & bit(10)) !== 0n, restored, held: block.held, signals: block.signals });`);
    assert.ok(r.before >= 8, `many threads to cover (${r.before})`);
    assert.equal(r.everyThread, true);
    assert.equal(r.lateBlocks, true, 'a thread started later inherits the block');
    assert.equal(r.restored, true);
    assert.equal(r.held, false);
    assert.deepEqual(r.signals, [1, 10]);
  });

  test('holders are counted: overlapping blocks and SignalFds cooperate', () => {
    const r = inChild(`
      const a = new b.SignalFd(['SIGUSR1', 'SIGUSR2']);
      const c = b.blockSignals('SIGUSR2');
      a.close();
      const s1 = allBlock(10), s2 = allBlock(12);
      c[Symbol.dispose]();
      out({ s1, s2, after: noneBlock(12) });`);
    assert.deepEqual(r, { s1: false, s2: true, after: true });
  });

  test('a signal the caller had blocked before stays blocked in its thread', () => {
    const r = inChild(`
      b.pthreadSigmask(b.constants.SIG_BLOCK, ['SIGUSR1']);
      const s = new b.SignalFd('SIGUSR1');
      s.close();
      out({ main: (blocked('/proc/self/task/' + process.pid) & bit(10)) !== 0n });`);
    assert.equal(r.main, true);
  });

  test('children spawned while signals are blocked start with them unblocked (libuv resets the mask)', () => {
    const r = inChild(`
      const block = b.blockSignals(['SIGTERM', 'SIGUSR1']);
      const status = spawnSync('cat', ['/proc/self/status'], { encoding: 'utf8' }).stdout;
      block.release();
      out({ child: status.match(/SigBlk:\\s*(\\S+)/)[1] });`);
    assert.equal(BigInt(`0x${r.child}`) & ((1n << 14n) | (1n << 9n)), 0n);
  });
});

describe('SignalFd (in a child)', () => {
  test('reports sender pid, uid and the sigqueue value', () => {
    const r = inChild(`
      const s = new b.SignalFd(['SIGUSR1', 'SIGUSR2']);
      const sender = spawn(process.execPath, ['-e', "const b = require('butter'); b.sigqueue(" + process.pid + ", 'SIGUSR1', 4242); process.kill(" + process.pid + ", 'SIGUSR2')"], { cwd: process.cwd() });
      const got = [];
      for await (const ev of s) { got.push(ev); if (got.length === 2) break; }
      await once(sender, 'exit');
      s.close();
      out({ got, sender: sender.pid, uid: process.getuid() });`);
    const [q, k] = r.got;
    assert.equal(q.signo, S.SIGUSR1);
    assert.equal(q.name, 'SIGUSR1');
    assert.equal(q.codeName, 'SI_QUEUE');
    assert.equal(q.code, -1);
    assert.equal(q.pid, r.sender);
    assert.equal(q.uid, r.uid);
    assert.equal(q.int, 4242);
    assert.equal(q.ptr, '4242');
    assert.equal(k.name, 'SIGUSR2');
    assert.equal(k.codeName, 'SI_USER');
    assert.equal(k.pid, r.sender);
    for (const key of ['errno', 'fd', 'tid', 'band', 'overrun', 'trapno', 'status', 'utime', 'stime', 'addr', 'addr_lsb', 'syscall', 'call_addr', 'arch']) {
      assert.ok(key in q, `field ${key}`);
    }
  });

  test('SIGTERM while a SignalFd holds it does not kill, with pool threads busy', () => {
    const r = inChild(`
      import { pbkdf2 } from 'node:crypto';
      const s = new b.SignalFd('SIGTERM');
      let busy = 0;
      for (let i = 0; i < 8; i++) pbkdf2('x', 'y', 300000, 32, 'sha256', () => busy++);
      await new Promise((r) => setTimeout(r, 10));
      const everyThread = allBlock(15);
      for (let i = 0; i < 20; i++) process.kill(process.pid, 'SIGTERM');
      const ev = await s.read();
      while (busy < 8) await new Promise((r) => setTimeout(r, 10));
      s.close();
      out({ everyThread, name: ev.name, pid: ev.pid === process.pid, restored: noneBlock(15) });`, { timeout: 60_000 });
    assert.deepEqual(r, { everyThread: true, name: 'SIGTERM', pid: true, restored: true });
  });

  test('process.on listeners for the same signal stay silent while a SignalFd holds it', () => {
    const r = inChild(`
      let heard = 0;
      process.on('SIGUSR2', () => heard++);
      const s = new b.SignalFd('SIGUSR2');
      process.kill(process.pid, 'SIGUSR2');
      const ev = await s.read();
      await new Promise((r) => setTimeout(r, 50));
      const whileOpen = heard;
      s.close();
      process.kill(process.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 100));
      out({ got: ev.name, whileOpen, afterClose: heard });`);
    assert.deepEqual(r, { got: 'SIGUSR2', whileOpen: 0, afterClose: 1 });
  });

  test('a Worker\'s SignalFd takes process-directed signals too', () => {
    const r = inChild(`
      const w = new Worker(\`
        const b = require('butter'); const { parentPort } = require('node:worker_threads');
        const s = new b.SignalFd('SIGHUP');
        parentPort.postMessage('ready');
        s.read().then((ev) => { parentPort.postMessage(ev.name); s.close(); });\`, { eval: true, execArgv: [] });
      const exited = once(w, 'exit'); // attached first: the Worker's last message and its exit can come in one go
      await once(w, 'message');
      process.kill(process.pid, 'SIGHUP');
      const [name] = await once(w, 'message');
      await exited;
      out({ name, restored: noneBlock(1) });`);
    assert.deepEqual(r, { name: 'SIGHUP', restored: true });
  });

  test('a signal still pending at close is delivered the usual way', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { SignalFd } from 'butter';
      const s = new SignalFd('SIGTERM');
      process.kill(process.pid, 'SIGTERM');
      s.close();
      setTimeout(() => console.log('survived'), 200);`], { cwd: root, encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.signal, 'SIGTERM');
    assert.equal(r.stdout, '');
  });

  test('close ends iterations; use after close is EBADF; the block is released', () => {
    const r = inChild(`
      const s = new b.SignalFd('SIGUSR2');
      const next = s.events().next();
      s.close();
      const done = (await next).done;
      let err;
      try { s.readEvent(); } catch (e) { err = copy(e); }
      out({ done, err, restored: noneBlock(12), fd: s.fd });`);
    const { err, ...rest } = r;
    assertSysError(err, 'EBADF', 'read');
    assert.deepEqual(rest, { done: true, restored: true, fd: -1 });
  });
});

describe('signalfd, signalfdRead, sigqueue: errors', () => {
  test('EAGAIN when nothing is pending; EINVAL for bad flags or a non-signalfd fd; EBADF', () => {
    const r = inChild(`
      const errs = {};
      const fd = b.signalfd(-1, ['SIGUSR1']);
      try { b.signalfdRead(fd); } catch (e) { errs.eagain = copy(e); }
      try { b.signalfd(-1, ['SIGUSR1'], 0x40000000); } catch (e) { errs.flags = copy(e); }
      const ev = b.eventfd(0);
      try { b.signalfd(ev, ['SIGUSR1']); } catch (e) { errs.notsfd = copy(e); }
      try { b.signalfd(2147483647, ['SIGUSR1']); } catch (e) { errs.ebadf = copy(e); }
      try { b.signalfdRead(2147483647); } catch (e) { errs.readbadf = copy(e); }
      // Updating the mask of an existing signalfd returns the same fd.
      const same = b.signalfd(fd, ['SIGUSR1', 'SIGUSR2']) === fd;
      out({ errs, same });`);
    assertSysError(r.errs.eagain, 'EAGAIN', 'read');
    assertSysError(r.errs.flags, 'EINVAL', 'signalfd');
    assertSysError(r.errs.notsfd, 'EINVAL', 'signalfd');
    assertSysError(r.errs.ebadf, 'EBADF', 'signalfd');
    assertSysError(r.errs.readbadf, 'EBADF', 'read');
    assert.equal(r.same, true);
  });

  test('sigqueue: ESRCH for a process that does not exist, EPERM without the right', () => {
    assert.throws(() => sigqueue(2 ** 22 + 12345, 0), (e) => assertSysError(e, 'ESRCH', 'sigqueue'));
    if (nobodyUnavailable) return;
    const r = inChild(`
      let err;
      try { b.sigqueue(1, 'SIGUSR1', 1); } catch (e) { err = copy(e); }
      out({ err });`, { uid: 65534 });
    assertSysError(r.err, 'EPERM', 'sigqueue');
  });
});

describe('a Worker that ends holding blocks gives them back (in a child)', () => {
  // Resolves whether this thread's process.on('SIGUSR1') hears one sent now.
  const hears = `
    let heard = 0;
    process.on('SIGUSR1', () => heard++);
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const hears = async () => {
      const before = heard;
      process.kill(process.pid, 'SIGUSR1');
      for (let i = 0; i < 50 && heard === before; i++) await sleep(10);
      return heard > before;
    };
    const worker = (body) => new Worker("const b = require('butter'); const { parentPort } = require('node:worker_threads');" + body, { eval: true, execArgv: [] });
  `;

  test('returned without close: SignalFd, blockSignals, both, an unread signal pending', () => {
    const r = inChild(hears + `
      const bodies = {
        signalfd: "globalThis.s = new b.SignalFd('SIGUSR1');",
        block: "globalThis.s = b.blockSignals(['SIGUSR1', 'SIGHUP']);",
        several: "globalThis.s = [new b.SignalFd('SIGUSR1'), b.blockSignals('SIGUSR1'), new b.SignalFd(['SIGUSR1', 'SIGHUP'])];",
        reading: "globalThis.s = new b.SignalFd('SIGUSR1'); s.read(); setTimeout(() => process.exit(), 20);",
      };
      const got = {};
      for (const [name, body] of Object.entries(bodies)) {
        await once(worker(body), 'exit');
        got[name] = { hears: await hears(), sighup: noneBlock(1) };
      }
      out(got);`);
    for (const [name, { hears: h, sighup }] of Object.entries(r)) {
      assert.equal(h, true, `${name}: process.on('SIGUSR1') hears it again`);
      assert.equal(sighup, true, `${name}: no thread blocks SIGHUP any more`);
    }
  });

  test('terminated: holding, reading, or at any point of a create/close loop', () => {
    const r = inChild(hears + `
      const got = [];
      const holding = worker("globalThis.s = new b.SignalFd('SIGUSR1'); parentPort.postMessage(0); setInterval(() => {}, 1000);");
      await once(holding, 'message');
      await holding.terminate();
      got.push(await hears());
      const reading = worker("globalThis.s = b.blockSignals('SIGUSR1'); const f = new b.SignalFd('SIGUSR1'); f.read(); parentPort.postMessage(0);");
      await once(reading, 'message');
      await reading.terminate();
      got.push(await hears());
      for (let i = 0; i < 12; i++) {
        const looping = worker("parentPort.postMessage(0); for (;;) { const f = new b.SignalFd('SIGUSR1'); const k = b.blockSignals(['SIGUSR1', 'SIGHUP']); f.close(); k.release(); new b.SignalFd('SIGUSR1'); }");
        await once(looping, 'message');
        await sleep(i * 3);
        await looping.terminate();
        got.push(await hears());
      }
      out({ got, sighup: noneBlock(1) });`, { timeout: 60_000 });
    assert.deepEqual(r.got, r.got.map(() => true), 'process.on(\'SIGUSR1\') hears it after every termination');
    assert.equal(r.sighup, true);
  });

  test('SIGTERM ends the process after a Worker that held it returned or was terminated', () => {
    for (const end of ['', 'parentPort.postMessage(0); setInterval(() => {}, 1000);']) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
        import { Worker } from 'node:worker_threads';
        import { once } from 'node:events';
        const w = new Worker("const b = require('butter'); const { parentPort } = require('node:worker_threads'); globalThis.s = new b.SignalFd('SIGTERM'); ${end}", { eval: true, execArgv: [] });
        if (${end === ''}) await once(w, 'exit'); else { await once(w, 'message'); await w.terminate(); }
        process.kill(process.pid, 'SIGTERM');
        setTimeout(() => console.log('survived'), 1000);`], { cwd: root, encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.signal, 'SIGTERM', `${end ? 'terminated' : 'returned'}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
    }
  });

  test('holds are counted per owner: the main thread\'s hold outlives a Worker\'s, and its release still unblocks', () => {
    const r = inChild(hears + `
      const main = new b.SignalFd('SIGUSR1');
      const w = worker("globalThis.s = [new b.SignalFd('SIGUSR1'), b.blockSignals('SIGUSR1')]; parentPort.postMessage(0); setInterval(() => {}, 1000);");
      await once(w, 'message');
      await w.terminate();
      await once(worker("globalThis.s = b.blockSignals('SIGUSR1');"), 'exit');
      const mainBlocks = (blocked('/proc/self/task/' + process.pid) & bit(10)) !== 0n;
      process.kill(process.pid, 'SIGUSR1');
      const ev = await main.read();
      await sleep(50);
      const heardWhileHeld = heard;
      main.close();
      out({ mainBlocks, got: ev.name, heardWhileHeld, afterRelease: await hears() });`);
    assert.deepEqual(r, { mainBlocks: true, got: 'SIGUSR1', heardWhileHeld: 0, afterRelease: true });
  });
});

test('the main thread keeps its blocks as the process ends: a signal still pending does not replace its exit', () => {
  for (const end of ['', 'process.exit(3);']) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { blockSignals, SignalFd } from 'butter';
      globalThis.s = [blockSignals('SIGTERM'), new SignalFd('SIGTERM').unref()];
      process.kill(process.pid, 'SIGTERM');
      ${end}`], { cwd: root, encoding: 'utf8', timeout: 10_000 });
    assert.deepEqual({ signal: r.signal, status: r.status }, { signal: null, status: end ? 3 : 0 }, r.stderr);
  }
});
