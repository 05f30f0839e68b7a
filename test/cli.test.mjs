// The `butter` CLI: dispatch, exit codes, and `butter doctor` reporting facts
// that match this machine. Every run is a child process of bin/butter.js, as
// a user would run it; nothing here changes machine state (the namespace case
// runs inside `unshare`, and doctor itself never calls sethostname).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'butter.js');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const isRoot = process.geteuid() === 0;
import { NOBODY, nobodyUnavailable } from './support/nobody.mjs';

const canBecomeNobody = !nobodyUnavailable;

/**
 * Runs bin/butter.js with `args`. `env` is merged into ours; `wrapper` (e.g.
 * `['unshare', '-Uru']`) runs node under another program; the rest goes to spawnSync.
 */
function butter(args, { env, wrapper = [], ...options } = {}) {
  const childEnv = { ...process.env, ...env };
  // The test runner's own choice must not leak into children that test the default.
  if (!env || !('BUTTER_READINESS' in env)) delete childEnv.BUTTER_READINESS;
  const argv = [...wrapper, process.execPath, bin, ...args];
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 60_000, env: childEnv, ...options });
  if (r.error) throw r.error;
  return r;
}

function doctorJson(options) {
  const r = butter(['doctor', '--json'], options);
  assert.equal(r.stderr, '', 'doctor --json writes nothing on stderr');
  return { ...r, report: JSON.parse(r.stdout) };
}

/** CapEff of this (test) process, decoded independently of Butter: a child started by exec keeps it. */
function ownCapabilities() {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1];
  const bits = [];
  const mask = BigInt(`0x${hex}`);
  for (let bit = 0; bit < 64; bit++) if ((mask >> BigInt(bit)) & 1n) bits.push(bit);
  return bits;
}
const CAP_SYS_ADMIN = 21;
const CAP_SYS_RESOURCE = 24;

function family(report, name) {
  const f = report.families.find((x) => x.family === name);
  assert.ok(f, `family ${name} is reported`);
  return f;
}

function sysctl(name) {
  const path = `/proc/sys/${name.replaceAll('.', '/')}`;
  return existsSync(path) ? Number(readFileSync(path, 'utf8').trim()) : null;
}

