/*
 * seccomp-probe FILTER: the kernel's verdicts, for test/seccomp.test.mjs.
 *
 * Reads calls from stdin, one a line: "nr a0 a1 a2 a3 a4 a5" (unsigned, any
 * base strtoull takes). A forked child loads FILTER (sock_filter records)
 * and makes each call; the parent prints each call's result (-errno or the
 * return value), one a line, then the child's end: "done", or "died STATUS AT"
 * when it was killed at call AT.
 *
 * The tests give filters whose every action is an errno, so no call runs:
 * even exit_group fails, which is why the child reports through shared memory
 * (its writes would fail too) and the parent kills it once it is done.
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CALLS 20000

struct shared {
  atomic_int done;
  atomic_int at;
  long result[MAX_CALLS];
};

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  FILE *f = fopen(argv[1], "rb");
  if (!f) return perror(argv[1]), 2;
  static struct sock_filter insns[BPF_MAXINSNS + 1];
  size_t n = fread(insns, sizeof insns[0], BPF_MAXINSNS + 1, f);
  fclose(f);

  static unsigned long long calls[MAX_CALLS][7];
  int ncalls = 0;
  char line[512];
  while (ncalls < MAX_CALLS && fgets(line, sizeof line, stdin)) {
    char *p = line;
    for (int i = 0; i < 7; i++) calls[ncalls][i] = strtoull(p, &p, 0);
    ncalls++;
  }

  struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED) return perror("mmap"), 2;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return perror("fork"), 2;
  if (pid == 0) {
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
      perror("seccomp");
      _exit(3);
    }
    for (int i = 0; i < ncalls; i++) {
      atomic_store(&sh->at, i);
      unsigned long long *c = calls[i];
      long r = syscall((long)c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
      sh->result[i] = r == -1 ? -(long)errno : r;
    }
    atomic_store(&sh->done, 1);
    for (;;) {
    }
  }
  int status = 0;
  for (;;) {
    if (atomic_load(&sh->done)) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      for (int i = 0; i < ncalls; i++) printf("%ld\n", sh->result[i]);
      puts("done");
      return 0;
    }
    if (waitpid(pid, &status, WNOHANG) == pid) {
      for (int i = 0; i < atomic_load(&sh->at); i++) printf("%ld\n", sh->result[i]);
      printf("died %d %d\n", status, atomic_load(&sh->at));
      return 0;
    }
    nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
  }
}
