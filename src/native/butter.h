/*
 * Butter's native core: shared declarations.
 *
 * Conventions every family follows:
 *  - A native function is a thin call of one syscall. The TypeScript layer has
 *    already validated the arguments; the helpers below only convert, and throw a
 *    TypeError if called with the wrong types (which only Butter itself can do).
 *  - System errors are never thrown from here. A failing call returns -errno as a
 *    JS number, and the TypeScript layer's single helper (src/core/errors.ts)
 *    builds the fs-shaped Error, adding the path it knows. This keeps error
 *    formatting in one place and keeps exceptions off the fast paths.
 */
#ifndef BUTTER_H
#define BUTTER_H

#include <node_api.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>

/* Readiness backends (see docs/architecture.md). */
enum butter_backend { BUTTER_BACKEND_NONE = 0, BUTTER_BACKEND_UV = 1, BUTTER_BACKEND_EPOLL = 2 };

/* Interest bits a handle can wait for; mirrored in src/core/native.ts. */
#define BUTTER_READABLE 1u
#define BUTTER_WRITABLE 2u
/* Handle flags for butter_handle_set; mirrored in src/core/native.ts. */
#define BUTTER_KEEP_CALLBACK 1u /* hold the JS callback strongly */
#define BUTTER_KEEP_LOOP 2u     /* keep the event loop alive */

struct butter_env;
struct butter_handle;

/*
 * A family's wake decoding, registered on its handles with their fd
 * (butter_new_decoding_fd): for the bytes data[0..n) one read through the
 * handle gave (the wake's, or handleRead's), fills `decoded`, the JS array
 * handleSetBuffer registered (a plain array of Butter's own, so setting its
 * elements cannot fail). inotify's sets each record's name, so JS decodes none.
 */
typedef void (*butter_decode_fn)(napi_env env, napi_value decoded, const void *data, int64_t n);

/*
 * A family's look at each read(2) of a handle's fd, on the thread that made
 * it (a drain's, or the JS thread), before anyone else sees the bytes; with
 * the handle's `family` state. inotify's watches new directories of subtrees.
 */
typedef void (*butter_read_hook)(void *family, int fd, const void *data, int64_t n);

/*
 * A family's read of its fd, for fds read(2) cannot read (a seccomp listener,
 * read by ioctls), set with the fd (butter_new_receiving_fd): fills up to len
 * bytes without blocking; returns the bytes, or -errno (-EAGAIN when nothing
 * is ready). butter_handle_read makes it in place of read(2); such a handle
 * never has a drain.
 */
typedef int64_t (*butter_recv_fn)(int fd, void *data, size_t len);

/*
 * An fd owned by a JS object, plus its optional readiness watch.
 * Lifetime: freed when both the JS external is finalized and the native side is
 * done with it (closed, and for the uv backend the close callback has run).
 */
typedef struct butter_handle {
  struct butter_env *benv;
  int fd;            /* -1 until it owns one, and once closed */
  bool shut;         /* closed (or never to own an fd any more) */
  int poll_fd;       /* the fd readiness is watched on: fd, or a drain's eventfd */
  struct butter_drain *drain; /* drain.c: a thread reading fd ahead of JS, or NULL */
  uint32_t slot;     /* index in benv->handles */
  uint32_t gen;      /* generation: ids of dead handles never match */
  int owners;        /* 1 for the JS external + 1 while the native side holds it */
  uint32_t events;   /* interest currently armed (0: not watching) */
  uint32_t flags;    /* BUTTER_KEEP_* in force */
  napi_ref callback; /* JS function (status, events[, bytes read]) */
  napi_ref read_buf; /* handleSetBuffer: a Uint8Array each readable wake is read into before the callback, or NULL */
  void *read_data;   /* read_buf's bytes (kept alive by the reference; Butter's own, never detached) */
  size_t read_len;
  butter_decode_fn decode; /* the family's decoding of what is read through the handle, or NULL (butter_new_decoding_fd) */
  napi_ref decoded;    /* handleSetBuffer: the JS array `decode` fills, or NULL */
  void *family;        /* the family's own state for this handle (inotify.c's subtrees), or NULL; set with the fd */
  void (*family_free)(void *family); /* frees `family` once the fd is closed (and a drain stopped) */
  butter_read_hook read_hook; /* or NULL; set with the fd, so before any drain starts */
  butter_recv_fn recv; /* the family's read in place of read(2), or NULL; set with the fd */
  uint64_t *held;      /* fds held for JS besides fd (fanotify's event fds and pidfds): a bit per fd number, or NULL */
  uint32_t held_words;
  void *backend_data; /* uv_poll_t for the uv backend */
  bool epoll_added;   /* epoll backend: fd is in the epoll set */
  bool armed;         /* epoll backend: a one-shot interest is pending */
} butter_handle;

