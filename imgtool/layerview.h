/* Reading a file of an image from its unpacked layer directories, as the
 * container will see it under overlayfs, without mounting anything:
 * whiteouts and opaque directories hide lower layers, and symlinks are
 * followed inside the image's root (never out of it). */
#ifndef GK_IMGTOOL_LAYERVIEW_H
#define GK_IMGTOOL_LAYERVIEW_H

#include <stddef.h>

#include "gk/error.h"

/* Reads PATH (absolute or relative to the image root) through LAYER_FDS,
 * directory fds of the layers, top layer first.  Returns -ENOENT (with
 * *err set) when the image has no such regular file. */
int gk_layers_read_file(const int *layer_fds, size_t n, const char *path, char **out, size_t *len,
                        gk_error **err);

#endif
