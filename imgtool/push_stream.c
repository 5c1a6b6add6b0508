/* gkimg copy between registries: the source's blobs download into the
 * store while the same bytes go up to the destination (see
 * push_session.h), both sides on one curl loop.  Each upload reads the
 * download's file as it grows (feed.h) and is held one byte short of the
 * end until the download has checked the digest; the store still gets
 * every blob, verified, as a pull's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "gk/cleanup.h"
#include "push_session.h"
#include "registry_internal.h"
#include "xfer.h"

typedef struct stream {
        gk_blob_fetch *b;
        size_t n;
        gk_blob_feed *feeds;
        gk_blob_push *up;
        size_t n_up;
        CURLM *multi;
        gk_fetch *fetch;
        gk_upload *upload;
} stream;

static void stream_clear(stream *st)
{
        gk_fetch_free(st->fetch);
        gk_upload_free(st->upload);
        if (st->multi)
                curl_multi_cleanup(st->multi);
        for (size_t i = 0; st->feeds && i < st->n; i++) {
                if (st->feeds[i].fd >= 0)
                        close(st->feeds[i].fd);
                st->b[i].feed = NULL;
        }
        free(st->feeds);
        free(st->up);
}

/* The uploads: every blob not sent in an earlier try (another location
 * of registries.conf's), each fed by its download. */
static int plan(gk_push_session *ps, stream *st, gk_error **err)
{
        st->feeds = calloc(st->n + 1, sizeof(*st->feeds));
        st->up = calloc(st->n + 1, sizeof(*st->up));
        if (!st->feeds || !st->up)
                return gk_error_make(err, ENOMEM, "copy");
        for (size_t i = 0; i < st->n; i++) {
                st->feeds[i] = (gk_blob_feed){ .fd = -1 };
                st->b[i].feed = &st->feeds[i];
                if (gk_push_session_sent(ps, st->b[i].digest))
                        continue;
                st->up[st->n_up++] = (gk_blob_push){ .digest = st->b[i].digest,
                                                     .size = st->b[i].size,
                                                     .hidden = st->b[i].hidden,
                                                     .mount_from = ps->mount_from,
                                                     .feed = &st->feeds[i] };
                /* one line a blob: the upload's, which ends last */
                st->b[i].hidden = true;
        }
        return 0;
}

static int remember(gk_push_session *ps, const stream *st, gk_error **err)
{
        gk_push_sent *v = realloc(ps->sent, (ps->n_sent + st->n_up + 1) * sizeof(*v));

        if (!v)
                return gk_error_make(err, ENOMEM, "copy");
        ps->sent = v;
        for (size_t i = 0; i < st->n_up; i++) {
                char *d = strdup(st->up[i].digest);

                if (!d)
                        return gk_error_make(err, ENOMEM, "copy");
                ps->sent[ps->n_sent++] = (gk_push_sent){ .digest = d,
                                                         .how = st->up[i].how,
                                                         .bytes = st->up[i].sent };
        }
        return 0;
}

/* Sizes come from the manifest; without one an upload cannot begin
 * before the download ends: the plain fetch, the push sends them after. */
static bool sizes_known(const gk_blob_fetch *b, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (b[i].size < 0)
                        return false;
        return n > 0;
}

int gk_push_session_stream(void *session, gk_registry *r, gk_store *s, gk_blob_fetch *blobs,
                           size_t n, gk_progress *p, gk_error **err)
{
        gk_push_session *ps = session;
        _cleanup_(stream_clear) stream st = { .b = blobs, .n = n };
        _cleanup_free_ char *repo = NULL;
        gk_xfer_part parts[2];
        long parallel;
        int rr;

        if (!sizes_known(blobs, n))
                return gk_registry_fetch_blobs(r, s, blobs, n, p, err);
        if (plan(ps, &st, err) < 0 || gk_fetch_settle(r, s, blobs, n, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (!ps->announced && (repo = gk_reference_name(&ps->dest)))
                gk_progress_line(p, "The push refers to repository [%s]", repo);
        ps->announced = true;
        if (st.n_up && gk_push_session_open(ps, st.up[0].digest, err) < 0) {
                ps->dest_failed = true;
                return gk_error_code_or(err, -EIO);
        }
        parallel = r->o.parallel;
        if (ps->reg && ps->reg->o.parallel > parallel)
                parallel = ps->reg->o.parallel;
        if (!(st.multi = gk_xfer_multi(parallel, true, err)) ||
            gk_fetch_new(r, s, blobs, n, p, st.multi, &st.fetch, err) < 0 ||
            gk_upload_new(ps->reg, s, st.up, st.n_up, p, st.multi, &st.upload, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        parts[0] = *gk_fetch_part(st.fetch);
        parts[1] = *gk_upload_part(st.upload);
        gk_fetch_defer_commits(st.fetch);
        /* Sessions first, while the source gets to its first bytes: a
         * download at full speed would slow the requests that open them,
         * and the destination's intake is what the copy waits for. */
        for (size_t i = 0; i < n; i++)
                st.feeds[i].hold = st.n_up > 0;
        gk_upload_until_bodies(st.upload, true);
        rr = gk_xfer_run(st.multi, p, parts, 2, err);
        gk_upload_until_bodies(st.upload, false);
        for (size_t i = 0; i < n; i++)
                st.feeds[i].hold = false;
        if (rr == 0)
                rr = gk_xfer_run(st.multi, p, parts, 2, err);
        gk_progress_tick(p, 1);
        ps->dest_failed = rr < 0 && gk_upload_failed(st.upload);
        if (rr == 0)
                rr = gk_fetch_commit(st.fetch, err);
        if (rr < 0)
                return rr;
        return remember(ps, &st, err);
}
