/* Parallel blob downloads with the curl multi interface: each blob is
 * streamed into a store writer (hashed as it arrives), resumed with a Range
 * request after a reset or a truncated answer, and retried with backoff on
 * transient failures.  One failure that is not transient stops the pull;
 * partial downloads stay for the next pull.  A blob with a feed (feed.h)
 * tells its reader what has landed as it goes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "fetch.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "registry_internal.h"
#include "xfer.h"

typedef enum job_state {
        JOB_PENDING, /* not started, or waiting for a retry / another writer */
        JOB_RUNNING,
        JOB_DONE,
} job_state;

typedef struct gk_fetch fetch;

typedef struct job {
        gk_xfer_tag tag;
        fetch *f;
        gk_blob_fetch *b;
        size_t slot; /* progress line */
        job_state state;
        int attempts;              /* every transfer started */
        bool from_partial;         /* began on a partial file of an earlier try */
        int fruitless;             /* transfers since the last one that got bytes */
        uint64_t start_off;        /* the writer's offset when this transfer began */
        int64_t not_before;        /* ms: retry backoff or lock wait */
        gk_http_deadline deadline; /* over all attempts, from the first */
        bool restarted;            /* a resumed download failed its digest once */
        gk_blob_writer *w;
        CURL *easy;
        struct curl_slist *hdrs;
        gk_http_headers h;
        bool checked; /* status looked at by the first write */
        bool paused;  /* ahead of the feed's reader (feed.h) */
        bool discard; /* error answer: body kept in errbody */
        char errbody[2048];
        char curl_err[CURL_ERROR_SIZE];
        size_t errlen;
        gk_error *werr; /* a write failure (disk full) */
        char *url;
} job;

struct gk_fetch {
        gk_xfer_part part;
        gk_registry *r;
        gk_store *s;
        gk_progress *p;
        CURLM *multi;
        job *jobs;
        size_t n, running;
        gk_error *fatal;
        bool defer_commits; /* checked blobs wait for gk_fetch_commit */
};

static void job_release(fetch *f, job *j)
{
        gk_xfer_remove(f->multi, &j->easy, &j->hdrs);
}

/* ---- the feed: what a reader of the blob may see ---- */

/* A new writer (a new file): the reader's old view is void. */
static int feed_attach(job *j, gk_error **err)
{
        gk_blob_feed *fd = j->b->feed;

        if (!fd)
                return 0;
        if (fd->fd >= 0)
                close(fd->fd);
        fd->fd = fcntl(gk_blob_writer_fd(j->w), F_DUPFD_CLOEXEC, 3);
        if (fd->fd < 0)
                return gk_error_errno(err, "blob %s: a reader of the download", j->b->digest);
        fd->landed = gk_blob_writer_offset(j->w);
        fd->epoch++;
        return 0;
}

/* The writer went back to zero bytes. */
static void feed_restart(job *j)
{
        if (j->b->feed) {
                j->b->feed->landed = 0;
                j->b->feed->epoch++;
        }
}

static void feed_landed(job *j)
{
        if (j->b->feed)
                j->b->feed->landed = gk_blob_writer_offset(j->w);
}

/* Complete; EXISTED: the store's copy, not a file of this download, is
 * the one to read. */
static void feed_verified(job *j, bool existed)
{
        if (j->b->feed) {
                if (existed && j->b->feed->fd >= 0) {
                        close(j->b->feed->fd);
                        j->b->feed->fd = -1;
                        j->b->feed->epoch++;
                }
                j->b->feed->verified = true;
                if (j->b->size >= 0)
                        j->b->feed->landed = (uint64_t) j->b->size;
        }
}

/* A restart of the writer, which the reader hears of. */
static int writer_restart(job *j, gk_error **err)
{
        feed_restart(j);
        return gk_blob_writer_restart(j->w, err);
}

/* The status is known at the first body byte: decide where bytes go. */
static void first_write(job *j)
{
        long status = 0;

        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
        j->checked = true;
        j->h.status = status;
        if (status == 206)
                return;
        if (status == 200) {
                /* The server ignored our Range: start over. */
                if (gk_blob_writer_offset(j->w) > 0)
                        writer_restart(j, &j->werr);
                return;
        }
        j->discard = true;
}

