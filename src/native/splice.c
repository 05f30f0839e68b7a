/*
 * Zero-copy I/O, 1:1: splice, tee, vmsplice, sendfile, copy_file_range, pipe2
 * and the pipe-size fcntls.
 *
 * Each moving call is one butter_work_call (work.c) exported twice: `name`
 * runs it on the JS thread (for non-blocking fds, where it returns what moved
 * or EAGAIN), `nameStart` queues it on a work thread with a completion
 * callback. Both parse the arguments into the same struct, so the two forms
 * cannot drift. Offsets are passed to the kernel by address, and the kernel
 * advances the copy it was given, not the file position: both forms return
 * that copy, which is the only place the new offset exists.
 */
#include "butter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef O_NOTIFICATION_PIPE
#define O_NOTIFICATION_PIPE O_EXCL /* <linux/watch_queue.h>, which clashes with glibc's fcntl.h */
#endif

/* splice, tee, sendfile and copy_file_range: two fds, their offsets, a length, flags. */
typedef struct {
  int fd_in, fd_out;
  bool has_off_in, has_off_out; /* null offset: use and move the file position */
  int64_t off_in, off_out;
  size_t len;
  uint32_t flags;
} move_args;

typedef struct {
  int fd;
  uint32_t flags;
  size_t n;
  struct iovec iov[];
} vmsplice_args;

static int64_t result_of(ssize_t r) {
  return r < 0 ? -errno : r;
}

static int64_t run_splice(void *p) {
  move_args *a = p;
  return result_of(splice(a->fd_in, a->has_off_in ? &a->off_in : NULL, a->fd_out,
                          a->has_off_out ? &a->off_out : NULL, a->len, a->flags));
}

static int64_t run_tee(void *p) {
  move_args *a = p;
  return result_of(tee(a->fd_in, a->fd_out, a->len, a->flags));
}

static int64_t run_sendfile(void *p) {
  move_args *a = p;
  off_t off = a->off_in;
  ssize_t r = sendfile(a->fd_out, a->fd_in, a->has_off_in ? &off : NULL, a->len);
  a->off_in = off;
  return result_of(r);
}

static int64_t run_copy_file_range(void *p) {
  move_args *a = p;
  return result_of(copy_file_range(a->fd_in, a->has_off_in ? &a->off_in : NULL, a->fd_out,
                                   a->has_off_out ? &a->off_out : NULL, a->len, a->flags));
}

static int64_t run_vmsplice(void *p) {
  vmsplice_args *a = p;
  return result_of(vmsplice(a->fd, a->iov, a->n, a->flags));
}

static napi_value offset_value(napi_env env, bool has, int64_t off) {
  napi_value v;
  if (has) napi_create_bigint_int64(env, off, &v);
  else napi_get_null(env, &v);
  return v;
}

/* [bytes, offIn | null, offOut | null]: the offsets as the kernel left them. */
static napi_value moved_result(napi_env env, const void *p, int64_t r) {
  const move_args *a = p;
  napi_value arr;
  napi_create_array_with_length(env, 3, &arr);
  napi_set_element(env, arr, 0, butter_int(env, r));
  napi_set_element(env, arr, 1, offset_value(env, a->has_off_in, a->off_in));
  napi_set_element(env, arr, 2, offset_value(env, a->has_off_out, a->off_out));
  return arr;
}

#define MOVE_FDS {offsetof(move_args, fd_in), offsetof(move_args, fd_out)}, 2

static const butter_work_call splice_call = {run_splice, moved_result, MOVE_FDS};
static const butter_work_call tee_call = {run_tee, NULL, MOVE_FDS};
static const butter_work_call sendfile_call = {run_sendfile, moved_result, MOVE_FDS};
static const butter_work_call copy_file_range_call = {run_copy_file_range, moved_result, MOVE_FDS};
static const butter_work_call vmsplice_call = {run_vmsplice, NULL, {offsetof(vmsplice_args, fd)}, 1};

