/* Manifest and index parsing and platform selection
 * (imgtool/manifest.c, imgtool/platform.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/manifest.h"
#include "gk/cleanup.h"

#define D(c)                                                                                      \
        "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
                c c c c c c c c c c c c c c c c c c c c c c c c

static const char docker_manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_DOCKER_MANIFEST "\","
        "\"config\":{\"mediaType\":\"" GK_MT_DOCKER_CONFIG "\",\"digest\":\"" D(
                "a") "\","
                     "\"size\":100},\"layers\":[{\"mediaType\":\"" GK_MT_DOCKER_LAYER_GZIP "\","
                     "\"digest\":\"" D(
                             "b") "\",\"size\":2000},{\"mediaType\":\"" GK_MT_OCI_LAYER_ZSTD "\","
                                  "\"digest\":\"" D("c") "\",\"size\":3}]}";

static const char oci_index[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_INDEX "\",\"manifests\":["
        "{\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"digest\":\"" D(
                "1") "\",\"size\":10,"
                     "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
                     "{\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"digest\":\"" D(
                             "2") "\",\"size\":10,"
                                  "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
                                  "{\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"digest\":\"" D(
                                          "3") "\",\"size\":10,"
                                               "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
                                               "{\"mediaType\":\"" GK_MT_OCI_MANIFEST
                                               "\",\"digest\":\"" D(
                                                       "4") "\",\"size\":10,"
                                                            "\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"},"
                                                            "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}}]}";

static int parse(const char *text, const char *ct, gk_manifest *m, gk_error **err)
{
        return gk_manifest_parse(text, strlen(text), ct, m, err);
}

static void expect_bad(const char *text, const char *msg_part)
{
        gk_manifest m;
        gk_error *err = NULL;

        if (parse(text, NULL, &m, &err) == 0)
                fail_msg("parse(%s) succeeded", text);
        if (!strstr(err->msg, msg_part))
                fail_msg("parse(%s): message `%s` lacks `%s`", text, err->msg, msg_part);
        gk_error_free(err);
}

static void test_docker_manifest(void **state)
{
        _cleanup_(gk_manifest_clear) gk_manifest m = { 0 };
        gk_error *err = NULL;

        if (parse(docker_manifest, NULL, &m, &err) < 0)
                fail_msg("%s", err->msg);
        assert_int_equal(m.kind, GK_MANIFEST_IMAGE);
        assert_string_equal(m.media_type, GK_MT_DOCKER_MANIFEST);
        assert_string_equal(m.config.digest, D("a"));
        assert_int_equal(m.config.size, 100);
        assert_int_equal(m.n_layers, 2);
        assert_string_equal(m.layers[0].digest, D("b"));
        assert_int_equal(m.layers[0].size, 2000);
        assert_string_equal(m.layers[1].media_type, GK_MT_OCI_LAYER_ZSTD);
}

static void test_oci_without_media_type(void **state)
{
        _cleanup_(gk_manifest_clear) gk_manifest m = { 0 };
        const char *t = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" D(
                "a") "\",\"size\":1},\"layers\":[]}";

        assert_int_equal(parse(t, NULL, &m, NULL), 0);
        assert_int_equal(m.kind, GK_MANIFEST_IMAGE);
        assert_string_equal(m.media_type, GK_MT_OCI_MANIFEST);
        gk_manifest_clear(&m);
        /* the Content-Type decides when the document does not say */
        t = "{\"schemaVersion\":2,\"manifests\":[]}";
        assert_int_equal(parse(t, GK_MT_DOCKER_LIST "; charset=utf-8", &m, NULL), 0);
        assert_int_equal(m.kind, GK_MANIFEST_INDEX);
        assert_string_equal(m.media_type, GK_MT_DOCKER_LIST);
}

static void test_index(void **state)
{
        _cleanup_(gk_manifest_clear) gk_manifest m = { 0 };
        gk_error *err = NULL;

        if (parse(oci_index, NULL, &m, &err) < 0)
                fail_msg("%s", err->msg);
        assert_int_equal(m.kind, GK_MANIFEST_INDEX);
        assert_int_equal(m.n_manifests, 4);
        assert_false(m.manifests[0].attestation);
        assert_true(m.manifests[3].attestation);
        assert_string_equal(m.manifests[1].platform.variant, "v8");
        assert_null(m.manifests[0].platform.variant);
}

static void select_expect(const gk_manifest *m, const char *plat, const char *digest)
{
        _cleanup_(gk_platform_clear) gk_platform p = { 0 };
        gk_error *err = NULL;
        size_t i = 99;

        assert_int_equal(gk_platform_parse(plat, &p, NULL), 0);
        if (gk_manifest_select(m, &p, &i, &err) < 0)
                fail_msg("select(%s): %s", plat, err->msg);
        assert_string_equal(m->manifests[i].digest, digest);
}