static size_t write_cb(char *ptr, size_t size, size_t n, void *userdata)
{
        job *j = userdata;
        size_t len = size * n;

        if (!j->checked)
                first_write(j);
        if (j->werr)
                return 0;
        if (j->discard) {
                size_t room = sizeof(j->errbody) - 1 - j->errlen;
                size_t k = len < room ? len : room;

                memcpy(j->errbody + j->errlen, ptr, k);
                j->errlen += k;
                j->errbody[j->errlen] = '\0';
                return len;
        }
        if (j->b->feed && gk_blob_feed_wait(j->b->feed)) {
                /* curl hands the same bytes again after the unpause */
                j->paused = true;
                return CURL_WRITEFUNC_PAUSE;
        }
        if (j->b->size >= 0 && gk_blob_writer_offset(j->w) + len > (uint64_t) j->b->size) {
                gk_error_plain(&j->werr, EBADMSG,
                               "blob %s: the registry sent more than the %lld "
                               "bytes the manifest says",
                               j->b->digest, (long long) j->b->size);
                return 0;
        }
        if (gk_blob_writer_write(j->w, ptr, len, &j->werr) < 0)
                return 0;
        feed_landed(j);
        GK_FAULT("pull.mid-blob");
        return len;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        job *j = userdata;

        if (j->w && !j->discard)
                gk_progress_bytes(j->f->p, j->slot, gk_blob_writer_offset(j->w), j->b->size);
        return 0;
}

static int start_transfer(fetch *f, job *j, gk_error **err)
{
        char range[64];

        if (!j->url &&
            asprintf(&j->url, "%s/v2/%s/blobs/%s", f->r->base, f->r->path, j->b->digest) < 0)
                return gk_error_make(err, ENOMEM, "fetch");
        j->checked = j->discard = false;
        j->errlen = 0;
        gk_http_headers_clear(&j->h);
        if (gk_registry_auth_headers(f->r, NULL, &j->hdrs, err) < 0)
                return -EACCES;
        if (gk_blob_writer_offset(j->w) > 0) {
                snprintf(range, sizeof(range), "Range: bytes=%llu-",
                         (unsigned long long) gk_blob_writer_offset(j->w));
                j->hdrs = curl_slist_append(j->hdrs, range);
        }
        j->easy = gk_http_easy(f->r, j->url, &j->h, err);
        if (!j->easy)
                return -ENOMEM;
        gk_http_deadline_arm(&j->deadline, j->easy);
        curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
        curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
        if (gk_xfer_add(f->multi, j->easy, &j->tag, j->curl_err, xferinfo_cb, err) < 0)
                return -ENOMEM;
        j->state = JOB_RUNNING;
        f->running++;
        return 0;
}

