/* gkrun pause ID and gkrun resume ID: freeze and thaw every process of the
 * container through its cgroup (v1 freezer.state, v2 cgroup.freeze);
 * `state` then shows "paused" (state.c asks gk_cgroup_is_frozen). */
#include <errno.h>

#include "cgroup/cgroup.h"
#include "cmd/commands.h"
#include "container/state.h"
#include "gk/cleanup.h"

static int freeze(int argc, char **argv, const gk_global *g, bool on, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        _cleanup_close_ int lock = -1;
        enum gk_status status;
        const char *id;
        int r;

        if ((r = gk_cmd_one_id(argc, argv, &id, err)) < 0 ||
            (r = gk_state_load(g->root, id, &st, err)) < 0)
                return r;
        if ((lock = gk_state_lock(g->root, id, err)) < 0)
                return lock;
        status = gk_state_status(g->root, st);
        /* runc's words: containerd matches them */
        if (on && status != GK_STATUS_RUNNING && status != GK_STATUS_CREATED)
                return gk_error_plain(err, EINVAL, "container not running");
        if (!on && status != GK_STATUS_PAUSED)
                return gk_error_plain(err, EINVAL, "container not paused");
        if (!st->cgroup || !st->cgroup[0])
                return gk_error_make(err, 0, "%s: container %s has no cgroup", argv[0], id);
        if ((r = gk_cgroup_open(st->cgroup, &cg, err)) < 0 ||
            (r = gk_cgroup_freeze(cg, on, err)) < 0)
                gk_error_wrap(err, "%s %s", argv[0], id);
        return r < 0 ? r : 0;
}

int cmd_pause(int argc, char **argv, const gk_global *g, gk_error **err)
{
        return freeze(argc, argv, g, true, err);
}

int cmd_resume(int argc, char **argv, const gk_global *g, gk_error **err)
{
        return freeze(argc, argv, g, false, err);
}
