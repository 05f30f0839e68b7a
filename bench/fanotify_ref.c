/*
 * The C side of bench/fanotify.mjs: the reference fanotify consumers (the floor
 * Butter is compared with) and the load generators. Built with `cc -O2` by the
 * bench, run only inside its private mount namespace.
 *
 *   fanotify_ref reader    MNT PARENT_MNTNS fd|fid EXPECTED
 *       A notification group (FAN_UNLIMITED_QUEUE). fd: a mount mark on MNT for
 *       FAN_OPEN|FAN_CLOSE; per event readlink(/proc/self/fd/N) and close(N), as
 *       Butter does. fid: FAN_REPORT_DFID_NAME, a filesystem mark for
 *       FAN_CREATE|FAN_DELETE; per event open_by_handle_at(O_PATH) of the
 *       directory, readlink, close, and the name joined on, as Butter does.
 *       Prints "ready", then reads until EXPECTED event bits arrived, or "done"
 *       came on stdin and nothing arrived for 1 s. Prints one JSON line.
 *   fanotify_ref responder MNT PARENT_MNTNS
 *       A FAN_CLASS_CONTENT group, a mount mark on MNT for FAN_OPEN_PERM; per
 *       event: readlink of the event fd (the path, as Butter gives it), write of
 *       FAN_ALLOW, close. Blocking read(): the floor. CPU is counted from the
 *       open of a file named "start" to the open of one named "stop" (the
 *       opener's markers); after "stop" it prints one JSON line and exits.
 *   fanotify_ref opener    DIR FILES N WARMUP WARMUP_MS
 *       Times open(DIR/fI, O_RDONLY) + close N times over FILES pre-created
 *       files, after a warm-up of at least WARMUP opens and WARMUP_MS ms (the
 *       responder's JIT settles), and opens DIR/start and DIR/stop around the
 *       timed opens; prints the N timed samples in ns, one per line.
 *   fanotify_ref writer    DIR N open|create
 *       open: open + close DIR/f0..f(N-1) (pre-created). create: create
 *       DIR/c0..c(N-1), write 1 byte, close; then unlink them all. Prints
 *       "start end" (CLOCK_MONOTONIC ns).
 *   fanotify_ref mkfiles   DIR N
 *       Creates DIR/f0..f(N-1), empty.
 *
 * Safety: reader and responder refuse to mark unless MNT is a tmpfs and this
 * process is in a mount namespace other than PARENT_MNTNS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define TMPFS_MAGIC_ 0x01021994

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void die(const char *what) {
  fprintf(stderr, "fanotify_ref: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Refuses to go on unless mnt is a tmpfs in a mount namespace that is not the parent's. */
static void check_private(const char *mnt, const char *parent_ns) {
  char ns[128];
  ssize_t n = readlink("/proc/self/ns/mnt", ns, sizeof ns - 1);
  if (n < 0) die("readlink /proc/self/ns/mnt");
  ns[n] = '\0';
  if (strcmp(ns, parent_ns) == 0) {
    fprintf(stderr, "fanotify_ref: not in a private mount namespace; refusing to mark\n");
    exit(3);
  }
  struct statfs st;
  if (statfs(mnt, &st) < 0) die("statfs");
  if ((unsigned long)st.f_type != TMPFS_MAGIC_) {
    fprintf(stderr, "fanotify_ref: %s is not a tmpfs; refusing to mark\n", mnt);
    exit(3);
  }
}

static int popcount32(uint64_t m) { return __builtin_popcountll(m & ~(uint64_t)FAN_ONDIR); }

static volatile size_t sink; /* keeps the path work observable */

