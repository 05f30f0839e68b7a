// Signal delivery latency: from kill() in a child process to the JS callback,
// Butter's SignalFd against Node's process.on, in the same run.
//
//   node bench/signals.mjs [--count N]
//
// The child stamps CLOCK_MONOTONIC (shared by all processes) into a file just
// before each kill(), and sends one signal per millisecond so that signals never
// coalesce; the parent reads the stamp when its callback runs. The file read is
// the same for both, so it cancels out of the comparison.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readSync, rmSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { SignalFd } from 'butter';
import { fmt, max, median, printMachine, quantile, ratio, table } from './lib.mjs';

const { values: args } = parseArgs({ options: { count: { type: 'string', default: '3000' } } });
const COUNT = Number(args.count);

const dir = mkdtempSync(join(tmpdir(), 'butter-bench-signals-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const stampFile = join(dir, 'stamp');
closeSync(openSync(stampFile, 'w'));

const sender = `
  const { openSync, writeSync } = require('node:fs');
  const fd = openSync(${JSON.stringify(stampFile)}, 'r+');
  const buf = Buffer.alloc(8);
  const ppid = process.ppid;
  let next = process.hrtime.bigint() + 20_000_000n;
  for (let i = 0; i < ${COUNT}; i++) {
    while (process.hrtime.bigint() < next); // pace: one signal per ms
    next += 1_000_000n;
    buf.writeBigUInt64LE(process.hrtime.bigint());
    writeSync(fd, buf, 0, 8, 0);
    process.kill(ppid, 'SIGUSR2');
  }`;

const stampFd = openSync(stampFile, 'r');
const stampBuf = Buffer.alloc(8);
function latencyUs() {
  const now = process.hrtime.bigint();
  readSync(stampFd, stampBuf, 0, 8, 0);
  return Number(now - stampBuf.readBigUInt64LE()) / 1000;
}

async function measure(name, subscribe) {
  const samples = [];
  const done = subscribe(() => samples.push(latencyUs()));
  const cpu0 = process.cpuUsage();
  const child = spawn(process.execPath, ['-e', sender], { stdio: 'inherit' });
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${name}: sender failed`);
  await new Promise((r) => setTimeout(r, 50)); // the last signal's callback
  const cpu = process.cpuUsage(cpu0);
  done();
  return { name, samples, cpuUs: (cpu.user + cpu.system) / samples.length, userUs: cpu.user / samples.length, sysUs: cpu.system / samples.length };
}

printMachine('signals: delivery latency, kill() in a child to the JS callback');

const candidates = [
  [
    'Butter SignalFd (for await)',
    (cb) => {
      const sfd = new SignalFd('SIGUSR2');
      (async () => {
        for await (const _ of sfd) cb();
      })();
      return () => sfd.close();
    },
  ],
  [
    "Node process.on('SIGUSR2')",
    (cb) => {
      process.on('SIGUSR2', cb);
      return () => process.off('SIGUSR2', cb);
    },
  ],
];
// Two rounds, alternating; the first warms up (JIT, first-touch allocations) and is not reported.
let results = [];
for (let round = 0; round < 2; round++) {
  results = [];
  for (const [name, subscribe] of candidates) results.push(await measure(name, subscribe));
}

const base = results[1];
console.log(
  table(
    ['callback', 'received', 'p50 µs', 'p99 µs', 'max µs', 'CPU µs/signal', 'p50 vs process.on'],
    results.map((r) => [
      r.name,
      `${r.samples.length}/${COUNT}`,
      fmt(median(r.samples)),
      fmt(quantile(r.samples, 0.99)),
      fmt(max(r.samples)),
      `${fmt(r.cpuUs)} (${fmt(r.userUs)} user)`,
      ratio(median(r.samples), median(base.samples)),
    ]),
  ),
);
