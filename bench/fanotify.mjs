// fanotify benchmarks (issue 5): events per second delivered to JS for an
// open/close churn and a create/write/close/unlink churn, with CPU per event and
// lag; and the latency a permission check adds to open(), against the same opens
// with no fanotify group. Butter's `Fanotify` against a C reference consumer
// (bench/fanotify_ref.c, compiled here with cc -O2: the floor), and fs.watch for
// context where inotify sees the churn at all. There is no fanotify package on
// npm to compare with (`npm view fanotify`, `node-fanotify`, `fanotify-node`:
// 404 when this was written).
//
//   node bench/fanotify.mjs [--parts churn,perm] [--churn 100000] [--churn-rounds 3]
//                           [--opens 10000] [--warmup 1000] [--warmup-ms 500] [--rounds 3]
//                           [--perm-cases none,c,butter,butter-await] [--placements split,same,free]
//                           [--node-args='--cpu-prof --cpu-prof-dir=DIR']   (for the Butter responders)
// BUTTER_BENCH_DUMP=DIR writes each permission case's raw samples (ns) to DIR.
//
// SAFETY. Nothing here marks a filesystem or mount of this machine. The script
// re-executes itself under `unshare --mount --propagation private`, mounts a
// private tmpfs on a fresh empty directory there, and every process that marks
// (Butter's consumers here, fanotify_ref) first checks that it is in a mount
// namespace other than the one the script started in and that the path is that
// tmpfs. The namespace and its tmpfs die with the inner process. Permission
// events are always answered: the C responder answers every one, Butter's
// responders call allow() (and Butter answers anything left at close() or after
// its 1 s deadline), and any responder that does not finish in time is killed,
// which closes its group and lets the kernel allow whatever still waits.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, median, quantile, max, table, printMachine, checkIdle, otherLoad, reportOtherLoad, track, forkRole, message as msg, killChildren } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const HERE = dirname(SELF);
const TMPFS_MAGIC = 0x01021994;
const SOURCE = 'butter-fanotify-bench';
const now = () => Number(process.hrtime.bigint()); // ns, CLOCK_MONOTONIC (as clock_gettime in fanotify_ref)

// ---------------------------------------------------------------- safety

/** Throws unless this process is in a mount namespace of its own with our tmpfs on `mnt`. */
function assertPrivate(mnt, parentNs) {
  if (!parentNs || fs.readlinkSync('/proc/self/ns/mnt') === parentNs) throw new Error('not in a private mount namespace: refusing to mark');
  if (fs.statfsSync(mnt).type !== TMPFS_MAGIC) throw new Error(`${mnt} is not a tmpfs: refusing to mark`);
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n');
  if (!lines.some((l) => l.split(' ')[4] === mnt && l.includes(` - tmpfs ${SOURCE} `))) throw new Error(`our tmpfs is not mounted on ${mnt}: refusing to mark`);
}

// ---------------------------------------------------------------- child: Butter churn consumer