/* ---- arguments ---- */

/* An offset: null, or a bigint the TS layer has checked is within 0..2^63-1. */
static bool arg_offset(napi_env env, napi_value v, bool *has, int64_t *off) {
  napi_valuetype t;
  bool lossless;
  *has = false;
  *off = 0;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_null) return true;
  if (napi_get_value_bigint_int64(env, v, off, &lossless) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a bigint or null");
    return false;
  }
  *has = true;
  return true;
}

static bool arg_size(napi_env env, napi_value v, size_t *out) {
  int64_t n;
  if (napi_get_value_int64(env, v, &n) != napi_ok || n < 0) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected a length");
    return false;
  }
  *out = (size_t)n;
  return true;
}

/* Each parser reads the call's JS arguments into a malloc'd struct, or throws and returns NULL. */
typedef void *(*parse_fn)(napi_env env, napi_value *argv);

static move_args *new_move(napi_env env) {
  move_args *a = calloc(1, sizeof *a);
  if (!a) napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter");
  return a;
}

/* (fdIn, offIn, fdOut, offOut, len, flags): splice and copy_file_range */
static void *parse_splice(napi_env env, napi_value *argv) {
  move_args *a = new_move(env);
  if (a && butter_arg_int32(env, argv[0], &a->fd_in) && arg_offset(env, argv[1], &a->has_off_in, &a->off_in) &&
      butter_arg_int32(env, argv[2], &a->fd_out) && arg_offset(env, argv[3], &a->has_off_out, &a->off_out) &&
      arg_size(env, argv[4], &a->len) && butter_arg_uint32(env, argv[5], &a->flags))
    return a;
  free(a);
  return NULL;
}

/* (fdIn, fdOut, len, flags) */
static void *parse_tee(napi_env env, napi_value *argv) {
  move_args *a = new_move(env);
  if (a && butter_arg_int32(env, argv[0], &a->fd_in) && butter_arg_int32(env, argv[1], &a->fd_out) &&
      arg_size(env, argv[2], &a->len) && butter_arg_uint32(env, argv[3], &a->flags))
    return a;
  free(a);
  return NULL;
}

/* (outFd, inFd, offset, count): the offset is the input's */
static void *parse_sendfile(napi_env env, napi_value *argv) {
  move_args *a = new_move(env);
  if (a && butter_arg_int32(env, argv[0], &a->fd_out) && butter_arg_int32(env, argv[1], &a->fd_in) &&
      arg_offset(env, argv[2], &a->has_off_in, &a->off_in) && arg_size(env, argv[3], &a->len))
    return a;
  free(a);
  return NULL;
}

/* (fd, buffers: Uint8Array[], flags). The iovec points into the buffers: the caller keeps them alive. */
static void *parse_vmsplice(napi_env env, napi_value *argv) {
  uint32_t n;
  int32_t fd;
  uint32_t flags;
  if (!butter_arg_int32(env, argv[0], &fd) || !butter_arg_uint32(env, argv[2], &flags)) return NULL;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok) {
    napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", "expected an array");
    return NULL;
  }
  vmsplice_args *a = malloc(sizeof *a + n * sizeof a->iov[0]);
  if (!a) {
    napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter");
    return NULL;
  }
  a->fd = fd;
  a->flags = flags;
  a->n = n;
  for (uint32_t i = 0; i < n; i++) {
    napi_value b;
    const void *data;
    if (napi_get_element(env, argv[1], i, &b) != napi_ok || !butter_arg_bytes(env, b, &data, &a->iov[i].iov_len)) {
      free(a);
      return NULL;
    }
    a->iov[i].iov_base = (void *)data;
  }
  return a;
}

typedef struct {
  const char *name;
  size_t argc;
  parse_fn parse;
  const butter_work_call *call;
  int keep; /* the argument the call's memory points into (held until it is over), or -1 */
} move_fn;

