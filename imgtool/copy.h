/* gkimg copy SRC DEST: an image between any two of a registry, an OCI
 * layout directory, an oci-archive, a docker-archive and the store
 * (transport.h spells them).
 *
 * The store's blob area is the go-between: the source's manifests and
 * blobs go in there (a registry's by pull's parallel, resumable fetch, an
 * archive's by import's one pass over it), and the destination is written
 * from there by push's uploads, export's archive writer or a layout
 * writer.  One copy on local disk per blob buys: every blob verified
 * against its digest before the destination has it, the same tested code
 * paths as pull/push/import/export, and a cache (a second copy of an
 * image, or of another sharing its base layers, fetches nothing again).
 * Between registries the two sides overlap (push_stream.c): each blob is
 * uploaded while it downloads into the store, and its last byte is held
 * back until the download has checked the digest, so a bad blob never
 * completes at the destination.  The copy holds the store as a pull does,
 * so gc leaves those blobs alone until it ends; what it fetched and no
 * name uses goes at the next gc.  Blobs are never unpacked.
 *
 * Digests: nothing is converted between registries, OCI layouts and
 * oci-archives, so the manifest (or index) keeps its digest.  A
 * docker-archive holds no manifest: reading one makes an OCI manifest of
 * its config and layers (uncompressed as the archive has them), and
 * writing one keeps only config and uncompressed layers; the image ID
 * (config digest) stays, the manifest digest does not, as with skopeo.
 *
 * Platforms: as skopeo, an index copies only the host's (or --platform's)
 * image unless --all, which copies every image it lists and the index
 * itself, byte for byte, so the destination has the same index digest. */
#ifndef GK_IMGTOOL_COPY_H
#define GK_IMGTOOL_COPY_H

#include <stdbool.h>

#include "gk/error.h"
#include "progress.h"
#include "registry.h"
#include "signature.h"
#include "store.h"
#include "transport.h"

typedef struct gk_copy_opts {
        gk_registry_opts src_reg, dest_reg;
        bool all;              /* every platform of an index */
        const char *platform;  /* NULL: the host's */
        const gk_sig_ctx *sig; /* policy checked on a registry source; registries.d */
        gk_sign_opts sign;     /* --sign-by*: a registry destination's signatures */
} gk_copy_opts;

/* What the source left in the store's blob area (copy_source.c). */
typedef struct gk_copy_staged {
        char *top;  /* the manifest or index to copy */
        char *name; /* the source's name for it (reference, RepoTag), or NULL */
} gk_copy_staged;

struct gk_push_session;

void gk_copy_staged_clear(gk_copy_staged *st);

/* SRC into the store's blob area; STREAM (may be NULL): a registry
 * destination's push session, which a registry source's blobs are sent
 * to as they download. */
int gk_copy_read(gk_store *s, const gk_transport *src, const gk_copy_opts *o,
                 struct gk_push_session *stream, gk_progress *p, gk_copy_staged *out,
                 gk_error **err);

/* DIR (created, or added to) gets ST's image, named TAG (may be NULL)
 * (copy_oci.c). */
int gk_copy_write_oci_dir(gk_store *s, const char *top, const char *dir, const char *tag,
                          gk_error **err);

/* *digest: the top document's digest at DEST (NULL-able DIGEST). */
int gk_copy(gk_store *s, const char *src, const char *dest, const gk_copy_opts *o, gk_progress *p,
            char **digest, gk_error **err);

#endif
