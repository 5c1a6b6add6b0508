/* Blobs and manifests sent to a registry (the OCI distribution spec's
 * push), for gkimg push.  Each blob, in parallel (curl multi):
 *   HEAD /v2/NAME/blobs/D           200: the registry has it, skipped
 *   POST .../uploads/?mount=D&from=OTHER
 *                                   201: mounted from OTHER (same registry);
 *                                   202: the registry declined, and the
 *                                   upload goes on in the session it opened
 *   POST .../uploads/               202: an upload session (Location)
 *   PUT  LOCATION?digest=D          the whole blob (up to one chunk), or
 *   PATCH LOCATION + Content-Range  chunk after chunk, then an empty PUT
 * A transfer that fails mid-body asks the session where it stands (GET
 * LOCATION: its Range header) and goes on from there; a session the
 * registry forgot starts over.  Chunks are GKIMG_PUSH_CHUNK bytes (64 MiB). */
#ifndef GK_IMGTOOL_UPLOAD_H
#define GK_IMGTOOL_UPLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "gk/error.h"
#include "progress.h"
#include "registry.h"
#include "store.h"
#include "xfer.h"

typedef enum gk_push_how {
        GK_PUSH_UPLOADED,
        GK_PUSH_EXISTED, /* the registry had it */
        GK_PUSH_MOUNTED, /* mounted from mount_from */
} gk_push_how;

typedef struct gk_blob_push {
        const char *digest;
        int64_t size;
        bool hidden;            /* no progress line (the config) */
        const char *mount_from; /* a repository of the same registry that has it, or NULL */
        gk_push_how how;        /* out */
        uint64_t sent;          /* out: bytes of it sent (resumes show here) */
        gk_blob_feed *feed;     /* read as it downloads (NULL: the store's blob) */
} gk_blob_push;

/* Sends the N blobs of store S that R's repository lacks, PARALLEL at a
 * time. */
int gk_registry_push_blobs(gk_registry *r, gk_store *s, gk_blob_push *blobs, size_t n,
                           gk_progress *p, gk_error **err);

/* The uploads as a part of a transfer loop (xfer.h) others share:
 * gk_registry_push_blobs runs one alone, a copy between registries beside
 * the downloads that feed it (push_stream.c). */
typedef struct gk_upload gk_upload;
int gk_upload_new(gk_registry *r, gk_store *s, gk_blob_push *blobs, size_t n, gk_progress *p,
                  CURLM *multi, gk_upload **out, gk_error **err);
const gk_xfer_part *gk_upload_part(gk_upload *u);
/* ON: the loop ends once every fed blob's session is open and waits for
 * its first bytes (or the blob needs none: the registry has it). */
void gk_upload_until_bodies(gk_upload *u, bool on);
/* The loop's error was the uploads' (not another part's). */
bool gk_upload_failed(const gk_upload *u);
void gk_upload_free(gk_upload *u);

/* PUT /v2/NAME/manifests/REF (a tag or a digest) of BODY as MEDIA_TYPE;
 * the registry's digest must be BODY's. */
int gk_registry_put_manifest(gk_registry *r, const char *ref, const char *media_type,
                             const char *body, size_t len, gk_error **err);

/* HEAD of blob DIGEST, with auth: settles the scheme and the token
 * before the parallel transfers start.  *has: the registry has it. */
int gk_registry_has_blob(gk_registry *r, const char *digest, bool *has, gk_error **err);

#endif