static const move_fn move_fns[] = {
    {"splice", 6, parse_splice, &splice_call, -1},
    {"tee", 4, parse_tee, &tee_call, -1},
    {"sendfile", 4, parse_sendfile, &sendfile_call, -1},
    {"copyFileRange", 6, parse_splice, &copy_file_range_call, -1},
    {"vmsplice", 3, parse_vmsplice, &vmsplice_call, 1},
};

/* name(...args) -> the call's result | -errno, run here. */
static napi_value js_move_sync(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc = 6;
  void *data;
  napi_get_cb_info(env, info, &argc, argv, NULL, &data);
  const move_fn *fn = data;
  if (argc < fn->argc) return NULL;
  void *arg = fn->parse(env, argv);
  if (!arg) return NULL;
  int64_t r = fn->call->run(arg);
  napi_value v = r >= 0 && fn->call->result ? fn->call->result(env, arg, r) : butter_int(env, r);
  free(arg);
  return v;
}

/* nameStart(...args, done) -> work token | -errno: run on a work thread, done(result | -errno, aborted). */
static napi_value js_move_start(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  size_t argc = 7;
  void *data;
  napi_get_cb_info(env, info, &argc, argv, NULL, &data);
  const move_fn *fn = data;
  if (argc < fn->argc + 1) return NULL;
  void *arg = fn->parse(env, argv);
  if (!arg) return NULL;
  return butter_work_submit(env, fn->call, arg, fn->keep >= 0 ? argv[fn->keep] : NULL, argv[fn->argc]);
}

/* ---- whole transfers: the high layer's sendFile, proxy, pipeline and copyFile ---- */

/*
 * A relay moves bytes from fd_in to fd_out until `left` is used up or the
 * input ends, in one work call: no JS runs per chunk. Its fds are
 * non-blocking (a socket libuv made, Butter's pipes), and it waits for them
 * with poll() on its own work thread, so an fd that belongs to libuv's loop
 * is never registered with any loop a second time. Everything it has done
 * lives in the struct, so the rerun after a stray signal's EINTR (work.c)
 * carries on where it stopped; an abort's EINTR ends it.
 *
 * Without a pipe it is sendfile(2) (input a regular file); with one, each
 * chunk goes in -> pipe -> out by splice(2), the pipe emptied before it is
 * filled again.
 */
#define RELAY_SHUT_WR 1 /* shutdown(fd_out, SHUT_WR) once the input has ended: a socket's half-close */
/*
 * sendfile into a socket borrowed from libuv: clear O_NONBLOCK for the call
 * (restored before it returns), so the kernel sleeps inside one sendfile
 * instead of a return, a poll() and a new call every time the send buffer
 * fills. A blocking sendfile interrupted by a signal returns the bytes it had
 * sent, so a short count is taken as a possible interruption: -EINTR with the
 * progress kept, which work.c reruns unless the call was aborted (at the
 * file's end the rerun finds nothing left and returns).
 */
#define RELAY_BLOCK 2

typedef struct {
  int fd_in, fd_out, pipe_r, pipe_w; /* pipe_r < 0: sendfile */
  bool has_off;
  int64_t off;    /* the input's offset, when it has one */
  int64_t left;   /* bytes still to move; < 0: until the input ends */
  size_t chunk;   /* the most one call moves: the pipe's size */
  size_t in_pipe; /* bytes spliced into the pipe and not yet out of it */
  int64_t moved;
  uint32_t flags;
} relay_args;

/* Waits until fd is ready for `events`: 0, or -errno (-EINTR when a signal came). */
static int relay_wait(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  return poll(&p, 1, -1) < 0 ? -errno : 0;
}

static size_t relay_want(const relay_args *a) {
  return a->left < 0 || (uint64_t)a->left > a->chunk ? a->chunk : (size_t)a->left;
}

