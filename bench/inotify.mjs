// File-watching benchmarks: Butter's Inotify / watch() against Node's fs.watch,
// @parcel/watcher and chokidar, in the same run, on tmpfs, with the writer in a
// separate child process and every watcher in a child process of its own (so its
// CPU time and RSS are its own).
//
//   node bench/inotify.mjs [--parts churn,stall,tree,latency] [--churn 10000,100000]
//                          [--watchers butter,fswatch,parcel,chokidar] [--stall 100000]
//                          [--stall-ms 1000] [--gap-ms 200] [--tree-rounds 3]
//                          [--lat-events 125] [--lat-rounds 4] [--lat-warmup 2000]
//
// The `inotify` npm package is not measured: its published version no longer
// compiles on Node 20.
//
// Parts:
//   churn    N files in one directory: create all (empty), append one byte to each,
//            delete all. Expected per file: create, modify, delete (see KINDS).
//   stall    N empty files created while the consumer's event loop is blocked
//            (busy wait, at least --stall-ms and until the writer is done).
//   tree     1,111 directories (10x10x10 + 100 + 10 + root) with 10,000 files; time
//            until the watch is ready, memory, inotify watches, and files seen in 100
//            new directories each filled with 5 files right after its mkdir.
//   latency  one write (to a distinct pre-created file) every ~2 ms; time from just
//            before the write() to the watcher's callback, CLOCK_MONOTONIC in both.
//            First --lat-warmup untimed writes ~0.3 ms apart to 100 other files, so
//            each watcher is measured as it runs once its code is compiled for the
//            names it sees (--lat-warmup 0: cold).
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, median, quantile, ratio, table, printMachine, checkIdle, otherLoad, reportOtherLoad, forkRole, message as msg, killChildren } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const now = () => Number(process.hrtime.bigint()); // ns, CLOCK_MONOTONIC (shared by all processes)
/** The latency warm-up's files (`w0`...), written in turn. */
const WARM_FILES = 100;

/** What each watcher reports for create / append / delete of a file, and how many per file. */
const KINDS = {
  butter: { create: 1, modify: 1, delete: 1 },   // Inotify, mask create|modify|delete (also butter-coalesce<ms>)
  fswatch: { rename: 2, change: 1 },             // create and unlink are both 'rename'
  parcel: { create: 1, update: 1, delete: 1 },
  chokidar: { add: 1, change: 1, unlink: 1 },
};
const NAMES = {
  butter: 'Butter Inotify',
  'butter-buffer': 'Butter Inotify({ buffer: 64 MiB })',
  'butter-coalesce0': 'Butter Inotify({ coalesce: 0 })',
  'butter-coalesce1': 'Butter Inotify({ coalesce: 1 })',
  'butter-coalesce2': 'Butter Inotify({ coalesce: 2 })',
  'butter-watch': 'Butter watch()',
  fswatch: 'fs.watch',
  parcel: '@parcel/watcher 2.6.0',
  chokidar: 'chokidar 5.0.0',
};

// ---------------------------------------------------------------- child: consumer

function kernelWatches() {
  // inotify watches held by this process, from /proc/self/fdinfo (any library's).
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue;
      n += fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    } catch {}
  }
  return n;
}

