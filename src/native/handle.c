/*
 * Fd ownership and event-loop readiness.
 *
 * A handle owns one fd on behalf of one JS object and can watch it for
 * readiness through the backend chosen for this environment (poll_uv.c or
 * poll_epoll.c). The JS layer (src/core/source.ts) decides when to watch; this
 * file only does what it is told, closes the fd exactly once (explicitly, from
 * the finalizer of a forgotten object, or when the environment goes away), and
 * frees the handle when neither side needs it any more.
 */
#include "butter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- slot table: ids that never match a dead handle ---- */

static bool table_insert(butter_env *benv, butter_handle *h) {
  if (benv->free_head == UINT32_MAX) {
    uint32_t cap = benv->cap ? benv->cap * 2 : 64;
    butter_handle **handles = realloc(benv->handles, cap * sizeof *handles);
    if (!handles) return false;
    benv->handles = handles;
    uint32_t *next_free = realloc(benv->next_free, cap * sizeof *next_free);
    if (!next_free) return false;
    benv->next_free = next_free;
    for (uint32_t i = cap; i-- > benv->cap;) {
      handles[i] = NULL;
      next_free[i] = benv->free_head;
      benv->free_head = i;
    }
    benv->cap = cap;
  }
  uint32_t slot = benv->free_head;
  benv->free_head = benv->next_free[slot];
  benv->handles[slot] = h;
  h->slot = slot;
  h->gen = ++benv->gen;
  benv->nhandles++;
  return true;
}

static void table_remove(butter_env *benv, butter_handle *h) {
  if (h->slot == UINT32_MAX) return;
  benv->handles[h->slot] = NULL;
  benv->next_free[h->slot] = benv->free_head;
  benv->free_head = h->slot;
  h->slot = UINT32_MAX;
  benv->nhandles--;
}

butter_handle *butter_handle_lookup(butter_env *benv, uint64_t id) {
  uint32_t slot = (uint32_t)id;
  if (slot >= benv->cap) return NULL;
  butter_handle *h = benv->handles[slot];
  return h && h->gen == (uint32_t)(id >> 32) ? h : NULL;
}

/* ---- fds held for JS ---- */

bool butter_handle_hold(butter_handle *h, int fd) {
  if (h->shut || fd < 0) return false;
  uint32_t word = (uint32_t)fd / 64;
  if (word >= h->held_words) {
    /* fd numbers are the lowest free ones, so the bitmap stays about as long as the fd table. */
    uint32_t words = h->held_words ? h->held_words : 4;
    while (words <= word) words *= 2;
    uint64_t *held = realloc(h->held, words * sizeof *held);
    if (!held) return false;
    memset(held + h->held_words, 0, (words - h->held_words) * sizeof *held);
    h->held = held;
    h->held_words = words;
  }
  h->held[word] |= 1ull << (fd % 64);
  return true;
}

bool butter_handle_holds(const butter_handle *h, int fd) {
  return fd >= 0 && (uint32_t)fd / 64 < h->held_words && (h->held[fd / 64] >> (fd % 64) & 1);
}

bool butter_handle_close_held(butter_handle *h, int fd) {
  if (!butter_handle_holds(h, fd)) return false;
  h->held[fd / 64] &= ~(1ull << (fd % 64));
  close(fd);
  return true;
}

static void close_all_held(butter_handle *h) {
  for (uint32_t i = 0; i < h->held_words; i++)
    for (uint64_t w = h->held[i]; w; w &= w - 1) close((int)(i * 64 + (uint32_t)__builtin_ctzll(w)));
  free(h->held);
  h->held = NULL;
  h->held_words = 0;
}

/* ---- lifetime ---- */

void butter_handle_release(butter_handle *h) {
  if (--h->owners > 0) return;
  if (h->callback && !h->benv->tearing_down) napi_delete_reference(h->benv->env, h->callback);
  if (h->read_buf && !h->benv->tearing_down) napi_delete_reference(h->benv->env, h->read_buf);
  if (h->decoded && !h->benv->tearing_down) napi_delete_reference(h->benv->env, h->decoded);
  free(h);
}

