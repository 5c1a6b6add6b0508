/* pidns.c: the processes of a container found by its pid namespace, for
 * one that has no cgroup of its own to ask (rootless without limits). */
#ifndef GK_RUNTIME_CONTAINER_PIDNS_H
#define GK_RUNTIME_CONTAINER_PIDNS_H

#include <stddef.h>
#include <sys/types.h>

#include "gk/error.h"

/* Every process in INIT's pid namespace we may look at (malloc'd, in
 * /proc's order), INIT first among them; INIT alone when it shares
 * ours. */
int gk_pidns_pids(pid_t init, pid_t **pids, size_t *n, gk_error **err);

#endif
