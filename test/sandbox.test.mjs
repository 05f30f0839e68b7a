// The sandbox family: spawn() into namespaces and a new root, and `butter run`
// beside Debian's bubblewrap on the same command lines.
//
// Nothing here changes the host: every mount is made in a new mount namespace
// (whose mounts are slaves of the host's, so nothing propagates back), host
// names in new UTS namespaces; the mount table and the host name are checked
// unchanged at the end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSysError } from './support/errors.mjs';
import { root, runChild } from './support/child.mjs';

const { spawn } = await import('butter');

const HOSTNAME = os.hostname();
const mountTable = () => readFileSync('/proc/self/mountinfo', 'utf8');
const MOUNTS = mountTable();
after(() => {
  assert.equal(os.hostname(), HOSTNAME, "the host's name is unchanged");
  assert.equal(mountTable(), MOUNTS, "the host's mounts are unchanged");
});

const bin = path.join(root, 'bin', 'butter.js');
const userns = spawnSync('unshare', ['--user', '--map-root-user', 'true'], { stdio: 'ignore' }).status === 0;
const NO_USERNS = 'needs user namespaces (unshare -Ur fails here)';
const bwrapMissing = spawnSync(path.join(root, 'scripts', 'tools.sh'), ['bubblewrap'], { stdio: 'ignore' }).status === 0 ? false : 'bubblewrap could not be installed (scripts/tools.sh bubblewrap)';
const ALL = ['user', 'mount', 'pid', 'net', 'uts', 'ipc', 'cgroup'];
const FULL = [
  { type: 'ro-bind', source: '/', target: '/' },
  { type: 'proc', target: '/proc' },
  { type: 'dev', target: '/dev' },
  { type: 'tmpfs', target: '/tmp' },
];

/** Everything a child writes, how it exits, and the first 'error' it emitted. */
async function outcome(child) {
  let out = '';
  let err;
  child.stdout?.setEncoding('utf8').on('data', (s) => (out += s));
  child.on('error', (e) => (err ??= e));
  // Not once(): it rejects on 'error', which comes before the close here.
  const [code, signal] = await new Promise((resolve) => child.on('close', (...a) => resolve(a)));
  return { out, code, signal, err };
}

