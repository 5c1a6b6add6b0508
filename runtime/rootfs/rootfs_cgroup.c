/* The "cgroup" mount inside a container.  What the container sees there is
 * its own cgroup on every hierarchy, never the host's tree.
 *
 * In a cgroup namespace (a new one or a joined one) a fresh mount of a
 * hierarchy is rooted at the namespace's root, which is the container's
 * cgroup: the hierarchies are those of /proc/self/cgroup that the host
 * mounts (found in mountinfo: a directory under /sys/fs/cgroup is no proof
 * of a hierarchy).  Without one a fresh mount would show the host's root,
 * so the container's own directories, which gkrun made and knows
 * (gk_cgroup_each_dir), are bound instead.  A pure v2 host gets one
 * cgroup2 mount; v1 and hybrid hosts a tmpfs with one directory per
 * hierarchy, named as on the host, with links for co-mounted controllers
 * ("cpu" -> "cpu,cpuacct"). */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* One hierarchy of /proc/self/cgroup and where the host mounts it. */
typedef struct cg_hier {
        char ctrls[256];    /* "cpu,cpuacct", "name=systemd", "" for v2 */
        char mnt[PATH_MAX]; /* the host's mount point */
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

                /* cheap test first: most lines are no cgroup mount */
                if (!dash || dash > line + strcspn(line, "\n") ||
                    strncmp(dash + 3, v2 ? "cgroup2 " : "cgroup ", v2 ? 8 : 7) ||
                    sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
                    sscanf(dash, " - %15s %*s %511s", type, super) != 2)
                        continue;
                if (strcmp(type, v2 ? "cgroup2" : "cgroup") || (!v2 && !all_in(h->ctrls, super)))
                        continue;
                /* mountinfo escapes blanks; such mount points are not ours */
                if (strchr(mnt, '\\') || strchr(root, '\\'))
                        continue;
                snprintf(h->mnt, sizeof(h->mnt), "%s", mnt);
                return true;
        }
        return false;
}

/* A fresh mount of H on DST, in a cgroup namespace. */
static int mount_fresh(const cg_hier *h, const char *dst, unsigned long ro, gk_error **err)
{
        bool named = gk_str_has_prefix(h->ctrls, "name=");
        char opts[300];

        snprintf(opts, sizeof(opts), "%s%s", named ? "none," : "", h->ctrls);
        if (mount("cgroup", dst, h->ctrls[0] ? "cgroup" : "cgroup2", CG_FLAGS | ro,
                  h->ctrls[0] ? opts : NULL) < 0)
                return gk_error_errno(err, "mount cgroup `%s`",
                                      h->ctrls[0] ? h->ctrls : "cgroup2");
        return 0;
}

