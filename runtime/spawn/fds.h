/* fds.c: closing what a container's process must not inherit. */
#ifndef GK_RUNTIME_SPAWN_FDS_H
#define GK_RUNTIME_SPAWN_FDS_H

#include <stddef.h>

/* Closes every fd from FROM up but the N in KEEP (sorted here; negative
 * entries ignored). */
void gk_close_fds_except(int from, int *keep, size_t n);

#endif
