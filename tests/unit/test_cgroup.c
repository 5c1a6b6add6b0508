/* Unit tests of the cgroup layer's pure logic: path rules, the saved form,
 * host layout parsing, unit conversions, value checks, size flags, and the
 * driver selection and the join handle (over directories that stand in
 * for cgroup mounts), the
 * v2 device program, run here by a small interpreter of the BPF
 * instructions it uses (so its rule semantics are tested without root). */
#include <errno.h>
#include <linux/bpf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "sync/sync.h"

static char *resolve(const char *path, bool *def)
{
        gk_error *err = NULL;
        char *out = NULL;

        if (gk_cg_resolve_path("c1", path, &out, def, &err) < 0) {
                gk_error_free(err);
                return NULL;
        }
        return out;
}

static void test_paths(void **state)
{
        struct {
                const char *in, *want;
                bool def;
        } cases[] = {
                { NULL, "/gkrun/c1", true },
                { "", "/gkrun/c1", true },
                { "/a/b", "/a/b", false },
                { "a/b", "/a/b", false }, /* relative: from the root too */
                { "//a/./b//", "/a/b", false },
                { "/a/../../../b", "/b", false }, /* never above the root */
                { "../x", "/x", false },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                bool def = !cases[i].def;
                char *p = resolve(cases[i].in, &def);

                assert_non_null(p);
                assert_string_equal(p, cases[i].want);
                assert_int_equal(def, cases[i].def);
                free(p);
        }
}

static void test_root_path_is_refused(void **state)
{
        gk_error *err = NULL;
        char *out = NULL;
        bool def;

        assert_true(gk_cg_resolve_path("c1", "/../", &out, &def, &err) < 0);
        assert_non_null(strstr(err->msg, "linux.cgroupsPath"));
        assert_non_null(strstr(err->msg, "root cgroup"));
        gk_error_free(err);
}

static const char hybrid_mountinfo[] =
        "25 30 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
        "33 25 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
        "34 33 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
        "35 33 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
        "36 33 0:31 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
        "37 33 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "38 33 0:33 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio\n"
        "39 33 0:32 / /mnt/again\\040here rw - cgroup cgroup rw,memory\n";

static void test_layout_hybrid(void **state)
{
        gk_cg_layout lay = { 0 };
        gk_error *err = NULL;

        assert_int_equal(gk_cg_layout_parse(hybrid_mountinfo, &lay, &err), 0);
        assert_int_equal(lay.mode, GK_CG_HYBRID);
        assert_string_equal(lay.v2_mnt, "/sys/fs/cgroup/unified");
        /* name=systemd (no controller) is joined too; memory once */
        assert_int_equal(lay.n_v1, 4);
        assert_string_equal(lay.v1[0].mnt, "/sys/fs/cgroup/systemd");
        assert_int_equal(lay.v1[0].ctrls, 0);
        assert_string_equal(lay.v1[lay.v1_of[GK_CTRL_CPU]].mnt, "/sys/fs/cgroup/cpu,cpuacct");
        assert_int_equal(lay.v1_of[GK_CTRL_CPU], lay.v1_of[GK_CTRL_CPUACCT]);
        assert_string_equal(lay.v1[lay.v1_of[GK_CTRL_MEMORY]].mnt, "/sys/fs/cgroup/memory");
        assert_int_equal(lay.v1_of[GK_CTRL_NET_PRIO], lay.v1_of[GK_CTRL_NET_CLS]);
        assert_int_equal(lay.v1_of[GK_CTRL_PIDS], -1);
        gk_cg_layout_clear(&lay);
}

