/* The kernel's list format of CPUs and memory nodes ("0-3,7"), as
 * runtime-spec uses it for process.execCPUAffinity and
 * linux.memoryPolicy.nodes, parsed into a bitmap of unsigned longs (the
 * layout sched_setaffinity(2) and set_mempolicy(2) take). */
#ifndef GK_CPULIST_H
#define GK_CPULIST_H

#include <limits.h>
#include <stddef.h>

/* The most CPUs (CONFIG_NR_CPUS) and NUMA nodes (1 << NODES_SHIFT) a
 * Linux kernel can be built for: the widths of the bitmaps. */
#define GK_MAX_CPUS 8192
#define GK_MAX_NUMA_NODES 1024

#define GK_BITS_PER_LONG (sizeof(unsigned long) * CHAR_BIT)
#define GK_BITMAP_LONGS(nbits) (((nbits) + GK_BITS_PER_LONG - 1) / GK_BITS_PER_LONG)

/* Parses LIST into BITS (NBITS wide, zeroed first).  Entries are N or
 * N-M (N <= M), comma-separated, blanks around them allowed; an empty
 * list sets nothing.  -EINVAL on a syntax error, -ERANGE when a number is
 * NBITS or above; *bad (may be NULL) then points at the offending entry. */
int gk_cpulist_parse(const char *list, unsigned long *bits, size_t nbits, const char **bad);

/* Whether LIST sets no bit (NULL, "" or blanks only). */
int gk_cpulist_empty(const char *list);

#endif
