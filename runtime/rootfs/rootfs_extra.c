/* The rootfs mount itself and mount attributes (cgroup mounts: rootfs_cgroup.c). */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/overlay.h"
#include "gk/util.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"

int gk_mount_setattr(int fd, uint64_t set, uint64_t clr, gk_error **err)
{
        struct mount_attr attr = { .attr_set = set, .attr_clr = clr };

        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) <
            0)
                return gk_error_errno(err, "mount_setattr");
        return 0;
}

/* A gkimg bundle's rootfs is an overlay of the image's layers, mounted
 * here, in the container's own mount namespace, so that nothing is left
 * on the host when the container goes. */
static int mount_overlay(gk_container *c, const char *value, int target_fd, gk_error **err)
{
        _cleanup_close_ int bundle_fd = open(c->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (bundle_fd < 0)
                return gk_error_errno(err, "open bundle `%s`", c->bundle);
        if (gk_overlay_mount_from_annotation(value, bundle_fd, target_fd, err) < 0)
                return gk_error_wrap(err, "config.json: annotations[\"%s\"]",
                                     GK_OVERLAY_ANNOTATION);
        return 0;
}

int gk_rootfs_mount_root(gk_container *c, int fd, gk_error **err)
{
        const char *ov = gk_spec_annotation(c->spec, GK_OVERLAY_ANNOTATION);
        char path[32];

        if (ov)
                return mount_overlay(c, ov, fd, err);
        gk_fd_path(path, fd);
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return gk_error_errno(err, "bind mount rootfs `%s`", c->rootfs);
        return 0;
}
