/* The join handle (cgroup.h): how a new process gets into a container's
 * cgroups, with the driver's fast path (clone_fd, join_fds, join_self)
 * where it has one, and the part of GK_SYNC_GO that carries it. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "sync/sync.h"

struct gk_cgroup_join {
        gk_cgroup *cg; /* NULL: no cgroup */
        int clone_fd;  /* for CLONE_INTO_CGROUP, -1: none */
        bool own_fd;   /* clone_fd is ours (else cg's) */
        bool self;     /* the child gets in without a move by pid */
};

int gk_cgroup_join_prepare(gk_cgroup *cg, pid_t leader, gk_cgroup_join **out, gk_error **err)
{
        gk_cgroup_join *j = calloc(1, sizeof(*j));

        if (!j)
                return gk_error_make(err, ENOMEM, "cgroup");
        j->cg = cg;
        j->clone_fd = -1;
        if (cg && cg->drv->clone_fd)
                j->clone_fd = cg->drv->clone_fd(cg, leader, &j->own_fd);
        /* v2: in by the clone; v1: by itself; neither: moved by pid */
        j->self = cg && (j->clone_fd >= 0 || cg->drv->join_self);
        *out = j;
        return 0;
}

int gk_cgroup_join_clone_fd(const gk_cgroup_join *j)
{
        return j ? j->clone_fd : -1;
}

bool gk_cgroup_join_clone_charges(const gk_cgroup_join *j)
{
        return j && j->clone_fd >= 0 && j->cg->drv->clone_charges;
}

void gk_cgroup_join_clone_fd_unused(gk_cgroup_join *j)
{
        if (j && j->clone_fd >= 0)
                j->self = false;
}

int gk_cgroup_join_send(gk_cgroup_join *j, pid_t child, int sync_fd, gk_error **err)
{
        gk_cgroup *cg = j ? j->cg : NULL;
        int fds[GK_SYNC_MAX_FDS], n = 0;

        if (cg && !j->self && gk_cgroup_enter(cg, child, err) < 0)
                return gk_error_code(*err);
        /* opened now, while the child was making its namespaces */
        if (cg && j->self && cg->drv->join_fds &&
            (n = cg->drv->join_fds(cg, fds, GK_SYNC_MAX_FDS, err)) < 0)
                return n;
        return gk_sync_send_go(sync_fd, fds, (size_t) n, err);
}

int gk_cgroup_join_recv(gk_cgroup *cg, int sync_fd, gk_error **err)
{
        int fds[GK_SYNC_MAX_FDS], r = 0;
        size_t n = 0;

        /* The directory fds cached in the child's copy of CG are numbers
         * of the parent's table: gone with the child's close-all, or soon
         * to be; forgotten, never closed here (the number may be reused by
         * then), so that nothing in the child uses them. */
        if (cg) {
                for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                        cg->v1_fd[h] = -1;
                cg->v2_fd = -1;
        }

        if (gk_sync_expect_fds(sync_fd, GK_SYNC_GO, fds, &n, err) < 0)
                return gk_error_code(*err);
        /* files come only where the driver joins by itself */
        if (n && cg && cg->drv->join_self)
                r = cg->drv->join_self(cg, fds, n, err);
        else if (n)
                r = gk_error_make(err, EPROTO, "cgroup: %zu unexpected files", n);
        /* no host directory stays open in the child (a cwd of
         * /proc/self/fd/N would otherwise find one) */
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        return r;
}

void gk_cgroup_join_free(gk_cgroup_join *j)
{
        if (!j)
                return;
        if (j->own_fd && j->clone_fd >= 0)
                close(j->clone_fd);
        free(j);
}

void gk_cgroup_join_freep(gk_cgroup_join **j)
{
        gk_cgroup_join_free(*j);
        *j = NULL;
}