static int reader(const char *mnt, const char *parent_ns, int fid, long expected) {
  check_private(mnt, parent_ns);
  unsigned flags = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | (fid ? FAN_REPORT_DFID_NAME : 0);
  int fan = fanotify_init(flags, O_RDONLY | O_CLOEXEC);
  if (fan < 0) die("fanotify_init");
  int mount_fd = -1;
  if (fid) {
    if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CREATE | FAN_DELETE, AT_FDCWD, mnt) < 0) die("fanotify_mark");
    mount_fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mount_fd < 0) die("open mnt");
  } else {
    if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN | FAN_CLOSE, AT_FDCWD, mnt) < 0) die("fanotify_mark");
  }
  printf("ready\n");
  fflush(stdout);
  static char buf[16384] __attribute__((aligned(8)));
  char link[32], target[PATH_MAX], full[PATH_MAX + NAME_MAX + 2];
  long records = 0, bits = 0, overflow = 0, nopath = 0;
  int64_t last = 0, done_at = 0, cpu0 = cpu_us();
  int done = 0;
  struct pollfd pfd[2] = {{fan, POLLIN, 0}, {0, POLLIN, 0}};
  while (bits < expected) {
    /* After "done": stop once nothing has come for 1 s. */
    int timeout = done ? (int)(1000 - (now_ns() - (last > done_at ? last : done_at)) / 1000000) : -1;
    if (done && timeout <= 0) break;
    int r = poll(pfd, 2, timeout);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (pfd[1].revents) {
      char line[64];
      ssize_t n = read(0, line, sizeof line);
      if (n <= 0 || memmem(line, (size_t)n, "done", 4)) done = 1, done_at = now_ns(), pfd[1].fd = -1;
    }
    if (!(pfd[0].revents & POLLIN)) continue;
    ssize_t len = read(fan, buf, sizeof buf);
    if (len < 0) {
      if (errno == EAGAIN) continue;
      die("read");
    }
    struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
    for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
      records++;
      if (m->mask & FAN_Q_OVERFLOW) {
        overflow++;
        continue;
      }
      bits += popcount32(m->mask);
      if (m->fd >= 0) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", m->fd);
        ssize_t n = readlink(link, target, sizeof target);
        if (n < 0) nopath++;
        else sink += (size_t)n;
        close(m->fd);
      } else if (fid) {
        /* The DFID_NAME record: fsid, file handle, then the name. */
        struct fanotify_event_info_fid *info = (struct fanotify_event_info_fid *)(m + 1);
        if ((char *)info >= (char *)m + m->event_len || info->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME) {
          nopath++;
          continue;
        }
        struct file_handle *fh = (struct file_handle *)info->handle;
        const char *name = (const char *)(fh->f_handle + fh->handle_bytes);
        union {
          struct file_handle h;
          unsigned char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
        } copy;
        memcpy(copy.raw, fh, sizeof(struct file_handle) + fh->handle_bytes);
        int dfd = open_by_handle_at(mount_fd, &copy.h, O_PATH | O_CLOEXEC);
        if (dfd < 0) {
          nopath++;
          continue;
        }
        snprintf(link, sizeof link, "/proc/self/fd/%d", dfd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        close(dfd);
        if (n < 0) {
          nopath++;
          continue;
        }
        target[n] = '\0';
        sink += (size_t)snprintf(full, sizeof full, "%s/%s", target, name);
      }
    }
    last = now_ns();
  }
  int64_t cpu = cpu_us() - cpu0;
  printf("{\"records\":%ld,\"bits\":%ld,\"overflow\":%ld,\"nopath\":%ld,\"cpuUs\":%lld,\"last\":%lld}\n", records, bits, overflow, nopath,
         (long long)cpu, (long long)last);
  close(fan);
  return 0;
}

static int ends_with(const char *s, ssize_t n, const char *suffix) {
  size_t k = strlen(suffix);
  return n >= (ssize_t)k && memcmp(s + n - k, suffix, k) == 0;
}

