/*
 * aio: Linux's native AIO (io_setup(2) and friends, raw syscalls: glibc has no
 * wrappers) and POSIX AIO as glibc implements it (aio_read(3) and friends).
 *
 * The kernel reads into and writes from the caller's memory until an
 * operation completes, long after the call that started it returned. So a
 * context here is native state, not a bare number: each operation takes a
 * slot, and the slot holds a reference to the JS buffers its iocb points into
 * until io_getevents reaps its completion (or io_destroy, which waits for
 * every operation still running, has returned). Whatever the caller drops,
 * the memory stays alive while the kernel can touch it.
 */
#include "butter.h"

#include <aio.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <linux/ioprio.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* RWF_* newer than the UAPI headers the addon may be built with. */
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND 0x00000020 /* 6.9 */
#endif
#ifndef RWF_ATOMIC
#define RWF_ATOMIC 0x00000040 /* 6.11 */
#endif
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE 0x00000080 /* 6.14 */
#endif

/* The layout of one iocb in ioSubmit's description array (src/raw/aio.ts writes it). */
enum { D_DATA, D_OPCODE, D_FD, D_OFFSET, D_RW_FLAGS, D_FLAGS, D_REQPRIO, D_RESFD, D_EVENTS, D_STRIDE };
#define AIO_BATCH_MAX 1024
/* One event in ioGetevents' output array: data, res, res2. */
enum { E_DATA, E_RES, E_RES2, E_STRIDE };

typedef struct aio_ctx {
  aio_context_t id; /* 0 once destroyed */
  uint32_t nslots;  /* nr_events: at most this many operations in flight or unreaped */
  struct iocb *iocbs;
  napi_ref *keep;     /* per slot: the buffer (or array of buffers) its iocb uses; JS thread only */
  struct iovec **iov; /* per slot: a PREADV/PWRITEV vector, or NULL */
  uint32_t *free;     /* stack of free slots */
  uint32_t nfree;
} aio_ctx;

static void slot_release(napi_env env, aio_ctx *c, uint32_t slot) {
  if (c->keep[slot]) napi_delete_reference(env, c->keep[slot]);
  c->keep[slot] = NULL;
  free(c->iov[slot]);
  c->iov[slot] = NULL;
  c->free[c->nfree++] = slot;
}

/* io_destroy waits for every operation still in flight (cancelling the
   cancellable: polls), so afterwards no slot's memory is in use any more. */
static int ctx_destroy(napi_env env, aio_ctx *c) {
  if (!c->id) return -EINVAL;
  int r = syscall(SYS_io_destroy, c->id) < 0 ? -errno : 0;
  c->id = 0;
  for (uint32_t s = 0; s < c->nslots; s++)
    if (c->keep[s] || c->iov[s]) {
      if (c->keep[s]) napi_delete_reference(env, c->keep[s]);
      c->keep[s] = NULL;
      free(c->iov[s]);
      c->iov[s] = NULL;
    }
  return r;
}

static void ctx_finalize(napi_env env, void *data, void *hint) {
  aio_ctx *c = data;
  ctx_destroy(env, c);
  free(c->iocbs);
  free(c->keep);
  free(c->iov);
  free(c->free);
  free(c);
}

static aio_ctx *arg_ctx(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected an AIO context");
    return NULL;
  }
  return p;
}

/* ioSetup(nrEvents) -> context (an external; io_destroy'd when collected) | -errno */
static napi_value js_io_setup(napi_env env, napi_callback_info info) {
  uint32_t nr;
  if (!butter_args(env, info, "u", &nr)) return NULL;
  aio_context_t id = 0;
  if (syscall(SYS_io_setup, nr, &id) < 0) return butter_errno_result(env, errno);
  aio_ctx *c = calloc(1, sizeof *c);
  if (c) {
    c->id = id;
    c->nslots = nr;
    c->iocbs = calloc(nr, sizeof *c->iocbs);
    c->keep = calloc(nr, sizeof *c->keep);
    c->iov = calloc(nr, sizeof *c->iov);
    c->free = malloc(nr * sizeof *c->free);
  }
  napi_value ext;
  if (!c || !c->iocbs || !c->keep || !c->iov || !c->free) {
    if (c) ctx_finalize(env, c, NULL);
    else syscall(SYS_io_destroy, id);
    return butter_errno_result(env, ENOMEM);
  }
  for (uint32_t s = 0; s < nr; s++) c->free[s] = nr - 1 - s;
  c->nfree = nr;
  if (napi_create_external(env, c, ctx_finalize, NULL, &ext) != napi_ok) {
    ctx_finalize(env, c, NULL);
    return NULL;
  }
  return ext;
}

/* ioDestroy(ctx) -> 0 | -errno; waits for the operations in flight. */
static napi_value js_io_destroy(napi_env env, napi_callback_info info) {
  napi_value v;
  if (!butter_args(env, info, "v", &v)) return NULL;
  aio_ctx *c = arg_ctx(env, v);
  return c ? butter_int(env, ctx_destroy(env, c)) : NULL;
}