async function consumer(o) {
  const { part, watcher, dir } = o;
  const n = Number(o.n);
  const send = (m) => process.send(m);
  let count = 0;
  let last = 0;
  let overflows = 0;
  let rescanCreated = 0;
  const kinds = {};
  const hit = (k) => {
    count++;
    kinds[k] = (kinds[k] || 0) + 1;
    last = now();
  };
  // tree: the files expected in new directories, seen by full path
  const expectSet = new Set();
  const seen = new Set();
  if (part === 'tree') for (const f of treeNewFiles(dir)) expectSet.add(f);
  const seePath = (p) => {
    last = now();
    count++;
    if (expectSet.has(p)) seen.add(p);
  };
  // latency: first modify per file name
  const times = {};
  const stamp = (name) => {
    if (name != null && times[name] === undefined) times[name] = now();
  };

  let onEvent;
  if (part === 'churn') onEvent = hit;
  else if (part === 'stall') onEvent = hit;

  // Load the library before the clock starts: ready time is the watch set-up only.
  const mods = {
    butter: watcher.startsWith('butter') ? await import('butter') : null,
    parcel: watcher === 'parcel' ? (await import('@parcel/watcher')).default : null,
    chokidar: watcher === 'chokidar' ? (await import('chokidar')).default : null,
  };
  const t0 = now();
  let w;
  let butterWatches = () => NaN;
  const coalesce = /^butter-coalesce(\d+)$/.exec(watcher);
  if (watcher === 'butter' || watcher === 'butter-buffer' || coalesce) {
    const { Inotify } = mods.butter;
    w = new Inotify(watcher === 'butter-buffer' ? { buffer: 64 * 1024 * 1024 } : coalesce ? { coalesce: Number(coalesce[1]) } : undefined);
    const events = part === 'churn' ? ['create', 'modify', 'delete'] : part === 'stall' ? ['create'] : ['modify'];
    w.add(dir, events);
    w.on('event', (ev) => {
      if (ev.type === 'overflow') { overflows++; last = now(); return; }
      if (part === 'latency') return stamp(ev.name);
      if (ev.path !== null && ev.names.length > 0) onEvent(ev.type); // full path and decoded mask, touched
    });
  } else if (watcher === 'butter-watch') {
    const { watch } = mods.butter;
    w = watch(dir, { recursive: part === 'tree', events: part === 'tree' ? undefined : ['create'] });
    w.on('event', (ev) => {
      if (ev.type === 'overflow') {
        overflows++;
        rescanCreated += ev.changes?.created?.length ?? 0;
        if (part === 'tree') for (const p of ev.changes?.created ?? []) seePath(p);
        last = now();
        return;
      }
      if (part === 'tree') { if (ev.type === 'create') seePath(ev.path); else { count++; last = now(); } }
      else onEvent(ev.type);
    });
    await w.ready;
    butterWatches = () => w.inotify.watches().length;
  } else if (watcher === 'fswatch') {
    if (part === 'tree') {
      w = fs.watch(dir, { recursive: true }, (type, name) => { if (name) seePath(join(dir, name)); });
    } else {
      w = fs.watch(dir, (type, name) => {
        if (part === 'latency') { if (type === 'change') stamp(name); return; }
        if (name) onEvent(type);
      });
    }
  } else if (watcher === 'parcel') {
    const parcel = mods.parcel;
    const sub = await parcel.subscribe(dir, (err, events) => {
      if (err) return;
      for (const e of events) {
        if (part === 'tree') { if (e.type === 'create') seePath(e.path); else { count++; last = now(); } }
        else onEvent(e.type);
      }
    });
    w = { close: () => sub.unsubscribe() };
  } else if (watcher === 'chokidar') {
    const chokidar = mods.chokidar;
    w = chokidar.watch(dir, { ignoreInitial: true, depth: part === 'tree' ? undefined : 0 });
    await new Promise((r) => w.once('ready', r));
    w.on('all', (type, p) => {
      if (part === 'tree') { if (type === 'add') seePath(p); else { count++; last = now(); } }
      else if (type === 'add' || type === 'change' || type === 'unlink') onEvent(type);
    });
  }
  const readyMs = (now() - t0) / 1e6;
  const mem = process.memoryUsage();
  send({ type: 'ready', readyMs, rss: mem.rss, heap: mem.heapUsed, watches: kernelWatches(), butterWatches: butterWatches() });

  let cpu0;
  let writerEnd = 0;
  await new Promise((resolve) => {
    process.on('message', (m) => {
      if (m.cmd === 'go') {
        cpu0 = process.cpuUsage();
        if (part === 'stall') {
          // Block the event loop: at least stallMs, and until the writer is done.
          const t = now();
          const marker = `${dir}.done`;
          while (now() - t < Number(o.stallMs) * 1e6 || (!fs.existsSync(marker) && now() - t < 30e9));
          send({ type: 'unblocked', blockedMs: (now() - t) / 1e6 });
          cpu0 = process.cpuUsage(); // from here: draining the full queue
        }
      } else if (m.cmd === 'writer-done') {
        writerEnd = m.end;
        // Done when everything expected came, or nothing came for `idle` ms.
        const idle = part === 'tree' ? 1500 : 1000;
        const expected = part === 'churn' ? 3 * n : part === 'stall' ? n : part === 'tree' ? expectSet.size : n;
        const done = () => {
          const got = part === 'tree' ? seen.size : part === 'latency' ? Object.keys(times).filter((k) => k[0] === 'l').length : count;
          const quiet = (now() - Math.max(last, writerEnd)) / 1e6 > idle;
          return got >= expected ? 'all' : quiet ? 'quiet' : null;
        };
        const iv = setInterval(() => {
          const why = done();
          if (why) { clearInterval(iv); resolve(why); }
        }, 20);
      }
    });
  });
  const cpu = process.cpuUsage(cpu0);
  const mem2 = process.memoryUsage();
  send({
    type: 'result', count, kinds, lagMs: (last - writerEnd) / 1e6, cpuUs: cpu.user + cpu.system, cpuUserUs: cpu.user,
    maxRss: process.resourceUsage().maxRSS * 1024, rss: mem2.rss, overflows, rescanCreated,
    seen: seen.size, expectedSeen: expectSet.size, times, watches: kernelWatches(), butterWatches: butterWatches(),
  });
  w.close();
  setTimeout(() => process.exit(0), 50);
}

