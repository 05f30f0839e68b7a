/*
 * signals: thread masks, process-wide blocking, signalfd, sigqueue.
 *
 * Signal sets cross the boundary as a BigInt bit mask: bit (n - 1) is signal n,
 * for the kernel's 64 signals.
 *
 * Process-wide blocking is the hard part. A process-directed signal goes to any
 * thread that does not block it, and Node runs many (libuv's pool threads block
 * nothing), so a signalfd only works if the signal is blocked in every thread.
 * pthread_sigmask changes the caller's mask only, so broadcast() visits every
 * other thread of the process with a real-time signal whose handler edits the
 * mask the kernel restores when the handler returns (uc_sigmask). Threads created
 * later inherit their creator's mask, which is by then blocked too. The state is
 * process-global (not per environment): masks belong to the process's threads,
 * whichever Worker asked. Each environment's own holds are counted as well, so
 * that a Worker that ends gives back what it still holds.
 */
#include "butter.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define NSIG_KERNEL 64
#define MAX_THREADS 4096
#define BROADCAST_TIMEOUT_NS 2000000000LL

static uint64_t bit(int sig) {
  return 1ull << (sig - 1);
}

static void mask_to_set(uint64_t mask, sigset_t *set) {
  sigemptyset(set);
  for (int s = 1; s <= NSIG_KERNEL; s++)
    if (mask & bit(s)) sigaddset(set, s); /* glibc refuses its own 32 and 33; the JS layer never asks */
}

static uint64_t set_to_mask(const sigset_t *set) {
  uint64_t mask = 0;
  for (int s = 1; s <= NSIG_KERNEL; s++)
    if (sigismember(set, s) == 1) mask |= bit(s);
  return mask;
}

static napi_value mask_value(napi_env env, uint64_t mask) {
  napi_value r;
  napi_create_bigint_uint64(env, mask, &r);
  return r;
}

/* ---- pthread_sigmask(how, set | null) -> previous mask | -errno ---- */

static napi_value js_pthread_sigmask(napi_env env, napi_callback_info info) {
  int32_t how;
  napi_value set_arg;
  napi_valuetype type;
  if (!butter_args(env, info, "iv", &how, &set_arg)) return NULL;
  napi_typeof(env, set_arg, &type);
  sigset_t set, old;
  if (type != napi_null) {
    uint64_t mask;
    if (!butter_arg_uint64(env, set_arg, &mask)) return NULL;
    mask_to_set(mask, &set);
  }
  /* Returns a positive error number, unlike most calls. */
  int err = pthread_sigmask(how, type == napi_null ? NULL : &set, &old);
  if (err) return butter_errno_result(env, err);
  return mask_value(env, set_to_mask(&old));
}

/* ---- process-wide blocking ---- */

static pthread_mutex_t block_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned block_count[NSIG_KERNEL + 1]; /* holders per signal */
static uint64_t preblocked;                   /* blocked in the first holder's thread before it came */

/* What the handler applies, set before each broadcast under block_lock. */
static _Atomic uint64_t bc_block, bc_unblock;
static _Atomic int bc_acks;
static pid_t bc_acked[MAX_THREADS];

static void broadcast_handler(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  uint64_t block = atomic_load(&bc_block), unblock = atomic_load(&bc_unblock);
  for (int s = 1; s <= NSIG_KERNEL; s++) {
    if (block & bit(s)) sigaddset(&uc->uc_sigmask, s);
    else if (unblock & bit(s)) sigdelset(&uc->uc_sigmask, s);
  }
  int i = atomic_fetch_add(&bc_acks, 1);
  if (i < MAX_THREADS) bc_acked[i] = (pid_t)syscall(SYS_gettid);
}

/* The call that failed in a broadcast, for the error JS makes. */
typedef struct failed_call {
  const char *syscall;
  char path[64];
} failed_call;

static int fail(failed_call *failed, const char *syscall, const char *path) {
  int err = errno;
  failed->syscall = syscall;
  snprintf(failed->path, sizeof failed->path, "%s", path);
  return -err;
}

/* A thread's blocked mask from /proc: 1, 0 if the thread is gone, or -errno. */
static int thread_blocked(pid_t tid, uint64_t *mask, failed_call *failed) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
  FILE *f = fopen(path, "re");
  if (!f) return errno == ENOENT || errno == ESRCH ? 0 : fail(failed, "open", path);
  int found = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "SigBlk: %lx", (unsigned long *)mask) == 1) {
      found = 1;
      break;
    }
  fclose(f);
  return found;
}