static void test_layout_v1_v2_and_none(void **state)
{
        gk_cg_layout lay = { 0 };
        gk_error *err = NULL;

        assert_int_equal(gk_cg_layout_parse("1 0 0:1 / /cg/pids rw - cgroup c rw,pids\n", &lay,
                                            &err),
                         0);
        assert_int_equal(lay.mode, GK_CG_V1);
        assert_null(lay.v2_mnt);
        gk_cg_layout_clear(&lay);
        /* systemd's unified mode with its legacy name=systemd beside: v2 */
        assert_int_equal(gk_cg_layout_parse("1 0 0:1 / /cg rw - cgroup2 c rw\n"
                                            "2 0 0:2 / /n rw - cgroup c rw,name=systemd\n"
                                            "3 0 0:3 / /o rw - cgroup c rw,name=other\n",
                                            &lay, &err),
                         0);
        assert_int_equal(lay.mode, GK_CG_V2);
        assert_string_equal(lay.v2_mnt, "/cg");
        gk_cg_layout_clear(&lay);
        assert_true(gk_cg_layout_parse("1 0 0:1 / / rw - ext4 /dev/vda rw\n", &lay, &err) < 0);
        assert_non_null(strstr(err->msg, "no cgroup filesystem"));
        gk_error_free(err);
        gk_cg_layout_clear(&lay);
}

static void test_ctrl_lists(void **state)
{
        char buf[128];
        uint32_t bits = gk_cg_parse_ctrl_list("cpuset cpu io memory hugetlb pids rdma misc\n");

        assert_true(bits & GK_CTRL_BIT(GK_CTRL_BLKIO));
        assert_true(bits & GK_CTRL_BIT(GK_CTRL_MISC));
        assert_false(bits & GK_CTRL_BIT(GK_CTRL_FREEZER));
        gk_cg_ctrl_list(GK_CTRL_BIT(GK_CTRL_CPU) | GK_CTRL_BIT(GK_CTRL_BLKIO) |
                                GK_CTRL_BIT(GK_CTRL_MEMORY),
                        buf, sizeof(buf));
        assert_string_equal(buf, "+cpu +memory +io");
}

static void test_saved_form(void **state)
{
        gk_cgroup *cg = NULL;
        gk_error *err = NULL;
        char *s = NULL;
        const gk_cg_layout *lay;
        const char *names[] = { "v1", "hybrid", "v2" };
        char saved[64];

        if (gk_cg_layout_get(&lay, &err) < 0) {
                gk_error_free(err);
                skip(); /* no cgroups at all where the tests run */
        }
        snprintf(saved, sizeof(saved), "%s 2 /gkrun/a b", names[lay->mode]);
        assert_int_equal(gk_cgroup_open(saved, &cg, &err), 0);
        assert_string_equal(gk_cgroup_path(cg), "/gkrun/a b");
        assert_int_equal(gk_cgroup_to_string(cg, &s, &err), 0);
        assert_string_equal(s, saved);
        free(s);
        gk_cgroup_free(cg);
        assert_true(gk_cgroup_open("v1 x /a", &cg, &err) < 0);
        assert_non_null(strstr(err->msg, "cannot parse"));
        gk_error_freep(&err);
        assert_true(gk_cgroup_open("v9 1 /a", &cg, &err) < 0);
        gk_error_freep(&err);
        snprintf(saved, sizeof(saved), "%s 1 /a", names[(lay->mode + 1) % 3]);
        assert_true(gk_cgroup_open(saved, &cg, &err) < 0);
        assert_non_null(strstr(err->msg, "host"));
        gk_error_freep(&err);
}

static void test_shares_to_weight(void **state)
{
        assert_int_equal(gk_cg_shares_to_weight(0), 0);
        assert_int_equal(gk_cg_shares_to_weight(2), 1);
        assert_int_equal(gk_cg_shares_to_weight(1024), 100);
        assert_int_equal(gk_cg_shares_to_weight(262144), 10000);
        assert_int_equal(gk_cg_shares_to_weight(1000000), 10000);
        /* monotonic in between */
        for (uint64_t s = 3, last = 1; s < 262144; s = s * 5 / 4 + 1) {
                uint64_t w = gk_cg_shares_to_weight(s);

                assert_true(w >= last);
                last = w;
        }
        /* ceil(10^((l^2 + 125 l) / 612 - 7/34)), l = log2(shares) */
        assert_int_equal(gk_cg_shares_to_weight(3), 2);
        assert_int_equal(gk_cg_shares_to_weight(100), 17);
        assert_int_equal(gk_cg_shares_to_weight(512), 59);
        assert_int_equal(gk_cg_shares_to_weight(1000), 99);
        assert_int_equal(gk_cg_shares_to_weight(2048), 174);
        assert_int_equal(gk_cg_shares_to_weight(10000), 627);
        assert_int_equal(gk_cg_shares_to_weight(100000), 4340);
}

