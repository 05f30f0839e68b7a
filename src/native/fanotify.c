/*
 * fanotify: mount-, filesystem- and inode-wide file events, with the acting pid.
 *
 * As for inotify, records are parsed in TypeScript (src/raw/fanotify.ts); the
 * read here only fills a Buffer the caller reuses. The event fds and pidfds a
 * read hands out are the caller's, or, when the read is given the group's
 * handle, that handle's (butter_handle_hold) from inside the read until they
 * are released through it: then no JS, and so no Worker's termination, runs
 * while they have no owner.
 */
#include "butter.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* musl's <sys/fanotify.h> is a copy of an old UAPI header: take the kernel's own. */
#ifdef __GLIBC__
#include <sys/fanotify.h>
#else
#include <linux/fanotify.h>
int fanotify_init(unsigned flags, unsigned event_f_flags);
int fanotify_mark(int fd, unsigned flags, unsigned long long mask, int dirfd, const char *path);
#endif
#include <sys/statfs.h>
#include <unistd.h>

/*
 * Newer than the UAPI header this may be built against; the values are the
 * kernel's ABI, so defining them here is safe, and the kernel refuses (EINVAL)
 * the ones it does not know yet.
 */
#ifndef FAN_PRE_ACCESS
#define FAN_PRE_ACCESS 0x00100000 /* 6.14 */
#endif
#ifndef FAN_MNT_ATTACH
#define FAN_MNT_ATTACH 0x01000000 /* 6.15 */
#endif
#ifndef FAN_MNT_DETACH
#define FAN_MNT_DETACH 0x02000000 /* 6.15 */
#endif
#ifndef FAN_REPORT_FD_ERROR
#define FAN_REPORT_FD_ERROR 0x00002000 /* 6.13 */
#endif
#ifndef FAN_REPORT_MNT
#define FAN_REPORT_MNT 0x00004000 /* 6.15 */
#endif
#ifndef FAN_MARK_MNTNS
#define FAN_MARK_MNTNS 0x00000110 /* 6.15 */
#endif
#ifndef FAN_EVENT_INFO_TYPE_RANGE
#define FAN_EVENT_INFO_TYPE_RANGE 6 /* 6.14 */
#endif
#ifndef FAN_EVENT_INFO_TYPE_MNT
#define FAN_EVENT_INFO_TYPE_MNT 7 /* 6.15 */
#endif
#ifndef FAN_INFO
#define FAN_INFO 0x20 /* 6.3: a response followed by info records */
#endif
#ifndef FAN_RESPONSE_INFO_NONE
#define FAN_RESPONSE_INFO_NONE 0
#endif
#ifndef FAN_RESPONSE_INFO_AUDIT_RULE
#define FAN_RESPONSE_INFO_AUDIT_RULE 1
#endif
#ifndef FAN_ERRNO_BITS
#define FAN_ERRNO_BITS 8 /* 6.14: FAN_DENY_ERRNO(err) */
#define FAN_ERRNO_SHIFT (32 - FAN_ERRNO_BITS)
#define FAN_ERRNO_MASK ((1 << FAN_ERRNO_BITS) - 1)
#endif

/* fanotifyInit(flags, eventFFlags[, handle]) -> fd | -errno */
static napi_value js_fanotify_init(napi_env env, napi_callback_info info) {
  uint32_t flags, event_f_flags;
  napi_value handle = NULL;
  if (!butter_args(env, info, "uu|v", &flags, &event_f_flags, &handle)) return NULL;
  int fd = fanotify_init(flags, event_f_flags);
  return butter_new_fd(env, fd < 0 ? -errno : fd, handle);
}

/*
 * fanotifyMark(fd, flags, mask: bigint, dirfd, path: Uint8Array without NUL | null) -> 0 | -errno.
 * A null path passes NULL, which makes the kernel mark dirfd itself.
 */
static napi_value js_fanotify_mark(napi_env env, napi_callback_info info) {
  int32_t fd, dirfd;
  uint32_t flags;
  uint64_t mask;
  napi_value path_arg;
  if (!butter_args(env, info, "iuUiv", &fd, &flags, &mask, &dirfd, &path_arg)) return NULL;
  butter_path path;
  int e = butter_arg_path(env, path_arg, &path);
  if (e < 0) return NULL;
  if (e > 0) return butter_errno_result(env, e);
  int r = fanotify_mark(fd, flags, mask, dirfd, path.s);
  int err = errno;
  butter_path_free(&path);
  return butter_int(env, r < 0 ? -err : 0);
}

