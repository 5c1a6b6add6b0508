/* Pieces of the rootfs setup shared between rootfs.c, dev.c and
 * rootfs_extra.c. */
#ifndef GK_RUNTIME_ROOTFS_INTERNAL_H
#define GK_RUNTIME_ROOTFS_INTERNAL_H

#include <stdint.h>

#include "model/container.h"

/* "/proc/self/fd/N" of FD, the target form mount(2) accepts for an fd. */
void gk_fd_path(char buf[static 32], int fd);

/* Bind-remounts DEST (inside ROOTFD) with FLAGS, keeping the flags the
 * mount already has unless cleared. */
int gk_remount_at(int rootfd, const char *dest, unsigned long flags, unsigned long clear,
                  gk_error **err);

/* mount_setattr(2) with AT_RECURSIVE on an O_PATH fd of a mount. */
int gk_mount_setattr(int fd, uint64_t set, uint64_t clr, gk_error **err);

/* Makes c->rootfs, open as FD, a mount point: a bind of itself, or the
 * image's overlay when the bundle asks for one. */
int gk_rootfs_mount_root(gk_container *c, int fd, gk_error **err);

/* A "cgroup" mount: cgroup2 on a unified host; on v1 a tmpfs with the
 * container's cgroup of each hierarchy bound in. */
int gk_mount_cgroupfs(gk_container *c, const char *target, const gk_mount *m, gk_error **err);

/* /dev: the default devices and links (on a /dev tmpfs), and
 * linux.devices. */
int gk_dev_setup_default(gk_container *c, int rootfd, gk_error **err);
int gk_dev_create_devices(gk_container *c, int rootfd, gk_error **err);

/* Refuses a mount of M on FD (its destination, opened inside the rootfs)
 * when that is inside /proc, as runc does (mountdest.c).  BIND_SRC: the
 * source of a bind mount, else NULL. */
int gk_mount_dest_check(const gk_container *c, int rootfd, int fd, const gk_mount *m,
                        const char *bind_src, gk_error **err);

/* idmount.c, in the init: moves TREE, M's idmapped source made by gkrun,
 * onto M's destination inside ROOTFD. */
int gk_idmount_attach(gk_container *c, int rootfd, const gk_mount *m, int tree, gk_error **err);

/* copyup.c: copies the tree under the directory FROM into the directory
 * TO (a new tmpfs), nothing followed, owners, modes, links and xattrs
 * kept. */
int gk_copyup(int from, int to, gk_error **err);

#endif
