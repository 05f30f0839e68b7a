// The namespaces family. Every call that succeeds runs in a child process,
// itself in new namespaces of every type it changes (`unshare --uts --mount`),
// so not even a bug could move this process or the host. The calls made here
// fail before any effect: refused, or EINVAL from the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as B from 'butter';
import { assertSysError, copySysErrorSource } from './support/errors.mjs';
import { runChild } from './support/child.mjs';
import { nobodyUnavailable, NOBODY } from './support/nobody.mjs';
import { noMountNamespace } from './support/mount-ns.mjs';

const C = B.constants;
const SPAWN = 'use spawn() to start a process in new namespaces';
const USERNS_MESSAGE = `EINVAL: invalid argument, unshare: Node's process is multi-threaded, and CLONE_NEWUSER, CLONE_THREAD, CLONE_SIGHAND and CLONE_VM need a single-threaded caller; ${SPAWN}`;

/** Runs `body` in a child in new UTS, IPC, net and mount namespaces; returns the `out` it filled. */
function inNamespaces(body) {
  const prefix = process.getuid() === 0 ? ['unshare', '--uts', '--ipc', '--net', '--mount', '--propagation', 'private', '--'] : ['unshare', '-Ur', '--uts', '--ipc', '--net', '--mount', '--'];
  const r = runChild(`
    import fs from 'node:fs';
    import { Worker } from 'node:worker_threads';
    import * as B from 'butter';
    const C = B.constants;
    const copy = ${copySysErrorSource};
    const fails = (fn) => { try { fn(); return null; } catch (e) { return copy(e); } };
    // A thread made before the change (a thread starts in its creator's namespaces): ask(code) evaluates code there.
    const worker = new Worker("import fs from 'node:fs'; import { parentPort } from 'node:worker_threads'; import { gethostname } from 'butter'; parentPort.on('message', (code) => parentPort.postMessage(eval(code)));", { eval: true });
    worker.unref();
    const ask = (code) => new Promise((resolve) => { worker.once('message', resolve); worker.postMessage(code); });
    await ask('0');
    const out = {};
    ${body}
    process.stdout.write(JSON.stringify(out));
  `, { prefix });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('constants: CLONE_NEW* of every namespace type and the NS_GET_* ioctls', () => {
  assert.equal(C.CLONE_NEWNS, 0x20000);
  assert.equal(C.CLONE_NEWCGROUP, 0x2000000);
  assert.equal(C.CLONE_NEWUTS, 0x4000000);
  assert.equal(C.CLONE_NEWIPC, 0x8000000);
  assert.equal(C.CLONE_NEWUSER, 0x10000000);
  assert.equal(C.CLONE_NEWPID, 0x20000000);
  assert.equal(C.CLONE_NEWNET, 0x40000000);
  assert.equal(C.CLONE_NEWTIME, 0x80);
  assert.equal(C.NS_GET_NSTYPE, 0xb703);
  assert.equal(C.NS_GET_MNTNS_ID, 0x8008b705);
});

test('unshare(CLONE_NEWUSER) and the other process-wide flags: EINVAL, saying why and pointing to spawn()', () => {
  for (const flag of [C.CLONE_NEWUSER, C.CLONE_NEWUSER | C.CLONE_NEWNS, C.CLONE_THREAD, C.CLONE_VM, C.CLONE_SIGHAND]) {
    for (const options of [undefined, { thisThreadOnly: true }]) {
      assert.throws(() => B.unshare(flag, options), (e) => assertSysError(e, 'EINVAL', 'unshare', undefined, { message: USERNS_MESSAGE }));
    }
  }
});

test('the thread-only forms are refused unless asked for: nothing changes', () => {
  const before = readlinkSync('/proc/thread-self/ns/uts');
  for (const flag of [C.CLONE_NEWNS, C.CLONE_NEWUTS, C.CLONE_NEWIPC, C.CLONE_NEWNET, C.CLONE_NEWCGROUP, C.CLONE_NEWPID, C.CLONE_NEWTIME, C.CLONE_FS, C.CLONE_FILES, C.CLONE_SYSVSEM]) {
    assert.throws(() => B.unshare(flag), (e) => e.code === 'ERR_INVALID_ARG_VALUE' && e instanceof TypeError &&
      e.message === `The argument 'flags' would change the namespaces of the calling thread only, as Node's process is multi-threaded: pass { thisThreadOnly: true } to do that, or ${SPAWN}. Received ${flag}`);
    assert.throws(() => B.unshare(flag, { thisThreadOnly: false }), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  const fd = openSync('/proc/self/ns/uts', 'r');
  try {
    assert.throws(() => B.setns(fd), { code: 'ERR_INVALID_ARG_VALUE', message: /^The argument 'fd' would change a namespace of the calling thread only/ });
    assert.throws(() => B.setns(fd, C.CLONE_NEWUTS, {}), { code: 'ERR_INVALID_ARG_VALUE' });
  } finally {
    closeSync(fd);
  }
  assert.equal(readlinkSync('/proc/thread-self/ns/uts'), before);
  B.unshare(0); // changes nothing, so needs nothing
});

test('unshare({ thisThreadOnly }) moves the calling thread only: a Worker keeps the old host name; setns moves it back', () => {
  const out = inNamespaces(`
    const before = B.gethostname();
    const uts = fs.openSync('/proc/thread-self/ns/uts', 'r');
    B.unshare(C.CLONE_NEWUTS, { thisThreadOnly: true });
    B.sethostname('inner');
    out.main = B.gethostname();
    out.worker = await ask('gethostname()');
    out.changed = out.worker === before;
    B.setns(uts, C.CLONE_NEWUTS, { thisThreadOnly: true });
    out.back = B.gethostname() === before;
    B.setns(uts, 0, { thisThreadOnly: true }); // any type: NS_GET_NSTYPE says it is one
    fs.closeSync(uts);
    out.wrongType = fails(() => { const n = fs.openSync('/proc/self/ns/net', 'r'); try { B.setns(n, C.CLONE_NEWUTS, { thisThreadOnly: true }); } finally { fs.closeSync(n); } });
    out.notNs = fails(() => { const f = fs.openSync('/proc/self/stat', 'r'); try { B.setns(f, 0, { thisThreadOnly: true }); } finally { fs.closeSync(f); } });
    out.badFlags = fails(() => B.unshare(0x1, { thisThreadOnly: true }));
    out.ebadf = fails(() => B.setns(2 ** 31 - 1, 0, { thisThreadOnly: true }));
  `);
  assert.equal(out.main, 'inner');
  assert.equal(out.changed, true, 'another thread still has the old host name');
  assert.equal(out.back, true);
  assertSysError(out.wrongType, 'EINVAL', 'setns');
  assertSysError(out.notNs, 'EINVAL', 'setns');
  assertSysError(out.badFlags, 'EINVAL', 'unshare');
  assertSysError(out.ebadf, 'EBADF', 'setns');
});

test('setns into a mount namespace: EINVAL naming CLONE_FS while the thread shares it, then it works', { skip: noMountNamespace }, () => {
  const out = inNamespaces(`
    const mnt = fs.openSync('/proc/self/ns/mnt', 'r');
    const before = fs.readlinkSync('/proc/thread-self/ns/mnt');
    out.shared = fails(() => B.setns(mnt, C.CLONE_NEWNS, { thisThreadOnly: true }));
    B.unshare(C.CLONE_NEWNS, { thisThreadOnly: true }); // implies CLONE_FS
    out.moved = fs.readlinkSync('/proc/thread-self/ns/mnt') !== before;
    out.worker = (await ask("fs.readlinkSync('/proc/thread-self/ns/mnt')")) === before;
    B.setns(mnt, C.CLONE_NEWNS, { thisThreadOnly: true });
    out.back = fs.readlinkSync('/proc/thread-self/ns/mnt') === before;
    fs.closeSync(mnt);
  `);
  assertSysError(out.shared, 'EINVAL', 'setns', undefined, {
    message: `EINVAL: invalid argument, setns: this thread shares its filesystem context with Node's other threads: unshare(CLONE_FS, { thisThreadOnly: true }) first, or ${SPAWN}`,
  });
  assert.equal(out.moved, true);
  assert.equal(out.worker, true, 'a Worker stays in the old mount namespace');
  assert.equal(out.back, true);
});

test('setns into another user namespace: EINVAL pointing to spawn(), asked or not', async () => {
  const child = spawn('unshare', ['--user', 'sleep', '30'], { stdio: 'ignore' });
  try {
    const ns = `/proc/${child.pid}/ns/user`;
    while (readlinkSync(ns) === readlinkSync('/proc/self/ns/user')) await new Promise((r) => setTimeout(r, 5));
    const fd = openSync(ns, 'r');
    try {
      const message = `EINVAL: invalid argument, setns: Node's process is multi-threaded, and joining a user namespace needs a single-threaded caller; ${SPAWN}`;
      assert.throws(() => B.setns(fd), (e) => assertSysError(e, 'EINVAL', 'setns', undefined, { message }));
      assert.throws(() => B.setns(fd, C.CLONE_NEWUSER, { thisThreadOnly: true }), (e) => assertSysError(e, 'EINVAL', 'setns', undefined, { message }));
      assert.equal(B.nsGetNstype(fd), C.CLONE_NEWUSER);
      assert.equal(B.nsGetOwnerUid(fd), process.getuid());
      const parent = B.nsGetParent(fd);
      try {
        assert.equal(readlinkSync(`/proc/self/fd/${parent}`), readlinkSync('/proc/self/ns/user'));
      } finally {
        closeSync(parent);
      }
    } finally {
      closeSync(fd);
    }
  } finally {
    child.kill();
  }
});

test('the nsfs ioctls: type, owner, owning user namespace, mount namespace id, pid translation; their errors', () => {
  for (const [name, flag] of [['mnt', 'CLONE_NEWNS'], ['uts', 'CLONE_NEWUTS'], ['ipc', 'CLONE_NEWIPC'], ['user', 'CLONE_NEWUSER'], ['pid', 'CLONE_NEWPID'], ['net', 'CLONE_NEWNET'], ['cgroup', 'CLONE_NEWCGROUP'], ['time', 'CLONE_NEWTIME']]) {
    const fd = openSync(`/proc/self/ns/${name}`, 'r');
    try {
      assert.equal(B.nsGetNstype(fd), C[flag], name);
      if (name !== 'user') {
        const owner = B.nsGetUserns(fd);
        assert.equal(readlinkSync(`/proc/self/fd/${owner}`), readlinkSync('/proc/self/ns/user'));
        closeSync(owner);
      }
    } finally {
      closeSync(fd);
    }
  }
  const mnt = openSync('/proc/self/ns/mnt', 'r');
  const pid = openSync('/proc/self/ns/pid', 'r');
  const file = openSync('/proc/self/stat', 'r');
  try {
    const id = B.nsGetMntnsId(mnt);
    assert.equal(typeof id, 'bigint');
    assert.equal(B.nsGetId(mnt), id, 'NS_GET_ID of a mount namespace is its NS_GET_MNTNS_ID');
    assert.notEqual(B.nsGetId(pid), id);
    assert.equal(B.statmount(B.listmount()[0], C.STATMOUNT_MNT_NS_ID).mntNsId, id);
    assert.equal(B.nsGetPidInPidns(pid, process.pid), process.pid);
    assert.equal(B.nsGetTgidFromPidns(pid, process.pid), process.pid);
    assert.equal(B.nsGetPidFromPidns(pid, B.gettid()), B.gettid());
    assert.equal(B.nsGetTgidInPidns(pid, B.gettid()), process.pid);
    assert.throws(() => B.nsGetPidFromPidns(pid, 2 ** 30), (e) => assertSysError(e, 'ESRCH', 'ioctl'));
    assert.throws(() => B.nsGetMntnsId(pid), (e) => assertSysError(e, 'EINVAL', 'ioctl'));
    assert.throws(() => B.nsGetOwnerUid(mnt), (e) => assertSysError(e, 'EINVAL', 'ioctl'));
    assert.throws(() => B.nsGetNstype(file), (e) => assertSysError(e, 'ENOTTY', 'ioctl'));
    assert.throws(() => B.nsGetId(file), (e) => assertSysError(e, 'ENOTTY', 'ioctl'));
    assert.throws(() => B.nsGetParent(2 ** 31 - 1), (e) => assertSysError(e, 'EBADF', 'ioctl'));
    // The initial user namespace has no owner, nor has a pid namespace past the caller's: EPERM.
    assert.throws(() => B.nsGetParent(pid), (e) => assertSysError(e, 'EPERM', 'ioctl'));
  } finally {
    closeSync(mnt);
    closeSync(pid);
    closeSync(file);
  }
});

test('nsMntGetInfo, nsMntGetNext and nsMntGetPrev walk the mount namespaces by id; the fds are the caller\'s', { skip: noMountNamespace }, async () => {
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '30'], { stdio: 'ignore' });
  const own = openSync('/proc/self/ns/mnt', 'r');
  try {
    const ns = `/proc/${child.pid}/ns/mnt`;
    while (readlinkSync(ns) === readlinkSync('/proc/self/ns/mnt')) await new Promise((r) => setTimeout(r, 5));
    const theirs = openSync(ns, 'r');
    const target = B.nsGetMntnsId(theirs);
    const info = B.nsMntGetInfo(own);
    assert.deepEqual(info, { nrMounts: B.mountinfo().length, mntNsId: B.nsGetMntnsId(own) });
    // Walk forward from ours to theirs (made after ours, so later by id).
    let at = own;
    let found = null;
    for (let i = 0; i < 100_000 && found === null; i++) {
      const next = B.nsMntGetNext(at);
      if (at !== own) closeSync(at);
      at = next.fd;
      assert.ok(next.mntNsId > info.mntNsId);
      if (next.mntNsId === target) found = next;
    }
    if (at !== own) closeSync(at);
    assert.equal(found?.nrMounts, B.nsMntGetInfo(theirs).nrMounts);
    const prev = B.nsMntGetPrev(theirs);
    closeSync(prev.fd);
    assert.ok(prev.mntNsId < target && prev.mntNsId >= info.mntNsId);
    closeSync(theirs);
    const pid = openSync('/proc/self/ns/pid', 'r');
    assert.throws(() => B.nsMntGetInfo(pid), (e) => assertSysError(e, 'EINVAL', 'ioctl'));
    closeSync(pid);
  } finally {
    closeSync(own);
    child.kill();
  }
});

test('without CAP_SYS_ADMIN unshare and setns are EPERM (as nobody)', { skip: nobodyUnavailable }, () => {
  const r = runChild(`
    import fs from 'node:fs';
    import * as B from 'butter';
    const copy = ${copySysErrorSource};
    const fails = (fn) => { try { fn(); return null; } catch (e) { return copy(e); } };
    const fd = fs.openSync('/proc/self/ns/uts', 'r');
    const out = {
      unshare: fails(() => B.unshare(B.constants.CLONE_NEWUTS, { thisThreadOnly: true })),
      setns: fails(() => B.setns(fd, 0, { thisThreadOnly: true })),
    };
    process.stdout.write(JSON.stringify(out));
  `, { prefix: ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'] });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assertSysError(out.unshare, 'EPERM', 'unshare');
  assertSysError(out.setns, 'EPERM', 'setns');
});

test('bad arguments throw Node\'s argument errors', () => {
  assert.throws(() => B.unshare('CLONE_NEWNS'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => B.unshare(-1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.unshare(C.CLONE_NEWNS, { thisThreadOnly: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => B.unshare(C.CLONE_NEWNS, { thisthreadonly: true }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => B.setns(-1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.setns(0, 1.5), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.nsGetPidInPidns(0, 0), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.nsGetMntnsId('3'), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => B.nsGetId(-1), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => B.nsMntGetNext(null), { code: 'ERR_INVALID_ARG_TYPE' });
});
