/* gkimg check: the store's invariants, verified.
 *
 * Problems (the store is inconsistent): a blob whose content does not hash
 * to its name, a name whose image is not complete (manifest, config or a
 * layer blob missing or unreadable), an entry of blobs/ or layers/ that is
 * not a digest, an unpacked layer whose files differ from the manifest
 * recorded when it was unpacked (a file changed, added or deleted).
 *
 * Leftovers (harmless, removed by gc): what interrupted writers leave,
 * i.e. partial downloads, temporary blobs and layer directories, the
 * temporary files of an atomic rewrite, records of bundles that are gone,
 * and the layer directories of an older gkimg (layers/sha256, keyed by
 * diff_id, never used again).
 * A file a live writer holds locked is not a leftover.
 *
 * The gc lock is held shared, so gc does not change the store under us;
 * pulls may go on (blobs appear whole, by rename). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
#include "store_check.h"
#include "store_internal.h"
#include "unpack.h"

static void add(char ***v, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char ***v, size_t *n, const char *fmt, ...)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        va_list ap;

        if (!nv)
                return;
        *v = nv;
        va_start(ap, fmt);
        if (vasprintf(&nv[*n], fmt, ap) >= 0)
                nv[++*n] = NULL;
        va_end(ap);
}

#define PROBLEM(res, ...) add(&(res)->problems, &(res)->n_problems, __VA_ARGS__)
#define LEFTOVER(res, ...) add(&(res)->leftovers, &(res)->n_leftovers, __VA_ARGS__)
#define BAD_BLOB(res, ...) add(&(res)->bad_blobs, &(res)->n_bad_blobs, __VA_ARGS__)
#define BAD_LAYER(res, ...) add(&(res)->bad_layers, &(res)->n_bad_layers, __VA_ARGS__)

static bool is_hex64(const char *s)
{
        size_t i;

        for (i = 0; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == 64;
}

static bool skip_name(const char *n)
{
        return !strcmp(n, ".") || !strcmp(n, "..");
}

static void check_blob(int dfd, const char *name, gk_store_check *res)
{
        _cleanup_(gk_hasher_freep) gk_hasher *h = gk_hasher_new();
        _cleanup_close_ int fd = -1;
        char buf[1 << 16], got[GK_SHA256_BUF];
        struct stat st;
        ssize_t n;

        res->blobs++;
        if (!is_hex64(name)) {
                PROBLEM(res, "blobs/sha256/%s: not a sha256 digest", name);
                return;
        }
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                PROBLEM(res, "blob sha256:%s: not a readable regular file", name);
                return;
        }
        if (!h)
                return;
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        PROBLEM(res, "blob sha256:%s: read: %s", name, strerror(errno));
                        return;
                }
                gk_hasher_update(h, buf, (size_t) n);
        }
        gk_hasher_final(h, got);
        if (strcmp(got + 7, name)) {
                PROBLEM(res, "blob sha256:%s: the content has digest %s", name, got);
                BAD_BLOB(res, "sha256:%s", name);
        }
}

/* Calls FN for every entry of DIR (relative to AT); a missing DIR is empty. */
static void each_entry(int at, const char *dir, gk_store_check *res,
                       void (*fn)(int dfd, const char *name, const char *dir, gk_store_check *res))
{
        _cleanup_closedir_ DIR *d = gk_opendir_at(at, dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (!skip_name(de->d_name))
                        fn(dirfd(d), de->d_name, dir, res);
}

static void blob_entry(int dfd, const char *name, const char *dir, gk_store_check *res)
{
        check_blob(dfd, name, res);
}

/* Held by a live writer: its flock (blobs, layer dirs) cannot be taken. */
static bool in_use(int dfd, const char *name)
{
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

        return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0;
}

static void temp_entry(int dfd, const char *name, const char *dir, gk_store_check *res)
{
        if (!in_use(dfd, name))
                LEFTOVER(res, "%s/%s", dir, name);
}

static void layer_entry(int dfd, const char *name, const char *dir, gk_store_check *res)
{
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        char chain[GK_DIGEST_MAX], **diffs = NULL;
        struct stat st;
        size_t n = 0;

        res->layers++;
        if (!is_hex64(name) || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode)) {
                PROBLEM(res, "%s/%s: not a layer directory named by its chain id", dir, name);
                return;
        }
        snprintf(chain, sizeof(chain), "sha256:%s", name);
        if (gk_layer_verify(res->root, chain, &diffs, &n, NULL, &e) < 0) {
                PROBLEM(res, "layer %s: %s", chain, e ? e->msg : "cannot be verified");
                BAD_LAYER(res, "%s", chain);
                return;
        }
        for (size_t i = 0; i < n; i++)
                PROBLEM(res, "layer %s: %s since it was unpacked", chain, diffs[i]);
        if (n)
                BAD_LAYER(res, "%s", chain);
        gk_strvfree(diffs);
}