/*
 * Whether a read or write of fd may sleep inside io_submit until some other
 * party acts: the kernel runs reads and writes of files without async support
 * (pipes, sockets, terminals) synchronously in io_submit, and only regular
 * files and block devices are sure to finish. A non-blocking fd, or
 * RWF_NOWAIT, gets EAGAIN instead of sleeping. An fd fstat refuses is left to
 * io_submit, which reports it.
 */
static bool may_sleep(int fd, uint32_t rw_flags) {
  struct stat st;
  if (rw_flags & RWF_NOWAIT) return false;
  if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) return false;
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

/* A PREADV/PWRITEV vector from a JS array of Uint8Arrays; NULL after throwing or on ENOMEM (*err). */
static struct iovec *iovec_of(napi_env env, napi_value arr, uint32_t *count, int *err) {
  uint32_t n;
  if (napi_get_array_length(env, arr, &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected an array of Uint8Arrays");
    return NULL;
  }
  struct iovec *iov = malloc((n ? n : 1) * sizeof *iov);
  if (!iov) {
    *err = ENOMEM;
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    const void *p;
    size_t len;
    if (napi_get_element(env, arr, i, &el) != napi_ok || !butter_arg_bytes(env, el, &p, &len)) {
      free(iov);
      return NULL;
    }
    iov[i] = (struct iovec){.iov_base = (void *)p, .iov_len = len};
  }
  *count = n;
  return iov;
}

/*
 * ioSubmit(ctx, desc: Float64Array, buffers: array, n) -> iocbs submitted | -errno | [index]
 * Iocb i is desc[i * D_STRIDE ...] with buffers[i]: a Uint8Array (PREAD,
 * PWRITE), an array of them (PREADV, PWRITEV), or anything (the others).
 * [index]: iocb `index` reads or writes an fd that may sleep (may_sleep);
 * nothing was submitted.
 */
static napi_value js_io_submit(napi_env env, napi_callback_info info) {
  napi_value v, descv, bufs;
  size_t dlen;
  uint32_t n;
  if (!butter_args(env, info, "vvvu", &v, &descv, &bufs, &n)) return NULL;
  aio_ctx *c = arg_ctx(env, v);
  napi_typedarray_type type;
  double *desc;
  if (!c) return NULL;
  if (napi_get_typedarray_info(env, descv, &type, &dlen, (void **)&desc, NULL, NULL) != napi_ok ||
      type != napi_float64_array || dlen < (size_t)n * D_STRIDE) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a Float64Array of iocbs");
    return NULL;
  }
  if (!c->id) return butter_errno_result(env, EINVAL); /* destroyed: what io_submit says of an unknown context */
  /* The pointer array is on the stack, so a call submits at most AIO_BATCH_MAX; a partial submission says so. */
  if (n > AIO_BATCH_MAX) n = AIO_BATCH_MAX;
  if (n > c->nfree) n = c->nfree;
  if (n == 0) return butter_errno_result(env, EAGAIN);
  struct iocb *ptrs[n];
  uint32_t slots[n];
  uint32_t filled = 0;
  int err = 0;
  int safe_fd = -1; /* the last fd may_sleep cleared */
  napi_value result = NULL;
  for (; filled < n; filled++) {
    const double *d = desc + (size_t)filled * D_STRIDE;
    uint32_t slot = c->free[c->nfree - 1];
    struct iocb *cb = &c->iocbs[slot];
    memset(cb, 0, sizeof *cb);
    cb->aio_data = (uint64_t)d[D_DATA];
    cb->aio_lio_opcode = (uint16_t)d[D_OPCODE];
    cb->aio_fildes = (uint32_t)(int32_t)d[D_FD];
    cb->aio_offset = (int64_t)d[D_OFFSET];
    cb->aio_rw_flags = (int32_t)(uint32_t)d[D_RW_FLAGS];
    cb->aio_flags = (uint32_t)d[D_FLAGS];
    cb->aio_reqprio = (int16_t)d[D_REQPRIO];
    cb->aio_resfd = (uint32_t)(int32_t)d[D_RESFD];
    napi_value buf;
    if (napi_get_element(env, bufs, filled, &buf) != napi_ok) break;
    uint16_t op = cb->aio_lio_opcode;
    if (op == IOCB_CMD_PREAD || op == IOCB_CMD_PWRITE || op == IOCB_CMD_PREADV || op == IOCB_CMD_PWRITEV) {
      /* A batch is mostly one fd: what it is cannot change within this call. */
      bool checked = (int)cb->aio_fildes == safe_fd && !(cb->aio_rw_flags & RWF_NOWAIT);
      if (!checked && may_sleep((int)cb->aio_fildes, (uint32_t)cb->aio_rw_flags)) {
        napi_value index;
        napi_create_array_with_length(env, 1, &result);
        napi_create_uint32(env, filled, &index);
        napi_set_element(env, result, 0, index);
        break;
      }
      if (!(cb->aio_rw_flags & RWF_NOWAIT)) safe_fd = (int)cb->aio_fildes;
      if (op == IOCB_CMD_PREAD || op == IOCB_CMD_PWRITE) {
        const void *p;
        size_t len;
        if (!butter_arg_bytes(env, buf, &p, &len)) break;
        cb->aio_buf = (uintptr_t)p;
        cb->aio_nbytes = len;
      } else {
        uint32_t count = 0;
        struct iovec *iov = iovec_of(env, buf, &count, &err);
        if (!iov) break;
        c->iov[slot] = iov;
        cb->aio_buf = (uintptr_t)iov;
        cb->aio_nbytes = count;
      }
      if (napi_create_reference(env, buf, 1, &c->keep[slot]) != napi_ok) break;
    } else if (op == IOCB_CMD_POLL) {
      cb->aio_buf = (uint32_t)d[D_EVENTS];
    }
    c->nfree--;
    slots[filled] = slot;
    ptrs[filled] = cb;
  }
  if (filled < n) {
    /* The iocb the loop stopped at took no slot: drop its vector. */
    uint32_t slot = c->free[c->nfree - 1];
    free(c->iov[slot]);
    c->iov[slot] = NULL;
  }
  long r = filled == n ? syscall(SYS_io_submit, c->id, (long)n, ptrs) : 0;
  if (r < 0) err = errno;
  /* The slots of what the kernel did not take are free again. */
  for (uint32_t i = r > 0 ? (uint32_t)r : 0; i < filled; i++) slot_release(env, c, slots[i]);
  if (filled < n) {
    if (err) return butter_errno_result(env, err);
    return result; /* [index], or NULL with an exception pending */
  }
  return r < 0 ? butter_errno_result(env, err) : butter_int(env, r);
}