// ---------------------------------------------------------------- child: writer

function treeNewFiles(root) {
  const out = [];
  for (let i = 0; i < 100; i++) {
    const d = join(root, `a${i % 10}`, `b${Math.floor(i / 10)}`, `new${i}`);
    for (let j = 0; j < 5; j++) out.push(join(d, `f${j}`));
  }
  return out;
}

function writer(o) {
  const { part, dir } = o;
  const n = Number(o.n);
  const start = now();
  if (part === 'churn') {
    const names = Array.from({ length: n }, (_, i) => join(dir, `f${i}`));
    const gap = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(o.gapMs));
    for (const p of names) fs.closeSync(fs.openSync(p, 'wx'));   // create (no modify: empty)
    gap();
    for (const p of names) fs.appendFileSync(p, 'x');            // modify
    gap();
    for (const p of names) fs.unlinkSync(p);                     // delete
  } else if (part === 'stall') {
    for (let i = 0; i < n; i++) fs.closeSync(fs.openSync(join(dir, `f${i}`), 'wx'));
    fs.writeFileSync(`${dir}.done`, '');
  } else if (part === 'tree') {
    const files = treeNewFiles(dir);
    for (let i = 0; i < 100; i++) {
      fs.mkdirSync(join(dir, `a${i % 10}`, `b${Math.floor(i / 10)}`, `new${i}`));
      for (let j = 0; j < 5; j++) fs.writeFileSync(files[i * 5 + j], 'x');
    }
  } else if (part === 'latency') {
    const fds = Array.from({ length: n }, (_, i) => fs.openSync(join(dir, `l${i}`), 'r+'));
    const stamps = [];
    const sab = new Int32Array(new SharedArrayBuffer(4));
    const buf = Buffer.from('x');
    // Warm-up, not timed: one event at a time (~0.3 ms apart), so the consumer's
    // single-event path is compiled as it is in a watcher that has run a while.
    // Over many names, as such a watcher sees: code compiled for one name only
    // would be thrown away (deoptimized) at the first timed event.
    const warmFds = Array.from({ length: WARM_FILES }, (_, i) => fs.openSync(join(dir, `w${i}`), 'w'));
    for (let i = 0; i < Number(o.latWarmup ?? 0); i++) {
      Atomics.wait(sab, 0, 0, 0.3);
      fs.writeSync(warmFds[i % WARM_FILES], buf, 0, 1, 0);
    }
    for (const fd of warmFds) fs.closeSync(fd);
    Atomics.wait(sab, 0, 0, 50);
    for (let i = 0; i < n; i++) {
      Atomics.wait(sab, 0, 0, 2 + Math.random()); // ~2-3 ms apart: one event at a time
      stamps.push(now());
      fs.writeSync(fds[i], buf, 0, 1, 0);
    }
    for (const fd of fds) fs.closeSync(fd);
    process.send({ type: 'done', start, end: now(), stamps }, () => process.exit(0));
    return;
  }
  process.send({ type: 'done', start, end: now() }, () => process.exit(0));
}

