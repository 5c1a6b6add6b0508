/* Flag parsing for gkrun's commands (see opts.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
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

static int set_value(const gk_opt *o, const char *verb, const char *value, gk_error **err)
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
                        return gk_error_make(
                                err, 0, "%s%sinvalid value \"%s\" for -%s: must be an integer",
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

static bool help_on;

void gk_opts_set_help(bool on)
{
        help_on = on;
}

/* "-f, --force" or "    --format string": the left column of a flag. */
static void flag_words(const gk_opt *o, char *buf, size_t n)
{
        static const char *const kinds[] = {
                [GK_OPT_BOOL] = NULL,
                [GK_OPT_STRING] = "string",
                [GK_OPT_INT] = "int",
                [GK_OPT_STRV] = "list",
        };
        const char *arg = o->arg ? o->arg : kinds[o->type];
        char shortf[8] = "    ";

        if (o->short_name)
                snprintf(shortf, sizeof(shortf), "-%c, ", o->short_name);
        snprintf(buf, n, "%s--%s%s%s", shortf, o->name, arg ? " " : "", arg ? arg : "");
}

char *gk_opts_help(const gk_opt *opts)
{
        static const gk_opt help = {
                "help", 'h', GK_OPT_BOOL, NULL, NULL, "show this help",
        };
        char *out = NULL, words[128];
        size_t len = 0, width = 0;
        FILE *f = open_memstream(&out, &len);

        if (!f)
                return NULL;
        for (int pass = 0; pass < 2; pass++)
                for (const gk_opt *o = opts;; o++) {
                        const gk_opt *cur = o && o->name ? o : &help;

                        if (!strcmp(cur->name, "-")) /* a slot the command leaves out */
                                continue;
                        flag_words(cur, words, sizeof(words));
                        if (pass == 0 && strlen(words) > width)
                                width = strlen(words);
                        if (pass == 1 && cur->help)
                                fprintf(f, "  %-*s   %s\n", (int) width, words, cur->help);
                        else if (pass == 1)
                                fprintf(f, "  %s\n", words);
                        if (cur == &help)
                                break;
                }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static int help_requested(const gk_opt *opts, const char *verb, gk_error **err)
{
        _cleanup_free_ char *text = gk_opts_help(opts);

        if (!text)
                return gk_error_make(err, ENOMEM, "%s%soptions", VERB(verb));
        return gk_error_plain(err, GK_OPTS_HELP, "%s", text);
}

int gk_opts_parse(int argc, char **argv, const char *verb, const gk_opt *opts, int *first_arg,
                  gk_error **err)
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
                if (!o && help_on && !eq && (!strcmp(name, "help") || !strcmp(name, "h")))
                        return help_requested(opts, verb, err);
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