/*
 * ioGetevents(ctx, minNr, nr, timeoutNs: bigint (2^64 - 1: none), out: Float64Array) -> events | -errno
 * Each event fills E_STRIDE numbers of `out` (nr of them fit) and frees its slot.
 */
static napi_value js_io_getevents(napi_env env, napi_callback_info info) {
  napi_value v, outv;
  int32_t min_nr, nr;
  uint64_t timeout_ns;
  if (!butter_args(env, info, "viiUv", &v, &min_nr, &nr, &timeout_ns, &outv)) return NULL;
  aio_ctx *c = arg_ctx(env, v);
  if (!c) return NULL;
  napi_typedarray_type type;
  size_t olen;
  double *out;
  if (napi_get_typedarray_info(env, outv, &type, &olen, (void **)&out, NULL, NULL) != napi_ok ||
      type != napi_float64_array || (nr > 0 && olen < (size_t)nr * E_STRIDE)) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a Float64Array for the events");
    return NULL;
  }
  struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u), .tv_nsec = (long)(timeout_ns % 1000000000u)};
  struct io_event stack[64];
  struct io_event *ev = nr <= 64 ? stack : malloc((size_t)nr * sizeof *ev);
  if (!ev) return butter_errno_result(env, ENOMEM);
  long r = syscall(SYS_io_getevents, c->id, (long)min_nr, (long)nr, ev, timeout_ns == UINT64_MAX ? NULL : &ts);
  int err = errno;
  for (long i = 0; i < r; i++) {
    uint64_t slot = (ev[i].obj - (uintptr_t)c->iocbs) / sizeof(struct iocb);
    if (slot < c->nslots) slot_release(env, c, (uint32_t)slot);
    out[i * E_STRIDE + E_DATA] = (double)ev[i].data;
    out[i * E_STRIDE + E_RES] = (double)ev[i].res;
    out[i * E_STRIDE + E_RES2] = (double)ev[i].res2;
  }
  if (ev != stack) free(ev);
  return r < 0 ? butter_errno_result(env, err) : butter_int(env, r);
}

/*
 * ioCancel(ctx, data) -> 0 | -errno: io_cancel(2) of the operation in flight
 * submitted with `data` (EINVAL when there is none). The kernel answers
 * EINPROGRESS when it cancels: the event then comes through io_getevents.
 */
static napi_value js_io_cancel(napi_env env, napi_callback_info info) {
  napi_value v;
  double data;
  if (!butter_args(env, info, "vd", &v, &data)) return NULL;
  aio_ctx *c = arg_ctx(env, v);
  if (!c) return NULL;
  bool *busy = calloc(c->nslots ? c->nslots : 1, sizeof *busy);
  if (!busy) return butter_errno_result(env, ENOMEM);
  for (uint32_t i = 0; i < c->nfree; i++) busy[c->free[i]] = true;
  int r = -EINVAL;
  for (uint32_t s = 0; s < c->nslots; s++) {
    if (busy[s] || c->iocbs[s].aio_data != (uint64_t)data) continue;
    struct io_event unused;
    r = syscall(SYS_io_cancel, c->id, &c->iocbs[s], &unused) < 0 ? -errno : 0;
    break;
  }
  free(busy);
  return butter_int(env, r);
}

