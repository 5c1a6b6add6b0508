/* Turning a prepared process into the user's program, shared by the
 * container's init and `gkrun exec`: rlimits, ids, capabilities, cwd,
 * environment, the executable's lookup, no_new_privs, fd closing, and
 * seccomp last. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/resolve.h"
#include "gk/util.h"
#include "security/seccomp_notify.h"
#include "security/security.h"
#include "spawn/attrs.h"
#include "spawn/process.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int set_rlimits(const gk_process *p, gk_error **err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = { .rlim_cur = p->rlimits[i].soft,
                                     .rlim_max = p->rlimits[i].hard };

                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return gk_error_errno(
                                err,
                                "config.json: process.rlimits[%zu]: setrlimit %s soft %llu hard %llu",
                                i, p->rlimits[i].type, (unsigned long long) rl.rlim_cur,
                                (unsigned long long) rl.rlim_max);
        }
        return 0;
}

/* Looks NAME up in /etc/passwd of the container for HOME. */
static char *home_of(uid_t uid)
{
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        struct passwd pw, *res = NULL;
        char buf[4096];

        if (!f)
                return NULL;
        while (fgetpwent_r(f, &pw, buf, sizeof(buf), &res) == 0 && res)
                if (pw.pw_uid == uid)
                        return strdup(pw.pw_dir);
        return NULL;
}

static int set_ids(const gk_exec_ctx *x, gk_error **err)
{
        const gk_user *u = &x->process->user;

        if (setgroups(u->n_additional_gids, u->additional_gids) < 0 &&
            !(errno == EPERM && x->in_userns && !u->n_additional_gids))
                return gk_error_errno(err, "config.json: process.user.additionalGids: setgroups");
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return gk_error_errno(err, "config.json: process.user.gid: setgid %u", u->gid);
        /* Keep the permitted set across the uid change: the capabilities
         * of the config are applied right after. */
        if (prctl(PR_SET_KEEPCAPS, 1) < 0)
                return gk_error_errno(err, "PR_SET_KEEPCAPS");
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return gk_error_errno(err, "config.json: process.user.uid: setuid %u", u->uid);
        prctl(PR_SET_KEEPCAPS, 0);
        return 0;
}

/* Where in ENV[0..n) the variable named as ENTRY's name is, or -1. */
static ssize_t env_find(char **env, size_t n, const char *entry)
{
        size_t len = strcspn(entry, "=");

        for (size_t i = 0; i < n; i++)
                if (!strncmp(env[i], entry, len) && env[i][len] == '=')
                        return (ssize_t) i;
        return -1;
}

/* process.env as runc's init sets it (one setenv per entry): an entry
 * without `=` or with an empty name fails the start, in runc's words; a
 * name given twice keeps its first place and its last value, so that
 * getenv() sees the value runc's containers see. */
static int build_env(gk_exec_ctx *x, gk_error **err)
{
        const gk_process *p = x->process;
        size_t n = 0;
        char **env;

        env = calloc(p->n_env + 4, sizeof(char *));
        if (!env)
                return gk_error_make(err, ENOMEM, "environment");
        x->envp = env;
        for (size_t i = 0; i < p->n_env; i++) {
                const char *e = p->env[i];
                ssize_t at;

                if (!strchr(e, '='))
                        return gk_error_plain(err, EINVAL,
                                              "config.json: process.env[%zu]: "
                                              "invalid environment variable: \"%s\"",
                                              i, e);
                if (e[0] == '=')
                        return gk_error_plain(err, EINVAL,
                                              "config.json: process.env[%zu]: "
                                              "environment variable name can't be empty: \"%s\"",
                                              i, e);
                at = env_find(env, n, e);
                if (at >= 0)
                        env[at] = p->env[i];
                else
                        env[n++] = p->env[i];
        }
        /* systemd socket activation: the fds are the container's now, and
         * its process will be pid 1 of its namespace. */
        if (x->listen_fds > 0 && (asprintf(&env[n], "LISTEN_FDS=%d", x->listen_fds) < 0 ||
                                  !(env[n + 1] = strdup("LISTEN_PID=1"))))
                return gk_error_make(err, ENOMEM, "environment");
        if (x->listen_fds > 0)
                n += 2;
        if (env_find(env, n, "HOME=") < 0) {
                _cleanup_free_ char *home = home_of(p->user.uid);

                if (asprintf(&env[n], "HOME=%s", home ? home : "/") < 0)
                        env[n] = NULL;
        }
        return 0;
}

