/* containers-registries.d(5) reading (see regsd.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "homedir.h"
#include "gk/util.h"
#include "policy.h"
#include "regsd.h"

void gk_sigstore_cfg_clear(gk_sigstore_cfg *c)
{
        free(c->read_url);
        free(c->write_url);
        *c = (gk_sigstore_cfg){ 0 };
}

void gk_regsd_clear(gk_regsd *d)
{
        for (size_t i = 0; i < d->n; i++) {
                free(d->v[i].scope);
                free(d->v[i].lookaside);
                free(d->v[i].staging);
        }
        free(d->v);
        *d = (gk_regsd){ 0 };
}

typedef struct line_parser {
        const char *what;
        int line;
        gk_regsd *d;
        int top; /* 0 none/ignored, 1 default-docker, 2 docker */
        int scope_indent;
        gk_regsd_entry *cur;
} line_parser;

static int lerr(const line_parser *p, const char *why, gk_error **err)
{
        return gk_error_make(err, 0, "%s: line %d: %s", p->what, p->line, why);
}

/* A plain or quoted scalar, trimmed, in place. */
static int scalar(char *s, char **out)
{
        size_t n;

        while (*s == ' ')
                s++;
        n = strlen(s);
        while (n && s[n - 1] == ' ')
                s[--n] = '\0';
        if (n && (s[0] == '"' || s[0] == '\'')) {
                if (n < 2 || s[n - 1] != s[0])
                        return -EINVAL;
                s[n - 1] = '\0';
                s++;
        }
        *out = s;
        return 0;
}

static int new_entry(line_parser *p, const char *scope, gk_error **err)
{
        gk_regsd_entry *v;

        for (size_t i = 0; i < p->d->n; i++)
                if ((!scope && !p->d->v[i].scope) ||
                    (scope && p->d->v[i].scope && !strcmp(scope, p->d->v[i].scope)))
                        return lerr(p,
                                    scope ? "scope configured twice"
                                          : "default-docker configured twice",
                                    err);
        v = realloc(p->d->v, (p->d->n + 1) * sizeof(*v));
        if (!v)
                return gk_error_make(err, ENOMEM, "%s", p->what);
        p->d->v = v;
        p->cur = &v[p->d->n++];
        *p->cur = (gk_regsd_entry){ .attachments = -1 };
        if (scope && !(p->cur->scope = strdup(scope)))
                return gk_error_make(err, ENOMEM, "%s", p->what);
        return 0;
}

static int set_field(line_parser *p, const char *key, const char *val, gk_error **err)
{
        char **dst = NULL;

        if (!strcmp(key, "lookaside") || !strcmp(key, "sigstore"))
                dst = &p->cur->lookaside;
        else if (!strcmp(key, "lookaside-staging") || !strcmp(key, "sigstore-staging"))
                dst = &p->cur->staging;
        else if (!strcmp(key, "use-sigstore-attachments")) {
                if (strcmp(val, "true") && strcmp(val, "false"))
                        return lerr(p, "use-sigstore-attachments: must be true or false", err);
                p->cur->attachments = !strcmp(val, "true");
                return 0;
        } else
                return 0; /* other fields are not about signatures */
        if (!*val)
                return lerr(p, "a URL is needed", err);
        if (*dst)
                return lerr(p, "lookaside URL given twice (the old and the new name?)", err);
        *dst = strdup(val);
        return *dst ? 0 : gk_error_make(err, ENOMEM, "%s", p->what);
}

static int parse_line(line_parser *p, char *l, gk_error **err)
{
        int indent = 0;
        char *colon, *key, *val;

        for (char *h = l; *h; h++) /* a comment: '#' at the start or after a space */
                if (*h == '#' && (h == l || h[-1] == ' ')) {
                        *h = '\0';
                        break;
                }
        while (l[indent] == ' ')
                indent++;
        if (l[indent] == '\t')
                return lerr(p, "tabs are not allowed for indentation", err);
        if (!l[indent] || !strcmp(l, "---"))
                return 0;
        colon = strstr(l + indent, ": ");
        if (!colon)
                colon = l[strlen(l) - 1] == ':' ? l + strlen(l) - 1 : NULL;
        if (!colon)
                return lerr(p, "expected `key: value` (only YAML mappings are read)", err);
        *colon = '\0';
        if (scalar(l + indent, &key) < 0 || scalar(colon + 1, &val) < 0)
                return lerr(p, "unterminated quoted string", err);
        if (*val && strchr("[{&*|>!", *val))
                return lerr(p,
                            "only plain and quoted scalars are read (no flow collections, "
                            "anchors or block scalars)",
                            err);
        if (indent == 0) {
                p->top = !strcmp(key, "default-docker") ? 1 : !strcmp(key, "docker") ? 2 : 0;
                p->scope_indent = -1;
                p->cur = NULL;
                return p->top == 1 ? new_entry(p, NULL, err) : 0;
        }
        if (p->top == 2 && (p->scope_indent < 0 || indent <= p->scope_indent)) {
                if (*val)
                        return lerr(p, "docker: each scope must be a mapping", err);
                p->scope_indent = indent;
                return new_entry(p, key, err);
        }
        return p->cur ? set_field(p, key, val, err) : 0;
}

