/* The content-addressed image store at --root (default /var/lib/gk):
 *
 *   ROOT/blobs/sha256/HEX     blobs by digest; a file appears there only by
 *                             a rename after its content hashed to HEX and
 *                             was synced, so a crash or a full disk never
 *                             leaves a blob that looks complete
 *   ROOT/blobs/partial/HEX    an interrupted download, resumed by the next
 *                             pull (flock'ed while a writer is on it)
 *   ROOT/blobs/tmp/           blobs being written whose digest is not known
 *                             in advance (import)
 *   ROOT/images.json          image names -> manifests, rewritten whole
 *                             (temp file + rename) under ROOT/images.lock
 *   ROOT/gc.lock              held shared by pulls and imports, exclusive by
 *                             gc, so gc never deletes what a pull has
 *                             written but not yet named
 *
 * Names are canonical references ("docker.io/library/alpine:latest", or
 * "REPO@sha256:…" for an image pulled by digest alone).  An image's ID is
 * its config digest, as for docker. */
#ifndef GK_IMGTOOL_STORE_H
#define GK_IMGTOOL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"

typedef struct gk_store gk_store;

/* Opens (creating when missing) the store at ROOT. */
int gk_store_open(const char *root, gk_store **out, gk_error **err);
void gk_store_free(gk_store *s);
void gk_store_freep(gk_store **s);
const char *gk_store_root(const gk_store *s);

/* Holds the gc lock shared until gk_store_free (pull, import). */
int gk_store_hold(gk_store *s, gk_error **err);

/* ---- blobs ---- */

bool gk_store_has_blob(gk_store *s, const char *digest);
/* Its size in bytes, or -1 when it is not in the store. */
int64_t gk_store_blob_size(gk_store *s, const char *digest);
/* An fd reading blob DIGEST (O_RDONLY|O_CLOEXEC). */
int gk_store_open_blob(gk_store *s, const char *digest, gk_error **err);
/* Reads blob DIGEST to its end, hashing it, handing each block to FN
 * (may be NULL: only checked).  Fails with EBADMSG, the error saying what
 * is wrong and that `gkimg check --repair` mends it, when its size is not
 * SIZE (when >= 0; checked before any byte goes to FN) or when its content
 * does not hash to DIGEST (found after the last byte went to FN); with
 * ENOENT when it is not in the store. */
int gk_store_copy_blob(gk_store *s, const char *digest, int64_t size,
                       int (*fn)(void *ctx, const void *buf, size_t len, gk_error **err),
                       void *ctx, gk_error **err);
/* gk_store_copy_blob without a reader: is the store's copy right? */
int gk_store_verify_blob(gk_store *s, const char *digest, int64_t size, gk_error **err);
/* Removes blob DIGEST (a damaged copy, before it is fetched again).
 * Missing is fine. */
int gk_store_drop_blob(gk_store *s, const char *digest, gk_error **err);
/* A whole blob in memory (JSON documents: at most 16 MiB), NUL-terminated. */
int gk_store_read_blob(gk_store *s, const char *digest, char **out, size_t *len, gk_error **err);
/* Adds a blob from memory; with EXPECT (may be NULL) its digest must match.
 * *out_digest (may be NULL) gets the digest.  A copy already in the store
 * is checked first and replaced when damaged (so are the fd variant's). */
int gk_store_put_blob(gk_store *s, const void *data, size_t len, const char *expect,
                      char **out_digest, gk_error **err);
/* Adds the blob read from FD to its end. */
int gk_store_put_blob_fd(gk_store *s, int fd, const char *expect, char **out_digest,
                         gk_error **err);

/* A blob written in pieces while it is hashed.
 *   begin(EXPECT, resume): with EXPECT and resume, a partial download of
 *   EXPECT is continued: gk_blob_writer_offset() says from where (the bytes
 *   already there are hashed again).  Fails with EBUSY when another
 *   process is writing the same blob (the caller waits and checks
 *   gk_store_has_blob).
 *   commit: checks the digest (EXPECT when given), syncs, renames into place
 *   (a blob already there is fine) and frees W.  A mismatch discards the
 *   content and the error names both digests (EBADMSG).
 *   abort: discards the content; suspend: keeps it for a later resume (only
 *   with EXPECT); both free W. */
typedef struct gk_blob_writer gk_blob_writer;
int gk_store_blob_begin(gk_store *s, const char *expect, bool resume, gk_blob_writer **out,
                        gk_error **err);
