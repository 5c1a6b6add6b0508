/* registries.conf files: which are read (regconf.h), each parsed (toml.c)
 * and mapped onto gk_regconf through tables of the keys it may hold, then
 * merged as containers/image merges drop-ins: [[registry]] entries replaced
 * by prefix, aliases by name, the other keys when a later file sets them. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "homedir.h"
#include "gk/util.h"
#include "regconf.h"
#include "toml.h"

#define SYSTEM_CONF "/etc/containers/registries.conf"
#define SYSTEM_DIR "/etc/containers/registries.conf.d"
#define USER_CONF ".config/containers/registries.conf"
#define USER_DIR ".config/containers/registries.conf.d"

static gk_warn_fn warn_fn;

void gk_regconf_set_warn(gk_warn_fn fn)
{
        warn_fn = fn;
}

void gk_regconf_warn(const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        if (!warn_fn)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        warn_fn(msg);
}

static void endpoint_clear(gk_regconf_endpoint *e)
{
        free(e->location);
        *e = (gk_regconf_endpoint){ 0 };
}

static void registry_clear(gk_regconf_registry *r)
{
        free(r->prefix);
        endpoint_clear(&r->ep);
        for (size_t i = 0; i < r->n_mirrors; i++)
                endpoint_clear(&r->mirrors[i]);
        free(r->mirrors);
        free(r->origin);
        *r = (gk_regconf_registry){ 0 };
}

void gk_regconf_free(gk_regconf *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_regs; i++)
                registry_clear(&c->regs[i]);
        free(c->regs);
        gk_strvfree(c->search);
        free(c->search_origin);
        for (size_t i = 0; i < c->n_aliases; i++) {
                free(c->aliases[i].name);
                free(c->aliases[i].value);
                free(c->aliases[i].origin);
        }
        free(c->aliases);
        free(c->files);
        free(c);
}

void gk_regconf_freep(gk_regconf **c)
{
        gk_regconf_free(*c);
}

/* ---- one file's tree onto structs, key by key ---- */

typedef struct ctx {
        const char *path;
        const char *section; /* "[[registry]]", "[[registry.mirror]]", "" */
        gk_error **err;
} ctx;

typedef int (*field_fn)(const ctx *x, const gk_toml *v, void *obj);

typedef struct field {
        const char *key;
        gk_toml_type type;
        field_fn fn;
} field;

__attribute__((format(printf, 3, 4))) static int bad(const ctx *x, const gk_toml *v,
                                                     const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return gk_error_make(x->err, 0, "%s:%u: %s%s%s", x->path, v ? v->line : 0, x->section,
                             *x->section ? " " : "", msg);
}

/* Runs each key of table T through its row of FIELDS; a key no row has is
 * an error: gkimg never silently ignores what it does not do. */
static int map_table(const ctx *x, const gk_toml *t, const field *fields, void *obj)
{
        for (size_t i = 0; i < t->n; i++) {
                const field *f = fields;

                while (f->key && strcmp(f->key, t->keys[i]))
                        f++;
                if (!f->key)
                        return bad(x, t->items[i], "`%s`: not a key gkimg supports", t->keys[i]);
                if (t->items[i]->type != f->type)
                        return bad(x, t->items[i], "`%s`: must be %s", f->key,
                                   gk_toml_type_name(f->type));
                if (f->fn(x, t->items[i], obj) < 0)
                        return -EINVAL;
        }
        return 0;
}

/* "host/ns/" -> "host/ns"; a URL scheme is refused, as podman does. */
static int location_value(const ctx *x, const gk_toml *v, const char *key, char **out)
{
        size_t n = strlen(v->str);

        if (!strncmp(v->str, "http://", 7) || !strncmp(v->str, "https://", 8))
                return bad(x, v, "`%s`: `%s`: URI schemes are not supported", key, v->str);
        while (n && v->str[n - 1] == '/')
                n--;
        free(*out);
        *out = strndup(v->str, n);
        return *out ? 0 : gk_error_make(x->err, ENOMEM, "%s", x->path);
}

static int ep_location(const ctx *x, const gk_toml *v, void *obj)
{
        return location_value(x, v, "location", &((gk_regconf_endpoint *) obj)->location);
}

