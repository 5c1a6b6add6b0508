/* The cgroup interface (cgroup.h): path rules, the handle and its saved
 * form, and dispatch of each linux.resources field to the hierarchy whose
 * controller it needs (v1 or v2, see cgroup_internal.h).
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

#include "cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

#define DEFAULT_SLICE "gkrun"

static const char *const mode_names[] = { [GK_CG_V1] = "v1", [GK_CG_HYBRID] = "hybrid",
                                          [GK_CG_V2] = "v2" };

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

int gk_cg_resolve_path(const char *id, const char *cgroups_path, char **out,
                       bool *is_default, gk_error **err)
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
                return gk_error_make(err, 0, "config.json: linux.cgroupsPath: \"%s\" names the "
                                     "root cgroup", cgroups_path);
        }
        *out = p;
        return 0;
}

static gk_cgroup *cg_new(const gk_cg_layout *lay, enum gk_cg_mode mode)
{
        gk_cgroup *cg = calloc(1, sizeof(*cg));

        if (!cg)
                return NULL;
        cg->lay = lay;
        cg->mode = mode;
        cg->v2_fd = -1;
        for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                cg->v1_fd[h] = -1;
        return cg;
}

static int open_dir(const char *mnt, const char *path, gk_error **err)
{
        _cleanup_free_ char *full = NULL;
        int fd;

        if (asprintf(&full, "%s%s", mnt, path) < 0)
                return gk_error_make(err, ENOMEM, "cgroup");
        fd = open(full, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "cgroup `%s`", full);
        return fd;
}

int gk_cg_v1_dir(gk_cgroup *cg, size_t h, gk_error **err)
{
        if (cg->v1_fd[h] < 0)
                cg->v1_fd[h] = open_dir(cg->lay->v1[h].mnt, cg->path, err);
        return cg->v1_fd[h];
}

int gk_cg_v2_dir(gk_cgroup *cg, gk_error **err)
{
        if (!cg->lay->v2_mnt || cg->mode == GK_CG_V1)
                return gk_error_make(err, ENOENT, "cgroup v2 is not mounted");
        if (cg->v2_fd < 0)
                cg->v2_fd = open_dir(cg->lay->v2_mnt, cg->path, err);
        return cg->v2_fd;
}

int gk_cg_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, bool *v2, gk_error **err)
{
        int h = cg->lay->v1_of[c];

        if (cg->mode != GK_CG_V2 && h >= 0) {
                *v2 = false;
                return gk_cg_v1_dir(cg, (size_t) h, err);
        }
        if (cg->mode == GK_CG_V2 ||
            (cg->mode == GK_CG_HYBRID && (gk_cg_v2_available(cg->lay) & GK_CTRL_BIT(c)))) {
                *v2 = true;
                return gk_cg_v2_dir(cg, err);
        }
        return GK_CG_NO_CTRL;
}

/* The directory that lists the container's processes and freezes them. */
static int primary_dir(gk_cgroup *cg, bool *v2, gk_error **err)
{
        int h = cg->lay->v1_of[GK_CTRL_FREEZER];

        if (cg->mode == GK_CG_V1 && h < 0)
                h = cg->lay->n_v1 ? 0 : -1;
        if (cg->mode == GK_CG_V1 && h >= 0) {
                *v2 = false;
                return gk_cg_v1_dir(cg, (size_t) h, err);
        }
        *v2 = true;
        return gk_cg_v2_dir(cg, err);
}

static const char *ctrl_field(enum gk_cg_ctrl c)
{
        switch (c) {
        case GK_CTRL_MEMORY: return "linux.resources.memory";
        case GK_CTRL_CPU: return "linux.resources.cpu";
        case GK_CTRL_CPUSET: return "linux.resources.cpu.cpus";
        case GK_CTRL_PIDS: return "linux.resources.pids";
        case GK_CTRL_BLKIO: return "linux.resources.blockIO";
        case GK_CTRL_HUGETLB: return "linux.resources.hugepageLimits";
        case GK_CTRL_NET_CLS: return "linux.resources.network.classID";
        case GK_CTRL_NET_PRIO: return "linux.resources.network.priorities";
        case GK_CTRL_RDMA: return "linux.resources.rdma";
        default: return "linux.resources";
        }
}

