/* The store of unpacked layers: ROOT/layers/chains/HEX, one per chain id
 * (a layer as its parents see it, see unpack.h), holding fs/ (the tree,
 * an overlayfs lower directory) and manifest (treemanifest.h), created only
 * by renaming a finished unpack from ROOT/layers/tmp/ into place.  A temporary directory is
 * flock'ed by the process filling it, so a cleanup can tell a crashed unpack's leftovers from a
 * live one; and layers/tmp itself is flock'ed shared while a temporary directory is created and
 * locked, exclusive (without waiting) by a cleanup, so a cleanup never sees a live directory in
 * the instant before its lock. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "digest.h"
#include "treemanifest.h"
#include "unpack.h"

bool gk_digest_valid(const char *d)
{
        if (!d || strncmp(d, "sha256:", 7) || strlen(d) != 7 + 64)
                return false;
        for (const char *p = d + 7; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

int gk_chain_id(const char *parent, const char *diff_id, char out[GK_DIGEST_MAX])
{
        _cleanup_free_ char *text = NULL;

        if (!parent) {
                snprintf(out, GK_DIGEST_MAX, "%s", diff_id);
                return 0;
        }
        if (asprintf(&text, "%s %s", parent, diff_id) < 0)
                return -ENOMEM;
        gk_digest_buf(text, strlen(text), out);
        return 0;
}

int gk_layer_path(const char *root, const char *chain_id, char **out, gk_error **err)
{
        if (!gk_digest_valid(chain_id))
                return gk_error_make(err, 0, "`%s` is not a sha256 digest", chain_id ?: "");
        if (asprintf(out, "%s/layers/chains/%s/fs", root, chain_id + 7) < 0)
                return gk_error_make(err, ENOMEM, "layer path");
        return 0;
}

bool gk_layer_present(const char *root, const char *chain_id)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (gk_layer_path(root, chain_id, &path, NULL) < 0)
                return false;
        return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ROOT/layers/{chains,tmp}, 0700: layer contents (setuid files, devices)
 * are for containers, not for the host's other users. */
static int open_layers_dir(const char *root, gk_error **err)
{
        _cleanup_free_ char *dir = NULL;
        int fd;

        if (asprintf(&dir, "%s/layers", root) < 0)
                return gk_error_make(err, ENOMEM, "layers");
        if (gk_mkdir_p(dir, 0700, err) < 0)
                return gk_error_code_or(err, -EIO);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open `%s`", dir);
        if ((mkdirat(fd, "chains", 0700) < 0 && errno != EEXIST) ||
            (mkdirat(fd, "tmp", 0700) < 0 && errno != EEXIST)) {
                int r = gk_error_errno(err, "mkdir in `%s`", dir);

                close(fd);
                return r;
        }
        return fd;
}

