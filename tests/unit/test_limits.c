/* gkimg's limits: what a layer may write when unpacked
 * (imgtool/layerlimit.c) and how long a registry transfer may take
 * (imgtool/http_deadline.c), with their environment variables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/registry_internal.h"
#include "../../imgtool/unpack.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

static uint64_t limit_of(int64_t compressed)
{
        gk_layer_limit l;
        gk_error *err = NULL;

        if (gk_layer_limit_get(compressed, &l, &err) < 0)
                fail_msg("limit: %s", err->msg);
        return l.max_bytes;
}

static void test_layer_limit_default(void **state)
{
        unsetenv("GKIMG_LAYER_MAX_SIZE");
        assert_int_equal(limit_of(-1), GIB);
        assert_int_equal(limit_of(1000), GIB);
        assert_int_equal(limit_of(100 * MIB), 10000 * MIB);
        assert_int_equal(limit_of(INT64_MAX), UINT64_MAX); /* no overflow */
}

static void test_layer_limit_env(void **state)
{
        static const struct {
                const char *v;
                uint64_t want;
        } ok[] = {
                { "0", 0 },        { "5", 5 },      { "64m", 64 * MIB },
                { "2G", 2 * GIB }, { "1kb", 1024 }, { "3t", 3ULL << 40 },
        };
        static const char *const bad[] = { "", "x", "1x", "-1", "1mm", "99999999999t", " 1" };

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                gk_layer_limit l;
                gk_error *err = NULL;

                setenv("GKIMG_LAYER_MAX_SIZE", ok[i].v, 1);
                assert_int_equal(gk_layer_limit_get(10, &l, &err), 0);
                assert_int_equal(l.max_bytes, ok[i].want);
                assert_true(l.from_env);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                gk_layer_limit l = { 0 };
                gk_error *err = NULL;

                setenv("GKIMG_LAYER_MAX_SIZE", bad[i], 1);
                if (!*bad[i]) { /* empty: as if unset */
                        assert_int_equal(gk_layer_limit_get(10, &l, &err), 0);
                        assert_int_equal(l.max_bytes, GIB);
                        continue;
                }
                assert_true(gk_layer_limit_get(10, &l, &err) < 0);
                if (!strstr(err->msg, "GKIMG_LAYER_MAX_SIZE"))
                        fail_msg("`%s`: %s", bad[i], err->msg);
                gk_error_free(err);
        }
        unsetenv("GKIMG_LAYER_MAX_SIZE");
}

static void test_deadline_scales_with_size(void **state)
{
        gk_http_deadline d;
        char why[256];

        unsetenv("GKIMG_TIMEOUT_BASE");
        unsetenv("GKIMG_MIN_RATE");
        gk_http_deadline_start(&d, 0);
        assert_int_equal(d.budget, 60000);
        gk_http_deadline_start(&d, 32 * 1024 * 100);
        assert_int_equal(d.budget, 160000);
        gk_http_deadline_start(&d, INT64_MAX);
        assert_true(d.budget > 0);

        setenv("GKIMG_TIMEOUT_BASE", "2", 1);
        setenv("GKIMG_MIN_RATE", "1000", 1);
        gk_http_deadline_start(&d, 5500);
        assert_int_equal(d.budget, 7500);
        d.at = 0; /* over */
        assert_true(gk_http_deadline_passed(&d));
        gk_http_timeout_reason(&d, 42, why, sizeof(why));
        assert_string_equal(why, "too slow: 42 of 5500 bytes in 8s (the limit: 2s plus 1s per "
                                 "1000 bytes; GKIMG_TIMEOUT_BASE, GKIMG_MIN_RATE)");

        setenv("GKIMG_STALL_TIMEOUT", "7", 1);
        gk_http_deadline_start(&d, 5500);
        assert_false(gk_http_deadline_passed(&d));
        gk_http_timeout_reason(&d, 0, why, sizeof(why));
        assert_string_equal(why, "stalled: no data for 7s (GKIMG_STALL_TIMEOUT)");

        setenv("GKIMG_TIMEOUT_BASE", "junk", 1); /* ignored: the default */
        gk_http_deadline_start(&d, 0);
        assert_int_equal(d.budget, 60000);
        unsetenv("GKIMG_TIMEOUT_BASE");
        unsetenv("GKIMG_MIN_RATE");
        unsetenv("GKIMG_STALL_TIMEOUT");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layer_limit_default),
                cmocka_unit_test(test_layer_limit_env),
                cmocka_unit_test(test_deadline_scales_with_size),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
