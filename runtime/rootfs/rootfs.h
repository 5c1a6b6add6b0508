/* rootfs/: the container's root filesystem, built by the init in its own
 * mount namespace: mounts, /dev, pivot_root (or chroot), masked and
 * read-only paths (written through security/procfs.h).  It owns every path resolution inside the
 * rootfs (dir fds, openat2 RESOLVE_IN_ROOT).  It never talks to the parent (no sync messages: the
 * init in container/ does), never prints, and changes no cgroup (its cgroup
 * mount only shows the container's own, rootfs_cgroup.c). */
#ifndef GK_RUNTIME_ROOTFS_ROOTFS_H
#define GK_RUNTIME_ROOTFS_ROOTFS_H

#include <stdbool.h>

#include "gk/error.h"

struct gk_container;

/* Run by the init in its mount namespace. */
int gk_rootfs_prepare(struct gk_container *c, gk_error **err); /* mounts, /dev */
int gk_rootfs_pivot(struct gk_container *c, gk_error **err);   /* pivot_root or chroot */
int gk_rootfs_finalize(struct gk_container *c,
                       gk_error **err); /* masked/ro paths, sysctl, ro root */

/* Opens PATH inside the root ROOTFD without leaving it (openat2
 * RESOLVE_IN_ROOT); with mkdirs, missing directories are created and with
 * mkfile, a missing last component is created as an empty file. */
int gk_open_in_root(int rootfd, const char *path, int flags, bool mkdirs, bool mkfile,
                    gk_error **err);

/* cwd.c: makes the missing directories of process.cwd inside the root
 * ROOTFD, as runc does at create: after the mounts, before the root is
 * read-only. */
int gk_rootfs_make_cwd(int rootfd, const char *cwd, gk_error **err);

#endif
