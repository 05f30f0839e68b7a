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
  /* The sandbox's steps (version 2): */
  BUTTER_HELPER_MOUNT,       /* value: BUTTER_HELPER_MOUNT_*; payload: uint64_t MS_* flags, uint64_t MOUNT_ATTR_* set on the
                                new mount and every mount below it (mount_setattr, AT_RECURSIVE), then source, target,
                                fstype and data, each NUL-terminated ("" for NULL) */
  BUTTER_HELPER_SETATTR,     /* value: AT_* flags; payload: uint64_t MOUNT_ATTR_* to set, uint64_t to clear, the path */
  BUTTER_HELPER_UMOUNT,      /* value: MNT_* flags; payload: the path */
  BUTTER_HELPER_PIVOT_ROOT,  /* value: new_root's length; payload: new_root, then put_old */
  BUTTER_HELPER_MKDIR,       /* value: mode; payload: the path, made with its missing parents (an existing directory is kept) */
  BUTTER_HELPER_SYMLINK,     /* value: the link's content's length; payload: the content, then the link's path (parents made) */
  BUTTER_HELPER_FILE,        /* value: mode; payload: the path, NUL, the data; or the path alone and an fd (SCM_RIGHTS) to copy to EOF */
  BUTTER_HELPER_FORK,        /* value: BUTTER_HELPER_FORK_*; payload: uint64_t CLONE_NEW* flags (CLONE_NEWTIME excepted): the
                                rest runs in a child made in those namespaces (pid 1 or 2 in a new PID namespace) */
  BUTTER_HELPER_SETSID,      /* setsid(2) */
  BUTTER_HELPER_CAPS,        /* payload: uint64_t mask of the capabilities kept, uint64_t of those also ambient (a subset);
                                every other leaves the bounding set, then capset(2) sets effective and permitted to the
                                first, inheritable to the second, and the ambient set is the second */
  BUTTER_HELPER_SECCOMP,     /* value: SECCOMP_FILTER_FLAG_*; payload: the struct sock_filter array; with NEW_LISTENER the reply carries the listener fd (SCM_RIGHTS) */
  BUTTER_HELPER_OPS
};

/* EXEC: look the file up in the PATH of the helper's (the target's) environment, as execvp does. */
#define BUTTER_HELPER_EXEC_SEARCH 1u

/* CHDIR: a missing directory (ENOENT) is no failure: the helper stays where it is. */
#define BUTTER_HELPER_CHDIR_TRY 1u

/* MOUNT: a missing source (ENOENT) is no failure: nothing is mounted (reply value 1). */
#define BUTTER_HELPER_MOUNT_TRY 1u
/* MOUNT: make the target first, with its parents: a directory, or an empty file for a bind of a non-directory. */
#define BUTTER_HELPER_MOUNT_MKTARGET 2u

/*
 * FORK: without it the helper's child (pid 1 in a new PID namespace) becomes
 * an init that reaps, forwards signals to its child and reports that child's
 * exit status; the grandchild runs the rest. With it the child runs the rest
 * and the target is pid 1. Either way the helper stays outside as a monitor:
 * it forwards the signals it gets to its child and ends as the target ended
 * (the same exit code, or the same signal).
 */
#define BUTTER_HELPER_FORK_AS_PID_1 1u

/* A failed request's reply value when a call other than its main one failed (the main one's is 0). */
#define BUTTER_HELPER_FAILED_OPEN 1u  /* open(2) (WRITE, FILE) */
#define BUTTER_HELPER_FAILED_MKDIR 2u /* mkdir(2) of a target or a parent (MOUNT, FILE, SYMLINK) */
#define BUTTER_HELPER_FAILED_STAT 3u  /* stat(2) of a bind's source (MOUNT) */
#define BUTTER_HELPER_FAILED_READ 4u  /* read(2) of FILE's fd */
#define BUTTER_HELPER_FAILED_SETATTR 5u /* mount_setattr(2) after the mount (MOUNT) */
#define BUTTER_HELPER_FAILED_PRCTL 6u /* prctl(2) on the bounding or ambient set (CAPS) */

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
