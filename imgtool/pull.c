/* The pull of one reference (see pull.h):
 *   1. the top manifest: HEAD by tag first (Docker Hub counts GETs against
 *      its rate limit, not HEADs) so an image already in the store costs
 *      one request; then GET by digest, checked against it
 *   2. an index: the entry for the platform, fetched the same way
 *   3. config and layers, in parallel, each verified while it streams
 *   4. the manifests into the store, then the name, so the name only ever
 *      points at a complete image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/json.h"
#include "manifest.h"
#include "pull.h"
#include "reference.h"

typedef struct pull {
        gk_store *s;
        gk_registry *reg;
        gk_progress *p;
        gk_reference ref;
        bool fetched; /* a manifest or blob came from the registry */
        bool renamed; /* the name is new in the store, or moved to this image */
} pull;

typedef struct doc {
        char *digest;
        char *body;
        size_t len;
        char *content_type;
        bool local;
        gk_manifest m;
} doc;

static void doc_clear(doc *d)
{
        free(d->digest);
        free(d->body);
        free(d->content_type);
        gk_manifest_clear(&d->m);
        *d = (doc){ 0 };
}

void gk_pull_result_clear(gk_pull_result *res)
{
        free(res->name);
        free(res->digest);
        free(res->manifest_digest);
        *res = (gk_pull_result){ 0 };
}

