/*
 * The syscall loop for bench/seccomp.mjs, under a filter or none:
 *
 *   seccomp_loop none CALLS
 *   seccomp_loop bpf FILE CALLS            a program's sock_filter records (Butter's)
 *   seccomp_loop libseccomp FILE CALLS     rules to build with libseccomp (built with -DWITH_LIBSECCOMP)
 *
 * The rules file, one rule a line: "ACTION NAME NARGS [INDEX OP VALUE VALUETWO]...",
 * ACTION and OP as libseccomp's numbers; the first line is "DEFAULT ACTION".
 *
 * Prints "build <us>" for libseccomp (rules to program, as seccomp_export_bpf
 * makes it) and "insns <n>", then per syscall measured "<name> <ns per call>":
 * getppid (allowed: the kernel's action cache answers without running the
 * filter), personality(0xffffffff) (allowed on its argument: the filter runs
 * to the end) and mount (denied: runs the filter and fails with EPERM).
 */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef WITH_LIBSECCOMP
#include <seccomp.h>
#endif

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void measure(const char *name, long nr, unsigned long a0, long calls) {
  volatile long sink = 0;
  for (long i = 0; i < calls / 10; i++) sink += syscall(nr, a0, 0, 0, 0, 0, 0);
  double t = now_ns();
  for (long i = 0; i < calls; i++) sink += syscall(nr, a0, 0, 0, 0, 0, 0);
  printf("%s %.2f\n", name, (now_ns() - t) / (double)calls);
}

static int load_bpf(const char *file) {
  static struct sock_filter insns[BPF_MAXINSNS];
  FILE *f = fopen(file, "rb");
  if (!f) return perror(file), -1;
  size_t n = fread(insns, sizeof insns[0], BPF_MAXINSNS, f);
  fclose(f);
  printf("insns %zu\n", n);
  struct sock_fprog prog = {.len = (unsigned short)n, .filter = insns};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

#ifdef WITH_LIBSECCOMP
static int load_libseccomp(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) return perror(file), -1;
  char line[1024];
  unsigned int def;
  if (!fgets(line, sizeof line, f) || sscanf(line, "DEFAULT %u", &def) != 1) return fputs("bad rules\n", stderr), -1;
  /* Read every rule first, so that the timing is libseccomp's alone. */
  static struct { unsigned int action; char name[64]; unsigned int n; struct scmp_arg_cmp args[6]; } rules[2048];
  int nrules = 0;
  while (nrules < 2048 && fgets(line, sizeof line, f)) {
    char *p = line;
    int used;
    if (sscanf(p, "%u %63s %u%n", &rules[nrules].action, rules[nrules].name, &rules[nrules].n, &used) != 3) continue;
    p += used;
    for (unsigned int i = 0; i < rules[nrules].n; i++) {
      unsigned int index, op;
      unsigned long long a, b;
      sscanf(p, "%u %u %llu %llu%n", &index, &op, &a, &b, &used);
      p += used;
      rules[nrules].args[i] = (struct scmp_arg_cmp){.arg = index, .op = op, .datum_a = a, .datum_b = b};
    }
    nrules++;
  }
  fclose(f);
  double t = now_ns();
  scmp_filter_ctx ctx = seccomp_init(def);
  seccomp_arch_add(ctx, SCMP_ARCH_X32);
  for (int i = 0; i < nrules; i++) {
    int nr = seccomp_syscall_resolve_name(rules[i].name);
    if (nr == __NR_SCMP_ERROR) continue; /* a name libseccomp's tables lack, as Docker skips it */
    seccomp_rule_add_array(ctx, rules[i].action, nr, rules[i].n, rules[i].args);
  }
  FILE *out = tmpfile();
  seccomp_export_bpf(ctx, fileno(out));
  printf("build %.1f\n", (now_ns() - t) / 1000);
  printf("insns %ld\n", (long)lseek(fileno(out), 0, SEEK_END) / (long)sizeof(struct sock_filter));
  fclose(out);
  int r = seccomp_load(ctx);
  seccomp_release(ctx);
  return r;
}
#endif

int main(int argc, char **argv) {
  if (argc < 3) return fputs("usage: seccomp_loop none|bpf|libseccomp [FILE] CALLS\n", stderr), 2;
  long calls = atol(argv[argc - 1]);
  int r = 0;
  if (strcmp(argv[1], "bpf") == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return perror("prctl"), 1;
    r = load_bpf(argv[2]);
  }
#ifdef WITH_LIBSECCOMP
  else if (strcmp(argv[1], "libseccomp") == 0) {
    r = load_libseccomp(argv[2]);
  }
#endif
  else if (strcmp(argv[1], "none") != 0) return fputs("unknown mode\n", stderr), 2;
  if (r != 0) return fprintf(stderr, "loading the filter failed: %d\n", r), 1;
  measure("getppid", SYS_getppid, 0, calls);
  measure("personality", SYS_personality, 0xffffffff, calls);
  measure("mount", SYS_mount, 0, calls);
  return 0;
}
