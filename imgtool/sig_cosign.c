/* Opening cosign's encrypted private key (cosign_key.h) for sig_sigstore.c
 * to sign with: scrypt and the NaCl secretbox through libsodium (OpenSSL
 * has no XSalsa20-Poly1305; libsodium's low-level scrypt takes cosign's
 * parameters, which cosign_key.c has bounded), then the DER PKCS#8 key
 * inside through OpenSSL.  The derived key and the plaintext are wiped
 * before their memory is given back. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosign_key.h"
#include "dl.h"
#include "gk/cleanup.h"
#include "sig_internal.h"

/* A secret buffer: wiped, then freed. */
typedef struct secret {
        unsigned char *p;
        size_t len;
} secret;

static void secret_clear(secret *s)
{
        if (s->p)
                sodium_memzero(s->p, s->len);
        free(s->p);
}

/* -EBADMSG when the box does not open: the passphrase is not the key's
 * (secretbox authenticates, so a wrong key never yields garbage). */
static int open_box(const gk_cosign_key *k, const char *pass, secret *plain, gk_error **err)
{
        unsigned char key[32];
        int r;

        errno = 0;
        if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *) pass, strlen(pass), k->salt,
                                                  k->salt_len, k->n, k->r, k->p, key,
                                                  sizeof(key)) < 0) {
                sodium_memzero(key, sizeof(key));
                return gk_error_make(err, errno ? errno : ENOMEM, "scrypt");
        }
        plain->len = k->box_len - GK_COSIGN_MAC_LEN;
        plain->p = malloc(plain->len + 1);
        r = !plain->p ? gk_error_make(err, ENOMEM, "secretbox")
            : crypto_secretbox_open_easy(plain->p, k->box, k->box_len, k->nonce, key) == 0
                    ? 0
                    : -EBADMSG;
        sodium_memzero(key, sizeof(key));
        return r;
}

static int pkcs8_der(const secret *plain, const char *what, EVP_PKEY **out, gk_error **err)
{
        const unsigned char *p = plain->p;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long) plain->len);

        *out = p8 ? EVP_PKCS82PKEY(p8) : NULL;
        PKCS8_PRIV_KEY_INFO_free(p8);
        if (!*out)
                return gk_error_make(err, 0, "%s: the decrypted key is not a PKCS#8 private key",
                                     what);
        return 0;
}

int gk_cosign_key_load(const char *keyfile, const char *text, size_t len, const char *passphrase,
                       EVP_PKEY **out, gk_error **err)
{
        _cleanup_(gk_cosign_key_clear) gk_cosign_key k = { 0 };
        _cleanup_(secret_clear) secret plain = { 0 };
        _cleanup_free_ char *what = NULL;
        int r;

        if (asprintf(&what, "--sign-by-sigstore-private-key `%s`", keyfile) < 0)
                return gk_error_make(err, ENOMEM, "--sign-by-sigstore-private-key");
        if (gk_cosign_key_parse(text, len, what, &k, err) < 0)
                return -EINVAL;
        if (gk_dl_sodium(err) < 0)
                return gk_error_wrap(err, "%s", what);
        if (sodium_init() < 0)
                return gk_error_make(err, 0, "%s: libsodium could not start", what);
        /* cosign writes keys with an empty passphrase too (COSIGN_PASSWORD=""):
         * without a passphrase file, that is the one tried, as gkimg never
         * prompts */
        r = open_box(&k, passphrase ? passphrase : "", &plain, err);
        if (r == -EBADMSG && !passphrase)
                return gk_error_make(err, 0,
                                     "%s: an encrypted key without the right "
                                     "--sign-passphrase-file",
                                     what);
        if (r == -EBADMSG)
                return gk_error_make(err, 0,
                                     "%s: the passphrase of --sign-passphrase-file is wrong "
                                     "(the key does not decrypt with it)",
                                     what);
        if (r < 0)
                return gk_error_wrap(err, "%s", what);
        return pkcs8_der(&plain, what, out, err);
}
