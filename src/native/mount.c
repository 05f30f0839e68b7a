/*
 * mount, 1:1: mount(2), umount2(2), pivot_root(2), the new mount API
 * (fsopen, fsconfig, fsmount, move_mount, open_tree, fspick, mount_setattr)
 * and statmount/listmount.
 *
 * Every call is a raw syscall(2): glibc 2.36 wraps only some of them, and its
 * <sys/mount.h> cannot be included beside <linux/mount.h>, whose constants we
 * need. mount and umount2 can sleep for as long as a network filesystem makes
 * them, so each is one butter_work_call (work.c) exported twice, as splice.c
 * does: `name` runs on the JS thread, `nameStart` on a work thread. Their
 * strings are copied into the call's own struct, since JS may change its
 * buffers while the call waits.
 *
 * The fds fsopen, fsmount, open_tree and fspick return belong to the caller
 * (close-on-exec unless it asked otherwise); nothing here keeps or closes them.
 */
#include "butter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

/* <sys/mount.h>'s umount2 flags (the kernel's include/linux/fs.h), which we cannot include. */
#ifndef MNT_FORCE
#define MNT_FORCE 0x1       /* 2.1.116 */
#define MNT_DETACH 0x2      /* 2.4.11 */
#define MNT_EXPIRE 0x4      /* 2.6.8 */
#define UMOUNT_NOFOLLOW 0x8 /* 2.6.34 */
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000 /* open_tree and mount_setattr: the whole subtree, 5.2 */
#endif

/* Newer than the build's headers (Linux 6.1). */
#ifndef MOVE_MOUNT_BENEATH
#define MOVE_MOUNT_BENEATH 0x200 /* 6.5 */
#endif
#ifndef FSCONFIG_CMD_CREATE_EXCL
#define FSCONFIG_CMD_CREATE_EXCL 8 /* 6.6 */
#endif
#ifndef __NR_statmount
#define __NR_statmount 457 /* 6.8, the same number on every architecture */
#define __NR_listmount 458 /* 6.8 */
#endif
#ifndef STATMOUNT_SB_BASIC
#define STATMOUNT_SB_BASIC 0x1u       /* 6.8 */
#define STATMOUNT_MNT_BASIC 0x2u      /* 6.8 */
#define STATMOUNT_PROPAGATE_FROM 0x4u /* 6.8 */
#define STATMOUNT_MNT_ROOT 0x8u       /* 6.8 */
#define STATMOUNT_MNT_POINT 0x10u     /* 6.8 */
#define STATMOUNT_FS_TYPE 0x20u       /* 6.8 */
#endif
#ifndef STATMOUNT_MNT_NS_ID
#define STATMOUNT_MNT_NS_ID 0x40u /* 6.11 */
#endif
#ifndef STATMOUNT_MNT_OPTS
#define STATMOUNT_MNT_OPTS 0x80u /* 6.11 */
#endif
#ifndef STATMOUNT_FS_SUBTYPE
#define STATMOUNT_FS_SUBTYPE 0x100u /* 6.13 */
#define STATMOUNT_SB_SOURCE 0x200u  /* 6.13 */
#endif
#ifndef STATMOUNT_OPT_ARRAY
#define STATMOUNT_OPT_ARRAY 0x400u     /* 6.14 */
#define STATMOUNT_OPT_SEC_ARRAY 0x800u /* 6.14 */
#endif
#ifndef STATMOUNT_SUPPORTED_MASK
#define STATMOUNT_SUPPORTED_MASK 0x1000u /* 6.15 */
#define STATMOUNT_MNT_UIDMAP 0x2000u     /* 6.15 */
#define STATMOUNT_MNT_GIDMAP 0x4000u     /* 6.15 */
#endif
#ifndef LISTMOUNT_REVERSE
#define LISTMOUNT_REVERSE 0x1u /* 6.13 */
#endif

