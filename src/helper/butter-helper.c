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
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000 /* Linux 5.12, with mount_setattr */
#endif

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

/* Splits a payload of two strings, the first `first` bytes long, into `a` and `b` (each room for the whole payload). */
static int payload_pair(const char *data, size_t len, uint32_t first, char *a, char *b) {
  if (first > len) return EPROTO;
  int err = payload_string(data, first, a);
  return err ? err : payload_string(data + first, len - first, b);
}

/* mkdir -p: makes `path` and its missing parents, all with `mode` (as bwrap); an existing directory is no error (mkdir's errno otherwise). */
static int make_dirs(char *path, mode_t mode) {
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char c = *p;
    *p = '\0';
    struct stat st;
    int err = mkdir(path, mode) == 0 || (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) ? 0 : errno;
    *p = c;
    if (err) return err;
    if (c == '\0') return 0;
  }
}

/* Makes the parents of `path`. */
static int make_parents(char *path) {
  char *slash = strrchr(path, '/');
  if (slash == NULL || slash == path) return 0;
  *slash = '\0';
  int err = make_dirs(path, 0755);
  *slash = '/';
  return err;
}

static int mount_setattr_(const char *path, unsigned flags, uint64_t set, uint64_t clear) {
  struct mount_attr attr = {.attr_set = set, .attr_clr = clear};
  return syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &attr, sizeof attr) < 0 ? errno : 0;
}

