// butter-helper: the single-threaded child that sets up per-thread kernel state
// (namespaces, ...) for a process started from Node, then execs it.
//
// Nothing here changes the host: names are set only after the helper has
// unshared a new UTS namespace (or joined a child's), and the hostname is
// checked unchanged at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { accessSync, closeSync, constants as fsConstants, mkdirSync, mkdtempSync, openSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { assertSysError } from './support/errors.mjs';
import { root } from './support/child.mjs';

const { helperPath, HelperChannel, encodeRequest, spawnHelper } = await import('../dist/cjs/core/helper.js');
const { native } = await import('../dist/cjs/core/native.js');
const P = native.helperConstants;

const HOSTNAME = os.hostname();
after(() => assert.equal(os.hostname(), HOSTNAME, "the host's name is unchanged"));

const CLONE_NEWNS = 0x00020000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWUSER = 0x10000000;
const PR_GET_DUMPABLE = 3;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_GET_NO_NEW_PRIVS = 39;

const fdCount = () => readdirSync('/proc/self/fd').length;
const userns = spawnSync('unshare', ['--user', '--map-root-user', 'true'], { stdio: 'ignore' }).status === 0;
const NO_USERNS = 'needs user namespaces and unshare(1)';
const isRoot = process.getuid() === 0;

/** Everything a child writes to stdout, and how it exits. */
async function output(child) {
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
  const [code, signal] = await once(child, 'close');
  return { out, code, signal };
}

/** A helper started by hand, with the channel to speak the protocol to it raw. */
function rawHelper(args = ['/bin/true']) {
  const channel = new HelperChannel();
  const child = spawn(helperPath(), ['3', ...args], { stdio: ['ignore', 'pipe', 'inherit', channel.peerFd] });
  channel.closePeer();
  return { channel, child };
}

test('the helper is built beside the addon, and is a program', () => {
  const p = helperPath();
  accessSync(p, fsConstants.X_OK);
  accessSync(path.join(path.dirname(p), 'butter.node'));
});

test('the helper is built and found in an installed package that no prebuild fits (npm pack, then an offline install that builds it)', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-helper-pkg-'));
  try {
    // LIBC: node-gyp-build's C library, which no prebuild (test/prebuilds.test.mjs) is built for.
    const env = { ...process.env, LIBC: 'none' };
    const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8', timeout: 200_000 });
    // --ignore-scripts: packing must not rebuild this checkout's dist/ under the other tests' feet.
    const [{ filename }] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root));
    const app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), '{"name":"app","private":true}');
    npm(['install', '--offline', path.join(dir, filename)], app);
    const installed = path.join(app, 'node_modules', 'butter');
    const script = `
      const { helperPath, spawnHelper } = require(${JSON.stringify(path.join(installed, 'dist/cjs/core/helper.js'))});
      console.log(helperPath());
      spawnHelper('echo', ['exec'], { stdio: 'inherit', steps: [{ op: 'chdir', path: '/' }] }).ready.then(() => console.log('ready'));`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' }).split('\n');
    assert.equal(out[0], path.join(installed, 'build', 'Release', 'butter-helper'));
    assert.deepEqual(out.slice(1).sort(), ['', 'exec', 'ready']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('protocol: hello, requests answered in order with their results, EOF at the exec', async () => {
  const { channel, child } = rawHelper(['/bin/cat', '/proc/self/status']);
  const done = output(child);
  assert.ok(channel.send(encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION)) > 0);
  assert.deepEqual(await channel.read(), { seq: 0, error: 0, value: P.BUTTER_HELPER_VERSION, fd: -1 });
  const prctl = (option, arg2 = 0n) => encodeRequest(P.BUTTER_HELPER_PRCTL, option, new Uint8Array(new BigUint64Array([arg2, 0n, 0n, 0n]).buffer));
  channel.send(prctl(PR_GET_NO_NEW_PRIVS));
  channel.send(prctl(PR_SET_NO_NEW_PRIVS, 1n));
  channel.send(prctl(PR_GET_NO_NEW_PRIVS));
  channel.send(prctl(PR_GET_DUMPABLE));
  assert.deepEqual(await channel.read(), { seq: 1, error: 0, value: 0, fd: -1 });
  assert.deepEqual(await channel.read(), { seq: 2, error: 0, value: 0, fd: -1 });
  assert.deepEqual(await channel.read(), { seq: 3, error: 0, value: 1, fd: -1 });
  assert.deepEqual(await channel.read(), { seq: 4, error: 0, value: 1, fd: -1 });
  channel.send(encodeRequest(P.BUTTER_HELPER_EXEC, 0, Buffer.from('/bin/cat')));
  assert.equal(await channel.read(), null);
  assert.equal(await channel.read(), null, 'EOF stays');
  channel.close();
  const { out, code } = await done;
  assert.equal(code, 0);
  assert.match(out, /^NoNewPrivs:\s+1$/m, 'the target inherited what the helper set in itself');
});