static int ep_insecure(const ctx *x, const gk_toml *v, void *obj)
{
        (void) x;
        ((gk_regconf_endpoint *) obj)->insecure = v->b;
        return 0;
}

static int mirror_use(const ctx *x, const gk_toml *v, void *obj)
{
        static const char *const names[] = { "all", "digest-only", "tag-only" };

        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (!strcmp(v->str, names[i]) || (i == 0 && !*v->str)) {
                        ((gk_regconf_endpoint *) obj)->use = (gk_mirror_use) i;
                        return 0;
                }
        return bad(x, v, "`pull-from-mirror`: `%s`: must be all, digest-only or tag-only", v->str);
}

static const field mirror_fields[] = {
        { "location", GK_TOML_STRING, ep_location },
        { "insecure", GK_TOML_BOOL, ep_insecure },
        { "pull-from-mirror", GK_TOML_STRING, mirror_use },
        { 0 },
};

static int reg_prefix(const ctx *x, const gk_toml *v, void *obj)
{
        return location_value(x, v, "prefix", &((gk_regconf_registry *) obj)->prefix);
}

static int reg_location(const ctx *x, const gk_toml *v, void *obj)
{
        return ep_location(x, v, &((gk_regconf_registry *) obj)->ep);
}

static int reg_insecure(const ctx *x, const gk_toml *v, void *obj)
{
        return ep_insecure(x, v, &((gk_regconf_registry *) obj)->ep);
}

static int reg_blocked(const ctx *x, const gk_toml *v, void *obj)
{
        (void) x;
        ((gk_regconf_registry *) obj)->blocked = v->b;
        return 0;
}

static int reg_by_digest(const ctx *x, const gk_toml *v, void *obj)
{
        (void) x;
        ((gk_regconf_registry *) obj)->mirror_by_digest_only = v->b;
        return 0;
}

static int reg_pull_from(const ctx *x, const gk_toml *v, void *obj)
{
        (void) obj;
        return bad(x, v, "`pull-from-mirror`: only a [[registry.mirror]] may set it");
}

static int reg_mirrors(const ctx *x, const gk_toml *v, void *obj)
{
        gk_regconf_registry *r = obj;
        ctx mx = { x->path, "[[registry.mirror]]", x->err };

        if (!(r->mirrors = calloc(v->n + 1, sizeof(*r->mirrors))))
                return gk_error_make(x->err, ENOMEM, "%s", x->path);
        for (size_t i = 0; i < v->n; i++) {
                gk_regconf_endpoint *m = &r->mirrors[r->n_mirrors++];

                if (v->items[i]->type != GK_TOML_TABLE)
                        return bad(x, v->items[i], "`mirror`: must be an array of tables");
                if (map_table(&mx, v->items[i], mirror_fields, m) < 0)
                        return -EINVAL;
                if (!m->location || !*m->location)
                        return bad(&mx, v->items[i], "`location`: must be set");
                if (r->mirror_by_digest_only && m->use != GK_MIRROR_ALL)
                        return bad(&mx, v->items[i],
                                   "`pull-from-mirror` of `%s` and the registry's "
                                   "mirror-by-digest-only exclude each other",
                                   m->location);
        }
        return 0;
}

static const field registry_fields[] = {
        { "prefix", GK_TOML_STRING, reg_prefix },
        { "location", GK_TOML_STRING, reg_location },
        { "insecure", GK_TOML_BOOL, reg_insecure },
        { "blocked", GK_TOML_BOOL, reg_blocked },
        { "mirror-by-digest-only", GK_TOML_BOOL, reg_by_digest },
        { "pull-from-mirror", GK_TOML_STRING, reg_pull_from },
        { "mirror", GK_TOML_ARRAY, reg_mirrors },
        { 0 },
};

