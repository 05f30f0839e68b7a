/*
 * seccomp user notification (seccomp_unotify(2)): the ioctls of a listener
 * fd, which a filter returning SECCOMP_RET_USER_NOTIF made with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER (butter-helper's SECCOMP step, or
 * seccomp(2) in-process).
 *
 * The kernel copies its own struct seccomp_notif (and reads its own
 * seccomp_notif_resp) whatever size the caller meant: a kernel with larger
 * structs than these headers would write past ours. So every call goes
 * through a zeroed buffer of the kernel's size (SECCOMP_GET_NOTIF_SIZES, asked
 * once) and JS sees the fields these headers know.
 *
 * NOTIF_RECV blocks while nothing is pending, whatever O_NONBLOCK says, so
 * the non-blocking form polls first. A target that is gone after the poll
 * makes RECV fail with ENOENT rather than block: the kernel counts the request
 * until a RECV takes it.
 */
#include "butter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Linux 6.6: SECCOMP_IOCTL_NOTIF_SET_FLAGS and its one flag (newer than Debian 12's headers). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* Room for the kernel's structs: far more than any kernel's (80 and 24 bytes in 6.18). */
#define STRUCT_ROOM 512

static struct seccomp_notif_sizes sizes;

/* Reads the kernel's struct sizes into `sizes`, once per process: 0 or an errno. */
static int kernel_sizes(void) {
  static int err = -1;
  if (err < 0) {
    struct seccomp_notif_sizes s;
    err = syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &s) < 0 ? errno : 0;
    if (!err && (s.seccomp_notif > STRUCT_ROOM || s.seccomp_notif_resp > STRUCT_ROOM)) err = E2BIG;
    if (!err) sizes = s;
  }
  return err;
}

/*
 * One SECCOMP_IOCTL_NOTIF_RECV into `out` (sizeof(struct seccomp_notif)
 * bytes): 0 | -errno. With nonblock: -EAGAIN when nothing is pending and
 * -EPIPE when nothing can come any more (POLLHUP: no task uses the filter),
 * instead of blocking.
 */
static int recv_notif(int fd, void *out, bool nonblock) {
  int err = kernel_sizes();
  if (err) return -err;
  if (nonblock) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) < 0) return -errno;
    if (p.revents & POLLNVAL) return -EBADF;
    if (!(p.revents & POLLIN)) return p.revents & POLLHUP ? -EPIPE : -EAGAIN;
  }
  uint64_t room[STRUCT_ROOM / sizeof(uint64_t)];
  memset(room, 0, sizes.seccomp_notif); /* the kernel refuses a buffer that is not zeroed */
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, room) < 0) return -errno;
  memcpy(out, room, sizeof(struct seccomp_notif));
  return 0;
}

/*
 * The handle's read (butter_recv_fn), on a wake or handleRead: as many
 * notifications as fit, each a struct seccomp_notif, without blocking.
 * Skips those whose target went away before the RECV (ENOENT); stops at the
 * first other error, returned when nothing was received.
 */
static int64_t recv_notifs(int fd, void *data, size_t len) {
  size_t n = 0;
  int r = 0;
  while (len - n >= sizeof(struct seccomp_notif)) {
    r = recv_notif(fd, (char *)data + n, true);
    if (r == -ENOENT) continue;
    if (r < 0) break;
    n += sizeof(struct seccomp_notif);
  }
  return n ? (int64_t)n : len < sizeof(struct seccomp_notif) ? -EINVAL : r;
}

/* seccompNotifyRecv(fd, buffer, nonblock) -> 0 | -errno: recv_notif into buffer (80 bytes at least). */
static napi_value js_seccomp_notify_recv(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t len;
  bool nonblock;
  if (!butter_args(env, info, "iBb", &fd, (const void **)&data, &len, &nonblock)) return NULL;
  if (len < sizeof(struct seccomp_notif)) return butter_errno_result(env, EINVAL);
  return butter_int(env, recv_notif(fd, data, nonblock));
}

/*
 * seccompNotifySend(fd, id, val, error, flags) -> 0 | -errno:
 * SECCOMP_IOCTL_NOTIF_SEND. `val` is a bigint (its 64 bits) or a number (a
 * safe integer: the common answer then makes no bigint). `error` is 0 or a
 * negative errno; ENOENT when the target no longer waits (it died, or a
 * signal interrupted its syscall).
 */
