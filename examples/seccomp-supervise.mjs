// Supervising a process's syscalls from JavaScript (seccomp user notification):
// a shell runs under a filter that stops its chdir and mkdir calls until this
// process answers; cd into /tmp is let through, everything else is denied, and
// each denial is logged with the process that made it. The shell is started
// by butter-helper (Butter's internal spawnHelper, which the sandbox family's
// spawn() builds on), which loads the filter in itself before the exec.
// x86_64 (the filter's syscall numbers); Linux 5.0 or later.
// Run: node examples/seccomp-supervise.mjs
import { SeccompNotify, constants as C } from 'butter';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';

const { spawnHelper } = createRequire(import.meta.url)('../dist/cjs/core/helper.js');

const NR = { chdir: 80, mkdir: 83, mkdirat: 258 };
const AUDIT_ARCH_X86_64 = 0xc000003e;
const PR_SET_NO_NEW_PRIVS = 38;

/** struct sock_filter[]: x86_64 processes' chdir, mkdir and mkdirat notify; the rest (and other ABIs) run. */
function filter() {
  const notify = Object.values(NR);
  const insns = [
    [0x20, 0, 0, 4], // ld seccomp_data.arch
    [0x15, 0, notify.length + 1, AUDIT_ARCH_X86_64], // jne → allow
    [0x20, 0, 0, 0], // ld seccomp_data.nr
    ...notify.map((nr, i) => [0x15, notify.length - i, 0, nr]), // jeq → notify
    [0x06, 0, 0, 0x7fff0000], // ret SECCOMP_RET_ALLOW
    [0x06, 0, 0, C.SECCOMP_RET_USER_NOTIF],
  ];
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach(([code, jt, jf, k], i) => {
    b.writeUInt16LE(code, i * 8);
    b.writeUInt8(jt, i * 8 + 2);
    b.writeUInt8(jf, i * 8 + 3);
    b.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return b;
}

const script = `cd /tmp && echo "sh: in $PWD"
cd /etc 2>/dev/null || echo "sh: cd /etc refused"
mkdir /tmp/butter-example-$$ 2>/dev/null || echo "sh: mkdir refused"`;

let notify;
const { child, ready } = spawnHelper('/bin/sh', ['-c', script], {
  stdio: ['ignore', 'inherit', 'inherit'],
  steps: [
    { op: 'prctl', option: PR_SET_NO_NEW_PRIVS, args: [1] },
    // The listener comes back before the exec: from here on, the shell waits for our answers.
    { op: 'seccomp', flags: C.SECCOMP_FILTER_FLAG_NEW_LISTENER, filter: filter(), onListener: (fd) => (notify = new SeccompNotify(fd)) },
  ],
});
const exited = once(child, 'exit');
await ready;

let seen = 0;
let denied = 0;
// The loop ends by itself when the shell (and every process it started) is gone.
for await (const n of notify) {
  seen++;
  const path = n.readString(n.syscall === 'mkdirat' ? n.args[1] : n.args[0]);
  // continue() lets the call run with whatever its arguments hold by then:
  // fine for a shell, not a boundary against a hostile process (see the guide).
  if (n.syscall === 'chdir' && path === '/tmp') {
    n.continue();
    continue;
  }
  const error = n.syscall === 'chdir' ? 'EACCES' : 'EPERM';
  const comm = readFileSync(`/proc/${n.pid}/comm`, 'utf8').trim();
  console.log(`denied ${n.syscall}(${JSON.stringify(path)}) for ${comm}[${n.pid}]: ${error}`);
  n.respond({ error });
  denied++;
}
const [code] = await exited;
console.log(`supervised ${seen} syscalls, denied ${denied}; the shell exited with ${code}`);
