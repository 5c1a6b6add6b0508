/* The decompressed stream of a layer blob (see unpack_stream.h).  One
 * producer thread owns the outer archive (libarchive's "raw" format over
 * the detected filter) and the sha256 context; it fills the slots of a ring
 * in order.  The consumer, libarchive's tar reader on the calling thread,
 * holds one filled slot at a time (libarchive reads a callback's buffer
 * until it asks for the next) and gives it back on its next call.  A read
 * error is handed over only after every byte before it, so the tar reader
 * sees the same stream, and the same errors, as it would reading inline. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "unpack.h"
#include "unpack_stream.h"

/* 2 MiB in flight: enough to ride out a burst of small files on the
 * writing side without the inflater waiting. */
#define SLOTS 8
#define SLOT_SIZE (256 * 1024)

struct gk_unpack_stream {
        struct archive *outer; /* producer's, once it runs */
        EVP_MD_CTX *md;        /* producer's */
        uint64_t bytes;        /* producer's; read after the join */
        char *mem;             /* SLOTS * SLOT_SIZE */
        size_t len[SLOTS];
        pthread_t thread;
        bool started;
        /* under lock: */
        pthread_mutex_t lock;
        pthread_cond_t filled, freed;
        size_t head, count; /* the oldest filled slot; filled slots */
        bool held;          /* the consumer has slot head */
        bool done, failed, cancel;
        int err_no;
        char errmsg[256];
};

static char *slot(gk_unpack_stream *s, size_t i)
{
        return s->mem + i * SLOT_SIZE;
}

/* Waits for a free slot; false when cancelled. */
static bool wait_free(gk_unpack_stream *s, size_t *idx)
{
        bool ok;

        pthread_mutex_lock(&s->lock);
        while (s->count == SLOTS && !s->cancel)
                pthread_cond_wait(&s->freed, &s->lock);
        ok = !s->cancel;
        *idx = (s->head + s->count) % SLOTS;
        pthread_mutex_unlock(&s->lock);
        return ok;
}

static void publish(gk_unpack_stream *s, size_t idx, la_ssize_t n)
{
        pthread_mutex_lock(&s->lock);
        if (n > 0) {
                s->len[idx] = (size_t) n;
                s->count++;
        } else {
                s->done = true;
                if (n < 0) {
                        s->failed = true;
                        s->err_no = archive_errno(s->outer);
                        snprintf(s->errmsg, sizeof(s->errmsg), "%s",
                                 archive_error_string(s->outer) ?: "decompression failed");
                }
        }
        pthread_cond_signal(&s->filled);
        pthread_mutex_unlock(&s->lock);
}

static void *produce(void *arg)
{
        gk_unpack_stream *s = arg;
        size_t idx;

        while (wait_free(s, &idx)) {
                la_ssize_t n = archive_read_data(s->outer, slot(s, idx), SLOT_SIZE);

                if (n > 0) {
                        EVP_DigestUpdate(s->md, slot(s, idx), (size_t) n);
                        s->bytes += (uint64_t) n;
                }
                publish(s, idx, n);
                if (n <= 0)
                        break;
        }
        return NULL;
}

/* The next filled slot's bytes, after giving back the one held; 0 at the
 * end, -1 on a read error. */
static la_ssize_t next_block(gk_unpack_stream *s, const void **buf)
{
        la_ssize_t n = 0;

        pthread_mutex_lock(&s->lock);
        if (s->held) {
                s->head = (s->head + 1) % SLOTS;
                s->count--;
                s->held = false;
                pthread_cond_signal(&s->freed);
        }
        while (s->count == 0 && !s->done)
                pthread_cond_wait(&s->filled, &s->lock);
        if (s->count > 0) {
                s->held = true;
                *buf = slot(s, s->head);
                n = (la_ssize_t) s->len[s->head];
        } else if (s->failed) {
                n = -1;
        }
        pthread_mutex_unlock(&s->lock);
        return n;
}

