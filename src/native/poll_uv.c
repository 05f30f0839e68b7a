/*
 * Readiness backend 1: libuv's uv_poll_t on the environment's own loop.
 *
 * The fast path on Node: the fd sits in the loop's own epoll set, so a wake costs
 * no thread hop. libuv is not part of Node-API, so its functions are looked up at
 * run time (dlsym) rather than linked: a runtime that lacks them, or has them only
 * as stubs, never gets this backend and the addon still loads there.
 */
#include "butter.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <uv.h>

static struct {
  int (*poll_init)(uv_loop_t *, uv_poll_t *, int);
  int (*poll_start)(uv_poll_t *, int, uv_poll_cb);
  int (*poll_stop)(uv_poll_t *);
  void (*close)(uv_handle_t *, uv_close_cb);
  void (*ref)(uv_handle_t *);
  void (*unref)(uv_handle_t *);
} uv;

typedef struct {
  uv_poll_t poll;
  butter_handle *h;
} uv_watch;

static void on_poll(uv_poll_t *poll, int status, int events) {
  uv_watch *w = poll->data;
  butter_handle_deliver(w->h, status, (uint32_t)events & (BUTTER_READABLE | BUTTER_WRITABLE));
}

static int uv_set(butter_handle *h, uint32_t events, uint32_t flags) {
  uv_watch *w = h->backend_data;
  if (!w) {
    if (!events) return 0;
    uv_loop_t *loop = h->benv->backend_state;
    w = calloc(1, sizeof *w);
    if (!w) return -ENOMEM;
    int r = uv.poll_init(loop, &w->poll, h->poll_fd);
    if (r < 0) {
      free(w);
      return r; /* libuv errors are -errno on Linux */
    }
    w->h = h;
    w->poll.data = w;
    h->backend_data = w;
  }
  if (events != h->events) {
    int r = events ? uv.poll_start(&w->poll, (int)events, on_poll) : uv.poll_stop(&w->poll);
    if (r < 0) return r;
  }
  if (flags & BUTTER_KEEP_LOOP) uv.ref((uv_handle_t *)&w->poll);
  else uv.unref((uv_handle_t *)&w->poll);
  return 0;
}

static void on_close(uv_handle_t *handle) {
  uv_watch *w = handle->data;
  butter_env *benv = w->h->benv;
  butter_handle_release(w->h);
  free(w);
  benv->pending_closes--;
  butter_env_maybe_done(benv);
}

static void uv_close_handle(butter_handle *h) {
  uv_watch *w = h->backend_data;
  if (!w) {
    butter_handle_release(h);
    return;
  }
  h->backend_data = NULL;
  h->benv->pending_closes++;
  /* uv_close removes the fd from the loop's epoll set at once, so the caller may
     close the fd right after; the memory goes in on_close. */
  uv.close((uv_handle_t *)&w->poll, on_close);
}

static void uv_teardown(butter_env *benv) {}

const butter_backend_ops butter_uv_ops = {uv_set, uv_close_handle, uv_teardown};

int butter_uv_init(butter_env *benv) {
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(benv->env, &loop) != napi_ok || !loop) return -ENOSYS;
  uv.poll_init = (int (*)(uv_loop_t *, uv_poll_t *, int))dlsym(RTLD_DEFAULT, "uv_poll_init");
  uv.poll_start = (int (*)(uv_poll_t *, int, uv_poll_cb))dlsym(RTLD_DEFAULT, "uv_poll_start");
  uv.poll_stop = (int (*)(uv_poll_t *))dlsym(RTLD_DEFAULT, "uv_poll_stop");
  uv.close = (void (*)(uv_handle_t *, uv_close_cb))dlsym(RTLD_DEFAULT, "uv_close");
  uv.ref = (void (*)(uv_handle_t *))dlsym(RTLD_DEFAULT, "uv_ref");
  uv.unref = (void (*)(uv_handle_t *))dlsym(RTLD_DEFAULT, "uv_unref");
  if (!uv.poll_init || !uv.poll_start || !uv.poll_stop || !uv.close || !uv.ref || !uv.unref)
    return -ENOSYS;
  benv->backend_state = loop;
  return 0;
}
