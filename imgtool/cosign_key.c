/* Reading cosign's encrypted key envelope (cosign_key.h): the PEM block,
 * then its JSON.  Every field is checked here, so that sig_cosign.c gets
 * a salt, a nonce of the right size and a box at least a MAC long. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cosign_key.h"
#include "gk/cleanup.h"
#include "gk/json.h"

#define KDF_SCRYPT "scrypt"
#define CIPHER_SECRETBOX "nacl/secretbox"

static const char *const pem_types[] = { "ENCRYPTED SIGSTORE PRIVATE KEY",
                                         "ENCRYPTED COSIGN PRIVATE KEY" };

/* The line "-----BEGIN|END TYPE-----" in TEXT, at a line start: where it
 * starts, or NULL. */
static const char *find_marker(const char *text, size_t len, const char *edge, const char *type)
{
        char marker[80];
        int m = snprintf(marker, sizeof(marker), "-----%s %s-----", edge, type);
        const char *p = text, *end = text + len;

        while ((p = memmem(p, (size_t) (end - p), marker, (size_t) m))) {
                if (p == text || p[-1] == '\n')
                        return p;
                p++;
        }
        return NULL;
}

bool gk_cosign_key_is(const char *text, size_t len)
{
        for (size_t i = 0; i < sizeof(pem_types) / sizeof(pem_types[0]); i++)
                if (find_marker(text, len, "BEGIN", pem_types[i]))
                        return true;
        return false;
}

/* The base64 between the markers, whitespace left out (PEM wraps it). */
static int pem_body(const char *text, size_t len, const char *what, char **b64, gk_error **err)
{
        const char *begin = NULL, *end = NULL, *p;
        size_t n = 0;

        for (size_t i = 0; i < sizeof(pem_types) / sizeof(pem_types[0]) && !begin; i++) {
                begin = find_marker(text, len, "BEGIN", pem_types[i]);
                if (begin) {
                        begin += strlen("-----BEGIN -----") + strlen(pem_types[i]);
                        end = find_marker(begin, len - (size_t) (begin - text), "END",
                                          pem_types[i]);
                }
        }
        if (!begin)
                return gk_error_make(err, 0, "%s: no cosign key PEM block", what);
        if (!end)
                return gk_error_make(err, 0, "%s: the PEM block has no END line", what);
        *b64 = malloc((size_t) (end - begin) + 1);
        if (!*b64)
                return gk_error_make(err, ENOMEM, "%s", what);
        for (p = begin; p < end; p++)
                if (!strchr(" \t\r\n", *p))
                        (*b64)[n++] = *p;
        (*b64)[n] = '\0';
        return 0;
}

/* Member KEY of OBJ, a base64 string, decoded; FIELD names it in errors. */
static int get_b64(yajl_val obj, const char *key, const char *field, const char *what,
                   unsigned char **out, size_t *len, gk_error **err)
{
        const char *s = gk_json_get_str(obj, key);
        char *bytes = NULL;

        if (!s)
                return gk_error_make(err, 0, "%s: %s is missing or not a string", what, field);
        if (gk_base64_decode(s, &bytes, len) < 0)
                return gk_error_make(err, 0, "%s: %s is not valid base64", what, field);
        *out = (unsigned char *) bytes;
        return 0;
}

static bool get_u64(yajl_val obj, const char *key, uint64_t *out)
{
        yajl_val v = gk_json_get(obj, key);

        return v && gk_json_uint64(v, out);
}

/* cosign's library (go-securesystemslib encrypted) writes one of three
 * settings and refuses any other when it decrypts: so does gkimg. */
static bool scrypt_known(uint64_t n, uint64_t r, uint64_t p)
{
        return (n == 32768 || n == 65536 || n == 131072) && r == 8 && p == 1;
}

