/*
 * Drains: a thread that keeps reading a handle's fd while JS is busy.
 *
 * A kernel queue has a fixed size (inotify: fs.inotify.max_queued_events); when
 * the JS thread is stalled, it fills and the kernel drops events (reporting an
 * overflow). A drain moves what the kernel has into user memory as it arrives,
 * one read() per chunk, up to a byte bound; past the bound it stops reading, so
 * the kernel's own overflow reporting takes over again. JS then reads chunks
 * instead of the fd (handleRead), and readiness is watched on an eventfd the
 * thread signals (the handle's poll_fd), so the rest of Butter is unchanged.
 *
 * Each chunk is what one read() returned, so it holds whole records, and a read
 * through the handle takes as many whole chunks as fit its buffer: the JS
 * parsers see what a direct read would have given.
 */
#include "butter.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_READ (64 * 1024)

typedef struct chunk {
  struct chunk *next;
  size_t len;
  char data[];
} chunk;

typedef struct butter_drain {
  int fd;     /* the handle's fd, read by the thread */
  int efd;    /* signalled when chunks are queued: the handle's poll_fd */
  int stopfd; /* wakes the thread to stop */
  butter_read_hook read_hook; /* the handle's, with its family state */
  void *family;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t room; /* signalled when JS takes chunks */
  chunk *head, *tail;
  size_t bytes, cap;
  int err; /* a read error the thread hit; reported once the queue is empty */
  bool stop;
} butter_drain;

static void *drain_main(void *arg) {
  butter_drain *d = arg;
  char *tmp = malloc(CHUNK_READ);
  uint64_t one = 1;
  while (tmp) {
    pthread_mutex_lock(&d->mu);
    while (!d->stop && d->bytes >= d->cap) pthread_cond_wait(&d->room, &d->mu);
    bool stop = d->stop;
    pthread_mutex_unlock(&d->mu);
    if (stop) break;
    struct pollfd p[2] = {{.fd = d->fd, .events = POLLIN}, {.fd = d->stopfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents) break;
    ssize_t n = read(d->fd, tmp, CHUNK_READ);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n > 0 && d->read_hook) d->read_hook(d->family, d->fd, tmp, n);
    chunk *c = n > 0 ? malloc(sizeof *c + (size_t)n) : NULL;
    pthread_mutex_lock(&d->mu);
    if (c) {
      c->next = NULL;
      c->len = (size_t)n;
      memcpy(c->data, tmp, (size_t)n);
      if (d->tail) d->tail->next = c;
      else d->head = c;
      d->tail = c;
      d->bytes += (size_t)n;
    } else {
      d->err = n < 0 ? errno : n == 0 ? EIO : ENOMEM;
    }
    int err = d->err;
    pthread_mutex_unlock(&d->mu);
    if (write(d->efd, &one, sizeof one) < 0) break;
    if (err) break; /* JS reads the error after the queued chunks */
  }
  free(tmp);
  return NULL;
}

void butter_drain_stop(butter_handle *h) {
  butter_drain *d = h->drain;
  h->drain = NULL;
  h->poll_fd = h->fd;
  pthread_mutex_lock(&d->mu);
  d->stop = true;
  pthread_cond_signal(&d->room);
  pthread_mutex_unlock(&d->mu);
  uint64_t one = 1;
  if (write(d->stopfd, &one, sizeof one) < 0) {
    /* eventfd writes of 1 do not fail while it is open; nothing else to do */
  }
  pthread_join(d->thread, NULL);
  for (chunk *c = d->head, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  close(d->efd);
  close(d->stopfd);
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->room);
  free(d);
}

/*
 * drainStart(handle, capacity) -> 0 | [-errno, the call that failed]. Only
 * before the handle is watched.
 */
