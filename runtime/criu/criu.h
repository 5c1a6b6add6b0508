/* criu/: gkrun checkpoint and restore, through CRIU (libcriu, loaded at
 * run time by criu_dl.c).  It drives container/ (state, config, delete),
 * cgroup/ and spawn/; nothing but cmd/ includes it.
 *
 * What a container's mount namespace holds that CRIU cannot dump itself
 * (mounts whose source is outside it) is named to CRIU as external mounts
 * (criu_mounts.c); a network namespace joined by path as an external
 * namespace; the cgroup is made again with its limits at restore and CRIU
 * puts the restored processes in it. */
#ifndef GK_RUNTIME_CRIU_H
#define GK_RUNTIME_CRIU_H

#include <stdbool.h>

#include "gk/error.h"
#include "model/global.h"

typedef struct gk_criu_flags {
        const char *image_path; /* default ./checkpoint */
        const char *work_path;  /* logs; default the image path */
        bool tcp_established, ext_unix_sk, shell_job, file_locks, auto_dedup;
        int cg_mode;     /* GK_CRIU_CG_*, or -1: soft */
        char **empty_ns; /* --empty-ns: namespaces made but left empty */
        /* checkpoint */
        bool leave_running, pre_dump;
        const char *parent_path; /* relative to the image path */
        /* restore */
        const char *bundle, *pid_file, *console_socket;
        const char *lsm_profile, *lsm_mount_context;
        bool detach, no_pivot;
} gk_criu_flags;

/* "soft", "full", "strict" or "ignore" (--manage-cgroups-mode). */
int gk_criu_cg_mode(const char *s, int *mode, gk_error **err);

/* --empty-ns: runc's namespace names; CRIU leaves only "network" empty. */
int gk_criu_empty_ns_check(const char *verb, char **names, gk_error **err);

/* Loads libcriu: "VERB: CRIU is not installed (REASON)" without it. */
int gk_criu_load(const char *verb, gk_error **err);

/* gkrun checkpoint: dumps the running container ID into the image path;
 * it is removed afterwards unless leave_running (or pre_dump). */
int gk_criu_checkpoint(const gk_global *g, const char *id, const gk_criu_flags *f, gk_error **err);

/* gkrun restore: a new container ID from the image path and the bundle;
 * returns its exit status in the foreground, 0 detached. */
int gk_criu_restore(const gk_global *g, const char *id, const gk_criu_flags *f, gk_error **err);

#endif
