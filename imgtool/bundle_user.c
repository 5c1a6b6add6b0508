/* `--user` / the image's User resolved the way docker does, through the
 * image's own /etc/passwd and /etc/group (read from the layers, confined
 * to the image root; see layerview.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "layerview.h"

void gk_bundle_user_clear(gk_bundle_user *u)
{
        free(u->gids);
        free(u->home);
        *u = (gk_bundle_user){ 0 };
}

static bool parse_id(const char *s, uint32_t *out)
{
        uint64_t v;

        if (!gk_parse_u64(s, &v) || v >= UINT32_MAX)
                return false;
        *out = (uint32_t) v;
        return true;
}

/* Splits a passwd/group line into at most MAX fields at ':'. */
static size_t fields(char *line, char **f, size_t max)
{
        size_t n = 0;

        for (char *p = line; n < max;) {
                f[n++] = p;
                p = strchr(p, ':');
                if (!p)
                        break;
                *p++ = '\0';
        }
        return n;
}

/* Finds the passwd entry of NAME, or of uid ID when NAME is not a user
 * name; fills uid, gid, home.  Returns 1 found, 0 not found. */
static int find_passwd(char *text, const char *name, bool numeric, uint32_t id, gk_bundle_user *u,
                       char **user_name)
{
        char *save = NULL, *by_id_name = NULL, *by_id_home = NULL;
        uint32_t by_id_gid = 0;
        bool by_id = false;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[7];
                uint32_t uid, gid;

                if (fields(line, f, 7) < 7 || !parse_id(f[2], &uid) || !parse_id(f[3], &gid))
                        continue;
                if (!strcmp(f[0], name)) {
                        u->uid = uid;
                        u->gid = gid;
                        u->home = strdup(f[5]);
                        *user_name = strdup(f[0]);
                        return 1;
                }
                if (numeric && uid == id && !by_id) {
                        by_id = true;
                        by_id_gid = gid;
                        by_id_name = f[0];
                        by_id_home = f[5];
                }
        }
        if (!by_id)
                return 0;
        u->uid = id;
        u->gid = by_id_gid;
        u->home = strdup(by_id_home);
        *user_name = strdup(by_id_name);
        return 1;
}

/* The gid of group NAME (or numeric); with USER_NAME set, collects the
 * groups listing that user instead. */
static int scan_groups(char *text, const char *group, gid_t *gid, const char *user_name,
                       gk_bundle_user *u)
{
        char *save = NULL;

        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *f[4], *msave = NULL;
                uint32_t g;

                if (fields(line, f, 4) < 4 || !parse_id(f[2], &g))
                        continue;
                if (group && !strcmp(f[0], group)) {
                        *gid = g;
                        return 1;
                }
                if (!user_name)
                        continue;
                for (char *m = strtok_r(f[3], ",", &msave); m; m = strtok_r(NULL, ",", &msave)) {
                        gid_t *ng;

                        if (strcmp(m, user_name))
                                continue;
                        ng = realloc(u->gids, (u->n_gids + 1) * sizeof(gid_t));
                        if (!ng)
                                return -ENOMEM;
                        u->gids = ng;
                        u->gids[u->n_gids++] = g;
                        break;
                }
        }
        return 0;
}

static int resolve_group(const int *fds, size_t n, const char *group, gk_bundle_user *u,
                         gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        uint32_t g;
        gid_t gid;

        if (gk_layers_read_file(fds, n, "/etc/group", &text, NULL, NULL) >= 0 &&
            scan_groups(text, group, &gid, NULL, u) == 1) {
                u->gid = gid;
                return 0;
        }
        if (parse_id(group, &g)) {
                u->gid = g;
                return 0;
        }
        return gk_error_make(err, 0, "user: group `%s` is not in the image's /etc/group", group);
}

int gk_bundle_resolve_user(const int *fds, size_t n, const char *spec, gk_bundle_user *u,
                           gk_error **err)
{
        _cleanup_free_ char *copy = strdup(spec && *spec ? spec : "0");
        _cleanup_free_ char *passwd = NULL, *user_name = NULL;
        char *group;
        uint32_t id = 0;
        bool numeric;
        int found = 0;

        *u = (gk_bundle_user){ 0 };
        if (!copy)
                return gk_error_make(err, ENOMEM, "user");
        group = strchr(copy, ':');
        if (group)
                *group++ = '\0';
        numeric = parse_id(copy, &id);
        if (!*copy || (group && !*group))
                return gk_error_make(err, 0, "user `%s`: expected USER[:GROUP]", spec);
        if (gk_layers_read_file(fds, n, "/etc/passwd", &passwd, NULL, NULL) >= 0)
                found = find_passwd(passwd, copy, numeric, id, u, &user_name);
        if (!found) {
                if (!numeric)
                        return gk_error_make(err, 0, "user `%s` is not in the image's /etc/passwd",
                                             copy);
                u->uid = id; /* docker: an unknown uid runs with gid 0 */
        }
        if (group)
                return resolve_group(fds, n, group, u, err);
        if (user_name) {
                _cleanup_free_ char *groups = NULL;

                if (gk_layers_read_file(fds, n, "/etc/group", &groups, NULL, NULL) >= 0 &&
                    scan_groups(groups, NULL, NULL, user_name, u) < 0)
                        return gk_error_make(err, ENOMEM, "user");
        }
        return 0;
}
