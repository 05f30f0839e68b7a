/*
 * inotify: file system events for watched inodes.
 *
 * Records are parsed in TypeScript (src/raw/inotify.ts): building JS objects
 * there is faster than through Node-API, and the read here only fills a Buffer
 * the caller reuses.
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

/* inotifyInit(flags[, handle]) -> fd | -errno */
static napi_value js_inotify_init(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  int32_t flags;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !butter_arg_int32(env, argv[0], &flags)) return NULL;
  int fd = inotify_init1(flags);
  return butter_new_fd(env, fd < 0 ? -errno : fd, argc > 1 ? argv[1] : NULL);
}

/* inotifyAddWatch(fd, path: Uint8Array without NUL, mask) -> wd | -errno */
static napi_value js_inotify_add_watch(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd;
  uint32_t mask;
  const void *bytes;
  size_t len;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || !butter_arg_int32(env, argv[0], &fd) || !butter_arg_bytes(env, argv[1], &bytes, &len) ||
      !butter_arg_uint32(env, argv[2], &mask))
    return NULL;
  /* The kernel wants a C string; paths past PATH_MAX still reach it, so it says ENAMETOOLONG. */
  char stack[PATH_MAX];
  char *path = len < sizeof stack ? stack : malloc(len + 1);
  if (!path) return butter_errno_result(env, ENOMEM);
  if (len) memcpy(path, bytes, len); /* an empty view may have no data pointer at all */
  path[len] = '\0';
  int wd = inotify_add_watch(fd, path, mask);
  int err = errno;
  if (path != stack) free(path);
  return butter_int(env, wd < 0 ? -err : wd);
}

/* inotifyRmWatch(fd, wd) -> 0 | -errno */
static napi_value js_inotify_rm_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, wd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !butter_arg_int32(env, argv[0], &fd) || !butter_arg_int32(env, argv[1], &wd)) return NULL;
  return butter_int(env, inotify_rm_watch(fd, wd) < 0 ? -errno : 0);
}

/* inotifyRead(fd, buffer) -> bytes read | -errno: whole records only, as many as fit. */
static napi_value js_inotify_read(napi_env env, napi_callback_info info) {
  return butter_read_into(env, info);
}

/* inotifySetNextWd(fd, wd) -> 0 | -errno: INOTIFY_IOC_SETNEXTWD (CONFIG_CHECKPOINT_RESTORE) */
static napi_value js_inotify_set_next_wd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, wd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !butter_arg_int32(env, argv[0], &fd) || !butter_arg_int32(env, argv[1], &wd)) return NULL;
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
  butter_export_int(env, c, "IN_ACCESS", IN_ACCESS);
  butter_export_int(env, c, "IN_MODIFY", IN_MODIFY);
  butter_export_int(env, c, "IN_ATTRIB", IN_ATTRIB);
  butter_export_int(env, c, "IN_CLOSE_WRITE", IN_CLOSE_WRITE);
  butter_export_int(env, c, "IN_CLOSE_NOWRITE", IN_CLOSE_NOWRITE);
  butter_export_int(env, c, "IN_OPEN", IN_OPEN);
  butter_export_int(env, c, "IN_MOVED_FROM", IN_MOVED_FROM);
  butter_export_int(env, c, "IN_MOVED_TO", IN_MOVED_TO);
  butter_export_int(env, c, "IN_CREATE", IN_CREATE);
  butter_export_int(env, c, "IN_DELETE", IN_DELETE);
  butter_export_int(env, c, "IN_DELETE_SELF", IN_DELETE_SELF);
  butter_export_int(env, c, "IN_MOVE_SELF", IN_MOVE_SELF);
  butter_export_int(env, c, "IN_UNMOUNT", IN_UNMOUNT);
  butter_export_int(env, c, "IN_Q_OVERFLOW", IN_Q_OVERFLOW);
  butter_export_int(env, c, "IN_IGNORED", IN_IGNORED);
  butter_export_int(env, c, "IN_CLOSE", IN_CLOSE);
  butter_export_int(env, c, "IN_MOVE", IN_MOVE);
  butter_export_int(env, c, "IN_ONLYDIR", IN_ONLYDIR);
  butter_export_int(env, c, "IN_DONT_FOLLOW", IN_DONT_FOLLOW);
  butter_export_int(env, c, "IN_EXCL_UNLINK", IN_EXCL_UNLINK);
  butter_export_int(env, c, "IN_MASK_CREATE", IN_MASK_CREATE);
  butter_export_int(env, c, "IN_MASK_ADD", IN_MASK_ADD);
  butter_export_int(env, c, "IN_ISDIR", IN_ISDIR);
  /* 0x80000000: exported as the unsigned value, as masks are uint32 everywhere in Butter. */
  butter_export_int(env, c, "IN_ONESHOT", (uint32_t)IN_ONESHOT);
  butter_export_int(env, c, "IN_ALL_EVENTS", IN_ALL_EVENTS);
  butter_export_int(env, c, "IN_CLOEXEC", IN_CLOEXEC);
  butter_export_int(env, c, "IN_NONBLOCK", IN_NONBLOCK);
  butter_export_int(env, c, "INOTIFY_IOC_SETNEXTWD", (uint32_t)INOTIFY_IOC_SETNEXTWD);
  napi_set_named_property(env, exports, "inotifyConstants", c);
}
