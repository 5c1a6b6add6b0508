/* The host's cgroup layout, detected once per process: pure v2 (cgroup2 on
 * /sys/fs/cgroup, one statfs), or v1 hierarchies from /proc/self/mountinfo,
 * hybrid when a cgroup2 mount sits beside them (/sys/fs/cgroup/unified). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static const char *const ctrl_names[GK_CTRL_COUNT] = {
        [GK_CTRL_CPU] = "cpu",           [GK_CTRL_CPUACCT] = "cpuacct",
        [GK_CTRL_CPUSET] = "cpuset",     [GK_CTRL_MEMORY] = "memory",
        [GK_CTRL_PIDS] = "pids",         [GK_CTRL_BLKIO] = "blkio",
        [GK_CTRL_DEVICES] = "devices",   [GK_CTRL_FREEZER] = "freezer",
        [GK_CTRL_HUGETLB] = "hugetlb",   [GK_CTRL_NET_CLS] = "net_cls",
        [GK_CTRL_NET_PRIO] = "net_prio", [GK_CTRL_RDMA] = "rdma",
        [GK_CTRL_MISC] = "misc",         [GK_CTRL_PERF_EVENT] = "perf_event",
};

const char *gk_cg_ctrl_name(enum gk_cg_ctrl c)
{
        return c < GK_CTRL_COUNT ? ctrl_names[c] : "?";
}

const char *gk_cg_v2_ctrl_name(enum gk_cg_ctrl c)
{
        return c == GK_CTRL_BLKIO ? "io" : gk_cg_ctrl_name(c);
}

int gk_cg_ctrl_from_name(const char *name)
{
        if (!strcmp(name, "io"))
                return GK_CTRL_BLKIO;
        for (int c = 0; c < GK_CTRL_COUNT; c++)
                if (!strcmp(name, ctrl_names[c]))
                        return c;
        return -1;
}

void gk_cg_ctrl_list(uint32_t ctrls, char *buf, size_t size)
{
        size_t used = 0;

        buf[0] = '\0';
        for (int c = 0; c < GK_CTRL_COUNT; c++) {
                int n;

                if (!(ctrls & GK_CTRL_BIT(c)))
                        continue;
                n = snprintf(buf + used, size - used, "%s+%s", used ? " " : "",
                             gk_cg_v2_ctrl_name(c));
                if (n < 0 || (size_t) n >= size - used)
                        break;
                used += (size_t) n;
        }
}

uint32_t gk_cg_parse_ctrl_list(const char *text)
{
        _cleanup_free_ char *copy = strdup(text);
        char *save = NULL;
        uint32_t bits = 0;

        if (!copy)
                return 0;
        for (char *t = strtok_r(copy, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
                int c = gk_cg_ctrl_from_name(t);

                if (c >= 0)
                        bits |= GK_CTRL_BIT(c);
        }
        return bits;
}

static uint32_t superopt_ctrls(char *opts)
{
        char *save = NULL;
        uint32_t bits = 0;

        for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                int c = gk_cg_ctrl_from_name(t);

                /* "io" is no v1 option; only the cgroup2 name maps to it */
                if (c >= 0 && strcmp(t, "io"))
                        bits |= GK_CTRL_BIT(c);
        }
        return bits;
}

/* Whether OPTS (a mount's super options) name the hierarchy name=systemd. */
static bool is_systemd_hier(const char *opts)
{
        for (const char *p = opts; *p; p += strcspn(p, ","), p += *p == ',')
                if (!strncmp(p, "name=systemd", 12) && (!p[12] || p[12] == ','))
                        return true;
        return false;
}

static int add_v1(gk_cg_layout *lay, const char *mnt, uint32_t ctrls)
{
        for (size_t i = 0; i < lay->n_v1; i++)
                if ((lay->v1[i].ctrls & ctrls) || (!ctrls && !lay->v1[i].ctrls))
                        return 0; /* the same hierarchy mounted twice */
        if (lay->n_v1 == GK_CG_MAX_HIER)
                return 0;
        lay->v1[lay->n_v1].mnt = gk_mountinfo_unescape(mnt);
        if (!lay->v1[lay->n_v1].mnt)
                return -ENOMEM;
        lay->v1[lay->n_v1].ctrls = ctrls;
        for (int c = 0; c < GK_CTRL_COUNT; c++)
                if (ctrls & GK_CTRL_BIT(c))
                        lay->v1_of[c] = (int) lay->n_v1;
        lay->n_v1++;
        return 0;
}

