/* cgroup v1 files: making the path in each hierarchy, v1 file names and
 * units, the devices controller's allow/deny lists and the v1 freezer
 * (gk_cg_v1_files; the hierarchies themselves: cgroup_v1_driver.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"

#define F_MEM "linux.resources.memory."
#define F_CPU "linux.resources.cpu."
#define F_BLKIO "linux.resources.blockIO."
#define F_DEV "linux.resources.devices"

/* A new cpuset cgroup starts with no cpus and no mems, and no process can
 * join it until both are set: take the parent's. */
static int cpuset_inherit(int parent, int dir, gk_error **err)
{
        static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
        char buf[4096];
        ssize_t n;
        int r;

        if (gk_cg_read(dir, files[0], buf, sizeof(buf), NULL) > 1)
                return 0; /* cgroup.clone_children of the parent did it */
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                if ((n = gk_cg_read(parent, files[i], buf, sizeof(buf), err)) < 0)
                        return (int) n;
                if ((r = gk_cg_write(dir, files[i], buf[0] ? buf : "\n", "cpuset", err)) < 0)
                        return r;
        }
        return 0;
}

/* A cpuset cgroup that a concurrent gkrun has just made (the shared /gkrun
 * parent) may not have its cpus yet: a child made under it now would
 * inherit nothing and refuse every process.  Wait for its creator, briefly,
 * rather than write into a cgroup we did not make.  v1 has no event for
 * a file's change (cgroup files do not support inotify or poll here):
 * a bounded wait of at most 200 ms, the creator's two writes away. */
static void cpuset_wait_filled(int dir)
{
        char buf[64];

        for (int i = 0; i < 100; i++) {
                if (gk_cg_read(dir, "cpuset.cpus", buf, sizeof(buf), NULL) > 1 &&
                    gk_cg_read(dir, "cpuset.mems", buf, sizeof(buf), NULL) > 1)
                        return;
                poll(NULL, 0, 2);
        }
}

/* mkdir of each component of PATH below ROOTFD; returns the leaf's fd and
 * in *made how many trailing components did not exist before. */
static int make_path(int rootfd, const char *mnt, const char *path, bool cpuset, unsigned *made,
                     gk_error **err)
{
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = dup(rootfd);
        char *save = NULL;
        unsigned depth = 0, first_new = 0;
        bool any_new = false;
        int r;

        if (!copy || fd < 0)
                return gk_error_make(err, ENOMEM, "cgroup");
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                bool leaf = !save || !*save;
                int nfd;

                depth++;
                if (mkdirat(fd, c, 0755) == 0) {
                        if (!any_new)
                                first_new = depth;
                        any_new = true;
                } else if (errno != EEXIST) {
                        return gk_error_errno(err, "create cgroup `%s%s`", mnt, path);
                }
                nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return gk_error_errno(err, "open cgroup `%s%s`", mnt, path);
                if (cpuset && !any_new)
                        cpuset_wait_filled(nfd);
                if (cpuset && any_new && (r = cpuset_inherit(fd, nfd, err)) < 0) {
                        close(nfd);
                        return r;
                }
                /* children of a parent we made inherit its cpuset */
                if (cpuset && any_new && !leaf)
                        gk_cg_write(nfd, "cgroup.clone_children", "1", "cpuset", NULL);
                close(fd);
                fd = nfd;
        }
        *made = any_new ? depth - first_new + 1 : 0;
        return TAKE_FD(fd);
}

