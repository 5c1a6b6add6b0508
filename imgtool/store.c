/* The store's blobs: opening the store, reading blobs, and writing them
 * through a hashed temporary (or partial) file renamed into place. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "store_internal.h"

#define BLOB_READ_MAX (16u << 20)

static int open_dir(int at, const char *name, gk_error **err)
{
        int fd;

        if (mkdirat(at, name, 0700) < 0 && errno != EEXIST)
                return gk_error_errno(err, "create `%s`", name);
        fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open `%s`", name);
        return fd;
}

int gk_store_open(const char *root, gk_store **out, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = calloc(1, sizeof(*s));
        _cleanup_close_ int blobs = -1;

        if (!s || !(s->root = strdup(root)))
                return gk_error_make(err, ENOMEM, "store");
        s->root_fd = s->blobs_fd = s->partial_fd = s->tmp_fd = s->hold_fd = -1;
        if (gk_mkdir_p(root, 0700, err) < 0)
                return gk_error_wrap(err, "store `%s`", root);
        s->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
                return gk_error_errno(err, "store `%s`", root);
        if ((blobs = open_dir(s->root_fd, "blobs", err)) < 0 ||
            (s->blobs_fd = open_dir(blobs, "sha256", err)) < 0 ||
            (s->partial_fd = open_dir(blobs, "partial", err)) < 0 ||
            (s->tmp_fd = open_dir(blobs, "tmp", err)) < 0)
                return gk_error_wrap(err, "store `%s`", root);
        *out = TAKE_PTR(s);
        return 0;
}

void gk_store_free(gk_store *s)
{
        if (!s)
                return;
        gk_closep(&s->root_fd);
        gk_closep(&s->blobs_fd);
        gk_closep(&s->partial_fd);
        gk_closep(&s->tmp_fd);
        gk_closep(&s->hold_fd);
        free(s->root);
        free(s);
}

void gk_store_freep(gk_store **s)
{
        gk_store_free(*s);
}

const char *gk_store_root(const gk_store *s)
{
        return s->root;
}

int gk_store_lock(gk_store *s, const char *name, int mode, gk_error **err)
{
        _cleanup_close_ int fd = openat(s->root_fd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

        if (fd < 0)
                return gk_error_errno(err, "store: open `%s`", name);
        while (flock(fd, mode) < 0)
                if (errno != EINTR)
                        return gk_error_errno(err, "store: lock `%s`", name);
        return TAKE_FD(fd);
}

int gk_store_hold(gk_store *s, gk_error **err)
{
        if (s->hold_fd >= 0)
                return 0;
        s->hold_fd = gk_store_lock(s, "gc.lock", LOCK_SH, err);
        return s->hold_fd < 0 ? s->hold_fd : 0;
}

void gk_store_sync_blobs(gk_store *s)
{
        fsync(s->blobs_fd);
}

int64_t gk_store_blob_size(gk_store *s, const char *digest)
{
        struct stat st;

        if (gk_digest_check(digest, "blob", NULL) < 0 ||
            fstatat(s->blobs_fd, gk_digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
                return -1;
        return st.st_size;
}

bool gk_store_has_blob(gk_store *s, const char *digest)
{
        return gk_store_blob_size(s, digest) >= 0;
}

int gk_store_open_blob(gk_store *s, const char *digest, gk_error **err)
{
        int fd;

        if (gk_digest_check(digest, "blob", err) < 0)
                return gk_error_code_or(err, -EINVAL);
        fd = openat(s->blobs_fd, gk_digest_hex(digest), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT
                               ? gk_error_plain(err, ENOENT, "blob %s is not in the store", digest)
                               : gk_error_errno(err, "blob %s", digest);
        return fd;
}

static int damaged(gk_error **err, const char *digest, const char *why)
{
        return gk_error_plain(err, EBADMSG,
                              "blob %s: the store's copy is damaged: %s "
                              "(`gkimg check --repair` fetches it again)",
                              digest, why);
}

int gk_store_copy_blob(gk_store *s, const char *digest, int64_t size,
                       int (*fn)(void *ctx, const void *buf, size_t len, gk_error **err),
                       void *ctx, gk_error **err)
{
        _cleanup_(gk_hasher_freep) gk_hasher *h = gk_hasher_new();
        _cleanup_close_ int fd = gk_store_open_blob(s, digest, err);
        char buf[1 << 17], got[GK_SHA256_BUF], why[160];
        struct stat st;
        ssize_t n;

        if (fd < 0)
                return fd;
        if (!h)
                return gk_error_make(err, ENOMEM, "blob %s", digest);
        if (fstat(fd, &st) < 0)
                return gk_error_errno(err, "blob %s", digest);
        if (size >= 0 && st.st_size != size) {
                snprintf(why, sizeof(why), "it has %lld bytes, not %lld", (long long) st.st_size,
                         (long long) size);
                return damaged(err, digest, why);
        }
        while ((n = gk_read_all(fd, buf, sizeof(buf))) > 0) {
                gk_hasher_update(h, buf, (size_t) n);
                if (fn && fn(ctx, buf, (size_t) n, err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        if (n < 0)
                return gk_error_errno(err, "read blob %s", digest);
        gk_hasher_final(h, got);
        if (strcmp(got, digest)) {
                snprintf(why, sizeof(why), "its content has digest %s", got);
                return damaged(err, digest, why);
        }
        return 0;
}

int gk_store_verify_blob(gk_store *s, const char *digest, int64_t size, gk_error **err)
{
        return gk_store_copy_blob(s, digest, size, NULL, NULL, err);
}

int gk_store_drop_blob(gk_store *s, const char *digest, gk_error **err)
{
        if (gk_digest_check(digest, "blob", err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (unlinkat(s->blobs_fd, gk_digest_hex(digest), 0) < 0 && errno != ENOENT)
                return gk_error_errno(err, "remove blob %s", digest);
        return 0;
}

/* A copy already in the store that is right (1), or none (0): a damaged
 * one is dropped so the caller writes it again. */