static void legacy_layer(int dfd, const char *name, const char *dir, gk_store_check *res)
{
        LEFTOVER(res,
                 "%s/%s (unpacked by an older gkimg, not used; gc removes it once no "
                 "bundle names it)",
                 dir, name);
}

/* images.json.tmp.PID and the like: an atomic rewrite killed halfway. */
static void root_entry(int dfd, const char *name, const char *dir, gk_store_check *res)
{
        if (strstr(name, ".tmp."))
                LEFTOVER(res, "%s", name);
}

static void bundle_record(int dfd, const char *name, const char *dir, gk_store_check *res)
{
        _cleanup_(gk_json_freep) yajl_val rec = NULL;
        _cleanup_free_ char *text = NULL, *marker = NULL;
        const char *path;
        size_t len;

        if (strstr(name, ".tmp.")) {
                LEFTOVER(res, "%s/%s", dir, name);
                return;
        }
        if (gk_read_file_at(dfd, name, &text, &len, NULL) < 0 ||
            gk_json_parse(text, len, name, &rec, NULL) < 0 ||
            !(path = gk_json_get_str(rec, "path"))) {
                PROBLEM(res, "%s/%s: not a bundle record", dir, name);
                return;
        }
        if (asprintf(&marker, "%s/" GK_BUNDLE_MARKER, path) >= 0 && access(marker, F_OK) < 0 &&
            errno == ENOENT)
                LEFTOVER(res, "%s/%s (bundle `%s` is gone)", dir, name, path);
}

static void check_images(gk_store *s, gk_store_check *res)
{
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        gk_store_entry *es = NULL;
        size_t n = 0;

        if (gk_store_list(s, &es, &n, &e) < 0) {
                PROBLEM(res, "%s", e->msg);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
                _cleanup_(gk_error_freep) gk_error *ie = NULL;

                res->images++;
                if (gk_store_load_image(s, es[i].manifest_digest, es[i].name, &img, &ie) < 0) {
                        PROBLEM(res, "image %s: %s", es[i].name, ie ? ie->msg : "cannot load");
                        continue;
                }
                for (size_t l = 0; l < img->n_layers; l++)
                        if (!gk_store_has_blob(s, img->layers[l].digest)) {
                                PROBLEM(res, "image %s: layer %s is not in the store", es[i].name,
                                        img->layers[l].digest);
                                BAD_BLOB(res, "%s", img->layers[l].digest);
                        }
        }
        gk_store_entries_free(es, n);
}

int gk_store_check_run(gk_store *s, gk_store_check *res, gk_error **err)
{
        *res = (gk_store_check){ 0 };
        if (gk_store_hold(s, err) < 0)
                return gk_error_code_or(err, -EIO);
        each_entry(s->root_fd, "blobs/sha256", res, blob_entry);
        check_images(s, res);
        res->root = s->root;
        each_entry(s->root_fd, "layers/chains", res, layer_entry);
        each_entry(s->root_fd, "layers/sha256", res, legacy_layer);
        each_entry(s->root_fd, "blobs/partial", res, temp_entry);
        each_entry(s->root_fd, "blobs/tmp", res, temp_entry);
        each_entry(s->root_fd, "layers/tmp", res, temp_entry);
        each_entry(s->root_fd, ".", res, root_entry);
        each_entry(s->root_fd, "bundles", res, bundle_record);
        return 0;
}

void gk_store_check_clear(gk_store_check *res)
{
        gk_strvfree(res->problems);
        gk_strvfree(res->leftovers);
        gk_strvfree(res->bad_blobs);
        gk_strvfree(res->bad_layers);
        *res = (gk_store_check){ 0 };
}