/* Stops watching and closes the fd; safe to call more than once. Returns close(2)'s result. */
static int handle_shutdown(butter_handle *h) {
  if (h->shut) return -EBADF;
  h->shut = true;
  butter_env *benv = h->benv;
  if (benv->ops) benv->ops->close(h); /* releases the native owner, now or after uv_close */
  else butter_handle_release(h);
  if (h->drain) butter_drain_stop(h); /* its thread reads fd: stop it before fd is closed */
  table_remove(benv, h);
  int fd = h->fd;
  h->fd = -1;
  /* Linux closes the fd even when close() reports EINTR, so never retry. */
  int r = fd < 0 || close(fd) == 0 || errno == EINTR ? 0 : -errno;
  /* After the group's fd: its release has the kernel allow the permission
     events still waiting, and their fds only pin their files now. */
  close_all_held(h);
  if (h->family_free) h->family_free(h->family);
  h->family = NULL;
  h->family_free = NULL;
  return r;
}

static void handle_finalize(napi_env env, void *data, void *hint) {
  butter_handle *h = data;
  handle_shutdown(h);
  butter_handle_release(h);
}

void butter_handle_deliver(butter_handle *h, int status, uint32_t events) {
  napi_env env = h->benv->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb = NULL;
  if (h->callback) napi_get_reference_value(env, h->callback, &cb);
  if (!cb) {
    /* The owning object is gone: nobody can consume, so stop watching. */
    h->benv->ops->set(h, 0, 0);
    h->events = 0;
    h->flags = 0;
  } else {
    napi_value argv[3], result;
    size_t argc = 2;
    napi_create_int32(env, status, &argv[0]);
    napi_create_uint32(env, events, &argv[1]);
    /* A handle with a registered buffer and a consumer (KEEP_CALLBACK) is read
       here, as handleRead would (a drain's chunk, or the fd), so the callback
       gets the bytes without a second call into C. */
    if (h->read_data && status == 0 && (events & BUTTER_READABLE) && (h->flags & BUTTER_KEEP_CALLBACK)) {
      napi_create_int64(env, butter_handle_read_decoded(env, h, h->read_data, h->read_len), &argv[2]);
      argc = 3;
    }
    h->owners++; /* the callback may close the object; keep the memory until we return */
    /* make_callback, unlike call_function, drains microtasks and nextTicks
       afterwards. Its `this` must be an object: the callback itself, which ignores it. */
    if (napi_make_callback(env, NULL, cb, cb, argc, argv, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err); /* surfaces as 'uncaughtException', as Node's own callbacks do */
    }
    butter_handle_release(h);
  }
  napi_close_handle_scope(env, scope);
}

/* ---- JS interface ---- */

butter_handle *butter_arg_handle(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a handle");
    return NULL;
  }
  return p;
}

napi_value butter_new_fd(napi_env env, int fd, napi_value handle) {
  return butter_new_decoding_fd(env, fd, handle, NULL);
}

/* The handle `handle` with `fd` as its own, or NULL (the fd closed, the error returned in *result). */
static butter_handle *adopt_fd(napi_env env, int fd, napi_value handle, napi_value *result) {
  *result = butter_int(env, fd);
  if (fd < 0 || !handle) return NULL;
  void *p = NULL;
  napi_valuetype type = napi_undefined;
  napi_typeof(env, handle, &type);
  butter_handle *h = type == napi_external && napi_get_value_external(env, handle, &p) == napi_ok ? p : NULL;
  /* No owner (a Worker being terminated can make handleNew come back empty) or
     an owner that cannot take it: never hand out an fd nobody will close. */
  if (!h || h->shut || h->fd >= 0) {
    close(fd);
    *result = butter_errno_result(env, EBADF);
    return NULL;
  }
  h->fd = h->poll_fd = fd;
  return h;
}

napi_value butter_new_decoding_fd(napi_env env, int fd, napi_value handle, butter_decode_fn decode) {
  napi_value result;
  butter_handle *h = adopt_fd(env, fd, handle, &result);
  if (h) h->decode = decode;
  return result;
}

napi_value butter_new_receiving_fd(napi_env env, int fd, napi_value handle, butter_recv_fn recv) {
  napi_value result;
  butter_handle *h = adopt_fd(env, fd, handle, &result);
  if (h) h->recv = recv;
  return result;
}

