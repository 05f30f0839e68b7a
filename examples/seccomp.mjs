// A filter compiled in TypeScript and loaded into this very process, on every
// thread: new directories are refused from here on, and everything else works.
// Run: node examples/seccomp.mjs
import { seccompCompile, seccompLoad, seccompSyscallNumber } from 'butter';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// mkdir(2) is x86_64's; aarch64 has only mkdirat(2).
const names = ['mkdir', 'mkdirat'].filter((name) => seccompSyscallNumber(name) !== undefined);
const filter = seccompCompile(names.map((syscall) => ({ syscall, action: { errno: 'EACCES' } })), { defaultAction: 'allow' });
seccompLoad(filter);

try {
  mkdirSync(join(tmpdir(), `butter-example-${process.pid}`));
  console.log('mkdir: allowed?!');
} catch (err) {
  console.log(`mkdir: ${err.code}, as the filter says`);
}
const threads = readdirSync('/proc/self/task');
const filtered = threads.filter((t) => /^Seccomp:\s*2$/m.test(readFileSync(`/proc/self/task/${t}/status`, 'utf8')));
console.log(`${filtered.length} of ${threads.length} threads filtered; ${filter.length} instructions`);
