/* The per-task attributes of the container's process, applied by the
 * process itself before it drops its privileges and loads its seccomp
 * filter (process.c), so that neither can refuse them: the kernel keeps
 * them across execve.  glibc (bookworm) wraps neither sched_setattr,
 * set_mempolicy nor ioprio_set: raw syscalls. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cpulist.h"
#include "spawn/attrs.h"

#define IOPRIO_WHO_PROCESS_ 1
#define IOPRIO_CLASS_SHIFT_ 13
#define SCHED_FLAG_UTIL_CLAMP_ 0x60
#define SCHED_ATTR_SIZE_VER0_ 48
#define SCHED_ATTR_SIZE_VER1_ 56

/* linux/sched/types.h */
struct sched_attr_ {
        uint32_t size;
        uint32_t sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime;
        uint64_t sched_deadline;
        uint64_t sched_period;
        uint32_t sched_util_min;
        uint32_t sched_util_max;
};

int gk_attrs_personality(const gk_personality *p, gk_error **err)
{
        unsigned long persona;

        if (!p->present || !p->domain)
                return 0;
        persona = (strcmp(p->domain, "LINUX32") ? PER_LINUX : PER_LINUX32) | p->flags;
        if (personality(persona) < 0)
                return gk_error_errno(err, "config.json: linux.personality: personality 0x%lx",
                                      persona);
        return 0;
}

int gk_attrs_mempolicy(const gk_memory_policy *m, gk_error **err)
{
        unsigned long nodes[GK_BITMAP_LONGS(GK_MAX_NUMA_NODES)];
        const char *list = m->nodes ? m->nodes : "";
        bool any;

        if (!m->present)
                return 0;
        if (gk_cpulist_parse(list, nodes, GK_MAX_NUMA_NODES, NULL) < 0)
                return gk_error_make(err, EINVAL, "config.json: linux.memoryPolicy.nodes: \"%s\"",
                                     list);
        any = !gk_cpulist_empty(list);
        /* maxnode is one more than the bits the kernel reads (its
         * historical off-by-one, which numactl also feeds) */
        if (syscall(SYS_set_mempolicy, m->mode | (int) m->flags, any ? nodes : NULL,
                    any ? GK_MAX_NUMA_NODES + 1 : 0) == 0)
                return 0;
        if (errno == EINVAL && any)
                return gk_error_errno(err,
                                      "config.json: linux.memoryPolicy: set_mempolicy nodes \"%s\""
                                      " (a node the host lacks or the cpuset does not allow?)",
                                      list);
        return gk_error_errno(err, "config.json: linux.memoryPolicy: set_mempolicy");
}

bool gk_attrs_mempolicy_works(int mode)
{
        unsigned long node0[GK_BITMAP_LONGS(GK_MAX_NUMA_NODES)] = { 1 };
        bool ok;

        ok = syscall(SYS_set_mempolicy, mode, node0, GK_MAX_NUMA_NODES + 1) == 0 ||
             syscall(SYS_set_mempolicy, mode, NULL, 0) == 0;
        (void) syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0);
        return ok;
}

int gk_attrs_ioprio(const gk_io_priority *io, gk_error **err)
{
        int value;

        if (!io->present)
                return 0;
        value = io->class << IOPRIO_CLASS_SHIFT_ | io->priority;
        if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS_, 0, value) < 0)
                return gk_error_errno(err, "config.json: process.ioPriority: ioprio_set");
        return 0;
}

int gk_attrs_scheduler(const gk_scheduler *s, gk_error **err)
{
        struct sched_attr_ a = {
                .sched_policy = (uint32_t) s->policy,
                .sched_flags = s->flags,
                .sched_nice = s->nice,
                .sched_priority = (uint32_t) s->priority,
                .sched_runtime = s->runtime,
                .sched_deadline = s->deadline,
                .sched_period = s->period,
        };

        if (!s->present)
                return 0;
        /* the clamp members only where asked for: older kernels refuse
         * the longer structure */
        a.size = s->flags & SCHED_FLAG_UTIL_CLAMP_ ? SCHED_ATTR_SIZE_VER1_ : SCHED_ATTR_SIZE_VER0_;
        if (syscall(SYS_sched_setattr, 0, &a, 0) == 0)
                return 0;
        /* with real-time group scheduling, a cgroup without real-time
         * bandwidth refuses the policy to root too */
        if (errno == EPERM && (s->policy == SCHED_FIFO || s->policy == SCHED_RR))
                return gk_error_errno(err,
                                      "config.json: process.scheduler: sched_setattr (a real-time"
                                      " policy needs linux.resources.cpu.realtimeRuntime where"
                                      " the kernel groups real-time bandwidth)");
        return gk_error_errno(err, "config.json: process.scheduler: sched_setattr");
}

int gk_attrs_cpus(const char *list, const char *field, gk_error **err)
{
        unsigned long cpus[GK_BITMAP_LONGS(GK_MAX_CPUS)];

        if (gk_cpulist_parse(list, cpus, GK_MAX_CPUS, NULL) < 0)
                return gk_error_make(err, EINVAL, "config.json: %s: \"%s\"", field, list);
        if (syscall(SYS_sched_setaffinity, 0, sizeof(cpus), cpus) < 0)
                return gk_error_errno(err, "config.json: %s: sched_setaffinity \"%s\"", field,
                                      list);
        return 0;
}

void gk_attrs_reset_cpus(void)
{
        unsigned long all[GK_BITMAP_LONGS(GK_MAX_CPUS)];

        memset(all, 0xff, sizeof(all));
        (void) syscall(SYS_sched_setaffinity, 0, sizeof(all), all);
}
