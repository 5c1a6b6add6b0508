/* The --systemd-cgroup driver, over the one the host's layout picks (the
 * base): systemd makes the cgroup, as a transient scope started with the
 * init in it, and removes it when the scope stops; everything else (files,
 * limits, freezer, the v1 hierarchies systemd leaves out) is the base's.
 * The init cannot join by itself here: the scope needs its pid. */
#include <errno.h>

#include "cgroup/cgroup_internal.h"
#include "gk/util.h"

/* Nothing before the scope exists: gk_cgroup_enter starts it. */
static int sd_make(gk_cgroup *cg, gk_error **err)
{
        if (cg->unit_pending)
                return 0;
        return gk_error_make(err, EINVAL, "--systemd-cgroup: the scope `%s` exists already",
                             cg->unit);
}

/* The scope starts with PID in it; the limits systemd does not know (and
 * those it does, in the kernel's own units) go to its files as for any
 * cgroup.  v1 hierarchies systemd left out get the path made and PID. */
static int sd_start(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        const gk_cg_driver *b = cg->base;
        int r;

        r = gk_cg_systemd_start(cg->id, cg->unit, cg->path, pid, cg->pending,
                                b->ctrl_files(cg, GK_CTRL_MEMORY), b->ctrl_files(cg, GK_CTRL_CPU),
                                err);
        cg->unit_pending = false;
        if (r == -EEXIST)
                cg->unit_foreign = true;
        if (r < 0)
                return r;
        /* the base makes the path where the scope did not, moves PID
         * there (a second write where the scope put it changes nothing)
         * and applies the limits */
        r = b->make_late(cg, err);
        cg->created = 0; /* systemd's, not ours */
        if (r == 0)
                r = b->enter(cg, pid, err);
        if (r < 0 && err && *err && gk_str_has_prefix((*err)->msg, "linux."))
                gk_error_wrap(err, "config.json");
        return r;
}

static int sd_enter(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        return cg->unit_pending ? sd_start(cg, pid, err) : cg->base->enter(cg, pid, err);
}

/* Stopping the scope removes systemd's directories; the v1 hierarchies it
 * left out had the leaf made by sd_start. */
static int sd_destroy(gk_cgroup *cg, gk_error **err)
{
        int r;

        if (cg->unit_foreign)
                return 0;
        if ((r = gk_cg_systemd_stop(cg->unit, err)) < 0)
                return r;
        cg->created = 1;
        cg->base->destroy(cg, NULL);
        cg->created = 0;
        return 0;
}

static int sd_update_prepare(gk_cgroup *cg, const gk_resources *r, gk_error **err)
{
        return cg->base->update_prepare ? cg->base->update_prepare(cg, r, err) : 0;
}

static const gk_cg_files *sd_ctrl_files(const gk_cgroup *cg, enum gk_cg_ctrl c)
{
        return cg->base->ctrl_files(cg, c);
}

static int sd_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, gk_error **err)
{
        return cg->base->ctrl_dir(cg, c, err);
}

static int sd_main_dir(gk_cgroup *cg, gk_error **err)
{
        return cg->base->main_dir(cg, err);
}

static int sd_apply_unified(gk_cgroup *cg, const gk_resources *r, gk_error **err)
{
        if (!cg->base->apply_unified)
                return gk_error_make(err, ENOTSUP, "linux.resources.unified: not on this host");
        return cg->base->apply_unified(cg, r, err);
}

static int sd_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg)
{
        return cg->base->each_dir(cg, fn, arg);
}

static int sd_kill_all(gk_cgroup *cg, gk_error **err)
{
        if (!cg->base->kill_all)
                return gk_error_make(err, ENOTSUP, "cgroup.kill");
        return cg->base->kill_all(cg, err);
}

const gk_cg_driver gk_cg_systemd_driver = {
        .name = "systemd",
        .make_early = sd_make,
        .make_late = sd_make,
        .enter = sd_enter,
        .update_prepare = sd_update_prepare,
        .ctrl_files = sd_ctrl_files,
        .ctrl_dir = sd_ctrl_dir,
        .main_dir = sd_main_dir,
        .apply_unified = sd_apply_unified,
        .each_dir = sd_each_dir,
        .kill_all = sd_kill_all,
        .destroy = sd_destroy,
        /* no clone_fd, join_fds, join_self: the parent moves the init
         * (sd_enter) */
};
