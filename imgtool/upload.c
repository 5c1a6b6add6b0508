/* Parallel blob uploads (see upload.h): one job per blob, each a small
 * state machine of requests on a curl multi handle.  A blob with a feed
 * (feed.h) is sent while it downloads: its body pauses when it catches up
 * with what has landed, and a download that starts over starts the upload
 * over. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "http_parse.h"
#include "registry_internal.h"
#include "upload.h"
#include "xfer.h"

#define DEFAULT_CHUNK (64ULL << 20)

typedef enum step {
        STEP_HEAD,   /* does the registry have it? */
        STEP_MOUNT,  /* POST ?mount=&from= */
        STEP_START,  /* POST: a new session */
        STEP_SEND,   /* PUT the whole blob, or PATCH the next chunk */
        STEP_FINISH, /* PUT ?digest= with no body after the chunks */
        STEP_STATUS, /* GET the session: where did it stop? */
        STEP_DONE,
} step;

typedef struct gk_upload upload;

typedef struct job {
        gk_xfer_tag tag;
        upload *u;
        gk_blob_push *b;
        size_t slot;
        step step;
        bool running, mount_tried;
        bool started;       /* holds one of the PARALLEL slots */
        bool paused;        /* the body waits for the feed */
        unsigned epoch;     /* the feed's, when FD was taken from it */
        int fruitless;      /* failed requests since the last progress */
        int64_t not_before; /* ms: retry backoff */
        gk_http_deadline deadline;
        char *location;                        /* the session's URL, absolute */
        uint64_t offset;                       /* bytes the session holds */
        uint64_t body_off, body_len, body_pos; /* the request body: a range of the blob */
        bool whole;                            /* this SEND is a monolithic PUT */
        bool resumed;                          /* the session was asked where it stands */
        int fd;
        CURL *easy;
        struct curl_slist *hdrs;
        gk_http_headers h;
        char errbody[2048];
        size_t errlen;
        char curl_err[CURL_ERROR_SIZE];
        char *url;
} job;

struct gk_upload {
        gk_xfer_part part;
        gk_registry *r;
        gk_store *s;
        gk_progress *p;
        CURLM *multi;
        job *jobs;
        size_t n, running;
        uint64_t chunk;
        bool until_bodies; /* done when every body waits for its feed */
        bool failed;       /* a callback returned an error */
};

static uint64_t chunk_size(void)
{
        const char *e = getenv("GKIMG_PUSH_CHUNK");
        uint64_t v;

        return e && gk_parse_u64(e, &v) && v >= 1024 ? v : DEFAULT_CHUNK;
}

