/* Unit conversions between cgroup v1 and v2 values, the checks made on
 * linux.resources before any cgroup exists (so that a value no kernel
 * takes leaves nothing behind), and which controllers a resources object
 * needs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"

/* log2 and 10^x for the shares formula, so gkrun needs no libm: x is in
 * [2, 262144] and the exponent in [0, 4], where these series converge. */
static double log2_of(double x)
{
        double r = 0, bit = 0.5;

        while (x >= 2) {
                x /= 2;
                r += 1;
        }
        for (int i = 0; i < 52; i++, bit /= 2) {
                x *= x;
                if (x >= 2) {
                        x /= 2;
                        r += bit;
                }
        }
        return r;
}

static double exp10_of(double e)
{
        double y = e * 3.32192809488736234787; /* log2(10) */
        int whole = (int) y;
        double t = (y - whole) * 0.69314718055994530942, sum = 1, term = 1;

        for (int k = 1; k < 30; k++) {
                term *= t / k;
                sum += term;
        }
        while (whole-- > 0)
                sum *= 2;
        return sum;
}

/* crun's quadratic mapping (also runc's since 1.3): it keeps the v1
 * default 1024 on the v2 default 100, and the ends 2 -> 1, 262144 ->
 * 10000.  The linear one maps 1024 to 39, below every default
 * neighbour's 100. */
uint64_t gk_cg_shares_to_weight(uint64_t shares)
{
        double l, w;
        uint64_t r;

        if (shares == 0)
                return 0;
        if (shares <= 2)
                return 1;
        if (shares >= 262144)
                return 10000;
        l = log2_of((double) shares);
        w = exp10_of((l * l + 125 * l) / 612.0 - 7.0 / 34.0) - 1e-9;
        r = (uint64_t) w;
        if ((double) r < w)
                r++; /* ceil */
        return r < 1 ? 1 : r > 10000 ? 10000 : r;
}

/* v1 blkio.weight [10, 1000] to v2 io.weight [1, 10000], linearly like
 * runc and crun.  io.bfq.weight takes the v1 value unchanged. */
uint64_t gk_cg_blkio_to_io_weight(uint64_t weight)
{
        if (weight == 0)
                return 0;
        if (weight < 10)
                weight = 10;
        return 1 + (weight - 10) * 9999 / 990;
}

/* The spec's swap is memory+swap (v1 memsw); v2 limits swap alone. */
int gk_cg_swap_v2(int64_t swap, int64_t limit, int64_t *out, gk_error **err)
{
        if (swap == -1 || swap == 0) {
                *out = swap;
                return 0;
        }
        if (limit <= 0)
                return gk_error_make(err, 0,
                                     "linux.resources.memory.swap: cannot limit swap "
                                     "without a memory limit (swap is memory+swap)");
        if (swap < limit)
                return gk_error_make(err, 0,
                                     "linux.resources.memory.swap: %" PRId64
                                     " is below memory.limit %" PRId64 " (swap is memory+swap)",
                                     swap, limit);
        *out = swap - limit;
        return 0;
}

static bool is_cpu_list(const char *s)
{
        for (const char *p = s; *p; p++)
                if (!strchr("0123456789,-", *p))
                        return false;
        return *s && s[0] != ',' && s[0] != '-';
}

static bool is_page_size(const char *s)
{
        size_t d = strspn(s, "0123456789");

        return d > 0 && strchr("KMGT", s[d]) && s[d] && s[d + 1] == 'B' && !s[d + 2];
}

static int check_bytes(bool has, int64_t v, const char *field, gk_error **err)
{
        if (has && v < -1)
                return gk_error_make(err, 0,
                                     "linux.resources.memory.%s: must be -1 (unlimited) "
                                     "or a number of bytes, not %" PRId64,
                                     field, v);
        return 0;
}

static int check_memory(const gk_memory *m, gk_error **err)
{
        int r;

        if ((r = check_bytes(m->has_limit, m->limit, "limit", err)) < 0 ||
            (r = check_bytes(m->has_reservation, m->reservation, "reservation", err)) < 0 ||
            (r = check_bytes(m->has_swap, m->swap, "swap", err)) < 0 ||
            (r = check_bytes(m->has_kernel, m->kernel, "kernel", err)) < 0 ||
            (r = check_bytes(m->has_kernel_tcp, m->kernel_tcp, "kernelTCP", err)) < 0)
                return r;
        if (m->has_swap && m->swap > 0 && m->has_limit && m->limit > 0 && m->swap < m->limit)
                return gk_error_make(err, 0,
                                     "linux.resources.memory.swap: %" PRId64
                                     " is below memory.limit %" PRId64 " (swap is memory+swap)",
                                     m->swap, m->limit);
        if (m->has_swappiness && m->swappiness > 100)
                return gk_error_make(err, 0,
                                     "linux.resources.memory.swappiness: must be 0 to "
                                     "100, not %" PRIu64,
                                     m->swappiness);
        return 0;
}

