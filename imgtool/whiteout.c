/* Layer entry rules: name cleaning and confinement, whiteout names. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "whiteout.h"

int gk_entry_path_clean(const char *name, char **out, gk_error **err)
{
        size_t len, n = 0;
        _cleanup_free_ char *buf = NULL;

        if (!name || !*name)
                return gk_error_make(err, 0, "entry with an empty name");
        if (name[0] == '/')
                return gk_error_make(err, 0, "entry `%s`: absolute names are not allowed", name);
        len = strlen(name);
        if (len >= PATH_MAX)
                return gk_error_make(err, ENAMETOOLONG, "entry `%.64s...`", name);
        buf = malloc(len + 1);
        if (!buf)
                return gk_error_make(err, ENOMEM, "entry `%s`", name);

        /* Components are copied one by one into buf; ".." removes the last
         * one copied, and climbing above the root is an escape. */
        for (const char *p = name; *p;) {
                const char *end = strchrnul(p, '/');
                size_t clen = (size_t) (end - p);

                if (clen == 0 || (clen == 1 && p[0] == '.')) {
                        /* empty or "." */
                } else if (clen == 2 && p[0] == '.' && p[1] == '.') {
                        if (n == 0)
                                return gk_error_make(err, 0,
                                                     "entry `%s`: `..` leads outside the layer",
                                                     name);
                        while (n > 0 && buf[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--; /* the separator */
                } else {
                        if (n > 0)
                                buf[n++] = '/';
                        memcpy(buf + n, p, clen);
                        n += clen;
                }
                p = *end ? end + 1 : end;
        }
        if (n == 0)
                buf[n++] = '.';
        buf[n] = '\0';
        *out = TAKE_PTR(buf);
        return 0;
}

static const char *last_component(const char *path)
{
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

int gk_whiteout_classify(const char *path, enum gk_wh_kind *kind, const char **hidden,
                         gk_error **err)
{
        const char *base = last_component(path);
        const char *h;

        *kind = GK_WH_NONE;
        if (hidden)
                *hidden = NULL;
        if (strncmp(base, GK_WH_PREFIX, strlen(GK_WH_PREFIX)))
                return 0;
        if (!strcmp(base, GK_WH_OPAQUE_NAME)) {
                *kind = GK_WH_OPAQUE;
                return 0;
        }
        if (!strncmp(base, GK_WH_PREFIX GK_WH_PREFIX, 2 * strlen(GK_WH_PREFIX))) {
                *kind = GK_WH_META;
                return 0;
        }
        h = base + strlen(GK_WH_PREFIX);
        if (!*h || !strcmp(h, ".") || !strcmp(h, ".."))
                return gk_error_make(err, 0, "entry `%s`: whiteout of `%s` is not valid", path, h);
        *kind = GK_WH_FILE;
        if (hidden)
                *hidden = h;
        return 0;
}

int gk_path_split(const char *path, char **dir, const char **base)
{
        const char *slash = strrchr(path, '/');

        if (!strcmp(path, ".")) {
                *dir = strdup(".");
                *base = NULL;
        } else if (!slash) {
                *dir = strdup(".");
                *base = path;
        } else {
                *dir = strndup(path, (size_t) (slash - path));
                *base = slash + 1;
        }
        return *dir ? 0 : -ENOMEM;
}

bool gk_xattr_reserved(const char *name)
{
        return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}
