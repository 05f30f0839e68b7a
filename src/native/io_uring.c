/*
 * io_uring without liburing: io_uring_setup, io_uring_enter and
 * io_uring_register, with the rings mapped and driven here.
 *
 * What JS gets is an owned ring: the handle that owns the ring's fd also owns,
 * as its family state, the mappings and a close-on-exec duplicate of the fd.
 * The kernel goes on writing into the memory a request names (a read's
 * buffer, a statx's struct) until the request completes, and closing the fd
 * does not wait for that: the kernel cancels in the background. So whoever
 * frees the ring (close(), the finalizer, a Worker's teardown) first cancels
 * every request through the duplicate and waits until each one is over
 * (IORING_REGISTER_SYNC_CANCEL), and only then unmaps and closes it; JS keeps
 * each request's buffers until its completion arrives.
 *
 * JS never writes an address: an SQE reaches ioUringPrep as a 64-byte image
 * whose pointer fields hold offsets, and the Uint8Arrays they point into come
 * beside it, checked by the TypeScript layer (src/raw/io-uring.ts knows which
 * field of which opcode is a pointer). CQEs come back four int32s each.
 */
#include "butter.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Newer than the 6.1 UAPI headers this builds against. */
#ifndef IORING_SETUP_NO_MMAP
#define IORING_SETUP_NO_MMAP (1U << 14) /* 6.5: the application provides the rings' memory */
#endif
#ifndef IORING_SETUP_REGISTERED_FD_ONLY
#define IORING_SETUP_REGISTERED_FD_ONLY (1U << 15) /* 6.5 */
#endif
#ifndef IORING_SETUP_NO_SQARRAY
#define IORING_SETUP_NO_SQARRAY (1U << 16) /* 6.6: SQEs are taken in ring order, no index array */
#endif
#ifndef IORING_SETUP_HYBRID_IOPOLL
#define IORING_SETUP_HYBRID_IOPOLL (1U << 17) /* 6.13 */
#endif
#ifndef IORING_FEAT_RSRC_TAGS
#define IORING_FEAT_RSRC_TAGS (1U << 10) /* 5.13 */
#endif
#ifndef IORING_FEAT_REG_REG_RING
#define IORING_FEAT_REG_REG_RING (1U << 13) /* 6.3 */
#endif
#ifndef IORING_FEAT_RECVSEND_BUNDLE
#define IORING_FEAT_RECVSEND_BUNDLE (1U << 14) /* 6.10 */
#endif
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15) /* 6.12 */
#endif
#ifndef IORING_MSG_RING_FLAGS_PASS
#define IORING_MSG_RING_FLAGS_PASS (1U << 1) /* 6.3: the target CQE's flags come from file_index */
#endif
#ifndef IORING_FIXED_FD_NO_CLOEXEC
#define IORING_FIXED_FD_NO_CLOEXEC (1U << 0) /* 6.8 */
#endif
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02 /* 6.7: futex2 flags, as IORING_OP_FUTEX_* take them */
#endif
#ifndef FUTEX2_PRIVATE
#define FUTEX2_PRIVATE 128 /* 6.7 */
#endif

/* One mapping: its address and length, for munmap. */
struct region {
  void *p;
  size_t len;
};

struct buf_ring;

typedef struct ring {
  int fd; /* the duplicate teardown cancels through (the handle closes its own fd first) */
  unsigned flags;
  struct region rings, cq_rings, sqes_region; /* cq_rings.p is NULL when one mapping holds both (SINGLE_MMAP, NO_MMAP) */
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_flags, *sq_array;
  unsigned sq_entries, sqe_size;
  unsigned sq_local; /* our tail: SQEs written up to here, published to the kernel by enter */
  unsigned *cq_head, *cq_tail, *cq_mask;
  unsigned cqe_size;
  char *sqes, *cqes;
  int reg_index; /* the ring's index among this thread's registered ring fds, or -1 */
  struct buf_ring *buf_rings; /* the provided-buffer rings registered through ioUringBufRing* */
} ring;

static int sys_setup(unsigned entries, struct io_uring_params *p) {
  return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(ring *r, unsigned to_submit, unsigned min_complete, unsigned flags) {
  int fd = r->fd;
  if (r->reg_index >= 0) fd = r->reg_index, flags |= IORING_ENTER_REGISTERED_RING;
  return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, NULL, 0);
}

static void unmap(struct region *m) {
  if (m->p && m->p != MAP_FAILED) munmap(m->p, m->len);
  m->p = NULL;
}

/*
 * Cancels every request of the ring and waits until each is over, so no
 * request writes into memory after its owner lets go. Regular-file I/O that
 * io-wq already runs cannot be interrupted, only waited for; the wait is
 * bounded (about 2 s) so that a request the kernel never ends cannot hang a
 * Worker's teardown.
 */
static void cancel_all(int fd) {
  for (int i = 0; i < 20; i++) {
    struct io_uring_sync_cancel_reg reg = {0};
    reg.flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
    reg.timeout.tv_nsec = 100 * 1000 * 1000;
    reg.fd = -1;
    int r = (int)syscall(__NR_io_uring_register, fd, IORING_REGISTER_SYNC_CANCEL, &reg, 1);
    /* ENOENT: nothing left; EINVAL/ENOSYS: a kernel without sync cancel (before 6.0). */
    if (r >= 0 || errno == ENOENT || errno == EINVAL || errno == ENOSYS || errno == EBADF) break;
  }
}

static void unregister_ring_fd(ring *r) {
  if (r->reg_index < 0) return;
  struct io_uring_rsrc_update up = {.offset = (unsigned)r->reg_index};
  syscall(__NR_io_uring_register, r->fd, IORING_UNREGISTER_RING_FDS, &up, 1);
  r->reg_index = -1;
}

static void buf_rings_free(ring *r);

/* The handle's family_free: after the handle closed its fd. */
static void ring_free(void *family) {
  ring *r = family;
  if (r->fd >= 0) {
    cancel_all(r->fd);
    /* A registered ring fd holds the ring from the thread's table: let it go. */
    unregister_ring_fd(r);
  }
  buf_rings_free(r);
  unmap(&r->rings);
  unmap(&r->cq_rings);
  unmap(&r->sqes_region);
  if (r->fd >= 0) close(r->fd);
  free(r);
}

static unsigned round_pow2(unsigned n) {
  unsigned p = 1;
  while (p < n && p < (1u << 31)) p <<= 1;
  return p;
}

/*
 * NO_MMAP: the rings live in memory of ours, which the kernel pins. Sizes
 * are the kernel's upper bounds for these entry counts (struct io_rings'
 * header fits in a page; then the CQEs, then the SQ index array).
 */
