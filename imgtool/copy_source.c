/* gkimg copy's sources (see copy.h): each puts the image's documents and
 * blobs into the store's blob area, names nothing, and says which document
 * is the top one to copy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "copy.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "image_set.h"
#include "import_source.h"
#include "manifest.h"
#include "oci_layout.h"
#include "pull.h"
#include "push_session.h"
#include "reference.h"

void gk_copy_staged_clear(gk_copy_staged *st)
{
        free(st->top);
        free(st->name);
        *st = (gk_copy_staged){ 0 };
}

static int from_registry(gk_store *s, const gk_transport *t, const gk_copy_opts *o,
                         gk_push_session *stream, gk_progress *p, gk_copy_staged *st,
                         gk_error **err)
{
        _cleanup_(gk_pull_result_clear) gk_pull_result res = { 0 };
        gk_pull_opts po = {
                .platform = o->platform, .all_platforms = o->all, .reg = o->src_reg, .sig = o->sig
        };

        if (stream) {
                po.fetch_blobs = gk_push_session_stream;
                po.fetch_ctx = stream;
                po.resolved = gk_push_session_sign;
        }

        if (gk_pull_fetch(s, t->path, &po, p, &res, err) < 0)
                return gk_error_code_or(err, -EIO);
        st->top = TAKE_PTR(res.manifest_digest);
        st->name = TAKE_PTR(res.name);
        return 0;
}

/* The store: the image's index when --all and the store holds all of it. */
static int from_store(gk_store *s, const gk_transport *t, const gk_copy_opts *o,
                      gk_copy_staged *st, gk_error **err)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;

        if (gk_store_resolve(s, t->path, &img, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        if (o->all &&
            gk_image_set_find_index(s, img->name, img->manifest_digest, &st->top, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (!st->top && !(st->top = strdup(img->manifest_digest)))
                return gk_error_make(err, ENOMEM, "copy");
        if (img->name && !(st->name = strdup(img->name)))
                return gk_error_make(err, ENOMEM, "copy");
        return 0;
}

/* Manifest DIGEST from the layout or archive with what it lists: every
 * image of an index with --all, else the platform's; *top gets the
 * document to copy. */
static int need_image(gk_import_source *src, const char *digest, const char *media_type,
                      const gk_copy_opts *o, char **top, gk_error **err)
{
        _cleanup_(gk_manifest_clear) gk_manifest m = { 0 };
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (gk_import_need_blob(src, digest, err) < 0 ||
            gk_store_read_blob(src->store, digest, &text, &len, err) < 0 ||
            gk_manifest_parse(text, len, media_type, &m, err) < 0)
                return gk_error_wrap(err, "manifest %s", digest);
        if (m.kind == GK_MANIFEST_INDEX && !o->all) {
                _cleanup_(gk_platform_clear) gk_platform want = { 0 };
                size_t i;

                if ((o->platform ? gk_platform_parse(o->platform, &want, err)
                                 : gk_platform_host(&want, err)) < 0 ||
                    gk_manifest_select(&m, &want, &i, err) < 0)
                        return gk_error_wrap(err, "index %s", digest);
                return need_image(src, m.manifests[i].digest, m.manifests[i].media_type, o, top,
                                  err);
        }
        for (size_t i = 0; i < m.n_manifests; i++) {
                _cleanup_free_ char *child = NULL;

                if (need_image(src, m.manifests[i].digest, m.manifests[i].media_type, o, &child,
                               err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        if (m.kind == GK_MANIFEST_IMAGE && gk_import_need_blob(src, m.config.digest, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < m.n_layers; i++)
                if (gk_import_need_blob(src, m.layers[i].digest, err) < 0)
                        return gk_error_code_or(err, -EIO);
        *top = strdup(digest);
        return *top ? 0 : gk_error_make(err, ENOMEM, "copy");
}

/* The index.json entry TAG names (by ref.name, as skopeo looks it up), or
 * the only entry when no TAG is given. */
static int pick_entry(yajl_val ms, const char *tag, yajl_val *out, gk_error **err)
{
        size_t n = ms && YAJL_IS_ARRAY(ms) ? ms->u.array.len : 0;

        *out = NULL;
        if (n == 0)
                return gk_error_make(err, 0, "index.json lists no image");
        for (size_t i = 0; tag && i < n; i++) {
                yajl_val e = ms->u.array.values[i];
                const char *rn = gk_json_get_str(gk_json_get(e, "annotations"), GK_OCI_REF_NAME);

                if (rn && !strcmp(rn, tag)) {
                        *out = e;
                        return 0;
                }
        }
        if (tag)
                return gk_error_make(err, 0, "no image tagged \"%s\" in index.json", tag);
        if (n > 1)
                return gk_error_make(err, 0, "index.json lists %zu images: name one with :TAG", n);
        *out = ms->u.array.values[0];
        return 0;
}

static int from_oci(gk_import_source *src, const gk_transport *t, const gk_copy_opts *o,
                    gk_copy_staged *st, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val idx = NULL;
        yajl_val e;
        const char *digest;

        if (!src->index_json)
                return gk_error_make(err, 0, "no index.json: not an OCI layout");
        if (gk_json_parse(src->index_json, src->index_len, "index.json", &idx, err) < 0 ||
            pick_entry(gk_json_get(idx, "manifests"), t->ref, &e, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        digest = gk_json_get_str(e, "digest");
        if (!digest)
                return gk_error_make(err, 0, "index.json: an entry without a digest");
        if (t->ref && !(st->name = strdup(t->ref)))
                return gk_error_make(err, ENOMEM, "copy");
        return need_image(src, digest, gk_json_get_str(e, "mediaType"), o, &st->top, err);
}

/* Does manifest.json's ENTRY carry REF among its RepoTags (compared as
 * canonical references: "app:1" is docker.io/library/app:1)? */
static bool has_repo_tag(yajl_val entry, const char *ref)
{
        yajl_val tags = gk_json_get(entry, "RepoTags");
        _cleanup_(gk_reference_clear) gk_reference want = { 0 };
        _cleanup_free_ char *canon = NULL;

        if (gk_reference_parse(ref, &want, NULL) < 0 || !(canon = gk_reference_string(&want)))
                return false;
        for (size_t i = 0; tags && YAJL_IS_ARRAY(tags) && i < tags->u.array.len; i++) {
                _cleanup_(gk_reference_clear) gk_reference r = { 0 };
                _cleanup_free_ char *c = NULL;
                const char *s = YAJL_GET_STRING(tags->u.array.values[i]);

                if (s && gk_reference_parse(s, &r, NULL) == 0 && (c = gk_reference_string(&r)) &&
                    !strcmp(c, canon))
                        return true;
        }
        return false;
}

/* manifest.json's entry T names: by :REF among its RepoTags, by :@N, or
 * the only one. */
static int pick_archive_entry(yajl_val m, const gk_transport *t, yajl_val *out, gk_error **err)
{
        size_t n = YAJL_IS_ARRAY(m) ? m->u.array.len : 0;

        *out = NULL;
        if (t->has_index) {
                if (t->index >= n)
                        return gk_error_make(err, 0,
                                             "invalid source index @%zu, only %zu manifest items "
                                             "available",
                                             t->index, n);
                *out = m->u.array.values[t->index];
                return 0;
        }
        for (size_t i = 0; t->ref && i < n && !*out; i++)
                if (has_repo_tag(m->u.array.values[i], t->ref))
                        *out = m->u.array.values[i];
        if (t->ref && !*out)
                return gk_error_make(err, 0, "no image tagged \"%s\" in manifest.json", t->ref);
        if (!t->ref && n != 1)
                return gk_error_make(err, 0,
                                     "manifest.json lists %zu images: name one with :REF or :@N",
                                     n);
        if (!*out)
                *out = m->u.array.values[0];
        return 0;
}

static int from_docker_archive(gk_import_source *src, const gk_transport *t, gk_copy_staged *st,
                               gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val m = NULL;
        yajl_val e = NULL, tags;
        const char *name;

        if (!src->manifest_json)
                return gk_error_make(err, 0, "no manifest.json: not a docker-archive");
        if (gk_json_parse(src->manifest_json, src->manifest_len, "manifest.json", &m, err) < 0 ||
            pick_archive_entry(m, t, &e, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        tags = gk_json_get(e, "RepoTags");
        name = t->ref;
        if (!name && tags && YAJL_IS_ARRAY(tags) && tags->u.array.len)
                name = YAJL_GET_STRING(tags->u.array.values[0]);
        if (name && !(st->name = strdup(name)))
                return gk_error_make(err, ENOMEM, "copy");
        return gk_import_docker_manifest(src, e, &st->top, err);
}

static int from_file(gk_store *s, const gk_transport *t, const gk_copy_opts *o, gk_copy_staged *st,
                     gk_error **err)
{
        _cleanup_(gk_import_close) gk_import_source src = { .layout_fd = -1 };
        struct stat sb;

        /* checked first: an archive is read whole by gk_import_open */
        if (stat(t->path, &sb) < 0)
                return gk_error_errno(err, "`%s`", t->path);
        if (t->kind == GK_TRANSPORT_OCI && !S_ISDIR(sb.st_mode))
                return gk_error_make(err, 0, "not a directory (an archive is oci-archive:)");
        if (t->kind != GK_TRANSPORT_OCI && S_ISDIR(sb.st_mode))
                return gk_error_make(err, 0, "a directory (a layout directory is oci:)");
        if (gk_import_open(s, t->path, &src, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (t->kind == GK_TRANSPORT_DOCKER_ARCHIVE)
                return from_docker_archive(&src, t, st, err);
        return from_oci(&src, t, o, st, err);
}

int gk_copy_read(gk_store *s, const gk_transport *src, const gk_copy_opts *o,
                 gk_push_session *stream, gk_progress *p, gk_copy_staged *out, gk_error **err)
{
        *out = (gk_copy_staged){ 0 };
        switch (src->kind) {
        case GK_TRANSPORT_DOCKER:
                return from_registry(s, src, o, stream, p, out, err);
        case GK_TRANSPORT_STORE:
                return from_store(s, src, o, out, err);
        default:
                return from_file(s, src, o, out, err);
        }
}
