/* The cgroup interface (cgroup.h), a thin front: it picks the driver once
 * (gk_cg_driver_for; systemd's with --systemd-cgroup) and dispatches every
 * step to it; path rules, the saved form, and each linux.resources field
 * to the files of the hierarchy its controller is in.
 *
 * Saved form (state.json "cgroup"): "MODE CREATED PATH", e.g.
 * "hybrid 2 /gkrun/abc": MODE is v1, hybrid or v2 as the host was at
 * create, CREATED the number of trailing components of PATH that gkrun
 * made (those, and only those, destroy removes). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

#define DEFAULT_SLICE "gkrun"

/* Lexically cleans P ("a//b/./c/../d" -> "/a/b/d"); ".." stops at the
 * root, so no path leaves the hierarchy. */
static char *clean_path(const char *p)
{
        size_t len = strlen(p);
        char *out = malloc(len + 2), *o = out;

        if (!out)
                return NULL;
        while (*p) {
                size_t n;

                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (n == 1 && p[0] == '.') {
                        /* nothing */
                } else if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (o > out && *--o != '/')
                                ;
                } else {
                        *o++ = '/';
                        memcpy(o, p, n);
                        o += n;
                }
                p += n;
        }
        *o = '\0';
        return out;
}

int gk_cg_resolve_path(const char *id, const char *cgroups_path, char **out, bool *is_default,
                       gk_error **err)
{
        char *p;

        *is_default = !cgroups_path || !*cgroups_path;
        if (*is_default) {
                if (asprintf(&p, "/" DEFAULT_SLICE "/%s", id) < 0)
                        return gk_error_make(err, ENOMEM, "cgroup path");
                *out = p;
                return 0;
        }
        /* Relative paths are taken from the hierarchy root too: gkrun never
         * nests containers under its caller's own cgroup. */
        p = clean_path(cgroups_path);
        if (!p)
                return gk_error_make(err, ENOMEM, "cgroup path");
        if (!*p) {
                free(p);
                return gk_error_make(err, 0,
                                     "config.json: linux.cgroupsPath: \"%s\" names the "
                                     "root cgroup",
                                     cgroups_path);
        }
        *out = p;
        return 0;
}

/* The driver is picked here, once, by what the host has; every other
 * function of this file only dispatches to it. */
const gk_cg_driver *gk_cg_driver_for(const gk_cg_layout *lay)
{
        static const gk_cg_driver *const by_mode[] = { [GK_CG_V1] = &gk_cg_v1_driver,
                                                       [GK_CG_HYBRID] = &gk_cg_hybrid_driver,
                                                       [GK_CG_V2] = &gk_cg_v2_driver };

        return by_mode[lay->mode];
}

gk_cgroup *gk_cg_new(const gk_cg_layout *lay)
{
        gk_cgroup *cg = calloc(1, sizeof(*cg));

        if (!cg)
                return NULL;
        cg->lay = lay;
        cg->drv = cg->base = gk_cg_driver_for(lay);
        cg->v2_fd = -1;
        for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                cg->v1_fd[h] = -1;
        return cg;
}

int gk_cg_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, const gk_cg_files **files, gk_error **err)
{
        *files = cg->drv->ctrl_files(cg, c);
        return *files ? cg->drv->ctrl_dir(cg, c, err) : GK_CG_NO_CTRL;
}

static const char *ctrl_field(enum gk_cg_ctrl c)
{
        switch (c) {
        case GK_CTRL_MEMORY:
                return "linux.resources.memory";
        case GK_CTRL_CPU:
                return "linux.resources.cpu";
        case GK_CTRL_CPUSET:
                return "linux.resources.cpu.cpus";
        case GK_CTRL_PIDS:
                return "linux.resources.pids";
        case GK_CTRL_BLKIO:
                return "linux.resources.blockIO";
        case GK_CTRL_HUGETLB:
                return "linux.resources.hugepageLimits";
        case GK_CTRL_NET_CLS:
                return "linux.resources.network.classID";
        case GK_CTRL_NET_PRIO:
                return "linux.resources.network.priorities";
        case GK_CTRL_RDMA:
                return "linux.resources.rdma";
        default:
                return "linux.resources";
        }
}