/* struct mnt_id_req as of 6.11 (MNT_ID_REQ_SIZE_VER1): statmount's and listmount's request. */
struct butter_mnt_id_req {
  uint32_t size;
  uint32_t spare;
  uint64_t mnt_id;
  uint64_t param;
  uint64_t mnt_ns_id;
};
#define BUTTER_MNT_ID_REQ_SIZE_VER0 24 /* 6.8: no mnt_ns_id */
#define BUTTER_MNT_ID_REQ_SIZE_VER1 32 /* 6.11 */

static int64_t result_of(long r) {
  return r < 0 ? -errno : r;
}

/* ---- mount and umount2: on the JS thread or a work thread ---- */

/*
 * A call's strings, copied NUL-terminated behind its struct in the one
 * allocation the work pool frees: `strings[i]` is NULL for null. Paths past
 * PATH_MAX are copied whole, so the kernel gives them its own ENAMETOOLONG.
 */
typedef struct {
  uint32_t flags;
  char *strings[4];
  char bytes[];
} strings_args;

/* The strings argv[which[0..n)] (Uint8Arrays or null) and `flags`, or NULL after throwing. */
static strings_args *parse_strings(napi_env env, napi_value *argv, const size_t *which, size_t n, napi_value flags) {
  const void *data[4];
  size_t len[4], total = 0;
  bool present[4];
  for (size_t i = 0; i < n; i++) {
    napi_valuetype t;
    present[i] = !(napi_typeof(env, argv[which[i]], &t) == napi_ok && t == napi_null);
    if (present[i] && !butter_arg_bytes(env, argv[which[i]], &data[i], &len[i])) return NULL;
    if (present[i]) total += len[i] + 1;
  }
  strings_args *a = calloc(1, sizeof *a + total);
  if (!a) {
    napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter");
    return NULL;
  }
  if (!butter_arg_uint32(env, flags, &a->flags)) {
    free(a);
    return NULL;
  }
  char *at = a->bytes;
  for (size_t i = 0; i < n; i++) {
    if (!present[i]) continue;
    a->strings[i] = at;
    if (len[i]) memcpy(at, data[i], len[i]); /* an empty view may have no data pointer at all */
    at[len[i]] = '\0';
    at += len[i] + 1;
  }
  return a;
}

static int64_t run_mount(void *p) {
  strings_args *a = p;
  return result_of(syscall(SYS_mount, a->strings[0], a->strings[1], a->strings[2], (unsigned long)a->flags, a->strings[3]));
}

static int64_t run_umount2(void *p) {
  strings_args *a = p;
  return result_of(syscall(SYS_umount2, a->strings[0], (int)a->flags));
}

static const butter_work_call mount_call = {run_mount, NULL, {0}, 0};
static const butter_work_call umount2_call = {run_umount2, NULL, {0}, 0};

/* (source | null, target, fstype | null, flags, data | null), the strings as Uint8Arrays */
static void *parse_mount(napi_env env, napi_value *argv) {
  static const size_t which[] = {0, 1, 2, 4};
  return parse_strings(env, argv, which, 4, argv[3]);
}

/* (target, flags) */
static void *parse_umount2(napi_env env, napi_value *argv) {
  static const size_t which[] = {0};
  return parse_strings(env, argv, which, 1, argv[1]);
}

typedef struct {
  const char *name;
  size_t argc;
  void *(*parse)(napi_env env, napi_value *argv);
  const butter_work_call *call;
} blocking_fn;

static const blocking_fn blocking_fns[] = {
    {"mount", 5, parse_mount, &mount_call},
    {"umount2", 2, parse_umount2, &umount2_call},
};

/* name(...args) -> 0 | -errno, run here. */
static napi_value js_blocking_sync(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  size_t argc = 5;
  void *data;
  napi_get_cb_info(env, info, &argc, argv, NULL, &data);
  const blocking_fn *fn = data;
  if (argc < fn->argc) return NULL;
  void *arg = fn->parse(env, argv);
  if (!arg) return NULL;
  int64_t r = fn->call->run(arg);
  free(arg);
  return butter_int(env, r);
}

