/* The oldest runtime-spec version whose fields cover a config.json.
 *
 * A runtime refuses an ociVersion newer than the spec it knows (crun 1.8.1
 * answers "unknown version specified" to 1.2.0), so a writer that claims
 * only what it uses is run by every runtime able to run it.  The versions
 * fields appeared in, from the runtime-spec ChangeLog:
 *   1.0.2  process.user.umask, personality, the createRuntime /
 *          createContainer / startContainer hooks, seccomp flags and
 *          SCMP_ACT_LOG, memory.useHierarchy, rdma
 *   1.1.0  seccomp errnoRet / defaultErrnoRet, SCMP_ACT_KILL_PROCESS /
 *          KILL_THREAD / NOTIFY and the listener, resources.unified,
 *          cpu.idle and burst, memory.checkBeforeUpdate, domainname,
 *          idmapped mounts
 *   1.1.0  process.scheduler
 *   1.2.0  the time namespace and timeOffsets, process.ioPriority
 *   1.2.1  process.execCPUAffinity
 *   1.3.0  linux.memoryPolicy
 * (personality's flags came with personality, in 1.0.2.) */
#include <string.h>

#include "gk/cleanup.h"
#include "gk/spec.h"

enum { V100, V102, V110, V120, V121, V130 };

static const char *const names[] = { "1.0.0", "1.0.2", "1.1.0", "1.2.0", "1.2.1", "1.3.0" };

#define AT_LEAST(v, w) ((v) = (v) > (w) ? (v) : (w))

static int seccomp_version(const gk_seccomp *s)
{
        int v = V100;

        if (!s->present)
                return v;
        if (s->n_flags)
                AT_LEAST(v, V102);
        if (s->has_default_errno_ret || s->listener_path)
                AT_LEAST(v, V110);
        for (size_t i = 0; i < s->n_syscalls; i++) {
                enum gk_seccomp_action a = s->syscalls[i].action;

                if (a == GK_SCMP_LOG)
                        AT_LEAST(v, V102);
                if (s->syscalls[i].has_errno_ret || a == GK_SCMP_KILL_PROCESS ||
                    a == GK_SCMP_KILL_THREAD || a == GK_SCMP_NOTIFY)
                        AT_LEAST(v, V110);
        }
        if (s->default_action == GK_SCMP_LOG)
                AT_LEAST(v, V102);
        if (s->default_action == GK_SCMP_KILL_PROCESS || s->default_action == GK_SCMP_KILL_THREAD)
                AT_LEAST(v, V110);
        return v;
}

static int resources_version(const gk_resources *r)
{
        int v = V100;

        if (r->rdma || (r->has_memory && r->memory.has_use_hierarchy))
                AT_LEAST(v, V102);
        if (r->unified || (r->has_cpu && (r->cpu.has_idle || r->cpu.has_burst)) ||
            (r->has_memory && r->memory.has_check_before_update))
                AT_LEAST(v, V110);
        return v;
}

static int process_version(const gk_process *p)
{
        int v = V100;

        if (!p)
                return v;
        if (p->user.has_umask)
                AT_LEAST(v, V102);
        if (p->scheduler.present)
                AT_LEAST(v, V110);
        if (p->io_priority.present)
                AT_LEAST(v, V120);
        if (p->exec_cpu_affinity.present)
                AT_LEAST(v, V121);
        return v;
}

static int spec_version(const gk_spec *s)
{
        const gk_hooks *h = &s->hooks;
        int v = process_version(s->process);

        AT_LEAST(v, seccomp_version(&s->linux.seccomp));
        AT_LEAST(v, resources_version(&s->linux.resources));
        if (s->linux.personality.present || h->create_runtime.hooks || h->create_container.hooks ||
            h->start_container.hooks)
                AT_LEAST(v, V102);
        if (s->domainname)
                AT_LEAST(v, V110);
        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].uid_mappings || s->mounts[i].gid_mappings || s->mounts[i].idmap)
                        AT_LEAST(v, V110);
        if (s->linux.namespaces[GK_NS_TIME].present || s->linux.time_offsets_monotonic.present ||
            s->linux.time_offsets_boottime.present)
                AT_LEAST(v, V120);
        if (s->linux.memory_policy.present)
                AT_LEAST(v, V130);
        return v;
}

const char *gk_spec_min_version(const gk_spec *spec)
{
        return names[spec_version(spec)];
}
