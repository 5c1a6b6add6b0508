/* The lean gkrun and gkrun-full (see full.c). */
#ifndef GK_RUNTIME_FULL_H
#define GK_RUNTIME_FULL_H

#include <stdbool.h>

#include "gk/error.h"
#include "gk/spec.h"

/* Keeps ARGV (the whole command line) for gk_full_exec; main calls it first. */
void gk_full_init(char **argv);
/* Whether config.json asks for what only gkrun-full does (org.gk.net.*). */
bool gk_full_spec_wants(const gk_spec *s);
/* In gkrun-full: returns 0 at once.  In the lean gkrun: execs gkrun-full
 * with the command line given to gk_full_init, for WHY (an error message's
 * subject); returns only on failure. */
int gk_full_exec(const char *why, gk_error **err);

#endif