typedef struct butter_backend_ops {
  /* Arms (events != 0) or disarms the watch; may be called repeatedly. Returns 0 or -errno. */
  int (*set)(butter_handle *h, uint32_t events, uint32_t flags);
  /* Stops watching for good before the fd is closed; releases the native owner later or now. */
  void (*close)(butter_handle *h);
  /* Environment teardown: stop threads, free backend state. */
  void (*teardown)(struct butter_env *benv);
} butter_backend_ops;

typedef struct butter_env {
  napi_env env;
  enum butter_backend backend;
  const butter_backend_ops *ops;
  butter_handle **handles; /* slot table of live handles */
  uint32_t nhandles, cap;
  uint32_t free_head;      /* first free slot or UINT32_MAX */
  uint32_t *next_free;
  uint32_t gen;
  uint32_t loop_refs;       /* epoll backend: handles with BUTTER_KEEP_LOOP and events */
  uint32_t pending_closes;  /* uv backend: uv_close callbacks still to come */
  bool tearing_down;
  napi_async_cleanup_hook_handle cleanup;
  void *backend_state;
  uint32_t signal_holds[65]; /* signal.c: this environment's process-wide blocks, per signal */
  bool signal_hook;          /* signal.c: its cleanup hook is registered */
  bool signals_gone;         /* signal.c: that hook has run; no block may be taken any more */
  struct butter_work_pool *work; /* work.c: the threads blocking calls run on, once used */
} butter_env;

/* A read through the handle (butter_handle_read), then its family's decoding (butter_decode_fn). */
int64_t butter_handle_read_decoded(napi_env env, butter_handle *h, void *data, size_t len);

/* Called by a backend when its last deferred close is done during teardown. */
void butter_env_maybe_done(butter_env *benv);

butter_env *butter_get_env(napi_env env);

/* Delivers readiness to a handle's JS callback: status 0 or -errno, events bitmask. */
void butter_handle_deliver(butter_handle *h, int status, uint32_t events);
/*
 * Fds a handle holds on JS's behalf besides its own (fanotify's event fds and
 * pidfds, from the read that made them until JS releases them): the handle's
 * shutdown closes whatever is still held. Only the environment's thread uses
 * them. hold: false, holding nothing, when the handle is shut or out of memory
 * (the caller closes the fd). close_held: closes fd only if the handle holds
 * it, so a number released already (and perhaps reused) is never closed again.
 */
bool butter_handle_hold(butter_handle *h, int fd);
bool butter_handle_holds(const butter_handle *h, int fd);
bool butter_handle_close_held(butter_handle *h, int fd);
/* Drops one owner; frees the handle when none is left. */
void butter_handle_release(butter_handle *h);
/* Looks up a live handle by id (slot | gen << 32); NULL if it is gone. */
butter_handle *butter_handle_lookup(butter_env *benv, uint64_t id);
static inline uint64_t butter_handle_id(const butter_handle *h) {
  return (uint64_t)h->slot | ((uint64_t)h->gen << 32);
}

/* drain.c: stops and frees a handle's drain thread (before its fd is closed). */
void butter_drain_stop(butter_handle *h);
/*
 * drain.c: one read for a handle, wherever its data is: the next chunk its
 * drain thread queued (len must hold CHUNK_READ), or a read(2) of its fd.
 * Returns bytes or -errno (EBADF once closed).
 */
int64_t butter_handle_read(butter_handle *h, void *data, size_t len);

