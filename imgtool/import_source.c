/* Reading docker-archive / oci-archive files and OCI layouts for import. */
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
#include "archive_error.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "import_source.h"
#include "unpack.h"
#include "whiteout.h"

#define DOC_MAX (16u << 20)

void gk_import_close(gk_import_source *s)
{
        for (size_t i = 0; i < s->n_members; i++) {
                free(s->members[i].name);
                free(s->members[i].digest);
                free(s->members[i].link);
        }
        free(s->members);
        free(s->index_json);
        free(s->manifest_json);
        if (s->layout_fd >= 0)
                close(s->layout_fd);
        *s = (gk_import_source){ .layout_fd = -1 };
}

static int add_member(gk_import_source *s, const char *name, char *digest, const char *link)
{
        gk_import_member *nm = realloc(s->members, (s->n_members + 1) * sizeof(*nm));

        if (!nm)
                return -ENOMEM;
        s->members = nm;
        nm[s->n_members] = (gk_import_member){ strdup(name), digest, link ? strdup(link) : NULL };
        s->n_members++;
        return 0;
}

static int read_doc(struct archive *a, const char *name, char **out, size_t *len, gk_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, cap = 0;

        for (;;) {
                la_ssize_t r;

                if (cap - n < 65536) {
                        char *nb;

                        cap = cap ? cap * 2 : 131072;
                        if (cap > DOC_MAX || !(nb = realloc(buf, cap)))
                                return gk_error_make(err, EFBIG, "`%s`", name);
                        buf = nb;
                }
                r = archive_read_data(a, buf + n, cap - n - 1);
                if (r < 0)
                        return gk_archive_error(err, a, "`%s`", name);
                if (r == 0)
                        break;
                n += (size_t) r;
        }
        buf[n] = '\0';
        free(*out);
        *out = TAKE_PTR(buf);
        *len = n;
        return 0;
}

/* A regular member into the store; "blobs/sha256/HEX" must hash to HEX. */
static int store_member(gk_import_source *s, struct archive *a, const char *name, gk_error **err)
{
        gk_blob_writer *w;
        char expect[GK_DIGEST_MAX], *digest = NULL;
        const char *want = NULL;

        if (!strncmp(name, "blobs/sha256/", 13)) {
                snprintf(expect, sizeof(expect), "sha256:%s", name + 13);
                want = expect;
        }
        if (gk_store_blob_begin(s->store, want, false, &w, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = archive_read_data_block(a, &buf, &size, &off);

                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        gk_blob_writer_abort(w);
                        return gk_archive_error(err, a, "`%s`", name);
                }
                if (gk_blob_writer_write(w, buf, size, err) < 0) {
                        gk_blob_writer_abort(w);
                        return gk_error_code_or(err, -EIO);
                }
        }
        if (gk_blob_writer_commit(w, &digest, err) < 0)
                return gk_error_wrap(err, "`%s`", name);
        if (add_member(s, name, digest, NULL) < 0) {
                free(digest);
                return gk_error_make(err, ENOMEM, "import");
        }
        return 0;
}

/* A symlink member (docker save links repeated layers): its target made
 * archive-relative. */
static int link_member(gk_import_source *s, const char *name, const char *target, gk_error **err)
{
        _cleanup_free_ char *dir = NULL, *joined = NULL, *clean = NULL;
        const char *base;

        if (gk_path_split(name, &dir, &base) < 0 || asprintf(&joined, "%s/%s", dir, target) < 0)
                return gk_error_make(err, ENOMEM, "import");
        if (target[0] == '/' || gk_entry_path_clean(joined, &clean, NULL) < 0)
                return 0; /* points outside the archive: ignored */
        return add_member(s, name, NULL, clean) < 0 ? gk_error_make(err, ENOMEM, "import") : 0;
}