static int check_cpu(const gk_cpu *c, unsigned caps, gk_error **err)
{
        if (c->has_shares && c->shares && (c->shares < 2 || c->shares > 262144))
                return gk_error_make(err, 0,
                                     "linux.resources.cpu.shares: must be 2 to 262144, "
                                     "not %" PRIu64,
                                     c->shares);
        if (c->has_quota && c->quota < -1)
                return gk_error_make(err, 0,
                                     "linux.resources.cpu.quota: must be -1 (unlimited) "
                                     "or microseconds, not %" PRId64,
                                     c->quota);
        if (c->cpus && *c->cpus && !is_cpu_list(c->cpus))
                return gk_error_make(err, 0,
                                     "linux.resources.cpu.cpus: \"%s\" is not a CPU "
                                     "list like 0-3,6",
                                     c->cpus);
        if (c->mems && *c->mems && !is_cpu_list(c->mems))
                return gk_error_make(err, 0,
                                     "linux.resources.cpu.mems: \"%s\" is not a node "
                                     "list like 0-1",
                                     c->mems);
        if (!(caps & GK_CG_CAN_REALTIME) && ((c->has_realtime_runtime && c->realtime_runtime) ||
                                             (c->has_realtime_period && c->realtime_period)))
                return gk_error_make(err, 0,
                                     "linux.resources.cpu.realtimeRuntime: real-time "
                                     "groups are not supported on cgroup v2");
        return 0;
}

static int check_weight(bool has, uint64_t w, const char *field, gk_error **err)
{
        if (has && w && (w < 10 || w > 1000))
                return gk_error_make(err, 0,
                                     "linux.resources.blockIO.%s: must be 10 to 1000, "
                                     "not %" PRIu64,
                                     field, w);
        return 0;
}

static int check_blkio(const gk_blkio *b, gk_error **err)
{
        int r;

        if ((r = check_weight(b->has_weight, b->weight, "weight", err)) < 0 ||
            (r = check_weight(b->has_leaf_weight, b->leaf_weight, "leafWeight", err)) < 0)
                return r;
        for (size_t i = 0; i < b->n_weight_device; i++)
                if ((r = check_weight(b->weight_device[i].has_weight, b->weight_device[i].weight,
                                      "weightDevice.weight", err)) < 0)
                        return r;
        return 0;
}

static int check_devices(const gk_resources *r, gk_error **err)
{
        for (size_t i = 0; i < r->n_devices; i++) {
                const gk_device_rule *d = &r->devices[i];

                if (!strchr("acb", d->type) || !d->type)
                        return gk_error_make(err, 0,
                                             "linux.resources.devices[%zu].type: must "
                                             "be \"a\", \"b\" or \"c\"",
                                             i);
                if (d->access && (!*d->access || d->access[strspn(d->access, "rwm")]))
                        return gk_error_make(err, 0,
                                             "linux.resources.devices[%zu].access: "
                                             "\"%s\" is not a subset of \"rwm\"",
                                             i, d->access);
        }
        return 0;
}

static int check_unified(const gk_resources *r, unsigned caps, gk_error **err)
{
        static const char *const refused[] = { "cgroup.procs", "cgroup.threads", "cgroup.kill",
                                               "cgroup.subtree_control", "cgroup.freeze" };

        if (!r->n_unified)
                return 0;
        if (!(caps & GK_CG_CAN_UNIFIED))
                return gk_error_make(
                        err, 0,
                        "linux.resources.unified: cgroup v2 settings "
                        "cannot be applied: this host's controllers are on cgroup v1");
        for (size_t i = 0; i < r->n_unified; i++) {
                const char *k = r->unified[i].key;

                if (!*k || strchr(k, '/') || k[0] == '.' || !strchr(k, '.'))
                        return gk_error_make(err, 0,
                                             "linux.resources.unified: \"%s\" is not a "
                                             "cgroup file name",
                                             k);
                for (size_t j = 0; j < ARRAY_SIZE(refused); j++)
                        if (!strcmp(k, refused[j]))
                                return gk_error_make(err, 0,
                                                     "linux.resources.unified: \"%s\" "
                                                     "is not a resource setting",
                                                     k);
        }
        return 0;
}

