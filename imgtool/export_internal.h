/* Shared by the oci-archive (export.c) and docker-archive
 * (export_docker.c) writers. */
#ifndef GK_IMGTOOL_EXPORT_INTERNAL_H
#define GK_IMGTOOL_EXPORT_INTERNAL_H

#include <archive.h>
#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"
#include "image.h"
#include "store.h"

/* A regular member NAME holding DATA, or SIZE bytes read from FD. */
int gk_export_add_mem(struct archive *a, const char *name, const char *data, size_t len,
                      gk_error **err);
int gk_export_add_fd(struct archive *a, const char *name, int fd, int64_t size, gk_error **err);

/* Writes FILE (through a temporary file renamed at the end, removed on
 * failure) as a pax archive whose members ENTRIES adds (given CTX); DIR is FILE's
 * directory, for temporary files of ENTRIES' own. */
typedef int (*gk_export_entries_fn)(struct archive *a, gk_store *s, const void *ctx,
                                    const char *dir, gk_error **err);
int gk_export_write_archive(gk_store *s, const void *ctx, const char *file,
                            gk_export_entries_fn entries, gk_error **err);

#endif
