/*
 * The C ends of bench/splice.mjs, compiled by it (cc -O2): the same sink and
 * source for every case, and the C splice proxy the Node and Butter proxies
 * are measured against. Loopback only. Each mode prints one line when it is
 * listening ("port N") and one when done ("bytes B ns T cpu_ns C"): the wall
 * time and its own CPU (getrusage, user + system, every thread) from the
 * first accept/connect to the end.
 *
 *   splice_ref sink                    accept one connection, read to EOF
 *   splice_ref source PORT BYTES       connect, write BYTES from memory, shut down
 *   splice_ref proxy UPPORT PIPE_SIZE  accept one, connect to UPPORT, splice
 *                                      both ways (a thread and a pipe each)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t cpu_ns(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000000LL + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1000LL;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int listen_any(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4) < 0 || getsockname(s, (struct sockaddr *)&a, &len) < 0) die("listen");
  printf("port %d\n", ntohs(a.sin_port));
  fflush(stdout);
  return s;
}

static int connect_to(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  return s;
}

static void done(int64_t bytes, int64_t t0, int64_t c0) {
  printf("bytes %lld ns %lld cpu_ns %lld\n", (long long)bytes, (long long)(now_ns() - t0), (long long)(cpu_ns() - c0));
}

static int sink(void) {
  int l = listen_any();
  int s = accept(l, NULL, NULL);
  int64_t t0 = now_ns(), c0 = cpu_ns(), total = 0;
  static char buf[1 << 20];
  for (ssize_t n; (n = read(s, buf, sizeof buf)) != 0; total += n)
    if (n < 0) die("read");
  done(total, t0, c0);
  return 0;
}

static int source(int port, int64_t bytes) {
  static char buf[1 << 20];
  memset(buf, 'x', sizeof buf);
  int s = connect_to(port);
  int64_t t0 = now_ns(), c0 = cpu_ns(), left = bytes;
  while (left > 0) {
    ssize_t n = write(s, buf, left < (int64_t)sizeof buf ? (size_t)left : sizeof buf);
    if (n < 0) die("write");
    left -= n;
  }
  shutdown(s, SHUT_WR);
  for (ssize_t n; (n = read(s, buf, sizeof buf)) > 0;); /* until the other side closes */
  done(bytes, t0, c0);
  return 0;
}

typedef struct {
  int from, to, pipe_size;
  int64_t moved;
} direction;

static void *relay(void *p) {
  direction *d = p;
  int fds[2];
  if (pipe(fds) < 0) die("pipe");
  if (d->pipe_size > 0) fcntl(fds[1], F_SETPIPE_SZ, d->pipe_size);
  for (;;) {
    ssize_t n = splice(d->from, NULL, fds[1], NULL, 1 << 30, SPLICE_F_MOVE);
    if (n <= 0) break;
    for (ssize_t left = n; left > 0;) {
      ssize_t m = splice(fds[0], NULL, d->to, NULL, left, SPLICE_F_MOVE);
      if (m <= 0) die("splice out");
      left -= m;
    }
    d->moved += n;
  }
  shutdown(d->to, SHUT_WR);
  close(fds[0]);
  close(fds[1]);
  return NULL;
}

static int proxy(int upport, int pipe_size) {
  int l = listen_any();
  int a = accept(l, NULL, NULL);
  int64_t t0 = now_ns(), c0 = cpu_ns();
  int b = connect_to(upport);
  direction ab = {a, b, pipe_size, 0}, ba = {b, a, pipe_size, 0};
  pthread_t t;
  pthread_create(&t, NULL, relay, &ba);
  relay(&ab);
  pthread_join(t, NULL);
  done(ab.moved + ba.moved, t0, c0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "sink")) return sink();
  if (argc >= 4 && !strcmp(argv[1], "source")) return source(atoi(argv[2]), atoll(argv[3]));
  if (argc >= 4 && !strcmp(argv[1], "proxy")) return proxy(atoi(argv[2]), atoi(argv[3]));
  fprintf(stderr, "usage: splice_ref sink | source PORT BYTES | proxy UPPORT PIPE_SIZE\n");
  return 2;
}
