/*
 * butter-helper: the child Butter starts (through Node's child_process) when
 * per-thread kernel state must be set for a new process. unshare(CLONE_NEWUSER)
 * refuses a multi-threaded caller and setns() or unshare() in a Node thread
 * changes that thread only; this program has one thread from start to exec,
 * so what it changes in itself is what the target inherits. It runs the
 * parent's requests in order (protocol.h) and then execs the target.
 *
 * It must not leak into the target: the protocol socket is moved to a high,
 * close-on-exec fd at once, fds that requests carry arrive close-on-exec
 * and are closed after use, and a seccomp listener is closed once its reply
 * has taken it to the parent.
 */
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Where the socket goes: above the fds a target is usually given. */
#define SOCKET_FD_MIN 64

/* Failed requests answer with this exit status, as a shell does for a command it could not run. */
#define EXIT_FAILED 127

extern char **environ;

static int sock = -1;
static uint32_t seq;
/* An fd the current request's reply carries (a seccomp listener), or -1; closed once sent. */
static int passing = -1;

/* Answers the current request; after a failure the helper is done. */
static void reply(int error, uint32_t value) {
  struct butter_helper_reply r = {.seq = seq, .error = error, .value = value};
  struct iovec iov = {.iov_base = &r, .iov_len = sizeof r};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  if (passing >= 0) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof control.space;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passing, sizeof passing);
  }
  /* A parent that is gone reads nothing, and there is nobody else to tell. */
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
  if (passing >= 0) close(passing);
  passing = -1;
  if (error) _exit(EXIT_FAILED);
}

/* Copies a payload that must be one C string (no NUL inside) into `out`. */
static int payload_string(const char *data, size_t len, char *out) {
  if (memchr(data, '\0', len)) return EPROTO;
  memcpy(out, data, len);
  out[len] = '\0';
  return 0;
}

static int write_file(const char *path, const char *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    reply(err, BUTTER_HELPER_FAILED_OPEN);
  }
  ssize_t n = write(fd, data, len);
  int err = n < 0 ? errno : (size_t)n != len ? EIO : 0;
  close(fd);
  return err;
}

/* Runs one request: returns 0 or the errno to answer with, or does not return (an exec, a failed open). */
static int run(uint32_t op, uint32_t value, const char *data, size_t len, int fd, char **argv, uint32_t *result) {
  static char path[BUTTER_HELPER_MAX_REQUEST + 1];
  if (op != BUTTER_HELPER_SETNS && fd >= 0) return EPROTO; /* closed by the caller */
  switch (op) {
  case BUTTER_HELPER_HELLO:
    return EPROTO; /* only first */
  case BUTTER_HELPER_UNSHARE:
    if (len) return EPROTO;
    return unshare((int)value) < 0 ? errno : 0;
  case BUTTER_HELPER_SETNS:
    if (fd < 0 || len) return EPROTO;
    return setns(fd, (int)value) < 0 ? errno : 0;
  case BUTTER_HELPER_WRITE:
    if (value > len || payload_string(data, value, path)) return EPROTO;
    return write_file(path, data + value, len - value);
  case BUTTER_HELPER_SETHOSTNAME:
    return sethostname(data, len) < 0 ? errno : 0;
  case BUTTER_HELPER_PRCTL: {
    uint64_t a[4];
    if (len != sizeof a) return EPROTO;
    memcpy(a, data, sizeof a);
    int r = prctl((int)value, a[0], a[1], a[2], a[3]);
    if (r < 0) return errno;
    *result = (uint32_t)r;
    return 0;
  }
  case BUTTER_HELPER_CHDIR:
    if (payload_string(data, len, path)) return EPROTO;
    return chdir(path) < 0 ? errno : 0;
  case BUTTER_HELPER_SECCOMP: {
    /* The payload sits 8 bytes into a uint64_t buffer: aligned for struct sock_filter. */
    if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > USHRT_MAX) return EPROTO;
    struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)), .filter = (void *)data};
    long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, value, &prog);
    if (r < 0) return errno;
    /* With NEW_LISTENER the result is the listener: it goes with the reply. */
    if (value & SECCOMP_FILTER_FLAG_NEW_LISTENER) passing = (int)r;
    return 0;
  }
  case BUTTER_HELPER_EXEC:
    if ((value & ~BUTTER_HELPER_EXEC_SEARCH) || payload_string(data, len, path)) return EPROTO;
    if (value & BUTTER_HELPER_EXEC_SEARCH) execvpe(path, argv, environ);
    else execve(path, argv, environ);
    return errno;
  default:
    return EPROTO;
  }
}

/* Receives one request into buf (room for a header and the largest payload); returns its size, 0 at EOF. */
static ssize_t receive(void *buf, size_t size, int *fd) {
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(int) * 4)];
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = size};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  *fd = -1;
  int extra = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      if (*fd < 0) *fd = got;
      else close(got), extra = 1;
    }
  }
  /* A request carries one fd at most, and fits: anything else is malformed. */
  if (n > 0 && (extra || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))) {
    if (*fd >= 0) close(*fd);
    errno = (msg.msg_flags & MSG_TRUNC) ? EMSGSIZE : EPROTO;
    return -1;
  }
  return n;
}

int main(int argc, char **argv) {
  char *end;
  long given = argc >= 3 ? strtol(argv[1], &end, 10) : -1;
  if (given < 0 || given > INT32_MAX || *end) return EXIT_FAILED;
  sock = fcntl((int)given, F_DUPFD_CLOEXEC, SOCKET_FD_MIN);
  if (sock < 0) return EXIT_FAILED;
  close((int)given);

  static uint64_t buf[(sizeof(struct butter_helper_request) + BUTTER_HELPER_MAX_REQUEST) / sizeof(uint64_t) + 1];
  for (seq = 0;; seq++) {
    int fd;
    ssize_t n = receive(buf, sizeof buf, &fd);
    if (n == 0) _exit(EXIT_FAILED); /* the parent gave up */
    if (n < 0) reply(errno, 0);
    struct butter_helper_request req;
    if ((size_t)n < sizeof req) {
      if (fd >= 0) close(fd);
      reply(EPROTO, 0);
    }
    memcpy(&req, buf, sizeof req);
    const char *data = (const char *)buf + sizeof req;
    size_t len = (size_t)n - sizeof req;
    uint32_t result = 0;
    int err;
    if (seq == 0) {
      if (fd >= 0) close(fd);
      err = req.op != BUTTER_HELPER_HELLO || len ? EPROTO
            : req.value != BUTTER_HELPER_VERSION ? EPROTONOSUPPORT
                                                : 0;
      result = BUTTER_HELPER_VERSION;
    } else {
      err = run(req.op, req.value, data, len, fd, argv + 2, &result);
      if (fd >= 0) close(fd);
    }
    reply(err, result);
  }
}
