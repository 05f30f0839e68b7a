// Call overhead of the process family: Butter's getpid()/getppid() against the same
// raw syscall in a C loop (compiled and run in this same run), the npm `posix`
// package's getppid(), and Node's own process.ppid.
//
//   node bench/process.mjs [--rounds N] [--calls N]
//
// Target (issue 2): getpid() from JS within 1.25x of the C loop.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getpid, getppid } from 'butter';
import { checkIdle, fmt, max, median, min, otherLoad, printMachine, ratio, reportOtherLoad, table } from './lib.mjs';

const require = createRequire(import.meta.url);
const posix = require('posix');
const here = dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '11' },
    calls: { type: 'string', default: '1000000' },
  },
});
const ROUNDS = Number(args.rounds);
const CALLS = Number(args.calls);

// ---- the C floor ----

const tmp = mkdtempSync(join(tmpdir(), 'butter-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const exe = join(tmp, 'getpid_loop');
try {
  execFileSync(process.env.CC || 'cc', ['-O2', '-o', exe, join(here, 'getpid_loop.c')], { stdio: 'inherit' });
} catch (err) {
  console.error(`bench/process.mjs needs a C compiler (cc, or $CC) to build the C floor: ${err.message}`);
  process.exit(1);
}

function cRound(syscall) {
  const out = execFileSync(exe, [syscall, String(CALLS), '1'], { encoding: 'utf8' });
  const m = /^\S+ \d+ ([\d.]+)$/m.exec(out);
  if (!m) throw new Error(`unexpected output from getpid_loop: ${out}`);
  return Number(m[1]);
}

// ---- JS loops ----

// Each candidate gets its own loop function (its own source, so its own type
// feedback): a shared loop would make the call site polymorphic and slow them all.
let sink = 0;
function makeLoop(name, expr, target) {
  const loop = new Function(
    't',
    `return function loop_${name}(n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += ${expr};
      return s;
    }`,
  )(target);
  return (n = CALLS) => {
    const t0 = process.hrtime.bigint();
    sink += loop(n);
    const t1 = process.hrtime.bigint();
    return Number(t1 - t0) / n;
  };
}

const cases = [
  { name: 'C syscall(SYS_getpid)', key: 'c_getpid', run: () => cRound('getpid') },
  { name: 'butter getpid()', key: 'butter_getpid', run: makeLoop('butter_getpid', 't()', getpid), js: true },
  { name: '(context) C getpid, 6 frames deep', key: 'c_getpid_deep', run: () => cRound('getpid-deep') },
  { name: 'C syscall(SYS_getppid)', key: 'c_getppid', run: () => cRound('getppid') },
  { name: 'butter getppid()', key: 'butter_getppid', run: makeLoop('butter_getppid', 't()', getppid), js: true },
  { name: 'posix.getppid() (npm posix 4.2.0)', key: 'posix_getppid', run: makeLoop('posix_getppid', 't()', posix.getppid), js: true },
  { name: 'process.ppid (Node core, uv_os_getppid)', key: 'node_ppid', run: makeLoop('node_ppid', 't.ppid', process), js: true },
  { name: 'empty JS loop (context: loop cost)', key: 'empty', run: makeLoop('empty', '(i & 1)', null), js: true },
];

printMachine('bench/process.mjs: call overhead (ns per call)');
console.log(`${ROUNDS} rounds of ${CALLS.toLocaleString('en-US')} calls per candidate, candidates interleaved; JS warmed up first.`);
await checkIdle();
const others = otherLoad();

// Sanity: the answers agree.
if (getpid() !== process.pid) throw new Error('getpid() != process.pid');
if (getppid() !== posix.getppid() || getppid() !== process.ppid) throw new Error('getppid() disagrees');

// Warm-up: enough calls for TurboFan to optimize every loop (and the CPU to settle).
for (const c of cases) if (c.js) for (let i = 0; i < 3; i++) c.run(CALLS / 2);
cRound('getpid');

const samples = new Map(cases.map((c) => [c.key, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) samples.get(c.key).push(c.run());
}

const med = Object.fromEntries(cases.map((c) => [c.key, median(samples.get(c.key))]));
const vsC = (key) =>
  key === 'c_getpid' || key === 'c_getppid' || key === 'empty' ? ''
  : key.includes('getpid') ? ratio(med[key], med.c_getpid)
  : ratio(med[key], med.c_getppid);

console.log(
  table(
    ['candidate', 'median ns/call', 'min', 'max', 'vs C (same syscall)'],
    cases.map((c) => {
      const s = samples.get(c.key);
      return [c.name, fmt(med[c.key], 1), fmt(min(s), 1), fmt(max(s), 1), vsC(c.key)];
    }),
  ),
);

const target = med.butter_getpid / med.c_getpid;
console.log();
console.log(`butter getpid / C getpid:        ${target.toFixed(3)}x  (target <= 1.25x: ${target <= 1.25 ? 'MET' : 'NOT MET'})`);
console.log(`butter getppid / C getppid:      ${(med.butter_getppid / med.c_getppid).toFixed(3)}x`);
console.log(`posix.getppid / butter getppid:  ${(med.posix_getppid / med.butter_getppid).toFixed(3)}x`);
console.log(`posix.getppid / butter getpid:   ${(med.posix_getppid / med.butter_getpid).toFixed(3)}x`);
console.log(`process.ppid / butter getppid:   ${(med.node_ppid / med.butter_getppid).toFixed(3)}x`);
console.log(`JS-side overhead over C (getpid): ${fmt(med.butter_getpid - med.c_getpid, 1)} ns/call`);
console.log(`C 6 frames deep / C flat:         ${(med.c_getpid_deep / med.c_getpid).toFixed(3)}x (returning through frames after a syscall)`);
reportOtherLoad(others());
if (!Number.isFinite(sink)) throw new Error('unreachable'); // keeps the results observable
