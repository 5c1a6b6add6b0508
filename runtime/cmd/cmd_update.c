/* gkrun update [--resources FILE|-] [--memory N] ... ID: new limits for a
 * live container, with runc's flags.  --resources takes a linux.resources
 * JSON object (what containerd sends on stdin); the flags build one.
 * Device rules in --resources are ignored, as runc does. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/cgroup_internal.h"
#include "cmd/commands.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "gk/units.h"
#include "gk/util.h"

enum {
        F_MEMORY,
        F_MEM_RES,
        F_MEM_SWAP,
        F_KMEM,
        F_KMEM_TCP,
        F_SHARE,
        F_SHARES,
        F_QUOTA,
        F_PERIOD,
        F_BURST,
        F_RT_PERIOD,
        F_RT_RUNTIME,
        F_IDLE,
        F_CPUS,
        F_MEMS,
        F_PIDS,
        F_BLKIO,
        F_COUNT
};

static const char *const flag_names[F_COUNT] = {
        [F_MEMORY] = "memory",
        [F_MEM_RES] = "memory-reservation",
        [F_MEM_SWAP] = "memory-swap",
        [F_KMEM] = "kernel-memory",
        [F_KMEM_TCP] = "kernel-memory-tcp",
        [F_SHARE] = "cpu-share",
        [F_SHARES] = "cpu-shares",
        [F_QUOTA] = "cpu-quota",
        [F_PERIOD] = "cpu-period",
        [F_BURST] = "cpu-burst",
        [F_RT_PERIOD] = "cpu-rt-period",
        [F_RT_RUNTIME] = "cpu-rt-runtime",
        [F_IDLE] = "cpu-idle",
        [F_CPUS] = "cpuset-cpus",
        [F_MEMS] = "cpuset-mems",
        [F_PIDS] = "pids-limit",
        [F_BLKIO] = "blkio-weight",
};

/* --help's line for each (same order) */
static const char *const flag_help[F_COUNT] = {
        [F_MEMORY] = "memory limit (k, m, g suffixes; -1: none)",
        [F_MEM_RES] = "memory soft limit",
        [F_MEM_SWAP] = "memory plus swap limit (-1: unlimited swap)",
        [F_KMEM] = "kernel memory limit (v1)",
        [F_KMEM_TCP] = "kernel TCP buffer limit (v1)",
        [F_SHARE] = "cpu shares (as --cpu-shares)",
        [F_SHARES] = "cpu shares (relative weight)",
        [F_QUOTA] = "cpu quota (µs per period; -1: none)",
        [F_PERIOD] = "cpu period (µs)",
        [F_BURST] = "cpu burst (µs)",
        [F_RT_PERIOD] = "real-time period (µs)",
        [F_RT_RUNTIME] = "real-time runtime (µs)",
        [F_IDLE] = "cpu idle (1: SCHED_IDLE for the cgroup)",
        [F_CPUS] = "CPUs allowed (0-3,6)",
        [F_MEMS] = "memory nodes allowed",
        [F_PIDS] = "pids limit (0: no fork; -1: none)",
        [F_BLKIO] = "block I/O weight (10-1000)",
};

static int bad(gk_error **err, int f, const char *v, const char *what)
{
        return gk_error_make(err, 0, "update: invalid value \"%s\" for --%s: %s", v, flag_names[f],
                             what);
}

static int size_flag(const char **val, int f, bool *has, int64_t *out, gk_error **err)
{
        if (!val[f])
                return 0;
        if (gk_parse_size(val[f], out) < 0)
                return bad(err, f, val[f], "must be a size like 512m, or -1");
        *has = true;
        return 0;
}

static int i64_flag(const char **val, int f, bool *has, int64_t *out, gk_error **err)
{
        if (!val[f])
                return 0;
        if (!gk_parse_i64(val[f], out))
                return bad(err, f, val[f], "must be an integer");
        *has = true;
        return 0;
}

static int u64_flag(const char **val, int f, bool *has, uint64_t *out, gk_error **err)
{
        if (!val[f])
                return 0;
        if (!gk_parse_u64(val[f], out))
                return bad(err, f, val[f], "must be a non-negative integer");
        *has = true;
        return 0;
}

