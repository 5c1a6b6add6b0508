/* The hybrid driver, made of the v1 and v2 ones: every controller a v1
 * hierarchy holds is v1's, the rest goes to the cgroup2 mount beside them
 * (usually /sys/fs/cgroup/unified) where the host enabled it there.  Each
 * step is the v1 driver's then the v2 driver's; nothing here knows files. */
#include "cgroup/cgroup_internal.h"

/* What the unified hierarchy does for a container here: the controllers
 * no v1 hierarchy holds, of those R asks for. */
static uint32_t unified_ctrls(const gk_cgroup *cg, const gk_resources *r)
{
        uint32_t want = gk_cg_v2_wanted(r);

        for (size_t h = 0; h < cg->lay->n_v1; h++)
                want &= ~cg->lay->v1[h].ctrls;
        return want;
}

/* The unified root is the host's: gkrun enables nothing there. */
static int hybrid_make_early(gk_cgroup *cg, gk_error **err)
{
        return gk_cg_v2_make(cg, unified_ctrls(cg, cg->pending), false, err);
}

/* The v1 directories (the unified one exists since make_early), then
 * the limits in all of them. */
static int hybrid_make_late(gk_cgroup *cg, gk_error **err)
{
        int r = gk_cg_v1_make(cg, err);

        return r < 0 ? r : gk_cg_apply_all(cg, cg->pending, false, err);
}

static int hybrid_enter(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        int r = gk_cg_v1_enter(cg, pid, err);

        return r < 0 ? r : gk_cg_v2_enter(cg, pid, err);
}

static int hybrid_update_prepare(gk_cgroup *cg, const gk_resources *r, gk_error **err)
{
        return gk_cg_v2_enable(cg, unified_ctrls(cg, r), false, err);
}

/* v1 first; the cgroup2 mount for what the host lends it (its core files
 * for the freezer and devices). */
static const gk_cg_files *hybrid_ctrl_files(const gk_cgroup *cg, enum gk_cg_ctrl c)
{
        const gk_cg_files *f = gk_cg_v1_ctrl_files(cg, c);

        if (f)
                return f;
        if ((gk_cg_v2_available(cg->lay) | GK_CG_V2_CORE) & GK_CTRL_BIT(c))
                return &gk_cg_v2_files;
        return NULL;
}

static int hybrid_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, gk_error **err)
{
        if (gk_cg_v1_ctrl_files(cg, c))
                return gk_cg_v1_ctrl_dir(cg, c, err);
        return gk_cg_v2_ctrl_dir(cg, c, err);
}

static int hybrid_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg)
{
        int r = gk_cg_v1_each_dir(cg, fn, arg);

        return r < 0 ? r : gk_cg_v2_each_dir(cg, fn, arg);
}

static int hybrid_destroy(gk_cgroup *cg, gk_error **err)
{
        int r = gk_cg_v1_destroy(cg, err);

        return r < 0 ? r : gk_cg_v2_destroy(cg, err);
}

/* Cloned into the unified directory, the child joins the v1 hierarchies
 * itself. */
static int hybrid_clone_fd(gk_cgroup *cg, pid_t leader, bool *owned)
{
        (void) leader;
        *owned = false;
        return gk_cg_v2_dir(cg, NULL);
}

const gk_cg_driver gk_cg_hybrid_driver = {
        .name = "hybrid",
        .caps = GK_CG_CAN_REALTIME | GK_CG_CAN_NET,
        .missing_hint = " (no v1 hierarchy holds it and the host did not enable it in the "
                        "unified hierarchy)",
        .make_early = hybrid_make_early,
        .make_late = hybrid_make_late,
        .enter = hybrid_enter,
        .update_prepare = hybrid_update_prepare,
        .ctrl_files = hybrid_ctrl_files,
        .ctrl_dir = hybrid_ctrl_dir,
        .main_dir = gk_cg_v2_main_dir,
        .each_dir = hybrid_each_dir,
        .kill_all = gk_cg_v2_kill_all,
        .destroy = hybrid_destroy,
        .clone_fd = hybrid_clone_fd,
        .join_fds = gk_cg_v1_join_fds,
        .join_self = gk_cg_v1_join_self,
};