static void set_state(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_state(job *j, const char *fmt, ...)
{
        char buf[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        gk_progress_state(j->u->p, j->slot, buf);
}

static void job_release(upload *u, job *j)
{
        gk_xfer_remove(u->multi, &j->easy, &j->hdrs);
        free(j->url);
        j->url = NULL;
        if (j->running) {
                j->running = false;
                u->running--;
        }
}

/* How many bytes of the body may be read now (all but a fed blob's
 * tail that has not landed). */
static uint64_t body_readable(const job *j)
{
        uint64_t at = j->body_off + j->body_pos, upto;
        const gk_blob_feed *f = j->b->feed;

        if (!f)
                return j->body_len - j->body_pos;
        if (f->epoch != j->epoch)
                return 0;
        upto = gk_blob_feed_readable(f, (uint64_t) j->b->size);
        upto = upto < j->body_off + j->body_len ? upto : j->body_off + j->body_len;
        return upto > at ? upto - at : 0;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *userdata)
{
        job *j = userdata;
        uint64_t left = body_readable(j);
        size_t want = size * n < left ? size * n : (size_t) left;
        ssize_t got;

        if (!want && j->body_pos < j->body_len) {
                /* schedule() goes on when more has landed */
                j->paused = true;
                return CURL_READFUNC_PAUSE;
        }
        if (!want)
                return 0;
        got = pread(j->fd, buf, want, (off_t) (j->body_off + j->body_pos));
        if (got <= 0)
                return CURL_READFUNC_ABORT;
        j->body_pos += (uint64_t) got;
        if (j->b->feed && j->b->feed->taken < j->body_off + j->body_pos)
                j->b->feed->taken = j->body_off + j->body_pos;
        return (size_t) got;
}

/* A redirect (or curl's own retry) sends the body again from the start. */
static int seek_cb(void *userdata, curl_off_t offset, int origin)
{
        job *j = userdata;

        if (origin != SEEK_SET || offset < 0 || (uint64_t) offset > j->body_len ||
            (j->b->feed && j->b->feed->epoch != j->epoch))
                return CURL_SEEKFUNC_CANTSEEK;
        j->body_pos = (uint64_t) offset;
        return CURL_SEEKFUNC_OK;
}

static size_t write_cb(char *ptr, size_t size, size_t n, void *userdata)
{
        job *j = userdata;
        size_t len = size * n, room = sizeof(j->errbody) - 1 - j->errlen;
        size_t k = len < room ? len : room;

        memcpy(j->errbody + j->errlen, ptr, k);
        j->errlen += k;
        j->errbody[j->errlen] = '\0';
        return len;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        job *j = userdata;

        if (j->step == STEP_SEND && ulnow > 0)
                gk_progress_bytes(j->u->p, j->slot, j->body_off + (uint64_t) ulnow, j->b->size);
        return 0;
}

/* LOCATION of an answer, made absolute against the registry. */
static int set_location(job *j, const char *loc, gk_error **err)
{
        char *abs = NULL;

        if (!loc || !*loc)
                return gk_error_make(err, 0, "blob %s: registry %s answered without a Location",
                                     j->b->digest, j->u->r->domain);
        if (loc[0] == '/' ? asprintf(&abs, "%s%s", j->u->r->base, loc) < 0 : !(abs = strdup(loc)))
                return gk_error_make(err, ENOMEM, "push");
        free(j->location);
        j->location = abs;
        return 0;
}

static int step_url(job *j, gk_error **err)
{
        gk_registry *r = j->u->r;
        const char *sep = j->location && strchr(j->location, '?') ? "&" : "?";
        int n = 0;

        switch (j->step) {
        case STEP_HEAD:
                n = asprintf(&j->url, "%s/v2/%s/blobs/%s", r->base, r->path, j->b->digest);
                break;
        case STEP_MOUNT:
                n = asprintf(&j->url, "%s/v2/%s/blobs/uploads/?mount=%s&from=%s", r->base, r->path,
                             j->b->digest, j->b->mount_from);
                break;
        case STEP_START:
                n = asprintf(&j->url, "%s/v2/%s/blobs/uploads/", r->base, r->path);
                break;
        case STEP_SEND:
                n = j->whole ? asprintf(&j->url, "%s%sdigest=%s", j->location, sep, j->b->digest)
                             : asprintf(&j->url, "%s", j->location);
                break;
        case STEP_FINISH:
                n = asprintf(&j->url, "%s%sdigest=%s", j->location, sep, j->b->digest);
                break;
        case STEP_STATUS:
                n = asprintf(&j->url, "%s", j->location);
                break;
        case STEP_DONE:
                break;
        }
        return n < 0 ? gk_error_make(err, ENOMEM, "push") : 0;
}

/* The method and body of the job's step. */
static void set_method(job *j, CURL *c)
{
        char range[96];

        j->body_len = j->body_pos = 0;
        switch (j->step) {
        case STEP_HEAD:
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
                return;
        case STEP_MOUNT:
        case STEP_START:
                curl_easy_setopt(c, CURLOPT_POST, 1L);
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) 0);
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
                return;
        case STEP_SEND: {
                uint64_t left = (uint64_t) j->b->size - j->offset;

                j->body_off = j->offset;
                j->body_len = j->whole || left < j->u->chunk ? left : j->u->chunk;
                curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) j->body_len);
                /* 64 kB reads by default: a few per MB is enough */
                curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
                /* On a reused connection that dies, libcurl sends the
                 * request again by itself, from byte 0, into a session
                 * that may hold part of it: a body goes on a connection of
                 * its own, so a drop comes back to us and the session is
                 * asked where it stands. */
                curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
                j->hdrs = curl_slist_append(j->hdrs, "Content-Type: application/octet-stream");
                if (!j->whole) {
                        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
                        /* distribution's form: first-last, no unit */
                        snprintf(range, sizeof(range), "Content-Range: %llu-%llu",
                                 (unsigned long long) j->body_off,
                                 (unsigned long long) (j->body_off + j->body_len - 1));
                        j->hdrs = curl_slist_append(j->hdrs, range);
                }
                return;
        }
        case STEP_FINISH:
                curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t) 0);
                return;
        case STEP_STATUS:
        case STEP_DONE:
                return;
        }
}

