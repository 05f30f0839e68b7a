/*
 * process: ids by raw syscall. glibc's getpid() is a plain syscall today, but it
 * once cached the pid (wrong after a raw clone), and a raw call is what the
 * caller asked for; gettid() has no cache to bypass but belongs with them.
 */
#include "butter.h"

#include <sys/syscall.h>
#include <unistd.h>

/* The syscall instruction inline: libc's syscall() wrapper adds a call frame,
   and on this class of machine each frame returned through costs measurably
   (bench/process.mjs). Other architectures use the wrapper. */
static inline long raw_syscall0(long nr) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0");
  __asm__ volatile("svc 0" : "=r"(x0) : "r"(x8) : "memory", "cc");
  return x0;
#else
  return syscall(nr);
#endif
}

/* No arguments are read, so napi_get_cb_info is skipped: these are the
   per-call-overhead floor of the whole addon. */
static napi_value js_getpid(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, (int32_t)raw_syscall0(SYS_getpid), &r);
  return r;
}

static napi_value js_getppid(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, (int32_t)raw_syscall0(SYS_getppid), &r);
  return r;
}

static napi_value js_gettid(napi_env env, napi_callback_info info) {
  napi_value r;
  napi_create_int32(env, (int32_t)raw_syscall0(SYS_gettid), &r);
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
