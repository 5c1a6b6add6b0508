/* An image of the store as bundle and export need it: the store's view
 * (manifest, config, layer blobs) plus the config's diff_ids and, once
 * gk_image_unpack_layers ran, the unpacked layer directories. */
#ifndef GK_IMGTOOL_IMAGE_H
#define GK_IMGTOOL_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "bundle.h"
#include "gk/error.h"
#include "store.h"

typedef struct gk_image {
        gk_store_image *si;
        char *ref;         /* canonical name, else REF as given */
        char **diff_ids;   /* one per layer, from the config */
        char **chain_ids;  /* one per layer: its key in the layer store */
        gk_bundle_image b; /* filled by gk_image_unpack_layers */
} gk_image;

/* Looks REF up in the store; checks that the config lists one valid
 * diff_id per layer. */
int gk_image_load(gk_store *s, const char *ref, gk_image **out, gk_error **err);

/* Unpacks the layers not yet in the store, bottom first, each over the
 * ones below it and checked against its diff_id, and fills img->b. */
int gk_image_unpack_layers(gk_store *s, gk_image *img, bool allow_devices, gk_error **err);

/* The chain ids of the N layers DIFF_IDS (bottom first), NULL-terminated. */
int gk_image_chain_ids(char *const *diff_ids, size_t n, char ***out, gk_error **err);

void gk_image_free(gk_image *img);
void gk_image_freep(gk_image **img);

#endif
