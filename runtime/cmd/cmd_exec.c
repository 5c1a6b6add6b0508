/* gkrun exec: a new process in a running container, entering every
 * namespace of its init (the user namespace first) and its cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cmd/commands.h"
#include "container/destroy.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/opts.h"
#include "gk/util.h"
#include "security/procfs.h"
#include "security/seccomp_notify.h"
#include "security/security.h"
#include "spawn/attrs.h"
#include "spawn/console.h"
#include "spawn/fds.h"
#include "spawn/process.h"
#include "spawn/signals.h"
#include "spawn/spawn.h"
#include "sync/sync.h"

typedef struct exec_flags {
        const char *console_socket, *cwd, *user, *process, *pid_file, *apparmor, *label;
        char **env, **caps, **gids, **cgroups;
        bool tty, detach, no_new_privs, ignore_paused;
        int preserve_fds;
} exec_flags;

typedef struct exec_job {
        exec_flags f;
        gk_state *st;
        gk_spec *spec;
        gk_process *proc; /* owned when from --process, else spec->process changed in place */
        gk_process *own;
        gk_cgroup *cg;
        int ns_fds[GK_NS_COUNT];
        int root_fd;          /* the init's root when it shares our mount namespace, or -1 */
        int seccomp_listener; /* connected linux.seccomp.listenerPath, or -1 */
        gk_spawn spawn;       /* first stage, then the process (its pid: as gkrun sees it) */
        int console_fd;
} exec_job;

static int parse_flags(int argc, char **argv, exec_flags *f, int *first, gk_error **err)
{
        const gk_opt opts[] = {
                { "console-socket", 0, GK_OPT_STRING, &f->console_socket, "PATH",
                  "unix socket that receives the terminal's master fd" },
                { "cwd", 0, GK_OPT_STRING, &f->cwd, "DIR", "working directory of the process" },
                { "env", 'e', GK_OPT_STRV, &f->env, "NAME=VALUE",
                  "set an environment variable (repeatable)" },
                { "tty", 't', GK_OPT_BOOL, &f->tty, NULL, "allocate a terminal" },
                { "user", 'u', GK_OPT_STRING, &f->user, "UID[:GID]", "run as this user" },
                { "additional-gids", 'g', GK_OPT_STRV, &f->gids, "GID",
                  "add a supplementary group (repeatable)" },
                { "process", 'p', GK_OPT_STRING, &f->process, "FILE",
                  "the process as runtime-spec JSON (process.json); args are then not needed" },
                { "detach", 'd', GK_OPT_BOOL, &f->detach, NULL, "return once the process runs" },
                { "pid-file", 0, GK_OPT_STRING, &f->pid_file, "FILE",
                  "write the process's pid to FILE" },
                { "process-label", 0, GK_OPT_STRING, &f->label, "LABEL",
                  "SELinux label of the process" },
                { "apparmor", 0, GK_OPT_STRING, &f->apparmor, "PROFILE",
                  "AppArmor profile of the process" },
                { "no-new-privs", 0, GK_OPT_BOOL, &f->no_new_privs, NULL,
                  "set no_new_privs for the process" },
                { "cap", 'c', GK_OPT_STRV, &f->caps, "CAP", "add a capability (repeatable)" },
                { "preserve-fds", 0, GK_OPT_INT, &f->preserve_fds, "N",
                  "pass N more fds (from 3 on) to the process" },
                { "ignore-paused", 0, GK_OPT_BOOL, &f->ignore_paused, NULL,
                  "exec even into a paused container" },
                { "cgroup", 0, GK_OPT_STRV, &f->cgroups, "[CONTROLLER[,CONTROLLER]:]PATH",
                  "join this sub-cgroup of the container's cgroup (repeatable)" },
                { 0 },
        };

        if (gk_opts_parse(argc, argv, "exec", opts, first, err) < 0)
                return gk_error_code(*err);
        if (*first >= argc)
                return gk_error_make(err, 0, "exec: requires the container id");
        if (!f->process && *first + 1 >= argc)
                return gk_error_make(err, 0, "exec: args must not be empty");
        return 0;
}