static void test_blkio_weight_and_swap(void **state)
{
        gk_error *err = NULL;
        int64_t out;

        assert_int_equal(gk_cg_blkio_to_io_weight(0), 0);
        assert_int_equal(gk_cg_blkio_to_io_weight(10), 1);
        assert_int_equal(gk_cg_blkio_to_io_weight(1000), 10000);
        assert_int_equal(gk_cg_blkio_to_io_weight(500), 1 + 490 * 9999 / 990);
        assert_int_equal(gk_cg_swap_v2(300, 100, &out, &err), 0);
        assert_int_equal(out, 200);
        assert_int_equal(gk_cg_swap_v2(-1, 100, &out, &err), 0);
        assert_int_equal(out, -1);
        assert_int_equal(gk_cg_swap_v2(0, 100, &out, &err), 0);
        assert_int_equal(out, 0);
        assert_true(gk_cg_swap_v2(50, 100, &out, &err) < 0);
        assert_non_null(strstr(err->msg, "below memory.limit"));
        gk_error_freep(&err);
        assert_true(gk_cg_swap_v2(50, 0, &out, &err) < 0);
        assert_non_null(strstr(err->msg, "without a memory limit"));
        gk_error_freep(&err);
}

static void check_refused(const gk_resources *r, const gk_cg_driver *drv, const char *want)
{
        gk_error *err = NULL;

        assert_true(gk_cg_validate(r, drv->caps, &err) < 0);
        if (!strstr(err->msg, want))
                fail_msg("\"%s\" lacks \"%s\"", err->msg, want);
        gk_error_free(err);
}

static void test_validate(void **state)
{
        gk_kv kv = { .key = "memory.max", .value = "1" }, procs = { .key = "cgroup.procs" };
        gk_resources r = { .has_memory = true, .memory = { .has_limit = true, .limit = -2 } };
        gk_error *err = NULL;

        check_refused(&r, &gk_cg_v2_driver, "linux.resources.memory.limit");
        r = (gk_resources){
                .has_memory = true,
                .memory = { .has_limit = true, .limit = 100, .has_swap = true, .swap = 50 }
        };
        check_refused(&r, &gk_cg_v1_driver, "linux.resources.memory.swap");
        r = (gk_resources){ .has_cpu = true, .cpu = { .has_shares = true, .shares = 1 } };
        check_refused(&r, &gk_cg_v1_driver, "linux.resources.cpu.shares");
        r = (gk_resources){ .has_cpu = true, .cpu = { .cpus = "0-3,x" } };
        check_refused(&r, &gk_cg_v1_driver, "not a CPU list");
        r = (gk_resources){ .has_cpu = true,
                            .cpu = { .has_realtime_runtime = true, .realtime_runtime = 5 } };
        check_refused(&r, &gk_cg_v2_driver, "real-time");
        assert_int_equal(gk_cg_validate(&r, (&gk_cg_v1_driver)->caps, &err), 0);
        r = (gk_resources){ .unified = &kv, .n_unified = 1 };
        check_refused(&r, &gk_cg_v1_driver, "cgroup v1");
        check_refused(&r, &gk_cg_hybrid_driver, "linux.resources.unified");
        assert_int_equal(gk_cg_validate(&r, (&gk_cg_v2_driver)->caps, &err), 0);
        r = (gk_resources){ .unified = &procs, .n_unified = 1 };
        check_refused(&r, &gk_cg_v2_driver, "not a resource setting");
        r = (gk_resources){ .has_blkio = true, .blkio = { .has_weight = true, .weight = 5 } };
        check_refused(&r, &gk_cg_v1_driver, "linux.resources.blockIO.weight");
        r = (gk_resources){ .has_net_class_id = true, .net_class_id = 1 };
        check_refused(&r, &gk_cg_v2_driver, "linux.resources.network");
        r = (gk_resources){ .has_pids = true, .pids_limit = -7 };
        check_refused(&r, &gk_cg_v1_driver, "linux.resources.pids.limit");
        assert_int_equal(gk_cg_validate(NULL, (&gk_cg_v1_driver)->caps, &err), 0);
        assert_null(err);
}

