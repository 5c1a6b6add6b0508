/* See xfer.h. */
#include <errno.h>

#include "xfer.h"

CURLM *gk_xfer_multi(long parallel, bool multiplex, gk_error **err)
{
        CURLM *m = curl_multi_init();

        if (!m) {
                gk_error_make(err, ENOMEM, "curl multi");
                return NULL;
        }
        if (multiplex)
                curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, parallel);
        return m;
}

int gk_xfer_add(CURLM *multi, CURL *easy, void *job, char errbuf[CURL_ERROR_SIZE],
                curl_xferinfo_callback xferinfo, gk_error **err)
{
        curl_easy_setopt(easy, CURLOPT_PRIVATE, job);
        errbuf[0] = '\0';
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, xferinfo);
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, job);
        if (curl_multi_add_handle(multi, easy) != CURLM_OK)
                return gk_error_make(err, ENOMEM, "curl multi");
        return 0;
}

void gk_xfer_remove(CURLM *multi, CURL **easy, struct curl_slist **hdrs)
{
        if (*easy) {
                curl_multi_remove_handle(multi, *easy);
                curl_easy_cleanup(*easy);
                *easy = NULL;
        }
        curl_slist_free_all(*hdrs);
        *hdrs = NULL;
}

/* Hands finished transfers to OPS->done; returns how many. */
static int drain(CURLM *multi, const gk_xfer_ops *ops, void *ctx, gk_error **err)
{
        CURLMsg *m;
        int left, n = 0;

        while ((m = curl_multi_info_read(multi, &left))) {
                void *job = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &job);
                if (ops->done(ctx, job, m->data.result, err) < 0)
                        return gk_error_code_or(err, -EIO);
                n++;
        }
        return n;
}

int gk_xfer_run(CURLM *multi, gk_progress *p, const gk_xfer_ops *ops, void *ctx, gk_error **err)
{
        for (;;) {
                bool busy;
                int still = 0, done;

                if (ops->schedule(ctx, &busy, err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (!busy)
                        return 0;
                curl_multi_perform(multi, &still);
                done = drain(multi, ops, ctx, err);
                if (done < 0)
                        return done;
                gk_progress_tick(p, 0);
                /* Something finished: start the next before sleeping. */
                if (!done)
                        curl_multi_poll(multi, NULL, 0, ops->poll_ms ? ops->poll_ms(ctx) : 100,
                                        NULL);
        }
}
