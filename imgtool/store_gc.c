/* gc: deletes the blobs, unpacked layers and leftover partial downloads
 * that no named image and no live bundle references.  It holds gc.lock
 * exclusively, so it waits for pulls and imports in progress (they hold it
 * shared until their names are written). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "digest.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "manifest.h"
#include "store_internal.h"
#include "unpack.h"

typedef struct keep {
        char **v; /* hex digests */
        size_t n, cap;
} keep;

static void keep_clear(keep *k)
{
        for (size_t i = 0; i < k->n; i++)
                free(k->v[i]);
        free(k->v);
}

static int keep_add(keep *k, const char *digest)
{
        if (!digest || gk_digest_check(digest, "digest", NULL) < 0)
                return 0;
        if (k->n == k->cap) {
                size_t cap = k->cap ? 2 * k->cap : 64;
                char **v = realloc(k->v, cap * sizeof(char *));

                if (!v)
                        return -ENOMEM;
                k->v = v;
                k->cap = cap;
        }
        if (!(k->v[k->n] = strdup(gk_digest_hex(digest))))
                return -ENOMEM;
        k->n++;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool keep_has(const keep *k, const char *hex)
{
        return bsearch(&hex, k->v, k->n, sizeof(char *), cmp_str) != NULL;
}

/* The chain ids of the image's layers (what the layer store keys them
 * by), as far as its config lists valid diff_ids. */
static int add_chain_ids(keep *chains, const char *config, size_t len)
{
        _cleanup_(gk_json_freep) yajl_val c = NULL;
        char chain[GK_DIGEST_MAX] = "";
        yajl_val ids;

        if (gk_json_parse(config, len, "config", &c, NULL) < 0)
                return 0;
        ids = gk_json_get(gk_json_get(c, "rootfs"), "diff_ids");
        for (size_t i = 0; ids && YAJL_IS_ARRAY(ids) && i < ids->u.array.len; i++) {
                const char *d = YAJL_GET_STRING(ids->u.array.values[i]);

                if (!gk_digest_valid(d) || gk_chain_id(i ? chain : NULL, d, chain) < 0 ||
                    keep_add(chains, chain) < 0)
                        return gk_digest_valid(d) ? -ENOMEM : 0;
        }
        return 0;
}

/* The manifest DIGEST's config and layers, as far as it can be read. */
static int keep_manifest_blobs(gk_store *s, const char *digest, keep *blobs, gk_manifest_kind want,
                               gk_manifest *out)
{
        _cleanup_free_ char *text = NULL;
        gk_manifest m = { 0 };
        size_t len = 0;
        int r = 0;

        if (!gk_store_has_blob(s, digest) ||
            gk_store_read_blob(s, digest, &text, &len, NULL) < 0 ||
            gk_manifest_parse(text, len, NULL, &m, NULL) < 0)
                return 0;
        if (m.kind == want && want == GK_MANIFEST_IMAGE) {
                r = keep_add(blobs, m.config.digest);
                for (size_t i = 0; r == 0 && i < m.n_layers; i++)
                        r = keep_add(blobs, m.layers[i].digest);
        }
        if (m.kind == want && out)
                *out = m;
        else
                gk_manifest_clear(&m);
        return r;
}

/* An image pulled or copied with every platform (pull --all-platforms)
 * keeps the other platforms' manifests and blobs its index lists. */
static int keep_index_children(gk_store *s, const char *index, keep *blobs)
{
        gk_manifest ix = { 0 };
        int r = keep_manifest_blobs(s, index, blobs, GK_MANIFEST_INDEX, &ix);

        for (size_t i = 0; r == 0 && i < ix.n_manifests; i++) {
                r = keep_add(blobs, ix.manifests[i].digest);
                if (r == 0)
                        r = keep_manifest_blobs(s, ix.manifests[i].digest, blobs,
                                                GK_MANIFEST_IMAGE, NULL);
        }
        gk_manifest_clear(&ix);
        return r;
}

/* What one named image keeps; a damaged image keeps what can be read. */
static int keep_image(gk_store *s, const gk_store_entry *e, keep *blobs, keep *layers)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;

        if (keep_add(blobs, e->manifest_digest) < 0 || keep_add(blobs, e->repo_digest) < 0 ||
            keep_add(blobs, e->id) < 0)
                return -ENOMEM;
        if (e->repo_digest && strcmp(e->repo_digest, e->manifest_digest) &&
            keep_index_children(s, e->repo_digest, blobs) < 0)
                return -ENOMEM;
        if (gk_store_load_image(s, e->manifest_digest, NULL, &img, NULL) < 0)
                return 0;
        if (keep_add(blobs, img->config_digest) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < img->n_layers; i++)
                if (keep_add(blobs, img->layers[i].digest) < 0)
                        return -ENOMEM;
        return add_chain_ids(layers, img->config, img->config_len);
}

/* A record whose bundle has no marker is left by a bundle that was killed
 * before its marker was written or an unbundle killed halfway: bundle
 * holds the gc lock shared from its record to its marker, so while gc
 * runs no bundle is between the two. */
static bool bundle_gone(yajl_val rec)
{
        const char *path = gk_json_get_str(rec, "path");
        _cleanup_free_ char *marker = NULL;

        if (!path || path[0] != '/' || asprintf(&marker, "%s/" GK_BUNDLE_MARKER, path) < 0)
                return false;
        return access(marker, F_OK) < 0 && errno == ENOENT;
}

