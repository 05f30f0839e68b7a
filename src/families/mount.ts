/** The mount family: mount, umount2, pivot_root, the new mount API, statmount/listmount, and mountinfo(). */
export { mount, umount2, pivotRoot, fsopen, fsconfig, fsmount, moveMount, openTree, fspick, mountSetattr, statmount, listmount, mountinfo, parseMountinfo } from '../raw/mount';
export type { MountAttr, Statmount, MountNamespaceOptions, ListmountOptions, MountInfo } from '../raw/mount';
