/* What gkimg asks a registry without pulling: the tags of a repository
 * (tags.c) and an image's manifest and config (remote_inspect.c), for
 * `gkimg tags docker://REPO` and `gkimg inspect docker://REF`. */
#ifndef GK_IMGTOOL_REMOTE_H
#define GK_IMGTOOL_REMOTE_H

#include <stddef.h>

#include "gk/error.h"
#include "registry.h"

/* "docker://REF" -> "REF"; NULL when ARG has no such prefix. */
const char *gk_remote_strip(const char *arg);

/* Every tag of R's repository, following the Link header from page to
 * page (PAGE_SIZE tags a page, 0: as many as the registry gives).  *tags
 * is NULL-terminated (free with gk_strvfree). */
int gk_registry_tags(gk_registry *r, int page_size, char ***tags, size_t *n, gk_error **err);

typedef enum gk_remote_what {
        GK_REMOTE_SUMMARY, /* skopeo inspect's fields */
        GK_REMOTE_RAW,     /* the manifest or index, byte-exact */
        GK_REMOTE_CONFIG,  /* the image config blob, byte-exact */
} gk_remote_what;

/* Inspects REF ("host/repo:tag", no docker:// prefix) at its registry;
 * *out gets the text to print (*len bytes). */
int gk_remote_inspect(const char *ref, const gk_registry_opts *o, gk_remote_what what, char **out,
                      size_t *len, gk_error **err);

#endif
