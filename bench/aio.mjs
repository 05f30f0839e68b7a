// 4 KiB random reads over a 1 GiB file on a block-backed file system, at
// queue depths 1, 16, 64 and 256, from the page cache and with O_DIRECT:
// Butter's LinuxAio and PosixAio, Node's fs.read and FileHandle.read, and
// fio's libaio and posixaio engines (the C floor of each) and its io_uring
// engine (what POSIX AIO's threads cost against io_uring), in one run.
//
//   node bench/aio.mjs [--dir DIR] [--seconds S] [--rounds N] [--qd 1,16,64,256] [--modes cached,direct]
//
// DIR must be on a file system with O_DIRECT (ext4, xfs; default os.tmpdir()).
// The file is made, read once into the page cache, and deleted at the end.
// fio comes from Debian (scripts/tools.sh fio); it runs with --invalidate=0 so
// that the cached case stays cached. Each result is reads per second, the
// best of N rounds (the cases interleaved, so a burst of other load on a
// shared machine hits one round of one case, not all of its rounds); ratios
// are against Node's best at the same depth and against fio.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { LinuxAio, PosixAio, alignedBuffer } from 'butter';
import { fmt, printMachine, ratio, table } from './lib.mjs';

const { values: opts } = parseArgs({
  options: {
    dir: { type: 'string', default: os.tmpdir() },
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '3' },
    qd: { type: 'string', default: '1,16,64,256' },
    modes: { type: 'string', default: 'cached,direct' },
  },
});
const SIZE = 1 << 30;
const BS = 4096;
const BLOCKS = SIZE / BS;
const SECONDS = Number(opts.seconds);
const ROUNDS = Number(opts.rounds);
const DEPTHS = opts.qd.split(',').map(Number);
const MODES = opts.modes.split(',');

printMachine('aio: 4 KiB random reads, 1 GiB file');
const dir = fs.mkdtempSync(path.join(opts.dir, 'butter-bench-aio-'));
const file = path.join(dir, 'data');
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

{
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i += 8) chunk.writeUInt32LE(i * 2654435761 >>> 0, i);
  for (let off = 0; off < SIZE; off += chunk.length) fs.writeSync(fd, chunk, 0, chunk.length, off);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}
/** Reads the whole file once, so the cached case starts cached. */
function warm() {
  const fd = fs.openSync(file, 'r');
  const b = Buffer.alloc(1 << 20);
  for (let off = 0; off < SIZE; off += b.length) fs.readSync(fd, b, 0, b.length, off);
  fs.closeSync(fd);
}

const fioOk = spawnSync('scripts/tools.sh', ['fio'], { cwd: new URL('..', import.meta.url).pathname, stdio: 'inherit' }).status === 0;
if (!fioOk) console.log('fio could not be installed: its rows are left out');

// Random block numbers, the same sequence for every case.
const offsets = new Float64Array(1 << 20);
let seed = 12345;
for (let i = 0; i < offsets.length; i++) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  offsets[i] = (seed % BLOCKS) * BS;
}

/** Runs `depth` loops of `read(buffer, offset)` for SECONDS; reads per second. */
async function loops(depth, read) {
  const deadline = performance.now() + SECONDS * 1000;
  let done = 0;
  let next = 0;
  const worker = async () => {
    const buf = alignedBuffer(BS);
    while (performance.now() < deadline) {
      await read(buf, offsets[next++ & (offsets.length - 1)]);
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: depth }, worker));
  return done / ((performance.now() - start) / 1000);
}

const openFlags = (mode) => fs.constants.O_RDONLY | (mode === 'direct' ? fs.constants.O_DIRECT : 0);

const cases = {
  LinuxAio: async (mode, depth) => {
    const fd = fs.openSync(file, openFlags(mode));
    const aio = new LinuxAio({ entries: depth });
    try {
      return await loops(depth, (b, off) => aio.read(fd, b, off));
    } finally {
      aio.close();
      fs.closeSync(fd);
    }
  },
  PosixAio: async (mode, depth) => {
    const fd = fs.openSync(file, openFlags(mode));
    const aio = new PosixAio();
    try {
      return await loops(depth, (b, off) => aio.read(fd, b, off));
    } finally {
      aio.close();
      fs.closeSync(fd);
    }
  },
  'fs.read': async (mode, depth) => {
    const fd = fs.openSync(file, openFlags(mode));
    try {
      return await loops(depth, (b, off) => new Promise((resolve, reject) => fs.read(fd, b, 0, BS, off, (err, n) => (err ? reject(err) : resolve(n)))));
    } finally {
      fs.closeSync(fd);
    }
  },
  'FileHandle.read': async (mode, depth) => {
    const fh = await fs.promises.open(file, openFlags(mode));
    try {
      return await loops(depth, (b, off) => fh.read(b, 0, BS, off));
    } finally {
      await fh.close();
    }
  },
};

function fio(engine, mode, depth) {
  const r = spawnSync('fio', [
    '--name=bench', `--filename=${file}`, '--rw=randread', `--bs=${BS}`, `--size=${SIZE}`, `--iodepth=${depth}`,
    `--ioengine=${engine}`, `--direct=${mode === 'direct' ? 1 : 0}`, '--invalidate=0', '--time_based', `--runtime=${SECONDS}s`,
    '--output-format=json',
  ], { encoding: 'utf8' });
  if (r.status !== 0) return NaN;
  return JSON.parse(r.stdout).jobs[0].read.iops;
}

const results = {};
for (const mode of MODES) {
  if (mode === 'cached') warm();
  results[mode] = {};
  const best = (name, depth, value) => {
    const byDepth = (results[mode][name] ??= {});
    byDepth[depth] = Math.max(byDepth[depth] ?? 0, Number.isNaN(value) ? 0 : value);
  };
  for (const depth of DEPTHS) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, run] of Object.entries(cases)) best(name, depth, await run(mode, depth));
      if (fioOk) {
        for (const engine of ['libaio', 'posixaio', 'io_uring']) best(`fio ${engine}`, depth, fio(engine, mode, depth));
      }
    }
  }
  const rows = Object.entries(results[mode]).map(([name, byDepth]) => [name, ...DEPTHS.map((d) => fmt(byDepth[d] / 1000, 0))]);
  console.log(`\n${mode === 'cached' ? 'page cache' : 'O_DIRECT'}: thousands of reads per second`);
  console.log(table(['', ...DEPTHS.map((d) => `QD ${d}`)], rows));
  const nodeBest = (d) => Math.max(results[mode]['fs.read'][d], results[mode]['FileHandle.read'][d]);
  const ratioRows = [['LinuxAio / Node best', ...DEPTHS.map((d) => ratio(results[mode].LinuxAio[d], nodeBest(d)))],
    ['PosixAio / Node best', ...DEPTHS.map((d) => ratio(results[mode].PosixAio[d], nodeBest(d)))]];
  if (fioOk) {
    ratioRows.push(['LinuxAio / fio libaio', ...DEPTHS.map((d) => ratio(results[mode].LinuxAio[d], results[mode]['fio libaio'][d]))]);
    ratioRows.push(['PosixAio / fio posixaio', ...DEPTHS.map((d) => ratio(results[mode].PosixAio[d], results[mode]['fio posixaio'][d]))]);
    ratioRows.push(['fio posixaio / fio io_uring', ...DEPTHS.map((d) => ratio(results[mode]['fio posixaio'][d], results[mode]['fio io_uring'][d]))]);
  }
  console.log(table(['ratio', ...DEPTHS.map((d) => `QD ${d}`)], ratioRows));
}