/*
 * The group's handle from an optional argument, or NULL when absent: then the
 * fds are the caller's. False after throwing (not a handle).
 */
/* A released event fd or pidfd: the handle's if one holds them (closed only if it still does), else the caller's. */
static void release_fd(butter_handle *h, int fd) {
  if (h) butter_handle_close_held(h, fd);
  else close(fd);
}

/*
 * Has h hold every fd the events in buf[0..n) carry: the event fd and the
 * pidfd of a PIDFD record, when >= 0 (not FAN_NOFD, FAN_EPIDFD or, with
 * FAN_REPORT_FD_ERROR, an errno). One that cannot be held is closed. The walk
 * stops where the bytes stop making sense, as the parser in JS does.
 */
static void hold_event_fds(butter_handle *h, const unsigned char *buf, size_t n) {
  struct fanotify_event_metadata m;
  for (size_t o = 0; n - o >= sizeof m; o += m.event_len) {
    memcpy(&m, buf + o, sizeof m); /* records sit at any alignment in a JS buffer */
    if (m.vers != FANOTIFY_METADATA_VERSION || m.metadata_len < sizeof m || m.event_len < m.metadata_len ||
        m.event_len > n - o)
      return;
    if (m.fd >= 0 && !butter_handle_hold(h, m.fd)) close(m.fd);
    struct fanotify_event_info_header hdr;
    for (size_t r = o + m.metadata_len, end = o + m.event_len; end - r >= sizeof hdr; r += hdr.len) {
      memcpy(&hdr, buf + r, sizeof hdr);
      if (hdr.len < sizeof hdr || hdr.len > end - r) break;
      struct fanotify_event_info_pidfd p;
      if (hdr.info_type != FAN_EVENT_INFO_TYPE_PIDFD || hdr.len < sizeof p) continue;
      memcpy(&p, buf + r, sizeof p);
      if (p.pidfd >= 0 && !butter_handle_hold(h, p.pidfd)) close(p.pidfd);
    }
  }
}

/*
 * fanotifyRead(fd, buffer[, handle]) -> bytes read | -errno: whole events
 * only, as many as fit. With `handle` (the group's own), it holds every event
 * fd and pidfd read, in this same call; a handle that no longer owns fd reads
 * nothing (EBADF), since the number may have been reused.
 */
static napi_value js_fanotify_read(napi_env env, napi_callback_info info) {
  int32_t fd;
  const void *data;
  size_t len;
  butter_handle *h = NULL;
  if (!butter_args(env, info, "iB|h", &fd, &data, &len, &h)) return NULL;
  if (h && (h->shut || h->fd != fd)) return butter_errno_result(env, EBADF);
  ssize_t n = read(fd, (void *)data, len);
  if (n < 0) return butter_errno_result(env, errno);
  if (h) hold_event_fds(h, data, (size_t)n);
  return butter_int(env, n);
}

/* fanotifyQueued(fd) -> bytes of events waiting | -errno (FIONREAD) */
static napi_value js_fanotify_queued(napi_env env, napi_callback_info info) {
  return butter_queued(env, info);
}

/*
 * fanotifyRespond(fd, eventFd, response, info: Uint8Array | null, release, pidfd[, handle])
 * -> 0 | -errno: one write(2) of a `struct fanotify_response` and `info`'s
 * records. With `release`, once the kernel has taken the answer, the event fd
 * and the pidfd (when >= 0) are closed in the same call (with `handle`, the
 * group's, only those it still holds); a refused answer closes nothing (the
 * event still waits, and its fd is still the one to answer with). A handle
 * that no longer owns fd writes nothing (EBADF).
 */
static napi_value js_fanotify_respond(napi_env env, napi_callback_info info) {
  int32_t fd, event_fd, pidfd;
  uint32_t response;
  bool release;
  napi_value extra_arg;
  const void *extra = NULL;
  size_t extra_len = 0;
  napi_valuetype t;
  butter_handle *h = NULL;
  if (!butter_args(env, info, "iiuvbi|h", &fd, &event_fd, &response, &extra_arg, &release, &pidfd, &h)) return NULL;
  if (h && (h->shut || h->fd != fd)) return butter_errno_result(env, EBADF);
  napi_typeof(env, extra_arg, &t);
  if (t != napi_null && !butter_arg_bytes(env, extra_arg, &extra, &extra_len)) return NULL;
  unsigned char buf[sizeof(struct fanotify_response) + 64];
  if (extra_len > sizeof buf - sizeof(struct fanotify_response)) return butter_errno_result(env, EINVAL);
  struct fanotify_response r = {.fd = event_fd, .response = response};
  memcpy(buf, &r, sizeof r);
  if (extra_len) memcpy(buf + sizeof r, extra, extra_len);
  if (write(fd, buf, sizeof r + extra_len) < 0) return butter_errno_result(env, errno);
  if (release) {
    release_fd(h, event_fd);
    if (pidfd >= 0) release_fd(h, pidfd);
  }
  return butter_int(env, 0);
}

