// The mount family against what a Node program has today: the mount(8),
// umount(8) and findmnt(8) commands through child_process.
//
//   node bench/mount.mjs [--rounds N] [--ops N]
//
// Cases, interleaved round by round, each a median over the rounds of the
// time per operation:
//   mount+umount   a tmpfs mounted and unmounted: Butter's mount()/umount2(),
//                  its Promise forms, and execFileSync('mount') + execFileSync('umount')
//   read table     the mount table as records: Butter's mountinfo(), listmount()
//                  + statmount() of each mount, and execFileSync('findmnt', ['--json'])
//
// It re-runs itself in a mount namespace of its own (`unshare --mount
// --propagation private`, or `unshare -Urm` without root), on a tmpfs of its
// own: the host's mounts are never touched.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { mount, umount2, mountinfo, listmount, statmount, promises, constants as C } from 'butter';
import { checkIdle, fmt, median, printMachine, ratio, table } from './lib.mjs';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    ops: { type: 'string', default: '200' },
  },
});

if (process.env.BUTTER_BENCH_MOUNT_NS !== readlinkSync('/proc/self/ns/mnt')) {
  const prefix = process.getuid() === 0 ? ['--mount', '--propagation', 'private'] : ['-Urm', '--propagation', 'private'];
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync('unshare', [...prefix, 'sh', '-c', 'BUTTER_BENCH_MOUNT_NS=$(readlink /proc/self/ns/mnt) exec "$0" "$@"', process.execPath, script, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const ROUNDS = Number(args.rounds);
const OPS = Number(args.ops);
const CLI_OPS = Math.max(1, Math.floor(OPS / 10)); // each command is a process: milliseconds, not microseconds
const base = '/tmp/butter-bench-mount';
mkdirSync(base, { recursive: true });
mount('tmpfs', base, 'tmpfs', 0, 'size=1m');
const dir = `${base}/m`;
mkdirSync(dir);
// A table of a realistic size: 50 more mounts beside the machine's.
for (let i = 0; i < 50; i++) {
  mkdirSync(`${base}/t${i}`);
  mount('tmpfs', `${base}/t${i}`, 'tmpfs', 0, 'size=64k');
}

const ALL = C.STATMOUNT_SB_BASIC | C.STATMOUNT_MNT_BASIC | C.STATMOUNT_MNT_ROOT | C.STATMOUNT_MNT_POINT | C.STATMOUNT_FS_TYPE | C.STATMOUNT_MNT_OPTS | C.STATMOUNT_SB_SOURCE;
const cases = {
  'butter mount() + umount2()': [OPS, () => {
    mount('tmpfs', dir, 'tmpfs', 0, 'size=64k');
    umount2(dir);
  }],
  'butter promises.mount() + umount2()': [OPS, async () => {
    await promises.mount('tmpfs', dir, 'tmpfs', 0, 'size=64k');
    await promises.umount2(dir);
  }],
  'execFileSync mount + umount': [CLI_OPS, () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    execFileSync('umount', [dir]);
  }],
  'butter mountinfo()': [OPS, () => mountinfo()],
  'butter listmount() + statmount() each': [OPS, () => listmount().map((id) => statmount(id, ALL))],
  'execFileSync findmnt --json': [CLI_OPS, () => JSON.parse(execFileSync('findmnt', ['--json', '--list']))],
};

printMachine('mount: mounting and reading the mount table, Butter against the commands');
await checkIdle();
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, [ops, fn]] of Object.entries(cases)) {
    const start = performance.now();
    for (let i = 0; i < ops; i++) await fn();
    if (round > 0) times[name].push(((performance.now() - start) * 1000) / ops); // round 0 warms up
  }
}
const us = (name) => median(times[name]);
console.log(`${mountinfo().length} mounts in the table; ${ROUNDS} rounds of ${OPS} operations (${CLI_OPS} for the commands)\n`);
console.log(table(['case', 'median µs/op', 'vs the command'], [
  ['butter mount() + umount2()', fmt(us('butter mount() + umount2()')), ratio(us('butter mount() + umount2()'), us('execFileSync mount + umount'))],
  ['butter promises.mount() + umount2()', fmt(us('butter promises.mount() + umount2()')), ratio(us('butter promises.mount() + umount2()'), us('execFileSync mount + umount'))],
  ['execFileSync mount + umount', fmt(us('execFileSync mount + umount')), ''],
  ['butter mountinfo()', fmt(us('butter mountinfo()')), ratio(us('butter mountinfo()'), us('execFileSync findmnt --json'))],
  ['butter listmount() + statmount() each', fmt(us('butter listmount() + statmount() each')), ratio(us('butter listmount() + statmount() each'), us('execFileSync findmnt --json'))],
  ['execFileSync findmnt --json', fmt(us('execFileSync findmnt --json')), ''],
]));
