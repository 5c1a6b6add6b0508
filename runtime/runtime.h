/* Internal interfaces between gkrun's parts: namespaces, rootfs, the
 * process executor, console, hooks. */
#ifndef GK_RUNTIME_RUNTIME_H
#define GK_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "container.h"
#include "gk/error.h"
#include "gk/spec.h"

/* fds.c: closes every fd from FROM up but the N in KEEP (sorted here;
 * negative entries ignored). */
void gk_close_fds_except(int from, int *keep, size_t n);

/* ns.c: writes /proc/PID/{uid,gid}_map; sets `lo` up in a new network
 * namespace (the init, in it). */
int gk_write_id_map(pid_t pid, const char *file, const gk_idmap *maps, size_t n,
                    gk_error **err);
int gk_ns_loopback_up(gk_error **err);

/* rootfs.c, run by the init in its mount namespace. */
int gk_rootfs_prepare(gk_container *c, gk_error **err);   /* mounts, /dev */
int gk_rootfs_pivot(gk_container *c, gk_error **err);     /* pivot_root or chroot */
int gk_rootfs_finalize(gk_container *c, gk_error **err);  /* masked/ro paths, sysctl, ro root */

/* Opens PATH inside the root ROOTFD without leaving it (openat2
 * RESOLVE_IN_ROOT); with mkdirs, missing directories are created and with
 * mkfile, a missing last component is created as an empty file. */
int gk_open_in_root(int rootfd, const char *path, int flags, bool mkdirs,
                    bool mkfile, gk_error **err);

/* process.c: what turns the prepared init (or an exec'd child) into the
 * user process. */
typedef struct gk_exec_ctx {
        const gk_process *process;
        const gk_seccomp *seccomp; /* may be NULL */
        int preserve_fds;          /* fds 3..3+n-1 kept */
        int listen_fds;            /* socket activation: LISTEN_FDS passed on */
        bool in_userns;            /* setgroups may be denied */
        int proc_fd;               /* procfs.h: where the LSM labels are written */
        char *path;                /* resolved args[0] (gk_process_prepare) */
        bool sealed;               /* gk_process_seal done */
        char **envp;               /* built env */
        /* With seccomp_state set, the notify fd goes with it to the
         * connected listener socket seccomp_listener (seccomp_notify.h). */
        const char *seccomp_state;
        int seccomp_listener;
} gk_exec_ctx;

/* Makes the missing directories of process.cwd inside the root ROOTFD, as
 * runc does at create: after the mounts, before the root is read-only. */
int gk_process_make_cwd(int rootfd, const char *cwd, gk_error **err);
/* Sets rlimits, ids, capabilities, cwd, and looks up args[0]: every check
 * that can fail before the container is reported ready. */
int gk_process_prepare(gk_exec_ctx *x, gk_error **err);
/* no_new_privs, fd closing (on exec) and the seccomp filter: what binds
 * everything run from here on, the startContainer hooks included.  Once
 * done, later calls do nothing more. */
int gk_process_seal(gk_exec_ctx *x, gk_error **err);
/* gk_process_seal, then execve.  Returns only on error. */
int gk_process_exec(gk_exec_ctx *x, gk_error **err);

/* console.c */
int gk_console_setup(int console_sock, const gk_console_size *size, uid_t uid,
                     bool bind_dev_console, gk_error **err);
/* Receives the pty master sent by an init over a unix socket. */
int gk_console_recv_master(int sock, gk_error **err);
/* A listening socket for run/exec with -t in the foreground: path in *path. */
int gk_console_listen(char **path, gk_error **err);
/* Copies between our stdio and MASTER until the child exits; returns its
 * wait status. Forwards signals and window size. */
int gk_tty_proxy(int master, pid_t child, gk_error **err);

/* signals.c: runs the foreground loop of run/exec without a tty: forwards
 * signals to PID and returns its exit status (128+signal when killed). */
int gk_wait_forward(pid_t pid);
int gk_exit_status(int wstatus);
int gk_signal_parse(const char *s, int *sig);

#endif
