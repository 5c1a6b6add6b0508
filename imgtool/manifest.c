/* Manifest and index parsing and platform selection (see manifest.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "manifest.h"

void gk_platform_clear(gk_platform *p)
{
        free(p->os);
        free(p->arch);
        free(p->variant);
        *p = (gk_platform){ 0 };
}

static void descriptor_clear(gk_descriptor *d)
{
        free(d->media_type);
        free(d->digest);
        gk_platform_clear(&d->platform);
}

void gk_manifest_clear(gk_manifest *m)
{
        free(m->media_type);
        descriptor_clear(&m->config);
        for (size_t i = 0; i < m->n_layers; i++)
                descriptor_clear(&m->layers[i]);
        free(m->layers);
        for (size_t i = 0; i < m->n_manifests; i++)
                descriptor_clear(&m->manifests[i]);
        free(m->manifests);
        *m = (gk_manifest){ 0 };
}

static char *dup_or_null(const char *s)
{
        return s ? strdup(s) : NULL;
}

static int parse_platform(yajl_val v, const char *what, gk_descriptor *d, gk_error **err)
{
        const char *os = gk_json_get_str(v, "os"), *arch = gk_json_get_str(v, "architecture");
        const char *variant = gk_json_get_str(v, "variant");

        if (!v)
                return 0;
        if (!YAJL_IS_OBJECT(v) || !os || !arch)
                return gk_error_make(err, 0, "%s.platform: os and architecture wanted", what);
        d->has_platform = true;
        d->platform.os = strdup(os);
        d->platform.arch = strdup(arch);
        d->platform.variant = variant && *variant ? strdup(variant) : NULL;
        if (!d->platform.os || !d->platform.arch || (variant && *variant && !d->platform.variant))
                return gk_error_make(err, ENOMEM, "manifest");
        if (!strcmp(os, "unknown") && !strcmp(arch, "unknown"))
                d->attestation = true;
        return 0;
}

static int parse_descriptor(yajl_val v, const char *what, bool need_size, gk_descriptor *d,
                            gk_error **err)
{
        const char *mt = gk_json_get_str(v, "mediaType");
        const char *ref_type;
        yajl_val size = gk_json_get(v, "size");

        if (!v || !YAJL_IS_OBJECT(v))
                return gk_error_make(err, 0, "%s: must be an object", what);
        if (gk_digest_check(gk_json_get_str(v, "digest"), what, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        d->size = -1;
        if (size && (!gk_json_int64(size, &d->size) || d->size < 0))
                return gk_error_make(err, 0, "%s.size: must be a non-negative integer", what);
        if (!size && need_size)
                return gk_error_make(err, 0, "%s.size: missing", what);
        d->digest = strdup(gk_json_get_str(v, "digest"));
        d->media_type = dup_or_null(mt);
        if (!d->digest || (mt && !d->media_type))
                return gk_error_make(err, ENOMEM, "manifest");
        ref_type = gk_json_get_str(gk_json_get(v, "annotations"), "vnd.docker.reference.type");
        if (ref_type && !strcmp(ref_type, "attestation-manifest"))
                d->attestation = true;
        return parse_platform(gk_json_get(v, "platform"), what, d, err);
}

static int parse_array(yajl_val arr, const char *field, bool need_size, gk_descriptor **out,
                       size_t *n, gk_error **err)
{
        size_t len;

        if (!arr || !YAJL_IS_ARRAY(arr))
                return gk_error_make(err, 0, "manifest: %s: must be an array", field);
        len = arr->u.array.len;
        *out = calloc(len ? len : 1, sizeof(gk_descriptor));
        if (!*out)
                return gk_error_make(err, ENOMEM, "manifest");
        for (size_t i = 0; i < len; i++) {
                char what[64];

                snprintf(what, sizeof(what), "manifest: %s[%zu]", field, i);
                (*n)++;
                if (parse_descriptor(arr->u.array.values[i], what, need_size, &(*out)[i], err) < 0)
                        return gk_error_code_or(err, -EINVAL);
        }
        return 0;
}

static int parse_image(yajl_val root, gk_manifest *m, gk_error **err)
{
        m->kind = GK_MANIFEST_IMAGE;
        if (parse_descriptor(gk_json_get(root, "config"), "manifest: config", true, &m->config,
                             err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (parse_array(gk_json_get(root, "layers"), "layers", true, &m->layers, &m->n_layers,
                        err) < 0)
                return gk_error_code_or(err, -EINVAL);
        for (size_t i = 0; i < m->n_layers; i++) {
                const char *mt = m->layers[i].media_type;

                if (!mt)
                        return gk_error_make(err, 0, "manifest: layers[%zu].mediaType: missing",
                                             i);
                if (!gk_layer_media_type_ok(mt))
                        return gk_error_make(err, 0,
                                             "manifest: layers[%zu].mediaType: `%s` is "
                                             "not a layer type gkimg can unpack",
                                             i, mt);
        }
        return 0;
}

static int kind_of(const char *mt, yajl_val root, gk_manifest_kind *kind, gk_error **err)
{
        if (!mt) {
                /* OCI allows leaving mediaType out: tell by the fields. */
                if (gk_json_get(root, "manifests")) {
                        *kind = GK_MANIFEST_INDEX;
                        return 0;
                }
                if (gk_json_get(root, "config") && gk_json_get(root, "layers")) {
                        *kind = GK_MANIFEST_IMAGE;
                        return 0;
                }
                return gk_error_make(err, 0,
                                     "manifest: mediaType: missing, and neither an image "
                                     "manifest nor an index");
        }
        if (!strcmp(mt, GK_MT_DOCKER_MANIFEST) || !strcmp(mt, GK_MT_OCI_MANIFEST))
                *kind = GK_MANIFEST_IMAGE;
        else if (!strcmp(mt, GK_MT_DOCKER_LIST) || !strcmp(mt, GK_MT_OCI_INDEX))
                *kind = GK_MANIFEST_INDEX;
        else if (!strcmp(mt, GK_MT_DOCKER_V1) || !strcmp(mt, GK_MT_DOCKER_V1_SIGNED) ||
                 !strcmp(mt, "application/json"))
                return gk_error_plain(err, ENOTSUP,
                                      "manifest: Docker schema1 manifests are not "
                                      "supported (deprecated by Docker; push the image again with "
                                      "a current client)");
        else
                return gk_error_make(err, 0,
                                     "manifest: mediaType: `%s` is not an image manifest "
                                     "or index",
                                     mt);
        return 0;
}