uint64_t gk_blob_writer_offset(const gk_blob_writer *w);
/* The file the bytes land in (O_RDWR; owned by W): a reader may dup it. */
int gk_blob_writer_fd(const gk_blob_writer *w);
/* Back to zero bytes (the server ignored a Range request). */
int gk_blob_writer_restart(gk_blob_writer *w, gk_error **err);
int gk_blob_writer_write(gk_blob_writer *w, const void *data, size_t len, gk_error **err);
int gk_blob_writer_commit(gk_blob_writer *w, char **out_digest, gk_error **err);
/* commit's digest check alone (W stays open, for a commit later); a
 * mismatch discards the content and frees W, as commit's does. */
int gk_blob_writer_check(gk_blob_writer *w, gk_error **err);
void gk_blob_writer_abort(gk_blob_writer *w);
void gk_blob_writer_suspend(gk_blob_writer *w);

/* ---- images ---- */

typedef struct gk_store_layer {
        char *digest;     /* the blob */
        char *media_type; /* as the manifest says (gzip, zstd, tar...) */
        int64_t size;     /* from the manifest, -1 when absent */
} gk_store_layer;

/* An image found by gk_store_resolve: everything unpack and bundle need. */
typedef struct gk_store_image {
        char *name;            /* canonical name it was found under, or NULL (by digest/ID) */
        char *manifest_digest; /* the image manifest (an index resolved for the platform) */
        char *manifest;        /* raw JSON, NUL-terminated */
        size_t manifest_len;
        char *manifest_media_type;
        char *config_digest; /* = image ID */
        char *config;        /* raw JSON, NUL-terminated */
        size_t config_len;
        gk_store_layer *layers; /* bottom first */
        size_t n_layers;
} gk_store_image;

/* REF is a reference ("alpine", "alpine:3", "repo@sha256:…"), a manifest
 * or index digest in the store ("sha256:HEX"), or an image ID or unique ID
 * prefix (at least 4 hex digits, "sha256:" optional).  A name not in the
 * store fails with ENOENT: "image `alpine` is not in the store". */
int gk_store_resolve(gk_store *s, const char *ref, gk_store_image **out, gk_error **err);
void gk_store_image_free(gk_store_image *img);
void gk_store_image_freep(gk_store_image **img);

/* Names REF (normalized: "alpine" -> docker.io/library/alpine:latest) ->
 * image manifest MANIFEST_DIGEST, which must be in the store with its
 * config; REPO_DIGEST (may be NULL) is the digest the registry knows the
 * image by (its index's, for a multi-platform image).  An existing name is
 * moved.  Atomic under the index lock: concurrent taggers both succeed.
 * *changed (CHANGED may be NULL): the name is new or named another image
 * (what makes docker pull say "Downloaded newer image"). */
int gk_store_tag(gk_store *s, const char *ref, const char *manifest_digest,
                 const char *repo_digest, bool *changed, gk_error **err);

/* One line of `gkimg images`. */
typedef struct gk_store_entry {
        char *name; /* canonical */
        char *manifest_digest;
        char *repo_digest; /* may be NULL */
        char *id;          /* config digest */
        char *created;     /* from the config (RFC 3339), may be NULL */
        char *platform;    /* "linux/amd64", may be NULL */
        int64_t size;      /* config + layers as stored (compressed) */
        int64_t pulled;    /* seconds since the epoch */
} gk_store_entry;

int gk_store_list(gk_store *s, gk_store_entry **out, size_t *n, gk_error **err);
void gk_store_entries_free(gk_store_entry *v, size_t n);

/* Removes the names REF matches: a name removes just that name; an ID or
 * ID prefix every name of the image, which without FORCE fails with EBUSY
 * ("conflict: unable to delete …") when the names are more than one tag or
 * span repositories (docker's rule).  *removed gets the names removed
 * (NULL-terminated); *deleted the image ID when no name is left for it
 * (its blobs go at the next gc), else NULL. */
int gk_store_untag(gk_store *s, const char *ref, bool force, char ***removed, char **deleted,
                   gk_error **err);

/* Names REF (a tag, normalized as gk_store_tag does; a digest is refused)
 * the image SRC resolves to as gk_store_resolve says (a name, a digest,
 * an ID or its prefix), as `podman tag` does: a name SRC was found under
 * keeps its registry digest, and an index stays the image's index. */
int gk_store_add_name(gk_store *s, const char *src, const char *ref, gk_error **err);

typedef struct gk_store_gc_stats {
        uint64_t blobs, layers, bytes; /* removed */
} gk_store_gc_stats;

/* Deletes blobs, unpacked layers and partial downloads that no named image
 * (and no bundle recorded in ROOT/bundles) references. */
int gk_store_gc(gk_store *s, gk_store_gc_stats *st, gk_error **err);

#endif