static int apply_devices(gk_cgroup *cg, const gk_resources *r, gk_error **err)
{
        const gk_cg_files *files;
        int fd;

        if (cg->no_devices)
                return 0;
        fd = gk_cg_ctrl_dir(cg, GK_CTRL_DEVICES, &files, err);
        if (fd == GK_CG_NO_CTRL) {
                if (r && r->n_devices)
                        return gk_error_make(err, ENOENT,
                                             "linux.resources.devices: the devices "
                                             "controller is not mounted on this host");
                return 0;
        }
        return fd < 0 ? fd : files->devices(fd, r, err);
}

int gk_cg_apply_all(gk_cgroup *cg, const gk_resources *r, bool update, gk_error **err)
{
        uint32_t need = gk_cg_needed(r);
        int fd, rc;

        for (int c = 0; c < GK_CTRL_COUNT; c++) {
                const gk_cg_files *files;

                if (!(need & GK_CTRL_BIT(c)))
                        continue;
                fd = gk_cg_ctrl_dir(cg, c, &files, err);
                if (fd == GK_CG_NO_CTRL)
                        return gk_error_make(err, 0,
                                             "%s: the %s controller is not available on "
                                             "this host%s",
                                             ctrl_field(c), gk_cg_ctrl_name(c),
                                             cg->base->missing_hint);
                if (fd < 0)
                        return fd;
                if ((rc = files->apply(fd, c, r, update, err)) < 0)
                        return rc;
        }
        /* validation let these through only where the driver has them */
        if (r && r->n_unified && cg->drv->apply_unified &&
            (rc = cg->drv->apply_unified(cg, r, err)) < 0)
                return rc;
        return update ? 0 : apply_devices(cg, r, err);
}

void gk_cg_count_made(gk_cgroup *cg, unsigned made)
{
        /* destroy removes only what every hierarchy had new */
        if (!cg->counted || made < cg->created)
                cg->created = made;
        cg->counted = true;
        /* The default slice is gkrun's own: destroy may remove it when it
         * is left empty, whoever made it. */
        if (cg->is_default && cg->created)
                cg->created = 2;
}

int gk_cgroup_plan(const char *id, const char *cgroups_path, const gk_resources *resources,
                   bool systemd, gk_cgroup **out, gk_error **err)
{
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        const gk_cg_layout *lay;
        int r;

        if ((r = gk_cg_layout_get(&lay, err)) < 0)
                return r;
        cg = gk_cg_new(lay);
        if (!cg)
                return gk_error_make(err, ENOMEM, "cgroup");
        if ((r = gk_cg_validate(resources, cg->base->caps, err)) < 0) {
                gk_error_wrap(err, "config.json");
                return r;
        }
        cg->pending = resources;
        if (systemd) {
                /* made by systemd once the init exists: gk_cgroup_enter */
                cg->drv = &gk_cg_systemd_driver;
                if ((r = gk_cg_systemd_prepare(id, cgroups_path, lay->mode == GK_CG_V2, &cg->unit,
                                               &cg->path, err)) < 0)
                        return r;
                cg->unit_pending = true;
                if (!(cg->id = strdup(id)))
                        return gk_error_make(err, ENOMEM, "cgroup");
                *out = TAKE_PTR(cg);
                return 0;
        }
        if ((r = gk_cg_resolve_path(id, cgroups_path, &cg->path, &cg->is_default, err)) < 0)
                return r;
        *out = TAKE_PTR(cg);
        return 0;
}

/* Nothing half-made stays: what the steps so far made goes. */
static int make_failed(gk_cgroup *cg, int r, gk_error **err)
{
        gk_cgroup_destroy(cg, NULL);
        if (err && *err && gk_str_has_prefix((*err)->msg, "linux."))
                gk_error_wrap(err, "config.json");
        return r;
}

int gk_cgroup_make_early(gk_cgroup *cg, gk_error **err)
{
        int r = cg->drv->make_early ? cg->drv->make_early(cg, err) : 0;

        return r < 0 ? make_failed(cg, r, err) : 0;
}