static int have_good_blob(gk_store *s, const char *digest)
{
        int r = gk_store_verify_blob(s, digest, -1, NULL);

        if (r == -EBADMSG)
                gk_store_drop_blob(s, digest, NULL);
        return r == 0;
}

int gk_store_read_blob(gk_store *s, const char *digest, char **out, size_t *len, gk_error **err)
{
        _cleanup_close_ int fd = gk_store_open_blob(s, digest, err);
        struct stat st;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return gk_error_errno(err, "blob %s", digest);
        if ((uint64_t) st.st_size > BLOB_READ_MAX)
                return gk_error_make(err, EFBIG,
                                     "blob %s: %lld bytes is too big for a JSON "
                                     "document",
                                     digest, (long long) st.st_size);
        return gk_read_fd(fd, digest, out, len, err);
}

/* ---- writers ---- */

#define WRITEBACK_CHUNK (8u << 20)

struct gk_blob_writer {
        gk_store *s;
        uint64_t flushed; /* writeback started up to here */
        int dir_fd;       /* partial_fd or tmp_fd (not owned) */
        char *name;       /* in dir_fd */
        char *expect;     /* NULL: computed */
        int fd;
        uint64_t offset;
        gk_hasher *h;
        char got[GK_SHA256_BUF]; /* the digest, once checked */
};

static void writer_free(gk_blob_writer *w)
{
        gk_closep(&w->fd);
        gk_hasher_free(w->h);
        free(w->name);
        free(w->expect);
        free(w);
}

