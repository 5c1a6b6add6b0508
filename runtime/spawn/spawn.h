/* spawn/: starting processes: the clone with its pid guard and the
 * hand-over of cgroups (spawn.c), namespaces, fds, console, signals,
 * waiting, and the exec of the user process (process.c), over the sync
 * protocol (sync/).  It applies security/ to the process; it knows nothing
 * of containers (container/init.c is the init that uses it), keeps no
 * state on disk and never prints.
 *
 * The one spawner of gkrun: how the process that becomes a container's is
 * started, for create (the init) and exec (a process in a running
 * container) alike.  One clone path, one order of joining namespaces, one
 * console-socket connect, one sync discipline (sync.h):
 *
 *   parent                                child
 *   gk_spawn_clone ---------------------> (gk_spawn_clone returns 0)
 *     held by a pidfd (CLONE_PIDFD) from here; every failure of the
 *     parent ends in gk_spawn_abort: killed through the pidfd, reaped
 *   gk_spawn_go --------- GO -----------> gk_spawn_join_cgroups
 *     (the cgroup join with it, cgroup.h)
 *                                          gk_spawn_join_namespaces
 *                                          ... setup ...
 *              <------- GK_SYNC_EXEC ---- gk_spawn_exec: the marker, execve
 *   gk_spawn_wait_exec: after the marker, end of file is the execve (the
 *   sync socket is close-on-exec and the child's alone); GK_SYNC_ERROR is
 *   the failure, with the child's errno and message; end of file before
 *   the marker is a child that died.  Nothing is taken for success
 *   without the message that says so. */
#ifndef GK_RUNTIME_SPAWN_H
#define GK_RUNTIME_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gk/error.h"
#include "gk/spec.h"

struct gk_cgroup;
struct gk_cgroup_join;
struct gk_exec_ctx;

typedef struct gk_spawn {
        int sync;       /* parent's end of the SEQPACKET sync socket */
        int sync_child; /* child's end: in the child only, after the clone */
        pid_t pid;      /* as gkrun sees it */
        int pidfd;      /* holds the child: signals go here, not to pid */
        /* The cgroup hand-over (the cgroup section of spawn.c) */
        struct gk_cgroup *cg;           /* not owned; NULL: none to join */
        struct gk_cgroup_join *cg_join; /* until GO is sent */
        /* A user's child in a new user namespace stays dumpable until GO:
         * /proc/PID/{uid,gid}_map of a process that is not are root's,
         * which the user (and newuidmap on its behalf) cannot write. */
        bool dumpable_until_go;
} gk_spawn;

#define GK_SPAWN_INIT ((gk_spawn){ .sync = -1, .sync_child = -1, .pidfd = -1 })

/* The process CG's cgroups are to hold: the container's (BESIDE 0, an init)
 * or, for a process exec'd beside the init BESIDE, the sub-cgroup it may
 * have moved to.  Call before gk_spawn_clone. */
int gk_spawn_cgroups(gk_spawn *s, struct gk_cgroup *cg, pid_t beside, gk_error **err);
/* Whether the clone puts the child in its memory cgroup (cgroup.h
 * gk_cgroup_join_clone_charges). */
bool gk_spawn_clone_charges(const gk_spawn *s);

/* Clones the child: returns 0 in it, 1 in the parent, or -errno.  FLAGS
 * are CLONE_NEW* (and CLONE_PARENT); with PIDNS >= 0 the child is born in
 * that pid namespace, entered for the clone only and left again (both
 * setns checked: the parent never stays in the container's).  The parent
 * is made not dumpable first, as the child inherits it: nothing in the
 * container may open its /proc/PID/exe (the gkrun binary) before it
 * execs (with dumpable_until_go, from GO on, which it makes itself).
 * The child dies with the parent until it disarms that. */
int gk_spawn_clone(gk_spawn *s, uint64_t flags, int pidns, gk_error **err);

/* Parent, once the child's cgroups exist: GO, the parent's part of the
 * setup done, with the cgroup join (a process that cannot join by itself
 * is moved in first); a child gone before already gives its own error. */
int gk_spawn_go(gk_spawn *s, gk_error **err);
/* Child: waits for GO and joins the cgroups it brings (first: with the
 * caller's credentials, before any namespace is joined). */
int gk_spawn_join_cgroups(gk_spawn *s, gk_error **err);

/* Child: joins the namespaces of NS_FDS (-1: none) but pid, in the one
 * order: user first, so that the others are entered with its
 * credentials, mount before the rest.  PATHS, when not NULL, name them in
 * errors. */
int gk_spawn_join_namespaces(const int ns_fds[GK_NS_COUNT], const char *const paths[GK_NS_COUNT],
                             gk_error **err);

/* Child: the GK_SYNC_EXEC marker on SYNC: it execs next, failures after
 * it still come as GK_SYNC_ERROR.  Sent before gk_process_seal, whose
 * seccomp filter may refuse the send. */
int gk_spawn_announce_exec(int sync, gk_error **err);
/* Child: gk_spawn_announce_exec, then gk_process_exec.  Returns
 * only on failure (for the caller to send as GK_SYNC_ERROR). */
int gk_spawn_exec(int sync, struct gk_exec_ctx *x, gk_error **err);

/* Parent: waits for the child's execve (see above). */
int gk_spawn_wait_exec(gk_spawn *s, gk_error **err);

/* The first stage of exec, and of an init whose user namespace is joined
 * by path (container/init.c), in the child, once it stands where the
 * process is to be born: clones it (CLONE_PARENT: gkrun's child too, in the pid
 * namespace entered for children) and hands it over to gkrun, its pid
 * and pidfd, then exits.  Returns 0 in the new process, once the hand-over
 * is done (nothing it says reaches gkrun before it), or -errno. */
int gk_spawn_clone_second(gk_spawn *s, gk_error **err);
/* Parent: takes over that process, reaping the first stage. */
int gk_spawn_take_over(gk_spawn *s, gk_error **err);

/* Parent: kills the child (through its pidfd) and reaps it; nothing is
 * left.  No-op without a child. */
void gk_spawn_abort(gk_spawn *s);
/* Closes what the parent holds; the child lives on. */
void gk_spawn_release(gk_spawn *s);

/* A connected console socket (close-on-exec), for the child to send its
 * pty master through. */
int gk_spawn_console_connect(const char *path, gk_error **err);

/* clone3 with fork semantics (no new stack), optionally into a v2 cgroup
 * and with a pidfd into *PIDFD (when not NULL). */
pid_t gk_clone(uint64_t flags, int cgroup_fd, int *pidfd);

#endif