static void test_select(void **state)
{
        _cleanup_(gk_manifest_clear) gk_manifest m = { 0 };
        _cleanup_(gk_platform_clear) gk_platform p = { 0 };
        gk_error *err = NULL;
        size_t i;

        assert_int_equal(parse(oci_index, NULL, &m, NULL), 0);
        select_expect(&m, "linux/amd64", D("1"));
        select_expect(&m, "linux/arm64", D("2"));
        select_expect(&m, "linux/arm64/v8", D("2"));
        select_expect(&m, "linux/arm/v7", D("3"));
        /* no match: the error lists what there is, without the attestation */
        assert_int_equal(gk_platform_parse("linux/s390x", &p, NULL), 0);
        assert_true(gk_manifest_select(&m, &p, &i, &err) < 0);
        assert_non_null(strstr(err->msg, "no image for platform linux/s390x"));
        assert_non_null(strstr(err->msg, "linux/amd64, linux/arm64/v8, linux/arm/v7"));
        assert_null(strstr(err->msg, "unknown"));
        gk_error_free(err);
        err = NULL;
        gk_platform_clear(&p);
        /* unknown/unknown is never picked, even when asked for */
        assert_int_equal(gk_platform_parse("unknown/unknown", &p, NULL), 0);
        assert_true(gk_manifest_select(&m, &p, &i, &err) < 0);
        gk_error_free(err);
        err = NULL;
        gk_platform_clear(&p);
        assert_int_equal(gk_platform_parse("linux/arm/v6", &p, NULL), 0);
        assert_true(gk_manifest_select(&m, &p, &i, &err) < 0);
        gk_error_free(err);
}

static void test_arm64_without_variant(void **state)
{
        _cleanup_(gk_manifest_clear) gk_manifest m = { 0 };
        const char *t =
                "{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_DOCKER_LIST "\","
                "\"manifests\":[{\"mediaType\":\"" GK_MT_DOCKER_MANIFEST "\",\"digest\":\"" D(
                        "5") "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":"
                             "\"arm64\"}}]}";

        assert_int_equal(parse(t, NULL, &m, NULL), 0);
        select_expect(&m, "linux/arm64/v8", D("5"));
}

static void test_schema1_refused(void **state)
{
        expect_bad("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", "schema1");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_DOCKER_V1_SIGNED "\"}",
                   "schema1");
}

static void test_refused(void **state)
{
        expect_bad("[]", "must be a JSON object");
        expect_bad("{", "invalid JSON");
        expect_bad("{\"mediaType\":\"x\"}", "schemaVersion");
        expect_bad("{\"schemaVersion\":3}", "schemaVersion: 3");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"text/html\"}", "`text/html` is not");
        expect_bad("{\"schemaVersion\":2}", "neither an image manifest nor an index");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_MANIFEST "\"}",
                   "manifest: config: must be an object");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"config\":"
                   "{\"digest\":\"" D("a") "\",\"size\":1}}",
                   "layers: must be an array");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"config\":"
                   "{\"digest\":\"sha256:12\",\"size\":1},\"layers\":[]}",
                   "manifest: config: `sha256:12` is not a sha256 digest");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"config\":"
                   "{\"digest\":\"" D("a") "\"},\"layers\":[]}",
                   "config.size: missing");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"config\":"
                   "{\"digest\":\"" D("a") "\",\"size\":-4},\"layers\":[]}",
                   "size: must be a non-negative integer");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"config\":"
                   "{\"digest\":\"" D("a") "\",\"size\":1},\"layers\":[{\"mediaType\":"
                                           "\"application/x-foo\",\"digest\":\"" D(
                                                   "b") "\",\"size\":1}]}",
                   "layers[0].mediaType: `application/x-foo` is not a layer type");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_MANIFEST "\",\"config\":"
                   "{\"digest\":\"" D("a") "\",\"size\":1},\"layers\":[{\"digest\":\"" D(
                           "b") "\",\"size\":1}]}",
                   "layers[0].mediaType: missing");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_INDEX "\",\"manifests\":"
                   "[{\"digest\":\"sha512:ab\"}]}",
                   "`sha512` digests are not supported");
        expect_bad("{\"schemaVersion\":2,\"mediaType\":\"" GK_MT_OCI_INDEX "\",\"manifests\":"
                   "[{\"digest\":\"" D("a") "\",\"platform\":{\"os\":\"linux\"}}]}",
                   "manifests[0].platform: os and architecture wanted");
}

static void test_platform_parse(void **state)
{
        _cleanup_(gk_platform_clear) gk_platform p = { 0 };
        static const char *const bad[] = {
                "linux", "linux/", "/amd64", "linux/amd64/v8/x", "Linux/amd64", "linux/amd 64", ""
        };
        char *s;

        assert_int_equal(gk_platform_parse("linux/arm/v7", &p, NULL), 0);
        s = gk_platform_string(&p);
        assert_string_equal(s, "linux/arm/v7");
        free(s);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                gk_platform q = { 0 };
                gk_error *err = NULL;

                if (gk_platform_parse(bad[i], &q, &err) == 0)
                        fail_msg("platform `%s` accepted", bad[i]);
                assert_non_null(strstr(err->msg, "--platform"));
                gk_error_free(err);
        }
        gk_platform_clear(&p);
        assert_int_equal(gk_platform_host(&p, NULL), 0);
        assert_string_equal(p.os, "linux");
        assert_non_null(p.arch);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker_manifest),
                cmocka_unit_test(test_oci_without_media_type),
                cmocka_unit_test(test_index),
                cmocka_unit_test(test_select),
                cmocka_unit_test(test_arm64_without_variant),
                cmocka_unit_test(test_schema1_refused),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_platform_parse),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
