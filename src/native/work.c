/*
 * Blocking work off the loop: a native call run on a thread of Butter's own,
 * its result handed back to the JS thread (src/core/work.ts makes the Promise).
 *
 * Not libuv's pool (napi_create_async_work), because the calls that come here
 * can block for as long as a peer leaves a pipe or socket idle. libuv's pool
 * has four threads shared with fs, dns.lookup, crypto and zlib, so four such
 * calls would stall all of those; and Node waits for every pool request before
 * a terminated Worker's cleanup hooks run and joins the pool at process exit,
 * so one blocked call keeps a Worker from ending and the process from exiting
 * (Node's own fs.read of an idle FIFO does both). Our threads are ours to
 * interrupt and not waited for at exit. Threads start on demand, up to
 * BUTTER_WORK_THREADS (default 64) per environment, and end after idling.
 *
 * Interrupting a running call: its thread gets WORK_SIGNAL, whose handler does
 * nothing and is installed without SA_RESTART, so a syscall sleeping
 * interruptibly returns EINTR (or the bytes it had moved). Only our threads are
 * sent it, only while their call runs: the state changes and the sends happen
 * under the pool's lock, and a thread whose call was sent one consumes any
 * still pending before it takes the next call. A send that lands before the
 * syscall has started is lost, so JS repeats the abort until the call ends.
 *
 * fds: the call runs on close-on-exec duplicates made when it is queued and
 * closed when it ends, so a caller that closes its fd meanwhile (and the
 * number is reused) never has the call touch another file.
 */
#include "butter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORK_SIGNAL (SIGRTMAX - 1)
#define DEFAULT_THREADS 64
#define IDLE_SECONDS 10
#define KICK_INTERVAL_NS 10000000L /* teardown re-sends interrupts this often */
#define STACK_SIZE (256 * 1024)

enum work_state { WORK_QUEUED, WORK_RUNNING, WORK_DONE };

typedef struct butter_work {
  struct butter_work *next; /* in the queue, the running list or the done list */
  struct butter_work_pool *pool;
  const butter_work_call *call;
  void *arg;
  napi_ref keep, done;
  int64_t result;
  enum work_state state;
  atomic_bool aborted;
  bool ran;         /* was started (an abort cancels a call that was not) */
  bool kicked;      /* sent WORK_SIGNAL: its thread consumes what is left pending */
  bool delivered;   /* the pool's part is over (done called, or torn down) */
  pthread_t thread; /* while running */
  int owners;       /* the pool until delivered + the JS token */
} butter_work;

typedef struct butter_work_pool {
  pthread_mutex_t lock;
  pthread_cond_t wake;   /* work queued, or stopping */
  pthread_cond_t exited; /* a thread ended (teardown waits for all) */
  butter_work *queue, *queue_tail; /* not started, oldest first */
  butter_work *running, *done;
  uint32_t threads, idle, queued, max;
  uint32_t pending; /* submitted and not yet delivered: the loop stays alive */
  bool stopping, notified;
  napi_threadsafe_function tsfn;
} butter_work_pool;

/* ---- the interrupt ---- */

static bool interrupt_ok;
static pthread_once_t interrupt_once = PTHREAD_ONCE_INIT;

static void on_work_signal(int sig) {
  (void)sig;
}

/* Leaves a handler someone else installed alone: then a running call cannot be interrupted. */
static void install_interrupt(void) {
  struct sigaction old, sa;
  if (sigaction(WORK_SIGNAL, NULL, &old) < 0) return;
  if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL) return;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_work_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: that is the point */
  interrupt_ok = !(old.sa_flags & SA_SIGINFO) && sigaction(WORK_SIGNAL, &sa, NULL) == 0;
}

static void kick(butter_work *w) {
  if (interrupt_ok && pthread_kill(w->thread, WORK_SIGNAL) == 0) w->kicked = true;
}

