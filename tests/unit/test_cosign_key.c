/* cosign's encrypted private key: the envelope reader (imgtool/cosign_key.c)
 * and the opening of the box (imgtool/sig_cosign.c) against a vector made
 * by cosign's own library (go-securesystemslib encrypted, TestDecrypt:
 * "reallyimportant" under the passphrase "supersecret"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/auth.h"
#include "../../imgtool/cosign_key.h"
#include "../../imgtool/sig_internal.h"
#include "gk/cleanup.h"

#define WHAT "--sign-by-sigstore-private-key `k`"
#define SIGSTORE "ENCRYPTED SIGSTORE PRIVATE KEY"
#define COSIGN "ENCRYPTED COSIGN PRIVATE KEY"

#define GO_VECTOR                                                                            \
        "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":32768,\"r\":8,\"p\":1},"            \
        "\"salt\":\"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g=\"},\"cipher\":{\"name\":"   \
        "\"nacl/secretbox\",\"nonce\":\"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik\"},\"ciphertext\":" \
        "\"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ==\"}"

/* JSON as a PEM block of TYPE, its base64 wrapped at 64 columns with EOL. */
static char *pem(const char *type, const char *json, const char *eol)
{
        _cleanup_free_ char *b64 = gk_base64_encode(json, strlen(json));
        size_t n = strlen(b64), cap = 2 * n + 256, len = 0;
        char *out = malloc(cap);

        assert_non_null(b64);
        assert_non_null(out);
        len += (size_t) snprintf(out + len, cap - len, "-----BEGIN %s-----%s", type, eol);
        for (size_t i = 0; i < n; i += 64)
                len += (size_t) snprintf(out + len, cap - len, "%.64s%s", b64 + i, eol);
        snprintf(out + len, cap - len, "-----END %s-----%s", type, eol);
        return out;
}

static void test_is(void **state)
{
        _cleanup_free_ char *a = pem(SIGSTORE, "{}", "\n"), *b = pem(COSIGN, "{}", "\r\n");
        const char *pkcs8 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n";
        const char *inline_marker = "x-----BEGIN " SIGSTORE "-----\n";

        assert_true(gk_cosign_key_is(a, strlen(a)));
        assert_true(gk_cosign_key_is(b, strlen(b)));
        assert_false(gk_cosign_key_is(pkcs8, strlen(pkcs8)));
        assert_false(gk_cosign_key_is(inline_marker, strlen(inline_marker)));
        /* the length is honoured: the marker cut short is not found */
        assert_false(gk_cosign_key_is(a, 20));
}

static void test_parse(void **state)
{
        static const char *const eols[] = { "\n", "\r\n" };

        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *text = pem(i ? COSIGN : SIGSTORE, GO_VECTOR, eols[i]);
                gk_cosign_key k = { 0 };
                gk_error *err = NULL;

                if (gk_cosign_key_parse(text, strlen(text), WHAT, &k, &err) < 0)
                        fail_msg("parse: %s", err->msg);
                assert_int_equal(k.n, 32768);
                assert_int_equal(k.r, 8);
                assert_int_equal(k.p, 1);
                assert_int_equal(k.salt_len, 32);
                assert_int_equal(k.salt[0], 0x37);  /* "N9a7" */
                assert_int_equal(k.nonce[0], 0xda); /* "2h8H" */
                assert_int_equal(k.box_len, GK_COSIGN_MAC_LEN + strlen("reallyimportant"));
                gk_cosign_key_clear(&k);
                assert_null(k.salt);
        }
}

static void expect_refused(const char *text, const char *part)
{
        gk_cosign_key k = { 0 };
        gk_error *err = NULL;

        if (gk_cosign_key_parse(text, strlen(text), WHAT, &k, &err) == 0)
                fail_msg("parsed: %s", text);
        assert_null(k.salt);
        assert_null(k.box);
        if (strncmp(err->msg, WHAT ": ", strlen(WHAT) + 2) || !strstr(err->msg, part))
                fail_msg("message `%s`: wants `%s` after the key's name", err->msg, part);
        gk_error_free(err);
}

