/* The v1 driver: one directory per v1 hierarchy (name=systemd too), all
 * at the same path below each root.  Its pieces serve the hybrid driver
 * as well, for the hierarchies a hybrid host has on v1.
 *
 * The join fast path: a write of another process's pid to cgroup.procs
 * takes the kernel's global threadgroup lock, whose first writer waits for
 * an RCU grace period (milliseconds), while a thread that writes "0" to
 * `tasks` moves itself without it.  So the parent opens each hierarchy's
 * `tasks` for writing and passes the fds; the single-threaded child
 * writes "0" to each, before it joins any namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"

int gk_cg_v1_dir(gk_cgroup *cg, size_t h, gk_error **err)
{
        if (cg->v1_fd[h] < 0) {
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%s%s", cg->lay->v1[h].mnt, cg->path) < 0)
                        return gk_error_make(err, ENOMEM, "cgroup");
                cg->v1_fd[h] = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg->v1_fd[h] < 0)
                        return gk_error_errno(err, "cgroup `%s`", full);
        }
        return cg->v1_fd[h];
}

int gk_cg_v1_enter(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        char buf[24];
        int fd, r;

        snprintf(buf, sizeof(buf), "%d", (int) pid);
        for (size_t h = 0; h < cg->lay->n_v1; h++) {
                if ((fd = r = gk_cg_v1_dir(cg, h, err)) < 0 ||
                    (r = gk_cg_write(fd, "cgroup.procs", buf, "cgroup", err)) < 0) {
                        gk_error_wrap(err, "join cgroup `%s%s`", cg->lay->v1[h].mnt, cg->path);
                        return r;
                }
        }
        return 0;
}

const gk_cg_files *gk_cg_v1_ctrl_files(const gk_cgroup *cg, enum gk_cg_ctrl c)
{
        return cg->lay->v1_of[c] >= 0 ? &gk_cg_v1_files : NULL;
}

int gk_cg_v1_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, gk_error **err)
{
        int h = cg->lay->v1_of[c];

        return h < 0 ? GK_CG_NO_CTRL : gk_cg_v1_dir(cg, (size_t) h, err);
}

/* The freezer's hierarchy lists the processes (it is the one freeze
 * uses), else the first one. */
static int v1_main_dir(gk_cgroup *cg, gk_error **err)
{
        int h = cg->lay->v1_of[GK_CTRL_FREEZER];

        if (h < 0 && !cg->lay->n_v1)
                return gk_error_make(err, ENOENT, "cgroup: no hierarchy is mounted");
        return gk_cg_v1_dir(cg, h < 0 ? 0 : (size_t) h, err);
}

int gk_cg_v1_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg)
{
        char dir[PATH_MAX];
        int r;

        for (size_t h = 0; h < cg->lay->n_v1; h++) {
                const char *mnt = cg->lay->v1[h].mnt;

                if (snprintf(dir, sizeof(dir), "%s%s", mnt, cg->path) >= (int) sizeof(dir))
                        return -ENAMETOOLONG;
                if ((r = fn(mnt, dir, arg)) < 0)
                        return r;
        }
        return 0;
}

int gk_cg_v1_destroy(gk_cgroup *cg, gk_error **err)
{
        int r = 0;

        for (size_t h = 0; h < cg->lay->n_v1; h++) {
                int e = gk_cg_remove_below(cg->lay->v1[h].mnt, cg->path, cg->created, err);

                if (e < 0 && !r)
                        r = e;
        }
        return r;
}

int gk_cg_v1_join_fds(gk_cgroup *cg, int *fds, size_t max, gk_error **err)
{
        size_t n = 0;

        for (size_t h = 0; h < cg->lay->n_v1; h++) {
                int dir = gk_cg_v1_dir(cg, h, err), fd;

                if (n == max)
                        fd = gk_error_make(err, E2BIG, "cgroup: too many hierarchies");
                else
                        fd = dir < 0 ? dir : gk_cg_open_write(dir, "tasks", "cgroup", err);
                if (fd < 0) {
                        while (n)
                                close(fds[--n]);
                        return fd;
                }
                fds[n++] = fd;
        }
        return (int) n;
}

/* In the child: only the fds the parent passed are used, never a
 * directory fd of cg (the child's copy names fds of the parent's, which
 * the child has closed or will close). */
int gk_cg_v1_join_self(const gk_cgroup *cg, const int *fds, size_t n, gk_error **err)
{
        if (n != cg->lay->n_v1)
                return gk_error_make(err, EPROTO,
                                     "join cgroup `%s`: %zu files for %zu "
                                     "hierarchies",
                                     cg->path, n, cg->lay->n_v1);
        for (size_t h = 0; h < n; h++) {
                int r = gk_cg_write_fd(fds[h], "tasks", "0", "cgroup", err);

                if (r < 0)
                        return gk_error_wrap(err, "join cgroup `%s%s`", cg->lay->v1[h].mnt,
                                             cg->path);
        }
        return 0;
}

/* The directories, then the limits in them. */
static int v1_make_late(gk_cgroup *cg, gk_error **err)
{
        int r = gk_cg_v1_make(cg, err);

        return r < 0 ? r : gk_cg_apply_all(cg, cg->pending, false, err);
}

const gk_cg_driver gk_cg_v1_driver = {
        .name = "v1",
        .caps = GK_CG_CAN_REALTIME | GK_CG_CAN_NET,
        .missing_hint = "",
        /* the init joins by itself after the clone: nothing before it */
        .make_late = v1_make_late,
        .enter = gk_cg_v1_enter,
        .ctrl_files = gk_cg_v1_ctrl_files,
        .ctrl_dir = gk_cg_v1_ctrl_dir,
        .main_dir = v1_main_dir,
        .each_dir = gk_cg_v1_each_dir,
        .destroy = gk_cg_v1_destroy,
        .join_fds = gk_cg_v1_join_fds,
        .join_self = gk_cg_v1_join_self,
};