/* --- driver selection and dispatch ------------------------------------ */

static int collect_dir(const char *mnt, const char *dir, void *arg)
{
        char *out = arg;
        size_t used = strlen(out);

        (void) mnt;
        snprintf(out + used, 512 - used, "%s;", dir);
        return 0;
}

/* A hybrid host: memory and cpu on v1, pids lent to the unified mount,
 * hugetlb nowhere; the freezer and devices (no v1 hierarchy here) are the
 * unified mount's core files. */
static void test_driver_hybrid(void **state)
{
        gk_cg_layout lay = { 0 };
        gk_error *err = NULL;
        gk_cgroup *cg;
        char dirs[512] = "";

        (void) state;
        assert_int_equal(gk_cg_layout_parse(hybrid_mountinfo, &lay, &err), 0);
        lay.v2_ctrls_known = true;
        lay.v2_ctrls = GK_CTRL_BIT(GK_CTRL_PIDS) | GK_CTRL_BIT(GK_CTRL_MEMORY);
        cg = gk_cg_new(&lay);
        assert_non_null(cg);
        assert_ptr_equal(cg->drv, &gk_cg_hybrid_driver);
        assert_string_equal(cg->drv->name, "hybrid");
        /* v1 first, even where the unified mount offers it too */
        assert_ptr_equal(cg->drv->ctrl_files(cg, GK_CTRL_MEMORY), &gk_cg_v1_files);
        assert_ptr_equal(cg->drv->ctrl_files(cg, GK_CTRL_CPU), &gk_cg_v1_files);
        assert_ptr_equal(cg->drv->ctrl_files(cg, GK_CTRL_NET_CLS), &gk_cg_v1_files);
        assert_ptr_equal(cg->drv->ctrl_files(cg, GK_CTRL_PIDS), &gk_cg_v2_files);
        assert_ptr_equal(cg->drv->ctrl_files(cg, GK_CTRL_FREEZER), &gk_cg_v2_files);
        assert_ptr_equal(cg->drv->ctrl_files(cg, GK_CTRL_DEVICES), &gk_cg_v2_files);
        assert_null(cg->drv->ctrl_files(cg, GK_CTRL_HUGETLB));
        assert_true(strlen(cg->drv->missing_hint) > 0);
        /* both join paths: cloned into the unified dir, v1 by itself */
        assert_non_null(cg->drv->clone_fd);
        assert_non_null(cg->drv->join_fds);
        assert_non_null(cg->drv->join_self);
        assert_true(cg->drv->caps & GK_CG_CAN_NET);
        assert_false(cg->drv->caps & GK_CG_CAN_UNIFIED);
        cg->path = strdup("/gkrun/x");
        assert_int_equal(gk_cgroup_each_dir(cg, collect_dir, dirs), 0);
        assert_string_equal(dirs,
                            "/sys/fs/cgroup/systemd/gkrun/x;/sys/fs/cgroup/cpu,cpuacct/gkrun/x;"
                            "/sys/fs/cgroup/memory/gkrun/x;"
                            "/sys/fs/cgroup/net_cls,net_prio/gkrun/x;"
                            "/sys/fs/cgroup/unified/gkrun/x;");
        gk_cgroup_free(cg);
        gk_cg_layout_clear(&lay);
}