/*
 * readlink(2) of /proc/self/fd/<fd>: the path the kernel has for an open fd,
 * as a string, or as a Buffer of its exact bytes when they are not UTF-8
 * (paths are bytes), or -errno.
 */
static napi_value fd_path(napi_env env, int fd) {
  char link[32], target[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target);
  if (n < 0) return butter_errno_result(env, errno);
  if ((size_t)n == sizeof target) return butter_errno_result(env, ENAMETOOLONG);
  napi_value v = butter_utf8_string(env, target, (size_t)n);
  if (!v) napi_create_buffer_copy(env, (size_t)n, target, NULL, &v);
  return v;
}

/*
 * fanotifyFdPath(fd, close: boolean[, handle]) -> path (string, or Buffer when not UTF-8) | -errno. With close, the fd
 * (an event fd the caller owns, or with `handle` one that handle holds) is
 * closed after, in the same call, whatever readlink gave: the number is
 * released either way. With `handle`, an fd it does not hold is left alone (EBADF).
 */
static napi_value js_fanotify_fd_path(napi_env env, napi_callback_info info) {
  int32_t fd;
  bool close_after;
  butter_handle *h = NULL;
  if (!butter_args(env, info, "ib|h", &fd, &close_after, &h)) return NULL;
  if (h && !butter_handle_holds(h, fd)) return butter_errno_result(env, EBADF);
  napi_value r = fd_path(env, fd);
  if (close_after) release_fd(h, fd);
  return r;
}

/*
 * fanotifyOpenMount(dirfd, path: Uint8Array | null, handle) -> fd | -errno: a
 * directory fd on the filesystem of the object a mark names (the object, or
 * the directory holding it), owned by `handle`, kept as open_by_handle_at's
 * mount_fd to resolve FID events. Not O_PATH: open_by_handle_at refuses those.
 */
static napi_value js_fanotify_open_mount(napi_env env, napi_callback_info info) {
  int32_t dirfd;
  napi_value path_arg, handle;
  if (!butter_args(env, info, "ivv", &dirfd, &path_arg, &handle)) return NULL;
  butter_path path;
  int e = butter_arg_path(env, path_arg, &path);
  if (e < 0) return NULL;
  if (e > 0) return butter_new_fd(env, -e, handle);
  char *p = path.s ? path.s : strcpy(path.stack, "."); /* a null path: the mark was on dirfd itself */
  const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  int fd = openat(dirfd, p, flags);
  if (fd < 0 && errno == ENOTDIR) {
    /* A file: its directory is on the same filesystem. */
    char *slash = strrchr(p, '/');
    if (slash == NULL) strcpy(p, ".");
    else if (slash == p) p[1] = '\0';
    else *slash = '\0';
    fd = openat(dirfd, p, flags);
  }
  int err = errno;
  butter_path_free(&path);
  return butter_new_fd(env, fd < 0 ? -err : fd, handle);
}

/* fanotifyFsid(fd) -> [val0, val1] (statfs f_fsid, as FID records carry it) | -errno */
static napi_value js_fanotify_fsid(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!butter_args(env, info, "i", &fd)) return NULL;
  struct statfs st;
  if (fstatfs(fd, &st) < 0) return butter_errno_result(env, errno);
  const uint32_t *w = (const uint32_t *)&st.f_fsid;
  return butter_pair(env, butter_int(env, w[0]), butter_int(env, w[1]));
}

/*
 * fanotifyHandlePath(mountFd, fileHandle: Uint8Array) -> path (as fanotifyFdPath's) | -errno: the
 * path of the object a `struct file_handle` (as a FID record holds it) names,
 * via open_by_handle_at(2) with O_PATH (which raises no fanotify event) and
 * /proc/self/fd. ESTALE when the object is gone.
 */
