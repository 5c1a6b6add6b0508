/* The mounts a bundle adds to the defaults: --tmpfs PATH[:OPTS],
 * -v HOST:CTR[:OPTS], the image's Volumes (an anonymous volume directory
 * in the bundle per declared path, as podman and Docker make, see
 * bundle_volumes.c), and --read-only. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"

/* Options --tmpfs passes on: the kernel's tmpfs data and the generic
 * mount flags. */
static const char *const tmpfs_flags[] = {
        "rw",         "ro",         "exec",        "noexec",        "suid",
        "nosuid",     "dev",        "nodev",       "atime",         "noatime",
        "relatime",   "norelatime", "strictatime", "nostrictatime", "diratime",
        "nodiratime", "tmpcopyup",
};
static const char *const tmpfs_data[] = { "size=", "mode=",      "uid=",
                                          "gid=",  "nr_inodes=", "nr_blocks=" };

static const char *const bind_opts[] = { "ro",     "rw",      "private", "rprivate",
                                         "shared", "rshared", "slave",   "rslave" };

static bool in_list(const char *s, const char *const *list, size_t n, bool prefix)
{
        for (size_t i = 0; i < n; i++)
                if (prefix ? gk_str_has_prefix(s, list[i]) && s[strlen(list[i])]
                           : !strcmp(s, list[i]))
                        return true;
        return false;
}

/* An absolute container path without "." or ".." components, cleaned
 * ("//a/b/" -> "/a/b"); the root itself is refused. */
static int clean_dest(const char *flag, const char *spec, const char *path, char **out,
                      gk_error **err)
{
        _cleanup_free_ char *clean = malloc(strlen(path) + 2);
        size_t n = 0;
        const char *p = path;

        if (!clean)
                return gk_error_make(err, ENOMEM, "%s", flag);
        if (path[0] != '/')
                goto bad;
        while (*p) {
                size_t len;

                while (*p == '/')
                        p++;
                len = strcspn(p, "/");
                if (!len)
                        break;
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        goto bad;
                clean[n++] = '/';
                memcpy(clean + n, p, len);
                n += len;
                p += len;
        }
        if (n == 0 || n >= PATH_MAX)
                goto bad;
        clean[n] = '\0';
        *out = TAKE_PTR(clean);
        return 0;
bad:
        return gk_error_make(err, 0,
                             "%s `%s`: `%s` must be an absolute path in the container "
                             "(not / and without . or ..)",
                             flag, spec, path);
}

static int strv_add(char ***v, size_t *n, const char *s, size_t len)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strndup(s, len);
        nv[*n + 1] = NULL;
        return nv[(*n)++] ? 0 : -ENOMEM;
}

/* "a,b,,c" -> {"a", "b", "c"}; NULL or "" -> an empty vector. */
static int split_opts(const char *s, char ***out, size_t *n)
{
        *n = 0;
        *out = calloc(1, sizeof(char *));
        if (!*out)
                return -ENOMEM;
        while (s && *s) {
                size_t len = strcspn(s, ",");

                if (len && strv_add(out, n, s, len) < 0)
                        return -ENOMEM;
                s += len + (s[len] == ',');
        }
        return 0;
}

static bool strv_contains(char *const *v, const char *s)
{
        for (; v && *v; v++)
                if (!strcmp(*v, s))
                        return true;
        return false;
}

/* --tmpfs PATH[:OPTS]: Docker's defaults (noexec, nosuid, nodev), each
 * given up when OPTS says the opposite. */