async function churnConsumer(o) {
  const { kind, mnt, dir, parentNs } = o;
  const expected = Number(o.expected);
  let records = 0;
  let bits = 0;
  let nopath = 0;
  let overflow = 0;
  let last = 0;
  const kinds = {};
  let w;
  if (kind === 'fswatch') {
    w = fs.watch(dir, (type, name) => {
      records++;
      bits++;
      kinds[type] = (kinds[type] || 0) + 1;
      if (!name) nopath++;
      last = now();
    });
  } else {
    const { Fanotify } = await import('butter');
    assertPrivate(mnt, parentNs);
    if (kind === 'butter-fd') {
      w = new Fanotify({ unlimitedQueue: true });
      w.mark(mnt, { mount: true, events: ['open', 'close_write', 'close_nowrite'] });
    } else {
      w = new Fanotify({ report: ['dfid_name'], unlimitedQueue: true });
      w.mark(mnt, { filesystem: true, events: ['create', 'delete'] });
    }
    w.on('event', (ev) => {
      records++;
      if (ev.overflow) { overflow++; return; }
      bits += ev.names.length; // the decoded mask, touched
      for (const k of ev.names) kinds[k] = (kinds[k] || 0) + 1;
      if (ev.path === null) nopath++;
      last = now();
    });
  }
  process.send({ type: 'ready' });
  let cpu0;
  let writerEnd = 0;
  await new Promise((resolve) => {
    process.on('message', (m) => {
      if (m.cmd === 'go') cpu0 = process.cpuUsage();
      else if (m.cmd === 'writer-done') {
        writerEnd = m.end;
        const iv = setInterval(() => {
          if (bits >= expected || (now() - Math.max(last, writerEnd)) / 1e6 > 1000) { clearInterval(iv); resolve(); }
        }, 10);
      }
    });
  });
  const cpu = process.cpuUsage(cpu0);
  process.send({ type: 'result', records, bits, nopath, overflow, kinds, cpuUs: cpu.user + cpu.system, last, maxRss: process.resourceUsage().maxRSS * 1024 });
  w.close();
  setTimeout(() => process.exit(0), 20);
}

// ---------------------------------------------------------------- child: Butter permission responder

async function permResponder(o) {
  const { mode, mnt, parentNs } = o;
  const { Fanotify } = await import('butter');
  assertPrivate(mnt, parentNs);
  const fan = new Fanotify({ permission: true });
  fan.mark(mnt, { mount: true, events: ['open_perm'] });
  let n = 0;
  let n0 = 0;
  let bad = 0;
  let cpu0 = process.cpuUsage();
  let finished = false;
  // The opener opens DIR/start before its timed opens and DIR/stop after them.
  const handle = (ev) => {
    if (!ev.permission || ev.path === null) bad++;
    ev.allow();
    n++;
    if (ev.path?.endsWith('/start')) {
      cpu0 = process.cpuUsage();
      n0 = n;
    } else if (ev.path?.endsWith('/stop')) {
      finished = true;
      const cpu = process.cpuUsage(cpu0);
      fan.close(); // answers anything still pending (nothing should be)
      process.send({ type: 'result', answered: n, timed: n - n0 - 1, bad, cpuUs: cpu.user + cpu.system }, () => process.exit(0));
    }
  };
  if (mode === 'listener') {
    fan.on('event', handle);
    process.send({ type: 'ready' });
  } else {
    process.send({ type: 'ready' });
    for await (const ev of fan) {
      handle(ev);
      if (finished) break;
    }
  }
}

// ---------------------------------------------------------------- inner: in the private namespace

/** A Node child (IPC) of this file in role `args.role`. */
const spawnNode = (args, execArgv = []) => forkRole(SELF, args, args.role, execArgv);

/** fanotify_ref in `mode`; `c.line(pred)` resolves with the first stdout line matching. */
function spawnRef(exe, args) {
  const c = track(spawn(exe, args, { stdio: ['pipe', 'pipe', 'inherit'] }), `fanotify_ref ${args[0]}`);
  c.lines = [];
  c.lineWaiters = [];
  let buf = '';
  c.stdout.setEncoding('utf8');
  c.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = c.lineWaiters.findIndex((x) => x.pred(line));
      if (w >= 0) c.lineWaiters.splice(w, 1)[0].resolve(line);
      else c.lines.push(line);
    }
  });
  c.exited.then((code) => { for (const w of c.lineWaiters.splice(0)) w.reject(new Error(`fanotify_ref ${args[0]} exited (${code})`)); });
  c.line = (pred, timeoutMs = 60000) => {
    const i = c.lines.findIndex(pred);
    if (i >= 0) return Promise.resolve(c.lines.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`fanotify_ref ${args[0]}: timeout`)), timeoutMs);
      c.lineWaiters.push({ pred, resolve: (l) => { clearTimeout(t); resolve(l); }, reject: (e) => { clearTimeout(t); reject(e); } });
    });
  };
  return c;
}

