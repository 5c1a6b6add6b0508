/* The container's init, from clone to exec: joins namespaces, builds the
 * root filesystem, reports ready, waits for start and becomes the user
 * process.  Every failure goes back to gkrun over the sync socket. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container/container.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "security/procfs.h"
#include "rootfs/rootfs.h"
#include "security/seccomp_notify.h"
#include "spawn/console.h"
#include "spawn/fds.h"
#include "spawn/ns.h"
#include "spawn/process.h"
#include "spawn/spawn.h"
#include "sync/sync.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

/* Joins the namespaces given by path (pid was entered at the clone). */
static int join_namespaces(gk_container *c, gk_error **err)
{
        const char *paths[GK_NS_COUNT];

        for (int t = 0; t < GK_NS_COUNT; t++)
                paths[t] = c->spec->linux.namespaces[t].path;
        return gk_spawn_join_namespaces(c->ns_fds, paths, err);
}

/* A new cgroup namespace must be made after the parent has moved us into
 * the container's cgroup, so that it is rooted there; a time namespace
 * gets its offsets before any process lives in it. */
static int unshare_late(gk_container *c, gk_error **err)
{
        const gk_linux *l = &c->spec->linux;

        if (l->namespaces[GK_NS_CGROUP].present && !l->namespaces[GK_NS_CGROUP].path &&
            unshare(CLONE_NEWCGROUP) < 0)
                return gk_error_errno(err, "create cgroup namespace");
        if (l->namespaces[GK_NS_TIME].present && !l->namespaces[GK_NS_TIME].path) {
                char buf[128];

                if (unshare(CLONE_NEWTIME) < 0)
                        return gk_error_errno(err, "create time namespace");
                snprintf(buf, sizeof(buf), "monotonic %lld %u\nboottime %lld %u\n",
                         (long long) l->time_offsets_monotonic.secs,
                         l->time_offsets_monotonic.nanosecs,
                         (long long) l->time_offsets_boottime.secs,
                         l->time_offsets_boottime.nanosecs);
                if (gk_procfs_write(c->proc_fd, "self/timens_offsets", buf, err) < 0)
                        return gk_error_wrap(err, "config.json: linux.timeOffsets");
        }
        return 0;
}

