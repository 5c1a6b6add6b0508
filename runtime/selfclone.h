/* Re-executing gkrun from a copy of itself the container cannot write: a
 * read-only mount of the binary, or a sealed memfd (see selfclone.c). */
#ifndef GK_RUNTIME_SELFCLONE_H
#define GK_RUNTIME_SELFCLONE_H

#include "gk/error.h"

/* Returns 0 when gkrun already runs from a protected binary; otherwise
 * makes one and execs it with ARGV (the whole command line): returns only
 * on failure. */
int gk_selfclone_ensure(char **argv, gk_error **err);

#endif
