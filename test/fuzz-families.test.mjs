// Property-based tests for the families after the foundation (timerfd, the
// drop-in timers, signals, inotify, watch, fanotify): arbitrary values as arguments and
// options give only documented errors, never a crash, a hang or another kind of
// error. fuzz.test.mjs covers the foundation with models; this file covers the
// breadth. Signal masks are only ever changed in a child process, and no
// signal is ever sent anywhere but to that child itself with signal 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import * as butter from 'butter';
import * as timers from 'butter/timers';
import * as timersPromises from 'butter/timers/promises';
import { openFds, fdsOpenedSince } from './support/fds.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 300;
const FD_BASELINE = openFds();
const dir = mkdtempSync(join(tmpdir(), 'butter-fuzz-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(fdsOpenedSince(FD_BASELINE), [], 'every fd opened here is closed');
});

// Kept as source text too, so the signals child can use the same definitions.
const shared = `
  const CLOSED_FD = 2 ** 31 - 1;
  function classify(err) {
    const arg = { ERR_INVALID_ARG_TYPE: [TypeError], ERR_INVALID_ARG_VALUE: [TypeError, RangeError], ERR_OUT_OF_RANGE: [RangeError] };
    if (err !== null && typeof err === 'object' && Object.hasOwn(arg, err.code) && arg[err.code].some((C) => err instanceof C)) return 'arg';
    if (err instanceof Error && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code) && Number.isInteger(err.errno) &&
        err.errno < 0 && typeof err.syscall === 'string' && err.message.startsWith(err.code + ': ')) return 'system';
    if (err instanceof Error && err.name === 'AbortError' && err.code === 'ABORT_ERR') return 'abort';
    throw new Error('an undocumented error came back: ' + (err instanceof Error ? err.stack : String(err)));
  }
  function arbitraries(fc) {
    const base = fc.oneof(
      fc.anything({ withBigInt: true, withBoxedValues: true, withNullPrototype: true, withTypedArray: true, maxDepth: 2 }),
      fc.integer(), fc.double(), fc.bigInt(),
      fc.constantFrom(0, -1, 1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 53, -0, 0n, -1n, 2n ** 63n, 2n ** 64n, '', '\\0', 'x\\0y',
        'SIGTERM', 'SIGRTMIN+3', 'SIGKILL', 'SIGNOPE', 'create', 'all', 'monotonic', 'boottime_alarm', null, undefined, [], {},
        Symbol('s'), () => {}, new Uint8Array(0), Buffer.from('x')),
    );
    return { value: base, options: fc.oneof(base, fc.dictionary(fc.constantFrom('clock', 'interval', 'absolute', 'cancelOnSet',
      'joinRenames', 'renameWindow', 'coalesce', 'onlyDir', 'followSymlinks', 'excludeUnlinked', 'oneshot', 'maskAdd', 'maskCreate',
      'recursive', 'events', 'ignore', 'signal', 'ref', 'encoding', 'semaphore', 'initval'), base)) };
  }
`;
const { classify, arbitraries, CLOSED_FD } = new Function(`${shared}; return { classify, arbitraries, CLOSED_FD };`)();
const A = arbitraries(fc);

/** Numbers that would pass as an fd are replaced by one that is surely not open. */
const noFd = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31 ? CLOSED_FD : v);

function settle(fn) {
  try {
    return fn();
  } catch (err) {
    classify(err);
    return undefined;
  }
}

test('timerfd 1:1 calls and TimerFd: only documented errors', () => {
  fc.assert(
    fc.property(A.value, A.value, A.options, A.options, (a, b, o1, o2) => {
      const fd = settle(() => butter.timerfdCreate(a, b));
      if (typeof fd === 'number') closeSync(fd);
      settle(() => butter.timerfdSettime(noFd(a), b, o1));
      settle(() => butter.timerfdGettime(noFd(a)));
      settle(() => butter.timerfdSetTicks(noFd(a), b));
      settle(() => butter.timerfdRead(noFd(a)));
      const t = settle(() => new butter.TimerFd(o1));
      if (t) {
        settle(() => t.set(a, o2));
        settle(() => t.get());
        settle(() => t.readEvent());
        settle(() => t.disarm());
        t.close();
      }
    }),
    { numRuns: RUNS },
  );
});

