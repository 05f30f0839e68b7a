// What loading costs a whole process: `node -e` that loads Butter and calls
// getpid(), with `require` and with `import`, against bare Node (`node -e 0`,
// and its ESM equivalent) and against loading the npm peers `posix` and
// `@parcel/watcher`, in the same run.
//
//   node bench/load.mjs [--rounds 60] [--cases bare,butter-require,...]
//
// Target (issue 11): importing Butter and calling getpid() costs at most 3 ms
// over bare Node.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkIdle, fmt, max, median, min, otherLoad, printMachine, ratio, reportOtherLoad, table } from './lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

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

/** Wall time of one child from spawn to exit, in ms (the spawn's own cost is the same for every case). */
function once(c) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, c.args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`${c.name} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return Number(t1 - t0) / 1e6;
}

printMachine('bench/load.mjs: whole-process start-up (ms from spawn to exit)');
console.log(`${ROUNDS} rounds, candidates interleaved (order rotated each round); each child started from ${root}.`);
await checkIdle();
const others = otherLoad();

for (const c of run) once(c); // page cache, compile caches
const samples = new Map(run.map((c) => [c.key, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < run.length; i++) {
    const c = run[(i + r) % run.length];
    samples.get(c.key).push(once(c));
  }
}

const med = Object.fromEntries(run.map((c) => [c.key, median(samples.get(c.key))]));
console.log(
  table(
    ['candidate', 'median ms', 'min', 'max', 'over bare', 'vs bare'],
    run.map((c) => {
      const s = samples.get(c.key);
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
console.log('\n"over bare" is against `node -e 0` for require and against its ESM equivalent for import.');
for (const key of ['butter-require', 'butter-import']) {
  if (!(key in med)) continue;
  const over = med[key] - med[cases.find((c) => c.key === key).base];
  console.log(`${key}: ${fmt(over, 2)} ms over bare Node (target <= 3 ms: ${over <= 3 ? 'MET' : 'NOT MET'})`);
}
reportOtherLoad(others());
