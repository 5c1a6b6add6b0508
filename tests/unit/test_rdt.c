/* Unit tests of linux.intelRdt's writer (runtime/rdt/): exactly what it
 * writes where, run against a temporary directory standing in for
 * /sys/fs/resctrl (the writer takes the root as a directory fd), and the
 * comparison with the schemata of a group that exists already. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "rdt/rdt.h"

typedef struct fake {
        char dir[64];
        int root;
} fake;

static int setup(void **state)
{
        fake *f = calloc(1, sizeof(*f));

        snprintf(f->dir, sizeof(f->dir), "/tmp/gk-rdt-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->root = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->root >= 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        fake *f = *state;
        char cmd[128];

        close(f->root);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static char *read_at(int root, const char *path)
{
        char *text = NULL;
        size_t len;

        if (gk_read_file_at(root, path, &text, &len, NULL) < 0)
                return NULL;
        return text;
}

static void expect_file(int root, const char *path, const char *want)
{
        _cleanup_free_ char *got = read_at(root, path);

        assert_non_null(got);
        assert_string_equal(got, want);
}

static bool exists(int root, const char *path)
{
        return faccessat(root, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* No closID: a group named after the container, L3 then MB then the
 * schemata lines, the pid in its tasks; removed at delete. */
static void test_own_group_order(void **state)
{
        fake *f = *state;
        char *lines[] = { "L2:0=f;1=f", "MB:0=20", NULL };
        gk_intel_rdt r = { .present = true,
                           .l3_cache_schema = "L3:0=7f0;1=1f",
                           .mem_bw_schema = "MB:0=20;1=70",
                           .schemata = lines,
                           .n_schemata = 2 };
        gk_error *err = NULL;

        assert_int_equal(gk_rdt_apply(f->root, &r, "ctr1", 4242, &err), 0);
        expect_file(f->root, "ctr1/schemata",
                    "L3:0=7f0;1=1f\nMB:0=20;1=70\nL2:0=f;1=f\nMB:0=20\n");
        expect_file(f->root, "ctr1/tasks", "4242\n");
        assert_false(exists(f->root, "ctr1/mon_groups"));
        assert_int_equal(gk_rdt_remove(f->root, &r, "ctr1", &err), 0);
        assert_false(exists(f->root, "ctr1"));
}

/* A group of the container's name that exists is not ours: refused. */
static void test_own_group_exists(void **state)
{
        fake *f = *state;
        gk_intel_rdt r = { .present = true };
        gk_error *err = NULL;

        assert_int_equal(mkdirat(f->root, "ctr2", 0755), 0);
        assert_true(gk_rdt_apply(f->root, &r, "ctr2", 1, &err) < 0);
        assert_non_null(strstr(err->msg, "make group `ctr2`"));
        gk_error_free(err);
        assert_false(exists(f->root, "ctr2/tasks"));
}

/* closID without schemata: joins a pre-configured group, writes no
 * schemata, never removes it; missing: an error. */
static void test_closid_join(void **state)
{
        fake *f = *state;
        gk_intel_rdt r = { .present = true, .clos_id = "shared" };
        gk_error *err = NULL;

        assert_true(gk_rdt_apply(f->root, &r, "ctr3", 7, &err) < 0);
        assert_non_null(strstr(err->msg, "closID \"shared\": no such group"));
        gk_error_free(err);
        err = NULL;
        assert_false(exists(f->root, "shared"));

        assert_int_equal(mkdirat(f->root, "shared", 0755), 0);
        assert_int_equal(gk_rdt_apply(f->root, &r, "ctr3", 7, &err), 0);
        expect_file(f->root, "shared/tasks", "7\n");
        assert_false(exists(f->root, "shared/schemata"));
        assert_int_equal(gk_rdt_remove(f->root, &r, "ctr3", &err), 0);
        assert_true(exists(f->root, "shared"));
}

/* closID with schemata: made when missing (and kept at delete); when it
 * exists, its schemata must already say the same (the kernel's padding
 * and leading zeros aside), and nothing is written to it. */