/* Rehashes the bytes a resumed partial file already has. */
static int rehash(gk_blob_writer *w, gk_error **err)
{
        char buf[1 << 16];
        ssize_t n;

        if (lseek(w->fd, 0, SEEK_SET) < 0)
                return gk_error_errno(err, "blob %s: seek", w->expect);
        w->offset = 0;
        while ((n = read(w->fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gk_error_errno(err, "blob %s: read partial download", w->expect);
                gk_hasher_update(w->h, buf, (size_t) n);
                w->offset += (uint64_t) n;
        }
        w->flushed = w->offset;
        return 0;
}

/* Opens and locks partial/HEX, making sure the locked inode is still the one
 * at that name (a writer that finished renamed it into blobs/). */
static int open_partial(gk_blob_writer *w, gk_error **err)
{
        for (int tries = 0; tries < 8; tries++) {
                _cleanup_close_ int fd = openat(w->dir_fd, w->name,
                                                O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                struct stat a, b;

                if (fd < 0)
                        return gk_error_errno(err, "blob %s: create partial file", w->expect);
                if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        return errno == EWOULDBLOCK
                                       ? gk_error_make(err, EBUSY,
                                                       "blob %s: another process "
                                                       "is writing it",
                                                       w->expect)
                                       : gk_error_errno(err, "blob %s: lock", w->expect);
                if (fstat(fd, &a) == 0 &&
                    fstatat(w->dir_fd, w->name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
                    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
                        w->fd = TAKE_FD(fd);
                        return 0;
                }
        }
        return gk_error_make(err, EBUSY, "blob %s: partial file keeps changing", w->expect);
}

static int open_tmp(gk_blob_writer *w, gk_error **err)
{
        if (asprintf(&w->name, "%d-%lld", (int) getpid(), (long long) gk_now_ns()) < 0)
                return gk_error_make(err, ENOMEM, "blob");
        w->fd = openat(w->dir_fd, w->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd < 0)
                return gk_error_errno(err, "create blob in `%s/blobs/tmp`", w->s->root);
        /* Marks it live for gc's cleanup of crashed writers' files. */
        flock(w->fd, LOCK_EX | LOCK_NB);
        return 0;
}

int gk_store_blob_begin(gk_store *s, const char *expect, bool resume, gk_blob_writer **out,
                        gk_error **err)
{
        gk_blob_writer *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return gk_error_make(err, ENOMEM, "blob");
        *w = (gk_blob_writer){ .s = s, .fd = -1, .h = gk_hasher_new() };
        if (!w->h) {
                writer_free(w);
                return gk_error_make(err, ENOMEM, "blob");
        }
        if (expect) {
                r = gk_digest_check(expect, "blob", err);
                if (r == 0 &&
                    (!(w->expect = strdup(expect)) || !(w->name = strdup(gk_digest_hex(expect)))))
                        r = gk_error_make(err, ENOMEM, "blob");
                w->dir_fd = s->partial_fd;
                if (r == 0)
                        r = open_partial(w, err);
                if (r == 0)
                        r = resume ? rehash(w, err) : gk_blob_writer_restart(w, err);
        } else {
                w->dir_fd = s->tmp_fd;
                r = open_tmp(w, err);
        }
        if (r < 0) {
                gk_blob_writer_abort(w);
                return r;
        }
        *out = w;
        return 0;
}

uint64_t gk_blob_writer_offset(const gk_blob_writer *w)
{
        return w->offset;
}

int gk_blob_writer_fd(const gk_blob_writer *w)
{
        return w->fd;
}

int gk_blob_writer_restart(gk_blob_writer *w, gk_error **err)
{
        if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
                return gk_error_errno(err, "blob %s: truncate", w->expect ? w->expect : "");
        gk_hasher_reset(w->h);
        w->offset = w->flushed = 0;
        return 0;
}

int gk_blob_writer_write(gk_blob_writer *w, const void *data, size_t len, gk_error **err)
{
        int r = gk_write_all(w->fd, data, len);

        if (r < 0)
                return gk_error_make(err, -r, "write blob %s to `%s/blobs`",
                                     w->expect ? w->expect : "", w->s->root);
        gk_hasher_update(w->h, data, len);
        w->offset += len;
        /* Start writeback while the download goes on, so the sync at
         * commit has only the tail left to wait for. */
        if (w->offset - w->flushed >= WRITEBACK_CHUNK) {
                sync_file_range(w->fd, (off64_t) w->flushed, (off64_t) (w->offset - w->flushed),
                                SYNC_FILE_RANGE_WRITE);
                w->flushed = w->offset;
        }
        return 0;
}

static int commit_rename(gk_blob_writer *w, const char *got, char **out_digest, gk_error **err)
{
        GK_FAULT("pull.before-blob-rename");
        if (renameat(w->dir_fd, w->name, w->s->blobs_fd, gk_digest_hex(got)) < 0)
                return gk_error_errno(err, "blob %s: rename into the store", got);
        if (out_digest && !(*out_digest = strdup(got)))
                return gk_error_make(err, ENOMEM, "blob");
        return 0;
}

int gk_blob_writer_check(gk_blob_writer *w, gk_error **err)
{
        if (w->got[0])
                return 0;
        gk_hasher_final(w->h, w->got);
        if (w->expect && strcmp(w->got, w->expect)) {
                gk_error_plain(err, EBADMSG,
                               "blob %s: digest mismatch: the content has "
                               "digest %s (discarded)",
                               w->expect, w->got);
                gk_blob_writer_abort(w);
                return -EBADMSG;
        }
        return 0;
}

int gk_blob_writer_commit(gk_blob_writer *w, char **out_digest, gk_error **err)
{
        int r = gk_blob_writer_check(w, err);

        if (r < 0)
                return r;
        /* The data must be on disk before the name says it is complete. */
        if (fdatasync(w->fd) < 0)
                r = gk_error_errno(err, "blob %s: sync", w->got);
        else
                r = commit_rename(w, w->got, out_digest, err);
        if (r < 0) {
                gk_blob_writer_abort(w);
                return r;
        }
        writer_free(w);
        return 0;
}

void gk_blob_writer_abort(gk_blob_writer *w)
{
        if (!w)
                return;
        if (w->fd >= 0 && w->name)
                unlinkat(w->dir_fd, w->name, 0);
        writer_free(w);
}

void gk_blob_writer_suspend(gk_blob_writer *w)
{
        if (!w)
                return;
        /* Nothing to resume from: leave nothing behind. */
        if ((!w->expect || w->offset == 0) && w->fd >= 0 && w->name)
                unlinkat(w->dir_fd, w->name, 0);
        writer_free(w);
}

int gk_store_put_blob_fd(gk_store *s, int fd, const char *expect, char **out_digest,
                         gk_error **err)
{
        gk_blob_writer *w;
        char buf[1 << 16];
        ssize_t n;

        if (expect && have_good_blob(s, expect))
                return out_digest && !(*out_digest = strdup(expect))
                               ? gk_error_make(err, ENOMEM, "blob")
                               : 0;
        if (gk_store_blob_begin(s, NULL, false, &w, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (expect && !(w->expect = strdup(expect))) {
                gk_blob_writer_abort(w);
                return gk_error_make(err, ENOMEM, "blob");
        }
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || gk_blob_writer_write(w, buf, (size_t) n, err) < 0) {
                        int e = errno;

                        gk_blob_writer_abort(w);
                        return n < 0 ? gk_error_make(err, e, "read blob") : -EIO;
                }
        }
        return gk_blob_writer_commit(w, out_digest, err);
}

int gk_store_put_blob(gk_store *s, const void *data, size_t len, const char *expect,
                      char **out_digest, gk_error **err)
{
        char got[GK_SHA256_BUF];
        gk_blob_writer *w;

        gk_digest_buf(data, len, got);
        if (expect && strcmp(expect, got))
                return gk_error_plain(err, EBADMSG,
                                      "blob %s: digest mismatch: the content has "
                                      "digest %s",
                                      expect, got);
        if (!have_good_blob(s, got)) {
                if (gk_store_blob_begin(s, NULL, false, &w, err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (gk_blob_writer_write(w, data, len, err) < 0) {
                        gk_blob_writer_abort(w);
                        return gk_error_code_or(err, -EIO);
                }
                if (gk_blob_writer_commit(w, NULL, err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        return out_digest && !(*out_digest = strdup(got)) ? gk_error_make(err, ENOMEM, "blob") : 0;
}
