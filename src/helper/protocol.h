/*
 * The protocol between Butter (src/core/helper.ts) and butter-helper, a
 * single-threaded program that changes its own per-thread kernel state
 * (namespaces, ...) for a multi-threaded Node and then execs the target.
 * docs/architecture.md ("The helper") describes it; this header is its one
 * definition, read by the helper and by the addon (which exports the numbers
 * to TypeScript).
 *
 * Command line: butter-helper FD ARG0 [ARG...]. FD is the helper's end of an
 * AF_UNIX SOCK_SEQPACKET socketpair (one message per request or reply, so
 * no framing); ARG0... are the target's argv, and the helper's environment
 * is the target's. Both come from child_process.spawn, as for any child.
 *
 * Every request is a struct butter_helper_request, its payload following in
 * the same message; a setns request carries one fd (SCM_RIGHTS), as does the
 * reply to a seccomp request that makes a listener. The first
 * request is HELLO. The helper runs each request in order, in itself, and
 * answers each with a struct butter_helper_reply, except an EXEC that
 * succeeds: the helper's socket is close-on-exec, so the parent reads EOF.
 * After a failure (reply.error != 0) the helper exits with status 127.
 * Integers are in the machine's byte order (both ends run on it).
 */
#ifndef BUTTER_HELPER_PROTOCOL_H
#define BUTTER_HELPER_PROTOCOL_H

#include <stdint.h>

/* Bumped on any change to a message's layout or meaning. */
#define BUTTER_HELPER_VERSION 2

enum butter_helper_op {
  BUTTER_HELPER_HELLO = 1,   /* value: the protocol version the parent speaks; reply value: the helper's */
  BUTTER_HELPER_UNSHARE,     /* value: CLONE_* flags */
  BUTTER_HELPER_SETNS,       /* value: nstype (0 or one CLONE_NEW*); the namespace fd rides along (SCM_RIGHTS) */
  BUTTER_HELPER_WRITE,       /* value: path length; payload: the path, then the bytes to write (one write(2)) */
  BUTTER_HELPER_SETHOSTNAME, /* payload: the name */
  BUTTER_HELPER_PRCTL,       /* value: option; payload: arg2..arg5 as uint64_t; reply value: prctl's result */
  BUTTER_HELPER_CHDIR,       /* payload: the path */
  BUTTER_HELPER_EXEC,        /* value: BUTTER_HELPER_EXEC_*; payload: the file to exec with the helper's argv[2...] */
  BUTTER_HELPER_SECCOMP,     /* value: SECCOMP_FILTER_FLAG_*; payload: the struct sock_filter array; with NEW_LISTENER the reply carries the listener fd (SCM_RIGHTS) */
  BUTTER_HELPER_OPS
};

/* EXEC: look the file up in the PATH of the helper's (the target's) environment, as execvp does. */
#define BUTTER_HELPER_EXEC_SEARCH 1u

/* A failed WRITE's reply value when open(2) failed rather than write(2). */
#define BUTTER_HELPER_FAILED_OPEN 1u

struct butter_helper_request {
  uint32_t op;
  uint32_t value;
};

struct butter_helper_reply {
  uint32_t seq;   /* which request: 0 is HELLO, counting every request after it */
  int32_t error;  /* 0, or the errno the request's syscall failed with */
  uint32_t value; /* the op's result (HELLO: the helper's version), or a failure's detail */
};

/* The largest request: a path or a write's data. */
#define BUTTER_HELPER_MAX_REQUEST (64 * 1024)

#endif
