/* rootless.c: gkrun run by a user other than root, decided as runc decides.
 *
 * Two separate things, as in runc: the user is not root (geteuid() != 0),
 * which changes where the state is kept and what the container can be
 * given; and "rootless cgroups" (--rootless, auto by default: true for a
 * user, false for root), which lets a container that asks for no limits
 * run without a cgroup of its own when none can be made. */
#ifndef GK_RUNTIME_CONTAINER_ROOTLESS_H
#define GK_RUNTIME_CONTAINER_ROOTLESS_H

#include <stdbool.h>

#include "gk/error.h"
#include "model/container.h"
#include "model/global.h"

/* The default --root of a user: $XDG_RUNTIME_DIR/gkrun, made 0700 with the
 * sticky bit (which keeps it from the XDG runtime dir's pruning). */
int gk_rootless_state_root(char **out, gk_error **err);

/* Whether gkrun runs as a user: not root, or root of a user namespace
 * (g->in_userns), which has no more privilege on the host than the user. */
bool gk_rootless_user(const gk_global *g);

/* Whether cgroups are made as runc's rootless cgroup manager makes them:
 * --rootless true or false, or auto as runc 1.1 decides (a user: true;
 * root: false, but in a user namespace without --systemd-cgroup). */
bool gk_rootless_cgroups(const gk_global *g);

/* Whether the default --root is under $XDG_RUNTIME_DIR (as runc decides:
 * a user, or root in a user namespace whose $USER is not root). */
bool gk_rootless_state_in_xdg(const gk_global *g);

/* What a user cannot have, refused before anything is made, each naming
 * the field and the reason.  Nothing to check for root of the initial
 * user namespace. */
int gk_rootless_check(const gk_container *c, gk_error **err);

/* The cgroup of a container under rootless cgroups (sets c->cg): made
 * where the user may make it (a delegated subtree, linux.cgroupsPath);
 * without a path and without the permission, none at all when no limits
 * are asked (as runc), an error saying what to delegate when some are.
 * Device rules are dropped (runc ignores them rootless). */
int gk_rootless_cgroup_plan(gk_container *c, gk_error **err);

#endif
