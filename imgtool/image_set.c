/* An image's documents and blobs in the store (see image_set.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "image_set.h"

static void doc_clear(gk_set_doc *d)
{
        free(d->digest);
        free(d->body);
        gk_manifest_clear(&d->m);
        *d = (gk_set_doc){ 0 };
}

void gk_image_set_clear(gk_image_set *set)
{
        doc_clear(&set->top);
        for (size_t i = 0; i < set->n_children; i++)
                doc_clear(&set->children[i]);
        free(set->children);
        for (size_t i = 0; i < set->n_blobs; i++)
                free(set->blobs[i].digest);
        free(set->blobs);
        *set = (gk_image_set){ 0 };
}

static int load_doc(gk_store *s, const char *digest, const char *media_type, gk_set_doc *d,
                    gk_error **err)
{
        if (!(d->digest = strdup(digest)))
                return gk_error_make(err, ENOMEM, "image");
        if (!gk_store_has_blob(s, digest))
                return gk_error_plain(err, ENOENT, "manifest %s is not in the store", digest);
        if (gk_store_read_blob(s, digest, &d->body, &d->len, err) < 0 ||
            gk_manifest_parse(d->body, d->len, media_type, &d->m, err) < 0)
                return gk_error_wrap(err, "%s", digest);
        return 0;
}

static int add_blob(gk_store *s, gk_image_set *set, const gk_descriptor *d, bool config,
                    gk_error **err)
{
        for (size_t i = 0; i < set->n_blobs; i++)
                if (!strcmp(set->blobs[i].digest, d->digest))
                        return 0;
        if (!gk_store_has_blob(s, d->digest))
                return gk_error_plain(err, ENOENT, "blob %s is not in the store", d->digest);
        set->blobs[set->n_blobs] = (gk_set_blob){ .digest = strdup(d->digest),
                                                  .size = d->size,
                                                  .config = config };
        if (!set->blobs[set->n_blobs].digest)
                return gk_error_make(err, ENOMEM, "image");
        set->n_blobs++;
        return 0;
}

static int collect_blobs(gk_store *s, gk_image_set *set, gk_error **err)
{
        size_t n, max = 0;
        const gk_set_doc *imgs = gk_image_set_images(set, &n);

        for (size_t i = 0; i < n; i++)
                max += imgs[i].m.n_layers + 1;
        set->blobs = calloc(max + 1, sizeof(gk_set_blob));
        if (!set->blobs)
                return gk_error_make(err, ENOMEM, "image");
        for (size_t i = 0; i < n; i++) {
                if (add_blob(s, set, &imgs[i].m.config, true, err) < 0)
                        return gk_error_code_or(err, -ENOENT);
                for (size_t k = 0; k < imgs[i].m.n_layers; k++)
                        if (add_blob(s, set, &imgs[i].m.layers[k], false, err) < 0)
                                return gk_error_code_or(err, -ENOENT);
        }
        return 0;
}

static int load_children(gk_store *s, gk_image_set *set, gk_error **err)
{
        const gk_manifest *ix = &set->top.m;

        set->children = calloc(ix->n_manifests + 1, sizeof(gk_set_doc));
        if (!set->children)
                return gk_error_make(err, ENOMEM, "image");
        for (size_t i = 0; i < ix->n_manifests; i++) {
                gk_set_doc *c = &set->children[i];

                set->n_children++;
                if (load_doc(s, ix->manifests[i].digest, ix->manifests[i].media_type, c, err) < 0)
                        return gk_error_wrap(err, "index %s", set->top.digest);
                if (c->m.kind != GK_MANIFEST_IMAGE)
                        return gk_error_make(err, 0, "index %s: entry %s is not an image manifest",
                                             set->top.digest, c->digest);
        }
        return 0;
}

int gk_image_set_load(gk_store *s, const char *top_digest, gk_image_set *out, gk_error **err)
{
        gk_image_set set = { 0 };
        int r;

        *out = (gk_image_set){ 0 };
        r = load_doc(s, top_digest, NULL, &set.top, err);
        if (r >= 0 && set.top.m.kind == GK_MANIFEST_INDEX) {
                r = load_children(s, &set, err);
                /* an index that lists nothing has no image to copy */
                if (r >= 0 && !set.n_children)
                        r = gk_error_make(err, 0, "index %s lists no manifest", top_digest);
        }
        if (r >= 0)
                r = collect_blobs(s, &set, err);
        if (r < 0) {
                gk_image_set_clear(&set);
                return r;
        }
        *out = set;
        return 0;
}

int gk_image_set_find_index(gk_store *s, const char *name, const char *manifest_digest,
                            char **index_digest, gk_error **err)
{
        gk_store_entry *es = NULL;
        size_t n = 0;

        *index_digest = NULL;
        if (gk_store_list(s, &es, &n, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < n && !*index_digest; i++) {
                gk_image_set set = { 0 };

                if (strcmp(es[i].manifest_digest, manifest_digest) || !es[i].repo_digest ||
                    !strcmp(es[i].repo_digest, manifest_digest) ||
                    (name && strcmp(es[i].name, name)))
                        continue;
                if (gk_image_set_load(s, es[i].repo_digest, &set, NULL) == 0 && set.n_children &&
                    !(*index_digest = strdup(es[i].repo_digest))) {
                        gk_image_set_clear(&set);
                        gk_store_entries_free(es, n);
                        return gk_error_make(err, ENOMEM, "image");
                }
                gk_image_set_clear(&set);
        }
        gk_store_entries_free(es, n);
        return 0;
}