test('doctor --json: the system facts are this machine\'s', () => {
  const { status, report, pid } = doctorJson();
  assert.equal(status, 0);
  assert.equal(report.butter, pkg.version);
  // Without CAP_SYS_ADMIN host is limited, which still exits 0.
  assert.equal(report.status, ownCapabilities().includes(CAP_SYS_ADMIN) ? 'ok' : 'limited');

  const s = report.system;
  assert.deepEqual(s.kernel, { sysname: 'Linux', release: os.release(), version: os.version() });
  assert.deepEqual(s.arch, { node: process.arch, machine: os.machine() });
  assert.equal(s.node.version, process.version);
  assert.equal(s.node.napi, process.versions.napi);
  assert.deepEqual(s.butter, { version: pkg.version, loaded: true, error: null });
  assert.equal(s.readiness.backend, 'uv', 'Node gets the libuv backend by default');
  assert.equal(s.readiness.env, null);
  assert.match(s.readiness.note, /BUTTER_READINESS=epoll/);

  assert.deepEqual(s.user, {
    uid: process.getuid(),
    euid: process.geteuid(),
    gid: process.getgid(),
    egid: process.getegid(),
    root: isRoot,
  });

  const caps = ownCapabilities();
  assert.equal(s.capabilities.effective.length, caps.length);
  assert.equal(s.capabilities.effective.includes('CAP_SYS_ADMIN'), caps.includes(CAP_SYS_ADMIN));
  assert.equal(s.capabilities.effective.includes('CAP_SYS_RESOURCE'), caps.includes(CAP_SYS_RESOURCE));
  for (const name of s.capabilities.effective) assert.match(name, /^CAP_[A-Z_0-9]+$/);
  const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  assert.equal(s.capabilities.effective.length + s.capabilities.missing.length, lastCap + 1);

  const uidMap = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ');
  assert.deepEqual(s.userNamespace, { initial: uidMap === '0 0 4294967295', uidMap });

  const seccomp = /^Seccomp:\s*(\d)$/m.exec(readFileSync('/proc/self/status', 'utf8'))[1];
  assert.equal(s.seccomp.mode, ['disabled', 'strict', 'filter'][Number(seccomp)]);

  // Exactly the families Butter offers, each fully described.
  assert.deepEqual(report.families.map((f) => f.family), ['process', 'host', 'eventfd', 'timerfd', 'signals', 'inotify', 'fanotify', 'splice', 'mount', 'namespaces', 'sandbox', 'seccomp', 'seccomp-notify', 'io-uring', 'aio']);
  for (const f of report.families) {
    assert.ok(['ok', 'limited', 'unavailable'].includes(f.status), f.family);
    assert.equal(typeof f.reason, 'string');
    assert.ok(f.reason.length > 0);
    assert.ok(f.fix === null || typeof f.fix === 'string');
    assert.ok(f.calls.length > 0);
    for (const c of f.calls) {
      assert.ok(Array.isArray(c.calls) && c.calls.length > 0);
      assert.ok(['ok', 'limited', 'unavailable'].includes(c.status));
      assert.equal(typeof c.detail, 'string');
    }
    // The family's status is its worst call's.
    const rank = { ok: 0, limited: 1, unavailable: 2 };
    assert.equal(rank[f.status], Math.max(...f.calls.map((c) => rank[c.status])), f.family);
  }

  const proc = family(report, 'process');
  assert.equal(proc.status, 'ok');
  const getpid = proc.calls.find((c) => c.calls.includes('getpid'));
  assert.match(getpid.detail, new RegExp(`^${pid}\\b`), 'getpid() is the child\'s own pid');
  const getppid = proc.calls.find((c) => c.calls.includes('getppid'));
  assert.match(getppid.detail, new RegExp(`^${process.pid}\\b`), 'getppid() is this test process');

  const host = family(report, 'host');
  const uname = host.calls.find((c) => c.calls.includes('uname'));
  assert.equal(uname.status, 'ok');
  assert.ok(uname.detail.includes(os.release()));
  assert.ok(uname.detail.includes(os.hostname()));
  assert.equal(host.facts.CAP_SYS_ADMIN, caps.includes(CAP_SYS_ADMIN));
  assert.equal(host.facts['user.max_user_namespaces'], sysctl('user.max_user_namespaces'));
  assert.equal(host.facts['kernel.apparmor_restrict_unprivileged_userns'], sysctl('kernel.apparmor_restrict_unprivileged_userns'));
  const setters = host.calls.find((c) => c.calls.includes('sethostname'));
  if (caps.includes(CAP_SYS_ADMIN)) {
    assert.equal(host.status, 'ok');
    assert.equal(setters.status, 'ok');
    assert.equal(host.fix, null);
  } else {
    assert.equal(host.status, 'limited');
    assert.equal(setters.status, 'limited');
    assert.match(host.fix, /unshare|CAP_SYS_ADMIN/);
  }

  const efd = family(report, 'eventfd');
  assert.equal(efd.status, 'ok');
  assert.equal(efd.facts.readiness, 'uv');
  assert.ok(efd.calls.some((c) => c.calls.includes('EventFd.read') && c.status === 'ok'));
});

test('doctor --json under BUTTER_READINESS=epoll reports and exercises the portable backend', () => {
  const { status, report } = doctorJson({ env: { BUTTER_READINESS: 'epoll' } });
  assert.equal(status, 0);
  assert.equal(report.system.readiness.backend, 'epoll');
  assert.equal(report.system.readiness.env, 'epoll');
  assert.match(report.system.readiness.note, /forced by BUTTER_READINESS=epoll/);
  const efd = family(report, 'eventfd');
  assert.equal(efd.status, 'ok');
  assert.equal(efd.facts.readiness, 'epoll');
  assert.match(efd.calls.find((c) => c.calls.includes('EventFd.read')).detail, /epoll backend/);
});

test('doctor reports an unknown BUTTER_READINESS as ignored', () => {
  const { report } = doctorJson({ env: { BUTTER_READINESS: 'kqueue' } });
  assert.equal(report.system.readiness.backend, 'uv');
  assert.match(report.system.readiness.note, /'kqueue' is ignored/);
});

