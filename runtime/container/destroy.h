/* Container removal shared by delete and run. */
#ifndef GK_RUNTIME_DESTROY_H
#define GK_RUNTIME_DESTROY_H

#include "model/global.h"
#include "container/state.h"
#include "gk/spec.h"

/* delete [--force]: a created or stopped container is removed; a running
 * one only with force (killed first).  SPEC, when not NULL, is the
 * container's config already parsed (run has it); else the saved copy is
 * read (its pid namespace and its poststop hooks). */
int gk_container_delete(const gk_global *g, const char *id, bool force, const gk_spec *spec,
                        gk_error **err);

/* Kills every process of the container and waits for its init; the
 * state stays (stopped). */
void gk_container_stop(const gk_state *st);

/* The config.json kept in the state directory at create. */
int gk_state_load_spec(const char *root, const char *id, gk_spec **out, gk_error **err);

/* linux.intelRdt at delete (and a failed create's rollback, ERR NULL):
 * the MON group and a group made for ID (rdt/rdt.h); resctrl not
 * mounted: nothing to do. */
int gk_container_rdt_remove(const gk_intel_rdt *r, const char *id, gk_error **err);

#endif
