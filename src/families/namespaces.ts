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
  nsMntGetInfo,
  nsMntGetNext,
  nsMntGetPrev,
  nsGetPidFromPidns,
  nsGetTgidFromPidns,
  nsGetPidInPidns,
  nsGetTgidInPidns,
} from '../raw/namespaces';
export type { ThreadOptions, MntNsInfo } from '../raw/namespaces';
