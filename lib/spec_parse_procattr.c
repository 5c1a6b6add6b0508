/* config.json: the process attributes the kernel applies per task --
 * process.scheduler, process.execCPUAffinity, linux.memoryPolicy and the
 * flags of linux.personality -- and the spec's names of their constants.
 * The numbers are the kernel's (uapi linux/sched.h, mempolicy.h,
 * personality.h), written here so the shared library needs no kernel
 * header that may predate them. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/cpulist.h"
#include "gk/util.h"
#include "spec_internal.h"

#define TRY(expr)                  \
        do {                       \
                int _r = (expr);   \
                if (_r < 0)        \
                        return _r; \
        } while (0)

#define TABLE(name, ...)                                     \
        static const spec_name name##_v[] = { __VA_ARGS__ }; \
        const spec_names name = { name##_v, ARRAY_SIZE(name##_v) }

enum { SCHED_OTHER_ = 0, SCHED_FIFO_ = 1, SCHED_RR_ = 2, SCHED_DEADLINE_ = 6 };
enum { MPOL_DEFAULT_ = 0, MPOL_LOCAL_ = 4 };
#define MPOL_F_RELATIVE_NODES_ (1U << 14)
#define MPOL_F_STATIC_NODES_ (1U << 15)

/* SCHED_ISO is reserved (never merged upstream): the kernel refuses it at
 * sched_setattr, which names the field. */