static void test_driver_v1_and_v2(void **state)
{
        gk_cg_layout lay = { 0 };
        gk_error *err = NULL;
        gk_cgroup *cg;
        char dirs[512] = "";

        (void) state;
        assert_int_equal(gk_cg_layout_parse("1 0 0:1 / /cg/pids rw - cgroup c rw,pids\n", &lay,
                                            &err),
                         0);
        cg = gk_cg_new(&lay);
        assert_ptr_equal(cg->drv, &gk_cg_v1_driver);
        assert_ptr_equal(cg->drv->ctrl_files(cg, GK_CTRL_PIDS), &gk_cg_v1_files);
        assert_null(cg->drv->ctrl_files(cg, GK_CTRL_MEMORY));
        assert_null(cg->drv->ctrl_files(cg, GK_CTRL_FREEZER));
        /* no cgroup2 mount: never cloned into a cgroup, joins by itself */
        assert_null(cg->drv->clone_fd);
        assert_null(cg->drv->make_early);
        assert_non_null(cg->drv->join_self);
        assert_null(cg->drv->kill_all);
        cg->path = strdup("/a");
        assert_int_equal(gk_cgroup_each_dir(cg, collect_dir, dirs), 0);
        assert_string_equal(dirs, "/cg/pids/a;");
        gk_cgroup_free(cg);
        gk_cg_layout_clear(&lay);

        dirs[0] = '\0';
        assert_int_equal(gk_cg_layout_parse("1 0 0:1 / /cg rw - cgroup2 c rw\n", &lay, &err), 0);
        cg = gk_cg_new(&lay);
        assert_ptr_equal(cg->drv, &gk_cg_v2_driver);
        for (int c = 0; c < GK_CTRL_COUNT; c++)
                assert_ptr_equal(cg->drv->ctrl_files(cg, c), &gk_cg_v2_files);
        assert_non_null(cg->drv->clone_fd);
        assert_null(cg->drv->join_fds);
        assert_null(cg->drv->join_self);
        assert_true(cg->drv->caps & GK_CG_CAN_UNIFIED);
        cg->path = strdup("/a");
        assert_int_equal(gk_cgroup_each_dir(cg, collect_dir, dirs), 0);
        assert_string_equal(dirs, "/cg/a;");
        gk_cgroup_free(cg);
        gk_cg_layout_clear(&lay);
}

/* The systemd driver: the saved form keeps the unit, the host's kind is
 * the base driver's, and the init is moved by pid (no join fast path). */
static void test_driver_systemd_saved(void **state)
{
        gk_cgroup *cg = NULL;
        gk_cgroup_join *j = NULL;
        gk_error *err = NULL;
        const gk_cg_layout *lay;
        char saved[128], *s = NULL;

        (void) state;
        if (gk_cg_layout_get(&lay, &err) < 0) {
                gk_error_free(err);
                skip();
        }
        snprintf(saved, sizeof(saved), "systemd gk-a.scope %s 0 /system.slice/gk-a.scope",
                 gk_cg_driver_for(lay)->name);
        assert_int_equal(gk_cgroup_open(saved, &cg, &err), 0);
        assert_ptr_equal(cg->drv, &gk_cg_systemd_driver);
        assert_ptr_equal(cg->base, gk_cg_driver_for(lay));
        assert_int_equal(gk_cgroup_to_string(cg, &s, &err), 0);
        assert_string_equal(s, saved);
        assert_int_equal(gk_cgroup_join_prepare(cg, 0, &j, &err), 0);
        assert_int_equal(gk_cgroup_join_clone_fd(j), -1);
        gk_cgroup_join_free(j);
        free(s);
        gk_cgroup_free(cg);
        /* no cgroup at all: an empty handle */
        assert_int_equal(gk_cgroup_join_prepare(NULL, 0, &j, &err), 0);
        assert_int_equal(gk_cgroup_join_clone_fd(j), -1);
        gk_cgroup_join_free(j);
}

/* --- the join handle, over plain directories standing in for mounts ---- */

static char *read_text(const char *dir, const char *file)
{
        static char buf[64];
        char path[512];
        int fd;
        ssize_t n;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n < 0 ? 0 : n] = '\0';
        return buf;
}

static void make_cg_dir(const char *mnt, const char *path, char *out, size_t size)
{
        snprintf(out, size, "%s%s", mnt, path);
        assert_int_equal(mkdir(mnt, 0755), 0);
        assert_int_equal(mkdir(out, 0755), 0);
        for (const char *const *f = (const char *const[]){ "tasks", "cgroup.procs", NULL }; *f;
             f++) {
                char p[512];
                int fd;

                snprintf(p, sizeof(p), "%s/%s", out, *f);
                fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                close(fd);
        }
}

