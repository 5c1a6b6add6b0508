/* The push of one image (see push.h):
 *   1. what to send: the image's manifest, or its index with every
 *      platform's manifest when the store has them all
 *   2. a repository of the same registry the store pulled it from, to
 *      mount blobs from instead of sending them
 *   3. the blobs, in parallel (upload.c), skipping what the registry has
 *   4. the manifests, children by digest before the index by tag, so a
 *      tag never names something incomplete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "manifest.h"
#include "push.h"
#include "reference.h"
#include "remote.h"
#include "upload.h"

typedef struct doc {
        char *digest;
        char *body;
        size_t len;
        gk_manifest m;
} doc;

typedef struct push {
        gk_store *s;
        gk_progress *p;
        gk_reference dest;
        gk_registry *reg;
        gk_store_image *img;
        doc top;       /* pushed by tag */
        doc *children; /* an index's manifests, pushed by digest first */
        size_t n_children;
        char *mount_from;
        gk_blob_push *blobs;
        size_t n_blobs;
} push;

static void doc_clear(doc *d)
{
        free(d->digest);
        free(d->body);
        gk_manifest_clear(&d->m);
        *d = (doc){ 0 };
}

void gk_push_result_clear(gk_push_result *res)
{
        free(res->name);
        free(res->tag);
        free(res->digest);
        *res = (gk_push_result){ 0 };
}

static void push_clear(push *ps)
{
        gk_reference_clear(&ps->dest);
        gk_registry_free(ps->reg);
        gk_store_image_free(ps->img);
        doc_clear(&ps->top);
        for (size_t i = 0; i < ps->n_children; i++)
                doc_clear(&ps->children[i]);
        free(ps->children);
        free(ps->mount_from);
        free(ps->blobs);
}

static int load_doc(gk_store *s, const char *digest, doc *d, gk_error **err)
{
        if (!(d->digest = strdup(digest)))
                return gk_error_make(err, ENOMEM, "push");
        if (gk_store_read_blob(s, digest, &d->body, &d->len, err) < 0 ||
            gk_manifest_parse(d->body, d->len, NULL, &d->m, err) < 0)
                return gk_error_wrap(err, "%s", digest);
        return 0;
}

static bool image_complete(gk_store *s, const gk_manifest *m)
{
        if (m->kind != GK_MANIFEST_IMAGE || !gk_store_has_blob(s, m->config.digest))
                return false;
        for (size_t i = 0; i < m->n_layers; i++)
                if (!gk_store_has_blob(s, m->layers[i].digest))
                        return false;
        return true;
}

/* INDEX_DIGEST's index when the store has every manifest and blob of it
 * (children filled); 0 with nothing done when it has not. */
static int try_index(push *ps, const char *index_digest, gk_error **err)
{
        _cleanup_(doc_clear) doc top = { 0 };
        doc *kids;

        if (!gk_store_has_blob(ps->s, index_digest) ||
            load_doc(ps->s, index_digest, &top, NULL) < 0 || top.m.kind != GK_MANIFEST_INDEX)
                return 0;
        kids = calloc(top.m.n_manifests + 1, sizeof(doc));
        if (!kids)
                return gk_error_make(err, ENOMEM, "push");
        for (size_t i = 0; i < top.m.n_manifests; i++)
                if (load_doc(ps->s, top.m.manifests[i].digest, &kids[i], NULL) < 0 ||
                    !image_complete(ps->s, &kids[i].m)) {
                        for (size_t k = 0; k <= i; k++)
                                doc_clear(&kids[k]);
                        free(kids);
                        return 0;
                }
        ps->top = top;
        top = (doc){ 0 };
        ps->children = kids;
        ps->n_children = ps->top.m.n_manifests;
        return 0;
}

/* The names of the image (and the repository digest they were pulled
 * by) tell where it came from: an index to push whole, a repository of
 * the destination's registry to mount from. */