/* alignedBuffer(size, alignment) -> [ArrayBuffer, offset]: `size` bytes at `offset` start on an `alignment` boundary (a power of two), as O_DIRECT wants. */
static napi_value js_aligned_buffer(napi_env env, napi_callback_info info) {
  uint32_t size, align;
  if (!butter_args(env, info, "uu", &size, &align)) return NULL;
  void *p;
  napi_value ab;
  if (napi_create_arraybuffer(env, (size_t)size + align, &p, &ab) != napi_ok) return NULL;
  uint32_t offset = (uint32_t)((align - ((uintptr_t)p & (align - 1))) & (align - 1));
  return butter_pair(env, ab, butter_int(env, offset));
}

/*
 * POSIX AIO, as glibc implements it: a pool of threads in this process, each
 * running blocking preads and pwrites; requests on one fd run one at a time,
 * in order. An Aiocb (paio_cb) is native memory glibc keeps a pointer to
 * while its request runs, with a reference to the JS buffer it reads into or
 * writes from. Completions reach JS through a notifier: glibc starts a thread
 * per completion (SIGEV_THREAD), which queues the request's id and adds 1 to
 * an eventfd JS watches; no signal is ever sent.
 */
typedef struct paio_notifier {
  pthread_mutex_t lock;
  int efd; /* a duplicate of JS's eventfd, or -1 once JS is done with it (aioNotifierClose) */
  double *ids; /* completed, not yet taken */
  size_t n, cap;
  int refs; /* JS's, each aiocb's, and one per notification still to come (atomic): the memory's */
} paio_notifier;

/* What one notification reports: one request's id, or a lio_listio batch's. */
typedef struct paio_token {
  paio_notifier *notifier;
  uint32_t n;
  double ids[];
} paio_token;

typedef struct paio_cb {
  struct aiocb cb;
  napi_ref keep;               /* the buffer, or NULL */
  paio_notifier *notifier;     /* holds a reference, or NULL (SIGEV_NONE) */
  double id;
  bool submitted;              /* given to glibc, and may still be running */
} paio_cb;

