/* The rootfs mount itself, cgroup filesystem mounts and mount attributes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/overlay.h"
#include "gk/util.h"
#include "rootfs_internal.h"
#include "runtime.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

int gk_mount_setattr(int fd, uint64_t set, uint64_t clr, gk_error **err)
{
        struct mount_attr attr = { .attr_set = set, .attr_clr = clr };

        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                    sizeof(attr)) < 0)
                return gk_error_errno(err, "mount_setattr");
        return 0;
}

/* A gkimg bundle's rootfs is an overlay of the image's layers, mounted
 * here, in the container's own mount namespace, so that nothing is left
 * on the host when the container goes. */
static int mount_overlay(gk_container *c, const char *value, gk_error **err)
{
        _cleanup_close_ int bundle_fd = open(c->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int target_fd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (bundle_fd < 0 || target_fd < 0)
                return gk_error_errno(err, "open bundle `%s`", c->bundle);
        if (gk_overlay_mount_from_annotation(value, bundle_fd, target_fd, err) < 0)
                return gk_error_wrap(err, "config.json: annotations[\"%s\"]", GK_OVERLAY_ANNOTATION);
        return 0;
}

int gk_rootfs_mount_root(gk_container *c, gk_error **err)
{
        const char *ov = gk_spec_annotation(c->spec, GK_OVERLAY_ANNOTATION);

        if (ov)
                return mount_overlay(c, ov, err);
        if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return gk_error_errno(err, "bind mount rootfs `%s`", c->rootfs);
        return 0;
}

static bool host_is_unified(void)
{
        struct statfs sf;

        return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* Binds one hierarchy's cgroup SRC on NAME under DFD.  The remount goes
 * through a fresh lookup: an fd opened before the bind names the directory
 * the bind covers, and remounting that would hit the tmpfs instead. */
static int bind_cgroup_v1(int dfd, const char *name, const char *src, unsigned long ro,
                          gk_error **err)
{
        _cleanup_close_ int under = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int top = -1;
        char dst[32];

        if (under < 0)
                return gk_error_errno(err, "open cgroup mount point `%s`", name);
        gk_fd_path(dst, under);
        if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                return gk_error_errno(err, "bind cgroup `%s`", src);
        top = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (top < 0)
                return gk_error_errno(err, "open cgroup mount `%s`", name);
        gk_fd_path(dst, top);
        if (mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | ro,
                  NULL) < 0)
                return gk_error_errno(err, "remount cgroup `%s`", src);
        return 0;
}

/* v1: a tmpfs holding, for each hierarchy in /proc/self/cgroup, a bind of
 * our own cgroup there (we were moved into the container's cgroups before
 * setup began). */
static int mount_cgroup_v1(gk_container *c, const char *target, const gk_mount *m,
                           gk_error **err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        _cleanup_close_ int rootfd = -1, dfd = -1;
        char line[1024], top[32];

        if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                return gk_error_errno(err, "mount tmpfs for cgroups");
        if (!f)
                return gk_error_errno(err, "open /proc/self/cgroup");
        /* target names the directory the tmpfs now covers: resolve the
         * destination again to reach the tmpfs itself. */
        rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return gk_error_errno(err, "open rootfs `%s`", c->rootfs);
        dfd = gk_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, false, false, err);
        if (dfd < 0)
                return gk_error_wrap(err, "open cgroup mount");
        gk_fd_path(top, dfd);
        while (fgets(line, sizeof(line), f)) {
                char *ctrl = strchr(line, ':'), *path, *name, src[2048];

                if (!ctrl || !(path = strchr(ctrl + 1, ':')))
                        continue;
                *path++ = '\0';
                path[strcspn(path, "\n")] = '\0';
                name = ctrl + 1;
                if (!*name)
                        name = "unified";
                else if (!strncmp(name, "name=", 5))
                        name += 5;
                snprintf(src, sizeof(src), "/sys/fs/cgroup/%s%s", name, path);
                if (access(src, F_OK) < 0 || mkdirat(dfd, name, 0755) < 0)
                        continue;
                if (bind_cgroup_v1(dfd, name, src, m->flags & MS_RDONLY, err) < 0)
                        return gk_error_code(*err);
        }
        if (m->flags & MS_RDONLY)
                mount(NULL, top, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
        return 0;
}

int gk_mount_cgroupfs(gk_container *c, const char *target, const gk_mount *m, gk_error **err)
{
        if (!host_is_unified())
                return mount_cgroup_v1(c, target, m, err);
        if (mount("cgroup2", target, "cgroup2", m->flags & ~(MS_BIND | MS_REC), NULL) == 0)
                return 0;
        /* Without a cgroup namespace the kernel refuses a new cgroup2
         * mount in a user namespace: bind the container's own cgroup. */
        if (errno == EPERM) {
                _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
                char line[1024], src[1100];

                if (f && fgets(line, sizeof(line), f) && !strncmp(line, "0::", 3)) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(src, sizeof(src), "/sys/fs/cgroup%s", line + 3);
                        if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) == 0)
                                return 0;
                }
        }
        return gk_error_errno(err, "mount cgroup2 on `%s`", m->destination);
}
