/* gkimg copy (see copy.h): the source into the store's blob area
 * (copy_source.c), then the destination written from there.  Registry to
 * registry, the push session opens first and the blobs go up while they
 * come down (push_stream.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "export.h"
#include "gk/cleanup.h"
#include "image.h"
#include "image_set.h"
#include "manifest.h"
#include "push.h"
#include "push_session.h"
#include "reference.h"

/* A push session to the registry T for an image from SRC (a registry
 * whose blobs are mounted when it is the same one, or anything else). */
static int open_push(gk_store *s, const gk_transport *src, const gk_transport *t,
                     const gk_copy_opts *o, gk_progress *p, gk_push_session **out, gk_error **err)
{
        _cleanup_(gk_reference_clear) gk_reference from = { 0 }, dest = { 0 };
        gk_push_opts po = { .reg = o->dest_reg, .sig = o->sig, .sign = o->sign };
        const char *mount = NULL;

        if (gk_reference_parse(t->path, &dest, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        /* the source's repository of the same registry: blobs are mounted */
        if (src->kind == GK_TRANSPORT_DOCKER && gk_reference_parse(src->path, &from, NULL) == 0 &&
            !strcmp(from.domain, dest.domain))
                mount = from.path;
        return gk_push_session_new(s, src->path, t->path, mount, &po, p, out, err);
}

static int to_registry(gk_push_session *ps, const gk_copy_staged *st, char **digest,
                       gk_error **err)
{
        _cleanup_(gk_push_result_clear) gk_push_result res = { 0 };

        if (gk_push_session_finish(ps, st->top, &res, err) < 0)
                return gk_error_code_or(err, -EIO);
        *digest = TAKE_PTR(res.digest);
        return 0;
}

/* The image manifest a name in the store points at: the top one, or the
 * host's (--platform's) of an index copied whole. */
static int store_manifest(const gk_image_set *set, const gk_copy_opts *o, const char **out,
                          gk_error **err)
{
        _cleanup_(gk_platform_clear) gk_platform want = { 0 };
        size_t i;

        if (!set->n_children) {
                *out = set->top.digest;
                return 0;
        }
        if ((o->platform ? gk_platform_parse(o->platform, &want, err)
                         : gk_platform_host(&want, err)) < 0 ||
            gk_manifest_select(&set->top.m, &want, &i, err) < 0)
                return gk_error_wrap(err, "index %s", set->top.digest);
        *out = set->top.m.manifests[i].digest;
        return 0;
}

static int to_store(gk_store *s, const gk_copy_staged *st, const gk_transport *t,
                    const gk_copy_opts *o, gk_error **err)
{
        _cleanup_(gk_image_set_clear) gk_image_set set = { 0 };
        _cleanup_(gk_image_freep) gk_image *img = NULL;
        const char *manifest = NULL;

        if (gk_image_set_load(s, st->top, &set, err) < 0 ||
            store_manifest(&set, o, &manifest, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* as pull: only an image gkimg can bundle gets a name */
        if (gk_image_load(s, manifest, &img, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        return gk_store_tag(s, t->path, manifest, st->top, NULL, err);
}

/* docker-archive:FILE[:REF]: one image, named REF or by the source. */
static int to_docker_archive(gk_store *s, const gk_copy_staged *st, const gk_transport *t,
                             gk_error **err)
{
        _cleanup_(gk_image_set_clear) gk_image_set set = { 0 };
        _cleanup_(gk_image_freep) gk_image *img = NULL;
        const char *name = t->ref ? t->ref : st->name;

        if (gk_image_set_load(s, st->top, &set, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (set.n_children)
                return gk_error_make(err, 0,
                                     "a docker-archive holds one platform's image (copy "
                                     "without --all)");
        if (!name)
                return gk_error_make(err, 0, "the image has no name: give one as %s:REF", t->path);
        if (gk_image_load(s, st->top, &img, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        free(img->ref);
        if (!(img->ref = strdup(name)))
                return gk_error_make(err, ENOMEM, "copy");
        return gk_export_docker_archive(s, img, t->path, err);
}

static int write_dest(gk_store *s, const gk_copy_staged *st, const gk_transport *t,
                      const gk_copy_opts *o, gk_push_session *ps, char **digest, gk_error **err)
{
        _cleanup_(gk_image_set_clear) gk_image_set set = { 0 };
        int r;

        switch (t->kind) {
        case GK_TRANSPORT_DOCKER:
                return to_registry(ps, st, digest, err);
        case GK_TRANSPORT_STORE:
                r = to_store(s, st, t, o, err);
                break;
        case GK_TRANSPORT_DOCKER_ARCHIVE:
                r = to_docker_archive(s, st, t, err);
                break;
        case GK_TRANSPORT_OCI:
                r = gk_copy_write_oci_dir(s, st->top, t->path, t->ref, err);
                break;
        case GK_TRANSPORT_OCI_ARCHIVE:
                r = gk_image_set_load(s, st->top, &set, err);
                if (r >= 0)
                        r = gk_export_oci_archive_set(s, &set, t->ref, NULL, t->path, err);
                break;
        default:
                return gk_error_make(err, EINVAL, "copy");
        }
        if (r < 0)
                return r;
        *digest = strdup(st->top);
        return *digest ? 0 : gk_error_make(err, ENOMEM, "copy");
}

int gk_copy(gk_store *s, const char *src, const char *dest, const gk_copy_opts *o, gk_progress *p,
            char **digest, gk_error **err)
{
        _cleanup_(gk_transport_clear) gk_transport from = { 0 }, to = { 0 };
        _cleanup_(gk_copy_staged_clear) gk_copy_staged st = { 0 };
        _cleanup_(gk_push_session_freep) gk_push_session *ps = NULL;
        _cleanup_free_ char *got = NULL;

        if (gk_transport_parse(src, &from, err) < 0 || gk_transport_parse(dest, &to, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        /* as skopeo: @N picks an image to read, it names none to write */
        if (to.kind == GK_TRANSPORT_DOCKER_ARCHIVE && to.has_index)
                return gk_error_make(err, 0,
                                     "%s: destination reference must not contain a manifest "
                                     "index @%zu",
                                     dest, to.index);
        if (to.kind == GK_TRANSPORT_DOCKER_ARCHIVE && o->all)
                return gk_error_make(err, 0,
                                     "%s: --all: a docker-archive holds one platform's image",
                                     dest);
        /* simple signing and sigstore signatures live at a registry (its
         * lookaside or attachments): another destination cannot keep them */
        if (gk_sign_wanted(&o->sign) && to.kind != GK_TRANSPORT_DOCKER)
                return gk_error_make(err, 0,
                                     "%s: --sign-by: only a docker:// destination keeps "
                                     "signatures",
                                     dest);
        if (gk_store_hold(s, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (to.kind == GK_TRANSPORT_DOCKER && open_push(s, &from, &to, o, p, &ps, err) < 0)
                return gk_error_wrap(err, "%s", dest);
        /* only a registry source streams: the others are read in one pass */
        /* an error of the destination's part of a stream names it */
        if (gk_copy_read(s, &from, o, from.kind == GK_TRANSPORT_DOCKER ? ps : NULL, p, &st, err) <
            0)
                return gk_error_wrap(err, "%s", ps && ps->dest_failed ? dest : src);
        if (write_dest(s, &st, &to, o, ps, &got, err) < 0)
                return gk_error_wrap(err, "%s", dest);
        if (digest)
                *digest = TAKE_PTR(got);
        return 0;
}
