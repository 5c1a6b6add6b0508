/* fuzz-sources: imgtool/cosign_key.c imgtool/auth.c */
/* fuzz-libs: yajl libcrypto */
/* cosign's encrypted private key envelope (imgtool/cosign_key.c), read
 * before any passphrase is tried: whatever the file holds, reading it
 * either fails with a message that names the key, or yields a salt, a
 * 24-byte nonce, a box at least a MAC long and scrypt parameters cosign
 * writes (so the KDF's memory and time stay bounded).  An input whose
 * first byte is odd is the JSON alone, put in a PEM block here, so that
 * the fuzzer reaches the JSON without having to find base64 first. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cosign_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WHAT "--sign-by-sigstore-private-key `fuzz.key`"

static void check(const char *text, size_t len)
{
        gk_cosign_key k = { 0 };
        gk_error *err = NULL;

        if (gk_cosign_key_parse(text, len, WHAT, &k, &err) < 0) {
                if (!err || !err->msg || strncmp(err->msg, WHAT ": ", strlen(WHAT) + 2))
                        abort();
                if (k.salt || k.box)
                        abort();
                gk_error_free(err);
                return;
        }
        if (!gk_cosign_key_is(text, len) || !k.salt || !k.salt_len || !k.box ||
            k.box_len < GK_COSIGN_MAC_LEN || k.r != 8 || k.p != 1 ||
            (k.n != 32768 && k.n != 65536 && k.n != 131072))
                abort();
        gk_cosign_key_clear(&k);
}

static void check_json(const uint8_t *data, size_t size)
{
        char *b64 = gk_base64_encode(data, size), *text = NULL;
        int n;

        if (!b64)
                abort();
        n = asprintf(&text,
                     "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n%s\n"
                     "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
                     b64);
        if (n < 0)
                abort();
        check(text, (size_t) n);
        free(text);
        free(b64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size && (data[0] & 1))
                check_json(data + 1, size - 1);
        else
                check((const char *) data, size);
        return 0;
}