static int strv_append(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        nv[*n] = strdup(s);
        nv[++*n] = NULL;
        *v = nv;
        return 0;
}

static int add_cap(gk_capset *set, int cap)
{
        int *nc;

        for (size_t i = 0; i < set->n; i++)
                if (set->caps[i] == cap)
                        return 0;
        nc = realloc(set->caps, (set->n + 1) * sizeof(int));
        if (!nc)
                return -ENOMEM;
        nc[set->n++] = cap;
        set->caps = nc;
        return 0;
}

static int apply_user(gk_process *p, const char *user, gk_error **err)
{
        uint64_t uid, gid;
        _cleanup_free_ char *copy = strdup(user);
        char *colon = copy ? strchr(copy, ':') : NULL;

        if (colon)
                *colon = '\0';
        if (!copy || !gk_parse_u64(copy, &uid) || uid > UINT32_MAX ||
            (colon && (!gk_parse_u64(colon + 1, &gid) || gid > UINT32_MAX)))
                return gk_error_make(err, 0, "exec: --user: want UID[:GID], got \"%s\"", user);
        p->user.uid = (uid_t) uid;
        if (colon)
                p->user.gid = (gid_t) gid;
        return 0;
}

/* --apparmor, --process-label: over --process's too (runc ignores every
 * flag then); refused at once, naming the flag, where the LSM is off. */
static int apply_lsm_flags(const exec_flags *f, gk_process *p, gk_error **err)
{
        if (f->apparmor) {
                if (gk_lsm_validate(f->apparmor, NULL, err) < 0)
                        return gk_error_wrap(err, "exec: --apparmor");
                free(p->apparmor_profile);
                if (!(p->apparmor_profile = strdup(f->apparmor)))
                        return gk_error_make(err, ENOMEM, "exec");
        }
        if (f->label) {
                if (gk_lsm_validate(NULL, f->label, err) < 0)
                        return gk_error_wrap(err, "exec: --process-label");
                free(p->selinux_label);
                if (!(p->selinux_label = strdup(f->label)))
                        return gk_error_make(err, ENOMEM, "exec");
        }
        return 0;
}

/* The container's process with exec's flags applied over it. */
static int build_process(exec_job *j, char **args, gk_error **err)
{
        exec_flags *f = &j->f;
        gk_process *p = j->spec->process;

        if (f->process) {
                _cleanup_free_ char *text = NULL;
                size_t len;

                if (gk_read_file(f->process, &text, &len, err) < 0 ||
                    gk_process_parse(text, len, f->process, &j->own, err) < 0)
                        return gk_error_code(*err);
                p = j->own;
        } else {
                if (!p)
                        return gk_error_make(err, 0,
                                             "exec: the container has no process to base on");
                gk_strvfree(p->args);
                p->args = gk_strv_dup(args);
                p->n_args = gk_strv_len(args);
                p->terminal = f->tty;
                if (f->cwd) {
                        free(p->cwd);
                        p->cwd = strdup(f->cwd);
                }
                for (char **e = f->env; e && *e; e++)
                        if (strv_append(&p->env, &p->n_env, *e) < 0)
                                return gk_error_make(err, ENOMEM, "exec");
                if (f->user && apply_user(p, f->user, err) < 0)
                        return gk_error_code(*err);
                for (char **c = f->caps; c && *c; c++) {
                        int cap = gk_cap_from_name(*c);
                        if (cap < 0)
                                return gk_error_make(err, 0,
                                                     "exec: --cap: unknown capability \"%s\"", *c);
                        add_cap(&p->capabilities.bounding, cap);
                        add_cap(&p->capabilities.effective, cap);
                        add_cap(&p->capabilities.permitted, cap);
                        add_cap(&p->capabilities.ambient, cap);
                        p->capabilities.present = true;
                }
                if (f->no_new_privs)
                        p->no_new_privileges = true;
        }
        if (apply_lsm_flags(f, p, err) < 0)
                return gk_error_code(*err);
        j->proc = p;
        if (p->terminal && !f->console_socket && f->detach)
                return gk_error_make(
                        err, 0,
                        "cannot allocate tty if gkrun will detach without setting console socket");
        return 0;
}

