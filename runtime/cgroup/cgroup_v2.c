/* cgroup v2 files: one directory, controllers enabled from the parents'
 * cgroup.subtree_control, v2 file names and units, cgroup.freeze
 * (gk_cg_v2_files; the directory itself: cgroup_v2_driver.c).
 *
 * gkrun writes a parent's subtree_control only where that is its own
 * business: the hierarchy root (pure v2 only: a hybrid host's unified
 * root keeps what the host enabled there), the default /gkrun slice, and
 * the directories it has just made, and for a user the directories that
 * user owns (a subtree delegated to it, whose controllers are its own
 * business, as runc and crun have it).  A parent someone else made keeps
 * its controllers; a field needing one it lacks fails with a clear error. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "gk/util.h"

#define F_MEM "linux.resources.memory."
#define F_CPU "linux.resources.cpu."
#define F_IO "linux.resources.blockIO."

/* One write for the whole list when the parent can pass them all down
 * (the common case); otherwise one by one those its cgroup.controllers
 * offers, so that one refusal (cpu, while real-time tasks sit in a child)
 * costs no other.  Not fatal: a missing controller shows when a file of it
 * is written. */
static void enable_in(int parent, uint32_t ctrls)
{
        char list[256], buf[512];

        if (!ctrls)
                return;
        gk_cg_ctrl_list(ctrls, list, sizeof(list));
        if (gk_cg_write(parent, "cgroup.subtree_control", list, "cgroup", NULL) == 0)
                return;
        if (gk_cg_read(parent, "cgroup.controllers", buf, sizeof(buf), NULL) < 0)
                return;
        ctrls &= gk_cg_parse_ctrl_list(buf);
        for (int c = 0; c < GK_CTRL_COUNT; c++) {
                if (!(ctrls & GK_CTRL_BIT(c)))
                        continue;
                gk_cg_ctrl_list(GK_CTRL_BIT(c), list, sizeof(list));
                gk_cg_write(parent, "cgroup.subtree_control", list, "cgroup", NULL);
        }
}

/* A directory delegated to the user running gkrun (never true for root of
 * the initial user namespace, who owns every cgroup; root of a user
 * namespace, rootless podman's, sees the user's directories as its own). */
static bool delegated_to_us(int fd)
{
        struct stat st;
        uid_t me = geteuid();

        return (me != 0 || gk_in_user_namespace()) && fstat(fd, &st) == 0 && st.st_uid == me;
}

/* Walks PATH from the root, making what is missing when MAKE; enables
 * CTRLS in every parent gkrun may change (OURS: components counted from the
 * leaf that gkrun made before, for update).  Returns the leaf's fd. */
static int walk(gk_cgroup *cg, uint32_t ctrls, bool make, bool own_root, unsigned ours,
                unsigned *made, gk_error **err)
{
        _cleanup_free_ char *copy = strdup(cg->path);
        _cleanup_close_ int fd = open(cg->lay->v2_mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        unsigned depth = 0, total = 0, first_new = 0;
        char *save = NULL;

        if (!copy)
                return gk_error_make(err, ENOMEM, "cgroup");
        if (fd < 0)
                return gk_error_errno(err, "open cgroup hierarchy `%s`", cg->lay->v2_mnt);
        for (const char *p = cg->path; *p; p++)
                total += *p == '/';
        if (ours > total)
                ours = total;
        *made = 0;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                /* a hybrid host's unified root stays as the host set it */
                bool parent_ours = (depth == 0 && own_root) || (first_new && depth >= first_new) ||
                                   (cg->is_default && make && depth == 1) || depth > total - ours;
                int nfd;

                depth++;
                if (make && mkdirat(fd, c, 0755) == 0) {
                        if (!first_new)
                                first_new = depth;
                } else if (make && errno != EEXIST) {
                        return gk_error_errno(err, "create cgroup `%s%s`", cg->lay->v2_mnt,
                                              cg->path);
                }
                if (first_new)
                        *made = depth - first_new + 1;
                if (parent_ours || delegated_to_us(fd))
                        enable_in(fd, ctrls);
                nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return gk_error_errno(err, "open cgroup `%s%s`", cg->lay->v2_mnt,
                                              cg->path);
                close(fd);
                fd = nfd;
        }
        return TAKE_FD(fd);
}