/* handleNew(callback) -> handle, owning no fd until a creating call gives it one. */
static napi_value js_handle_new(napi_env env, napi_callback_info info) {
  napi_value callback, result;
  if (!butter_args(env, info, "v", &callback)) return NULL;
  butter_env *benv = butter_get_env(env);
  if (benv->tearing_down) {
    /* JS can still run between our cleanup hook and the environment's end; a
       handle made then would never be closed. */
    napi_throw_error(env, "ERR_WORKER_TERMINATED", "the environment is shutting down");
    return NULL;
  }
  butter_handle *h = calloc(1, sizeof *h);
  if (!h || !table_insert(benv, h)) {
    free(h);
    napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter handle");
    return NULL;
  }
  h->benv = benv;
  h->fd = h->poll_fd = -1;
  h->owners = 2;
  if (napi_create_reference(env, callback, 0, &h->callback) != napi_ok ||
      napi_create_external(env, h, handle_finalize, NULL, &result) != napi_ok) {
    handle_shutdown(h);
    butter_handle_release(h);
    return NULL;
  }
  return result;
}

/* handleSet(handle, events, flags) -> 0 | -errno */
static napi_value js_handle_set(napi_env env, napi_callback_info info) {
  butter_handle *h;
  uint32_t events, flags;
  if (!butter_args(env, info, "huu", &h, &events, &flags)) return NULL;
  if (h->fd < 0) return butter_errno_result(env, EBADF);
  if (!h->benv->ops) return butter_errno_result(env, ENOSYS);
  events &= BUTTER_READABLE | BUTTER_WRITABLE;
  bool keep = events && (flags & BUTTER_KEEP_CALLBACK);
  bool kept = h->events && (h->flags & BUTTER_KEEP_CALLBACK);
  int r = h->benv->ops->set(h, events, flags);
  if (r < 0) return butter_errno_result(env, -r);
  if (keep != kept) {
    uint32_t count;
    if (keep) napi_reference_ref(env, h->callback, &count);
    else napi_reference_unref(env, h->callback, &count);
  }
  h->events = events;
  h->flags = flags;
  return butter_int(env, 0);
}

int64_t butter_handle_read_decoded(napi_env env, butter_handle *h, void *data, size_t len) {
  int64_t n = butter_handle_read(h, data, len);
  napi_value decoded;
  if (n > 0 && h->decoded && napi_get_reference_value(env, h->decoded, &decoded) == napi_ok && decoded)
    h->decode(env, decoded, data, n);
  return n;
}

/*
 * handleSetBuffer(handle, buffer[, decoded]) -> 0: readable wakes are read
 * into buffer (a Uint8Array) before the callback, and with `decoded` (an
 * array) every read through the handle fills it with the handle's decoding
 * (butter_decode_fn), which its family registered with its fd.
 */
static napi_value js_handle_set_buffer(napi_env env, napi_callback_info info) {
  butter_handle *h;
  napi_value buffer, decoded = NULL;
  const void *data;
  size_t len;
  bool is_array = false;
  if (!butter_args(env, info, "hv|v", &h, &buffer, &decoded) || !butter_arg_bytes(env, buffer, &data, &len))
    return NULL;
  napi_valuetype type = napi_undefined;
  if (decoded) napi_typeof(env, decoded, &type);
  bool decoding = type != napi_undefined;
  if (decoding) napi_is_array(env, decoded, &is_array); /* left false if it fails */
  if (decoding && (!is_array || !h->decode)) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "no array to decode into, or a handle with no decoding");
    return NULL;
  }
  if (h->read_buf) napi_delete_reference(env, h->read_buf);
  if (h->decoded) napi_delete_reference(env, h->decoded);
  h->read_buf = h->decoded = NULL;
  h->read_data = NULL;
  if (napi_create_reference(env, buffer, 1, &h->read_buf) != napi_ok) h->read_buf = NULL;
  else h->read_data = (void *)data, h->read_len = len;
  if (decoding && napi_create_reference(env, decoded, 1, &h->decoded) != napi_ok) h->decoded = NULL;
  return butter_int(env, 0);
}

