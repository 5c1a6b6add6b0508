/* gkimg push: an image of the store sent to a registry as it is stored:
 * the layer blobs are the compressed ones the pull verified (or the
 * import wrote), so the manifest goes byte for byte and keeps its digest.
 * A multi-platform image goes as its index when the store holds every
 * platform of it (an import of a full oci layout), else as the one image
 * manifest the store has (a pull keeps only its platform's). */
#ifndef GK_IMGTOOL_PUSH_H
#define GK_IMGTOOL_PUSH_H

#include <stddef.h>

#include "gk/error.h"
#include "progress.h"
#include "registry.h"
#include "signature.h"
#include "store.h"

typedef struct gk_push_opts {
        gk_registry_opts reg;
        const gk_sig_ctx *sig; /* registries.d (NULL: the default) */
        gk_sign_opts sign;     /* --sign-by*: what to sign the pushed manifest with */
} gk_push_opts;

typedef struct gk_push_result {
        char *name; /* canonical destination "domain/path:tag" */
        char *tag;
        char *digest;                      /* of the manifest (or index) pushed */
        size_t size;                       /* its bytes */
        size_t uploaded, existed, mounted; /* blobs */
} gk_push_result;

void gk_push_result_clear(gk_push_result *res);

/* SRC: what gk_store_resolve takes; DEST: "host/repo[:tag]" (docker://
 * allowed). */
int gk_push(gk_store *s, const char *src, const char *dest, const gk_push_opts *o, gk_progress *p,
            gk_push_result *res, gk_error **err);

/* The image whose top document (manifest or index) TOP_DIGEST is in the
 * store with everything it lists, sent to DEST as it is (gkimg copy);
 * MOUNT_FROM (may be NULL): a repository of DEST's registry that has the
 * blobs.  The caller holds the store (gk_store_hold). */
int gk_push_digest(gk_store *s, const char *top_digest, const char *dest, const char *mount_from,
                   const gk_push_opts *o, gk_progress *p, gk_push_result *res, gk_error **err);

#endif
