/* ns.c: the namespaces' setup done from outside or by the init. */
#ifndef GK_RUNTIME_SPAWN_NS_H
#define GK_RUNTIME_SPAWN_NS_H

#include <stddef.h>
#include <sys/types.h>

#include "gk/error.h"
#include "gk/spec.h"

/* Writes /proc/PID/{uid,gid}_map; sets `lo` up in a new network namespace
 * (the init, in it). */
int gk_write_id_map(pid_t pid, const char *file, const gk_idmap *maps, size_t n, gk_error **err);
int gk_ns_loopback_up(gk_error **err);

/* Writes a new user namespace's uid and gid maps as the caller may
 * (idmap.c): itself, or through newuidmap/newgidmap for a user's ranges. */
int gk_id_maps_write(pid_t pid, const gk_idmap *uids, size_t nu, const gk_idmap *gids, size_t ng,
                     gk_error **err);

#endif
