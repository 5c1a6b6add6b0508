/* Writing an OCI image layout (image-spec's image-layout.md) of an image
 * set (image_set.h): the same members for a tar of it (oci-archive, export.c)
 * and for a directory (oci:DIR, copy_oci.c), through a sink that knows where
 * blobs go.  index.json gets one entry for the image's top document, named
 * by org.opencontainers.image.ref.name (what skopeo's oci:DIR:TAG and umoci
 * look up) and, when given, io.containerd.image.name (the full reference
 * gkimg import, docker and containerd read back). */
#ifndef GK_IMGTOOL_OCI_LAYOUT_H
#define GK_IMGTOOL_OCI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"
#include "image_set.h"
#include "store.h"

#define GK_OCI_REF_NAME "org.opencontainers.image.ref.name"
#define GK_OCI_LAYOUT_FILE "{\"imageLayoutVersion\":\"1.0.0\"}"

typedef struct gk_layout_sink {
        /* blob DIGEST of the store (SIZE bytes, -1: unknown) as blobs/sha256/HEX */
        int (*add_blob)(void *ctx, gk_store *s, const char *digest, int64_t size, gk_error **err);
        void *ctx;
} gk_layout_sink;

/* The manifests (children first, the top last) and blobs of SET. */
int gk_layout_write_blobs(const gk_layout_sink *sink, gk_store *s, const gk_image_set *set,
                          gk_error **err);

/* index.json: OLD's entries (OLD may be NULL: a new layout) without those
 * whose ref.name is REF_NAME, then SET's top named REF_NAME (may be NULL:
 * no annotation) and FULL_NAME (may be NULL). */
int gk_layout_index_json(const char *old, size_t old_len, const gk_image_set *set,
                         const char *ref_name, const char *full_name, char **out, size_t *len,
                         gk_error **err);

#endif
