/* Re-executing gkrun from a copy of itself the container cannot write: a
 * read-only mount of the binary, or a sealed memfd (see selfclone.c). */
#ifndef GK_RUNTIME_SELFCLONE_H
#define GK_RUNTIME_SELFCLONE_H

#include <stdbool.h>

#include "gk/error.h"

/* Returns 0 when gkrun already runs from a protected binary; otherwise
 * makes one and execs it with ARGV (the whole command line): returns only
 * on failure. */
int gk_selfclone_ensure(char **argv, gk_error **err);

/* Whether `run` of SPEC must re-execute first.  Its init is gkrun's own
 * code from clone to exec, reachable through /proc/PID/exe by any process
 * of its pid namespace; it need not be protected only when no such process
 * can exist then: a new pid namespace (not joined by path), and no
 * createContainer or startContainer hook (they run inside it).  `create`
 * always is (`exec` may enter while the init waits for `start`), and so is
 * `exec`.  gkrun's parent process, in the caller's pid namespace, is out of
 * the container's sight, as runc's is. */
struct gk_spec;
bool gk_run_needs_protection(const struct gk_spec *spec);

#endif
