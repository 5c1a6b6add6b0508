/* containers-registries.conf(5): where an image reference is really pulled
 * from.  The files podman and skopeo read, in their order:
 *   CONTAINERS_REGISTRIES_CONF (or gkimg --registries-conf, which sets it),
 *   else $HOME/.config/containers/registries.conf when it exists, else
 *   /etc/containers/registries.conf; then the drop-ins *.conf of
 *   /etc/containers/registries.conf.d and $HOME/.config/containers/
 *   registries.conf.d in name order (only the latter when the $HOME file was
 *   the main one), each overriding what the earlier set.
 * Honoured: [[registry]] prefix/location/insecure/blocked/mirror-by-digest-only,
 * [[registry.mirror]] location/insecure/pull-from-mirror,
 * unqualified-search-registries, short-name-mode, [aliases].  Anything else is
 * an error naming the file, line and key (bundle-spec/registries.md). */
#ifndef GK_IMGTOOL_REGCONF_H
#define GK_IMGTOOL_REGCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"
#include "reference.h"

typedef enum gk_mirror_use {
        GK_MIRROR_ALL,
        GK_MIRROR_DIGEST_ONLY,
        GK_MIRROR_TAG_ONLY,
} gk_mirror_use;

typedef struct gk_regconf_endpoint {
        char *location; /* "host[:port][/namespace...]"; "" for a *.domain prefix */
        bool insecure;
        gk_mirror_use use; /* mirrors only */
} gk_regconf_endpoint;

typedef struct gk_regconf_registry {
        char *prefix;
        gk_regconf_endpoint ep;
        bool blocked;
        bool mirror_by_digest_only;
        gk_regconf_endpoint *mirrors;
        size_t n_mirrors;
        char *origin; /* the file that defined it */
} gk_regconf_registry;

typedef enum gk_short_name_mode {
        GK_SHORT_NAME_PERMISSIVE, /* the default, as podman's */
        GK_SHORT_NAME_ENFORCING,
        GK_SHORT_NAME_DISABLED,
} gk_short_name_mode;

typedef struct gk_regconf_alias {
        char *name;
        char *value; /* NULL: erased by a later file ("") */
        char *origin;
} gk_regconf_alias;

typedef struct gk_regconf {
        gk_regconf_registry *regs;
        size_t n_regs;
        char **search; /* unqualified-search-registries, NULL-terminated; NULL: unset */
        char *search_origin;
        gk_short_name_mode mode;
        bool mode_set;
        gk_regconf_alias *aliases;
        size_t n_aliases;
        char *files; /* the files read, ", "-separated, for messages */
} gk_regconf;

void gk_regconf_free(gk_regconf *c);
void gk_regconf_freep(gk_regconf **c);

/* The merged configuration from the files above. */
int gk_regconf_load(gk_regconf **out, gk_error **err);

/* One file's TEXT merged into C (a new configuration when *C is NULL);
 * DROP_IN: a registries.conf.d file.  For tests and the fuzzer. */
int gk_regconf_add_text(gk_regconf **c, const char *text, size_t len, const char *path,
                        gk_error **err);

/* Where to pull REF from, in order: its registry's mirrors (as
 * pull-from-mirror / mirror-by-digest-only allow), then its location.  A
 * blocked registry is an error naming it and its file. */
typedef struct gk_source {
        char *domain; /* for gk_registry_new */
        char *path;
        bool insecure;
        bool mirror;
        char *name; /* "domain/path" */
} gk_source;

void gk_sources_free(gk_source *v, size_t n);
int gk_regconf_sources(const gk_regconf *c, const gk_reference *ref, gk_source **out, size_t *n,
                       gk_error **err);

/* For a push to REF: no rewriting and no mirrors (registries.conf(5):
 * they are for reading only); blocked refused, *insecure from the entry. */
int gk_regconf_push_check(const gk_regconf *c, const gk_reference *ref, bool *insecure,
                          gk_error **err);

/* True when S names no registry ("alpine", "user/app:1"): its first
 * component has no '.' or ':' and is not "localhost". */
bool gk_regconf_is_short_name(const char *s);

/* The fully qualified references to try for short name S, in order: its
 * alias, else one per unqualified-search registry (as short-name-mode says:
 * ENFORCING with several is an error: gkimg does not prompt).  With
 * no search registries configured, Docker's docker.io as gkimg always did.
 * *out is NULL-terminated (gk_strvfree). */
int gk_regconf_resolve_short(const gk_regconf *c, const char *s, char ***out, gk_error **err);

/* How warnings (a mirror skipped) reach the user: set by main. */
typedef void (*gk_warn_fn)(const char *msg);
void gk_regconf_set_warn(gk_warn_fn fn);
void gk_regconf_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