/* The init's namespaces that differ from ours. */
static int open_namespaces(exec_job *j, gk_error **err)
{
        for (int t = 0; t < GK_NS_COUNT; t++) {
                char path[64], self[64];
                struct stat a, b;

                j->ns_fds[t] = -1;
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) j->st->pid,
                         gk_ns_proc_name(t));
                snprintf(self, sizeof(self), "/proc/self/ns/%s", gk_ns_proc_name(t));
                if (stat(path, &a) < 0 || (stat(self, &b) == 0 && a.st_ino == b.st_ino))
                        continue;
                j->ns_fds[t] = open(path, O_RDONLY | O_CLOEXEC);
                if (j->ns_fds[t] < 0)
                        return gk_error_errno(err, "open `%s`", path);
        }
        /* A container without a mount namespace of its own is only
         * chrooted: joining its creator's namespace (or none, when that is
         * ours) would leave us at that namespace's /. */
        if (!j->spec->linux.namespaces[GK_NS_MOUNT].present) {
                char path[64];

                snprintf(path, sizeof(path), "/proc/%d/root", (int) j->st->pid);
                j->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (j->root_fd < 0)
                        return gk_error_errno(err, "open `%s`", path);
        }
        return 0;
}

/* The process that execs: born in the container's pid namespace holding
 * only the sync socket, the console socket, the seccomp listener and the
 * preserved fds (exec_stage1 made it so). */
static _Noreturn void exec_stage2(exec_job *j, gk_exec_ctx *x)
{
        _cleanup_(gk_error_freep) gk_error *err = NULL;
        int sync = j->spawn.sync_child;

        /* dies with gkrun (gk_spawn_clone_second) until the exec */
        GK_PAUSE("exec.child");
        /* the listener's state names us: gkrun knows our pid once stage
         * one has told it */
        if (j->seccomp_listener >= 0) {
                char *state; /* lives until the exec */
                size_t len;

                if (gk_sync_expect_data(sync, GK_SYNC_STATE, &state, &len, &err) < 0)
                        goto fail;
                x->seccomp_state = state;
                x->seccomp_listener = j->seccomp_listener;
        }
        if (j->proc->terminal && gk_console_setup(j->console_fd, &j->proc->console_size,
                                                  j->proc->user.uid, false, &err) < 0)
                goto fail;
        if (j->console_fd >= 0)
                close(j->console_fd);
        if (x->proc_fd >= 0)
                gk_procfs_prefer_fresh(&x->proc_fd);
        if (gk_process_prepare(x, &err) < 0)
                goto fail;
        if (x->proc_fd >= 0)
                close(TAKE_FD(x->proc_fd));
        /* From here the process outlives gkrun exec (--detach). */
        prctl(PR_SET_PDEATHSIG, 0);
        gk_spawn_exec(sync, x, &err);
fail:
        gk_sync_send_error(sync, err);
        _exit(127);
}

/* Stage one stays in gkrun's pid namespace, out of sight of every process
 * of the container, while it holds what it must not show them: the cgroup
 * files it joins through, the namespace fds, its host root and cwd until
 * it has entered the container's mount namespace.  Then it drops every fd
 * but the few the process needs and forks that process into the
 * container's pid namespace, as gkrun's own child (CLONE_PARENT), and
 * hands it over: its pid and pidfd. */