static const char *env_get(char **env, const char *name)
{
        size_t len = strlen(name);

        for (; env && *env; env++)
                if (!strncmp(*env, name, len) && (*env)[len] == '=')
                        return *env + len + 1;
        return NULL;
}

static bool is_executable(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The first executable NAME in the entries of PATH, an empty entry being
 * ".", as Go's exec.LookPath (runc's) and execvp search them; an empty or
 * missing PATH has no entries.  0 with *out NULL when there is none. */
static int search_path(const char *path, const char *name, char **out)
{
        const char *dir = path;

        *out = NULL;
        if (!path || !*path)
                return 0;
        for (;;) {
                size_t len = strcspn(dir, ":");
                char *cand;

                if (asprintf(&cand, "%.*s/%s", (int) (len ? len : 1), len ? dir : ".", name) < 0)
                        return -ENOMEM;
                if (is_executable(cand)) {
                        *out = cand;
                        return 0;
                }
                free(cand);
                if (!dir[len])
                        return 0;
                dir += len + 1;
        }
}

/* args[0] through the container's PATH, as runc does, so that a missing
 * binary is a create-time error.  Run in the process's cwd and as its
 * user, as runc runs it: "./x" is relative to process.cwd.  No PATH in
 * process.env finds nothing: a built-in default would run an image here
 * that fails under runc.  What a relative entry ("", ".") finds is
 * refused, as Go (runc's LookPath) refuses it since 1.19. */
static int lookup(gk_exec_ctx *x, gk_error **err)
{
        const char *name = x->process->args[0];
        _cleanup_free_ char *found = NULL;

        if (strchr(name, '/')) {
                if (!is_executable(name))
                        return gk_error_errno(err, "exec: \"%s\"", name);
                x->path = strdup(name);
                return 0;
        }
        if (search_path(env_get(x->envp, "PATH"), name, &found) < 0)
                return gk_error_make(err, ENOMEM, "exec");
        if (!found)
                return gk_error_plain(err, ENOENT,
                                      "exec: \"%s\": executable file not found in $PATH", name);
        if (found[0] != '/')
                return gk_error_plain(err, ENOENT,
                                      "exec: \"%s\": cannot run executable found relative"
                                      " to current directory",
                                      name);
        x->path = TAKE_PTR(found);
        return 0;
}

/* Loads the filter and hands its notify fd, if any, to the listener. */
static int load_seccomp(gk_exec_ctx *x, gk_error **err)
{
        _cleanup_close_ int nfd = -1;
        int r;

        if (gk_seccomp_load(x->seccomp, &nfd, err) < 0)
                return gk_error_code(*err);
        if (nfd < 0 || !x->seccomp_state)
                return 0;
        r = gk_seccomp_listener_send(x->seccomp_listener, nfd, x->seccomp_state, err);
        close(x->seccomp_listener);
        x->seccomp_state = NULL;
        return r;
}

