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

int gk_xfer_add(CURLM *multi, CURL *easy, const gk_xfer_tag *tag, char errbuf[CURL_ERROR_SIZE],
                curl_xferinfo_callback xferinfo, gk_error **err)
{
        curl_easy_setopt(easy, CURLOPT_PRIVATE, tag);
        errbuf[0] = '\0';
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, xferinfo);
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, tag->job);
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

/* Hands finished transfers to their part's done; returns how many. */
static int drain(CURLM *multi, gk_error **err)
{
        CURLMsg *m;
        int left, n = 0;

        while ((m = curl_multi_info_read(multi, &left))) {
                const gk_xfer_tag *t = NULL;

                if (m->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                if (t->part->ops->done(t->part->ctx, t->job, m->data.result, err) < 0)
                        return gk_error_code_or(err, -EIO);
                n++;
        }
        return n;
}

/* The shortest sleep any part asks for (100 ms when none does). */
static int poll_ms(const gk_xfer_part *parts, size_t n)
{
        int ms = 100;

        for (size_t i = 0; i < n; i++)
                if (parts[i].ops->poll_ms) {
                        int v = parts[i].ops->poll_ms(parts[i].ctx);

                        ms = v < ms ? v : ms;
                }
        return ms;
}

int gk_xfer_run(CURLM *multi, gk_progress *p, const gk_xfer_part *parts, size_t n, gk_error **err)
{
        for (;;) {
                bool busy = false;
                int still = 0, done;

                for (size_t i = 0; i < n; i++) {
                        bool b = false;

                        if (parts[i].ops->schedule(parts[i].ctx, &b, err) < 0)
                                return gk_error_code_or(err, -EIO);
                        busy |= b;
                }
                if (!busy)
                        return 0;
                curl_multi_perform(multi, &still);
                done = drain(multi, err);
                if (done < 0)
                        return done;
                gk_progress_tick(p, 0);
                /* Something finished: start the next before sleeping. */
                if (!done)
                        curl_multi_poll(multi, NULL, 0, poll_ms(parts, n), NULL);
        }
}
