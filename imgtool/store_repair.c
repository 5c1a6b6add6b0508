/* gkimg check --repair: what check found damaged, mended from where it
 * came.  A blob is dropped and fetched again from the registry of an image
 * that names it (a manifest by the manifest endpoint, a config or a layer
 * by the blob one, checked as any download); an unpacked layer unlike its
 * manifest is removed and unpacked again, over its parents, by an image
 * that uses it.  Blobs first: a layer is unpacked from its blob. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "image.h"
#include "reference.h"
#include "registry.h"
#include "store_check.h"
#include "store_internal.h"
#include "unpack.h"

typedef struct repair {
        gk_store *s;
        const gk_registry_opts *reg;
        gk_store_entry *es;
        size_t n_es;
        char ***log;
        size_t *n;
} repair;

static void say(repair *rp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(repair *rp, const char *fmt, ...)
{
        char **v = realloc(*rp->log, (*rp->n + 2) * sizeof(char *));
        va_list ap;

        if (!v)
                return;
        *rp->log = v;
        va_start(ap, fmt);
        if (vasprintf(&v[*rp->n], fmt, ap) >= 0)
                v[++*rp->n] = NULL;
        va_end(ap);
}

/* Which image names blob DIGEST, and as what: 'm' a manifest, 'b' a
 * config or layer (*size from the manifest).  NULL when none does. */
static const char *blob_user(repair *rp, const char *digest, char *kind, int64_t *size)
{
        for (size_t i = 0; i < rp->n_es; i++) {
                const gk_store_entry *e = &rp->es[i];

                if (!strcmp(e->manifest_digest, digest) ||
                    (e->repo_digest && !strcmp(e->repo_digest, digest))) {
                        *kind = 'm';
                        return e->name;
                }
        }
        for (size_t i = 0; i < rp->n_es; i++) {
                _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;

                if (gk_store_load_image(rp->s, rp->es[i].manifest_digest, NULL, &img, NULL) < 0)
                        continue;
                *kind = 'b';
                *size = -1;
                if (!strcmp(img->config_digest, digest))
                        return rp->es[i].name;
                for (size_t l = 0; l < img->n_layers; l++)
                        if (!strcmp(img->layers[l].digest, digest)) {
                                *size = img->layers[l].size;
                                return rp->es[i].name;
                        }
        }
        return NULL;
}

static int fetch_again(repair *rp, const char *name, const char *digest, char kind, int64_t size,
                       gk_error **err)
{
        _cleanup_(gk_reference_clear) gk_reference ref = { 0 };
        _cleanup_(gk_registry_freep) gk_registry *r = NULL;
        _cleanup_(gk_response_clear) gk_response resp = { 0 };
        gk_blob_fetch b = { .digest = digest, .size = size, .hidden = true };

        if (gk_reference_parse(name, &ref, err) < 0 ||
            gk_registry_new(ref.domain, ref.path, rp->reg, &r, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (kind == 'b')
                return gk_registry_fetch_blobs(r, rp->s, &b, 1, NULL, err);
        if (gk_registry_manifest(r, digest, false, &resp, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_store_put_blob(rp->s, resp.body, resp.len, digest, NULL, err);
}

static void repair_blob(repair *rp, const char *digest)
{
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        int64_t size = -1;
        char kind = 0;
        const char *name = blob_user(rp, digest, &kind, &size);

        if (gk_store_drop_blob(rp->s, digest, &e) < 0) {
                say(rp, "blob %s: %s", digest, e->msg);
                return;
        }
        if (!name) {
                say(rp, "blob %s: removed (no image names it)", digest);
                return;
        }
        if (fetch_again(rp, name, digest, kind, size, &e) < 0)
                say(rp, "blob %s: cannot fetch it again for %s: %s", digest, name,
                    e ? e->msg : "failed");
        else
                say(rp, "blob %s: fetched again from the registry of %s", digest, name);
}

/* "devices=1" in the manifest's header: it was unpacked with
 * --allow-devices, and is again. */
static bool had_devices(const char *root, const char *chain)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;

        if (asprintf(&path, "%s/layers/chains/%s/manifest", root, chain + 7) < 0 ||
            gk_read_file(path, &text, &len, NULL) < 0)
                return false;
        text[strcspn(text, "\n")] = '\0';
        return strstr(text, " devices=1") != NULL;
}

static void repair_layer(repair *rp, const char *chain)
{
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        const char *root = gk_store_root(rp->s);
        bool devices = had_devices(root, chain);

        if (gk_layer_remove(root, "chains", chain, &e) < 0) {
                say(rp, "layer %s: %s", chain, e->msg);
                return;
        }
        for (size_t i = 0; i < rp->n_es; i++) {
                _cleanup_(gk_image_freep) gk_image *img = NULL;
                bool uses = false;

                if (gk_image_load(rp->s, rp->es[i].name, &img, NULL) < 0)
                        continue;
                for (size_t l = 0; img->chain_ids[l]; l++)
                        uses |= !strcmp(img->chain_ids[l], chain);
                if (!uses)
                        continue;
                if (gk_image_unpack_layers(rp->s, img, devices, &e) < 0)
                        say(rp, "layer %s: removed, cannot unpack it again: %s", chain, e->msg);
                else
                        say(rp, "layer %s: unpacked again for %s", chain, rp->es[i].name);
                return;
        }
        say(rp, "layer %s: removed (no image uses it)", chain);
}

int gk_store_repair(gk_store *s, const gk_store_check *res, const gk_registry_opts *reg,
                    char ***log, size_t *n, gk_error **err)
{
        repair rp = { .s = s, .reg = reg, .log = log, .n = n };

        *log = NULL;
        *n = 0;
        if (gk_store_hold(s, err) < 0 || gk_store_list(s, &rp.es, &rp.n_es, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < res->n_bad_blobs; i++) {
                bool again = false;

                for (size_t j = 0; j < i; j++)
                        again |= !strcmp(res->bad_blobs[j], res->bad_blobs[i]);
                if (!again)
                        repair_blob(&rp, res->bad_blobs[i]);
        }
        for (size_t i = 0; i < res->n_bad_layers; i++)
                repair_layer(&rp, res->bad_layers[i]);
        gk_store_entries_free(rp.es, rp.n_es);
        return 0;
}
