/* rootfs/: the container's root filesystem, built by the init in its own
 * mount namespace: mounts, /dev, pivot_root (or chroot), masked and
 * read-only paths (written through security/procfs.h).  It owns every path resolution inside the
 * rootfs (dir fds, openat2 RESOLVE_IN_ROOT).  It never talks to the parent (no sync messages: the
 * init in container/ does), never prints, and changes no cgroup (its cgroup
 * mount only shows the container's own, rootfs_cgroup.c). */
#ifndef GK_RUNTIME_ROOTFS_ROOTFS_H
#define GK_RUNTIME_ROOTFS_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"

struct gk_container;
struct gk_mount;
struct gk_spec;

/* Run by the init in its mount namespace. */
int gk_rootfs_prepare(struct gk_container *c, gk_error **err); /* mounts, /dev */
int gk_rootfs_pivot(struct gk_container *c, gk_error **err);   /* pivot_root or chroot */
int gk_rootfs_finalize(struct gk_container *c,
                       gk_error **err); /* masked/ro paths, sysctl, ro root */
/* After the pivot (dev.c): stdio fds that are a null device, the host's
 * /dev/null its caller gave (conmon does), made the container's own, as
 * runc does: no fd of the host's filesystem stays in the container, and
 * CRIU can dump the process (it finds the mount of every fd in the
 * container's). */
int gk_rootfs_reopen_null_stdio(const struct gk_container *c, gk_error **err);

/* Opens PATH inside the root ROOTFD without leaving it (openat2
 * RESOLVE_IN_ROOT); with mkdirs, missing directories are created and with
 * mkfile, a missing last component is created as an empty file. */
int gk_open_in_root(int rootfd, const char *path, int flags, bool mkdirs, bool mkfile,
                    gk_error **err);

/* cwd.c: makes the missing directories of process.cwd inside the root
 * ROOTFD, as runc does at create: after the mounts, before the root is
 * read-only. */
int gk_rootfs_make_cwd(int rootfd, const char *cwd, gk_error **err);

/* idmount.c: idmapped bind mounts ("idmap", "ridmap", a mount's own
 * uidMappings/gidMappings).  Whether M is one, and how many C has. */
bool gk_idmount_wanted(const struct gk_mount *m);
size_t gk_idmount_count(const struct gk_spec *s);
/* Refuses what runc refuses: idmap on other than a bind mount, one kind of
 * mappings alone, no mappings and no user namespace to take them from. */
int gk_idmount_validate(const struct gk_spec *s, gk_error **err);
/* Run by gkrun on the host, once the init's user namespace (USERNS, or -1
 * without one) has its mappings: the idmapped trees, detached, into FDS
 * (one per config mount, -1 for the others). */
int gk_idmount_open(const struct gk_container *c, int userns, int *fds, gk_error **err);
/* An array of N fds, all -1; closes those still open, frees it. */
int *gk_idmount_fds_new(size_t n);
void gk_idmount_fds_free(int **fds, size_t n);

#endif