static int apply_devices(gk_cgroup *cg, const gk_resources *r, gk_error **err)
{
        int h = cg->lay->v1_of[GK_CTRL_DEVICES], fd;

        if (cg->mode != GK_CG_V2 && h >= 0) {
                fd = gk_cg_v1_dir(cg, (size_t) h, err);
                return fd < 0 ? fd : gk_cg_v1_devices(fd, r, err);
        }
        if (cg->mode == GK_CG_V1) {
                if (r && r->n_devices)
                        return gk_error_make(err, ENOENT, "linux.resources.devices: the devices "
                                             "controller is not mounted on this host");
                return 0;
        }
        fd = gk_cg_v2_dir(cg, err);
        return fd < 0 ? fd : gk_cg_v2_devices(fd, r, err);
}

/* Applies every field of R to the hierarchy of its controller; at create
 * (not update) also the device rules, which apply even without R. */
static int apply_all(gk_cgroup *cg, const gk_resources *r, bool update, gk_error **err)
{
        uint32_t need = gk_cg_needed(r);
        int fd, rc;

        for (int c = 0; c < GK_CTRL_COUNT; c++) {
                bool v2;

                if (!(need & GK_CTRL_BIT(c)))
                        continue;
                fd = gk_cg_ctrl_dir(cg, c, &v2, err);
                if (fd == GK_CG_NO_CTRL)
                        return gk_error_make(err, 0, "%s: the %s controller is not available on "
                                             "this host%s", ctrl_field(c), gk_cg_ctrl_name(c, false),
                                             cg->mode == GK_CG_HYBRID ? " (no v1 hierarchy holds it "
                                             "and the host did not enable it in the unified "
                                             "hierarchy)" : "");
                if (fd < 0)
                        return fd;
                rc = (v2 ? gk_cg_v2_apply : gk_cg_v1_apply)(fd, c, r, update, err);
                if (rc < 0)
                        return rc;
        }
        if (r && r->n_unified) {
                fd = gk_cg_v2_dir(cg, err);
                if (fd < 0)
                        return fd;
                if ((rc = gk_cg_v2_unified(fd, r, err)) < 0)
                        return rc;
        }
        return update ? 0 : apply_devices(cg, r, err);
}

/* v2 controllers a new cgroup gets: on pure v2 the ones stats read plus
 * what R needs; on hybrid only what no v1 hierarchy holds. */
static uint32_t v2_ctrls_for(const gk_cgroup *cg, const gk_resources *r)
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
        if (cg->mode == GK_CG_V2)
                return want | GK_CTRL_BIT(GK_CTRL_CPU) | GK_CTRL_BIT(GK_CTRL_MEMORY) |
                       GK_CTRL_BIT(GK_CTRL_PIDS) | GK_CTRL_BIT(GK_CTRL_BLKIO);
        for (size_t h = 0; h < cg->lay->n_v1; h++)
                want &= ~cg->lay->v1[h].ctrls;
        return want;
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
        if ((r = gk_cg_validate(resources, lay->mode, err)) < 0) {
                gk_error_wrap(err, "config.json");
                return r;
        }
        cg = cg_new(lay, lay->mode);
        if (!cg)
                return gk_error_make(err, ENOMEM, "cgroup");
        cg->pending = resources;
        if (systemd) {
                /* made by systemd once the init exists: gk_cgroup_enter */
                if ((r = gk_cg_systemd_prepare(id, cgroups_path, &cg->unit, &cg->path, err)) < 0)
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
        int r;

        if (cg->unit_pending || cg->mode == GK_CG_V1)
                return 0;
        r = gk_cg_v2_make(cg, v2_ctrls_for(cg, cg->pending), cg->is_default, err);
        /* pure v2: the limits hold before the init is cloned into the
         * cgroup, so that it is charged against them from its first page */
        if (r == 0 && cg->mode == GK_CG_V2)
                r = apply_all(cg, cg->pending, false, err);
        return r < 0 ? make_failed(cg, r, err) : 0;
}

int gk_cgroup_make_late(gk_cgroup *cg, gk_error **err)
{
        int r = 0;

        if (cg->unit_pending)
                return 0;
        if (cg->mode != GK_CG_V2)
                r = gk_cg_v1_make(cg, err);
        if (r == 0 && cg->mode != GK_CG_V2)
                r = apply_all(cg, cg->pending, false, err);
        return r < 0 ? make_failed(cg, r, err) : 0;
}