static napi_value js_seccomp_notify_send(napi_env env, napi_callback_info info) {
  uint64_t id, val;
  int32_t fd, error;
  uint32_t flags;
  napi_value v;
  if (!butter_args(env, info, "iUviu", &fd, &id, &v, &error, &flags)) return NULL;
  napi_valuetype type = napi_undefined;
  napi_typeof(env, v, &type);
  if (type == napi_number) {
    int64_t n = 0;
    napi_get_value_int64(env, v, &n);
    val = (uint64_t)n;
  } else if (!butter_arg_uint64(env, v, &val)) {
    return NULL;
  }
  int err = kernel_sizes();
  if (err) return butter_errno_result(env, err);
  uint64_t room[STRUCT_ROOM / sizeof(uint64_t)];
  memset(room, 0, sizes.seccomp_notif_resp);
  struct seccomp_notif_resp resp = {.id = id, .val = (int64_t)val, .error = error, .flags = flags};
  memcpy(room, &resp, sizeof resp);
  return butter_int(env, ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, room) < 0 ? -errno : 0);
}

/* seccompNotifyIdValid(fd, id) -> 0 | -errno: SECCOMP_IOCTL_NOTIF_ID_VALID; ENOENT when the target no longer waits. */
static napi_value js_seccomp_notify_id_valid(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint64_t id;
  if (!butter_args(env, info, "iU", &fd, &id)) return NULL;
  return butter_int(env, ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 ? -errno : 0);
}

/*
 * seccompNotifyAddfd(fd, id, flags, srcfd, newfd, newfdFlags) -> the fd's number
 * in the target | -errno: SECCOMP_IOCTL_NOTIF_ADDFD. The kernel installs a
 * copy of srcfd in the target; srcfd stays the caller's.
 */
static napi_value js_seccomp_notify_addfd(napi_env env, napi_callback_info info) {
  int32_t fd, srcfd, newfd;
  uint64_t id;
  uint32_t flags, newfd_flags;
  if (!butter_args(env, info, "iUuiiu", &fd, &id, &flags, &srcfd, &newfd, &newfd_flags)) return NULL;
  struct seccomp_notif_addfd add = {.id = id, .flags = flags, .srcfd = (uint32_t)srcfd, .newfd = (uint32_t)newfd, .newfd_flags = newfd_flags};
  int r = ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &add);
  return butter_int(env, r < 0 ? -errno : r);
}

/* seccompNotifySetFlags(fd, flags) -> 0 | -errno: SECCOMP_IOCTL_NOTIF_SET_FLAGS (Linux 6.6). */
static napi_value js_seccomp_notify_set_flags(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint64_t flags;
  if (!butter_args(env, info, "iU", &fd, &flags)) return NULL;
  return butter_int(env, ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) < 0 ? -errno : 0);
}

/*
 * seccompNotifyDup(fd[, handle]) -> fd | -errno: a close-on-exec duplicate of a
 * listener, owned by `handle` from this call on, which reads it with
 * recv_notifs (butter_new_receiving_fd); the original stays the caller's.
 */
static napi_value js_seccomp_notify_dup(napi_env env, napi_callback_info info) {
  int32_t fd;
  napi_value handle = NULL;
  if (!butter_args(env, info, "i|v", &fd, &handle)) return NULL;
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  return butter_new_receiving_fd(env, dup < 0 ? -errno : dup, handle, recv_notifs);
}

void butter_init_seccomp_notify(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"seccompNotifyRecv", js_seccomp_notify_recv},
      {"seccompNotifySend", js_seccomp_notify_send},
      {"seccompNotifyIdValid", js_seccomp_notify_id_valid},
      {"seccompNotifyAddfd", js_seccomp_notify_addfd},
      {"seccompNotifySetFlags", js_seccomp_notify_set_flags},
      {"seccompNotifyDup", js_seccomp_notify_dup},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_U32(c, SECCOMP_RET_USER_NOTIF);                 /* 5.0 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_NEW_LISTENER);       /* 5.0 */
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV); /* 5.19 */
  BUTTER_U32(c, SECCOMP_USER_NOTIF_FLAG_CONTINUE);       /* 5.5 */
  BUTTER_U32(c, SECCOMP_ADDFD_FLAG_SETFD);               /* 5.9 */
  BUTTER_U32(c, SECCOMP_ADDFD_FLAG_SEND);                /* 5.14 */
  BUTTER_U32(c, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);     /* 6.6 */
  napi_set_named_property(env, exports, "constants", c);
}
