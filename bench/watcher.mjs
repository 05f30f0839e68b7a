// butter/watcher against @parcel/watcher 2.6.0, in the same run, on tmpfs: the
// same consumer code on both modules (one is a drop-in for the other), each in
// a child process of its own (so its CPU time and RSS are its own), the writer
// in another.
//
//   node bench/watcher.mjs [--parts churn,tree] [--churn 10000,100000] [--rounds 3]
//                          [--gap-ms 300]
//
// Parts:
//   churn  N files spread over 10 directories: create all (empty), append one
//          byte to each, delete all. Before each next phase the watcher has
//          been quiet for --gap-ms (both report the net change per batch: a
//          file created and appended to in one batch is rightly one create, so
//          phases must not share a batch). Expected per file: create, update,
//          delete. Lost = expected - delivered (each path counted once per kind).
//   tree   1,111 directories (10x10x10 + 100 + 10 + root) with 10,000 files:
//          time from subscribe() to its promise, RSS delta over it, then 100 new
//          directories each filled with 5 files right after its mkdir: files
//          reported as created.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, median, min, max, ratio, table, printMachine, checkIdle, otherLoad, reportOtherLoad, forkRole, message as msg, killChildren } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const now = () => Number(process.hrtime.bigint()); // ns, CLOCK_MONOTONIC
const IMPLS = { parcel: '@parcel/watcher 2.6.0', butter: 'butter/watcher' };
const DIRS = 10;

// ---------------------------------------------------------------- children

async function consumer({ impl, dir, part }) {
  const send = (m) => process.send(m);
  const mod = impl === 'butter' ? (await import('butter/watcher')).default : (await import('@parcel/watcher')).default;
  const kinds = { create: new Set(), update: new Set(), delete: new Set() };
  let events = 0;
  let last = 0;
  let errors = 0;
  const fn = (err, batch) => {
    if (err) errors++;
    for (const e of batch) {
      events++;
      kinds[e.type].add(e.path);
    }
    last = now();
  };
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t0 = now();
  const sub = await mod.subscribe(dir, fn);
  const readyMs = (now() - t0) / 1e6;
  const rssReady = process.memoryUsage().rss;
  let cpu0 = process.cpuUsage();
  send({ type: 'ready', readyMs, rssDeltaMiB: (rssReady - rss0) / 2 ** 20 });
  process.on('message', async (m) => {
    if (m.type === 'start') {
      cpu0 = process.cpuUsage();
      events = 0;
    } else if (m.type === 'settle') {
      const since = now();
      // Until the phase's changes came in and then m.quietMs passed without a batch.
      while (last < since || now() - last < m.quietMs * 1e6) await new Promise((r) => setTimeout(r, 20));
      send({ type: 'settled' });
    } else if (m.type === 'collect') {
      // Until 1 s without a batch.
      while (now() - last < 1e9) await new Promise((r) => setTimeout(r, 100));
      const cpu = process.cpuUsage(cpu0);
      await sub.unsubscribe();
      send({
        type: 'result',
        created: [...kinds.create],
        counts: { create: kinds.create.size, update: kinds.update.size, delete: kinds.delete.size },
        events,
        errors,
        cpuMs: (cpu.user + cpu.system) / 1000,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
      });
    }
  });
}

async function writer({ dir, part, n }) {
  process.on('message', async (m) => {
    if (m.type !== 'go') return;
    const t0 = now();
    if (part === 'churn') {
      const files = Array.from({ length: n }, (_, i) => join(dir, `d${i % DIRS}`, `f${i}`));
      if (m.phase === 0) for (const f of files) fs.closeSync(fs.openSync(f, 'wx'));
      else if (m.phase === 1) for (const f of files) fs.appendFileSync(f, 'x');
      else for (const f of files) fs.unlinkSync(f);
    } else {
      for (const f of treeNewFiles(dir)) {
        fs.mkdirSync(join(f, '..'), { recursive: true });
        fs.writeFileSync(f, 'x');
      }
    }
    process.send({ type: 'done', writerMs: (now() - t0) / 1e6 });
  });
  process.send({ type: 'listening' });
}

/** The files the tree part writes: 5 in each of 100 new directories. */
function treeNewFiles(dir) {
  const files = [];
  for (let i = 0; i < 100; i++) {
    const d = join(dir, `a${i % 10}`, `b${Math.floor(i / 10)}`, `new${i}`);
    for (let j = 0; j < 5; j++) files.push(join(d, `f${j}`));
  }
  return files;
}

function buildTree(dir) {
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      for (let c = 0; c < 10; c++) {
        const d = join(dir, `a${a}`, `b${b}`, `c${c}`);
        fs.mkdirSync(d, { recursive: true });
        for (let f = 0; f < 10; f++) fs.writeFileSync(join(d, `f${f}`), '');
      }
    }
  }
}

// ---------------------------------------------------------------- parent

