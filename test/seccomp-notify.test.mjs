// seccomp user notification: processes started through butter-helper under a
// filter that notifies a few syscalls, supervised from here. Only the
// children run under filters; this process never loads one.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readlinkSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  SeccompNotify,
  SeccompNotification,
  seccompNotifyRecv,
  seccompNotifySend,
  seccompNotifyIdValid,
  seccompNotifyAddfd,
  seccompNotifySetFlags,
  parseSeccompNotif,
  constants as C,
} from 'butter';
import { assertSysError } from './support/errors.mjs';
import { NOT_X86_64, NR, AUDIT_ARCH_X86_64, notifyFilter, supervised, outcome } from './support/seccomp.mjs';

const { spawnHelper } = await import('../dist/cjs/core/helper.js');

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const fdCount = () => readdirSync('/proc/self/fd').length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The fds a process has open that are seccomp listeners. */
const listenersOf = (pid) => readdirSync(`/proc/${pid}/fd`).filter((fd) => {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:seccomp notify';
  } catch {
    return false;
  }
});

describe('seccomp_notify', { skip: NOT_X86_64 }, () => {
  test('1:1: recv a notification, check its id, answer it, and the errors of what comes after', async () => {
    // With no deadline nothing is read ahead: the 1:1 calls below have the listener to themselves.
    const { child, ready, listener } = supervised('/bin/sh', ['-c', 'cd /tmp; echo "cd $?"'], [NR.chdir], { options: { deadline: Infinity } });
    const done = outcome(child);
    const notify = await listener;
    await ready;
    const fd = notify.fd;
    let n;
    for (let i = 0; i < 500 && !n; i++) {
      try {
        n = seccompNotifyRecv(fd);
      } catch (err) {
        assertSysError(err, 'EAGAIN', 'ioctl');
        await sleep(10);
      }
    }
    assert.equal(n.pid, child.pid);
    assert.equal(n.syscall, 'chdir');
    assert.equal(n.nr, NR.chdir);
    assert.equal(n.arch, AUDIT_ARCH_X86_64);
    assert.equal(n.args.length, 6);
    assert.ok(n.args.every((a) => typeof a === 'bigint'));
    assert.equal(typeof n.instructionPointer, 'bigint');
    assert.equal(seccompNotifyIdValid(fd, n.id), true);
    seccompNotifySend(fd, { id: n.id, error: 'EACCES' });
    assert.equal(seccompNotifyIdValid(fd, n.id), false, 'answered: the target no longer waits');
    const r = await done;
    // A second answer: EINPROGRESS while the target wakes, ENOENT once it has.
    assert.throws(() => seccompNotifySend(fd, { id: n.id, error: 'EACCES' }), (err) => assertSysError(err, 'ENOENT', 'ioctl'));
    assert.equal(r.out, 'cd 2\n');
    assert.match(r.err, /can't cd to \/tmp/);
    // The shell is gone (and reaped): nothing can come any more.
    assert.throws(() => seccompNotifyRecv(fd), (err) => assertSysError(err, 'EPIPE', 'ioctl'));
    notify.close();
  });

  test('respond({ error }), respond({ value }) and continue(): the target sees each answer, with the path read from its memory', async () => {
    const script = 'cd /tmp; echo "a=$?"; cd /butter-none; echo "b=$?"; /bin/pwd; cd /tmp; echo "c=$?"; /bin/pwd';
    const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir], { cwd: '/' });
    const done = outcome(child);
    const notify = await listener;
    const seen = [];
    const answers = [(n) => n.respond({ error: 'EACCES' }), (n) => n.respond({ value: 0 }), (n) => n.continue()];
    for await (const n of notify) {
      seen.push(n.readString(n.args[0]));
      assert.equal(n.idValid(), true);
      assert.equal(answers[seen.length - 1](n), true);
      assert.equal(n.answered, true);
      assert.equal(n.respond({ value: 1 }), false, 'answered once');
      assert.equal(n.idValid(), false);
    }
    // The loop ended by itself: the shell exited, and the object closed.
    assert.equal(notify.closed, true);
    assert.deepEqual(seen, ['/tmp', '/butter-none', '/tmp']);
    const r = await done;
    assert.equal(r.out, 'a=2\nb=0\n/\nc=0\n/tmp\n', 'EACCES, a chdir that "succeeded" without running, then one that ran');
    assert.equal(r.code, 0);
  });

  test('respond({ value }): the syscall returns it, given as a number or as a bigint', async () => {
    for (const [value, printed] of [[4242, '4242'], [65_537n, '65537'], [2 ** 31 - 1, '2147483647']]) {
      const { child, listener } = supervised('/bin/sh', ['-c', 'echo $PPID'], [NR.getppid]);
      const done = outcome(child);
      const notify = await listener;
      notify.on('event', (n) => n.respond({ value }));
      assert.equal((await done).out, `${printed}\n`, `the shell's getppid() got ${value}`);
      notify.close();
    }
  });

  test('readMemory() reads the target\'s buffers; after the answer it throws ENOENT', async () => {
    const { child, listener } = supervised('/bin/sh', ['-c', 'cd /butter-memory-test'], [NR.chdir]);
    const done = outcome(child);
    const notify = await listener;
    const n = await notify.read();
    assert.equal(n.readMemory(n.args[0], 5).toString(), '/butt');
    assert.equal(n.readMemory(n.args[0], 0).length, 0);
    assert.equal(n.readString(n.args[0], 64), '/butter-memory-test');
    assert.throws(() => n.readString(n.args[0], 4), (err) => assertSysError(err, 'ENAMETOOLONG', 'read', `/proc/${child.pid}/mem`));
    assert.deepEqual(n.readMemory(0n, 16), Buffer.alloc(0), 'nothing mapped there');
    assert.throws(() => n.readString(0n), (err) => assertSysError(err, 'EFAULT', 'read', `/proc/${child.pid}/mem`));
    n.respond({ value: 0 });
    assert.throws(() => n.readMemory(n.args[0], 5), (err) => assertSysError(err, 'ENOENT', 'ioctl'));
    assert.equal((await done).code, 0);
  });

  test('addFd(): an openat emulated with an fd of ours (send), and one put at a chosen number', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-unotify-'));
    try {
      writeFileSync(path.join(dir, 'secret'), 'from the supervisor\n');
      // The loader's and the shell's own opens are notified too: those run as they are.
      const script = 'read line < /butter/virtual; echo "$line"; exec 7</butter/fixed; read other <&7; echo "$other"';
      const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.openat]);
      const done = outcome(child);
      const notify = await listener;
      const results = [];
      for await (const n of notify) {
        const file = n.readString(n.args[1]);
        if (!file.startsWith('/butter/')) {
          n.continue();
          continue;
        }
        const fd = openSync(path.join(dir, 'secret'), 'r');
        try {
          if (file === '/butter/virtual') {
            results.push(n.addFd(fd, { send: true, cloexec: true }));
            assert.equal(n.answered, true);
            assert.equal(n.respond({ value: 0 }), false);
          } else {
            results.push(n.addFd(fd, { targetFd: 9 }));
            assert.equal(n.respond({ value: 9 }), true);
          }
        } finally {
          closeSync(fd);
        }
      }
      const r = await done;
      assert.equal(r.out, 'from the supervisor\nfrom the supervisor\n', r.err);
      assert.equal(results.length, 2);
      assert.equal(results[1], 9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('never unanswered: the deadline answers with the default; so do close() and a throwing listener', async () => {
    const script = 'cd /tmp; echo "a=$?"';
    {
      const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir], { options: { deadline: 50 } });
      const done = outcome(child);
      const notify = await listener;
      const n = await notify.read();
      assert.equal(notify.pendingAnswers, 1);
      const r = await done;
      assert.equal(r.out, 'a=2\n');
      assert.match(r.err, /Function not implemented|can't cd/, 'ENOSYS, the default');
      assert.equal(n.answered, true);
      assert.equal(notify.pendingAnswers, 0);
    }
    {
      const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir], { options: { deadline: 60_000, defaultAnswer: { value: 0 } } });
      const done = outcome(child);
      const notify = await listener;
      const n = await notify.read();
      notify.close();
      assert.equal(n.answered, true);
      assert.equal((await done).out, 'a=0\n', 'close() answered with defaultAnswer');
    }
    {
      const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir], { options: { deadline: 60_000 } });
      const done = outcome(child);
      const notify = await listener;
      const uncaught = [];
      const onUncaught = (err) => uncaught.push(err.message);
      const saved = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.on('uncaughtException', onUncaught);
      try {
        const started = Date.now();
        notify.on('event', () => {
          throw new Error('handler failed');
        });
        assert.equal((await done).out, 'a=2\n');
        assert.ok(Date.now() - started < 30_000, 'answered at the throw, not at the deadline');
      } finally {
        process.removeListener('uncaughtException', onUncaught);
        for (const l of saved) process.on('uncaughtException', l);
      }
      assert.deepEqual(uncaught, ['handler failed']);
      notify.close();
    }
  });

  test("an 'event' listener's notification: pending while the listener has it, answered by a close() there, and its deadline runs from the listener's return", async () => {
    const script = 'cd /tmp; echo "a=$?"';
    {
      const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir], { options: { deadline: 60_000, defaultAnswer: { value: 0 } } });
      const done = outcome(child);
      const notify = await listener;
      const seen = [];
      notify.on('event', (n) => {
        seen.push(notify.pendingAnswers);
        notify.close();
        seen.push(n.answered, notify.pendingAnswers);
      });
      assert.equal((await done).out, 'a=0\n', 'close() answered with defaultAnswer');
      assert.deepEqual(seen, [1, true, 0]);
    }
    {
      const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir], { options: { deadline: 500 } });
      const done = outcome(child);
      const notify = await listener;
      const n = await new Promise((resolve) =>
        notify.once('event', (event) => {
          const until = Date.now() + 700;
          while (Date.now() < until);
          resolve(event);
        }),
      );
      await sleep(1); // a turn of timers: one due from the read would have fired
      assert.equal(n.answered, false);
      assert.equal(notify.pendingAnswers, 1);
      assert.equal(n.respond({ value: 0 }), true);
      assert.equal((await done).out, 'a=0\n');
      notify.close();
    }
  });

  test('the wake receives in C: listeners and for await get every notification with no receive call from JS; no drain can read the listener', async () => {
    const { native } = await import('../dist/cjs/core/native.js');
    const recv = native.seccomp_notify.seccompNotifyRecv;
    let calls = 0;
    native.seccomp_notify.seccompNotifyRecv = (...args) => (calls++, recv(...args));
    try {
      const script = 'cd /tmp; cd /tmp; cd /tmp; echo "$?"';
      {
        const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir]);
        const done = outcome(child);
        const notify = await listener;
        assert.deepEqual(native.drainStart(notify.handle, 65536), [-22, 'drainStart'], 'EINVAL: a drain thread knows only read(2)');
        const seen = [];
        notify.on('event', (n) => seen.push(n.syscall) && n.respond({ value: 0 }));
        assert.equal((await done).out, '0\n');
        assert.deepEqual(seen, ['chdir', 'chdir', 'chdir']);
        notify.close();
      }
      {
        const { child, listener } = supervised('/bin/sh', ['-c', script], [NR.chdir]);
        const done = outcome(child);
        const notify = await listener;
        let count = 0;
        for await (const n of notify) {
          n.respond({ value: 0 });
          if (++count === 3) break;
        }
        assert.equal((await done).out, '0\n');
      }
    } finally {
      native.seccomp_notify.seccompNotifyRecv = recv;
    }
    assert.equal(calls, 0);
  });

  test('a target killed while it waits: respond() returns false; the object closes once no process uses the filter', async () => {
    // The subshell waits in chdir and is killed; the shell goes on, so the filter still has a user.
    const { child, listener } = supervised('/bin/sh', ['-c', '(cd /tmp); echo "sub $?"; read x'], [NR.chdir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = outcome(child);
    const notify = await listener;
    const closed = once(notify, 'close');
    const n = await notify.read();
    assert.notEqual(n.pid, child.pid);
    process.kill(n.pid, 'SIGKILL');
    for (let i = 0; i < 200 && n.idValid(); i++) await sleep(10);
    assert.equal(n.respond({ value: 0 }), false);
    assert.equal(n.answered, true);
    assert.equal(notify.closed, false);
    child.stdin.end('\n');
    assert.equal((await done).out, 'sub 137\n');
    await closed;
  });

  test('the step passes its flags: with WAIT_KILLABLE_RECV a received notification outlives a non-fatal signal', async () => {
    const script = 'trap "echo usr1" USR1; cd /tmp; echo "cd $?"';
    for (const killable of [false, true]) {
      const flags = C.SECCOMP_FILTER_FLAG_NEW_LISTENER | (killable ? C.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV : 0);
      let notify;
      const { child } = spawnHelper('/bin/sh', ['-c', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
        steps: [{ op: 'prctl', option: 38, args: [1] }, { op: 'seccomp', flags, filter: notifyFilter([NR.chdir]), onListener: (fd) => (notify = new SeccompNotify(fd)) }],
      });
      const done = outcome(child);
      while (notify === undefined) await sleep(5);
      const n = await notify.read();
      process.kill(child.pid, 'SIGUSR1');
      await sleep(100);
      // Without the flag the signal interrupts the chdir: dash's trap has no SA_RESTART, so cd fails (EINTR).
      assert.equal(n.idValid(), killable, `killable: ${killable}`);
      assert.equal(n.respond({ value: 0 }), killable);
      const r = await done;
      assert.equal(r.out, killable ? 'usr1\ncd 0\n' : 'usr1\ncd 2\n');
    }
  });

  test('the listener reaches the parent once, closed in the helper and never in the target; no fd is left here', async () => {
    const before = fdCount();
    const { child, ready, listener } = supervised('/bin/sh', ['-c', 'cd /; sleep 0.2'], [NR.chdir]);
    const done = outcome(child);
    const notify = await listener;
    await ready;
    assert.deepEqual(listenersOf(child.pid), [], 'the target holds no listener');
    assert.deepEqual(listenersOf(process.pid), [String(notify.fd)], 'only the object\'s own duplicate');
    (await notify.read()).continue();
    await done;
    notify.close();
    assert.equal(fdCount(), before);
  });

  test('made and closed 5,000 times, or dropped without close() (no deadline: nothing holds it), no listener fd is left', async () => {
    const { child, ready, listener } = supervised('/bin/sh', ['-c', 'read x'], [NR.chdir], { options: { deadline: Infinity }, stdio: ['pipe', 'pipe', 'pipe'] });
    const done = outcome(child);
    const holder = await listener;
    await ready; // the helper's socket is closed by then
    const before = fdCount();
    for (let i = 0; i < 5_000; i++) new SeccompNotify(holder.fd, { deadline: i % 2 ? 1000 : Infinity }).close();
    assert.equal(fdCount(), before);
    for (let i = 0; i < 100; i++) new SeccompNotify(holder.fd, { deadline: Infinity });
    assert.equal(fdCount(), before + 100);
    for (let i = 0; i < 30 && fdCount() > before; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(fdCount(), before, 'the finalizers closed what nobody closed');
    child.stdin.end('\n');
    await done;
    holder.close();
  });

  test('helper: a seccomp step that fails rejects with its syscall and index, and one that succeeds before a failing exec leaks nothing', async () => {
    const before = fdCount();
    const bad = Buffer.alloc(8); // a lone `ld [0]` with no return: the kernel refuses it
    const { child, ready } = spawnHelper('/bin/true', [], { stdio: 'ignore', steps: [{ op: 'prctl', option: 38, args: [1] }, { op: 'seccomp', flags: 0, filter: bad }] });
    await assert.rejects(ready, (err) => assertSysError(err, 'EINVAL', 'seccomp') && err.step === 1);
    assert.deepEqual(await once(child, 'exit'), [127, null]);

    let got = -1;
    const failing = spawnHelper('/nonexistent/butter', [], {
      stdio: 'ignore',
      steps: [{ op: 'prctl', option: 38, args: [1] }, { op: 'seccomp', flags: C.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter: notifyFilter([NR.chdir]), onListener: (fd) => (got = fd) }],
    });
    await assert.rejects(failing.ready, (err) => assertSysError(err, 'ENOENT', 'execve', '/nonexistent/butter') && err.step === 2);
    assert.ok(got >= 0, 'the listener came');
    await once(failing.child, 'exit');
    assert.equal(fdCount(), before);
  });

  test('helper: an onListener that throws rejects ready with its error; the listener is closed and the target released', async () => {
    const before = fdCount();
    const { child, ready } = spawnHelper('/bin/sh', ['-c', 'cd /tmp; echo "a=$?"'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      steps: [{ op: 'prctl', option: 38, args: [1] }, { op: 'seccomp', flags: C.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter: notifyFilter([NR.chdir]), onListener: () => { throw new Error('no thanks'); } }],
    });
    const done = outcome(child);
    await assert.rejects(ready, { message: 'no thanks' });
    // Nobody holds the listener: the kernel fails the notified syscall with ENOSYS, or the helper saw EOF first.
    const r = await done;
    assert.ok(r.out === 'a=2\n' || r.code === 127, JSON.stringify(r));
    assert.equal(fdCount(), before);
  });

  test('validation: arguments, options and answers are checked before any syscall', async () => {
    const before = fdCount();
    assert.throws(() => new SeccompNotify(-1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new SeccompNotify('3'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new SeccompNotify(0, { deadline: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new SeccompNotify(0, { defaultAnswer: { error: 'ENOPE' } }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new SeccompNotify(0, { defaultAnswer: { error: 1, value: 1 } }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => new SeccompNotify(0, { defaultAnswer: 'allow' }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new SeccompNotify(0, { bogus: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    // Not a listener: refused at once, with the duplicate closed.
    const file = openSync('/dev/null', 'r');
    try {
      assert.throws(() => new SeccompNotify(file), (err) => assertSysError(err, 'ENOTTY', 'ioctl'));
    } finally {
      closeSync(file);
    }
    assert.throws(() => new SeccompNotify(999_999), (err) => assertSysError(err, 'EBADF', 'fcntl'));
    assert.throws(() => seccompNotifySend(0, { id: -1n }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompNotifySend(0, { id: 1n, val: 2n ** 63n }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompNotifySend(0, { id: 1n, error: 4096 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompNotifyAddfd(0, { id: 1n, srcfd: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => seccompNotifyIdValid(0, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => seccompNotifySetFlags(0, -1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => parseSeccompNotif(new Uint8Array(79)), { code: 'ERR_INVALID_ARG_VALUE' });
    const filter = notifyFilter([NR.chdir]);
    for (const step of [
      { op: 'seccomp', flags: C.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter },
      { op: 'seccomp', flags: 0, filter, onListener: () => {} },
      { op: 'seccomp', flags: 0, filter: Buffer.alloc(12) },
      { op: 'seccomp', flags: 0, filter: Buffer.alloc(0) },
    ]) {
      assert.throws(() => spawnHelper('/bin/true', [], { steps: [step] }), { code: 'ERR_INVALID_ARG_VALUE' });
    }
    assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'seccomp', flags: 0, filter: [1] }] }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.equal(fdCount(), before);
  });

  test('errors of the 1:1 calls on a listener: a notification that never existed, and a raw recv with nothing pending', async () => {
    const { child, listener } = supervised('/bin/sh', ['-c', 'cd /; read x'], [NR.chdir], { options: { deadline: Infinity }, stdio: ['pipe', 'pipe', 'pipe'] });
    const done = outcome(child);
    const notify = await listener;
    const n = await notify.read();
    n.continue();
    await sleep(50);
    assert.throws(() => seccompNotifyRecv(notify.fd), (err) => assertSysError(err, 'EAGAIN', 'ioctl'));
    assert.equal(seccompNotifyIdValid(notify.fd, n.id + 1000n), false);
    assert.throws(() => seccompNotifySend(notify.fd, { id: n.id + 1000n, val: -1 }), (err) => assertSysError(err, 'ENOENT', 'ioctl'));
    assert.throws(() => seccompNotifyAddfd(notify.fd, { id: n.id, srcfd: 0 }), (err) => assertSysError(err, 'ENOENT', 'ioctl'));
    assert.throws(() => seccompNotifySend(notify.fd, { id: n.id, flags: C.SECCOMP_USER_NOTIF_FLAG_CONTINUE, error: 1 }), (err) => assertSysError(err, 'EINVAL', 'ioctl'));
    seccompNotifySetFlags(notify.fd, C.SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    assert.throws(() => seccompNotifySetFlags(notify.fd, 2), (err) => assertSysError(err, 'EINVAL', 'ioctl'));
    child.stdin.end('\n');
    await done;
    notify.close();
    assert.throws(() => n.addFd(0), (err) => assertSysError(err, 'EBADF', 'ioctl'));
    assert.equal(n.respond({ value: 0 }), false, 'answered already');
  });

  test('SeccompNotification is what reads give, its fields frozen', async () => {
    const { child, listener } = supervised('/bin/sh', ['-c', 'cd /'], [NR.chdir]);
    const done = outcome(child);
    const notify = await listener;
    const n = await notify.read();
    assert.ok(n instanceof SeccompNotification);
    assert.ok(Object.isFrozen(n.args));
    n.continue();
    assert.equal((await done).code, 0);
  });
});