static int check_misc(const gk_resources *r, unsigned caps, gk_error **err)
{
        if (r->has_pids && r->pids_limit < -1)
                return gk_error_make(err, 0,
                                     "linux.resources.pids.limit: must be -1 "
                                     "(unlimited) or a number, not %" PRId64,
                                     r->pids_limit);
        for (size_t i = 0; i < r->n_hugepage_limits; i++)
                if (!r->hugepage_limits[i].page_size ||
                    !is_page_size(r->hugepage_limits[i].page_size))
                        return gk_error_make(err, 0,
                                             "linux.resources.hugepageLimits[%zu]."
                                             "pageSize: \"%s\" is not a size like 2MB",
                                             i, r->hugepage_limits[i].page_size ?: "");
        if (!(caps & GK_CG_CAN_NET) && (r->has_net_class_id || r->n_net_priorities))
                return gk_error_make(err, 0,
                                     "linux.resources.network: net_cls and net_prio "
                                     "do not exist on cgroup v2");
        for (size_t i = 0; i < r->n_net_priorities; i++)
                if (!r->net_priorities[i].name || strpbrk(r->net_priorities[i].name, " \n"))
                        return gk_error_make(err, 0,
                                             "linux.resources.network.priorities[%zu]."
                                             "name: not an interface name",
                                             i);
        for (size_t i = 0; i < r->n_rdma; i++)
                if (!r->rdma[i].device || !*r->rdma[i].device || strpbrk(r->rdma[i].device, " \n"))
                        return gk_error_make(err, 0,
                                             "linux.resources.rdma: \"%s\" is not a "
                                             "device name",
                                             r->rdma[i].device ?: "");
        return 0;
}

int gk_cg_validate(const gk_resources *r, unsigned caps, gk_error **err)
{
        int e = 0;

        if (!r)
                return 0;
        if ((r->has_memory && (e = check_memory(&r->memory, err)) < 0) ||
            (r->has_cpu && (e = check_cpu(&r->cpu, caps, err)) < 0) ||
            (r->has_blkio && (e = check_blkio(&r->blkio, err)) < 0) ||
            (e = check_devices(r, err)) < 0 || (e = check_unified(r, caps, err)) < 0 ||
            (e = check_misc(r, caps, err)) < 0)
                return e;
        return 0;
}

uint32_t gk_cg_needed(const gk_resources *r)
{
        uint32_t n = 0;

        if (!r)
                return 0;
        if (r->has_memory) {
                const gk_memory *m = &r->memory;

                if (m->has_limit || m->has_reservation || m->has_swap || m->has_kernel ||
                    m->has_kernel_tcp || m->has_swappiness || m->has_disable_oom_killer)
                        n |= GK_CTRL_BIT(GK_CTRL_MEMORY);
        }
        if (r->has_cpu) {
                const gk_cpu *c = &r->cpu;

                if (c->has_shares || c->has_quota || c->has_burst || c->has_period ||
                    c->has_realtime_runtime || c->has_realtime_period || c->has_idle)
                        n |= GK_CTRL_BIT(GK_CTRL_CPU);
                if ((c->cpus && *c->cpus) || (c->mems && *c->mems))
                        n |= GK_CTRL_BIT(GK_CTRL_CPUSET);
        }
        if (r->has_pids)
                n |= GK_CTRL_BIT(GK_CTRL_PIDS);
        if (r->has_blkio) {
                const gk_blkio *b = &r->blkio;

                if (b->has_weight || b->has_leaf_weight || b->n_weight_device ||
                    b->n_throttle_read_bps || b->n_throttle_write_bps || b->n_throttle_read_iops ||
                    b->n_throttle_write_iops)
                        n |= GK_CTRL_BIT(GK_CTRL_BLKIO);
        }
        if (r->n_hugepage_limits)
                n |= GK_CTRL_BIT(GK_CTRL_HUGETLB);
        if (r->has_net_class_id)
                n |= GK_CTRL_BIT(GK_CTRL_NET_CLS);
        if (r->n_net_priorities)
                n |= GK_CTRL_BIT(GK_CTRL_NET_PRIO);
        if (r->n_rdma)
                n |= GK_CTRL_BIT(GK_CTRL_RDMA);
        return n;
}
