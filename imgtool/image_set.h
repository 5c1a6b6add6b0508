/* Everything one image is made of, found in the store's blob area from its
 * top document: an image manifest (its config and layers), or an index
 * with every manifest it lists and their blobs (a multi-platform image as
 * `gkimg pull --all-platforms`, `gkimg copy --all` or an import of a full
 * OCI layout leave it).  What push, copy and export --all-platforms send. */
#ifndef GK_IMGTOOL_IMAGE_SET_H
#define GK_IMGTOOL_IMAGE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"
#include "manifest.h"
#include "store.h"

typedef struct gk_set_doc {
        char *digest;
        char *body; /* as stored, byte for byte */
        size_t len;
        gk_manifest m;
} gk_set_doc;

typedef struct gk_set_blob {
        char *digest;
        int64_t size;
        bool config;
} gk_set_blob;

typedef struct gk_image_set {
        gk_set_doc top;       /* an image manifest or an index */
        gk_set_doc *children; /* an index's manifests, in its order */
        size_t n_children;
        gk_set_blob *blobs; /* every config and layer once, configs first per image */
        size_t n_blobs;
} gk_image_set;

/* Loads TOP_DIGEST and what it lists.  A document or blob missing from the
 * store fails with ENOENT, naming it. */
int gk_image_set_load(gk_store *s, const char *top_digest, gk_image_set *out, gk_error **err);
void gk_image_set_clear(gk_image_set *set);

/* The image manifests of SET (the top itself, or the children). */
static inline const gk_set_doc *gk_image_set_images(const gk_image_set *set, size_t *n)
{
        *n = set->n_children ? set->n_children : 1;
        return set->n_children ? set->children : &set->top;
}

/* The index NAME (an image name in the store) was pulled or copied from,
 * when the store holds all of it: *index_digest gets it, else NULL. */
int gk_image_set_find_index(gk_store *s, const char *name, const char *manifest_digest,
                            char **index_digest, gk_error **err);

#endif