static int parse_tree(yajl_val root, const char *content_type, gk_manifest *m, gk_error **err)
{
        const char *mt = gk_json_get_str(root, "mediaType");
        int64_t version = 0;

        if (!YAJL_IS_OBJECT(root))
                return gk_error_make(err, 0, "manifest: must be a JSON object");
        if (!gk_json_int64(gk_json_get(root, "schemaVersion"), &version))
                return gk_error_make(err, 0, "manifest: schemaVersion: missing or not a number");
        if (version == 1)
                return kind_of(GK_MT_DOCKER_V1, root, &m->kind, err);
        if (version != 2)
                return gk_error_make(err, 0, "manifest: schemaVersion: %lld is not supported",
                                     (long long) version);
        if (!mt && content_type && *content_type && strcmp(content_type, "application/json"))
                mt = content_type;
        if (kind_of(mt, root, &m->kind, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        m->media_type = strdup(mt                             ? mt
                               : m->kind == GK_MANIFEST_INDEX ? GK_MT_OCI_INDEX
                                                              : GK_MT_OCI_MANIFEST);
        if (!m->media_type)
                return gk_error_make(err, ENOMEM, "manifest");
        if (m->kind == GK_MANIFEST_INDEX)
                return parse_array(gk_json_get(root, "manifests"), "manifests", false,
                                   &m->manifests, &m->n_manifests, err);
        return parse_image(root, m, err);
}

int gk_manifest_parse(const char *data, size_t len, const char *content_type, gk_manifest *out,
                      gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val root = NULL;
        _cleanup_free_ char *ct = NULL;
        int r;

        *out = (gk_manifest){ 0 };
        if (content_type) {
                /* "type; charset=utf-8" */
                ct = strndup(content_type, strcspn(content_type, "; \t"));
                if (!ct)
                        return gk_error_make(err, ENOMEM, "manifest");
        }
        if (gk_json_parse(data, len, "manifest", &root, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        r = parse_tree(root, ct, out, err);
        if (r < 0)
                gk_manifest_clear(out);
        return r;
}

bool gk_layer_media_type_ok(const char *mt)
{
        static const char *const ok[] = {
                GK_MT_DOCKER_LAYER_GZIP,
                GK_MT_OCI_LAYER,
                GK_MT_OCI_LAYER_GZIP,
                GK_MT_OCI_LAYER_ZSTD,
                "application/vnd.docker.image.rootfs.diff.tar",
                "application/vnd.docker.image.rootfs.diff.tar.zstd",
                "application/vnd.oci.image.layer.nondistributable.v1.tar",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        };

        for (size_t i = 0; mt && i < ARRAY_SIZE(ok); i++)
                if (!strcmp(mt, ok[i]))
                        return true;
        return false;
}
