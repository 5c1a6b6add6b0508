/* The seccomp filter builder behind gk_seccomp_validate/gk_seccomp_load,
 * exposed for the unit tests (which export it as PFC text to check the
 * rules). */
#ifndef GK_RUNTIME_SECCOMP_INTERNAL_H
#define GK_RUNTIME_SECCOMP_INTERNAL_H

#include <seccomp.h>

#include "gk/error.h"
#include "gk/spec.h"

/* A new libseccomp context holding the whole filter of SC, not loaded;
 * free with seccomp_release. */
int gk_seccomp_build(const gk_seccomp *sc, scmp_filter_ctx *out, gk_error **err);

#endif
