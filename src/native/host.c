/*
 * host: the UTS namespace's names. Names travel as bytes (Buffers); the
 * TypeScript layer encodes and decodes them, since the kernel stores any bytes.
 */
#include "butter.h"

#include <errno.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static napi_value bytes_value(napi_env env, const char *s, size_t max) {
  napi_value r;
  void *data;
  size_t len = strnlen(s, max);
  napi_create_buffer_copy(env, len, s, &data, &r);
  return r;
}

/* uname() -> [sysname, nodename, release, version, machine, domainname] as Buffers */
static napi_value js_uname(napi_env env, napi_callback_info info) {
  struct utsname u;
  if (uname(&u) < 0) return butter_errno_result(env, errno);
  const char *fields[] = {u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname};
  napi_value arr;
  napi_create_array_with_length(env, 6, &arr);
  for (uint32_t i = 0; i < 6; i++)
    napi_set_element(env, arr, i, bytes_value(env, fields[i], sizeof u.sysname));
  return arr;
}

static napi_value js_gethostname(napi_env env, napi_callback_info info) {
  char name[sizeof(((struct utsname *)0)->nodename) + 1] = "";
  if (gethostname(name, sizeof name - 1) < 0) return butter_errno_result(env, errno);
  return bytes_value(env, name, sizeof name - 1);
}

static napi_value js_getdomainname(napi_env env, napi_callback_info info) {
  char name[sizeof(((struct utsname *)0)->domainname) + 1] = "";
  if (getdomainname(name, sizeof name - 1) < 0) return butter_errno_result(env, errno);
  return bytes_value(env, name, sizeof name - 1);
}

typedef int (*set_name_fn)(const char *, size_t);

static napi_value set_name(napi_env env, napi_callback_info info, set_name_fn fn) {
  const void *data;
  size_t len;
  if (!butter_args(env, info, "B", &data, &len)) return NULL;
  return butter_int(env, fn(data, len) < 0 ? -errno : 0);
}

static napi_value js_sethostname(napi_env env, napi_callback_info info) {
  return set_name(env, info, sethostname);
}

static napi_value js_setdomainname(napi_env env, napi_callback_info info) {
  return set_name(env, info, setdomainname);
}

void butter_init_host(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"uname", js_uname},
      {"gethostname", js_gethostname},
      {"sethostname", js_sethostname},
      {"getdomainname", js_getdomainname},
      {"setdomainname", js_setdomainname},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
}