static int look_at_names(push *ps, gk_error **err)
{
        gk_store_entry *es = NULL;
        size_t n = 0;
        int r = 0;

        if (gk_store_list(ps->s, &es, &n, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < n && r == 0; i++) {
                gk_reference from = { 0 };

                if (strcmp(es[i].manifest_digest, ps->img->manifest_digest) ||
                    gk_reference_parse(es[i].name, &from, NULL) < 0)
                        continue;
                if (!ps->top.digest && es[i].repo_digest &&
                    strcmp(es[i].repo_digest, es[i].manifest_digest) &&
                    (!ps->img->name || !strcmp(es[i].name, ps->img->name)))
                        r = try_index(ps, es[i].repo_digest, err);
                if (!ps->mount_from && !strcmp(from.domain, ps->dest.domain) &&
                    strcmp(from.path, ps->dest.path) && !(ps->mount_from = strdup(from.path)))
                        r = gk_error_make(err, ENOMEM, "push");
                gk_reference_clear(&from);
        }
        gk_store_entries_free(es, n);
        return r;
}

static int add_blob(push *ps, const gk_descriptor *d, bool hidden, gk_error **err)
{
        for (size_t i = 0; i < ps->n_blobs; i++)
                if (!strcmp(ps->blobs[i].digest, d->digest))
                        return 0;
        if (!gk_store_has_blob(ps->s, d->digest))
                return gk_error_make(err, 0,
                                     "blob %s is not in the store (`gkimg check --repair` "
                                     "and a new pull bring it back)",
                                     d->digest);
        ps->blobs[ps->n_blobs++] = (gk_blob_push){ .digest = d->digest,
                                                   .size = gk_store_blob_size(ps->s, d->digest),
                                                   .hidden = hidden,
                                                   .mount_from = ps->mount_from };
        return 0;
}

static int collect_blobs(push *ps, gk_error **err)
{
        size_t max = 0;
        const doc *imgs = ps->n_children ? ps->children : &ps->top;
        size_t n_imgs = ps->n_children ? ps->n_children : 1;

        for (size_t i = 0; i < n_imgs; i++)
                max += imgs[i].m.n_layers + 1;
        ps->blobs = calloc(max + 1, sizeof(gk_blob_push));
        if (!ps->blobs)
                return gk_error_make(err, ENOMEM, "push");
        for (size_t i = 0; i < n_imgs; i++) {
                if (add_blob(ps, &imgs[i].m.config, true, err) < 0)
                        return gk_error_code_or(err, -ENOENT);
                for (size_t k = 0; k < imgs[i].m.n_layers; k++)
                        if (add_blob(ps, &imgs[i].m.layers[k], false, err) < 0)
                                return gk_error_code_or(err, -ENOENT);
        }
        return 0;
}

static int open_registry(push *ps, const gk_push_opts *o, gk_error **err)
{
        _cleanup_free_ char *scope = NULL;
        bool has;

        if (gk_registry_new(ps->dest.domain, ps->dest.path, &o->reg, &ps->reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        if ((ps->mount_from ? asprintf(&scope, "repository:%s:push,pull repository:%s:pull",
                                       ps->dest.path, ps->mount_from)
                            : asprintf(&scope, "repository:%s:push,pull", ps->dest.path)) < 0 ||
            gk_registry_set_scope(ps->reg, scope, err) < 0)
                return gk_error_make(err, ENOMEM, "push");
        /* One request alone first: it settles http or https and fetches
         * the token the parallel uploads then share. */
        return gk_registry_has_blob(ps->reg, ps->blobs[0].digest, &has, err);
}

static int put_manifests(push *ps, gk_error **err)
{
        for (size_t i = 0; i < ps->n_children; i++) {
                const doc *c = &ps->children[i];

                if (gk_registry_put_manifest(ps->reg, c->digest, c->m.media_type, c->body, c->len,
                                             err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        return gk_registry_put_manifest(ps->reg, ps->dest.tag, ps->top.m.media_type, ps->top.body,
                                        ps->top.len, err);
}

static int fill_result(push *ps, gk_push_result *res, gk_error **err)
{
        res->name = gk_reference_string(&ps->dest);
        res->tag = strdup(ps->dest.tag);
        res->digest = strdup(ps->top.digest);
        res->size = ps->top.len;
        for (size_t i = 0; i < ps->n_blobs; i++) {
                res->uploaded += ps->blobs[i].how == GK_PUSH_UPLOADED;
                res->existed += ps->blobs[i].how == GK_PUSH_EXISTED;
                res->mounted += ps->blobs[i].how == GK_PUSH_MOUNTED;
        }
        return res->name && res->tag && res->digest ? 0 : gk_error_make(err, ENOMEM, "push");
}

static int run(push *ps, const char *src, const gk_push_opts *o, gk_push_result *res,
               gk_error **err)
{
        _cleanup_free_ char *repo = gk_reference_name(&ps->dest);

        if (!repo)
                return gk_error_make(err, ENOMEM, "push");
        if (gk_store_resolve(ps->s, src, &ps->img, err) < 0 || look_at_names(ps, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        if (!ps->top.digest && load_doc(ps->s, ps->img->manifest_digest, &ps->top, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (collect_blobs(ps, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        gk_progress_line(ps->p, "The push refers to repository [%s]", repo);
        if (open_registry(ps, o, err) < 0 ||
            gk_registry_push_blobs(ps->reg, ps->s, ps->blobs, ps->n_blobs, ps->p, err) < 0 ||
            put_manifests(ps, err) < 0 ||
            gk_sig_sign_image(o->sig, &o->sign, &ps->dest, ps->top.digest, ps->reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (fill_result(ps, res, err) < 0)
                return -ENOMEM;
        gk_progress_line(ps->p, "%s: digest: %s size: %zu", res->tag, res->digest, res->size);
        return 0;
}

int gk_push(gk_store *s, const char *src, const char *dest, const gk_push_opts *o, gk_progress *p,
            gk_push_result *res, gk_error **err)
{
        push ps = { .s = s, .p = p };
        const char *d = gk_remote_strip(dest) ? gk_remote_strip(dest) : dest;
        int r;

        *res = (gk_push_result){ 0 };
        if (gk_reference_parse(d, &ps.dest, err) < 0)
                return gk_error_wrap(err, "push `%s`", src);
        if (ps.dest.digest) {
                gk_reference_clear(&ps.dest);
                return gk_error_make(err, 0, "push `%s` to `%s`: name a tag, not a digest", src,
                                     d);
        }
        r = gk_store_hold(s, err);
        if (r == 0)
                r = run(&ps, src, o, res, err);
        if (r < 0)
                gk_error_wrap(err, "push `%s` to %s", src, d);
        push_clear(&ps);
        return r;
}
