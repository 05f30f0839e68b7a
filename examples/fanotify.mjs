// fanotify with file handles (FAN_REPORT_DFID_NAME): entries created, renamed and
// deleted in one directory, with full paths and the acting pid. An inode mark on
// a directory this example makes: it watches nothing else of the machine's, and
// works without privileges on Linux 5.13 and later (paths then need
// CAP_DAC_READ_SEARCH for open_by_handle_at(2); without it, only the names).
// Run: node examples/fanotify.mjs
import { Fanotify } from 'butter';
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'butter-example-'));
let fan;
try {
  fan = new Fanotify({ report: ['dfid_name_target'] });
  fan.mark(dir, { inode: true, events: ['create', 'rename', 'delete', 'event_on_child'] });
  writeFileSync(join(dir, 'draft.txt'), 'hello');
  renameSync(join(dir, 'draft.txt'), join(dir, 'final.txt'));
  unlinkSync(join(dir, 'final.txt'));
  for await (const ev of fan) {
    const what = ev.path === null ? `(name ${ev.name})` : ev.oldPath ? `${ev.oldPath} -> ${ev.path}` : ev.path;
    console.log(`${ev.names.join('+')} ${what} by pid ${ev.pid}`);
    if (ev.names.includes('delete')) break;
  }
} catch (err) {
  console.error(`${err.code}: ${err.message}`);   // EPERM before Linux 5.13 without CAP_SYS_ADMIN
  process.exitCode = 1;
} finally {
  fan?.close();
  rmSync(dir, { recursive: true, force: true });
}
