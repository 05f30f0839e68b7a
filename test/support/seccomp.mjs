// Seccomp filters written by hand (struct sock_filter arrays) and a process
// started under one through butter-helper, for the seccomp_notify tests and
// the fault harness. x86_64 only: the syscall numbers are its.
import { spawnHelper } from '../../dist/cjs/core/helper.js';
import B from 'butter';

export const x86_64 = process.arch === 'x64';
export const NOT_X86_64 = !x86_64 && 'the filters here are written for x86_64';
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const NR = { openat: 257, chdir: 80, getppid: 110, uname: 63, kill: 62 };
const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_RET_ALLOW = 0x7fff0000;

/** A filter that notifies the syscalls `nrs` of x86_64 processes and allows everything else. */
export function notifyFilter(nrs) {
  const k = nrs.length;
  const insns = [
    [0x20, 0, 0, 4], // ld arch
    [0x15, 0, k + 1, AUDIT_ARCH_X86_64], // another arch: allow
    [0x20, 0, 0, 0], // ld nr
    ...nrs.map((nr, i) => [0x15, k - i, 0, nr]), // one of them: notify
    [0x06, 0, 0, SECCOMP_RET_ALLOW],
    [0x06, 0, 0, B.constants.SECCOMP_RET_USER_NOTIF],
  ];
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

/**
 * Starts `file args` under notifyFilter(nrs); `listener` resolves with the
 * SeccompNotify (made with `options`) as soon as the helper's reply brings it,
 * before the exec (which the filter may stop too).
 */
export function supervised(file, args, nrs, { options, ...spawnOptions } = {}) {
  let made;
  const listener = new Promise((resolve) => (made = resolve));
  const { child, ready } = spawnHelper(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...spawnOptions,
    steps: [
      { op: 'prctl', option: PR_SET_NO_NEW_PRIVS, args: [1] },
      { op: 'seccomp', flags: B.constants.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter: notifyFilter(nrs), onListener: (fd) => made(new B.SeccompNotify(fd, options)) },
    ],
  });
  return { child, ready, listener };
}

/** Everything a child writes, and how it exits. */
export async function outcome(child) {
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s) => (err += s));
  const [code, signal] = await new Promise((resolve) => child.once('close', (...a) => resolve(a)));
  return { out, err, code, signal };
}
