/* Shared between bundle.c, bundle_spec.c and flatten.c. */
#ifndef GK_IMGTOOL_BUNDLE_INTERNAL_H
#define GK_IMGTOOL_BUNDLE_INTERNAL_H

#include <stddef.h>

#include "bundle.h"
#include "gk/spec.h"

int gk_spec_add_annotation(gk_spec *s, const char *key, const char *value);

/* config.json text for IMG with O; FDS are the layer directories, top
 * first (for /etc/passwd); OVERLAY_JSON the rootfs annotation or NULL. */
int gk_bundle_build_spec(const gk_bundle_image *img, const gk_bundle_opts *o, const int *fds,
                         size_t nfds, const char *overlay_json, char **out, gk_error **err);

/* Copies the merged view of the layers (FDS bottom first) into DST_FD,
 * applying whiteouts and opaque directories, keeping owners, modes,
 * xattrs, times and hardlinks. */
int gk_flatten_layers(const int *fds, size_t n, int dst_fd, gk_error **err);

#endif
