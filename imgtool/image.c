/* An image's config read for bundling and export, and its layers unpacked
 * into the store's layer directories (unpack.h). */
#include <errno.h>
#include <fcntl.h>
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
        gk_strvfree(img->chain_ids);
        gk_strvfree(img->b.layer_dirs);
        free(img->ref);
        free(img);
}

void gk_image_freep(gk_image **img)
{
        gk_image_free(*img);
}

int gk_image_chain_ids(char *const *diff_ids, size_t n, char ***out, gk_error **err)
{
        char **v = calloc(n + 1, sizeof(char *));

        if (!v)
                return gk_error_make(err, ENOMEM, "chain ids");
        for (size_t i = 0; i < n; i++) {
                char id[GK_DIGEST_MAX];

                if (gk_chain_id(i ? v[i - 1] : NULL, diff_ids[i], id) < 0 ||
                    !(v[i] = strdup(id))) {
                        gk_strvfree(v);
                        return gk_error_make(err, ENOMEM, "chain ids");
                }
        }
        *out = v;
        return 0;
}

static int parse_diff_ids(gk_image *img, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val c = NULL;
        size_t n = img->si->n_layers;
        yajl_val ids;

        if (gk_json_parse(img->si->config, img->si->config_len, "image config", &c, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        ids = gk_json_get(gk_json_get(c, "rootfs"), "diff_ids");
        if (!ids || !YAJL_IS_ARRAY(ids) || ids->u.array.len != n)
                return gk_error_make(err, 0,
                                     "image config: rootfs.diff_ids: must list one "
                                     "diff_id per layer of the manifest (%zu)",
                                     n);
        img->diff_ids = calloc(n + 1, sizeof(char *));
        if (!img->diff_ids)
                return gk_error_make(err, ENOMEM, "image");
        for (size_t i = 0; i < n; i++) {
                const char *d = YAJL_GET_STRING(ids->u.array.values[i]);

                if (!gk_digest_valid(d))
                        return gk_error_make(err, 0,
                                             "image config: rootfs.diff_ids[%zu]: must be "
                                             "a sha256 digest",
                                             i);
                if (!(img->diff_ids[i] = strdup(d)))
                        return gk_error_make(err, ENOMEM, "image");
        }
        return gk_image_chain_ids(img->diff_ids, n, &img->chain_ids, err);
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

static int unpack_one(gk_store *s, gk_image *img, size_t i, const int *lower, bool allow_devices,
                      gk_error **err)
{
        const gk_store_layer *l = &img->si->layers[i];
        _cleanup_close_ int fd = -1;
        char what[128];
        gk_unpack_opts o = {
                .what = what, .allow_devices = allow_devices, .lower = lower, .n_lower = i
        };
        struct stat st;

        if (gk_layer_present(gk_store_root(s), img->chain_ids[i]))
                return 0;
        snprintf(what, sizeof(what), "layer %.19s", l->digest);
        fd = gk_store_open_blob(s, l->digest, err);
        if (fd < 0)
                return fd;
        /* The blob's own size: the manifest's could be anything. */
        if (fstat(fd, &st) < 0)
                return gk_error_errno(err, "%s", what);
        if (gk_layer_limit_get(st.st_size, &o.limit, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        return gk_layer_unpack(gk_store_root(s), img->chain_ids[i], img->diff_ids[i],
                               i ? img->chain_ids[i - 1] : NULL, fd, &o, err);
}

static void close_all(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

/* Layer I unpacked over the ones below it, whose fs/ directories are
 * FDS[0..I) (top first from FDS + N - I: the array is filled from its
 * end); its own is opened into FDS[N - 1 - I]. */
static int unpack_at(gk_store *s, gk_image *img, size_t i, int *fds, bool allow_devices,
                     gk_error **err)
{
        size_t n = img->si->n_layers;
        _cleanup_free_ char *path = NULL;

        if (unpack_one(s, img, i, fds + n - i, allow_devices, err) < 0)
                return gk_error_wrap(err, "image `%s`", img->ref);
        if (gk_layer_path(gk_store_root(s), img->chain_ids[i], &path, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        /* Absolute: the bundle's overlay annotation must not depend on the
         * cwd of whoever runs it. */
        img->b.layer_dirs[i] = realpath(path, NULL);
        if (!img->b.layer_dirs[i])
                return gk_error_errno(err, "layer `%s`", path);
        img->b.n_layers++;
        /* Only the layers below the top one are ever read. */
        if (i + 1 == n)
                return 0;
        fds[n - 1 - i] = open(img->b.layer_dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fds[n - 1 - i] < 0)
                return gk_error_errno(err, "layer `%s`", path);
        return 0;
}

int gk_image_unpack_layers(gk_store *s, gk_image *img, bool allow_devices, gk_error **err)
{
        size_t n = img->si->n_layers, opened = 0;
        _cleanup_free_ int *fds = calloc(n + 1, sizeof(int));
        int r = 0;

        img->b = (gk_bundle_image){ .ref = img->ref,
                                    .id = img->si->config_digest,
                                    .config = img->si->config,
                                    .config_len = img->si->config_len,
                                    .diff_ids = img->diff_ids,
                                    .chain_ids = img->chain_ids };
        img->b.layer_dirs = calloc(n + 1, sizeof(char *));
        if (!img->b.layer_dirs || !fds)
                return gk_error_make(err, ENOMEM, "image");
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = unpack_at(s, img, i, fds, allow_devices, err);
                if (r >= 0 && i + 1 < n)
                        opened++;
        }
        close_all(fds + n - opened, opened);
        return r < 0 ? r : 0;
}