int gk_cgroup_make_late(gk_cgroup *cg, gk_error **err)
{
        int r = cg->drv->make_late(cg, err);

        return r < 0 ? make_failed(cg, r, err) : 0;
}

void gk_cgroup_no_devices(gk_cgroup *cg)
{
        cg->no_devices = true;
}

bool gk_cgroup_made_any(const gk_cgroup *cg)
{
        return cg && cg->created;
}

int gk_cgroup_update(gk_cgroup *cg, const gk_resources *resources, gk_error **err)
{
        int r;

        if ((r = gk_cg_validate(resources, cg->base->caps, err)) < 0)
                return r;
        if (cg->drv->update_prepare && (r = cg->drv->update_prepare(cg, resources, err)) < 0)
                return r;
        return gk_cg_apply_all(cg, resources, true, err);
}

int gk_cgroup_enter(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        return cg->drv->enter(cg, pid, err);
}

int gk_cgroup_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg)
{
        return cg->drv->each_dir(cg, fn, arg);
}

int gk_cgroup_to_string(const gk_cgroup *cg, char **out, gk_error **err)
{
        if (asprintf(out, "%s%s%s%s %u %s", cg->unit ? "systemd " : "", cg->unit ? cg->unit : "",
                     cg->unit ? " " : "", cg->base->name, cg->created, cg->path) < 0)
                return gk_error_make(err, ENOMEM, "cgroup");
        return 0;
}

/* The saved form, old and new alike: "[systemd UNIT ]MODE CREATED PATH". */
int gk_cgroup_open(const char *saved, gk_cgroup **out, gk_error **err)
{
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        const gk_cg_layout *lay;
        _cleanup_free_ char *unit = NULL;
        char mode[8];
        unsigned created;
        int pos = 0, r;

        /* "systemd UNIT MODE CREATED PATH" with --systemd-cgroup */
        if (gk_str_has_prefix(saved, "systemd ")) {
                size_t n = strcspn(saved + 8, " ");

                if (!saved[8 + n] || !(unit = strndup(saved + 8, n)))
                        return gk_error_make(err, EINVAL, "state: cgroup: cannot parse \"%s\"",
                                             saved);
                saved += 9 + n;
        }
        if (sscanf(saved, "%7s %u %n", mode, &created, &pos) != 2 || !pos || saved[pos] != '/')
                return gk_error_make(err, EINVAL, "state: cgroup: cannot parse \"%s\"", saved);
        if ((r = gk_cg_layout_get(&lay, err)) < 0)
                return r;
        if (strcmp(mode, "v1") && strcmp(mode, "hybrid") && strcmp(mode, "v2"))
                return gk_error_make(err, EINVAL, "state: cgroup: unknown mode \"%s\"", mode);
        if (!(cg = gk_cg_new(lay)))
                return gk_error_make(err, ENOMEM, "cgroup");
        if (strcmp(mode, cg->base->name))
                return gk_error_make(err, EINVAL,
                                     "state: cgroup: made on a %s host, this one "
                                     "is %s",
                                     mode, cg->base->name);
        cg->created = created;
        cg->unit = TAKE_PTR(unit);
        if (cg->unit)
                cg->drv = &gk_cg_systemd_driver;
        cg->path = strdup(saved + pos);
        if (!cg->path)
                return gk_error_make(err, ENOMEM, "cgroup");
        *out = TAKE_PTR(cg);
        return 0;
}

const char *gk_cgroup_path(const gk_cgroup *cg)
{
        return cg->path;
}

int gk_cgroup_pids(gk_cgroup *cg, pid_t **pids, size_t *n, gk_error **err)
{
        int fd = cg->drv->main_dir(cg, err);

        return fd < 0 ? fd : gk_cg_tree_pids(fd, pids, n, err);
}

int gk_cgroup_freeze(gk_cgroup *cg, bool freeze, gk_error **err)
{
        const gk_cg_files *files;
        int fd = gk_cg_ctrl_dir(cg, GK_CTRL_FREEZER, &files, err);

        if (fd == GK_CG_NO_CTRL)
                return gk_error_make(err, ENOTSUP, "the freezer controller is not mounted");
        return fd < 0 ? fd : files->freeze(fd, freeze, err);
}

