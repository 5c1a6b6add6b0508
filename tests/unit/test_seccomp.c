/* Unit tests of the seccomp filter builder: gk_seccomp structs turned into
 * libseccomp filters, exported as PFC text (libseccomp's readable dump) to
 * check that each rule, action, argument comparison and architecture is
 * there; and the errors of gk_seccomp_validate. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "security/seccomp_internal.h"
#include "security/security.h"

static char *names_mkdir[] = { "mkdir", NULL };
static char *names_chmod[] = { "chmod", NULL };
static char *names_personality[] = { "personality", NULL };

static gk_seccomp_rule rule(char **names, enum gk_seccomp_action action)
{
        return (gk_seccomp_rule){ .names = names,
                                  .n_names = gk_strv_len(names),
                                  .action = action };
}

static gk_seccomp allow_all(gk_seccomp_rule *rules, size_t n)
{
        return (gk_seccomp){ .present = true,
                             .default_action = GK_SCMP_ALLOW,
                             .syscalls = rules,
                             .n_syscalls = n };
}

/* The whole filter as PFC text (caller frees). */
static char *pfc_of(const gk_seccomp *sc)
{
        scmp_filter_ctx ctx = NULL;
        gk_error *err = NULL;
        char *text = NULL;
        size_t len = 0;
        int fd;

        if (gk_seccomp_build(sc, &ctx, &err) < 0)
                fail_msg("build: %s", err->msg);
        fd = memfd_create("pfc", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(seccomp_export_pfc(ctx, fd), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        assert_int_equal(gk_read_fd(fd, "pfc", &text, &len, &err), 0);
        close(fd);
        seccomp_release(ctx);
        return text;
}

/* The native architecture's block for syscall NAME, or NULL. */
static char *block_of(const char *pfc, const char *name)
{
        char key[64];
        const char *start, *end, *next;

        snprintf(key, sizeof(key), "syscall \"%s\"", name);
        start = strstr(pfc, key);
        if (!start)
                return NULL;
        end = strstr(start, "# default action");
        next = strstr(start + 1, "# filter for syscall");
        if (next && (!end || next < end))
                end = next;
        return strndup(start, end ? (size_t) (end - start) : strlen(start));
}

static int count(const char *hay, const char *needle)
{
        int n = 0;

        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void assert_block_has(const char *pfc, const char *name, const char *what)
{
        _cleanup_free_ char *b = block_of(pfc, name);

        if (!b)
                fail_msg("no rule for %s in:\n%s", name, pfc);
        if (!strstr(b, what))
                fail_msg("rule for %s lacks \"%s\":\n%s", name, what, b);
}

static void test_errno_default_is_eperm(void **state)
{
        gk_seccomp_rule r[] = { rule(names_mkdir, GK_SCMP_ERRNO),
                                rule(names_chmod, GK_SCMP_ERRNO) };
        gk_seccomp sc = allow_all(r, 2);
        _cleanup_free_ char *pfc = NULL;

        r[1].has_errno_ret = true;
        r[1].errno_ret = ENOSYS;
        pfc = pfc_of(&sc);
        assert_block_has(pfc, "mkdir", "action ERRNO(1);");
        assert_block_has(pfc, "chmod", "action ERRNO(38);");
        assert_non_null(strstr(pfc, "# default action\n  action ALLOW;"));
}

static void test_every_action(void **state)
{
        static char *n[][2] = { { "mkdir" },  { "chmod" },   { "getpid" }, { "keyctl" },
                                { "ptrace" }, { "unshare" }, { "mount" },  { "personality" } };
        gk_seccomp_rule r[] = {
                rule(n[0], GK_SCMP_KILL),        rule(n[1], GK_SCMP_KILL_PROCESS),
                rule(n[2], GK_SCMP_KILL_THREAD), rule(n[3], GK_SCMP_TRAP),
                rule(n[4], GK_SCMP_TRACE),       rule(n[5], GK_SCMP_LOG),
                rule(n[6], GK_SCMP_NOTIFY),      rule(n[7], GK_SCMP_TRACE),
        };
        gk_seccomp sc = allow_all(r, ARRAY_SIZE(r));
        _cleanup_free_ char *pfc = NULL, *notify = NULL;

        r[7].has_errno_ret = true;
        r[7].errno_ret = 7;
        pfc = pfc_of(&sc);
        assert_block_has(pfc, "mkdir", "action KILL;");
        assert_block_has(pfc, "chmod", "action KILL_PROCESS;");
        assert_block_has(pfc, "getpid", "action KILL;");
        assert_block_has(pfc, "keyctl", "action TRAP;");
        assert_block_has(pfc, "ptrace", "action TRACE(1);");
        assert_block_has(pfc, "unshare", "action LOG;");
        /* libseccomp 2.5 prints NOTIFY by its value */
        notify = block_of(pfc, "mount");
        assert_true(strstr(notify, "action NOTIFY;") || strstr(notify, "action 0x7fc00000;"));
        assert_block_has(pfc, "personality", "action TRACE(7);");
}

static void test_default_action_with_errno(void **state)
{
        static char *allowed[] = { "getpid", "exit_group", NULL };
        gk_seccomp_rule r[] = { rule(allowed, GK_SCMP_ALLOW) };
        gk_seccomp sc = { .present = true,
                          .default_action = GK_SCMP_ERRNO,
                          .has_default_errno_ret = true,
                          .default_errno_ret = ENOSYS,
                          .syscalls = r,
                          .n_syscalls = 1 };
        _cleanup_free_ char *pfc = pfc_of(&sc);

        assert_block_has(pfc, "getpid", "action ALLOW;");
        assert_block_has(pfc, "exit_group", "action ALLOW;");
        assert_non_null(strstr(pfc, "# default action\n  action ERRNO(38);"));
}

static void test_argument_ops(void **state)
{
        static char *n[][2] = { { "personality" }, { "chmod" },   { "socket" }, { "mkdir" },
                                { "keyctl" },      { "unshare" }, { "mount" } };
        static gk_seccomp_arg a[] = {
                { .index = 0, .value = 8, .op = GK_SCMP_CMP_EQ },
                /* value is the mask, valueTwo the datum: (mode & 07000) == 04000 */
                { .index = 1, .value = 07000, .value_two = 04000, .op = GK_SCMP_CMP_MASKED_EQ },
                { .index = 0, .value = 1, .op = GK_SCMP_CMP_NE },
                { .index = 1, .value = 0700, .op = GK_SCMP_CMP_GT },
                { .index = 0, .value = 3, .op = GK_SCMP_CMP_LT },
                { .index = 0, .value = 9, .op = GK_SCMP_CMP_GE },
                { .index = 2, .value = 5, .op = GK_SCMP_CMP_LE },
        };
        gk_seccomp_rule r[ARRAY_SIZE(n)];
        gk_seccomp sc = allow_all(r, ARRAY_SIZE(r));
        _cleanup_free_ char *pfc = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
                r[i] = rule(n[i], GK_SCMP_ERRNO);
                r[i].args = &a[i];
                r[i].n_args = 1;
        }
        pfc = pfc_of(&sc);
        assert_block_has(pfc, "personality", "if ($a0.lo32 == 8)");
        assert_block_has(pfc, "chmod", "if ($a1.lo32 & 0x00000e00 == 2048)");
        /* NE and LT are written by libseccomp as the negation of EQ / GE. */
        assert_block_has(pfc, "socket", "if ($a0.lo32 == 1)");
        assert_block_has(pfc, "socket", "else");
        assert_block_has(pfc, "mkdir", "if ($a1.lo32 > 448)");
        assert_block_has(pfc, "keyctl", "if ($a0.lo32 >= 3)");
        assert_block_has(pfc, "unshare", "if ($a0.lo32 >= 9)");
        assert_block_has(pfc, "mount", "if ($a2.lo32 > 5)");
}

/* Comparisons on different arguments are ANDed in one rule; two on the same
 * argument become two rules (an OR), as libseccomp allows one per argument. */
static void test_multiple_args(void **state)
{
        static gk_seccomp_arg and_args[] = {
                { .index = 0, .value = 1, .op = GK_SCMP_CMP_EQ },
                { .index = 1, .value = 2, .op = GK_SCMP_CMP_EQ },
        };
        static gk_seccomp_arg or_args[] = {
                { .index = 0, .value = 8, .op = GK_SCMP_CMP_EQ },
                { .index = 0, .value = 9, .op = GK_SCMP_CMP_EQ },
        };
        gk_seccomp_rule r[] = { rule(names_chmod, GK_SCMP_ERRNO),
                                rule(names_personality, GK_SCMP_ERRNO) };
        gk_seccomp sc = allow_all(r, 2);
        _cleanup_free_ char *pfc = NULL, *and_block = NULL;
        const char *a0, *a1;

        r[0].args = and_args;
        r[0].n_args = 2;
        r[1].args = or_args;
        r[1].n_args = 2;
        pfc = pfc_of(&sc);
        and_block = block_of(pfc, "chmod");
        a0 = strstr(and_block, "if ($a0.lo32 == 1)");
        a1 = strstr(and_block, "if ($a1.lo32 == 2)");
        assert_non_null(a0);
        assert_non_null(a1);
        /* ANDed: one action, reached only when both tests hold */
        assert_int_equal(count(and_block, "action ERRNO(1);"), 1);
        assert_block_has(pfc, "personality", "if ($a0.lo32 == 8)");
        assert_block_has(pfc, "personality", "if ($a0.lo32 == 9)");
}

static void test_bad_arg_index(void **state)
{
        static gk_seccomp_arg a[] = { { .index = 1, .op = GK_SCMP_CMP_EQ },
                                      { .index = 6, .op = GK_SCMP_CMP_EQ } };
        gk_seccomp_rule r[] = { rule(names_mkdir, GK_SCMP_ERRNO) };
        gk_seccomp sc = allow_all(r, 1);
        gk_error *err = NULL;

        r[0].args = a;
        r[0].n_args = 2;
        assert_int_equal(gk_seccomp_validate(&sc, &err), -EINVAL);
        assert_string_equal(err->msg, "syscalls[0].args[1].index: must be 0 to 5");
        gk_error_free(err);
}

static void test_architectures(void **state)
{
        static char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", NULL };
        gk_seccomp_rule r[] = { rule(names_mkdir, GK_SCMP_ERRNO) };
        gk_seccomp sc = allow_all(r, 1);
        _cleanup_free_ char *pfc = NULL;

        sc.architectures = archs;
        sc.n_architectures = 3;
        pfc = pfc_of(&sc);
        assert_non_null(strstr(pfc, "# filter for arch x86_64 "));
        assert_non_null(strstr(pfc, "# filter for arch x86 "));
        assert_non_null(strstr(pfc, "# filter for arch x32 "));
        /* mkdir is 39 on i386 */
        assert_non_null(strstr(pfc, "# filter for syscall \"mkdir\" (39)"));
}

static void test_bad_architecture(void **state)
{
        static char *archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11", NULL };
        gk_seccomp sc = allow_all(NULL, 0);
        gk_error *err = NULL;

        sc.architectures = archs;
        sc.n_architectures = 2;
        assert_true(gk_seccomp_validate(&sc, &err) < 0);
        assert_non_null(
                strstr(err->msg,
                       "architectures[1]: \"SCMP_ARCH_PDP11\" is not supported by libseccomp "));
        gk_error_free(err);
}

static void test_flags(void **state)
{
        static char *flags[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                 "SECCOMP_FILTER_FLAG_TSYNC", NULL };
        gk_seccomp sc = allow_all(NULL, 0);
        scmp_filter_ctx ctx = NULL;
        gk_error *err = NULL;
        uint32_t v = 0;

        sc.flags = flags;
        sc.n_flags = 3;
        if (gk_seccomp_build(&sc, &ctx, &err) < 0)
                fail_msg("build: %s", err->msg);
        assert_int_equal(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_LOG, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_SSB, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_TSYNC, &v), 0);
        assert_int_equal(v, 1);
        /* noNewPrivileges decides no_new_privs, not libseccomp's default */
        assert_int_equal(seccomp_attr_get(ctx, SCMP_FLTATR_CTL_NNP, &v), 0);
        assert_int_equal(v, 0);
        seccomp_release(ctx);
}

static void test_unsupported_and_unknown_flags(void **state)
{
        static char *waitkill[] = { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL };
        static char *bogus[] = { "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS", NULL };
        gk_seccomp sc = allow_all(NULL, 0);
        gk_error *err = NULL;

        sc.flags = bogus;
        sc.n_flags = 2;
        assert_true(gk_seccomp_validate(&sc, &err) < 0);
        assert_string_equal(err->msg, "flags[1]: unknown flag \"SECCOMP_FILTER_FLAG_BOGUS\"");
        gk_error_freep(&err);
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
        sc.flags = waitkill;
        sc.n_flags = 1;
        assert_int_equal(gk_seccomp_validate(&sc, &err), -EOPNOTSUPP);
        assert_non_null(strstr(
                err->msg,
                "flags[0]: \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\" is not supported by libseccomp 2."));
        gk_error_freep(&err);
#else
        (void) waitkill;
#endif
}

/* Names libseccomp does not know here are skipped (one profile serves every
 * architecture), as is a rule that only repeats the default action. */
static void test_unknown_names_and_default_repeats_skipped(void **state)
{
        static char *names[] = { "no_such_syscall", "mkdir", NULL };
        static char *same[] = { "chmod", NULL };
        gk_seccomp_rule r[] = { rule(names, GK_SCMP_ERRNO), rule(same, GK_SCMP_ALLOW) };
        gk_seccomp sc = allow_all(r, 2);
        _cleanup_free_ char *pfc = pfc_of(&sc);
        gk_error *err = NULL;

        assert_block_has(pfc, "mkdir", "action ERRNO(1);");
        assert_null(strstr(pfc, "no_such_syscall"));
        assert_null(strstr(pfc, "\"chmod\""));
        assert_int_equal(gk_seccomp_validate(&sc, &err), 0);
        assert_null(err);
}

static void test_absent_is_a_no_op(void **state)
{
        gk_seccomp sc = { .present = false, .default_action = GK_SCMP_KILL };
        gk_error *err = NULL;
        int fd = 42;

        assert_int_equal(gk_seccomp_validate(&sc, &err), 0);
        assert_int_equal(gk_seccomp_load(&sc, &fd, &err), 0);
        assert_int_equal(fd, -1);
        assert_null(err);
}

/* The bundles' default profile (lib/seccomp_default.c) builds for no
 * capabilities and for all of them: no syscall has two unconditional
 * rules (libseccomp refuses those), and the spec needs runtime-spec 1.1.0
 * for its errnoRet values. */
static void test_default_profile_builds(void **state)
{
        int last = gk_cap_last();
        int all[64];
        gk_capset sets[2] = { { NULL, 0 }, { all, (size_t) last + 1 } };

        for (int c = 0; c <= last; c++)
                all[c] = c;
        for (size_t k = 0; k < 2; k++) {
                gk_spec spec = { 0 };
                scmp_filter_ctx ctx = NULL;
                gk_error *err = NULL;

                assert_int_equal(gk_seccomp_default(&spec.linux.seccomp, &sets[k]), 0);
                for (size_t i = 0; i < spec.linux.seccomp.n_syscalls; i++)
                        for (size_t j = 0; j < i; j++)
                                for (size_t a = 0; a < spec.linux.seccomp.syscalls[i].n_names; a++)
                                        for (size_t b = 0;
                                             b < spec.linux.seccomp.syscalls[j].n_names; b++)
                                                if (!spec.linux.seccomp.syscalls[i].n_args &&
                                                    !spec.linux.seccomp.syscalls[j].n_args &&
                                                    !strcmp(spec.linux.seccomp.syscalls[i]
                                                                    .names[a],
                                                            spec.linux.seccomp.syscalls[j]
                                                                    .names[b]))
                                                        fail_msg("`%s` twice",
                                                                 spec.linux.seccomp.syscalls[i]
                                                                         .names[a]);
                if (gk_seccomp_build(&spec.linux.seccomp, &ctx, &err) < 0)
                        fail_msg("build: %s", err->msg);
                seccomp_release(ctx);
                assert_string_equal(gk_spec_min_version(&spec), "1.1.0");
                gk_seccomp_clear(&spec.linux.seccomp);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_errno_default_is_eperm),
                cmocka_unit_test(test_every_action),
                cmocka_unit_test(test_default_action_with_errno),
                cmocka_unit_test(test_argument_ops),
                cmocka_unit_test(test_multiple_args),
                cmocka_unit_test(test_bad_arg_index),
                cmocka_unit_test(test_architectures),
                cmocka_unit_test(test_bad_architecture),
                cmocka_unit_test(test_flags),
                cmocka_unit_test(test_unsupported_and_unknown_flags),
                cmocka_unit_test(test_unknown_names_and_default_repeats_skipped),
                cmocka_unit_test(test_absent_is_a_no_op),
                cmocka_unit_test(test_default_profile_builds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
