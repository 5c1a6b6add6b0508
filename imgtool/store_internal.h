/* What store.c, store_index.c and store_gc.c share. */
#ifndef GK_IMGTOOL_STORE_INTERNAL_H
#define GK_IMGTOOL_STORE_INTERNAL_H

#include "store.h"

struct gk_store {
        char *root;
        int root_fd;
        int blobs_fd;   /* ROOT/blobs/sha256 */
        int partial_fd; /* ROOT/blobs/partial */
        int tmp_fd;     /* ROOT/blobs/tmp */
        int hold_fd;    /* ROOT/gc.lock held shared, or -1 */
};

/* flock()s ROOT/NAME (created) in MODE; returns the fd. */
int gk_store_lock(gk_store *s, const char *name, int mode, gk_error **err);

/* Fsyncs ROOT/blobs/sha256 so renames done so far survive a crash before
 * anything names them. */
void gk_store_sync_blobs(gk_store *s);

/* Loads image manifest DIGEST (an index: the host platform's entry,
 * which must be in the store) with its config and layers.  NAME (may be
 * NULL) is recorded in the result. */
int gk_store_load_image(gk_store *s, const char *digest, const char *name, gk_store_image **out,
                        gk_error **err);

#endif