static napi_value js_fanotify_handle_path(napi_env env, napi_callback_info info) {
  int32_t mount_fd;
  const void *bytes;
  size_t len;
  if (!butter_args(env, info, "iB", &mount_fd, &bytes, &len)) return NULL;
  /* An aligned copy: the record's bytes sit at any offset of the read buffer. */
  union {
    struct file_handle fh;
    unsigned char raw[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  } h;
  if (len < sizeof(struct file_handle) || len > sizeof h.raw) return butter_errno_result(env, EINVAL);
  memcpy(h.raw, bytes, len);
  if (h.fh.handle_bytes > len - sizeof(struct file_handle)) return butter_errno_result(env, EINVAL);
  int fd = open_by_handle_at(mount_fd, &h.fh, O_PATH | O_CLOEXEC);
  if (fd < 0) return butter_errno_result(env, errno);
  napi_value r = fd_path(env, fd);
  close(fd);
  return r;
}

void butter_init_fanotify(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"fanotifyInit", js_fanotify_init},
      {"fanotifyMark", js_fanotify_mark},
      {"fanotifyRead", js_fanotify_read},
      {"fanotifyQueued", js_fanotify_queued},
      {"fanotifyRespond", js_fanotify_respond},
      {"fanotifyFdPath", js_fanotify_fd_path},
      {"fanotifyOpenMount", js_fanotify_open_mount},
      {"fanotifyFsid", js_fanotify_fsid},
      {"fanotifyHandlePath", js_fanotify_handle_path},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  /* 2.6.37, the first release with fanotify enabled, where a line names no other version */
  /* events */
  BUTTER_U32(c, FAN_ACCESS);
  BUTTER_U32(c, FAN_MODIFY);
  BUTTER_U32(c, FAN_ATTRIB);                        /* 5.1 */
  BUTTER_U32(c, FAN_CLOSE_WRITE);
  BUTTER_U32(c, FAN_CLOSE_NOWRITE);
  BUTTER_U32(c, FAN_OPEN);
  BUTTER_U32(c, FAN_MOVED_FROM);                    /* 5.1 */
  BUTTER_U32(c, FAN_MOVED_TO);                      /* 5.1 */
  BUTTER_U32(c, FAN_CREATE);                        /* 5.1 */
  BUTTER_U32(c, FAN_DELETE);                        /* 5.1 */
  BUTTER_U32(c, FAN_DELETE_SELF);                   /* 5.1 */
  BUTTER_U32(c, FAN_MOVE_SELF);                     /* 5.1 */
  BUTTER_U32(c, FAN_OPEN_EXEC);                     /* 5.0 */
  BUTTER_U32(c, FAN_Q_OVERFLOW);
  BUTTER_U32(c, FAN_FS_ERROR);                      /* 5.16 */
  BUTTER_U32(c, FAN_OPEN_PERM);
  BUTTER_U32(c, FAN_ACCESS_PERM);
  BUTTER_U32(c, FAN_OPEN_EXEC_PERM);                /* 5.0 */
  BUTTER_U32(c, FAN_PRE_ACCESS);                    /* 6.14 */
  BUTTER_U32(c, FAN_MNT_ATTACH);                    /* 6.15 */
  BUTTER_U32(c, FAN_MNT_DETACH);                    /* 6.15 */
  BUTTER_U32(c, FAN_EVENT_ON_CHILD);
  BUTTER_U32(c, FAN_RENAME);                        /* 5.17 */
  BUTTER_U32(c, FAN_ONDIR);
  BUTTER_U32(c, FAN_CLOSE);
  BUTTER_U32(c, FAN_MOVE);                          /* 5.1 */
  /* fanotify_init flags */
  BUTTER_U32(c, FAN_CLOEXEC);
  BUTTER_U32(c, FAN_NONBLOCK);
  BUTTER_U32(c, FAN_CLASS_NOTIF);
  BUTTER_U32(c, FAN_CLASS_CONTENT);
  BUTTER_U32(c, FAN_CLASS_PRE_CONTENT);
  BUTTER_U32(c, FAN_ALL_CLASS_BITS);
  BUTTER_U32(c, FAN_UNLIMITED_QUEUE);
  BUTTER_U32(c, FAN_UNLIMITED_MARKS);
  BUTTER_U32(c, FAN_ENABLE_AUDIT);                  /* 4.15 */
  BUTTER_U32(c, FAN_REPORT_PIDFD);                  /* 5.15 */
  BUTTER_U32(c, FAN_REPORT_TID);                    /* 4.20 */
  BUTTER_U32(c, FAN_REPORT_FID);                    /* 5.1 */
  BUTTER_U32(c, FAN_REPORT_DIR_FID);                /* 5.9 */
  BUTTER_U32(c, FAN_REPORT_NAME);                   /* 5.9 */
  BUTTER_U32(c, FAN_REPORT_TARGET_FID);             /* 5.17 */
  BUTTER_U32(c, FAN_REPORT_FD_ERROR);               /* 6.13 */
  BUTTER_U32(c, FAN_REPORT_MNT);                    /* 6.15 */
  BUTTER_U32(c, FAN_REPORT_DFID_NAME);              /* 5.9 */
  BUTTER_U32(c, FAN_REPORT_DFID_NAME_TARGET);       /* 5.17 */
  BUTTER_U32(c, FAN_ALL_INIT_FLAGS);                /* deprecated since 4.20 */
  /* fanotify_mark flags */
  BUTTER_U32(c, FAN_MARK_ADD);
  BUTTER_U32(c, FAN_MARK_REMOVE);
  BUTTER_U32(c, FAN_MARK_DONT_FOLLOW);
  BUTTER_U32(c, FAN_MARK_ONLYDIR);
  BUTTER_U32(c, FAN_MARK_IGNORED_MASK);
  BUTTER_U32(c, FAN_MARK_IGNORED_SURV_MODIFY);
  BUTTER_U32(c, FAN_MARK_FLUSH);
  BUTTER_U32(c, FAN_MARK_EVICTABLE);                /* 5.19 */
  BUTTER_U32(c, FAN_MARK_IGNORE);                   /* 6.0 */
  BUTTER_U32(c, FAN_MARK_INODE);                    /* named in 4.20; 0, the default all along */
  BUTTER_U32(c, FAN_MARK_MOUNT);
  BUTTER_U32(c, FAN_MARK_FILESYSTEM);               /* 4.20 */
  BUTTER_U32(c, FAN_MARK_MNTNS);                    /* 6.15 */
  BUTTER_U32(c, FAN_MARK_IGNORE_SURV);              /* 6.0 */
  BUTTER_U32(c, FAN_ALL_MARK_FLAGS);                /* deprecated since 4.20 */
  /* the groupings deprecated since 4.20, kept because the header still defines them */
  BUTTER_U32(c, FAN_ALL_EVENTS);
  BUTTER_U32(c, FAN_ALL_PERM_EVENTS);
  BUTTER_U32(c, FAN_ALL_OUTGOING_EVENTS);
  /* records */
  BUTTER_U32(c, FANOTIFY_METADATA_VERSION);
  BUTTER_U32(c, FAN_EVENT_METADATA_LEN);
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_FID);           /* 5.1 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_DFID_NAME);     /* 5.7, for FAN_DIR_MODIFY; FAN_REPORT_NAME: 5.9 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_DFID);          /* 5.9 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_PIDFD);         /* 5.15 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_ERROR);         /* 5.16 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_RANGE);         /* 6.14 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_MNT);           /* 6.15 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_OLD_DFID_NAME); /* 5.17 */
  BUTTER_U32(c, FAN_EVENT_INFO_TYPE_NEW_DFID_NAME); /* 5.17 */
  /* responses to permission events */
  BUTTER_U32(c, FAN_ALLOW);
  BUTTER_U32(c, FAN_DENY);
  BUTTER_U32(c, FAN_AUDIT);                         /* 4.15 */
  BUTTER_U32(c, FAN_INFO);                          /* 6.3 */
  BUTTER_U32(c, FAN_RESPONSE_INFO_NONE);            /* 6.3 */
  BUTTER_U32(c, FAN_RESPONSE_INFO_AUDIT_RULE);      /* 6.3 */
  BUTTER_U32(c, FAN_ERRNO_BITS);                    /* 6.14 */
  BUTTER_U32(c, FAN_ERRNO_SHIFT);                   /* 6.14 */
  BUTTER_U32(c, FAN_ERRNO_MASK);                    /* 6.14 */
  /* event_f_flags fanotify_init takes that node:fs constants lack; O_CLOEXEC is honoured since 3.18 */
  BUTTER_U32(c, O_CLOEXEC); /* O_LARGEFILE is 0 in 64-bit glibc and forced by 64-bit kernels: not exported */
  /* negative by definition: exported signed */
  BUTTER_INT(c, FAN_NOFD);
  BUTTER_INT(c, FAN_NOPIDFD);                       /* 5.15 */
  BUTTER_INT(c, FAN_EPIDFD);                        /* 5.15 */
  napi_set_named_property(env, exports, "constants", c);
}
