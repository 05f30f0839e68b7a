/*
 * inotify: file system events for watched inodes.
 *
 * Records are parsed in TypeScript (src/raw/inotify.ts): building JS objects
 * there is faster than through Node-API, and the read here only fills a Buffer
 * the caller reuses. Reads through an `Inotify`'s handle also decode the
 * records' names here (decode_names): one string made in C is cheaper
 * than a decode called from JS, on the single-event wake and per record.
 */
#include "butter.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000 /* Linux 4.18; older glibc headers lack it */
#endif
#ifndef INOTIFY_IOC_SETNEXTWD
#define INOTIFY_IOC_SETNEXTWD _IOW('I', 0, int32_t)
#endif

/*
 * The handles' decoding (butter_decode_fn): sets decoded[i] to record i's
 * name: a string, null for none, or undefined for a name that is not valid
 * UTF-8 (JS decodes that one itself, to keep its bytes).
 */
static void decode_names(napi_env env, napi_value decoded, const void *data, int64_t n) {
  const char *p = data;
  napi_value null, undefined;
  napi_get_null(env, &null);
  napi_get_undefined(env, &undefined);
  uint32_t i = 0;
  /* The bounds are the kernel's (whole records), checked all the same. */
  for (int64_t off = 0; off + (int64_t)sizeof(struct inotify_event) <= n; i++) {
    struct inotify_event ev;
    memcpy(&ev, p + off, sizeof ev);
    const char *name = p + off + sizeof ev;
    off += sizeof ev + ev.len;
    if (off > n) break;
    size_t len = strnlen(name, ev.len);
    napi_value v = len == 0 ? null : butter_utf8_string(env, name, len);
    napi_set_element(env, decoded, i, v ? v : undefined);
  }
}

/* inotifyInit(flags[, handle]) -> fd | -errno */
static napi_value js_inotify_init(napi_env env, napi_callback_info info) {
  int32_t flags;
  napi_value handle = NULL;
  if (!butter_args(env, info, "i|v", &flags, &handle)) return NULL;
  int fd = inotify_init1(flags);
  return butter_new_decoding_fd(env, fd < 0 ? -errno : fd, handle, decode_names);
}

/* inotifyAddWatch(fd, path: Uint8Array without NUL, mask) -> wd | -errno */
static napi_value js_inotify_add_watch(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint32_t mask;
  napi_value path_arg;
  if (!butter_args(env, info, "ivu", &fd, &path_arg, &mask)) return NULL;
  butter_path path;
  int r = butter_arg_path(env, path_arg, &path);
  if (r < 0) return NULL;
  if (r > 0) return butter_errno_result(env, r);
  int wd = inotify_add_watch(fd, path.s ? path.s : "", mask);
  int err = errno;
  butter_path_free(&path);
  return butter_int(env, wd < 0 ? -err : wd);
}

/* inotifyRmWatch(fd, wd) -> 0 | -errno */
static napi_value js_inotify_rm_watch(napi_env env, napi_callback_info info) {
  int32_t fd, wd;
  if (!butter_args(env, info, "ii", &fd, &wd)) return NULL;
  return butter_int(env, inotify_rm_watch(fd, wd) < 0 ? -errno : 0);
}

/* inotifyRead(fd, buffer) -> bytes read | -errno: whole records only, as many as fit. */
static napi_value js_inotify_read(napi_env env, napi_callback_info info) {
  return butter_read_into(env, info);
}

/* inotifySetNextWd(fd, wd) -> 0 | -errno: INOTIFY_IOC_SETNEXTWD (CONFIG_CHECKPOINT_RESTORE) */
static napi_value js_inotify_set_next_wd(napi_env env, napi_callback_info info) {
  int32_t fd, wd;
  if (!butter_args(env, info, "ii", &fd, &wd)) return NULL;
  /* The kernel takes the number itself as the ioctl argument, not a pointer to it. */
  return butter_int(env, ioctl(fd, INOTIFY_IOC_SETNEXTWD, (unsigned long)wd) < 0 ? -errno : 0);
}

/* inotifyQueued(fd) -> bytes waiting in the kernel queue | -errno (FIONREAD) */
static napi_value js_inotify_queued(napi_env env, napi_callback_info info) {
  return butter_queued(env, info);
}

void butter_init_inotify(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"inotifyInit", js_inotify_init},
      {"inotifyAddWatch", js_inotify_add_watch},
      {"inotifyRmWatch", js_inotify_rm_watch},
      {"inotifyRead", js_inotify_read},
      {"inotifySetNextWd", js_inotify_set_next_wd},
      {"inotifyQueued", js_inotify_queued},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  /* 2.6.13, the original inotify, where a line names no other version */
  BUTTER_U32(c, IN_ACCESS);
  BUTTER_U32(c, IN_MODIFY);
  BUTTER_U32(c, IN_ATTRIB);
  BUTTER_U32(c, IN_CLOSE_WRITE);
  BUTTER_U32(c, IN_CLOSE_NOWRITE);
  BUTTER_U32(c, IN_OPEN);
  BUTTER_U32(c, IN_MOVED_FROM);
  BUTTER_U32(c, IN_MOVED_TO);
  BUTTER_U32(c, IN_CREATE);
  BUTTER_U32(c, IN_DELETE);
  BUTTER_U32(c, IN_DELETE_SELF);
  BUTTER_U32(c, IN_MOVE_SELF);
  BUTTER_U32(c, IN_UNMOUNT);
  BUTTER_U32(c, IN_Q_OVERFLOW);
  BUTTER_U32(c, IN_IGNORED);
  BUTTER_U32(c, IN_CLOSE);
  BUTTER_U32(c, IN_MOVE);
  BUTTER_U32(c, IN_ONLYDIR);            /* 2.6.15 */
  BUTTER_U32(c, IN_DONT_FOLLOW);        /* 2.6.15 */
  BUTTER_U32(c, IN_EXCL_UNLINK);        /* 2.6.36 */
  BUTTER_U32(c, IN_MASK_CREATE);        /* 4.18 */
  BUTTER_U32(c, IN_MASK_ADD);           /* 2.6.13 (uncertain) */
  BUTTER_U32(c, IN_ISDIR);
  /* 0x80000000: exported as the unsigned value, as masks are uint32 everywhere in Butter. */
  BUTTER_U32(c, IN_ONESHOT);
  BUTTER_U32(c, IN_ALL_EVENTS);
  BUTTER_U32(c, IN_CLOEXEC);            /* 2.6.27, with inotify_init1 */
  BUTTER_U32(c, IN_NONBLOCK);           /* 2.6.27, with inotify_init1 */
  BUTTER_U32(c, INOTIFY_IOC_SETNEXTWD); /* 4.17 (uncertain), needs CONFIG_CHECKPOINT_RESTORE */
  napi_set_named_property(env, exports, "constants", c);
}
