// readFile of 10,000 small files (1-4 KiB, on ext4, page cache warm):
// butter/fs beside node:fs/promises, with the reads issued in Promise.all
// batches of 1, 64 and 256, in one run.
//
//   node bench/fs.mjs [--dir DIR] [--files N] [--batches 1,64,256] [--rounds N]
//
// A case's number is its best round (files per second). The files are written
// once, read once by each side before timing, and deleted at the end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as butterFs from 'butter/fs';
import { checkIdle, fmt, otherLoad, printMachine, ratio, reportOtherLoad, table } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp' },
    files: { type: 'string', default: '10000' },
    batches: { type: 'string', default: '1,64,256' },
    rounds: { type: 'string', default: '3' },
  },
});
const count = Number(args.files);
const batches = args.batches.split(',').map(Number);

async function readAll(fs, paths, batch) {
  const start = performance.now();
  let bytes = 0;
  for (let i = 0; i < paths.length; i += batch) {
    const datas = await Promise.all(paths.slice(i, i + batch).map((p) => fs.readFile(p)));
    for (const d of datas) bytes += d.length;
  }
  return { rate: paths.length / ((performance.now() - start) / 1000), bytes };
}

async function main() {
  printMachine(`butter/fs: readFile of ${count} files of 1-4 KiB (${args.dir}; butter/fs on ${butterFs.backend().name})`);
  await checkIdle();
  const dir = mkdtempSync(join(args.dir, 'butter-bench-fs-'));
  const load = otherLoad();
  const results = {};
  try {
    const paths = Array.from({ length: count }, (_, i) => join(dir, `f${i}`));
    paths.forEach((p, i) => writeFileSync(p, Buffer.alloc(1024 + ((i * 977) % 3072), i)));
    const sides = { 'butter/fs': butterFs, 'fs/promises': nodeFs };
    for (const fs of Object.values(sides)) await readAll(fs, paths, 64); // page cache, and each side's warm-up
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const batch of batches) {
        const sizes = new Set();
        for (const [name, fs] of Object.entries(sides)) {
          const { rate, bytes } = await readAll(fs, paths, batch);
          sizes.add(bytes);
          results[`${batch}/${name}`] = Math.max(results[`${batch}/${name}`] ?? 0, rate);
        }
        if (sizes.size !== 1) throw new Error(`the sides read different byte counts: ${[...sizes]}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n## files/s, best of ${args.rounds} rounds\n`);
  console.log(table(['batch', 'butter/fs', 'fs/promises', 'butter/fs / fs/promises'], batches.map((b) => {
    const [ours, node] = [results[`${b}/butter/fs`], results[`${b}/fs/promises`]];
    return [b, fmt(ours, 0), fmt(node, 0), ratio(ours, node)];
  })));
  console.log('');
  reportOtherLoad(load());
}

await main();
