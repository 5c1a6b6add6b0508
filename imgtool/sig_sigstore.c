/* sigstore signatures with a plain key pair, through OpenSSL: the
 * annotation holds base64 of the signature (ASN.1 for ECDSA) of the
 * payload's SHA-256.  Keyless signing (fulcio, rekor) is not supported.
 * A PKCS#8 key, encrypted or not, and an EC key in PEM are taken, and
 * cosign's own encrypted format (scrypt + NaCl secretbox, which OpenSSL
 * lacks): sig_cosign.c opens that one through libsodium. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cosign_key.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "sig_internal.h"

static void pkey_freep(EVP_PKEY **k)
{
        EVP_PKEY_free(*k);
}

static void bio_freep(BIO **b)
{
        BIO_free(*b);
}

static const EVP_MD *md_for(EVP_PKEY *k)
{
        int id = EVP_PKEY_get_base_id(k);

        return id == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

static bool verify_one(EVP_PKEY *k, const char *payload, size_t len, const unsigned char *sig,
                       size_t slen)
{
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        bool ok = c && EVP_DigestVerifyInit(c, NULL, md_for(k), NULL, k) == 1 &&
                  EVP_DigestVerify(c, sig, slen, (const unsigned char *) payload, len) == 1;

        EVP_MD_CTX_free(c);
        return ok;
}

/* Every PEM public key in KB; *found counts them. */
static bool verify_blob(const gk_keyblob *kb, const char *payload, size_t len,
                        const unsigned char *sig, size_t slen, int *found)
{
        _cleanup_(bio_freep) BIO *b = BIO_new_mem_buf(kb->data, (int) kb->len);
        bool ok = false;

        while (b && !ok) {
                _cleanup_(pkey_freep) EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);

                if (!k)
                        break;
                (*found)++;
                ok = verify_one(k, payload, len, sig, slen);
        }
        return ok;
}

int gk_sigstore_verify(const gk_keys *keys, const char *payload, size_t len, const char *sig_b64,
                       gk_error **err)
{
        _cleanup_free_ char *sig = NULL;
        gk_keyblob *kb = NULL;
        size_t n = 0, slen = 0;
        int found = 0;
        bool ok = false;

        if (gk_base64_decode(sig_b64, &sig, &slen) < 0)
                return gk_error_make(err, EBADMSG, "sigstore signature: not valid base64");
        if (gk_keys_read(keys, &kb, &n, err) < 0)
                return -ENOKEY;
        for (size_t i = 0; i < n && !ok; i++) {
                int before = found;

                ok = verify_blob(&kb[i], payload, len, (unsigned char *) sig, slen, &found);
                if (!ok && found == before) {
                        gk_error_make(err, 0, "policy key `%s`: no PEM public key in it",
                                      kb[i].name);
                        gk_keyblobs_free(kb, n);
                        return -ENOKEY;
                }
        }
        gk_keyblobs_free(kb, n);
        return ok ? 0 : gk_error_make(err, 0, "sigstore signature not made by the policy's key");
}

/* OpenSSL's passphrase callback: the file's, never a prompt. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
        size_t n = u ? strlen(u) : 0;

        if (!u || n > (size_t) size)
                return -1;
        memcpy(buf, u, n);
        return (int) n;
}

static int load_private(const char *keyfile, const char *passphrase, EVP_PKEY **out,
                        gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(bio_freep) BIO *b = NULL;
        size_t len = 0;

        if (gk_read_file(keyfile, &text, &len, err) < 0)
                return gk_error_wrap(err, "--sign-by-sigstore-private-key");
        if (gk_cosign_key_is(text, len))
                return gk_cosign_key_load(keyfile, text, len, passphrase, out, err);
        b = BIO_new_mem_buf(text, (int) len);
        *out = b ? PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *) passphrase) : NULL;
        if (!*out)
                return gk_error_make(err, 0,
                                     "--sign-by-sigstore-private-key `%s`: not a PEM private key "
                                     "(or an encrypted one without the right "
                                     "--sign-passphrase-file)",
                                     keyfile);
        return 0;
}

int gk_sigstore_sign(const char *keyfile, const char *passphrase, const char *payload, size_t len,
                     char **sig_b64, gk_error **err)
{
        _cleanup_(pkey_freep) EVP_PKEY *k = NULL;
        _cleanup_free_ unsigned char *sig = NULL;
        EVP_MD_CTX *c;
        size_t slen = 0;
        bool ok;

        if (load_private(keyfile, passphrase, &k, err) < 0)
                return -EINVAL;
        c = EVP_MD_CTX_new();
        ok = c && EVP_DigestSignInit(c, NULL, md_for(k), NULL, k) == 1 &&
             EVP_DigestSign(c, NULL, &slen, (const unsigned char *) payload, len) == 1 &&
             (sig = malloc(slen)) &&
             EVP_DigestSign(c, sig, &slen, (const unsigned char *) payload, len) == 1;
        EVP_MD_CTX_free(c);
        if (!ok)
                return gk_error_make(err, 0, "--sign-by-sigstore-private-key `%s`: signing failed",
                                     keyfile);
        *sig_b64 = gk_base64_encode(sig, slen);
        return *sig_b64 ? 0 : gk_error_make(err, ENOMEM, "sigstore");
}
