// The prebuilt addons and helpers (scripts/prebuild.sh) and the package as npm
// installs it. This file first builds them from this checkout's sources, after
// installing the cross toolchains (`scripts/prebuild.sh --toolchains`: Debian
// packages, as root); where that install fails it builds this machine's own
// (linux-x64-glibc: gcc alone), and the other targets' tests skip, saying why.
// Each binary runs where this machine can run it: x64 natively (the musl
// helper under Debian's musl loader), arm64 under qemu-user (the addon in an
// arm64 Node from scripts/runtimes.sh). No runtime here can load a musl addon
// (README.md, "musl"): their imports are checked against musl's libc instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './support/child.mjs';

const { HelperChannel, encodeRequest } = await import('../dist/cjs/core/helper.js');
const { native } = await import('../dist/cjs/core/native.js');
const P = native.helperConstants;

const script = join(root, 'scripts', 'prebuild.sh');
const lastLine = (text) => text.trim().split('\n').at(-1);
const x64 = process.arch === 'x64' || `this test runs on x64 (this is ${process.arch})`;
let cross = x64;
if (x64 === true) {
  const all = spawnSync(script, ['--toolchains'], { encoding: 'utf8' });
  if (all.status !== 0) {
    cross = `the cross toolchains or their builds failed (scripts/prebuild.sh --toolchains: ${lastLine(all.stderr)})`;
    // Only this machine's then: nothing of an earlier or a half-done build may be packed.
    rmSync(join(root, 'prebuilds'), { recursive: true, force: true });
    execFileSync(script, ['linux-x64-glibc'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
}
const arm64Node = cross !== true ? cross : (() => {
  const r = spawnSync(join(root, 'scripts', 'runtimes.sh'), ['--install', 'node22-arm64'], { encoding: 'utf8' });
  return r.status === 0 ? lastLine(r.stdout) : `no arm64 Node (scripts/runtimes.sh --install node22-arm64: ${lastLine(r.stderr)})`;
})();

const prebuilds = join(root, 'prebuilds');
const addon = (arch, libc) => join(prebuilds, `linux-${arch}`, `butter.napi.${libc}.node`);
const helper = (arch, libc) => join(prebuilds, `linux-${arch}`, `butter-helper.${libc}`);
const skip = (reason) => ({ skip: reason !== true && reason });
// arm64 programs run under qemu-user with their C library's root.
const qemu = { glibc: ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'], musl: ['qemu-aarch64', '-L', join(root, '.sysroots', 'aarch64-linux-musl')] };

// Loads an addon file and checks a call into the kernel and the errno table.
const probe = `const b = require(process.argv[1]); console.log(b.process.getpid() === process.pid, b.strerrorname(116));`;

test('the x64 glibc prebuild loads in this Node', skip(x64), () => {
  const out = execFileSync(process.execPath, ['-e', probe, addon('x64', 'glibc')], { encoding: 'utf8' });
  assert.equal(out, 'true ESTALE\n');
});

test('the arm64 glibc prebuild loads in an arm64 Node under qemu-user', { ...skip(arm64Node.startsWith('/') || arm64Node), timeout: 120_000 }, () => {
  const out = execFileSync(qemu.glibc[0], [...qemu.glibc.slice(1), arm64Node, '-e', probe, addon('arm64', 'glibc')], { encoding: 'utf8' });
  assert.equal(out, 'true ESTALE\n');
});

const muslLibc = {
  x64: '/usr/lib/x86_64-linux-musl/libc.so',
  arm64: join(root, '.sysroots', 'aarch64-linux-musl', 'lib', 'aarch64-linux-musl', 'libc.so'),
};
for (const arch of ['x64', 'arm64']) {
  test(`the ${arch} musl prebuild imports only Node-API and what musl's libc defines`, skip(cross), () => {
    const symbols = (args, file) => execFileSync('nm', ['-D', ...args, file], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1));
    const imported = symbols(['--undefined-only'], addon(arch, 'musl'));
    assert.deepEqual(imported.filter((s) => s.includes('@')), [], 'no versioned (glibc) symbol');
    const musl = new Set(symbols(['--defined-only'], muslLibc[arch]));
    assert.deepEqual(imported.filter((s) => !/^(napi|uv)_/.test(s) && !musl.has(s)), []);
  });
}

/** Speaks the protocol to a prebuilt helper (started through `prefix`, qemu's) up to its exec of `echo`. */
async function echoThroughHelper(prefix, file) {
  const channel = new HelperChannel();
  const argv = [...prefix, file, '3', 'echo', 'the', 'helper', 'ran'];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit', channel.peerFd] });
  channel.closePeer();
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (out += s));
  try {
    channel.send(encodeRequest(P.BUTTER_HELPER_HELLO, P.BUTTER_HELPER_VERSION));
    assert.deepEqual(await channel.read(), { seq: 0, error: 0, value: P.BUTTER_HELPER_VERSION, fd: -1 });
    channel.send(encodeRequest(P.BUTTER_HELPER_EXEC, P.BUTTER_HELPER_EXEC_SEARCH, Buffer.from('echo')));
    assert.equal(await channel.read(), null, 'EOF: the exec closed the socket');
  } finally {
    channel.close();
  }
  assert.deepEqual(await once(child, 'close'), [0, null]);
  return out;
}

for (const [arch, libc, prefix, ready] of [
  ['x64', 'glibc', [], x64],
  ['x64', 'musl', [], cross],
  ['arm64', 'glibc', qemu.glibc, cross],
  ['arm64', 'musl', qemu.musl, cross],
]) {
  test(`the ${arch} ${libc} helper runs its protocol to the exec${prefix.length ? ' under qemu-user' : ''}`, { ...skip(ready), timeout: 60_000 }, async () => {
    assert.equal(await echoThroughHelper(prefix, helper(arch, libc)), 'the helper ran\n');
  });
}

test('npm install --ignore-scripts of the packed package loads the prebuilds, addon and helper, with nothing compiled', { ...skip(x64), timeout: 180_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'butter-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npm = (...args) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
  const tarball = join(dir, npm('pack', root, '--pack-destination', dir, '--silent', '--ignore-scripts').trim().split('\n').at(-1));
  writeFileSync(join(dir, 'package.json'), '{"private":true}');
  npm('install', '--ignore-scripts', '--prefer-offline', tarball);
  const installed = join(dir, 'node_modules', 'butter');
  assert.equal(existsSync(join(installed, 'build')), false, 'nothing was built');
  for (const platform of readdirSync(prebuilds)) {
    assert.deepEqual(readdirSync(join(installed, 'prebuilds', platform)).sort(), readdirSync(join(prebuilds, platform)).sort());
  }
  const check = `
    const b = require('butter');
    const { helperPath, spawnHelper } = require(${JSON.stringify(join(installed, 'dist', 'cjs', 'core', 'helper.js'))});
    console.log(b.getpid() === process.pid, b.readinessBackend(), helperPath());
    spawnHelper('echo', ['exec'], { stdio: 'inherit', steps: [{ op: 'chdir', path: '/' }] }).ready.then(() => console.log('ready'));`;
  const out = execFileSync(process.execPath, ['-e', check], { cwd: dir, encoding: 'utf8' }).split('\n');
  assert.equal(out[0], `true uv ${join(installed, 'prebuilds', 'linux-x64', 'butter-helper.glibc')}`);
  assert.deepEqual(out.slice(1).sort(), ['', 'exec', 'ready']);
});
