// 4 KiB random reads over a 1 GiB file on ext4, in page cache and with
// O_DIRECT, at several queue depths: Butter's IoUring and butter/fs's
// FileHandle.read (the same calls as Node's, on one shared ring) beside Node's
// FileHandle.read and fs.read (libuv's four pool threads), and fio's io_uring
// and psync engines as the C floor, in one run.
//
//   node bench/io-uring.mjs [--dir DIR] [--seconds S] [--qd 1,16,64,256] [--modes cached,direct]
//                           [--cases ioring,butterfs,filehandle,fsread,fio-io_uring,fio-psync] [--rounds N]
//
// QD N is N reads kept in flight: N loops each awaiting one read at a time
// (fio: --iodepth=N). psync is synchronous, one read per thread: its QD N is
// min(N, 16) threads (--numjobs). Each case runs `--seconds` (default 2) per
// round; a case's number is its best round. The file is written once (random
// bytes), read whole into the page cache, and deleted at the end; fio runs with
// --invalidate=0 so that it does not drop the cache the cached case is about.
// Targets (issue 17): IoUring >= 1.5x Node's best at QD >= 64, >= 0.8x fio io_uring.
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, constants as fsc, openSync, read, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { IoUring } from 'butter';
import * as butterFs from 'butter/fs';
import { checkIdle, fmt, otherLoad, printMachine, ratio, reportOtherLoad, table } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: '/work' },
    seconds: { type: 'string', default: '2' },
    qd: { type: 'string', default: '1,16,64,256' },
    modes: { type: 'string', default: 'cached,direct' },
    cases: { type: 'string', default: 'ioring,butterfs,filehandle,fsread,fio-io_uring,fio-psync' },
    rounds: { type: 'string', default: '2' },
  },
});
const SIZE = 2 ** 30;
const BS = 4096;
const BLOCKS = SIZE / BS;
const seconds = Number(args.seconds);
const depths = args.qd.split(',').map(Number);
const modes = args.modes.split(',');
const cases = args.cases.split(',');
const file = join(args.dir, `butter-bench-io-uring-${process.pid}.bin`);

/** A xorshift stream of block-aligned positions, the same for every case. */
function positions() {
  let x = 2463534242;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % BLOCKS) * BS;
  };
}

/**
 * A 4 KiB buffer at an address O_DIRECT accepts. JS cannot see addresses, so
 * try offsets into a larger buffer until a direct read takes one.
 */
function alignedBuffer(fd) {
  const big = Buffer.allocUnsafeSlow(BS * 2);
  for (let off = 0; off < BS; off += 16) {
    const b = big.subarray(off, off + BS);
    try {
      readSync(fd, b, 0, BS, 0);
      return b;
    } catch (err) {
      if (err.code !== 'EINVAL') throw err;
    }
  }
  throw new Error('no aligned buffer found for O_DIRECT');
}

/** Throws unless `fd` is open with O_DIRECT (its flags in /proc), so that a direct row is one. */
function assertDirect(fd) {
  const flags = parseInt(/^flags:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))[1], 8);
  if (!(flags & fsc.O_DIRECT)) throw new Error(`fd ${fd} is not open with O_DIRECT`);
}

/** Runs `qd` loops of `readOne(buffer, position)` for `seconds`; returns reads per second. */
async function loops(qd, fd, direct, readOne) {
  if (direct) assertDirect(fd);
  const next = positions();
  let count = 0;
  let stop = false;
  const end = performance.now() + seconds * 1000;
  const timer = setTimeout(() => (stop = true), seconds * 1000);
  const start = performance.now();
  await Promise.all(Array.from({ length: qd }, async () => {
    const buf = direct ? alignedBuffer(fd) : Buffer.allocUnsafeSlow(BS);
    while (!stop) {
      const n = await readOne(buf, next());
      if (n !== BS) throw new Error(`short read: ${n}`);
      count++;
    }
  }));
  clearTimeout(timer);
  void end;
  return count / ((performance.now() - start) / 1000);
}

