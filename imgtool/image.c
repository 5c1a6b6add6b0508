/* An image's config read for bundling and export, and its layers unpacked
 * into the store's layer directories (unpack.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "image.h"
#include "unpack.h"

void gk_image_free(gk_image *img)
{
        if (!img)
                return;
        gk_store_image_free(img->si);
        gk_strvfree(img->diff_ids);
        gk_strvfree(img->b.layer_dirs);
        free(img->ref);
        free(img);
}

void gk_image_freep(gk_image **img)
{
        gk_image_free(*img);
}

static int parse_diff_ids(gk_image *img, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val c = NULL;
        size_t n = img->si->n_layers;
        yajl_val ids;

        if (gk_json_parse(img->si->config, img->si->config_len, "image config", &c, err) < 0)
                return -EINVAL;
        ids = gk_json_get(gk_json_get(c, "rootfs"), "diff_ids");
        if (!ids || !YAJL_IS_ARRAY(ids) || ids->u.array.len != n)
                return gk_error_make(err, 0, "image config: rootfs.diff_ids: must list one "
                                     "diff_id per layer of the manifest (%zu)", n);
        img->diff_ids = calloc(n + 1, sizeof(char *));
        if (!img->diff_ids)
                return gk_error_make(err, ENOMEM, "image");
        for (size_t i = 0; i < n; i++) {
                const char *d = YAJL_GET_STRING(ids->u.array.values[i]);

                if (!gk_digest_valid(d))
                        return gk_error_make(err, 0, "image config: rootfs.diff_ids[%zu]: must be "
                                             "a sha256 digest", i);
                if (!(img->diff_ids[i] = strdup(d)))
                        return gk_error_make(err, ENOMEM, "image");
        }
        return 0;
}

int gk_image_load(gk_store *s, const char *ref, gk_image **out, gk_error **err)
{
        _cleanup_(gk_image_freep) gk_image *img = calloc(1, sizeof(*img));

        if (!img)
                return gk_error_make(err, ENOMEM, "image");
        if (gk_store_resolve(s, ref, &img->si, err) < 0)
                return gk_error_code(*err);
        img->ref = strdup(img->si->name ? img->si->name : ref);
        if (!img->ref)
                return gk_error_make(err, ENOMEM, "image");
        if (parse_diff_ids(img, err) < 0)
                return gk_error_wrap(err, "image `%s`", ref);
        *out = TAKE_PTR(img);
        return 0;
}

static int unpack_one(gk_store *s, const gk_store_layer *l, const char *diff_id,
                      bool allow_devices, gk_error **err)
{
        _cleanup_close_ int fd = -1;
        char what[128];
        gk_unpack_opts o = { .what = what, .allow_devices = allow_devices };

        struct stat st;

        if (gk_layer_present(gk_store_root(s), diff_id))
                return 0;
        snprintf(what, sizeof(what), "layer %.19s", l->digest);
        fd = gk_store_open_blob(s, l->digest, err);
        if (fd < 0)
                return fd;
        /* The blob's own size: the manifest's could be anything. */
        if (fstat(fd, &st) < 0)
                return gk_error_errno(err, "%s", what);
        if (gk_layer_limit_get(st.st_size, &o.limit, err) < 0)
                return -EINVAL;
        return gk_layer_unpack(gk_store_root(s), diff_id, fd, &o, err);
}

int gk_image_unpack_layers(gk_store *s, gk_image *img, bool allow_devices, gk_error **err)
{
        size_t n = img->si->n_layers;

        img->b = (gk_bundle_image){ .ref = img->ref, .id = img->si->config_digest,
                                    .config = img->si->config, .config_len = img->si->config_len,
                                    .diff_ids = img->diff_ids };
        img->b.layer_dirs = calloc(n + 1, sizeof(char *));
        if (!img->b.layer_dirs)
                return gk_error_make(err, ENOMEM, "image");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;

                if (unpack_one(s, &img->si->layers[i], img->diff_ids[i], allow_devices, err) < 0)
                        return gk_error_wrap(err, "image `%s`", img->ref);
                if (gk_layer_path(gk_store_root(s), img->diff_ids[i], &path, err) < 0)
                        return -EINVAL;
                /* Absolute: the bundle's overlay annotation must not
                 * depend on the cwd of whoever runs it. */
                img->b.layer_dirs[i] = realpath(path, NULL);
                if (!img->b.layer_dirs[i])
                        return gk_error_errno(err, "layer `%s`", path);
                img->b.n_layers++;
        }
        return 0;
}