/* prefix defaults to location; a *.domain prefix may go without one. */
static int check_registry(const ctx *x, const gk_toml *t, gk_regconf_registry *r)
{
        if (!r->ep.location && !(r->ep.location = strdup("")))
                return gk_error_make(x->err, ENOMEM, "%s", x->path);
        if (!r->prefix) {
                if (!*r->ep.location)
                        return bad(x, t, "neither `location` nor `prefix` is set");
                if (!(r->prefix = strdup(r->ep.location)))
                        return gk_error_make(x->err, ENOMEM, "%s", x->path);
        }
        if (!strncmp(r->prefix, "*.", 2)) {
                if (strpbrk(r->prefix, "/@:"))
                        return bad(x, t, "`prefix`: `%s`: a wildcard prefix is *.domain alone",
                                   r->prefix);
        } else if (!*r->ep.location) {
                return bad(x, t, "`location`: must be set (prefix `%s` has no wildcard)",
                           r->prefix);
        }
        if (!*r->prefix)
                return bad(x, t, "`prefix`: must not be empty");
        if (!(r->origin = strdup(x->path)))
                return gk_error_make(x->err, ENOMEM, "%s", x->path);
        return 0;
}

/* The parsed file, before it is merged. */
typedef struct file_conf {
        gk_regconf_registry *regs;
        size_t n_regs;
        const gk_toml *search, *mode, *aliases;
} file_conf;

/* [[registry]] in its file's order, mirror-by-digest-only first: the
 * mirrors' check needs it. */
static int top_registry(const ctx *x, const gk_toml *v, void *obj)
{
        file_conf *fc = obj;
        ctx rx = { x->path, "[[registry]]", x->err };

        if (!(fc->regs = calloc(v->n + 1, sizeof(*fc->regs))))
                return gk_error_make(x->err, ENOMEM, "%s", x->path);
        for (size_t i = 0; i < v->n; i++) {
                gk_regconf_registry *r = &fc->regs[fc->n_regs++];
                const gk_toml *t = v->items[i], *bd;

                if (t->type != GK_TOML_TABLE)
                        return bad(x, t, "`registry`: must be an array of tables");
                bd = gk_toml_get(t, "mirror-by-digest-only");
                if (bd && bd->type == GK_TOML_BOOL)
                        r->mirror_by_digest_only = bd->b;
                if (map_table(&rx, t, registry_fields, r) < 0 || check_registry(&rx, t, r) < 0)
                        return -EINVAL;
        }
        return 0;
}

static int top_search(const ctx *x, const gk_toml *v, void *obj)
{
        for (size_t i = 0; i < v->n; i++) {
                const char *s = v->items[i]->str;

                if (v->items[i]->type != GK_TOML_STRING)
                        return bad(x, v->items[i],
                                   "`unqualified-search-registries`: must be strings");
                if (!*s || strpbrk(s, "/@ "))
                        return bad(x, v->items[i],
                                   "`unqualified-search-registries`: `%s`: must be host[:port]",
                                   s);
        }
        ((file_conf *) obj)->search = v;
        return 0;
}

static int top_mode(const ctx *x, const gk_toml *v, void *obj)
{
        if (*v->str && strcmp(v->str, "enforcing") && strcmp(v->str, "permissive") &&
            strcmp(v->str, "disabled"))
                return bad(x, v,
                           "`short-name-mode`: `%s`: must be enforcing, permissive or "
                           "disabled",
                           v->str);
        ((file_conf *) obj)->mode = *v->str ? v : NULL;
        return 0;
}

static int top_aliases(const ctx *x, const gk_toml *v, void *obj)
{
        ctx ax = { x->path, "[aliases]", x->err };

        for (size_t i = 0; i < v->n; i++) {
                const char *name = v->keys[i];
                const gk_toml *val = v->items[i];
                _cleanup_(gk_reference_clear) gk_reference ref = { 0 };
                _cleanup_(gk_error_freep) gk_error *e = NULL;

                if (val->type != GK_TOML_STRING)
                        return bad(&ax, val, "`%s`: must be a string", name);
                if (!gk_regconf_is_short_name(name) || strpbrk(name, ":@"))
                        return bad(&ax, val,
                                   "`%s`: must be a short name without a tag, digest "
                                   "or registry",
                                   name);
                if (!*val->str)
                        continue;
                if (gk_regconf_is_short_name(val->str) ||
                    strpbrk(val->str + strcspn(val->str, "/"), ":@") ||
                    gk_reference_parse(val->str, &ref, &e) < 0)
                        return bad(&ax, val,
                                   "`%s`: `%s`: must be registry/repository, without a tag "
                                   "or digest%s%s",
                                   name, val->str, e ? ": " : "", e ? e->msg : "");
        }
        ((file_conf *) obj)->aliases = v;
        return 0;
}

