/* gkimg check: verifies the store (store_check.c says what is checked)
 * and repairs it (store_repair.c). */
#ifndef GK_IMGTOOL_STORE_CHECK_H
#define GK_IMGTOOL_STORE_CHECK_H

#include <stddef.h>

#include "gk/error.h"
#include "registry.h"
#include "store.h"

typedef struct gk_store_check {
        size_t blobs, images, layers; /* checked */
        char **problems;              /* NULL-terminated, may be NULL */
        size_t n_problems;
        char **leftovers; /* paths relative to the store root */
        size_t n_leftovers;
        /* what --repair mends: */
        char **bad_blobs; /* damaged or missing, "sha256:HEX" */
        size_t n_bad_blobs;
        char **bad_layers; /* unpacked layers unlike their manifest (chain ids) */
        size_t n_bad_layers;
        const char *root; /* the store's, while it runs */
} gk_store_check;

/* Fails only when the store cannot be read at all; what is wrong with it
 * goes into RES. */
int gk_store_check_run(gk_store *s, gk_store_check *res, gk_error **err);
void gk_store_check_clear(gk_store_check *res);

/* `gkimg check --repair`: each damaged or missing blob of RES is dropped
 * and fetched again from the registry of an image that uses it (REG: how
 * to reach it); each unpacked layer unlike its manifest is removed and
 * unpacked again from its blob.  What is done, or could not be, goes into
 * *log (NULL-terminated). */
int gk_store_repair(gk_store *s, const gk_store_check *res, const gk_registry_opts *reg,
                    char ***log, size_t *n, gk_error **err);

#endif