test('drop-in timers: only documented errors, and every timer made is cleared', async () => {
  const made = [];
  fc.assert(
    fc.property(A.value, A.value, A.value, (cb, delay, arg) => {
      for (const make of [timers.setTimeout, timers.setInterval]) {
        try {
          const t = make(cb, delay, arg);
          made.push(t);
        } catch (err) {
          // Exactly as node:timers: the delay is coerced with arithmetic, so a
          // bigint (or a Symbol) throws the language's own TypeError.
          if (!(err instanceof TypeError && (typeof delay === 'bigint' || typeof delay === 'symbol' || typeof delay === 'object'))) classify(err);
        }
      }
      settle(() => timers.clearTimeout(delay));
      settle(() => timers.clearInterval(arg));
    }),
    { numRuns: RUNS },
  );
  for (const t of made) timers.clearInterval(t);
  await fc.assert(
    fc.asyncProperty(A.value, A.value, A.options, async (delay, value, options) => {
      const ac = new AbortController();
      const opts = options !== null && typeof options === 'object' && !Array.isArray(options) ? { ...options, signal: ac.signal } : options;
      const p = (async () => timersPromises.setTimeout(typeof delay === 'number' ? Math.min(Math.abs(delay) || 0, 5) : delay, value, opts))();
      ac.abort();
      try {
        await p;
      } catch (err) {
        classify(err);
      }
    }),
    { numRuns: 100 },
  );
});

test('inotify 1:1 calls, Inotify and watch(): only documented errors', async () => {
  fc.assert(
    fc.property(A.value, A.value, A.options, (a, b, o) => {
      const fd = settle(() => butter.inotifyInit(a));
      if (typeof fd === 'number') closeSync(fd);
      // Real paths are not thrown here: only values, and the temp dir.
      settle(() => butter.inotifyAddWatch(noFd(a), typeof b === 'string' ? join(dir, b.replaceAll('/', '_')) : b, a));
      settle(() => butter.inotifyRmWatch(noFd(a), b));
      settle(() => butter.inotifyRead(noFd(a)));
      settle(() => butter.inotifyMask(a));
      settle(() => butter.inotifyMaskNames(a));
      const ino = settle(() => new butter.Inotify(o));
      if (ino) {
        settle(() => ino.add(dir, a, o));
        settle(() => ino.add(b, a));
        settle(() => ino.readEvents());
        ino.close();
      }
    }),
    { numRuns: RUNS },
  );
  for (const v of [undefined, null, 5, {}, [], '', '\0', Symbol('s'), join(dir, 'missing')]) {
    for (const o of [undefined, null, 1, { recursive: 'yes' }, { ignore: 5 }, { events: 7 }, { signal: {} }]) {
      const w = settle(() => butter.watch(v, o));
      if (w) await w.close();
    }
  }
});

test('Fanotify and fanotifyRespond: only documented errors, and nothing is ever marked', { skip: process.getuid() !== 0 && 'needs CAP_SYS_ADMIN' }, () => {
  // Every path that could name something is forced under a directory that does
  // not exist, and every dirfd is one that is surely not open: the kernel can
  // only answer ENOENT or EBADF, so no mark is placed on this machine.
  const missing = join(dir, 'missing');
  const safePath = (v) => (typeof v === 'string' || v instanceof Uint8Array || v instanceof URL ? join(missing, String(v).replaceAll('/', '_')) : v);
  const safeOptions = (o) => (o !== null && typeof o === 'object' && !Array.isArray(o) && typeof o.dirfd === 'number' ? { ...o, dirfd: CLOSED_FD } : o);
  fc.assert(
    fc.property(A.value, A.value, A.options, fc.constantFrom('notif', 'content', 'pre_content', undefined),
      fc.array(fc.constantFrom('open', 'close_write', 'open_perm', 'create', 'ondir', 'nope'), { maxLength: 3 }), (a, b, o, cls, events) => {
        const fan = settle(() => new butter.Fanotify(o)) ?? settle(() => new butter.Fanotify({ class: cls, deadline: typeof a === 'number' ? a : undefined }));
        settle(() => butter.fanotifyRespond(noFd(a), b, a));
        settle(() => butter.fanotifyDenyErrno(a));
        if (!fan) return;
        try {
          settle(() => fan.mark(safePath(a), safeOptions(o)));
          settle(() => fan.mark(safePath(b), { events, mount: typeof a === 'boolean' ? a : undefined }));
          settle(() => fan.unmark(safePath(b), safeOptions(o)));
          settle(() => fan.flush(safeOptions(o)));
          settle(() => fan.readEvents());
          settle(() => butter.fanotifyRespond(fan.fd, noFd(a), b));
        } finally {
          fan.close();
        }
      }),
    { numRuns: RUNS },
  );
});

