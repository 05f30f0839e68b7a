/*
 * The floor for bench/sandbox.mjs: a command started and waited for in a C
 * loop (fork, exec, waitpid), as a shell script would start it, without a
 * shell's own work between runs.
 *
 *   spawn_loop RUNS COMMAND [ARG...]
 *
 * Prints one line per run: the nanoseconds from fork to the reaped exit.
 * Exits 1 if a run does not exit 0. Built with `cc -O2` by bench/sandbox.mjs.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  int runs = atoi(argv[1]);
  for (int i = 0; i < runs; i++) {
    long long t0 = now_ns();
    pid_t pid = fork();
    if (pid == 0) {
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
    printf("%lld\n", now_ns() - t0);
  }
  return 0;
}
