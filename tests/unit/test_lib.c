/* Unit tests of the shared helpers in lib/: the size and port grammars
 * (gk/units.h) and the path resolver (gk/resolve.h), including its walk
 * where openat2 is missing (forced with a seccomp filter in a child), and
 * the spec-editing helpers (gk/spec.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "gk/cleanup.h"
#include "gk/resolve.h"
#include "gk/spec.h"
#include "gk/units.h"
#include "gk/util.h"

static void test_size(void **state)
{
        struct {
                const char *s;
                int64_t want;
        } ok[] = {
                { "512", 512 },
                { "64k", 64 << 10 },
                { "32m", 32 << 20 },
                { "1g", 1 << 30 },
                { "1.5g", 3ll << 29 },
                { "2GiB", 2ll << 30 },
                { "100b", 100 },
                { "-1", -1 },
                { "10 MB", 10 << 20 },
                { "1T", 1ll << 40 },
                { "1p", 1ll << 50 },
                { "0", 0 },
                { "8191p", 8191ll << 50 },
                { "9223372036854775807", INT64_MAX },
                { "0.5k", 512 },
                { "1.0000000001k", 1024 },
        };
        struct {
                const char *s;
                int err;
        } bad[] = {
                { "", EINVAL },
                { "m", EINVAL },
                { "-5", EINVAL },
                { "-1k", EINVAL },
                { "1.g", EINVAL },
                { "12x", EINVAL },
                { "1mm", EINVAL },
                { "0x10", EINVAL },
                { " 1", EINVAL },
                { "1  m", EINVAL },
                { "+1", EINVAL },
                { "1e3", EINVAL },
                { "99999999999999999999", ERANGE },
                { "8192p", ERANGE },
                { "9223372036854775808", ERANGE },
        };
        int64_t v;

        for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
                v = 7;
                if (gk_parse_size(ok[i].s, &v) != 0 || v != ok[i].want)
                        fail_msg("`%s`: got %lld", ok[i].s, (long long) v);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (gk_parse_size(bad[i].s, &v) != -bad[i].err)
                        fail_msg("`%s` was not refused with %d", bad[i].s, bad[i].err);
}

static void test_port_map(void **state)
{
        const char *bad[] = { "",
                              ":",
                              "80",
                              "80:",
                              ":80",
                              "0:80",
                              "80:0",
                              "65536:80",
                              "80:65536",
                              "-1:80",
                              "+80:80",
                              " 80:80",
                              "80:80/",
                              "80:80/sctp",
                              "80:80/tcpx",
                              "80/tcp:80",
                              "80:80:80",
                              "0x50:80",
                              "00000080:80",
                              "80:80/TCP",
                              "184467440737095516160:80" };
        gk_port_map p;

        assert_int_equal(gk_parse_port_map("8080:80", 7, &p), 0);
        assert_int_equal(p.host, 8080);
        assert_int_equal(p.ctr, 80);
        assert_int_equal(p.proto, IPPROTO_TCP);
        assert_int_equal(gk_parse_port_map("1:65535/udp", 11, &p), 0);
        assert_int_equal(p.host, 1);
        assert_int_equal(p.ctr, 65535);
        assert_int_equal(p.proto, IPPROTO_UDP);
        assert_int_equal(gk_parse_port_map("53:53/tcp", 9, &p), 0);
        assert_int_equal(p.proto, IPPROTO_TCP);
        /* one item of a list, by length */
        assert_int_equal(gk_parse_port_map("80:8080,443:8443", 7, &p), 0);
        assert_int_equal(p.ctr, 8080);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (gk_parse_port_map(bad[i], strlen(bad[i]), &p) != -EINVAL)
                        fail_msg("`%s` was not refused", bad[i]);
}

/* TOP/a/b (directories), TOP/a/f (file), TOP/a/link -> b, TOP/a/out -> /. */
static char *make_tree(void)
{
        char *top = strdup("/tmp/gk-test-resolve-XXXXXX"), path[128];

        assert_non_null(mkdtemp(top));
        snprintf(path, sizeof(path), "%s/a", top);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/a/b", top);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/a/f", top);
        close(open(path, O_CREAT | O_WRONLY, 0644));
        snprintf(path, sizeof(path), "%s/a/link", top);
        assert_int_equal(symlink("b", path), 0);
        snprintf(path, sizeof(path), "%s/a/out", top);
        assert_int_equal(symlink("/", path), 0);
        return top;
}

static void remove_tree(char *top)
{
        char cmd[160];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        assert_int_equal(system(cmd), 0);
        free(top);
}

/* The resolutions every implementation (openat2 or the walk) must agree
 * on; returns the first that does not, 0 when all do. */