static int start_request(upload *u, job *j, gk_error **err)
{
        gk_http_headers_clear(&j->h);
        j->errlen = 0;
        j->errbody[0] = '\0';
        if (step_url(j, err) < 0)
                return -ENOMEM;
        if (gk_registry_auth_headers(u->r, "Expect:", &j->hdrs, err) < 0)
                return -EACCES;
        j->easy = gk_http_easy(u->r, j->url, &j->h, err);
        if (!j->easy)
                return -ENOMEM;
        set_method(j, j->easy);
        gk_http_deadline_arm(&j->deadline, j->easy);
        curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
        curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
        curl_easy_setopt(j->easy, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(j->easy, CURLOPT_SEEKDATA, j);
        curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
        if (gk_xfer_add(u->multi, j->easy, &j->tag, j->curl_err, xferinfo_cb, err) < 0)
                return -ENOMEM;
        j->running = true;
        u->running++;
        return 0;
}

/* The file the body is read from: the store's blob, or the feed's
 * download (its epoch noted). */
static int open_body(upload *u, job *j, gk_error **err)
{
        gk_blob_feed *f = j->b->feed;

        if (f && f->fd >= 0) {
                f->paced = true;
                j->fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 3);
                j->epoch = f->epoch;
                return j->fd < 0 ? gk_error_errno(err, "blob %s: read the download", j->b->digest)
                                 : 0;
        }
        if (f)
                j->epoch = f->epoch;
        j->fd = gk_store_open_blob(u->s, j->b->digest, err);
        return j->fd < 0 ? gk_error_code_or(err, -EIO) : 0;
}

