/*
 * eventfd: a 64-bit counter in the kernel, readable and pollable.
 */
#include "butter.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* eventfd(initval, flags[, handle]) -> fd | -errno */
static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  uint32_t initval;
  int32_t flags;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !butter_arg_uint32(env, argv[0], &initval) || !butter_arg_int32(env, argv[1], &flags))
    return NULL;
  int fd = eventfd(initval, flags);
  return butter_new_fd(env, fd < 0 ? -errno : fd, argc > 2 ? argv[2] : NULL);
}

/* eventfdRead(fd) -> bigint | -errno (a number) */
static napi_value js_eventfd_read(napi_env env, napi_callback_info info) {
  return butter_read_counter(env, info);
}

/* eventfdWrite(fd, value: bigint) -> 0 | -errno */
static napi_value js_eventfd_write(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  uint64_t value;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !butter_arg_int32(env, argv[0], &fd) || !butter_arg_uint64(env, argv[1], &value))
    return NULL;
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
  BUTTER_U32(c, EFD_CLOEXEC);
  BUTTER_U32(c, EFD_NONBLOCK);
  BUTTER_U32(c, EFD_SEMAPHORE);
  napi_set_named_property(env, exports, "constants", c);
}
