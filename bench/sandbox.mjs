// Start-up of a sandboxed process: Butter's spawn() of /bin/true in a full
// sandbox (all namespaces, a new root with proc, dev and a tmpfs) to its
// 'exit', beside what a Node user has today, in one run: /bin/true via
// spawnSync, `bwrap` with the same sandbox from a C loop (bench/spawn_loop.c,
// the shell's way without the shell's cost) and via spawnSync from Node; then
// both with 100 more bind mounts.
//
//   node bench/sandbox.mjs [--rounds N] [--runs N]
//
// Target (issue 15): spawn() p50 <= 4 ms and <= 0.55x spawnSync of bwrap.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawn } from 'butter';
import { checkIdle, fmt, otherLoad, printMachine, quantile, ratio, reportOtherLoad, table } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, runs: { type: 'string', default: '100' } } });
const ROUNDS = Number(args.rounds);
const RUNS = Number(args.runs);

if (spawnSync(join(here, '..', 'scripts', 'tools.sh'), ['bubblewrap'], { stdio: 'inherit' }).status !== 0) {
  console.error('bench/sandbox.mjs needs bubblewrap (scripts/tools.sh bubblewrap failed)');
  process.exit(1);
}
const tmp = mkdtempSync(join(tmpdir(), 'butter-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const loop = join(tmp, 'spawn_loop');
execFileSync(process.env.CC || 'cc', ['-O2', '-o', loop, join(here, 'spawn_loop.c')], { stdio: 'inherit' });

const NAMESPACES = ['user', 'mount', 'pid', 'net', 'uts', 'ipc', 'cgroup'];
const MOUNTS = [
  { type: 'ro-bind', source: '/', target: '/' },
  { type: 'proc', target: '/proc' },
  { type: 'dev', target: '/dev' },
  { type: 'tmpfs', target: '/tmp' },
];
const BINDS = [{ type: 'tmpfs', target: '/mnt' }, ...Array.from({ length: 100 }, (_, i) => ({ type: 'ro-bind', source: '/usr', target: `/mnt/b${i}` }))];
/** bwrap's command line for `mounts`, with every namespace (--unshare-all takes cgroup and user where it can). */
const bwrapArgs = (mounts) => ['--unshare-all', ...mounts.flatMap((m) => [`--${m.type}`, ...(m.source ? [m.source] : []), m.target]), '/bin/true'];

/** ms per run of `fn` (which starts one process and resolves at its exit), `RUNS` times. */
async function timed(fn) {
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

function sandboxed(mounts) {
  return async () => {
    const child = spawn('/bin/true', [], { namespaces: NAMESPACES, mounts, stdio: 'ignore' });
    let failure;
    child.on('error', (err) => (failure = err));
    const [code] = await once(child, 'exit');
    if (failure || code !== 0) throw failure ?? new Error(`exit ${code}`);
  };
}

function synced(cmd, argv) {
  return async () => {
    const r = spawnSync(cmd, argv, { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}`);
  };
}

function cLoop(cmd, argv) {
  const out = execFileSync(loop, [String(RUNS), cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return out.trim().split('\n').map((ns) => Number(ns) / 1e6);
}

const CANDIDATES = [
  ['/bin/true, C loop', () => cLoop('/bin/true', [])],
  ['/bin/true, spawnSync', () => timed(synced('/bin/true', []))],
  ['bwrap --unshare-all, C loop', () => cLoop('bwrap', bwrapArgs(MOUNTS))],
  ['bwrap --unshare-all, spawnSync', () => timed(synced('bwrap', bwrapArgs(MOUNTS)))],
  ['Butter spawn(), full sandbox', () => timed(sandboxed(MOUNTS))],
  ['bwrap + 100 binds, C loop', () => cLoop('bwrap', bwrapArgs([...MOUNTS, ...BINDS]))],
  ['bwrap + 100 binds, spawnSync', () => timed(synced('bwrap', bwrapArgs([...MOUNTS, ...BINDS])))],
  ['Butter spawn() + 100 binds', () => timed(sandboxed([...MOUNTS, ...BINDS]))],
];

printMachine('sandbox: start-up of /bin/true in a sandbox, to its exit');
await checkIdle();
const load = otherLoad();
const samples = new Map(CANDIDATES.map(([name]) => [name, []]));
// Interleaved rounds: a disturbance hits every candidate alike.
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of CANDIDATES) samples.get(name).push(...(await run()));
}
const p = (name, q) => quantile(samples.get(name), q);
const base = 'bwrap --unshare-all, spawnSync';
console.log(table(
  ['candidate', 'p50 ms', 'p99 ms', `p50 vs ${base}`],
  CANDIDATES.map(([name]) => [name, fmt(p(name, 0.5)), fmt(p(name, 0.99)), ratio(p(name, 0.5), p(base, 0.5))]),
));
console.log(`\nspawn() full sandbox p50 ${fmt(p('Butter spawn(), full sandbox', 0.5))} ms (target <= 4 ms), ${ratio(p('Butter spawn(), full sandbox', 0.5), p(base, 0.5))} spawnSync of bwrap (target <= 0.55x)`);
console.log(`with 100 binds: spawn() ${ratio(p('Butter spawn() + 100 binds', 0.5), p('bwrap + 100 binds, spawnSync', 0.5))} spawnSync of bwrap, ${ratio(p('Butter spawn() + 100 binds', 0.5), p('bwrap + 100 binds, C loop', 0.5))} bwrap from C`);
reportOtherLoad(load());
