/* copy to oci:DIR[:TAG]: an OCI image layout directory created or added
 * to, as skopeo writes one: blobs/sha256/HEX for each blob not there yet
 * (each through a temporary file and a rename, so a blob name never holds
 * less than its content), then index.json rewritten whole (temporary file
 * + rename) with the image's entry, replacing the one TAG named before. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "image_set.h"
#include "oci_layout.h"

typedef struct dir_sink {
        int blobs_fd; /* DIR/blobs/sha256 */
} dir_sink;

static int write_block(void *ctx, const void *buf, size_t len, gk_error **err)
{
        int *fd = ctx;

        if (gk_write_all(*fd, buf, len) < 0)
                return gk_error_errno(err, "write");
        return 0;
}

/* Blob DIGEST from the store, checked as it streams (a damaged copy in
 * the store fails here instead of landing in the layout). */
static int sink_blob(void *ctx, gk_store *s, const char *digest, int64_t size, gk_error **err)
{
        dir_sink *d = ctx;
        const char *hex = digest + strlen("sha256:");
        char tmp[128];
        struct stat st;
        int fd, r;

        /* content-addressed: a blob already there of the right size is the
         * same blob (skopeo skips it too) */
        if (fstatat(d->blobs_fd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (size < 0 || st.st_size == size))
                return 0;
        snprintf(tmp, sizeof(tmp), ".tmp-%s-%d", hex, getpid());
        fd = openat(d->blobs_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return gk_error_errno(err, "blobs/sha256/%s", tmp);
        r = gk_store_copy_blob(s, digest, size, write_block, &fd, err);
        if (r >= 0 && fsync(fd) < 0)
                r = gk_error_errno(err, "blobs/sha256/%s", hex);
        close(fd);
        if (r >= 0 && renameat(d->blobs_fd, tmp, d->blobs_fd, hex) < 0)
                r = gk_error_errno(err, "blobs/sha256/%s", hex);
        if (r < 0)
                unlinkat(d->blobs_fd, tmp, 0);
        return r;
}

static int open_layout(const char *dir, int *dir_fd, int *blobs_fd, gk_error **err)
{
        _cleanup_free_ char *blobs = NULL;

        if (asprintf(&blobs, "%s/blobs/sha256", dir) < 0)
                return gk_error_make(err, ENOMEM, "copy");
        if (gk_mkdir_p(blobs, 0755, err) < 0)
                return gk_error_code_or(err, -EIO);
        *dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*dir_fd < 0)
                return gk_error_errno(err, "`%s`", dir);
        *blobs_fd = openat(*dir_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*blobs_fd < 0)
                return gk_error_errno(err, "`%s/blobs/sha256`", dir);
        return 0;
}

static int write_index(int dir_fd, const char *dir, const gk_image_set *set, const char *tag,
                       gk_error **err)
{
        _cleanup_free_ char *old = NULL, *text = NULL, *path = NULL;
        size_t old_len = 0, len = 0;

        if (gk_read_file_at(dir_fd, "index.json", &old, &old_len, NULL) < 0)
                old = NULL;
        if (gk_layout_index_json(old, old_len, set, tag, NULL, &text, &len, err) < 0)
                return gk_error_wrap(err, "`%s`", dir);
        if (asprintf(&path, "%s/index.json", dir) < 0)
                return gk_error_make(err, ENOMEM, "copy");
        return gk_write_file_atomic(path, text, len, 0644, true, err);
}

int gk_copy_write_oci_dir(gk_store *s, const char *top, const char *dir, const char *tag,
                          gk_error **err)
{
        _cleanup_(gk_image_set_clear) gk_image_set set = { 0 };
        _cleanup_close_ int dir_fd = -1, blobs_fd = -1;
        _cleanup_free_ char *layout = NULL;
        dir_sink d;
        gk_layout_sink sink;

        if (gk_image_set_load(s, top, &set, err) < 0 ||
            open_layout(dir, &dir_fd, &blobs_fd, err) < 0)
                return gk_error_code_or(err, -EIO);
        d = (dir_sink){ blobs_fd };
        sink = (gk_layout_sink){ sink_blob, &d };
        if (asprintf(&layout, "%s/oci-layout", dir) < 0)
                return gk_error_make(err, ENOMEM, "copy");
        if (faccessat(dir_fd, "oci-layout", F_OK, 0) < 0 &&
            gk_write_file_atomic(layout, GK_OCI_LAYOUT_FILE, strlen(GK_OCI_LAYOUT_FILE), 0644,
                                 false, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (gk_layout_write_blobs(&sink, s, &set, err) < 0)
                return gk_error_code_or(err, -EIO);
        return write_index(dir_fd, dir, &set, tag, err);
}
