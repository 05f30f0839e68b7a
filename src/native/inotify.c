/*
 * inotify: file system events for watched inodes.
 *
 * Records are parsed in TypeScript (src/raw/inotify.ts): building JS objects
 * there is faster than through Node-API, and the read here only fills a Buffer
 * the caller reuses. Reads through an `Inotify`'s handle also decode the
 * records' names here (decode_names): one string made in C is cheaper
 * than a decode called from JS, on the single-event wake and per record.
 */
#include "butter.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
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

/*
 * Subtrees watched from here: the watches (registered by JS, or added below)
 * whose new subdirectories are watched as soon as a read brings their
 * IN_CREATE or IN_MOVED_TO (follow_reads, the handle's butter_read_hook: on
 * the drain thread when there is one, else on the JS thread before any JS
 * runs), and with them the directories already in those (a `mkdir -p` or
 * `cp -r` is further along by then). A wd's entry keeps its directory's path
 * and mask; JS keeps the paths current (inotifySubtree) and asks for those of
 * watches added here (inotifySubtreeWatch) when their first event comes.
 * Chained in buckets by wd; `mu` because a drain thread reads it.
 */
typedef struct subtree_dir {
  struct subtree_dir *next;
  int wd;
  uint32_t mask;
  size_t len;
  char path[]; /* NUL-terminated */
} subtree_dir;

typedef struct subtrees {
  pthread_mutex_t mu;
  subtree_dir **buckets;
  uint32_t nbuckets, count;
} subtrees;

static subtree_dir **subtree_slot(subtrees *t, int wd) {
  subtree_dir **p = &t->buckets[(uint32_t)wd & (t->nbuckets - 1)];
  while (*p && (*p)->wd != wd) p = &(*p)->next;
  return p;
}

static subtree_dir *subtree_get(subtrees *t, int wd) {
  return *subtree_slot(t, wd);
}

static void subtree_del(subtrees *t, int wd) {
  subtree_dir **p = subtree_slot(t, wd);
  subtree_dir *d = *p;
  if (!d) return;
  *p = d->next;
  free(d);
  t->count--;
}