static int top_helpers(const ctx *x, const gk_toml *v, void *obj)
{
        (void) obj;
        for (size_t i = 0; i < v->n; i++)
                if (v->items[i]->type != GK_TOML_STRING ||
                    strcmp(v->items[i]->str, "containers-auth.json"))
                        return bad(x, v,
                                   "`credential-helpers`: only \"containers-auth.json\" is "
                                   "supported (credHelpers in an auth file work)");
        return 0;
}

static int top_v1(const ctx *x, const gk_toml *v, void *obj)
{
        (void) obj;
        return bad(x, v,
                   "`[registries.*]`: the version 1 format is not supported: use "
                   "unqualified-search-registries and [[registry]]");
}

static const field top_fields[] = {
        { "registry", GK_TOML_ARRAY, top_registry },
        { "unqualified-search-registries", GK_TOML_ARRAY, top_search },
        { "short-name-mode", GK_TOML_STRING, top_mode },
        { "aliases", GK_TOML_TABLE, top_aliases },
        { "credential-helpers", GK_TOML_ARRAY, top_helpers },
        { "registries", GK_TOML_TABLE, top_v1 },
        { 0 },
};

/* ---- merging ---- */

static int merge_registries(gk_regconf *c, file_conf *fc)
{
        for (size_t i = 0; i < fc->n_regs; i++) {
                gk_regconf_registry *r = &fc->regs[i], *nr;
                size_t j = 0;

                /* Within one file the first entry of a prefix wins (as
                 * containers/image); a later file replaces it. */
                for (size_t k = 0; k < i; k++)
                        if (fc->regs[k].prefix && !strcmp(fc->regs[k].prefix, r->prefix))
                                goto next;
                while (j < c->n_regs && strcmp(c->regs[j].prefix, r->prefix))
                        j++;
                if (j == c->n_regs) {
                        if (!(nr = realloc(c->regs, (c->n_regs + 1) * sizeof(*nr))))
                                return -ENOMEM;
                        c->regs = nr;
                        c->n_regs++;
                } else {
                        registry_clear(&c->regs[j]);
                }
                c->regs[j] = *r;
                *r = (gk_regconf_registry){ .prefix = strdup(c->regs[j].prefix) };
        next:;
        }
        return 0;
}

static int set_alias(gk_regconf *c, const char *name, const char *value, const char *origin)
{
        gk_regconf_alias *a = NULL, *na;

        for (size_t i = 0; i < c->n_aliases; i++)
                if (!strcmp(c->aliases[i].name, name))
                        a = &c->aliases[i];
        if (!a) {
                if (!(na = realloc(c->aliases, (c->n_aliases + 1) * sizeof(*na))))
                        return -ENOMEM;
                c->aliases = na;
                a = &c->aliases[c->n_aliases++];
                *a = (gk_regconf_alias){ .name = strdup(name) };
        }
        free(a->value);
        free(a->origin);
        a->value = *value ? strdup(value) : NULL;
        a->origin = strdup(origin);
        return a->name && a->origin && (a->value || !*value) ? 0 : -ENOMEM;
}

static int merge(gk_regconf *c, file_conf *fc, const char *path)
{
        if (merge_registries(c, fc) < 0)
                return -ENOMEM;
        if (fc->search) {
                char **v = calloc(fc->search->n + 1, sizeof(char *));

                if (!v)
                        return -ENOMEM;
                for (size_t i = 0; i < fc->search->n; i++)
                        if (!(v[i] = strdup(fc->search->items[i]->str))) {
                                gk_strvfree(v);
                                return -ENOMEM;
                        }
                gk_strvfree(c->search);
                c->search = v;
                free(c->search_origin);
                if (!(c->search_origin = strdup(path)))
                        return -ENOMEM;
        }
        if (fc->mode) {
                c->mode = !strcmp(fc->mode->str, "enforcing")  ? GK_SHORT_NAME_ENFORCING
                          : !strcmp(fc->mode->str, "disabled") ? GK_SHORT_NAME_DISABLED
                                                               : GK_SHORT_NAME_PERMISSIVE;
                c->mode_set = true;
        }
        for (size_t i = 0; fc->aliases && i < fc->aliases->n; i++)
                if (set_alias(c, fc->aliases->keys[i], fc->aliases->items[i]->str, path) < 0)
                        return -ENOMEM;
        return 0;
}

