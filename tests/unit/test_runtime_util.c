/* Unit tests of gkrun's pure logic: flag spellings, container id rules,
 * signal names, exit statuses. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "gk/util.h"
#include "spawn/signals.h"

static void test_flag_spellings(void **state)
{
        const char *bundle = NULL, *pid = NULL;
        bool detach = false, rootless = true;
        char **env = NULL;
        int n = 0, first;
        gk_error *err = NULL;
        const gk_opt opts[] = {
                { "bundle", 'b', GK_OPT_STRING, &bundle },
                { "pid-file", 0, GK_OPT_STRING, &pid },
                { "detach", 'd', GK_OPT_BOOL, &detach },
                { "rootless", 0, GK_OPT_BOOL, &rootless },
                { "env", 'e', GK_OPT_STRV, &env },
                { "n", 0, GK_OPT_INT, &n },
                { 0 },
        };
        char *argv[] = {
                "run",          "-bundle", "/b",        "--pid-file=/p", "-d", "--rootless=false",
                "-e",           "A=1",     "--env=B=2", "--n",           "7",  "ID",
                "--not-a-flag", NULL
        };

        assert_int_equal(gk_opts_parse(13, argv, "run", opts, &first, &err), 0);
        assert_string_equal(bundle, "/b");
        assert_string_equal(pid, "/p");
        assert_true(detach);
        assert_false(rootless);
        assert_string_equal(env[0], "A=1");
        assert_string_equal(env[1], "B=2");
        assert_null(env[2]);
        assert_int_equal(n, 7);
        assert_int_equal(first, 11); /* stops at the first positional */
        gk_strvfree(env);
}

static void test_flag_errors(void **state)
{
        bool d = false;
        int n = 0, first;
        const gk_opt opts[] = { { "detach", 'd', GK_OPT_BOOL, &d },
                                { "n", 0, GK_OPT_INT, &n },
                                { 0 } };
        char *unknown[] = { "create", "--nope", "x", NULL };
        char *missing[] = { "create", "--n", NULL };
        char *notint[] = { "create", "--n", "x1", NULL };
        char *badbool[] = { "create", "--detach=maybe", NULL };
        gk_error *err = NULL;

        assert_true(gk_opts_parse(3, unknown, "create", opts, &first, &err) < 0);
        assert_string_equal(err->msg, "create: flag provided but not defined: -nope");
        gk_error_freep(&err);
        assert_true(gk_opts_parse(2, missing, "create", opts, &first, &err) < 0);
        assert_string_equal(err->msg, "create: flag needs an argument: -n");
        gk_error_freep(&err);
        assert_true(gk_opts_parse(3, notint, "create", opts, &first, &err) < 0);
        assert_non_null(strstr(err->msg, "must be an integer"));
        gk_error_freep(&err);
        assert_true(gk_opts_parse(2, badbool, "create", opts, &first, &err) < 0);
        assert_non_null(strstr(err->msg, "invalid boolean value \"maybe\""));
        gk_error_freep(&err);
}

static void test_flag_help(void **state)
{
        bool f = false;
        const char *fmt = NULL;
        int first;
        const gk_opt opts[] = {
                { "force", 'f', GK_OPT_BOOL, &f, NULL, "remove it" },
                { "format", 0, GK_OPT_STRING, &fmt, "table|json" },
                { 0 },
        };
        char *help[] = { "rmi", "-f", "--help", "x", NULL };
        char *help_value[] = { "rmi", "--format", "--help", NULL };
        gk_error *err = NULL;

        /* off (gkrun): --help is an unknown flag like any other */
        assert_true(gk_opts_parse(4, help, "rmi", opts, &first, &err) < 0);
        assert_string_equal(err->msg, "rmi: flag provided but not defined: -help");
        gk_error_freep(&err);
        gk_opts_set_help(true);
        assert_int_equal(gk_opts_parse(4, help, "rmi", opts, &first, &err), -GK_OPTS_HELP);
        assert_string_equal(err->msg, "  -f, --force               remove it\n"
                                      "      --format table|json\n"
                                      "  -h, --help                show this help\n");
        gk_error_freep(&err);
        /* a flag's value is a value, even when it is "--help" */
        assert_int_equal(gk_opts_parse(3, help_value, "rmi", opts, &first, &err), 0);
        assert_string_equal(fmt, "--help");
        gk_opts_set_help(false);
}

