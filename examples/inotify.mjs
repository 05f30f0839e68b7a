// Watch a directory: a rename comes as one event with both paths.
// Run: node examples/inotify.mjs
import { Inotify } from 'butter';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'butter-example-'));
const ino = new Inotify();
try {
  ino.add(dir, ['create', 'close_write', 'move', 'delete']);
  writeFileSync(join(dir, 'draft.txt'), 'hello');
  renameSync(join(dir, 'draft.txt'), join(dir, 'final.txt'));
  unlinkSync(join(dir, 'final.txt'));
  for await (const ev of ino) {
    if (ev.type === 'rename') console.log(`rename ${ev.oldPath} -> ${ev.path}`);
    else console.log(`${ev.type} ${ev.path}`);
    if (ev.type === 'delete') break;
  }
} finally {
  ino.close();
  rmSync(dir, { recursive: true, force: true });
}