bool gk_cgroup_made_any(const gk_cgroup *cg)
{
        return cg && cg->created;
}

int gk_cgroup_update(gk_cgroup *cg, const gk_resources *resources, gk_error **err)
{
        int r;

        if ((r = gk_cg_validate(resources, cg->mode, err)) < 0)
                return r;
        if (cg->mode != GK_CG_V1 &&
            (r = gk_cg_v2_enable(cg, v2_ctrls_for(cg, resources), err)) < 0)
                return r;
        return apply_all(cg, resources, true, err);
}

/* The scope starts with PID in it; the limits systemd does not know (and
 * those it does, in the kernel's own units) go to its files as for any
 * cgroup.  v1 hierarchies systemd left out get the path made and PID. */
static int systemd_enter(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        int r;

        r = gk_cg_systemd_start(cg->id, cg->unit, cg->path, pid, cg->pending,
                                cg->mode == GK_CG_V2, err);
        cg->unit_pending = false;
        if (r == -EEXIST)
                cg->unit_foreign = true;
        if (r < 0)
                return r;
        if (cg->mode != GK_CG_V2) {
                if ((r = gk_cg_v1_make(cg, err)) < 0 || (r = gk_cgroup_enter(cg, pid, err)) < 0)
                        return r;
                cg->created = 0;
        }
        r = apply_all(cg, cg->pending, false, err);
        if (r < 0 && err && *err && gk_str_has_prefix((*err)->msg, "linux."))
                gk_error_wrap(err, "config.json");
        return r;
}

int gk_cgroup_enter(gk_cgroup *cg, pid_t pid, gk_error **err)
{
        char buf[24];
        int fd, r = 0;

        if (cg->unit_pending)
                return systemd_enter(cg, pid, err);
        snprintf(buf, sizeof(buf), "%d", (int) pid);
        for (size_t h = 0; cg->mode != GK_CG_V2 && h < cg->lay->n_v1; h++) {
                if ((fd = r = gk_cg_v1_dir(cg, h, err)) < 0 ||
                    (r = gk_cg_write(fd, "cgroup.procs", buf, "cgroup", err)) < 0) {
                        gk_error_wrap(err, "join cgroup `%s%s`", cg->lay->v1[h].mnt, cg->path);
                        return r;
                }
        }
        if (cg->mode != GK_CG_V1) {
                if ((fd = r = gk_cg_v2_dir(cg, err)) < 0 ||
                    (r = gk_cg_write(fd, "cgroup.procs", buf, "cgroup", err)) < 0) {
                        gk_error_wrap(err, "join cgroup `%s%s`", cg->lay->v2_mnt, cg->path);
                        return r;
                }
        }
        return 0;
}

int gk_cgroup_v2_open_of(gk_cgroup *cg, pid_t pid)
{
        _cleanup_free_ char *text = NULL;
        char proc[40];
        const char *line, *rel;
        size_t n = strlen(cg->path);
        int dir = gk_cgroup_v2_fd(cg);

        snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int) pid);
        if (dir < 0 || gk_read_file_at(AT_FDCWD, proc, &text, NULL, NULL) < 0)
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

int gk_cgroup_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg)
{
        char dir[PATH_MAX];
        int r;

        for (size_t h = 0; cg->mode != GK_CG_V2 && h < cg->lay->n_v1; h++) {
                const char *mnt = cg->lay->v1[h].mnt;

                if (snprintf(dir, sizeof(dir), "%s%s", mnt, cg->path) >= (int) sizeof(dir))
                        return -ENAMETOOLONG;
                if ((r = fn(mnt, dir, arg)) < 0)
                        return r;
        }
        if (cg->mode == GK_CG_V1 || !cg->lay->v2_mnt)
                return 0;
        if (snprintf(dir, sizeof(dir), "%s%s", cg->lay->v2_mnt, cg->path) >= (int) sizeof(dir))
                return -ENAMETOOLONG;
        return fn(cg->lay->v2_mnt, dir, arg);
}

int gk_cgroup_v2_fd(gk_cgroup *cg)
{
        if (!cg || cg->mode != GK_CG_V2 || cg->unit)
                return -1;
        return gk_cg_v2_dir(cg, NULL);
}

bool gk_cgroup_self_enter_ok(const gk_cgroup *cg)
{
        return cg && !cg->unit && !cg->unit_pending;
}

