/* The overlay root filesystem of a gkimg bundle, shared by gkimg (which
 * writes it) and gkrun (which mounts it).
 *
 * A bundle made by `gkimg bundle` has root.path "rootfs", an empty
 * directory, and the annotation
 *     "org.gk.rootfs.overlay": "{\"lowerdir\":[\"/var/lib/gk/layers/chains/HEX/fs\",...],
 *                               \"upperdir\":\"upper\",\"workdir\":\"work\"}"
 * (lowerdir top layer first, absolute; upperdir and workdir relative to the
 * bundle directory or absolute).  gkrun mounts the overlay onto rootfs
 * inside the container's own mount namespace at create, so a crash or a
 * reboot leaves no mount behind on the host.  See
 * bundle-spec/annotations.md. */
#ifndef GK_OVERLAY_H
#define GK_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/annotations.h"
#include "gk/error.h"

#define GK_OVERLAY_ANNOTATION GK_ANN_ROOTFS_OVERLAY

typedef struct gk_overlay {
        char **lowerdirs; /* top first, absolute, NULL-terminated */
        size_t n_lowerdirs;
        char *upperdir; /* NULL: a read-only overlay of the lowerdirs */
        char *workdir;  /* set exactly when upperdir is */
} gk_overlay;

/* Parses and checks an annotation value; `what` names it in errors. */
int gk_overlay_parse(const char *json, const char *what, gk_overlay **out, gk_error **err);
/* The annotation value for OV (compact JSON, malloc'd). */
int gk_overlay_format(const gk_overlay *ov, char **out, gk_error **err);
void gk_overlay_free(gk_overlay *ov);
void gk_overlay_freep(gk_overlay **ov);

enum {
        /* Skip the new mount API and use mount(2) with shortened paths, as
         * on kernels before 6.8 (for tests of that path). */
        GK_OVERLAY_LEGACY = 1 << 0,
};

/* Mounts OV onto the directory TARGET_FD.  Relative upperdir/workdir are
 * resolved under BUNDLE_FD.  Uses fsopen/fsconfig with one "lowerdir+" per
 * layer (by fd on kernels >= 6.13, by path on >= 6.8), so any number of
 * layers fits; older kernels get mount(2) with the lowerdirs made short
 * (relative to their common parent) to stay within the page-size limit of
 * mount options.  The kernel's own message is in the error. */
int gk_overlay_mount(const gk_overlay *ov, int bundle_fd, int target_fd, unsigned flags,
                     gk_error **err);

/* What gkrun calls: parse VALUE (the annotation) and mount it onto
 * TARGET_FD (the bundle's rootfs directory, opened by the caller), with
 * relative paths under BUNDLE_FD.  The environment variable
 * GK_TEST_OVERLAY_LEGACY=1 forces the old-kernel path (tests only). */
int gk_overlay_mount_from_annotation(const char *value, int bundle_fd, int target_fd,
                                     gk_error **err);

#endif