static bool acked(pid_t tid) {
  int n = atomic_load(&bc_acks);
  for (int i = 0; i < n && i < MAX_THREADS; i++)
    if (bc_acked[i] == tid) return true;
  return false;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Blocks `block` and unblocks `unblock` in every thread of the process.
 * Returns 0, -EBUSY if the broadcast signal is in use by someone else,
 * -EDEADLK if a thread blocks the broadcast signal but not the signals to block,
 * -ETIMEDOUT if a thread never ran the handler, or -errno of a call that
 * failed, named in `failed`.
 */
static int broadcast(uint64_t block, uint64_t unblock, failed_call *failed) {
  sigset_t set;
  mask_to_set(block, &set);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  mask_to_set(unblock, &set);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);

  const int sig = SIGRTMAX;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = broadcast_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  if (sigaction(sig, NULL, &old) < 0) return fail(failed, "sigaction", "");
  if ((old.sa_flags & SA_SIGINFO) ? old.sa_sigaction != broadcast_handler
                                  : (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
    return -EBUSY;
  sigaction(sig, &sa, &old);
  atomic_store(&bc_block, block);
  atomic_store(&bc_unblock, unblock);
  atomic_store(&bc_acks, 0);

  static pid_t sent[MAX_THREADS], listed[MAX_THREADS];
  int nsent = 0, result = 0;
  pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
  int64_t deadline = now_ns() + BROADCAST_TIMEOUT_NS;
  /* Re-list until no thread is new: one may have been created by a thread the
     previous round had not reached yet. */
  for (bool fresh = true; fresh && result == 0;) {
    fresh = false;
    /* The list is read whole before any thread's status, so that one fd at a
       time is enough: a process one fd short of its limit can still block. */
    int nlisted = 0;
    DIR *dir = opendir("/proc/self/task");
    if (!dir) {
      result = fail(failed, "opendir", "/proc/self/task");
      break;
    }
    struct dirent *de;
    while ((de = readdir(dir))) {
      pid_t tid = (pid_t)atoi(de->d_name);
      if (tid <= 0 || tid == self) continue;
      bool known = false;
      for (int i = 0; i < nsent && !known; i++) known = sent[i] == tid;
      if (known) continue;
      if (nlisted == MAX_THREADS) {
        result = -EAGAIN;
        break;
      }
      listed[nlisted++] = tid;
    }
    closedir(dir);
    for (int i = 0; i < nlisted && result == 0; i++) {
      pid_t tid = listed[i];
      uint64_t blk;
      int r = thread_blocked(tid, &blk, failed);
      if (r <= 0) {
        result = r;
        continue;
      }
      if ((blk & block) == block && (blk & unblock) == 0) continue; /* already as wanted */
      if (blk & bit(sig)) {
        /* Unreachable. Harmless for unblocking (the signal goes to another thread). */
        if (block & ~blk) result = -EDEADLK;
        continue;
      }
      if (nsent == MAX_THREADS) {
        result = -EAGAIN;
        break;
      }
      if (syscall(SYS_tgkill, pid, tid, sig) == 0) {
        sent[nsent++] = tid;
        fresh = true;
      }
    }
    /* Wait for every thread signalled so far, or for it to be gone. */
    for (int i = 0; i < nsent; i++) {
      while (!acked(sent[i]) && syscall(SYS_tgkill, pid, sent[i], 0) == 0) {
        if (now_ns() > deadline) {
          result = -ETIMEDOUT;
          break;
        }
        struct timespec pause = {0, 20000};
        nanosleep(&pause, NULL);
      }
      if (result) break;
    }
  }
  /* On a timeout a late handler may still be on its way: leave it installed
     rather than let the signal's default action kill the process. */
  if (result != -ETIMEDOUT) sigaction(sig, &old, NULL);
  return result;
}

/*
 * Takes (acquire) or lets go of one hold per signal of `mask` for `benv`.
 * Holds are counted per environment as well as per process, so that a release
 * never lets go of another environment's hold and an environment that ends
 * gives back what it still holds (signals_cleanup). Returns 0 or -errno (of
 * the call named in `failed`, if one failed). A release always lets go of the
 * holds, unblocking as far as it can.
 */
static int hold(butter_env *benv, uint64_t mask, bool acquire, failed_call *failed) {
  pthread_mutex_lock(&block_lock);
  if (!acquire)
    for (int s = 1; s <= NSIG_KERNEL; s++)
      if (benv->signal_holds[s] == 0) mask &= ~bit(s);
  sigset_t current;
  pthread_sigmask(SIG_BLOCK, NULL, &current);
  uint64_t here = set_to_mask(&current), change = 0;
  for (int s = 1; s <= NSIG_KERNEL; s++) {
    if (!(mask & bit(s))) continue;
    if (acquire && block_count[s] == 0) change |= bit(s);
    /* Leave blocked what the caller had blocked before the first holder came. */
    if (!acquire && block_count[s] == 1 && !(preblocked & bit(s))) change |= bit(s);
  }
  int r = change ? (acquire ? broadcast(change, 0, failed) : broadcast(0, change, failed)) : 0;
  if (r == 0 || !acquire) {
    for (int s = 1; s <= NSIG_KERNEL; s++) {
      if (!(mask & bit(s))) continue;
      if (acquire) {
        if (block_count[s]++ == 0) preblocked = (preblocked & ~bit(s)) | (here & bit(s));
        benv->signal_holds[s]++;
      } else {
        block_count[s]--;
        benv->signal_holds[s]--;
      }
    }
  } else if (r != -EBUSY) {
    failed_call ignored;
    broadcast(0, change & ~here, &ignored); /* undo what the failed broadcast managed */
  }
  pthread_mutex_unlock(&block_lock);
  return r;
}

/*
 * An environment is going away: a Worker that returned or was terminated with
 * blocks still held (never released, never collected) gives them back, or they
 * would stay blocked in every thread for the rest of the process.
 */
static void signals_cleanup(void *arg) {
  butter_env *benv = arg;
  benv->signals_gone = true;
  /* The main thread's environment ends with the process, and its masks with it;
     unblocking now would only hand a signal still pending its default action,
     in place of the exit the process is making. */
  if (syscall(SYS_gettid) == getpid()) return;
  for (;;) {
    uint64_t held = 0;
    for (int s = 1; s <= NSIG_KERNEL; s++)
      if (benv->signal_holds[s]) held |= bit(s);
    if (!held) break;
    failed_call ignored;
    hold(benv, held, false, &ignored);
  }
}

/*
 * sigblock(mask, acquire) -> 0 | -errno | [-errno, syscall[, path]]:
 * reference-counted process-wide blocking. A bare -errno is the broadcast's
 * own refusal (EBUSY, EDEADLK, ETIMEDOUT, EAGAIN); the array names a call that
 * failed.
 */
static napi_value js_sigblock(napi_env env, napi_callback_info info) {
  uint64_t mask;
  bool acquire;
  if (!butter_args(env, info, "Ub", &mask, &acquire)) return NULL;
  butter_env *benv = butter_get_env(env);
  if (acquire && benv->signals_gone) {
    /* JS can still run after the cleanup hook; a block taken then would never be given back. */
    napi_throw_error(env, "ERR_WORKER_TERMINATED", "the environment is shutting down");
    return NULL;
  }
  if (acquire && !benv->signal_hook) {
    if (napi_add_env_cleanup_hook(env, signals_cleanup, benv) != napi_ok) return butter_errno_result(env, ENOMEM);
    benv->signal_hook = true;
  }
  failed_call failed = {NULL, ""};
  int r = hold(benv, mask, acquire, &failed);
  if (r == 0 || !failed.syscall) return butter_int(env, r);
  return butter_call_error(env, -r, failed.syscall, failed.path[0] ? failed.path : NULL);
}

/* ---- signalfd ---- */

/* signalfd(fd, mask, flags[, handle]) -> fd | -errno; a handle adopts a new fd. */
static napi_value js_signalfd(napi_env env, napi_callback_info info) {
  int32_t fd, flags;
  uint64_t mask;
  napi_value handle = NULL;
  if (!butter_args(env, info, "iUi|v", &fd, &mask, &flags, &handle)) return NULL;
  sigset_t set;
  mask_to_set(mask, &set);
  int r = signalfd(fd, &set, flags);
  return butter_new_fd(env, r < 0 ? -errno : r, fd == -1 ? handle : NULL);
}

/* signalfdRead(fd, buffer) -> bytes read | -errno. The JS layer parses the records. */
static napi_value js_signalfd_read(napi_env env, napi_callback_info info) {
  return butter_read_into(env, info);
}

/* sigqueue(pid, sig, value) -> 0 | -errno */
static napi_value js_sigqueue(napi_env env, napi_callback_info info) {
  int32_t pid, sig, value;
  if (!butter_args(env, info, "iii", &pid, &sig, &value)) return NULL;
  union sigval sv = {.sival_int = value};
  return butter_int(env, sigqueue(pid, sig, sv) < 0 ? -errno : 0);
}

void butter_init_signal(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"pthreadSigmask", js_pthread_sigmask},
      {"sigblock", js_sigblock},
      {"signalfd", js_signalfd},
      {"signalfdRead", js_signalfd_read},
      {"sigqueue", js_sigqueue},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_INT(c, SIG_BLOCK);    /* sigprocmask: every Linux */
  BUTTER_INT(c, SIG_UNBLOCK);  /* sigprocmask: every Linux */
  BUTTER_INT(c, SIG_SETMASK);  /* sigprocmask: every Linux */
  BUTTER_INT(c, SFD_CLOEXEC);  /* 2.6.27, with signalfd4 (signalfd: 2.6.22) */
  BUTTER_INT(c, SFD_NONBLOCK); /* 2.6.27, with signalfd4 (signalfd: 2.6.22) */
  BUTTER_INT(c, SIGRTMIN);     /* real-time signals: 2.2 */
  BUTTER_INT(c, SIGRTMAX);     /* real-time signals: 2.2 */
  napi_set_named_property(env, exports, "constants", c);
}