static int64_t relay_loop(relay_args *a) {
  for (;;) {
    ssize_t n;
    if (a->in_pipe == 0) {
      if (a->left == 0) break;
      if (a->pipe_r < 0) {
        off_t off = a->off;
        n = sendfile(a->fd_out, a->fd_in, a->has_off ? &off : NULL, relay_want(a));
        if (n > 0) a->off = off;
      } else {
        n = splice(a->fd_in, a->has_off ? &a->off : NULL, a->pipe_w, NULL, relay_want(a), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      }
      if (n == 0) break; /* the input ended */
      if (n < 0) {
        /* sendfile's EAGAIN is the output's; splice's is the input's (the pipe is empty). */
        int r = errno == EAGAIN ? relay_wait(a->pipe_r < 0 ? a->fd_out : a->fd_in, a->pipe_r < 0 ? POLLOUT : POLLIN) : -errno;
        if (r < 0) return r;
        continue;
      }
      size_t want = relay_want(a);
      if (a->left > 0) a->left -= n;
      if (a->pipe_r >= 0) a->in_pipe = (size_t)n;
      else a->moved += n;
      if (a->pipe_r < 0 && (a->flags & RELAY_BLOCK) && (size_t)n < want) return -EINTR;
      continue;
    }
    n = splice(a->pipe_r, NULL, a->fd_out, NULL, a->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      int r = errno == EAGAIN ? relay_wait(a->fd_out, POLLOUT) : -errno;
      if (r < 0) return r;
      continue;
    }
    a->in_pipe -= (size_t)n;
    a->moved += n;
  }
  /* ENOTCONN: the peer is gone already, and there is nothing left to half-close. */
  if ((a->flags & RELAY_SHUT_WR) && shutdown(a->fd_out, SHUT_WR) < 0 && errno != ENOTCONN) return -errno;
  return a->moved;
}

static int64_t run_relay(void *p) {
  relay_args *a = p;
  int fl = a->flags & RELAY_BLOCK ? fcntl(a->fd_out, F_GETFL) : -1;
  bool cleared = fl >= 0 && (fl & O_NONBLOCK) && fcntl(a->fd_out, F_SETFL, fl & ~O_NONBLOCK) == 0;
  int64_t r = relay_loop(a);
  if (cleared) fcntl(a->fd_out, F_SETFL, fl);
  return r;
}

/*
 * A tee relay gives every byte of the pipe fd_in to two outputs: tee(2) copies
 * a chunk into a second pipe without consuming it, then splice(2) moves it
 * from fd_in to out_a and from the second pipe to out_b, each output waited
 * for only while it has bytes left, so the slower one sets the pace and
 * neither blocks the other within a chunk. Ends when fd_in has no writer
 * left and is empty. Restartable after EINTR like run_relay.
 */
typedef struct {
  int fd_in, out_a, out_b, pipe_r, pipe_w;
  size_t chunk;
  size_t in_flight, left_a, left_b; /* the chunk tee'd, and what each output still has to take of it */
  int64_t moved;
} tee_relay_args;

/* One output's splice of its part of the chunk: 1 moved some, 0 would block (queued in `wait`), or -errno. */
static int tee_out(int from, int to, size_t *left, struct pollfd *wait, nfds_t *waits) {
  if (*left == 0) return 0;
  ssize_t n = splice(from, NULL, to, NULL, *left, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n > 0) {
    *left -= (size_t)n;
    return 1;
  }
  if (n == 0) return -EPIPE; /* the chunk is in the pipe: only a vanished reader moves nothing */
  if (errno != EAGAIN) return -errno;
  wait[(*waits)++] = (struct pollfd){.fd = to, .events = POLLOUT};
  return 0;
}

static int64_t run_tee_relay(void *p) {
  tee_relay_args *a = p;
  for (;;) {
    if (a->in_flight == 0) {
      ssize_t n = tee(a->fd_in, a->pipe_w, a->chunk, SPLICE_F_NONBLOCK);
      if (n == 0) return a->moved; /* no writer left, nothing unread */
      if (n < 0) {
        int r = errno == EAGAIN ? relay_wait(a->fd_in, POLLIN) : -errno;
        if (r < 0) return r;
        continue;
      }
      a->in_flight = a->left_a = a->left_b = (size_t)n;
    }
    struct pollfd wait[2];
    nfds_t waits = 0;
    int ra = tee_out(a->fd_in, a->out_a, &a->left_a, wait, &waits);
    if (ra < 0) return ra;
    int rb = tee_out(a->pipe_r, a->out_b, &a->left_b, wait, &waits);
    if (rb < 0) return rb;
    if (a->left_a == 0 && a->left_b == 0) {
      a->moved += (int64_t)a->in_flight;
      a->in_flight = 0;
    } else if (ra == 0 && rb == 0 && poll(wait, waits, -1) < 0) {
      return -errno;
    }
  }
}

/*
 * copyFile's body on two open files: FICLONE (a reflink: no data moves)
 * unless `mode` says not to, else copy_file_range(2) over the input's data
 * segments only (SEEK_DATA/SEEK_HOLE), so holes stay holes, then ftruncate to
 * the input's size (a trailing hole). Falls back to sendfile(2) where
 * copy_file_range cannot (EXDEV before 5.19, filesystems without it).
 * fd_out is truncated here, after the same-file check, not at open: copying
 * a file onto itself leaves it alone, as fs.copyFile does.
 */
#define COPY_CLONE_FORCE 4 /* fs.constants.COPYFILE_FICLONE_FORCE: a reflink or nothing */
#define COPY_NO_CLONE 8     /* Butter's own: skip FICLONE (the benchmark's plain copy) */

typedef struct {
  int fd_in, fd_out;
  uint32_t mode;
  bool started, use_sendfile;
  int64_t size, off; /* the input's size; where the copy has got to */
} copy_args;

static int64_t copy_segment(copy_args *a, int64_t end) {
  while (a->off < end) {
    size_t len = (uint64_t)(end - a->off) > 1u << 30 ? 1u << 30 : (size_t)(end - a->off);
    ssize_t n;
    if (!a->use_sendfile) {
      loff_t in = a->off, out = a->off;
      n = copy_file_range(a->fd_in, &in, a->fd_out, &out, len, 0);
      if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
        a->use_sendfile = true;
        continue;
      }
    } else {
      if (lseek(a->fd_out, a->off, SEEK_SET) < 0) return -errno;
      off_t in = a->off;
      n = sendfile(a->fd_out, a->fd_in, &in, len);
    }
    if (n < 0) return -errno;
    if (n == 0) break; /* the input shrank under us */
    a->off += n;
  }
  return 0;
}

