/* Flag parsing for gkrun's commands (see opts.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/util.h"
#include "gk/opts.h"

int gk_parse_bool(const char *s, bool *out)
{
        if (!strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes")) {
                *out = true;
                return 0;
        }
        if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no")) {
                *out = false;
                return 0;
        }
        return -EINVAL;
}

static const gk_opt *find_opt(const gk_opt *opts, const char *name, size_t len)
{
        for (const gk_opt *o = opts; o && o->name; o++) {
                if (len == 1 && o->short_name == name[0])
                        return o;
                if (strlen(o->name) == len && !strncmp(o->name, name, len))
                        return o;
        }
        return NULL;
}

static int strv_append(char ***v, const char *s)
{
        size_t n = gk_strv_len(*v);
        char **nv = realloc(*v, (n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        nv[n] = strdup(s);
        nv[n + 1] = NULL;
        *v = nv;
        return nv[n] ? 0 : -ENOMEM;
}

/* "VERB: " before a message, nothing for the program's own flags (NULL). */
#define VERB(verb) (verb) ? (verb) : "", (verb) ? ": " : ""

static int set_value(const gk_opt *o, const char *verb, const char *value,
                     gk_error **err)
{
        switch (o->type) {
        case GK_OPT_BOOL:
                if (gk_parse_bool(value, o->target) < 0)
                        return gk_error_make(err, 0, "%s%sinvalid boolean value \"%s\" for -%s",
                                             VERB(verb), value, o->name);
                return 0;
        case GK_OPT_STRING:
                *(const char **) o->target = value;
                return 0;
        case GK_OPT_INT: {
                int64_t v;

                if (!gk_parse_i64(value, &v) || v < -2147483647 || v > 2147483647)
                        return gk_error_make(err, 0, "%s%sinvalid value \"%s\" for -%s: must be an integer",
                                             VERB(verb), value, o->name);
                *(int *) o->target = (int) v;
                return 0;
        }
        case GK_OPT_STRV:
                if (strv_append(o->target, value) < 0)
                        return gk_error_make(err, ENOMEM, "%s%soptions", VERB(verb));
                return 0;
        }
        return -EINVAL;
}

int gk_opts_parse(int argc, char **argv, const char *verb, const gk_opt *opts,
                  int *first_arg, gk_error **err)
{
        int i;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i], *name, *eq;
                const gk_opt *o;
                size_t len;

                if (a[0] != '-' || a[1] == '\0')
                        break;
                if (!strcmp(a, "--")) {
                        i++;
                        break;
                }
                name = a + 1 + (a[1] == '-');
                eq = strchr(name, '=');
                len = eq ? (size_t) (eq - name) : strlen(name);
                o = find_opt(opts, name, len);
                if (!o)
                        return gk_error_make(err, 0, "%s%sflag provided but not defined: -%.*s",
                                             VERB(verb), (int) len, name);
                if (o->type == GK_OPT_BOOL && !eq) {
                        *(bool *) o->target = true;
                        continue;
                }
                if (!eq && i + 1 >= argc)
                        return gk_error_make(err, 0, "%s%sflag needs an argument: -%s", VERB(verb),
                                             o->name);
                if (set_value(o, verb, eq ? eq + 1 : argv[++i], err) < 0)
                        return gk_error_code(*err);
        }
        *first_arg = i;
        return 0;
}
