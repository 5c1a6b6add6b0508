/* container/: a container's life as gkrun sees it from outside: create,
 * start, delete (destroy.c), its state directory under --root (state.c),
 * hooks, sd_notify, host mounts of a container without a mount namespace,
 * the call of gkrun-net (netcall.c), the re-exec from a protected copy
 * (selfclone.c).  It drives spawn/ (the init), cgroup/ and security/
 * checks; it never runs inside the container (that is spawn/ and rootfs/)
 * and never prints (cmd/ does).
 *
 * A container being created: what the parent (gkrun) and the init it
 * clones share.  The child is a copy of the parent's memory, so everything
 * here is read-only context for it; fds are inherited and closed (or
 * O_CLOEXEC) before the user process is executed. */
#ifndef GK_RUNTIME_CONTAINER_H
#define GK_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "container/global.h"
#include "gk/net_contract.h"
#include "gk/spec.h"
#include "spawn/spawn.h"

typedef struct gk_container {
        const gk_global *g;
        const char *id;
        gk_spec *spec;
        char *bundle;      /* absolute */
        char *rootfs;      /* absolute */
        char *config_text; /* config.json as read, kept in the state dir */
        size_t config_len;
        gk_cgroup *cg;

        /* options of create/run */
        const char *pid_file;
        const char *console_socket;
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        int listen_fds;      /* LISTEN_FDS of our environment, passed on */
        bool run_mode;       /* run: start over the sync socket, no exec fifo */
        bool start_at_ready; /* run: the init goes on to exec once ready,
                              * without waiting for GK_SYNC_START */

        /* set up by the parent before clone */
        gk_spawn spawn;          /* the init: its sync socket, pid guard, cgroups */
        int console_fd;          /* connected console socket, or -1 */
        int seccomp_listener;    /* connected linux.seccomp.listenerPath, or -1 */
        int fifo_fd;             /* O_PATH fd of ROOT/ID/exec.fifo (create only) */
        int ns_fds[GK_NS_COUNT]; /* namespaces joined by path, or -1 */
        int clone_flags;         /* CLONE_NEW* of namespaces created new */
        int unshare_flags;       /* those of them the init makes after the clone */
        int late_flags;          /* ...and after it became root in its user namespace */
        pid_t pid;               /* init, once cloned (spawn.pid until create returns) */
        bool netcall;            /* org.gk.net.*: gkrun-net add after the clone */
        char net_tag[GK_NETCALL_TAG_LEN + 1]; /* the tag it is given (netcall.h) */
        char *net;                            /* gkrun-net add's result, or NULL */
        int proc_fd;                          /* the init's: the procfs it writes /proc through
                                               * (procfs.h), or -1 */
} gk_container;

/* Reads and parses BUNDLE/config.json and resolves the rootfs. */
int gk_container_load(gk_container *c, gk_error **err);

/* gkrun create (and the first half of run): on success the init waits for
 * start (or, in run mode, for gk_container_start_run) and the state is
 * saved.  On failure nothing is left: no process, cgroup or state dir. */
int gk_container_create(gk_container *c, gk_error **err);

/* run mode: tells the init to execute the user process now. */
int gk_container_start_run(gk_container *c, gk_error **err);

/* Whether the parent runs prestart or createRuntime hooks: without them
 * the init does not stop for GK_SYNC_HOOKS, a round trip saved. */
static inline bool gk_container_runtime_hooks(const gk_container *c)
{
        return c->spec->hooks.prestart.n || c->spec->hooks.create_runtime.n;
}

/* The child side: sets up the container and executes the user process.
 * Never returns; reports setup errors over the sync socket. */
_Noreturn void gk_init_main(gk_container *c);

void gk_container_release(gk_container *c);

/* Runs the hooks of a list with the state JSON on stdin (hooks.c). */
int gk_hooks_run(const gk_hook_list *hooks, const char *what, const char *state_json,
                 gk_error **err);
/* Runs every hook of a list; each failure goes to G's warn (hooks.c). */
void gk_hooks_run_warn(const gk_global *g, const gk_hook_list *hooks, const char *what,
                       const char *state_json);

#endif