static int set_names(gk_container *c, gk_error **err)
{
        const gk_spec *s = c->spec;

        if (s->hostname && s->hostname[0] && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return gk_error_errno(err, "config.json: hostname: sethostname `%s`", s->hostname);
        if (s->domainname && s->domainname[0] &&
            setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return gk_error_errno(err, "config.json: domainname: setdomainname `%s`",
                                      s->domainname);
        return 0;
}

static int join_session_keyring(gk_container *c, gk_error **err)
{
        char name[128];

        if (c->no_new_keyring)
                return 0;
        snprintf(name, sizeof(name), "_ses.%.100s", c->id);
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS &&
            errno != EPERM && errno != EACCES)
                return gk_error_errno(err, "join session keyring");
        return 0;
}

/* The exec fifo is reopened for writing (which blocks until `gkrun start`
 * opens it for reading) through our own fd directory: the fifo's path is
 * the host's, out of reach after pivot_root, and the container's /proc is
 * the container's to redirect.  The directory is that of a procfs made
 * here for the purpose with only the pid directories (subset=pid): it
 * shows nothing the container's own /proc does not, so holding it while
 * the container may already reach us (a pid namespace joined by path, an
 * exec before start) gives nothing away, unlike the host's /proc/self/fd
 * (whose ".." leads to the host's /proc, and from there to its root).
 * Made before pivot_root: in a user namespace the kernel allows a new
 * procfs only beside a fully visible one, the host's. */
static int open_fd_dir(gk_error **err)
{
        _cleanup_close_ int procfd = gk_procfs_open_pids();

        if (procfd < 0)
                return gk_error_make(err, -procfd, "exec fifo: make a procfs");
        return gk_procfs_open_at(procfd, "self/fd", O_RDONLY | O_DIRECTORY, err);
}

/* Blocks until `gkrun start` opens the exec fifo for reading.  Our write
 * end (into *fifo) stays open (close-on-exec) until the execve of the
 * container's process, or our exit: `gkrun start` waits for that end of
 * file, so once it returns the process runs (a signal sent right after
 * start reaches the program and its handlers, not an init that ignores
 * it), and reads what comes before it as our error. */
static int wait_for_start(gk_container *c, int *fd_dir, int *fifo, gk_error **err)
{
        char name[16];

        if (c->run_mode)
                return c->start_at_ready ? 0
                                         : gk_sync_expect(c->spawn.sync_child, GK_SYNC_START, err);
        snprintf(name, sizeof(name), "%d", c->fifo_fd);
        *fifo = openat(*fd_dir, name, O_WRONLY | O_CLOEXEC);
        close(TAKE_FD(*fd_dir));
        close(TAKE_FD(c->fifo_fd));
        if (*fifo < 0)
                return gk_error_errno(err, "open exec fifo");
        if (write(*fifo, "0", 1) != 1)
                return gk_error_errno(err, "write exec fifo");
        return 0;
}

/* Our error goes to whoever waits for us: `gkrun create` or `run` over
 * the sync socket, `gkrun start` (create has returned) through the exec
 * fifo. */
static _Noreturn void fail(gk_container *c, int fifo, const gk_error *err)
{
        if (fifo >= 0 && err && write(fifo, err->msg, strlen(err->msg)) < 0)
                _exit(126);
        gk_sync_send_error(c->spawn.sync_child, err);
        _exit(127);
}

static bool inner_hooks(const gk_container *c)
{
        return c->spec->hooks.create_container.n || c->spec->hooks.start_container.n;
}

/* The state the createContainer and startContainer hooks get comes from
 * gkrun (container.c send_hook_state): "creating" then "created", NUL
 * between, the pid as the host sees it. */
static int receive_hook_state(gk_container *c, char **state, gk_error **err)
{
        size_t len;

        if (!inner_hooks(c))
                return 0;
        if (gk_sync_expect_data(c->spawn.sync_child, GK_SYNC_STATE, state, &len, err) < 0)
                return gk_error_code(*err);
        if (strlen(*state) + 1 >= len)
                return gk_error_make(err, EPROTO, "sync: hook state: want two documents");
        return 0;
}

static int run_start_hooks(gk_container *c, const char *state, gk_error **err)
{
        if (!c->spec->hooks.start_container.n)
                return 0;
        return gk_hooks_run(&c->spec->hooks.start_container, "startContainer",
                            state + strlen(state) + 1, err);
}

static int run_create_container_hooks(gk_container *c, const char *state, gk_error **err)
{
        if (!c->spec->hooks.create_container.n)
                return 0;
        return gk_hooks_run(&c->spec->hooks.create_container, "createContainer", state, err);
}

/* The seccomp listener's state, from gkrun (container.c
 * send_listener_state), after the hook state.  Lives until the exec. */
static int receive_listener_state(gk_container *c, gk_exec_ctx *x, gk_error **err)
{
        char *json;
        size_t len;

        if (c->seccomp_listener < 0)
                return 0;
        if (gk_sync_expect_data(c->spawn.sync_child, GK_SYNC_STATE, &json, &len, err) < 0)
                return gk_error_code(*err);
        x->seccomp_state = json;
        x->seccomp_listener = c->seccomp_listener;
        return 0;
}

/* The idmapped mounts' trees gkrun made (GK_SYNC_MOUNTS after GO), put
 * at their mounts' places for rootfs/. */
static int receive_idmounts(gk_container *c, gk_error **err)
{
        size_t want = gk_idmount_count(c->spec), got = 0, i = 0;

        if (!want)
                return 0;
        c->idmount_fds = gk_idmount_fds_new(c->spec->n_mounts);
        if (!c->idmount_fds)
                return gk_error_make(err, ENOMEM, "idmapped mounts");
        while (got < want) {
                int fds[GK_SYNC_MAX_FDS];
                size_t n = 0;

                if (gk_sync_expect_fds(c->spawn.sync_child, GK_SYNC_MOUNTS, fds, &n, err) < 0)
                        return gk_error_code(*err);
                for (size_t k = 0; k < n; k++) {
                        while (i < c->spec->n_mounts && !gk_idmount_wanted(&c->spec->mounts[i]))
                                i++;
                        if (i == c->spec->n_mounts) {
                                close(fds[k]);
                                continue;
                        }
                        c->idmount_fds[i++] = fds[k];
                }
                if (!n)
                        return gk_error_make(err, EPROTO, "idmapped mounts: none sent");
                got += n;
        }
        return 0;
}

/* What the clone left us of gkrun's fds, less what the init needs: the
 * sync socket, the console socket, the seccomp listener, the exec fifo,
 * the namespaces to join, and the preserved fds.  Closed before anything
 * else, since a pid namespace joined by path makes us visible at once. */
static void drop_inherited_fds(gk_container *c)
{
        int keep[4 + GK_NS_COUNT];
        size_t n = 0;

        keep[n++] = c->spawn.sync_child;
        keep[n++] = c->console_fd;
        keep[n++] = c->seccomp_listener;
        keep[n++] = c->fifo_fd;
        for (int t = 0; t < GK_NS_COUNT; t++)
                keep[n++] = c->ns_fds[t];
        gk_close_fds_except(3 + c->preserve_fds, keep, n);
}

static void close_namespace_fds(gk_container *c)
{
        for (int t = 0; t < GK_NS_COUNT; t++)
                if (c->ns_fds[t] >= 0)
                        close(TAKE_FD(c->ns_fds[t]));
}

/* The first stage of an init whose user namespace is joined by path
 * (container.c spawn_init_joined_userns): in the namespaces given by path,
 * root in the joined user namespace where it maps root (so that a new IPC
 * namespace's mqueue is root's, as in a user namespace of our own), it
 * makes the new namespaces, owned by the joined one, and clones the init
 * into them (pid 1 of a new pid namespace), handing it over to gkrun.
 * Returns 0 in the init; the first stage exits. */
static int enter_joined_namespaces(gk_container *c, gk_error **err)
{
        /* for the init only, and while we are still root over it whoever
         * owns it */
        if (c->ns_fds[GK_NS_PID] >= 0 && setns(c->ns_fds[GK_NS_PID], CLONE_NEWPID) < 0)
                return gk_error_errno(err, "join pid namespace `%s`",
                                      c->spec->linux.namespaces[GK_NS_PID].path);
        if (join_namespaces(c, err) < 0)
                return gk_error_code(*err);
        close_namespace_fds(c);
        /* best effort: a user namespace that does not map root keeps us
         * as we are (runc's init becomes root later as well) */
        if (setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) < 0)
                return gk_error_errno(err, "become root in the joined user namespace");
        if (unshare(c->unshare_flags) < 0)
                return gk_error_errno(err, "create namespaces in the joined user namespace");
        c->unshare_flags = 0;
        return gk_spawn_clone_second(&c->spawn, err);
}

