/* Image reference parsing (imgtool/reference.c): Docker's normalization
 * and strict validation with messages that say what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/reference.h"
#include "gk/cleanup.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_ref(const char *in, const char *domain, const char *path, const char *tag,
                       const char *digest, const char *canonical)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        _cleanup_free_ char *s = NULL;
        gk_error *err = NULL;

        if (gk_reference_parse(in, &r, &err) < 0)
                fail_msg("parse(%s): %s", in, err->msg);
        assert_string_equal(r.domain, domain);
        assert_string_equal(r.path, path);
        if (tag)
                assert_string_equal(r.tag, tag);
        else
                assert_null(r.tag);
        if (digest)
                assert_string_equal(r.digest, digest);
        else
                assert_null(r.digest);
        s = gk_reference_string(&r);
        assert_string_equal(s, canonical);
}

static void expect_bad(const char *in, const char *msg_part)
{
        gk_reference r = { 0 };
        gk_error *err = NULL;

        if (gk_reference_parse(in, &r, &err) == 0)
                fail_msg("parse(%s) succeeded", in);
        assert_null(r.domain);
        assert_non_null(err);
        if (!strstr(err->msg, msg_part))
                fail_msg("parse(%s): message `%s` lacks `%s`", in, err->msg, msg_part);
        gk_error_free(err);
}

static void test_docker_hub_defaults(void **state)
{
        expect_ref("alpine", "docker.io", "library/alpine", "latest", NULL,
                   "docker.io/library/alpine:latest");
        expect_ref("alpine:3.19", "docker.io", "library/alpine", "3.19", NULL,
                   "docker.io/library/alpine:3.19");
        expect_ref("user/app:tag", "docker.io", "user/app", "tag", NULL, "docker.io/user/app:tag");
        expect_ref("docker.io/library/alpine", "docker.io", "library/alpine", "latest", NULL,
                   "docker.io/library/alpine:latest");
        expect_ref("index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", NULL,
                   "docker.io/library/busybox:1");
        expect_ref("docker.io/alpine", "docker.io", "library/alpine", "latest", NULL,
                   "docker.io/library/alpine:latest");
}

static void test_registries(void **state)
{
        expect_ref("localhost/app", "localhost", "app", "latest", NULL, "localhost/app:latest");
        expect_ref("localhost:5000/team/app:v1", "localhost:5000", "team/app", "v1", NULL,
                   "localhost:5000/team/app:v1");
        expect_ref("registry.example.com/a/b/c:x", "registry.example.com", "a/b/c", "x", NULL,
                   "registry.example.com/a/b/c:x");
        expect_ref("127.0.0.1:5000/repo", "127.0.0.1:5000", "repo", "latest", NULL,
                   "127.0.0.1:5000/repo:latest");
        expect_ref("[::1]:5000/repo:t", "[::1]:5000", "repo", "t", NULL, "[::1]:5000/repo:t");
        expect_ref("Registry.Example/app", "Registry.Example", "app", "latest", NULL,
                   "Registry.Example/app:latest");
}

static void test_digests(void **state)
{
        expect_ref("host:5000/repo@sha256:" D64, "host:5000", "repo", NULL, "sha256:" D64,
                   "host:5000/repo@sha256:" D64);
        /* tag and digest: both kept, the canonical name is by digest */
        expect_ref("alpine:3@sha256:" D64, "docker.io", "library/alpine", "3", "sha256:" D64,
                   "docker.io/library/alpine@sha256:" D64);
}

static void test_separators(void **state)
{
        expect_ref("x/a_b__c-d---e.f", "docker.io", "x/a_b__c-d---e.f", "latest", NULL,
                   "docker.io/x/a_b__c-d---e.f:latest");
        /* a '.' in the first component makes it a registry host */
        expect_ref("a.b/g", "a.b", "g", "latest", NULL, "a.b/g:latest");
        expect_ref("app:_Tag.1-x", "docker.io", "library/app", "_Tag.1-x", NULL,
                   "docker.io/library/app:_Tag.1-x");
}

static void test_refused(void **state)
{
        expect_bad("", "empty");
        expect_bad("Alpine", "lowercase");
        expect_bad("user/App", "lowercase");
        expect_bad("alpine:", "not a valid tag");
        expect_bad("alpine:-x", "not a valid tag");
        expect_bad("alpine:a/b", "not a valid registry host"); /* a port must be a number */
        expect_bad("a b", "space");
        expect_bad("alpine@sha256:abc", "not a sha256 digest");
        expect_bad("alpine@md5:abc", "not supported");
        expect_bad("alpine@" D64, "not a digest");
        expect_bad("a__-b", "not a valid repository name component");
        expect_bad("-a", "not a valid repository name component");
        expect_bad("a.", "not a valid repository name component");
        expect_bad("a//b", "not a valid repository name component");
        expect_bad("host:99999/app", "not a valid registry host");
        expect_bad("host:/app", "not a valid registry host");
        expect_bad("-host.com/app", "not a valid registry host");
        expect_bad("host.com/", "missing repository name");
        expect_bad("a\n", "control");
}

static void test_long_names(void **state)
{
        char name[300], tag[140];

        memset(name, 'a', 256);
        name[256] = '\0';
        expect_bad(name, "longer than 255");
        /* counted after normalization: docker.io/library/ + 240 is too long */
        name[240] = '\0';
        expect_bad(name, "longer than 255");
        memset(tag, 'b', 129);
        tag[129] = '\0';
        snprintf(name, sizeof(name), "app:%s", tag);
        expect_bad(name, "not a valid tag");
        tag[128] = '\0';
        snprintf(name, sizeof(name), "app:%s", tag);
        {
                gk_reference r = { 0 };

                assert_int_equal(gk_reference_parse(name, &r, NULL), 0);
                gk_reference_clear(&r);
        }
}

static void test_familiar_and_hosts(void **state)
{
        gk_reference r = { 0 };
        char *s;

        assert_int_equal(gk_reference_parse("alpine", &r, NULL), 0);
        s = gk_reference_familiar_name(&r);
        assert_string_equal(s, "alpine");
        free(s);
        assert_string_equal(gk_reference_api_host(&r), "registry-1.docker.io");
        gk_reference_clear(&r);
        assert_int_equal(gk_reference_parse("user/app", &r, NULL), 0);
        s = gk_reference_familiar_name(&r);
        assert_string_equal(s, "user/app");
        free(s);
        gk_reference_clear(&r);
        assert_int_equal(gk_reference_parse("localhost:5000/x", &r, NULL), 0);
        s = gk_reference_familiar_name(&r);
        assert_string_equal(s, "localhost:5000/x");
        free(s);
        assert_string_equal(gk_reference_api_host(&r), "localhost:5000");
        gk_reference_clear(&r);

        assert_true(gk_host_is_loopback("localhost"));
        assert_true(gk_host_is_loopback("localhost:5000"));
        assert_true(gk_host_is_loopback("127.0.0.1:5000"));
        assert_true(gk_host_is_loopback("127.1.2.3"));
        assert_true(gk_host_is_loopback("[::1]:80"));
        assert_false(gk_host_is_loopback("127.0.0.1.evil.com"));
        assert_false(gk_host_is_loopback("localhost.evil.com"));
        assert_false(gk_host_is_loopback("128.0.0.1"));
        assert_false(gk_host_is_loopback("docker.io"));
        assert_false(gk_host_is_loopback("127.0.0"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker_hub_defaults),
                cmocka_unit_test(test_registries),
                cmocka_unit_test(test_digests),
                cmocka_unit_test(test_separators),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_long_names),
                cmocka_unit_test(test_familiar_and_hosts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
