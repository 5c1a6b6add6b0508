/* Re-executing gkrun from a copy of itself the container cannot write: a
 * read-only mount of the binary, or a sealed memfd (see selfclone.c). */
#ifndef GK_RUNTIME_SELFCLONE_H
#define GK_RUNTIME_SELFCLONE_H

#include "gk/error.h"

/* Returns 0 when gkrun already runs from a protected binary; otherwise
 * makes one and execs it with ARGV (the whole command line): returns only
 * on failure. */
int gk_selfclone_ensure(char **argv, gk_error **err);

/* The directory of the gkrun binary that was invoked, where gkrun looks
 * for its helper programs (gkrun-net).  The protected copy runs from a
 * detached mount or a memfd, whose /proc/self/exe names no directory: the
 * first pass hands its directory to the second in the environment.
 * gk_self_dir_note() must run first thing in main (it also removes that
 * variable, so no hook or container process inherits it); gk_self_dir()
 * is "" when it is not known. */
void gk_self_dir_note(void);
const char *gk_self_dir(void);

#endif
