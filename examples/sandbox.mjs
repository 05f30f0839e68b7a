// A command in a sandbox: its own user, mount, PID, network, UTS, IPC and
// cgroup namespaces, a root built from a read-only /usr, a fresh /proc, /dev
// and /tmp, no capabilities, and a working directory of its own. Works
// without privileges where user namespaces are allowed (`butter doctor`).
// Run: node examples/sandbox.mjs
import { spawn } from 'butter';

const child = spawn('sh', ['-c', 'echo "pid $$ on $(hostname) in $(pwd)"; ls /; touch /usr/x 2>/dev/null || echo "/usr is read-only"'], {
  namespaces: ['user', 'mount', 'pid', 'net', 'uts', 'ipc', 'cgroup'],
  mounts: [
    { type: 'ro-bind', source: '/usr', target: '/usr' },
    { type: 'symlink', source: 'usr/bin', target: '/bin' },
    { type: 'symlink', source: 'usr/lib', target: '/lib' },
    { type: 'symlink', source: 'usr/lib64', target: '/lib64' },
    { type: 'proc', target: '/proc' },
    { type: 'dev', target: '/dev' },
    { type: 'tmpfs', target: '/tmp' },
    { type: 'dir', target: '/work' },
  ],
  cwd: '/work',
  hostname: 'sandbox',
  capabilities: [],
  dieWithParent: true,
  stdio: 'inherit',
});
child.on('error', (err) => {
  // A step failed (err.step says which): the command did not run.
  console.error(`${err.step}: ${err.message}`);
  process.exitCode = 1;
});
child.on('exit', (code) => console.log(`exited with code ${code}`));