static void notifier_unref(paio_notifier *n) {
  if (__atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  pthread_mutex_destroy(&n->lock);
  free(n->ids);
  free(n);
}

/* glibc's notification thread: signals blocked, no napi. */
static void paio_notify(union sigval v) {
  paio_token *t = v.sival_ptr;
  paio_notifier *n = t->notifier;
  pthread_mutex_lock(&n->lock);
  if (n->efd < 0) goto out; /* closed: nobody waits for it */
  if (n->n + t->n > n->cap) {
    size_t cap = n->cap ? n->cap * 2 : 64;
    while (cap < n->n + t->n) cap *= 2;
    double *ids = realloc(n->ids, cap * sizeof *ids);
    if (ids) {
      n->ids = ids;
      n->cap = cap;
    }
  }
  /* Out of memory, the ids are lost and their requests wait for close(), which polls every one. */
  if (n->n + t->n <= n->cap) {
    memcpy(n->ids + n->n, t->ids, t->n * sizeof *t->ids);
    n->n += t->n;
  }
  uint64_t one = 1;
  ssize_t unused = write(n->efd, &one, sizeof one);
  (void)unused;
out:
  pthread_mutex_unlock(&n->lock);
  free(t);
  notifier_unref(n);
}

/* Closes the eventfd duplicate at once: notifications still to come find it gone. */
static void notifier_close(paio_notifier *n) {
  pthread_mutex_lock(&n->lock);
  if (n->efd >= 0) close(n->efd);
  n->efd = -1;
  pthread_mutex_unlock(&n->lock);
}

static void notifier_finalize(napi_env env, void *data, void *hint) {
  notifier_close(data);
  notifier_unref(data);
}

/* aioNotifierClose(notifier) -> 0: PosixAio's close(). */
static napi_value js_aio_notifier_close(napi_env env, napi_callback_info info) {
  napi_value v;
  paio_notifier *n;
  if (!butter_args(env, info, "v", &v)) return NULL;
  if (napi_get_value_external(env, v, (void **)&n) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a notifier");
    return NULL;
  }
  notifier_close(n);
  return butter_int(env, 0);
}

/*
 * glibc's notification threads call paio_notify whenever a request ends, also
 * after the environment that made it is gone; and Node unloads an addon when
 * the last environment that loaded it ends (a Worker's, say). So the first
 * notifier makes the addon stay loaded for good (RTLD_NODELETE).
 */
static bool pinned;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;
static void pin_addon(void) {
  Dl_info info;
  pinned = dladdr((void *)paio_notify, &info) && info.dli_fname && dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

/* aioNotifierNew(eventfd) -> notifier (an external) | [-errno, call]: it writes a duplicate of `eventfd`; ENOTSUP from dlopen if the addon cannot be pinned. */
static napi_value js_aio_notifier_new(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!butter_args(env, info, "i", &fd)) return NULL;
  pthread_once(&pin_once, pin_addon);
  if (!pinned) return butter_call_error(env, ENOTSUP, "dlopen", NULL);
  paio_notifier *n = calloc(1, sizeof *n);
  if (!n) return butter_call_error(env, ENOMEM, "malloc", NULL);
  n->efd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (n->efd < 0) {
    int err = errno;
    free(n);
    return butter_call_error(env, err, "fcntl", NULL);
  }
  pthread_mutex_init(&n->lock, NULL);
  n->refs = 1;
  napi_value ext;
  if (napi_create_external(env, n, notifier_finalize, NULL, &ext) != napi_ok) {
    notifier_unref(n);
    return NULL;
  }
  return ext;
}

/* aioNotifierTake(notifier, out: Float64Array) -> ids of completed requests written to `out`. */
static napi_value js_aio_notifier_take(napi_env env, napi_callback_info info) {
  napi_value v, outv;
  if (!butter_args(env, info, "vv", &v, &outv)) return NULL;
  paio_notifier *n;
  napi_typedarray_type type;
  size_t olen;
  double *out;
  if (napi_get_value_external(env, v, (void **)&n) != napi_ok ||
      napi_get_typedarray_info(env, outv, &type, &olen, (void **)&out, NULL, NULL) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a notifier and a Float64Array");
    return NULL;
  }
  pthread_mutex_lock(&n->lock);
  size_t k = n->n < olen ? n->n : olen;
  memcpy(out, n->ids, k * sizeof *out);
  memmove(n->ids, n->ids + k, (n->n - k) * sizeof *n->ids);
  n->n -= k;
  pthread_mutex_unlock(&n->lock);
  return butter_int(env, (int64_t)k);
}

/*
 * Waits until glibc is done with the aiocb: its request over, and the thread
 * that ran it out of glibc's request lock, which it holds while it reads the
 * aiocb to notify (aio_error reads the status without that lock;
 * aio_suspend takes it).
 */
static void paio_wait(paio_cb *p) {
  if (!p->submitted) return;
  const struct aiocb *list[1] = {&p->cb};
  while (aio_error(&p->cb) == EINPROGRESS) aio_suspend(list, 1, NULL);
  struct timespec zero = {0, 0};
  aio_suspend(list, 1, &zero);
  p->submitted = false;
}

static void paio_cb_finalize(napi_env env, void *data, void *hint) {
  paio_cb *p = data;
  if (p->submitted && aio_error(&p->cb) == EINPROGRESS) aio_cancel(p->cb.aio_fildes, &p->cb);
  paio_wait(p);
  if (p->keep) napi_delete_reference(env, p->keep);
  if (p->notifier) notifier_unref(p->notifier);
  free(p);
}

static paio_cb *arg_aiocb(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected an aiocb");
    return NULL;
  }
  return p;
}

/*
 * aiocbNew(fd, opcode, buffer | null, offset, reqprio, notifier | undefined, id) -> aiocb (an external)
 * `opcode` is lio_listio's LIO_READ, LIO_WRITE or LIO_NOP; the buffer is held
 * as long as the aiocb. A forgotten aiocb whose request runs waits for it.
 */
static napi_value js_aiocb_new(napi_env env, napi_callback_info info) {
  int32_t fd, opcode, reqprio;
  napi_value buf, nv = NULL;
  double offset, id = 0;
  if (!butter_args(env, info, "iivdi|vd", &fd, &opcode, &buf, &offset, &reqprio, &nv, &id)) return NULL;
  paio_cb *p = calloc(1, sizeof *p);
  if (!p) return butter_errno_result(env, ENOMEM);
  napi_valuetype t = napi_undefined;
  if (nv) napi_typeof(env, nv, &t);
  if (t == napi_external) {
    napi_get_value_external(env, nv, (void **)&p->notifier);
    __atomic_add_fetch(&p->notifier->refs, 1, __ATOMIC_ACQ_REL);
  }
  p->cb.aio_fildes = fd;
  p->cb.aio_lio_opcode = opcode;
  p->cb.aio_offset = (off_t)offset;
  p->cb.aio_reqprio = reqprio;
  p->cb.aio_sigevent.sigev_notify = SIGEV_NONE;
  p->id = id;
  napi_typeof(env, buf, &t);
  if (t != napi_null) {
    const void *data;
    size_t len;
    if (!butter_arg_bytes(env, buf, &data, &len) || napi_create_reference(env, buf, 1, &p->keep) != napi_ok) {
      paio_cb_finalize(env, p, NULL);
      return NULL;
    }
    p->cb.aio_buf = (void *)data;
    p->cb.aio_nbytes = len;
  }
  napi_value ext;
  if (napi_create_external(env, p, paio_cb_finalize, NULL, &ext) != napi_ok) {
    paio_cb_finalize(env, p, NULL);
    return NULL;
  }
  return ext;
}

