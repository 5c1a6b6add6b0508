/* cosign's encrypted private key, as `cosign generate-key-pair` writes it
 * (and skopeo's --sign-by-sigstore-private-key takes): a PEM block of type
 * "ENCRYPTED SIGSTORE PRIVATE KEY" (older cosign: "ENCRYPTED COSIGN
 * PRIVATE KEY") whose body is the JSON envelope
 *   {"kdf":{"name":"scrypt","params":{"N":..,"r":..,"p":..},"salt":B64},
 *    "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}
 * The secretbox key is scrypt(passphrase, salt, N, r, p, 32 bytes); the box
 * holds a DER PKCS#8 private key.  This file only reads the envelope (no
 * crypto, so it can be fuzzed alone); sig_cosign.c opens the box. */
#ifndef GK_IMGTOOL_COSIGN_KEY_H
#define GK_IMGTOOL_COSIGN_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"

#define GK_COSIGN_NONCE_LEN 24 /* XSalsa20 */
#define GK_COSIGN_MAC_LEN 16   /* Poly1305, in front of the ciphertext */

typedef struct gk_cosign_key {
        uint64_t n;
        uint32_t r, p;
        unsigned char *salt;
        size_t salt_len;
        unsigned char nonce[GK_COSIGN_NONCE_LEN];
        unsigned char *box; /* MAC then ciphertext, as secretbox_open_easy takes it */
        size_t box_len;
} gk_cosign_key;

/* Whether TEXT (LEN bytes) begins a cosign encrypted key's PEM block. */
bool gk_cosign_key_is(const char *text, size_t len);

/* Reads the envelope of the key in TEXT (LEN bytes, need not be
 * NUL-terminated).  WHAT starts every error ("--sign-by-sigstore-private-key
 * `cosign.key`").  Only the scrypt parameters cosign's library writes are
 * taken (N 32768, 65536 or 131072, r 8, p 1): a file cannot make the KDF
 * take more memory or time than cosign's own strongest setting. */
int gk_cosign_key_parse(const char *text, size_t len, const char *what, gk_cosign_key *out,
                        gk_error **err);

void gk_cosign_key_clear(gk_cosign_key *k);

#endif
