/* container/: a container's life as gkrun sees it from outside: create,
 * start, delete (destroy.c), its state directory under --root (state.c),
 * hooks, sd_notify, host mounts of a container without a mount namespace,
 * the call of gkrun-net (netcall.c), the re-exec from a protected copy
 * (selfclone.c), and the container's init (init.c).  It drives spawn/,
 * rootfs/, cgroup/ and security/; it never prints (cmd/ does).
 *
 * The container itself (the struct) is model/container.h; the init that
 * sets it up inside (init.c) is here, built on spawn/ and rootfs/. */
#ifndef GK_RUNTIME_CONTAINER_H
#define GK_RUNTIME_CONTAINER_H

#include <stdbool.h>
#include <sys/types.h>

#include "container/state.h"
#include "gk/spec.h"
#include "model/container.h"

/* Reads and parses BUNDLE/config.json and resolves the rootfs. */
int gk_container_load(gk_container *c, gk_error **err);

/* gkrun create (and the first half of run): on success the init waits for
 * start (or, in run mode, for gk_container_start_run) and the state is
 * saved.  On failure nothing is left: no process, cgroup or state dir. */
int gk_container_create(gk_container *c, gk_error **err);

/* run mode: tells the init to execute the user process now. */
int gk_container_start_run(gk_container *c, gk_error **err);

/* Whether the parent runs prestart or createRuntime hooks: without them
 * the init does not stop for GK_SYNC_HOOKS, a round trip saved. */
static inline bool gk_container_runtime_hooks(const gk_container *c)
{
        return c->spec->hooks.prestart.n || c->spec->hooks.create_runtime.n;
}

/* The child side: sets up the container and executes the user process.
 * Never returns; reports setup errors over the sync socket. */
_Noreturn void gk_init_main(gk_container *c);

void gk_container_release(gk_container *c);

/* The state of a container being created (status "creating"): its ids,
 * paths, owner, annotations and, once it has one, the init's pid. */
void gk_container_fill_state(const gk_container *c, gk_state *st);

/* Runs the hooks of a list with the state JSON on stdin (hooks.c). */
int gk_hooks_run(const gk_hook_list *hooks, const char *what, const char *state_json,
                 gk_error **err);
/* Runs every hook of a list; each failure goes to G's warn (hooks.c). */
void gk_hooks_run_warn(const gk_global *g, const gk_hook_list *hooks, const char *what,
                       const char *state_json);

#endif