static paio_token *token_new(paio_notifier *n, uint32_t count) {
  paio_token *t = malloc(sizeof *t + count * sizeof *t->ids);
  if (!t) return NULL;
  t->notifier = n;
  t->n = count;
  __atomic_add_fetch(&n->refs, 1, __ATOMIC_ACQ_REL);
  return t;
}

static void notify_thread(struct sigevent *sev, paio_token *t) {
  sev->sigev_notify = SIGEV_THREAD;
  sev->sigev_notify_function = paio_notify;
  sev->sigev_notify_attributes = NULL;
  sev->sigev_value.sival_ptr = t;
}

/*
 * Readies an aiocb for glibc: -EBUSY while its previous request runs (glibc
 * would corrupt its list), 1 when a read or write of its fd could block
 * glibc's thread for good (may_sleep: close() and teardown wait for it), else
 * 0 with its notification armed (a token for paio_notify, freed by it).
 */
static int paio_arm(paio_cb *p, bool rw) {
  if (p->submitted && aio_error(&p->cb) == EINPROGRESS) return -EBUSY;
  paio_wait(p);
  if (rw && may_sleep(p->cb.aio_fildes, 0)) return 1;
  if (p->notifier) {
    paio_token *t = token_new(p->notifier, 1);
    if (!t) return -ENOMEM;
    t->ids[0] = p->id;
    notify_thread(&p->cb.aio_sigevent, t);
  } else {
    p->cb.aio_sigevent.sigev_notify = SIGEV_NONE;
  }
  /* What aio_error and aio_return report if glibc fails to queue it in a
     lio_listio, where it sets nothing (it does set both once it takes it). */
#ifdef __GLIBC__
  p->cb.__error_code = EAGAIN;
  p->cb.__return_value = -1;
#else /* musl's names for the same two fields */
  p->cb.__err = EAGAIN;
  p->cb.__ret = -1;
#endif
  p->submitted = true;
  return 0;
}

/* Undoes paio_arm for a request glibc refused: it will never notify. */
static void paio_disarm(paio_cb *p) {
  p->submitted = false;
  if (p->cb.aio_sigevent.sigev_notify != SIGEV_THREAD) return;
  free(p->cb.aio_sigevent.sigev_value.sival_ptr);
  p->cb.aio_sigevent.sigev_notify = SIGEV_NONE;
  notifier_unref(p->notifier);
}

/* aioRead(aiocb) / aioWrite(aiocb) / aioFsync(aiocb, op): 0 | -errno | [0] (may_sleep) */
static napi_value paio_submit(napi_env env, napi_callback_info info, int which) {
  napi_value v;
  int32_t op = 0;
  if (!butter_args(env, info, which == 2 ? "vi" : "v", &v, &op)) return NULL;
  paio_cb *p = arg_aiocb(env, v);
  if (!p) return NULL;
  int r = paio_arm(p, which != 2);
  if (r == 1) {
    napi_value index, result;
    napi_create_array_with_length(env, 1, &result);
    napi_create_uint32(env, 0, &index);
    napi_set_element(env, result, 0, index);
    return result;
  }
  if (r < 0) return butter_int(env, r);
  r = which == 0 ? aio_read(&p->cb) : which == 1 ? aio_write(&p->cb) : aio_fsync(op, &p->cb);
  if (r < 0) {
    r = -errno;
    paio_disarm(p);
  }
  return butter_int(env, r);
}
static napi_value js_aio_read(napi_env env, napi_callback_info info) { return paio_submit(env, info, 0); }
static napi_value js_aio_write(napi_env env, napi_callback_info info) { return paio_submit(env, info, 1); }
static napi_value js_aio_fsync(napi_env env, napi_callback_info info) { return paio_submit(env, info, 2); }

/* aioError(aiocb) -> 0 | EINPROGRESS | ECANCELED | the request's errno (positive, as aio_error(3)); -EINVAL when never submitted */
static napi_value js_aio_error(napi_env env, napi_callback_info info) {
  napi_value v;
  if (!butter_args(env, info, "v", &v)) return NULL;
  paio_cb *p = arg_aiocb(env, v);
  if (!p) return NULL;
  if (!p->submitted) return butter_int(env, -EINVAL);
  return butter_int(env, aio_error(&p->cb));
}

/* aioReturn(aiocb) -> the request's result | -errno; -EINVAL when not submitted, or still in progress (undefined in POSIX) */
static napi_value js_aio_return(napi_env env, napi_callback_info info) {
  napi_value v;
  if (!butter_args(env, info, "v", &v)) return NULL;
  paio_cb *p = arg_aiocb(env, v);
  if (!p) return NULL;
  if (!p->submitted || aio_error(&p->cb) == EINPROGRESS) return butter_int(env, -EINVAL);
  int err = aio_error(&p->cb);
  ssize_t r = aio_return(&p->cb);
  paio_wait(p);
  return butter_int(env, r < 0 ? -err : r);
}

