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
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <linux/ioprio.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
  if (n > c->nfree) n = c->nfree;
  if (n == 0) return butter_errno_result(env, EAGAIN);
  struct iocb *ptrs[n];
  uint32_t slots[n];
  uint32_t filled = 0;
  int err = 0;
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
      if (may_sleep((int)cb->aio_fildes, (uint32_t)cb->aio_rw_flags)) {
        napi_value index;
        napi_create_array_with_length(env, 1, &result);
        napi_create_uint32(env, filled, &index);
        napi_set_element(env, result, 0, index);
        break;
      }
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

void butter_init_aio(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"ioSetup", js_io_setup},
      {"ioDestroy", js_io_destroy},
      {"ioSubmit", js_io_submit},
      {"ioGetevents", js_io_getevents},
      {"ioCancel", js_io_cancel},
      {"alignedBuffer", js_aligned_buffer},
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
  napi_set_named_property(env, exports, "constants", c);
}
