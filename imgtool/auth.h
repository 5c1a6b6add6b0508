/* Registry authentication: WWW-Authenticate challenges (Bearer and
 * Basic), token responses, and credentials from Docker's config file
 * (~/.docker/config.json, or $DOCKER_CONFIG/config.json): `auths`, and
 * `credsStore`/`credHelpers` through docker-credential-* helpers.
 * login/logout write there the way docker does. */
#ifndef GK_IMGTOOL_AUTH_H
#define GK_IMGTOOL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"

typedef enum gk_auth_scheme {
        GK_AUTH_NONE,
        GK_AUTH_BASIC,
        GK_AUTH_BEARER,
} gk_auth_scheme;

typedef struct gk_challenge {
        gk_auth_scheme scheme;
        char *realm;
        char *service; /* Bearer, may be NULL */
        char *scope;   /* Bearer, may be NULL */
        char *error;   /* Bearer error="insufficient_scope"..., may be NULL */
} gk_challenge;

/* Parses a WWW-Authenticate header value (RFC 7235; several challenges
 * may be in one value).  Bearer wins over Basic; other schemes are
 * skipped.  None usable: an error quoting the header. */
int gk_auth_parse_challenge(const char *header, gk_challenge *out, gk_error **err);
void gk_challenge_clear(gk_challenge *c);

/* A token server's answer: {"token"|"access_token", "expires_in",
 * "issued_at"}.  *expires is when to stop using it (seconds since the
 * epoch), from expires_in (60 when absent, as the spec says) counted from
 * NOW (issued_at is the server's clock, not ours). */
int gk_auth_parse_token(const char *json, size_t len, int64_t now, char **token, int64_t *expires,
                        gk_error **err);

typedef struct gk_credentials {
        char *username;
        char *password;       /* or NULL with an identity token */
        char *identity_token; /* a refresh token from `docker login` to some registries */
} gk_credentials;

void gk_credentials_clear(gk_credentials *c);

/* The credentials for registry DOMAIN ("docker.io", "host:5000"), *found
 * false when there are none.  A broken config file or a failing helper is
 * an error naming it. */
int gk_auth_lookup(const char *domain, gk_credentials *out, bool *found, gk_error **err);

/* The same in one auth file PATH (containers-auth.json(5) or Docker's
 * format): credHelpers[DOMAIN], then auths by "DOMAIN/REPO" and its parent
 * namespaces (REPO may be NULL), then by DOMAIN. */
int gk_auth_lookup_file(const char *path, const char *domain, const char *repo,
                        gk_credentials *out, bool *found, gk_error **err);
/* save/erase in PATH; DOCKER: Docker's key for Docker Hub
 * ("https://index.docker.io/v1/"), else the domain as podman writes it. */
int gk_auth_save_file(const char *path, bool docker, const char *domain, const char *username,
                      const char *password, gk_error **err);
int gk_auth_erase_file(const char *path, bool docker, const char *domain, bool *was_there,
                       gk_error **err);

/* Saves/forgets credentials for DOMAIN (through the helper when one is
 * configured, else base64 in `auths`). */
int gk_auth_save(const char *domain, const char *username, const char *password, gk_error **err);
int gk_auth_erase(const char *domain, bool *was_there, gk_error **err);

/* The key docker uses in `auths` for DOMAIN ("https://index.docker.io/v1/"
 * for Docker Hub, else the domain itself). */
const char *gk_auth_config_key(const char *domain);

/* Base64 (standard alphabet, padded).  decode fails on bad input. */
char *gk_base64_encode(const void *data, size_t len);
int gk_base64_decode(const char *s, char **out, size_t *len);

#endif
