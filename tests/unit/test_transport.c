/* gkimg copy's SRC/DEST spelling (imgtool/transport.c): skopeo's
 * transports plus gk: for the store, with errors naming the argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/transport.h"
#include "gk/cleanup.h"

static void expect_ok(const char *in, gk_transport_kind kind, const char *path, const char *ref)
{
        _cleanup_(gk_transport_clear) gk_transport t = { 0 };
        gk_error *err = NULL;

        if (gk_transport_parse(in, &t, &err) < 0)
                fail_msg("parse(%s): %s", in, err->msg);
        assert_int_equal(t.kind, kind);
        assert_string_equal(t.path, path);
        if (ref)
                assert_string_equal(t.ref, ref);
        else
                assert_null(t.ref);
}

static void expect_bad(const char *in, const char *msg_part)
{
        gk_transport t = { 0 };
        gk_error *err = NULL;

        if (gk_transport_parse(in, &t, &err) == 0)
                fail_msg("parse(%s) succeeded", in);
        assert_null(t.path);
        assert_null(t.ref);
        assert_non_null(err);
        if (!strstr(err->msg, msg_part))
                fail_msg("parse(%s): message `%s` lacks `%s`", in, err->msg, msg_part);
        gk_error_free(err);
}

static void test_docker(void **state)
{
        expect_ok("docker://alpine", GK_TRANSPORT_DOCKER, "alpine", NULL);
        expect_ok("docker://localhost:5000/a/b:1", GK_TRANSPORT_DOCKER, "localhost:5000/a/b:1",
                  NULL);
        expect_ok("docker://127.0.0.1:5000/a@sha256:"
                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  GK_TRANSPORT_DOCKER,
                  "127.0.0.1:5000/a@sha256:"
                  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  NULL);
        expect_bad("docker://", "docker://");
        expect_bad("docker://a b/c", "`docker://a b/c`");
        expect_bad("docker:alpine", "docker://REF");
}

static void test_files(void **state)
{
        expect_ok("oci:/tmp/lay", GK_TRANSPORT_OCI, "/tmp/lay", NULL);
        expect_ok("oci:/tmp/lay:v1.0", GK_TRANSPORT_OCI, "/tmp/lay", "v1.0");
        expect_ok("oci:rel/dir:a_b-c", GK_TRANSPORT_OCI, "rel/dir", "a_b-c");
        /* the path ends at the first ':', as skopeo's */
        expect_ok("oci:/tmp/x:host:5000/app:1", GK_TRANSPORT_OCI, "/tmp/x", "host:5000/app:1");
        expect_ok("oci-archive:/tmp/a.tar", GK_TRANSPORT_OCI_ARCHIVE, "/tmp/a.tar", NULL);
        expect_ok("oci-archive:/tmp/a.tar:latest", GK_TRANSPORT_OCI_ARCHIVE, "/tmp/a.tar",
                  "latest");
        expect_ok("docker-archive:/tmp/d.tar", GK_TRANSPORT_DOCKER_ARCHIVE, "/tmp/d.tar", NULL);
        expect_ok("docker-archive:/tmp/d.tar:localhost:5000/app:2", GK_TRANSPORT_DOCKER_ARCHIVE,
                  "/tmp/d.tar", "localhost:5000/app:2");
        expect_bad("oci:", "no directory");
        expect_bad("oci::tag", "no directory");
        expect_bad("oci-archive:", "no file");
        expect_bad("oci:/tmp/x:", "empty tag");
        expect_bad("oci:/tmp/x:bad tag", "tag `bad tag`");
        expect_bad("oci:/tmp/x:-lead", "tag `-lead`");
        expect_bad("oci:/tmp/x:trail.", "tag `trail.`");
        expect_bad("docker-archive:/tmp/d.tar:", "empty reference");
        expect_bad("docker-archive:/tmp/d.tar:Bad/Ref", "docker-archive:/tmp/d.tar:Bad/Ref");
}

/* docker-archive:FILE:@N, skopeo's N-th image of manifest.json */
static void expect_index(const char *in, size_t index)
{
        _cleanup_(gk_transport_clear) gk_transport t = { 0 };
        gk_error *err = NULL;

        if (gk_transport_parse(in, &t, &err) < 0)
                fail_msg("parse(%s): %s", in, err->msg);
        assert_int_equal(t.kind, GK_TRANSPORT_DOCKER_ARCHIVE);
        assert_string_equal(t.path, "/tmp/d.tar");
        assert_null(t.ref);
        assert_true(t.has_index);
        assert_int_equal(t.index, index);
}

static void test_archive_index(void **state)
{
        gk_transport t = { 0 };

        expect_index("docker-archive:/tmp/d.tar:@0", 0);
        expect_index("docker-archive:/tmp/d.tar:@1", 1);
        expect_index("docker-archive:/tmp/d.tar:@01", 1);
        expect_bad("docker-archive:/tmp/d.tar:@", "invalid source index @: must be a number");
        expect_bad("docker-archive:/tmp/d.tar:@x", "invalid source index @x: must be a number");
        expect_bad("docker-archive:/tmp/d.tar:@1x", "invalid source index @1x");
        expect_bad("docker-archive:/tmp/d.tar:@-1", "@-1: must not be negative");
        expect_bad("docker-archive:/tmp/d.tar:@99999999999", "must be a number");
        /* a REF is no index */
        assert_int_equal(gk_transport_parse("docker-archive:/tmp/d.tar:app:1", &t, NULL), 0);
        assert_false(t.has_index);
        gk_transport_clear(&t);
}

static void test_store(void **state)
{
        expect_ok("gk:alpine", GK_TRANSPORT_STORE, "alpine", NULL);
        expect_ok("gk:localhost/app:1", GK_TRANSPORT_STORE, "localhost/app:1", NULL);
        expect_ok("gk:71bea275", GK_TRANSPORT_STORE, "71bea275", NULL);
        expect_bad("gk:", "no image named");
}

static void test_unknown(void **state)
{
        expect_bad("ftp://x", "unknown transport `ftp`");
        expect_bad("containers-storage:alpine", "unknown transport `containers-storage`");
        expect_bad("alpine", "`alpine`: no transport");
        expect_bad("/tmp/file.tar", "no transport");
        expect_bad("", "no transport");
        expect_bad(":x", "no transport");
        assert_string_equal(gk_transport_name(GK_TRANSPORT_OCI_ARCHIVE), "oci-archive");
        assert_string_equal(gk_transport_name(GK_TRANSPORT_STORE), "gk");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker),        cmocka_unit_test(test_files),
                cmocka_unit_test(test_archive_index), cmocka_unit_test(test_store),
                cmocka_unit_test(test_unknown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
