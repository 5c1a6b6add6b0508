/* `gkimg export`: an oci-archive streamed from the store's blobs with
 * libarchive.  index.json names the image twice: ref.name holds the tag
 * (what skopeo's oci-archive:FILE:TAG and umoci look up) and
 * io.containerd.image.name the full reference (what gkimg import, docker
 * and containerd read back). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <libgen.h>
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
#include "oci_layout.h"

static int add_header(struct archive *a, const char *name, mode_t type, int64_t size,
                      gk_error **err)
{
        struct archive_entry *e = archive_entry_new();
        int r;

        if (!e)
                return gk_error_make(err, ENOMEM, "export");
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(e, size);
        archive_entry_set_mtime(e, 0, 0);
        r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return gk_archive_error(err, a, "export: `%s`", name);
        return 0;
}

int gk_export_add_mem(struct archive *a, const char *name, const char *data, size_t len,
                      gk_error **err)
{
        if (add_header(a, name, AE_IFREG, (int64_t) len, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (archive_write_data(a, data, len) != (la_ssize_t) len)
                return gk_archive_error(err, a, "export: `%s`", name);
        return 0;
}

int gk_export_add_fd(struct archive *a, const char *name, int fd, int64_t size, gk_error **err)
{
        char buf[1 << 16];
        ssize_t n;

        if (add_header(a, name, AE_IFREG, size, err) < 0)
                return gk_error_code_or(err, -EIO);
        while ((n = gk_read_all(fd, buf, sizeof(buf))) > 0)
                if (archive_write_data(a, buf, (size_t) n) != n)
                        return gk_archive_error(err, a, "export");
        return n < 0 ? gk_error_errno(err, "export: read `%s`", name) : 0;
}

static int write_block(void *ctx, const void *buf, size_t len, gk_error **err)
{
        struct archive *a = ctx;

        if (archive_write_data(a, buf, len) != (la_ssize_t) len)
                return gk_archive_error(err, a, NULL);
        return 0;
}

/* Blob DIGEST of SIZE bytes (-1: unknown) as the image names it: the
 * store's copy is checked as it streams, so a damaged one fails the
 * export instead of going into the archive. */
static int add_blob(struct archive *a, gk_store *s, const char *digest, int64_t size,
                    gk_error **err)
{
        _cleanup_free_ char *name = NULL;
        int64_t have = gk_store_blob_size(s, digest);

        if (have < 0)
                return gk_error_plain(err, ENOENT, "export: blob %s is not in the store", digest);
        if (asprintf(&name, "blobs/sha256/%s", digest + 7) < 0)
                return gk_error_make(err, ENOMEM, "export");
        if (size >= 0 && have != size)
                return gk_store_verify_blob(s, digest, size, err) < 0
                               ? gk_error_wrap(err, "export")
                               : -EIO;
        if (add_header(a, name, AE_IFREG, have, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (gk_store_copy_blob(s, digest, have, write_block, a, err) < 0)
                return gk_error_wrap(err, "export");
        return 0;
}

/* The tag of a reference ("x/y:1.0" -> "1.0"), "latest" when it has none. */
static const char *ref_tag(const char *ref)
{
        const char *slash = strrchr(ref, '/'), *colon = strrchr(ref, ':');

        if (colon && (!slash || colon > slash) && !strchr(colon, '@'))
                return colon + 1;
        return "latest";
}

typedef struct oci_job {
        const gk_image_set *set;
        const char *ref_name, *full_name;
} oci_job;

static int sink_blob(void *ctx, gk_store *s, const char *digest, int64_t size, gk_error **err)
{
        return add_blob(ctx, s, digest, size, err);
}

static int write_all_entries(struct archive *a, gk_store *s, const void *ctx, const char *dir,
                             gk_error **err)
{
        const oci_job *job = ctx;
        const gk_layout_sink sink = { sink_blob, a };
        _cleanup_free_ char *index = NULL;
        size_t len;

        if (gk_layout_index_json(NULL, 0, job->set, job->ref_name, job->full_name, &index, &len,
                                 err) < 0 ||
            gk_export_add_mem(a, "oci-layout", GK_OCI_LAYOUT_FILE, strlen(GK_OCI_LAYOUT_FILE),
                              err) < 0 ||
            gk_export_add_mem(a, "index.json", index, len, err) < 0 ||
            add_header(a, "blobs", AE_IFDIR, 0, err) < 0 ||
            add_header(a, "blobs/sha256", AE_IFDIR, 0, err) < 0 ||
            gk_layout_write_blobs(&sink, s, job->set, err) < 0)
                return gk_error_code_or(err, -EIO);
        return 0;
}

int gk_export_write_archive(gk_store *s, const void *ctx, const char *file,
                            gk_export_entries_fn entries, gk_error **err)
{
        _cleanup_free_ char *copy = strdup(file), *tmp = NULL;
        struct archive *a;
        int r = 0;

        if (gk_dl_archive(err) < 0)
                return -ELIBACC;
        if (!copy || asprintf(&tmp, "%s.tmp.%d", file, getpid()) < 0)
                return gk_error_make(err, ENOMEM, "export");
        a = archive_write_new();
        if (!a)
                return gk_error_make(err, ENOMEM, "export");
        archive_write_set_format_pax_restricted(a);
        if (archive_write_open_filename(a, tmp) != ARCHIVE_OK)
                r = gk_archive_error(err, a, "export: `%s`", file);
        if (r >= 0)
                r = entries(a, s, ctx, dirname(copy), err);
        if (archive_write_close(a) != ARCHIVE_OK && r >= 0)
                r = gk_archive_error(err, a, "export: `%s`", file);
        archive_write_free(a);
        if (r >= 0 && rename(tmp, file) < 0)
                r = gk_error_errno(err, "export: `%s`", file);
        if (r < 0)
                unlink(tmp);
        return r;
}

int gk_export_oci_archive_set(gk_store *s, const gk_image_set *set, const char *ref_name,
                              const char *full_name, const char *file, gk_error **err)
{
        const oci_job job = { set, ref_name, full_name };

        return gk_export_write_archive(s, &job, file, write_all_entries, err);
}

int gk_export_oci_archive(gk_store *s, const gk_image *img, const char *top_digest,
                          const char *file, gk_error **err)
{
        _cleanup_(gk_image_set_clear) gk_image_set set = { 0 };

        if (gk_image_set_load(s, top_digest ? top_digest : img->si->manifest_digest, &set, err) <
            0)
                return gk_error_wrap(err, "export");
        return gk_export_oci_archive_set(s, &set, ref_tag(img->ref), img->ref, file, err);
}
