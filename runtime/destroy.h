/* Container removal shared by delete and run. */
#ifndef GK_RUNTIME_DESTROY_H
#define GK_RUNTIME_DESTROY_H

#include "commands.h"
#include "state.h"

/* delete [--force]: a created or stopped container is removed; a running
 * one only with force (killed first). */
int gk_container_delete(const gk_global *g, const char *id, bool force, gk_error **err);

/* The config.json kept in the state directory at create. */
int gk_state_load_spec(const char *root, const char *id, gk_spec **out, gk_error **err);

#endif