int gk_cg_v1_make(gk_cgroup *cg, gk_error **err)
{
        for (size_t h = 0; h < cg->lay->n_v1; h++) {
                const gk_cg_hier *hi = &cg->lay->v1[h];
                _cleanup_close_ int root = open(hi->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                unsigned made = 0;
                int fd;

                if (root < 0)
                        return gk_error_errno(err, "open cgroup hierarchy `%s`", hi->mnt);
                /* ENOENT: a concurrent delete removed the empty /gkrun
                 * between our mkdir and the leaf's; make it again. */
                for (int try = 0; try < 5; try++) {
                        if (try)
                                gk_error_freep(err); /* the failed try's */
                        if (try == 0 && GK_RACE("cgroup.parent-removed"))
                                fd = gk_error_make(err, ENOENT, "create cgroup `%s%s`", hi->mnt,
                                                   cg->path);
                        else
                                fd = make_path(root, hi->mnt, cg->path,
                                               hi->ctrls & GK_CTRL_BIT(GK_CTRL_CPUSET), &made,
                                               err);
                        if (fd != -ENOENT)
                                break;
                }
                if (fd < 0)
                        return fd;
                cg->v1_fd[h] = fd;
                gk_cg_count_made(cg, made);
        }
        return 0;
}

static int set_i64(int fd, const char *file, bool has, int64_t v, const char *field,
                   gk_error **err)
{
        char buf[32];

        if (!has || v == 0)
                return 0;
        snprintf(buf, sizeof(buf), "%" PRId64, v);
        return gk_cg_write(fd, file, buf, field, err);
}

/* Linux 5.16 deprecated kernel memory limits and 6.x takes the write
 * but keeps no limit: read back, so that a limit that is not kept is an
 * error rather than a container without it. */
static int set_kmem(int fd, const gk_memory *m, gk_error **err)
{
        uint64_t got;
        int r = set_i64(fd, "memory.kmem.limit_in_bytes", m->has_kernel, m->kernel, F_MEM "kernel",
                        err);

        if (r < 0 || !m->has_kernel || m->kernel <= 0)
                return r;
        if (gk_cg_read_u64(fd, "memory.kmem.limit_in_bytes", &got, NULL) == 0 &&
            got > (uint64_t) m->kernel)
                return gk_error_make(err, EOPNOTSUPP,
                                     "config.json: " F_MEM "kernel: this kernel keeps no kernel "
                                     "memory limit (memory.kmem.limit_in_bytes reads %" PRIu64
                                     " after %" PRId64 " was written)",
                                     got, m->kernel);
        return 0;
}

static int check_usage(int fd, int64_t limit, gk_error **err)
{
        uint64_t usage;

        if (limit <= 0 || gk_cg_read_u64(fd, "memory.usage_in_bytes", &usage, NULL) < 0)
                return 0;
        if (usage > (uint64_t) limit)
                return gk_error_make(err, EBUSY,
                                     F_MEM "limit: %" PRId64 " is below the current "
                                           "usage %" PRIu64 " (checkBeforeUpdate)",
                                     limit, usage);
        return 0;
}

/* memsw (memory+swap) can never be below the limit, so the order of the
 * two writes depends on whether they go up or down: try limit first and
 * on EINVAL swap first. */
static int set_limit_swap(int fd, int64_t limit, int64_t swap, gk_error **err)
{
        int r = set_i64(fd, "memory.limit_in_bytes", true, limit, F_MEM "limit", err);
        uint64_t old_limit, old_memsw;

        /* A limit raised above memory+swap without a new swap value: keep
         * the swap allowance the container had. */
        if (r == -EINVAL && !swap && limit > 0 &&
            gk_cg_read_u64(fd, "memory.limit_in_bytes", &old_limit, NULL) == 0 &&
            gk_cg_read_u64(fd, "memory.memsw.limit_in_bytes", &old_memsw, NULL) == 0 &&
            old_memsw < (uint64_t) limit && old_memsw >= old_limit)
                swap = limit + (int64_t) (old_memsw - old_limit);
        if (r == -EINVAL && swap) {
                if (err)
                        gk_error_freep(err);
                if ((r = set_i64(fd, "memory.memsw.limit_in_bytes", true, swap, F_MEM "swap",
                                 err)) < 0)
                        return r;
                return set_i64(fd, "memory.limit_in_bytes", true, limit, F_MEM "limit", err);
        }
        if (r < 0)
                return r;
        return set_i64(fd, "memory.memsw.limit_in_bytes", true, swap, F_MEM "swap", err);
}

static int v1_memory(int fd, const gk_memory *m, bool update, gk_error **err)
{
        int64_t limit = m->has_limit ? m->limit : 0, swap = m->has_swap ? m->swap : 0;
        char buf[32];
        int r;

        /* unlimited memory means unlimited memory+swap too (as runc) */
        if (limit == -1 && !swap && gk_cg_exists(fd, "memory.memsw.limit_in_bytes"))
                swap = -1;
        if (update && m->has_check_before_update && m->check_before_update &&
            (r = check_usage(fd, limit, err)) < 0)
                return r;
        if ((r = set_limit_swap(fd, limit, swap, err)) < 0 ||
            (r = set_i64(fd, "memory.soft_limit_in_bytes", m->has_reservation, m->reservation,
                         F_MEM "reservation", err)) < 0 ||
            (r = set_kmem(fd, m, err)) < 0 ||
            (r = set_i64(fd, "memory.kmem.tcp.limit_in_bytes", m->has_kernel_tcp, m->kernel_tcp,
                         F_MEM "kernelTCP", err)) < 0)
                return r;
        if (m->has_swappiness) {
                snprintf(buf, sizeof(buf), "%" PRIu64, m->swappiness);
                if ((r = gk_cg_write(fd, "memory.swappiness", buf, F_MEM "swappiness", err)) < 0)
                        return r;
        }
        if (m->has_disable_oom_killer && (m->disable_oom_killer || update))
                return gk_cg_write(fd, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
                                   F_MEM "disableOOMKiller", err);
        return 0;
}

static int v1_cpu(int fd, const gk_cpu *c, gk_error **err)
{
        int r;

        if ((r = set_i64(fd, "cpu.shares", c->has_shares, (int64_t) c->shares, F_CPU "shares",
                         err)) < 0 ||
            (r = set_i64(fd, "cpu.cfs_period_us", c->has_period, (int64_t) c->period,
                         F_CPU "period", err)) < 0 ||
            (r = set_i64(fd, "cpu.cfs_quota_us", c->has_quota, c->quota, F_CPU "quota", err)) <
                    0 ||
            (r = set_i64(fd, "cpu.rt_period_us", c->has_realtime_period,
                         (int64_t) c->realtime_period, F_CPU "realtimePeriod", err)) < 0 ||
            (r = set_i64(fd, "cpu.rt_runtime_us", c->has_realtime_runtime, c->realtime_runtime,
                         F_CPU "realtimeRuntime", err)) < 0)
                return r;
        if (c->has_burst && (r = gk_cg_writef(fd, "cpu.cfs_burst_us", F_CPU "burst", err,
                                              "%" PRIu64, c->burst)) < 0)
                return r;
        if (c->has_idle)
                return gk_cg_writef(fd, "cpu.idle", F_CPU "idle", err, "%" PRId64, c->idle);
        return 0;
}

static int v1_cpuset(int fd, const gk_cpu *c, gk_error **err)
{
        int r;

        if (c->mems && *c->mems &&
            (r = gk_cg_write(fd, "cpuset.mems", c->mems, F_CPU "mems", err)) < 0)
                return r;
        if (c->cpus && *c->cpus)
                return gk_cg_write(fd, "cpuset.cpus", c->cpus, F_CPU "cpus", err);
        return 0;
}

static int v1_devlist(int fd, const char *file, const gk_blkio_device *d, size_t n, bool weight,
                      bool leaf, const char *field, gk_error **err)
{
        for (size_t i = 0; i < n; i++) {
                uint64_t v = weight ? (leaf ? d[i].leaf_weight : d[i].weight) : d[i].rate;
                int r;

                if (weight && !(leaf ? d[i].has_leaf_weight : d[i].has_weight))
                        continue;
                r = gk_cg_writef(fd, file, field, err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                                 d[i].major, d[i].minor, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_blkio(int fd, const gk_blkio *b, gk_error **err)
{
        bool cfq = gk_cg_exists(fd, "blkio.weight");
        int r;

        if ((r = set_i64(fd, cfq ? "blkio.weight" : "blkio.bfq.weight", b->has_weight, b->weight,
                         F_BLKIO "weight", err)) < 0 ||
            (r = set_i64(fd, "blkio.leaf_weight", b->has_leaf_weight, b->leaf_weight,
                         F_BLKIO "leafWeight", err)) < 0 ||
            (r = v1_devlist(fd, cfq ? "blkio.weight_device" : "blkio.bfq.weight_device",
                            b->weight_device, b->n_weight_device, true, false,
                            F_BLKIO "weightDevice", err)) < 0 ||
            (r = v1_devlist(fd, "blkio.leaf_weight_device", b->weight_device, b->n_weight_device,
                            true, true, F_BLKIO "weightDevice.leafWeight", err)) < 0 ||
            (r = v1_devlist(fd, "blkio.throttle.read_bps_device", b->throttle_read_bps,
                            b->n_throttle_read_bps, false, false, F_BLKIO "throttleReadBpsDevice",
                            err)) < 0 ||
            (r = v1_devlist(fd, "blkio.throttle.write_bps_device", b->throttle_write_bps,
                            b->n_throttle_write_bps, false, false,
                            F_BLKIO "throttleWriteBpsDevice", err)) < 0 ||
            (r = v1_devlist(fd, "blkio.throttle.read_iops_device", b->throttle_read_iops,
                            b->n_throttle_read_iops, false, false,
                            F_BLKIO "throttleReadIOPSDevice", err)) < 0)
                return r;
        return v1_devlist(fd, "blkio.throttle.write_iops_device", b->throttle_write_iops,
                          b->n_throttle_write_iops, false, false,
                          F_BLKIO "throttleWriteIOPSDevice", err);
}

static int v1_hugetlb(int fd, const gk_resources *r, gk_error **err)
{
        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const gk_hugepage_limit *h = &r->hugepage_limits[i];
                char file[64], rsvd[64];
                int e;

                snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", h->page_size);
                snprintf(rsvd, sizeof(rsvd), "hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
                if ((e = gk_cg_writef(fd, file, "linux.resources.hugepageLimits", err, "%" PRIu64,
                                      h->limit)) < 0)
                        return e;
                /* reservations count too where the kernel tracks them */
                if (gk_cg_exists(fd, rsvd) &&
                    (e = gk_cg_writef(fd, rsvd, "linux.resources.hugepageLimits", err, "%" PRIu64,
                                      h->limit)) < 0)
                        return e;
        }
        return 0;
}

/* runtime-spec 1.3: 0 is a limit (no fork succeeds), -1 is "max"; an
 * absent limit never gets here (has_pids is false). */
int gk_cg_pids_apply(int fd, int64_t limit, gk_error **err)
{
        if (limit < 0)
                return gk_cg_write(fd, "pids.max", "max", "linux.resources.pids.limit", err);
        return gk_cg_writef(fd, "pids.max", "linux.resources.pids.limit", err, "%" PRId64, limit);
}

int gk_cg_rdma_apply(int fd, const gk_resources *r, gk_error **err)
{
        for (size_t i = 0; i < r->n_rdma; i++) {
                const gk_rdma_limit *l = &r->rdma[i];
                char h[24] = "max", o[24] = "max";
                int e;

                if (l->has_hca_handles)
                        snprintf(h, sizeof(h), "%" PRIu32, l->hca_handles);
                if (l->has_hca_objects)
                        snprintf(o, sizeof(o), "%" PRIu32, l->hca_objects);
                if ((e = gk_cg_writef(fd, "rdma.max", "linux.resources.rdma", err,
                                      "%s hca_handle=%s hca_object=%s", l->device, h, o)) < 0)
                        return e;
        }
        return 0;
}

static int v1_net(int fd, enum gk_cg_ctrl c, const gk_resources *r, gk_error **err)
{
        if (c == GK_CTRL_NET_CLS)
                return gk_cg_writef(fd, "net_cls.classid", "linux.resources.network.classID", err,
                                    "%" PRIu32, r->net_class_id);
        for (size_t i = 0; i < r->n_net_priorities; i++) {
                int e = gk_cg_writef(fd, "net_prio.ifpriomap",
                                     "linux.resources.network.priorities", err, "%s %" PRIu32,
                                     r->net_priorities[i].name, r->net_priorities[i].priority);

                if (e < 0)
                        return e;
        }
        return 0;
}

static int v1_apply(int fd, enum gk_cg_ctrl c, const gk_resources *r, bool update, gk_error **err)
{
        switch (c) {
        case GK_CTRL_MEMORY:
                return v1_memory(fd, &r->memory, update, err);
        case GK_CTRL_CPU:
                return v1_cpu(fd, &r->cpu, err);
        case GK_CTRL_CPUSET:
                return v1_cpuset(fd, &r->cpu, err);
        case GK_CTRL_PIDS:
                return gk_cg_pids_apply(fd, r->pids_limit, err);
        case GK_CTRL_BLKIO:
                return v1_blkio(fd, &r->blkio, err);
        case GK_CTRL_HUGETLB:
                return v1_hugetlb(fd, r, err);
        case GK_CTRL_NET_CLS:
        case GK_CTRL_NET_PRIO:
                return v1_net(fd, c, r, err);
        case GK_CTRL_RDMA:
                return gk_cg_rdma_apply(fd, r, err);
        default:
                return 0;
        }
}

/* devices.allow and devices.deny, opened once for all the rules. */
typedef struct {
        int allow, deny;
} rule_files;

static int put_rule(const rule_files *f, bool allow, const char *rule, gk_error **err)
{
        return gk_cg_write_fd(allow ? f->allow : f->deny, allow ? "devices.allow" : "devices.deny",
                              rule, F_DEV, err);
}

/* One spec rule in the v1 syntax: "c 1:3 rwm".  A type "a" rule that is
 * not the full wildcard becomes a "c" and a "b" rule, since the kernel
 * reads any "a" as every device with every access. */
static int v1_rule(const rule_files *f, const gk_device_rule *d, gk_error **err)
{
        const char *acc = d->access ? d->access : "rwm";
        char maj[24] = "*", min[24] = "*", rule[80];

        if (d->type == 'a' && d->major < 0 && d->minor < 0 && strlen(acc) == 3)
                return put_rule(f, d->allow, "a", err);
        if (d->major >= 0)
                snprintf(maj, sizeof(maj), "%" PRId64, d->major);
        if (d->minor >= 0)
                snprintf(min, sizeof(min), "%" PRId64, d->minor);
        for (const char *t = d->type == 'a' ? "cb" : (d->type == 'b' ? "b" : "c"); *t; t++) {
                int r;

                snprintf(rule, sizeof(rule), "%c %s:%s %s", *t, maj, min, acc);
                if ((r = put_rule(f, d->allow, rule, err)) < 0)
                        return r;
        }
        return 0;
}

/* From deny-all, the spec's rules then the default allow-list in order.
 * The kernel's own semantics apply: in deny-all mode a deny removes only
 * an exactly matching allow (the v2 program is exact, last match wins). */
static int v1_devices(int fd, const gk_resources *r, gk_error **err)
{
        _cleanup_close_ int allow = gk_cg_open_write(fd, "devices.allow", F_DEV, err);
        _cleanup_close_ int deny = allow < 0 ? -1
                                             : gk_cg_open_write(fd, "devices.deny", F_DEV, err);
        const rule_files f = { allow, deny };
        size_t n_def;
        const gk_device_rule *def = gk_cg_default_devices(&n_def);
        int e;

        if (allow < 0 || deny < 0)
                return allow < 0 ? allow : deny;
        if ((e = put_rule(&f, false, "a", err)) < 0)
                return e;
        for (size_t i = 0; r && i < r->n_devices; i++)
                if ((e = v1_rule(&f, &r->devices[i], err)) < 0)
                        return e;
        for (size_t i = 0; i < n_def; i++)
                if ((e = v1_rule(&f, &def[i], err)) < 0)
                        return e;
        return 0;
}

/* FREEZING means some task has not stopped yet: write FROZEN again and
 * wait, up to about 10 s; on timeout thaw and report.  The v1 freezer
 * sends no event when the state changes (freezer.state cannot be polled,
 * unlike v2's cgroup.events), and writing FROZEN again is what moves
 * stragglers on: so a bounded loop of short sleeps, growing to 10 ms. */
static int v1_freeze(int fd, bool freeze, gk_error **err)
{
        char buf[32];
        int r;

        if (!freeze)
                return gk_cg_write(fd, "freezer.state", "THAWED", "freezer", err);
        for (int i = 0, wait = 1; i < 1000; i++) {
                if ((r = gk_cg_write(fd, "freezer.state", "FROZEN", "freezer", err)) < 0)
                        return r;
                ssize_t n = gk_cg_read(fd, "freezer.state", buf, sizeof(buf), err);

                if (n < 0)
                        return (int) n;
                if (gk_str_has_prefix(buf, "FROZEN"))
                        return 0;
                poll(NULL, 0, wait);
                if (wait < 10)
                        wait++;
        }
        gk_cg_write(fd, "freezer.state", "THAWED", "freezer", NULL);
        return gk_error_make(err, ETIMEDOUT, "freeze: the processes did not stop");
}

static int v1_is_frozen(int fd, bool *frozen, gk_error **err)
{
        char buf[32];
        ssize_t n = gk_cg_read(fd, "freezer.state", buf, sizeof(buf), err);

        if (n < 0)
                return (int) n;
        *frozen = gk_str_has_prefix(buf, "FROZEN");
        return 0;
}

const gk_cg_files gk_cg_v1_files = {
        .apply = v1_apply,
        .stats = gk_cg_v1_stats,
        .devices = v1_devices,
        .freeze = v1_freeze,
        .is_frozen = v1_is_frozen,
        .oom_fd = gk_cg_v1_oom_fd,
        .sd_memory_max = "MemoryLimit",
        .sd_cpu_weight = "CPUShares",
};
