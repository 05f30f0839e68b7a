/*
 * process: ids by raw syscall. glibc's getpid() is a plain syscall today, but it
 * once cached the pid (wrong after a raw clone), and a raw call is what the
 * caller asked for; gettid() has no cache to bypass but belongs with them.
 */
#include "butter.h"

#include <sys/syscall.h>
#include <unistd.h>

/* No arguments are read, so napi_get_cb_info is skipped: these are the
   per-call-overhead floor of the whole addon. */
static napi_value js_getpid(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, (int32_t)syscall(SYS_getpid), &r);
  return r;
}

static napi_value js_getppid(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, (int32_t)syscall(SYS_getppid), &r);
  return r;
}

static napi_value js_gettid(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, (int32_t)syscall(SYS_gettid), &r);
  return r;
}

void butter_init_process(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"getpid", js_getpid},
      {"getppid", js_getppid},
      {"gettid", js_gettid},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
}
