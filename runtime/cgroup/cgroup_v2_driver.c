/* The v2 driver: one directory below the cgroup2 mount, which gkrun makes
 * before the init's clone so that clone3(CLONE_INTO_CGROUP) starts the
 * init inside it (no move afterwards, no RCU grace period).  Its pieces
 * serve the hybrid driver as well, for the cgroup2 mount beside the v1
 * hierarchies. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

int gk_cg_v2_dir(gk_cgroup *cg, gk_error **err)
{
        if (!cg->lay->v2_mnt)
                return gk_error_make(err, ENOENT, "cgroup v2 is not mounted");
        if (cg->v2_fd < 0) {
                _cleanup_free_ char *full = NULL;

                if (asprintf(&full, "%s%s", cg->lay->v2_mnt, cg->path) < 0)
                        return gk_error_make(err, ENOMEM, "cgroup");
                cg->v2_fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (cg->v2_fd < 0)
                        return gk_error_errno(err, "cgroup `%s`", full);
        }
        return cg->v2_fd;
}

int gk_cg_v2_enter(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        char buf[24];
        int fd, r;

        snprintf(buf, sizeof(buf), "%d", (int) pid);
        if ((fd = r = gk_cg_v2_dir(cg, err)) < 0 ||
            (r = gk_cg_write(fd, "cgroup.procs", buf, "cgroup", err)) < 0) {
                gk_error_wrap(err, "join cgroup `%s%s`", cg->lay->v2_mnt, cg->path);
                return r;
        }
        return 0;
}

uint32_t gk_cg_v2_wanted(const gk_resources *r)
{
        uint32_t want = gk_cg_needed(r);

        for (size_t i = 0; r && i < r->n_unified; i++) {
                _cleanup_free_ char *k = strdup(r->unified[i].key);
                int c;

                if (k && strchr(k, '.')) {
                        *strchr(k, '.') = '\0';
                        if ((c = gk_cg_ctrl_from_name(k)) >= 0)
                                want |= GK_CTRL_BIT(c);
                }
        }
        return want;
}

int gk_cg_v2_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg)
{
        char dir[PATH_MAX];

        if (!cg->lay->v2_mnt)
                return 0;
        if (snprintf(dir, sizeof(dir), "%s%s", cg->lay->v2_mnt, cg->path) >= (int) sizeof(dir))
                return -ENAMETOOLONG;
        return fn(cg->lay->v2_mnt, dir, arg);
}

int gk_cg_v2_destroy(gk_cgroup *cg, gk_error **err)
{
        return gk_cg_remove_below(cg->lay->v2_mnt, cg->path, cg->created, err);
}

/* cgroup.kill reaches every process, forking or not, at once (5.14+). */
int gk_cg_v2_kill_all(gk_cgroup *cg, gk_error **err)
{
        int fd = gk_cg_v2_dir(cg, err);

        return fd < 0 ? fd : gk_cg_write(fd, "cgroup.kill", "1", "cgroup.kill", err);
}

int gk_cg_v2_main_dir(gk_cgroup *cg, gk_error **err)
{
        return gk_cg_v2_dir(cg, err);
}

int gk_cg_v2_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, gk_error **err)
{
        (void) c;
        return gk_cg_v2_dir(cg, err);
}

/* Every controller a container's cgroup has on a pure v2 host: those the
 * stats read, and what its resources ask for. */
#define V2_DEFAULT_CTRLS                                                                      \
        (GK_CTRL_BIT(GK_CTRL_CPU) | GK_CTRL_BIT(GK_CTRL_MEMORY) | GK_CTRL_BIT(GK_CTRL_PIDS) | \
         GK_CTRL_BIT(GK_CTRL_BLKIO))

/* The directory and its limits: they hold before the init is cloned into
 * the cgroup, so that it is charged against them from its first page (and
 * no batch of per-cpu charges is left to drain when memory.max is written
 * under a running process). */
static int v2_make_early(gk_cgroup *cg, gk_error **err)
{
        int r = gk_cg_v2_make(cg, gk_cg_v2_wanted(cg->pending) | V2_DEFAULT_CTRLS, true, err);

        if (r < 0 || (r = gk_cg_apply_all(cg, cg->pending, false, err)) < 0)
                return r;
        cg->applied_early = true;
        return 0;
}

/* The limits, unless make_early applied them (the systemd driver calls
 * only this one, once its scope made the directory). */
static int v2_make_late(gk_cgroup *cg, gk_error **err)
{
        return cg->applied_early ? 0 : gk_cg_apply_all(cg, cg->pending, false, err);
}

static int v2_update_prepare(gk_cgroup *cg, const gk_resources *r, gk_error **err)
{
        return gk_cg_v2_enable(cg, gk_cg_v2_wanted(r) | V2_DEFAULT_CTRLS, true, err);
}

static const gk_cg_files *v2_ctrl_files(const gk_cgroup *cg, enum gk_cg_ctrl c)
{
        (void) cg;
        (void) c;
        return &gk_cg_v2_files;
}

static int v2_apply_unified(gk_cgroup *cg, const gk_resources *r, gk_error **err)
{
        int fd = gk_cg_v2_dir(cg, err);

        return fd < 0 ? fd : gk_cg_v2_unified(fd, r, err);
}

/* On v2, the sub-cgroup of the container's cgroup that LEADER is in, when
 * it is not the container's cgroup itself: an init like systemd moves
 * itself to a sub-cgroup and enables controllers, and then v2 refuses
 * processes in the container's cgroup (EBUSY): an exec'd process goes
 * beside the init. */
static int open_leaf_of(gk_cgroup *cg, int dir, pid_t leader)
{
        _cleanup_free_ char *text = NULL;
        char proc[40];
        const char *line, *rel;
        size_t n = strlen(cg->path);

        snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int) leader);
        if (gk_read_file_at(AT_FDCWD, proc, &text, NULL, NULL) < 0)
                return -1;
        line = strstr(text, "0::");
        if (!line || (line != text && line[-1] != '\n'))
                return -1;
        line += 3;
        line = strndupa(line, strcspn(line, "\n"));
        /* strictly below the container's cgroup, by a plain relative path */
        if (strncmp(line, cg->path, n) || line[n] != '/' || strstr(line, "/.."))
                return -1;
        rel = line + n + 1;
        return *rel ? openat(dir, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
}

static int v2_clone_fd(gk_cgroup *cg, pid_t leader, bool *owned)
{
        int dir = gk_cg_v2_dir(cg, NULL), leaf;

        *owned = false;
        if (dir < 0)
                return -1;
        if (leader > 0 && (leaf = open_leaf_of(cg, dir, leader)) >= 0) {
                *owned = true;
                return leaf;
        }
        return dir;
}

const gk_cg_driver gk_cg_v2_driver = {
        .name = "v2",
        .caps = GK_CG_CAN_UNIFIED,
        .missing_hint = "",
        .clone_charges = true,
        .make_early = v2_make_early,
        .make_late = v2_make_late,
        .enter = gk_cg_v2_enter,
        .update_prepare = v2_update_prepare,
        .ctrl_files = v2_ctrl_files,
        .ctrl_dir = gk_cg_v2_ctrl_dir,
        .main_dir = gk_cg_v2_main_dir,
        .apply_unified = v2_apply_unified,
        .each_dir = gk_cg_v2_each_dir,
        .kill_all = gk_cg_v2_kill_all,
        .destroy = gk_cg_v2_destroy,
        /* cloned into its cgroup: nothing to pass, nothing to do */
        .clone_fd = v2_clone_fd,
};
