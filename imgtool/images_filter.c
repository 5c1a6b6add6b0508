/* gkimg images --filter (see images_filter.h). */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/opts.h"
#include "images_filter.h"

static const char *const key_names[GK_FILTER_KEYS] = {
        [GK_FILTER_REFERENCE] = "reference", [GK_FILTER_BEFORE] = "before",
        [GK_FILTER_SINCE] = "since",         [GK_FILTER_DANGLING] = "dangling",
        [GK_FILTER_LABEL] = "label",         [GK_FILTER_ID] = "id",
        [GK_FILTER_DIGEST] = "digest",       [GK_FILTER_READONLY] = "readonly",
};

void gk_image_filters_clear(gk_image_filters *fs)
{
        for (size_t i = 0; fs->v && i < fs->n; i++)
                free(fs->v[i].value);
        free(fs->v);
        *fs = (gk_image_filters){ 0 };
}

static int parse_key(const char *arg, size_t len, gk_filter_key *key, gk_error **err)
{
        for (int k = 0; k < GK_FILTER_KEYS; k++)
                if (strlen(key_names[k]) == len && !strncmp(arg, key_names[k], len)) {
                        *key = (gk_filter_key) k;
                        return 0;
                }
        return gk_error_make(err, 0,
                             "--filter `%s`: unsupported filter `%.*s` (reference, before, "
                             "since, dangling, label, id, digest, readonly)",
                             arg, (int) len, arg);
}

static int parse_one(const char *arg, gk_image_filter *f, gk_error **err)
{
        const char *eq = strchr(arg, '=');
        size_t klen;

        if (!eq || eq == arg || (eq == arg + 1 && arg[0] == '!'))
                return gk_error_make(err, 0, "--filter `%s`: must be KEY=VALUE or KEY!=VALUE",
                                     arg);
        f->negate = eq[-1] == '!';
        klen = (size_t) (eq - arg) - f->negate;
        if (parse_key(arg, klen, &f->key, err) < 0)
                return -EINVAL;
        if (!eq[1])
                return gk_error_make(err, 0, "--filter `%s`: `%.*s` wants a value", arg,
                                     (int) klen, arg);
        if ((f->key == GK_FILTER_DANGLING || f->key == GK_FILTER_READONLY) &&
            gk_parse_bool(eq + 1, &f->flag) < 0)
                return gk_error_make(err, 0, "--filter `%s`: `%s` is not true or false", arg,
                                     eq + 1);
        f->value = strdup(eq + 1);
        return f->value ? 0 : gk_error_make(err, ENOMEM, "--filter");
}

int gk_image_filters_parse(char *const *args, gk_image_filters *out, gk_error **err)
{
        size_t n = 0;

        *out = (gk_image_filters){ 0 };
        while (args && args[n])
                n++;
        if (!n)
                return 0;
        out->v = calloc(n, sizeof(*out->v));
        if (!out->v)
                return gk_error_make(err, ENOMEM, "--filter");
        for (size_t i = 0; i < n; i++) {
                out->n++;
                if (parse_one(args[i], &out->v[i], err) < 0) {
                        gk_image_filters_clear(out);
                        return -EINVAL;
                }
        }
        return 0;
}

/* podman's candidates of a name: whole, without the domain, the last
 * component; each with and without the tag. */
static bool reference_matches(const char *pattern, const char *name)
{
        const char *slash = strchr(name, '/'), *last = strrchr(name, '/');
        const char *path = slash ? slash + 1 : name, *base = last ? last + 1 : name;
        const char *at = strchr(base, '@'), *colon = strchr(base, ':');
        const char *tag = at ? at : colon; /* the tag or digest, in the last component */
        size_t bare = tag ? (size_t) (tag - name) : strlen(name);
        _cleanup_free_ char *trimmed = strndup(name, bare);
        const char *cands[] = { name, path, base };

        if (!trimmed)
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(cands); i++)
                if (!fnmatch(pattern, cands[i], FNM_PATHNAME) ||
                    !fnmatch(pattern, trimmed + (cands[i] - name), FNM_PATHNAME))
                        return true;
        return false;
}

static bool label_matches(const char *want, yajl_val labels)
{
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *key = eq ? strndup(want, (size_t) (eq - want)) : strdup(want);
        yajl_val v;

        if (!key || !labels || !YAJL_IS_OBJECT(labels))
                return false;
        v = gk_json_get(labels, key);
        if (!v)
                return false;
        return !eq || (YAJL_IS_STRING(v) && !strcmp(v->u.string, eq + 1));
}

static bool id_matches(const char *want, const char *id)
{
        const char *hex = strncmp(want, "sha256:", 7) ? want : want + 7;

        return id && !strncmp(id, "sha256:", 7) && *hex && !strncmp(id + 7, hex, strlen(hex));
}

static bool one_matches(const gk_image_filter *flt, const gk_image_facts *f)
{
        switch (flt->key) {
        case GK_FILTER_REFERENCE:
                return f->name && reference_matches(flt->value, f->name);
        case GK_FILTER_BEFORE:
                return f->created != (time_t) -1 && f->created < flt->when;
        case GK_FILTER_SINCE:
                return f->created != (time_t) -1 && f->created > flt->when;
        case GK_FILTER_DANGLING:
                return flt->flag == !f->name;
        case GK_FILTER_LABEL:
                return label_matches(flt->value, f->labels);
        case GK_FILTER_ID:
                return id_matches(flt->value, f->id);
        case GK_FILTER_DIGEST:
                return (f->manifest_digest && !strcmp(flt->value, f->manifest_digest)) ||
                       (f->repo_digest && !strcmp(flt->value, f->repo_digest));
        case GK_FILTER_READONLY:
                return !flt->flag; /* one store, written by us */
        case GK_FILTER_KEYS:
                break;
        }
        return false;
}

/* One key's filters: none excluding, and one including (every one, for
 * label) when any includes. */
static bool key_matches(const gk_image_filters *fs, gk_filter_key key, const gk_image_facts *f)
{
        bool any = false, hit = key == GK_FILTER_LABEL;

        for (size_t i = 0; i < fs->n; i++) {
                const gk_image_filter *flt = &fs->v[i];
                bool m;

                if (flt->key != key)
                        continue;
                m = one_matches(flt, f);
                if (flt->negate) {
                        if (m)
                                return false;
                        continue;
                }
                any = true;
                hit = key == GK_FILTER_LABEL ? hit && m : hit || m;
        }
        return !any || hit;
}

bool gk_image_filters_match(const gk_image_filters *fs, const gk_image_facts *f)
{
        for (int k = 0; k < GK_FILTER_KEYS; k++)
                if (!key_matches(fs, (gk_filter_key) k, f))
                        return false;
        return true;
}
