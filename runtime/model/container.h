/* model/: what gkrun knows of one container while it creates it: the
 * struct the parent (container/) fills and the init (container/init.c,
 * rootfs/) reads, and the global flags (global.h).  Types only, no
 * functions, for container/, rootfs/ and cmd/; it includes nothing of
 * runtime/ but the spawner's handle (spawn/spawn.h) and the cgroup handle
 * (cgroup/cgroup.h), so spawn/, cgroup/, sync/ and security/ must not
 * include it (make lint checks that the folders include each other
 * without a cycle).
 *
 * A container being created: what the parent (gkrun) and the init it
 * clones share.  The child is a copy of the parent's memory, so everything
 * here is read-only context for it; fds are inherited and closed (or
 * O_CLOEXEC) before the user process is executed. */
#ifndef GK_RUNTIME_MODEL_CONTAINER_H
#define GK_RUNTIME_MODEL_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "gk/net_contract.h"
#include "gk/spec.h"
#include "model/global.h"
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
        bool two_stage;          /* a user namespace joined by path owns the new ones: a
                                  * first stage joins it, makes them and clones the
                                  * init (container.c spawn_init) */
        pid_t pid;               /* init, once cloned (spawn.pid until create returns) */
        bool netcall;            /* org.gk.net.*: gkrun-net add after the clone */
        char net_tag[GK_NETCALL_TAG_LEN + 1]; /* the tag it is given (netcall.h) */
        char *net;                            /* gkrun-net add's result, or NULL */
        int proc_fd;                          /* the init's: the procfs it writes /proc through
                                               * (procfs.h), or -1 */
        int *idmount_fds; /* per config mount: its idmapped source tree, made by
                           * gkrun and sent to the init (rootfs/idmount.c), or -1;
                           * NULL when there is none */
} gk_container;

#endif
