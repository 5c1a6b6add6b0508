/* A strict parser for the subset of TOML v1.0 that containers-registries.conf(5)
 * files use: [tables], [[arrays of tables]], key = value with bare or quoted
 * keys, basic and literal strings, booleans, arrays (of strings, or of inline
 * tables) and { inline tables }.  Anything else (numbers, dates, multi-line
 * strings, dotted keys) is refused with an error naming FILE:LINE, never
 * skipped: a registries.conf gkimg half read would pull from the wrong place.
 * No TOML library for C is packaged by Debian (only C++ ones), hence this. */
#ifndef GK_IMGTOOL_TOML_H
#define GK_IMGTOOL_TOML_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"

typedef enum gk_toml_type {
        GK_TOML_STRING,
        GK_TOML_BOOL,
        GK_TOML_ARRAY,
        GK_TOML_TABLE,
} gk_toml_type;

typedef struct gk_toml gk_toml;
struct gk_toml {
        gk_toml_type type;
        unsigned line; /* where it was defined, for messages */
        char *str;     /* STRING */
        bool b;        /* BOOL */
        /* ARRAY (items) and TABLE (keys[i] = items[i]) */
        size_t n;
        char **keys;
        gk_toml **items;
        bool of_tables; /* ARRAY made by [[headers]] */
        bool closed;    /* TABLE: defined by a header or inline, no more headers */
        bool frozen;    /* TABLE: inline, no header may add to it */
};

/* Parses TEXT (LEN bytes) of file PATH into a root table. */
int gk_toml_parse(const char *text, size_t len, const char *path, gk_toml **out, gk_error **err);
void gk_toml_free(gk_toml *t);
void gk_toml_freep(gk_toml **t);

/* KEY of table T, or NULL. */
const gk_toml *gk_toml_get(const gk_toml *t, const char *key);
const char *gk_toml_type_name(gk_toml_type t);

#endif