static int start_job(upload *u, job *j, gk_error **err)
{
        if (j->step == STEP_SEND && j->offset == 0 && !j->deadline.at)
                gk_http_deadline_start(&j->deadline, j->b->size);
        if (j->deadline.at && gk_http_deadline_passed(&j->deadline)) {
                char why[256];

                gk_http_timeout_reason(&j->deadline, j->offset, why, sizeof(why));
                return gk_error_plain(err, ETIMEDOUT, "blob %s: registry %s %s", j->b->digest,
                                      u->r->domain, why);
        }
        j->started = true;
        if (j->step == STEP_SEND && j->fd < 0 && open_body(u, j, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (j->step == STEP_SEND) {
                j->whole = j->offset == 0 && (uint64_t) j->b->size <= u->chunk;
                if (j->resumed || !j->offset)
                        set_state(j, j->resumed ? "Resuming at byte %llu" : "Pushing",
                                  (unsigned long long) j->offset);
                j->resumed = false;
        }
        return start_request(u, j, err);
}

static void job_done(job *j, gk_push_how how)
{
        j->step = STEP_DONE;
        if (j->b->feed)
                j->b->feed->paced = false; /* nobody reads it now */
        j->b->how = how;
        if (how == GK_PUSH_EXISTED)
                set_state(j, "Layer already exists");
        else if (how == GK_PUSH_MOUNTED)
                set_state(j, "Mounted from %s", j->b->mount_from);
        else
                set_state(j, "Pushed");
}

static const char *step_name(step s)
{
        static const char *const names[] = { "HEAD",   "mount",         "upload start",
                                             "upload", "upload finish", "upload status",
                                             "" };

        return names[s];
}

static int retry(upload *u, job *j, step next, const char *reason, gk_error **err)
{
        int64_t wait;

        if (++j->fruitless >= GK_MAX_ATTEMPTS)
                return gk_error_plain(err, EIO,
                                      "blob %s: registry %s: giving up after %d attempts: %s",
                                      j->b->digest, u->r->domain, j->fruitless, reason);
        wait = gk_http_backoff_ms(j->fruitless, &j->h);
        j->not_before = gk_now_ms() + wait;
        j->step = next;
        set_state(j, "Retrying in %.1fs (%d/%d): %s", (double) wait / 1000, j->fruitless + 1,
                  GK_MAX_ATTEMPTS, reason);
        return 0;
}

/* A request that did not get the answer its step expects. */
static int request_failed(upload *u, job *j, CURLcode rc, long st, gk_error **err)
{
        bool mid_body = j->step == STEP_SEND || j->step == STEP_FINISH;
        char buf[512], what[160];

        if (rc == CURLE_OK && st == 401) {
                if (gk_registry_authenticate(u->r, &j->h, j->fruitless > 0, err) < 0)
                        return gk_error_wrap(err, "blob %s", j->b->digest);
                return retry(u, j, j->step, "token expired", err);
        }
        /* The session is gone: it may have completed with a request
         * whose answer was lost (or libcurl sent again on a new
         * connection), or been dropped.  Does the registry have the blob
         * now?  If not, a new session starts from zero. */
        if (rc == CURLE_OK && (mid_body || j->step == STEP_STATUS) &&
            (st == 404 || (j->step == STEP_STATUS && (st == 400 || st == 416)))) {
                j->offset = 0;
                return retry(u, j, STEP_HEAD, "the upload session is gone", err);
        }
        if (rc == CURLE_OK && mid_body && st == 416)
                return retry(u, j, STEP_STATUS, "range not accepted", err);
        if (gk_http_retryable(rc, st)) {
                const char *why = rc != CURLE_OK
                                          ? gk_http_transport_text(rc, j->curl_err, u->r->domain,
                                                                   buf, sizeof(buf))
                                          : (snprintf(buf, sizeof(buf), "HTTP %ld", st), buf);

                return retry(u, j, mid_body ? STEP_STATUS : j->step, why, err);
        }
        snprintf(what, sizeof(what), "blob %s: %s", j->b->digest, step_name(j->step));
        if (rc != CURLE_OK)
                return gk_error_plain(err, gk_http_curl_errno(rc), "%s: registry %s: %s", what,
                                      u->r->domain,
                                      gk_http_transport_text(rc, j->curl_err, u->r->domain, buf,
                                                             sizeof(buf)));
        return gk_http_status_error(u->r, what, &j->h, j->errbody, j->errlen, err);
}

/* Where the session stands after a 202 (PATCH) or 204 (status). */
static int take_range(job *j, uint64_t fallback, gk_error **err)
{
        uint64_t next;

        if (!j->h.range) {
                j->offset = fallback;
                return 0;
        }
        if (!gk_upload_range_next(j->h.range, &next) || next > (uint64_t) j->b->size)
                return gk_error_make(err, 0, "blob %s: registry %s: bad upload Range `%s`",
                                     j->b->digest, j->u->r->domain, j->h.range);
        if (next > j->offset || j->step == STEP_STATUS)
                j->fruitless = 0;
        j->offset = next;
        return 0;
}

static int after_send(job *j, gk_error **err)
{
        if (take_range(j, j->body_off + j->body_len, err) < 0 ||
            set_location(j, j->h.location ? j->h.location : j->location, err) < 0)
                return gk_error_code_or(err, -EPROTO);
        j->b->sent += j->body_len;
        j->step = j->offset >= (uint64_t) j->b->size ? STEP_FINISH : STEP_SEND;
        return 0;
}

/* The answer to the job's request: on to the next step. */
static int advance(upload *u, job *j, long st, gk_error **err)
{
        switch (j->step) {
        case STEP_HEAD:
                if (st == 200) {
                        job_done(j, GK_PUSH_EXISTED);
                        return 0;
                }
                if (st != 404)
                        return 1;
                j->step = j->b->mount_from && !j->mount_tried ? STEP_MOUNT : STEP_START;
                return 0;
        case STEP_MOUNT:
                j->mount_tried = true;
                if (st == 201) {
                        job_done(j, GK_PUSH_MOUNTED);
                        return 0;
                }
                /* 202: no mount, but a session to upload into. */
                if (st != 202)
                        return 1;
                j->offset = 0;
                j->step = STEP_SEND;
                return set_location(j, j->h.location, err);
        case STEP_START:
                if (st != 202)
                        return 1;
                j->offset = 0;
                j->step = STEP_SEND;
                return set_location(j, j->h.location, err);
        case STEP_SEND:
                if (j->whole && st == 201) {
                        j->b->sent += j->body_len;
                        job_done(j, GK_PUSH_UPLOADED);
                        return 0;
                }
                if (j->whole || st != 202)
                        return 1;
                j->fruitless = 0;
                return after_send(j, err);
        case STEP_FINISH:
                if (st != 201)
                        return 1;
                job_done(j, GK_PUSH_UPLOADED);
                return 0;
        case STEP_STATUS:
                if (st != 204 && st != 200)
                        return 1;
                if (take_range(j, 0, err) < 0 ||
                    set_location(j, j->h.location ? j->h.location : j->location, err) < 0)
                        return gk_error_code_or(err, -EPROTO);
                j->resumed = true;
                j->step = j->offset >= (uint64_t) j->b->size ? STEP_FINISH : STEP_SEND;
                return 0;
        case STEP_DONE:
                return 0;
        }
        return 1;
}

static int request_done(void *ctx, void *job_, CURLcode rc, gk_error **err)
{
        upload *u = ctx;
        job *j = job_;
        long st = 0;
        int r;

        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &st);
        j->h.status = st;
        job_release(u, j);
        if (rc != CURLE_OK)
                return request_failed(u, j, rc, st, err);
        r = advance(u, j, st, err);
        if (r < 0)
                return r;
        return r > 0 ? request_failed(u, j, rc, st, err) : 0;
}

/* A fed job whose download started its file over: the bytes sent are
 * void, a new session begins (the registry drops the old one); one
 * paused for bytes that have landed now goes on. */
static int follow_feed(upload *u, job *j, gk_error **err)
{
        const gk_blob_feed *f = j->b->feed;

        if (j->fd >= 0 && f->epoch != j->epoch && j->step != STEP_DONE) {
                job_release(u, j);
                close(j->fd);
                j->fd = -1;
                j->paused = false;
                j->offset = 0;
                j->b->sent = 0;
                j->b->feed->taken = 0;
                j->step = STEP_START;
                free(j->location);
                j->location = NULL;
                set_state(j, "Starting over: the download did");
                return 0;
        }
        if (j->paused && j->running && body_readable(j) > 0) {
                j->paused = false;
                if (curl_easy_pause(j->easy, CURLPAUSE_CONT) != CURLE_OK)
                        return gk_error_make(err, EIO, "blob %s: resume the upload", j->b->digest);
        }
        return 0;
}

/* A body to send, but nothing of the blob has landed yet (or may yet:
 * the feed is held). */
static bool waits_for_feed(const job *j)
{
        const gk_blob_feed *f = j->b->feed;

        return f && j->step == STEP_SEND && !j->running && !f->verified &&
               (f->hold || (j->fd < 0 && f->fd < 0));
}

/* Starts what may start now; *busy: anything left to do.  A job keeps
 * its slot between steps, so PARALLEL bounds the blobs in flight. */
static int schedule(void *ctx, bool *busy, gk_error **err)
{
        upload *u = ctx;
        int64_t now = gk_now_ms();
        size_t active = 0;

        *busy = false;
        for (size_t i = 0; i < u->n; i++)
                active += u->jobs[i].step != STEP_DONE && u->jobs[i].started;
        for (size_t i = 0; i < u->n; i++) {
                job *j = &u->jobs[i];
                bool started = j->started;

                /* until_bodies: a job that waits for its feed, or for a
                 * slot that such a job holds, is not waited for */
                *busy |= j->step != STEP_DONE &&
                         !(u->until_bodies && (waits_for_feed(j) ||
                                               (!started && active >= (size_t) u->r->o.parallel)));
                if (j->b->feed && follow_feed(u, j, err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (j->step == STEP_DONE || j->running || now < j->not_before ||
                    (!started && active >= (size_t) u->r->o.parallel) || waits_for_feed(j))
                        continue;
                if (start_job(u, j, err) < 0)
                        return gk_error_code_or(err, -EIO);
                active += !started;
        }
        return 0;
}

/* The loop's entry points, noting a failure (gk_upload_failed). */
static int upload_schedule(void *ctx, bool *busy, gk_error **err)
{
        int r = schedule(ctx, busy, err);

        ((upload *) ctx)->failed |= r < 0;
        return r;
}

static int upload_done(void *ctx, void *j, CURLcode rc, gk_error **err)
{
        int r = request_done(ctx, j, rc, err);

        ((upload *) ctx)->failed |= r < 0;
        return r;
}

static const gk_xfer_ops upload_ops = {
        .schedule = upload_schedule,
        .done = upload_done,
};

int gk_upload_new(gk_registry *r, gk_store *s, gk_blob_push *blobs, size_t n, gk_progress *p,
                  CURLM *multi, gk_upload **out, gk_error **err)
{
        upload *u = calloc(1, sizeof(*u));

        if (!u || !(u->jobs = calloc(n ? n : 1, sizeof(job)))) {
                free(u);
                return gk_error_make(err, ENOMEM, "push");
        }
        u->part = (gk_xfer_part){ .ops = &upload_ops, .ctx = u };
        u->r = r;
        u->s = s;
        u->p = p;
        u->n = n;
        u->multi = multi;
        u->chunk = chunk_size();
        for (size_t i = 0; i < n; i++) {
                u->jobs[i] = (job){
                        .tag = { &u->part, &u->jobs[i] }, .u = u, .b = &blobs[i], .fd = -1
                };
                u->jobs[i].slot = blobs[i].hidden
                                          ? (size_t) -1
                                          : gk_progress_add(p, blobs[i].digest, blobs[i].size);
                set_state(&u->jobs[i], "Preparing");
        }
        *out = u;
        return 0;
}

const gk_xfer_part *gk_upload_part(gk_upload *u)
{
        return &u->part;
}

void gk_upload_until_bodies(gk_upload *u, bool on)
{
        u->until_bodies = on;
}

bool gk_upload_failed(const gk_upload *u)
{
        return u->failed;
}

void gk_upload_free(gk_upload *u)
{
        if (!u)
                return;
        for (size_t i = 0; i < u->n; i++) {
                job *j = &u->jobs[i];

                job_release(u, j);
                gk_http_headers_clear(&j->h);
                free(j->location);
                if (j->fd >= 0)
                        close(j->fd);
        }
        free(u->jobs);
        free(u);
}

int gk_registry_push_blobs(gk_registry *r, gk_store *s, gk_blob_push *blobs, size_t n,
                           gk_progress *p, gk_error **err)
{
        gk_upload *u = NULL;
        CURLM *multi = gk_xfer_multi(r->o.parallel, false, err);
        int rr;

        if (!multi)
                return -ENOMEM;
        rr = gk_upload_new(r, s, blobs, n, p, multi, &u, err);
        if (rr == 0)
                rr = gk_xfer_run(multi, p, gk_upload_part(u), 1, err);
        gk_upload_free(u);
        gk_progress_tick(p, 1);
        curl_multi_cleanup(multi);
        return rr;
}

int gk_registry_has_blob(gk_registry *r, const char *digest, bool *has, gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        _cleanup_free_ char *path = NULL, *what = NULL;
        gk_call k = { .method = "HEAD" };

        if (asprintf(&path, "/v2/%s/blobs/%s", r->path, digest) < 0 ||
            asprintf(&what, "blob %s", digest) < 0)
                return gk_error_make(err, ENOMEM, "push");
        k.path = path;
        if (gk_registry_call(r, &k, &h, NULL, NULL, err) < 0)
                return gk_error_wrap(err, "%s", what);
        if (h.status != 200 && h.status != 404)
                return gk_http_status_error(r, what, &h, NULL, 0, err);
        *has = h.status == 200;
        return 0;
}

int gk_registry_put_manifest(gk_registry *r, const char *ref, const char *media_type,
                             const char *body, size_t len, gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        _cleanup_free_ char *path = NULL, *what = NULL, *ct = NULL, *answer = NULL;
        gk_call k = { .method = "PUT", .body = body, .body_len = len };
        char want[GK_SHA256_BUF];
        size_t alen = 0;

        if (asprintf(&path, "/v2/%s/manifests/%s", r->path, ref) < 0 ||
            asprintf(&what, "manifest `%s`", ref) < 0 ||
            asprintf(&ct, "Content-Type: %s", media_type) < 0)
                return gk_error_make(err, ENOMEM, "push");
        k.path = path;
        k.headers[0] = ct;
        if (gk_registry_call(r, &k, &h, &answer, &alen, err) < 0)
                return gk_error_wrap(err, "%s", what);
        if (h.status != 201 && h.status != 200)
                return gk_http_status_error(r, what, &h, answer, alen, err);
        gk_digest_buf(body, len, want);
        if (h.digest && strcmp(h.digest, want))
                return gk_error_plain(err, EPROTO,
                                      "%s: registry %s stored it as %s, not %s: it changed the "
                                      "manifest",
                                      what, r->domain, h.digest, want);
        return 0;
}
