/*
 * namespaces, 1:1: unshare(2), setns(2) and the ioctls of namespace fds
 * (ioctl_nsfs(2)).
 *
 * Both calls change the calling thread only, and the kernel refuses the
 * forms that would have to change every thread of a multi-threaded process
 * (a user namespace; a mount namespace while the thread shares its
 * filesystem context): the TypeScript layer decides which forms to make and
 * words the errors. NS_GET_USERNS and NS_GET_PARENT return new fds (the
 * kernel makes them close-on-exec), which the caller owns.
 */
#include "butter.h"

#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nsfs.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000 /* 4.6 */
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* 5.6 */
#endif
/* Newer than the build's headers (Linux 6.1). */
#ifndef NS_GET_MNTNS_ID
#define NS_GET_MNTNS_ID _IOR(NSIO, 0x5, uint64_t) /* 6.8 */
#endif
#ifndef NS_GET_ID
#define NS_GET_ID _IOR(NSIO, 13, uint64_t) /* 6.18: any namespace's id */
#endif
/* struct mnt_ns_info of <linux/nsfs.h>, 6.12: what the NS_MNT_GET_* ioctls fill. */
struct butter_mnt_ns_info {
  uint32_t size;
  uint32_t nr_mounts;
  uint64_t mnt_ns_id;
};
#ifndef NS_MNT_GET_INFO
#define NS_MNT_GET_INFO _IOR(NSIO, 10, struct butter_mnt_ns_info) /* 6.12 */
#define NS_MNT_GET_NEXT _IOR(NSIO, 11, struct butter_mnt_ns_info) /* 6.12 */
#define NS_MNT_GET_PREV _IOR(NSIO, 12, struct butter_mnt_ns_info) /* 6.12 */
#endif
#ifndef NS_GET_PID_FROM_PIDNS
#define NS_GET_PID_FROM_PIDNS _IOR(NSIO, 0x6, int)  /* 6.9 */
#define NS_GET_TGID_FROM_PIDNS _IOR(NSIO, 0x7, int) /* 6.9 */
#define NS_GET_PID_IN_PIDNS _IOR(NSIO, 0x8, int)    /* 6.9 */
#define NS_GET_TGID_IN_PIDNS _IOR(NSIO, 0x9, int)   /* 6.9 */
#endif

/* unshare(flags) -> 0 | -errno */
static napi_value js_unshare(napi_env env, napi_callback_info info) {
  uint32_t flags;
  if (!butter_args(env, info, "u", &flags)) return NULL;
  return butter_int(env, unshare((int)flags) < 0 ? -errno : 0);
}

/* setns(fd, nstype) -> 0 | -errno. fd: a namespace fd or a pidfd (then nstype is a set of CLONE_NEW* flags, 5.8). */
static napi_value js_setns(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint32_t nstype;
  if (!butter_args(env, info, "iu", &fd, &nstype)) return NULL;
  return butter_int(env, setns(fd, (int)nstype) < 0 ? -errno : 0);
}

/*
 * nsIoctl(fd, request, arg) -> the ioctl's result | -errno, for the requests
 * whose answer is their result: NS_GET_USERNS and NS_GET_PARENT (new fds),
 * NS_GET_NSTYPE, and the pid translations, which take a pid as `arg`.
 */
static napi_value js_ns_ioctl(napi_env env, napi_callback_info info) {
  int32_t fd, arg;
  uint32_t request;
  if (!butter_args(env, info, "iui", &fd, &request, &arg)) return NULL;
  int r = ioctl(fd, (unsigned long)request, (unsigned long)arg);
  return butter_int(env, r < 0 ? -errno : r);
}

/* nsGetOwnerUid(fd) -> the owner of a user namespace, as seen from the caller's | -errno */
static napi_value js_ns_get_owner_uid(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!butter_args(env, info, "i", &fd)) return NULL;
  uid_t uid;
  if (ioctl(fd, NS_GET_OWNER_UID, &uid) < 0) return butter_errno_result(env, errno);
  return butter_int(env, uid);
}

