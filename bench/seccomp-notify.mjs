// seccomp user notification (issue 16): the round trip of a supervised syscall
// (the target's getppid() → the supervisor's answer → getppid() returns 42 in
// the target), p50 and p99, as the target measures it around each call.
// Butter's SeccompNotify answering from JS (an 'event' listener, and a
// `for await` loop) against a C supervisor (bench/seccomp_notify_ref.c,
// compiled here with cc -O2: poll, NOTIF_RECV, NOTIF_SEND), and the same
// getppid() with no filter for the floor. The target is the same C program in
// every case; Butter's is started by butter-helper, which loads the filter.
// No npm package supervises seccomp notifications to compare with.
//
// Placement decides the numbers, so every case pins its target and its
// supervisor (the C supervisor pins itself; Butter's, this process with all
// its threads, is pinned with taskset -a): "same CPU" (both on the last CPU:
// each wakes the other on its own CPU, which measures the software) and
// "apart" (supervisor on CPU 0: every round trip pays two cross-CPU wakes).
//
//   node bench/seccomp-notify.mjs [--calls 20000] [--warmup 2000] [--rounds 3] [--placements same,apart]
//
// x86_64 only (the filter's AUDIT_ARCH). Nothing here loads a filter into
// this process: only the targets run under one.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { SeccompNotify, constants as C } from 'butter';
import { checkIdle, fmt, median, otherLoad, printMachine, ratio, reportOtherLoad, table } from './lib.mjs';

const { spawnHelper } = createRequire(import.meta.url)('../dist/cjs/core/helper.js');
const HERE = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
    placements: { type: 'string', default: 'same,apart' },
  },
});
const CALLS = String(Number(opts.calls));
const WARMUP = String(Number(opts.warmup));
const ROUNDS = Number(opts.rounds);

const LAST = availableParallelism() - 1;
const PLACEMENTS = {
  same: { title: 'same CPU', supervisor: LAST, target: LAST },
  apart: { title: 'apart', supervisor: 0, target: LAST },
};
const placements = opts.placements.split(',');
for (const name of placements) {
  if (!(name in PLACEMENTS)) {
    console.error(`bench/seccomp-notify.mjs: --placements takes same, apart or both (same,apart), not ${JSON.stringify(name)}`);
    process.exit(2);
  }
}
if (placements.includes('apart') && LAST === 0) {
  console.error('bench/seccomp-notify.mjs: "apart" needs two CPUs; run with --placements same');
  process.exit(2);
}

if (process.arch !== 'x64') {
  console.error('bench/seccomp-notify.mjs: the filters here are written for x86_64');
  process.exit(2);
}

const NR_GETPPID = 110;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const PR_SET_NO_NEW_PRIVS = 38;

/** x86_64's getppid notifies; everything else runs. */
function filter() {
  const insns = [
    [0x20, 0, 0, 4],
    [0x15, 0, 2, AUDIT_ARCH_X86_64],
    [0x20, 0, 0, 0],
    [0x15, 1, 0, NR_GETPPID],
    [0x06, 0, 0, 0x7fff0000],
    [0x06, 0, 0, C.SECCOMP_RET_USER_NOTIF],
  ];
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

const dir = mkdtempSync(join(tmpdir(), 'butter-bench-unotify-'));
const exe = join(dir, 'seccomp_notify_ref');
try {
  execFileSync(process.env.CC || 'cc', ['-O2', '-Wall', '-o', exe, join(HERE, 'seccomp_notify_ref.c')], { stdio: 'inherit' });
} catch (err) {
  console.error(`bench/seccomp-notify.mjs needs a C compiler (cc, or $CC): ${err.message}`);
  process.exit(2);
}

/** The target's line: p50, p99 and mean in ns. */
function parse(out, what) {
  const m = /^(\d+) (\d+) (\d+)\n$/.exec(out);
  if (!m) throw new Error(`${what}: the target printed ${JSON.stringify(out)}`);
  return { p50: Number(m[1]), p99: Number(m[2]), mean: Number(m[3]) };
}

/** Pins this process, every thread of it, to `cpu` (threads made later inherit it). */
function pinSelf(cpu) {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
  } catch (err) {
    console.error(`bench/seccomp-notify.mjs needs taskset (util-linux) to place the supervisor: ${err.message}`);
    process.exit(2);
  }
}

