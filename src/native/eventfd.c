/*
 * eventfd: a 64-bit counter in the kernel, readable and pollable.
 */
#include "butter.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* eventfd(initval, flags[, handle]) -> fd | -errno */
static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  uint32_t initval;
  int32_t flags;
  napi_value handle = NULL;
  if (!butter_args(env, info, "ui|v", &initval, &flags, &handle)) return NULL;
  int fd = eventfd(initval, flags);
  return butter_new_fd(env, fd < 0 ? -errno : fd, handle);
}

/* eventfdRead(fd) -> bigint | -errno (a number) */
static napi_value js_eventfd_read(napi_env env, napi_callback_info info) {
  return butter_read_counter(env, info);
}

/* eventfdWrite(fd, value: bigint) -> 0 | -errno */
static napi_value js_eventfd_write(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint64_t value;
  if (!butter_args(env, info, "iU", &fd, &value)) return NULL;
  ssize_t n = write(fd, &value, sizeof value);
  if (n < 0) return butter_errno_result(env, errno);
  return butter_int(env, n == sizeof value ? 0 : -EIO);
}

void butter_init_eventfd(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"eventfd", js_eventfd},
      {"eventfdRead", js_eventfd_read},
      {"eventfdWrite", js_eventfd_write},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_U32(c, EFD_CLOEXEC);   /* 2.6.27, with eventfd2 */
  BUTTER_U32(c, EFD_NONBLOCK);  /* 2.6.27, with eventfd2 */
  BUTTER_U32(c, EFD_SEMAPHORE); /* 2.6.30 */
  napi_set_named_property(env, exports, "constants", c);
}