/* nsIoctlU64(fd, request) -> the 64-bit value NS_GET_MNTNS_ID or NS_GET_ID writes (a namespace id), a BigInt | -errno */
static napi_value js_ns_ioctl_u64(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint32_t request;
  if (!butter_args(env, info, "iu", &fd, &request)) return NULL;
  uint64_t id;
  if (ioctl(fd, (unsigned long)request, &id) < 0) return butter_errno_result(env, errno);
  napi_value r;
  napi_create_bigint_uint64(env, id, &r);
  return r;
}

/*
 * nsMntInfo(fd, request) -> [result, nrMounts, mntNsId] | -errno for
 * NS_MNT_GET_INFO (result 0) and NS_MNT_GET_NEXT / NS_MNT_GET_PREV (result
 * a new fd for that mount namespace, which the caller owns; close-on-exec).
 */
static napi_value js_ns_mnt_info(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint32_t request;
  if (!butter_args(env, info, "iu", &fd, &request)) return NULL;
  struct butter_mnt_ns_info ns = {.size = sizeof ns};
  int r = ioctl(fd, (unsigned long)request, &ns);
  if (r < 0) return butter_errno_result(env, errno);
  napi_value arr, id;
  napi_create_array_with_length(env, 3, &arr);
  napi_create_bigint_uint64(env, ns.mnt_ns_id, &id);
  napi_set_element(env, arr, 0, butter_int(env, r));
  napi_set_element(env, arr, 1, butter_int(env, ns.nr_mounts));
  napi_set_element(env, arr, 2, id);
  return arr;
}

void butter_init_namespaces(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"unshare", js_unshare},
      {"setns", js_setns},
      {"nsIoctl", js_ns_ioctl},
      {"nsGetOwnerUid", js_ns_get_owner_uid},
      {"nsIoctlU64", js_ns_ioctl_u64},
      {"nsMntInfo", js_ns_mnt_info},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_U32(c, CLONE_NEWNS);     /* 2.4.19 */
  BUTTER_U32(c, CLONE_NEWUTS);    /* 2.6.19 */
  BUTTER_U32(c, CLONE_NEWIPC);    /* 2.6.19 */
  BUTTER_U32(c, CLONE_NEWUSER);   /* 3.8 for unprivileged users */
  BUTTER_U32(c, CLONE_NEWPID);    /* 2.6.24 */
  BUTTER_U32(c, CLONE_NEWNET);    /* 2.6.24 */
  BUTTER_U32(c, CLONE_NEWCGROUP); /* 4.6 */
  BUTTER_U32(c, CLONE_NEWTIME);   /* 5.6 */
  /* the other flags unshare takes */
  BUTTER_U32(c, CLONE_FILES);
  BUTTER_U32(c, CLONE_FS);
  BUTTER_U32(c, CLONE_SYSVSEM); /* 2.6.26 */
  BUTTER_U32(c, CLONE_THREAD);
  BUTTER_U32(c, CLONE_SIGHAND);
  BUTTER_U32(c, CLONE_VM);
  BUTTER_U32(c, NS_GET_USERNS);          /* 4.9 */
  BUTTER_U32(c, NS_GET_PARENT);          /* 4.9 */
  BUTTER_U32(c, NS_GET_NSTYPE);          /* 4.11 */
  BUTTER_U32(c, NS_GET_OWNER_UID);       /* 4.11 */
  BUTTER_U32(c, NS_GET_MNTNS_ID);        /* 6.8 */
  BUTTER_U32(c, NS_GET_PID_FROM_PIDNS);  /* 6.9 */
  BUTTER_U32(c, NS_GET_TGID_FROM_PIDNS); /* 6.9 */
  BUTTER_U32(c, NS_GET_PID_IN_PIDNS);    /* 6.9 */
  BUTTER_U32(c, NS_GET_TGID_IN_PIDNS);   /* 6.9 */
  BUTTER_U32(c, NS_GET_ID);              /* 6.18 */
  BUTTER_U32(c, NS_MNT_GET_INFO);        /* 6.12 */
  BUTTER_U32(c, NS_MNT_GET_NEXT);        /* 6.12 */
  BUTTER_U32(c, NS_MNT_GET_PREV);        /* 6.12 */
  napi_set_named_property(env, exports, "constants", c);
}
