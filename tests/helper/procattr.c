/* gk-probe's views of the per-task attributes the runtime sets before exec:
 *
 *   gk-probe sched        policy=SCHED_FIFO nice=0 priority=10 flags=0x0
 *                         runtime=0 deadline=0 period=0 (sched_getattr)
 *   gk-probe ioprio       class=2 priority=4 (ioprio_get of this process)
 *   gk-probe cpus         the Cpus_allowed_list of /proc/self/status
 *   gk-probe mempolicy    mode=MPOL_BIND flags=0x0 nodes=0 (get_mempolicy)
 *   gk-probe personality  personality=0x40000 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

struct attr {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
        uint32_t util_min, util_max;
};

static const char *const policies[] = { "SCHED_OTHER",   "SCHED_FIFO", "SCHED_RR",
                                        "SCHED_BATCH",   "SCHED_ISO",  "SCHED_IDLE",
                                        "SCHED_DEADLINE" };

int p_sched(int argc, char **argv)
{
        struct attr a = { 0 };

        if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        printf("policy=%s nice=%d priority=%u flags=0x%llx runtime=%llu deadline=%llu "
               "period=%llu\n",
               a.policy < N(policies) ? policies[a.policy] : "?", a.nice, a.priority,
               (unsigned long long) a.flags, (unsigned long long) a.runtime,
               (unsigned long long) a.deadline, (unsigned long long) a.period);
        return 0;
}

int p_ioprio(int argc, char **argv)
{
        long v = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);

        if (v < 0) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        printf("class=%ld priority=%ld\n", v >> 13, v & 0xff);
        return 0;
}

int p_cpus(int argc, char **argv)
{
        char line[4096];
        FILE *f = fopen("/proc/self/status", "re");

        if (!f) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
                        fputs(line + 18 + strspn(line + 18, " \t"), stdout);
                        fclose(f);
                        return 0;
                }
        fclose(f);
        return 1;
}

static const char *const modes[] = { "MPOL_DEFAULT",
                                     "MPOL_PREFERRED",
                                     "MPOL_BIND",
                                     "MPOL_INTERLEAVE",
                                     "MPOL_LOCAL",
                                     "MPOL_PREFERRED_MANY",
                                     "MPOL_WEIGHTED_INTERLEAVE" };

/* Nodes as a list ("0-1,3"). */
static void print_nodes(const unsigned long *mask, size_t nbits)
{
        const size_t bpl = 8 * sizeof(unsigned long);
        const char *sep = "";

        for (size_t b = 0; b < nbits; b++) {
                size_t e = b;

                if (!(mask[b / bpl] >> (b % bpl) & 1))
                        continue;
                while (e + 1 < nbits && (mask[(e + 1) / bpl] >> ((e + 1) % bpl) & 1))
                        e++;
                if (e == b)
                        printf("%s%zu", sep, b);
                else
                        printf("%s%zu-%zu", sep, b, e);
                sep = ",";
                b = e;
        }
}

int p_mempolicy(int argc, char **argv)
{
        unsigned long mask[1024 / (8 * sizeof(unsigned long))] = { 0 };
        int mode = 0;

        if (syscall(SYS_get_mempolicy, &mode, mask, 1024 + 1, NULL, 0) < 0) {
                printf("%s\n", errno_name(errno));
                return 1;
        }
        printf("mode=%s flags=0x%x nodes=",
               (mode & 0xff) < (int) N(modes) ? modes[mode & 0xff] : "?",
               (unsigned) mode & ~0xffU);
        print_nodes(mask, 1024);
        putchar('\n');
        return 0;
}

int p_personality(int argc, char **argv)
{
        printf("personality=0x%x\n", (unsigned) personality(0xffffffff));
        return 0;
}