static int64_t run_copy_file(void *p) {
  copy_args *a = p;
  if (!a->started) {
    struct stat in, out;
    if (fstat(a->fd_in, &in) < 0 || fstat(a->fd_out, &out) < 0) return -errno;
    if (in.st_dev == out.st_dev && in.st_ino == out.st_ino) return 0;
    /* Only a file with something in it: on ext4 a truncate to 0 also flags the
       file for writeback at close (auto_da_alloc), which doubles a big copy's time. */
    if (out.st_size > 0 && ftruncate(a->fd_out, 0) < 0) return -errno;
    a->size = in.st_size;
    a->started = true;
    if (!(a->mode & COPY_NO_CLONE)) {
      if (ioctl(a->fd_out, FICLONE, a->fd_in) == 0) return a->size;
      if (a->mode & COPY_CLONE_FORCE) return -errno;
    }
  }
  while (a->off < a->size) {
    off_t data = lseek(a->fd_in, a->off, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break; /* only a hole is left */
    if (data < 0) return -errno;
    off_t hole = lseek(a->fd_in, data, SEEK_HOLE);
    if (hole < 0) return -errno;
    a->off = data;
    int64_t r = copy_segment(a, hole < a->size ? hole : a->size);
    if (r < 0) return r;
    if (a->off < hole && a->off < a->size) break; /* shrank */
  }
  /* The size, where the copy stopped short of it (a trailing hole); ext4 truncates even to the same size. */
  return a->off < a->size && ftruncate(a->fd_out, a->size) < 0 ? -errno : a->size;
}

static const butter_work_call relay_sendfile_call = {run_relay, NULL, {offsetof(relay_args, fd_in), offsetof(relay_args, fd_out)}, 2};
static const butter_work_call relay_splice_call = {
    run_relay, NULL, {offsetof(relay_args, fd_in), offsetof(relay_args, fd_out), offsetof(relay_args, pipe_r), offsetof(relay_args, pipe_w)}, 4};
static const butter_work_call tee_relay_call = {run_tee_relay, NULL,
    {offsetof(tee_relay_args, fd_in), offsetof(tee_relay_args, out_a), offsetof(tee_relay_args, out_b), offsetof(tee_relay_args, pipe_r), offsetof(tee_relay_args, pipe_w)}, 5};
static const butter_work_call copy_file_call = {run_copy_file, NULL, {offsetof(copy_args, fd_in), offsetof(copy_args, fd_out)}, 2};

/*
 * relayStart(fdIn, offIn | null, fdOut, length (-1: to the end), pipeR, pipeW, chunk, flags, done)
 * -> work token | -errno. pipeR -1: sendfile, else splice through the pipe
 * (pipeR, pipeW), which must be empty. done gets the bytes moved.
 */
static napi_value js_relay_start(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  size_t argc = 9;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 9) return NULL;
  relay_args *a = calloc(1, sizeof *a);
  int64_t length;
  if (!a) {
    napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter");
    return NULL;
  }
  if (!butter_arg_int32(env, argv[0], &a->fd_in) || !arg_offset(env, argv[1], &a->has_off, &a->off) ||
      !butter_arg_int32(env, argv[2], &a->fd_out) || napi_get_value_int64(env, argv[3], &length) != napi_ok ||
      !butter_arg_int32(env, argv[4], &a->pipe_r) || !butter_arg_int32(env, argv[5], &a->pipe_w) ||
      !arg_size(env, argv[6], &a->chunk) || !butter_arg_uint32(env, argv[7], &a->flags)) {
    free(a);
    return NULL;
  }
  a->left = length;
  return butter_work_submit(env, a->pipe_r < 0 ? &relay_sendfile_call : &relay_splice_call, a, NULL, argv[8]);
}