static int responder(const char *mnt, const char *parent_ns) {
  check_private(mnt, parent_ns);
  int fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC);
  if (fan < 0) die("fanotify_init");
  if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_PERM, AT_FDCWD, mnt) < 0) die("fanotify_mark");
  printf("ready\n");
  fflush(stdout);
  static char buf[16384] __attribute__((aligned(8)));
  char link[32], target[PATH_MAX];
  long answered = 0, timed = 0;
  int64_t cpu0 = 0, cpu = 0;
  int stop = 0;
  while (!stop) {
    ssize_t len = read(fan, buf, sizeof buf);
    if (len < 0) {
      if (errno == EINTR) continue;
      die("read");
    }
    struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
    for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
      if (m->fd < 0) continue;
      snprintf(link, sizeof link, "/proc/self/fd/%d", m->fd);
      ssize_t n = readlink(link, target, sizeof target);
      if (n > 0) sink += (size_t)n;
      struct fanotify_response resp = {.fd = m->fd, .response = FAN_ALLOW};
      if (write(fan, &resp, sizeof resp) != sizeof resp) die("write response");
      close(m->fd);
      answered++;
      if (ends_with(target, n, "/start")) cpu0 = cpu_us(), timed = answered;
      else if (ends_with(target, n, "/stop")) cpu = cpu_us() - cpu0, timed = answered - timed - 1, stop = 1;
    }
  }
  close(fan); /* anything still waiting is allowed by the kernel */
  printf("{\"answered\":%ld,\"timed\":%ld,\"cpuUs\":%lld}\n", answered, timed, (long long)cpu);
  return 0;
}

static void open_close(const char *p) {
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open");
  close(fd);
}

static int opener(const char *dir, long files, long n, long warmup, long warmup_ms) {
  char **paths = calloc((size_t)files, sizeof *paths);
  for (long i = 0; i < files; i++)
    if (asprintf(&paths[i], "%s/f%ld", dir, i) < 0) die("asprintf");
  char *start, *stop;
  if (asprintf(&start, "%s/start", dir) < 0 || asprintf(&stop, "%s/stop", dir) < 0) die("asprintf");
  int64_t *samples = malloc(sizeof *samples * (size_t)n);
  int64_t w0 = now_ns();
  for (long i = 0; i < warmup || now_ns() - w0 < warmup_ms * 1000000; i++) open_close(paths[i % files]);
  open_close(start);
  for (long i = 0; i < n; i++) {
    const char *p = paths[i % files];
    int64_t t0 = now_ns();
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open");
    close(fd);
    samples[i] = now_ns() - t0;
  }
  open_close(stop);
  /* Printed after the timed loop. */
  for (long i = 0; i < n; i++) printf("%lld\n", (long long)samples[i]);
  return 0;
}

static int writer(const char *dir, long n, int create) {
  char path[PATH_MAX];
  int64_t start = now_ns();
  if (!create) {
    for (long i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/f%ld", dir, i);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) die("open");
      close(fd);
    }
  } else {
    for (long i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/c%ld", dir, i);
      int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) die("create");
      if (write(fd, "x", 1) != 1) die("write");
      close(fd);
    }
    for (long i = 0; i < n; i++) {
      snprintf(path, sizeof path, "%s/c%ld", dir, i);
      if (unlink(path) < 0) die("unlink");
    }
  }
  printf("%lld %lld\n", (long long)start, (long long)now_ns());
  return 0;
}

static int mkfiles(const char *dir, long n) {
  char path[PATH_MAX];
  for (long i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/f%ld", dir, i);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) die("create");
    close(fd);
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "reader") == 0 && argc == 6) return reader(argv[2], argv[3], strcmp(argv[4], "fid") == 0, atol(argv[5]));
  if (strcmp(mode, "responder") == 0 && argc == 4) return responder(argv[2], argv[3]);
  if (strcmp(mode, "opener") == 0 && argc == 7) return opener(argv[2], atol(argv[3]), atol(argv[4]), atol(argv[5]), atol(argv[6]));
  if (strcmp(mode, "writer") == 0 && argc == 5) return writer(argv[2], atol(argv[3]), strcmp(argv[4], "create") == 0);
  if (strcmp(mode, "mkfiles") == 0 && argc == 4) return mkfiles(argv[2], atol(argv[3]));
  fprintf(stderr, "usage: see the comment at the top of bench/fanotify_ref.c\n");
  return 2;
}
