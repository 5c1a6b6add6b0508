/* WWW-Authenticate challenges, token answers and base64
 * (imgtool/auth.c): pure parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/auth.h"
#include "gk/cleanup.h"

static void expect_challenge(const char *h, gk_auth_scheme scheme, const char *realm,
                             const char *service, const char *scope)
{
        _cleanup_(gk_challenge_clear) gk_challenge c = { 0 };
        gk_error *err = NULL;

        if (gk_auth_parse_challenge(h, &c, &err) < 0)
                fail_msg("parse(%s): %s", h, err->msg);
        assert_int_equal(c.scheme, scheme);
        assert_string_equal(c.realm ? c.realm : "(null)", realm ? realm : "(null)");
        assert_string_equal(c.service ? c.service : "(null)", service ? service : "(null)");
        assert_string_equal(c.scope ? c.scope : "(null)", scope ? scope : "(null)");
}

static void expect_bad(const char *h, const char *msg_part)
{
        gk_challenge c = { 0 };
        gk_error *err = NULL;

        if (gk_auth_parse_challenge(h, &c, &err) == 0)
                fail_msg("parse(%s) succeeded", h ? h : "(null)");
        assert_null(c.realm);
        if (!strstr(err->msg, msg_part))
                fail_msg("parse(%s): message `%s` lacks `%s`", h, err->msg, msg_part);
        gk_error_free(err);
}

static void test_docker_hub(void **state)
{
        expect_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker"
                         ".io\",scope=\"repository:library/alpine:pull\"",
                         GK_AUTH_BEARER, "https://auth.docker.io/token", "registry.docker.io",
                         "repository:library/alpine:pull");
}

static void test_variants(void **state)
{
        /* spaces, case, unquoted tokens, commas inside quotes */
        expect_challenge("bearer  realm = \"https://r/t\" , scope=\"repository:a:pull,push\"",
                         GK_AUTH_BEARER, "https://r/t", NULL, "repository:a:pull,push");
        expect_challenge("Bearer realm=https://r/t,service=reg", GK_AUTH_BEARER, "https://r/t",
                         "reg", NULL);
        expect_challenge("Basic realm=\"Registry Realm\"", GK_AUTH_BASIC, "Registry Realm", NULL,
                         NULL);
        expect_challenge("Basic", GK_AUTH_BASIC, NULL, NULL, NULL);
        /* escaped quote in a quoted string */
        expect_challenge("Bearer realm=\"https://r/t\",service=\"a\\\"b\"", GK_AUTH_BEARER,
                         "https://r/t", "a\"b", NULL);
        /* unknown params are ignored, the first of a duplicate wins */
        expect_challenge("Bearer realm=\"https://a/t\",foo=bar,realm=\"https://b/t\"",
                         GK_AUTH_BEARER, "https://a/t", NULL, NULL);
}

static void test_several_challenges(void **state)
{
        /* Bearer is preferred over Basic whatever the order */
        expect_challenge("Basic realm=\"x\", Bearer realm=\"https://r/t\",service=\"s\"",
                         GK_AUTH_BEARER, "https://r/t", "s", NULL);
        expect_challenge("Bearer realm=\"https://r/t\", Basic realm=\"x\"", GK_AUTH_BEARER,
                         "https://r/t", NULL, NULL);
        /* an unknown scheme is skipped */
        expect_challenge("Negotiate abc==, Basic realm=\"x\"", GK_AUTH_BASIC, "x", NULL, NULL);
}

static void test_error_param(void **state)
{
        _cleanup_(gk_challenge_clear) gk_challenge c = { 0 };

        assert_int_equal(gk_auth_parse_challenge("Bearer realm=\"https://r/t\",error=\"insufficie"
                                                 "nt_scope\"",
                                                 &c, NULL),
                         0);
        assert_string_equal(c.error, "insufficient_scope");
}

static void test_refused(void **state)
{
        expect_bad(NULL, "without a WWW-Authenticate");
        expect_bad("", "without a WWW-Authenticate");
        expect_bad("Negotiate", "no Bearer or Basic");
        expect_bad("Bearer service=\"x\"", "no Bearer or Basic"); /* no realm */
        expect_bad("Bearer realm=\"unterminated", "no Bearer or Basic");
        expect_bad("Bearer realm=\"file:///etc/passwd\"", "not an http(s) URL");
        expect_bad("Bearer realm=", "no Bearer or Basic");
}

static void test_token(void **state)
{
        char *tok = NULL;
        int64_t exp = 0;
        gk_error *err = NULL;
        const char *j1 =
                "{\"token\":\"abc\",\"expires_in\":300,\"issued_at\":\"2024-01-01T00:00:00Z\"}";
        const char *j2 = "{\"access_token\":\"xyz\"}";
        const char *j3 = "{\"token\":\"t\",\"expires_in\":5}";
        const char *j4 = "{\"token\":\"a\",\"expires_in\":-1}";

        assert_int_equal(gk_auth_parse_token(j1, strlen(j1), 1000, &tok, &exp, NULL), 0);
        assert_string_equal(tok, "abc");
        assert_int_equal(exp, 1300);
        free(tok);
        assert_int_equal(gk_auth_parse_token(j2, strlen(j2), 1000, &tok, &exp, NULL), 0);
        assert_string_equal(tok, "xyz");
        assert_int_equal(exp, 1060); /* default lifetime */
        free(tok);
        assert_int_equal(gk_auth_parse_token(j3, strlen(j3), 0, &tok, &exp, NULL), 0);
        assert_int_equal(exp, 60); /* never below the spec's minimum */
        free(tok);
        assert_true(gk_auth_parse_token("{}", 2, 0, &tok, &exp, &err) < 0);
        assert_non_null(strstr(err->msg, "no `token`"));
        gk_error_free(err);
        err = NULL;
        assert_true(gk_auth_parse_token(j4, strlen(j4), 0, &tok, &exp, &err) < 0);
        assert_non_null(strstr(err->msg, "expires_in"));
        gk_error_free(err);
        err = NULL;
        assert_true(gk_auth_parse_token("<html>", 6, 0, &tok, &exp, &err) < 0);
        assert_non_null(strstr(err->msg, "invalid JSON"));
        gk_error_free(err);
}

static void test_base64(void **state)
{
        char *s = gk_base64_encode("user:pa:ss", 10), *d = NULL;
        size_t n = 0;

        assert_string_equal(s, "dXNlcjpwYTpzcw==");
        assert_int_equal(gk_base64_decode(s, &d, &n), 0);
        assert_int_equal(n, 10);
        assert_string_equal(d, "user:pa:ss");
        free(s);
        free(d);
        assert_true(gk_base64_decode("abc", &d, &n) < 0);
        assert_true(gk_base64_decode("a!!=", &d, &n) < 0);
}

static void test_config_key(void **state)
{
        assert_string_equal(gk_auth_config_key("docker.io"), "https://index.docker.io/v1/");
        assert_string_equal(gk_auth_config_key("localhost:5000"), "localhost:5000");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker_hub),
                cmocka_unit_test(test_variants),
                cmocka_unit_test(test_several_challenges),
                cmocka_unit_test(test_error_param),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_token),
                cmocka_unit_test(test_base64),
                cmocka_unit_test(test_config_key),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
