// `butter fatrace`: fatrace's lines, letters, filters and exit codes, run as a
// user would (node bin/butter.js fatrace …).
//
// Safety, as in fanotify.test.mjs: no mark is ever placed on a filesystem or
// mount of this machine. Every run of `butter fatrace` (usage errors included)
// happens in a child that enters a new mount namespace (`unshare --mount
// --propagation private`), mounts a private tmpfs there, checks that it is a
// tmpfs in a namespace other than ours, and points butter at it (or runs in it,
// for the current-directory default). Each run has a time limit (-s) and the
// namespace child a kill timeout. The processes that make the events are node
// named `fatrace-actor` and `other-actor`, each naming itself through
// /proc/self/comm (the name of a path it was started by would not do: Node 24
// names its main thread MainThread); they stay alive until the test ends them,
// so butter can always read their name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nobodyUnavailable, NOBODY } from './support/nobody.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'butter.js');

function unshareUnavailable() {
  if (process.getuid() !== 0) return 'needs root (CAP_SYS_ADMIN) for fanotify marks and a private mount namespace';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 ? false : 'unshare --mount is not available here';
}
const noNamespace = unshareUnavailable();

/** An actor: waits for a line on stdin, runs OPS (with fs and mnt), says "done", exits when stdin ends. */
const ACTOR = `
const fs = require('node:fs');
fs.writeFileSync('/proc/self/comm', process.env.NAME);
const mnt = process.env.MNT;
let started = false;
process.stdin.setEncoding('utf8').on('data', () => {
  if (started) return;
  started = true;
  new Function('fs', 'mnt', process.env.OPS)(fs, mnt);
  process.stdout.write('done\\n');
});
process.stdin.on('end', () => process.exit(0));
`;

const PRELUDE = `
import fs from 'node:fs';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
const mnt = process.env.BUTTER_FAN_MNT;
const work = process.env.BUTTER_FAT_WORK;
const bin = process.env.BUTTER_BIN;
// Refuse to go on unless this is a mount namespace of our own with our tmpfs on mnt.
if (fs.readlinkSync('/proc/self/ns/mnt') === process.env.BUTTER_PARENT_MNTNS) throw new Error('not in a new mount namespace');
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0755', 'butter-fatrace-test', mnt]);
if (fs.statfsSync(mnt).type !== 0x01021994) throw new Error('not a tmpfs on ' + mnt);
const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\\n');
if (!mountinfo.some((l) => l.split(' ')[4] === mnt && l.includes(' - tmpfs butter-fatrace-test '))) throw new Error('tmpfs not found in mountinfo');
const result = { mnt };
const children = new Set();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(pred, what) {
  for (const end = Date.now() + 20_000; !pred(); await sleep(20)) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
  }
}
let runs = 0;
/** Starts butter fatrace with -o (unless out is null) and a 20 s limit unless args give one. */
function fatrace(args, { out = work + '/out-' + runs++, ...options } = {}) {
  const argv = [bin, 'fatrace', ...(out === null ? [] : ['-o', out]), ...(args.includes('-s') ? [] : ['-s', '20']), ...args];
  const child = spawn(process.execPath, argv, { cwd: mnt, ...options });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => { children.delete(child); resolve({ code, signal, stdout, stderr }); }));
  const text = () => (out !== null && fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : stdout);
  return {
    child, exited, text,
    get stderr() { return stderr; },
    lines: () => text().split('\\n').filter((l) => l !== ''),
    // fatrace's readiness: the output file is made once the marks are in place.
    ready: () => until(() => fs.existsSync(out), 'the output file'),
    stop: () => { child.kill('SIGTERM'); return exited; },
  };
}
/** Starts an actor named name that runs ops on go(). */
function actor(name, ops) {
  const child = spawn(process.execPath, ['-e', ${JSON.stringify(ACTOR)}], { env: { ...process.env, NAME: name, MNT: mnt, OPS: ops } });
  children.add(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  const closed = new Promise((resolve) => child.on('close', () => { children.delete(child); resolve(); }));
  return {
    pid: child.pid,
    go: async () => { child.stdin.write('go\\n'); await until(() => out === 'done\\n', name); },
    end: () => { child.stdin.end(); return closed; },
  };
}
`;

