/* fuzz-sources: imgtool/authconfig.c imgtool/auth.c imgtool/json_tree.c imgtool/reference.c */
/* fuzz-sources: imgtool/digest.c imgtool/homedir.c */
/* fuzz-libs: yajl libcrypto */
/* Docker's config.json (~/.docker/config.json, $DOCKER_CONFIG) as pull,
 * login and logout read it.  Whatever the file holds: a lookup either fails
 * with a message or answers credentials that are complete; when no helper
 * is configured, login (save) then lookup gives back exactly what was
 * saved, and logout (erase) then lookup finds nothing.  The file lives in
 * a tmpfs directory; PATH points at an empty directory, so a configured
 * credential helper is never found. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "gk/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[96];

static void setup(void)
{
        snprintf(dir, sizeof(dir), "/dev/shm/gk-fuzz-auth-%d", (int) getpid());
        snprintf(path, sizeof(path), "%s/config.json", dir);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                abort();
        setenv("DOCKER_CONFIG", dir, 1);
        setenv("PATH", dir, 1);
}

static void put(const uint8_t *data, size_t size)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || (size && write(fd, data, size) != (ssize_t) size))
                abort();
        close(fd);
}

/* Has the file a helper for DOMAIN?  Then save/lookup go to the helper. */
static int has_helper(const char *domain)
{
        gk_credentials c = { 0 };
        gk_error *err = NULL;
        bool found = false;
        int r = gk_auth_lookup(domain, &c, &found, &err);

        if (r < 0) {
                if (!err || !err->msg)
                        abort();
                gk_error_free(err);
                return r;
        }
        if (found && (!c.username || (!c.password && !c.identity_token)))
                abort();
        gk_credentials_clear(&c);
        return 0;
}

static void check_domain(const uint8_t *data, size_t size, const char *domain)
{
        gk_credentials c = { 0 };
        gk_error *err = NULL;
        bool found = false, was = false;

        put(data, size);
        if (has_helper(domain) < 0)
                return; /* refused (broken file or a helper that is not there) */
        if (gk_auth_save(domain, "fuzz-user", "pa:ss", &err) < 0) {
                if (!err || !err->msg)
                        abort();
                gk_error_free(err);
                return;
        }
        if (gk_auth_lookup(domain, &c, &found, &err) < 0 || !found || !c.username ||
            strcmp(c.username, "fuzz-user") || !c.password || strcmp(c.password, "pa:ss")) {
                fprintf(stderr, "saved credentials not found again for %s\n", domain);
                abort();
        }
        gk_credentials_clear(&c);
        if (gk_auth_erase(domain, &was, &err) < 0 || !was)
                abort();
        if (gk_auth_lookup(domain, &c, &found, &err) < 0 || found)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const domains[] = { "docker.io", "localhost:5000", "r.example.com" };

        if (!dir[0])
                setup();
        check_domain(data, size, domains[size % 3]);
        return 0;
}
