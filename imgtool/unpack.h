/* Layer unpacking: a layer blob (tar, gzip or zstd) streamed through
 * libarchive into a directory in overlayfs's format, and the store of
 * unpacked layers under ROOT/layers, one directory per diff_id, shared by
 * every image that has the layer.
 *
 * Each layer is unpacked on its own, without looking at the layers below
 * (as Docker's overlay2 driver does), so layers can be unpacked in any
 * order, in parallel, or while their blob is still downloading:
 *   ".wh.NAME"      -> NAME as a 0/0 character device (overlay whiteout)
 *   ".wh..wh..opq"  -> trusted.overlay.opaque=y on the directory
 * Every path is resolved under the layer directory's fd without following
 * symlinks; names that would leave it, links through symlinks, hardlinks
 * to files outside the layer and (unless allowed) devices are refused with
 * an error naming the entry. */
#ifndef GK_IMGTOOL_UNPACK_H
#define GK_IMGTOOL_UNPACK_H

#include <stdbool.h>
#include <stdint.h>

#include "gk/error.h"

#define GK_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, with room */

/* The most a layer may write (layerlimit.c). */
typedef struct gk_layer_limit {
        uint64_t max_bytes; /* data bytes of all its files, holes left out; 0: no limit */
        bool from_env;      /* set by GKIMG_LAYER_MAX_SIZE (else the default) */
} gk_layer_limit;

/* The limit for a layer whose blob has COMPRESSED bytes (-1: unknown):
 * GKIMG_LAYER_MAX_SIZE when set, else 100 times COMPRESSED, at least
 * 1 GiB.  Fails on a malformed GKIMG_LAYER_MAX_SIZE. */
int gk_layer_limit_get(int64_t compressed, gk_layer_limit *out, gk_error **err);

typedef struct gk_unpack_opts {
        const char *what;    /* names the layer in errors ("layer sha256:..."); may be NULL */
        const char *diff_id; /* "sha256:HEX" the uncompressed tar must hash to; NULL: not checked */
        bool allow_devices;  /* keep block/character device entries (else refused) */
        gk_layer_limit limit; /* zero: no limit */
} gk_unpack_opts;

typedef struct gk_unpack_stats {
        uint64_t entries;
        uint64_t bytes;                /* uncompressed tar bytes */
        uint64_t written;              /* data bytes written to files (holes left out) */
        char diff_id[GK_DIGEST_MAX];   /* sha256 of the uncompressed tar */
} gk_unpack_stats;

/* Unpacks the layer read from BLOB_FD (a file or a pipe; compression is
 * detected) into DIRFD, an empty directory.  When o->diff_id is set and the
 * content does not match, fails with EBADMSG (what was written stays in
 * DIRFD: the caller unpacks into a temporary directory).  Data beyond
 * o->limit fails with EFBIG, naming the limit.  Holes of sparse entries
 * are seeked over, never written.  STATS may be NULL. */
int gk_unpack_fd(int blob_fd, int dirfd, const gk_unpack_opts *o,
                 gk_unpack_stats *stats, gk_error **err);

/* "sha256:" + 64 lower-case hex digits? */
bool gk_digest_valid(const char *digest);

/* The directory of layer DIFF_ID in the store at ROOT
 * (ROOT/layers/sha256/HEX), whether or not it has been unpacked. */
int gk_layer_path(const char *root, const char *diff_id, char **out, gk_error **err);

/* True when layer DIFF_ID is unpacked in the store (complete: a layer
 * directory appears only by a rename after its unpack finished). */
bool gk_layer_present(const char *root, const char *diff_id);

/* Unpacks the blob read from BLOB_FD as layer DIFF_ID into the store unless
 * it is already there: into ROOT/layers/tmp/ first, checked against
 * DIFF_ID, synced once, then renamed into place, so a crash never leaves a
 * layer that looks complete.  Two processes unpacking one layer at once
 * both succeed (the second rename loses and its copy is dropped).
 * o->diff_id is ignored (DIFF_ID is used); o may be NULL. */
int gk_layer_unpack(const char *root, const char *diff_id, int blob_fd,
                    const gk_unpack_opts *o, gk_error **err);

/* Removes layer DIFF_ID from the store (for gc).  Missing is fine. */
int gk_layer_remove(const char *root, const char *diff_id, gk_error **err);

/* Removes what crashed unpacks left in ROOT/layers/tmp (entries no live
 * unpack holds a lock on). */
int gk_layer_clean_tmp(const char *root, gk_error **err);

#endif
