/* The push of one image (see push.h):
 *   1. what to send: the image's manifest, or its index with every
 *      platform's manifest when the store has them all
 *   2. a repository of the same registry the store pulled it from, to
 *      mount blobs from instead of sending them
 *   3. the blobs, in parallel (upload.c), skipping what the registry has
 *   4. the manifests, children by digest before the index by tag, so a
 *      tag never names something incomplete
 *   5. with --sign-by*, the signature, made before step 3 so that a key
 *      that cannot sign leaves the destination untouched.
 * A copy between registries opens the session first and sends the blobs
 * while they download (push_stream.c); step 3 then has nothing left. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "image_set.h"
#include "manifest.h"
#include "push.h"
#include "push_session.h"
#include "reference.h"
#include "regconf_try.h"
#include "remote.h"
#include "upload.h"

typedef struct gk_push_session push;

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
        gk_image_set_clear(&ps->set);
        free(ps->mount_from);
        free(ps->blobs);
        for (size_t i = 0; i < ps->n_sent; i++)
                free(ps->sent[i].digest);
        free(ps->sent);
        gk_sig_made_free(ps->sig);
}

const gk_push_sent *gk_push_session_sent(const push *ps, const char *digest)
{
        for (size_t i = 0; i < ps->n_sent; i++)
                if (!strcmp(ps->sent[i].digest, digest))
                        return &ps->sent[i];
        return NULL;
}

/* A repository of the destination's registry the store has the image
 * under, to mount blobs from instead of sending them. */
