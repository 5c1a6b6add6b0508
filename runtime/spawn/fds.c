/* Closing what a process inherited: a process that the container can
 * reach keeps no fd it does not need (bundle-spec/SECURITY.md). */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn/fds.h"

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *) a, y = *(const int *) b;

        return (x > y) - (x < y);
}

void gk_close_fds_except(int from, int *keep, size_t n)
{
        unsigned int lo = (unsigned int) from;

        qsort(keep, n, sizeof(int), cmp_int);
        for (size_t i = 0; i <= n; i++) {
                unsigned int hi = i < n ? (unsigned int) keep[i] : ~0U;

                if (i < n && (keep[i] < 0 || (unsigned int) keep[i] < lo))
                        continue;
                if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) < 0)
                        for (unsigned int fd = lo; fd < hi && fd < 65536; fd++)
                                close((int) fd);
                lo = hi + 1;
        }
}