static int parse_kdf(yajl_val kdf, const char *what, gk_cosign_key *k, gk_error **err)
{
        const char *name = gk_json_get_str(kdf, "name");
        yajl_val params = gk_json_get(kdf, "params");
        uint64_t n = 0, r = 0, p = 0;

        if (!name)
                return gk_error_make(err, 0, "%s: kdf.name is missing", what);
        if (strcmp(name, KDF_SCRYPT))
                return gk_error_make(err, 0, "%s: kdf `%s` is not supported (only %s)", what, name,
                                     KDF_SCRYPT);
        if (!get_u64(params, "N", &n) || !get_u64(params, "r", &r) || !get_u64(params, "p", &p))
                return gk_error_make(err, 0, "%s: kdf.params needs integers N, r and p", what);
        if (!scrypt_known(n, r, p))
                return gk_error_make(err, 0,
                                     "%s: kdf.params N=%llu r=%llu p=%llu are not ones cosign "
                                     "writes (N 32768, 65536 or 131072, r 8, p 1)",
                                     what, (unsigned long long) n, (unsigned long long) r,
                                     (unsigned long long) p);
        k->n = n;
        k->r = (uint32_t) r;
        k->p = (uint32_t) p;
        if (get_b64(kdf, "salt", "kdf.salt", what, &k->salt, &k->salt_len, err) < 0)
                return -EINVAL;
        if (!k->salt_len)
                return gk_error_make(err, 0, "%s: kdf.salt is empty", what);
        return 0;
}

static int parse_cipher(yajl_val cipher, const char *what, gk_cosign_key *k, gk_error **err)
{
        const char *name = gk_json_get_str(cipher, "name");
        _cleanup_free_ unsigned char *nonce = NULL;
        size_t len = 0;

        if (!name)
                return gk_error_make(err, 0, "%s: cipher.name is missing", what);
        if (strcmp(name, CIPHER_SECRETBOX))
                return gk_error_make(err, 0, "%s: cipher `%s` is not supported (only %s)", what,
                                     name, CIPHER_SECRETBOX);
        if (get_b64(cipher, "nonce", "cipher.nonce", what, &nonce, &len, err) < 0)
                return -EINVAL;
        if (len != GK_COSIGN_NONCE_LEN)
                return gk_error_make(err, 0, "%s: cipher.nonce is %zu bytes, not %d", what, len,
                                     GK_COSIGN_NONCE_LEN);
        memcpy(k->nonce, nonce, len);
        return 0;
}

static int parse_envelope(const char *json, size_t len, const char *what, gk_cosign_key *k,
                          gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val root = NULL;
        yajl_val kdf, cipher;

        if (gk_json_parse(json, len, what, &root, err) < 0)
                return -EINVAL;
        kdf = gk_json_get(root, "kdf");
        cipher = gk_json_get(root, "cipher");
        if (!YAJL_IS_OBJECT(kdf) || !YAJL_IS_OBJECT(cipher))
                return gk_error_make(err, 0, "%s: not a cosign key envelope (no kdf and cipher)",
                                     what);
        if (parse_kdf(kdf, what, k, err) < 0 || parse_cipher(cipher, what, k, err) < 0 ||
            get_b64(root, "ciphertext", "ciphertext", what, &k->box, &k->box_len, err) < 0)
                return -EINVAL;
        if (k->box_len < GK_COSIGN_MAC_LEN)
                return gk_error_make(err, 0, "%s: ciphertext is shorter than its MAC", what);
        return 0;
}

int gk_cosign_key_parse(const char *text, size_t len, const char *what, gk_cosign_key *out,
                        gk_error **err)
{
        _cleanup_free_ char *b64 = NULL, *json = NULL;
        size_t json_len = 0;
        gk_cosign_key k = { 0 };

        if (pem_body(text, len, what, &b64, err) < 0)
                return -EINVAL;
        if (gk_base64_decode(b64, &json, &json_len) < 0)
                return gk_error_make(err, 0, "%s: the PEM block is not valid base64", what);
        if (parse_envelope(json, json_len, what, &k, err) < 0) {
                gk_cosign_key_clear(&k);
                return -EINVAL;
        }
        *out = k;
        return 0;
}

void gk_cosign_key_clear(gk_cosign_key *k)
{
        free(k->salt);
        free(k->box);
        *k = (gk_cosign_key){ 0 };
}