static int find_mount_source(push *ps, const char *manifest_digest, gk_error **err)
{
        gk_store_entry *es = NULL;
        size_t n = 0;
        int r = 0;

        if (gk_store_list(ps->s, &es, &n, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < n && r == 0 && !ps->mount_from; i++) {
                gk_reference from = { 0 };

                if (strcmp(es[i].manifest_digest, manifest_digest) ||
                    gk_reference_parse(es[i].name, &from, NULL) < 0)
                        continue;
                if (!strcmp(from.domain, ps->dest.domain) && strcmp(from.path, ps->dest.path) &&
                    !(ps->mount_from = strdup(from.path)))
                        r = gk_error_make(err, ENOMEM, "push");
                gk_reference_clear(&from);
        }
        gk_store_entries_free(es, n);
        return r;
}

/* The set's blobs: those to send first (n_todo), then those a copy's
 * stream has sent already, with what became of them. */
static int collect_blobs(push *ps, gk_error **err)
{
        size_t n = ps->set.n_blobs, done = 0;

        ps->blobs = calloc(n + 1, sizeof(gk_blob_push));
        if (!ps->blobs)
                return gk_error_make(err, ENOMEM, "push");
        for (size_t i = 0; i < n; i++) {
                const gk_set_blob *b = &ps->set.blobs[i];
                const gk_push_sent *sent = gk_push_session_sent(ps, b->digest);
                gk_blob_push bp = { .digest = b->digest,
                                    .size = gk_store_blob_size(ps->s, b->digest),
                                    .hidden = b->config,
                                    .mount_from = ps->mount_from };

                if (sent) {
                        bp.how = sent->how;
                        bp.sent = sent->bytes;
                        ps->blobs[n - ++done] = bp;
                } else {
                        ps->blobs[ps->n_todo++] = bp;
                }
        }
        ps->n_blobs = n;
        return 0;
}

int gk_push_session_open(push *ps, const char *first_blob, gk_error **err)
{
        _cleanup_free_ char *scope = NULL;
        gk_registry_opts ro = ps->o.reg;
        bool has, insecure = false;

        if (ps->reg)
                return 0;
        /* registries.conf: blocked and insecure apply to a push; its
         * mirrors and locations are for reading only. */
        if (gk_regconf_check_push(&ps->dest, &insecure, err) < 0)
                return gk_error_code_or(err, -EACCES);
        ro.insecure |= insecure;
        if (gk_registry_new(ps->dest.domain, ps->dest.path, &ro, &ps->reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        if ((ps->mount_from ? asprintf(&scope, "repository:%s:push,pull repository:%s:pull",
                                       ps->dest.path, ps->mount_from)
                            : asprintf(&scope, "repository:%s:push,pull", ps->dest.path)) < 0 ||
            gk_registry_set_scope(ps->reg, scope, err) < 0)
                return gk_error_make(err, ENOMEM, "push");
        /* One request alone first: it settles http or https and fetches
         * the token the parallel uploads then share. */
        return gk_registry_has_blob(ps->reg, first_blob, &has, err);
}

int gk_push_session_sign(void *session, const char *digest, gk_error **err)
{
        push *ps = session;

        if (ps->sig && !strcmp(gk_sig_made_digest(ps->sig), digest))
                return 0;
        gk_sig_made_free(TAKE_PTR(ps->sig));
        if (gk_sig_make(ps->o.sig, &ps->o.sign, &ps->dest, digest, &ps->sig, err) < 0) {
                ps->dest_failed = true;
                return gk_error_code_or(err, -EINVAL);
        }
        return 0;
}

static int put_manifests(push *ps, gk_error **err)
{
        const gk_set_doc *top = &ps->set.top;

        for (size_t i = 0; i < ps->set.n_children; i++) {
                const gk_set_doc *c = &ps->set.children[i];

                if (gk_registry_put_manifest(ps->reg, c->digest, c->m.media_type, c->body, c->len,
                                             err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        return gk_registry_put_manifest(ps->reg, ps->dest.tag, top->m.media_type, top->body,
                                        top->len, err);
}

static int fill_result(push *ps, gk_push_result *res, gk_error **err)
{
        res->name = gk_reference_string(&ps->dest);
        res->tag = strdup(ps->dest.tag);
        res->digest = strdup(ps->set.top.digest);
        res->size = ps->set.top.len;
        for (size_t i = 0; i < ps->n_blobs; i++) {
                res->uploaded += ps->blobs[i].how == GK_PUSH_UPLOADED;
                res->existed += ps->blobs[i].how == GK_PUSH_EXISTED;
                res->mounted += ps->blobs[i].how == GK_PUSH_MOUNTED;
        }
        return res->name && res->tag && res->digest ? 0 : gk_error_make(err, ENOMEM, "push");
}

/* The image whose top document is TOP_DIGEST, from the store to the
 * registry. */
static int push_image(push *ps, const char *top_digest, gk_push_result *res, gk_error **err)
{
        _cleanup_free_ char *repo = gk_reference_name(&ps->dest);

        if (!repo)
                return gk_error_make(err, ENOMEM, "push");
        /* a key that cannot sign fails here, with the destination untouched */
        if (gk_push_session_sign(ps, top_digest, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (gk_image_set_load(ps->s, top_digest, &ps->set, err) < 0) {
                _cleanup_free_ char *why = *err ? strdup((*err)->msg) : NULL;

                if (why && gk_error_code(*err) == -ENOENT)
                        gk_error_make(err, 0,
                                      "%s (`gkimg check --repair` and a new pull bring it back)",
                                      why);
                return -ENOENT;
        }
        if (collect_blobs(ps, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        if (!ps->announced)
                gk_progress_line(ps->p, "The push refers to repository [%s]", repo);
        ps->announced = true;
        if (gk_push_session_open(ps, ps->blobs[0].digest, err) < 0 ||
            (ps->n_todo &&
             gk_registry_push_blobs(ps->reg, ps->s, ps->blobs, ps->n_todo, ps->p, err) < 0) ||
            put_manifests(ps, err) < 0 || gk_sig_store(ps->sig, ps->reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (fill_result(ps, res, err) < 0)
                return -ENOMEM;
        gk_progress_line(ps->p, "%s: digest: %s size: %zu", res->tag, res->digest, res->size);
        return 0;
}

/* What to send for SRC: its index when the store has every platform of
 * it, else its image manifest; and where to mount from. */
static int run(push *ps, const char *src, gk_push_result *res, gk_error **err)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        _cleanup_free_ char *index = NULL;

        if (gk_store_resolve(ps->s, src, &img, err) < 0 ||
            gk_image_set_find_index(ps->s, img->name, img->manifest_digest, &index, err) < 0 ||
            find_mount_source(ps, img->manifest_digest, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        return push_image(ps, index ? index : img->manifest_digest, res, err);
}

static int parse_dest(push *ps, const char *src, const char *dest, gk_error **err)
{
        const char *d = gk_remote_strip(dest) ? gk_remote_strip(dest) : dest;

        if (gk_reference_parse(d, &ps->dest, err) < 0)
                return gk_error_wrap(err, "push `%s`", src);
        if (ps->dest.digest)
                return gk_error_make(err, 0, "push `%s` to `%s`: name a tag, not a digest", src,
                                     d);
        return 0;
}

int gk_push(gk_store *s, const char *src, const char *dest, const gk_push_opts *o, gk_progress *p,
            gk_push_result *res, gk_error **err)
{
        push ps = { .s = s, .p = p, .o = *o };
        const char *d = gk_remote_strip(dest) ? gk_remote_strip(dest) : dest;
        int r;

        *res = (gk_push_result){ 0 };
        r = parse_dest(&ps, src, dest, err);
        if (r == 0)
                r = gk_store_hold(s, err);
        if (r == 0 && (r = run(&ps, src, res, err)) < 0)
                gk_error_wrap(err, "push `%s` to %s", src, d);
        push_clear(&ps);
        return r;
}

int gk_push_session_new(gk_store *s, const char *what, const char *dest, const char *mount_from,
                        const gk_push_opts *o, gk_progress *p, gk_push_session **out,
                        gk_error **err)
{
        push *ps = calloc(1, sizeof(*ps));
        int r;

        if (!ps)
                return gk_error_make(err, ENOMEM, "push");
        *ps = (push){ .s = s, .p = p, .o = *o };
        r = parse_dest(ps, what, dest, err);
        if (r == 0 && mount_from && strcmp(mount_from, ps->dest.path) &&
            !(ps->mount_from = strdup(mount_from)))
                r = gk_error_make(err, ENOMEM, "push");
        if (r < 0) {
                gk_push_session_free(ps);
                return r;
        }
        *out = ps;
        return 0;
}

void gk_push_session_free(gk_push_session *ps)
{
        if (!ps)
                return;
        push_clear(ps);
        free(ps);
}

int gk_push_session_finish(gk_push_session *ps, const char *top_digest, gk_push_result *res,
                           gk_error **err)
{
        *res = (gk_push_result){ 0 };
        return push_image(ps, top_digest, res, err);
}

int gk_push_digest(gk_store *s, const char *top_digest, const char *dest, const char *mount_from,
                   const gk_push_opts *o, gk_progress *p, gk_push_result *res, gk_error **err)
{
        _cleanup_(gk_push_session_freep) gk_push_session *ps = NULL;

        *res = (gk_push_result){ 0 };
        if (gk_push_session_new(s, top_digest, dest, mount_from, o, p, &ps, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        return gk_push_session_finish(ps, top_digest, res, err);
}