/* v1: not cloned into anything; GO carries each hierarchy's tasks file,
 * in order, and the child writes "0" to each (itself, no move by pid). */
static void test_join_v1_passes_tasks_files(void **state)
{
        char tmp[] = "/tmp/gk-cgjoin-XXXXXX", mi[1024], a[300], b[300], da[400], db[400];
        gk_cg_layout lay = { 0 };
        gk_cgroup_join *j = NULL;
        gk_error *err = NULL;
        gk_cgroup *cg;
        int sv[2];

        (void) state;
        assert_non_null(mkdtemp(tmp));
        snprintf(a, sizeof(a), "%s/pids", tmp);
        snprintf(b, sizeof(b), "%s/memory", tmp);
        snprintf(mi, sizeof(mi),
                 "1 0 0:1 / %s rw - cgroup c rw,pids\n"
                 "2 0 0:2 / %s rw - cgroup c rw,memory\n",
                 a, b);
        assert_int_equal(gk_cg_layout_parse(mi, &lay, &err), 0);
        cg = gk_cg_new(&lay);
        cg->path = strdup("/c1");
        make_cg_dir(a, "/c1", da, sizeof(da));
        make_cg_dir(b, "/c1", db, sizeof(db));
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);

        assert_int_equal(gk_cgroup_join_prepare(cg, 0, &j, &err), 0);
        assert_int_equal(gk_cgroup_join_clone_fd(j), -1);
        assert_int_equal(gk_cgroup_join_send(j, 4242, sv[0], &err), 0);
        assert_int_equal(gk_cgroup_join_recv(cg, sv[1], &err), 0);
        assert_string_equal(read_text(da, "tasks"), "0");
        assert_string_equal(read_text(db, "tasks"), "0");
        /* nobody was moved by pid */
        assert_string_equal(read_text(da, "cgroup.procs"), "");
        assert_null(err);

        gk_cgroup_join_free(j);
        close(sv[0]);
        close(sv[1]);
        gk_cgroup_free(cg);
        gk_cg_layout_clear(&lay);
        for (const char *d[] = { da, db }, **p = d; p < d + 2; p++) {
                char f[512];

                snprintf(f, sizeof(f), "%s/tasks", *p);
                unlink(f);
                snprintf(f, sizeof(f), "%s/cgroup.procs", *p);
                unlink(f);
                rmdir(*p);
        }
        rmdir(a);
        rmdir(b);
        rmdir(tmp);
}

/* v2: cloned into the directory, GO carries nothing; a clone that could
 * not take the fd makes send move the child by pid instead. */
static void test_join_v2_clone_fd_or_move(void **state)
{
        char tmp[] = "/tmp/gk-cgjoin-XXXXXX", mi[600], mnt[300], d[400], f[512];
        gk_cg_layout lay = { 0 };
        gk_cgroup_join *j = NULL;
        gk_error *err = NULL;
        gk_cgroup *cg;
        struct stat st1, st2;
        int sv[2];

        (void) state;
        assert_non_null(mkdtemp(tmp));
        snprintf(mnt, sizeof(mnt), "%s/unified", tmp);
        snprintf(mi, sizeof(mi), "1 0 0:1 / %s rw - cgroup2 c rw\n", mnt);
        assert_int_equal(gk_cg_layout_parse(mi, &lay, &err), 0);
        cg = gk_cg_new(&lay);
        cg->path = strdup("/c2");
        make_cg_dir(mnt, "/c2", d, sizeof(d));
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);

        assert_int_equal(gk_cgroup_join_prepare(cg, 0, &j, &err), 0);
        assert_true(gk_cgroup_join_clone_fd(j) >= 0);
        assert_int_equal(fstat(gk_cgroup_join_clone_fd(j), &st1), 0);
        assert_int_equal(stat(d, &st2), 0);
        assert_true(st1.st_ino == st2.st_ino);
        assert_int_equal(gk_cgroup_join_send(j, 4242, sv[0], &err), 0);
        assert_int_equal(gk_cgroup_join_recv(cg, sv[1], &err), 0);
        assert_string_equal(read_text(d, "cgroup.procs"), "");
        gk_cgroup_join_free(j);

        assert_int_equal(gk_cgroup_join_prepare(cg, 0, &j, &err), 0);
        gk_cgroup_join_clone_fd_unused(j);
        assert_int_equal(gk_cgroup_join_send(j, 4242, sv[0], &err), 0);
        assert_int_equal(gk_cgroup_join_recv(cg, sv[1], &err), 0);
        assert_string_equal(read_text(d, "cgroup.procs"), "4242");
        assert_null(err);

        gk_cgroup_join_free(j);
        close(sv[0]);
        close(sv[1]);
        gk_cgroup_free(cg);
        gk_cg_layout_clear(&lay);
        snprintf(f, sizeof(f), "%s/tasks", d);
        unlink(f);
        snprintf(f, sizeof(f), "%s/cgroup.procs", d);
        unlink(f);
        rmdir(d);
        rmdir(mnt);
        rmdir(tmp);
}