/* Sets wd's entry to parent/name (parent NULL: name is the whole path); NULL when out of memory. */
static subtree_dir *subtree_put(subtrees *t, int wd, uint32_t mask, const char *parent, size_t plen, const char *name, size_t len) {
  if (t->count >= t->nbuckets) {
    uint32_t n = t->nbuckets * 2;
    subtree_dir **b = calloc(n, sizeof *b);
    if (!b) return NULL;
    for (uint32_t i = 0; i < t->nbuckets; i++) {
      for (subtree_dir *d = t->buckets[i], *next; d; d = next) {
        next = d->next;
        d->next = b[(uint32_t)d->wd & (n - 1)];
        b[(uint32_t)d->wd & (n - 1)] = d;
      }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
  }
  size_t total = parent ? plen + 1 + len : len;
  subtree_dir *d = malloc(sizeof *d + total + 1);
  if (!d) return NULL;
  subtree_del(t, wd);
  d->wd = wd;
  d->mask = mask;
  d->len = total;
  if (parent) {
    memcpy(d->path, parent, plen);
    d->path[plen] = '/';
    memcpy(d->path + plen + 1, name, len);
  } else {
    memcpy(d->path, name, len);
  }
  d->path[total] = '\0';
  subtree_dir **slot = &t->buckets[(uint32_t)wd & (t->nbuckets - 1)];
  d->next = *slot;
  *slot = d;
  t->count++;
  return d;
}

static void subtrees_free(void *p) {
  subtrees *t = p;
  for (uint32_t i = 0; i < t->nbuckets; i++) {
    for (subtree_dir *d = t->buckets[i], *next; d; d = next) {
      next = d->next;
      free(d);
    }
  }
  free(t->buckets);
  pthread_mutex_destroy(&t->mu);
  free(t);
}

static subtrees *subtrees_new(void) {
  subtrees *t = calloc(1, sizeof *t);
  if (!t || !(t->buckets = calloc(t->nbuckets = 16, sizeof *t->buckets))) {
    free(t);
    return NULL;
  }
  pthread_mutex_init(&t->mu, NULL);
  return t;
}

/* Watches parent/name unless it is watched already, and every directory below it. Failures are left to JS's own add. */
static void watch_new_dir(int fd, subtrees *t, const subtree_dir *parent, const char *name, size_t len) {
  subtree_dir *first = NULL;
  if (parent->len + 1 + len < PATH_MAX) {
    char path[PATH_MAX];
    memcpy(path, parent->path, parent->len);
    path[parent->len] = '/';
    memcpy(path + parent->len + 1, name, len);
    path[parent->len + 1 + len] = '\0';
    /* IN_MASK_CREATE: a directory watched already (moved within the tree, or reached twice) keeps its watch as it is. */
    int wd = inotify_add_watch(fd, path, parent->mask | IN_ONLYDIR | IN_DONT_FOLLOW | IN_MASK_CREATE);
    if (wd >= 0) first = subtree_put(t, wd, parent->mask, parent->path, parent->len, name, len);
  }
  if (!first) return;
  /* Breadth first, one directory open at a time. */
  size_t cap = 16, n = 0;
  int *todo = malloc(cap * sizeof *todo);
  if (!todo) return;
  todo[n++] = first->wd;
  for (size_t i = 0; i < n; i++) {
    /* By wd: an entry whose wd the kernel gave out again is replaced, and freed, by subtree_put. */
    subtree_dir *dir = subtree_get(t, todo[i]);
    DIR *d = dir ? opendir(dir->path) : NULL;
    if (!d) continue;
    for (struct dirent *e; (e = readdir(d));) {
      if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
      if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
      size_t elen = strlen(e->d_name);
      if (dir->len + 1 + elen >= PATH_MAX) continue;
      char path[PATH_MAX];
      memcpy(path, dir->path, dir->len);
      path[dir->len] = '/';
      memcpy(path + dir->len + 1, e->d_name, elen + 1);
      /* DT_UNKNOWN (some file systems): IN_ONLYDIR tells. */
      int wd = inotify_add_watch(fd, path, dir->mask | IN_ONLYDIR | IN_DONT_FOLLOW | IN_MASK_CREATE);
      if (wd < 0 || !subtree_put(t, wd, dir->mask, dir->path, dir->len, e->d_name, elen)) continue;
      if (n == cap) {
        int *more = realloc(todo, 2 * cap * sizeof *more);
        if (!more) continue;
        todo = more;
        cap *= 2;
      }
      todo[n++] = wd;
    }
    closedir(d);
  }
  free(todo);
}

/*
 * The next whole record of data[0..n) at *off (advanced past it): its header
 * in *ev, its name at *name, *len bytes before the NUL padding. False at the
 * end, or where the bytes end inside a record.
 */
static bool next_record(const char *data, int64_t n, int64_t *off, struct inotify_event *ev, const char **name, size_t *len) {
  if (*off + (int64_t)sizeof *ev > n) return false;
  memcpy(ev, data + *off, sizeof *ev);
  *name = data + *off + sizeof *ev;
  *off += sizeof *ev + ev->len;
  if (*off > n) return false;
  *len = strnlen(*name, ev->len);
  return true;
}

/* The handles' butter_read_hook: a new directory of a subtree is watched, a retired watch forgotten. */
static void follow_reads(void *family, int fd, const void *data, int64_t n) {
  subtrees *t = family;
  const char *p = data;
  pthread_mutex_lock(&t->mu);
  struct inotify_event ev;
  const char *name;
  size_t len;
  for (int64_t off = 0; t->count && next_record(p, n, &off, &ev, &name, &len);) {
    if (ev.mask & IN_IGNORED) {
      subtree_del(t, ev.wd);
    } else if ((ev.mask & IN_ISDIR) && (ev.mask & (IN_CREATE | IN_MOVED_TO)) && len) {
      subtree_dir *parent = subtree_get(t, ev.wd);
      if (parent) watch_new_dir(fd, t, parent, name, len);
    }
  }
  pthread_mutex_unlock(&t->mu);
}

/*
 * The handles' decoding (butter_decode_fn): sets decoded[i] to record i's
 * name: a string, null for none, or undefined for a name that is not valid
 * UTF-8 (JS decodes that one itself, to keep its bytes).
 */
static void decode_names(napi_env env, napi_value decoded, const void *data, int64_t n) {
  const char *p = data;
  napi_value null, undefined;
  napi_get_null(env, &null);
  napi_get_undefined(env, &undefined);
  uint32_t i = 0;
  /* The bounds are the kernel's (whole records), checked all the same. */
  struct inotify_event ev;
  const char *name;
  size_t len;
  for (int64_t off = 0; next_record(p, n, &off, &ev, &name, &len); i++) {
    napi_value v = len == 0 ? null : butter_utf8_string(env, name, len);
    napi_set_element(env, decoded, i, v ? v : undefined);
  }
}

/* inotifyInit(flags[, handle]) -> fd | -errno */
static napi_value js_inotify_init(napi_env env, napi_callback_info info) {
  int32_t flags;
  napi_value handle = NULL;
  if (!butter_args(env, info, "i|v", &flags, &handle)) return NULL;
  int fd = inotify_init1(flags);
  napi_value result = butter_new_decoding_fd(env, fd < 0 ? -errno : fd, handle, decode_names);
  void *p = NULL;
  /* Its subtrees, with the fd and so before a drain thread can start; without them (ENOMEM) JS watches every new directory itself. */
  if (fd >= 0 && handle && napi_get_value_external(env, handle, &p) == napi_ok && p && ((butter_handle *)p)->fd == fd) {
    butter_handle *h = p;
    if ((h->family = subtrees_new())) {
      h->family_free = subtrees_free;
      h->read_hook = follow_reads;
    }
  }
  return result;
}

/* inotifyAddWatch(fd, path: Uint8Array without NUL, mask) -> wd | -errno */
static napi_value js_inotify_add_watch(napi_env env, napi_callback_info info) {
  int32_t fd;
  uint32_t mask;
  napi_value path_arg;
  if (!butter_args(env, info, "ivu", &fd, &path_arg, &mask)) return NULL;
  butter_path path;
  int r = butter_arg_path(env, path_arg, &path);
  if (r < 0) return NULL;
  if (r > 0) return butter_errno_result(env, r);
  int wd = inotify_add_watch(fd, path.s ? path.s : "", mask);
  int err = errno;
  butter_path_free(&path);
  return butter_int(env, wd < 0 ? -err : wd);
}

/*
 * inotifySubtree(handle, wd, path: Uint8Array without NUL | null, mask) -> 0 | -errno:
 * with a path, wd's new subdirectories are watched from now on (with mask, as
 * the directory's own path is `path`); with null, no longer.
 */
static napi_value js_inotify_subtree(napi_env env, napi_callback_info info) {
  butter_handle *h;
  int32_t wd;
  uint32_t mask;
  napi_value path_arg;
  if (!butter_args(env, info, "hivu", &h, &wd, &path_arg, &mask)) return NULL;
  if (h->fd < 0) return butter_errno_result(env, EBADF);
  subtrees *t = h->family;
  if (!t) return butter_errno_result(env, ENOMEM);
  napi_valuetype type;
  napi_typeof(env, path_arg, &type);
  const void *bytes = NULL;
  size_t len = 0;
  if (type != napi_null && !butter_arg_bytes(env, path_arg, &bytes, &len)) return NULL;
  pthread_mutex_lock(&t->mu);
  bool ok = true;
  if (!bytes) subtree_del(t, wd);
  else ok = subtree_put(t, wd, mask, NULL, 0, bytes, len) != NULL;
  pthread_mutex_unlock(&t->mu);
  return ok ? butter_int(env, 0) : butter_errno_result(env, ENOMEM);
}

/* inotifySubtreeWatch(handle, wd) -> [path: Buffer, mask] of a watch in a subtree | null */
static napi_value js_inotify_subtree_watch(napi_env env, napi_callback_info info) {
  butter_handle *h;
  int32_t wd;
  if (!butter_args(env, info, "hi", &h, &wd)) return NULL;
  subtrees *t = h->family;
  napi_value result, path = NULL, mask = NULL;
  if (t) {
    pthread_mutex_lock(&t->mu);
    subtree_dir *d = subtree_get(t, wd);
    if (d && (napi_create_buffer_copy(env, d->len, d->path, NULL, &path) != napi_ok || napi_create_uint32(env, d->mask, &mask) != napi_ok)) path = NULL;
    pthread_mutex_unlock(&t->mu);
  }
  if (!path) {
    napi_get_null(env, &result);
    return result;
  }
  if (napi_create_array_with_length(env, 2, &result) != napi_ok) return NULL;
  napi_set_element(env, result, 0, path);
  napi_set_element(env, result, 1, mask);
  return result;
}

/* inotifyRmWatch(fd, wd) -> 0 | -errno */
static napi_value js_inotify_rm_watch(napi_env env, napi_callback_info info) {
  int32_t fd, wd;
  if (!butter_args(env, info, "ii", &fd, &wd)) return NULL;
  return butter_int(env, inotify_rm_watch(fd, wd) < 0 ? -errno : 0);
}

/* inotifyRead(fd, buffer) -> bytes read | -errno: whole records only, as many as fit. */
static napi_value js_inotify_read(napi_env env, napi_callback_info info) {
  return butter_read_into(env, info);
}

/* inotifySetNextWd(fd, wd) -> 0 | -errno: INOTIFY_IOC_SETNEXTWD (CONFIG_CHECKPOINT_RESTORE) */
static napi_value js_inotify_set_next_wd(napi_env env, napi_callback_info info) {
  int32_t fd, wd;
  if (!butter_args(env, info, "ii", &fd, &wd)) return NULL;
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
      {"inotifySubtree", js_inotify_subtree},
      {"inotifySubtreeWatch", js_inotify_subtree_watch},
      {"inotifyRead", js_inotify_read},
      {"inotifySetNextWd", js_inotify_set_next_wd},
      {"inotifyQueued", js_inotify_queued},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
  napi_value c;
  napi_create_object(env, &c);
  /* 2.6.13, the original inotify, where a line names no other version */
  BUTTER_U32(c, IN_ACCESS);
  BUTTER_U32(c, IN_MODIFY);
  BUTTER_U32(c, IN_ATTRIB);
  BUTTER_U32(c, IN_CLOSE_WRITE);
  BUTTER_U32(c, IN_CLOSE_NOWRITE);
  BUTTER_U32(c, IN_OPEN);
  BUTTER_U32(c, IN_MOVED_FROM);
  BUTTER_U32(c, IN_MOVED_TO);
  BUTTER_U32(c, IN_CREATE);
  BUTTER_U32(c, IN_DELETE);
  BUTTER_U32(c, IN_DELETE_SELF);
  BUTTER_U32(c, IN_MOVE_SELF);
  BUTTER_U32(c, IN_UNMOUNT);
  BUTTER_U32(c, IN_Q_OVERFLOW);
  BUTTER_U32(c, IN_IGNORED);
  BUTTER_U32(c, IN_CLOSE);
  BUTTER_U32(c, IN_MOVE);
  BUTTER_U32(c, IN_ONLYDIR);            /* 2.6.15 */
  BUTTER_U32(c, IN_DONT_FOLLOW);        /* 2.6.15 */
  BUTTER_U32(c, IN_EXCL_UNLINK);        /* 2.6.36 */
  BUTTER_U32(c, IN_MASK_CREATE);        /* 4.18 */
  BUTTER_U32(c, IN_MASK_ADD);           /* 2.6.13 (uncertain) */
  BUTTER_U32(c, IN_ISDIR);
  /* 0x80000000: exported as the unsigned value, as masks are uint32 everywhere in Butter. */
  BUTTER_U32(c, IN_ONESHOT);
  BUTTER_U32(c, IN_ALL_EVENTS);
  BUTTER_U32(c, IN_CLOEXEC);            /* 2.6.27, with inotify_init1 */
  BUTTER_U32(c, IN_NONBLOCK);           /* 2.6.27, with inotify_init1 */
  BUTTER_U32(c, INOTIFY_IOC_SETNEXTWD); /* 4.17 (uncertain), needs CONFIG_CHECKPOINT_RESTORE */
  napi_set_named_property(env, exports, "constants", c);
}