int gk_cg_v2_make(gk_cgroup *cg, uint32_t ctrls, bool own_root, gk_error **err)
{
        unsigned made = 0;
        int fd = -ENOENT;

        /* ENOENT: a concurrent delete removed the empty /gkrun between our
         * mkdir and the leaf's; make it again. */
        for (int try = 0; try < 5 && fd == -ENOENT; try++) {
                if (try)
                        gk_error_freep(err); /* the failed try's */
                if (try == 0 && GK_RACE("cgroup.parent-removed"))
                        fd = gk_error_make(err, ENOENT, "create cgroup `%s`", cg->path);
                else
                        fd = walk(cg, ctrls, true, own_root, 0, &made, err);
        }

        gk_cg_count_made(cg, made);
        if (fd < 0)
                return fd;
        if (cg->v2_fd >= 0)
                close(cg->v2_fd);
        cg->v2_fd = fd;
        return 0;
}

int gk_cg_v2_enable(gk_cgroup *cg, uint32_t ctrls, bool own_root, gk_error **err)
{
        unsigned made = 0;
        int fd;

        if (!ctrls)
                return 0;
        fd = walk(cg, ctrls, false, own_root, cg->created, &made, err);
        if (fd < 0)
                return fd;
        close(fd);
        return 0;
}

/* A limit in v2's words: "max" for a negative (unlimited) value. */
static void fmt_max(char *buf, size_t size, int64_t v)
{
        if (v < 0)
                snprintf(buf, size, "max");
        else
                snprintf(buf, size, "%" PRId64, v);
}

static int set_max(int fd, const char *file, bool has, int64_t v, const char *field,
                   gk_error **err)
{
        char buf[32];

        if (!has || v == 0)
                return 0;
        fmt_max(buf, sizeof(buf), v);
        return gk_cg_write(fd, file, buf, field, err);
}

static int read_limit(int fd, const char *file, int64_t *out)
{
        uint64_t v;

        if (gk_cg_read_u64(fd, file, &v, NULL) < 0)
                return -1;
        *out = v > INT64_MAX ? -1 : (int64_t) v;
        return 0;
}

static int v2_swap(int fd, int64_t limit, int64_t swap, bool update, gk_error **err)
{
        int64_t sw;
        int r;

        /* unlimited memory means unlimited swap too (as runc) */
        if (limit == -1 && swap == 0)
                swap = -1;
        if (swap == 0)
                return 0;
        if (limit == 0 && update)
                read_limit(fd, "memory.max", &limit); /* a swap-only update */
        if ((r = gk_cg_swap_v2(swap, limit, &sw, err)) < 0)
                return r;
        /* no swap accounting (no memory.swap.max): neither lifting the
         * limit nor disabling swap (swap equal to the memory limit, as
         * podman writes for --memory) has anything to do, and runc skips
         * both; a real swap limit is refused by the write */
        if ((sw == -1 || sw == 0) && !gk_cg_exists(fd, "memory.swap.max"))
                return 0;
        /* swap equal to the memory limit: none (runc writes 0 too) */
        if (sw == 0)
                return gk_cg_write(fd, "memory.swap.max", "0", F_MEM "swap", err);
        return set_max(fd, "memory.swap.max", true, sw, F_MEM "swap", err);
}

/* v2 has no swappiness, kernel memory limits or OOM-killer switch per
 * cgroup.  runc and crun skip those fields; gkrun refuses them, as it does
 * every field it cannot give the container. */
static int v2_memory_absent(const gk_memory *m, gk_error **err)
{
        const char *field = m->has_swappiness                    ? "swappiness"
                            : m->has_kernel && m->kernel         ? "kernel"
                            : m->has_kernel_tcp && m->kernel_tcp ? "kernelTCP"
                            : m->has_disable_oom_killer && m->disable_oom_killer
                                    ? "disableOOMKiller"
                                    : NULL;

        if (!field)
                return 0;
        return gk_error_make(err, EOPNOTSUPP,
                             "config.json: " F_MEM "%s: not supported by cgroup v2 (only the "
                             "v1 memory controller has it)",
                             field);
}

static int v2_memory(int fd, const gk_memory *m, bool update, gk_error **err)
{
        int64_t limit = m->has_limit ? m->limit : 0;
        uint64_t usage;
        int r;

        if ((r = v2_memory_absent(m, err)) < 0)
                return r;
        if (update && m->has_check_before_update && m->check_before_update && limit > 0 &&
            gk_cg_read_u64(fd, "memory.current", &usage, NULL) == 0 && usage > (uint64_t) limit)
                return gk_error_make(err, EBUSY,
                                     F_MEM "limit: %" PRId64 " is below the current "
                                           "usage %" PRIu64 " (checkBeforeUpdate)",
                                     limit, usage);
        if ((r = v2_swap(fd, limit, m->has_swap ? m->swap : 0, update, err)) < 0 ||
            (r = set_max(fd, "memory.max", true, limit, F_MEM "limit", err)) < 0)
                return r;
        return set_max(fd, "memory.low", m->has_reservation, m->reservation, F_MEM "reservation",
                       err);
}

