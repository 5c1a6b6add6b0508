/* sync/: the typed protocol between gkrun (parent) and the container's init
 * (child) over a SOCK_SEQPACKET socketpair.  One message per datagram; an
 * error carries the child's errno and message so the parent reports
 * "exec: ..." instead of a silent exit.  Used by spawn/ and by cgroup/ (its join
 * handle rides on GO); it includes nothing of runtime/.
 *
 *   parent                          child (init)
 *   clone ------------------------> makes its namespaces, waits for GO
 *   cgroup, id maps, network
 *   GK_SYNC_GO (+ cgroup join) ---> cgroups and namespaces joined,
 *                                   mounts made
 *              <------------------- GK_SYNC_HOOKS (run prestart + createRuntime;
 *   hooks run                         this round trip only when there are some)
 *   GK_SYNC_HOOKS_DONE -----------> createContainer hooks, pivot_root,
 *                                   console, process checks
 *              <------------------- GK_SYNC_READY (waits for start)
 *   [run only] GK_SYNC_START -----> startContainer hooks
 *   (run without a notify socket to relay: no START, the init goes on
 *   once it has sent READY)
 *              <------------------- [run, exec] GK_SYNC_EXEC, then end
 *                                   of file at the execve (the socket is
 *                                   close-on-exec; spawn.h)
 * GO is followed, when the config has idmapped mounts, by GK_SYNC_MOUNTS
 * messages carrying their detached trees (at most GK_SYNC_MAX_FDS each).
 * Any step may instead get GK_SYNC_ERROR.  An init whose user namespace is
 * joined by path starts as a first stage, whose one message is GK_SYNC_PID
 * (the init it cloned, which talks on from there) or GK_SYNC_ERROR. */
#ifndef GK_RUNTIME_SYNC_H
#define GK_RUNTIME_SYNC_H

#include <stddef.h>
#include <sys/types.h>

#include "gk/error.h"

enum gk_sync_type {
        GK_SYNC_GO = 1,
        GK_SYNC_HOOKS,
        GK_SYNC_HOOKS_DONE,
        GK_SYNC_READY,
        GK_SYNC_START,
        GK_SYNC_ERROR,
        GK_SYNC_PID,    /* exec, an init in a joined user namespace: the
                         * process that will exec, as gkrun sees it */
        GK_SYNC_STATE,  /* state JSON the child needs: its hooks', its seccomp listener's */
        GK_SYNC_EXEC,   /* the child execs next: end of file from here on is the execve */
        GK_SYNC_MOUNTS, /* after GO: idmapped mount trees, made on the host, in order */
};

/* Sends a message without payload. */
int gk_sync_send(int fd, enum gk_sync_type type);

/* Sends a message without payload that carries the N open FDS (at most
 * GK_SYNC_MAX_FDS) to the peer. */
#define GK_SYNC_MAX_FDS 16
int gk_sync_send_fds(int fd, enum gk_sync_type type, const int *fds, size_t n);

/* Parent: GK_SYNC_GO carrying the N FDS (closed here, sent or not).  When
 * the child is gone already, its own error (queued before it exited) is
 * what *err says. */
int gk_sync_send_go(int fd, int *fds, size_t n, gk_error **err);

/* Sends the error in err (child side); best effort. */
void gk_sync_send_error(int fd, const gk_error *err);

/* Waits for a message of type `want`.  A GK_SYNC_ERROR from the peer
 * becomes *err (with the peer's errno); EOF is "init exited during setup". */
int gk_sync_expect(int fd, enum gk_sync_type want, gk_error **err);

/* gk_sync_expect that also takes the fds the message carries (close-on-
 * exec, at most GK_SYNC_MAX_FDS) into FDS, their number into *N. */
int gk_sync_expect_fds(int fd, enum gk_sync_type want, int *fds, size_t *n, gk_error **err);

/* GK_SYNC_PID: PID is sent as the sender sees it (its pid namespace is
 * the parent's), with its PIDFD (-1: none); *pidfd is -1 when none came. */
int gk_sync_send_pid(int fd, pid_t pid, int pidfd);
int gk_sync_expect_pid(int fd, pid_t *pid, int *pidfd, gk_error **err);

/* Waits for the end of file: the peer's close-on-exec end gone with its
 * execve (after GK_SYNC_EXEC).  A GK_SYNC_ERROR is its failure; any other
 * message a protocol error. */
int gk_sync_expect_eof(int fd, gk_error **err);

/* A message of TYPE with a payload of any size (up to the socket's buffer);
 * the receiver gets it NUL-terminated in *data (to free), its length in
 * *len.  An error from the peer comes instead as for gk_sync_expect. */
int gk_sync_send_data(int fd, enum gk_sync_type type, const void *data, size_t len);
int gk_sync_expect_data(int fd, enum gk_sync_type want, char **data, size_t *len, gk_error **err);

#endif
