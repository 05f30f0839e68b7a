// Supervising a process's syscalls from JavaScript (seccomp user notification):
// a shell runs in a sandbox under a filter that stops its chdir and mkdir
// calls until this process answers; cd into /tmp is let through, everything
// else is denied, and each denial is logged with the process that made it.
// Needs user namespaces (the sandbox is unprivileged); Linux 5.0 or later.
// Run: node examples/seccomp-supervise.mjs
import { spawn, seccompCompile } from 'butter';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';

const filter = seccompCompile(
  ['chdir', 'mkdir', 'mkdirat'].map((syscall) => ({ syscall, action: 'user_notif' })),
  { defaultAction: 'allow' },
);

const script = `cd /tmp && echo "sh: in $PWD"
cd /etc 2>/dev/null || echo "sh: cd /etc refused"
mkdir /tmp/butter-example-$$ 2>/dev/null || echo "sh: mkdir refused"`;

const child = spawn('/bin/sh', ['-c', script], {
  namespaces: ['user', 'mount'],
  mounts: [
    { type: 'ro-bind', source: '/', target: '/' },
    { type: 'dev', target: '/dev' },
    { type: 'tmpfs', target: '/tmp' },
  ],
  stdio: ['ignore', 'inherit', 'inherit'],
  seccomp: filter,
  seccompNotify: true,
});
const exited = once(child, 'exit');
// The listener arrives before the shell runs: from then on, it waits for our answers.
const notify = await child.seccompNotify;

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