static int alloc_user_rings(ring *r, unsigned entries, struct io_uring_params *p) {
  unsigned sq = round_pow2(entries ? entries : 1);
  unsigned cq = p->flags & IORING_SETUP_CQSIZE ? round_pow2(p->cq_entries) : 2 * sq;
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t rings = 4096 + (size_t)cq * r->cqe_size + (size_t)sq * sizeof(unsigned) + 64;
  size_t sqes = (size_t)sq * r->sqe_size;
  r->rings.len = (rings + page - 1) & ~(page - 1);
  r->sqes_region.len = (sqes + page - 1) & ~(page - 1);
  r->rings.p = mmap(NULL, r->rings.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  r->sqes_region.p = mmap(NULL, r->sqes_region.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (r->rings.p == MAP_FAILED || r->sqes_region.p == MAP_FAILED) return -ENOMEM;
  /* user_addr (6.5) is the field the 6.1 headers still call resv2. */
  p->sq_off.resv2 = (uint64_t)(uintptr_t)r->sqes_region.p;
  p->cq_off.resv2 = (uint64_t)(uintptr_t)r->rings.p;
  return 0;
}

static int map_rings(ring *r, const struct io_uring_params *p) {
  char *sq, *cq;
  if (r->flags & IORING_SETUP_NO_MMAP) {
    sq = cq = r->rings.p;
    r->sqes = r->sqes_region.p;
  } else {
    size_t sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    size_t cq_len = p->cq_off.cqes + (size_t)p->cq_entries * r->cqe_size;
    if (r->flags & IORING_SETUP_NO_SQARRAY) sq_len = p->sq_off.flags + sizeof(unsigned);
    bool single = p->features & IORING_FEAT_SINGLE_MMAP;
    if (single && cq_len > sq_len) sq_len = cq_len;
    r->rings.len = sq_len;
    r->rings.p = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
    if (r->rings.p == MAP_FAILED) return -errno;
    sq = cq = r->rings.p;
    if (!single) {
      r->cq_rings.len = cq_len;
      r->cq_rings.p = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
      if (r->cq_rings.p == MAP_FAILED) return -errno;
      cq = r->cq_rings.p;
    }
    r->sqes_region.len = (size_t)p->sq_entries * r->sqe_size;
    r->sqes_region.p = mmap(NULL, r->sqes_region.len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
    if (r->sqes_region.p == MAP_FAILED) return -errno;
    r->sqes = r->sqes_region.p;
  }
  r->sq_head = (unsigned *)(sq + p->sq_off.head);
  r->sq_tail = (unsigned *)(sq + p->sq_off.tail);
  r->sq_mask = (unsigned *)(sq + p->sq_off.ring_mask);
  r->sq_flags = (unsigned *)(sq + p->sq_off.flags);
  r->sq_array = r->flags & IORING_SETUP_NO_SQARRAY ? NULL : (unsigned *)(sq + p->sq_off.array);
  r->cq_head = (unsigned *)(cq + p->cq_off.head);
  r->cq_tail = (unsigned *)(cq + p->cq_off.tail);
  r->cq_mask = (unsigned *)(cq + p->cq_off.ring_mask);
  r->cqes = cq + p->cq_off.cqes;
  r->sq_entries = p->sq_entries;
  r->sq_local = *r->sq_tail;
  return 0;
}

/*
 * ioUringSetup(entries, params, handle) -> fd | -errno. params: a struct
 * io_uring_params (120 bytes) the kernel fills in; handle takes the fd and
 * the ring (mappings included) in this same call, and its shutdown frees both.
 */
static napi_value js_io_uring_setup(napi_env env, napi_callback_info info) {
  uint32_t entries;
  const void *pdata;
  size_t plen;
  butter_handle *h;
  napi_value handle;
  if (!butter_args(env, info, "uBv", &entries, &pdata, &plen, &handle)) return NULL;
  if (!(h = butter_arg_handle(env, handle))) return NULL;
  if (plen < sizeof(struct io_uring_params)) return butter_errno_result(env, EINVAL);
  struct io_uring_params *p = (struct io_uring_params *)pdata;
  ring *r = calloc(1, sizeof *r);
  if (!r) return butter_errno_result(env, ENOMEM);
  r->fd = r->reg_index = -1;
  r->flags = p->flags;
  r->sqe_size = p->flags & IORING_SETUP_SQE128 ? 128 : 64;
  r->cqe_size = p->flags & IORING_SETUP_CQE32 ? 32 : 16;
  int err = p->flags & IORING_SETUP_NO_MMAP ? alloc_user_rings(r, entries, p) : 0;
  int fd = err ? err : sys_setup(entries, p);
  if (fd < 0 && !err) fd = -errno;
  if (fd >= 0) {
    /* The duplicate is what the ring's teardown works through. */
    r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    err = r->fd < 0 ? -errno : map_rings(r, p);
    if (err) {
      close(fd);
      fd = err;
    }
  }
  if (fd < 0) {
    ring_free(r);
    return butter_int(env, fd);
  }
  napi_value result = butter_new_fd(env, fd, handle);
  if (h->fd != fd) {
    ring_free(r); /* butter_new_fd closed the fd: the handle could not take it */
    return result;
  }
  h->family = r;
  h->family_free = ring_free;
  return result;
}

/* The ring of a handle argument, or NULL (EBADF) once it is closed. */
static ring *arg_ring(butter_handle *h) {
  return h->shut || h->fd < 0 ? NULL : h->family;
}

/* Hands the SQEs written so far to the kernel's side of the ring. */
static void publish(ring *r) {
  __atomic_store_n(r->sq_tail, r->sq_local, __ATOMIC_RELEASE);
}

/*
 * ioUringEnter(handle, toSubmit, minComplete, flags) -> count | -errno:
 * publishes the SQEs ioUringPrep wrote, then io_uring_enter(2) (through the
 * thread's registered ring fd when ioUringRegister made one).
 */
static napi_value js_io_uring_enter(napi_env env, napi_callback_info info) {
  butter_handle *h;
  uint32_t to_submit, min_complete, flags;
  if (!butter_args(env, info, "huuu", &h, &to_submit, &min_complete, &flags)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  publish(r);
  int n = sys_enter(r, to_submit, min_complete, flags);
  return butter_int(env, n < 0 ? -errno : n);
}

/* The address and length of a pointer argument: a Uint8Array, or an array whose first element receives the iovecs of the others. */
static int pointer_arg(napi_env env, napi_value v, __u64 *addr) {
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok || type == napi_null || type == napi_undefined) return 0;
  bool is_array = false;
  napi_is_array(env, v, &is_array);
  const void *data;
  size_t len;
  if (!is_array) {
    if (!butter_arg_bytes(env, v, &data, &len)) return -1;
    *addr += (__u64)(uintptr_t)data;
    return 0;
  }
  uint32_t n;
  napi_value e;
  if (napi_get_array_length(env, v, &n) != napi_ok || n == 0 || napi_get_element(env, v, 0, &e) != napi_ok ||
      !butter_arg_bytes(env, e, &data, &len))
    return -1;
  struct iovec *iov = (struct iovec *)data;
  if (len < (n - 1) * sizeof *iov) return -1;
  for (uint32_t i = 1; i < n; i++) {
    const void *b;
    size_t blen;
    if (napi_get_element(env, v, i, &e) != napi_ok || !butter_arg_bytes(env, e, &b, &blen)) return -1;
    iov[i - 1].iov_base = (void *)b;
    iov[i - 1].iov_len = blen;
  }
  *addr += (__u64)(uintptr_t)data;
  return 0;
}

/*
 * ioUringPrep(handle, sqe, addr, addr2, addr3) -> 0 | -EBUSY (the SQ is
 * full) | -EBADF: writes the 64-byte image `sqe` into the next SQ slot,
 * adding to its addr, addr2 (off) and addr3 fields the address of the
 * matching argument when it is a Uint8Array (or an iovec array, see
 * pointer_arg); null leaves the field as the image has it.
 */
static napi_value js_io_uring_prep(napi_env env, napi_callback_info info) {
  butter_handle *h;
  const void *image;
  size_t len;
  napi_value a = NULL, b = NULL, c = NULL;
  if (!butter_args(env, info, "hB|vvv", &h, &image, &len, &a, &b, &c)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  if (len < sizeof(struct io_uring_sqe)) return butter_errno_result(env, EINVAL);
  unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  if (r->sq_local - head >= r->sq_entries) return butter_errno_result(env, EBUSY);
  struct io_uring_sqe sqe;
  memcpy(&sqe, image, sizeof sqe);
  if ((a && pointer_arg(env, a, &sqe.addr) < 0) || (b && pointer_arg(env, b, &sqe.addr2) < 0) ||
      (c && pointer_arg(env, c, &sqe.addr3) < 0))
    return NULL;
  unsigned index = r->sq_local & *r->sq_mask;
  char *slot = r->sqes + (size_t)index * r->sqe_size;
  memcpy(slot, &sqe, sizeof sqe);
  if (r->sqe_size > sizeof sqe) memset(slot + sizeof sqe, 0, r->sqe_size - sizeof sqe);
  if (r->sq_array) r->sq_array[index] = index;
  r->sq_local++;
  return butter_int(env, 0);
}

/*
 * Copies up to `max` CQEs into out (user_data low, high, res, flags: four
 * int32s each) and frees their slots. A CQ that overflowed keeps the rest in
 * the kernel (IORING_FEAT_NODROP): an io_uring_enter with GETEVENTS moves
 * them into the ring, and reading goes on.
 */
static uint32_t reap(ring *r, int32_t *out, uint32_t max) {
  uint32_t n = 0;
  for (;;) {
    unsigned head = *r->cq_head;
    unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
    unsigned mask = *r->cq_mask;
    for (; head != tail && n < max; head++, n++) {
      const struct io_uring_cqe *cqe = (const void *)(r->cqes + (size_t)(head & mask) * r->cqe_size);
      out[4 * n] = (int32_t)(uint32_t)cqe->user_data;
      out[4 * n + 1] = (int32_t)(uint32_t)(cqe->user_data >> 32);
      out[4 * n + 2] = cqe->res;
      out[4 * n + 3] = (int32_t)cqe->flags;
    }
    __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
    if (n == max || !(__atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_CQ_OVERFLOW)) return n;
    if (sys_enter(r, 0, 0, IORING_ENTER_GETEVENTS) < 0 && errno != EINTR) return n;
  }
}

/* The room in `out` for CQEs (4 int32s each). */
static bool arg_cqes(napi_env env, napi_value v, int32_t **out, uint32_t *max) {
  const void *data;
  size_t len;
  if (!butter_arg_bytes(env, v, &data, &len)) return false;
  *out = (int32_t *)data;
  *max = (uint32_t)(len / 16);
  return true;
}

/* ioUringReap(handle, out) -> CQEs copied into out (see reap) | -EBADF. */
static napi_value js_io_uring_reap(napi_env env, napi_callback_info info) {
  butter_handle *h;
  napi_value outv;
  int32_t *out;
  uint32_t max;
  if (!butter_args(env, info, "hv", &h, &outv) || !arg_cqes(env, outv, &out, &max)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  if (r->flags & IORING_SETUP_DEFER_TASKRUN) sys_enter(r, 0, 0, IORING_ENTER_GETEVENTS);
  return butter_int(env, reap(r, out, max));
}

/*
 * ioUringSubmit(handle, out) -> CQEs reaped | -errno: IoUring's one crossing
 * per batch. Submits what ioUringPrep wrote with one io_uring_enter (GETEVENTS
 * too under DEFER_TASKRUN, whose completions wait for it), then reaps what is
 * complete already: reads served from the page cache complete inside the
 * enter. SQEs the kernel did not take for now (EAGAIN, EBUSY) stay queued
 * for the next submit; on any other error they are dropped and the call
 * returns -errno.
 */
static napi_value js_io_uring_submit(napi_env env, napi_callback_info info) {
  butter_handle *h;
  napi_value outv;
  int32_t *out;
  uint32_t max;
  if (!butter_args(env, info, "hv", &h, &outv) || !arg_cqes(env, outv, &out, &max)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  publish(r);
  unsigned pending = r->sq_local - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  unsigned flags = r->flags & IORING_SETUP_DEFER_TASKRUN ? IORING_ENTER_GETEVENTS : 0;
  if (r->flags & IORING_SETUP_SQPOLL) {
    /* The kernel's thread takes SQEs itself; enter only to wake it. The
       fence orders the tail's store before the flag's load, as the kernel's
       side orders setting the flag before its last look at the tail. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    flags = __atomic_load_n(r->sq_flags, __ATOMIC_ACQUIRE) & IORING_SQ_NEED_WAKEUP ? IORING_ENTER_SQ_WAKEUP : 0;
    if (!flags) pending = 0;
  }
  if (pending || flags) {
    int n;
    do n = sys_enter(r, pending, 0, flags);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EBUSY) {
      /* The kernel took none of them: take them back, so that their requests
         can fail without the kernel ever seeing (and writing through) them. */
      int err = errno;
      r->sq_local = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
      publish(r);
      return butter_errno_result(env, err);
    }
  }
  return butter_int(env, reap(r, out, max));
}

/*
 * The memory a register call's argument names: nothing (null or undefined),
 * a Uint8Array's bytes, or for an array of Uint8Arrays the iovecs of them,
 * made here in *iov for the caller to free. 0, an errno, or -1 with a JS
 * exception pending.
 */
static int register_memory(napi_env env, napi_value v, void **mem, struct iovec **iov) {
  napi_valuetype type;
  napi_typeof(env, v, &type);
  bool is_array = false;
  napi_is_array(env, v, &is_array);
  *mem = NULL;
  *iov = NULL;
  if (is_array) {
    uint32_t n;
    napi_get_array_length(env, v, &n);
    struct iovec *vecs = calloc(n ? n : 1, sizeof *vecs);
    if (!vecs) return ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      const void *b;
      size_t blen;
      if (napi_get_element(env, v, i, &e) != napi_ok || !butter_arg_bytes(env, e, &b, &blen)) {
        free(vecs);
        return -1;
      }
      vecs[i].iov_base = (void *)b;
      vecs[i].iov_len = blen;
    }
    *mem = *iov = vecs;
  } else if (type != napi_null && type != napi_undefined) {
    const void *b;
    size_t blen;
    if (!butter_arg_bytes(env, v, &b, &blen)) return -1;
    *mem = (void *)b;
  }
  return 0;
}

/*
 * ioUringRegister(handle, opcode, arg, nrArgs) -> result | -errno. arg: null,
 * a Uint8Array holding the opcode's struct(s) as the kernel reads (and for
 * PROBE and RING_FDS, writes) them, or an array of Uint8Arrays (BUFFERS:
 * their iovecs are made here). REGISTER_RING_FDS of the ring itself
 * (`data` -1) is remembered: enters go through the registered index.
 */
static napi_value js_io_uring_register(napi_env env, napi_callback_info info) {
  butter_handle *h;
  uint32_t opcode, nr;
  napi_value argv;
  if (!butter_args(env, info, "huvu", &h, &opcode, &argv, &nr)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  void *arg;
  struct iovec *iov;
  int got = register_memory(env, argv, &arg, &iov);
  if (got) return got < 0 ? NULL : butter_errno_result(env, got);
  bool self = false;
  if (opcode == IORING_REGISTER_RING_FDS && arg && nr == 1 && r->reg_index < 0) {
    struct io_uring_rsrc_update *up = arg;
    self = (int64_t)up->data == -1;
    if (self) up->data = (uint64_t)h->fd;
  }
  if (opcode == IORING_UNREGISTER_RING_FDS && arg && nr == 1 && r->reg_index >= 0 &&
      ((struct io_uring_rsrc_update *)arg)->offset == (unsigned)r->reg_index)
    r->reg_index = -1;
  int fd = r->reg_index >= 0 ? r->reg_index : h->fd;
  if (r->reg_index >= 0) opcode |= 1U << 31; /* IORING_REGISTER_USE_REGISTERED_RING (6.3) */
  int res = (int)syscall(__NR_io_uring_register, fd, opcode, arg, nr);
  if (res < 0 && r->reg_index >= 0 && errno == EINVAL) {
    opcode &= ~(1U << 31); /* a kernel without registered-ring register calls */
    res = (int)syscall(__NR_io_uring_register, h->fd, opcode, arg, nr);
  }
  int err = res < 0 ? errno : 0;
  free(iov);
  if (self && res == 1) r->reg_index = (int)((struct io_uring_rsrc_update *)arg)->offset;
  return res < 0 ? butter_errno_result(env, err) : butter_int(env, res);
}

/*
 * ioUringRegisterRsrc(handle, opcode, head, data, tags, nr) -> result | -errno:
 * the registrations whose struct points at arrays (REGISTER_FILES_UPDATE,
 * FILES2, BUFFERS2, FILES_UPDATE2, BUFFERS_UPDATE). `head` is the struct with
 * its pointer fields 0; they are filled here with the address of `data` (a
 * Uint8Array of fds, or an array of Uint8Arrays whose iovecs are made here)
 * and of `tags` (a Uint8Array of u64s), both optional. `nr` is nr_args.
 */
static napi_value js_io_uring_register_rsrc(napi_env env, napi_callback_info info) {
  butter_handle *h;
  uint32_t opcode, nr;
  const void *head;
  size_t head_len;
  napi_value datav, tagsv;
  if (!butter_args(env, info, "huBvvu", &h, &opcode, &head, &head_len, &datav, &tagsv, &nr)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  size_t data_at, tags_at, need;
  switch (opcode) {
  case IORING_REGISTER_FILES_UPDATE:
    data_at = offsetof(struct io_uring_rsrc_update, data), tags_at = 0, need = sizeof(struct io_uring_rsrc_update);
    break;
  case IORING_REGISTER_FILES2:
  case IORING_REGISTER_BUFFERS2:
    data_at = offsetof(struct io_uring_rsrc_register, data), tags_at = offsetof(struct io_uring_rsrc_register, tags);
    need = sizeof(struct io_uring_rsrc_register);
    break;
  case IORING_REGISTER_FILES_UPDATE2:
  case IORING_REGISTER_BUFFERS_UPDATE:
    data_at = offsetof(struct io_uring_rsrc_update2, data), tags_at = offsetof(struct io_uring_rsrc_update2, tags);
    need = sizeof(struct io_uring_rsrc_update2);
    break;
  default:
    return butter_errno_result(env, EINVAL);
  }
  if (head_len < need) return butter_errno_result(env, EINVAL);
  char arg[sizeof(struct io_uring_rsrc_register) > sizeof(struct io_uring_rsrc_update2) ? sizeof(struct io_uring_rsrc_register)
                                                                                       : sizeof(struct io_uring_rsrc_update2)];
  memcpy(arg, head, need);
  void *mem;
  struct iovec *iov;
  int got = register_memory(env, datav, &mem, &iov);
  if (got) return got < 0 ? NULL : butter_errno_result(env, got);
  __u64 data = (__u64)(uintptr_t)mem, tags = 0;
  napi_valuetype type;
  napi_typeof(env, tagsv, &type);
  if (type != napi_null && type != napi_undefined) {
    const void *b;
    size_t blen;
    if (!tags_at || !butter_arg_bytes(env, tagsv, &b, &blen)) {
      free(iov);
      return tags_at ? NULL : butter_errno_result(env, EINVAL);
    }
    tags = (__u64)(uintptr_t)b;
  }
  memcpy(arg + data_at, &data, sizeof data);
  if (tags_at) memcpy(arg + tags_at, &tags, sizeof tags);
  int res = (int)syscall(__NR_io_uring_register, h->fd, opcode, arg, nr);
  int err = res < 0 ? errno : 0;
  free(iov);
  return res < 0 ? butter_errno_result(env, err) : butter_int(env, res);
}

/*
 * ioUringFutexWaitv(waitv, words) -> 0 | -EINVAL: writes into the struct
 * futex_waitv array `waitv` (24 bytes each, as JS filled val and flags) the
 * address of each Uint8Array in `words`, for IORING_OP_FUTEX_WAITV, whose
 * array of pointers no SQE field can carry as an offset. `waitv` is IoUring's
 * own, never a caller's.
 */
static napi_value js_io_uring_futex_waitv(napi_env env, napi_callback_info info) {
  const void *data;
  size_t len;
  napi_value words;
  if (!butter_args(env, info, "Bv", &data, &len, &words)) return NULL;
  uint32_t n;
  if (napi_get_array_length(env, words, &n) != napi_ok || (size_t)n * 24 > len) return butter_errno_result(env, EINVAL);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    const void *w;
    size_t wlen;
    if (napi_get_element(env, words, i, &e) != napi_ok || !butter_arg_bytes(env, e, &w, &wlen)) return NULL;
    if (wlen < 4) return butter_errno_result(env, EINVAL);
    __u64 uaddr = (__u64)(uintptr_t)w;
    memcpy((char *)data + 24 * (size_t)i + 8, &uaddr, sizeof uaddr);
  }
  return butter_int(env, 0);
}

/*
 * ioUringPageRange(bytes, out) -> 0: out (two uint32s) receives the offset
 * in `bytes` of its first page boundary and the length of the whole pages
 * from there, for IORING_OP_MADVISE, which takes only page-aligned ranges:
 * IoUring advises only pages that lie inside the caller's buffer.
 */
static napi_value js_io_uring_page_range(napi_env env, napi_callback_info info) {
  const void *data, *outp;
  size_t len, out_len;
  if (!butter_args(env, info, "BB", &data, &len, &outp, &out_len)) return NULL;
  if (out_len < 2 * sizeof(uint32_t)) return butter_errno_result(env, EINVAL);
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)data + page - 1) & ~(page - 1);
  uintptr_t end = ((uintptr_t)data + len) & ~(page - 1);
  uint32_t range[2] = {0, 0};
  if (len && end > start) {
    range[0] = (uint32_t)(start - (uintptr_t)data);
    range[1] = (uint32_t)(end - start);
  }
  memcpy((void *)outp, range, sizeof range);
  return butter_int(env, 0);
}

/* The constants of IoUring's file, process, futex and message requests, and of the registration updates. */
static void export_misc_constants(napi_env env, napi_value c) {
  BUTTER_U32(c, RESOLVE_NO_XDEV);              /* 5.6: openat2's how.resolve */
  BUTTER_U32(c, RESOLVE_NO_MAGICLINKS);        /* 5.6 */
  BUTTER_U32(c, RESOLVE_NO_SYMLINKS);          /* 5.6 */
  BUTTER_U32(c, RESOLVE_BENEATH);              /* 5.6 */
  BUTTER_U32(c, RESOLVE_IN_ROOT);              /* 5.6 */
  BUTTER_U32(c, RESOLVE_CACHED);               /* 5.12 */
  BUTTER_U32(c, MADV_NORMAL);                  /* madvise's advice that keeps the memory's contents */
  BUTTER_U32(c, MADV_RANDOM);
  BUTTER_U32(c, MADV_SEQUENTIAL);
  BUTTER_U32(c, MADV_WILLNEED);
  BUTTER_U32(c, MADV_HUGEPAGE);                /* 2.6.38 */
  BUTTER_U32(c, MADV_NOHUGEPAGE);              /* 2.6.38 */
  BUTTER_U32(c, MADV_COLD);                    /* 5.4 */
  BUTTER_U32(c, MADV_PAGEOUT);                 /* 5.4 */
  BUTTER_U32(c, MADV_POPULATE_READ);           /* 5.14 */
  BUTTER_U32(c, MADV_POPULATE_WRITE);          /* 5.14 */
  BUTTER_U32(c, XATTR_CREATE);
  BUTTER_U32(c, XATTR_REPLACE);
  BUTTER_U32(c, P_ALL);                        /* waitid's idtype */
  BUTTER_U32(c, P_PID);
  BUTTER_U32(c, P_PGID);
  BUTTER_U32(c, P_PIDFD);                      /* 5.4 */
  BUTTER_U32(c, WEXITED);                      /* waitid's options */
  BUTTER_U32(c, WSTOPPED);
  BUTTER_U32(c, WCONTINUED);
  BUTTER_U32(c, WNOHANG);
  BUTTER_U32(c, WNOWAIT);
  BUTTER_U32(c, CLD_EXITED);                   /* siginfo's si_code for SIGCHLD */
  BUTTER_U32(c, CLD_KILLED);
  BUTTER_U32(c, CLD_DUMPED);
  BUTTER_U32(c, CLD_TRAPPED);
  BUTTER_U32(c, CLD_STOPPED);
  BUTTER_U32(c, CLD_CONTINUED);
  BUTTER_U32(c, IORING_TIMEOUT_UPDATE);        /* 5.11 */
  BUTTER_U32(c, IORING_LINK_TIMEOUT_UPDATE);   /* 5.15 */
  BUTTER_U32(c, IORING_POLL_ADD_MULTI);        /* 5.13 */
  BUTTER_U32(c, IORING_POLL_UPDATE_EVENTS);    /* 5.13 */
  BUTTER_U32(c, IORING_POLL_UPDATE_USER_DATA); /* 5.13 */
  BUTTER_U32(c, IORING_MSG_DATA);              /* 5.18 */
  BUTTER_U32(c, IORING_MSG_SEND_FD);           /* 6.0 */
  BUTTER_U32(c, IORING_MSG_RING_CQE_SKIP);     /* 6.1 */
  BUTTER_U32(c, IORING_MSG_RING_FLAGS_PASS);   /* 6.3 */
  BUTTER_U32(c, IORING_FILE_INDEX_ALLOC);      /* 5.19 */
  BUTTER_U32(c, IORING_FIXED_FD_NO_CLOEXEC);   /* 6.8 */
  BUTTER_U32(c, FUTEX2_SIZE_U32);              /* 6.7 */
  BUTTER_U32(c, FUTEX2_PRIVATE);               /* 6.7 */
  BUTTER_U32(c, IORING_REGISTER_FILES_UPDATE); /* 5.5 */
  BUTTER_U32(c, IORING_REGISTER_FILES2);       /* 5.13 */
  BUTTER_U32(c, IORING_REGISTER_FILES_UPDATE2); /* 5.13 */
  BUTTER_U32(c, IORING_REGISTER_BUFFERS2);     /* 5.13 */
  BUTTER_U32(c, IORING_REGISTER_BUFFERS_UPDATE); /* 5.13 */
  BUTTER_U32(c, IORING_REGISTER_FILE_ALLOC_RANGE); /* 6.0 */
  BUTTER_U32(c, IORING_RSRC_REGISTER_SPARSE);  /* 5.19 */
}

/*
 * ---- sockets: messages and provided-buffer rings ----
 *
 * A msghdr holds pointers of its own, so JS never fills one: ioUringMsghdr
 * writes it (and its iovecs) into a Uint8Array of JS's from the buffers it is
 * given, and JS keeps them all with the request that points at it.
 */

#define MSGHDR_SIZE sizeof(struct msghdr)

/*
 * ioUringMsghdr(hdr, name, buffers, control) -> 0 | -EINVAL: a struct msghdr
 * at hdr[0], its iovecs right after it, naming `name` (a sockaddr, or null),
 * `buffers` and `control` (cmsgs, or null) with their whole lengths.
 */
static napi_value js_io_uring_msghdr(napi_env env, napi_callback_info info) {
  const void *hdr_data, *data;
  size_t hdr_len, len;
  napi_value name, buffers, control;
  if (!butter_args(env, info, "Bvvv", &hdr_data, &hdr_len, &name, &buffers, &control)) return NULL;
  uint32_t n;
  if (napi_get_array_length(env, buffers, &n) != napi_ok || hdr_len < MSGHDR_SIZE + (size_t)n * sizeof(struct iovec))
    return butter_errno_result(env, EINVAL);
  struct msghdr *msg = (struct msghdr *)hdr_data;
  struct iovec *iov = (struct iovec *)((char *)hdr_data + MSGHDR_SIZE);
  memset(msg, 0, sizeof *msg);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    if (napi_get_element(env, buffers, i, &e) != napi_ok || !butter_arg_bytes(env, e, &data, &len)) return NULL;
    iov[i].iov_base = (void *)data;
    iov[i].iov_len = len;
  }
  msg->msg_iov = iov;
  msg->msg_iovlen = n;
  napi_valuetype type;
  napi_typeof(env, name, &type);
  if (type != napi_null) {
    if (!butter_arg_bytes(env, name, &data, &len)) return NULL;
    msg->msg_name = (void *)data;
    msg->msg_namelen = (socklen_t)len;
  }
  napi_typeof(env, control, &type);
  if (type != napi_null) {
    if (!butter_arg_bytes(env, control, &data, &len)) return NULL;
    msg->msg_control = (void *)data;
    msg->msg_controllen = len;
  }
  return butter_int(env, 0);
}

/*
 * A provided-buffer ring (IORING_REGISTER_PBUF_RING, 5.19): the ring of
 * buffer descriptors is ours, page-aligned as the kernel requires, and lives
 * until unregistered or the ring is freed (after its requests are over). The
 * buffers it names are JS memory, which JS holds for as long as the group is
 * registered and any request that may have picked one is in flight.
 */
struct buf_ring {
  struct buf_ring *next;
  struct io_uring_buf_ring *br;
  size_t len;
  unsigned entries;
  uint16_t bgid;
  uint16_t tail;
};

static struct buf_ring **find_buf_ring(ring *r, unsigned bgid) {
  struct buf_ring **p = &r->buf_rings;
  while (*p && (*p)->bgid != bgid) p = &(*p)->next;
  return p;
}

static void buf_rings_free(ring *r) {
  while (r->buf_rings) {
    struct buf_ring *b = r->buf_rings;
    r->buf_rings = b->next;
    munmap(b->br, b->len);
    free(b);
  }
}

static int ring_register(butter_handle *h, unsigned opcode, void *arg, unsigned nr) {
  int res = (int)syscall(__NR_io_uring_register, h->fd, opcode, arg, nr);
  return res < 0 ? -errno : res;
}

/* ioUringBufRingRegister(handle, bgid, entries) -> 0 | -errno. entries: a power of two up to 32768. */
static napi_value js_io_uring_buf_ring_register(napi_env env, napi_callback_info info) {
  butter_handle *h;
  uint32_t bgid, entries;
  if (!butter_args(env, info, "huu", &h, &bgid, &entries)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  if (bgid > 0xffff || entries == 0 || entries > 32768 || (entries & (entries - 1))) return butter_errno_result(env, EINVAL);
  if (*find_buf_ring(r, bgid)) return butter_errno_result(env, EEXIST);
  struct buf_ring *b = calloc(1, sizeof *b);
  if (!b) return butter_errno_result(env, ENOMEM);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  b->len = ((size_t)entries * sizeof(struct io_uring_buf) + page - 1) & ~(page - 1);
  b->br = mmap(NULL, b->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b->br == MAP_FAILED) {
    free(b);
    return butter_errno_result(env, ENOMEM);
  }
  b->entries = entries;
  b->bgid = (uint16_t)bgid;
  struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)b->br, .ring_entries = entries, .bgid = (uint16_t)bgid};
  int res = ring_register(h, IORING_REGISTER_PBUF_RING, &reg, 1);
  if (res < 0) {
    munmap(b->br, b->len);
    free(b);
    return butter_int(env, res);
  }
  b->next = r->buf_rings;
  r->buf_rings = b;
  return butter_int(env, 0);
}

/* ioUringBufRingUnregister(handle, bgid) -> 0 | -errno: the kernel lets go of the ring, then it is unmapped. */
static napi_value js_io_uring_buf_ring_unregister(napi_env env, napi_callback_info info) {
  butter_handle *h;
  uint32_t bgid;
  if (!butter_args(env, info, "hu", &h, &bgid)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  struct buf_ring **p = find_buf_ring(r, bgid), *b = *p;
  if (!b) return butter_errno_result(env, ENOENT);
  struct io_uring_buf_reg reg = {.bgid = (uint16_t)bgid};
  int res = ring_register(h, IORING_UNREGISTER_PBUF_RING, &reg, 1);
  if (res < 0) return butter_int(env, res);
  *p = b->next;
  munmap(b->br, b->len);
  free(b);
  return butter_int(env, 0);
}

/*
 * ioUringBufRingAdd(handle, bgid, bid, buffer) -> 0 | -errno: hands the
 * kernel `buffer` as buffer `bid` of the group (published at once).
 */
static napi_value js_io_uring_buf_ring_add(napi_env env, napi_callback_info info) {
  butter_handle *h;
  uint32_t bgid, bid;
  const void *data;
  size_t len;
  if (!butter_args(env, info, "huuB", &h, &bgid, &bid, &data, &len)) return NULL;
  ring *r = arg_ring(h);
  if (!r) return butter_errno_result(env, EBADF);
  struct buf_ring *b = *find_buf_ring(r, bgid);
  if (!b) return butter_errno_result(env, ENOENT);
  if (bid > 0xffff || len > UINT32_MAX) return butter_errno_result(env, EINVAL);
  struct io_uring_buf *buf = &b->br->bufs[b->tail & (b->entries - 1)];
  buf->addr = (uint64_t)(uintptr_t)data;
  buf->len = (uint32_t)len;
  buf->bid = (uint16_t)bid;
  b->tail++;
  __atomic_store_n(&b->br->tail, b->tail, __ATOMIC_RELEASE);
  return butter_int(env, 0);
}

void butter_init_io_uring(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"ioUringSetup", js_io_uring_setup},
      {"ioUringEnter", js_io_uring_enter},
      {"ioUringRegister", js_io_uring_register},
      {"ioUringPrep", js_io_uring_prep},
      {"ioUringReap", js_io_uring_reap},
      {"ioUringSubmit", js_io_uring_submit},
      {"ioUringRegisterRsrc", js_io_uring_register_rsrc},
      {"ioUringFutexWaitv", js_io_uring_futex_waitv},
      {"ioUringPageRange", js_io_uring_page_range},
      {"ioUringMsghdr", js_io_uring_msghdr},
      {"ioUringBufRingRegister", js_io_uring_buf_ring_register},
      {"ioUringBufRingUnregister", js_io_uring_buf_ring_unregister},
      {"ioUringBufRingAdd", js_io_uring_buf_ring_add},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  /* io_uring_setup flags */
  BUTTER_U32(c, IORING_SETUP_IOPOLL);          /* 5.1 */
  BUTTER_U32(c, IORING_SETUP_SQPOLL);          /* 5.1 */
  BUTTER_U32(c, IORING_SETUP_SQ_AFF);          /* 5.1 */
  BUTTER_U32(c, IORING_SETUP_CQSIZE);          /* 5.5 */
  BUTTER_U32(c, IORING_SETUP_CLAMP);           /* 5.6 */
  BUTTER_U32(c, IORING_SETUP_ATTACH_WQ);       /* 5.6 */
  BUTTER_U32(c, IORING_SETUP_R_DISABLED);      /* 5.10 */
  BUTTER_U32(c, IORING_SETUP_SUBMIT_ALL);      /* 5.18 */
  BUTTER_U32(c, IORING_SETUP_COOP_TASKRUN);    /* 5.19 */
  BUTTER_U32(c, IORING_SETUP_TASKRUN_FLAG);    /* 5.19 */
  BUTTER_U32(c, IORING_SETUP_SQE128);          /* 5.19 */
  BUTTER_U32(c, IORING_SETUP_CQE32);           /* 5.19 */
  BUTTER_U32(c, IORING_SETUP_SINGLE_ISSUER);   /* 6.0 */
  BUTTER_U32(c, IORING_SETUP_DEFER_TASKRUN);   /* 6.1 */
  BUTTER_U32(c, IORING_SETUP_NO_MMAP);         /* 6.5 */
  BUTTER_U32(c, IORING_SETUP_REGISTERED_FD_ONLY); /* 6.5 */
  BUTTER_U32(c, IORING_SETUP_NO_SQARRAY);      /* 6.6 */
  BUTTER_U32(c, IORING_SETUP_HYBRID_IOPOLL);   /* 6.13 */
  /* features the kernel reports */
  BUTTER_U32(c, IORING_FEAT_SINGLE_MMAP);      /* 5.4 */
  BUTTER_U32(c, IORING_FEAT_NODROP);           /* 5.5 */
  BUTTER_U32(c, IORING_FEAT_SUBMIT_STABLE);    /* 5.5 */
  BUTTER_U32(c, IORING_FEAT_RW_CUR_POS);       /* 5.6 */
  BUTTER_U32(c, IORING_FEAT_CUR_PERSONALITY);  /* 5.6 */
  BUTTER_U32(c, IORING_FEAT_FAST_POLL);        /* 5.7 */
  BUTTER_U32(c, IORING_FEAT_POLL_32BITS);      /* 5.9 */
  BUTTER_U32(c, IORING_FEAT_SQPOLL_NONFIXED);  /* 5.11 */
  BUTTER_U32(c, IORING_FEAT_EXT_ARG);          /* 5.11 */
  BUTTER_U32(c, IORING_FEAT_NATIVE_WORKERS);   /* 5.12 */
  BUTTER_U32(c, IORING_FEAT_RSRC_TAGS);        /* 5.13 */
  BUTTER_U32(c, IORING_FEAT_CQE_SKIP);         /* 5.17 */
  BUTTER_U32(c, IORING_FEAT_LINKED_FILE);      /* 5.17 */
  BUTTER_U32(c, IORING_FEAT_REG_REG_RING);     /* 6.3 */
  BUTTER_U32(c, IORING_FEAT_RECVSEND_BUNDLE);  /* 6.10 */
  BUTTER_U32(c, IORING_FEAT_MIN_TIMEOUT);      /* 6.12 */
  /* io_uring_enter flags */
  BUTTER_U32(c, IORING_ENTER_GETEVENTS);       /* 5.1 */
  BUTTER_U32(c, IORING_ENTER_SQ_WAKEUP);       /* 5.1 */
  BUTTER_U32(c, IORING_ENTER_SQ_WAIT);         /* 5.10 */
  /* SQ ring flags */
  BUTTER_U32(c, IORING_SQ_NEED_WAKEUP);        /* 5.1 */
  BUTTER_U32(c, IORING_SQ_CQ_OVERFLOW);        /* 5.5 */
  BUTTER_U32(c, IORING_SQ_TASKRUN);            /* 5.19 */
  /* SQE flags */
  BUTTER_U32(c, IOSQE_FIXED_FILE);             /* 5.1 */
  BUTTER_U32(c, IOSQE_IO_DRAIN);               /* 5.2 */
  BUTTER_U32(c, IOSQE_IO_LINK);                /* 5.3 */
  BUTTER_U32(c, IOSQE_IO_HARDLINK);            /* 5.5 */
  BUTTER_U32(c, IOSQE_ASYNC);                  /* 5.6 */
  BUTTER_U32(c, IOSQE_CQE_SKIP_SUCCESS);       /* 5.17 */
  /* cancel flags */
  BUTTER_U32(c, IORING_ASYNC_CANCEL_ALL);      /* 5.19 */
  BUTTER_U32(c, IORING_ASYNC_CANCEL_FD);       /* 5.19 */
  BUTTER_U32(c, IORING_ASYNC_CANCEL_ANY);      /* 5.19 */
  BUTTER_U32(c, IORING_ASYNC_CANCEL_FD_FIXED); /* 6.0 */
  /* timeout flags */
  BUTTER_U32(c, IORING_TIMEOUT_ABS);           /* 5.5 */
  BUTTER_U32(c, IORING_TIMEOUT_BOOTTIME);      /* 5.15 */
  BUTTER_U32(c, IORING_TIMEOUT_REALTIME);      /* 5.15 */
  BUTTER_U32(c, IORING_TIMEOUT_ETIME_SUCCESS); /* 5.16 */
  /* CQE flags */
  BUTTER_U32(c, IORING_CQE_F_BUFFER);          /* 5.7 */
  BUTTER_U32(c, IORING_CQE_F_MORE);            /* 5.13 */
  /* register opcodes */
  BUTTER_U32(c, IORING_REGISTER_BUFFERS);      /* 5.1 */
  BUTTER_U32(c, IORING_UNREGISTER_BUFFERS);    /* 5.1 */
  BUTTER_U32(c, IORING_REGISTER_FILES);        /* 5.1 */
  BUTTER_U32(c, IORING_UNREGISTER_FILES);      /* 5.1 */
  BUTTER_U32(c, IORING_REGISTER_EVENTFD);      /* 5.2 */
  BUTTER_U32(c, IORING_UNREGISTER_EVENTFD);    /* 5.2 */
  BUTTER_U32(c, IORING_REGISTER_EVENTFD_ASYNC); /* 5.6 */
  BUTTER_U32(c, IORING_REGISTER_PROBE);        /* 5.6 */
  BUTTER_U32(c, IORING_REGISTER_RESTRICTIONS); /* 5.10 */
  BUTTER_U32(c, IORING_REGISTER_ENABLE_RINGS); /* 5.10 */
  BUTTER_U32(c, IORING_REGISTER_RING_FDS);     /* 5.18 */
  BUTTER_U32(c, IORING_UNREGISTER_RING_FDS);   /* 5.18 */
  BUTTER_U32(c, IORING_REGISTER_SYNC_CANCEL);  /* 6.0 */
  /* restriction types */
  BUTTER_U32(c, IORING_RESTRICTION_REGISTER_OP);        /* 5.10 */
  BUTTER_U32(c, IORING_RESTRICTION_SQE_OP);             /* 5.10 */
  BUTTER_U32(c, IORING_RESTRICTION_SQE_FLAGS_ALLOWED);  /* 5.10 */
  BUTTER_U32(c, IORING_RESTRICTION_SQE_FLAGS_REQUIRED); /* 5.10 */
  BUTTER_U32(c, IO_URING_OP_SUPPORTED);        /* 5.6 */
  /* opcodes: the enum's values, with the kernel that added each */
  BUTTER_U32(c, IORING_OP_NOP); /* 5.1 */
  BUTTER_U32(c, IORING_OP_READV); /* 5.1 */
  BUTTER_U32(c, IORING_OP_WRITEV); /* 5.1 */
  BUTTER_U32(c, IORING_OP_FSYNC); /* 5.1 */
  BUTTER_U32(c, IORING_OP_READ_FIXED); /* 5.1 */
  BUTTER_U32(c, IORING_OP_WRITE_FIXED); /* 5.1 */
  BUTTER_U32(c, IORING_OP_POLL_ADD); /* 5.1 */
  BUTTER_U32(c, IORING_OP_POLL_REMOVE); /* 5.1 */
  BUTTER_U32(c, IORING_OP_SYNC_FILE_RANGE); /* 5.2 */
  BUTTER_U32(c, IORING_OP_SENDMSG); /* 5.3 */
  BUTTER_U32(c, IORING_OP_RECVMSG); /* 5.3 */
  BUTTER_U32(c, IORING_OP_TIMEOUT); /* 5.4 */
  BUTTER_U32(c, IORING_OP_TIMEOUT_REMOVE); /* 5.5 */
  BUTTER_U32(c, IORING_OP_ACCEPT); /* 5.5 */
  BUTTER_U32(c, IORING_OP_ASYNC_CANCEL); /* 5.5 */
  BUTTER_U32(c, IORING_OP_LINK_TIMEOUT); /* 5.5 */
  BUTTER_U32(c, IORING_OP_CONNECT); /* 5.5 */
  BUTTER_U32(c, IORING_OP_FALLOCATE); /* 5.6 */
  BUTTER_U32(c, IORING_OP_OPENAT); /* 5.6 */
  BUTTER_U32(c, IORING_OP_CLOSE); /* 5.6 */
  BUTTER_U32(c, IORING_OP_FILES_UPDATE); /* 5.6 */
  BUTTER_U32(c, IORING_OP_STATX); /* 5.6 */
  BUTTER_U32(c, IORING_OP_READ); /* 5.6 */
  BUTTER_U32(c, IORING_OP_WRITE); /* 5.6 */
  BUTTER_U32(c, IORING_OP_FADVISE); /* 5.6 */
  BUTTER_U32(c, IORING_OP_MADVISE); /* 5.6 */
  BUTTER_U32(c, IORING_OP_SEND); /* 5.6 */
  BUTTER_U32(c, IORING_OP_RECV); /* 5.6 */
  BUTTER_U32(c, IORING_OP_OPENAT2); /* 5.6 */
  BUTTER_U32(c, IORING_OP_EPOLL_CTL); /* 5.6 */
  BUTTER_U32(c, IORING_OP_SPLICE); /* 5.7 */
  BUTTER_U32(c, IORING_OP_PROVIDE_BUFFERS); /* 5.7 */
  BUTTER_U32(c, IORING_OP_REMOVE_BUFFERS); /* 5.7 */
  BUTTER_U32(c, IORING_OP_TEE); /* 5.8 */
  BUTTER_U32(c, IORING_OP_SHUTDOWN); /* 5.11 */
  BUTTER_U32(c, IORING_OP_RENAMEAT); /* 5.11 */
  BUTTER_U32(c, IORING_OP_UNLINKAT); /* 5.11 */
  BUTTER_U32(c, IORING_OP_MKDIRAT); /* 5.15 */
  BUTTER_U32(c, IORING_OP_SYMLINKAT); /* 5.15 */
  BUTTER_U32(c, IORING_OP_LINKAT); /* 5.15 */
  BUTTER_U32(c, IORING_OP_MSG_RING); /* 5.18 */
  BUTTER_U32(c, IORING_OP_FSETXATTR); /* 5.19 */
  BUTTER_U32(c, IORING_OP_SETXATTR); /* 5.19 */
  BUTTER_U32(c, IORING_OP_FGETXATTR); /* 5.19 */
  BUTTER_U32(c, IORING_OP_GETXATTR); /* 5.19 */
  BUTTER_U32(c, IORING_OP_SOCKET); /* 5.19 */
  BUTTER_U32(c, IORING_OP_URING_CMD); /* 5.19 */
  BUTTER_U32(c, IORING_OP_SEND_ZC); /* 6.0 */
  BUTTER_U32(c, IORING_OP_SENDMSG_ZC); /* 6.1 */
  /* opcodes newer than the 6.1 headers: an enum, so no #ifndef can tell; numbered here */
  butter_export_int(env, c, "IORING_OP_READ_MULTISHOT", 49); /* 6.7 */
  butter_export_int(env, c, "IORING_OP_WAITID", 50); /* 6.7 */
  butter_export_int(env, c, "IORING_OP_FUTEX_WAIT", 51); /* 6.7 */
  butter_export_int(env, c, "IORING_OP_FUTEX_WAKE", 52); /* 6.7 */
  butter_export_int(env, c, "IORING_OP_FUTEX_WAITV", 53); /* 6.7 */
  butter_export_int(env, c, "IORING_OP_FIXED_FD_INSTALL", 54); /* 6.8 */
  butter_export_int(env, c, "IORING_OP_FTRUNCATE", 55); /* 6.9 */
  butter_export_int(env, c, "IORING_OP_BIND", 56); /* 6.11 */
  butter_export_int(env, c, "IORING_OP_LISTEN", 57); /* 6.11 */
  butter_export_int(env, c, "IORING_OP_RECV_ZC", 58); /* 6.15 */
  butter_export_int(env, c, "IORING_OP_EPOLL_WAIT", 59); /* 6.15 */
  butter_export_int(env, c, "IORING_OP_READV_FIXED", 60); /* 6.15 */
  butter_export_int(env, c, "IORING_OP_WRITEV_FIXED", 61); /* 6.15 */
  butter_export_int(env, c, "IORING_OP_PIPE", 62); /* 6.16 */
  export_misc_constants(env, c);
  napi_set_named_property(env, exports, "constants", c);
}
