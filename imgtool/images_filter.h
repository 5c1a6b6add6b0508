/* `gkimg images --filter KEY=VALUE` (or KEY!=VALUE, to exclude), podman's
 * keys:
 *   reference=GLOB    a name, matched as podman does: whole
 *                     ("docker.io/library/busybox:latest"), without the
 *                     domain ("library/busybox:latest"), the last component
 *                     ("busybox:latest"), each also without the tag; `*`
 *                     stops at `/`
 *   before=IMAGE      created before IMAGE was; since=IMAGE: after
 *   dangling=BOOL     without any name (the store keeps names only: never)
 *   label=KEY[=VALUE] the config's label KEY (equal to VALUE)
 *   id=HEX            an image ID or its prefix ("sha256:" optional)
 *   digest=DIGEST     the manifest's digest, or the registry's
 *   readonly=BOOL     in a read-only store (there is none: never)
 * The same key given twice matches either value, except label, which must
 * match every one; different keys must all match. */
#ifndef GK_IMGTOOL_IMAGES_FILTER_H
#define GK_IMGTOOL_IMAGES_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "gk/error.h"
#include "gk/json.h"

typedef enum gk_filter_key {
        GK_FILTER_REFERENCE,
        GK_FILTER_BEFORE,
        GK_FILTER_SINCE,
        GK_FILTER_DANGLING,
        GK_FILTER_LABEL,
        GK_FILTER_ID,
        GK_FILTER_DIGEST,
        GK_FILTER_READONLY,
        GK_FILTER_KEYS,
} gk_filter_key;

typedef struct gk_image_filter {
        gk_filter_key key;
        bool negate; /* KEY!=VALUE */
        char *value; /* after the `=` */
        bool flag;   /* dangling, readonly: VALUE as a boolean */
        time_t when; /* before, since: the named image's creation, filled by the caller */
} gk_image_filter;

typedef struct gk_image_filters {
        gk_image_filter *v;
        size_t n;
} gk_image_filters;

/* Parses ARGS (NULL-terminated, may be NULL), checking each key and the
 * values that can be checked alone; errors name the filter. */
int gk_image_filters_parse(char *const *args, gk_image_filters *out, gk_error **err);
void gk_image_filters_clear(gk_image_filters *fs);

/* What the filters look at, of one name of an image. */
typedef struct gk_image_facts {
        const char *name;                          /* canonical; NULL: the image has none */
        const char *id;                            /* sha256:… */
        const char *manifest_digest, *repo_digest; /* the latter may be NULL */
        time_t created;                            /* (time_t) -1: unknown */
        yajl_val labels;                           /* the config's Labels, may be NULL */
} gk_image_facts;

bool gk_image_filters_match(const gk_image_filters *fs, const gk_image_facts *f);

#endif
