/* The downloads of fetch.c as a part of a transfer loop (xfer.h) that
 * other parts share: gk_registry_fetch_blobs runs one alone; a copy
 * between registries runs it beside the uploads that follow its blobs
 * (push_stream.c). */
#ifndef GK_IMGTOOL_FETCH_H
#define GK_IMGTOOL_FETCH_H

#include "registry.h"
#include "xfer.h"

typedef struct gk_fetch gk_fetch;

/* Jobs for the N BLOBS on MULTI; nothing starts before the loop runs. */
int gk_fetch_new(gk_registry *r, gk_store *s, gk_blob_fetch *blobs, size_t n, gk_progress *p,
                 CURLM *multi, gk_fetch **out, gk_error **err);
const gk_xfer_part *gk_fetch_part(gk_fetch *f);
/* A blob checked against its digest is done without its sync and rename,
 * which would hold the loop up (and the uploads that share it); they wait
 * for gk_fetch_commit, after the loop. */
void gk_fetch_defer_commits(gk_fetch *f);
int gk_fetch_commit(gk_fetch *f, gk_error **err);
/* Stops what still runs (partial files stay for a resume) and frees F. */
void gk_fetch_free(gk_fetch *f);

/* A first request of its own when the scheme (http or https) is not
 * known yet and some blob is missing from S. */
int gk_fetch_settle(gk_registry *r, gk_store *s, const gk_blob_fetch *blobs, size_t n,
                    gk_error **err);

#endif