bool gk_cgroup_clone_charges(const gk_cgroup *cg)
{
        return gk_cgroup_self_enter_ok(cg) && cg->mode == GK_CG_V2;
}

int gk_cgroup_clone_fd(gk_cgroup *cg)
{
        if (!gk_cgroup_self_enter_ok(cg) || cg->mode == GK_CG_V1)
                return -1;
        return gk_cg_v2_dir(cg, NULL);
}

int gk_cgroup_join_fds(gk_cgroup *cg, int *fds, size_t max, gk_error **err)
{
        size_t n = 0;

        for (size_t h = 0; cg && cg->mode != GK_CG_V2 && h < cg->lay->n_v1; h++) {
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

void gk_cgroup_forget_fds(gk_cgroup *cg)
{
        if (!cg)
                return;
        for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                cg->v1_fd[h] = -1;
        cg->v2_fd = -1;
}

int gk_cgroup_enter_self(gk_cgroup *cg, const int *fds, size_t n, gk_error **err)
{
        int fd, r = 0;

        for (size_t h = 0; cg->mode != GK_CG_V2 && h < cg->lay->n_v1; h++) {
                if (h < n)
                        r = gk_cg_write_fd(fds[h], "tasks", "0", "cgroup", err);
                else if ((fd = r = gk_cg_v1_dir(cg, h, err)) >= 0)
                        r = gk_cg_write(fd, "tasks", "0", "cgroup", err);
                if (r < 0) {
                        gk_error_wrap(err, "join cgroup `%s%s`", cg->lay->v1[h].mnt, cg->path);
                        break;
                }
        }
        /* the init needs them no more: no host directory stays open in it
         * (a cwd of /proc/self/fd/N would otherwise find one) */
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                if (cg->v1_fd[h] >= 0)
                        close(TAKE_FD(cg->v1_fd[h]));
        if (cg->v2_fd >= 0)
                close(TAKE_FD(cg->v2_fd));
        return r < 0 ? r : 0;
}

int gk_cgroup_to_string(const gk_cgroup *cg, char **out, gk_error **err)
{
        if (asprintf(out, "%s%s%s%s %u %s", cg->unit ? "systemd " : "", cg->unit ? cg->unit : "",
                     cg->unit ? " " : "", mode_names[cg->mode], cg->created, cg->path) < 0)
                return gk_error_make(err, ENOMEM, "cgroup");
        return 0;
}

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
        if (sscanf(saved, "%7s %u %n", mode, &created, &pos) != 2 || !pos ||
            saved[pos] != '/')
                return gk_error_make(err, EINVAL, "state: cgroup: cannot parse \"%s\"", saved);
        if ((r = gk_cg_layout_get(&lay, err)) < 0)
                return r;
        for (int m = 0; m <= GK_CG_V2; m++)
                if (!strcmp(mode, mode_names[m])) {
                        if ((enum gk_cg_mode) m != lay->mode)
                                return gk_error_make(err, EINVAL, "state: cgroup: made on a %s "
                                                     "host, this one is %s", mode,
                                                     mode_names[lay->mode]);
                        cg = cg_new(lay, lay->mode);
                }
        if (!cg)
                return gk_error_make(err, EINVAL, "state: cgroup: unknown mode \"%s\"", mode);
        cg->created = created;
        cg->unit = TAKE_PTR(unit);
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
        bool v2;
        int fd = primary_dir(cg, &v2, err);

        return fd < 0 ? fd : gk_cg_tree_pids(fd, pids, n, err);
}

int gk_cgroup_freeze(gk_cgroup *cg, bool freeze, gk_error **err)
{
        int h = cg->lay->v1_of[GK_CTRL_FREEZER], fd;

        if (cg->mode != GK_CG_V2 && h >= 0) {
                fd = gk_cg_v1_dir(cg, (size_t) h, err);
                return fd < 0 ? fd : gk_cg_v1_freeze(fd, freeze, err);
        }
        if (cg->mode == GK_CG_V1)
                return gk_error_make(err, ENOTSUP, "the freezer controller is not mounted");
        fd = gk_cg_v2_dir(cg, err);
        return fd < 0 ? fd : gk_cg_v2_freeze(fd, freeze, err);
}

int gk_cgroup_is_frozen(gk_cgroup *cg, bool *frozen, gk_error **err)
{
        int h = cg->lay->v1_of[GK_CTRL_FREEZER], fd;
        char buf[32];
        bool v1 = cg->mode != GK_CG_V2 && h >= 0;

        ssize_t n;

        *frozen = false;
        if (cg->mode == GK_CG_V1 && h < 0)
                return 0;
        fd = v1 ? gk_cg_v1_dir(cg, (size_t) h, err) : gk_cg_v2_dir(cg, err);
        if (fd < 0)
                return fd;
        n = gk_cg_read(fd, v1 ? "freezer.state" : "cgroup.freeze", buf, sizeof(buf), err);
        if (n < 0)
                return (int) n;
        *frozen = v1 ? gk_str_has_prefix(buf, "FROZEN") : buf[0] == '1';
        return 0;
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

        /* cgroup.kill reaches every process, forking or not, at once. */
        if (sig == SIGKILL && cg->mode != GK_CG_V1) {
                int fd = gk_cg_v2_dir(cg, NULL);

                if (fd >= 0 && gk_cg_write(fd, "cgroup.kill", "1", "cgroup.kill", NULL) == 0)
                        return 0;
        }
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

        int r;

        memset(st, 0, sizeof(*st));
        for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
                bool v2;
                int fd = gk_cg_ctrl_dir(cg, ctrls[i], &v2, err);

                if (fd == GK_CG_NO_CTRL)
                        continue;
                if (fd < 0)
                        return fd;
                if (v2 && (r = gk_cg_v2_stats(fd, ctrls[i], st, err)) < 0)
                        return r;
        }
        if (cg->mode != GK_CG_V2 && (r = gk_cg_v1_stats(cg, st, err)) < 0)
                return r;
        return 0;
}

