/* The "cgroup" mount inside a container.  What the container sees there is
 * its own cgroup on every hierarchy, never the host's tree.
 *
 * In a cgroup namespace (a new one or a joined one) a fresh mount of a
 * hierarchy is rooted at the namespace's root, which is the container's
 * cgroup.  Without one a fresh mount would show the host's root, so the
 * container's cgroup directory is bound instead.  A pure v2 host gets one
 * cgroup2 mount; v1 and hybrid hosts a tmpfs with one directory per
 * hierarchy that is mounted on the host (found in mountinfo: a directory
 * under /sys/fs/cgroup is no proof of a hierarchy), named as on the host,
 * with links for co-mounted controllers ("cpu" -> "cpu,cpuacct"). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "rootfs_internal.h"
#include "runtime.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* One hierarchy of /proc/self/cgroup and where the host mounts it. */
typedef struct cg_hier {
        char ctrls[256]; /* "cpu,cpuacct", "name=systemd", "" for v2 */
        char path[PATH_MAX]; /* our cgroup, below the hierarchy's root */
        char mnt[PATH_MAX];  /* the host's mount point */
        char root[PATH_MAX]; /* the part of the hierarchy that mount shows */
} cg_hier;

/* Whether every comma-separated item of WANT is among the items of HAVE. */
static bool all_in(const char *want, const char *have)
{
        const char *w = want;

        while (*w) {
                size_t n = strcspn(w, ",");
                bool found = false;

                for (const char *h = have; *h;) {
                        size_t m = strcspn(h, ",");

                        if (m == n && !strncmp(h, w, n))
                                found = true;
                        h += m + (h[m] == ',');
                }
                if (!found)
                        return false;
                w += n + (w[n] == ',');
        }
        return true;
}

/* Finds H's mount in MOUNTINFO ("ID PARENT DEV ROOT MNT OPTS ... - TYPE
 * SRC SUPER"); false when the host does not mount it. */
static bool find_mount(const char *mountinfo, cg_hier *h)
{
        const char *line = mountinfo;
        bool v2 = !h->ctrls[0];

        for (; *line; line += strcspn(line, "\n"), line += *line == '\n') {
                char root[PATH_MAX], mnt[PATH_MAX], type[16], super[512];
                const char *dash = strstr(line, " - ");

                if (!dash || dash > line + strcspn(line, "\n") ||
                    sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
                    sscanf(dash, " - %15s %*s %511s", type, super) != 2)
                        continue;
                if (strcmp(type, v2 ? "cgroup2" : "cgroup") || (!v2 && !all_in(h->ctrls, super)))
                        continue;
                /* mountinfo escapes blanks; such mount points are not ours */
                if (strchr(mnt, '\\') || strchr(root, '\\'))
                        continue;
                snprintf(h->mnt, sizeof(h->mnt), "%s", mnt);
                snprintf(h->root, sizeof(h->root), "%s", strcmp(root, "/") ? root : "");
                return true;
        }
        return false;
}

/* Mounts H on DST: fresh in a cgroup namespace, else a bind of our own
 * cgroup directory from the host's mount. */
static int mount_one(const cg_hier *h, const char *dst, bool cgroupns, unsigned long ro,
                     gk_error **err)
{
        char src[PATH_MAX * 2], opts[300];
        size_t rl = strlen(h->root);

        if (cgroupns) {
                bool named = gk_str_has_prefix(h->ctrls, "name=");

                snprintf(opts, sizeof(opts), "%s%s", named ? "none," : "", h->ctrls);
                if (mount("cgroup", dst, h->ctrls[0] ? "cgroup" : "cgroup2", CG_FLAGS | ro,
                          h->ctrls[0] ? opts : NULL) < 0)
                        return gk_error_errno(err, "mount cgroup `%s`", h->ctrls[0] ? h->ctrls : "cgroup2");
                return 0;
        }
        /* The host's mount shows ROOT and below: our path must be there. */
        if (rl && (strncmp(h->path, h->root, rl) || (h->path[rl] && h->path[rl] != '/')))
                return 0;
        snprintf(src, sizeof(src), "%s%s", h->mnt, h->path + rl);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return gk_error_errno(err, "bind cgroup `%s`", src);
        /* dst is an fd path naming the directory the bind now covers; the
         * caller remounts through a fresh lookup. */
        return 1;
}

static int remount_bind(int dfd, const char *name, unsigned long ro, gk_error **err)
{
        _cleanup_close_ int top = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char dst[32];

        if (top < 0)
                return gk_error_errno(err, "open cgroup mount `%s`", name);
        gk_fd_path(dst, top);
        if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | CG_FLAGS | ro, NULL) < 0)
                return gk_error_errno(err, "remount cgroup `%s`", name);
        return 0;
}

/* "cpu" and "cpuacct" next to "cpu,cpuacct", as hosts have them. */
static int link_comounted(int dfd, const char *name, gk_error **err)
{
        const char *t = name;

        if (!strchr(name, ','))
                return 0;
        while (*t) {
                size_t n = strcspn(t, ",");
                char one[64];

                if (n < sizeof(one)) {
                        memcpy(one, t, n);
                        one[n] = '\0';
                        if (!gk_str_has_prefix(one, "name=") && symlinkat(name, dfd, one) < 0 &&
                            errno != EEXIST)
                                return gk_error_errno(err, "link cgroup `%s` to `%s`", one, name);
                }
                t += n + (t[n] == ',');
        }
        return 0;
}

