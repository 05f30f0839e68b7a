/** The seccomp_notify family: the listener's ioctls 1:1 and SeccompNotify. */
export {
  seccompNotifyRecv,
  seccompNotifySend,
  seccompNotifyIdValid,
  seccompNotifyAddfd,
  seccompNotifySetFlags,
  parseSeccompNotif,
} from '../raw/seccomp-notify';
export type { SeccompNotif, SeccompNotifResp, SeccompNotifAddfd } from '../raw/seccomp-notify';
export { SeccompNotify, SeccompNotification } from '../high/seccomp-notify';
export type { SeccompNotifyOptions, SeccompAnswer, SeccompAddFdOptions } from '../high/seccomp-notify';
