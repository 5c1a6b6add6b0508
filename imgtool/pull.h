/* gkimg pull: a reference resolved at its registry (manifest, index ->
 * platform), its blobs fetched into the store, and its name recorded. */
#ifndef GK_IMGTOOL_PULL_H
#define GK_IMGTOOL_PULL_H

#include "gk/error.h"
#include "progress.h"
#include "registry.h"
#include "signature.h"
#include "store.h"

typedef struct gk_pull_opts {
        const char *platform; /* "os/arch[/variant]" or NULL: the host's */
        bool all_platforms;   /* an index: every manifest it lists, and their blobs */
        gk_registry_opts reg;
        const gk_sig_ctx *sig; /* policy and signature places (NULL: defaults) */
        /* Fetches the blobs in place of gk_registry_fetch_blobs (same
         * contract), with FETCH_CTX: gkimg copy sends each on to the
         * destination as it lands (push_stream.c).  NULL: pull's own. */
        int (*fetch_blobs)(void *fetch_ctx, gk_registry *r, gk_store *s, gk_blob_fetch *blobs,
                           size_t n, gk_progress *p, gk_error **err);
        void *fetch_ctx;
        /* Called with FETCH_CTX once the document the fetch ends with
         * (res->manifest_digest) is known and the policy accepted it,
         * before any blob moves: copy signs for its destination there
         * (gk_push_session_sign).  NULL: nothing. */
        int (*resolved)(void *fetch_ctx, const char *digest, gk_error **err);
} gk_pull_opts;

typedef struct gk_pull_result {
        char *name;            /* canonical name recorded in the store */
        char *digest;          /* what the registry calls it (index or manifest) */
        char *manifest_digest; /* the image manifest for the platform */
        bool downloaded;       /* anything new was fetched */
} gk_pull_result;

void gk_pull_result_clear(gk_pull_result *res);

int gk_pull(gk_store *s, const char *ref, const gk_pull_opts *o, gk_progress *p,
            gk_pull_result *res, gk_error **err);

/* gk_pull without naming anything: the manifests and blobs into the
 * store's blob area, for gkimg copy (which holds the store).  With
 * all_platforms, res->digest is the index (the host platform's manifest is
 * not picked: res->manifest_digest is the index too). */
int gk_pull_fetch(gk_store *s, const char *ref, const gk_pull_opts *o, gk_progress *p,
                  gk_pull_result *res, gk_error **err);

#endif
