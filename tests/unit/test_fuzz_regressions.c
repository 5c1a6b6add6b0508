/* Regressions for what fuzzing and the security review found in the
 * readers of untrusted input: each test is one finding, kept fixed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/spec.h"

static char *nested(size_t depth, const char *inner)
{
        size_t n = strlen(inner);
        char *s = malloc(2 * depth + n + 1);

        assert_non_null(s);
        memset(s, '[', depth);
        memcpy(s + depth, inner, n);
        memset(s + depth + n, ']', depth);
        s[2 * depth + n] = '\0';
        return s;
}

/* yajl recursed once per level: 1M nested arrays crashed every JSON reader
 * (image configs and manifests come from registries). */
static void test_json_deep_nesting_refused(void **state)
{
        _cleanup_free_ char *ok = nested(GK_JSON_MAX_DEPTH, "1");
        _cleanup_free_ char *deep = nested(GK_JSON_MAX_DEPTH + 1, "");
        _cleanup_free_ char *huge = nested(1000000, "");
        gk_spec *spec = NULL;
        gk_error *err = NULL;
        yajl_val v = NULL;

        assert_int_equal(gk_json_parse(ok, strlen(ok), "t", &v, NULL), 0);
        gk_json_freep(&v);
        assert_true(gk_json_parse(deep, strlen(deep), "t", &v, &err) < 0);
        assert_non_null(strstr(err->msg, "nested deeper than"));
        gk_error_free(err);
        err = NULL;
        assert_true(gk_json_parse(huge, strlen(huge), "t", &v, NULL) < 0);
        assert_true(gk_spec_parse(huge, strlen(huge), "config.json", &spec, &err) < 0);
        assert_null(spec);
        gk_error_free(err);
}

/* Brackets inside strings are text, not nesting. */
static void test_json_brackets_in_strings(void **state)
{
        _cleanup_free_ char *text = malloc(4000 + 16);
        yajl_val v = NULL;

        assert_non_null(text);
        memcpy(text, "{\"a\":\"", 6);
        memset(text + 6, '[', 4000);
        memcpy(text + 4006, "\\\"{\"}", 6);
        assert_int_equal(gk_json_parse(text, strlen(text), "t", &v, NULL), 0);
        assert_int_equal(strlen(gk_json_get_str(v, "a")), 4002); /* the [s, the quote, the { */
        gk_json_freep(&v);
}

/* fuzz_imageconfig: a passwd home that is not UTF-8 went into HOME= and
 * gave a config.json gkrun refused; every generated JSON is checked now
 * (a bundle path that is not UTF-8 made an unloadable state.json). */
static void test_json_gen_refuses_bad_utf8(void **state)
{
        static const char *const bad[] = { "/p/\xed\x61", "\xff", "a\xc3", "\xf0\x9f\x98" };
        _cleanup_free_ char *text = NULL;
        gk_error *err = NULL;
        yajl_val v = NULL;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
                char *out = NULL;

                yajl_gen_map_open(g);
                gk_json_kstr(g, "HOME", bad[i]);
                yajl_gen_map_close(g);
                assert_true(gk_json_gen_finish(g, &out, NULL, &err) < 0);
                assert_null(out);
                assert_non_null(strstr(err->msg, "UTF-8"));
                gk_error_free(err);
                err = NULL;
        }
        {
                _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);

                yajl_gen_map_open(g);
                gk_json_kstr(g, "s", "caf\xc3\xa9 \xf0\x9f\x98\x80");
                yajl_gen_map_close(g);
                assert_int_equal(gk_json_gen_finish(g, &text, NULL, &err), 0);
        }
        assert_int_equal(gk_json_parse(text, strlen(text), "t", &v, NULL), 0);
        gk_json_freep(&v);
}

/* state.json: the id becomes a path again and the pid a kill() target. */
static void test_state_reader_refuses_bad_ids_and_pids(void **state)
{
        static const char *const bad[] = {
                "{\"id\":\"../etc\",\"pid\":1}",
                "{\"id\":\"a/b\"}",
                "{\"id\":\"\"}",
                "{\"pid\":5}",
                "{\"id\":\"x\",\"pid\":-1}",
                "{\"id\":\"x\",\"pid\":4294967297}",
                "[\"id\",\"x\"]",
        };
        const char *good = "{\"id\":\"web-1\",\"pid\":42,\"annotations\":{\"a\":\"b\",\"n\":1}}";
        gk_state *st = NULL;
        gk_error *err = NULL;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (gk_state_parse(bad[i], strlen(bad[i]), "state.json", &st, &err) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_null(st);
                assert_non_null(err);
                gk_error_free(err);
                err = NULL;
        }
        assert_int_equal(gk_state_parse(good, strlen(good), "state.json", &st, &err), 0);
        assert_string_equal(st->id, "web-1");
        assert_int_equal(st->pid, 42);
        assert_int_equal(st->n_annotations, 1);
        gk_state_free(st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_deep_nesting_refused),
                cmocka_unit_test(test_json_brackets_in_strings),
                cmocka_unit_test(test_json_gen_refuses_bad_utf8),
                cmocka_unit_test(test_state_reader_refuses_bad_ids_and_pids),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