/* cpu.max is "QUOTA PERIOD" in one file: a period alone keeps the quota
 * in force (read back on update; "max" at create). */
static int v2_cpu_max(int fd, const gk_cpu *c, bool update, gk_error **err)
{
        bool q = c->has_quota && c->quota != 0, p = c->has_period && c->period != 0;
        char quota[32] = "max", cur[64];

        if (!q && !p)
                return 0;
        if (q)
                fmt_max(quota, sizeof(quota), c->quota);
        else if (update && gk_cg_read(fd, "cpu.max", cur, sizeof(cur), NULL) > 0)
                snprintf(quota, sizeof(quota), "%.*s", (int) strcspn(cur, " \n"), cur);
        if (!p)
                return gk_cg_write(fd, "cpu.max", quota, F_CPU "quota", err);
        return gk_cg_writef(fd, "cpu.max", q ? F_CPU "quota" : F_CPU "period", err, "%s %" PRIu64,
                            quota, c->period);
}

static int v2_cpu(int fd, const gk_cpu *c, bool update, gk_error **err)
{
        int r;

        if (c->has_shares && c->shares &&
            (r = gk_cg_writef(fd, "cpu.weight", F_CPU "shares", err, "%" PRIu64,
                              gk_cg_shares_to_weight(c->shares))) < 0)
                return r;
        if ((r = v2_cpu_max(fd, c, update, err)) < 0)
                return r;
        if (c->has_burst &&
            (r = gk_cg_writef(fd, "cpu.max.burst", F_CPU "burst", err, "%" PRIu64, c->burst)) < 0)
                return r;
        if (c->has_idle)
                return gk_cg_writef(fd, "cpu.idle", F_CPU "idle", err, "%" PRId64, c->idle);
        return 0;
}

static int v2_cpuset(int fd, const gk_cpu *c, gk_error **err)
{
        int r;

        if (c->mems && *c->mems &&
            (r = gk_cg_write(fd, "cpuset.mems", c->mems, F_CPU "mems", err)) < 0)
                return r;
        if (c->cpus && *c->cpus)
                return gk_cg_write(fd, "cpuset.cpus", c->cpus, F_CPU "cpus", err);
        return 0;
}

