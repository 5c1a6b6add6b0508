/* The libsodium calls that open cosign's encrypted private keys
 * (sig_cosign.c), with libsodium loaded by dlopen() the first time one is
 * made: only `push`/`copy --sign-by-sigstore-private-key` with such a key
 * maps it, every other command starts as it did before (see dl.h).  A
 * call that is not listed here is taken from libsodium at link time (the
 * Makefile keeps -lsodium, with --as-needed): `ldd gkimg` then shows
 * libsodium. */
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>

#include "dl.h"

#ifndef GK_SODIUM_SONAME
#define GK_SODIUM_SONAME "libsodium.so.23"
#endif

/* X(RET, FAIL, NAME, PARAMS, ARGS): NAME's forwarding definition returns
 * FAIL when libsodium cannot be loaded (sig_cosign.c calls gk_dl_sodium()
 * first, so a FAIL is never taken for a wrong passphrase). */
#define CALLS(X)                                                                         \
        X(int, -1, sodium_init, (void), ())                                              \
        X(int, -1, crypto_pwhash_scryptsalsa208sha256_ll,                                \
          (const uint8_t *passwd, size_t passwdlen, const uint8_t *salt, size_t saltlen, \
           uint64_t N, uint32_t r, uint32_t p, uint8_t *buf, size_t buflen),             \
          (passwd, passwdlen, salt, saltlen, N, r, p, buf, buflen))                      \
        X(int, -1, crypto_secretbox_open_easy,                                           \
          (unsigned char *m, const unsigned char *c, unsigned long long clen,            \
           const unsigned char *n, const unsigned char *k),                              \
          (m, c, clen, n, k))

/* X(NAME, PARAMS, ARGS): the calls that return nothing. */
#define VOID_CALLS(X) X(sodium_memzero, (void *const pnt, const size_t len), (pnt, len))

#define VARIADIC GK_DL_NONE

GK_DL_LIBRARY(GK_SODIUM_SONAME, "to open cosign's encrypted private keys")

int gk_dl_sodium(gk_error **err)
{
        return ready() ? 0 : gk_dl_fail(&lib, err);
}

GK_DL_FORWARDERS