static void test_needed_controllers(void **state)
{
        gk_resources r = {
                .has_memory = true, .has_cpu = true, .has_pids = true, .cpu = { .cpus = "0" }
        };

        /* a memory object with no field in it needs nothing */
        assert_int_equal(gk_cg_needed(&r),
                         GK_CTRL_BIT(GK_CTRL_CPUSET) | GK_CTRL_BIT(GK_CTRL_PIDS));
        r.memory.has_limit = true;
        r.cpu.has_quota = true;
        assert_true(gk_cg_needed(&r) & GK_CTRL_BIT(GK_CTRL_MEMORY));
        assert_true(gk_cg_needed(&r) & GK_CTRL_BIT(GK_CTRL_CPU));
        assert_int_equal(gk_cg_needed(NULL), 0);
}

/* --- the device program, interpreted ------------------------------------ */

/* Runs the subset of eBPF the builder emits on a bpf_cgroup_dev_ctx. */
static int64_t run_bpf(const struct bpf_insn *p, size_t n, uint32_t ctx[3])
{
        uint64_t r[11] = { 0 };

        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint64_t imm = (uint64_t) (int64_t) i->imm;

                switch (i->code) {
                case BPF_LDX | BPF_MEM | BPF_W:
                        assert_int_equal(i->src_reg, 1);
                        r[i->dst_reg] = ctx[i->off / 4];
                        break;
                case BPF_ALU | BPF_MOV | BPF_X:
                        r[i->dst_reg] = (uint32_t) r[i->src_reg];
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        r[i->dst_reg] = (uint32_t) (r[i->dst_reg] & (uint32_t) i->imm);
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        r[i->dst_reg] = (uint32_t) r[i->dst_reg] >> i->imm;
                        break;
                case BPF_ALU64 | BPF_MOV | BPF_K:
                        r[i->dst_reg] = imm;
                        break;
                case BPF_JMP | BPF_JNE | BPF_K:
                        if (r[i->dst_reg] != imm)
                                pc += (size_t) i->off;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        if (r[i->dst_reg] == imm)
                                pc += (size_t) i->off;
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (int64_t) r[0];
                default:
                        fail_msg("unexpected instruction %#x at %zu", i->code, pc);
                }
                assert_true(pc + 1 <= n);
        }
        fail_msg("fell off the end");
        return -1;
}

#define R(al, t, ma, mi, a)                                                             \
        {                                                                               \
                .allow = (al), .type = (t), .major = (ma), .minor = (mi), .access = (a) \
        }