static napi_value js_drain_start(napi_env env, napi_callback_info info) {
  butter_handle *h;
  double capacity;
  if (!butter_args(env, info, "hd", &h, &capacity)) return NULL;
  if (h->fd < 0 || h->shut) return butter_call_error(env, EBADF, "drainStart", NULL);
  if (h->recv) return butter_call_error(env, EINVAL, "drainStart", NULL); /* its thread knows only read(2) */
  if (h->drain || h->events || h->backend_data) return butter_call_error(env, EBUSY, "drainStart", NULL);
  butter_drain *d = calloc(1, sizeof *d);
  if (!d) return butter_call_error(env, ENOMEM, "calloc", NULL);
  d->fd = h->fd;
  d->read_hook = h->read_hook;
  d->family = h->family;
  d->cap = capacity < CHUNK_READ ? CHUNK_READ : (size_t)capacity;
  d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  d->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int err = d->efd < 0 || d->stopfd < 0 ? errno : 0;
  const char *failed = "eventfd";
  if (!err) {
    failed = "pthread_create";
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->room, NULL);
    /* Like the epoll thread: never the thread a process-directed signal lands on. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&d->thread, NULL, drain_main, d);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
      pthread_mutex_destroy(&d->mu);
      pthread_cond_destroy(&d->room);
    }
  }
  if (err) {
    if (d->efd >= 0) close(d->efd);
    if (d->stopfd >= 0) close(d->stopfd);
    free(d);
    return butter_call_error(env, err, failed, NULL);
  }
  h->drain = d;
  h->poll_fd = d->efd;
  return butter_int(env, 0);
}

int64_t butter_handle_read(butter_handle *h, void *data, size_t len) {
  if (h->fd < 0 || h->shut) return -EBADF;
  butter_drain *d = h->drain;
  if (!d) {
    if (h->recv) return h->recv(h->fd, data, len);
    ssize_t n = read(h->fd, data, len);
    if (n < 0) return -errno;
    if (n > 0 && h->read_hook) h->read_hook(h->family, h->fd, data, n);
    return n;
  }
  if (len < CHUNK_READ) return -EINVAL;
  pthread_mutex_lock(&d->mu);
  /* Every whole chunk that fits: under a steady trickle the thread queues a
     record or two per chunk, and a read of one chunk per wake would crawl. */
  chunk *taken = d->head, *c = taken;
  size_t n = 0;
  for (; c && c->len <= len - n; c = c->next) {
    memcpy((char *)data + n, c->data, c->len);
    n += c->len;
  }
  d->head = c;
  d->bytes -= n;
  int64_t result = n ? (int64_t)n : d->err ? -d->err : -EAGAIN;
  if (n) pthread_cond_signal(&d->room);
  if (!d->head) {
    d->tail = NULL;
    uint64_t count; /* caught up: quiet the eventfd until the thread queues more */
    if (read(d->efd, &count, sizeof count) < 0) {
      /* EAGAIN: already quiet */
    }
  }
  pthread_mutex_unlock(&d->mu);
  for (chunk *next; taken != c; taken = next) {
    next = taken->next;
    free(taken);
  }
  return result;
}

/* handleRead(handle, buffer) -> bytes | -errno: butter_handle_read, then the handle's decoding (handleSetBuffer). */
static napi_value js_handle_read(napi_env env, napi_callback_info info) {
  butter_handle *h;
  const void *data;
  size_t len;
  if (!butter_args(env, info, "hB", &h, &data, &len)) return NULL;
  return butter_int(env, butter_handle_read_decoded(env, h, (void *)data, len));
}

/* handlePoll(handle, timeoutNs) -> 1 ready | 0 not within the time | -errno: waits on the readiness fd. */
static napi_value js_handle_poll(napi_env env, napi_callback_info info) {
  butter_handle *h;
  int64_t ns;
  if (!butter_args(env, info, "hI", &h, &ns)) return NULL;
  if (h->fd < 0 || h->shut) return butter_errno_result(env, EBADF);
  struct pollfd p = {.fd = h->poll_fd, .events = POLLIN};
  struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
  int r = ppoll(&p, 1, &ts, NULL);
  if (r < 0) return butter_int(env, errno == EINTR ? 0 : -errno);
  return butter_int(env, r > 0 && (p.revents & POLLIN) ? 1 : 0);
}

void butter_init_drain(napi_env env, napi_value exports) {
  static const butter_fn fns[] = {
      {"drainStart", js_drain_start},
      {"handleRead", js_handle_read},
      {"handlePoll", js_handle_poll},
  };
  butter_export(env, exports, fns, BUTTER_COUNT(fns));
}
