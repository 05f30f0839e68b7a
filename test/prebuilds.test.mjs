// The prebuilt addons (scripts/prebuild.sh) and the package as npm installs it:
// each binary is loaded where this machine can run it (x64 here, arm64 glibc
// under qemu-user with an arm64 Node from scripts/runtimes.sh); musl's, which
// no runtime here can load (every musl Node or Bun needs musl's libstdc++),
// are checked to import only what musl's libc defines. Skipped, with the
// reason, where the binaries or the tools are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './support/child.mjs';

const prebuild = (arch, libc) => join(root, 'prebuilds', `linux-${arch}`, `butter.napi.${libc}.node`);
const built = existsSync(prebuild('x64', 'glibc')) || 'no prebuilds/: run scripts/prebuild.sh';
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

// Loads an addon file and checks a call into the kernel and the errno table.
const probe = `const b = require(process.argv[1]); console.log(b.getpid() === process.pid, b.strerrorname(116));`;

test('the x64 glibc prebuild loads in this Node', { skip: built !== true && built }, () => {
  const out = execFileSync(process.execPath, ['-e', probe, prebuild('x64', 'glibc')], { encoding: 'utf8' });
  assert.equal(out, 'true ESTALE\n');
});

const arm64Node = join(root, '.runtimes', 'node22-arm64', 'package', 'bin', 'node');
const qemu = built !== true ? built
  : !has('qemu-aarch64') ? 'no qemu-aarch64 (Debian: qemu-user)'
  : !existsSync('/usr/aarch64-linux-gnu/lib/libstdc++.so.6') ? 'no arm64 libstdc++ (Debian: libstdc++6-arm64-cross)'
  : !existsSync(arm64Node) ? 'no arm64 Node: scripts/runtimes.sh --install node22-arm64'
  : true;

test('the arm64 glibc prebuild loads in an arm64 Node under qemu-user', { skip: qemu !== true && qemu, timeout: 120_000 }, () => {
  const out = execFileSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', arm64Node, '-e', probe, prebuild('arm64', 'glibc')], { encoding: 'utf8' });
  assert.equal(out, 'true ESTALE\n');
});

const muslLibc = {
  x64: '/usr/lib/x86_64-linux-musl/libc.so',
  arm64: join(root, '.sysroots', 'aarch64-linux-musl', 'lib', 'aarch64-linux-musl', 'libc.so'),
};
for (const arch of ['x64', 'arm64']) {
  const ready = built !== true ? built : !has('nm') ? 'no nm (binutils)' : !existsSync(muslLibc[arch]) ? `no musl libc for ${arch}: scripts/prebuild.sh --toolchains` : true;
  test(`the ${arch} musl prebuild imports only Node-API and what musl's libc defines`, { skip: ready !== true && ready }, () => {
    const symbols = (args, file) => execFileSync('nm', ['-D', ...args, file], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1));
    const imported = symbols(['--undefined-only'], prebuild(arch, 'musl'));
    assert.deepEqual(imported.filter((s) => s.includes('@')), [], 'no versioned (glibc) symbol');
    const musl = new Set(symbols(['--defined-only'], muslLibc[arch]));
    assert.deepEqual(imported.filter((s) => !/^(napi|uv)_/.test(s) && !musl.has(s)), []);
  });
}

test('npm install --ignore-scripts of the packed package loads the prebuild, with nothing compiled', { skip: built !== true && built, timeout: 180_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'butter-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npm = (...args) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, encoding: 'utf8' });
  const tarball = join(dir, npm('pack', root, '--pack-destination', dir, '--silent', '--ignore-scripts').trim().split('\n').at(-1));
  writeFileSync(join(dir, 'package.json'), '{"private":true}');
  npm('install', '--ignore-scripts', '--prefer-offline', tarball);
  const installed = join(dir, 'node_modules', 'butter');
  assert.equal(existsSync(join(installed, 'build')), false, 'nothing was built');
  assert.deepEqual(readdirSync(join(installed, 'prebuilds')).sort(), ['linux-arm64', 'linux-x64']);
  const out = execFileSync(process.execPath, ['-e', `const b = require('butter'); console.log(b.getpid() === process.pid, b.readinessBackend())`], { cwd: dir, encoding: 'utf8' });
  assert.equal(out, 'true uv\n');
});
