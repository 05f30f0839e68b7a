// Child processes and /proc views shared by the family tests.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The checkout: children run there, so 'butter' resolves to it. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs an ESM snippet in a child node (optionally under `prefix`, e.g.
 * `['unshare', '-U', '-r', '--']`); returns spawnSync's { status, stdout, stderr }.
 */
export function runChild(source, { prefix = [], timeout = 20_000, env = {} } = {}) {
  const [cmd, ...args] = [...prefix, process.execPath, '--input-type=module', '-e', source];
  // SIGKILL at the timeout: a child whose bug left SIGTERM blocked must still end.
  return spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout, killSignal: 'SIGKILL', env: { ...process.env, ...env } });
}

/** /proc/self/fdinfo/<fd> as { field: value }. */
export function fdinfo(fd) {
  return Object.fromEntries(
    readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(/:\s*/)),
  );
}