test('spawn: a full sandbox (all namespaces, a new root with proc, dev and a tmpfs) with Node child_process streams and exit code', { skip: !userns && NO_USERNS }, async () => {
  const child = spawn('sh', ['-c', 'echo $$; hostname; id -u; ls /dev | tr "\\n" " "; echo; touch /usr/x 2>/dev/null || echo ro; touch /tmp/x && echo rw; readlink /proc/self/ns/net; exit 3'], {
    namespaces: ALL, mounts: FULL, hostname: 'box', stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { out, code, signal, err } = await outcome(child);
  assert.equal(err, undefined);
  assert.deepEqual({ code, signal }, { code: 3, signal: null });
  const [pid, name, uid, dev, ro, rw, net] = out.trim().split('\n');
  assert.equal(pid, '2', 'pid 2 under the init');
  assert.equal(name, 'box');
  assert.equal(uid, String(process.getuid()));
  assert.equal(dev.trim(), 'core fd full null ptmx pts random shm stderr stdin stdout tty urandom zero');
  assert.equal(ro, 'ro');
  assert.equal(rw, 'rw');
  assert.match(net, /^net:\[\d+\]$/);
  assert.notEqual(net, readlinkSync('/proc/self/ns/net'));
});

test('spawn: mounts are made in order: dirs, symlinks, files from data and from an fd, a tmpfs mode, remount-ro, a missing optional bind', { skip: !userns && NO_USERNS }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-sandbox-'));
  try {
    writeFileSync(path.join(dir, 'src'), 'from the fd\n');
    const fd = openSync(path.join(dir, 'src'), 'r');
    const child = spawn('/usr/bin/sh', ['-c', 'cat /etc/a /etc/b; readlink /bin; stat -c "%a %n" /private /work; touch /work/x 2>/dev/null || echo ro; test -e /opt || echo no-opt; pwd'], {
      namespaces: ['user', 'mount'],
      mounts: [
        { type: 'ro-bind', source: '/usr', target: '/usr' },
        { type: 'symlink', source: 'usr/bin', target: '/bin' },
        { type: 'symlink', source: 'usr/lib', target: '/lib' },
        { type: 'symlink', source: 'usr/lib64', target: '/lib64' },
        { type: 'file', target: '/etc/a', data: 'from data\n' },
        { type: 'file', target: '/etc/b', fd },
        { type: 'dir', target: '/private', mode: 0o700 },
        { type: 'tmpfs', target: '/work', mode: 0o1777 },
        { type: 'remount-ro', target: '/work' },
        { type: 'bind', source: path.join(dir, 'missing'), target: '/opt', optional: true },
      ],
      cwd: '/private',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    closeSync(fd);
    const { out, code, err } = await outcome(child);
    assert.equal(err, undefined);
    assert.equal(code, 0);
    assert.equal(out, 'from data\nfrom the fd\nusr/bin\n700 /private\n1777 /work\nro\nno-opt\n/private\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spawn: a failing step emits an fs-shaped error naming its option, the helper exits 127, and the target never runs', { skip: !userns && NO_USERNS }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-sandbox-'));
  try {
    const marker = path.join(dir, 'ran');
    const child = spawn('touch', [marker], {
      namespaces: ['user', 'mount'],
      mounts: [{ type: 'bind', source: '/', target: '/' }, { type: 'ro-bind', source: path.join(dir, 'missing'), target: '/x' }],
    });
    const { code, err } = await outcome(child);
    assertSysError(err, 'ENOENT', 'stat', path.join(dir, 'missing'));
    assert.equal(err.step, 'mounts[1]');
    assert.equal(code, 127);
    assert.equal(existsSync(marker), false);

    const exec = await outcome(spawn('/nonexistent', [], { namespaces: ['user'] }));
    assertSysError(exec.err, 'ENOENT', 'execve', '/nonexistent');
    assert.equal(exec.err.step, 'exec');
    assert.equal(exec.code, 127);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spawn: a sandbox killed during its setup ends as any killed child: no error event', { skip: !userns && NO_USERNS }, async () => {
  const child = spawn('true', [], { namespaces: ALL, mounts: FULL });
  child.kill('SIGKILL');
  const { code, signal, err } = await outcome(child);
  assert.deepEqual({ code, signal, err }, { code: null, signal: 'SIGKILL', err: undefined });
});

test('spawn: options are validated before anything starts', () => {
  assert.throws(() => spawn('true', [], { namespaces: ['users'] }), { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
  assert.throws(() => spawn('true', [], { namespaces: 'user' }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => spawn('true', [], { mounts: [] }), { code: 'ERR_INVALID_ARG_VALUE', message: /'mount' namespace/ });
  assert.throws(() => spawn('true', [], { namespaces: ['mount'], mounts: [{ type: 'proc', target: 'proc' }] }), { code: 'ERR_INVALID_ARG_VALUE', message: /absolute/ });
  assert.throws(() => spawn('true', [], { namespaces: ['mount'], mounts: [{ type: 'overlay', target: '/' }] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawn('true', [], { hostname: 'x' }), { code: 'ERR_INVALID_ARG_VALUE', message: /'uts' namespace/ });
  assert.throws(() => spawn('true', [], { uidMap: 5 }), { code: 'ERR_INVALID_ARG_VALUE', message: /'user' namespace/ });
  assert.throws(() => spawn('true', [], { asPid1: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /'pid' namespace/ });
  assert.throws(() => spawn('true', [], { capabilities: ['cap_nope'] }), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => spawn('true', [], { noNewPrivs: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
});

test('spawn: capabilities kept, no_new_privs, a new session, uid and gid maps', { skip: !userns && NO_USERNS }, async () => {
  const child = spawn('sh', ['-c', 'grep -E "^(CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status | tr -s "\\t" " "; read -r p c s pg sid rest < /proc/$$/stat; [ "$sid" = $$ ] && echo leader; id -u; id -g'], {
    namespaces: ['user'], uidMap: 1234, gidMap: 5678, capabilities: ['CAP_NET_RAW', 'sys_admin'], noNewPrivs: true, newSession: true, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { out, code, err } = await outcome(child);
  assert.equal(err, undefined);
  assert.equal(code, 0);
  const mask = ((1n << 13n) | (1n << 21n)).toString(16).padStart(16, '0');
  assert.equal(out, `CapEff: ${mask}\nCapBnd: ${mask}\nCapAmb: ${mask}\nNoNewPrivs: 1\nleader\n1234\n5678\n`);
});

test('spawn: under the init, signals sent to the ChildProcess reach the target (pid 2) and its exit code comes back', { skip: !userns && NO_USERNS }, async () => {
  const child = spawn('sh', ['-c', 'trap "echo term; exit 7" TERM; echo $$; while :; do sleep 0.05; done'], { namespaces: ['user', 'pid'], stdio: ['ignore', 'pipe', 'inherit'] });
  const result = outcome(child);
  await once(child.stdout, 'data');
  child.kill('SIGTERM');
  const { out, code, signal } = await result;
  assert.deepEqual({ out, code, signal }, { out: '2\nterm\n', code: 7, signal: null });
});

test('spawn: a target killed by a signal ends the ChildProcess by the same signal (relayed from under the init)', { skip: !userns && NO_USERNS }, async () => {
  const { out, code, signal } = await outcome(spawn('sh', ['-c', 'echo $$; kill -KILL $$'], { namespaces: ['user', 'pid'], stdio: ['ignore', 'pipe', 'inherit'] }));
  assert.deepEqual({ out, code, signal }, { out: '2\n', code: null, signal: 'SIGKILL' });
});

test('spawn: asPid1: the target is pid 1 of the namespace, and its exit code comes back', { skip: !userns && NO_USERNS }, async () => {
  const { out, code, signal } = await outcome(spawn('sh', ['-c', 'echo $$; exit 5'], { namespaces: ['user', 'pid'], asPid1: true, stdio: ['ignore', 'pipe', 'inherit'] }));
  assert.deepEqual({ out, code, signal }, { out: '1\n', code: 5, signal: null });
});

test('spawn: dieWithParent follows the spawning thread: a Worker that ends takes its sandbox along, the process lives on', { skip: !userns && NO_USERNS }, () => {
  // In a child node: a Worker spawns `sleep`, reports the pid, and is terminated.
  const source = (die) => `
    import { Worker } from 'node:worker_threads';
    import { setTimeout as sleep } from 'node:timers/promises';
    const w = new Worker(\`
      const { parentPort } = await import('node:worker_threads');
      const { spawn } = await import('butter');
      const c = spawn('sleep', ['30'], { namespaces: ['user', 'pid'], dieWithParent: ${die}, stdio: 'ignore' });
      c.unref();
      parentPort.postMessage(c.pid);
      setInterval(() => {}, 1000);\`, { eval: true });
    const [pid] = await Promise.all([new Promise((r) => w.once('message', r))]);
    await sleep(200);
    await w.terminate();
    await sleep(300);
    let state;
    try { state = (await import('node:fs')).readFileSync('/proc/' + pid + '/stat', 'utf8').split(' ')[2]; } catch { state = 'gone'; }
    console.log(state);
    try { process.kill(pid, 'SIGKILL'); } catch {}
    process.exit(0);`;
  const died = runChild(source(true));
  assert.equal(died.status, 0, died.stderr);
  assert.match(died.stdout.trim(), /^(Z|gone)$/, 'the sandbox died with the Worker');
  const lived = runChild(source(false));
  assert.equal(lived.status, 0, lived.stderr);
  assert.match(lived.stdout.trim(), /^[SR]$/, 'without dieWithParent it outlives the Worker');
});

/** `butter run ARGS` and `bwrap ARGS`, each as spawnSync runs it. */
function both(args, options = {}) {
  const run = (argv) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 20_000, cwd: '/usr', ...options });
  return { butter: run([process.execPath, bin, 'run', ...args]), bwrap: run(['bwrap', ...args]) };
}

const SAME = [
  ['--unshare-all', '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--', 'sh', '-c', 'id; echo $$; ls /dev; cat /proc/self/uid_map; pwd; grep Cap /proc/self/status'],
  ['--unshare-all', '--uid', '1234', '--gid', '5678', '--hostname', 'box', '--ro-bind', '/', '/', '--', 'sh', '-c', 'id -u; id -g; hostname; pwd'],
  ['--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--dir', '/work', '--perms', '0700', '--dir', '/private/inner',
    '--size', '1048576', '--tmpfs', '/tmp', '--chdir', '/work', '--', 'sh', '-c', 'ls -1 /; readlink /bin; stat -c "%a %n" /private /private/inner /work /tmp; stat -f -c "%b %S" /tmp; pwd'],
  ['--ro-bind', '/', '/', '--tmpfs', '/mnt', '--remount-ro', '/mnt', '--bind-try', '/nonexistent', '/x', '--ro-bind-try', '/nonexistent', '/y', '--', 'sh', '-c', 'touch /mnt/a || echo ro; touch /usr/a || echo ro; test -e /x || echo no-x'],
  ['--ro-bind', '/', '/', '--dev', '/dev', '--mqueue', '/dev/mqueue', '--', 'sh', '-c', 'stat -c "%F %t,%T %a" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; readlink /dev/stdout /dev/fd /dev/ptmx; stat -f -c %T /dev/mqueue /dev/pts'],
  // A file bound over one that a read-only bind holds already.
  ['--ro-bind', '/', '/', '--ro-bind', '/etc/os-release', '/etc/hostname', '--', 'head', '-1', '/etc/hostname'],
  ['--ro-bind', '/', '/', '--clearenv', '--setenv', 'A', 'b', '--unsetenv', 'PWD', '--', 'env'],
  ['--ro-bind', '/', '/', '--new-session', '--die-with-parent', '--', 'sh', '-c', 'read -r p c s pg sid rest < /proc/$$/stat; [ "$sid" = $$ ] && echo leader'],
  ['--ro-bind', '/', '/', '--', 'sh', '-c', 'read -r p c s pg sid rest < /proc/$$/stat; [ "$sid" = $$ ] && echo leader || echo not'],
  ['--unshare-pid', '--as-pid-1', '--ro-bind', '/', '/', '--', 'sh', '-c', 'echo $$'],
  ['--unshare-pid', '--ro-bind', '/', '/', '--', 'sh', '-c', 'echo $$'],
  ['--unshare-user', '--ro-bind', '/', '/', '--cap-drop', 'ALL', '--cap-add', 'CAP_NET_RAW', '--', 'grep', 'Cap', '/proc/self/status'],
  ['--ro-bind', '/', '/', '--', 'sh', '-c', 'exit 3'],
  ['--ro-bind', '/', '/', '--', 'sh', '-c', 'kill -TERM $$'],
  ['--ro-bind', '/', '/', '--', '/nonexistent'],
  ['--ro-bind', '/', '/', '--bind', '/nonexistent', '/x', '--', 'true'],
  ['--ro-bind', '/', '/', '--hostname', 'x', '--', 'true'],
];

for (const args of SAME) {
  test(`butter run prints and exits as bwrap: ${args.join(' ')}`, { skip: bwrapMissing || (!userns && NO_USERNS) }, () => {
    const { butter, bwrap } = both(args);
    assert.equal(butter.stdout, bwrap.stdout);
    assert.equal(butter.status, bwrap.status);
    // Errors are worded differently; both say something.
    assert.equal(butter.stderr === '', bwrap.stderr === '', `stderr: ${butter.stderr} | ${bwrap.stderr}`);
  });
}

test('butter run --file FD DEST: the file holds what FD reads, as in bwrap', { skip: bwrapMissing }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-sandbox-'));
  try {
    writeFileSync(path.join(dir, 'f'), 'hello\n');
    const args = ['--ro-bind', '/', '/', '--tmpfs', '/etc', '--file', '3', '/etc/motd', '--', 'sh', '-c', 'cat /etc/motd; stat -c %a /etc/motd'];
    const out = [];
    for (const program of [[process.execPath, bin, 'run'], ['bwrap']]) {
      const fd = openSync(path.join(dir, 'f'), 'r');
      out.push(spawnSync(program[0], [...program.slice(1), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', fd] }));
      closeSync(fd);
    }
    assert.equal(out[0].stdout, 'hello\n' + out[1].stdout.split('\n')[1] + '\n');
    assert.equal(out[0].stdout, out[1].stdout);
    assert.equal(out[0].status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('butter run: usage errors exit 1, as bwrap', () => {
  for (const args of [['--ro-bind', '/'], ['--as-pid-1', 'true'], ['--bogus', 'true'], []]) {
    const r = spawnSync(process.execPath, [bin, 'run', ...args], { encoding: 'utf8' });
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, /^butter run: /);
  }
});

test('butter run: --help before the command is its own, after it the command\'s', { skip: !userns && NO_USERNS }, () => {
  const own = spawnSync(process.execPath, [bin, 'run', '--help'], { encoding: 'utf8' });
  assert.equal(own.status, 0);
  assert.match(own.stdout, /^Usage: butter run /);
  const theirs = spawnSync(process.execPath, [bin, 'run', '--ro-bind', '/', '/', '--', 'sh', '-c', 'echo "$@"', 'sh', '--help', '-h'], { encoding: 'utf8' });
  assert.deepEqual({ status: theirs.status, stdout: theirs.stdout }, { status: 0, stdout: '--help -h\n' });
});

test('the sandbox leaves no child behind: a target outliving its sandbox setup still ends with the ChildProcess', { skip: !userns && NO_USERNS }, async () => {
  // A duration no other process on the machine is likely to sleep for: the target's mark in /proc.
  const mark = `30.${process.pid}`;
  const running = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).some((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'latin1') === `sleep\0${mark}\0`;
    } catch {
      return false; // gone meanwhile
    }
  });
  const child = spawn('sleep', [mark], { namespaces: ['user', 'pid', 'mount'], mounts: FULL, stdio: 'ignore' });
  while (!running()) await sleep(10);
  child.kill('SIGKILL');
  const [code, signal] = await once(child, 'exit');
  assert.deepEqual({ code, signal }, { code: null, signal: 'SIGKILL' });
  for (let i = 0; i < 100 && running(); i++) await sleep(10);
  assert.equal(running(), false, 'the target in the PID namespace died with the monitor');
});

test('spawn: a user namespace refused names the setting that refuses it (here the limit, set to 0 inside a user namespace of its own)', { skip: !userns && NO_USERNS }, () => {
  const source = `
    import { writeFileSync } from 'node:fs';
    import { spawn } from 'butter';
    // user.max_user_namespaces is per user namespace: this changes the limit below this one only.
    writeFileSync('/proc/sys/user/max_user_namespaces', '0');
    spawn('true', [], { namespaces: ['user'] }).on('error', (e) => console.log(JSON.stringify({ code: e.code, syscall: e.syscall, step: e.step, reason: e.reason, message: e.message })));`;
  const r = runChild(source, { prefix: ['unshare', '--user', '--map-root-user', '--'] });
  assert.equal(r.status, 0, r.stderr);
  const err = JSON.parse(r.stdout);
  const reason = 'the limit on user namespaces is reached (user.max_user_namespaces = 0)';
  assert.deepEqual(err, { code: 'ENOSPC', syscall: 'unshare', step: 'namespaces', reason, message: `ENOSPC: no space left on device, unshare: ${reason}` });
});

test('spawn: EPERM from a user namespace refused names why (here: a process whose uid has no mapping, under `unshare --user`)', { skip: !userns && NO_USERNS }, () => {
  const source = `
    import { spawn } from 'butter';
    spawn('true', [], { namespaces: ['user', 'mount'] }).on('error', (e) => console.log(JSON.stringify({ code: e.code, syscall: e.syscall, step: e.step, reason: e.reason })));`;
  const r = runChild(source, { prefix: ['unshare', '--user', '--'] });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    code: 'EPERM', syscall: 'unshare', step: 'namespaces',
    reason: "this process's uid has no mapping in its own user namespace (/proc/self/uid_map is empty), and a user namespace needs one",
  });
});

test('butter doctor: the sandbox family reports each namespace as created here or not', { skip: !userns && NO_USERNS }, () => {
  const r = spawnSync(process.execPath, [bin, 'doctor', '--json'], { encoding: 'utf8', timeout: 60_000 });
  const sandbox = JSON.parse(r.stdout).families.find((f) => f.family === 'sandbox');
  assert.ok(sandbox, 'doctor reports the sandbox family');
  for (const ns of ['user', 'mount', 'pid', 'net', 'uts', 'ipc', 'cgroup']) assert.equal(sandbox.facts[`namespace.${ns}`], true, ns);
  assert.equal(sandbox.calls.at(-1).calls[0], 'spawn({ mounts })');
  assert.equal(sandbox.calls.at(-1).status, 'ok');
});

test('spawn: arbitrary sandbox options give an argument error before anything starts, or a sandbox that fails or runs: never a crash, a hang or a leaked fd', { skip: !userns && NO_USERNS, timeout: 120_000 }, async () => {
  const { default: fc } = await import('fast-check');
  const fdCount = () => readdirSync('/proc/self/fd').length;
  const before = fdCount();
  const NS = ['user', 'mount', 'pid', 'net', 'uts', 'ipc', 'cgroup', 'time'];
  const value = fc.oneof(
    fc.anything({ withBigInt: true, maxDepth: 2 }),
    fc.constantFrom(0, -1, 1.5, NaN, 2 ** 32, 0o777, '', 'x\0y', '/', 'relative', '/tmp/x', true, null, [], {}),
  );
  // A file mount's fd is left out: a real fd of this process would be read to its end, a pipe's never.
  const mount = fc.record({
    type: fc.oneof(fc.constantFrom('bind', 'ro-bind', 'dev-bind', 'tmpfs', 'proc', 'dev', 'mqueue', 'dir', 'symlink', 'file', 'remount-ro'), value),
    source: fc.oneof(fc.constantFrom('/usr', '/nonexistent', 'usr/bin'), value),
    target: fc.oneof(fc.constantFrom('/x', '/proc', '/a/b/c', 'x', '/'), value),
    mode: fc.oneof(fc.constant(undefined), value),
    optional: fc.oneof(fc.constant(undefined), value),
    data: fc.oneof(fc.constant(undefined), fc.constant('data'), value),
  }, { requiredKeys: ['type', 'target'] });
  const options = fc.record({
    namespaces: fc.oneof(fc.subarray(NS), fc.array(fc.oneof(fc.constantFrom(...NS), value), { maxLength: 3 }), value),
    mounts: fc.oneof(fc.array(mount, { maxLength: 3 }), value),
    uidMap: value, gidMap: value, hostname: fc.oneof(fc.constant('box'), value), newSession: value, dieWithParent: value,
    noNewPrivs: value, capabilities: fc.oneof(fc.constant(['net_raw']), value), asPid1: value,
  }, { requiredKeys: [] });
  await fc.assert(fc.asyncProperty(options, async (opts) => {
    let child;
    try {
      child = spawn('/nonexistent/butter-fuzz', [], { ...opts, stdio: 'ignore' });
    } catch (err) {
      assert.ok(['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE'].includes(err.code), err.stack);
      assert.ok(err instanceof TypeError || err instanceof RangeError, err.stack);
      return;
    }
    const { code, err } = await outcome(child);
    // The command does not exist: it never runs, whatever step stopped it.
    assert.equal(code, 127);
    assert.match(err.code, /^E[A-Z0-9]+$/);
    assert.equal(typeof err.step, 'string');
  }), { numRuns: 150 });
  assert.equal(fdCount(), before);
});

const { seccompCompile } = await import('butter');
const denyMkdir = () => seccompCompile([{ syscall: 'mkdir', action: { errno: 'EPERM' } }, { syscall: 'mkdirat', action: { errno: 'EPERM' } }], { defaultAction: 'allow' });

test('spawn: seccomp filters run in the target, stacked in order after every sandbox step, with no_new_privs set', { skip: !userns && NO_USERNS }, async () => {
  const denyRmdir = seccompCompile([{ syscall: 'rmdir', action: { errno: 'EACCES' } }, { syscall: 'unlinkat', action: { errno: 'EACCES' } }], { defaultAction: 'allow' });
  const child = spawn('sh', ['-c', 'mkdir /tmp/a 2>&1 | grep -o "not permitted"; rmdir /tmp 2>&1 | grep -o "denied"; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -s "\\t" " "'], {
    namespaces: ALL, mounts: FULL, stdio: ['ignore', 'pipe', 'inherit'], seccomp: [denyMkdir(), denyRmdir.program],
  });
  const { out, code, err } = await outcome(child);
  assert.equal(err, undefined);
  assert.equal(code, 0);
  assert.equal(out, 'not permitted\ndenied\nNoNewPrivs: 1\nSeccomp: 2\n');
  assert.equal(child.seccompNotify, undefined);
});

test('spawn: seccompNotify: the last filter\'s listener arrives as a SeccompNotify before the target runs', { skip: !userns && NO_USERNS }, async () => {
  const filter = seccompCompile([{ syscall: 'mkdir', action: 'user_notif' }, { syscall: 'mkdirat', action: 'user_notif' }], { defaultAction: 'allow' });
  const child = spawn('sh', ['-c', 'mkdir /tmp/a 2>&1 | grep -o "No space"; mkdir /tmp/b && echo made'], {
    namespaces: ALL, mounts: FULL, stdio: ['ignore', 'pipe', 'inherit'], seccomp: filter, seccompNotify: { deadline: 10_000 },
  });
  const done = outcome(child);
  const notify = await child.seccompNotify;
  const seen = [];
  for await (const n of notify) {
    seen.push(n.syscall);
    if (seen.length === 1) n.respond({ error: 'ENOSPC' });
    else n.continue();
  }
  const { out, code, err } = await done;
  assert.equal(err, undefined);
  assert.equal(code, 0);
  assert.equal(out, 'No space\nmade\n');
  assert.deepEqual(seen, ['mkdir', 'mkdir']);
});

test('spawn: seccompNotify rejects with the sandbox\'s error when a step fails first; seccomp options are validated before anything starts', { skip: !userns && NO_USERNS }, async () => {
  const child = spawn('true', { namespaces: ['user', 'mount'], mounts: [{ type: 'bind', source: '/nonexistent', target: '/x' }], seccomp: denyMkdir(), seccompNotify: true });
  const { err } = await outcome(child);
  assert.equal(err.code, 'ENOENT');
  await assert.rejects(child.seccompNotify, (e) => e === err);
  assert.throws(() => spawn('true', { seccomp: 'allow' }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.seccomp/ });
  assert.throws(() => spawn('true', { seccomp: [denyMkdir(), {}] }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.seccomp\[1\]/ });
  assert.throws(() => spawn('true', { seccompNotify: true }), { code: 'ERR_INVALID_ARG_VALUE', message: /needs a seccomp filter/ });
  assert.throws(() => spawn('true', { seccomp: denyMkdir(), seccompNotify: { deadine: 1 } }), { code: 'ERR_INVALID_ARG_VALUE', message: /deadine/ });
});

test('butter run --seccomp FD and --add-seccomp-fd FD: programs read from fds, as bwrap reads them', { skip: bwrapMissing || (!userns && NO_USERNS) }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-sandbox-'));
  try {
    writeFileSync(path.join(dir, 'mkdir.bpf'), denyMkdir().program);
    writeFileSync(path.join(dir, 'uname.bpf'), seccompCompile([{ syscall: 'uname', action: { errno: 'ENOSYS' } }], { defaultAction: 'allow' }).program);
    const script = 'mkdir /tmp/a 2>&1 | grep -o "not permitted"; uname >/dev/null 2>&1 || echo no-uname; true';
    for (const options of [['--seccomp', '3'], ['--seccomp', '4', '--seccomp', '3'], ['--add-seccomp-fd', '3', '--add-seccomp-fd', '4']]) {
      const out = [];
      for (const program of [[process.execPath, bin, 'run'], ['bwrap']]) {
        const fds = [openSync(path.join(dir, 'mkdir.bpf'), 'r'), openSync(path.join(dir, 'uname.bpf'), 'r')];
        out.push(spawnSync(program[0], [...program.slice(1), ...options, '--ro-bind', '/', '/', '--tmpfs', '/tmp', '--proc', '/proc', '--dev', '/dev', '--', 'sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', ...fds] }));
        fds.forEach((fd) => closeSync(fd));
      }
      assert.equal(out[0].stdout, out[1].stdout, options.join(' '));
      assert.equal(out[0].status, out[1].status);
    }
    const mixed = spawnSync(process.execPath, [bin, 'run', '--seccomp', '3', '--add-seccomp-fd', '3', '--ro-bind', '/', '/', 'true'], { encoding: 'utf8' });
    assert.equal(mixed.status, 1);
    assert.match(mixed.stderr, /cannot be combined/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('butter run --seccomp-supervise: each syscall the last program denies is printed with its process, and still denied as the program says', { skip: !userns && NO_USERNS }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'butter-sandbox-'));
  try {
    const filter = seccompCompile([
      { syscall: 'mkdir', action: { errno: 'EPERM' } },
      { syscall: 'mkdirat', action: { errno: 'EPERM' } },
      { syscall: 'rmdir', action: { errno: 'EBUSY' } },
    ], { defaultAction: 'allow' });
    writeFileSync(path.join(dir, 'f.bpf'), filter.program);
    const fd = openSync(path.join(dir, 'f.bpf'), 'r');
    const r = spawnSync(process.execPath, [bin, 'run', '--seccomp-supervise', '--seccomp', '3', '--ro-bind', '/', '/', '--dev', '/dev', '--tmpfs', '/tmp', '--',
      'sh', '-c', 'mkdir /tmp/a 2>/dev/null || echo no-mkdir; rmdir /tmp 2>/dev/null || echo no-rmdir; echo done'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', fd] });
    closeSync(fd);
    assert.equal(r.stdout, 'no-mkdir\nno-rmdir\ndone\n');
    assert.equal(r.status, 0);
    assert.match(r.stderr, /^butter run: denied mkdir(at)? \(\d+\) for mkdir\[\d+\]: EPERM\nbutter run: denied rmdir \(\d+\) for rmdir\[\d+\]: EBUSY\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
