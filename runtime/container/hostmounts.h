/* Mounts of a container without a mount namespace of its own.  Its rootfs
 * bind, /proc, /dev, masks and the config's mounts are made in the
 * caller's mount namespace, where nothing removes them when the container
 * dies: create records which mounts already existed at or under the
 * rootfs (ROOT/ID/host-mounts), and delete (or a failed create) detaches
 * every other mount there, deepest first. */
#ifndef GK_RUNTIME_HOSTMOUNTS_H
#define GK_RUNTIME_HOSTMOUNTS_H

#include "gk/error.h"

/* Writes ROOT/ID/host-mounts: the mounts at or under ROOTFS right now,
 * one "MOUNT_ID MOUNT_POINT" line each (mount point as in mountinfo). */
int gk_hostmounts_record(const char *root, const char *id, const char *rootfs, gk_error **err);

/* When ROOT/ID/host-mounts exists, detaches every mount at or under
 * ROOTFS that it does not list.  A missing record is success. */
int gk_hostmounts_release(const char *root, const char *id, const char *rootfs, gk_error **err);

#endif