static int allowed(const gk_device_rule *rules, size_t n, char type, uint32_t maj, uint32_t min,
                   const char *access)
{
        struct bpf_insn *p = NULL;
        size_t len;
        gk_error *err = NULL;
        uint32_t acc = 0, ctx[3];
        int64_t v;

        for (const char *a = access; *a; a++)
                acc |= *a == 'r'   ? BPF_DEVCG_ACC_READ
                       : *a == 'w' ? BPF_DEVCG_ACC_WRITE
                                   : BPF_DEVCG_ACC_MKNOD;
        ctx[0] = acc << 16 | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
        ctx[1] = maj;
        ctx[2] = min;
        assert_int_equal(gk_cg_bpf_build(rules, n, &p, &len, &err), 0);
        v = run_bpf(p, len, ctx);
        free(p);
        assert_true(v == 0 || v == 1);
        return (int) v;
}

static void test_bpf_defaults(void **state)
{
        gk_device_rule deny_all[] = { R(false, 'a', -1, -1, "rwm") };

        /* no rules at all: only the default allow-list */
        assert_true(allowed(NULL, 0, 'c', 1, 3, "rw"));   /* /dev/null */
        assert_true(allowed(NULL, 0, 'c', 136, 7, "rw")); /* a pty */
        assert_true(allowed(NULL, 0, 'c', 5, 2, "rw"));   /* ptmx */
        assert_false(allowed(NULL, 0, 'c', 1, 11, "r"));  /* kmsg */
        assert_false(allowed(NULL, 0, 'b', 8, 0, "r"));   /* a disk */
        assert_true(allowed(NULL, 0, 'b', 8, 0, "m"));    /* mknod of anything */
        assert_false(allowed(NULL, 0, 'b', 8, 0, "rm"));
        /* the defaults come last: they win over the spec's rules */
        assert_true(allowed(deny_all, 1, 'c', 1, 3, "w"));
        assert_false(allowed(deny_all, 1, 'c', 4, 1, "w"));
}

static void test_bpf_last_match_per_access_bit(void **state)
{
        gk_device_rule r1[] = { R(false, 'a', -1, -1, "rwm"), R(true, 'c', 1, 11, "r") };
        gk_device_rule r2[] = { R(false, 'a', -1, -1, "rwm"), R(true, 'c', 1, -1, "rw"),
                                R(false, 'c', 1, 11, "w") };
        gk_device_rule r3[] = { R(true, 'a', -1, -1, "rwm"), R(false, 'b', 8, -1, "w") };
        gk_device_rule r4[] = { R(true, 'a', 7, -1, "r") };

        assert_true(allowed(r1, 2, 'c', 1, 11, "r"));
        assert_false(allowed(r1, 2, 'c', 1, 11, "w"));
        assert_false(allowed(r1, 2, 'c', 1, 11, "rw"));
        assert_true(allowed(r2, 3, 'c', 1, 11, "r"));
        assert_false(allowed(r2, 3, 'c', 1, 11, "rw"));
        assert_true(allowed(r2, 3, 'c', 1, 12, "rw"));
        assert_false(allowed(r2, 3, 'b', 1, 12, "r")); /* type c only */
        assert_true(allowed(r3, 2, 'b', 8, 1, "r"));
        assert_false(allowed(r3, 2, 'b', 8, 1, "w"));
        assert_true(allowed(r3, 2, 'c', 8, 1, "w"));
        assert_true(allowed(r4, 1, 'b', 7, 3, "r")); /* type a: block and char */
        assert_true(allowed(r4, 1, 'c', 7, 3, "r"));
        assert_false(allowed(r4, 1, 'c', 7, 3, "w"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_root_path_is_refused),
                cmocka_unit_test(test_layout_hybrid),
                cmocka_unit_test(test_layout_v1_v2_and_none),
                cmocka_unit_test(test_ctrl_lists),
                cmocka_unit_test(test_saved_form),
                cmocka_unit_test(test_shares_to_weight),
                cmocka_unit_test(test_blkio_weight_and_swap),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_driver_hybrid),
                cmocka_unit_test(test_driver_v1_and_v2),
                cmocka_unit_test(test_driver_systemd_saved),
                cmocka_unit_test(test_join_v1_passes_tasks_files),
                cmocka_unit_test(test_join_v2_clone_fd_or_move),
                cmocka_unit_test(test_needed_controllers),
                cmocka_unit_test(test_bpf_defaults),
                cmocka_unit_test(test_bpf_last_match_per_access_bit),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
