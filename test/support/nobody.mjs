// Tests that drop to the user `nobody` need root to do so, and need `nobody` to
// be able to read this checkout (a clone under a private directory is not).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const NOBODY = 65534;
const root = fileURLToPath(new URL('../..', import.meta.url));

function probe() {
  if (process.getuid() !== 0) return 'needs root to run a child as nobody';
  const r = spawnSync(process.execPath, ['-e', "require('butter')"], { cwd: root, uid: NOBODY, gid: NOBODY, stdio: 'ignore', timeout: 20_000 });
  return r.status === 0 ? false : `nobody cannot load butter from ${root} (a parent directory is not readable by others?)`;
}

/** Why no child can run as nobody here (a skip reason), or false when one can. */
export const nobodyUnavailable = probe();
