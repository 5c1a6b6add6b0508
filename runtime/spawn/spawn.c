/* The one spawner (spawn.h): clone with a pid guard, the cgroup hand-over,
 * the namespace-join order, the exec marker and its wait, the console
 * socket's connect. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "spawn/process.h"
#include "spawn/spawn.h"
#include "sync/sync.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x1000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* Our own copy of the kernel's struct clone_args (v2 layout, with cgroup):
 * <linux/sched.h> clashes with glibc's <sched.h>. */
struct gk_clone_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
                set_tid_size, cgroup;
};

pid_t gk_clone(uint64_t flags, int cgroup_fd, int *pidfd)
{
        /* CLONE_PARENT: the child signals our parent as we do (clone3
         * wants no exit_signal of its own then) */
        struct gk_clone_args a = { .flags = flags,
                                   .exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD };
        long pid;

        if (pidfd) {
                *pidfd = -1;
                a.flags |= CLONE_PIDFD;
                a.pidfd = (uint64_t) (uintptr_t) pidfd;
        }
        if (cgroup_fd >= 0) {
                a.flags |= CLONE_INTO_CGROUP;
                a.cgroup = (uint64_t) cgroup_fd;
        }
        pid = syscall(SYS_clone3, &a, sizeof(a));
        /* Without clone3 there is no pidfd either: the guard then holds
         * the pid of a child of ours not yet reaped, which cannot be
         * reused before we reap it. */
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG) && cgroup_fd < 0)
                pid = syscall(SYS_clone, (unsigned long) flags | a.exit_signal, NULL, NULL, NULL,
                              0);
        return (pid_t) pid;
}

/* --- the cgroup hand-over ------------------------------------------------
 * Every cgroup call of spawning is here, through the cgroup layer's
 * opaque join handle (cgroup.h): what the child needs to get in travels
 * with GO, whatever the driver. */

int gk_spawn_cgroups(gk_spawn *s, gk_cgroup *cg, pid_t beside, gk_error **err)
{
        s->cg = cg;
        return gk_cgroup_join_prepare(cg, beside, &s->cg_join, err);
}

bool gk_spawn_clone_charges(const gk_spawn *s)
{
        return gk_cgroup_join_clone_charges(s->cg_join);
}

int gk_spawn_go(gk_spawn *s, gk_error **err)
{
        int r = gk_cgroup_join_send(s->cg_join, s->pid, s->sync, err);

        gk_cgroup_join_freep(&s->cg_join);
        if (r < 0)
                return err && *err ? gk_error_code(*err) : -EPIPE;
        return 0;
}

int gk_spawn_join_cgroups(gk_spawn *s, gk_error **err)
{
        int r = gk_cgroup_join_recv(s->cg, s->sync_child, err);

        /* the maps are written: nothing may open our /proc files from now */
        if (s->dumpable_until_go && prctl(PR_SET_DUMPABLE, 0) < 0 && r >= 0)
                return gk_error_errno(err, "PR_SET_DUMPABLE");
        return r;
}

/* --- clone and the pid guard ---------------------------------------------- */

static void reap(gk_spawn *s)
{
        siginfo_t si;

        if (s->pidfd >= 0) {
                while (waitid((idtype_t) P_PIDFD, (id_t) s->pidfd, &si, WEXITED | __WALL) < 0 &&
                       errno == EINTR)
                        ;
                close(TAKE_FD(s->pidfd));
        } else {
                while (waitpid(s->pid, NULL, __WALL) < 0 && errno == EINTR)
                        ;
        }
        s->pid = 0;
}

void gk_spawn_abort(gk_spawn *s)
{
        if (s->pid <= 0)
                return;
        if (s->pidfd >= 0)
                syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
        else
                kill(s->pid, SIGKILL);
        reap(s);
}

void gk_spawn_release(gk_spawn *s)
{
        if (s->sync >= 0)
                close(TAKE_FD(s->sync));
        if (s->sync_child >= 0)
                close(TAKE_FD(s->sync_child));
        if (s->pidfd >= 0)
                close(TAKE_FD(s->pidfd));
        gk_cgroup_join_freep(&s->cg_join);
}

/* Leaves the pid namespace for the children that setns(pidns) entered:
 * OWN is gkrun's, opened before. */
static int leave_pidns(gk_spawn *s, int own, gk_error **err)
{
        if (own < 0 || setns(own, CLONE_NEWPID) == 0)
                return 0;
        gk_error_errno(err, "setns back to gkrun's pid namespace");
        /* what we spawn next (a hook) must not land in the container's */
        gk_spawn_abort(s);
        return gk_error_code(*err);
}