// ---------------------------------------------------------------- main

const spawnRole = (args) => forkRole(SELF, args, `${args.role} ${args.watcher ?? ''}`.trim());

let base;
function cleanup() {
  killChildren();
  if (base) fs.rmSync(base, { recursive: true, force: true });
}

async function runCase(part, watcher, n, extra = {}, prepare = () => {}, writerExtra = {}) {
  const dir = fs.mkdtempSync(join(base, `${part}-`));
  prepare(dir);
  const c = spawnRole({ role: 'consumer', part, watcher, dir, n, ...extra });
  const ready = await msg(c, 'ready', 120000);
  c.send({ cmd: 'go' });
  const wr = spawnRole({ role: 'writer', part, dir, n, ...writerExtra });
  const done = await msg(wr, 'done', 120000);
  let unblocked;
  if (part === 'stall') unblocked = await msg(c, 'unblocked', 120000);
  c.send({ cmd: 'writer-done', end: done.end });
  const res = await msg(c, 'result', 120000);
  await Promise.all([c.exited, wr.exited]);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(`${dir}.done`, { force: true });
  return { ready, done, res, unblocked, writerMs: (done.end - done.start) / 1e6 };
}

const mib = (b) => fmt(b / 2 ** 20, 1);
const us = (x) => fmt(x, 2);

