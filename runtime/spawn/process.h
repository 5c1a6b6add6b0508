/* process.c: what turns the prepared init (or an exec'd child) into the
 * user process. */
#ifndef GK_RUNTIME_SPAWN_PROCESS_H
#define GK_RUNTIME_SPAWN_PROCESS_H

#include <stdbool.h>

#include "gk/error.h"
#include "gk/spec.h"

typedef struct gk_exec_ctx {
        const gk_process *process;
        const gk_seccomp *seccomp; /* may be NULL */
        int preserve_fds;          /* fds 3..3+n-1 kept */
        int listen_fds;            /* socket activation: LISTEN_FDS passed on */
        bool in_userns;            /* setgroups may be denied */
        int proc_fd;               /* procfs.h: where the LSM labels are written */
        /* The container's, applied to every process of it (attrs.h); may
         * be NULL. */
        const gk_personality *personality;
        const gk_memory_policy *memory_policy;
        /* An exec's process.execCPUAffinity.final, or NULL: the CPUs of
         * the cgroup's cpuset (the spec leaves the init out of it). */
        const char *final_cpus;
        char *path;  /* resolved args[0] (gk_process_prepare) */
        bool sealed; /* gk_process_seal done */
        char **envp; /* built env */
        /* With seccomp_state set, the notify fd goes with it to the
         * connected listener socket seccomp_listener (seccomp_notify.h). */
        const char *seccomp_state;
        int seccomp_listener;
} gk_exec_ctx;

/* Sets rlimits, the per-task attributes (attrs.h), ids, capabilities,
 * cwd, and looks up args[0]: every check that can fail before the
 * container is reported ready.  Called once in the container's cgroup. */
int gk_process_prepare(gk_exec_ctx *x, gk_error **err);
/* no_new_privs, fd closing (on exec) and the seccomp filter: what binds
 * everything run from here on, the startContainer hooks included.  Once
 * done, later calls do nothing more. */
int gk_process_seal(gk_exec_ctx *x, gk_error **err);
/* gk_process_seal, then execve.  Returns only on error. */
int gk_process_exec(gk_exec_ctx *x, gk_error **err);

#endif
