// Set the host name in a private UTS namespace, leaving the machine's alone.
// Run as root: unshare --uts node examples/hostname-in-namespace.mjs
// or unprivileged: unshare --user --map-root-user --uts node examples/hostname-in-namespace.mjs
// Outside a UTS namespace of its own it refuses: the name would be the machine's.
// Without the privilege it prints the EPERM error, shaped like node:fs errors.
import { gethostname, sethostname, uname } from 'butter';
import { readFileSync, readlinkSync } from 'node:fs';

// Ours must differ from pid 1's and from the parent's (the shell that ran
// `unshare` is still in the machine's). From inside a user namespace of its
// own neither can be read, and none is needed: there sethostname can only
// succeed in a UTS namespace that user namespace owns, never the machine's.
const uts = (pid) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/uts`);
  } catch {
    return null;
  }
};
const own = uts('self');
const others = [uts(1), uts(process.ppid)].filter((ns) => ns !== null);
const initialUserns = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';
if (own === null || others.includes(own) || (others.length === 0 && initialUserns)) {
  console.error('refusing: this process shares its UTS namespace (its host name) with the machine or its parent;');
  console.error('run it as: unshare --uts node examples/hostname-in-namespace.mjs');
  process.exit(2);
}

try {
  sethostname('butter-sandbox');
  console.log('host name here:', gethostname(), '| uname:', uname().nodename);
} catch (err) {
  console.error(`${err.code} (${err.errno}) from ${err.syscall}: ${err.message}`);
  process.exitCode = 1;
}
