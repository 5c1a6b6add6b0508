/* The "0-3,7" list format of CPUs and NUMA nodes (see gk/cpulist.h). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cpulist.h"

static const char *skip_blanks(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* A decimal number at *S; advances past it.  Digits only: no sign. */
static int number(const char **s, unsigned long *out)
{
        char *end;

        if (!isdigit((unsigned char) **s))
                return -EINVAL;
        errno = 0;
        *out = strtoul(*s, &end, 10);
        if (errno)
                return -ERANGE;
        *s = end;
        return 0;
}

static int entry(const char **s, unsigned long *bits, size_t nbits)
{
        unsigned long lo, hi;
        int r = number(s, &lo);

        if (r < 0)
                return r;
        hi = lo;
        if (**s == '-') {
                (*s)++;
                r = number(s, &hi);
                if (r < 0)
                        return r;
                if (hi < lo)
                        return -EINVAL;
        }
        if (hi >= nbits)
                return -ERANGE;
        for (unsigned long b = lo; b <= hi; b++)
                bits[b / GK_BITS_PER_LONG] |= 1UL << (b % GK_BITS_PER_LONG);
        return 0;
}

int gk_cpulist_parse(const char *list, unsigned long *bits, size_t nbits, const char **bad)
{
        const char *s = skip_blanks(list);

        memset(bits, 0, GK_BITMAP_LONGS(nbits) * sizeof(unsigned long));
        if (!*s)
                return 0;
        for (;;) {
                const char *start = s;
                int r = entry(&s, bits, nbits);

                s = skip_blanks(s);
                if (r == 0 && *s != ',' && *s != '\0')
                        r = -EINVAL;
                if (r < 0) {
                        if (bad)
                                *bad = start;
                        return r;
                }
                if (!*s)
                        return 0;
                s = skip_blanks(s + 1);
        }
}

int gk_cpulist_empty(const char *list)
{
        return !list || !*skip_blanks(list);
}