static void test_container_ids(void **state)
{
        const char *good[] = { "a", "abc-DEF_1.2+3", "0", "x..y" };
        const char *bad[] = { "", ".", "..", "a/b", "../x", "a b", "a\nb", "é" };
        gk_error *err = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                assert_int_equal(gk_id_validate(good[i], &err), 0);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_true(gk_id_validate(bad[i], &err) < 0);
                gk_error_freep(&err);
        }
}

static void test_signals(void **state)
{
        int sig = 0;

        assert_int_equal(gk_signal_parse("KILL", &sig), 0);
        assert_int_equal(sig, SIGKILL);
        assert_int_equal(gk_signal_parse("SIGTERM", &sig), 0);
        assert_int_equal(sig, SIGTERM);
        assert_int_equal(gk_signal_parse("sigusr1", &sig), 0);
        assert_int_equal(sig, SIGUSR1);
        assert_int_equal(gk_signal_parse("9", &sig), 0);
        assert_int_equal(sig, 9);
        assert_int_equal(gk_signal_parse("RTMIN+2", &sig), 0);
        assert_int_equal(sig, SIGRTMIN + 2);
        assert_true(gk_signal_parse("NOPE", &sig) < 0);
        assert_true(gk_signal_parse("0", &sig) < 0);
        assert_true(gk_signal_parse("65", &sig) < 0);
}

static void test_exit_status(void **state)
{
        assert_int_equal(gk_exit_status(42 << 8), 42);
        assert_int_equal(gk_exit_status(SIGKILL), 137);
}

static void test_error_wrap(void **state)
{
        gk_error *err = NULL;

        assert_int_equal(gk_error_make(&err, ENOENT, "open `%s`", "x"), -ENOENT);
        assert_string_equal(err->msg, "open `x`: No such file or directory");
        assert_int_equal(gk_error_wrap(&err, "mounts[%d]", 2), -ENOENT);
        assert_string_equal(err->msg, "mounts[2]: open `x`: No such file or directory");
        assert_int_equal(gk_error_plain(&err, EEXIST, "container with id exists: %s", "a"),
                         -EEXIST);
        assert_string_equal(err->msg, "container with id exists: a");
        assert_int_equal(gk_error_code(err), -EEXIST);
        gk_error_freep(&err);
        assert_null(err);
        /* no error object at all: every call is still safe */
        assert_int_equal(gk_error_make(NULL, EIO, "x"), -EIO);
        gk_error_freep(NULL);
}

static void test_mountinfo_unescape(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "/plain", "/plain" },
                { "/a\\040b\\011c\\012d\\134e", "/a b\tc\nd\\e" },
                { "/end\\04", "/end\\04" }, /* short: kept as is */
                { "/hi\\400", "/hi\\400" }, /* not a byte: kept */
                { "/x\\08", "/x\\08" },     /* not octal: kept */
                { "", "" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *got = gk_mountinfo_unescape(cases[i].in);

                assert_non_null(got);
                assert_string_equal(got, cases[i].out);
                free(got);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_flag_spellings), cmocka_unit_test(test_flag_errors),
                cmocka_unit_test(test_flag_help),      cmocka_unit_test(test_container_ids),
                cmocka_unit_test(test_signals),        cmocka_unit_test(test_exit_status),
                cmocka_unit_test(test_error_wrap),     cmocka_unit_test(test_mountinfo_unescape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