test('doctor (human): aligned sections, the machine\'s facts, no colors on a pipe', () => {
  // FORCE_COLOR must not color a pipe: only a terminal gets colors.
  const r = butter(['doctor'], { env: { FORCE_COLOR: '1' } });
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
  const out = r.stdout;
  assert.doesNotMatch(out, /\x1b\[/, 'no escape sequences');
  assert.match(out, new RegExp(`^butter ${pkg.version.replaceAll('.', '\\.')} doctor$`, 'm'));
  assert.match(out, /^System$/m);
  assert.match(out, /^Families$/m);
  assert.match(out, new RegExp(`^  kernel +Linux ${os.release().replaceAll('.', '\\.')} `, 'm'));
  assert.match(out, new RegExp(`^  architecture +${process.arch} \\(${os.machine()}\\)`, 'm'));
  assert.match(out, /^  readiness +uv: /m);
  assert.match(out, new RegExp(`^  user +${isRoot ? 'root' : 'not root'}`, 'm'));
  for (const name of ['process', 'host', 'eventfd', 'timerfd', 'signals', 'inotify', 'fanotify']) assert.match(out, new RegExp(`^  ${name} +(ok|limited|unavailable) +\\S`, 'm'));
  assert.match(out, /^Summary: /m);
  // Family rows share one status column.
  const columns = new Set(out.split('\n').filter((l) => /^  (process|host|eventfd|timerfd|signals|inotify|fanotify) /.test(l)).map((l) => l.search(/(ok|limited|unavailable) /)));
  assert.equal(columns.size, 1, 'statuses are aligned');
  for (const line of out.split('\n')) assert.ok(line.length <= 100, `wrapped at 100 columns: ${line}`);
});

test('doctor as an unprivileged user: host is limited, with a fix, and exit 0', { skip: !canBecomeNobody && 'needs the privilege to run a child as nobody' }, () => {
  const { status, report } = doctorJson({ uid: NOBODY, gid: NOBODY });
  assert.equal(status, 0, 'limited is not a failure');
  assert.equal(report.system.user.root, false);
  assert.equal(report.system.user.uid, NOBODY);
  assert.deepEqual(report.system.capabilities.effective, []);
  const host = family(report, 'host');
  assert.equal(host.status, 'limited');
  assert.equal(host.facts.CAP_SYS_ADMIN, false);
  assert.match(host.reason, /CAP_SYS_ADMIN/);
  assert.equal(host.calls.find((c) => c.calls.includes('sethostname')).status, 'limited');
  assert.equal(host.calls.find((c) => c.calls.includes('gethostname')).status, 'ok');
  if (sysctl('user.max_user_namespaces') > 0 && sysctl('kernel.apparmor_restrict_unprivileged_userns') !== 1) {
    assert.match(host.fix, /unshare -Uru/);
  }
  assert.equal(family(report, 'process').status, 'ok');
  assert.equal(family(report, 'eventfd').status, 'ok');
});

test('doctor in a user namespace of its own (unshare -Uru): not the initial one, and sethostname permitted', { skip: !canBecomeNobody && 'needs the privilege to run a child as nobody' }, (t) => {
  const probe = spawnSync('unshare', ['-Uru', 'true'], { uid: NOBODY, gid: NOBODY });
  if (probe.error || probe.status !== 0) {
    t.skip('unprivileged `unshare -Uru` is not available here');
    return;
  }
  const { status, report } = doctorJson({ uid: NOBODY, gid: NOBODY, wrapper: ['unshare', '-Uru'] });
  assert.equal(status, 0);
  assert.equal(report.system.userNamespace.initial, false);
  assert.equal(report.system.user.root, true);
  assert.ok(report.system.capabilities.effective.includes('CAP_SYS_ADMIN'));
  const host = family(report, 'host');
  assert.equal(host.status, 'ok');
  assert.match(host.calls.find((c) => c.calls.includes('sethostname')).detail, /user namespace/);
});

test('doctor without the native addon: every family unavailable, says how to build, exit 1', (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'butter-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A copy of the package (with its loader) with no build/ and no prebuild: what a failed install leaves.
  for (const part of ['bin', 'dist', 'package.json', 'node_modules/node-gyp-build']) cpSync(join(root, part), join(dir, part), { recursive: true });
  const r = spawnSync(process.execPath, [join(dir, 'bin', 'butter.js'), 'doctor', '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1);
  const report = JSON.parse(r.stdout);
  assert.equal(report.status, 'unavailable');
  assert.equal(report.system.butter.loaded, false);
  assert.match(report.system.butter.error, /not built/);
  assert.equal(report.system.readiness.backend, null);
  assert.equal(report.system.kernel.release, os.release(), 'the system facts do not need the addon');
  for (const f of report.families) {
    assert.equal(f.status, 'unavailable');
    assert.match(f.fix, /npm run build:native/);
  }
  // The human report too, and --help/--version, work without the addon.
  const human = spawnSync(process.execPath, [join(dir, 'bin', 'butter.js'), 'doctor'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(human.status, 1);
  assert.match(human.stdout, /^  process +unavailable +Butter's native addon not built/m);
  const version = spawnSync(process.execPath, [join(dir, 'bin', 'butter.js'), '--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.equal(version.stdout, `${pkg.version}\n`);
});

test('--help and --version', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = butter(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Usage: butter <command>/);
    assert.match(r.stdout, /butter doctor \[--json\]/);
  }
  for (const args of [['doctor', '--help'], ['help', 'doctor'], ['doctor', '--json', '-h']]) {
    const r = butter(args);
    assert.equal(r.status, 0, args.join(' '));
    assert.match(r.stdout, /^Usage: butter doctor \[--json\]/);
    assert.match(r.stdout, /Exit status/);
  }
  for (const args of [['--version'], ['-V']]) {
    const r = butter(args);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  }
});

test('usage errors: usage on stderr, nothing on stdout, exit 2', () => {
  const cases = [
    [[], /^Usage: butter <command>/],
    [['frobnicate'], /^butter: unknown command 'frobnicate'\n\nUsage: butter <command>/],
    [['--frobnicate'], /^butter: unknown option '--frobnicate'/],
    [['help', 'frobnicate'], /^butter: unknown command 'frobnicate'/],
    [['doctor', '--jsn'], /^butter doctor: Unknown option '--jsn'[^]*Usage: butter doctor \[--json\]/],
    [['doctor', 'extra'], /^butter doctor: Unexpected argument 'extra'/],
  ];
  for (const [args, stderr] of cases) {
    const r = butter(args);
    assert.equal(r.status, 2, `butter ${args.join(' ')}`);
    assert.equal(r.stdout, '', `butter ${args.join(' ')}`);
    assert.match(r.stderr, stderr);
  }
});

test('doctor checks timerfd and signals for real: clocks, process-wide blocking, a queued signal', () => {
  const { status, report } = doctorJson();
  assert.equal(status, 0);
  const timer = family(report, 'timerfd');
  assert.match(timer.calls.find((c) => c.calls.includes('TimerFd.read')).detail, /expired and woke a read/);
  for (const clock of ['monotonic', 'realtime', 'boottime']) {
    assert.equal(timer.calls.find((c) => c.calls.includes(`TimerFd (${clock})`)).status, 'ok');
  }
  assert.equal(timer.facts.alarmClocks, isRoot, 'the alarm clocks work exactly when we hold CAP_WAKE_ALARM (root)');
  const signals = family(report, 'signals');
  assert.equal(signals.status, 'ok');
  assert.match(signals.calls.find((c) => c.calls.includes('SignalFd')).detail, /blocked in all \d+ threads/);
  assert.match(signals.calls.find((c) => c.calls.includes('sigqueue')).detail, /value 77/);
});

test('doctor as nobody: the alarm clocks are limited (EPERM), the rest of timerfd works', { skip: !canBecomeNobody && 'needs the privilege to run a child as nobody' }, () => {
  const { status, report } = doctorJson({ uid: NOBODY, gid: NOBODY });
  assert.equal(status, 0);
  const timer = family(report, 'timerfd');
  assert.equal(timer.status, 'limited');
  assert.match(timer.calls.find((c) => c.calls.includes('TimerFd (boottime_alarm)')).detail, /^EPERM/);
  assert.match(timer.fix, /CAP_WAKE_ALARM/);
});

test('doctor checks inotify with a real event and reports its limits', () => {
  const { report } = doctorJson();
  const ino = family(report, 'inotify');
  assert.notEqual(ino.status, 'unavailable');
  assert.match(ino.calls.find((c) => c.calls.includes('Inotify.read')).detail, /a create in a temporary directory arrived/);
  for (const name of ['max_user_watches', 'max_user_instances', 'max_queued_events']) {
    assert.equal(ino.facts[`fs.inotify.${name}`], Number(readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8')));
  }
});

test('doctor checks fanotify by creating (and closing) groups, marking nothing', () => {
  const { report } = doctorJson();
  const fan = family(report, 'fanotify');
  assert.equal(fan.status, isRoot ? 'ok' : 'limited');
  assert.equal(fan.calls.length, 3);
});