async function churn(n, watchers, gapMs) {
  console.log(`## churn: ${n.toLocaleString('en-US')} files in one directory (create all, append to all, delete all; ${gapMs} ms between phases)\n`);
  const rows = [];
  const out = {};
  for (const w of watchers) {
    const r = await runCase('churn', w, n, {}, () => {}, { gapMs });
    const exp = KINDS[w.startsWith('butter-coalesce') ? 'butter' : w];
    let delivered = 0;
    for (const [k, per] of Object.entries(exp)) delivered += Math.min(r.res.kinds[k] ?? 0, per * n);
    const extra = r.res.count - delivered;
    out[w] = { ...r, delivered, cpuPer: r.res.cpuUs / Math.max(1, r.res.count) };
    rows.push([
      NAMES[w], `${delivered.toLocaleString('en-US')}/${(3 * n).toLocaleString('en-US')}`, fmt((100 * delivered) / (3 * n), 1) + '%',
      extra ? extra.toLocaleString('en-US') : '0',
      Object.entries(r.res.kinds).map(([k, v]) => `${k} ${v}`).join(', '),
      us(out[w].cpuPer), fmt(r.res.cpuUs / 1000, 0), fmt(Math.max(0, r.res.lagMs), 0), mib(r.res.maxRss), fmt(r.writerMs, 0),
    ]);
  }
  console.log(table(['watcher', 'delivered/expected', '%', 'extra', 'by kind', 'CPU µs/event', 'CPU ms', 'lag ms', 'peak RSS MiB', 'writer ms'], rows,
    ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r']));
  if (out.butter && out.fswatch) console.log(`\nButter CPU/event vs fs.watch: ${ratio(out.butter.cpuPer, out.fswatch.cpuPer)} (target ≤ 0.50x)`);
  console.log();
}

async function stall(n, stallMs, watchers) {
  console.log(`## stall: ${n.toLocaleString('en-US')} files created while the consumer's loop is blocked (≥ ${stallMs} ms, until the writer is done)\n`);
  const maxq = fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8').trim();
  const rows = [];
  for (const w of watchers) {
    const r = await runCase('stall', w, n, { stallMs });
    rows.push([NAMES[w], `${r.res.count.toLocaleString('en-US')}/${n.toLocaleString('en-US')}`, r.res.overflows ? `yes (${r.res.overflows})` : 'no',
      w === 'butter-watch' ? r.res.rescanCreated.toLocaleString('en-US') : 'n/a', fmt(r.unblocked.blockedMs, 0), fmt(r.writerMs, 0),
      us(r.res.cpuUs / Math.max(1, r.res.count))]);
  }
  console.log(table(['watcher', 'events delivered', 'overflow reported', 'rescan: created', 'loop blocked ms', 'writer ms', 'CPU µs/event after the block'], rows));
  console.log(`\nfs.inotify.max_queued_events = ${maxq}\n`);
}

function buildTree(root) {
  for (let a = 0; a < 10; a++)
    for (let b = 0; b < 10; b++)
      for (let c = 0; c < 10; c++) {
        const d = join(root, `a${a}`, `b${b}`, `c${c}`);
        fs.mkdirSync(d, { recursive: true });
        for (let f = 0; f < 10; f++) fs.writeFileSync(join(d, `f${f}`), 'x');
      }
}

async function tree(watchers, rounds) {
  console.log(`## tree: 1,111 directories, 10,000 files; then 100 new directories, 5 files each right after the mkdir (${rounds} rounds, interleaved)\n`);
  const res = Object.fromEntries(watchers.map((w) => [w, []]));
  for (let i = 0; i < rounds; i++)
    for (const w of (i % 2 ? [...watchers].reverse() : watchers)) res[w].push(await runCase('tree', w, 0, {}, buildTree));
  const readyOf = (w) => res[w].map((r) => r.ready.readyMs);
  const rows = watchers.map((w) => {
    const rs = res[w];
    const last = rs[rs.length - 1];
    const seen = rs.reduce((s, r) => s + r.res.seen, 0);
    const exp = rs.reduce((s, r) => s + r.res.expectedSeen, 0);
    const ready = readyOf(w);
    return [NAMES[w], fmt(median(ready), 0), `${fmt(Math.min(...ready), 0)}..${fmt(Math.max(...ready), 0)}`,
      mib(median(rs.map((r) => r.ready.rss))), mib(median(rs.map((r) => r.res.maxRss))),
      `${last.ready.watches} → ${last.res.watches}`, w === 'butter-watch' ? `${last.ready.butterWatches} → ${last.res.butterWatches}` : '',
      `${seen}/${exp}`, fmt((100 * seen) / exp, 1) + '%', fmt(median(rs.map((r) => Math.max(0, r.res.lagMs))), 0)];
  });
  console.log(table(['watcher', 'ready ms (median)', 'min..max', 'RSS at ready MiB', 'peak RSS MiB', 'kernel watches (ready → end)', 'w.inotify.watches()',
    'new-dir files seen', '%', 'lag ms'], rows));
  const peers = watchers.filter((w) => w !== 'butter-watch');
  if (res['butter-watch'] && peers.length) {
    const fastest = peers.reduce((a, b) => (median(readyOf(a)) <= median(readyOf(b)) ? a : b));
    const perRound = res['butter-watch'].map((r, i) => ratio(r.ready.readyMs, res[fastest][i].ready.readyMs)).join(', ');
    console.log(`\nButter ready vs fastest peer (${NAMES[fastest]}): ${ratio(median(readyOf('butter-watch')), median(readyOf(fastest)))} (per round: ${perRound})`);
  }
  console.log();
}

async function latency(events, rounds, watchers, latWarmup) {
  console.log(`## latency: write() in the writer process → callback, ${rounds} rounds × ${events} events (after ${latWarmup} untimed events ~0.3 ms apart, and 25 timed-but-dropped ones)\n`);
  const warm = 25;
  const n = events + warm;
  const lat = Object.fromEntries(watchers.map((w) => [w, []]));
  const got = Object.fromEntries(watchers.map((w) => [w, 0]));
  const cpu = Object.fromEntries(watchers.map((w) => [w, 0]));
  const p50s = Object.fromEntries(watchers.map((w) => [w, []]));
  const prep = (dir) => { for (let i = 0; i < n; i++) fs.writeFileSync(join(dir, `l${i}`), ''); };
  for (let r = 0; r < rounds; r++) {
    for (const w of (r % 2 ? [...watchers].reverse() : watchers)) {
      const x = await runCase('latency', w, n, {}, prep, { latWarmup });
      const round = [];
      x.done.stamps.forEach((s, i) => {
        const t = x.res.times[`l${i}`];
        if (t !== undefined && i >= warm) round.push((t - s) / 1e3);
      });
      got[w] += round.length;
      lat[w].push(...round);
      cpu[w] += x.res.cpuUs / (n + latWarmup);
      p50s[w].push(median(round));
    }
  }
  const ref = watchers.includes('fswatch') ? 'fswatch' : watchers[0];
  const rows = watchers.map((w) => [NAMES[w], `${got[w]}/${rounds * events}`, fmt(quantile(lat[w], 0.5)), fmt(quantile(lat[w], 0.99)),
    p50s[w].map((v) => fmt(v)).join(', '), ratio(quantile(lat[w], 0.5), quantile(lat[ref], 0.5)), fmt(cpu[w] / rounds, 1)]);
  console.log(table(['watcher', 'received', 'p50 µs', 'p99 µs', 'p50 per round µs', `p50 vs ${NAMES[ref]}`, 'CPU µs/event'], rows));
  console.log();
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      parts: { type: 'string', default: 'churn,stall,tree,latency' },
      churn: { type: 'string', default: '10000,100000' },
      watchers: { type: 'string', default: 'butter,fswatch,parcel,chokidar' },
      stall: { type: 'string', default: '100000' },
      'stall-ms': { type: 'string', default: '1000' },
      'gap-ms': { type: 'string', default: '200' },
      'tree-rounds': { type: 'string', default: '3' },
      'lat-events': { type: 'string', default: '125' },
      'lat-rounds': { type: 'string', default: '4' },
      'lat-warmup': { type: 'string', default: '2000' },
    },
  });
  const parts = a.parts.split(',');
  const watchers = a.watchers.split(',');
  let root = '/dev/shm';
  let ok = false;
  try { ok = fs.statfsSync(root).type === 0x01021994; } catch {}
  if (!ok) { root = tmpdir(); console.log(`WARNING: /dev/shm is not tmpfs; using ${root}`); }
  base = fs.mkdtempSync(join(root, 'butter-bench-inotify-'));
  process.on('exit', cleanup);
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { cleanup(); process.exit(130); });

  printMachine('inotify: file watching');
  console.log(`Directory: ${base} (${ok ? 'tmpfs' : 'not tmpfs'}). The inotify npm package is not measured (does not compile on Node 20).`);
  await checkIdle();
  const load = otherLoad();
  const t0 = Date.now();
  if (parts.includes('churn')) for (const n of a.churn.split(',').map(Number)) await churn(n, watchers, Number(a['gap-ms']));
  if (parts.includes('stall')) await stall(Number(a.stall), Number(a['stall-ms']), ['butter', 'butter-buffer', 'butter-watch', 'fswatch']);
  if (parts.includes('tree')) await tree(watchers.map((w) => (w === 'butter' ? 'butter-watch' : w)), Number(a['tree-rounds']));
  if (parts.includes('latency')) await latency(Number(a['lat-events']), Number(a['lat-rounds']), watchers.filter((w) => w === 'butter' || w.startsWith('butter-coalesce') || w === 'fswatch'), Number(a['lat-warmup']));
  console.log(`Total ${fmt((Date.now() - t0) / 1000, 0)} s.`);
  reportOtherLoad(load());
}

const role = process.argv[2] === '--child' ? JSON.parse(process.argv[3]) : {};
if (role.role) process.on('disconnect', () => process.exit(1)); // the parent is gone: do not linger
if (role.role === 'consumer') consumer(role).catch((e) => { console.error(e); process.exit(1); });
else if (role.role === 'writer') writer(role);
else main().catch((e) => { console.error(e); cleanup(); process.exit(1); });