int gk_cgroup_is_frozen(gk_cgroup *cg, bool *frozen, gk_error **err)
{
        const gk_cg_files *files;
        int fd = gk_cg_ctrl_dir(cg, GK_CTRL_FREEZER, &files, err);

        *frozen = false;
        if (fd == GK_CG_NO_CTRL)
                return 0;
        return fd < 0 ? fd : files->is_frozen(fd, frozen, err);
}

static int signal_each(gk_cgroup *cg, int sig, gk_error **err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n;
        int r;

        if ((r = gk_cgroup_pids(cg, &pids, &n, err)) < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        return gk_error_errno(err, "kill %d", (int) pids[i]);
        return 0;
}

int gk_cgroup_kill_all(gk_cgroup *cg, int sig, gk_error **err)
{
        _cleanup_free_ pid_t *pids = NULL;
        bool frozen = false, froze = false;
        size_t n;
        int r;

        if (sig == SIGKILL && cg->drv->kill_all && cg->drv->kill_all(cg, NULL) == 0)
                return 0;
        /* An empty cgroup stays empty (only its members fork into it):
         * nothing to freeze.  That is the usual end of `run`, and each
         * freezer write costs the kernel a code patch on every CPU. */
        if ((r = gk_cgroup_pids(cg, &pids, &n, err)) < 0 || n == 0)
                return r;
        /* Otherwise freeze first so that no process forks past the list. */
        if (gk_cgroup_is_frozen(cg, &frozen, NULL) == 0 && !frozen)
                froze = gk_cgroup_freeze(cg, true, NULL) == 0;
        r = signal_each(cg, sig, err);
        if (froze)
                gk_cgroup_freeze(cg, false, NULL);
        return r;
}

int gk_cgroup_stats_read(gk_cgroup *cg, gk_cgroup_stats *st, gk_error **err)
{
        static const enum gk_cg_ctrl ctrls[] = { GK_CTRL_MEMORY, GK_CTRL_CPU, GK_CTRL_CPUACCT,
                                                 GK_CTRL_PIDS, GK_CTRL_BLKIO };

        memset(st, 0, sizeof(*st));
        for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
                const gk_cg_files *files;
                int fd = gk_cg_ctrl_dir(cg, ctrls[i], &files, err), r;

                if (fd == GK_CG_NO_CTRL)
                        continue;
                if (fd < 0 || (r = files->stats(fd, ctrls[i], st, err)) < 0)
                        return fd < 0 ? fd : r;
        }
        return 0;
}

int gk_cgroup_oom_fd(gk_cgroup *cg, gk_error **err)
{
        const gk_cg_files *files;
        int fd = gk_cg_ctrl_dir(cg, GK_CTRL_MEMORY, &files, err);

        if (fd == GK_CG_NO_CTRL)
                return gk_error_make(err, ENOTSUP, "the memory controller is not available");
        return fd < 0 ? fd : files->oom_fd(fd, err);
}

void gk_cg_close_dirs(gk_cgroup *cg)
{
        for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                if (cg->v1_fd[h] >= 0)
                        close(TAKE_FD(cg->v1_fd[h]));
        if (cg->v2_fd >= 0)
                close(TAKE_FD(cg->v2_fd));
}

int gk_cgroup_destroy(gk_cgroup *cg, gk_error **err)
{
        if (!cg)
                return 0;
        /* Close our own fds first: they do not pin the cgroup, but a
         * removed directory's fd is useless anyway. */
        gk_cg_close_dirs(cg);
        return cg->drv->destroy(cg, err);
}

void gk_cgroup_free(gk_cgroup *cg)
{
        if (!cg)
                return;
        gk_cg_close_dirs(cg);
        free(cg->path);
        free(cg->unit);
        free(cg->id);
        free(cg);
}

void gk_cgroup_freep(gk_cgroup **cg)
{
        gk_cgroup_free(*cg);
        *cg = NULL;
}