static int keep_list(keep *k, yajl_val ids)
{
        for (size_t i = 0; ids && YAJL_IS_ARRAY(ids) && i < ids->u.array.len; i++)
                if (keep_add(k, YAJL_GET_STRING(ids->u.array.values[i])) < 0)
                        return -ENOMEM;
        return 0;
}

/* Layers live bundles use (the records in ROOT/bundles, from bundle.c):
 * chains, or for a bundle of an older gkimg, its diff_id-keyed layers. */
static int keep_bundles(gk_store *s, keep *chains, keep *legacy)
{
        _cleanup_closedir_ DIR *d = gk_opendir_at(s->root_fd, "bundles");
        struct dirent *de;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_(gk_json_freep) yajl_val rec = NULL;
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                yajl_val ids;

                if (de->d_name[0] == '.' ||
                    gk_read_file_at(dirfd(d), de->d_name, &text, &len, NULL) < 0 ||
                    gk_json_parse(text, len, "bundle", &rec, NULL) < 0)
                        continue;
                if (bundle_gone(rec)) {
                        unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                ids = gk_json_get(rec, "chains");
                if (ids ? keep_list(chains, ids) < 0
                        : keep_list(legacy, gk_json_get(rec, "layers")) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Removes regular files of DIRFD not in K (NULL: every file nobody holds
 * a lock on). */
static void sweep_files(int dirfd, const keep *k, uint64_t *count, uint64_t *bytes)
{
        _cleanup_closedir_ DIR *d = gk_opendir_at(dirfd, ".");
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_close_ int f = -1;
                struct stat st;

                if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
                        continue;
                if (k && keep_has(k, de->d_name))
                        continue;
                f = openat(dirfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                if (f >= 0 && flock(f, LOCK_EX | LOCK_NB) < 0)
                        continue; /* a live writer */
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    unlinkat(dirfd, de->d_name, 0) < 0)
                        continue;
                if (count)
                        (*count)++;
                if (bytes)
                        *bytes += (uint64_t) st.st_size;
        }
}

/* ROOT/layers/DIR: "chains", or "sha256" (an older gkimg's). */
static void sweep_layers(gk_store *s, const char *dir, const keep *layers, uint64_t *count)
{
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ char *path = NULL;
        struct dirent *de;

        if (asprintf(&path, "%s/layers/%s", s->root, dir) < 0 || !(d = opendir(path)))
                return;
        while ((de = readdir(d))) {
                char digest[300];

                if (de->d_name[0] == '.' || keep_has(layers, de->d_name))
                        continue;
                snprintf(digest, sizeof(digest), "sha256:%s", de->d_name);
                if (gk_digest_check(digest, "layer", NULL) == 0 &&
                    gk_layer_remove(s->root, dir, digest, NULL) == 0)
                        (*count)++;
        }
}

/* NAME.tmp.PID files of atomic rewrites (images.json, bundle records)
 * killed halfway: their writers hold the locks gc holds now. */
static void sweep_rewrites(int at, const char *dir)
{
        _cleanup_closedir_ DIR *d = gk_opendir_at(at, dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strstr(de->d_name, ".tmp."))
                        unlinkat(dirfd(d), de->d_name, 0);
}

int gk_store_gc(gk_store *s, gk_store_gc_stats *st, gk_error **err)
{
        _cleanup_close_ int gc_lock = -1, index_lock = -1;
        gk_store_entry *es = NULL;
        keep blobs = { 0 }, layers = { 0 }, legacy = { 0 };
        size_t n = 0;
        int r = 0;

        *st = (gk_store_gc_stats){ 0 };
        if (s->hold_fd >= 0)
                return gk_error_make(err, EDEADLK, "gc: the store is held by this process");
        if ((gc_lock = gk_store_lock(s, "gc.lock", LOCK_EX, err)) < 0 ||
            (index_lock = gk_store_lock(s, "images.lock", LOCK_EX, err)) < 0 ||
            gk_store_list(s, &es, &n, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < n && r == 0; i++)
                r = keep_image(s, &es[i], &blobs, &layers);
        if (r == 0)
                r = keep_bundles(s, &layers, &legacy);
        gk_store_entries_free(es, n);
        if (r < 0) {
                keep_clear(&blobs);
                keep_clear(&layers);
                keep_clear(&legacy);
                return gk_error_make(err, -r, "gc");
        }
        qsort(blobs.v, blobs.n, sizeof(char *), cmp_str);
        qsort(layers.v, layers.n, sizeof(char *), cmp_str);
        qsort(legacy.v, legacy.n, sizeof(char *), cmp_str);
        sweep_files(s->blobs_fd, &blobs, &st->blobs, &st->bytes);
        sweep_files(s->partial_fd, NULL, NULL, &st->bytes);
        sweep_files(s->tmp_fd, NULL, NULL, &st->bytes);
        sweep_layers(s, "chains", &layers, &st->layers);
        sweep_layers(s, "sha256", &legacy, &st->layers);
        gk_layer_clean_tmp(s->root, NULL);
        sweep_rewrites(s->root_fd, ".");
        sweep_rewrites(s->root_fd, "bundles");
        keep_clear(&blobs);
        keep_clear(&layers);
        keep_clear(&legacy);
        return 0;
}
