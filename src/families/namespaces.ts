/** The namespaces family: unshare, setns, and the ioctls of namespace fds. */
export {
  unshare,
  setns,
  nsGetUserns,
  nsGetParent,
  nsGetNstype,
  nsGetOwnerUid,
  nsGetMntnsId,
  nsGetId,
  nsGetPidFromPidns,
  nsGetTgidFromPidns,
  nsGetPidInPidns,
  nsGetTgidInPidns,
} from '../raw/namespaces';
export type { ThreadOptions } from '../raw/namespaces';
