// Mount a tmpfs with the new mount API and a read-only view of it, in a mount
// namespace of this process's own, and read them back from the mount table.
// Run as root: unshare --mount --propagation private node examples/mount-in-namespace.mjs
// or unprivileged: unshare --user --map-root-user --mount node examples/mount-in-namespace.mjs
// Outside a mount namespace of its own it refuses: the mounts would be the machine's.
import { fsopen, fsconfig, fsmount, moveMount, openTree, mountSetattr, mountinfo, umount2, constants as C } from 'butter';
import { closeSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mnt = (pid) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
};
const own = mnt('self');
if (own === null || [mnt(1), mnt(process.ppid)].includes(own)) {
  console.error('refusing: this process shares its mount namespace with the machine or its parent;');
  console.error('run it as: unshare --mount --propagation private node examples/mount-in-namespace.mjs');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'butter-example-'));
const scratch = join(dir, 'scratch');
const view = join(dir, 'view');
mkdirSync(scratch);
mkdirSync(view);
try {
  // A tmpfs, configured and created before it is mounted anywhere. The fds are ours to close.
  const ctx = fsopen('tmpfs');
  fsconfig(ctx, C.FSCONFIG_SET_STRING, 'size', '1m');
  fsconfig(ctx, C.FSCONFIG_CMD_CREATE);
  const mount = fsmount(ctx, C.FSMOUNT_CLOEXEC, C.MOUNT_ATTR_NODEV | C.MOUNT_ATTR_NOSUID);
  moveMount(mount, '', C.AT_FDCWD, scratch, C.MOVE_MOUNT_F_EMPTY_PATH);
  closeSync(mount);
  closeSync(ctx);
  writeFileSync(join(scratch, 'note.txt'), 'hello');

  // A read-only copy of it elsewhere: a detached clone, made read-only, then attached.
  const tree = openTree(C.AT_FDCWD, scratch, C.OPEN_TREE_CLONE | C.OPEN_TREE_CLOEXEC);
  mountSetattr(tree, '', C.AT_EMPTY_PATH, { attrSet: C.MOUNT_ATTR_RDONLY });
  moveMount(tree, '', C.AT_FDCWD, view, C.MOVE_MOUNT_F_EMPTY_PATH);
  closeSync(tree);

  for (const m of mountinfo().filter((m) => m.mountPoint.startsWith(dir))) {
    console.log(`${m.fsType} on ${m.mountPoint.slice(dir.length + 1)}: ${m.options.join(',')} (${m.superOptions.filter((o) => o.startsWith('size=')).join(',')})`);
  }
} finally {
  for (const m of [view, scratch]) {
    try {
      umount2(m, C.MNT_DETACH);
    } catch {
      // Not mounted: the example stopped before.
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