/* Takes a WORK_SIGNAL sent after the call returned, before the thread's next call can meet it. */
static void consume_kicks(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, WORK_SIGNAL);
  struct timespec zero = {0, 0};
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  while (sigtimedwait(&set, NULL, &zero) == WORK_SIGNAL) {
  }
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- lists (all under the pool's lock) ---- */

static void push(butter_work **head, butter_work *w) {
  w->next = *head;
  *head = w;
}

static void unlink_work(butter_work **head, butter_work *w) {
  for (butter_work **p = head; *p; p = &(*p)->next)
    if (*p == w) {
      *p = w->next;
      return;
    }
}

static void enqueue(butter_work_pool *pool, butter_work *w) {
  w->next = NULL;
  if (pool->queue_tail) pool->queue_tail->next = w;
  else pool->queue = w;
  pool->queue_tail = w;
  pool->queued++;
}

static void dequeue(butter_work_pool *pool, butter_work *w) {
  butter_work *prev = NULL;
  for (butter_work *q = pool->queue; q != w; q = q->next) prev = q;
  if (prev) prev->next = w->next;
  else pool->queue = w->next;
  if (pool->queue_tail == w) pool->queue_tail = prev;
  pool->queued--;
}

static void close_fds(butter_work *w) {
  for (size_t i = 0; i < w->call->nfds; i++) {
    int *fd = (int *)((char *)w->arg + w->call->fd_offsets[i]);
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

static void work_release(butter_work *w) {
  if (--w->owners > 0) return;
  free(w->arg);
  free(w);
}

/* Done (ran, or cancelled before it ran): hand it to the JS thread. */
static void finish(butter_work_pool *pool, butter_work *w) {
  push(&pool->done, w);
  if (!pool->notified) {
    pool->notified = true;
    napi_call_threadsafe_function(pool->tsfn, NULL, napi_tsfn_nonblocking);
  }
}

/* ---- the threads ---- */

static void *worker_main(void *p) {
  butter_work_pool *pool = p;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, WORK_SIGNAL);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* whatever mask the creating thread had */
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    while (!pool->queue && !pool->stopping) {
      struct timespec deadline;
      clock_gettime(CLOCK_REALTIME, &deadline);
      deadline.tv_sec += IDLE_SECONDS;
      pool->idle++;
      int r = pthread_cond_timedwait(&pool->wake, &pool->lock, &deadline);
      pool->idle--;
      if (r == ETIMEDOUT && !pool->queue) goto out;
    }
    if (pool->stopping) break; /* queued calls are dropped by the teardown */
    butter_work *w = pool->queue;
    dequeue(pool, w);
    w->state = WORK_RUNNING;
    w->ran = true;
    w->thread = pthread_self();
    push(&pool->running, w);
    pthread_mutex_unlock(&pool->lock);

    int64_t r;
    do r = w->call->run(w->arg);
    while (r == -EINTR && !atomic_load(&w->aborted)); /* someone else's signal, not an abort */

    pthread_mutex_lock(&pool->lock);
    unlink_work(&pool->running, w);
    w->state = WORK_DONE;
    w->result = r;
    bool kicked = w->kicked;
    pthread_mutex_unlock(&pool->lock);
    if (kicked) consume_kicks();
    close_fds(w);
    pthread_mutex_lock(&pool->lock);
    finish(pool, w);
  }
out:
  pool->threads--;
  pthread_cond_signal(&pool->exited);
  pthread_mutex_unlock(&pool->lock);
  return NULL;
}

/* Under the lock. A failure is fine while another thread can take the call. */
static int start_thread(butter_work_pool *pool) {
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, STACK_SIZE);
  int err = pthread_create(&t, &attr, worker_main, pool);
  pthread_attr_destroy(&attr);
  if (err == 0) pool->threads++;
  return err;
}

/* ---- the JS thread ---- */

