/* attrs.c: the per-task attributes of the container's process that the
 * kernel keeps across execve (personality, memory policy, I/O priority,
 * scheduler, CPU affinity). */
#ifndef GK_RUNTIME_SPAWN_ATTRS_H
#define GK_RUNTIME_SPAWN_ATTRS_H

#include <stdbool.h>

#include "gk/error.h"
#include "gk/spec.h"

/* linux.personality: domain and flags. */
int gk_attrs_personality(const gk_personality *p, gk_error **err);
/* linux.memoryPolicy with set_mempolicy(2). */
int gk_attrs_mempolicy(const gk_memory_policy *m, gk_error **err);
/* Whether this kernel takes memory policy MODE (MPOL_*, with flags) on
 * node 0 (or without nodes): tried on the caller, then undone. */
bool gk_attrs_mempolicy_works(int mode);

/* process.ioPriority with ioprio_set(2), process.scheduler with
 * sched_setattr(2): both need the privileges the process drops later
 * (CAP_SYS_NICE, CAP_SYS_ADMIN for the real-time classes). */
int gk_attrs_ioprio(const gk_io_priority *io, gk_error **err);
int gk_attrs_scheduler(const gk_scheduler *s, gk_error **err);

/* The calling process's CPU affinity to LIST; FIELD names it in errors. */
int gk_attrs_cpus(const char *list, const char *field, gk_error **err);
/* Every CPU the cpuset of our cgroup allows, not the mask of whoever
 * started gkrun (which the kernel keeps across the cgroup move since
 * Linux 6.2): a mask with every bit set, which sched_setaffinity(2)
 * narrows to the cpuset.  Best effort, as runc's reset. */
void gk_attrs_reset_cpus(void);

#endif