static void set_state(fetch *f, job *j, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void set_state(fetch *f, job *j, const char *fmt, ...)
{
        char buf[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        gk_progress_state(f->p, j->slot, buf);
}

static void job_done(fetch *f, job *j, bool existed)
{
        j->state = JOB_DONE;
        feed_verified(j, existed);
        j->b->existed = existed;
        set_state(f, j, existed ? "Already exists" : "Download complete");
}

/* Commits a complete download; a resumed one whose digest fails is
 * retried once from the start (the partial file may have been bad). */
static int finish_blob(fetch *f, job *j, gk_error **err)
{
        bool resumed = j->attempts > 1 || j->restarted || j->from_partial;
        gk_error *e = NULL;

        set_state(f, j, "Verifying Checksum");
        if (f->defer_commits) {
                /* checked now, synced and named after the loop */
                if (gk_blob_writer_check(j->w, &e) == 0) {
                        job_done(f, j, false);
                        return 0;
                }
                j->w = NULL;
        } else if (gk_blob_writer_commit(TAKE_PTR(j->w), NULL, &e) == 0) {
                GK_FAULT("pull.after-blob-rename");
                job_done(f, j, false);
                return 0;
        }
        if (gk_error_code(e) == -EBADMSG && resumed && !j->restarted) {
                gk_error_free(e);
                j->restarted = true;
                j->state = JOB_PENDING;
                j->not_before = 0;
                set_state(f, j, "Retrying from the start: digest mismatch");
                return 0;
        }
        *err = e;
        return -EBADMSG;
}

/* Final: another attempt would only be as slow. */
static int too_slow(fetch *f, job *j, gk_error **err)
{
        char reason[256];

        gk_http_timeout_reason(&j->deadline, j->w ? gk_blob_writer_offset(j->w) : 0, reason,
                               sizeof(reason));
        return gk_error_plain(err, ETIMEDOUT, "blob %s: registry %s %s", j->b->digest,
                              f->r->domain, reason);
}

/* Gets a writer (EBUSY: another pull is fetching it; wait for it). */
static int open_writer(fetch *f, job *j, gk_error **err)
{
        gk_error *e = NULL;
        int r;

        if (j->w)
                return 1;
        r = gk_store_blob_begin(f->s, j->b->digest, !j->restarted, &j->w, &e);
        if (r == -EBUSY) {
                gk_error_free(e);
                j->not_before = gk_now_ms() + 100;
                set_state(f, j, "Waiting for another pull");
                return 0;
        }
        if (r < 0) {
                *err = e;
                return r;
        }
        return feed_attach(j, err) < 0 ? -EIO : 1;
}

/* A blob already in the store: 0 when it is right (the job is done), 1
 * when it was damaged and dropped (to be downloaded). */
static int check_present(fetch *f, job *j, int64_t have, gk_error **err)
{
        gk_error *e = NULL;
        int r;

        /* The right bytes under a descriptor with the wrong size: the
         * manifest is wrong, as it would be for a download. */
        r = gk_store_verify_blob(f->s, j->b->digest, -1, &e);
        if (r == 0 && j->b->size >= 0 && have != j->b->size)
                return gk_error_plain(err, EBADMSG,
                                      "blob %s: the manifest says %lld bytes, the "
                                      "content has %lld",
                                      j->b->digest, (long long) j->b->size, (long long) have);
        if (r == 0) {
                /* Another process may have written it while we waited. */
                gk_blob_writer_abort(TAKE_PTR(j->w));
                job_done(f, j, j->attempts == 0);
                return 0;
        }
        if (r != -EBADMSG) {
                *err = e;
                return r;
        }
        gk_error_free(e);
        if (gk_store_drop_blob(f->s, j->b->digest, err) < 0 ||
            (!f->r->scheme_known && gk_registry_ping(f->r, err) < 0))
                return gk_error_code_or(err, -EIO);
        set_state(f, j, "Damaged in the store: fetching it again");
        return 1;
}

static int start_job(fetch *f, job *j, gk_error **err)
{
        int64_t have = gk_store_blob_size(f->s, j->b->digest);
        int r;

        if (have >= 0) {
                /* Trusted only once checked (size, then the hash: cheap
                 * next to a download): a damaged copy is fetched again. */
                r = check_present(f, j, have, err);
                if (r <= 0)
                        return r;
        }
        r = open_writer(f, j, err);
        if (r <= 0)
                return r;
        /* bytes left by an earlier pull, or by a mirror tried before this
         * location: a digest mismatch may be theirs */
        if (gk_blob_writer_offset(j->w) > 0)
                j->from_partial = true;
        if (j->b->size >= 0 && gk_blob_writer_offset(j->w) == (uint64_t) j->b->size)
                return finish_blob(f, j, err);
        if (j->b->size >= 0 && gk_blob_writer_offset(j->w) > (uint64_t) j->b->size &&
            writer_restart(j, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* The clock starts with the first byte asked for, not while the
         * blob waits for a slot or for another pull. */
        if (!j->deadline.at)
                gk_http_deadline_start(&j->deadline, j->b->size);
        if (gk_http_deadline_passed(&j->deadline))
                return too_slow(f, j, err);
        j->attempts++;
        j->fruitless++;
        j->start_off = gk_blob_writer_offset(j->w);
        set_state(f, j, gk_blob_writer_offset(j->w) ? "Resuming" : "Downloading");
        return start_transfer(f, j, err);
}

static const char *retry_reason(const job *j, CURLcode rc, long status, char *buf, size_t n)
{
        if (rc == CURLE_OPERATION_TIMEDOUT) {
                char why[200];

                gk_http_timeout_reason(&j->deadline, j->w ? gk_blob_writer_offset(j->w) : 0, why,
                                       sizeof(why));
                snprintf(buf, n, "registry %s %s", j->f->r->domain, why);
                return buf;
        }
        if (rc != CURLE_OK)
                return gk_http_transport_text(rc, j->curl_err, j->f->r->domain, buf, n);
        snprintf(buf, n, "HTTP %ld", status);
        return buf;
}

static int schedule_retry(fetch *f, job *j, const char *reason, gk_error **err)
{
        int64_t wait;

        /* A connection that drops every few MB still gets the blob through
         * Range resumes: only transfers that added nothing count. */
        if (j->w && gk_blob_writer_offset(j->w) > j->start_off)
                j->fruitless = 0;
        if (j->fruitless >= GK_MAX_ATTEMPTS)
                return gk_error_plain(err, EIO, "blob %s: giving up after %d attempts: %s",
                                      j->b->digest, j->fruitless, reason);
        wait = gk_http_backoff_ms(j->fruitless ? j->fruitless : 1, &j->h);
        j->not_before = gk_now_ms() + wait;
        j->state = JOB_PENDING;
        set_state(f, j, "Retrying in %.1fs (%d/%d): %s", (double) wait / 1000, j->fruitless + 1,
                  GK_MAX_ATTEMPTS, reason);
        return 0;
}

static int transfer_failed(fetch *f, job *j, CURLcode rc, long status, gk_error **err)
{
        char buf[512], what[96];

        if (rc == CURLE_OK && status == 401) {
                if (gk_registry_authenticate(f->r, &j->h, false, err) < 0)
                        return -EACCES;
                return schedule_retry(f, j, "token expired", err);
        }
        if (rc == CURLE_OK && status == 416) {
                if (writer_restart(j, err) < 0)
                        return gk_error_code_or(err, -EIO);
                return schedule_retry(f, j, "range not satisfiable", err);
        }
        if (rc == CURLE_OPERATION_TIMEDOUT && gk_http_deadline_passed(&j->deadline))
                return too_slow(f, j, err);
        if (gk_http_retryable(rc, status))
                return schedule_retry(f, j, retry_reason(j, rc, status, buf, sizeof(buf)), err);
        snprintf(what, sizeof(what), "blob %s", j->b->digest);
        if (rc != CURLE_OK)
                return gk_error_plain(err, gk_http_curl_errno(rc), "%s: %s", what,
                                      retry_reason(j, rc, 0, buf, sizeof(buf)));
        return gk_http_status_error(f->r, what, &j->h, j->errbody, j->errlen, err);
}

static int transfer_done(void *ctx, void *job_, CURLcode rc, gk_error **err)
{
        fetch *f = ctx;
        job *j = job_;
        long status = j->h.status;
        uint64_t got;

        if (!status)
                curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &status);
        j->h.status = status;
        job_release(f, j);
        f->running--;
        if (j->werr) {
                /* A full disk: what was written goes, the store stays as it was. */
                gk_blob_writer_abort(TAKE_PTR(j->w));
                *err = TAKE_PTR(j->werr);
                return gk_error_code(*err);
        }
        if (rc != CURLE_OK || (status != 200 && status != 206))
                return transfer_failed(f, j, rc, status, err);
        got = gk_blob_writer_offset(j->w);
        if (j->b->size >= 0 && got < (uint64_t) j->b->size) {
                char reason[96];

                snprintf(reason, sizeof(reason), "truncated at %llu of %lld bytes",
                         (unsigned long long) got, (long long) j->b->size);
                return schedule_retry(f, j, reason, err);
        }
        return finish_blob(f, j, err);
}

/* Starts what may start now; *busy: anything left to do. */
static int schedule(void *ctx, bool *busy, gk_error **err)
{
        fetch *f = ctx;
        int64_t now = gk_now_ms();

        *busy = false;
        for (size_t i = 0; i < f->n; i++) {
                job *j = &f->jobs[i];

                if (j->paused && j->state == JOB_RUNNING && !gk_blob_feed_wait(j->b->feed)) {
                        j->paused = false;
                        if (curl_easy_pause(j->easy, CURLPAUSE_CONT) != CURLE_OK)
                                return gk_error_make(err, EIO, "blob %s: resume the download",
                                                     j->b->digest);
                }

                if (j->state == JOB_PENDING && now >= j->not_before &&
                    f->running < (size_t) f->r->o.parallel && start_job(f, j, err) < 0)
                        return gk_error_wrap(err, "blob %.19s", j->b->digest);
                /* a held download waits for the loop after this one */
                *busy |= j->state != JOB_DONE && !(j->b->feed && j->b->feed->hold);
        }
        return 0;
}

/* How long the loop may sleep: until the next retry or lock check is due
 * (transfers wake it up themselves), at most 200 ms for the progress. */
static int poll_timeout(void *ctx)
{
        const fetch *f = ctx;
        int64_t now = gk_now_ms(), t = 200;

        for (size_t i = 0; i < f->n; i++) {
                const job *j = &f->jobs[i];

                if (j->state == JOB_PENDING && f->running < (size_t) f->r->o.parallel)
                        t = j->not_before - now < t ? j->not_before - now : t;
        }
        return t < 0 ? 0 : (int) t;
}

static const gk_xfer_ops fetch_ops = {
        .schedule = schedule,
        .done = transfer_done,
        .poll_ms = poll_timeout,
};

int gk_fetch_new(gk_registry *r, gk_store *s, gk_blob_fetch *blobs, size_t n, gk_progress *p,
                 CURLM *multi, gk_fetch **out, gk_error **err)
{
        fetch *f = calloc(1, sizeof(*f));

        if (!f || !(f->jobs = calloc(n ? n : 1, sizeof(job)))) {
                free(f);
                return gk_error_make(err, ENOMEM, "fetch");
        }
        f->part = (gk_xfer_part){ .ops = &fetch_ops, .ctx = f };
        f->r = r;
        f->s = s;
        f->p = p;
        f->n = n;
        f->multi = multi;
        for (size_t i = 0; i < n; i++) {
                f->jobs[i] = (job){ .tag = { &f->part, &f->jobs[i] }, .f = f, .b = &blobs[i] };
                f->jobs[i].slot = blobs[i].hidden
                                          ? (size_t) -1
                                          : gk_progress_add(p, blobs[i].digest, blobs[i].size);
        }
        *out = f;
        return 0;
}

const gk_xfer_part *gk_fetch_part(gk_fetch *f)
{
        return &f->part;
}

void gk_fetch_defer_commits(gk_fetch *f)
{
        f->defer_commits = true;
}

int gk_fetch_commit(gk_fetch *f, gk_error **err)
{
        for (size_t i = 0; i < f->n; i++) {
                job *j = &f->jobs[i];

                if (j->state != JOB_DONE || !j->w)
                        continue;
                if (gk_blob_writer_commit(TAKE_PTR(j->w), NULL, err) < 0)
                        return gk_error_code_or(err, -EIO);
                GK_FAULT("pull.after-blob-rename");
        }
        return 0;
}

/* Stops every transfer; partial downloads stay for the next pull. */
void gk_fetch_free(gk_fetch *f)
{
        if (!f)
                return;
        for (size_t i = 0; i < f->n; i++) {
                job *j = &f->jobs[i];

                job_release(f, j);
                gk_http_headers_clear(&j->h);
                gk_blob_writer_suspend(TAKE_PTR(j->w));
                gk_error_free(j->werr);
                free(j->url);
        }
        free(f->jobs);
        free(f);
}

int gk_fetch_settle(gk_registry *r, gk_store *s, const gk_blob_fetch *blobs, size_t n,
                    gk_error **err)
{
        for (size_t i = 0; i < n && !r->scheme_known; i++)
                if (!gk_store_has_blob(s, blobs[i].digest) && gk_registry_ping(r, err) < 0)
                        return gk_error_code_or(err, -EIO);
        return 0;
}

int gk_registry_fetch_blobs(gk_registry *r, gk_store *s, gk_blob_fetch *blobs, size_t n,
                            gk_progress *p, gk_error **err)
{
        gk_fetch *f = NULL;
        CURLM *multi;
        int rr;

        if (gk_fetch_settle(r, s, blobs, n, err) < 0)
                return gk_error_code_or(err, -EIO);
        multi = gk_xfer_multi(r->o.parallel, true, err);
        if (!multi)
                return -ENOMEM;
        rr = gk_fetch_new(r, s, blobs, n, p, multi, &f, err);
        if (rr == 0)
                rr = gk_xfer_run(multi, p, gk_fetch_part(f), 1, err);
        gk_fetch_free(f);
        gk_progress_tick(p, 1);
        curl_multi_cleanup(multi);
        return rr;
}
