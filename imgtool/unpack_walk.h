/* The parent directories of a layer's entries, resolved the way the image
 * sees them: a directory the layer does not list takes what the layers
 * below it gave it (owner, mode, xattrs, times), and a symlink of a lower
 * layer on the way (Debian's `lib -> usr/lib`) is followed, inside the
 * image's root, so `lib/x` is written at `usr/lib/x` of this layer, as
 * umoci and containerd, which apply each layer onto its parents, do.
 *
 * Only symlinks of the layers below are followed: a layer that makes a
 * symlink and then writes through it is refused (as tar refuses it), so a
 * layer cannot aim its own writes.  Every path stays under the layer
 * directory's fd; nothing of the lower layers is ever written. */
#ifndef GK_IMGTOOL_UNPACK_WALK_H
#define GK_IMGTOOL_UNPACK_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "gk/error.h"

typedef struct gk_parent_walk {
        int root;         /* the layer directory being written */
        const int *lower; /* the roots of the layers below, top first */
        size_t n_lower;
        /* Called for each directory made here as a copy of a lower one,
         * with its path in the layer and the lower one's stat: its times
         * are set once everything is written.  With a NULL stat: a new
         * directory was made in PATH, whose mtime is then the unpack's (as
         * tar's mkdir -p leaves it: only an entry's own parent gets its
         * times back). */
        int (*copied)(void *ctx, const char *path, const struct stat *st);
        void *ctx;
} gk_parent_walk;

/* An fd of directory PATH (clean, relative to the layer root) as this
 * layer sees it; *resolved (malloc'd) is where it is in the layer
 * directory ("." for the root).  With CREATE, missing directories are made
 * (from the lower layers' metadata when they have one there, else 0755
 * root-owned), and a whiteout of this layer in the way becomes an opaque
 * directory; without, a missing one fails with ENOENT. */
int gk_parent_open(const gk_parent_walk *w, const char *path, bool create, char **resolved,
                   gk_error **err);

/* Copies the lower layers' root metadata onto the layer root, for a layer
 * without a "./" entry (overlayfs shows the top layer's root).  Nothing
 * when there is no lower layer. */
int gk_parent_copy_root(const gk_parent_walk *w, gk_error **err);

/* For a hardlink to a file of the layers below: copies their file NAME of
 * directory DIR (resolved, see gk_parent_open) into DFD, this layer's
 * DIR, with its owner, mode, xattrs and times.  Nothing (and 0) when the
 * layers below have no NAME there. */
int gk_parent_copy_up(const gk_parent_walk *w, int dfd, const char *dir, const char *name,
                      gk_error **err);

/* Owner, mode and xattrs (overlayfs's own left out) of SFD onto DFD (a
 * directory, or a file copied up: chown first, it clears setuid). */
int gk_copy_dir_meta(int sfd, int dfd, const struct stat *st, gk_error **err);

#endif