/* aioCancel(fd, aiocb | null) -> AIO_CANCELED | AIO_NOTCANCELED | AIO_ALLDONE | -errno */
static napi_value js_aio_cancel(napi_env env, napi_callback_info info) {
  int32_t fd;
  napi_value v;
  if (!butter_args(env, info, "iv", &fd, &v)) return NULL;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  paio_cb *p = NULL;
  if (t != napi_null && !(p = arg_aiocb(env, v))) return NULL;
  /* An aiocb glibc never had: cancelling it would look it up by a stale status. */
  if (p && !p->submitted) return butter_int(env, AIO_ALLDONE);
  int r = aio_cancel(fd, p ? &p->cb : NULL);
  return butter_int(env, r < 0 ? -errno : r);
}

/* The aiocbs of a JS array; NULL after throwing (or *n = 0 for an empty one). */
static paio_cb **aiocb_list(napi_env env, napi_value arr, uint32_t *n) {
  if (napi_get_array_length(env, arr, n) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected an array of aiocbs");
    return NULL;
  }
  paio_cb **list = malloc((*n ? *n : 1) * sizeof *list);
  if (!list) {
    napi_throw_error(env, "ERR_BUTTER_INTERNAL", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < *n; i++) {
    napi_value el;
    if (napi_get_element(env, arr, i, &el) != napi_ok || !(list[i] = arg_aiocb(env, el))) {
      free(list);
      return NULL;
    }
  }
  return list;
}

/* aioSuspend(aiocbs, timeoutNs: bigint (2^64 - 1: none)) -> 0 | -errno; blocks the thread. Aiocbs not submitted are skipped (NULL entries). */
static napi_value js_aio_suspend(napi_env env, napi_callback_info info) {
  napi_value arr;
  uint64_t timeout_ns;
  if (!butter_args(env, info, "vU", &arr, &timeout_ns)) return NULL;
  uint32_t n;
  paio_cb **list = aiocb_list(env, arr, &n);
  if (!list) return NULL;
  const struct aiocb **cbs = (const struct aiocb **)list;
  for (uint32_t i = 0; i < n; i++) cbs[i] = list[i]->submitted ? &list[i]->cb : NULL;
  struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u), .tv_nsec = (long)(timeout_ns % 1000000000u)};
  int r = aio_suspend(cbs, (int)n, timeout_ns == UINT64_MAX ? NULL : &ts);
  int err = errno;
  free(list);
  return butter_int(env, r < 0 ? -err : 0);
}

/*
 * lioListio(mode, aiocbs) -> 0 | -errno | [index] (may_sleep, nothing submitted)
 * LIO_WAIT blocks the thread until all are done. Each aiocb's own
 * notification stays armed; the list's own is none (SIGEV_NONE).
 */
static napi_value lio_listio_common(napi_env env, int32_t mode, napi_value arr, paio_notifier *notifier, const double *ids, size_t nids);

static napi_value js_lio_listio(napi_env env, napi_callback_info info) {
  int32_t mode;
  napi_value arr;
  if (!butter_args(env, info, "iv", &mode, &arr)) return NULL;
  return lio_listio_common(env, mode, arr, NULL, NULL, 0);
}

/*
 * lioListioNotify(notifier, aiocbs, ids: Float64Array) -> 0 | -errno | [index]
 * PosixAio's batch: LIO_NOWAIT, and one notification, a thread glibc starts
 * once the last of them is done, reports all of `ids`. (On EAGAIN or EIO
 * glibc still notifies, once, for what it took, or at once if it took none.)
 */
static napi_value js_lio_listio_notify(napi_env env, napi_callback_info info) {
  napi_value nv, arr, idsv;
  if (!butter_args(env, info, "vvv", &nv, &arr, &idsv)) return NULL;
  paio_notifier *n;
  napi_typedarray_type type;
  size_t nids;
  double *ids;
  if (napi_get_value_external(env, nv, (void **)&n) != napi_ok ||
      napi_get_typedarray_info(env, idsv, &type, &nids, (void **)&ids, NULL, NULL) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a notifier and a Float64Array");
    return NULL;
  }
  return lio_listio_common(env, LIO_NOWAIT, arr, n, ids, nids);
}