/* nameStart(...args, done) -> work token | -errno: run on a work thread, done(0 | -errno, aborted). */
static napi_value js_blocking_start(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  size_t argc = 6;
  void *data;
  napi_get_cb_info(env, info, &argc, argv, NULL, &data);
  const blocking_fn *fn = data;
  if (argc < fn->argc + 1) return NULL;
  void *arg = fn->parse(env, argv);
  if (!arg) return NULL;
  return butter_work_submit(env, fn->call, arg, NULL, argv[fn->argc]);
}

/* ---- the rest: on the JS thread ---- */

/*
 * Path arguments (Uint8Arrays or null) as C strings; false after
 * throwing. Release with free_paths whatever the outcome.
 */
static bool arg_paths(napi_env env, napi_value *v, butter_path *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int r = butter_arg_path(env, v[i], &p[i]);
    if (r > 0) napi_throw_error(env, "ENOMEM", "ENOMEM: out of memory, butter");
    if (r != 0) return false;
  }
  return true;
}

static void free_paths(butter_path *p, size_t n) {
  for (size_t i = 0; i < n; i++) butter_path_free(&p[i]);
}

/* pivotRoot(newRoot, putOld) -> 0 | -errno */
static napi_value js_pivot_root(napi_env env, napi_callback_info info) {
  napi_value v[2];
  butter_path p[2] = {0};
  napi_value r = NULL;
  if (butter_args(env, info, "vv", &v[0], &v[1]) && arg_paths(env, v, p, 2))
    r = butter_int(env, result_of(syscall(SYS_pivot_root, p[0].s, p[1].s)));
  free_paths(p, 2);
  return r;
}

/* fsopen(fsname, flags) -> a new filesystem context fd, which the caller owns | -errno */
static napi_value js_fsopen(napi_env env, napi_callback_info info) {
  napi_value v[1];
  uint32_t flags;
  butter_path p[1] = {0};
  napi_value r = NULL;
  if (butter_args(env, info, "vu", &v[0], &flags) && arg_paths(env, v, p, 1))
    r = butter_int(env, result_of(syscall(SYS_fsopen, p[0].s, flags)));
  free_paths(p, 1);
  return r;
}

/*
 * fsconfig(fd, cmd, key | null, value | null, aux) -> 0 | -errno. `value` is
 * copied with a NUL after it, which FSCONFIG_SET_BINARY (aux bytes, at most
 * the value's length: the TypeScript layer checks) does not look at.
 */
static napi_value js_fsconfig(napi_env env, napi_callback_info info) {
  int32_t fd, aux;
  uint32_t cmd;
  napi_value v[2];
  butter_path p[2] = {0};
  napi_value r = NULL;
  if (butter_args(env, info, "iuvvi", &fd, &cmd, &v[0], &v[1], &aux) && arg_paths(env, v, p, 2))
    r = butter_int(env, result_of(syscall(SYS_fsconfig, fd, cmd, p[0].s, p[1].s, aux)));
  free_paths(p, 2);
  return r;
}

/* fsmount(fd, flags, attrFlags) -> a new mount fd (detached until moveMount), which the caller owns | -errno */
static napi_value js_fsmount(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint32_t flags, attr;
  if (!butter_args(env, info, "iuu", &fd, &flags, &attr)) return NULL;
  return butter_int(env, result_of(syscall(SYS_fsmount, fd, flags, attr)));
}

/* moveMount(fromDirfd, fromPath, toDirfd, toPath, flags) -> 0 | -errno */
static napi_value js_move_mount(napi_env env, napi_callback_info info) {
  int32_t from_fd, to_fd;
  uint32_t flags;
  napi_value v[2];
  butter_path p[2] = {0};
  napi_value r = NULL;
  if (butter_args(env, info, "ivivu", &from_fd, &v[0], &to_fd, &v[1], &flags) && arg_paths(env, v, p, 2))
    r = butter_int(env, result_of(syscall(SYS_move_mount, from_fd, p[0].s, to_fd, p[1].s, flags)));
  free_paths(p, 2);
  return r;
}

