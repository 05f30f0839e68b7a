/*
 * The C side of bench/seccomp-notify.mjs: the target whose syscalls are
 * supervised, and the reference supervisor.
 *
 *   seccomp_notify_ref target CALLS WARMUP
 *     Calls getppid() WARMUP + CALLS times and prints "p50 p99 mean" of the
 *     CALLS round trips in ns (clock_gettime around each call). Each call must
 *     return 42, the supervisors' answer; without a filter (the floor), any
 *     value is accepted. Run under a filter by butter-helper (Butter's
 *     supervisor) or by `supervise`.
 *
 *   seccomp_notify_ref supervise CALLS WARMUP
 *     Forks; the child sets no_new_privs, loads a filter that notifies
 *     getppid with NEW_LISTENER, passes the listener up a socketpair and execs
 *     `target`. This process answers every notification with 42: poll,
 *     NOTIF_RECV, NOTIF_SEND, as a C supervisor's loop does. The target's
 *     line is its output.
 *
 * Placement: with BUTTER_BENCH_TARGET_CPU set, `target` pins itself to that
 * CPU; with BUTTER_BENCH_SUPERVISOR_CPU, `supervise` pins itself (before the
 * fork; its child, the target, then pins itself by the first).
 *
 * x86_64's AUDIT_ARCH; the syscall number comes from the headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ANSWER 42

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Pins this process to the CPU named by env variable `name`, if set: 0 | -1. */
static int pin(const char *name) {
  const char *cpu = getenv(name);
  if (!cpu) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(atoi(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) return perror(name), -1;
  return 0;
}

static int target(long calls, long warmup, int check) {
  if (pin("BUTTER_BENCH_TARGET_CPU") < 0) return 1;
  double *t = malloc(sizeof *t * (size_t)calls);
  if (!t) return 1;
  for (long i = 0; i < warmup + calls; i++) {
    double start = now_ns();
    long r = syscall(SYS_getppid);
    double end = now_ns();
    if (check && r != ANSWER) {
      fprintf(stderr, "getppid returned %ld, not the supervisor's %d\n", r, ANSWER);
      return 1;
    }
    if (i >= warmup) t[i - warmup] = end - start;
  }
  double sum = 0;
  for (long i = 0; i < calls; i++) sum += t[i];
  qsort(t, (size_t)calls, sizeof *t, cmp);
  printf("%.0f %.0f %.0f\n", t[calls / 2], t[(long)(calls * 0.99)], sum / (double)calls);
  return 0;
}

static int load_filter(void) {
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 2),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
  };
  struct sock_fprog prog = {.len = sizeof insns / sizeof insns[0], .filter = insns};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

static int send_fd(int sock, int fd) {
  char byte = 0;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

static int recv_fd(int sock) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr align;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static int supervise(char *self, char *calls, char *warmup) {
  if (pin("BUTTER_BENCH_SUPERVISOR_CPU") < 0) return 1;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return perror("socketpair"), 1;
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 1;
  if (pid == 0) {
    int listener = load_filter();
    if (listener < 0 || send_fd(sv[1], listener) < 0) _exit(126);
    close(listener);
    char *argv[] = {self, "target", calls, warmup, NULL};
    execv(self, argv);
    _exit(127);
  }
  close(sv[1]);
  int listener = recv_fd(sv[0]);
  if (listener < 0) return fprintf(stderr, "no listener\n"), 1;
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) return perror("GET_NOTIF_SIZES"), 1;
  struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
  for (;;) {
    /* Stop once the target has exited (looked at when nothing came for 100 ms). */
    struct pollfd p = {.fd = listener, .events = POLLIN};
    if (poll(&p, 1, 100) < 0 && errno != EINTR) return perror("poll"), 1;
    if (!(p.revents & POLLIN)) {
      if (waitpid(pid, NULL, WNOHANG) == pid || (p.revents & POLLHUP)) break;
      continue;
    }
    memset(req, 0, sizes.seccomp_notif);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      return perror("NOTIF_RECV"), 1;
    }
    memset(resp, 0, sizes.seccomp_notif_resp);
    resp->id = req->id;
    resp->val = ANSWER;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT) return perror("NOTIF_SEND"), 1;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "target") == 0) return target(atol(argv[2]), atol(argv[3]), getenv("BUTTER_BENCH_UNFILTERED") == NULL);
  if (argc == 4 && strcmp(argv[1], "supervise") == 0) return supervise(argv[0], argv[2], argv[3]);
  fprintf(stderr, "usage: %s target|supervise CALLS WARMUP\n", argv[0]);
  return 2;
}