static int setup(gk_container *c, gk_exec_ctx *x, int *fd_dir, char **hook_state, gk_error **err)
{
        const gk_process *p = c->spec->process;

        /* what the clone left to us (see spawn_init), while the parent
         * makes the cgroup */
        if (c->unshare_flags && unshare(c->unshare_flags) < 0)
                return gk_error_errno(err, "create namespaces");
        /* a new network namespace is ours now, from the clone or the
         * unshare; one joined by path is left as it is, as runc does */
        if ((c->clone_flags & CLONE_NEWNET) && gk_ns_loopback_up(err) < 0)
                return gk_error_code(*err);
        /* first: with the caller's credentials, before any namespace is
         * joined */
        if (gk_spawn_join_cgroups(&c->spawn, err) < 0 ||
            receive_hook_state(c, hook_state, err) < 0 || receive_listener_state(c, x, err) < 0 ||
            receive_idmounts(c, err) < 0)
                return gk_error_code(*err);
        /* Our /proc is still the caller's: no mount of the container
         * exists yet, and none joined (procfs.c). */
        c->proc_fd = gk_procfs_open_caller();
        if (join_namespaces(c, err) < 0)
                return gk_error_code(*err);
        /* in our pid and user namespaces now: a fresh procfs is ours */
        gk_procfs_prefer_fresh(&c->proc_fd);
        if (unshare_late(c, err) < 0)
                return gk_error_code(*err);
        close_namespace_fds(c);
        if ((c->clone_flags & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                return gk_error_errno(err, "become root in the user namespace");
        if (c->late_flags && unshare(c->late_flags) < 0)
                return gk_error_errno(err, "create namespaces");
        if (set_names(c, err) < 0 || join_session_keyring(c, err) < 0)
                return gk_error_code(*err);
        if (!c->run_mode && (*fd_dir = open_fd_dir(err)) < 0)
                return gk_error_code(*err);
        if (gk_rootfs_prepare(c, err) < 0)
                return gk_error_code(*err);
        if (gk_container_runtime_hooks(c) &&
            (gk_sync_send(c->spawn.sync_child, GK_SYNC_HOOKS) < 0 ||
             gk_sync_expect(c->spawn.sync_child, GK_SYNC_HOOKS_DONE, err) < 0))
                return err && *err ? gk_error_code(*err) : -EPIPE;
        if (run_create_container_hooks(c, *hook_state, err) < 0)
                return gk_error_code(*err);
        if (gk_rootfs_pivot(c, err) < 0 || gk_rootfs_reopen_null_stdio(c, err) < 0)
                return gk_error_code(*err);
        if (p->terminal &&
            gk_console_setup(c->console_fd, &p->console_size, p->user.uid, true, err) < 0)
                return gk_error_code(*err);
        /* A session of its own without a terminal too, as runc's init:
         * CRIU dumps only a process tree whose session leader is in it. */
        if (!p->terminal)
                setsid();
        if (c->console_fd >= 0)
                close(TAKE_FD(c->console_fd));
        if (gk_rootfs_finalize(c, err) < 0)
                return gk_error_code(*err);
        x->process = p;
        x->personality = &c->spec->linux.personality;
        x->memory_policy = &c->spec->linux.memory_policy;
        x->seccomp = c->spec->linux.seccomp.present ? &c->spec->linux.seccomp : NULL;
        x->preserve_fds = c->preserve_fds;
        x->listen_fds = c->listen_fds;
        x->in_userns = c->spec->linux.namespaces[GK_NS_USER].present || c->g->in_userns;
        x->proc_fd = c->proc_fd;
        if (gk_process_prepare(x, err) < 0)
                return gk_error_code(*err);
        /* a whole procfs (the caller's, or a fresh one without masks): not
         * to be held while the container may reach us */
        close(TAKE_FD(c->proc_fd));
        x->proc_fd = -1;
        return 0;
}

_Noreturn void gk_init_main(gk_container *c)
{
        _cleanup_(gk_error_freep) gk_error *err = NULL;
        _cleanup_free_ char *hook_state = NULL;
        gk_exec_ctx x = { 0 };
        int fd_dir = -1, fifo = -1;

        /* gkrun's end of the sync socket is closed and the death signal
         * armed (gk_spawn_clone); undone once we are ready, since `gkrun
         * create` exits then. */
        drop_inherited_fds(c);
        GK_PAUSE("create.init");
        umask(0);
        if (c->two_stage && enter_joined_namespaces(c, &err) < 0)
                fail(c, fifo, err);
        if (setup(c, &x, &fd_dir, &hook_state, &err) < 0)
                fail(c, fifo, err);
        prctl(PR_SET_PDEATHSIG, 0);
        if (gk_sync_send(c->spawn.sync_child, GK_SYNC_READY) < 0)
                _exit(1);
        if (wait_for_start(c, &fd_dir, &fifo, &err) < 0)
                fail(c, fifo, err);
        /* run waits for the exec (create has returned): from the marker on,
         * the sync socket's end of file is the execve.  No_new_privs and
         * the seccomp filter bind the startContainer hooks too: a setuid
         * binary they run gains nothing. */
        if ((c->run_mode && gk_spawn_announce_exec(c->spawn.sync_child, &err) < 0) ||
            gk_process_seal(&x, &err) < 0 || run_start_hooks(c, hook_state, &err) < 0)
                fail(c, fifo, err);
        gk_process_exec(&x, &err);
        fail(c, fifo, err);
}
