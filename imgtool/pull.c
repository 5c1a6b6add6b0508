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
#include "regconf_try.h"

typedef struct pull {
        gk_store *s;
        gk_registry *reg;
        gk_progress *p;
        gk_reference ref;
        bool fetched;    /* a manifest or blob came from the registry */
        bool renamed;    /* the name is new in the store, or moved to this image */
        bool fetch_only; /* gkimg copy: into the store's blobs, no name */
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

/* The top document, and unless PICK is false the platform's image
 * manifest of an index. */
static int resolve(pull *pl, const char *platform, bool pick, doc *top, doc *img, gk_error **err)
{
        _cleanup_free_ char *chosen = NULL;

        if (pl->ref.digest ? get_by_digest(pl, pl->ref.digest, top, err) < 0
                           : get_by_tag(pl, pl->ref.tag, top, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (parse_doc(top, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (top->m.kind == GK_MANIFEST_IMAGE || !pick)
                return 0;
        if (pick_platform(top, platform, &chosen, err) < 0 ||
            get_by_digest(pl, chosen, img, err) < 0 || parse_doc(img, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (img->m.kind != GK_MANIFEST_IMAGE)
                return gk_error_make(err, 0, "index %s: entry %s is not an image manifest",
                                     top->digest, chosen);
        return 0;
}

/* Every manifest index TOP lists (--all-platforms, copy --all). */
static int get_children(pull *pl, const doc *top, doc **kids, gk_error **err)
{
        size_t n = top->m.n_manifests;

        *kids = calloc(n + 1, sizeof(doc));
        if (!*kids)
                return gk_error_make(err, ENOMEM, "pull");
        for (size_t i = 0; i < n; i++) {
                doc *k = &(*kids)[i];

                if (get_by_digest(pl, top->m.manifests[i].digest, k, err) < 0 ||
                    parse_doc(k, err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (k->m.kind != GK_MANIFEST_IMAGE)
                        return gk_error_make(err, 0, "index %s: entry %s is not an image manifest",
                                             top->digest, k->digest);
        }
        return 0;
}

static void docs_free(doc *kids, size_t n)
{
        for (size_t i = 0; kids && i < n; i++)
                doc_clear(&kids[i]);
        free(kids);
}

static bool listed(const gk_blob_fetch *b, size_t n, const char *digest)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(b[i].digest, digest))
                        return true;
        return false;
}

/* The configs and layers of the N images MS, all at once in parallel. */
static int fetch_blobs(pull *pl, const gk_pull_opts *o, const gk_manifest *const *ms, size_t n,
                       gk_error **err)
{
        _cleanup_free_ gk_blob_fetch *b = NULL;
        size_t max = 0, k = 0;

        for (size_t i = 0; i < n; i++)
                max += ms[i]->n_layers + 1;
        if (!(b = calloc(max + 1, sizeof(*b))))
                return gk_error_make(err, ENOMEM, "pull");
        for (size_t i = 0; i < n; i++) {
                const gk_manifest *m = ms[i];

                if (!listed(b, k, m->config.digest))
                        b[k++] = (gk_blob_fetch){ .digest = m->config.digest,
                                                  .size = m->config.size,
                                                  .hidden = true };
                for (size_t l = 0; l < m->n_layers; l++)
                        if (!listed(b, k, m->layers[l].digest))
                                b[k++] = (gk_blob_fetch){ .digest = m->layers[l].digest,
                                                          .size = m->layers[l].size };
        }
        if ((o->fetch_blobs ? o->fetch_blobs(o->fetch_ctx, pl->reg, pl->s, b, k, pl->p, err)
                            : gk_registry_fetch_blobs(pl->reg, pl->s, b, k, pl->p, err)) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < k; i++)
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

static int put_doc(pull *pl, const doc *d, gk_error **err)
{
        if (!d->digest || d->local)
                return 0;
        return gk_store_put_blob(pl->s, d->body, d->len, d->digest, NULL, err);
}

/* The manifests into the store (children before the index that lists
 * them), then the name unless this is a copy's fetch. */
static int save(pull *pl, const doc *top, const doc *img, const doc *kids, size_t n_kids,
                gk_pull_result *res, gk_error **err)
{
        const doc *im = img->digest ? img : top;
        _cleanup_free_ char *name = gk_reference_string(&pl->ref);

        if (!name)
                return gk_error_make(err, ENOMEM, "pull");
        for (size_t i = 0; i < n_kids; i++)
                if (put_doc(pl, &kids[i], err) < 0)
                        return gk_error_code_or(err, -EIO);
        if (put_doc(pl, img, err) < 0 || put_doc(pl, top, err) < 0)
                return gk_error_code_or(err, -EIO);
        GK_FAULT("pull.after-manifest-saved");
        if (!pl->fetch_only &&
            gk_store_tag(pl->s, name, im->digest, top->digest, &pl->renamed, err) < 0)
                return gk_error_code_or(err, -EIO);
        GK_FAULT("pull.after-tag");
        res->name = TAKE_PTR(name);
        res->digest = strdup(top->digest);
        res->manifest_digest = strdup(im->digest);
        res->downloaded = pl->fetched;
        return res->digest && res->manifest_digest ? 0 : gk_error_make(err, ENOMEM, "pull");
}

/* What to fetch: the image manifest; with all_platforms, every image an
 * index lists (the one named is still the platform's). */
static int fetch_images(pull *pl, const gk_pull_opts *o, const doc *top, const doc *img,
                        doc **kids, size_t *n_kids, gk_error **err)
{
        _cleanup_free_ const gk_manifest **ms = NULL;
        size_t n = 0;

        if (o->all_platforms && top->m.kind == GK_MANIFEST_INDEX) {
                if (get_children(pl, top, kids, err) < 0)
                        return gk_error_code_or(err, -EIO);
                *n_kids = top->m.n_manifests;
        }
        if (!(ms = calloc(*n_kids + 1, sizeof(*ms))))
                return gk_error_make(err, ENOMEM, "pull");
        for (size_t i = 0; i < *n_kids; i++)
                ms[n++] = &(*kids)[i].m;
        if (!n)
                ms[n++] = img->digest ? &img->m : &top->m;
        return fetch_blobs(pl, o, ms, n, err);
}

static int run(pull *pl, const gk_source *src, const gk_registry_opts *ro, const gk_pull_opts *o,
               gk_pull_result *res, gk_error **err)
{
        _cleanup_(doc_clear) doc top = { 0 }, img = { 0 };
        _cleanup_free_ char *familiar = gk_reference_familiar_name(&pl->ref);
        doc *kids = NULL;
        size_t n_kids = 0;
        int r;

        if (gk_registry_new(src->domain, src->path, ro, &pl->reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        gk_progress_line(pl->p, "%s: Pulling from %s",
                         pl->ref.tag && !pl->ref.digest ? pl->ref.tag : pl->ref.digest,
                         familiar ? familiar : "");
        /* A copy of every platform names none: the host's need not be there. */
        if (resolve(pl, o->platform, !(pl->fetch_only && o->all_platforms), &top, &img, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* the policy's word before any layer is stored */
        if (gk_sig_verify_image(o->sig, &pl->ref, top.digest, pl->reg, err) < 0)
                return gk_error_wrap(err, "pull");
        if (o->resolved &&
            o->resolved(o->fetch_ctx, img.digest ? img.digest : top.digest, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        GK_FAULT("pull.after-resolve");
        r = fetch_images(pl, o, &top, &img, &kids, &n_kids, err);
        if (r >= 0)
                GK_FAULT("pull.after-blobs");
        if (r >= 0 && !pl->fetch_only)
                r = check_config(pl, img.digest ? &img.m : &top.m, o->platform, err);
        if (r >= 0)
                r = save(pl, &top, &img, kids, n_kids, res, err);
        docs_free(kids, n_kids ? n_kids : top.m.n_manifests);
        if (r < 0 || pl->fetch_only)
                return r;
        gk_progress_line(pl->p, "Digest: %s", top.digest);
        /* As docker: "newer" when anything was downloaded or the name now
         * names another image (a new tag of layers already here). */
        gk_progress_line(pl->p, "Status: %s for %s",
                         pl->fetched || pl->renamed ? "Downloaded newer image"
                                                    : "Image is up to date",
                         res->name);
        return 0;
}

typedef struct attempt {
        gk_store *s;
        gk_progress *p;
        const gk_pull_opts *o;
        gk_pull_result *res;
        bool fetch_only;
} attempt;

/* One location of registries.conf's list (regconf_try.c); the image is
 * named after REF whichever location served it. */
static int pull_from(const gk_reference *ref, const gk_source *src, const gk_registry_opts *ro,
                     void *data, gk_error **err)
{
        attempt *a = data;
        pull pl = { .s = a->s, .p = a->p, .fetch_only = a->fetch_only };
        int r = 0;

        if (!(pl.ref.domain = strdup(ref->domain)) || !(pl.ref.path = strdup(ref->path)) ||
            (ref->tag && !(pl.ref.tag = strdup(ref->tag))) ||
            (ref->digest && !(pl.ref.digest = strdup(ref->digest))))
                r = gk_error_make(err, ENOMEM, "pull");
        if (r == 0)
                r = run(&pl, src, ro, a->o, a->res, err);
        if (r < 0)
                gk_pull_result_clear(a->res);
        gk_registry_free(pl.reg);
        gk_reference_clear(&pl.ref);
        return r;
}

static int pull_ref(gk_store *s, const char *ref, bool fetch_only, const gk_pull_opts *o,
                    gk_progress *p, gk_pull_result *res, gk_error **err)
{
        attempt a = { .s = s, .p = p, .o = o, .res = res, .fetch_only = fetch_only };
        gk_reference check = { 0 };

        *res = (gk_pull_result){ 0 };
        /* A malformed reference is reported as it always was, before any
         * registries.conf is read. */
        if (gk_reference_parse(ref, &check, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        gk_reference_clear(&check);
        if (gk_store_hold(s, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_regconf_try(ref, &o->reg, pull_from, &a, err);
}

int gk_pull(gk_store *s, const char *ref, const gk_pull_opts *o, gk_progress *p,
            gk_pull_result *res, gk_error **err)
{
        return pull_ref(s, ref, false, o, p, res, err);
}

int gk_pull_fetch(gk_store *s, const char *ref, const gk_pull_opts *o, gk_progress *p,
                  gk_pull_result *res, gk_error **err)
{
        return pull_ref(s, ref, true, o, p, res, err);
}