static int remount_bind(int dfd, const char *name, unsigned long ro, gk_error **err)
{
        _cleanup_close_ int top = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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

/* The name under the tmpfs of a hierarchy mounted on the host at MNT:
 * its last component ("memory", "cpu,cpuacct", "unified"); NULL when
 * there is none to name it by. */
static const char *mount_name(const char *mnt)
{
        const char *n = strrchr(mnt, '/');

        n = n && n[1] ? n + 1 : NULL;
        return n && strcmp(n, ".") && strcmp(n, "..") ? n : NULL;
}

/* NAME made as a directory under DFD and opened; -ENOENT (no error set)
 * when it exists already (a hierarchy mounted twice). */
static int mount_point(int dfd, const char *name, gk_error **err)
{
        int fd;

        if (mkdirat(dfd, name, 0755) < 0)
                return errno == EEXIST
                               ? -ENOENT
                               : gk_error_errno(err, "create cgroup mount point `%s`", name);
        fd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open cgroup mount point `%s`", name);
        return fd;
}

/* In a cgroup namespace: one line of /proc/self/cgroup ("ID:CTRLS:PATH"),
 * freshly mounted under DFD when the host mounts that hierarchy.  OWN
 * (a container without a cgroup of its own, rootless): PATH instead, the
 * cgroup it shares with gkrun's caller, bound as runc binds it. */
static int mount_hier(int dfd, cg_hier *h, const char *mountinfo, unsigned long ro,
                      const char *own, gk_error **err)
{
        char src[PATH_MAX + 256];

        _cleanup_close_ int under = -1;
        const char *name;
        char dst[32];

        if (!find_mount(mountinfo, h))
                return 0;
        name = mount_name(h->mnt);
        if (!name && !(name = h->ctrls[0] ? h->ctrls : NULL))
                return 0;
        under = mount_point(dfd, name, err);
        if (under == -ENOENT)
                return 0;
        if (under < 0)
                return under;
        gk_fd_path(dst, under);
        snprintf(src, sizeof(src), "%s%s", h->mnt, own && strcmp(own, "/") ? own : "");
        if (own && mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return gk_error_errno(err, "bind cgroup `%s`", src);
        if (!own && mount_fresh(h, dst, ro, err) < 0)
                return gk_error_code(*err);
        return link_comounted(dfd, name, err);
}

/* Every hierarchy of /proc/self/cgroup under DFD: fresh mounts, or with
 * OWN our own cgroups bound (see mount_hier). */
static int mount_self_all(int dfd, unsigned long ro, bool own, gk_error **err)
{
        _cleanup_free_ char *self = NULL, *mountinfo = NULL;
        _cleanup_free_ cg_hier *h = calloc(1, sizeof(*h));
        char *save = NULL;

        if (!h)
                return gk_error_make(err, ENOMEM, "cgroup mount");
        if (gk_read_file("/proc/self/cgroup", &self, NULL, err) < 0 ||
            gk_read_file("/proc/self/mountinfo", &mountinfo, NULL, err) < 0)
                return gk_error_wrap(err, "cgroup mount");
        for (char *l = strtok_r(self, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *ctrls = strchr(l, ':'), *end;

                if (!ctrls || !(end = strchr(ctrls + 1, ':')))
                        continue;
                *end = '\0';
                snprintf(h->ctrls, sizeof(h->ctrls), "%s", ctrls + 1);
                if (mount_hier(dfd, h, mountinfo, ro, own ? end + 1 : NULL, err) < 0)
                        return gk_error_code(*err);
        }
        return 0;
}

typedef struct bind_ctx {
        int dfd;
        unsigned long ro;
        gk_error **err;
} bind_ctx;

/* Without a cgroup namespace: the container's directory DIR on the
 * hierarchy mounted at MNT, bound under the tmpfs. */
static int bind_dir(const char *mnt, const char *dir, void *arg)
{
        bind_ctx *b = arg;
        _cleanup_close_ int under = -1;
        const char *name = mount_name(mnt);
        char dst[32];

        if (!name)
                return 0;
        under = mount_point(b->dfd, name, b->err);
        if (under == -ENOENT)
                return 0;
        if (under < 0)
                return under;
        gk_fd_path(dst, under);
        if (mount(dir, dst, NULL, MS_BIND, NULL) < 0)
                return gk_error_errno(b->err, "bind cgroup `%s`", dir);
        return link_comounted(b->dfd, name, b->err);
}

/* Kernels before mount_setattr(2): each bind, then the tmpfs, remounted. */
static int remount_dir(const char *mnt, const char *dir, void *arg)
{
        bind_ctx *b = arg;
        const char *name = mount_name(mnt);

        (void) dir;
        return name ? remount_bind(b->dfd, name, b->ro, b->err) : 0;
}

static int bind_all(gk_container *c, int dfd, unsigned long ro, gk_error **err)
{
        bind_ctx b = { .dfd = dfd, .err = err };
        char top[32];
        int r;

        /* rootless without a cgroup: the ones we are in */
        r = c->cg ? gk_cgroup_each_dir(c->cg, bind_dir, &b) : mount_self_all(dfd, ro, true, err);
        if (r < 0)
                return err && *err ? r : gk_error_make(err, -r, "cgroup mount");
        /* the tmpfs and every bind below it in one call */
        r = gk_mount_setattr(dfd,
                             MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                     (ro ? MOUNT_ATTR_RDONLY : 0),
                             0, err);
        if (r != -ENOSYS)
                return r;
        gk_error_freep(err);
        b.ro = ro;
        if (!c->cg)
                return gk_error_make(err, ENOSYS, "cgroup mount: mount_setattr");
        if ((r = gk_cgroup_each_dir(c->cg, remount_dir, &b)) < 0)
                return r;
        gk_fd_path(top, dfd);
        if (ro && mount(NULL, top, NULL, MS_REMOUNT | MS_RDONLY | CG_FLAGS, "mode=755") < 0)
                return gk_error_errno(err, "remount cgroup tmpfs read-only");
        return 0;
}

/* v1 and hybrid: a tmpfs with each hierarchy we are in. */
static int mount_v1(gk_container *c, const char *target, const gk_mount *m, bool cgroupns,
                    gk_error **err)
{
        _cleanup_close_ int rootfd = -1, dfd = -1;
        unsigned long ro = m->flags & MS_RDONLY;
        char top[32];

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
        if (!cgroupns)
                return bind_all(c, dfd, ro, err);
        if (mount_self_all(dfd, ro, false, err) < 0)
                return gk_error_code(*err);
        gk_fd_path(top, dfd);
        if (ro && mount(NULL, top, NULL, MS_REMOUNT | MS_RDONLY | CG_FLAGS, "mode=755") < 0)
                return gk_error_errno(err, "remount cgroup tmpfs read-only");
        return 0;
}

/* The container's one cgroup2 directory (pure v2). */
static int v2_dir(const char *mnt, const char *dir, void *arg)
{
        (void) mnt;
        snprintf(arg, PATH_MAX, "%s", dir);
        return 0;
}

/* Pure v2, rootless without a cgroup of its own: the one we are in. */
static int own_v2_dir(char dir[PATH_MAX], gk_error **err)
{
        _cleanup_free_ char *self = NULL;
        char *path;

        if (gk_read_file("/proc/self/cgroup", &self, NULL, err) < 0)
                return gk_error_wrap(err, "cgroup mount");
        path = strstr(self, "0::");
        if (!path)
                return gk_error_make(err, ENOENT,
                                     "cgroup mount: no cgroup2 line in /proc/self/cgroup");
        path += 3;
        path[strcspn(path, "\n")] = '\0';
        snprintf(dir, PATH_MAX, "/sys/fs/cgroup%s", strcmp(path, "/") ? path : "");
        return 0;
}

/* Pure v2: one cgroup2 mount, or a bind of our own cgroup. */
static int mount_v2(gk_container *c, const char *target, const gk_mount *m, bool cgroupns,
                    gk_error **err)
{
        _cleanup_close_ int rootfd = -1;
        unsigned long ro = m->flags & MS_RDONLY;
        char dir[PATH_MAX] = "";

        if (cgroupns) {
                if (mount("cgroup2", target, "cgroup2", CG_FLAGS | ro, NULL) == 0)
                        return 0;
                /* A user namespace's cgroup2 mount can be refused (EPERM,
                 * EBUSY: a cgroupns rooted where its owner may not mount):
                 * a bind instead, as runc falls back (its #2158), of the
                 * container's cgroup, or without one the hierarchy. */
                if (errno != EPERM && errno != EBUSY)
                        return gk_error_errno(err, "mount cgroup2 on `%s`", m->destination);
                if (!c->cg)
                        snprintf(dir, sizeof(dir), "/sys/fs/cgroup");
        }
        if (!c->cg && !cgroupns && own_v2_dir(dir, err) < 0)
                return gk_error_code(*err);
        if (c->cg && gk_cgroup_each_dir(c->cg, v2_dir, dir) < 0)
                dir[0] = '\0';
        if (!dir[0])
                return gk_error_make(err, ENOENT,
                                     "cgroup mount: the container has no cgroup2 "
                                     "directory");
        if (mount(dir, target, NULL, MS_BIND, NULL) < 0)
                return gk_error_errno(err, "bind cgroup `%s`", dir);
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
