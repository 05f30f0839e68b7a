/** The seccomp family: seccomp(2) 1:1, and filters compiled by Butter, no libseccomp (rules or Docker/OCI profiles). */
export {
  seccompSetModeStrict,
  seccompSetModeFilter,
  seccompGetActionAvail,
  seccompGetNotifSizes,
  prctlSetNoNewPrivs,
  prctlGetNoNewPrivs,
  prctlGetSeccomp,
} from '../raw/seccomp';
export type { SeccompNotifSizes } from '../raw/seccomp';
export { SeccompFilter, seccompCompile, seccompInterpret, seccompDisassemble, seccompLoad, seccompSyscallNumber, seccompSyscallName } from '../high/seccomp';
export { seccompProfile } from '../high/seccomp-profile';
export type { SeccompProfileOptions } from '../high/seccomp-profile';
export type {
  SeccompAction,
  SeccompArch,
  SeccompArgCheck,
  SeccompRule,
  SeccompCompileOptions,
  SeccompVerdict,
  SeccompSyscall,
  SeccompLoadOptions,
} from '../high/seccomp';