/* MOUNT: [make the target,] mount(2), then the attributes on the new mounts. */
static int mount_request(uint32_t options, char *data, size_t len, uint32_t *detail) {
  uint64_t head[2];
  if (len < sizeof head || data[len - 1] != '\0') return EPROTO;
  memcpy(head, data, sizeof head);
  char *field[4], *p = data + sizeof head, *end = data + len;
  for (int i = 0; i < 4; i++) {
    if (p >= end) return EPROTO;
    field[i] = p;
    p += strlen(p) + 1;
  }
  if (p != end) return EPROTO;
  const char *source = *field[0] ? field[0] : NULL, *fstype = *field[2] ? field[2] : NULL, *fsdata = *field[3] ? field[3] : NULL;
  char *target = field[1];
  int bind = (head[0] & MS_BIND) != 0;
  struct stat st = {.st_mode = S_IFDIR};
  if (bind && (options & (BUTTER_HELPER_MOUNT_TRY | BUTTER_HELPER_MOUNT_MKTARGET)) && stat(source, &st) < 0) {
    if (errno == ENOENT && (options & BUTTER_HELPER_MOUNT_TRY)) return *detail = 1, 0;
    return *detail = BUTTER_HELPER_FAILED_STAT, errno;
  }
  if (options & BUTTER_HELPER_MOUNT_MKTARGET) {
    int err = S_ISDIR(st.st_mode) ? make_dirs(target, 0755) : make_parents(target);
    if (!err && !S_ISDIR(st.st_mode)) {
      /* Read-only: a file that is there already (under a read-only bind) is opened, not refused with EROFS. */
      int fd = open(target, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
      if (fd < 0) err = errno;
      else close(fd);
    }
    if (err) return *detail = BUTTER_HELPER_FAILED_MKDIR, err;
  }
  if (mount(source, target, fstype, head[0], fsdata) < 0) return errno;
  int err = head[1] ? mount_setattr_(target, AT_RECURSIVE, head[1], 0) : 0;
  if (err) *detail = BUTTER_HELPER_FAILED_SETATTR;
  return err;
}

static int symlink_request(const char *content, char *link) {
  int err = make_parents(link);
  if (err) return err;
  if (symlink(content, link) == 0) return 0;
  err = errno;
  /* The same link made twice (an image that has it already) is no error. */
  static char got[BUTTER_HELPER_MAX_REQUEST + 1];
  ssize_t n = err == EEXIST ? readlink(link, got, sizeof got - 1) : -1;
  return n >= 0 && (size_t)n == strlen(content) && memcmp(got, content, (size_t)n) == 0 ? 0 : err;
}

/* FILE: creates `path` (truncating) with `data`, or with what `from` holds up to its EOF. */
static int file_request(char *path, mode_t mode, const char *data, size_t len, int from, uint32_t *detail) {
  int err = make_parents(path);
  if (err) return *detail = BUTTER_HELPER_FAILED_MKDIR, err;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return *detail = BUTTER_HELPER_FAILED_OPEN, errno;
  /* The mode asked for, not what the umask leaves of it (as bwrap). */
  if (fchmod(fd, mode) < 0) {
    err = errno;
    close(fd);
    return err;
  }
  static char chunk[65536];
  for (;;) {
    ssize_t n = len;
    if (from >= 0) {
      n = read(from, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        err = errno, *detail = BUTTER_HELPER_FAILED_READ;
        break;
      }
      data = chunk;
    }
    for (ssize_t done = 0, w; done < n; done += w) {
      w = write(fd, data + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR) w = 0;
      else if (w < 0) {
        err = errno;
        goto out;
      }
    }
    if (from < 0 || n == 0) break;
  }
out:
  close(fd);
  return err;
}

/* CAPS: what the target may keep, everything else dropped from every set; `ambient` (within `keep`) also inheritable and ambient. */
static int caps_request(uint64_t keep, uint64_t ambient, uint32_t *detail) {
  /* The bounding set first: dropping from it takes CAP_SETPCAP, which capset may drop. */
  for (int cap = 0; cap < 64; cap++) {
    int has = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (has < 0) break; /* EINVAL: past this kernel's last capability */
    if (has && !(keep >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return *detail = BUTTER_HELPER_FAILED_PRCTL, errno;
  }
  struct __user_cap_header_struct head = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct sets[2];
  for (int i = 0; i < 2; i++) {
    sets[i].effective = sets[i].permitted = (uint32_t)(keep >> 32 * i);
    sets[i].inheritable = (uint32_t)(ambient >> 32 * i);
  }
  if (syscall(SYS_capset, &head, sets) < 0) return errno;
  /* Ambient capabilities are what a target that is not uid 0 keeps across execve. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return *detail = BUTTER_HELPER_FAILED_PRCTL, errno;
  for (int cap = 0; cap < 64; cap++) {
    if ((ambient >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return *detail = BUTTER_HELPER_FAILED_PRCTL, errno;
  }
  return 0;
}

/* The process a monitor or an init passes signals on to. */
static volatile pid_t forward_to;

static void forward(int sig) {
  int saved = errno;
  kill(forward_to, sig);
  errno = saved;
}

/*
 * Every signal a process would end or pause for is passed on, but the ones
 * the kernel sends a process about itself (faults) and those that cannot be
 * caught. Job control (SIGTSTP, SIGTTIN, SIGTTOU) keeps its default: a
 * terminal stops the whole foreground group. 32 and 33 are glibc's own.
 */
static int forwarded(int sig) {
  switch (sig) {
  case SIGKILL: case SIGSTOP: case SIGCHLD: case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS:
  case SIGTSTP: case SIGTTIN: case SIGTTOU:
    return 0;
  default:
    return sig < 32 || (sig >= SIGRTMIN && sig <= SIGRTMAX);
  }
}

/*
 * Blocks the forwarded signals before a fork (saving the mask in `saved`):
 * one sent between the fork and forward_signals() waits instead of ending
 * the parent, or, sent to an init, being dropped (an init drops a signal it
 * has no handler for, unless it is blocked).
 */
static void block_forwarded(sigset_t *saved) {
  sigset_t set;
  sigemptyset(&set);
  for (int sig = 1; sig < NSIG; sig++) {
    if (forwarded(sig)) sigaddset(&set, sig);
  }
  sigprocmask(SIG_BLOCK, &set, saved);
}

/* Passes the forwarded signals on to `pid` from now on, those that came since block_forwarded() first. */
static void forward_signals(pid_t pid, const sigset_t *saved) {
  forward_to = pid;
  struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  for (int sig = 1; sig < NSIG; sig++) {
    if (forwarded(sig)) sigaction(sig, &sa, NULL);
  }
  sigprocmask(SIG_SETMASK, saved, NULL);
}

/* Ends as `status` says the target ended: its exit code, or killed by its signal. */
static void relay(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    /* The target dumped its core already, if it could: not the monitor's too. */
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), sig);
    _exit(128 + sig); /* a signal whose default is not to end (no target ends by one) */
  }
  _exit(WEXITSTATUS(status));
}

/*
 * The helper outside the new namespaces: ends as the target did. Under an
 * init the status comes through `report` as soon as the target is reaped:
 * the init's own exit (it ends the PID namespace, and with the last process
 * in them the other namespaces, which takes milliseconds) is not waited for.
 * EOF without a status (the init was killed) falls back to the init's own.
 */
static void monitor(pid_t child, int report, const sigset_t *saved) {
  forward_signals(child, saved);
  int status;
  if (report >= 0) {
    ssize_t n;
    while ((n = read(report, &status, sizeof status)) < 0 && errno == EINTR) {}
    if (n == sizeof status) relay(status);
  }
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) _exit(EXIT_FAILED);
  }
  relay(status);
}

/* pid 1 of the namespace: reaps every orphan until the target ends, then reports its status and exits. */
static void init(pid_t target, int report, const sigset_t *saved) {
  forward_signals(target, saved);
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid == target) {
      /* A short write leaves the monitor EOF, and the init's own status. */
      while (write(report, &status, sizeof status) < 0 && errno == EINTR) {}
      _exit(0);
    }
    if (pid < 0 && errno != EINTR) _exit(EXIT_FAILED);
  }
}

