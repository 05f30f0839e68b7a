/*
 * seccomp: seccomp(2) and the prctl(2) options that go with it. Filters are
 * compiled, checked and interpreted in TypeScript (src/high/seccomp*.ts); here
 * a program is only the bytes of a `struct sock_filter` array, which the kernel
 * validates itself (EINVAL for a bad instruction, a jump out of the program or
 * more than BPF_MAXINSNS instructions).
 *
 * Filters, strict mode and no_new_privs belong to the calling thread, except
 * with SECCOMP_FILTER_FLAG_TSYNC, which gives every thread the caller's filter
 * (and its no_new_privs). glibc has no seccomp() wrapper: raw syscall.
 */
#include "butter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_seccomp(unsigned int op, unsigned int flags, void *args) {
  return syscall(SYS_seccomp, op, flags, args);
}

/* seccompSetModeStrict() -> 0 | -errno. From here on the calling thread may only read, write, _exit and sigreturn. */
static napi_value js_seccomp_set_mode_strict(napi_env env, napi_callback_info info) {
  return butter_int(env, sys_seccomp(SECCOMP_SET_MODE_STRICT, 0, NULL) < 0 ? -errno : 0);
}

/*
 * seccompSetModeFilter(flags, program) -> 0 | -errno, or with NEW_LISTENER the
 * listener fd, which the caller owns and closes; with TSYNC a positive result
 * is the id of a thread that could not be synchronized (nothing was loaded).
 * `program` holds whole sock_filter records (the TS layer checked its length).
 */
static napi_value js_seccomp_set_mode_filter(napi_env env, napi_callback_info info) {
  uint32_t flags;
  const void *data;
  size_t len;
  if (!butter_args(env, info, "uB", &flags, &data, &len)) return NULL;
  struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (struct sock_filter *)data};
  long r = sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog);
  return butter_int(env, r < 0 ? -errno : r);
}

/* seccompGetActionAvail(action) -> 0 (the kernel knows the action) | -errno (EOPNOTSUPP: it does not). */
static napi_value js_seccomp_get_action_avail(napi_env env, napi_callback_info info) {
  uint32_t action;
  if (!butter_args(env, info, "u", &action)) return NULL;
  return butter_int(env, sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0 ? -errno : 0);
}

/* seccompGetNotifSizes() -> [notif, resp, data] (the kernel's struct sizes, in bytes) | -errno */
static napi_value js_seccomp_get_notif_sizes(napi_env env, napi_callback_info info) {
  struct seccomp_notif_sizes sizes;
  if (sys_seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return butter_errno_result(env, errno);
  napi_value r;
  napi_create_array_with_length(env, 3, &r);
  napi_set_element(env, r, 0, butter_int(env, sizes.seccomp_notif));
  napi_set_element(env, r, 1, butter_int(env, sizes.seccomp_notif_resp));
  napi_set_element(env, r, 2, butter_int(env, sizes.seccomp_data));
  return r;
}

/* prctlSetNoNewPrivs() -> 0 | -errno. One way only: the kernel has no call to clear it. */
static napi_value js_prctl_set_no_new_privs(napi_env env, napi_callback_info info) {
  return butter_int(env, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0);
}

/* prctlGetNoNewPrivs() -> 0 | 1 | -errno */
static napi_value js_prctl_get_no_new_privs(napi_env env, napi_callback_info info) {
  int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  return butter_int(env, r < 0 ? -errno : r);
}

/* prctlGetSeccomp() -> SECCOMP_MODE_DISABLED | SECCOMP_MODE_FILTER | -errno (a strict-mode thread is killed by the call itself). */
static napi_value js_prctl_get_seccomp(napi_env env, napi_callback_info info) {
  int r = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  return butter_int(env, r < 0 ? -errno : r);
}

void butter_init_seccomp(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"seccompSetModeStrict", js_seccomp_set_mode_strict},
      {"seccompSetModeFilter", js_seccomp_set_mode_filter},
      {"seccompGetActionAvail", js_seccomp_get_action_avail},
      {"seccompGetNotifSizes", js_seccomp_get_notif_sizes},
      {"prctlSetNoNewPrivs", js_prctl_set_no_new_privs},
      {"prctlGetNoNewPrivs", js_prctl_get_no_new_privs},
      {"prctlGetSeccomp", js_prctl_get_seccomp},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));

  napi_value c;
  napi_create_object(env, &c);
  /* seccomp(2) operations: 3.17 (strict and filter mode themselves: 2.6.12 and 3.5, through prctl) */
  BUTTER_U32(c, SECCOMP_SET_MODE_STRICT);
  BUTTER_U32(c, SECCOMP_SET_MODE_FILTER);
  BUTTER_U32(c, SECCOMP_GET_ACTION_AVAIL); /* 4.14 */
  BUTTER_U32(c, SECCOMP_GET_NOTIF_SIZES);  /* 5.0 */
  /* filter flags */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_TSYNC);              /* 3.17 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_LOG);                /* 4.14 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_SPEC_ALLOW);         /* 4.17 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_NEW_LISTENER);       /* 5.0 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_TSYNC_ESRCH);        /* 5.7 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV); /* 5.19 */
  /* actions, in the kernel's order of precedence: 3.5 unless noted */
  BUTTER_U32(c, SECCOMP_RET_KILL_PROCESS); /* 4.14 */
  BUTTER_U32(c, SECCOMP_RET_KILL_THREAD);  /* 4.14 (the name; SECCOMP_RET_KILL is 3.5) */
  BUTTER_U32(c, SECCOMP_RET_KILL);
  BUTTER_U32(c, SECCOMP_RET_TRAP);
  BUTTER_U32(c, SECCOMP_RET_ERRNO);
  BUTTER_U32(c, SECCOMP_RET_USER_NOTIF); /* 5.0 */
  BUTTER_U32(c, SECCOMP_RET_TRACE);
  BUTTER_U32(c, SECCOMP_RET_LOG); /* 4.14 */
  BUTTER_U32(c, SECCOMP_RET_ALLOW);
  BUTTER_U32(c, SECCOMP_RET_ACTION_FULL); /* 4.14 */
  BUTTER_U32(c, SECCOMP_RET_ACTION);
  BUTTER_U32(c, SECCOMP_RET_DATA);
  /* PR_GET_SECCOMP's answers */
  BUTTER_U32(c, SECCOMP_MODE_DISABLED); /* 2.6.23 */
  BUTTER_U32(c, SECCOMP_MODE_STRICT);   /* 2.6.23 */
  BUTTER_U32(c, SECCOMP_MODE_FILTER);   /* 3.5 */
  /* prctl options */
  BUTTER_U32(c, PR_SET_NO_NEW_PRIVS); /* 3.5 */
  BUTTER_U32(c, PR_GET_NO_NEW_PRIVS); /* 3.5 */
  BUTTER_U32(c, PR_GET_SECCOMP);      /* 2.6.23 */
  /* seccomp_data.arch values the compiler knows: 3.5 (the audit constants are older) */
  BUTTER_U32(c, AUDIT_ARCH_X86_64);
  BUTTER_U32(c, AUDIT_ARCH_AARCH64);
  napi_set_named_property(env, exports, "constants", c);
}
