/* Which auth files hold a registry's credentials, in the order of
 * containers-auth.json(5) as podman and skopeo read them:
 *   --authfile FILE or $REGISTRY_AUTH_FILE: that file alone; else
 *   ${XDG_RUNTIME_DIR}/containers/auth.json (/run/containers/UID/auth.json
 *   without XDG_RUNTIME_DIR), ${XDG_CONFIG_HOME:-~/.config}/containers/
 *   auth.json, then Docker's ~/.docker/config.json ($DOCKER_CONFIG).
 * The first file with an entry (or a credential helper that answers) wins.
 * `gkimg login` writes the first one, as podman login does. */
#ifndef GK_IMGTOOL_AUTHFILES_H
#define GK_IMGTOOL_AUTHFILES_H

#include <stdbool.h>

#include "auth.h"
#include "gk/error.h"

/* AUTHFILE: --authfile, or NULL. */
int gk_auth_find(const char *authfile, const char *domain, const char *repo, gk_credentials *out,
                 bool *found, gk_error **err);

/* The file login writes and logout edits (*out to free). */
int gk_auth_primary_file(const char *authfile, char **out, gk_error **err);

#endif
