/* The event loop of gkimg's parallel blob transfers on one curl multi
 * handle, shared by the downloads of a pull (fetch.c) and the uploads of a
 * push (upload.c): each keeps its own jobs and decides what a finished
 * transfer means; this file only starts, waits and hands transfers back. */
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

/* A multi handle of at most PARALLEL connections to a host; MULTIPLEX:
 * HTTP/2 streams share them. */
CURLM *gk_xfer_multi(long parallel, bool multiplex, gk_error **err);

/* Adds EASY to MULTI as JOB's transfer, with the settings every job has:
 * JOB as its CURLOPT_PRIVATE, curl's message in ERRBUF (cleared),
 * progress through XFERINFO(JOB). */
int gk_xfer_add(CURLM *multi, CURL *easy, void *job, char errbuf[CURL_ERROR_SIZE],
                curl_xferinfo_callback xferinfo, gk_error **err);

/* Takes *EASY out of MULTI and frees it and *HDRS (its headers). */
void gk_xfer_remove(CURLM *multi, CURL **easy, struct curl_slist **hdrs);

/* Runs until OPS->schedule has nothing left or a callback fails; P is
 * redrawn on each turn. */
int gk_xfer_run(CURLM *multi, gk_progress *p, const gk_xfer_ops *ops, void *ctx, gk_error **err);

#endif
