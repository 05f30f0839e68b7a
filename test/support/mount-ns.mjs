// Tests that mount run their bodies in a child process in a mount namespace of
// its own (`unshare --mount --propagation private`, or `unshare -Urm` without
// root), which refuses to go on unless its namespace is not ours, and mounts a
// tmpfs on /tmp there first: everything it makes lives in that tmpfs, and
// dies with the child. The host's mounts and files are never touched.
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { copySysErrorSource } from './errors.mjs';
import { runChild } from './child.mjs';

export const isRoot = process.getuid() === 0;
const PREFIX = isRoot ? ['unshare', '--mount', '--propagation', 'private', '--'] : ['unshare', '-Urm', '--propagation', 'private', '--'];

function unshareUnavailable() {
  const r = spawnSync(PREFIX[0], [...PREFIX.slice(1), 'true'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 ? false : `${PREFIX.slice(0, -1).join(' ')} is not available here`;
}
/** Why no mount namespace of a child's own can be made here (a skip reason), or false. */
export const noMountNamespace = unshareUnavailable();

const PRELUDE = `
import fs from 'node:fs';
import * as B from 'butter';
const C = B.constants;
const copy = ${copySysErrorSource};
/** The error fn throws, copied for the parent (null when it throws none). */
const fails = (fn) => { try { fn(); return null; } catch (e) { return copy(e); } };
const rejects = (p) => p.then(() => null, copy);
if (fs.readlinkSync('/proc/self/ns/mnt') === process.env.BUTTER_HOST_MNT_NS) throw new Error('not in a mount namespace of our own');
// Every family loaded first: the tmpfs on /tmp hides a checkout that lives under /tmp (a CI clone).
const lazy = (await import('node:module')).createRequire(import.meta.url)('butter');
for (const name of Object.keys(lazy)) void lazy[name];
B.mount('tmpfs', '/tmp', 'tmpfs', 0, 'size=16m');
const out = {};
`;

/**
 * Runs `body` (ESM source with B = butter, C = its constants, fs, `fails`,
 * `rejects`, and `out`, the object it fills) in a mount namespace of its own;
 * returns `out` as the child printed it (bigints as strings ending in 'n').
 * `prefix` adds a command before node (e.g. another unshare).
 */
export function inMountNamespace(body, { prefix = [] } = {}) {
  const source = `${PRELUDE}\n${body}\nprocess.stdout.write(JSON.stringify(out, (k, v) => typeof v === 'bigint' ? v + 'n' : v));`;
  const r = runChild(source, { prefix: [...PREFIX, ...prefix], env: { BUTTER_HOST_MNT_NS: readlinkSync('/proc/self/ns/mnt') } });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