static void test_closid_schemata(void **state)
{
        fake *f = *state;
        gk_intel_rdt r = { .present = true, .clos_id = "gold", .l3_cache_schema = "L3:0=7f0" };
        gk_intel_rdt other = { .present = true,
                               .clos_id = "silver",
                               .l3_cache_schema = "L3:0=7f0" };
        _cleanup_close_ int silver = -1;
        gk_error *err = NULL;

        assert_int_equal(gk_rdt_apply(f->root, &r, "ctr4", 9, &err), 0);
        expect_file(f->root, "gold/schemata", "L3:0=7f0\n");
        assert_int_equal(gk_rdt_remove(f->root, &r, "ctr4", &err), 0);
        assert_true(exists(f->root, "gold"));

        assert_int_equal(mkdirat(f->root, "silver", 0755), 0);
        silver = openat(f->root, "silver/schemata", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(silver >= 0);
        assert_int_equal(gk_write_all(silver, "    L3:0=07f0;1=7ff\n    MB:0=100;1=100\n", 40), 0);
        assert_int_equal(gk_rdt_apply(f->root, &other, "ctr5", 11, &err), 0);
        expect_file(f->root, "silver/schemata", "    L3:0=07f0;1=7ff\n    MB:0=100;1=100\n");
        expect_file(f->root, "silver/tasks", "11\n");

        other.l3_cache_schema = "L3:0=7ff";
        assert_true(gk_rdt_apply(f->root, &other, "ctr6", 12, &err) < 0);
        assert_non_null(strstr(err->msg, "exists with other schemata than \"L3:0=7ff\""));
        gk_error_free(err);
}

/* enableMonitoring: mon_groups/ID with the pid, removed at delete. */
static void test_monitoring(void **state)
{
        fake *f = *state;
        gk_intel_rdt r = { .present = true, .clos_id = "mon", .enable_monitoring = true };
        gk_error *err = NULL;

        assert_int_equal(mkdirat(f->root, "mon", 0755), 0);
        assert_int_equal(mkdirat(f->root, "mon/mon_groups", 0755), 0);
        assert_int_equal(gk_rdt_apply(f->root, &r, "ctr7", 13, &err), 0);
        expect_file(f->root, "mon/tasks", "13\n");
        expect_file(f->root, "mon/mon_groups/ctr7/tasks", "13\n");
        assert_int_equal(gk_rdt_remove(f->root, &r, "ctr7", &err), 0);
        assert_false(exists(f->root, "mon/mon_groups/ctr7"));
        assert_true(exists(f->root, "mon"));
}

/* The default group ("/"): joined; schemata for it are refused. */
static void test_default_group(void **state)
{
        fake *f = *state;
        gk_intel_rdt r = { .present = true, .clos_id = "/" };
        gk_error *err = NULL;

        assert_int_equal(gk_rdt_apply(f->root, &r, "ctr8", 14, &err), 0);
        expect_file(f->root, "tasks", "14\n");
        r.mem_bw_schema = "MB:0=50";
        assert_true(gk_rdt_apply(f->root, &r, "ctr8", 14, &err) < 0);
        assert_non_null(strstr(err->msg, "does not change the host's default group"));
        gk_error_free(err);
        assert_false(exists(f->root, "schemata"));
}

static void test_schema_holds(void **state)
{
        const char *cur = "    L3:0=7ff;1=07f0\n    MB:0=100;1= 70\n";

        (void) state;
        assert_true(gk_rdt_schema_holds(cur, "L3:1=7f0"));
        assert_true(gk_rdt_schema_holds(cur, "L3:0=7ff;1=7f0"));
        assert_true(gk_rdt_schema_holds(cur, "MB:1=70"));
        assert_false(gk_rdt_schema_holds(cur, "L3:0=7f0"));
        assert_false(gk_rdt_schema_holds(cur, "L3:2=7ff"));
        assert_false(gk_rdt_schema_holds(cur, "L2:0=f"));
        assert_false(gk_rdt_schema_holds(cur, "MB:0=10"));
        assert_false(gk_rdt_schema_holds(cur, "garbage"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_own_group_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_own_group_exists, setup, teardown),
                cmocka_unit_test_setup_teardown(test_closid_join, setup, teardown),
                cmocka_unit_test_setup_teardown(test_closid_schemata, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitoring, setup, teardown),
                cmocka_unit_test_setup_teardown(test_default_group, setup, teardown),
                cmocka_unit_test(test_schema_holds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