extern const butter_backend_ops butter_uv_ops;
extern const butter_backend_ops butter_epoll_ops;
/* Returns 0, or -errno / -ENOSYS if the backend cannot work in this runtime. */
int butter_uv_init(butter_env *benv);
int butter_epoll_init(butter_env *benv);

/* ---- argument and result helpers ---- */
/*
 * A native function's arguments, unpacked by `format`: one letter per
 * argument, each followed in the call by its outputs, in order:
 *   i int32_t *   u uint32_t *   U uint64_t * (a BigInt)   I int64_t *
 *   d double *    b bool *       h butter_handle ** (an external from handleNew)
 *   B const void **, size_t * (a Uint8Array's bytes, see butter_arg_bytes)
 *   v napi_value * (as it is, for the function to look at itself)
 * Letters after a '|' are optional arguments: a missing one leaves its
 * outputs as they were (set a default first). Returns false after throwing
 * ERR_BUTTER_INTERNAL's TypeError when an argument has the wrong type, and
 * without throwing (so JS gets undefined) when a required one is missing;
 * only Butter itself can do either, as the TypeScript layer validates first.
 * E.g. (fd, buffer[, handle]): butter_args(env, info, "iB|v", &fd, &data, &len, &handle).
 */
#define BUTTER_MAX_ARGS 8
bool butter_args(napi_env env, napi_callback_info info, const char *format, ...);
bool butter_arg_int32(napi_env env, napi_value v, int32_t *out);
bool butter_arg_uint32(napi_env env, napi_value v, uint32_t *out);
bool butter_arg_uint64(napi_env env, napi_value v, uint64_t *out); /* BigInt only */
bool butter_arg_bool(napi_env env, napi_value v, bool *out);
/* A Buffer / Uint8Array view. The data stays owned by JS for the call's duration. */
bool butter_arg_bytes(napi_env env, napi_value v, const void **data, size_t *len);
/*
 * A path argument (a Uint8Array without its NUL, or null) as a C string for a
 * syscall: `s` points into `stack` when it fits, else to a malloc'd copy, so a
 * path past PATH_MAX still reaches the kernel and gets its own ENAMETOOLONG.
 * `s` is NULL for null. Release with butter_path_free.
 */
typedef struct butter_path {
  char *s;
  char stack[PATH_MAX];
} butter_path;
/* Returns 0, ENOMEM, or -1 after throwing (not a Uint8Array or null). */
int butter_arg_path(napi_env env, napi_value v, butter_path *p);
void butter_path_free(butter_path *p);
napi_value butter_int(napi_env env, int64_t v); /* JS number */
napi_value butter_pair(napi_env env, napi_value a, napi_value b); /* [a, b], for calls that give two values (fd pairs, timespecs) */
napi_value butter_errno_result(napi_env env, int err); /* returns -err as a JS number */
/* [-err, syscall, path]: a multi-call function's failure, naming the call that failed (path may be NULL). */
napi_value butter_call_error(napi_env env, int err, const char *syscall, const char *path);
napi_value butter_undefined(napi_env env);
/*
 * The JS string of the UTF-8 bytes s[0..n), or NULL when they are not
 * well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF):
 * V8 would replace bytes there, so the caller keeps them another way (a
 * Buffer, or undefined for JS to decode). ASCII is made as Latin-1, V8's
 * cheapest string.
 */
napi_value butter_utf8_string(napi_env env, const char *s, size_t n);
/* (fd) -> the 8-byte counter an eventfd or timerfd read gives, as a BigInt, or -errno. */
napi_value butter_read_counter(napi_env env, napi_callback_info info);
/* (fd, buffer) -> bytes one read(2) put in the buffer, or -errno: for record-stream fds parsed in JS. */
napi_value butter_read_into(napi_env env, napi_callback_info info);
/* (fd) -> bytes queued for reading (FIONREAD), or -errno. */
napi_value butter_queued(napi_env env, napi_callback_info info);
/* A handle argument (an external from handleNew); throws ERR_BUTTER_INTERNAL otherwise. */
butter_handle *butter_arg_handle(napi_env env, napi_value v);
/*
 * Returns a new fd (or -errno) to JS. If `handle` is a handle, it takes
 * ownership of the fd in this same native call, so no JS (and so no Worker
 * termination) can run between the fd's creation and its owner's.
 */
