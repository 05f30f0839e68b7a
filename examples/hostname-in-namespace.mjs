// Set the host name in a private UTS namespace, leaving the machine's alone.
// Run as root: unshare --uts node examples/hostname-in-namespace.mjs
// Without the privilege this prints the EPERM error, shaped like node:fs errors.
import { gethostname, sethostname, uname } from 'butter';

try {
  sethostname('butter-sandbox');
  console.log('host name here:', gethostname(), '| uname:', uname().nodename);
} catch (err) {
  console.error(`${err.code} (${err.errno}) from ${err.syscall}: ${err.message}`);
  process.exitCode = 1;
}