/** Runs `body` (async) in a child in a private mount namespace with a tmpfs on `mnt`; returns its `result`. */
function inNamespace(body) {
  const work = mkdtempSync(join(os.tmpdir(), 'butter-fatrace-'));
  // Readable by nobody (the EPERM test) on the way to the mount point.
  chmodSync(work, 0o755);
  mkdirSync(join(work, 'mnt'));
  try {
    const code = `${PRELUDE}\ntry {\n${body}\n} finally {\n  for (const c of children) c.kill('SIGKILL');\n  process.stdout.write(JSON.stringify(result));\n}\n`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, '--input-type=module', '-e', code], {
      env: { ...process.env, TZ: 'UTC', BUTTER_FAN_MNT: join(work, 'mnt'), BUTTER_FAT_WORK: work, BUTTER_BIN: bin, BUTTER_PARENT_MNTNS: readlinkSync('/proc/self/ns/mnt') },
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    assert.equal(r.status, 0, `child failed (${r.signal ?? r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    // The tmpfs lived only in the child's namespace: here mnt is still an empty directory.
    rmSync(work, { recursive: true, force: true });
  }
}

const LINE = /^(?:(\S+) )?(.+)\((\d+)\)(?: \[(\d+):(\d+)\])?: ([RCWO+D<>]+) (.+)$/;

/** Text lines as objects; every line must have fatrace's shape. */
function parseLines(lines) {
  return lines.map((l) => {
    const m = LINE.exec(l);
    assert.ok(m, `not a fatrace line: ${JSON.stringify(l)}`);
    return { time: m[1], comm: m[2], pid: Number(m[3]), uid: m[4], gid: m[5], types: m[6], path: m[7] };
  });
}

/** The letters a pid's events on each path had, merged (the kernel merges queued events of one object). */
function lettersByPath(events, pid) {
  const by = {};
  for (const e of events.filter((x) => x.pid === pid)) by[e.path] = [...new Set([...(by[e.path] ?? ''), ...e.types])].sort().join('');
  return by;
}
const sorted = (s) => [...s].sort().join('');

test('a mount: `comm(pid): TYPES path` for each access, SIGTERM exits 0, butter never reports itself', { skip: noNamespace }, () => {
  const r = inNamespace(`
    const f = fatrace([mnt]);
    await f.ready();
    const a = actor('fatrace-actor', "fs.writeFileSync(mnt + '/f', 'hello'); fs.readFileSync(mnt + '/f'); fs.readdirSync(mnt); fs.writeFileSync(mnt + '/.sync', '')");
    await a.go();
    await until(() => f.text().includes(mnt + '/.sync'), 'the sync line');
    result.exit = await f.stop();
    await a.end();
    result.lines = f.lines();
    result.actor = a.pid;
    result.self = f.child.pid;
  `);
  assert.deepEqual([r.exit.code, r.exit.signal, r.exit.stderr, r.exit.stdout], [0, null, '', ''], 'no overflow, nothing on stdout with -o');
  const events = parseLines(r.lines);
  assert.ok(!events.some((e) => e.pid === r.self), 'no event of butter itself');
  for (const e of events.filter((x) => x.pid === r.actor)) assert.equal(e.comm, 'fatrace-actor');
  const by = lettersByPath(events, r.actor);
  assert.equal(by[`${r.mnt}/f`], sorted('RCWO'));
  assert.equal(by[r.mnt], sorted('RCO'), 'a directory listed: open, read, close');
  assert.equal(by[`${r.mnt}/.sync`], sorted('CWO'));
  assert.deepEqual(Object.keys(by).sort(), [r.mnt, `${r.mnt}/.sync`, `${r.mnt}/f`].sort());
});

test('--filesystem: creations (+), deletions (D) and moves (< >) with the entry path; -t and -tt', { skip: noNamespace }, () => {
  const r = inNamespace(`
    const once = fatrace(['--filesystem', '-t', mnt]);
    const twice = fatrace(['--filesystem', '-tt', mnt]);
    await once.ready();
    await twice.ready();
    result.before = Date.now();
    const a = actor('fatrace-actor', [
      "fs.mkdirSync(mnt + '/d')",
      "fs.writeFileSync(mnt + '/d/a', 'x')",
      "fs.renameSync(mnt + '/d/a', mnt + '/d/b')",
      "fs.renameSync(mnt + '/d/b', mnt + '/c')",
      "fs.unlinkSync(mnt + '/c')",
      // Not d: the entries of a directory deleted before their events are read have no path left.
      "fs.mkdirSync(mnt + '/e')",
      "fs.rmdirSync(mnt + '/e')",
      "fs.writeFileSync(mnt + '/.sync', '')",
    ].join(';'));
    await a.go();
    await until(() => once.text().includes(mnt + '/.sync') && twice.text().includes(mnt + '/.sync'), 'the sync lines');
    result.after = Date.now();
    result.exits = [(await once.stop()).code, (await twice.stop()).code];
    await a.end();
    result.once = once.lines();
    result.twice = twice.lines();
    result.actor = a.pid;
  `);
  assert.deepEqual(r.exits, [0, 0]);
  const [once, twice] = [parseLines(r.once), parseLines(r.twice)];
  for (const events of [once, twice]) {
    assert.deepEqual(lettersByPath(events, r.actor), {
      [`${r.mnt}/d`]: '+',
      [`${r.mnt}/e`]: sorted('+D'),
      [`${r.mnt}/d/a`]: sorted('+CWO<'),
      [`${r.mnt}/d/b`]: sorted('<>'),
      [`${r.mnt}/c`]: sorted('>D'),
      [`${r.mnt}/.sync`]: sorted('+CWO'),
    });
  }
  for (const e of once) {
    assert.match(e.time, /^\d\d:\d\d:\d\d\.\d{6}$/);
    // TZ=UTC in the child: local time is the ISO time.
    const t = Date.parse(`${new Date(r.before).toISOString().slice(0, 11)}${e.time}Z`);
    assert.ok(Math.abs(t - r.before) < 60_000, e.time);
  }
  for (const e of twice) {
    assert.match(e.time, /^\d+\.\d{6}$/);
    const t = Number(e.time) * 1000;
    assert.ok(t >= r.before - 1000 && t <= r.after + 1000, `${e.time} within [${r.before}, ${r.after}] ms`);
  }
});

test('-f: only the types asked for (in the kernel mask, so merged events show no others)', { skip: noNamespace }, () => {
  const r = inNamespace(`
    fs.writeFileSync(mnt + '/old', 'x');
    const w = fatrace(['-f', 'W', mnt]);
    const d = fatrace(['--filesystem', '--filter=d', mnt]);
    await w.ready();
    await d.ready();
    // A file unlinked before its event is read would be named '… (deleted)': the sync for -f D is a directory.
    const a = actor('fatrace-actor', "fs.readFileSync(mnt + '/old'); fs.writeFileSync(mnt + '/new', 'x'); fs.unlinkSync(mnt + '/old'); fs.writeFileSync(mnt + '/.sync-w', ''); fs.mkdirSync(mnt + '/.sync-d'); fs.rmdirSync(mnt + '/.sync-d')");
    await a.go();
    await until(() => w.text().includes(mnt + '/.sync-w') && d.text().includes(mnt + '/.sync-d'), 'the sync lines');
    await w.stop();
    await d.stop();
    await a.end();
    result.w = w.lines();
    result.d = d.lines();
    result.actor = a.pid;
  `);
  const w = parseLines(r.w);
  for (const e of w) assert.match(e.types, /^C?W$/, 'W: modify and close_write only');
  assert.deepEqual(lettersByPath(w, r.actor), { [`${r.mnt}/new`]: 'CW', [`${r.mnt}/.sync-w`]: 'CW' });
  const d = parseLines(r.d);
  for (const e of d) assert.equal(e.types, 'D');
  assert.deepEqual(lettersByPath(d, r.actor), { [`${r.mnt}/old`]: 'D', [`${r.mnt}/.sync-d`]: 'D' });
});

test('-p ignores a pid (repeatable); -C keeps one command', { skip: noNamespace }, () => {
  const r = inNamespace(`
    const other = actor('other-actor', "fs.writeFileSync(mnt + '/by-other', 'x')");
    const p = fatrace(['-p', String(other.pid), '--ignore-pid', '1', mnt]);
    const c = fatrace(['-C', 'fatrace-actor', mnt]);
    await p.ready();
    await c.ready();
    await other.go();
    const a = actor('fatrace-actor', "fs.writeFileSync(mnt + '/by-actor', 'x'); fs.writeFileSync(mnt + '/.sync', '')");
    await a.go();
    await until(() => p.text().includes(mnt + '/.sync') && c.text().includes(mnt + '/.sync'), 'the sync lines');
    await p.stop();
    await c.stop();
    await Promise.all([other.end(), a.end()]);
    result.p = p.lines();
    result.c = c.lines();
    result.other = other.pid;
    result.actor = a.pid;
  `);
  const p = parseLines(r.p);
  assert.ok(!p.some((e) => e.pid === r.other || e.path.endsWith('/by-other')), 'the ignored pid');
  assert.ok(p.some((e) => e.pid === r.actor && e.path === `${r.mnt}/by-actor`));
  const c = parseLines(r.c);
  assert.ok(c.length >= 2);
  for (const e of c) assert.deepEqual([e.comm, e.pid], ['fatrace-actor', r.actor]);
});

test('--json lines (with -u: uid and gid); -u in text; -c is the current directory\'s mount', { skip: noNamespace }, () => {
  const r = inNamespace(`
    const j = fatrace(['--json', '-u', '-c']);
    const u = fatrace(['--user', mnt]);
    await j.ready();
    await u.ready();
    const a = actor('fatrace-actor', "fs.writeFileSync(mnt + '/f', 'x'); fs.writeFileSync(mnt + '/.sync', '')");
    await a.go();
    await until(() => j.text().includes(mnt + '/.sync') && u.text().includes(mnt + '/.sync'), 'the sync lines');
    await j.stop();
    await u.stop();
    await a.end();
    result.json = j.lines();
    result.user = u.lines();
    result.actor = a.pid;
  `);
  const records = r.json.map((l) => JSON.parse(l));
  for (const o of records) {
    assert.deepEqual(Object.keys(o), ['time', 'comm', 'pid', 'uid', 'gid', 'types', 'path', 'names']);
    assert.ok(Math.abs(Date.parse(o.time) - Date.now()) < 60_000, o.time);
    assert.match(o.types, /^[RCWO]+$/);
  }
  const mine = records.filter((o) => o.pid === r.actor && o.path === `${r.mnt}/f`);
  assert.ok(mine.length >= 1);
  for (const o of mine) {
    assert.deepEqual({ ...o, time: 0, types: 0, names: 0 }, { time: 0, comm: 'fatrace-actor', pid: r.actor, uid: 0, gid: 0, types: 0, path: `${r.mnt}/f`, names: 0 });
  }
  assert.deepEqual([...new Set(mine.flatMap((o) => o.names))].sort(), ['close_write', 'modify', 'open']);
  const user = parseLines(r.user).filter((e) => e.pid === r.actor);
  assert.ok(user.length >= 1);
  for (const e of user) assert.deepEqual([e.uid, e.gid], ['0', '0']);
});

test('-s exits 0 at the time limit; stdout without -o; SIGINT exits 0; -o refuses an existing file', { skip: noNamespace }, () => {
  const r = inNamespace(`
    const started = Date.now();
    result.limit = await fatrace(['-s', '1', mnt]).exited;
    result.elapsed = Date.now() - started;

    // No output file to say "ready": make events until one is printed.
    const s = fatrace([mnt], { out: null });
    for (let i = 0; !s.text().includes(mnt + '/.sync'); i++) {
      if (i > 500) throw new Error('no line on stdout');
      fs.writeFileSync(mnt + '/.sync', '');
      await sleep(20);
    }
    s.child.kill('SIGINT');
    result.sigint = await s.exited;
    result.comm = fs.readFileSync('/proc/self/comm', 'utf8').trim(); // node, or from Node 24 MainThread

    fs.writeFileSync(work + '/exists', 'keep');
    result.exists = await fatrace([mnt], { out: work + '/exists' }).exited;
    result.kept = fs.readFileSync(work + '/exists', 'utf8');
  `);
  assert.equal(r.limit.code, 0);
  assert.ok(r.elapsed >= 1000, `${r.elapsed} ms`);
  assert.equal(r.sigint.code, 0);
  assert.equal(r.sigint.stderr, '');
  assert.match(r.sigint.stdout, new RegExp(`^${r.comm}\\(\\d+\\): [CWO]+ ${r.mnt}/\\.sync$`, 'm'));
  assert.equal(r.exists.code, 2);
  assert.equal(r.exists.stderr, `butter fatrace: Failed to open output file ${dirname(r.mnt)}/exists: File already exists (EEXIST)\n`);
  assert.equal(r.kept, 'keep');
});

test('overflow: said on stderr, and as a record with --json', { skip: noNamespace }, () => {
  const r = inNamespace(`
    const f = fatrace(['--json', mnt]);
    await f.ready();
    // Stopped, it reads nothing while more events come than the kernel's queue (16,384) holds.
    f.child.kill('SIGSTOP');
    const a = actor('fatrace-actor', "for (let i = 0; i < 20000; i++) fs.writeFileSync(mnt + '/' + i, '')");
    await a.go();
    f.child.kill('SIGCONT');
    await until(() => f.stderr.includes('overflow'), 'the overflow');
    await f.stop();
    await a.end();
    result.stderr = f.stderr;
    result.overflows = f.lines().filter((l) => l.includes('"overflow"'));
  `);
  assert.equal(r.stderr, "butter fatrace: the kernel's event queue overflowed: events were lost\n");
  assert.equal(r.overflows.length, 1);
  const o = JSON.parse(r.overflows[0]);
  assert.deepEqual(Object.keys(o), ['overflow', 'time']);
  assert.equal(o.overflow, true);
});

test('without CAP_SYS_ADMIN: exit 2, the errno, and what is missing', { skip: noNamespace || nobodyUnavailable }, () => {
  const r = inNamespace(`
    const run = (args) => {
      const p = spawnSync(process.execPath, [bin, 'fatrace', '-s', '1', ...args], { uid: ${NOBODY}, gid: ${NOBODY}, encoding: 'utf8', timeout: 20_000 });
      return { code: p.status, stdout: p.stdout, stderr: p.stderr };
    };
    result.mount = run([mnt]);
    result.filesystem = run(['--filesystem', mnt]);
  `);
  const hint = 'butter fatrace: fanotify needs CAP_SYS_ADMIN for this (run it as root)\n';
  assert.deepEqual(r.mount, { code: 2, stdout: '', stderr: `butter fatrace: Cannot initialize fanotify: Operation not permitted (EPERM)\n${hint}` });
  // A FID group needs no privilege (Linux 5.13+); marking a whole filesystem does.
  assert.deepEqual(r.filesystem, { code: 2, stdout: '', stderr: `butter fatrace: Failed to add watch for ${r.mnt}: Operation not permitted (EPERM)\n${hint}` });
});

test('usage errors exit 1 with fatrace\'s words; a missing path exits 2; --help lists fatrace', { skip: noNamespace }, () => {
  const cases = [
    [['-f', 'X'], "Unknown --filter type 'X'"],
    [['-f', 'O+'], "--filter type '+' needs --filesystem: a mount mark reports no directory entry events"],
    [['-f', ''], '--filter needs at least one type'],
    [['-s', '0'], 'Invalid number of seconds'],
    [['-s', '1.5'], 'Invalid number of seconds'],
    [['-p', 'x'], 'Invalid PID'],
    [['-ttt'], '--timestamp option can be given at most two times'],
    [['-c', '.'], '--current-mount and a path cannot both be given'],
    [['.', '.'], 'only one path can be given'],
    [['--bogus'], "Unknown option '--bogus'"],
  ];
  const r = inNamespace(`
    const run = (args) => {
      // cwd is the tmpfs: were a case to pass, it would mark only that, for at most 2 s.
      const p = spawnSync(process.execPath, [bin, ...args], { cwd: mnt, encoding: 'utf8', timeout: 20_000 });
      return { code: p.status, stdout: p.stdout, stderr: p.stderr };
    };
    result.cases = ${JSON.stringify(cases.map(([args]) => args))}.map((args) => run(['fatrace', '-s', '2', ...args]));
    result.missing = run(['fatrace', '-s', '2', mnt + '/nope']);
    result.help = run(['--help']);
    result.own = run(['fatrace', '--help']);
  `);
  cases.forEach(([args, message], i) => {
    const got = r.cases[i];
    assert.equal(got.code, 1, args.join(' '));
    assert.equal(got.stdout, '');
    assert.ok(got.stderr.startsWith(`butter fatrace: ${message}`), got.stderr);
    assert.ok(got.stderr.endsWith('\n\nUsage: butter fatrace [options] [path]\n'), got.stderr);
  });
  assert.deepEqual(r.missing, { code: 2, stdout: '', stderr: `butter fatrace: Failed to add watch for ${r.mnt}/nope: No such file or directory (ENOENT)\n` });
  assert.match(r.help.stdout, /butter fatrace \[options\] \[path\]/);
  assert.equal(r.own.code, 0);
  assert.match(r.own.stdout, /-f, --filter <types>/);
});
