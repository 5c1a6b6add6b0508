/* Reading an image through registries.conf (regconf_try.c): the callback
 * FN is run for each location of the reference in turn until one succeeds.
 * REF is the logical reference (what the image is named after), SRC where
 * it is read from, RO the registry options with SRC's insecure applied.
 * `gkimg copy` reads a docker:// source through this too. */
#ifndef GK_IMGTOOL_REGCONF_TRY_H
#define GK_IMGTOOL_REGCONF_TRY_H

#include "gk/error.h"
#include "reference.h"
#include "regconf.h"
#include "registry.h"

typedef int (*gk_try_fn)(const gk_reference *ref, const gk_source *src, const gk_registry_opts *ro,
                         void *data, gk_error **err);

/* INPUT as the user wrote it ("alpine", "host/repo:tag"). */
int gk_regconf_try(const char *input, const gk_registry_opts *o, gk_try_fn fn, void *data,
                   gk_error **err);

/* A push to REF: refused when its registry is blocked; *insecure when its
 * [[registry]] says so. */
int gk_regconf_check_push(const gk_reference *ref, bool *insecure, gk_error **err);

#endif