napi_value butter_new_fd(napi_env env, int fd_or_neg_errno, napi_value handle);
/* butter_new_fd, and the handle that takes the fd decodes its reads with `decode`. */
napi_value butter_new_decoding_fd(napi_env env, int fd_or_neg_errno, napi_value handle, butter_decode_fn decode);
/* butter_new_fd, and the handle that takes the fd reads it with `recv` (butter_recv_fn). */
napi_value butter_new_receiving_fd(napi_env env, int fd_or_neg_errno, napi_value handle, butter_recv_fn recv);

/*
 * work.c: blocking work off the loop. A call is `run(arg)` on a thread of
 * Butter's own; JS gets `done(value | -errno, abortedWithNoEffect)` on its
 * thread (src/core/work.ts makes that a Promise). `arg` is a malloc'd struct
 * the call owns (freed once the call is over); the int fds at `fd_offsets`
 * in it are replaced by close-on-exec duplicates for the call's duration.
 */
#define BUTTER_WORK_MAX_FDS 5
typedef struct butter_work_call {
  /* Any thread, no napi: one syscall; returns >= 0 or -errno. The sync form calls it too. */
  int64_t (*run)(void *arg);
  /* JS thread: the value a result >= 0 gives JS, or NULL for the number itself. */
  napi_value (*result)(napi_env env, const void *arg, int64_t r);
  size_t fd_offsets[BUTTER_WORK_MAX_FDS];
  size_t nfds;
} butter_work_call;
/*
 * Queues a call, taking `arg` in every case. `keep` (or NULL) is held until the
 * call is over: the JS buffers `arg` points into. Returns a token for
 * workAbort, -errno as a number (an fd could not be duplicated), or NULL after
 * throwing.
 */
napi_value butter_work_submit(napi_env env, const butter_work_call *call, void *arg, napi_value keep, napi_value done);

typedef struct butter_fn {
  const char *name;
  napi_callback cb;
} butter_fn;
void butter_export(napi_env env, napi_value exports, const butter_fn *fns, size_t n);
void butter_export_int(napi_env env, napi_value obj, const char *name, int64_t value);
/*
 * Constant tables: each constant under its C name, e.g. BUTTER_U32(c, IN_ACCESS).
 * BUTTER_U32 for flag words and masks (a top bit such as IN_ONESHOT stays
 * positive), BUTTER_INT for values signed in the ABI. Both need `env` in scope.
 */
#define BUTTER_U32(obj, name) butter_export_int(env, (obj), #name, (uint32_t)(name))
#define BUTTER_INT(obj, name) butter_export_int(env, (obj), #name, (int64_t)(name))
#define BUTTER_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The core's own exports. */
void butter_init_handle(napi_env env, napi_value exports);
void butter_init_drain(napi_env env, napi_value exports);
void butter_init_helper(napi_env env, napi_value exports);
void butter_init_work(napi_env env, napi_value exports);

/*
 * The registry of families, one line each. Family `name` is src/native/name.c,
 * which defines butter_init_name(env, exports): it puts its functions and its
 * `constants` on `exports`, the family's own object, which the addon exports
 * as its property `name` (docs/architecture.md, "How a family plugs in").
 * binding.gyp compiles the files listed here (scripts/native-families.js).
 */
#define BUTTER_FAMILIES(X) \
  X(process)              \
  X(host)                 \
  X(eventfd)              \
  X(inotify)              \
  X(fanotify)             \
  X(timerfd)              \
  X(signal)               \
  X(splice)               \
  X(mount)                \
  X(namespaces)           \
  X(seccomp)              \
  X(aio)                  \
  X(seccomp_notify)       \
  X(io_uring)

#define BUTTER_DECLARE_FAMILY(name) void butter_init_##name(napi_env env, napi_value exports);
BUTTER_FAMILIES(BUTTER_DECLARE_FAMILY)

#endif
