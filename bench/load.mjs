// What loading costs a whole process: `node -e` that loads Butter and calls
// getpid(), with `require` and with `import`, against bare Node (`node -e 0`,
// and its ESM equivalent) and against loading the npm peers `posix` and
// `@parcel/watcher`, in the same run.
//
//   node bench/load.mjs [--rounds 60] [--cases bare,butter-require,butter-import,butter-inotify,resolve,esm-file,posix,parcel]
//
// Target (issue 11): importing Butter and calling getpid() costs at most 3 ms
// over bare Node.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkIdle, fmt, max, median, min, otherLoad, printMachine, ratio, reportOtherLoad, table } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'butter-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const emptyModule = join(tmp, 'empty.mjs');
writeFileSync(emptyModule, 'export {};\n');

const cases = [
  { key: 'bare', name: 'node -e 0', args: ['-e', '0'] },
  { key: 'bare-esm', name: 'node --input-type=module -e 0', args: ['--input-type=module', '-e', '0'], base: 'bare' },
  { key: 'butter-require', name: "require('butter').getpid()", args: ['-e', "require('butter').getpid()"], base: 'bare' },
  {
    key: 'butter-import',
    name: "import { getpid } from 'butter'; getpid()",
    args: ['--input-type=module', '-e', "import { getpid } from 'butter'; getpid()"],
    base: 'bare-esm',
  },
  // The first use of the largest family: what loading it on first use costs then.
  { key: 'butter-inotify', name: "(context) require('butter').Inotify", args: ['-e', "require('butter').Inotify"], base: 'bare' },
  // What every package pays before its own code runs: Node resolving package.json's "exports"
  // (`require('butter')` here is a self-reference, resolved as an installed package is), and
  // the ESM loader reading a module file, which `-e 0` never does.
  { key: 'resolve', name: "(context) require.resolve('butter')", args: ['-e', "require.resolve('butter')"], base: 'bare' },
  {
    key: 'esm-file',
    name: '(context) import of an empty ES module file',
    args: ['--input-type=module', '-e', `import ${JSON.stringify(emptyModule)}`],
    base: 'bare-esm',
  },
  { key: 'posix', name: "require('posix').getppid()", args: ['-e', "require('posix').getppid()"], base: 'bare' },
  { key: 'parcel', name: "require('@parcel/watcher')", args: ['-e', "require('@parcel/watcher')"], base: 'bare' },
];

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '60' },
    cases: { type: 'string', default: cases.map((c) => c.key).join(',') },
  },
});
const ROUNDS = Number(opts.rounds);
const chosen = opts.cases.split(',');
for (const key of chosen) if (!cases.some((c) => c.key === key)) throw new Error(`unknown case ${key}`);
const run = cases.filter((c) => chosen.includes(c.key) || chosen.some((k) => cases.find((x) => x.key === k)?.base === c.key));

const report = join(root, 'bench', 'load-report.cjs');

/**
 * One child: its CPU time (ms, all its threads, measured inside it) and its wall
 * time from spawn to exit (ms; the spawn's own cost is the same for every case).
 */
function once(c) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', report, ...c.args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`${c.name} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return { cpu: Number(r.stdout), wall: Number(t1 - t0) / 1e6 };
}

printMachine('bench/load.mjs: whole-process start-up');
console.log(`${ROUNDS} rounds, candidates interleaved (order rotated each round); each child started from ${root}.`);
await checkIdle();
const others = otherLoad();

for (const c of run) once(c); // page cache, compile caches
const samples = { cpu: new Map(run.map((c) => [c.key, []])), wall: new Map(run.map((c) => [c.key, []])) };
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < run.length; i++) {
    const c = run[(i + r) % run.length];
    const t = once(c);
    samples.cpu.get(c.key).push(t.cpu);
    samples.wall.get(c.key).push(t.wall);
  }
}

const medians = {};
for (const what of ['cpu', 'wall']) {
  const med = (medians[what] = Object.fromEntries(run.map((c) => [c.key, median(samples[what].get(c.key))])));
  console.log(what === 'cpu' ? '\nCPU time of the whole child (user + system, all threads):' : '\nWall time from spawn to exit:');
  console.log(
    table(
      ['candidate', 'median ms', 'min', 'max', 'over bare', 'vs bare'],
      run.map((c) => {
        const s = samples[what].get(c.key);
        const base = c.base ?? 'bare';
        return [
          c.name,
          fmt(med[c.key], 2),
          fmt(min(s), 2),
          fmt(max(s), 2),
          c.key === base ? '' : `${fmt(med[c.key] - med[base], 2)} ms`,
          c.key === base ? '' : ratio(med[c.key], med[base]),
        ];
      }),
    ),
  );
}
console.log('\n"over bare" is against `node -e 0` for require and against its ESM equivalent for import.');
for (const key of ['butter-require', 'butter-import']) {
  if (!(key in medians.cpu)) continue;
  const base = cases.find((c) => c.key === key).base;
  const over = (what) => medians[what][key] - medians[what][base];
  const met = over('cpu') <= 3 && over('wall') <= 3;
  console.log(`${key}: ${fmt(over('cpu'), 2)} ms CPU, ${fmt(over('wall'), 2)} ms wall over bare Node (target <= 3 ms: ${met ? 'MET' : 'NOT MET'})`);
}
reportOtherLoad(others());