static int add_file_name(gk_regconf *c, const char *path)
{
        char *n = NULL;

        if (asprintf(&n, "%s%s%s", c->files ? c->files : "", c->files ? ", " : "", path) < 0)
                return -ENOMEM;
        free(c->files);
        c->files = n;
        return 0;
}

int gk_regconf_add_text(gk_regconf **c, const char *text, size_t len, const char *path,
                        gk_error **err)
{
        _cleanup_(gk_toml_freep) gk_toml *t = NULL;
        file_conf fc = { 0 };
        ctx x = { path, "", err };
        int r;

        if (!*c && !(*c = calloc(1, sizeof(**c))))
                return gk_error_make(err, ENOMEM, "%s", path);
        if (gk_toml_parse(text, len, path, &t, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        r = map_table(&x, t, top_fields, &fc);
        if (r == 0 && (merge(*c, &fc, path) < 0 || add_file_name(*c, path) < 0))
                r = gk_error_make(err, ENOMEM, "%s", path);
        for (size_t i = 0; i < fc.n_regs; i++)
                registry_clear(&fc.regs[i]);
        free(fc.regs);
        return r;
}

/* ---- which files ---- */

static int add_file(gk_regconf **c, const char *path, bool must_exist, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = gk_read_file(path, &text, &len, NULL);

        if (r == -ENOENT && !must_exist)
                return 0;
        if (r < 0)
                return gk_error_make(err, -r, "registries configuration `%s`", path);
        return gk_regconf_add_text(c, text, len, path, err);
}

static int conf_d_filter(const struct dirent *d)
{
        size_t n = strlen(d->d_name);

        return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf") &&
               (d->d_type == DT_REG || d->d_type == DT_LNK || d->d_type == DT_UNKNOWN);
}

/* The DIR/\*.conf drop-ins in name order (byte order, as Go's WalkDir). */
static int add_dir(gk_regconf **c, const char *dir, gk_error **err)
{
        struct dirent **names = NULL;
        int n = scandir(dir, &names, conf_d_filter, alphasort), r = 0;

        if (n < 0)
                return errno == ENOENT || errno == ENOTDIR
                               ? 0
                               : gk_error_errno(err, "registries configuration `%s`", dir);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;

                if (r == 0 && asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
                        r = gk_error_make(err, ENOMEM, "%s", dir);
                if (r == 0)
                        r = add_file(c, path, false, err);
                free(names[i]);
        }
        free(names);
        return r;
}

int gk_regconf_load(gk_regconf **out, gk_error **err)
{
        _cleanup_(gk_regconf_freep) gk_regconf *c = calloc(1, sizeof(*c));
        _cleanup_free_ char *user_conf = NULL, *user_dir = NULL;
        const char *env = getenv("CONTAINERS_REGISTRIES_CONF");
        bool user_main = false;
        int r;

        if (!c || asprintf(&user_conf, "%s/" USER_CONF, gk_home_dir()) < 0 ||
            asprintf(&user_dir, "%s/" USER_DIR, gk_home_dir()) < 0)
                return gk_error_make(err, ENOMEM, "registries configuration");
        if (env && *env) {
                r = add_file(&c, env, true, err);
        } else if (access(user_conf, F_OK) == 0) {
                user_main = true;
                r = add_file(&c, user_conf, true, err);
        } else {
                r = add_file(&c, SYSTEM_CONF, false, err);
        }
        if (r == 0 && !user_main)
                r = add_dir(&c, SYSTEM_DIR, err);
        if (r == 0)
                r = add_dir(&c, user_dir, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(c);
        return 0;
}