static int open_dir_in_root(int rootfd, const char *path)
{
        return gk_open_resolved(rootfd, path, O_PATH | O_DIRECTORY,
                                RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* The cwd is resolved inside the container's root, magic links refused:
 * "/proc/self/fd/N" would otherwise name a directory fd still open here
 * (a host cgroup, the host's /proc) and hand the process a cwd outside its
 * root, from where ".." reaches the host's filesystem.  Without openat2,
 * chdir and then refuse a cwd that is not under the root. */
static int enter_cwd(const char *cwd, gk_error **err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;
        char buf[PATH_MAX];

        if (root < 0)
                return gk_error_errno(err, "open /");
        fd = open_dir_in_root(root, cwd);
        if (fd >= 0)
                return fchdir(fd) == 0
                               ? 0
                               : gk_error_errno(err,
                                                "chdir to cwd (\"%s\") set in config.json failed",
                                                cwd);
        if (fd == -ELOOP)
                return gk_error_plain(err, ELOOP,
                                      "chdir to cwd (\"%s\") set in config.json failed:"
                                      " a /proc magic link or a symlink loop",
                                      cwd);
        /* Any other failure may be the seccomp filter, loaded already when
         * no_new_privs is off, refusing openat2 (Docker's older profiles
         * lack it): chdir then tells the real reason, getcwd the escape. */
        if (chdir(cwd) < 0)
                return gk_error_errno(err, "chdir to cwd (\"%s\") set in config.json failed", cwd);
        if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
                return gk_error_plain(err, EXDEV,
                                      "chdir to cwd (\"%s\") set in config.json failed:"
                                      " it is outside the container's root",
                                      cwd);
        return 0;
}

/* While still privileged (a real-time scheduler or I/O class needs
 * CAP_SYS_NICE or CAP_SYS_ADMIN, as runc applies them) and before any
 * seccomp filter.  The affinity before the scheduler: SCHED_DEADLINE
 * wants a task allowed on every CPU of its root domain. */
static int apply_attrs(const gk_exec_ctx *x, gk_error **err)
{
        const gk_process *p = x->process;

        if ((x->personality && gk_attrs_personality(x->personality, err) < 0) ||
            (x->memory_policy && gk_attrs_mempolicy(x->memory_policy, err) < 0) ||
            gk_attrs_ioprio(&p->io_priority, err) < 0)
                return gk_error_code(*err);
        if (x->final_cpus && x->final_cpus[0]) {
                if (gk_attrs_cpus(x->final_cpus, "process.execCPUAffinity.final", err) < 0)
                        return gk_error_code(*err);
        } else {
                gk_attrs_reset_cpus();
        }
        return gk_attrs_scheduler(&p->scheduler, err);
}

int gk_process_prepare(gk_exec_ctx *x, gk_error **err)
{
        const gk_process *p = x->process;
        bool nnp = p->no_new_privileges;

        if (set_rlimits(p, err) < 0)
                return gk_error_code(*err);
        if (p->apparmor_profile || p->selinux_label)
                if (gk_lsm_apply(x->proc_fd, p->apparmor_profile, p->selinux_label, err) < 0)
                        return gk_error_code(*err);
        if (build_env(x, err) < 0 || apply_attrs(x, err) < 0)
                return gk_error_code(*err);
        /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which
         * the switch to a non-root user and the capability drop take away:
         * load it first then (the filter must allow setuid and capset). */
        if (!nnp && x->seccomp) {
                if (load_seccomp(x, err) < 0)
                        return gk_error_code(*err);
                x->seccomp = NULL;
        }
        if (set_ids(x, err) < 0)
                return gk_error_code(*err);
        if (p->capabilities.present && gk_caps_apply(&p->capabilities, err) < 0)
                return gk_error_code(*err);
        umask(p->user.has_umask ? p->user.umask : 0022);
        if (enter_cwd(p->cwd ? p->cwd : "/", err) < 0)
                return gk_error_code(*err);
        return lookup(x, err);
}

int gk_process_seal(gk_exec_ctx *x, gk_error **err)
{
        /* once: the filter may refuse the calls made here */
        if (x->sealed)
                return 0;
        x->sealed = true;
        if (x->process->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return gk_error_errno(err, "set no_new_privs");
        /* Every fd above the kept ones is closed by the exec itself. */
        if (syscall(SYS_close_range, 3 + x->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
                for (int fd = 3 + x->preserve_fds; fd < 1024; fd++)
                        fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        if (x->seccomp && load_seccomp(x, err) < 0)
                return gk_error_code(*err);
        x->seccomp = NULL;
        return 0;
}

int gk_process_exec(gk_exec_ctx *x, gk_error **err)
{
        if (gk_process_seal(x, err) < 0)
                return gk_error_code(*err);
        execve(x->path, x->process->args, x->envp);
        return gk_error_errno(err, "exec: \"%s\"", x->process->args[0]);
}
