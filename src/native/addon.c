/*
 * Module entry point, per-environment state and the small conversion helpers
 * every family uses. Each Node environment (the main thread, each Worker) gets
 * its own butter_env through napi_set_instance_data, so nothing here is global.
 */
#include "butter.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

butter_env *butter_get_env(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return data;
}

static void env_finalize(napi_env env, void *data, void *hint) {
  butter_env *benv = data;
  free(benv->handles);
  free(benv->next_free);
  free(benv);
}

/* ---- helpers ---- */

static bool type_error(napi_env env, const char *what) {
  napi_throw_type_error(env, "ERR_BUTTER_INTERNAL", what);
  return false;
}

bool butter_arg_int32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok || type_error(env, "expected a number");
}

bool butter_arg_uint32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok || type_error(env, "expected a number");
}

bool butter_arg_uint64(napi_env env, napi_value v, uint64_t *out) {
  bool lossless;
  return napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok ||
         type_error(env, "expected a bigint");
}

bool butter_arg_bool(napi_env env, napi_value v, bool *out) {
  return napi_get_value_bool(env, v, out) == napi_ok || type_error(env, "expected a boolean");
}

bool butter_arg_bytes(napi_env env, napi_value v, const void **data, size_t *len) {
  napi_typedarray_type type;
  void *p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok ||
      type != napi_uint8_array)
    return type_error(env, "expected a Uint8Array");
  *data = p;
  return true;
}

static bool arg_int64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok || type_error(env, "expected a number");
}

static bool arg_double(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok || type_error(env, "expected a number");
}

static bool arg_handle(napi_env env, napi_value v, butter_handle **out) {
  return (*out = butter_arg_handle(env, v)) != NULL;
}

static bool arg_value(napi_env env, napi_value v, napi_value *out) {
  *out = v;
  return true;
}

bool butter_args(napi_env env, napi_callback_info info, const char *format, ...) {
  napi_value argv[BUTTER_MAX_ARGS];
  size_t argc = BUTTER_MAX_ARGS;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  /* Missing arguments are looked for before any is converted, so that is what such a call meets first. */
  size_t required = strcspn(format, "|");
  if (argc < required) return false;
  va_list ap;
  va_start(ap, format);
  bool ok = true;
  for (size_t i = 0; ok && *format; format++) {
    if (*format == '|') continue;
    napi_value v = i < argc ? argv[i++] : NULL;
    /* A missing (optional) argument's letter still takes its outputs, so the next letter gets its own. */
#define BUTTER_ARG(letter, type, convert)  \
  case letter: {                           \
    type *out = va_arg(ap, type *);        \
    ok = !v || convert(env, v, out);       \
    break;                                 \
  }
    switch (*format) {
      BUTTER_ARG('i', int32_t, butter_arg_int32)
      BUTTER_ARG('u', uint32_t, butter_arg_uint32)
      BUTTER_ARG('U', uint64_t, butter_arg_uint64)
      BUTTER_ARG('I', int64_t, arg_int64)
      BUTTER_ARG('d', double, arg_double)
      BUTTER_ARG('b', bool, butter_arg_bool)
      BUTTER_ARG('h', butter_handle *, arg_handle)
      BUTTER_ARG('v', napi_value, arg_value)
      case 'B': {
        const void **data = va_arg(ap, const void **);
        size_t *len = va_arg(ap, size_t *);
        ok = !v || butter_arg_bytes(env, v, data, len);
        break;
      }
      default:
        ok = type_error(env, "unknown argument format");
    }
#undef BUTTER_ARG
  }
  va_end(ap);
  return ok;
}

int butter_arg_path(napi_env env, napi_value v, butter_path *p) {
  napi_valuetype t;
  const void *bytes;
  size_t len;
  p->s = NULL;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_null) return 0;
  if (!butter_arg_bytes(env, v, &bytes, &len)) return -1;
  p->s = len < sizeof p->stack ? p->stack : malloc(len + 1);
  if (!p->s) return ENOMEM;
  if (len) memcpy(p->s, bytes, len); /* an empty view may have no data pointer at all */
  p->s[len] = '\0';
  return 0;
}

void butter_path_free(butter_path *p) {
  if (p->s && p->s != p->stack) free(p->s);
  p->s = NULL;
}

napi_value butter_int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

napi_value butter_pair(napi_env env, napi_value a, napi_value b) {
  napi_value r;
  napi_create_array_with_length(env, 2, &r);
  napi_set_element(env, r, 0, a);
  napi_set_element(env, r, 1, b);
  return r;
}

napi_value butter_errno_result(napi_env env, int err) {
  return butter_int(env, -(int64_t)err);
}

napi_value butter_call_error(napi_env env, int err, const char *syscall, const char *path) {
  napi_value result, v;
  napi_create_array_with_length(env, path ? 3 : 2, &result);
  napi_set_element(env, result, 0, butter_int(env, -(int64_t)err));
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, result, 1, v);
  if (path) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, result, 2, v);
  }
  return result;
}

napi_value butter_undefined(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

/* Whether s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as V8 decodes it without loss. */
static bool utf8_valid(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t k;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) k = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      k = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      k = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t j = 2; j <= k; j++)
      if ((s[i + j] & 0xC0) != 0x80) return false;
    i += k + 1;
  }
  return true;
}

napi_value butter_utf8_string(napi_env env, const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  bool ascii = true;
  for (size_t i = 0; i < n && ascii; i++) ascii = u[i] < 0x80;
  napi_value v = NULL;
  if (ascii) napi_create_string_latin1(env, s, n, &v);
  else if (utf8_valid(u, n)) napi_create_string_utf8(env, s, n, &v);
  return v;
}

