/* A push in steps, for gkimg copy between registries: the session is
 * opened before the source's blobs download, they are sent on as they land
 * (push_stream.c, as the pull's fetch_blobs), and finish then sends what is
 * left and the manifests from the store as gk_push_digest does. */
#ifndef GK_IMGTOOL_PUSH_SESSION_H
#define GK_IMGTOOL_PUSH_SESSION_H

#include "gk/cleanup.h"
#include "image_set.h"
#include "push.h"
#include "reference.h"
#include "upload.h"

/* A blob the stream sent, and how. */
typedef struct gk_push_sent {
        char *digest;
        gk_push_how how;
        uint64_t bytes;
} gk_push_sent;

typedef struct gk_push_session {
        gk_store *s;
        gk_progress *p;
        gk_push_opts o;
        gk_reference dest;
        gk_registry *reg; /* NULL until opened */
        gk_image_set set;
        char *mount_from;
        gk_blob_push *blobs; /* the set's: n_todo to send, then those sent */
        size_t n_blobs, n_todo;
        gk_push_sent *sent;
        size_t n_sent;
        bool announced;   /* "The push refers to ..." shown */
        gk_sig_made *sig; /* --sign-by*: made before the first upload */
        bool dest_failed; /* the error of a pull hook was the destination's */
} gk_push_session;

/* WHAT names the source in errors; DEST and MOUNT_FROM as gk_push_digest.
 * Nothing is asked of the registry yet. */
int gk_push_session_new(gk_store *s, const char *what, const char *dest, const char *mount_from,
                        const gk_push_opts *o, gk_progress *p, gk_push_session **out,
                        gk_error **err);
void gk_push_session_free(gk_push_session *ps);
static inline void gk_push_session_freep(gk_push_session **ps)
{
        gk_push_session_free(*ps);
}

/* The registry opened (scope, scheme and token settled by a HEAD of
 * FIRST_BLOB); nothing when it is. */
int gk_push_session_open(gk_push_session *ps, const char *first_blob, gk_error **err);

/* What the stream did with DIGEST, or NULL. */
const gk_push_sent *gk_push_session_sent(const gk_push_session *ps, const char *digest);

/* A gk_pull_opts.fetch_blobs with a session as its context: the blobs
 * from R into S, each uploaded while it downloads. */
int gk_push_session_stream(void *session, gk_registry *r, gk_store *s, gk_blob_fetch *blobs,
                           size_t n, gk_progress *p, gk_error **err);

/* --sign-by*: the signature of DIGEST made now, before anything is sent
 * (nothing when the session has it already, or signs nothing).  As a
 * gk_pull_opts.resolved, the copy's pull calls it once the digest is
 * known; push_image calls it before its first upload. */
int gk_push_session_sign(void *session, const char *digest, gk_error **err);

/* The rest of the image TOP_DIGEST (now in the store) and its manifests. */
int gk_push_session_finish(gk_push_session *ps, const char *top_digest, gk_push_result *res,
                           gk_error **err);

#endif
