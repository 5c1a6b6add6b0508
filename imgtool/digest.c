/* sha256 digests with OpenSSL's EVP interface, and digest validation. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

struct gk_hasher {
        EVP_MD_CTX *ctx;
};

static bool is_lower_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

int gk_digest_check(const char *digest, const char *what, gk_error **err)
{
        const char *colon;

        if (!digest || !*digest)
                return gk_error_make(err, 0, "%s: missing digest", what);
        colon = strchr(digest, ':');
        if (!colon || colon == digest)
                return gk_error_make(err, 0, "%s: `%s` is not a digest (ALGORITHM:HEX wanted)",
                                     what, digest);
        if ((size_t) (colon - digest) != 6 || strncmp(digest, "sha256", 6))
                return gk_error_make(err, 0, "%s: `%.*s` digests are not supported (sha256 only)",
                                     what, (int) (colon - digest), digest);
        if (strlen(colon + 1) != 64 || !is_lower_hex(colon + 1, 64))
                return gk_error_make(err, 0,
                                     "%s: `%s` is not a sha256 digest (64 lower-case hex "
                                     "digits wanted)",
                                     what, digest);
        return 0;
}

gk_hasher *gk_hasher_new(void)
{
        gk_hasher *h = calloc(1, sizeof(*h));

        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                gk_hasher_free(h);
                return NULL;
        }
        return h;
}

void gk_hasher_update(gk_hasher *h, const void *data, size_t len)
{
        EVP_DigestUpdate(h->ctx, data, len);
}

static void to_digest(const unsigned char *md, unsigned n, char out[GK_SHA256_BUF])
{
        static const char hex[] = "0123456789abcdef";

        memcpy(out, "sha256:", 7);
        for (unsigned i = 0; i < n && i < 32; i++) {
                out[7 + 2 * i] = hex[md[i] >> 4];
                out[8 + 2 * i] = hex[md[i] & 15];
        }
        out[GK_SHA256_DIGEST_LEN] = '\0';
}

void gk_hasher_final(gk_hasher *h, char out[GK_SHA256_BUF])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        EVP_DigestFinal_ex(h->ctx, md, &n);
        to_digest(md, n, out);
}

void gk_hasher_reset(gk_hasher *h)
{
        EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void gk_hasher_free(gk_hasher *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

void gk_hasher_freep(gk_hasher **h)
{
        gk_hasher_free(*h);
}

void gk_digest_buf(const void *data, size_t len, char out[GK_SHA256_BUF])
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
        to_digest(md, n, out);
}

const char *gk_digest_hex(const char *digest)
{
        const char *c = digest ? strchr(digest, ':') : NULL;

        return c ? c + 1 : (digest ? digest : "");
}
