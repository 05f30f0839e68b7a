/*
 * Readiness backend 2: an epoll thread of our own that hands ready handles to
 * JS through a napi_threadsafe_function, one call each.
 *
 * Portable: it needs nothing but Node-API, so it is the choice where libuv is not
 * reachable (and can be forced on Node for testing; see src/core/native.ts).
 * Every fd is armed EPOLLONESHOT: after one wake it stays quiet until the JS
 * thread has drained it and re-armed it, so the thread never spins on an fd the
 * JS side has not consumed yet.
 */
#include "butter.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WAKE_ID UINT64_MAX
#define MAX_BATCH 64

typedef struct {
  int epfd;
  int wakefd;
  pthread_t thread;
  napi_threadsafe_function tsfn;
} epoll_state;

/* One ready handle, handed to JS as its own threadsafe-function call. */
typedef struct {
  uint64_t id;
  uint32_t events;
} ready_item;

static uint32_t to_epoll(uint32_t events) {
  return (events & BUTTER_READABLE ? EPOLLIN : 0) | (events & BUTTER_WRITABLE ? EPOLLOUT : 0);
}

static uint32_t from_epoll(uint32_t ev) {
  /* An error or hang-up is reported as readiness for whatever was asked, as libuv
     does: the read or write that follows finds the error itself. */
  if (ev & (EPOLLERR | EPOLLHUP)) return BUTTER_READABLE | BUTTER_WRITABLE;
  return (ev & EPOLLIN ? BUTTER_READABLE : 0) | (ev & EPOLLOUT ? BUTTER_WRITABLE : 0);
}

static void *thread_main(void *arg) {
  epoll_state *st = arg;
  struct epoll_event evs[MAX_BATCH];
  for (;;) {
    int n = epoll_wait(st->epfd, evs, MAX_BATCH, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return NULL;
    }
    bool stop = false;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == WAKE_ID) {
        stop = true;
        continue;
      }
      /* One call per handle, not per batch: Node drains promise reactions and
         nextTicks after each call, so they run between two handles' callbacks
         as on libuv's own loop. */
      ready_item *item = malloc(sizeof *item);
      if (!item) continue; /* out of memory: this wake is lost, and the fd stays disarmed */
      item->id = evs[i].data.u64;
      item->events = from_epoll(evs[i].events);
      if (stop || napi_call_threadsafe_function(st->tsfn, item, napi_tsfn_nonblocking) != napi_ok) free(item);
    }
    if (stop) return NULL;
  }
}

static int arm(butter_handle *h, uint32_t events) {
  epoll_state *st = h->benv->backend_state;
  struct epoll_event ev = {.events = to_epoll(events) | EPOLLONESHOT, .data.u64 = butter_handle_id(h)};
  if (epoll_ctl(st->epfd, h->epoll_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, h->poll_fd, &ev) < 0) return -errno;
  h->epoll_added = true;
  h->armed = true;
  return 0;
}

/* Runs on the JS thread, once per ready handle. */
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  ready_item *item = data;
  butter_env *benv = context;
  butter_handle *h = env && !benv->tearing_down ? butter_handle_lookup(benv, item->id) : NULL;
  if (h) { /* else closed since the thread saw it */
    h->armed = false;
    uint32_t events = item->events & h->events;
    if (events) butter_handle_deliver(h, 0, events);
    h = butter_handle_lookup(benv, item->id); /* the callback may have closed it */
    int r;
    if (h && h->events && !h->armed && (r = arm(h, h->events)) < 0) butter_handle_deliver(h, r, 0);
  }
  free(item);
}

static void loop_ref(butter_env *benv, bool before, bool after) {
  epoll_state *st = benv->backend_state;
  if (before == after) return;
  if (after && benv->loop_refs++ == 0) napi_ref_threadsafe_function(benv->env, st->tsfn);
  if (!after && --benv->loop_refs == 0) napi_unref_threadsafe_function(benv->env, st->tsfn);
}

static int epoll_set(butter_handle *h, uint32_t events, uint32_t flags) {
  epoll_state *st = h->benv->backend_state;
  if (events) {
    if (events != h->events || !h->armed) {
      int r = arm(h, events);
      if (r < 0) return r;
    }
  } else if (h->armed) {
    struct epoll_event ev = {.events = 0, .data.u64 = butter_handle_id(h)};
    epoll_ctl(st->epfd, EPOLL_CTL_MOD, h->poll_fd, &ev);
    h->armed = false;
  }
  loop_ref(h->benv, h->events && (h->flags & BUTTER_KEEP_LOOP), events && (flags & BUTTER_KEEP_LOOP));
  return 0;
}

static void epoll_close(butter_handle *h) {
  epoll_state *st = h->benv->backend_state;
  loop_ref(h->benv, h->events && (h->flags & BUTTER_KEEP_LOOP), false);
  if (h->epoll_added) epoll_ctl(st->epfd, EPOLL_CTL_DEL, h->poll_fd, NULL);
  h->epoll_added = h->armed = false;
  h->events = 0;
  butter_handle_release(h);
}

static void epoll_teardown(butter_env *benv) {
  epoll_state *st = benv->backend_state;
  uint64_t one = 1;
  if (write(st->wakefd, &one, sizeof one) == sizeof one) pthread_join(st->thread, NULL);
  napi_release_threadsafe_function(st->tsfn, napi_tsfn_abort);
  close(st->epfd);
  close(st->wakefd);
  free(st);
  benv->backend_state = NULL;
}

const butter_backend_ops butter_epoll_ops = {epoll_set, epoll_close, epoll_teardown};

int butter_epoll_init(butter_env *benv) {
  epoll_state *st = calloc(1, sizeof *st);
  if (!st) return -ENOMEM;
  st->epfd = epoll_create1(EPOLL_CLOEXEC);
  st->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int err = 0;
  napi_value name;
  struct epoll_event wake = {.events = EPOLLIN, .data.u64 = WAKE_ID};
  if (st->epfd < 0 || st->wakefd < 0 || epoll_ctl(st->epfd, EPOLL_CTL_ADD, st->wakefd, &wake) < 0) {
    err = -errno;
    goto fail;
  }
  napi_create_string_utf8(benv->env, "butter:epoll", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(benv->env, NULL, NULL, name, 0, 1, NULL, NULL, benv, call_js,
                                      &st->tsfn) != napi_ok) {
    err = -ENOMEM;
    goto fail;
  }
  napi_unref_threadsafe_function(benv->env, st->tsfn); /* idle: keep nothing alive */
  /* The thread blocks every signal, so that it is never the one a
     process-directed signal is delivered to. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  err = -pthread_create(&st->thread, NULL, thread_main, st);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (err) {
    napi_release_threadsafe_function(st->tsfn, napi_tsfn_abort);
    goto fail;
  }
  benv->backend_state = st;
  return 0;
fail:
  if (st->epfd >= 0) close(st->epfd);
  if (st->wakefd >= 0) close(st->wakefd);
  free(st);
  return err;
}