/* GO_VECTOR with FROM replaced by TO, as a PEM block. */
static void expect_json_refused(const char *from, const char *to, const char *part)
{
        const char *at = strstr(GO_VECTOR, from);
        _cleanup_free_ char *json = NULL, *text = NULL;

        assert_non_null(at);
        assert_true(asprintf(&json, "%.*s%s%s", (int) (at - GO_VECTOR), GO_VECTOR, to,
                             at + strlen(from)) > 0);
        text = pem(SIGSTORE, json, "\n");
        expect_refused(text, part);
}

static void test_refused(void **state)
{
        _cleanup_free_ char *not_json = pem(SIGSTORE, "kdf", "\n");
        _cleanup_free_ char *no_kdf = pem(SIGSTORE, "{\"cipher\":{}}", "\n");
        _cleanup_free_ char *cut = pem(SIGSTORE, GO_VECTOR, "\n");

        expect_json_refused("\"scrypt\"", "\"argon2id\"", "kdf `argon2id` is not supported");
        expect_json_refused("\"nacl/secretbox\"", "\"aes-256-gcm\"",
                            "cipher `aes-256-gcm` is not supported");
        expect_json_refused("\"name\":\"scrypt\",", "", "kdf.name is missing");
        expect_json_refused("32768", "1048576", "N=1048576 r=8 p=1 are not ones cosign writes");
        expect_json_refused("\"p\":1", "\"p\":2", "N=32768 r=8 p=2");
        expect_json_refused("\"r\":8", "\"r\":\"8\"", "needs integers N, r and p");
        expect_json_refused("32768", "-32768", "needs integers");
        expect_json_refused("N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g=", "",
                            "kdf.salt is empty");
        expect_json_refused("N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g=", "N9a7*",
                            "kdf.salt is not valid base64");
        expect_json_refused("2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik", "2h8HxMmgRfuYdpswZBQaU3xJ1nkA",
                            "cipher.nonce is 21 bytes, not 24");
        expect_json_refused("\"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ==\"", "\"AAAA\"",
                            "ciphertext is shorter than its MAC");
        expect_json_refused("\"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ==\"", "7",
                            "ciphertext is missing or not a string");
        expect_refused(not_json, "invalid JSON");
        expect_refused(no_kdf, "not a cosign key envelope");
        expect_refused("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                       "no cosign key PEM block");
        cut[strlen(cut) - 10] = '\0';
        expect_refused(cut, "has no END line");
        expect_refused("-----BEGIN " SIGSTORE "-----\n%%%%\n-----END " SIGSTORE "-----\n",
                       "the PEM block is not valid base64");
}

static int load(const char *text, const char *pass, gk_error **err)
{
        EVP_PKEY *k = NULL;
        int r = gk_cosign_key_load("k", text, strlen(text), pass, &k, err);

        assert_null(k);
        return r;
}

/* The box of cosign's library opens with the right passphrase only: the
 * plaintext ("reallyimportant") is then refused as not PKCS#8, which
 * shows that scrypt and the secretbox agree with Go's. */
static void test_open_go_vector(void **state)
{
        _cleanup_free_ char *text = pem(SIGSTORE, GO_VECTOR, "\n");
        gk_error *err = NULL;

        assert_true(load(text, "supersecret", &err) < 0);
        assert_non_null(strstr(err->msg, WHAT ": the decrypted key is not a PKCS#8"));
        gk_error_free(err);
        err = NULL;
        assert_true(load(text, "supersecreT", &err) < 0);
        assert_non_null(strstr(err->msg, WHAT ": the passphrase of --sign-passphrase-file is "
                                              "wrong"));
        gk_error_free(err);
        err = NULL;
        assert_true(load(text, NULL, &err) < 0);
        assert_non_null(strstr(err->msg, WHAT ": an encrypted key without the right "
                                              "--sign-passphrase-file"));
        gk_error_free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_is),
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_open_go_vector),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
