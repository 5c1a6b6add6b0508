/* Image references the way Docker users write them, parsed strictly
 * before they become requests or store names:
 *   alpine                      docker.io/library/alpine:latest
 *   user/app:1.0                docker.io/user/app:1.0
 *   host:5000/team/app@sha256:… a registry with a port, by digest
 *   app:1.0@sha256:…            tag and digest (the digest wins)
 * The grammar is distribution's: a domain is recognised by a '.', a ':'
 * or being "localhost"; path components are lower-case alphanumerics
 * joined by '.', '_', '__' or dashes; tags are [A-Za-z0-9_][A-Za-z0-9_.-]
 * up to 128; the name is at most 255 characters. */
#ifndef GK_IMGTOOL_REFERENCE_H
#define GK_IMGTOOL_REFERENCE_H

#include <stdbool.h>

#include "gk/error.h"

#define GK_DOCKER_DOMAIN "docker.io"
#define GK_DOCKER_REGISTRY "registry-1.docker.io"

typedef struct gk_reference {
        char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
        char *path;   /* "library/alpine" */
        char *tag;    /* NULL when not given and a digest is; else "latest" by default */
        char *digest; /* "sha256:HEX" or NULL */
} gk_reference;

/* Parses S; *out is filled (free with gk_reference_clear). Errors name the
 * reference and what is wrong with it. */
int gk_reference_parse(const char *s, gk_reference *out, gk_error **err);
void gk_reference_clear(gk_reference *r);

/* "domain/path" */
char *gk_reference_name(const gk_reference *r);
/* The canonical string: "domain/path:tag", "domain/path@digest" (when a
 * digest is there the tag is left out: the digest is what was pulled). */
char *gk_reference_string(const gk_reference *r);
/* Docker's short form: "alpine" for docker.io/library/alpine,
 * "user/app" for docker.io/user/app, else "domain/path". */
char *gk_reference_familiar_name(const gk_reference *r);

/* The host the registry API is reached at: registry-1.docker.io for
 * docker.io, else the domain. */
const char *gk_reference_api_host(const gk_reference *r);

/* True for localhost and 127.0.0.0/8 (and [::1]), with or without a port:
 * registries plain HTTP is allowed to. */
bool gk_host_is_loopback(const char *domain);

#endif