int gk_regsd_parse(const char *text, const char *what, gk_regsd *out, gk_error **err)
{
        _cleanup_free_ char *copy = strdup(text);
        line_parser p = { .what = what, .d = out, .scope_indent = -1 };
        char *save = NULL;

        if (!copy)
                return gk_error_make(err, ENOMEM, "%s", what);
        /* strsep keeps empty lines, so line numbers stay right */
        for (char *rest = copy; (save = strsep(&rest, "\n"));) {
                p.line++;
                if (parse_line(&p, save, err) < 0)
                        return -EINVAL;
        }
        return 0;
}

static const gk_regsd_entry *find(const gk_regsd *d, const char *scope)
{
        for (size_t i = 0; i < d->n; i++)
                if (scope ? d->v[i].scope && !strcmp(d->v[i].scope, scope) : !d->v[i].scope)
                        return &d->v[i];
        return NULL;
}

static char *default_lookaside(void)
{
        char *s = NULL;

        if (geteuid() == 0)
                return strdup(GK_LOOKASIDE_DEFAULT);
        return asprintf(&s, "file://%s/" GK_LOOKASIDE_USER_DEFAULT, gk_home_dir()) < 0 ? NULL : s;
}

int gk_regsd_resolve(const gk_regsd *d, const gk_reference *ref, gk_sigstore_cfg *out,
                     gk_error **err)
{
        _cleanup_(gk_strvfreep) char **scopes = gk_docker_scopes(ref, false);
        const char *rd = NULL, *wr = NULL;
        int att = -1;
        const gk_regsd_entry *e;

        *out = (gk_sigstore_cfg){ 0 };
        if (!scopes)
                return gk_error_make(err, ENOMEM, "registries.d");
        /* per field, the most specific scope that sets it, then the default */
        for (size_t i = 0; scopes[i] || i == 0; i++) {
                e = scopes[i] ? find(d, scopes[i]) : NULL;
                if (!e)
                        continue;
                rd = rd ? rd : e->lookaside;
                wr = wr ? wr : e->staging ? e->staging : e->lookaside;
                att = att >= 0 ? att : e->attachments;
        }
        if ((e = find(d, NULL))) {
                rd = rd ? rd : e->lookaside;
                wr = wr ? wr : e->staging ? e->staging : e->lookaside;
                att = att >= 0 ? att : e->attachments;
        }
        out->read_url = rd ? strdup(rd) : default_lookaside();
        out->write_url = wr ? strdup(wr) : default_lookaside();
        out->attachments = att == 1;
        if (!out->read_url || !out->write_url) {
                gk_sigstore_cfg_clear(out);
                return gk_error_make(err, ENOMEM, "registries.d");
        }
        return 0;
}

static bool is_yaml(const char *name)
{
        size_t n = strlen(name);

        return n > 5 && !strcmp(name + n - 5, ".yaml");
}

static int read_dir(const char *dir, bool must_exist, gk_regsd *d, gk_error **err)
{
        struct dirent **names = NULL;
        int n = scandir(dir, &names, NULL, alphasort), r = 0;

        if (n < 0)
                return errno == ENOENT && !must_exist
                               ? 0
                               : gk_error_errno(err, "registries.d `%s`", dir);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *text = NULL;

                if (r == 0 && is_yaml(names[i]->d_name)) {
                        if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
                                r = gk_error_make(err, ENOMEM, "registries.d");
                        else if (gk_read_file(path, &text, NULL, err) < 0 ||
                                 gk_regsd_parse(text, path, d, err) < 0)
                                r = -EINVAL;
                }
                free(names[i]);
        }
        free(names);
        return r;
}

int gk_regsd_lookup(const char *dir, const gk_reference *ref, gk_sigstore_cfg *out, gk_error **err)
{
        _cleanup_(gk_regsd_clear) gk_regsd d = { 0 };
        _cleanup_free_ char *user = NULL;
        int r;

        if (dir)
                r = read_dir(dir, true, &d, err);
        else if (asprintf(&user, "%s/" GK_REGSD_USER_PATH, gk_home_dir()) >= 0 &&
                 access(user, F_OK) == 0)
                r = read_dir(user, true, &d, err);
        else
                r = read_dir(GK_REGSD_PATH, false, &d, err);
        if (r < 0)
                return r;
        return gk_regsd_resolve(&d, ref, out, err);
}