static int parse_tmpfs(const char *spec, gk_mount *m, gk_error **err)
{
        static const char *const defaults[][2] = { { "noexec", "exec" },
                                                   { "nosuid", "suid" },
                                                   { "nodev", "dev" } };
        size_t plen = strcspn(spec, ":"), n = 0;
        _cleanup_free_ char *path = strndup(spec, plen);
        _cleanup_strv_ char **opts = NULL;

        if (!path || split_opts(spec[plen] ? spec + plen + 1 : NULL, &opts, &n) < 0)
                return gk_error_make(err, ENOMEM, "--tmpfs");
        if (clean_dest("--tmpfs", spec, path, &m->destination, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        for (char **o = opts; *o; o++)
                if (!in_list(*o, tmpfs_flags, ARRAY_SIZE(tmpfs_flags), false) &&
                    !in_list(*o, tmpfs_data, ARRAY_SIZE(tmpfs_data), true))
                        return gk_error_make(err, 0, "--tmpfs `%s`: unknown option `%s`", spec,
                                             *o);
        for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
                if (!strv_contains(opts, defaults[i][1]) &&
                    strv_add(&m->options, &m->n_options, defaults[i][0], strlen(defaults[i][0])) <
                            0)
                        return gk_error_make(err, ENOMEM, "--tmpfs");
        for (char **o = opts; *o; o++)
                if (strv_add(&m->options, &m->n_options, *o, strlen(*o)) < 0)
                        return gk_error_make(err, ENOMEM, "--tmpfs");
        m->type = strdup("tmpfs");
        m->source = strdup("tmpfs");
        return m->type && m->source ? 0 : gk_error_make(err, ENOMEM, "--tmpfs");
}

/* -v HOST:CTR[:OPTS]: a bind mount of an existing host path. */
static int parse_bind(const char *spec, gk_mount *m, gk_error **err)
{
        size_t hlen = strcspn(spec, ":"), clen, n = 0;
        _cleanup_free_ char *host = strndup(spec, hlen), *ctr = NULL;
        _cleanup_strv_ char **opts = NULL;
        char real[PATH_MAX];
        bool ro = false;

        if (!host)
                return gk_error_make(err, ENOMEM, "-v");
        if (!spec[hlen] || !hlen)
                return gk_error_make(err, 0, "-v `%s`: expected HOST:CONTAINER[:ro|rw]", spec);
        clen = strcspn(spec + hlen + 1, ":");
        ctr = strndup(spec + hlen + 1, clen);
        if (!ctr ||
            split_opts(spec[hlen + 1 + clen] ? spec + hlen + 2 + clen : NULL, &opts, &n) < 0)
                return gk_error_make(err, ENOMEM, "-v");
        if (host[0] != '/')
                return gk_error_make(err, 0,
                                     "-v `%s`: `%s` must be an absolute host path "
                                     "(named volumes are not supported)",
                                     spec, host);
        if (clean_dest("-v", spec, ctr, &m->destination, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        for (char **o = opts; *o; o++) {
                if (!in_list(*o, bind_opts, ARRAY_SIZE(bind_opts), false))
                        return gk_error_make(err, 0,
                                             "-v `%s`: unknown option `%s` (expected "
                                             "ro, rw or a propagation)",
                                             spec, *o);
                ro = !strcmp(*o, "ro") || (ro && strcmp(*o, "rw"));
        }
        if (!realpath(host, real))
                return gk_error_errno(err, "-v `%s`: host path `%s`", spec, host);
        m->type = strdup("bind");
        m->source = strdup(real);
        if (!m->type || !m->source || strv_add(&m->options, &m->n_options, "rbind", 5) < 0 ||
            (ro && strv_add(&m->options, &m->n_options, "ro", 2) < 0))
                return gk_error_make(err, ENOMEM, "-v");
        for (char **o = opts; *o; o++)
                if (strcmp(*o, "ro") && strcmp(*o, "rw") &&
                    strv_add(&m->options, &m->n_options, *o, strlen(*o)) < 0)
                        return gk_error_make(err, ENOMEM, "-v");
        return 0;
}

static void mounts_free(gk_mount *m, size_t n)
{
        for (size_t i = 0; m && i < n; i++)
                gk_mount_clear(&m[i]);
        free(m);
}

/* The flag mounts, -v then --tmpfs, checked; one destination once. */
static int flag_mounts(const gk_bundle_opts *o, gk_mount **out, size_t *n, gk_error **err)
{
        gk_mount *v = NULL;
        size_t k = 0;
        int r = 0;

        for (char **p = o->binds; r >= 0 && p && *p; p++) {
                gk_mount *m = gk_mounts_add(&v, &k);

                r = m ? parse_bind(*p, m, err) : gk_error_make(err, ENOMEM, "-v");
        }
        for (char **p = o->tmpfs; r >= 0 && p && *p; p++) {
                gk_mount *m = gk_mounts_add(&v, &k);

                r = m ? parse_tmpfs(*p, m, err) : gk_error_make(err, ENOMEM, "--tmpfs");
        }
        for (size_t i = 0; r >= 0 && i < k; i++)
                for (size_t j = 0; r >= 0 && j < i; j++)
                        if (!strcmp(v[i].destination, v[j].destination))
                                r = gk_error_make(err, 0, "`%s` is mounted twice (-v, --tmpfs)",
                                                  v[i].destination);
        if (r < 0) {
                mounts_free(v, k);
                return -EINVAL;
        }
        *out = v;
        *n = k;
        return 0;
}

int gk_bundle_check_mounts(const gk_bundle_opts *o, gk_error **err)
{
        gk_mount *v = NULL;
        size_t n = 0;

        if (flag_mounts(o, &v, &n, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        mounts_free(v, n);
        return 0;
}

static bool flag_covers(const gk_bundle_opts *o, const char *dest, gk_error **err)
{
        gk_mount *v = NULL;
        size_t n = 0;
        bool found = false;

        if (flag_mounts(o, &v, &n, err) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                found |= !strcmp(v[i].destination, dest);
        mounts_free(v, n);
        return found;
}

static int cmp_paths(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int gk_bundle_volume_paths(yajl_val cfg, const gk_bundle_opts *o, char ***out, gk_error **err)
{
        yajl_val vols = gk_json_get(cfg, "Volumes");
        _cleanup_strv_ char **v = calloc(1, sizeof(char *));
        size_t n = 0;

        if (!v)
                return gk_error_make(err, ENOMEM, "Volumes");
        if (vols && !YAJL_IS_NULL(vols) && !YAJL_IS_OBJECT(vols))
                return gk_error_make(err, 0, "image config: Volumes: must be an object");
        for (size_t i = 0; vols && YAJL_IS_OBJECT(vols) && i < vols->u.object.len; i++) {
                _cleanup_free_ char *dest = NULL;
                const char *key = vols->u.object.keys[i];

                if (clean_dest("image config: Volumes", key, key, &dest, err) < 0)
                        return gk_error_code_or(err, -EINVAL);
                if (flag_covers(o, dest, err) || strv_contains(v, dest))
                        continue;
                if (strv_add(&v, &n, dest, strlen(dest)) < 0)
                        return gk_error_make(err, ENOMEM, "Volumes");
        }
        qsort(v, n, sizeof(char *), cmp_paths);
        *out = TAKE_PTR(v);
        return 0;
}

/* An anonymous volume: BUNDLE/volumes/N bound at DEST. */
static int volume_mount(gk_mount *m, const char *dest, const char *abs, size_t idx)
{
        m->destination = strdup(dest);
        m->type = strdup("bind");
        if (asprintf(&m->source, "%s/" GK_BUNDLE_VOLUMES "/%zu", abs, idx) < 0)
                m->source = NULL;
        if (!m->destination || !m->type || !m->source ||
            strv_add(&m->options, &m->n_options, "rbind", 5) < 0)
                return -ENOMEM;
        return 0;
}

/* Parents before children, so a mount under another lands on it. */
static int cmp_mounts(const void *a, const void *b)
{
        const gk_mount *x = a, *y = b;
        size_t dx = 0, dy = 0;

        for (const char *p = x->destination; *p; p++)
                dx += *p == '/';
        for (const char *p = y->destination; *p; p++)
                dy += *p == '/';
        return dx != dy ? (dx < dy ? -1 : 1) : strcmp(x->destination, y->destination);
}

static int append_mounts(gk_spec *s, gk_mount *add, size_t n)
{
        gk_mount *nv;
        size_t k = 0;

        if (n == 0)
                return 0;
        nv = realloc(s->mounts, (s->n_mounts + n + 1) * sizeof(gk_mount));
        if (!nv)
                return -ENOMEM;
        s->mounts = nv;
        /* A flag mount replaces a default one at the same place
         * (--tmpfs /dev/shm). */
        for (size_t i = 0; i < s->n_mounts; i++) {
                bool replaced = false;

                for (size_t j = 0; j < n; j++)
                        replaced |= !strcmp(s->mounts[i].destination, add[j].destination);
                if (replaced)
                        gk_mount_clear(&s->mounts[i]);
                else
                        s->mounts[k++] = s->mounts[i];
        }
        qsort(add, n, sizeof(gk_mount), cmp_mounts);
        memcpy(s->mounts + k, add, n * sizeof(gk_mount));
        s->n_mounts = k + n;
        return 0;
}

int gk_bundle_set_mounts(gk_spec *s, const gk_bundle_opts *o, char *const *volumes,
                         const char *abs, gk_error **err)
{
        gk_mount *add = NULL;
        size_t n = 0;

        s->root.readonly = o->read_only;
        if (flag_mounts(o, &add, &n, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        for (size_t i = 0; volumes && volumes[i]; i++) {
                gk_mount *m = gk_mounts_add(&add, &n);

                if (!m || volume_mount(m, volumes[i], abs, i) < 0) {
                        mounts_free(add, n);
                        return gk_error_make(err, ENOMEM, "mounts");
                }
        }
        if (append_mounts(s, add, n) < 0) {
                mounts_free(add, n);
                return gk_error_make(err, ENOMEM, "mounts");
        }
        free(add);
        return 0;
}
