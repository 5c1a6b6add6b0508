/* containers-registries.d(5): where the signatures of a docker image are
 * kept.  Each DIR/\*.yaml holds a `default-docker:` entry and `docker:`
 * entries keyed by scope (host, host/namespace, host/repo, host/repo:tag,
 * the most specific one that sets a field wins), with
 *   lookaside (older name: sigstore)          URL to read signatures from
 *   lookaside-staging (sigstore-staging)      URL to write them to
 *   use-sigstore-attachments                  read/write cosign attachments
 * Only this subset of YAML is read: block mappings of scalars, comments
 * and quoted strings; anything else is an error naming file and line. */
#ifndef GK_IMGTOOL_REGSD_H
#define GK_IMGTOOL_REGSD_H

#include <stdbool.h>

#include "gk/error.h"
#include "reference.h"

#define GK_REGSD_PATH "/etc/containers/registries.d"
#define GK_REGSD_USER_PATH ".config/containers/registries.d" /* under $HOME */
/* Where signatures are when no file says (containers/image's default). */
#define GK_LOOKASIDE_DEFAULT "file:///var/lib/containers/sigstore"
#define GK_LOOKASIDE_USER_DEFAULT ".local/share/containers/sigstore" /* non-root, under $HOME */

typedef struct gk_sigstore_cfg {
        char *read_url;  /* lookaside base for reading */
        char *write_url; /* lookaside-staging, else lookaside */
        bool attachments;
} gk_sigstore_cfg;

void gk_sigstore_cfg_clear(gk_sigstore_cfg *c);

/* The configuration for REF from DIR (NULL: the user's directory when it
 * exists, else /etc/containers/registries.d; a missing default directory
 * is no error). */
int gk_regsd_lookup(const char *dir, const gk_reference *ref, gk_sigstore_cfg *out,
                    gk_error **err);

/* Parses one file's TEXT (named WHAT) into entries: for tests. */
typedef struct gk_regsd_entry {
        char *scope; /* NULL for default-docker */
        char *lookaside, *staging;
        int attachments; /* -1 unset, 0, 1 */
} gk_regsd_entry;

typedef struct gk_regsd {
        gk_regsd_entry *v;
        size_t n;
} gk_regsd;

int gk_regsd_parse(const char *text, const char *what, gk_regsd *out, gk_error **err);
void gk_regsd_clear(gk_regsd *d);
/* The configuration for REF from parsed entries D. */
int gk_regsd_resolve(const gk_regsd *d, const gk_reference *ref, gk_sigstore_cfg *out,
                     gk_error **err);

#endif