/* open_tree and fspick: (dirfd, path, flags) -> a new fd, which the caller owns | -errno */
static napi_value at_path_call(napi_env env, napi_callback_info info, long nr) {
  int32_t dirfd;
  uint32_t flags;
  napi_value v[1];
  butter_path p[1] = {0};
  napi_value r = NULL;
  if (butter_args(env, info, "ivu", &dirfd, &v[0], &flags) && arg_paths(env, v, p, 1))
    r = butter_int(env, result_of(syscall(nr, dirfd, p[0].s, flags)));
  free_paths(p, 1);
  return r;
}

static napi_value js_open_tree(napi_env env, napi_callback_info info) {
  return at_path_call(env, info, SYS_open_tree);
}

static napi_value js_fspick(napi_env env, napi_callback_info info) {
  return at_path_call(env, info, SYS_fspick);
}

/* mountSetattr(dirfd, path, flags, attrSet, attrClr, propagation, usernsFd) -> 0 | -errno */
static napi_value js_mount_setattr(napi_env env, napi_callback_info info) {
  int32_t dirfd;
  uint32_t flags, set, clr, propagation, userns_fd;
  napi_value v[1];
  butter_path p[1] = {0};
  napi_value r = NULL;
  if (butter_args(env, info, "ivuuuuu", &dirfd, &v[0], &flags, &set, &clr, &propagation, &userns_fd) &&
      arg_paths(env, v, p, 1)) {
    struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = propagation, .userns_fd = userns_fd};
    r = butter_int(env, result_of(syscall(SYS_mount_setattr, dirfd, p[0].s, flags, &attr, sizeof attr)));
  }
  free_paths(p, 1);
  return r;
}

/* The request both calls take; the 6.8 size unless a namespace is named, so 6.8 to 6.10 kernels accept it. */
static struct butter_mnt_id_req id_req(uint64_t mnt_id, uint64_t param, uint64_t mnt_ns_id) {
  return (struct butter_mnt_id_req){
      .size = mnt_ns_id ? BUTTER_MNT_ID_REQ_SIZE_VER1 : BUTTER_MNT_ID_REQ_SIZE_VER0,
      .mnt_id = mnt_id,
      .param = param,
      .mnt_ns_id = mnt_ns_id,
  };
}

/*
 * statmount(mntId, mask, mntNsId, flags, buffer) -> 0 | -errno: the kernel's
 * struct statmount in `buffer`, which JS parses (EOVERFLOW: too small).
 */
static napi_value js_statmount(napi_env env, napi_callback_info info) {
  uint64_t mnt_id, mask, ns_id;
  uint32_t flags;
  const void *buf;
  size_t len;
  if (!butter_args(env, info, "UUUuB", &mnt_id, &mask, &ns_id, &flags, &buf, &len)) return NULL;
  struct butter_mnt_id_req req = id_req(mnt_id, mask, ns_id);
  return butter_int(env, result_of(syscall(__NR_statmount, &req, buf, len, flags)));
}

/* listmount(mntId, lastId, mntNsId, flags, buffer) -> how many 64-bit ids it put in `buffer` | -errno */
static napi_value js_listmount(napi_env env, napi_callback_info info) {
  uint64_t mnt_id, last, ns_id;
  uint32_t flags;
  const void *buf;
  size_t len;
  if (!butter_args(env, info, "UUUuB", &mnt_id, &last, &ns_id, &flags, &buf, &len)) return NULL;
  struct butter_mnt_id_req req = id_req(mnt_id, last, ns_id);
  return butter_int(env, result_of(syscall(__NR_listmount, &req, buf, len / sizeof(uint64_t), flags)));
}

static void export_blocking(napi_env env, napi_value exports, const blocking_fn *fn) {
  napi_value f;
  char start[32];
  napi_create_function(env, fn->name, NAPI_AUTO_LENGTH, js_blocking_sync, (void *)fn, &f);
  napi_set_named_property(env, exports, fn->name, f);
  snprintf(start, sizeof start, "%sStart", fn->name);
  napi_create_function(env, start, NAPI_AUTO_LENGTH, js_blocking_start, (void *)fn, &f);
  napi_set_named_property(env, exports, start, f);
}