static _Noreturn void exec_stage1(exec_job *j)
{
        _cleanup_(gk_error_freep) gk_error *err = NULL;
        gk_exec_ctx x = { .process = j->proc,
                          .preserve_fds = j->f.preserve_fds,
                          .proc_fd = -1,
                          .personality = &j->spec->linux.personality,
                          .memory_policy = &j->spec->linux.memory_policy,
                          .final_cpus = j->proc->exec_cpu_affinity.final };
        int keep[4];
        size_t n_keep = 0;

        /* v1: into the container's cgroups by ourselves, as its init did */
        if (gk_spawn_join_cgroups(&j->spawn, &err) < 0)
                goto fail;
        /* An LSM label is written through a procfs: before setns, /proc
         * is ours, not one the container can mount over (procfs.c); the
         * process replaces it with a fresh one of its own pid namespace
         * when the kernel lets it. */
        if (j->proc->apparmor_profile || j->proc->selinux_label)
                x.proc_fd = gk_procfs_open_caller();
        if (gk_spawn_join_namespaces(j->ns_fds, NULL, &err) < 0)
                goto fail;
        if (j->root_fd >= 0 && (fchdir(j->root_fd) < 0 || chroot(".") < 0)) {
                gk_error_errno(&err, "chroot to the container's root");
                goto fail;
        }
        if (j->ns_fds[GK_NS_PID] >= 0 && setns(j->ns_fds[GK_NS_PID], CLONE_NEWPID) < 0) {
                gk_error_errno(&err, "setns to the container's pid namespace");
                goto fail;
        }
        keep[n_keep++] = j->spawn.sync_child;
        keep[n_keep++] = j->console_fd;
        keep[n_keep++] = j->seccomp_listener;
        keep[n_keep++] = x.proc_fd;
        gk_close_fds_except(3 + j->f.preserve_fds, keep, n_keep);
        x.seccomp = j->spec->linux.seccomp.present ? &j->spec->linux.seccomp : NULL;
        x.in_userns = j->ns_fds[GK_NS_USER] >= 0;
        if (gk_spawn_clone_second(&j->spawn, &err) == 0)
                exec_stage2(j, &x);
fail:
        gk_sync_send_error(j->spawn.sync_child, err);
        _exit(127);
}

static int send_listener_state(exec_job *j, gk_error **err)
{
        _cleanup_free_ char *json = NULL;

        if (gk_seccomp_listener_state(j->spec, j->st->id, j->st->bundle, "running",
                                      (long) j->spawn.pid, (long) j->st->pid, &json, err) < 0)
                return gk_error_code(*err);
        if (gk_sync_send_data(j->spawn.sync, GK_SYNC_STATE, json, strlen(json)) < 0)
                return gk_error_errno(err, "exec: send the seccomp listener's state");
        return 0;
}

/* The spawn itself; on failure the process (either stage) is killed and
 * reaped by the caller's guard. */
