// fanotify tests mark only a private tmpfs: each runs in a child that enters a
// new mount namespace (`unshare --mount --propagation private`), mounts a tmpfs
// on a fresh empty directory, checks that it is a tmpfs in a namespace other
// than ours, and marks only it (or filesystems it mounts inside it). The
// namespace and its mounts die with the child; here the directory stays empty.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

export const BUTTER_ESM = import.meta.resolve('butter');
export const isRoot = process.getuid() === 0;

function unshareUnavailable() {
  if (!isRoot) return 'needs root (CAP_SYS_ADMIN) for fanotify marks and a private mount namespace';
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0 ? false : 'unshare --mount is not available here';
}
/** Why no private tmpfs can be made here (a skip reason), or false. */
export const noNamespace = unshareUnavailable();

const PRELUDE = `
import fs from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import * as B from ${JSON.stringify(BUTTER_ESM)};
const C = B.constants;
const mnt = process.env.BUTTER_FAN_MNT;
// Refuse to go on unless this is a mount namespace of our own with our tmpfs on mnt.
if (fs.readlinkSync('/proc/self/ns/mnt') === process.env.BUTTER_PARENT_MNTNS) throw new Error('not in a new mount namespace');
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'butter-fanotify-test', mnt]);
if (fs.statfsSync(mnt).type !== 0x01021994) throw new Error('not a tmpfs on ' + mnt);
const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\\n');
if (!mountinfo.some((l) => l.split(' ')[4] === mnt && l.includes(' - tmpfs butter-fanotify-test '))) throw new Error('tmpfs not found in mountinfo');
const errorOf = (f) => {
  try { f(); } catch (e) { return { name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message }; }
  return { name: 'none' };
};
const result = {};
`;

/**
 * Runs `body` (module code; top-level await allowed; fills `result`) in a child
 * inside a private mount namespace with a tmpfs on `mnt`; returns its `result`.
 * The child is killed after `timeout` ms: a listener that dies releases every
 * permission event it had not answered.
 */
export function inPrivateTmpfs(body, { timeout = 30_000, env = {} } = {}) {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-fanotify-'));
  try {
    const r = spawnSync('unshare', childArgs(body), childOptions(mnt, env, timeout));
    assert.equal(r.status, 0, `child failed (${r.signal ?? r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout);
  } finally {
    fs.rmdirSync(mnt);
  }
}

/**
 * `inPrivateTmpfs` without blocking this process, for children that run side
 * by side; resolves spawn's { status, signal, stdout, stderr } (a child still
 * running at `timeout` is killed: `signal` 'SIGKILL').
 */
export async function inPrivateTmpfsAsync(body, { timeout = 30_000, env = {} } = {}) {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'butter-fanotify-'));
  try {
    const child = spawn('unshare', childArgs(body), childOptions(mnt, env, timeout));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const [status, signal] = await once(child, 'close');
    return { status, signal, stdout, stderr };
  } finally {
    fs.rmdirSync(mnt);
  }
}

function childArgs(body) {
  const code = `${PRELUDE}\ntry {\n${body}\n} finally {\n  process.stdout.write(JSON.stringify(result, (k, v) => typeof v === 'bigint' ? v.toString() : v));\n}\n`;
  return ['--mount', '--propagation', 'private', process.execPath, '--input-type=module', '-e', code];
}

function childOptions(mnt, env, timeout) {
  return {
    env: { ...process.env, ...env, BUTTER_FAN_MNT: mnt, BUTTER_PARENT_MNTNS: fs.readlinkSync('/proc/self/ns/mnt') },
    encoding: 'utf8',
    timeout,
    killSignal: 'SIGKILL',
  };
}
