/* The manifest of an unpacked layer: one line per file of its directory,
 * recorded when the layer is unpacked and compared by `gkimg check`, so a
 * layer changed since (a file patched, added or deleted) is noticed.
 *
 * A line is `PATH TYPE MODE UID:GID SIZE MTIME XATTRS WHAT`, sorted by
 * PATH (bytes below 0x21, 0x7f and `\` escaped as \xHH), where WHAT is the
 * sha256 of a regular file's data extents (holes are never read, so a huge
 * sparse file costs nothing), `=PATH` for a further name of a hardlinked
 * file, a symlink's target, or a device's MAJOR:MINOR; XATTRS is a short
 * hash of the names and values, `-` for none.  The first line is a header
 * the caller chooses. */
#ifndef GK_IMGTOOL_TREEMANIFEST_H
#define GK_IMGTOOL_TREEMANIFEST_H

#include <stddef.h>

#include "gk/error.h"

/* The manifest of the tree at DIRFD, HEADER first (one line, no newline),
 * as malloc'd text. */
int gk_tree_manifest(int dirfd, const char *header, char **out, size_t *len, gk_error **err);

/* The header line of manifest TEXT (malloc'd), or NULL when it has none. */
char *gk_tree_manifest_header(const char *text, size_t len);

/* Compares the tree at DIRFD with manifest TEXT: each difference becomes
 * one message in *diffs (NULL-terminated, malloc'd; *n of them), like
 * "`etc/passwd`: content changed" or "`x`: added". */
int gk_tree_manifest_compare(int dirfd, const char *text, size_t len, char ***diffs, size_t *n,
                             gk_error **err);

#endif