/* Removes PATH's last COUNT components below ROOT, deepest first.  The
 * leaf must go (EBUSY while processes remain); parents only when empty. */
static int remove_below(const char *root, const char *path, unsigned count, gk_error **err)
{
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s%s", root, path) < 0)
                return gk_error_make(err, ENOMEM, "cgroup");
        for (unsigned i = 0; i < count; i++) {
                int e = rmdir(p) < 0 ? errno : 0;
                char *slash;

                /* sub-cgroups the container made go first; most have none */
                if (i == 0 && (e == EBUSY || e == ENOTEMPTY)) {
                        gk_cg_tree_clear(p);
                        e = rmdir(p) < 0 ? errno : 0;
                }
                if (e && e != ENOENT) {
                        errno = e;
                        if (i == 0)
                                return gk_error_errno(err, "remove cgroup `%s`", p);
                        break; /* a parent still in use by someone else */
                }
                slash = strrchr(p, '/');
                if (!slash || slash - p <= (ptrdiff_t) strlen(root))
                        break;
                *slash = '\0';
        }
        return 0;
}

int gk_cgroup_destroy(gk_cgroup *cg, gk_error **err)
{
        int r = 0;

        if (cg && cg->unit && !cg->unit_foreign) {
                /* v1 hierarchies systemd left out had the path made */
                r = gk_cg_systemd_stop(cg->unit, err);
                for (size_t h = 0; r == 0 && cg->mode != GK_CG_V2 && h < cg->lay->n_v1; h++)
                        remove_below(cg->lay->v1[h].mnt, cg->path, 1, NULL);
                return r;
        }
        if (!cg || !cg->created)
                return 0;
        /* Close our own fds first: they do not pin the cgroup, but a
         * removed directory's fd is useless anyway. */
        for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                if (cg->v1_fd[h] >= 0)
                        close(TAKE_FD(cg->v1_fd[h]));
        if (cg->v2_fd >= 0)
                close(TAKE_FD(cg->v2_fd));
        for (size_t h = 0; cg->mode != GK_CG_V2 && h < cg->lay->n_v1; h++) {
                int e = remove_below(cg->lay->v1[h].mnt, cg->path, cg->created, err);

                if (e < 0 && !r)
                        r = e;
        }
        if (cg->mode != GK_CG_V1 && !r)
                r = remove_below(cg->lay->v2_mnt, cg->path, cg->created, err);
        return r;
}

void gk_cgroup_free(gk_cgroup *cg)
{
        if (!cg)
                return;
        for (size_t h = 0; h < GK_CG_MAX_HIER; h++)
                if (cg->v1_fd[h] >= 0)
                        close(cg->v1_fd[h]);
        if (cg->v2_fd >= 0)
                close(cg->v2_fd);
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