static int spawn_steps(exec_job *j, gk_error **err)
{
        const char *initial = j->proc->exec_cpu_affinity.initial;

        /* ours, inherited by both stages until the process, in the
         * container's cgroup, takes the final one (or the cpuset's) */
        if (initial && initial[0] &&
            gk_attrs_cpus(initial, "process.execCPUAffinity.initial", err) < 0)
                return gk_error_code(*err);
        /* --cgroup: the sub-cgroup named, not the one the init sits in */
        if (gk_spawn_cgroups(&j->spawn, j->cg, j->f.cgroups ? 0 : j->st->pid, err) < 0)
                return gk_error_code(*err);
        switch (gk_spawn_clone(&j->spawn, 0, -1, err)) {
        case 0:
                exec_stage1(j);
        case 1:
                break;
        default:
                return gk_error_code(*err);
        }
        GK_FAULT("exec.after-clone");
        if (gk_spawn_go(&j->spawn, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("exec.after-cgroup");
        if (gk_spawn_take_over(&j->spawn, err) < 0)
                return gk_error_code(*err);
        if (j->seccomp_listener >= 0 && send_listener_state(j, err) < 0)
                return gk_error_code(*err);
        if (gk_spawn_wait_exec(&j->spawn, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("exec.after-exec");
        return 0;
}

static int spawn(exec_job *j, gk_error **err)
{
        int r = spawn_steps(j, err);

        if (r < 0)
                gk_spawn_abort(&j->spawn);
        return r;
}

static int run_exec(exec_job *j, gk_error **err)
{
        _cleanup_close_ int listener = -1;
        _cleanup_free_ char *sock = NULL;
        int r = 0;

        if (j->proc->terminal) {
                const char *path = j->f.console_socket;

                if (!path) {
                        listener = gk_console_listen(&sock, err);
                        if (listener < 0)
                                return listener;
                        path = sock;
                }
                j->console_fd = gk_spawn_console_connect(path, err);
                if (j->console_fd < 0)
                        r = j->console_fd;
        }
        if (r == 0)
                r = spawn(j, err);
        if (j->console_fd >= 0)
                close(TAKE_FD(j->console_fd));
        if (sock) {
                unlink(sock);
                *strrchr(sock, '/') = '\0';
                rmdir(sock);
        }
        if (r < 0)
                return r;
        if (j->f.pid_file) {
                char buf[32];
                int n = snprintf(buf, sizeof(buf), "%d", (int) j->spawn.pid);

                if (gk_write_file_atomic(j->f.pid_file, buf, (size_t) n, 0644, false, err) < 0)
                        return gk_error_code(*err);
        }
        if (j->f.detach)
                return 0;
        if (listener >= 0) {
                _cleanup_close_ int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC),
                                    master = -1;

                master = conn >= 0 ? gk_console_recv_master(conn, err) : -1;
                if (master < 0)
                        return err && *err ? gk_error_code(*err) : gk_error_errno(err, "console");
                return gk_tty_proxy(master, j->spawn.pid, err);
        }
        return gk_wait_forward(j->spawn.pid);
}

int cmd_exec(int argc, char **argv, const gk_global *g, gk_error **err)
{
        exec_job j = {
                .spawn = GK_SPAWN_INIT, .console_fd = -1, .root_fd = -1, .seccomp_listener = -1
        };
        enum gk_status status;
        int first, r;

        if (parse_flags(argc, argv, &j.f, &first, err) < 0)
                goto out;
        if (gk_state_load(g->root, argv[first], &j.st, err) < 0)
                goto out;
        status = gk_state_status(g->root, j.st);
        if (status == GK_STATUS_STOPPED || status == GK_STATUS_CREATING) {
                gk_error_make(err, 0, "cannot exec in a stopped container");
                goto out;
        }
        if (status == GK_STATUS_PAUSED && !j.f.ignore_paused) {
                gk_error_make(
                        err, 0,
                        "cannot exec in a paused container (use --ignore-paused to override)");
                goto out;
        }
        if (gk_state_load_spec(g->root, j.st->id, &j.spec, err) < 0 ||
            build_process(&j, argv + first + 1, err) < 0 || open_namespaces(&j, err) < 0)
                goto out;
        if (j.st->cgroup && j.st->cgroup[0] && gk_cgroup_open(j.st->cgroup, &j.cg, err) < 0)
                goto out;
        if (j.f.cgroups && !j.cg) {
                gk_error_make(err, 0, "exec: --cgroup: the container has no cgroup");
                goto out;
        }
        if (j.f.cgroups &&
            gk_cgroup_use_sub(j.cg, j.f.cgroups, gk_strv_len(j.f.cgroups), err) < 0) {
                gk_error_wrap(err, "exec");
                goto out;
        }
        if (gk_seccomp_wants_listener(&j.spec->linux.seccomp) &&
            (j.seccomp_listener = gk_seccomp_listener_connect(&j.spec->linux.seccomp, err)) < 0)
                goto out;
        r = run_exec(&j, err);
        goto done;
out:
        r = gk_error_code(*err);
done:
        for (int t = 0; t < GK_NS_COUNT; t++)
                if (j.ns_fds[t] > 0)
                        close(j.ns_fds[t]);
        gk_spawn_release(&j.spawn);
        if (j.root_fd >= 0)
                close(j.root_fd);
        if (j.seccomp_listener >= 0)
                close(j.seccomp_listener);
        gk_strvfree(j.f.env);
        gk_strvfree(j.f.caps);
        gk_strvfree(j.f.gids);
        gk_strvfree(j.f.cgroups);
        gk_cgroup_freep(&j.cg);
        gk_process_freep(&j.own);
        gk_spec_freep(&j.spec);
        gk_state_freep(&j.st);
        return r;
}