/* io.bfq.weight takes blkio's own range; io.weight the converted one. */
static int v2_io_weight(int fd, const gk_blkio *b, gk_error **err)
{
        bool bfq = gk_cg_exists(fd, "io.bfq.weight");
        const char *file = bfq ? "io.bfq.weight" : "io.weight";
        int r;

        if (b->has_weight && b->weight &&
            (r = gk_cg_writef(fd, file, F_IO "weight", err, bfq ? "%" PRIu64 : "default %" PRIu64,
                              bfq ? (uint64_t) b->weight : gk_cg_blkio_to_io_weight(b->weight))) <
                    0)
                return r;
        for (size_t i = 0; i < b->n_weight_device; i++) {
                const gk_blkio_device *d = &b->weight_device[i];

                if (!d->has_weight)
                        continue;
                r = gk_cg_writef(fd, file, F_IO "weightDevice", err,
                                 "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                                 bfq ? (uint64_t) d->weight : gk_cg_blkio_to_io_weight(d->weight));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v2_io_max(int fd, const gk_blkio_device *d, size_t n, const char *key,
                     const char *field, gk_error **err)
{
        for (size_t i = 0; i < n; i++) {
                char rate[32] = "max";
                int r;

                if (d[i].rate)
                        snprintf(rate, sizeof(rate), "%" PRIu64, d[i].rate);
                r = gk_cg_writef(fd, "io.max", field, err, "%" PRId64 ":%" PRId64 " %s=%s",
                                 d[i].major, d[i].minor, key, rate);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Leaf weights were CFQ's and have no v2 counterpart: ignored. */
static int v2_io(int fd, const gk_blkio *b, gk_error **err)
{
        int r;

        if ((r = v2_io_weight(fd, b, err)) < 0 ||
            (r = v2_io_max(fd, b->throttle_read_bps, b->n_throttle_read_bps, "rbps",
                           F_IO "throttleReadBpsDevice", err)) < 0 ||
            (r = v2_io_max(fd, b->throttle_write_bps, b->n_throttle_write_bps, "wbps",
                           F_IO "throttleWriteBpsDevice", err)) < 0 ||
            (r = v2_io_max(fd, b->throttle_read_iops, b->n_throttle_read_iops, "riops",
                           F_IO "throttleReadIOPSDevice", err)) < 0)
                return r;
        return v2_io_max(fd, b->throttle_write_iops, b->n_throttle_write_iops, "wiops",
                         F_IO "throttleWriteIOPSDevice", err);
}

static int v2_hugetlb(int fd, const gk_resources *r, gk_error **err)
{
        for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                const gk_hugepage_limit *h = &r->hugepage_limits[i];
                char file[64], rsvd[64];
                int e;

                snprintf(file, sizeof(file), "hugetlb.%s.max", h->page_size);
                snprintf(rsvd, sizeof(rsvd), "hugetlb.%s.rsvd.max", h->page_size);
                if ((e = gk_cg_writef(fd, file, "linux.resources.hugepageLimits", err, "%" PRIu64,
                                      h->limit)) < 0)
                        return e;
                if (gk_cg_exists(fd, rsvd) &&
                    (e = gk_cg_writef(fd, rsvd, "linux.resources.hugepageLimits", err, "%" PRIu64,
                                      h->limit)) < 0)
                        return e;
        }
        return 0;
}

static int v2_apply(int fd, enum gk_cg_ctrl c, const gk_resources *r, bool update, gk_error **err)
{
        switch (c) {
        case GK_CTRL_MEMORY:
                return v2_memory(fd, &r->memory, update, err);
        case GK_CTRL_CPU:
                return v2_cpu(fd, &r->cpu, update, err);
        case GK_CTRL_CPUSET:
                return v2_cpuset(fd, &r->cpu, err);
        case GK_CTRL_PIDS:
                return gk_cg_pids_apply(fd, r->pids_limit, err);
        case GK_CTRL_BLKIO:
                return v2_io(fd, &r->blkio, err);
        case GK_CTRL_HUGETLB:
                return v2_hugetlb(fd, r, err);
        case GK_CTRL_RDMA:
                return gk_cg_rdma_apply(fd, r, err);
        default:
                return gk_error_make(err, 0,
                                     "linux.resources: the %s controller does not exist "
                                     "on cgroup v2",
                                     gk_cg_v2_ctrl_name(c));
        }
}

int gk_cg_v2_unified(int fd, const gk_resources *r, gk_error **err)
{
        for (size_t i = 0; i < r->n_unified; i++) {
                char field[300];
                int e;

                snprintf(field, sizeof(field), "linux.resources.unified.%s", r->unified[i].key);
                if ((e = gk_cg_write(fd, r->unified[i].key, r->unified[i].value, field, err)) < 0)
                        return e;
        }
        return 0;
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Reads the "frozen" key of cgroup.events through FD from its start:
 * 0 or 1, or -1 when the kernel has no such key. */
static int read_frozen(int fd)
{
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        uint64_t frozen;

        if (n < 0)
                return -1;
        buf[n] = '\0';
        return gk_cg_keyed_u64(buf, "frozen", &frozen) ? frozen != 0 : -1;
}

/* Freezing completes when cgroup.events says "frozen 1"; the kernel
 * notifies pollers of that file (POLLPRI) when the key changes, so we
 * sleep until it does, up to 10 s, then thaw and report. */
static int v2_freeze(int dirfd, bool freeze, gk_error **err)
{
        _cleanup_close_ int fd = -1;
        uint64_t end;
        int r, now;

        if ((r = gk_cg_write(dirfd, "cgroup.freeze", freeze ? "1" : "0", "cgroup.freeze", err)) <
            0)
                return r;
        fd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        for (end = now_ms() + 10000; fd >= 0;) {
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                uint64_t t = now_ms();

                /* read before each wait: a change after the read wakes us */
                if ((now = read_frozen(fd)) < 0 || now == (int) freeze)
                        return 0; /* kernels without the key: trust the write */
                if (t >= end)
                        break;
                if (poll(&p, 1, (int) (end - t)) < 0 && errno != EINTR)
                        break;
        }
        if (fd < 0)
                return 0;
        if (freeze)
                gk_cg_write(dirfd, "cgroup.freeze", "0", "cgroup.freeze", NULL);
        return gk_error_make(err, ETIMEDOUT, "%s: the processes did not %s",
                             freeze ? "freeze" : "thaw", freeze ? "stop" : "resume");
}

static int v2_is_frozen(int fd, bool *frozen, gk_error **err)
{
        char buf[32];
        ssize_t n = gk_cg_read(fd, "cgroup.freeze", buf, sizeof(buf), err);

        if (n < 0)
                return (int) n;
        *frozen = buf[0] == '1';
        return 0;
}

const gk_cg_files gk_cg_v2_files = {
        .apply = v2_apply,
        .stats = gk_cg_v2_stats,
        .devices = gk_cg_v2_devices,
        .freeze = v2_freeze,
        .is_frozen = v2_is_frozen,
        .oom_fd = gk_cg_v2_oom_fd,
        .sd_memory_max = "MemoryMax",
        .sd_memory_low = "MemoryLow",
        .sd_cpu_weight = "CPUWeight",
        .sd_weight = gk_cg_shares_to_weight,
};
