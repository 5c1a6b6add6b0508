/* The decompressed stream of a layer blob, for unpack.c's tar reader:
 * decompressed and hashed (the diff_id) on a thread of its own, ahead of
 * the thread that writes the files, through a small ring of buffers.  The
 * two halves cost about the same on a Debian image (inflate + sha256 in
 * user space, file creation in the kernel), so overlapping them takes a
 * third off an unpack, as `gzip -dc | tar -x` does with two processes. */
#ifndef GK_IMGTOOL_UNPACK_STREAM_H
#define GK_IMGTOOL_UNPACK_STREAM_H

#include <archive.h>
#include <stdint.h>

#include "gk/error.h"

typedef struct gk_unpack_stream gk_unpack_stream;

/* Detects the compression of BLOB_FD (gzip, zstd, xz, bzip2 or none, all
 * in-process) and starts decompressing it. */
int gk_unpack_stream_open(int blob_fd, gk_unpack_stream **out, gk_error **err);

/* A libarchive read callback (archive_read_open's client data: the
 * stream): the next block of decompressed bytes, in order; 0 at the end,
 * -1 with the archive's error set when the blob cannot be read. */
la_ssize_t gk_unpack_stream_read(struct archive *a, void *stream, const void **buf);

/* Reads what is left (bytes after the tar's end-of-archive blocks are part
 * of the diff_id too) and gives the count of decompressed bytes and their
 * "sha256:HEX" in DIGEST (GK_DIGEST_MAX bytes). */
int gk_unpack_stream_finish(gk_unpack_stream *s, uint64_t *bytes, char *digest, gk_error **err);

/* Stops the decompression (wherever it is) and frees everything. */
void gk_unpack_stream_free(gk_unpack_stream *s);

#endif