/* What FORK's clone may create: the namespaces clone(2) takes (CLONE_NEWTIME's bit is its exit signal's there). */
#define FORK_NAMESPACES (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/*
 * FORK: the helper stays as the monitor, in the namespaces it had; its child
 * is made in the new ones by clone(2) (pid 1 when one is a PID namespace),
 * so the monitor holds none of them and its exit tears none down. Those that
 * stay behind close their copy of the socket, so the parent still reads EOF
 * at the exec. clone is called raw (glibc has no fork with flags): the child
 * only makes system calls, forks and execs, none of which rely on the
 * thread id glibc keeps for the parent.
 */
static int fork_request(uint32_t value, uint64_t flags) {
  if (flags & ~(uint64_t)FORK_NAMESPACES) return EPROTO;
  int under_init = !(value & BUTTER_HELPER_FORK_AS_PID_1);
  int report[2] = {-1, -1};
  if (under_init && pipe2(report, O_CLOEXEC) < 0) return errno;
  sigset_t saved;
  block_forwarded(&saved);
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, 0UL);
  if (pid < 0) {
    int err = errno;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (under_init) close(report[0]), close(report[1]);
    return err;
  }
  if (pid > 0) {
    if (under_init) close(report[1]);
    close(sock);
    monitor(pid, report[0], &saved);
  }
  /* The child: default dispositions, and the mask the helper had. */
  sigprocmask(SIG_SETMASK, &saved, NULL);
  if (under_init) close(report[0]);
  /* A sandbox outlives no monitor: the monitor is the process the parent knows and kills. */
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (!under_init) return 0;
  block_forwarded(&saved);
  pid = fork();
  if (pid < 0) {
    int err = errno;
    sigprocmask(SIG_SETMASK, &saved, NULL);
    return err;
  }
  if (pid > 0) {
    close(sock);
    init(pid, report[1], &saved);
  }
  sigprocmask(SIG_SETMASK, &saved, NULL);
  close(report[1]);
  return 0;
}

/* Runs one request: returns 0 or the errno to answer with, or does not return (an exec, a failed open). */
static int run(uint32_t op, uint32_t value, char *data, size_t len, int fd, char **argv, uint32_t *result) {
  static char path[BUTTER_HELPER_MAX_REQUEST + 1], other[BUTTER_HELPER_MAX_REQUEST + 1];
  if (op != BUTTER_HELPER_SETNS && op != BUTTER_HELPER_FILE && fd >= 0) return EPROTO; /* closed by the caller */
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
    if ((value & ~BUTTER_HELPER_CHDIR_TRY) || payload_string(data, len, path)) return EPROTO;
    return chdir(path) == 0 || (errno == ENOENT && value) ? 0 : errno;
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
  case BUTTER_HELPER_MOUNT:
    if (value & ~(BUTTER_HELPER_MOUNT_TRY | BUTTER_HELPER_MOUNT_MKTARGET)) return EPROTO;
    return mount_request(value, data, len, result);
  case BUTTER_HELPER_SETATTR: {
    uint64_t a[2];
    if (len < sizeof a || payload_string(data + sizeof a, len - sizeof a, path)) return EPROTO;
    memcpy(a, data, sizeof a);
    return mount_setattr_(path, value, a[0], a[1]);
  }
  case BUTTER_HELPER_UMOUNT:
    if (payload_string(data, len, path)) return EPROTO;
    return umount2(path, (int)value) < 0 ? errno : 0;
  case BUTTER_HELPER_PIVOT_ROOT:
    if (payload_pair(data, len, value, path, other)) return EPROTO;
    return syscall(SYS_pivot_root, path, other) < 0 ? errno : 0;
  case BUTTER_HELPER_MKDIR:
    if (payload_string(data, len, path) || path[0] != '/') return EPROTO;
    return make_dirs(path, value);
  case BUTTER_HELPER_SYMLINK:
    if (payload_pair(data, len, value, other, path) || path[0] != '/') return EPROTO;
    return symlink_request(other, path);
  case BUTTER_HELPER_FILE: {
    const char *nul = memchr(data, '\0', len);
    size_t at = nul ? (size_t)(nul - data) : len;
    if ((nul && fd >= 0) || payload_string(data, at, path) || path[0] != '/') return EPROTO;
    return file_request(path, value, data + at + 1, nul ? len - at - 1 : 0, fd, result);
  }
  case BUTTER_HELPER_FORK: {
    uint64_t flags;
    if (len != sizeof flags || (value & ~BUTTER_HELPER_FORK_AS_PID_1)) return EPROTO;
    memcpy(&flags, data, sizeof flags);
    return fork_request(value, flags);
  }
  case BUTTER_HELPER_SETSID:
    if (len) return EPROTO;
    return setsid() < 0 ? errno : 0;
  case BUTTER_HELPER_CAPS: {
    uint64_t masks[2];
    if (len != sizeof masks) return EPROTO;
    memcpy(masks, data, sizeof masks);
    if (masks[1] & ~masks[0]) return EPROTO;
    return caps_request(masks[0], masks[1], result);
  }
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
    char *data = (char *)buf + sizeof req;
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
