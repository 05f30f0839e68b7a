// seccomp: the per-syscall cost of Docker's default profile compiled by Butter,
// against the same profile built by libseccomp (Debian's libseccomp-dev,
// installed here by scripts/tools.sh) and against no filter, each in a C loop
// (bench/seccomp_loop.c) run in this same run; and the profile's compile time
// in Butter beside libseccomp's rules-to-program time: the first call in each
// of several fresh processes (what a program pays: it compiles once), with
// the import of Butter and the load of the seccomp family before it, and warm.
//
//   node bench/seccomp.mjs [--rounds N] [--calls N] [--fresh N]
//
// Goals (issue 16): cost <= libseccomp's, compile <= 1 ms.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkIdle, fmt, max, median, min, otherLoad, printMachine, ratio, reportOtherLoad, table } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, calls: { type: 'string', default: '2000000' }, fresh: { type: 'string', default: '11' } } });
const ROUNDS = Number(args.rounds);
const CALLS = Number(args.calls);
const FRESH = Number(args.fresh);

printMachine('bench/seccomp.mjs: Docker\'s default seccomp profile, Butter vs libseccomp');
await checkIdle();

const tmp = mkdtempSync(join(tmpdir(), 'butter-bench-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const cc = process.env.CC || 'cc';
const plain = join(tmp, 'seccomp_loop');
execFileSync(cc, ['-O2', '-o', plain, join(here, 'seccomp_loop.c')], { stdio: 'inherit' });
let withLib = null;
try {
  execFileSync(join(root, 'scripts/tools.sh'), ['libseccomp-dev'], { stdio: 'inherit' });
  withLib = join(tmp, 'seccomp_loop_lib');
  execFileSync(cc, ['-O2', '-DWITH_LIBSECCOMP', '-o', withLib, join(here, 'seccomp_loop.c'), '-lseccomp'], { stdio: 'inherit' });
} catch (err) {
  console.log(`libseccomp unavailable (${err.message.split('\n')[0]}): Butter and no filter only\n`);
  withLib = null;
}

// Butter's compile time in fresh processes, each: import Butter, load the family (its
// first name read), the first call, a second. The text is read before the clock starts.
const text = readFileSync(join(root, 'test/fixtures/docker-seccomp-default.json'), 'utf8');
const others = otherLoad();
const fresh = { import: [], family: [], first: [], second: [] };
for (let i = 0; i < FRESH; i++) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { readFileSync } from 'node:fs';
    const text = readFileSync(process.argv[1], 'utf8');
    const t0 = performance.now();
    const b = await import('butter');
    const t1 = performance.now();
    const { seccompProfile } = b;
    seccompProfile.length;
    const t2 = performance.now();
    seccompProfile(text);
    const t3 = performance.now();
    seccompProfile(text);
    console.log(JSON.stringify({ import: t1 - t0, family: t2 - t1, first: t3 - t2, second: performance.now() - t3 }));
  `, join(root, 'test/fixtures/docker-seccomp-default.json')], { cwd: root, encoding: 'utf8' });
  for (const [k, v] of Object.entries(JSON.parse(out))) fresh[k].push(v * 1e3);
}
const { seccompProfile } = await import('butter');
for (let i = 0; i < 50; i++) seccompProfile(text);
const warm = [];
for (let i = 0; i < 200; i++) {
  const t = process.hrtime.bigint();
  seccompProfile(text);
  warm.push(Number(process.hrtime.bigint() - t) / 1e3);
}
const filter = seccompProfile(text);
const bpf = join(tmp, 'docker.bpf');
writeFileSync(bpf, filter.program);
// The same program behind one load of an argument, whose value nothing uses: the kernel's
// action cache emulates a filter with the arguments unknown, so it caches nothing for this one.
const uncached = join(tmp, 'docker-uncached.bpf');
const argFirst = Buffer.alloc(8);
argFirst.writeUInt16LE(0x20, 0); // BPF_LD | BPF_W | BPF_ABS
argFirst.writeUInt32LE(16, 4); // seccomp_data.args[0]
writeFileSync(uncached, Buffer.concat([argFirst, filter.program]));

// The same profile as libseccomp rules: the selection seccompProfile makes (default capabilities, amd64, this kernel).
const profile = JSON.parse(text);
const caps = new Set(['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE']);
const kernel = release().split(/[.-]/).map(Number);
const atLeast = (v) => { const w = v.split('.').map(Number); return kernel[0] > w[0] || (kernel[0] === w[0] && kernel[1] >= w[1]); };
const act = (name, errnoRet = 1) => ({ SCMP_ACT_ALLOW: 0x7fff0000, SCMP_ACT_ERRNO: 0x50000 | errnoRet })[name];
const ops = { SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7 };
const lines = [`DEFAULT ${act(profile.defaultAction, profile.defaultErrnoRet)}`];
for (const s of profile.syscalls) {
  const inc = s.includes ?? {}, exc = s.excludes ?? {};
  if (inc.caps && !inc.caps.every((c) => caps.has(c))) continue;
  if (exc.caps && exc.caps.some((c) => caps.has(c))) continue;
  if (inc.arches && !inc.arches.includes('amd64')) continue;
  if (exc.arches && exc.arches.includes('amd64')) continue;
  if (inc.minKernel && !atLeast(inc.minKernel)) continue;
  const a = (s.args ?? []).map((x) => `${x.index} ${ops[x.op]} ${x.value} ${x.valueTwo ?? 0}`);
  for (const name of s.names) lines.push(`${act(s.action, s.errnoRet)} ${name} ${a.length} ${a.join(' ')}`);
}
const rulesFile = join(tmp, 'docker.rules');
writeFileSync(rulesFile, lines.join('\n') + '\n');

const runs = { none: [], butter: [], uncached: [], libseccomp: [] };
const libBuild = [];
function round(mode, exe, extra) {
  const out = execFileSync(exe, [mode, ...extra, String(CALLS)], { encoding: 'utf8' });
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
}
for (let i = 0; i < ROUNDS; i++) {
  runs.none.push(round('none', plain, []));
  runs.butter.push(round('bpf', plain, [bpf]));
  runs.uncached.push(round('bpf', plain, [uncached]));
  if (withLib) {
    const r = round('libseccomp', withLib, [rulesFile]);
    runs.libseccomp.push(r);
    libBuild.push(r.build);
  }
}

const calls = ['getppid', 'personality', 'mount'];
const rows = [];
for (const name of calls) {
  // The least disturbed round of each: on a shared machine a round's median measures the neighbours too.
  const none = min(runs.none.map((r) => r[name]));
  const butter = min(runs.butter.map((r) => r[name]));
  const lib = withLib ? min(runs.libseccomp.map((r) => r[name])) : NaN;
  const noCache = min(runs.uncached.map((r) => r[name]));
  rows.push([name, fmt(none), fmt(butter), withLib ? fmt(lib) : '-', fmt(butter - none), withLib ? fmt(lib - none) : '-', withLib ? ratio(butter, lib) : '-', fmt(noCache - none)]);
}
console.log(`Per syscall, ns (the fastest of ${ROUNDS} interleaved rounds of ${CALLS.toLocaleString('en-US')} calls; getppid is allowed, personality(0xffffffff) allowed on its argument, mount denied):\n`);
console.log(table(['syscall', 'no filter', 'Butter', 'libseccomp', 'Butter - none', 'libseccomp - none', 'Butter / libseccomp', 'Butter, argument read first - none'], rows));
console.log(`\nProgram size: Butter ${filter.length} instructions${withLib ? `, libseccomp ${runs.libseccomp[0].insns}` : ''}.`);
const spread = (v) => `${fmt(median(v))} (${fmt(min(v))}-${fmt(max(v))})`;
console.log(`\nIn ${FRESH} fresh processes, µs, median (min-max): import('butter') ${spread(fresh.import)}, loading the seccomp family ${spread(fresh.family)}, ` +
  `seccompProfile(docker) first call ${spread(fresh.first)}, second call ${spread(fresh.second)}.`);
console.log(`Compile time of the profile, warm, µs: Butter median ${fmt(median(warm))} (min ${fmt(min(warm))})` +
  (withLib ? `; libseccomp rules to program (C) median ${fmt(median(libBuild))} (min ${fmt(min(libBuild))})` : '') + '.');
reportOtherLoad(others());