async function run(impl, part, opts) {
  const dir = fs.mkdtempSync(join(opts.base, `${part}-`));
  try {
    if (part === 'churn') for (let i = 0; i < DIRS; i++) fs.mkdirSync(join(dir, `d${i}`));
    else buildTree(dir);
    const c = forkRole(SELF, { role: 'consumer', impl, dir, part }, IMPLS[impl], ['--expose-gc']);
    const ready = await msg(c, 'ready');
    const w = forkRole(SELF, { role: 'writer', dir, part, n: opts.n }, 'writer');
    await msg(w, 'listening');
    c.send({ type: 'start' });
    let writerMs = 0;
    for (let phase = 0; phase < (part === 'churn' ? 3 : 1); phase++) {
      if (phase > 0) {
        c.send({ type: 'settle', quietMs: opts.gapMs });
        await msg(c, 'settled', 300_000);
      }
      w.send({ type: 'go', phase });
      writerMs += (await msg(w, 'done', 300_000)).writerMs;
    }
    const done = { writerMs };
    w.kill();
    c.send({ type: 'collect' });
    const result = await msg(c, 'result', 300_000);
    c.kill();
    return { ...ready, ...done, ...result, dir };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      parts: { type: 'string', default: 'churn,tree' },
      churn: { type: 'string', default: '10000,100000' },
      rounds: { type: 'string', default: '3' },
      'gap-ms': { type: 'string', default: '300' },
    },
  });
  const base = fs.mkdtempSync('/dev/shm/butter-bench-watcher-');
  process.on('exit', () => {
    killChildren();
    fs.rmSync(base, { recursive: true, force: true });
  });
  process.on('SIGINT', () => process.exit(130));
  printMachine('butter/watcher against @parcel/watcher');
  await checkIdle();
  const load = otherLoad();
  const parts = values.parts.split(',');
  const rounds = Number(values.rounds);

  if (parts.includes('churn')) {
    for (const n of values.churn.split(',').map(Number)) {
      const rows = [];
      const cpu = {};
      for (const impl of Object.keys(IMPLS)) {
        const r = await run(impl, 'churn', { base, n, gapMs: Number(values['gap-ms']) });
        const delivered = r.counts.create + r.counts.update + r.counts.delete;
        cpu[impl] = (r.cpuMs * 1000) / delivered;
        rows.push([
          IMPLS[impl],
          `${fmt(delivered, 0)}/${fmt(3 * n, 0)}`,
          fmt(3 * n - delivered, 0),
          `${fmt((100 * (3 * n - delivered)) / (3 * n), 2)}%`,
          `create ${r.counts.create}, update ${r.counts.update}, delete ${r.counts.delete}`,
          fmt(cpu[impl]),
          fmt(r.cpuMs, 0),
          fmt(r.peakRssMiB, 1),
        ]);
      }
      console.log(`**churn: ${fmt(n, 0)} files in ${DIRS} directories (create all, append to all, delete all; each phase once the watcher was quiet for ${values['gap-ms']} ms)**\n`);
      console.log(table(['watcher', 'delivered/expected', 'lost', 'lost %', 'by kind', 'CPU µs/event', 'CPU ms', 'peak RSS MiB'], rows, ['l', 'r', 'r', 'r', 'l', 'r', 'r', 'r']));
      console.log(`\nbutter/watcher CPU/event vs @parcel/watcher: ${ratio(cpu.butter, cpu.parcel)}\n`);
    }
  }

  if (parts.includes('tree')) {
    const per = { parcel: [], butter: [] };
    for (let i = 0; i < rounds; i++) {
      for (const impl of i % 2 ? ['butter', 'parcel'] : ['parcel', 'butter']) {
        const r = await run(impl, 'tree', { base, gapMs: 0 });
        const expected = new Set(treeNewFiles(r.dir));
        per[impl].push({ ...r, seen: r.created.filter((p) => expected.has(p)).length });
      }
    }
    const rows = Object.entries(per).map(([impl, rs]) => {
      const ready = rs.map((r) => r.readyMs);
      const seen = rs.reduce((a, r) => a + r.seen, 0);
      return [
        IMPLS[impl],
        fmt(median(ready)),
        `${fmt(min(ready))}..${fmt(max(ready))}`,
        fmt(median(rs.map((r) => r.rssDeltaMiB)), 1),
        fmt(median(rs.map((r) => r.peakRssMiB)), 1),
        `${seen}/${500 * rounds}`,
        `${fmt((100 * seen) / (500 * rounds), 1)}%`,
      ];
    });
    console.log(`**tree: 1,111 directories, 10,000 files; then 100 new directories, 5 files each right after the mkdir (${rounds} rounds, interleaved)**\n`);
    console.log(table(['watcher', 'ready ms (median)', 'min..max', 'RSS delta at ready MiB', 'peak RSS MiB', 'new-dir files seen', '%'], rows));
    const readyOf = (impl) => median(per[impl].map((r) => r.readyMs));
    console.log(`\nbutter/watcher ready vs @parcel/watcher: ${ratio(readyOf('butter'), readyOf('parcel'))}\n`);
  }
  reportOtherLoad(load());
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const o = JSON.parse(process.argv[childAt + 1]);
  (o.role === 'writer' ? writer : consumer)(o);
} else {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
