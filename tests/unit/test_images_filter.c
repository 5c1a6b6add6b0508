/* gkimg images --filter (imgtool/images_filter.c): the parser's refusals,
 * and what each key matches, as podman matches it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/images_filter.h"
#include "gk/cleanup.h"

#define ID "sha256:eb64bb76f6c9f5fa598b82b86666c12ed100e592fef7a63eb09f54e92fc87bf6"
#define MD "sha256:1111111111111111111111111111111111111111111111111111111111111111"

static void expect_refused(const char *arg, const char *msg)
{
        char *args[] = { (char *) "reference=x", (char *) arg, NULL };
        gk_image_filters fs;
        gk_error *err = NULL;

        assert_true(gk_image_filters_parse(args, &fs, &err) < 0);
        assert_non_null(err);
        if (strcmp(err->msg, msg))
                fail_msg("%s: got `%s`, want `%s`", arg, err->msg, msg);
        assert_null(fs.v);
        gk_error_free(err);
}

static void test_refused(void **state)
{
        expect_refused("foo=bar", "--filter `foo=bar`: unsupported filter `foo` (reference, "
                                  "before, since, dangling, label, id, digest, readonly)");
        expect_refused("until=1h", "--filter `until=1h`: unsupported filter `until` (reference, "
                                   "before, since, dangling, label, id, digest, readonly)");
        expect_refused("reference", "--filter `reference`: must be KEY=VALUE or KEY!=VALUE");
        expect_refused("=x", "--filter `=x`: must be KEY=VALUE or KEY!=VALUE");
        expect_refused("!=x", "--filter `!=x`: must be KEY=VALUE or KEY!=VALUE");
        expect_refused("label=", "--filter `label=`: `label` wants a value");
        expect_refused("dangling=maybe",
                       "--filter `dangling=maybe`: `maybe` is not true or false");
        expect_refused("referenc=x", "--filter `referenc=x`: unsupported filter `referenc` "
                                     "(reference, before, since, dangling, label, id, digest, "
                                     "readonly)");
}

/* Does the one filter ARG let F through? */
static bool matches(const char *arg, const gk_image_facts *f)
{
        char *args[] = { (char *) arg, NULL };
        _cleanup_(gk_image_filters_clear) gk_image_filters fs = { 0 };
        gk_error *err = NULL;

        if (gk_image_filters_parse(args, &fs, &err) < 0)
                fail_msg("%s: %s", arg, err->msg);
        return gk_image_filters_match(&fs, f);
}

static const gk_image_facts busybox = {
        .name = "docker.io/library/busybox:latest",
        .id = ID,
        .manifest_digest = MD,
        .created = 1000,
};

static void test_reference(void **state)
{
        static const char *const yes[] = {
                "docker.io/library/busybox:latest",
                "docker.io/library/busybox",
                "library/busybox:latest",
                "library/busybox",
                "busybox:latest",
                "busybox",
                "busy*",
                "*box:lat*",
                "library/*",
                "docker.io/*/busybox",
                "b?sybox",
        };
        static const char *const no[] = {
                "box", "library", "busybox:1", "docker.io/busybox", "*/busybox:1", "BUSYBOX",
        };
        char arg[128];

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                snprintf(arg, sizeof(arg), "reference=%s", yes[i]);
                if (!matches(arg, &busybox))
                        fail_msg("%s should match", arg);
                snprintf(arg, sizeof(arg), "reference!=%s", yes[i]);
                assert_false(matches(arg, &busybox));
        }
        for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
                snprintf(arg, sizeof(arg), "reference=%s", no[i]);
                if (matches(arg, &busybox))
                        fail_msg("%s should not match", arg);
        }
}

static void test_other_keys(void **state)
{
        _cleanup_(gk_json_freep) yajl_val labels = NULL;
        gk_image_facts f = busybox;

        assert_int_equal(gk_json_parse("{\"a\":\"1\",\"b\":\"two\"}", 19, "labels", &labels, NULL),
                         0);
        f.labels = labels;
        assert_true(matches("label=a", &f));
        assert_true(matches("label=a=1", &f));
        assert_false(matches("label=a=2", &f));
        assert_false(matches("label=c", &f));
        assert_false(matches("label=a", &busybox));
        assert_true(matches("id=eb64", &f));
        assert_true(matches("id=sha256:eb64bb", &f));
        assert_false(matches("id=64bb", &f));
        assert_true(matches("digest=" MD, &f));
        assert_false(matches("digest=" ID, &f));
        assert_false(matches("dangling=true", &f));
        assert_true(matches("dangling=false", &f));
        assert_true(matches("readonly=false", &f));
        assert_false(matches("readonly=true", &f));
}

static void test_combined(void **state)
{
        _cleanup_(gk_json_freep) yajl_val labels = NULL;
        gk_image_facts f = busybox;
        /* The same key: either value; label: every one; keys: all. */
        char *either[] = { "reference=alpine", "reference=busybox", NULL };
        char *both_labels[] = { "label=a", "label=b=two", NULL };
        char *one_label_wrong[] = { "label=a", "label=b=2", NULL };
        char *keys[] = { "reference=busybox", "id=0000", NULL };
        char *excluded[] = { "reference=busy*", "reference!=*:latest", NULL };
        char **sets[] = { either, both_labels, one_label_wrong, keys, excluded };
        const bool want[] = { true, true, false, false, false };

        assert_int_equal(gk_json_parse("{\"a\":\"1\",\"b\":\"two\"}", 19, "labels", &labels, NULL),
                         0);
        f.labels = labels;
        for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
                _cleanup_(gk_image_filters_clear) gk_image_filters fs = { 0 };

                assert_int_equal(gk_image_filters_parse(sets[i], &fs, NULL), 0);
                if (gk_image_filters_match(&fs, &f) != want[i])
                        fail_msg("set %zu: want %d", i, want[i]);
        }
}

static void test_times(void **state)
{
        char *before[] = { "before=x", NULL }, *since[] = { "since=x", NULL };
        _cleanup_(gk_image_filters_clear) gk_image_filters b = { 0 };
        _cleanup_(gk_image_filters_clear) gk_image_filters s = { 0 };
        gk_image_facts unknown = busybox;

        assert_int_equal(gk_image_filters_parse(before, &b, NULL), 0);
        assert_int_equal(gk_image_filters_parse(since, &s, NULL), 0);
        b.v[0].when = s.v[0].when = 1000; /* the same time: neither (strict) */
        assert_false(gk_image_filters_match(&b, &busybox));
        assert_false(gk_image_filters_match(&s, &busybox));
        b.v[0].when = s.v[0].when = 1001;
        assert_true(gk_image_filters_match(&b, &busybox));
        assert_false(gk_image_filters_match(&s, &busybox));
        unknown.created = (time_t) -1;
        assert_false(gk_image_filters_match(&b, &unknown));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_refused),    cmocka_unit_test(test_reference),
                cmocka_unit_test(test_other_keys), cmocka_unit_test(test_combined),
                cmocka_unit_test(test_times),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