const JS_CASES = {
  async ioring(qd, direct) {
    const fd = openSync(file, fsc.O_RDONLY | (direct ? fsc.O_DIRECT : 0));
    const ring = new IoUring({ entries: Math.max(qd, 8) });
    try {
      return await loops(qd, fd, direct, (buf, pos) => ring.read(fd, buf, pos));
    } finally {
      ring.close();
      closeSync(fd);
    }
  },
  async butterfs(qd, direct) {
    const fh = await butterFs.open(file, fsc.O_RDONLY | (direct ? fsc.O_DIRECT : 0));
    try {
      return await loops(qd, fh.fd, direct, async (buf, pos) => (await fh.read(buf, 0, BS, pos)).bytesRead);
    } finally {
      await fh.close();
    }
  },
  async filehandle(qd, direct) {
    const fh = await open(file, fsc.O_RDONLY | (direct ? fsc.O_DIRECT : 0));
    try {
      return await loops(qd, fh.fd, direct, async (buf, pos) => (await fh.read(buf, 0, BS, pos)).bytesRead);
    } finally {
      await fh.close();
    }
  },
  async fsread(qd, direct) {
    const fd = openSync(file, fsc.O_RDONLY | (direct ? fsc.O_DIRECT : 0));
    try {
      return await loops(qd, fd, direct, (buf, pos) => new Promise((resolve, reject) => read(fd, buf, 0, BS, pos, (err, n) => (err ? reject(err) : resolve(n)))));
    } finally {
      closeSync(fd);
    }
  },
};

function fio(engine, qd, direct) {
  const jobs = engine === 'psync' ? Math.min(qd, 16) : 1;
  const out = execFileSync('fio', [
    '--name=bench', `--filename=${file}`, '--rw=randread', `--bs=${BS}`, `--ioengine=${engine}`,
    `--iodepth=${engine === 'psync' ? 1 : qd}`, `--numjobs=${jobs}`, '--thread', '--group_reporting',
    `--direct=${direct ? 1 : 0}`, '--invalidate=0', '--time_based', `--runtime=${seconds}`, `--size=${SIZE}`,
    '--norandommap', '--randrepeat=0', '--output-format=json',
  ], { encoding: 'utf8' });
  return JSON.parse(out).jobs.reduce((sum, j) => sum + j.read.iops, 0);
}

async function main() {
  printMachine(`io_uring: 4 KiB random reads over a 1 GiB file (${args.dir})`);
  if (cases.some((c) => c.startsWith('fio'))) {
    try {
      execFileSync(join(root, 'scripts', 'tools.sh'), ['fio'], { stdio: 'inherit' });
    } catch {
      console.log('fio could not be installed: its cases are skipped.\n');
      for (const c of ['fio-io_uring', 'fio-psync']) if (cases.includes(c)) cases.splice(cases.indexOf(c), 1);
    }
  }
  await checkIdle();
  const fd = openSync(file, 'w');
  try {
    const chunk = Buffer.allocUnsafe(2 ** 20);
    for (let off = 0; off < SIZE; off += chunk.length) writeSync(fd, randomFillSync(chunk), 0, chunk.length, off);
  } finally {
    closeSync(fd);
  }
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'] }); // into the page cache
  const load = otherLoad();
  const results = {};
  try {
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const mode of modes) {
        const direct = mode === 'direct';
        for (const qd of depths) {
          for (const c of cases) {
            const iops = c.startsWith('fio-') ? fio(c.slice(4), qd, direct) : await JS_CASES[c](qd, direct);
            const key = `${mode}/${qd}/${c}`;
            results[key] = Math.max(results[key] ?? 0, iops);
          }
        }
      }
    }
  } finally {
    rmSync(file, { force: true });
  }
  for (const mode of modes) {
    console.log(`\n## ${mode === 'direct' ? 'O_DIRECT' : 'page cache'} (reads/s, best of ${args.rounds} rounds of ${seconds} s)\n`);
    const rows = depths.map((qd) => {
      const get = (c) => results[`${mode}/${qd}/${c}`];
      const node = Math.max(get('filehandle') ?? 0, get('fsread') ?? 0);
      return [
        qd, ...cases.map((c) => fmt(get(c), 0)),
        get('ioring') && node ? ratio(get('ioring'), node) : '-',
        get('butterfs') && node ? ratio(get('butterfs'), node) : '-',
        get('ioring') && get('fio-io_uring') ? ratio(get('ioring'), get('fio-io_uring')) : '-',
      ];
    });
    console.log(table(['QD', ...cases, 'ioring / Node best', 'butterfs / Node best', 'ioring / fio io_uring'], rows));
  }
  console.log('');
  reportOtherLoad(load());
}

await main();