/* teeRelayStart(fdIn, outA, outB, pipeR, pipeW, chunk, done) -> work token | -errno: fdIn's bytes to both outputs, through the empty pipe (pipeR, pipeW); done gets the bytes each got. */
static napi_value js_tee_relay_start(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  size_t argc = 7;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 7) return NULL;
  tee_relay_args *a = calloc(1, sizeof *a);
  if (!a) {
    napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter");
    return NULL;
  }
  if (!butter_arg_int32(env, argv[0], &a->fd_in) || !butter_arg_int32(env, argv[1], &a->out_a) || !butter_arg_int32(env, argv[2], &a->out_b) ||
      !butter_arg_int32(env, argv[3], &a->pipe_r) || !butter_arg_int32(env, argv[4], &a->pipe_w) || !arg_size(env, argv[5], &a->chunk)) {
    free(a);
    return NULL;
  }
  return butter_work_submit(env, &tee_relay_call, a, NULL, argv[6]);
}

/* copyFileStart(fdIn, fdOut, mode, done) -> work token | -errno; done gets the bytes the copy holds. */
static napi_value js_copy_file_start(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  size_t argc = 4;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return NULL;
  copy_args *a = calloc(1, sizeof *a);
  if (!a) {
    napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter");
    return NULL;
  }
  if (!butter_arg_int32(env, argv[0], &a->fd_in) || !butter_arg_int32(env, argv[1], &a->fd_out) || !butter_arg_uint32(env, argv[2], &a->mode)) {
    free(a);
    return NULL;
  }
  return butter_work_submit(env, &copy_file_call, a, NULL, argv[3]);
}