test('protocol: a wrong version, a request before the hello, a malformed or unknown request: EPROTO-family errors, then exit 127', async () => {
  const cases = [
    [[encodeRequest(P.BUTTER_HELPER_HELLO, 999)], { seq: 0, error: os.constants.errno.EPROTONOSUPPORT, value: P.BUTTER_HELPER_VERSION, fd: -1 }],
    [[encodeRequest(P.BUTTER_HELPER_CHDIR, 0, Buffer.from('/'))], { seq: 0, error: os.constants.errno.EPROTO, value: P.BUTTER_HELPER_VERSION, fd: -1 }],
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), new Uint8Array(4)], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(1000, 0)], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_CHDIR, 0, Buffer.from('/\0x'))], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    // An fd on a request that takes none.
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), [encodeRequest(P.BUTTER_HELPER_CHDIR, 0, Buffer.from('/')), 0]], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    // A seccomp filter that is not whole struct sock_filters, or none at all.
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_SECCOMP, 0, new Uint8Array(12))], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_SECCOMP, 0)], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    // A setns without its fd.
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_SETNS, 0)], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    // The sandbox's steps (version 2): a mount with three of its four strings, or the last unterminated.
    ...[Buffer.from('src\0/t\0\0'), Buffer.from('src\0/t\0\0data')].map((strings) => [
      [encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_MOUNT, 0, Buffer.concat([Buffer.alloc(16), strings]))],
      { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 },
    ]),
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_MKDIR, 0o755, Buffer.from('relative'))], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_FORK, 0, Buffer.alloc(1))], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    // Ambient capabilities that are not kept.
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), encodeRequest(P.BUTTER_HELPER_CAPS, 0, new Uint8Array(new BigUint64Array([1n, 2n]).buffer))], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
    // A file with both data and an fd.
    [[encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION), [encodeRequest(P.BUTTER_HELPER_FILE, 0o644, Buffer.from('/f\0data')), 0]], { seq: 1, error: os.constants.errno.EPROTO, value: 0, fd: -1 }],
  ];
  for (const [messages, failure] of cases) {
    const { channel, child } = rawHelper();
    const exit = once(child, 'exit');
    for (const m of messages) assert.ok(Array.isArray(m) ? channel.send(...m) > 0 : channel.send(m) > 0);
    for (let seq = 0; seq < failure.seq; seq++) assert.equal((await channel.read()).error, 0);
    assert.deepEqual(await channel.read(), failure);
    assert.equal(await channel.read(), null, 'the helper is done after a failure');
    channel.close();
    assert.deepEqual(await exit, [127, null]);
  }
});

test('spawnHelper: the target runs with Node child_process streams and exit code', async () => {
  const { child, ready } = spawnHelper('sh', ['-c', 'read x; echo "got $x"; exit 3'], {});
  child.stdin.end('input\n');
  const done = output(child);
  await ready;
  assert.deepEqual(await done, { out: 'got input\n', code: 3, signal: null });
});

test('spawnHelper: an exec that fails rejects with ENOENT naming the exec step, and the helper exits 127', async () => {
  const steps = [{ op: 'chdir', path: '/' }];
  for (const [file, syscall] of [['/nonexistent/butter', 'execve'], ['butter-no-such-command', 'execvp']]) {
    const { child, ready } = spawnHelper(file, [], { steps, stdio: 'ignore' });
    const exit = once(child, 'exit');
    await assert.rejects(ready, (err) => assertSysError(err, 'ENOENT', syscall, file) && err.step === 1);
    assert.deepEqual(await exit, [127, null]);
  }
});

test('spawnHelper: a failing step rejects with its syscall, path and index; later steps and the exec do not run', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-helper-'));
  try {
    const cases = [
      [[{ op: 'chdir', path: '/nonexistent/dir' }], 'ENOENT', 'chdir', '/nonexistent/dir', 0],
      [[{ op: 'chdir', path: '/' }, { op: 'write', path: '/nonexistent/file', data: 'x' }], 'ENOENT', 'open', '/nonexistent/file', 1],
      [[{ op: 'write', path: '/proc/self/oom_score_adj', data: 'x' }], 'EINVAL', 'write', '/proc/self/oom_score_adj', 0],
      [[{ op: 'setns', fd: 0 }], 'EINVAL', 'setns', undefined, 0],
    ];
    for (const [steps, code, syscall, p, index] of cases) {
      const marker = path.join(dir, 'ran');
      const { child, ready } = spawnHelper('/bin/touch', [marker], { steps, stdio: ['ignore', 'ignore', 'ignore'] });
      await assert.rejects(ready, (err) => assertSysError(err, code, syscall, p) && err.step === index);
      assert.deepEqual(await once(child, 'exit'), [127, null]);
      assert.deepEqual(readdirSync(dir), [], 'the target never ran');
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('spawnHelper: steps are validated before anything starts', () => {
  const before = fdCount();
  assert.throws(() => spawnHelper(1, []), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => spawnHelper('/bin/true', ['a\0b']), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'overlay' }] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'mount' }] }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'mkdir', path: 'relative' }] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'file', path: '/f', data: 'x', fd: 0 }] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'caps', keep: 1n, ambient: 2n }] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [null] }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'unshare', flags: -1 }] }), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'chdir', path: 'a\0b' }] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawnHelper('/bin/true', [], { steps: [{ op: 'prctl', option: 1, args: [1, 2, 3, 4, 5] }] }), { code: 'ERR_OUT_OF_RANGE' });
  assert.equal(fdCount(), before);
});

