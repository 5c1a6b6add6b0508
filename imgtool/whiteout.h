/* The pure rules of layer tar entries: how an entry's name becomes a path
 * confined to the layer directory, and what the OCI whiteout names mean in
 * overlayfs's format.  No I/O here, so the rules are unit-tested and fuzzed
 * on their own. */
#ifndef GK_IMGTOOL_WHITEOUT_H
#define GK_IMGTOOL_WHITEOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"

#define GK_WH_PREFIX ".wh."
#define GK_WH_OPAQUE_NAME ".wh..wh..opq"
/* overlayfs: a directory hiding everything below it in lower layers. */
#define GK_OVL_OPAQUE_XATTR "trusted.overlay.opaque"

/* Cleans a tar entry name (or hardlink target) into a path relative to the
 * layer root: "./a//b/" -> "a/b", "a/./b/../c" -> "a/c", "./" -> ".".
 * Refused, with an error naming the entry: absolute names, a ".." that
 * climbs above the root, empty names, embedded NUL-free but over-long
 * names (PATH_MAX).  *out is malloc'd. */
int gk_entry_path_clean(const char *name, char **out, gk_error **err);

enum gk_wh_kind {
        GK_WH_NONE,   /* an ordinary entry */
        GK_WH_FILE,   /* ".wh.NAME": NAME is deleted from lower layers */
        GK_WH_OPAQUE, /* ".wh..wh..opq": the directory is opaque */
        GK_WH_META,   /* another ".wh..wh." name (aufs bookkeeping): ignored */
};

/* Classifies a clean path by its last component.  For GK_WH_FILE,
 * *hidden points into PATH at the hidden name's last component.  A whiteout
 * whose hidden name is empty, "." or ".." is refused with an error. */
int gk_whiteout_classify(const char *path, enum gk_wh_kind *kind, const char **hidden,
                         gk_error **err);

/* Splits a clean path into its directory (malloc'd; "." for the root) and
 * a pointer to its last component inside PATH.  The root itself (".") has
 * no last component: *base is set to NULL. */
int gk_path_split(const char *path, char **dir, const char **base);

/* True when xattr NAME must not come from a layer: overlayfs's own
 * attributes (trusted.overlay.*, user.overlay.*) would let a layer forge
 * redirects, metacopy or opaqueness the unpacker did not decide. */
bool gk_xattr_reserved(const char *name);

#endif
