/* The event loop of gkimg's parallel blob transfers on one curl multi
 * handle, shared by the downloads of a pull (fetch.c) and the uploads of a
 * push (upload.c): each keeps its own jobs and decides what a finished
 * transfer means; this file only starts, waits and hands transfers back.
 * One loop may drive several parts at once (a copy between registries
 * uploads a blob while it downloads: push_stream.c): each transfer's tag
 * says whose it is. */
#ifndef GK_IMGTOOL_XFER_H
#define GK_IMGTOOL_XFER_H

#include <curl/curl.h>
#include <stdbool.h>

#include "gk/error.h"
#include "progress.h"

typedef struct gk_xfer_ops {
        /* Starts the transfers that may start now; *busy: anything left to do. */
        int (*schedule)(void *ctx, bool *busy, gk_error **err);
        /* The transfer of JOB (its CURLOPT_PRIVATE) ended with RC. */
        int (*done)(void *ctx, void *job, CURLcode rc, gk_error **err);
        /* How long to sleep when nothing finished (ms); NULL: 100. */
        int (*poll_ms)(void *ctx);
} gk_xfer_ops;

/* One party of a loop: its operations and their context. */
typedef struct gk_xfer_part {
        const gk_xfer_ops *ops;
        void *ctx;
} gk_xfer_part;

/* What a transfer's CURLOPT_PRIVATE points at: the part that started it
 * and the job it is for (handed to PART->ops->done). */
typedef struct gk_xfer_tag {
        const gk_xfer_part *part;
        void *job;
} gk_xfer_tag;

/* A multi handle of at most PARALLEL connections to a host; MULTIPLEX:
 * HTTP/2 streams share them. */
CURLM *gk_xfer_multi(long parallel, bool multiplex, gk_error **err);

/* Adds EASY to MULTI as TAG's transfer, with the settings every job has:
 * TAG as its CURLOPT_PRIVATE, curl's message in ERRBUF (cleared),
 * progress through XFERINFO(TAG->job).  TAG lives as long as the job. */
int gk_xfer_add(CURLM *multi, CURL *easy, const gk_xfer_tag *tag, char errbuf[CURL_ERROR_SIZE],
                curl_xferinfo_callback xferinfo, gk_error **err);

/* Takes *EASY out of MULTI and frees it and *HDRS (its headers). */
void gk_xfer_remove(CURLM *multi, CURL **easy, struct curl_slist **hdrs);

/* Runs until no part's schedule has anything left or a callback fails;
 * P is redrawn on each turn. */
int gk_xfer_run(CURLM *multi, gk_progress *p, const gk_xfer_part *parts, size_t n, gk_error **err);

#endif