test('spawnHelper: more steps than the socket holds at once are sent as the helper answers', async () => {
  const steps = Array.from({ length: 3000 }, () => ({ op: 'prctl', option: PR_GET_DUMPABLE }));
  const { child, ready } = spawnHelper('/bin/echo', ['done'], { steps });
  const done = output(child);
  await ready;
  assert.deepEqual(await done, { out: 'done\n', code: 0, signal: null });
});

test('spawnHelper: new user, mount and UTS namespaces with the maps the helper writes itself, and a host name', { skip: !userns && NO_USERNS }, async () => {
  const [uid, gid] = [process.getuid(), process.getgid()];
  const steps = [
    { op: 'unshare', flags: CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWUTS },
    { op: 'write', path: '/proc/self/setgroups', data: 'deny' },
    { op: 'write', path: '/proc/self/uid_map', data: `0 ${uid} 1` },
    { op: 'write', path: '/proc/self/gid_map', data: `0 ${gid} 1` },
    { op: 'sethostname', name: 'butter-helper-test' },
  ];
  const { child, ready } = spawnHelper('sh', ['-c', 'hostname; id -u; cat /proc/self/uid_map; readlink /proc/self/ns/mnt'], { steps });
  const done = output(child);
  await ready;
  const { out, code } = await done;
  assert.equal(code, 0);
  const [name, id, map, mntns] = out.trim().split('\n');
  assert.equal(name, 'butter-helper-test');
  assert.equal(id, '0');
  assert.deepEqual(map.trim().split(/\s+/), ['0', String(uid), '1']);
  assert.notEqual(mntns, readlinkSync('/proc/self/ns/mnt'));
  assert.equal(os.hostname(), HOSTNAME);
});

test("spawnHelper: setns into another process's UTS namespace with the fd passed over the socket", { skip: !isRoot && 'needs root to join a UTS namespace' }, async (t) => {
  const holder = spawn('unshare', ['--uts', 'sh', '-c', 'hostname butter-setns-test && echo ready && exec sleep 60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async () => {
    holder.kill();
    await once(holder, 'close');
  });
  const [line] = await once(holder.stdout.setEncoding('utf8'), 'data');
  assert.equal(line, 'ready\n');
  const fd = openSync(`/proc/${holder.pid}/ns/uts`, 'r');
  try {
    const { child, ready } = spawnHelper('hostname', [], { steps: [{ op: 'setns', fd, nstype: CLONE_NEWUTS }] });
    const done = output(child);
    await ready;
    assert.deepEqual(await done, { out: 'butter-setns-test\n', code: 0, signal: null });
  } finally {
    closeSync(fd);
  }
  assert.equal(os.hostname(), HOSTNAME);
});

test('spawnHelper: a helper killed mid-protocol rejects, nothing hangs, and no fd is left open here', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-helper-'));
  try {
    const [first, second] = [path.join(dir, 'first'), path.join(dir, 'second')];
    execFileSync('mkfifo', [first, second]);
    const before = fdCount();
    // The helper writes to the first FIFO (so it is past the hello), then blocks opening the second.
    const steps = [{ op: 'write', path: first, data: 'x' }, { op: 'write', path: second, data: 'y' }];
    const { child, ready } = spawnHelper('/bin/true', [], { steps, stdio: 'ignore' });
    const reader = await open(first, 'r');
    assert.equal((await reader.readFile('utf8')), 'x');
    await reader.close();
    child.kill('SIGKILL');
    await assert.rejects(ready, { code: 'ERR_BUTTER_HELPER_EXITED', signal: 'SIGKILL', exitCode: null, message: 'butter-helper was killed by SIGKILL before the exec' });
    assert.equal(fdCount(), before);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('spawnHelper: the target has only the fds a plain spawn gives it (no protocol socket, no passed fd)', { skip: !isRoot && 'needs root to join a UTS namespace' }, async () => {
  const fdsOf = (pid) => readdirSync(`/proc/${pid}/fd`).map((fd) => `${fd} ${readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/\[\d+\]$/, '')}`).sort();
  const devnull = openSync('/dev/null', 'r');
  const stdio = ['ignore', 'ignore', 'ignore', devnull];
  const plain = spawn('sleep', ['60'], { stdio });
  await once(plain, 'spawn');
  const expected = fdsOf(plain.pid);
  plain.kill();
  const ns = openSync('/proc/self/ns/uts', 'r');
  try {
    const { child, ready } = spawnHelper('sleep', ['60'], { stdio, steps: [{ op: 'setns', fd: ns, nstype: CLONE_NEWUTS }] });
    await ready;
    const got = fdsOf(child.pid);
    child.kill();
    assert.deepEqual(got, expected);
    assert.ok(got.includes('3 /dev/null'), "the caller's fd 3 is the target's fd 3");
  } finally {
    closeSync(ns);
    closeSync(devnull);
  }
});