/** Runs fanotify_ref to completion (no fanotify group: writer, opener, mkfiles); stdout as a string. */
function runRef(exe, args, cpu) {
  const cmd = cpu === undefined ? exe : 'taskset';
  const argv = cpu === undefined ? args : ['-c', String(cpu), exe, ...args];
  return new Promise((resolve, reject) => {
    const c = track(spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] }), `fanotify_ref ${args[0]}`);
    let out = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d) => (out += d));
    const t = setTimeout(() => { c.kill('SIGKILL'); reject(new Error(`fanotify_ref ${args[0]}: timeout`)); }, 120000);
    c.exited.then((code) => { clearTimeout(t); code === 0 ? resolve(out) : reject(new Error(`fanotify_ref ${args[0]} exited ${code}`)); });
  });
}

function pin(pid, cpu) {
  if (cpu === undefined) return;
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

function killAll() {
  killChildren();
}

const NAMES = {
  'butter-fd': 'Butter Fanotify (fd events, mount mark)',
  'butter-fid': "Butter Fanotify({ report: ['dfid_name'] }) (filesystem mark)",
  'c-fd': 'C reference (fd events, mount mark)',
  'c-fid': 'C reference (DFID_NAME, filesystem mark)',
  fswatch: 'fs.watch (inotify) on the directory',
};

async function churnCase(o, kind, variant, dir, n) {
  const expected = kind === 'fswatch' ? 3 * n : 2 * n;
  let c;
  if (kind.startsWith('c-')) {
    c = spawnRef(o.exe, ['reader', o.mnt, o.parentNs, kind === 'c-fd' ? 'fd' : 'fid', String(expected)]);
    await c.line((l) => l === 'ready');
  } else {
    c = spawnNode({ role: 'churn', kind, mnt: o.mnt, dir, parentNs: o.parentNs, expected });
    await msg(c, 'ready');
    c.send({ cmd: 'go' });
  }
  const [start, end] = (await runRef(o.exe, ['writer', dir, String(n), variant])).trim().split(' ').map(Number);
  let res;
  if (kind.startsWith('c-')) {
    c.stdin.end('done\n');
    res = JSON.parse(await c.line((l) => l.startsWith('{'), 120000));
  } else {
    c.send({ cmd: 'writer-done', end });
    res = await msg(c, 'result', 120000);
  }
  await c.exited;
  return { ...res, expected, start, end, lagMs: Math.max(0, res.last - end) / 1e6, writerMs: (end - start) / 1e6, spanS: (Math.max(res.last, end) - start) / 1e9 };
}

async function churn(o, n, rounds) {
  const variants = [
    { variant: 'open', title: `open + close of ${n.toLocaleString('en-US')} pre-created files`, kinds: ['butter-fd', 'c-fd'],
      note: 'expected per file: open, close_nowrite (2 event bits; the kernel may merge them into one record). fs.watch sees no opens or closes.' },
    { variant: 'create', title: `create + write 1 byte + close ${n.toLocaleString('en-US')} new files, then unlink them all`, kinds: ['butter-fd', 'c-fd', 'butter-fid', 'c-fid', 'fswatch'],
      note: 'expected per file: fd groups open, close_write; DFID_NAME groups create, delete; fs.watch rename, change, rename.' },
  ];
  const openDir = join(o.mnt, 'open-files');
  fs.mkdirSync(openDir);
  await runRef(o.exe, ['mkfiles', openDir, String(n)]);
  for (const v of variants) {
    console.log(`## churn: ${v.title} (C writer, as fast as it can; ${rounds} rounds, interleaved)\n`);
    console.log(`${v.note}\n`);
    const res = Object.fromEntries(v.kinds.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 ? [...v.kinds].reverse() : v.kinds) {
        const dir = v.variant === 'open' ? openDir : fs.mkdtempSync(join(o.mnt, 'create-'));
        res[k].push(await churnCase(o, k, v.variant, dir, n));
        if (v.variant !== 'open') fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    const cpuPer = (x) => x.cpuUs / Math.max(1, x.records);
    const rate = (x) => x.records / x.spanS;
    const floorOf = (k) => (k.endsWith('fid') ? 'c-fid' : 'c-fd');
    const rows = v.kinds.map((k) => {
      const xs = res[k];
      const mid = xs.slice().sort((a, b) => cpuPer(a) - cpuPer(b))[Math.floor(xs.length / 2)];
      const lost = xs.reduce((s, x) => s + Math.max(0, x.expected - x.bits), 0);
      const perRound = xs.map((x, i) => (res[floorOf(k)] && k !== 'fswatch' ? (cpuPer(x) / cpuPer(res[floorOf(k)][i])).toFixed(2) : '')).filter(Boolean);
      return [
        NAMES[k], `${fmt(median(xs.map((x) => x.bits)), 0)}/${fmt(xs[0].expected, 0)}`, lost ? `${lost} lost` : 'all',
        fmt(median(xs.map((x) => x.records)), 0), fmt(median(xs.map(rate)), 0), fmt(median(xs.map(cpuPer)), 2),
        xs.map((x) => fmt(cpuPer(x), 2)).join(', '),
        perRound.length ? `${fmt(median(perRound.map(Number)), 2)}x (${perRound.join(', ')})` : '',
        fmt(median(xs.map((x) => x.lagMs)), 0), fmt(median(xs.map((x) => x.writerMs)), 0), mid.nopath ? String(mid.nopath) : '0',
      ];
    });
    console.log(table(['consumer', 'event bits (median)/expected', 'all rounds', 'records (median)', 'records/s', 'CPU µs/record', 'per round',
      'CPU vs C (same round)', 'lag ms', 'writer ms', 'no path'], rows, ['l', 'r', 'l', 'r', 'r', 'r', 'l', 'l', 'r', 'r', 'r']));
    console.log();
  }
  fs.rmSync(openDir, { recursive: true, force: true });
}

const PERM_NAMES = {
  none: 'no fanotify group',
  c: 'C reference responder (blocking read, readlink, write allow, close)',
  butter: "Butter Fanotify({ permission: true }), 'event' listener, ev.allow()",
  'butter-await': 'Butter Fanotify({ permission: true }), for await, ev.allow()',
};

async function permCase(o, kase, dir, files, placement) {
  const cpuR = placement === 'split' ? 0 : placement === 'same' ? 0 : undefined;
  const cpuO = placement === 'split' ? 1 : placement === 'same' ? 0 : undefined;
  let c = null;
  if (kase === 'c') {
    c = spawnRef(o.exe, ['responder', o.mnt, o.parentNs]);
    await c.line((l) => l === 'ready');
  } else if (kase !== 'none') {
    const execArgv = o.nodeArgs ? o.nodeArgs.split(' ').filter(Boolean) : [];
    c = spawnNode({ role: 'perm', mode: kase === 'butter' ? 'listener' : 'await', mnt: o.mnt, parentNs: o.parentNs }, execArgv);
    await msg(c, 'ready');
    await new Promise((r) => setTimeout(r, 50)); // for await: let the first next() arm the watch
  }
  if (c) pin(c.pid, cpuR);
  let out;
  try {
    out = await runRef(o.exe, ['opener', dir, String(files), String(o.opens), String(o.warmup), String(o.warmupMs)], cpuO);
  } catch (e) {
    if (c) c.kill('SIGKILL'); // releases any open() still waiting
    throw e;
  }
  const samples = Float64Array.from(out.trim().split('\n'), (l) => Number(l) / 1e3); // µs
  if (process.env.BUTTER_BENCH_DUMP) fs.writeFileSync(join(process.env.BUTTER_BENCH_DUMP, `${kase}-${placement}-${Date.now()}.txt`), out);
  let res = { cpuUs: NaN, answered: 0 };
  if (kase === 'c') res = JSON.parse(await c.line((l) => l.startsWith('{'), 30000));
  else if (c) res = await msg(c, 'result', 30000);
  if (c) {
    const t = setTimeout(() => c.kill('SIGKILL'), 10000);
    await c.exited;
    clearTimeout(t);
  }
  return { samples, cpuPer: res.cpuUs / res.timed, answered: res.answered, timed: res.timed, bad: res.bad ?? 0 };
}

async function perm(o, cases, placements, rounds) {
  const dir = join(o.mnt, 'perm-files');
  fs.mkdirSync(dir);
  const files = 100;
  await runRef(o.exe, ['mkfiles', dir, String(files)]);
  fs.writeFileSync(join(dir, 'start'), '');
  fs.writeFileSync(join(dir, 'stop'), '');
  for (const placement of placements) {
    const where = { free: 'unpinned', split: 'responder on CPU 0, opener on CPU 1', same: 'responder and opener both on CPU 0' }[placement];
    console.log(`## permission: open() + close() time in the opener (C), ${rounds} rounds × ${o.opens.toLocaleString('en-US')} opens (after a warm-up of ≥ ${o.warmup} opens and ≥ ${o.warmupMs} ms), ${placement} (${where})\n`);
    const res = Object.fromEntries(cases.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) for (const k of r % 2 ? [...cases].reverse() : cases) res[k].push(await permCase(o, k, dir, files, placement));
    const all = (k) => res[k].flatMap((x) => Array.from(x.samples));
    const base99 = quantile(all('none'), 0.99);
    const base50 = quantile(all('none'), 0.5);
    const rows = cases.map((k) => {
      const s = all(k);
      const p50 = quantile(s, 0.5);
      const p99 = quantile(s, 0.99);
      const paired = res[k].map((x, i) => quantile(x.samples, 0.99) - quantile(res.none[i].samples, 0.99));
      const answered = res[k].reduce((a, x) => a + x.timed, 0);
      return [PERM_NAMES[k], fmt(p50, 1), fmt(p99, 1), fmt(max(s), 0), res[k].map((x) => fmt(quantile(x.samples, 0.99), 1)).join(', '),
        k === 'none' ? '' : fmt(p50 - base50, 1), k === 'none' ? '' : fmt(p99 - base99, 1),
        k === 'none' ? '' : `${fmt(median(paired), 1)} (${paired.map((v) => fmt(v, 1)).join(', ')})`,
        k === 'none' ? '' : fmt(median(res[k].map((x) => x.cpuPer)), 1), k === 'none' ? '' : `${answered}${res[k].some((x) => x.bad) ? ' (BAD events!)' : ''}`];
    });
    console.log(table(['case', 'p50 µs', 'p99 µs', 'max µs', 'p99 per round', 'added p50', 'added p99', 'added p99 per round: median (rounds)', 'responder CPU µs/decision', 'timed decisions'], rows,
      ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'l', 'r', 'r']));
    for (const k of cases.filter((k) => k.startsWith('butter'))) {
      const added = quantile(all(k), 0.99) - base99;
      console.log(`${PERM_NAMES[k]}: added p99 ${fmt(added, 1)} µs (target ≤ 25 µs: ${added <= 25 ? 'met' : 'NOT met'}); vs C responder's ${fmt(quantile(all('c'), 0.99) - base99, 1)} µs`);
    }
    console.log();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

async function inner(o) {
  // 1. Our own mount namespace (unshare made it), checked against the parent's.
  if (fs.readlinkSync('/proc/self/ns/mnt') === o.parentNs) throw new Error('not in a new mount namespace');
  // 2. A private tmpfs on the fresh empty directory, checked before any mark.
  if (fs.readdirSync(o.mnt).length !== 0) throw new Error(`${o.mnt} is not empty`);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1g,mode=0755', SOURCE, o.mnt]);
  assertPrivate(o.mnt, o.parentNs);
  process.on('exit', killAll);
  console.log(`Private tmpfs ${o.mnt} in mount namespace ${fs.readlinkSync('/proc/self/ns/mnt')} (ours: ${o.parentNs}).\n`);
  const parts = o.parts.split(',');
  if (parts.includes('churn')) for (const n of o.churn.split(',').map(Number)) await churn(o, n, o.churnRounds);
  if (parts.includes('perm')) await perm(o, o.permCases.split(','), o.placements.split(','), o.rounds);
}

// ---------------------------------------------------------------- main

async function main() {
  const { values: a } = parseArgs({
    options: {
      parts: { type: 'string', default: 'churn,perm' },
      churn: { type: 'string', default: '100000' },
      'churn-rounds': { type: 'string', default: '3' },
      opens: { type: 'string', default: '10000' },
      warmup: { type: 'string', default: '1000' },
      'warmup-ms': { type: 'string', default: '500' },
      rounds: { type: 'string', default: '3' },
      'perm-cases': { type: 'string', default: 'none,c,butter,butter-await' },
      placements: { type: 'string', default: 'split,same,free' },
      'node-args': { type: 'string' },
    },
  });
  if (process.getuid() !== 0) { console.error('bench/fanotify.mjs needs root (fanotify groups and a private mount namespace)'); process.exit(1); }
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore' });
  if (probe.status !== 0) { console.error('bench/fanotify.mjs needs unshare --mount (util-linux)'); process.exit(1); }
  const tmp = fs.mkdtempSync(join(tmpdir(), 'butter-bench-fanotify-'));
  const exe = join(tmp, 'fanotify_ref');
  const mnt = join(tmp, 'mnt');
  fs.mkdirSync(mnt);
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  try {
    execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', exe, join(HERE, 'fanotify_ref.c')], { stdio: 'inherit' });
  } catch (err) {
    console.error(`bench/fanotify.mjs needs a C compiler (cc, or $CC) to build bench/fanotify_ref.c: ${err.message}`);
    cleanup();
    process.exit(1);
  }
  printMachine('fanotify: events to JS, and permission-check latency');
  console.log('No fanotify package on npm to compare with (npm view fanotify / node-fanotify / fanotify-node: 404).');
  await checkIdle();
  const load = otherLoad();
  const t0 = Date.now();
  const o = {
    role: 'inner', parentNs: fs.readlinkSync('/proc/self/ns/mnt'), mnt, exe, parts: a.parts, churn: a.churn, churnRounds: Number(a['churn-rounds']),
    opens: Number(a.opens), warmup: Number(a.warmup), warmupMs: Number(a['warmup-ms']), rounds: Number(a.rounds), permCases: a['perm-cases'], placements: a.placements, nodeArgs: a['node-args'],
  };
  const child = spawn('unshare', ['--mount', '--propagation', 'private', process.execPath, SELF, '--child', JSON.stringify(o)], { stdio: 'inherit' });
  const forward = (s) => () => child.kill(s);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));
  // The tmpfs lived only in the inner namespace: here mnt is still the empty directory.
  cleanup();
  console.log(`Total ${fmt((Date.now() - t0) / 1000, 0)} s.`);
  reportOtherLoad(load());
  if (code !== 0) { console.error(`inner run failed (${code})`); process.exit(1); }
}

const role = process.argv[2] === '--child' ? JSON.parse(process.argv[3]) : {};
if (role.role && role.role !== 'inner') process.on('disconnect', () => process.exit(1)); // the parent is gone: do not linger
if (role.role === 'churn') churnConsumer(role).catch((e) => { console.error(e); process.exit(1); });
else if (role.role === 'perm') permResponder(role).catch((e) => { console.error(e); process.exit(1); });
else if (role.role === 'inner') inner(role).catch((e) => { console.error(e); killAll(); process.exit(1); });
else main().catch((e) => { console.error(e); process.exit(1); });
