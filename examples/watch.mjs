// A recursive watch: directories made inside the tree are watched as they appear.
// Run: node examples/watch.mjs
import { watch } from 'butter';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = mkdtempSync(join(tmpdir(), 'butter-example-'));
const w = watch(root, { recursive: true, ignore: ['**/*.tmp'] });
try {
  await w.ready;
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  writeFileSync(join(root, 'a', 'b', 'scratch.tmp'), '');   // ignored
  writeFileSync(join(root, 'a', 'b', 'notes.txt'), 'hi');
  for await (const ev of w) {
    console.log(ev.type, ev.path, ev.isDir ? '(dir)' : '');
    if (ev.path?.endsWith('notes.txt')) break;
  }
} finally {
  await w.close();
  rmSync(root, { recursive: true, force: true });
}