la_ssize_t gk_unpack_stream_read(struct archive *a, void *stream, const void **buf)
{
        gk_unpack_stream *s = stream;
        la_ssize_t n = next_block(s, buf);

        if (n < 0)
                archive_set_error(a, s->err_no, "%s", s->errmsg);
        return n;
}

/* Only in-process decompressors: filter_all would also run external
 * programs (lzop, lrzip, grzip) on input that looks like theirs. */
static int open_outer(gk_unpack_stream *s, int blob_fd, gk_error **err)
{
        struct archive_entry *e;

        s->outer = archive_read_new();
        if (!s->outer)
                return gk_error_make(err, ENOMEM, "libarchive");
        archive_read_support_filter_gzip(s->outer);
        archive_read_support_filter_zstd(s->outer);
        archive_read_support_filter_xz(s->outer);
        archive_read_support_filter_bzip2(s->outer);
        archive_read_support_format_raw(s->outer);
        if (archive_read_open_fd(s->outer, blob_fd, SLOT_SIZE) != ARCHIVE_OK ||
            archive_read_next_header(s->outer, &e) != ARCHIVE_OK)
                return gk_error_make(err, 0, "read: %s",
                                     archive_error_string(s->outer) ?: "empty blob");
        return 0;
}

int gk_unpack_stream_open(int blob_fd, gk_unpack_stream **out, gk_error **err)
{
        gk_unpack_stream *s = calloc(1, sizeof(*s));
        int r;

        *out = NULL;
        if (gk_dl_archive(err) < 0) {
                free(s);
                return -ELIBACC;
        }
        if (!s)
                return gk_error_make(err, ENOMEM, "unpack stream");
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->filled, NULL);
        pthread_cond_init(&s->freed, NULL);
        s->md = EVP_MD_CTX_new();
        s->mem = malloc((size_t) SLOTS * SLOT_SIZE);
        if (!s->md || !s->mem || !EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)) {
                gk_unpack_stream_free(s);
                return gk_error_make(err, ENOMEM, "unpack stream");
        }
        r = open_outer(s, blob_fd, err);
        if (r == 0) {
                r = -pthread_create(&s->thread, NULL, produce, s);
                if (r < 0)
                        gk_error_make(err, -r, "start the decompression thread");
        }
        if (r < 0) {
                gk_unpack_stream_free(s);
                return r;
        }
        s->started = true;
        *out = s;
        return 0;
}

int gk_unpack_stream_finish(gk_unpack_stream *s, uint64_t *bytes, char *digest, gk_error **err)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        const void *buf;
        la_ssize_t n;
        char *p = digest;

        while ((n = next_block(s, &buf)) > 0)
                ;
        if (n < 0)
                return gk_error_make(err, 0, "read: %s", s->errmsg);
        /* The producer has published the end: nothing of it is left to run
         * but its return. */
        pthread_join(s->thread, NULL);
        s->started = false;
        EVP_DigestFinal_ex(s->md, md, &len);
        p += snprintf(p, GK_DIGEST_MAX, "sha256:");
        for (unsigned i = 0; i < len; i++)
                p += snprintf(p, 3, "%02x", md[i]);
        *bytes = s->bytes;
        return 0;
}

void gk_unpack_stream_free(gk_unpack_stream *s)
{
        if (!s)
                return;
        if (s->started) {
                pthread_mutex_lock(&s->lock);
                s->cancel = true;
                pthread_cond_signal(&s->freed);
                pthread_mutex_unlock(&s->lock);
                pthread_join(s->thread, NULL);
        }
        if (s->outer)
                archive_read_free(s->outer);
        EVP_MD_CTX_free(s->md);
        free(s->mem);
        pthread_cond_destroy(&s->filled);
        pthread_cond_destroy(&s->freed);
        pthread_mutex_destroy(&s->lock);
        free(s);
}
