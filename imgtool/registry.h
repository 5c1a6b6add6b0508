/* A registry v2 client over libcurl for one repository: manifests (HEAD and
 * GET), small blobs into memory, and layer blobs streamed into the store in
 * parallel (curl multi), each hashed as it arrives and resumed with Range
 * after an interruption.
 *
 * Transport: HTTPS, verified against the system CAs plus --cert-dir or
 * /etc/gk/certs.d/HOST/ (CA files ending in .crt, a client pair in .cert and .key).  Plain HTTP
 * only for localhost and 127.0.0.0/8 or with tls_verify off (HTTPS is
 * tried first).  Proxies from HTTPS_PROXY/NO_PROXY (libcurl).
 * Auth: a 401's challenge is answered (Bearer token fetched with the
 * stored credentials or anonymously, or Basic) and the token reused until
 * it expires.  Redirects (a CDN for blobs) are followed; libcurl does not
 * send our Authorization header to another host, port or scheme.
 * Failures: 5xx, resets, stalls and truncation are retried with backoff; a
 * 429 stops at once with the limit and when it resets; a transfer past its
 * deadline (scaled to its size, http_deadline.c) stops for good. */
#ifndef GK_IMGTOOL_REGISTRY_H
#define GK_IMGTOOL_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"
#include "feed.h"
#include "progress.h"
#include "store.h"

typedef struct gk_registry_opts {
        bool insecure;        /* --tls-verify=false: no verification, HTTP allowed */
        const char *cert_dir; /* NULL: /etc/gk/certs.d/DOMAIN when it exists */
        int parallel;         /* concurrent blob downloads (0: 4) */
        bool debug;           /* requests and answers on stderr */
        const char *creds;    /* --creds USER[:PASS] instead of the stored ones */
        const char *authfile; /* --authfile: the one auth file to read (authfiles.h) */
} gk_registry_opts;

typedef struct gk_registry gk_registry;

/* For repository PATH ("library/alpine") of registry DOMAIN ("docker.io"). */
int gk_registry_new(const char *domain, const char *path, const gk_registry_opts *o,
                    gk_registry **out, gk_error **err);
void gk_registry_free(gk_registry *r);
/* Token scopes to ask for instead of the challenge's, space-separated
 * ("repository:a:push,pull repository:b:pull" for a push that mounts). */
int gk_registry_set_scope(gk_registry *r, const char *scopes, gk_error **err);
void gk_registry_freep(gk_registry **r);

typedef struct gk_response {
        long status;
        char *body; /* NUL-terminated; NULL for HEAD */
        size_t len;
        char *content_type;
        char *digest; /* Docker-Content-Digest, validated, or NULL */
} gk_response;

void gk_response_clear(gk_response *resp);

/* HEAD or GET of manifest REF (a tag or a digest).  A GET of a digest is
 * checked against it.  A 404 fails with ENOENT. */
int gk_registry_manifest(gk_registry *r, const char *ref, bool head, gk_response *out,
                         gk_error **err);

/* Checks USERNAME/PASSWORD against DOMAIN's /v2/ (through its token
 * server when it has one), for `gkimg login`. */
int gk_registry_check_login(const char *domain, const gk_registry_opts *o, const char *username,
                            const char *password, gk_error **err);

/* A blob to download: DIGEST of SIZE bytes (-1: unknown). */
typedef struct gk_blob_fetch {
        const char *digest;
        int64_t size;
        bool hidden;        /* no progress line (the config) */
        bool existed;       /* out: was already in the store */
        gk_blob_feed *feed; /* kept up to date for a reader (NULL: none) */
} gk_blob_fetch;

/* Downloads the blobs not yet in store S, PARALLEL at a time, showing
 * progress on P (may be NULL).  On failure the blobs already complete stay
 * in the store and partial ones are kept for the next pull to resume. */
int gk_registry_fetch_blobs(gk_registry *r, gk_store *s, gk_blob_fetch *blobs, size_t n,
                            gk_progress *p, gk_error **err);

#endif