/* ---- pipes ---- */

/*
 * pipe2(flags[, readHandle, writeHandle]) -> [readFd, writeFd] | -errno.
 * Without handles the caller owns both fds; with them each end goes to its
 * handle in this call (Pipe), and an end a handle refuses closes both.
 */
static napi_value js_pipe2(napi_env env, napi_callback_info info) {
  int32_t flags;
  napi_value rh = NULL, wh = NULL;
  if (!butter_args(env, info, "i|vv", &flags, &rh, &wh)) return NULL;
  int fds[2];
  if (pipe2(fds, flags) < 0) return butter_errno_result(env, errno);
  if (rh && wh) {
    napi_value r = butter_new_fd(env, fds[0], rh);
    int32_t got;
    napi_get_value_int32(env, r, &got);
    if (got < 0) {
      close(fds[1]);
      return r;
    }
    napi_value w = butter_new_fd(env, fds[1], wh);
    napi_get_value_int32(env, w, &got);
    if (got < 0) return w; /* the read end is its handle's, closed with it */
  }
  return butter_pair(env, butter_int(env, fds[0]), butter_int(env, fds[1]));
}

/* pipeSize(fd, size) -> fcntl(F_SETPIPE_SZ) for size >= 0, else F_GETPIPE_SZ: the capacity | -errno */
static napi_value js_pipe_size(napi_env env, napi_callback_info info) {
  int32_t fd, size;
  if (!butter_args(env, info, "ii", &fd, &size)) return NULL;
  int r = size >= 0 ? fcntl(fd, F_SETPIPE_SZ, size) : fcntl(fd, F_GETPIPE_SZ);
  return butter_int(env, r < 0 ? -errno : r);
}

void butter_init_splice(napi_env env, napi_value exports) {
  for (size_t i = 0; i < BUTTER_COUNT(move_fns); i++) {
    napi_value fn;
    char start[32];
    napi_create_function(env, move_fns[i].name, NAPI_AUTO_LENGTH, js_move_sync, (void *)&move_fns[i], &fn);
    napi_set_named_property(env, exports, move_fns[i].name, fn);
    snprintf(start, sizeof start, "%sStart", move_fns[i].name);
    napi_create_function(env, start, NAPI_AUTO_LENGTH, js_move_start, (void *)&move_fns[i], &fn);
    napi_set_named_property(env, exports, start, fn);
  }
  static const butter_fn fns[] = {
      {"pipe2", js_pipe2},
      {"pipeSize", js_pipe_size},
      {"relayStart", js_relay_start},
      {"teeRelayStart", js_tee_relay_start},
      {"copyFileStart", js_copy_file_start},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_U32(c, SPLICE_F_MOVE);     /* 2.6.17, like every SPLICE_F_* */
  BUTTER_U32(c, SPLICE_F_NONBLOCK);
  BUTTER_U32(c, SPLICE_F_MORE);
  BUTTER_U32(c, SPLICE_F_GIFT);
  BUTTER_INT(c, F_SETPIPE_SZ);      /* 2.6.35 */
  BUTTER_INT(c, F_GETPIPE_SZ);      /* 2.6.35 */
  BUTTER_U32(c, O_CLOEXEC);         /* pipe2: 2.6.27 */
  BUTTER_U32(c, O_NONBLOCK);        /* pipe2: 2.6.27 */
  BUTTER_U32(c, O_DIRECT);          /* pipe2: packet mode, 3.4 */
  BUTTER_U32(c, O_NOTIFICATION_PIPE); /* pipe2: 5.8, needs CONFIG_WATCH_QUEUE */
  napi_set_named_property(env, exports, "constants", c);
}
