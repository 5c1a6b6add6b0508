/* Shared between bundle.c, bundle_spec.c and flatten.c. */
#ifndef GK_IMGTOOL_BUNDLE_INTERNAL_H
#define GK_IMGTOOL_BUNDLE_INTERNAL_H

#include <stddef.h>

#include "bundle.h"
#include "gk/json.h"
#include "gk/spec.h"

#define GK_BUNDLE_VOLUMES "volumes"

/* What the bundle is built from: IMG with O; FDS the layer directories,
 * top first (for /etc/passwd); ABS the bundle's absolute path; VOLUMES
 * the image's volume paths (volumes/N is VOLUMES[N]); OVERLAY_JSON the
 * rootfs annotation or NULL. */
typedef struct gk_bundle_build {
        const gk_bundle_image *img;
        const gk_bundle_opts *o;
        const int *fds;
        size_t nfds;
        const char *abs;
        char *const *volumes;
        const char *overlay_json;
} gk_bundle_build;

/* config.json text of a bundle. */
int gk_bundle_build_spec(const gk_bundle_build *b, char **out, gk_error **err);

/* bundle_security.c: capabilities, seccomp and no_new_privs from O. */
int gk_bundle_set_security(gk_spec *s, const gk_bundle_opts *o, gk_error **err);
/* One --security-opt into O. */
int gk_bundle_security_opt(const char *opt, gk_bundle_opts *o, gk_error **err);

/* bundle_mounts.c: --read-only, -v, --tmpfs and the anonymous volumes
 * (source ABS/volumes/N for VOLUMES[N]). */
int gk_bundle_set_mounts(gk_spec *s, const gk_bundle_opts *o, char *const *volumes,
                         const char *abs, gk_error **err);
/* Checks the -v and --tmpfs flags of O. */
int gk_bundle_check_mounts(const gk_bundle_opts *o, gk_error **err);
/* The paths the image config's Volumes declare that no flag mount covers,
 * cleaned and sorted. */
int gk_bundle_volume_paths(yajl_val cfg, const gk_bundle_opts *o, char ***out, gk_error **err);

/* bundle_volumes.c: BFD/volumes/N for PATHS[N], filled from the layers
 * (TOP first). */
int gk_bundle_make_volumes(int bfd, char *const *paths, const int *top, size_t n, gk_error **err);

/* Copies the merged view of the layers (FDS bottom first) into DST_FD,
 * applying whiteouts and opaque directories, keeping owners, modes,
 * xattrs, times and hardlinks. */
int gk_flatten_layers(const int *fds, size_t n, int dst_fd, gk_error **err);

#endif