static int from_flags(const char **v, gk_resources *r, gk_error **err)
{
        gk_memory *m = &r->memory;
        gk_cpu *c = &r->cpu;
        uint64_t w = 0;
        bool has_w = false;
        int e;

        if (!v[F_SHARES])
                v[F_SHARES] = v[F_SHARE];
        if ((e = size_flag(v, F_MEMORY, &m->has_limit, &m->limit, err)) < 0 ||
            (e = size_flag(v, F_MEM_RES, &m->has_reservation, &m->reservation, err)) < 0 ||
            (e = size_flag(v, F_MEM_SWAP, &m->has_swap, &m->swap, err)) < 0 ||
            (e = size_flag(v, F_KMEM, &m->has_kernel, &m->kernel, err)) < 0 ||
            (e = size_flag(v, F_KMEM_TCP, &m->has_kernel_tcp, &m->kernel_tcp, err)) < 0 ||
            (e = u64_flag(v, F_SHARES, &c->has_shares, &c->shares, err)) < 0 ||
            (e = i64_flag(v, F_QUOTA, &c->has_quota, &c->quota, err)) < 0 ||
            (e = u64_flag(v, F_PERIOD, &c->has_period, &c->period, err)) < 0 ||
            (e = u64_flag(v, F_BURST, &c->has_burst, &c->burst, err)) < 0 ||
            (e = u64_flag(v, F_RT_PERIOD, &c->has_realtime_period, &c->realtime_period, err)) <
                    0 ||
            (e = i64_flag(v, F_RT_RUNTIME, &c->has_realtime_runtime, &c->realtime_runtime, err)) <
                    0 ||
            (e = i64_flag(v, F_IDLE, &c->has_idle, &c->idle, err)) < 0 ||
            (e = i64_flag(v, F_PIDS, &r->has_pids, &r->pids_limit, err)) < 0 ||
            (e = u64_flag(v, F_BLKIO, &has_w, &w, err)) < 0)
                return e;
        if (has_w && w > UINT16_MAX)
                return bad(err, F_BLKIO, v[F_BLKIO], "must be 10 to 1000");
        r->blkio.has_weight = has_w;
        r->blkio.weight = (uint16_t) w;
        r->has_blkio = has_w;
        r->has_memory = m->has_limit || m->has_reservation || m->has_swap || m->has_kernel ||
                        m->has_kernel_tcp;
        c->cpus = v[F_CPUS] ? strdup(v[F_CPUS]) : NULL;
        c->mems = v[F_MEMS] ? strdup(v[F_MEMS]) : NULL;
        r->has_cpu = c->has_shares || c->has_quota || c->has_period || c->has_burst ||
                     c->has_realtime_period || c->has_realtime_runtime || c->has_idle || c->cpus ||
                     c->mems;
        r->present = true;
        return 0;
}

static int from_file(const char *path, gk_resources *r, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int e;

        if (!strcmp(path, "-"))
                e = gk_read_fd(STDIN_FILENO, "stdin", &text, &len, err);
        else
                e = gk_read_file(path, &text, &len, err);
        if (e < 0)
                return e;
        if ((e = gk_resources_parse(text, len, strcmp(path, "-") ? path : "stdin", r, err)) < 0)
                return e;
        /* runc never changes device rules on update */
        for (size_t i = 0; i < r->n_devices; i++)
                free(r->devices[i].access);
        free(r->devices);
        r->devices = NULL;
        r->n_devices = 0;
        return 0;
}

static int apply(const gk_global *g, const char *id, const gk_resources *r, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        _cleanup_close_ int lock = -1;
        int e;

        if ((e = gk_state_load(g->root, id, &st, err)) < 0)
                return e;
        if ((lock = gk_state_lock(g->root, id, err)) < 0)
                return lock;
        if (gk_state_status(g->root, st) == GK_STATUS_STOPPED)
                return gk_error_plain(err, ESRCH, "container not running");
        if (!st->cgroup || !st->cgroup[0])
                return gk_error_make(err, 0, "update: container %s has no cgroup", id);
        if ((e = gk_cgroup_open(st->cgroup, &cg, err)) < 0)
                return e;
        if ((e = gk_cgroup_update(cg, r, err)) < 0)
                gk_error_wrap(err, "update %s", id);
        return e;
}

int cmd_update(int argc, char **argv, const gk_global *g, gk_error **err)
{
        const char *resources = NULL, *val[F_COUNT] = { 0 };
        gk_opt opts[F_COUNT + 2] = { { "resources", 'r', GK_OPT_STRING, &resources, "FILE",
                                       "linux.resources as JSON (- for stdin)" } };
        gk_resources r = { 0 };
        int first, e;
        bool any = false;

        for (int f = 0; f < F_COUNT; f++)
                opts[f + 1] = (gk_opt){ flag_names[f], 0,       GK_OPT_STRING,
                                        &val[f],       "VALUE", flag_help[f] };
        if ((e = gk_opts_parse(argc, argv, "update", opts, &first, err)) < 0)
                return e;
        if (first != argc - 1)
                return gk_error_make(err, 0,
                                     "update: requires exactly 1 argument: the container id");
        for (int f = 0; f < F_COUNT; f++)
                any |= val[f] != NULL;
        if (resources && any)
                return gk_error_make(err, 0,
                                     "update: --resources cannot be combined with other "
                                     "flags");
        e = resources ? from_file(resources, &r, err) : from_flags(val, &r, err);
        if (e == 0)
                e = apply(g, argv[first], &r, err);
        gk_resources_clear(&r);
        return e < 0 ? e : 0;
}
