/*
 * The parent's side of butter-helper's protocol (src/helper/protocol.h): the
 * socketpair, a send that can carry an fd, and a receive that can take one.
 * Replies are one message each on a SOCK_SEQPACKET socket, read on the
 * handle's wakes, so they go through FdSource like any event;
 * src/core/helper.ts encodes and decodes.
 */
#include "butter.h"
#include "../helper/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * helperSocketpair(parent, child) -> [parentFd, childFd] | -errno. Each end
 * goes to its handle in this call (see butter_new_fd), which closes it from
 * then on. Both are close-on-exec: child_process.spawn dup2()s the child's
 * end onto the helper's fd, the only copy that crosses exec. Only the
 * parent's end is non-blocking; the helper waits for requests.
 */
static napi_value js_helper_socketpair(napi_env env, napi_callback_info info) {
  napi_value parent, child;
  if (!butter_args(env, info, "vv", &parent, &child)) return NULL;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return butter_errno_result(env, errno);
  int err = fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ? errno : 0;
  int32_t fds[2];
  napi_get_value_int32(env, butter_new_fd(env, sv[0], parent), &fds[0]);
  napi_get_value_int32(env, butter_new_fd(env, sv[1], child), &fds[1]);
  if (fds[0] < 0 || fds[1] < 0) return butter_errno_result(env, EBADF); /* the one taken closes with its handle */
  if (err) return butter_errno_result(env, err);
  return butter_pair(env, butter_int(env, fds[0]), butter_int(env, fds[1]));
}

/* helperSend(fd, message, passFd) -> bytes sent | -errno; passFd (>= 0) rides along with SCM_RIGHTS. */
static napi_value js_helper_send(napi_env env, napi_callback_info info) {
  int32_t fd, pass;
  const void *data;
  size_t len;
  if (!butter_args(env, info, "iBi", &fd, &data, &len, &pass)) return NULL;
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (pass >= 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof control.space;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass, sizeof pass);
  }
  /* No SIGPIPE when the helper is gone: EPIPE, and its EOF tells the rest. */
  ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  return butter_int(env, n < 0 ? -errno : n);
}

/*
 * helperRecv(handle, buffer) -> bytes | -errno: one reply (recvmsg) into
 * buffer, and after its 12 bytes, as an int32, the fd that came with it or
 * -1. That fd (a seccomp listener) arrives close-on-exec and is held by
 * `handle` in this call (butter_handle_hold), so it is closed with the
 * channel unless JS closes it first; one that cannot be held is closed here
 * and reads as -1, as does one the kernel dropped (EMFILE: MSG_CTRUNC).
 */
static napi_value js_helper_recv(napi_env env, napi_callback_info info) {
  butter_handle *h;
  void *data;
  size_t len;
  if (!butter_args(env, info, "hB", &h, (const void **)&data, &len)) return NULL;
  if (h->fd < 0 || len < sizeof(struct butter_helper_reply) + sizeof(int32_t)) return butter_errno_result(env, EBADF);
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(int) * 4)];
  } control;
  /* The whole buffer: a longer message than a reply reads as one, and JS refuses it. */
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
  ssize_t n = recvmsg(h->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n < 0) return butter_errno_result(env, errno);
  int32_t got = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (got < 0 && butter_handle_hold(h, fd)) got = fd;
      else close(fd); /* a reply carries one fd at most */
    }
  }
  memcpy((char *)data + sizeof(struct butter_helper_reply), &got, sizeof got);
  return butter_int(env, n);
}

void butter_init_helper(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"helperSocketpair", js_helper_socketpair},
      {"helperSend", js_helper_send},
      {"helperRecv", js_helper_recv},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_U32(c, BUTTER_HELPER_VERSION);
  BUTTER_U32(c, BUTTER_HELPER_HELLO);
  BUTTER_U32(c, BUTTER_HELPER_UNSHARE);
  BUTTER_U32(c, BUTTER_HELPER_SETNS);
  BUTTER_U32(c, BUTTER_HELPER_WRITE);
  BUTTER_U32(c, BUTTER_HELPER_SETHOSTNAME);
  BUTTER_U32(c, BUTTER_HELPER_PRCTL);
  BUTTER_U32(c, BUTTER_HELPER_CHDIR);
  BUTTER_U32(c, BUTTER_HELPER_EXEC);
  BUTTER_U32(c, BUTTER_HELPER_SECCOMP);
  BUTTER_U32(c, BUTTER_HELPER_EXEC_SEARCH);
  BUTTER_U32(c, BUTTER_HELPER_FAILED_OPEN);
  BUTTER_U32(c, BUTTER_HELPER_MAX_REQUEST);
  BUTTER_U32(c, BUTTER_HELPER_MOUNT);
  BUTTER_U32(c, BUTTER_HELPER_SETATTR);
  BUTTER_U32(c, BUTTER_HELPER_UMOUNT);
  BUTTER_U32(c, BUTTER_HELPER_PIVOT_ROOT);
  BUTTER_U32(c, BUTTER_HELPER_MKDIR);
  BUTTER_U32(c, BUTTER_HELPER_SYMLINK);
  BUTTER_U32(c, BUTTER_HELPER_FILE);
  BUTTER_U32(c, BUTTER_HELPER_FORK);
  BUTTER_U32(c, BUTTER_HELPER_SETSID);
  BUTTER_U32(c, BUTTER_HELPER_CAPS);
  BUTTER_U32(c, BUTTER_HELPER_CHDIR_TRY);
  BUTTER_U32(c, BUTTER_HELPER_MOUNT_TRY);
  BUTTER_U32(c, BUTTER_HELPER_MOUNT_MKTARGET);
  BUTTER_U32(c, BUTTER_HELPER_FORK_AS_PID_1);
  BUTTER_U32(c, BUTTER_HELPER_FAILED_MKDIR);
  BUTTER_U32(c, BUTTER_HELPER_FAILED_STAT);
  BUTTER_U32(c, BUTTER_HELPER_FAILED_READ);
  BUTTER_U32(c, BUTTER_HELPER_FAILED_SETATTR);
  BUTTER_U32(c, BUTTER_HELPER_FAILED_PRCTL);
  BUTTER_U32(c, SECCOMP_FILTER_FLAG_NEW_LISTENER); /* the SECCOMP flag whose reply carries an fd */
  napi_set_named_property(env, exports, "helperConstants", c);
}