test('parseInotifyEvents: arbitrary bytes parse or fail with a documented error, never read out of bounds', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.option(fc.integer({ min: -5, max: 400 })), (bytes, len) => {
      const records = settle(() => butter.parseInotifyEvents(Buffer.from(bytes), len ?? undefined));
      if (records) {
        for (const r of records) {
          assert.equal(typeof r.wd, 'number');
          assert.equal(typeof r.mask, 'number');
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('signals: only documented errors (in a child, whose own mask is the only one touched)', { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import fc from 'fast-check';
    import * as b from 'butter';
    import { closeSync } from 'node:fs';
    ${shared}
    const A = arbitraries(fc);
    const settle = (fn) => { try { return fn(); } catch (e) { classify(e); } };
    fc.assert(fc.property(A.value, A.value, A.value, (a, s, f) => {
      settle(() => b.pthreadSigmask(a, s));
      b.pthreadSigmask(b.constants.SIG_SETMASK, []);
      const fd = settle(() => b.signalfd(-1, s, Number.isInteger(f) && f >= 0 && f < 2 ** 31 ? f | b.constants.SFD_NONBLOCK : f)); // a blocking read would wait forever
      if (typeof fd === 'number') { settle(() => b.signalfdRead(fd)); closeSync(fd); }
      const block = settle(() => b.blockSignals(s));
      block?.release();
      const sfd = settle(() => new b.SignalFd(s));
      sfd?.readEvents();
      sfd?.close();
      settle(() => b.signalName(a));
      // Signal 0 to ourselves only: arbitrary pids and signals could hit real processes.
      settle(() => b.sigqueue(process.pid, 0, a));
      settle(() => b.sigqueue(typeof a === 'number' ? process.pid : a, 0));
    }), { numRuns: ${RUNS / 2} });
    console.log('ok');
  `], { cwd: root, encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});

// Arbitrary paths, flags and options could name real mounts: the calls run in a
// child in user, mount, UTS, IPC and net namespaces of its own, where it holds
// no privilege over the host's filesystems (a remount of one is EPERM), from
// a tmpfs of its own; fds are swapped for a closed one.
test('mount and namespaces: only documented errors (in a child in namespaces of its own)', { timeout: 180_000 }, () => {
  const r = spawnSync('unshare', ['-Urm', '--propagation', 'private', '--uts', '--ipc', '--net', '--', process.execPath, '--input-type=module', '-e', `
    import fc from 'fast-check';
    import * as b from 'butter';
    import fs from 'node:fs';
    ${shared}
    const A = arbitraries(fc);
    const settle = (fn) => { try { return fn(); } catch (e) { classify(e); } };
    const noFd = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31 ? CLOSED_FD : v);
    fs.mkdirSync('/tmp/butter-fuzz-mount', { recursive: true });
    b.mount('tmpfs', '/tmp/butter-fuzz-mount', 'tmpfs', 0, 'size=1m');
    process.chdir('/tmp/butter-fuzz-mount');
    const closeIf = (fd) => { if (typeof fd === 'number') fs.closeSync(fd); };
    fc.assert(fc.property(A.value, A.value, A.value, A.value, A.options, (p, q, f, g, o) => {
      settle(() => b.mount(p, q, f, g, o));
      settle(() => b.umount2(p, f));
      settle(() => b.pivotRoot(p, q));
      closeIf(settle(() => b.fsopen(p, f)));
      settle(() => b.fsconfig(noFd(p), f, q, g, noFd(o)));
      closeIf(settle(() => b.fsmount(noFd(p), f, g)));
      settle(() => b.moveMount(noFd(f), p, noFd(g), q, o));
      closeIf(settle(() => b.openTree(noFd(f), p, g)));
      closeIf(settle(() => b.fspick(noFd(f), p, g)));
      settle(() => b.mountSetattr(noFd(f), p, g, o));
      settle(() => b.statmount(p, q, f, o));
      settle(() => b.listmount(p, f, o));
      settle(() => b.mountinfo(p));
      settle(() => b.parseMountinfo(p));
      settle(() => b.unshare(f, o));
      settle(() => b.setns(noFd(p), f, o));
      closeIf(settle(() => b.nsGetUserns(noFd(p))));
      settle(() => b.nsGetPidInPidns(noFd(p), f));
      settle(() => b.nsGetMntnsId(noFd(p)));
      settle(() => b.nsMntGetInfo(noFd(p)));
      closeIf(settle(() => b.nsMntGetNext(noFd(p)))?.fd);
    }), { numRuns: ${RUNS} });
    await Promise.all([b.promises.mount(CLOSED_FD, {}), b.promises.umount2(null)].map((p) => p.catch(classify)));
    console.log('ok');
  `], { cwd: root, encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok');
});

// Values that once reached the engine (a bare TypeError with no code) instead of
// Butter's argument checks: each now gets Node's argument error, or is handled.
const detached = () => {
  const ab = new ArrayBuffer(16);
  const view = new Uint8Array(ab, 4);
  structuredClone(ab, { transfer: [ab] });
  return view;
};
const revoked = (target) => {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
};
const argErr = (fn, code, name) => assert.throws(fn, (e) => {
  assert.equal(e.code, code, e.stack);
  assert.ok(e.message.includes(`"${name}"`), e.message);
  return true;
});

test('hostile arguments that used to reach the engine get Node\'s argument errors', () => {
  argErr(() => butter.globToRegExp(undefined), 'ERR_INVALID_ARG_TYPE', 'glob');
  argErr(() => butter.globToRegExp(Buffer.from('a*')), 'ERR_INVALID_ARG_TYPE', 'glob');
  argErr(() => butter.fanotifyCloseEvents([{}]), 'ERR_INVALID_ARG_TYPE', 'events[0].fd');
  argErr(() => butter.fanotifyCloseEvents([null]), 'ERR_INVALID_ARG_TYPE', 'events[0]');
  argErr(() => butter.fanotifyCloseEvents([{ fd: -1 }]), 'ERR_INVALID_ARG_TYPE', 'events[0].info');
  argErr(() => butter.fanotifyCloseEvents([{ fd: -1, info: [null] }]), 'ERR_INVALID_ARG_TYPE', 'events[0].info[0]');
  argErr(() => butter.fanotifyCloseEvents([{ fd: -1, info: [{ type: 'pidfd', pidfd: 1n }] }]), 'ERR_INVALID_ARG_TYPE', 'events[0].info[0].pidfd');
  argErr(() => butter.fanotifyCloseEvents([{ fd: 1.5, info: [] }]), 'ERR_OUT_OF_RANGE', 'events[0].fd');
  argErr(() => butter.fanotifyCloseEvents(revoked([])), 'ERR_INVALID_ARG_TYPE', 'events');
  for (const parse of [butter.parseFanotifyEvents, butter.parseInotifyEvents]) {
    assert.deepEqual(parse(detached()), [], `${parse.name}: a detached view has no bytes`);
    argErr(() => parse(detached(), 1), 'ERR_OUT_OF_RANGE', 'length');
    for (const v of [undefined, null, revoked({})]) argErr(() => parse(v), 'ERR_INVALID_ARG_TYPE', 'buffer');
  }
  argErr(() => butter.inotifyMask(revoked([])), 'ERR_INVALID_ARG_TYPE', 'events');
  argErr(() => butter.inotifyAddWatch(CLOSED_FD, revoked({}), 'create'), 'ERR_INVALID_ARG_TYPE', 'path');
});

test('a bad record closes nothing: fanotifyCloseEvents checks every record first', () => {
  const fd = butter.eventfd();
  const good = { fd, info: [] };
  argErr(() => butter.fanotifyCloseEvents([good, { fd: -1 }]), 'ERR_INVALID_ARG_TYPE', 'events[1].info');
  assert.equal(good.fd, fd);
  butter.fanotifyCloseEvents([good]);
  assert.equal(good.fd, -1);
  assert.throws(() => butter.eventfdRead(fd), { code: 'EBADF' });
});

test('signal sets in a revoked Proxy get Node\'s argument errors (in a child)', () => {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import * as b from 'butter';
    const { proxy, revoke } = Proxy.revocable([], {});
    revoke();
    const codes = [() => new b.SignalFd(proxy), () => b.blockSignals(proxy), () => b.pthreadSigmask(b.constants.SIG_BLOCK, proxy)].map((f) => {
      try { f(); return 'no error'; } catch (e) { return e.code ?? e.message; }
    });
    console.log(JSON.stringify(codes));`], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_TYPE']);
});