napi_value butter_read_counter(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!butter_args(env, info, "i", &fd)) return NULL;
  uint64_t value;
  ssize_t n = read(fd, &value, sizeof value);
  if (n < 0) return butter_errno_result(env, errno);
  if (n != sizeof value) return butter_errno_result(env, EIO); /* not a counter fd */
  napi_value r;
  napi_create_bigint_uint64(env, value, &r);
  return r;
}

napi_value butter_read_into(napi_env env, napi_callback_info info) {
  int32_t fd;
  const void *data;
  size_t len;
  if (!butter_args(env, info, "iB", &fd, &data, &len)) return NULL;
  ssize_t n = read(fd, (void *)data, len);
  return butter_int(env, n < 0 ? -errno : n);
}

napi_value butter_queued(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!butter_args(env, info, "i", &fd)) return NULL;
  int n = 0;
  return butter_int(env, ioctl(fd, FIONREAD, &n) < 0 ? -errno : n);
}

void butter_export(napi_env env, napi_value exports, const butter_fn *fns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}

void butter_export_int(napi_env env, napi_value obj, const char *name, int64_t value) {
  napi_set_named_property(env, obj, name, butter_int(env, value));
}

/*
 * Linux's errno names, by number. glibc's strerrorname_np would do, but it
 * needs glibc 2.32 and musl has none; aliases (EWOULDBLOCK, EDEADLOCK,
 * ENOTSUP) give way to the first name, as there.
 */
#define E(name) [name] = #name,
static const char *const errno_names[] = {
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
    E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC)
    E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK)
    E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ECHRNG) E(EL2NSYNC) E(EL3HLT) E(EL3RST)
    E(ELNRNG) E(EUNATCH) E(ENOCSI) E(EL2HLT) E(EBADE) E(EBADR) E(EXFULL) E(ENOANO) E(EBADRQC)
    E(EBADSLT) E(EBFONT) E(ENOSTR) E(ENODATA) E(ETIME) E(ENOSR) E(ENONET) E(ENOPKG) E(EREMOTE)
    E(ENOLINK) E(EADV) E(ESRMNT) E(ECOMM) E(EPROTO) E(EMULTIHOP) E(EDOTDOT) E(EBADMSG) E(EOVERFLOW)
    E(ENOTUNIQ) E(EBADFD) E(EREMCHG) E(ELIBACC) E(ELIBBAD) E(ELIBSCN) E(ELIBMAX) E(ELIBEXEC)
    E(EILSEQ) E(ERESTART) E(ESTRPIPE) E(EUSERS) E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE)
    E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EPFNOSUPPORT)
    E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ENETRESET)
    E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ESHUTDOWN) E(ETOOMANYREFS)
    E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY) E(EINPROGRESS) E(ESTALE)
    E(EUCLEAN) E(ENOTNAM) E(ENAVAIL) E(EISNAM) E(EREMOTEIO) E(EDQUOT) E(ENOMEDIUM) E(EMEDIUMTYPE)
    E(ECANCELED) E(ENOKEY) E(EKEYEXPIRED) E(EKEYREVOKED) E(EKEYREJECTED) E(EOWNERDEAD)
    E(ENOTRECOVERABLE) E(ERFKILL) E(EHWPOISON)
};
#undef E

static const char *errno_name(int32_t err) {
  return err > 0 && (size_t)err < BUTTER_COUNT(errno_names) ? errno_names[err] : NULL;
}

/* strerror for errnos Node's own table does not name (used by src/core/errors.ts). */
static napi_value js_strerror(napi_env env, napi_callback_info info) {
  int32_t err;
  char buf[256] = "Unknown error";
  if (!butter_args(env, info, "i", &err)) return NULL;
  const char *msg = buf;
  /* glibc's strerror_r is the GNU one (returns the text), musl's the XSI one (fills buf). */
#ifdef __GLIBC__
  if (errno_name(err)) msg = strerror_r(err, buf, sizeof buf);
#else
  if (errno_name(err)) strerror_r(err, buf, sizeof buf);
#endif
  napi_value r;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value js_strerrorname(napi_env env, napi_callback_info info) {
  int32_t err;
  if (!butter_args(env, info, "i", &err)) return NULL;
  const char *name = errno_name(err);
  if (!name) return butter_undefined(env);
  napi_value r;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &r);
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  butter_env *benv = calloc(1, sizeof *benv);
  if (!benv) {
    napi_throw_error(env, "ENOMEM", "butter: out of memory");
    return NULL;
  }
  benv->env = env;
  benv->free_head = UINT32_MAX;
  napi_set_instance_data(env, benv, env_finalize, NULL);

  static const butter_fn fns[] = {
      {"strerror", js_strerror},
      {"strerrorname", js_strerrorname},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  butter_init_handle(env, exports);
  butter_init_drain(env, exports);
  butter_init_helper(env, exports);
  butter_init_work(env, exports);

  static const struct {
    const char *name;
    void (*init)(napi_env env, napi_value exports);
  } families[] = {
#define BUTTER_FAMILY_ENTRY(name) {#name, butter_init_##name},
      BUTTER_FAMILIES(BUTTER_FAMILY_ENTRY)
#undef BUTTER_FAMILY_ENTRY
  };
  napi_value names;
  napi_create_array_with_length(env, BUTTER_COUNT(families), &names);
  for (size_t i = 0; i < BUTTER_COUNT(families); i++) {
    napi_value binding, name;
    napi_create_object(env, &binding);
    families[i].init(env, binding);
    napi_set_named_property(env, exports, families[i].name, binding);
    napi_create_string_utf8(env, families[i].name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, names, (uint32_t)i, name);
  }
  napi_set_named_property(env, exports, "families", names);
  return exports;
}

NAPI_MODULE_INIT() {
  return init(env, exports);
}