int gk_layer_clean_tmp(const char *root, gk_error **err)
{
        _cleanup_close_ int lfd = open_layers_dir(root, err);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (lfd < 0)
                return lfd;
        d = gk_opendir_at(lfd, "tmp");
        if (!d)
                return gk_error_errno(err, "open `%s/layers/tmp`", root);
        if (flock(dirfd(d), LOCK_EX | LOCK_NB) < 0)
                return 0; /* an unpack is starting: clean next time */
        while ((de = readdir(d))) {
                _cleanup_close_ int fd = -1;

                if (de->d_name[0] == '.')
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue; /* gone, or a live unpack */
                if (gk_rm_rf_at(dirfd(d), de->d_name, err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        return 0;
}

/* A fresh, locked temporary directory under layers/tmp, made and locked
 * while layers/tmp is held shared. */
static int make_tmp(int lfd, const char *hex, char **name, gk_error **err)
{
        _cleanup_close_ int tmpfd = openat(lfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *n = NULL;
        int fd;

        if (tmpfd < 0 || flock(tmpfd, LOCK_SH) < 0)
                return gk_error_errno(err, "lock layers/tmp");
        for (int tries = 0; tries < 100; tries++) {
                free(n);
                if (asprintf(&n, "%.16s-%d-%ld-%d", hex, getpid(), (long) gk_now_ns(), tries) < 0)
                        return gk_error_make(err, ENOMEM, "tmp");
                if (mkdirat(tmpfd, n, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return gk_error_errno(err, "mkdir `layers/tmp/%s`", n);
                }
                fd = openat(tmpfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return gk_error_errno(err, "open `layers/tmp/%s`", n);
                /* The root of the merged view is fs/ when the layer has no
                 * "./" entry and no parent: like an image root, 0755. */
                if (flock(fd, LOCK_EX) < 0 || mkdirat(fd, "fs", 0755) < 0 ||
                    fchmodat(fd, "fs", 0755, 0) < 0) {
                        close(fd);
                        return gk_error_errno(err, "lock `layers/tmp/%s`", n);
                }
                if (asprintf(name, "tmp/%s", n) < 0) {
                        close(fd);
                        return gk_error_make(err, ENOMEM, "tmp");
                }
                return fd;
        }
        return gk_error_make(err, EEXIST, "temporary directory for layer %s", hex);
}

/* The manifest of the unpacked tree is made on a thread of its own while
 * the layer's data is synced: hashing the files just written (in the page
 * cache) costs CPU, the sync waits for the disk, so together they take
 * about as long as the sync alone. */
typedef struct manifest_job {
        int fsfd;
        char *header;
        char *text;
        size_t len;
        gk_error *err;
        int r;
} manifest_job;

static void *make_manifest(void *arg)
{
        manifest_job *m = arg;

        m->r = gk_tree_manifest(m->fsfd, m->header, &m->text, &m->len, &m->err);
        return NULL;
}

/* Syncs the layer while its manifest is made, then writes the manifest
 * beside fs/ and syncs it too: the rename must not reach the disk before
 * what it names does. */
static int sync_with_manifest(int tfd, int fsfd, const char *chain_id, const char *diff_id,
                              const char *parent, const gk_unpack_opts *o, gk_error **err)
{
        manifest_job m = { .fsfd = fsfd };
        _cleanup_close_ int fd = -1;
        pthread_t th;
        int r = 0, started;

        if (asprintf(&m.header, "gk-layer 1 chain=%s diff_id=%s parent=%s devices=%d", chain_id,
                     diff_id, parent ? parent : "-", o->allow_devices) < 0)
                return gk_error_make(err, ENOMEM, "manifest");
        started = pthread_create(&th, NULL, make_manifest, &m);
        if (started != 0)
                make_manifest(&m);
        if (syncfs(tfd) < 0)
                r = gk_error_errno(err, "sync layer %s", diff_id);
        if (started == 0)
                pthread_join(th, NULL);
        if (r >= 0 && m.r < 0) {
                *err = TAKE_PTR(m.err);
                r = -EIO;
        }
        if (r >= 0) {
                fd = openat(tfd, "manifest", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            0600);
                if (fd < 0 || gk_write_all(fd, m.text, m.len) < 0 || fdatasync(fd) < 0 ||
                    fsync(tfd) < 0)
                        r = gk_error_errno(err, "write the manifest of layer %s", chain_id);
        }
        gk_error_free(m.err);
        free(m.header);
        free(m.text);
        return r;
}

static int unpack_and_rename(int lfd, const char *chain_id, const char *diff_id,
                             const char *parent, int blob_fd, const gk_unpack_opts *o,
                             gk_error **err)
{
        _cleanup_free_ char *tmp = NULL, *final = NULL;
        _cleanup_close_ int tfd = -1, fsfd = -1;
        gk_unpack_opts opts = o ? *o : (gk_unpack_opts){ 0 };
        int r;

        if (asprintf(&final, "chains/%s", chain_id + 7) < 0)
                return gk_error_make(err, ENOMEM, "layer");
        tfd = make_tmp(lfd, chain_id + 7, &tmp, err);
        if (tfd < 0)
                return tfd;
        fsfd = openat(tfd, "fs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fsfd < 0)
                r = gk_error_errno(err, "open `layers/%s/fs`", tmp);
        else
                r = 0;
        opts.diff_id = diff_id;
        if (r >= 0)
                r = gk_unpack_fd(blob_fd, fsfd, &opts, NULL, err);
        /* One sync for the whole layer, not one per file. */
        if (r >= 0)
                r = sync_with_manifest(tfd, fsfd, chain_id, diff_id, parent, &opts, err);
        if (r >= 0) {
                GK_FAULT("bundle.before-layer-rename");
                if (renameat(lfd, tmp, lfd, final) == 0) {
                        GK_FAULT("bundle.after-layer-rename");
                        return 0;
                }
                if (errno == EEXIST || errno == ENOTEMPTY)
                        r = 0; /* unpacked meanwhile by another process */
                else
                        r = gk_error_errno(err, "rename layer %s into place", diff_id);
        }
        gk_rm_rf_at(lfd, tmp, NULL);
        return r;
}

int gk_layer_unpack(const char *root, const char *chain_id, const char *diff_id,
                    const char *parent, int blob_fd, const gk_unpack_opts *o, gk_error **err)
{
        _cleanup_close_ int lfd = -1;

        if (!gk_digest_valid(diff_id) || !gk_digest_valid(chain_id))
                return gk_error_make(err, 0, "`%s` is not a sha256 digest", diff_id ?: "");
        if (gk_layer_present(root, chain_id))
                return 0;
        lfd = open_layers_dir(root, err);
        if (lfd < 0)
                return lfd;
        /* What a crashed unpack left behind goes before more is added. */
        gk_layer_clean_tmp(root, NULL);
        return unpack_and_rename(lfd, chain_id, diff_id, parent, blob_fd, o, err);
}

int gk_layer_verify(const char *root, const char *chain_id, char ***diffs, size_t *n,
                    char **header, gk_error **err)
{
        _cleanup_free_ char *dir = NULL, *text = NULL;
        _cleanup_close_ int dfd = -1, fsfd = -1;
        size_t len;

        *diffs = NULL;
        *n = 0;
        if (header)
                *header = NULL;
        if (!gk_digest_valid(chain_id))
                return gk_error_make(err, 0, "`%s` is not a sha256 digest", chain_id ?: "");
        if (asprintf(&dir, "%s/layers/chains/%s", root, chain_id + 7) < 0)
                return gk_error_make(err, ENOMEM, "layer");
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return gk_error_errno(err, "`%s`", dir);
        if (gk_read_file_at(dfd, "manifest", &text, &len, NULL) < 0)
                return gk_error_plain(err, ENOENT, "no manifest");
        fsfd = openat(dfd, "fs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fsfd < 0)
                return gk_error_errno(err, "fs");
        if (header && !(*header = gk_tree_manifest_header(text, len)))
                return gk_error_plain(err, EINVAL, "the manifest has no header");
        return gk_tree_manifest_compare(fsfd, text, len, diffs, n, err);
}

/* Renamed out of sight first, so a half-removed layer never looks
 * present. */
int gk_layer_remove(const char *root, const char *dir, const char *digest, gk_error **err)
{
        _cleanup_free_ char *from = NULL, *to = NULL;
        _cleanup_close_ int lfd = -1;

        if (!gk_digest_valid(digest))
                return gk_error_make(err, 0, "`%s` is not a sha256 digest", digest ?: "");
        lfd = open_layers_dir(root, err);
        if (lfd < 0)
                return lfd;
        if (asprintf(&from, "%s/%s", dir, digest + 7) < 0 ||
            asprintf(&to, "tmp/rm-%.16s-%d-%ld", digest + 7, getpid(), (long) gk_now_ns()) < 0)
                return gk_error_make(err, ENOMEM, "layer");
        if (renameat(lfd, from, lfd, to) < 0)
                return errno == ENOENT ? 0 : gk_error_errno(err, "remove layer %s", digest);
        return gk_rm_rf_at(lfd, to, err);
}
