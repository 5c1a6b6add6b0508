/* The lean gkrun and gkrun-full (see full.c). */
#ifndef GK_RUNTIME_FULL_H
#define GK_RUNTIME_FULL_H

#include <stdbool.h>

#include "gk/error.h"
#include "gk/spec.h"

/* Whether config.json asks for what only gkrun-full does (org.gk.net.*). */
bool gk_full_spec_wants(const gk_spec *s);
/* In gkrun-full: returns 0 at once.  In the lean gkrun: execs gkrun-full
 * with ARGV (main's whole command line), for WHY (an error message's
 * subject); returns only on failure. */
int gk_full_exec(char **argv, const char *why, gk_error **err);

#endif