static napi_value lio_listio_common(napi_env env, int32_t mode, napi_value arr, paio_notifier *notifier, const double *ids, size_t nids) {
  uint32_t n;
  paio_cb **list = aiocb_list(env, arr, &n);
  if (!list) return NULL;
  napi_value result = NULL;
  int r = 0;
  uint32_t armed = 0;
  for (; armed < n; armed++) {
    paio_cb *p = list[armed];
    bool rw = p->cb.aio_lio_opcode == LIO_READ || p->cb.aio_lio_opcode == LIO_WRITE;
    r = paio_arm(p, rw);
    if (r == 1) {
      napi_value index;
      napi_create_array_with_length(env, 1, &result);
      napi_create_uint32(env, armed, &index);
      napi_set_element(env, result, 0, index);
    }
    if (r != 0) break;
  }
  if (r != 0) {
    for (uint32_t i = 0; i < armed; i++) paio_disarm(list[i]);
    free(list);
    return result ? result : butter_int(env, r);
  }
  struct aiocb **cbs = (struct aiocb **)list;
  for (uint32_t i = 0; i < n; i++) cbs[i] = &list[i]->cb;
  /* On EAGAIN or EIO glibc has taken some requests and not others, with no
     way to tell which never will notify: their tokens are left, not freed
     twice. They stay `submitted`, which only makes paio_wait ask glibc. */
  struct sigevent sev = {.sigev_notify = SIGEV_NONE};
  if (notifier) {
    paio_token *t = token_new(notifier, n < nids ? n : (uint32_t)nids);
    if (!t) {
      for (uint32_t i = 0; i < n; i++) paio_disarm((paio_cb *)cbs[i]);
      free(list);
      return butter_errno_result(env, ENOMEM);
    }
    memcpy(t->ids, ids, t->n * sizeof *ids);
    notify_thread(&sev, t);
  }
  r = lio_listio(mode, cbs, (int)n, &sev) < 0 ? -errno : 0;
  free(list);
  return butter_int(env, r);
}

void butter_init_aio(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"ioSetup", js_io_setup},
      {"ioDestroy", js_io_destroy},
      {"ioSubmit", js_io_submit},
      {"ioGetevents", js_io_getevents},
      {"ioCancel", js_io_cancel},
      {"alignedBuffer", js_aligned_buffer},
      {"aiocbNew", js_aiocb_new},
      {"aioRead", js_aio_read},
      {"aioWrite", js_aio_write},
      {"aioFsync", js_aio_fsync},
      {"aioError", js_aio_error},
      {"aioReturn", js_aio_return},
      {"aioCancel", js_aio_cancel},
      {"aioSuspend", js_aio_suspend},
      {"lioListio", js_lio_listio},
      {"lioListioNotify", js_lio_listio_notify},
      {"aioNotifierNew", js_aio_notifier_new},
      {"aioNotifierTake", js_aio_notifier_take},
      {"aioNotifierClose", js_aio_notifier_close},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_U32(c, IOCB_CMD_PREAD);   /* 2.5 */
  BUTTER_U32(c, IOCB_CMD_PWRITE);  /* 2.5 */
  BUTTER_U32(c, IOCB_CMD_FSYNC);   /* 2.5 */
  BUTTER_U32(c, IOCB_CMD_FDSYNC);  /* 2.5 */
  BUTTER_U32(c, IOCB_CMD_POLL);    /* 4.18 */
  BUTTER_U32(c, IOCB_CMD_NOOP);    /* 2.5; the kernel refuses it (EINVAL) */
  BUTTER_U32(c, IOCB_CMD_PREADV);  /* 2.6.19 */
  BUTTER_U32(c, IOCB_CMD_PWRITEV); /* 2.6.19 */
  BUTTER_U32(c, IOCB_FLAG_RESFD);  /* 2.6.22 */
  BUTTER_U32(c, IOCB_FLAG_IOPRIO); /* 4.18 */
  BUTTER_U32(c, RWF_HIPRI);        /* 4.6 */
  BUTTER_U32(c, RWF_DSYNC);        /* 4.7 */
  BUTTER_U32(c, RWF_SYNC);         /* 4.7 */
  BUTTER_U32(c, RWF_NOWAIT);       /* 4.14 */
  BUTTER_U32(c, RWF_APPEND);       /* 4.16 */
  BUTTER_U32(c, RWF_NOAPPEND);     /* 6.9 */
  BUTTER_U32(c, RWF_ATOMIC);       /* 6.11 */
  BUTTER_U32(c, RWF_DONTCACHE);    /* 6.14 */
  BUTTER_U32(c, IOPRIO_CLASS_NONE); /* 2.6.13 */
  BUTTER_U32(c, IOPRIO_CLASS_RT);
  BUTTER_U32(c, IOPRIO_CLASS_BE);
  BUTTER_U32(c, IOPRIO_CLASS_IDLE);
  BUTTER_U32(c, IOPRIO_CLASS_SHIFT);
  BUTTER_INT(c, LIO_READ); /* POSIX AIO, glibc */
  BUTTER_INT(c, LIO_WRITE);
  BUTTER_INT(c, LIO_NOP);
  BUTTER_INT(c, LIO_WAIT);
  BUTTER_INT(c, LIO_NOWAIT);
  BUTTER_INT(c, AIO_CANCELED);
  BUTTER_INT(c, AIO_NOTCANCELED);
  BUTTER_INT(c, AIO_ALLDONE);
  BUTTER_INT(c, O_SYNC);
  BUTTER_INT(c, O_DSYNC);
  napi_set_named_property(env, exports, "constants", c);
}
