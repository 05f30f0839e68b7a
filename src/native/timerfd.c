/*
 * timerfd: kernel timers that expire by making an fd readable; a read returns
 * how many times the timer expired since the last read.
 *
 * Times cross the boundary as BigInt nanoseconds (exact: a double cannot hold
 * nanoseconds past ~104 days). The TypeScript layer has checked they fit the
 * kernel's ktime_t (0 to 2^63 - 1), so the split into tv_sec/tv_nsec below
 * cannot overflow and always gives a tv_nsec the kernel accepts.
 */
#include "butter.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* glibc's <sys/timerfd.h> lacks it, and <linux/timerfd.h> cannot be included
   alongside (it redefines the TFD_* flags); this is the UAPI header's definition. */
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#define NSEC_PER_SEC 1000000000ull

static struct timespec ns_to_timespec(uint64_t ns) {
  return (struct timespec){.tv_sec = (time_t)(ns / NSEC_PER_SEC), .tv_nsec = (long)(ns % NSEC_PER_SEC)};
}

/* The kernel's values are ktime_t underneath, so they fit 63 bits of nanoseconds. */
static napi_value timespec_to_bigint(napi_env env, const struct timespec *ts) {
  napi_value r;
  napi_create_bigint_uint64(env, (uint64_t)ts->tv_sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec, &r);
  return r;
}

/* [interval, value] in nanoseconds: an array, so the TS layer names the fields once. */
static napi_value itimerspec_result(napi_env env, const struct itimerspec *its) {
  return butter_pair(env, timespec_to_bigint(env, &its->it_interval), timespec_to_bigint(env, &its->it_value));
}

/* timerfdCreate(clockid, flags[, handle]) -> fd | -errno */
static napi_value js_timerfd_create(napi_env env, napi_callback_info info) {
  int32_t clockid, flags;
  napi_value handle = NULL;
  if (!butter_args(env, info, "ii|v", &clockid, &flags, &handle)) return NULL;
  int fd = timerfd_create(clockid, flags);
  return butter_new_fd(env, fd < 0 ? -errno : fd, handle);
}

/* timerfdSettime(fd, flags, interval: bigint, value: bigint) -> [oldInterval, oldValue] | -errno */
static napi_value js_timerfd_settime(napi_env env, napi_callback_info info) {
  int32_t fd, flags;
  uint64_t interval, value;
  if (!butter_args(env, info, "iiUU", &fd, &flags, &interval, &value)) return NULL;
  struct itimerspec its = {.it_interval = ns_to_timespec(interval), .it_value = ns_to_timespec(value)};
  struct itimerspec old;
  if (timerfd_settime(fd, flags, &its, &old) < 0) return butter_errno_result(env, errno);
  return itimerspec_result(env, &old);
}

/* timerfdGettime(fd) -> [interval, value] | -errno */
static napi_value js_timerfd_gettime(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!butter_args(env, info, "i", &fd)) return NULL;
  struct itimerspec its;
  if (timerfd_gettime(fd, &its) < 0) return butter_errno_result(env, errno);
  return itimerspec_result(env, &its);
}

/* timerfdSetTicks(fd, ticks: bigint) -> 0 | -errno (ENOTTY without CONFIG_CHECKPOINT_RESTORE) */
static napi_value js_timerfd_set_ticks(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint64_t ticks;
  if (!butter_args(env, info, "iU", &fd, &ticks)) return NULL;
  return butter_int(env, ioctl(fd, TFD_IOC_SET_TICKS, &ticks) < 0 ? -errno : 0);
}

/* timerfdRead(fd) -> bigint expirations | -errno (a number; ECANCELED after a clock change) */
static napi_value js_timerfd_read(napi_env env, napi_callback_info info) {
  return butter_read_counter(env, info);
}

/* clockGettime(clockid) -> bigint nanoseconds | -errno: what absolute deadlines are measured on. */
static napi_value js_clock_gettime(napi_env env, napi_callback_info info) {
  int32_t clockid;
  if (!butter_args(env, info, "i", &clockid)) return NULL;
  struct timespec ts;
  if (clock_gettime(clockid, &ts) < 0) return butter_errno_result(env, errno);
  return timespec_to_bigint(env, &ts);
}

void butter_init_timerfd(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"timerfdCreate", js_timerfd_create},
      {"timerfdSettime", js_timerfd_settime},
      {"timerfdGettime", js_timerfd_gettime},
      {"timerfdSetTicks", js_timerfd_set_ticks},
      {"timerfdRead", js_timerfd_read},
      {"clockGettime", js_clock_gettime},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  BUTTER_INT(c, CLOCK_REALTIME);          /* 2.6.25, with timerfd */
  BUTTER_INT(c, CLOCK_MONOTONIC);         /* 2.6.25, with timerfd */
  BUTTER_INT(c, CLOCK_BOOTTIME);          /* timerfd: 3.15; clock_gettime: 2.6.39 */
  BUTTER_INT(c, CLOCK_REALTIME_ALARM);    /* timerfd: 3.11; clock_gettime: 3.0 */
  BUTTER_INT(c, CLOCK_BOOTTIME_ALARM);    /* timerfd: 3.11; clock_gettime: 3.0 */
  BUTTER_U32(c, TFD_CLOEXEC);             /* 2.6.27 */
  BUTTER_U32(c, TFD_NONBLOCK);            /* 2.6.27 */
  BUTTER_U32(c, TFD_TIMER_ABSTIME);       /* 2.6.25 */
  BUTTER_U32(c, TFD_TIMER_CANCEL_ON_SET); /* 3.0 */
  BUTTER_INT(c, TFD_IOC_SET_TICKS);       /* 3.17, needs CONFIG_CHECKPOINT_RESTORE */
  napi_set_named_property(env, exports, "constants", c);
}