static int check_resolutions(int root)
{
        const uint64_t nosym = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
        struct {
                const char *path;
                int flags;
                uint64_t resolve;
                int want;
        } c[] = {
                { "a/b", O_PATH | O_DIRECTORY, nosym, 0 },
                { "a//b/", O_PATH | O_DIRECTORY, nosym, 0 },
                { "./a/./b", O_RDONLY | O_DIRECTORY, nosym, 0 },
                { "a/f", O_RDONLY, nosym, 0 },
                { "a/f", O_PATH | O_DIRECTORY, nosym, -ENOTDIR },
                { "a/link", O_PATH, nosym, -ELOOP },
                { "a/link/x", O_PATH, nosym, -ELOOP },
                { "a/out", O_RDONLY, nosym, -ELOOP },
                { "..", O_PATH, nosym, -EXDEV },
                { "/a", O_PATH, nosym, -EXDEV },
                { "a/nothing", O_PATH, nosym, -ENOENT },
                { "a/b", O_PATH, RESOLVE_NO_SYMLINKS, 0 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
                int fd = gk_open_resolved(root, c[i].path, c[i].flags, c[i].resolve);

                if (fd >= 0)
                        close(fd);
                if ((fd >= 0 ? 0 : fd) != c[i].want)
                        return (int) i + 1;
        }
        return 0;
}

static void test_resolve(void **state)
{
        char *top = make_tree();
        int root = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

        assert_int_equal(check_resolutions(root), 0);
        /* inside the root, a symlink to "/" stays inside */
        fd = gk_open_resolved(root, "/a/out/a/b", O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT);
        assert_true(fd >= 0);
        close(fd);
        fd = gk_open_resolved(root, "", O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT);
        assert_true(fd >= 0);
        close(fd);
        close(root);
        remove_tree(top);
}

/* In a child whose seccomp filter answers openat2 with ERR: the walk gives
 * the same answers, and what it cannot do is -ENOSYS.  Exit status 0 when
 * so, else the failing case. */
static int without_openat2(const char *top, int err)
{
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0) {
                scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
                int root = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC), r;

                if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), SCMP_SYS(openat2), 0) < 0 ||
                    seccomp_load(ctx) < 0)
                        _exit(100);
                r = check_resolutions(root);
                if (r)
                        _exit(r);
                if (gk_open_resolved(root, "a/b", O_PATH, RESOLVE_IN_ROOT) != -ENOSYS)
                        _exit(101);
                if (gk_open_resolved(root, "a/b", O_PATH,
                                     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV) !=
                    -ENOSYS)
                        _exit(102);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

static void test_resolve_without_openat2(void **state)
{
        char *top = make_tree();

        assert_int_equal(without_openat2(top, ENOSYS), 0);
        assert_int_equal(without_openat2(top, EPERM), 0);
        remove_tree(top);
}

static void test_resolve_error(void **state)
{
        gk_error *err = NULL;

        assert_int_equal(gk_error_resolve(&err, -ENOSYS, "open `%s` in rootfs", "/x"), -ENOSYS);
        assert_non_null(strstr(err->msg, "open `/x` in rootfs: openat2 is not available"));
        gk_error_freep(&err);
        assert_int_equal(gk_error_resolve(&err, -ENOENT, "open `%s`", "/y"), -ENOENT);
        assert_string_equal(err->msg, "open `/y`: No such file or directory");
        gk_error_freep(&err);
}

static void test_spec_edit(void **state)
{
        const char *json = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                           " \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\","
                           " \"env\": [\"A=1\", \"AB=2\"]},"
                           " \"annotations\": {\"k\": \"v\"}}";
        _cleanup_(gk_spec_freep) gk_spec *s = NULL;
        gk_process *p;
        gk_error *err = NULL;
        gk_mount *m;
        char *out = NULL;
        size_t len;

        assert_int_equal(gk_spec_parse(json, strlen(json), "config.json", &s, &err), 0);
        p = s->process;
        assert_int_equal(gk_env_set(&p->env, &p->n_env, "A=3"), 0);
        assert_int_equal(p->n_env, 2);
        assert_string_equal(p->env[0], "A=3");
        assert_string_equal(p->env[1], "AB=2");
        assert_int_equal(gk_env_set(&p->env, &p->n_env, "B="), 0);
        assert_int_equal(p->n_env, 3);
        assert_string_equal(p->env[2], "B=");
        assert_null(p->env[3]);

        assert_int_equal(gk_spec_set_annotation(s, "k", "w"), 0);
        assert_int_equal(s->n_annotations, 1);
        assert_string_equal(gk_spec_annotation(s, "k"), "w");
        assert_int_equal(gk_spec_set_annotation(s, "new", "x"), 0);
        assert_int_equal(gk_spec_add_annotation(s, "k", "again"), 0);
        assert_int_equal(s->n_annotations, 3);
        assert_string_equal(gk_spec_annotation(s, "new"), "x");

        m = gk_mounts_add(&s->mounts, &s->n_mounts);
        assert_non_null(m);
        assert_int_equal(s->n_mounts, 1);
        assert_null(m->destination);
        m->destination = strdup("/run/x");
        m->type = strdup("tmpfs");
        assert_int_equal(gk_spec_emit(s, &out, &len, &err), 0);
        assert_non_null(strstr(out, "\"/run/x\""));
        assert_non_null(strstr(out, "\"B=\""));
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_size),
                cmocka_unit_test(test_port_map),
                cmocka_unit_test(test_resolve),
                cmocka_unit_test(test_resolve_without_openat2),
                cmocka_unit_test(test_resolve_error),
                cmocka_unit_test(test_spec_edit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