static void loop_ref(napi_env env, butter_work_pool *pool, int delta) {
  if (delta > 0 && pool->pending++ == 0) napi_ref_threadsafe_function(env, pool->tsfn);
  if (delta < 0 && --pool->pending == 0) napi_unref_threadsafe_function(env, pool->tsfn);
}

/* Runs on the JS thread whenever calls have finished: calls each one's done. */
static void deliver(napi_env env, napi_value js_cb, void *context, void *data) {
  butter_work_pool *pool = context;
  if (!env) return; /* torn down: the teardown released what was left */
  pthread_mutex_lock(&pool->lock);
  butter_work *list = pool->done;
  pool->done = NULL;
  pool->notified = false;
  pthread_mutex_unlock(&pool->lock);
  /* The list is newest first: reverse it so calls complete in the order they finished. */
  butter_work *ordered = NULL;
  while (list) {
    butter_work *next = list->next;
    list->next = ordered;
    ordered = list;
    list = next;
  }
  for (butter_work *w = ordered, *next; w; w = next) {
    next = w->next;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value argv[2], done = NULL, result;
    /* Aborted with no effect: cancelled before it ran, or interrupted before it moved anything. */
    bool no_effect = atomic_load(&w->aborted) && (!w->ran || w->result == -EINTR);
    argv[0] = w->result >= 0 && w->call->result ? w->call->result(env, w->arg, w->result) : butter_int(env, w->result);
    napi_get_boolean(env, no_effect, &argv[1]);
    napi_get_reference_value(env, w->done, &done);
    napi_delete_reference(env, w->done);
    if (w->keep) napi_delete_reference(env, w->keep);
    w->done = w->keep = NULL;
    w->delivered = true;
    loop_ref(env, pool, -1);
    work_release(w);
    if (done && napi_make_callback(env, NULL, done, done, 2, argv, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err); /* as 'uncaughtException', like Node's own callbacks */
    }
    napi_close_handle_scope(env, scope);
  }
}

/* Teardown: the pool's part of calls that will never be delivered. */
static void drop(butter_work *list) {
  for (butter_work *w = list, *next; w; w = next) {
    next = w->next;
    close_fds(w); /* a queued call's duplicates (a finished one closed its own) */
    w->delivered = true;
    work_release(w);
  }
}

/* The environment is going away: interrupt what runs, wait for the threads, drop the rest. */
static void pool_teardown(void *arg) {
  butter_env *benv = arg;
  butter_work_pool *pool = benv->work;
  pthread_mutex_lock(&pool->lock);
  pool->stopping = true;
  pthread_cond_broadcast(&pool->wake);
  while (pool->threads > 0) {
    for (butter_work *w = pool->running; w; w = w->next) {
      atomic_store(&w->aborted, true);
      kick(w);
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += KICK_INTERVAL_NS;
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&pool->exited, &pool->lock, &deadline);
  }
  pthread_mutex_unlock(&pool->lock);
  napi_release_threadsafe_function(pool->tsfn, napi_tsfn_abort);
  /* No thread is left. The environment frees the references itself. */
  drop(pool->queue);
  drop(pool->done);
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->wake);
  pthread_cond_destroy(&pool->exited);
  free(pool);
  benv->work = NULL;
}

static butter_work_pool *get_pool(napi_env env) {
  butter_env *benv = butter_get_env(env);
  if (benv->work) return benv->work;
  pthread_once(&interrupt_once, install_interrupt);
  butter_work_pool *pool = calloc(1, sizeof *pool);
  if (!pool) return NULL;
  const char *max = getenv("BUTTER_WORK_THREADS");
  long n = max ? strtol(max, NULL, 10) : 0;
  pool->max = n > 0 && n <= 1024 ? (uint32_t)n : DEFAULT_THREADS;
  napi_value name;
  napi_create_string_utf8(env, "butter:work", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, pool, deliver, &pool->tsfn) != napi_ok) {
    free(pool);
    return NULL;
  }
  napi_unref_threadsafe_function(env, pool->tsfn); /* idle: keep nothing alive */
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->exited, NULL);
  benv->work = pool;
  /* Added after the threadsafe function: hooks run in reverse order, so ours
     stops the threads before Node finalizes the function. */
  napi_add_env_cleanup_hook(env, pool_teardown, benv);
  return pool;
}

