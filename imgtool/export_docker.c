/* `gkimg export --format docker-archive`: the layout `docker save` wrote
 * before Docker 25, which `docker load` and `podman load` (and gkimg
 * import) read:
 *   manifest.json           [{"Config": "<hex>.json", "RepoTags": [REF],
 *                             "Layers": ["<diff_id hex>/layer.tar", ...]}]
 *   repositories            {"repo": {"tag": "<top diff_id hex>"}}
 *   <hex>.json              the image config
 *   <diff_id hex>/layer.tar each layer uncompressed
 * A layer's uncompressed size must be in its tar header before its bytes,
 * so each is decompressed to an unlinked temporary file first. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl.h"
#include "export.h"
#include "export_internal.h"
#include "archive_error.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"

/* The blob DIGEST decompressed (gzip, zstd, or as it is) into TMP_FD. */
static int decompress_blob(gk_store *s, const char *digest, int tmp_fd, gk_error **err)
{
        _cleanup_close_ int fd = gk_store_open_blob(s, digest, err);
        struct archive *a;
        struct archive_entry *e;
        char buf[1 << 16];
        la_ssize_t n;
        int r = 0;

        if (fd < 0)
                return gk_error_wrap(err, "export");
        a = archive_read_new();
        if (!a)
                return gk_error_make(err, ENOMEM, "export");
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_format_raw(a);
        if (archive_read_open_fd(a, fd, sizeof(buf)) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK)
                r = gk_archive_error(err, a, "export: layer %s", digest);
        while (r >= 0 && (n = archive_read_data(a, buf, sizeof(buf))) != 0) {
                if (n < 0)
                        r = gk_archive_error(err, a, "export: layer %s", digest);
                else if (gk_write_all(tmp_fd, buf, (size_t) n) < 0)
                        r = gk_error_errno(err, "export: layer %s", digest);
        }
        archive_read_free(a);
        return r;
}

static int add_layer(struct archive *a, gk_store *s, const char *dir, const char *digest,
                     int64_t size, const char *diff_id, gk_error **err)
{
        _cleanup_close_ int tmp = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        _cleanup_free_ char *name = NULL;
        struct stat st;

        if (tmp < 0)
                return gk_error_errno(err, "export: temporary file in `%s`", dir);
        /* the store's copy checked first, as the oci-archive writer does
         * while it streams: a damaged layer goes into no archive */
        if (gk_store_verify_blob(s, digest, size, err) < 0)
                return gk_error_wrap(err, "export");
        if (decompress_blob(s, digest, tmp, err) < 0 || fstat(tmp, &st) < 0 ||
            lseek(tmp, 0, SEEK_SET) < 0)
                return gk_error_code(*err) ? -EIO : gk_error_errno(err, "export");
        if (asprintf(&name, "%s/layer.tar", diff_id + 7) < 0)
                return gk_error_make(err, ENOMEM, "export");
        return gk_export_add_fd(a, name, tmp, st.st_size, err);
}

/* "docker.io/library/x:1" -> repository "docker.io/library/x" and tag
 * "1".  The full name: docker load normalizes it to the short one it
 * shows, and podman load would otherwise file a short name under
 * localhost/. */
static int docker_name(const char *ref, char **repo, const char **tag)
{
        const char *slash = strrchr(ref, '/'), *colon = strrchr(ref, ':');
        size_t len = strlen(ref);

        *tag = "latest";
        if (colon && (!slash || colon > slash)) {
                *tag = colon + 1;
                len = (size_t) (colon - ref);
        }
        *repo = strndup(ref, len);
        return *repo ? 0 : -ENOMEM;
}

static int manifest_json(const gk_image *img, const char *repo, const char *tag, char **out,
                         size_t *len, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        _cleanup_free_ char *cfg = NULL, *repotag = NULL;

        if (asprintf(&cfg, "%s.json", img->si->config_digest + 7) < 0 ||
            asprintf(&repotag, "%s:%s", repo, tag) < 0)
                return gk_error_make(err, ENOMEM, "export");
        yajl_gen_array_open(g);
        yajl_gen_map_open(g);
        gk_json_kstr(g, "Config", cfg);
        gk_json_str(g, "RepoTags");
        yajl_gen_array_open(g);
        gk_json_str(g, repotag);
        yajl_gen_array_close(g);
        gk_json_str(g, "Layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < img->si->n_layers; i++) {
                _cleanup_free_ char *l = NULL;

                if (asprintf(&l, "%s/layer.tar", img->diff_ids[i] + 7) < 0)
                        return gk_error_make(err, ENOMEM, "export");
                gk_json_str(g, l);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
        return gk_json_gen_finish(g, out, len, err);
}

static int repositories_json(const gk_image *img, const char *repo, const char *tag, char **out,
                             size_t *len, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);

        yajl_gen_map_open(g);
        gk_json_str(g, repo);
        yajl_gen_map_open(g);
        gk_json_kstr(g, tag, img->diff_ids[img->si->n_layers - 1] + 7);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, len, err);
}

static int write_docker_entries(struct archive *a, gk_store *s, const void *ctx, const char *dir,
                                gk_error **err)
{
        const gk_image *img = ctx;
        _cleanup_free_ char *manifest = NULL, *repos = NULL, *repo = NULL, *cfgname = NULL,
                            *cfg = NULL;
        const char *tag;
        size_t mlen, rlen, clen;

        if (docker_name(img->ref, &repo, &tag) < 0 ||
            asprintf(&cfgname, "%s.json", img->si->config_digest + 7) < 0)
                return gk_error_make(err, ENOMEM, "export");
        if (gk_store_read_blob(s, img->si->config_digest, &cfg, &clen, err) < 0 ||
            gk_export_add_mem(a, cfgname, cfg, clen, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < img->si->n_layers; i++)
                if (add_layer(a, s, dir, img->si->layers[i].digest, img->si->layers[i].size,
                              img->diff_ids[i], err) < 0)
                        return gk_error_code_or(err, -EIO);
        if (manifest_json(img, repo, tag, &manifest, &mlen, err) < 0 ||
            (img->si->n_layers && repositories_json(img, repo, tag, &repos, &rlen, err) < 0) ||
            gk_export_add_mem(a, "manifest.json", manifest, mlen, err) < 0 ||
            (repos && gk_export_add_mem(a, "repositories", repos, rlen, err) < 0))
                return gk_error_code_or(err, -EIO);
        return 0;
}

int gk_export_docker_archive(gk_store *s, const gk_image *img, const char *file, gk_error **err)
{
        return gk_export_write_archive(s, img, file, write_docker_entries, err);
}