/* One line of /proc/self/cgroup ("ID:CTRLS:PATH") mounted under DFD. */
static int mount_hier(int dfd, cg_hier *h, const char *mountinfo, bool cgroupns,
                      unsigned long ro, gk_error **err)
{
        _cleanup_close_ int under = -1;
        const char *name;
        char dst[32];
        int r;

        if (!find_mount(mountinfo, h))
                return 0;
        name = strrchr(h->mnt, '/');
        name = name && name[1] ? name + 1 : h->ctrls;
        if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
                return 0;
        if (mkdirat(dfd, name, 0755) < 0)
                return errno == EEXIST ? 0 : gk_error_errno(err, "create cgroup mount point `%s`", name);
        under = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (under < 0)
                return gk_error_errno(err, "open cgroup mount point `%s`", name);
        gk_fd_path(dst, under);
        r = mount_one(h, dst, cgroupns, ro, err);
        if (r > 0)
                r = remount_bind(dfd, name, ro, err);
        return r < 0 ? r : link_comounted(dfd, name, err);
}

/* v1 and hybrid: a tmpfs with each hierarchy we are in. */
static int mount_v1(gk_container *c, const char *target, const gk_mount *m, bool cgroupns,
                    gk_error **err)
{
        _cleanup_free_ char *self = NULL, *mountinfo = NULL;
        _cleanup_free_ cg_hier *h = calloc(1, sizeof(*h));
        _cleanup_close_ int rootfd = -1, dfd = -1;
        unsigned long ro = m->flags & MS_RDONLY;
        char *save = NULL, top[32];

        if (!h)
                return gk_error_make(err, ENOMEM, "cgroup mount");
        if (gk_read_file("/proc/self/cgroup", &self, NULL, err) < 0 ||
            gk_read_file("/proc/self/mountinfo", &mountinfo, NULL, err) < 0)
                return gk_error_wrap(err, "cgroup mount");
        if (mount("tmpfs", target, "tmpfs", CG_FLAGS, "mode=755") < 0)
                return gk_error_errno(err, "mount tmpfs for cgroups");
        /* target names the directory the tmpfs now covers: resolve the
         * destination again to reach the tmpfs itself. */
        rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return gk_error_errno(err, "open rootfs `%s`", c->rootfs);
        dfd = gk_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, false, false, err);
        if (dfd < 0)
                return gk_error_wrap(err, "open cgroup mount");
        for (char *l = strtok_r(self, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *ctrls = strchr(l, ':'), *path;

                if (!ctrls || !(path = strchr(ctrls + 1, ':')))
                        continue;
                *path++ = '\0';
                snprintf(h->ctrls, sizeof(h->ctrls), "%s", ctrls + 1);
                snprintf(h->path, sizeof(h->path), "%s", strcmp(path, "/") ? path : "");
                if (mount_hier(dfd, h, mountinfo, cgroupns, ro, err) < 0)
                        return gk_error_code(*err);
        }
        gk_fd_path(top, dfd);
        if (ro && mount(NULL, top, NULL, MS_REMOUNT | MS_RDONLY | CG_FLAGS, "mode=755") < 0)
                return gk_error_errno(err, "remount cgroup tmpfs read-only");
        return 0;
}

/* Pure v2: one cgroup2 mount, or a bind of our own cgroup. */
static int mount_v2(gk_container *c, const char *target, const gk_mount *m, bool cgroupns,
                    gk_error **err)
{
        _cleanup_free_ char *self = NULL, *mountinfo = NULL;
        _cleanup_free_ cg_hier *h = calloc(1, sizeof(*h));
        _cleanup_close_ int rootfd = -1;
        unsigned long ro = m->flags & MS_RDONLY;
        const char *line;
        int r;

        if (!h)
                return gk_error_make(err, ENOMEM, "cgroup mount");
        if (cgroupns) {
                if (mount("cgroup2", target, "cgroup2", CG_FLAGS | ro, NULL) < 0)
                        return gk_error_errno(err, "mount cgroup2 on `%s`", m->destination);
                return 0;
        }
        if (gk_read_file("/proc/self/cgroup", &self, NULL, err) < 0 ||
            gk_read_file("/proc/self/mountinfo", &mountinfo, NULL, err) < 0)
                return gk_error_wrap(err, "cgroup mount");
        line = strstr(self, "0::");
        if (!line || (line != self && line[-1] != '\n'))
                return gk_error_make(err, ENOENT, "cgroup mount: no cgroup2 line in "
                                     "/proc/self/cgroup");
        snprintf(h->path, sizeof(h->path), "%.*s", (int) strcspn(line + 3, "\n"), line + 3);
        if (!strcmp(h->path, "/"))
                h->path[0] = '\0';
        if (!find_mount(mountinfo, h))
                return gk_error_make(err, ENOENT, "cgroup mount: cgroup2 is not mounted");
        r = mount_one(h, target, false, ro, err);
        if (r <= 0)
                return r < 0 ? r : gk_error_make(err, ENOENT, "cgroup mount: our cgroup `%s` "
                                                 "is outside the host's cgroup2 mount", h->path);
        rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return gk_error_errno(err, "open rootfs `%s`", c->rootfs);
        return gk_remount_at(rootfd, m->destination, CG_FLAGS | ro, 0, err);
}

int gk_mount_cgroupfs(gk_container *c, const char *target, const gk_mount *m, gk_error **err)
{
        bool cgroupns = c->spec->linux.namespaces[GK_NS_CGROUP].present;
        struct statfs sf;

        if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                return mount_v2(c, target, m, cgroupns, err);
        return mount_v1(c, target, m, cgroupns, err);
}
