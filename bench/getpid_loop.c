/*
 * The floor for bench/process.mjs: the raw getpid/getppid syscall in a C loop.
 *
 *   getpid_loop getpid|getppid|getpid-deep [calls] [rounds]
 *
 * Prints one line per round: "<mode> <calls> <ns per call>". Each round is
 * preceded by a warm-up of calls/10. Built with `cc -O2` by bench/process.mjs.
 *
 * getpid-deep makes the same syscall 6 non-inlined calls deep, as an addon's
 * callback sits under a few frames of the runtime: it shows what returning
 * through frames after a syscall costs on this CPU and kernel (with return-stack
 * mitigations, every return address predicted before the kernel entry may be
 * lost), which the flat loop does not pay.
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

#define NOINLINE __attribute__((noinline))
static long nr;
NOINLINE static long d0(void) { return syscall(nr); }
NOINLINE static long d1(void) { return d0() + 1; }
NOINLINE static long d2(void) { return d1() + 1; }
NOINLINE static long d3(void) { return d2() + 1; }
NOINLINE static long d4(void) { return d3() + 1; }
NOINLINE static long d5(void) { return d4() + 1; }

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "getpid";
  long calls = argc > 2 ? atol(argv[2]) : 1000000;
  int rounds = argc > 3 ? atoi(argv[3]) : 1;
  int deep = 0;
  if (strcmp(mode, "getpid") == 0) nr = SYS_getpid;
  else if (strcmp(mode, "getppid") == 0) nr = SYS_getppid;
  else if (strcmp(mode, "getpid-deep") == 0) nr = SYS_getpid, deep = 1;
  else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  volatile long sink = 0; /* keeps every call observable */
  for (int r = 0; r < rounds; r++) {
    double t0 = 0, t1 = 0;
    if (deep) {
      for (long i = 0; i < calls / 10; i++) sink += d5();
      t0 = now_ns();
      for (long i = 0; i < calls; i++) sink += d5();
      t1 = now_ns();
    } else {
      for (long i = 0; i < calls / 10; i++) sink += syscall(nr);
      t0 = now_ns();
      for (long i = 0; i < calls; i++) sink += syscall(nr);
      t1 = now_ns();
    }
    printf("%s %ld %.3f\n", mode, calls, (t1 - t0) / (double)calls);
  }
  return sink == 0; /* never 0: pids are positive */
}