/* One mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - TYPE SRC SUPER" */
static int parse_line(gk_cg_layout *lay, char *line)
{
        char *f[6], *save = NULL, *dash, *type, *src, *super;
        int n = 0;

        dash = strstr(line, " - ");
        if (!dash)
                return 0;
        *dash = '\0';
        for (char *t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
                f[n++] = t;
        if (n < 6)
                return 0;
        save = NULL;
        type = strtok_r(dash + 3, " ", &save);
        src = type ? strtok_r(NULL, " ", &save) : NULL;
        super = src ? strtok_r(NULL, " \n", &save) : NULL;
        if (!super)
                return 0;
        if (!strcmp(type, "cgroup")) {
                bool named = is_systemd_hier(super);
                uint32_t ctrls = superopt_ctrls(super);

                /* other named hierarchies hold no controller: not ours */
                return ctrls || named ? add_v1(lay, f[4], ctrls) : 0;
        }
        if (!strcmp(type, "cgroup2") && !lay->v2_mnt) {
                lay->v2_mnt = gk_mountinfo_unescape(f[4]);
                return lay->v2_mnt ? 0 : -ENOMEM;
        }
        return 0;
}

int gk_cg_layout_parse(const char *mountinfo, gk_cg_layout *lay, gk_error **err)
{
        _cleanup_free_ char *copy = strdup(mountinfo);
        uint32_t v1_ctrls = 0;
        char *save = NULL;

        if (!copy)
                return gk_error_make(err, ENOMEM, "cgroups");
        for (int c = 0; c < GK_CTRL_COUNT; c++)
                lay->v1_of[c] = -1;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (parse_line(lay, l) < 0)
                        return gk_error_make(err, ENOMEM, "cgroups");
        for (size_t i = 0; i < lay->n_v1; i++)
                v1_ctrls |= lay->v1[i].ctrls;
        if (v1_ctrls)
                lay->mode = lay->v2_mnt ? GK_CG_HYBRID : GK_CG_V1;
        else if (lay->v2_mnt)
                lay->mode = GK_CG_V2;
        else
                return gk_error_make(err, ENOENT, "cgroups: no cgroup filesystem is mounted");
        return 0;
}

void gk_cg_layout_clear(gk_cg_layout *lay)
{
        for (size_t i = 0; i < lay->n_v1; i++)
                free(lay->v1[i].mnt);
        free(lay->v2_mnt);
        memset(lay, 0, sizeof(*lay));
}

uint32_t gk_cg_v2_available(const gk_cg_layout *clay)
{
        gk_cg_layout *lay = (gk_cg_layout *) clay; /* a cache of the host's */
        char buf[512];
        _cleanup_close_ int fd = -1;

        if (lay->v2_ctrls_known || !lay->v2_mnt)
                return lay->v2_ctrls;
        fd = open(lay->v2_mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && gk_cg_read(fd, "cgroup.subtree_control", buf, sizeof(buf), NULL) >= 0)
                lay->v2_ctrls = gk_cg_parse_ctrl_list(buf);
        lay->v2_ctrls_known = true;
        return lay->v2_ctrls;
}

static gk_cg_layout host;
static bool host_done;

int gk_cg_layout_get(const gk_cg_layout **out, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        struct statfs sf;

        if (host_done) {
                *out = &host;
                return 0;
        }
        for (int c = 0; c < GK_CTRL_COUNT; c++)
                host.v1_of[c] = -1;
        if (statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
                host.mode = GK_CG_V2;
                host.v2_mnt = strdup(CGROUP_ROOT);
                if (!host.v2_mnt)
                        return gk_error_make(err, ENOMEM, "cgroups");
        } else {
                int r = gk_read_file("/proc/self/mountinfo", &text, NULL, err);

                if (r == 0)
                        r = gk_cg_layout_parse(text, &host, err);
                if (r < 0) {
                        gk_cg_layout_clear(&host);
                        return r;
                }
        }
        host_done = true;
        *out = &host;
        return 0;
}