static int read_entry(gk_import_source *s, struct archive *a, struct archive_entry *e,
                      gk_error **err)
{
        _cleanup_free_ char *name = NULL;
        const char *raw = archive_entry_pathname(e);
        mode_t type = archive_entry_filetype(e);

        if (!raw || gk_entry_path_clean(raw, &name, err) < 0)
                return gk_error_make(err, 0, "archive entry with a bad name");
        if (type == AE_IFLNK)
                return link_member(s, name, archive_entry_symlink(e) ?: "", err);
        if (type != AE_IFREG)
                return 0;
        if (!strcmp(name, "index.json"))
                return read_doc(a, name, &s->index_json, &s->index_len, err);
        if (!strcmp(name, "manifest.json"))
                return read_doc(a, name, &s->manifest_json, &s->manifest_len, err);
        if (!strcmp(name, "oci-layout") || !strcmp(name, "repositories"))
                return 0;
        return store_member(s, a, name, err);
}

static int read_archive(gk_import_source *s, int fd, gk_error **err)
{
        struct archive *a;
        struct archive_entry *e;
        int r = 0;

        if (gk_dl_archive(err) < 0)
                return -ELIBACC;
        a = archive_read_new();
        if (!a)
                return gk_error_make(err, ENOMEM, "libarchive");
        archive_read_support_filter_gzip(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_xz(a);
        archive_read_support_filter_bzip2(a);
        archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK)
                r = gk_archive_error(err, a, NULL);
        while (r >= 0) {
                int h = archive_read_next_header(a, &e);

                if (h == ARCHIVE_EOF)
                        break;
                if (h < ARCHIVE_WARN) {
                        r = gk_archive_error(err, a, NULL);
                        break;
                }
                r = read_entry(s, a, e, err);
        }
        archive_read_free(a);
        return r;
}

int gk_import_open(gk_store *store, const char *file, gk_import_source *s, gk_error **err)
{
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        int r;

        *s = (gk_import_source){ .store = store, .file = file, .layout_fd = -1 };
        if (fd < 0 || fstat(fd, &st) < 0)
                return gk_error_errno(err, "import `%s`", file);
        if (S_ISDIR(st.st_mode)) {
                s->layout_fd = TAKE_FD(fd);
                r = gk_read_file_at(s->layout_fd, "index.json", &s->index_json, &s->index_len,
                                    err);
                return r < 0 ? gk_error_wrap(err, "`%s` is not an OCI layout", file) : 0;
        }
        r = read_archive(s, fd, err);
        if (r < 0)
                return gk_error_wrap(err, "import `%s`", file);
        return 0;
}

int gk_import_need_blob(gk_import_source *s, const char *digest, gk_error **err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;

        if (!gk_digest_valid(digest))
                return gk_error_make(err, 0, "`%s` is not a sha256 digest", digest ?: "");
        if (s->layout_fd < 0 || gk_store_has_blob(s->store, digest)) {
                if (gk_store_has_blob(s->store, digest))
                        return 0;
                return gk_error_make(err, 0, "`%s`: blob %s is not in the archive", s->file,
                                     digest);
        }
        if (asprintf(&path, "blobs/sha256/%s", digest + 7) < 0)
                return gk_error_make(err, ENOMEM, "import");
        fd = openat(s->layout_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "`%s`: `%s`", s->file, path);
        return gk_store_put_blob_fd(s->store, fd, digest, NULL, err);
}

const char *gk_import_member_digest(const gk_import_source *s, const char *name)
{
        _cleanup_free_ char *clean = NULL;
        const char *want;

        if (gk_entry_path_clean(name, &clean, NULL) < 0)
                return NULL;
        want = clean;
        for (int hops = 0; hops < 8; hops++) {
                const gk_import_member *m = NULL;

                for (size_t i = 0; i < s->n_members && !m; i++)
                        if (!strcmp(s->members[i].name, want))
                                m = &s->members[i];
                if (!m)
                        return NULL;
                if (!m->link)
                        return m->digest;
                want = m->link;
        }
        return NULL;
}