TABLE(spec_sched_policies, { "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },
      { "SCHED_BATCH", 3 }, { "SCHED_ISO", 4 }, { "SCHED_IDLE", 5 }, { "SCHED_DEADLINE", 6 });

TABLE(spec_sched_flags, { "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
      { "SCHED_FLAG_DL_OVERRUN", 0x04 }, { "SCHED_FLAG_KEEP_POLICY", 0x08 },
      { "SCHED_FLAG_KEEP_PARAMS", 0x10 }, { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
      { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 });

/* In the order of the spec's list (and of `gkrun features`). */
TABLE(spec_mpol_modes, { "MPOL_DEFAULT", 0 }, { "MPOL_BIND", 2 }, { "MPOL_INTERLEAVE", 3 },
      { "MPOL_WEIGHTED_INTERLEAVE", 6 }, { "MPOL_PREFERRED", 1 }, { "MPOL_PREFERRED_MANY", 5 },
      { "MPOL_LOCAL", 4 });

TABLE(spec_mpol_flags, { "MPOL_F_NUMA_BALANCING", 1U << 13 },
      { "MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES_ },
      { "MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES_ });

/* The spec lists no personality flag yet ("currently no flag values are
 * supported"); these are personality(2)'s, by the names of
 * linux/personality.h, so that a flag is applied or refused, never
 * dropped. */
TABLE(spec_personality_flags, { "UNAME26", 0x0020000 }, { "ADDR_NO_RANDOMIZE", 0x0040000 },
      { "FDPIC_FUNCPTRS", 0x0080000 }, { "MMAP_PAGE_ZERO", 0x0100000 },
      { "ADDR_COMPAT_LAYOUT", 0x0200000 }, { "READ_IMPLIES_EXEC", 0x0400000 },
      { "ADDR_LIMIT_32BIT", 0x0800000 }, { "SHORT_INODE", 0x1000000 },
      { "WHOLE_SECONDS", 0x2000000 }, { "STICKY_TIMEOUTS", 0x4000000 },
      { "ADDR_LIMIT_3GB", 0x8000000 });

static int name_value(const spec_names *t, const char *name, uint64_t *out)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->v[i].name, name) == 0) {
                        *out = t->v[i].value;
                        return 0;
                }
        return -ENOENT;
}

const char *spec_name_of(const spec_names *t, uint64_t value)
{
        for (size_t i = 0; i < t->n; i++)
                if (t->v[i].value == value)
                        return t->v[i].name;
        return NULL;
}

static const char *nth(const spec_names *t, size_t n, int *value)
{
        if (n >= t->n)
                return NULL;
        if (value)
                *value = (int) t->v[n].value;
        return t->v[n].name;
}

const char *gk_mpol_mode_name(size_t n, int *value)
{
        return nth(&spec_mpol_modes, n, value);
}

const char *gk_mpol_flag_name(size_t n, int *value)
{
        return nth(&spec_mpol_flags, n, value);
}

static void store(void *p, size_t width, uint64_t v)
{
        if (width == 4)
                *(uint32_t *) p = (uint32_t) v;
        else
                *(uint64_t *) p = v;
}

/* One name of the table F->sub, stored as its number: "unknown NOUN". */
static int one_name(sp_ctx *c, yajl_val v, const sp_field *f, void *base, const char *noun)
{
        _cleanup_free_ char *name = NULL;
        uint64_t n;

        TRY(sp_val_str(c, v, &name));
        if (name_value(f->sub, name, &n) < 0)
                return sp_fail(c, "unknown %s \"%s\"", noun, name);
        store(SP_PTR(f, base), f->width, n);
        return 0;
}

static int policy_name(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return one_name(c, v, f, base, "policy");
}

static int mode_name(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return one_name(c, v, f, base, "mode");
}

int spec_f_flag_names(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        _cleanup_strv_ char **names = NULL;
        uint64_t all = 0;
        size_t n = 0;

        TRY(sp_val_strv(c, v, &names, &n));
        for (size_t i = 0; i < n; i++) {
                uint64_t bit;

                if (name_value(f->sub, names[i], &bit) < 0) {
                        sp_push_idx(c, i);
                        return sp_fail(c, "unknown flag \"%s\"", names[i]);
                }
                all |= bit;
        }
        store(SP_PTR(f, base), f->width, all);
        return 0;
}

/* A CPU or node list, checked here so that create fails before anything
 * is made; gkrun parses it again where it applies it. */
static int bit_list(sp_ctx *c, yajl_val v, const sp_field *f, void *base, size_t nbits,
                    const char *noun)
{
        unsigned long bits[GK_BITMAP_LONGS(GK_MAX_CPUS)];
        char **s = SP_PTR(f, base);
        const char *bad = NULL;
        int r;

        TRY(sp_val_str(c, v, s));
        r = gk_cpulist_parse(*s, bits, nbits, &bad);
        if (r == -ERANGE)
                return sp_fail(c, "%s \"%s\": numbers go up to %zu", noun, *s, nbits - 1);
        if (r < 0)
                return sp_fail(c, "invalid %s \"%s\" (want a list like \"0-3,7\")", noun, *s);
        return 0;
}

static int cpu_list(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return bit_list(c, v, f, base, GK_MAX_CPUS, "CPU list");
}

static int node_list(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return bit_list(c, v, f, base, GK_MAX_NUMA_NODES, "node list");
}

/* As runc validates the scheduler (sched_setattr(2)): a static priority
 * only for the real-time policies, where it must be 1..99, and the
 * deadline parameters only for SCHED_DEADLINE. */
static int sched_check(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        const gk_scheduler *s = base;
        const char *name = spec_name_of(&spec_sched_policies, (uint64_t) s->policy);
        bool rt = s->policy == SCHED_FIFO_ || s->policy == SCHED_RR_;

        if (!rt && s->priority != 0)
                return sp_fail_at(c, "priority", "only valid with SCHED_FIFO or SCHED_RR");
        if (rt && (s->priority < 1 || s->priority > 99)) {
                sp_push(c, "priority");
                return sp_fail(c, "must be between 1 and 99 with %s", name);
        }
        if (s->policy != SCHED_DEADLINE_ && (s->runtime || s->deadline || s->period))
                return sp_fail_at(c,
                                  s->runtime    ? "runtime"
                                  : s->deadline ? "deadline"
                                                : "period",
                                  "only valid with SCHED_DEADLINE");
        return 0;
}

const sp_field spec_scheduler_fields[] = {
        { "policy", policy_name, SP_AT(gk_scheduler, policy), .flags = SP_REQUIRED,
          .sub = &spec_sched_policies },
        { "nice", sp_f_int, SP_AT(gk_scheduler, nice), .min = -20, .max = 19 },
        { "priority", sp_f_int, SP_AT(gk_scheduler, priority), .min = INT32_MIN,
          .max = INT32_MAX },
        { "flags", spec_f_flag_names, SP_AT(gk_scheduler, flags), .sub = &spec_sched_flags },
        { "runtime", sp_f_uint, SP_AT(gk_scheduler, runtime) },
        { "deadline", sp_f_uint, SP_AT(gk_scheduler, deadline) },
        { "period", sp_f_uint, SP_AT(gk_scheduler, period) },
        { NULL, sched_check },
        SP_END,
};

const sp_field spec_cpu_affinity_fields[] = {
        { "initial", cpu_list, SP_AT(gk_cpu_affinity, initial) },
        { "final", cpu_list, SP_AT(gk_cpu_affinity, final) },
        SP_END,
};

/* What set_mempolicy(2) would refuse, refused at create with the field's
 * name: MPOL_DEFAULT and MPOL_LOCAL take no nodes, every other mode needs
 * some (as runtime-tools validates), and the two node-numbering flags
 * exclude each other. */
static int mpol_check(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        const gk_memory_policy *m = base;
        const char *name = spec_name_of(&spec_mpol_modes, (uint64_t) m->mode);
        bool none = m->mode == MPOL_DEFAULT_ || m->mode == MPOL_LOCAL_;
        bool empty = gk_cpulist_empty(m->nodes);

        if (none && !empty) {
                sp_push(c, "nodes");
                return sp_fail(c, "must be empty with %s", name);
        }
        if (!none && empty) {
                sp_push(c, "nodes");
                return sp_fail(c, "required with %s", name);
        }
        if ((m->flags & MPOL_F_RELATIVE_NODES_) && (m->flags & MPOL_F_STATIC_NODES_))
                return sp_fail_at(
                        c, "flags",
                        "MPOL_F_RELATIVE_NODES and MPOL_F_STATIC_NODES exclude each other");
        return 0;
}

const sp_field spec_memory_policy_fields[] = {
        { "mode", mode_name, SP_AT(gk_memory_policy, mode), .flags = SP_REQUIRED,
          .sub = &spec_mpol_modes },
        { "nodes", node_list, SP_AT(gk_memory_policy, nodes) },
        { "flags", spec_f_flag_names, SP_AT(gk_memory_policy, flags), .sub = &spec_mpol_flags },
        { NULL, mpol_check },
        SP_END,
};
