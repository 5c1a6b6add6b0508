/* Layer entry rules (imgtool/whiteout.c) and the overlay annotation
 * (lib/overlay.c): pure logic, no filesystem. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/whiteout.h"
#include "gk/cleanup.h"
#include "gk/overlay.h"

static void expect_clean(const char *in, const char *want)
{
        _cleanup_free_ char *out = NULL;
        gk_error *err = NULL;

        if (gk_entry_path_clean(in, &out, &err) < 0)
                fail_msg("clean(%s): %s", in, err->msg);
        assert_string_equal(out, want);
}

static void expect_refused(const char *in, const char *msg_part)
{
        _cleanup_free_ char *out = NULL;
        gk_error *err = NULL;

        assert_true(gk_entry_path_clean(in, &out, &err) < 0);
        assert_null(out);
        assert_non_null(err);
        if (!strstr(err->msg, msg_part))
                fail_msg("clean(%s): message `%s` lacks `%s`", in, err->msg, msg_part);
        gk_error_free(err);
}

static void test_clean_normalizes(void **state)
{
        expect_clean("a", "a");
        expect_clean("./a//b/", "a/b");
        expect_clean("a/./b/../c", "a/c");
        expect_clean("./", ".");
        expect_clean(".", ".");
        expect_clean("a/..", ".");
        expect_clean("...", "...");
        expect_clean("a/..b/c", "a/..b/c");
        expect_clean("données/文件", "données/文件");
}

static void test_clean_refuses_escapes(void **state)
{
        char *huge = malloc(PATH_MAX + 10);

        expect_refused("/etc/passwd", "absolute names are not allowed");
        expect_refused("//etc", "absolute");
        expect_refused("..", "`..` leads outside the layer");
        expect_refused("../x", "entry `../x`: `..` leads outside");
        expect_refused("a/../../x", "leads outside");
        expect_refused("./a/b/../../../etc/shadow", "leads outside");
        expect_refused("", "empty name");
        memset(huge, 'a', PATH_MAX + 9);
        huge[PATH_MAX + 9] = '\0';
        expect_refused(huge, "File name too long");
        free(huge);
}

static void expect_kind(const char *path, enum gk_wh_kind want, const char *want_hidden)
{
        enum gk_wh_kind kind;
        const char *hidden;
        gk_error *err = NULL;

        if (gk_whiteout_classify(path, &kind, &hidden, &err) < 0)
                fail_msg("classify(%s): %s", path, err->msg);
        assert_int_equal(kind, want);
        if (want_hidden)
                assert_string_equal(hidden, want_hidden);
        else
                assert_null(hidden);
}

static void test_whiteout_kinds(void **state)
{
        expect_kind("foo", GK_WH_NONE, NULL);
        expect_kind("foo.wh.bar", GK_WH_NONE, NULL);
        expect_kind(".wh.foo/bar", GK_WH_NONE, NULL);
        expect_kind(".wh.foo", GK_WH_FILE, "foo");
        expect_kind("a/b/.wh.c", GK_WH_FILE, "c");
        expect_kind(".wh..hidden", GK_WH_FILE, ".hidden");
        expect_kind(".wh..wh..opq", GK_WH_OPAQUE, NULL);
        expect_kind("a/.wh..wh..opq", GK_WH_OPAQUE, NULL);
        expect_kind(".wh..wh.plnk", GK_WH_META, NULL);
        expect_kind("a/.wh..wh.aufs", GK_WH_META, NULL);
}

static void test_whiteout_invalid(void **state)
{
        const char *bad[] = { ".wh.", "a/.wh.", ".wh..", ".wh..." };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                enum gk_wh_kind kind;
                gk_error *err = NULL;

                assert_true(gk_whiteout_classify(bad[i], &kind, NULL, &err) < 0);
                assert_non_null(strstr(err->msg, "is not valid"));
                assert_non_null(strstr(err->msg, bad[i]));
                gk_error_free(err);
        }
}

static void test_split(void **state)
{
        struct {
                const char *path, *dir, *base;
        } cases[] = {
                { "a/b/c", "a/b", "c" },
                { "c", ".", "c" },
                { ".", ".", NULL },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *dir = NULL;
                const char *base;

                assert_int_equal(gk_path_split(cases[i].path, &dir, &base), 0);
                assert_string_equal(dir, cases[i].dir);
                if (cases[i].base)
                        assert_string_equal(base, cases[i].base);
                else
                        assert_null(base);
        }
}

static void test_xattr_reserved(void **state)
{
        assert_true(gk_xattr_reserved("trusted.overlay.opaque"));
        assert_true(gk_xattr_reserved("trusted.overlay.redirect"));
        assert_true(gk_xattr_reserved("user.overlay.metacopy"));
        assert_false(gk_xattr_reserved("user.gk"));
        assert_false(gk_xattr_reserved("security.capability"));
        assert_false(gk_xattr_reserved("trusted.overlayx"));
}

static void test_overlay_round_trip(void **state)
{
        _cleanup_(gk_overlay_freep) gk_overlay *ov = NULL, *again = NULL;
        _cleanup_free_ char *text = NULL;
        gk_error *err = NULL;

        assert_int_equal(gk_overlay_parse("{\"lowerdir\":[\"/s/l2\",\"/s/l1\"],"
                                          "\"upperdir\":\"upper\",\"workdir\":\"work\"}",
                                          "ann", &ov, &err),
                         0);
        assert_int_equal(ov->n_lowerdirs, 2);
        assert_string_equal(ov->lowerdirs[0], "/s/l2");
        assert_null(ov->lowerdirs[2]);
        assert_string_equal(ov->upperdir, "upper");
        assert_int_equal(gk_overlay_format(ov, &text, &err), 0);
        assert_string_equal(text, "{\"lowerdir\":[\"/s/l2\",\"/s/l1\"],"
                                  "\"upperdir\":\"upper\",\"workdir\":\"work\"}");
        assert_int_equal(gk_overlay_parse("{\"lowerdir\":[\"/only\"]}", "ann", &again, &err), 0);
        assert_null(again->upperdir);
        assert_null(err);
}

static void test_overlay_errors(void **state)
{
        struct {
                const char *json, *msg;
        } cases[] = {
                { "[]", "ann: must be a JSON object" },
                { "{}", "ann: lowerdir: must be a non-empty array" },
                { "{\"lowerdir\":[]}", "ann: lowerdir: must be a non-empty array" },
                { "{\"lowerdir\":[\"rel\"]}", "ann: lowerdir[0]: must be an absolute path" },
                { "{\"lowerdir\":[\"/a\", 3]}", "ann: lowerdir[1]: must be an absolute path" },
                { "{\"lowerdir\":[\"/a\"],\"upperdir\":\"u\"}",
                  "upperdir and workdir go together" },
                { "{\"lowerdir\":[\"/a\"],\"upperdir\":\"\",\"workdir\":\"w\"}",
                  "ann: upperdir: must be a non-empty string" },
                { "{\"lowerdir\":", "ann" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                gk_overlay *ov = NULL;
                gk_error *err = NULL;

                assert_true(gk_overlay_parse(cases[i].json, "ann", &ov, &err) < 0);
                assert_null(ov);
                if (!strstr(err->msg, cases[i].msg))
                        fail_msg("%s: message `%s` lacks `%s`", cases[i].json, err->msg,
                                 cases[i].msg);
                gk_error_free(err);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clean_normalizes),
                cmocka_unit_test(test_clean_refuses_escapes),
                cmocka_unit_test(test_whiteout_kinds),
                cmocka_unit_test(test_whiteout_invalid),
                cmocka_unit_test(test_split),
                cmocka_unit_test(test_xattr_reserved),
                cmocka_unit_test(test_overlay_round_trip),
                cmocka_unit_test(test_overlay_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