/* Manifest DIGEST from the store when there, else from the registry. */
static int get_by_digest(pull *pl, const char *digest, doc *d, gk_error **err)
{
        _cleanup_(gk_response_clear) gk_response resp = { 0 };

        if (!(d->digest = strdup(digest)))
                return gk_error_make(err, ENOMEM, "pull");
        if (gk_store_has_blob(pl->s, digest) &&
            gk_store_read_blob(pl->s, digest, &d->body, &d->len, NULL) == 0) {
                char got[GK_SHA256_BUF];

                /* Trusted once it hashes right; a damaged copy is dropped
                 * and fetched again. */
                gk_digest_buf(d->body, d->len, got);
                if (!strcmp(got, digest)) {
                        d->local = true;
                        return 0;
                }
                free(TAKE_PTR(d->body));
                if (gk_store_drop_blob(pl->s, digest, err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        if (gk_registry_manifest(pl->reg, digest, false, &resp, err) < 0)
                return gk_error_code_or(err, -EIO);
        d->body = TAKE_PTR(resp.body);
        d->len = resp.len;
        d->content_type = TAKE_PTR(resp.content_type);
        pl->fetched = true;
        return 0;
}

/* The top manifest of a tag: HEAD for its digest, then by digest. */
static int get_by_tag(pull *pl, const char *tag, doc *d, gk_error **err)
{
        _cleanup_(gk_response_clear) gk_response resp = { 0 };
        _cleanup_(gk_error_freep) gk_error *herr = NULL;
        char digest[GK_SHA256_BUF];
        int r;

        r = gk_registry_manifest(pl->reg, tag, true, &resp, &herr);
        if (r == -ENOENT || r == -EACCES || r == -EAGAIN) {
                *err = TAKE_PTR(herr);
                return r;
        }
        if (r == 0 && resp.digest)
                return get_by_digest(pl, resp.digest, d, err);
        /* No digest in the HEAD answer (or HEAD refused): GET by tag. */
        gk_response_clear(&resp);
        if (gk_registry_manifest(pl->reg, tag, false, &resp, err) < 0)
                return gk_error_code_or(err, -EIO);
        gk_digest_buf(resp.body, resp.len, digest);
        if (!(d->digest = strdup(digest)))
                return gk_error_make(err, ENOMEM, "pull");
        d->body = TAKE_PTR(resp.body);
        d->len = resp.len;
        d->content_type = TAKE_PTR(resp.content_type);
        pl->fetched = true;
        return 0;
}

static int parse_doc(doc *d, gk_error **err)
{
        if (gk_manifest_parse(d->body, d->len, d->content_type, &d->m, err) < 0)
                return gk_error_wrap(err, "%s", d->digest);
        return 0;
}

static int pick_platform(const doc *top, const char *platform, char **chosen, gk_error **err)
{
        _cleanup_(gk_platform_clear) gk_platform want = { 0 };
        size_t i;

        if (platform ? gk_platform_parse(platform, &want, err) < 0
                     : gk_platform_host(&want, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (gk_manifest_select(&top->m, &want, &i, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        *chosen = strdup(top->m.manifests[i].digest);
        return *chosen ? 0 : gk_error_make(err, ENOMEM, "pull");
}

static int resolve(pull *pl, const char *platform, doc *top, doc *img, gk_error **err)
{
        _cleanup_free_ char *chosen = NULL;

        if (pl->ref.digest ? get_by_digest(pl, pl->ref.digest, top, err) < 0
                           : get_by_tag(pl, pl->ref.tag, top, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (parse_doc(top, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (top->m.kind == GK_MANIFEST_IMAGE)
                return 0;
        if (pick_platform(top, platform, &chosen, err) < 0 ||
            get_by_digest(pl, chosen, img, err) < 0 || parse_doc(img, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (img->m.kind != GK_MANIFEST_IMAGE)
                return gk_error_make(err, 0, "index %s: entry %s is not an image manifest",
                                     top->digest, chosen);
        return 0;
}

static int fetch_blobs(pull *pl, const gk_manifest *m, gk_error **err)
{
        _cleanup_free_ gk_blob_fetch *b = calloc(m->n_layers + 1, sizeof(*b));

        if (!b)
                return gk_error_make(err, ENOMEM, "pull");
        b[0] = (gk_blob_fetch){ .digest = m->config.digest,
                                .size = m->config.size,
                                .hidden = true };
        for (size_t i = 0; i < m->n_layers; i++)
                b[i + 1] = (gk_blob_fetch){ .digest = m->layers[i].digest,
                                            .size = m->layers[i].size };
        if (gk_registry_fetch_blobs(pl->reg, pl->s, b, m->n_layers + 1, pl->p, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i <= m->n_layers; i++)
                pl->fetched |= !b[i].existed;
        return 0;
}

/* The config must be one gkimg can use, and match --platform. */
static int check_config(pull *pl, const gk_manifest *m, const char *platform, gk_error **err)
{
        _cleanup_(gk_platform_clear) gk_platform want = { 0 };
        _cleanup_(gk_json_freep) yajl_val c = NULL;
        _cleanup_free_ char *text = NULL;
        const char *os, *arch;
        size_t len = 0;
        yajl_val ids;

        if (gk_store_read_blob(pl->s, m->config.digest, &text, &len, err) < 0 ||
            gk_json_parse(text, len, "image config", &c, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        ids = gk_json_get(gk_json_get(c, "rootfs"), "diff_ids");
        if (!ids || !YAJL_IS_ARRAY(ids) || ids->u.array.len != m->n_layers)
                return gk_error_make(err, 0,
                                     "image config %s: rootfs.diff_ids: must list one "
                                     "entry per layer (%zu)",
                                     m->config.digest, m->n_layers);
        if (!platform)
                return 0;
        os = gk_json_get_str(c, "os");
        arch = gk_json_get_str(c, "architecture");
        if (gk_platform_parse(platform, &want, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (!os || !arch || strcmp(os, want.os) || strcmp(arch, want.arch))
                return gk_error_make(err, 0, "image is for %s/%s, not the requested %s",
                                     os ? os : "?", arch ? arch : "?", platform);
        return 0;
}

static int save(pull *pl, const doc *top, const doc *img, gk_pull_result *res, gk_error **err)
{
        const doc *im = img->digest ? img : top;
        _cleanup_free_ char *name = gk_reference_string(&pl->ref);

        if (!name)
                return gk_error_make(err, ENOMEM, "pull");
        if ((!top->local &&
             gk_store_put_blob(pl->s, top->body, top->len, top->digest, NULL, err) < 0) ||
            (img->digest && !img->local &&
             gk_store_put_blob(pl->s, img->body, img->len, img->digest, NULL, err) < 0))
                return gk_error_code_or(err, -EIO);
        GK_FAULT("pull.after-manifest-saved");
        if (gk_store_tag(pl->s, name, im->digest, top->digest, &pl->renamed, err) < 0)
                return gk_error_code_or(err, -EIO);
        GK_FAULT("pull.after-tag");
        res->name = TAKE_PTR(name);
        res->digest = strdup(top->digest);
        res->manifest_digest = strdup(im->digest);
        res->downloaded = pl->fetched;
        return res->digest && res->manifest_digest ? 0 : gk_error_make(err, ENOMEM, "pull");
}

static int run(pull *pl, const gk_pull_opts *o, gk_pull_result *res, gk_error **err)
{
        _cleanup_(doc_clear) doc top = { 0 }, img = { 0 };
        _cleanup_free_ char *familiar = gk_reference_familiar_name(&pl->ref);
        const gk_manifest *m;

        if (gk_registry_new(pl->ref.domain, pl->ref.path, &o->reg, &pl->reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        gk_progress_line(pl->p, "%s: Pulling from %s",
                         pl->ref.tag && !pl->ref.digest ? pl->ref.tag : pl->ref.digest,
                         familiar ? familiar : "");
        if (resolve(pl, o->platform, &top, &img, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* the policy's word before any layer is stored */
        if (gk_sig_verify_image(o->sig, &pl->ref, top.digest, pl->reg, err) < 0)
                return gk_error_wrap(err, "pull");
        m = img.digest ? &img.m : &top.m;
        GK_FAULT("pull.after-resolve");
        if (fetch_blobs(pl, m, err) < 0)
                return gk_error_code_or(err, -EIO);
        GK_FAULT("pull.after-blobs");
        if (check_config(pl, m, o->platform, err) < 0 || save(pl, &top, &img, res, err) < 0)
                return gk_error_code_or(err, -EIO);
        gk_progress_line(pl->p, "Digest: %s", top.digest);
        /* As docker: "newer" when anything was downloaded or the name now
         * names another image (a new tag of layers already here). */
        gk_progress_line(pl->p, "Status: %s for %s",
                         pl->fetched || pl->renamed ? "Downloaded newer image"
                                                    : "Image is up to date",
                         res->name);
        return 0;
}

int gk_pull(gk_store *s, const char *ref, const gk_pull_opts *o, gk_progress *p,
            gk_pull_result *res, gk_error **err)
{
        pull pl = { .s = s, .p = p };
        int r;

        *res = (gk_pull_result){ 0 };
        if (gk_reference_parse(ref, &pl.ref, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        r = gk_store_hold(s, err);
        if (r == 0)
                r = run(&pl, o, res, err);
        gk_registry_free(pl.reg);
        gk_reference_clear(&pl.ref);
        return r;
}
