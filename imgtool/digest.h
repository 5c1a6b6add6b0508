/* sha256 digests: validation of "sha256:HEX" strings and a streaming
 * hasher (OpenSSL EVP) for blobs hashed while they are written. */
#ifndef GK_IMGTOOL_DIGEST_H
#define GK_IMGTOOL_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"

#define GK_SHA256_DIGEST_LEN 71 /* "sha256:" + 64 hex digits */
#define GK_SHA256_BUF 72

/* Checks that DIGEST is "sha256:" + 64 lower-case hex digits; WHAT names
 * the field in the error ("manifest: layers[0].digest"). Other algorithms
 * get an error saying they are not supported. */
int gk_digest_check(const char *digest, const char *what, gk_error **err);

typedef struct gk_hasher gk_hasher;

gk_hasher *gk_hasher_new(void);
void gk_hasher_update(gk_hasher *h, const void *data, size_t len);
/* Writes "sha256:HEX" into OUT; the hasher can then be reset and reused. */
void gk_hasher_final(gk_hasher *h, char out[GK_SHA256_BUF]);
void gk_hasher_reset(gk_hasher *h);
void gk_hasher_free(gk_hasher *h);
void gk_hasher_freep(gk_hasher **h);

/* The digest of a buffer. */
void gk_digest_buf(const void *data, size_t len, char out[GK_SHA256_BUF]);

/* The first N hex digits of DIGEST (after "sha256:") for display. */
const char *gk_digest_hex(const char *digest);

#endif