void butter_init_mount(napi_env env, napi_value exports) {
  for (size_t i = 0; i < BUTTER_COUNT(blocking_fns); i++) export_blocking(env, exports, &blocking_fns[i]);
  static const butter_fn fns[] = {
      {"pivotRoot", js_pivot_root},
      {"fsopen", js_fsopen},
      {"fsconfig", js_fsconfig},
      {"fsmount", js_fsmount},
      {"moveMount", js_move_mount},
      {"openTree", js_open_tree},
      {"fspick", js_fspick},
      {"mountSetattr", js_mount_setattr},
      {"statmount", js_statmount},
      {"listmount", js_listmount},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  /* mount(2) flags; propagation (MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE) 2.6.15 */
  BUTTER_U32(c, MS_RDONLY);
  BUTTER_U32(c, MS_NOSUID);
  BUTTER_U32(c, MS_NODEV);
  BUTTER_U32(c, MS_NOEXEC);
  BUTTER_U32(c, MS_SYNCHRONOUS);
  BUTTER_U32(c, MS_REMOUNT);
  BUTTER_U32(c, MS_MANDLOCK);
  BUTTER_U32(c, MS_DIRSYNC);
  BUTTER_U32(c, MS_NOSYMFOLLOW); /* 5.10 */
  BUTTER_U32(c, MS_NOATIME);
  BUTTER_U32(c, MS_NODIRATIME);
  BUTTER_U32(c, MS_BIND);
  BUTTER_U32(c, MS_MOVE);
  BUTTER_U32(c, MS_REC);
  BUTTER_U32(c, MS_VERBOSE);
  BUTTER_U32(c, MS_SILENT);
  BUTTER_U32(c, MS_POSIXACL);
  BUTTER_U32(c, MS_UNBINDABLE);
  BUTTER_U32(c, MS_PRIVATE);
  BUTTER_U32(c, MS_SLAVE);
  BUTTER_U32(c, MS_SHARED);
  BUTTER_U32(c, MS_RELATIME);
  BUTTER_U32(c, MS_KERNMOUNT);
  BUTTER_U32(c, MS_I_VERSION);
  BUTTER_U32(c, MS_STRICTATIME);
  BUTTER_U32(c, MS_LAZYTIME);
  BUTTER_U32(c, MS_SUBMOUNT);
  BUTTER_U32(c, MS_NOREMOTELOCK);
  BUTTER_U32(c, MS_NOSEC);
  BUTTER_U32(c, MS_BORN);
  BUTTER_U32(c, MS_ACTIVE);
  /* <linux/mount.h> writes it (1<<31), a signed shift past int's range; the same bit, unsigned: */
  butter_export_int(env, c, "MS_NOUSER", 1u << 31);
  BUTTER_U32(c, MS_RMT_MASK);
  BUTTER_U32(c, MS_MGC_VAL);
  BUTTER_U32(c, MS_MGC_MSK);
  /* umount2(2) */
  BUTTER_U32(c, MNT_FORCE);
  BUTTER_U32(c, MNT_DETACH);
  BUTTER_U32(c, MNT_EXPIRE);
  BUTTER_U32(c, UMOUNT_NOFOLLOW);
  /* the new mount API, 5.2 unless noted */
  BUTTER_U32(c, FSOPEN_CLOEXEC);
  BUTTER_U32(c, FSCONFIG_SET_FLAG);
  BUTTER_U32(c, FSCONFIG_SET_STRING);
  BUTTER_U32(c, FSCONFIG_SET_BINARY);
  BUTTER_U32(c, FSCONFIG_SET_PATH);
  BUTTER_U32(c, FSCONFIG_SET_PATH_EMPTY);
  BUTTER_U32(c, FSCONFIG_SET_FD);
  BUTTER_U32(c, FSCONFIG_CMD_CREATE);
  BUTTER_U32(c, FSCONFIG_CMD_RECONFIGURE);
  BUTTER_U32(c, FSCONFIG_CMD_CREATE_EXCL); /* 6.6 */
  BUTTER_U32(c, FSMOUNT_CLOEXEC);
  BUTTER_U32(c, MOUNT_ATTR_RDONLY);
  BUTTER_U32(c, MOUNT_ATTR_NOSUID);
  BUTTER_U32(c, MOUNT_ATTR_NODEV);
  BUTTER_U32(c, MOUNT_ATTR_NOEXEC);
  BUTTER_U32(c, MOUNT_ATTR__ATIME);
  BUTTER_U32(c, MOUNT_ATTR_RELATIME);
  BUTTER_U32(c, MOUNT_ATTR_NOATIME);
  BUTTER_U32(c, MOUNT_ATTR_STRICTATIME);
  BUTTER_U32(c, MOUNT_ATTR_NODIRATIME);
  BUTTER_U32(c, MOUNT_ATTR_IDMAP);       /* 5.12 */
  BUTTER_U32(c, MOUNT_ATTR_NOSYMFOLLOW); /* 5.14 */
  BUTTER_U32(c, MOUNT_ATTR_SIZE_VER0);   /* 5.12 */
  BUTTER_U32(c, OPEN_TREE_CLONE);
  BUTTER_U32(c, OPEN_TREE_CLOEXEC);
  BUTTER_U32(c, MOVE_MOUNT_F_SYMLINKS);
  BUTTER_U32(c, MOVE_MOUNT_F_AUTOMOUNTS);
  BUTTER_U32(c, MOVE_MOUNT_F_EMPTY_PATH);
  BUTTER_U32(c, MOVE_MOUNT_T_SYMLINKS);
  BUTTER_U32(c, MOVE_MOUNT_T_AUTOMOUNTS);
  BUTTER_U32(c, MOVE_MOUNT_T_EMPTY_PATH);
  BUTTER_U32(c, MOVE_MOUNT_SET_GROUP); /* 5.15 */
  BUTTER_U32(c, MOVE_MOUNT_BENEATH);   /* 6.5 */
  BUTTER_U32(c, FSPICK_CLOEXEC);
  BUTTER_U32(c, FSPICK_SYMLINK_NOFOLLOW);
  BUTTER_U32(c, FSPICK_NO_AUTOMOUNT);
  BUTTER_U32(c, FSPICK_EMPTY_PATH);
  /* the *at flags open_tree, fspick's path and mount_setattr take */
  BUTTER_INT(c, AT_FDCWD);
  BUTTER_U32(c, AT_EMPTY_PATH);
  BUTTER_U32(c, AT_SYMLINK_NOFOLLOW);
  BUTTER_U32(c, AT_NO_AUTOMOUNT);
  BUTTER_U32(c, AT_RECURSIVE); /* 5.2 */
  /* statmount and listmount, 6.8 unless noted */
  BUTTER_U32(c, STATMOUNT_SB_BASIC);
  BUTTER_U32(c, STATMOUNT_MNT_BASIC);
  BUTTER_U32(c, STATMOUNT_PROPAGATE_FROM);
  BUTTER_U32(c, STATMOUNT_MNT_ROOT);
  BUTTER_U32(c, STATMOUNT_MNT_POINT);
  BUTTER_U32(c, STATMOUNT_FS_TYPE);
  BUTTER_U32(c, STATMOUNT_MNT_NS_ID);      /* 6.11 */
  BUTTER_U32(c, STATMOUNT_MNT_OPTS);       /* 6.11 */
  BUTTER_U32(c, STATMOUNT_FS_SUBTYPE);     /* 6.13 */
  BUTTER_U32(c, STATMOUNT_SB_SOURCE);      /* 6.13 */
  BUTTER_U32(c, STATMOUNT_OPT_ARRAY);      /* 6.14 */
  BUTTER_U32(c, STATMOUNT_OPT_SEC_ARRAY);  /* 6.14 */
  BUTTER_U32(c, STATMOUNT_SUPPORTED_MASK); /* 6.15 */
  BUTTER_U32(c, STATMOUNT_MNT_UIDMAP);     /* 6.15 */
  BUTTER_U32(c, STATMOUNT_MNT_GIDMAP);     /* 6.15 */
  BUTTER_U32(c, LISTMOUNT_REVERSE);        /* 6.13 */
  napi_set_named_property(env, exports, "constants", c);
}
