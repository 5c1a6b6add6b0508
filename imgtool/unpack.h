/* Layer unpacking: a layer blob (tar, gzip or zstd) streamed through
 * libarchive into a directory in overlayfs's format, and the store of
 * unpacked layers under ROOT/layers, one per chain id, shared by every
 * image that has the same layers from the bottom up.
 *
 * Each layer is unpacked over its parents (already unpacked, only read):
 * a directory it does not list takes what they have, and their symlinks
 * are followed (see unpack_walk.h).  In overlayfs's format:
 *   ".wh.NAME"      -> NAME as a 0/0 character device (overlay whiteout)
 *   ".wh..wh..opq"  -> trusted.overlay.opaque=y on the directory
 * Every path is resolved under the layer directory's fd; names that would
 * leave it, links through this layer's own symlinks, hardlinks to files
 * outside the image and (unless allowed) devices are refused with an
 * error naming the entry. */
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
        const char *what; /* names the layer in errors ("layer sha256:..."); may be NULL */
        const char
                *diff_id;   /* "sha256:HEX" the uncompressed tar must hash to; NULL: not checked */
        bool allow_devices; /* keep block/character device entries (else refused) */
        gk_layer_limit limit; /* zero: no limit */
        /* The unpacked layers below this one, top first (their fs/
         * directories): what they have decides the directories this layer
         * does not list (see unpack_walk.h). */
        const int *lower;
        size_t n_lower;
} gk_unpack_opts;

typedef struct gk_unpack_stats {
        uint64_t entries;
        uint64_t bytes;              /* uncompressed tar bytes */
        uint64_t written;            /* data bytes written to files (holes left out) */
        char diff_id[GK_DIGEST_MAX]; /* sha256 of the uncompressed tar */
} gk_unpack_stats;

/* Unpacks the layer read from BLOB_FD (a file or a pipe; compression is
 * detected) into DIRFD, an empty directory.  When o->diff_id is set and the
 * content does not match, fails with EBADMSG (what was written stays in
 * DIRFD: the caller unpacks into a temporary directory).  Data beyond
 * o->limit fails with EFBIG, naming the limit.  Holes of sparse entries
 * are seeked over, never written.  STATS may be NULL. */
int gk_unpack_fd(int blob_fd, int dirfd, const gk_unpack_opts *o, gk_unpack_stats *stats,
                 gk_error **err);

/* "sha256:" + 64 lower-case hex digits? */
bool gk_digest_valid(const char *digest);

/* ---- the store of unpacked layers (layerstore.c) ----
 *
 * A layer is unpacked as its parents see it (unpack_walk.h), so its
 * unpacked form depends on the layers below: it is keyed by its chain id
 * (OCI image spec: chainID(L0) = diffID(L0), chainID(Ln) =
 * sha256(chainID(Ln-1) + " " + diffID(Ln))), and two images with the same
 * base layers share them.  ROOT/layers/chains/HEX holds fs/ (the tree, an
 * overlay lower directory) and manifest (what check compares it with).
 * Directories of ROOT/layers/sha256 (an older gkimg's, keyed by diff_id
 * and unpacked without their parents) are never used: they are left for
 * the bundles that name them and removed by gc after. */

/* The chain id of layer DIFF_ID over chain PARENT (NULL: the bottom
 * layer) into OUT. */
int gk_chain_id(const char *parent, const char *diff_id, char out[GK_DIGEST_MAX]);

/* The tree of chain CHAIN_ID (ROOT/layers/chains/HEX/fs), whether or not
 * it has been unpacked. */
int gk_layer_path(const char *root, const char *chain_id, char **out, gk_error **err);

/* True when chain CHAIN_ID is unpacked (complete: it appears only by a
 * rename after its unpack finished). */
bool gk_layer_present(const char *root, const char *chain_id);

/* Unpacks the blob read from BLOB_FD, layer DIFF_ID over chain PARENT
 * (NULL for the bottom layer; o->lower are its fs/ fds, top first), as
 * chain CHAIN_ID unless it is already there: into ROOT/layers/tmp/ first,
 * checked against DIFF_ID, its manifest written, synced once, then renamed
 * into place, so a crash never leaves a layer that looks complete.  Two
 * processes unpacking one layer at once both succeed (the second rename
 * loses and its copy is dropped).  o->diff_id is ignored; o may be NULL. */
int gk_layer_unpack(const char *root, const char *chain_id, const char *diff_id,
                    const char *parent, int blob_fd, const gk_unpack_opts *o, gk_error **err);

/* Compares chain CHAIN_ID's tree with the manifest recorded at its unpack:
 * the differences in *diffs (see gk_tree_manifest_compare); *header (may
 * be NULL) gets the manifest's header line ("gk-layer 1 chain=... diff_id=...
 * parent=...|- devices=0|1").  Fails with ENOENT when it has no manifest. */
int gk_layer_verify(const char *root, const char *chain_id, char ***diffs, size_t *n,
                    char **header, gk_error **err);

/* Removes ROOT/layers/DIR/HEX of DIGEST ("chains" for a chain, "sha256"
 * for an older gkimg's layer) for gc and repair.  Missing is fine. */
int gk_layer_remove(const char *root, const char *dir, const char *digest, gk_error **err);

/* Removes what crashed unpacks left in ROOT/layers/tmp (entries no live
 * unpack holds a lock on). */
int gk_layer_clean_tmp(const char *root, gk_error **err);

#endif
