/* The auth files of containers-auth.json(5), in order (authfiles.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "authfiles.h"
#include "gk/cleanup.h"
#include "homedir.h"

int gk_auth_primary_file(const char *authfile, char **out, gk_error **err)
{
        const char *env = getenv("REGISTRY_AUTH_FILE"), *run = getenv("XDG_RUNTIME_DIR");
        struct stat st;
        int n;

        if (authfile && *authfile)
                n = asprintf(out, "%s", authfile);
        else if (env && *env)
                n = asprintf(out, "%s", env);
        else if (run && *run) {
                /* podman's words for a runtime dir that is not there */
                if (stat(run, &st) < 0)
                        return gk_error_errno(err,
                                              "`%s` directory set by $XDG_RUNTIME_DIR does not "
                                              "exist. Either create the directory or unset "
                                              "$XDG_RUNTIME_DIR.",
                                              run);
                n = asprintf(out, "%s/containers/auth.json", run);
        } else
                n = asprintf(out, "/run/containers/%u/auth.json", (unsigned) getuid());
        return n < 0 ? gk_error_make(err, ENOMEM, "auth file") : 0;
}

static bool explicit_file(const char *authfile)
{
        const char *env = getenv("REGISTRY_AUTH_FILE");

        return (authfile && *authfile) || (env && *env);
}

int gk_auth_find(const char *authfile, const char *domain, const char *repo, gk_credentials *out,
                 bool *found, gk_error **err)
{
        _cleanup_free_ char *primary = NULL, *user = NULL;
        const char *xdg = getenv("XDG_CONFIG_HOME");
        int r;

        *found = false;
        /* A missing $XDG_RUNTIME_DIR stops a login, not a read: podman
         * warns and reads the other files. */
        r = gk_auth_primary_file(authfile, &primary, NULL);
        if (r == 0)
                r = gk_auth_lookup_file(primary, domain, repo, out, found, err);
        if (r < 0 && primary)
                return r;
        if (*found || explicit_file(authfile))
                return 0;
        if ((xdg && *xdg ? asprintf(&user, "%s/containers/auth.json", xdg)
                         : asprintf(&user, "%s/.config/containers/auth.json", gk_home_dir())) < 0)
                return gk_error_make(err, ENOMEM, "auth file");
        r = gk_auth_lookup_file(user, domain, repo, out, found, err);
        if (r < 0 || *found)
                return r;
        return gk_auth_lookup(domain, out, found, err);
}
