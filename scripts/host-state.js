'use strict';
// `npm test`'s guard for the rule that tests never change the machine: runs
// the command it is given (the test runner) between two snapshots of this
// process's mount table (/proc/self/mountinfo) and the host and domain names,
// and fails, whatever the command's own status, if either snapshot differs.
// Tests mount, unshare and rename only in child processes in namespaces of
// their own; a mount or a name that leaks out of one shows here.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');

function snapshot() {
  return {
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line !== ''),
    hostname: os.hostname(),
    domainname: fs.readFileSync('/proc/sys/kernel/domainname', 'utf8').trim(),
  };
}

/** What changed between two snapshots, one line each; empty when nothing did. */
function changes(before, after) {
  const out = [];
  for (const name of ['hostname', 'domainname']) {
    if (before[name] !== after[name]) out.push(`${name}: '${before[name]}' became '${after[name]}'`);
  }
  const had = new Set(before.mounts);
  const has = new Set(after.mounts);
  for (const line of before.mounts) if (!has.has(line)) out.push(`mount gone or changed: ${line}`);
  for (const line of after.mounts) if (!had.has(line)) out.push(`mount new or changed: ${line}`);
  return out;
}

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error('usage: node scripts/host-state.js COMMAND [ARG...]');
  process.exit(2);
}
const before = snapshot();
const run = spawnSync(command, args, { stdio: 'inherit' });
const changed = changes(before, snapshot());
if (changed.length > 0) {
  console.error(`host-state: the machine changed while \`${[command, ...args].join(' ')}\` ran:\n  ${changed.join('\n  ')}`);
  process.exit(1);
}
if (run.error) throw run.error;
process.exit(run.status ?? 1);