function runC(args, env = {}) {
  return new Promise((resolve, reject) => {
    const c = spawn(exe, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (s) => (out += s));
    c.on('close', (code) => (code === 0 ? resolve(parse(out, args[0])) : reject(new Error(`${args[0]} exited with ${code}`))));
  });
}

/** The target under butter-helper's filter, answered by `consume(notify)` in this process (pinned already). */
async function runButter(consume, env) {
  let notify;
  const { child, ready } = spawnHelper(exe, ['target', CALLS, WARMUP], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
    steps: [
      { op: 'prctl', option: PR_SET_NO_NEW_PRIVS, args: [1] },
      { op: 'seccomp', flags: C.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter: filter(), onListener: (fd) => (notify = new SeccompNotify(fd)) },
    ],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
  const closed = new Promise((resolve) => child.on('close', resolve));
  await ready;
  await consume(notify);
  const code = await closed;
  notify.close();
  if (code !== 0) throw new Error(`the target exited with ${code}`);
  return parse(out, 'butter');
}

/** Each case given a placement's CPUs: `target` for the target, `supervisor` for whoever answers. */
const cases = {
  'getppid, no filter (floor)': (p) => runC(['target', CALLS, WARMUP], { BUTTER_BENCH_UNFILTERED: '1', BUTTER_BENCH_TARGET_CPU: p.target }),
  'C supervisor (poll, RECV, SEND)': (p) => runC(['supervise', CALLS, WARMUP], { BUTTER_BENCH_TARGET_CPU: p.target, BUTTER_BENCH_SUPERVISOR_CPU: p.supervisor }),
  "Butter SeccompNotify, 'event' listener": (p) => {
    pinSelf(p.supervisor);
    return runButter((notify) => new Promise((resolve) => {
      notify.on('event', (n) => n.respond({ value: 42 }));
      notify.once('close', resolve); // closes itself once the target is gone
    }), { BUTTER_BENCH_TARGET_CPU: p.target });
  },
  'Butter SeccompNotify, for await': async (p) => {
    pinSelf(p.supervisor);
    return runButter(async (notify) => {
      for await (const n of notify) n.respond({ value: 42 });
    }, { BUTTER_BENCH_TARGET_CPU: p.target });
  },
};

printMachine(`seccomp user notification round trip (${CALLS} calls after ${WARMUP} warm-up, ${ROUNDS} rounds, median of rounds)`);
await checkIdle();
const others = otherLoad();
const results = Object.fromEntries(placements.map((pl) => [pl, Object.fromEntries(Object.keys(cases).map((k) => [k, []]))]));
for (let round = 0; round < ROUNDS; round++) {
  for (const pl of placements) {
    for (const [name, run] of Object.entries(cases)) results[pl][name].push(await run(PLACEMENTS[pl]));
  }
}
rmSync(dir, { recursive: true, force: true });

const C_CASE = 'C supervisor (poll, RECV, SEND)';
for (const pl of placements) {
  const { title, supervisor, target } = PLACEMENTS[pl];
  const stat = (name, key) => median(results[pl][name].map((r) => r[key]));
  const rows = Object.keys(cases).map((name) => [
    name,
    fmt(stat(name, 'p50') / 1000, 2),
    fmt(stat(name, 'p99') / 1000, 2),
    fmt(stat(name, 'mean') / 1000, 2),
    name.startsWith('getppid') ? '' : ratio(stat(name, 'p50'), stat(C_CASE, 'p50')),
    name.startsWith('getppid') ? '' : ratio(stat(name, 'p99'), stat(C_CASE, 'p99')),
  ]);
  console.log(`${title}: supervisor on CPU ${supervisor}, target on CPU ${target}\n`);
  console.log(table(['supervisor', 'p50 µs', 'p99 µs', 'mean µs', 'p50 / C', 'p99 / C'], rows));
  console.log('');
}
reportOtherLoad(others());