int gk_spawn_clone(gk_spawn *s, uint64_t flags, int pidns, gk_error **err)
{
        _cleanup_close_ int own_pidns = -1;
        int sv[2], e;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return gk_error_errno(err, "socketpair");
        s->sync = sv[0];
        s->sync_child = sv[1];
        if (pidns >= 0) {
                own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
                if (own_pidns < 0)
                        return gk_error_errno(err, "open gkrun's pid namespace");
                if (setns(pidns, CLONE_NEWPID) < 0)
                        return gk_error_errno(err, "setns to the container's pid namespace");
        }
        prctl(PR_SET_DUMPABLE, !!s->dumpable_until_go);
        s->pid = gk_clone(flags, gk_cgroup_join_clone_fd(s->cg_join), &s->pidfd);
        if (s->pid < 0 && gk_cgroup_join_clone_fd(s->cg_join) >= 0) {
                /* no clone3 or CLONE_INTO_CGROUP here: the parent moves it */
                gk_cgroup_join_clone_fd_unused(s->cg_join);
                s->pid = gk_clone(flags, -1, &s->pidfd);
        }
        if (s->pid == 0) {
                /* the parent's end closed, so that its death is our end of
                 * file even before the death signal is armed */
                close(TAKE_FD(s->sync));
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                return 0;
        }
        e = errno;
        prctl(PR_SET_DUMPABLE, 0);
        if (leave_pidns(s, own_pidns, err) < 0)
                return gk_error_code(*err);
        close(TAKE_FD(s->sync_child));
        if (s->pid < 0) {
                s->pid = 0;
                return gk_error_make(err, e, "clone");
        }
        return 1;
}

int gk_spawn_clone_second(gk_spawn *s, gk_error **err)
{
        int order[2], pidfd = -1;
        char c = 0;
        ssize_t n;
        pid_t pid;

        if (pipe2(order, O_CLOEXEC) < 0)
                return gk_error_errno(err, "pipe");
        pid = gk_clone(CLONE_PARENT, -1, &pidfd);
        if (pid == 0) {
                /* gkrun is our parent: we die with it, and go on only once
                 * the first stage has handed us over (its byte; its death
                 * before is the end of file) */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                close(order[1]);
                do
                        n = read(order[0], &c, 1);
                while (n < 0 && errno == EINTR);
                close(order[0]);
                if (n != 1)
                        _exit(1);
                return 0;
        }
        if (pid < 0)
                return gk_error_errno(err, "clone into the container's pid namespace");
        if (gk_sync_send_pid(s->sync_child, pid, pidfd) < 0 || write(order[1], &c, 1) != 1)
                _exit(1); /* the process sees the end of file, and exits */
        _exit(0);
}

int gk_spawn_take_over(gk_spawn *s, gk_error **err)
{
        pid_t pid;
        int pidfd = -1;

        if (gk_sync_expect_pid(s->sync, &pid, &pidfd, err) < 0)
                return gk_error_code(*err);
        /* the first stage exits once it has handed over */
        reap(s);
        s->pid = pid;
        s->pidfd = pidfd;
        return 0;
}

/* --- namespaces ------------------------------------------------------------ */

int gk_spawn_join_namespaces(const int ns_fds[GK_NS_COUNT], const char *const paths[GK_NS_COUNT],
                             gk_error **err)
{
        /* user first: the others are entered with its credentials; pid is
         * the caller's (it applies to children only) */
        static const int order[] = { GK_NS_USER, GK_NS_MOUNT,  GK_NS_NETWORK, GK_NS_IPC,
                                     GK_NS_UTS,  GK_NS_CGROUP, GK_NS_TIME };

        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                int t = order[i];

                if (ns_fds[t] < 0 || setns(ns_fds[t], gk_ns_clone_flag(t)) == 0)
                        continue;
                if (paths && paths[t])
                        return gk_error_errno(err, "join %s namespace `%s`", gk_ns_type_name(t),
                                              paths[t]);
                return gk_error_errno(err, "join %s namespace", gk_ns_type_name(t));
        }
        return 0;
}

/* --- exec ------------------------------------------------------------------ */

int gk_spawn_announce_exec(int sync, gk_error **err)
{
        int r = gk_sync_send(sync, GK_SYNC_EXEC);

        return r < 0 ? gk_error_make(err, -r, "sync: announce the exec") : 0;
}

int gk_spawn_exec(int sync, gk_exec_ctx *x, gk_error **err)
{
        if (gk_spawn_announce_exec(sync, err) < 0)
                return gk_error_code(*err);
        return gk_process_exec(x, err);
}

int gk_spawn_wait_exec(gk_spawn *s, gk_error **err)
{
        if (gk_sync_expect(s->sync, GK_SYNC_EXEC, err) < 0 || gk_sync_expect_eof(s->sync, err) < 0)
                return gk_error_code(*err);
        return 0;
}

/* --- console ---------------------------------------------------------------- */

int gk_spawn_console_connect(const char *path, gk_error **err)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (fd < 0)
                return gk_error_errno(err, "console socket");
        if (strlen(path) >= sizeof(sa.sun_path))
                return gk_error_make(err, ENAMETOOLONG, "console socket `%s`", path);
        memcpy(sa.sun_path, path, strlen(path));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return gk_error_errno(err, "connect to console socket `%s`", path);
        return TAKE_FD(fd);
}
