// scripts/host-state.js, npm test's guard: a run that changes the mount table
// or the host name fails. The changes here happen inside namespaces of the
// child's own, which the script, run in them, sees as "the machine".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from './support/child.mjs';
import { noMountNamespace, isRoot } from './support/mount-ns.mjs';

const script = join(root, 'scripts', 'host-state.js');
const guarded = (prefix, command) => spawnSync(prefix[0], [...prefix.slice(1), process.execPath, script, ...command], { encoding: 'utf8', timeout: 20_000 });

test('host-state passes the command\'s status through when nothing changed', () => {
  assert.equal(guarded(['env'], ['true']).status, 0);
  assert.equal(guarded(['env'], ['sh', '-c', 'exit 3']).status, 3);
});

test('host-state fails a run that leaves a mount behind, naming it', { skip: noMountNamespace }, () => {
  const prefix = isRoot ? ['unshare', '--mount', '--propagation', 'private', '--'] : ['unshare', '-Urm', '--'];
  const r = guarded(prefix, ['mount', '-t', 'tmpfs', 'butter-leak', '/mnt']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /host-state: the machine changed .*\n {2}mount new or changed: .* \/mnt .* - tmpfs butter-leak /);
});

test('host-state fails a run that renames the host', { skip: noMountNamespace }, () => {
  const prefix = isRoot ? ['unshare', '--uts', '--'] : ['unshare', '-Ur', '--uts', '--'];
  const r = guarded(prefix, ['hostname', 'butter-leaked-name']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /hostname: '.*' became 'butter-leaked-name'/);
});
