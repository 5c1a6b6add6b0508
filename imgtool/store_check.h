/* gkimg check: verifies the store (store_check.c says what is checked). */
#ifndef GK_IMGTOOL_STORE_CHECK_H
#define GK_IMGTOOL_STORE_CHECK_H

#include <stddef.h>

#include "gk/error.h"
#include "store.h"

typedef struct gk_store_check {
        size_t blobs, images, layers;  /* checked */
        char **problems;               /* NULL-terminated, may be NULL */
        size_t n_problems;
        char **leftovers;              /* paths relative to the store root */
        size_t n_leftovers;
} gk_store_check;

/* Fails only when the store cannot be read at all; what is wrong with it
 * goes into RES. */
int gk_store_check_run(gk_store *s, gk_store_check *res, gk_error **err);
void gk_store_check_clear(gk_store_check *res);

#endif