/* handleCloseHeld(handle, fd) -> 0 | -EBADF: closes fd if the handle holds it (butter_handle_close_held). */
static napi_value js_handle_close_held(napi_env env, napi_callback_info info) {
  butter_handle *h;
  int32_t fd;
  if (!butter_args(env, info, "hi", &h, &fd)) return NULL;
  return butter_int(env, butter_handle_close_held(h, fd) ? 0 : -EBADF);
}

/* handleClose(handle) -> 0 | -errno (from close(2)) */
static napi_value js_handle_close(napi_env env, napi_callback_info info) {
  butter_handle *h;
  if (!butter_args(env, info, "h", &h)) return NULL;
  if (h->events && (h->flags & BUTTER_KEEP_CALLBACK)) {
    uint32_t count;
    napi_reference_unref(env, h->callback, &count);
  }
  return butter_int(env, handle_shutdown(h));
}

/* ---- environment teardown ---- */

void butter_env_maybe_done(butter_env *benv) {
  if (benv->tearing_down && benv->pending_closes == 0 && benv->cleanup) {
    napi_async_cleanup_hook_handle cleanup = benv->cleanup;
    benv->cleanup = NULL;
    napi_remove_async_cleanup_hook(cleanup);
  }
}

/* A Worker or the process is going away with objects still open: close their fds. */
static void env_cleanup(void *arg) {
  butter_env *benv = arg;
  benv->tearing_down = true;
  for (uint32_t i = 0; i < benv->cap; i++)
    if (benv->handles[i]) handle_shutdown(benv->handles[i]);
  if (benv->ops) benv->ops->teardown(benv);
}

/* libuv's uv_close completes on a later loop turn, so the uv backend's teardown is asynchronous. */
static void env_cleanup_async(napi_async_cleanup_hook_handle hook, void *arg) {
  env_cleanup(arg);
  butter_env_maybe_done(arg);
}

/* pollBackend(name) -> name in force. name: "uv" | "epoll" | "" (best available) */
static napi_value js_poll_backend(napi_env env, napi_callback_info info) {
  napi_value want_arg = NULL;
  char want[16] = "";
  size_t len;
  butter_args(env, info, "|v", &want_arg);
  if (want_arg) napi_get_value_string_utf8(env, want_arg, want, sizeof want, &len);
  butter_env *benv = butter_get_env(env);
  if (benv->backend == BUTTER_BACKEND_NONE) {
    if (strcmp(want, "epoll") != 0 && butter_uv_init(benv) == 0) {
      benv->backend = BUTTER_BACKEND_UV;
      benv->ops = &butter_uv_ops;
    } else if (strcmp(want, "uv") != 0 && butter_epoll_init(benv) == 0) {
      benv->backend = BUTTER_BACKEND_EPOLL;
      benv->ops = &butter_epoll_ops;
    }
    /* Registered after the backend's threadsafe function exists: cleanup hooks run
       in reverse order, so ours stops the epoll thread before Node frees that.
       The epoll backend tears down synchronously and takes the plain hook: it is
       the one the other runtimes (Deno, Bun) get, and Deno frees an async hook's
       handle when the hook returns, so removing it there or later (Node's
       contract) frees it twice. */
    if (benv->backend == BUTTER_BACKEND_UV)
      napi_add_async_cleanup_hook(env, env_cleanup_async, benv, &benv->cleanup);
    else if (benv->ops)
      napi_add_env_cleanup_hook(env, env_cleanup, benv);
  }
  const char *name = benv->backend == BUTTER_BACKEND_UV      ? "uv"
                     : benv->backend == BUTTER_BACKEND_EPOLL ? "epoll"
                                                             : "none";
  napi_value r;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &r);
  return r;
}

void butter_init_handle(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"handleNew", js_handle_new},
      {"handleSet", js_handle_set},
      {"handleClose", js_handle_close},
      {"handleCloseHeld", js_handle_close_held},
      {"handleSetBuffer", js_handle_set_buffer},
      {"pollBackend", js_poll_backend},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  butter_export_int(env, exports, "READABLE", BUTTER_READABLE);
  butter_export_int(env, exports, "WRITABLE", BUTTER_WRITABLE);
  butter_export_int(env, exports, "KEEP_CALLBACK", BUTTER_KEEP_CALLBACK);
  butter_export_int(env, exports, "KEEP_LOOP", BUTTER_KEEP_LOOP);
}