static void token_finalize(napi_env env, void *data, void *hint) {
  work_release(data);
}

napi_value butter_work_submit(napi_env env, const butter_work_call *call, void *arg, napi_value keep, napi_value done) {
  butter_env *benv = butter_get_env(env);
  if (benv->tearing_down || (benv->work && benv->work->stopping)) {
    free(arg);
    napi_throw_error(env, "ERR_WORKER_TERMINATED", "the environment is shutting down");
    return NULL;
  }
  for (size_t i = 0; i < call->nfds; i++) {
    int *fd = (int *)((char *)arg + call->fd_offsets[i]);
    int dup = fcntl(*fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
      int err = errno;
      while (i-- > 0) close(*(int *)((char *)arg + call->fd_offsets[i]));
      free(arg);
      return butter_errno_result(env, err);
    }
    *fd = dup;
  }
  butter_work_pool *pool = get_pool(env);
  butter_work *w = pool ? calloc(1, sizeof *w) : NULL;
  napi_value token;
  if (!w || napi_create_reference(env, done, 1, &w->done) != napi_ok ||
      (keep && napi_create_reference(env, keep, 1, &w->keep) != napi_ok) ||
      napi_create_external(env, w, token_finalize, NULL, &token) != napi_ok) {
    butter_work tmp = {.call = call, .arg = arg};
    close_fds(&tmp);
    if (w && w->done) napi_delete_reference(env, w->done);
    if (w && w->keep) napi_delete_reference(env, w->keep);
    free(w);
    free(arg);
    return butter_errno_result(env, ENOMEM);
  }
  w->pool = pool;
  w->call = call;
  w->arg = arg;
  w->owners = 2;
  pthread_mutex_lock(&pool->lock);
  int err = pool->queued >= pool->idle && pool->threads < pool->max ? start_thread(pool) : 0;
  if (err && pool->threads == 0) {
    /* No thread to run it: fail the call with pthread_create's reason (EAGAIN). */
    close_fds(w);
    w->state = WORK_DONE;
    w->result = -err;
    finish(pool, w);
  } else {
    w->state = WORK_QUEUED;
    enqueue(pool, w);
    pthread_cond_signal(&pool->wake);
  }
  pthread_mutex_unlock(&pool->lock);
  loop_ref(env, pool, +1);
  return token;
}

/*
 * workAbort(token) -> 0: cancelled before it ran; 1: running, interrupted if
 * the kernel lets it (call again until done is called: a send can be lost);
 * 2: finished, too late. done is called in every case.
 */
static napi_value js_work_abort(napi_env env, napi_callback_info info) {
  napi_value token = NULL;
  void *p = NULL;
  butter_args(env, info, "|v", &token);
  if (!token || napi_get_value_external(env, token, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a work token");
    return NULL;
  }
  butter_work *w = p;
  if (w->delivered) return butter_int(env, 2);
  butter_work_pool *pool = w->pool;
  int r;
  pthread_mutex_lock(&pool->lock);
  atomic_store(&w->aborted, true);
  if (w->state == WORK_QUEUED) {
    dequeue(pool, w);
    close_fds(w);
    w->state = WORK_DONE;
    w->result = -ECANCELED;
    finish(pool, w);
    r = 0;
  } else if (w->state == WORK_RUNNING) {
    kick(w);
    r = 1;
  } else {
    r = 2;
  }
  pthread_mutex_unlock(&pool->lock);
  return butter_int(env, r);
}

void butter_init_work(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"workAbort", js_work_abort},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
}
