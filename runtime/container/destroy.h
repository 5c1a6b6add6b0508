/* Container removal shared by delete and run. */
#ifndef GK_RUNTIME_DESTROY_H
#define GK_RUNTIME_DESTROY_H

#include "model/global.h"
#include "container/state.h"

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

#endif
