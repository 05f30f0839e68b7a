/*
 * The floor for bench/process.mjs: the raw getpid/getppid syscall in a C loop.
 *
 *   getpid_loop [getpid|getppid] [calls] [rounds]
 *
 * Prints one line per round: "<syscall> <calls> <ns per call>". Each round is
 * preceded by a warm-up of calls/10. Built with `cc -O2` by bench/process.mjs.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *name = argc > 1 ? argv[1] : "getpid";
  long calls = argc > 2 ? atol(argv[2]) : 1000000;
  int rounds = argc > 3 ? atoi(argv[3]) : 1;
  long nr;
  if (strcmp(name, "getpid") == 0) nr = SYS_getpid;
  else if (strcmp(name, "getppid") == 0) nr = SYS_getppid;
  else {
    fprintf(stderr, "unknown syscall %s\n", name);
    return 2;
  }
  volatile long sink = 0; /* keeps every call observable */
  for (int r = 0; r < rounds; r++) {
    for (long i = 0; i < calls / 10; i++) sink += syscall(nr);
    double t0 = now_ns();
    for (long i = 0; i < calls; i++) sink += syscall(nr);
    double t1 = now_ns();
    printf("%s %ld %.3f\n", name, calls, (t1 - t0) / (double)calls);
  }
  return sink == 0; /* never 0: pids are positive */
}
