/* An image of the store read back: its manifest (an index resolved for the
 * host), config and layer list, for unpack, bundle, inspect and export. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "manifest.h"
#include "store_internal.h"

void gk_store_image_free(gk_store_image *img)
{
        if (!img)
                return;
        for (size_t i = 0; i < img->n_layers; i++) {
                free(img->layers[i].digest);
                free(img->layers[i].media_type);
        }
        free(img->layers);
        free(img->name);
        free(img->manifest_digest);
        free(img->manifest);
        free(img->manifest_media_type);
        free(img->config_digest);
        free(img->config);
        free(img);
}

void gk_store_image_freep(gk_store_image **img)
{
        gk_store_image_free(*img);
}

static int read_manifest(gk_store *s, const char *digest, char **text, size_t *len, gk_manifest *m,
                         gk_error **err)
{
        if (gk_store_read_blob(s, digest, text, len, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (gk_manifest_parse(*text, *len, NULL, m, err) < 0)
                return gk_error_wrap(err, "%s", digest);
        return 0;
}

/* The host platform's manifest of index M. */
static int pick_for_host(const gk_manifest *m, const char *digest, char **chosen, gk_error **err)
{
        _cleanup_(gk_platform_clear) gk_platform host = { 0 };
        size_t i;

        if (gk_platform_host(&host, err) < 0 || gk_manifest_select(m, &host, &i, err) < 0)
                return gk_error_wrap(err, "index %s", digest);
        *chosen = strdup(m->manifests[i].digest);
        return *chosen ? 0 : gk_error_make(err, ENOMEM, "store");
}

static int fill_layers(gk_store_image *img, const gk_manifest *m, gk_error **err)
{
        img->layers = calloc(m->n_layers + 1, sizeof(gk_store_layer));
        if (!img->layers)
                return gk_error_make(err, ENOMEM, "store");
        for (size_t i = 0; i < m->n_layers; i++) {
                gk_store_layer *l = &img->layers[i];

                img->n_layers++;
                l->digest = strdup(m->layers[i].digest);
                l->media_type = strdup(m->layers[i].media_type);
                l->size = m->layers[i].size;
                if (!l->digest || !l->media_type)
                        return gk_error_make(err, ENOMEM, "store");
        }
        return 0;
}

int gk_store_load_image(gk_store *s, const char *digest, const char *name, gk_store_image **out,
                        gk_error **err)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = calloc(1, sizeof(*img));
        _cleanup_(gk_manifest_clear) gk_manifest m = { 0 };
        _cleanup_free_ char *chosen = NULL;

        if (!img || !(img->manifest_digest = strdup(digest)) ||
            (name && !(img->name = strdup(name))))
                return gk_error_make(err, ENOMEM, "store");
        if (read_manifest(s, digest, &img->manifest, &img->manifest_len, &m, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (m.kind == GK_MANIFEST_INDEX) {
                if (pick_for_host(&m, digest, &chosen, err) < 0)
                        return gk_error_code_or(err, -ENOENT);
                gk_manifest_clear(&m);
                free(img->manifest);
                img->manifest = NULL;
                free(img->manifest_digest);
                img->manifest_digest = TAKE_PTR(chosen);
                if (read_manifest(s, img->manifest_digest, &img->manifest, &img->manifest_len, &m,
                                  err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (m.kind != GK_MANIFEST_IMAGE)
                        return gk_error_make(err, 0,
                                             "index %s: entry %s is not an image "
                                             "manifest",
                                             digest, img->manifest_digest);
        }
        if (!(img->manifest_media_type = strdup(m.media_type)) ||
            !(img->config_digest = strdup(m.config.digest)))
                return gk_error_make(err, ENOMEM, "store");
        if (gk_store_read_blob(s, m.config.digest, &img->config, &img->config_len, err) < 0)
                return gk_error_wrap(err, "image config");
        if (fill_layers(img, &m, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        *out = TAKE_PTR(img);
        return 0;
}
