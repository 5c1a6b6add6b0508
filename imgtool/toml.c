/* The TOML subset of registries.conf files (see toml.h): a recursive-descent
 * parser into a small tree, one function per production. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "toml.h"

#define MAX_DEPTH 32

typedef struct parser {
        const char *p, *end;
        const char *path;
        unsigned line;
        int depth;
        gk_error **err;
} parser;

__attribute__((format(printf, 2, 3))) static int fail(parser *ps, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return gk_error_make(ps->err, 0, "%s:%u: %s", ps->path, ps->line, msg);
}

const char *gk_toml_type_name(gk_toml_type t)
{
        switch (t) {
        case GK_TOML_STRING:
                return "a string";
        case GK_TOML_BOOL:
                return "a boolean";
        case GK_TOML_ARRAY:
                return "an array";
        case GK_TOML_TABLE:
                return "a table";
        }
        return "?";
}

void gk_toml_free(gk_toml *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n; i++) {
                if (t->keys)
                        free(t->keys[i]);
                gk_toml_free(t->items[i]);
        }
        free(t->keys);
        free(t->items);
        free(t->str);
        free(t);
}

void gk_toml_freep(gk_toml **t)
{
        gk_toml_free(*t);
}

const gk_toml *gk_toml_get(const gk_toml *t, const char *key)
{
        for (size_t i = 0; t && t->type == GK_TOML_TABLE && i < t->n; i++)
                if (!strcmp(t->keys[i], key))
                        return t->items[i];
        return NULL;
}

static gk_toml *node(gk_toml_type type, unsigned line)
{
        gk_toml *t = calloc(1, sizeof(*t));

        if (t) {
                t->type = type;
                t->line = line;
        }
        return t;
}

/* Appends V (and KEY for a table), taking both. */
static int add(parser *ps, gk_toml *to, char *key, gk_toml *v)
{
        gk_toml **ni = realloc(to->items, (to->n + 1) * sizeof(*ni));
        char **nk = NULL;

        if (ni)
                to->items = ni;
        if (!ni ||
            (to->type == GK_TOML_TABLE && !(nk = realloc(to->keys, (to->n + 1) * sizeof(*nk))))) {
                free(key);
                gk_toml_free(v);
                return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
        }
        if (to->type == GK_TOML_TABLE) {
                to->keys = nk;
                to->keys[to->n] = key;
        }
        to->items[to->n++] = v;
        return 0;
}

static void skip_ws(parser *ps)
{
        while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
                ps->p++;
}

/* Whitespace, comments and newlines (inside arrays). */
static int skip_ws_nl(parser *ps)
{
        for (;;) {
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == '#') {
                        while (ps->p < ps->end && *ps->p != '\n')
                                ps->p++;
                }
                if (ps->p < ps->end && *ps->p == '\r' && ps->p + 1 < ps->end && ps->p[1] == '\n')
                        ps->p++;
                if (ps->p >= ps->end || *ps->p != '\n')
                        return 0;
                ps->p++;
                ps->line++;
        }
}

/* The end of a line: spaces, maybe a comment, then a newline or the end. */
static int end_of_line(parser *ps)
{
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '#')
                while (ps->p < ps->end && *ps->p != '\n')
                        ps->p++;
        if (ps->p < ps->end && *ps->p == '\r')
                ps->p++;
        if (ps->p >= ps->end)
                return 0;
        if (*ps->p != '\n')
                return fail(ps, "unexpected `%c` after the value (one key = value a line)",
                            *ps->p);
        ps->p++;
        ps->line++;
        return 0;
}

static int put_utf8(char *o, unsigned long c)
{
        if (c < 0x80) {
                o[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                o[0] = (char) (0xc0 | (c >> 6));
                o[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                o[0] = (char) (0xe0 | (c >> 12));
                o[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                o[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        o[0] = (char) (0xf0 | (c >> 18));
        o[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        o[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        o[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

static int unicode_escape(parser *ps, int digits, char **o)
{
        unsigned long c = 0;

        if (ps->end - ps->p < digits)
                return fail(ps, "string: truncated \\u escape");
        for (int i = 0; i < digits; i++) {
                char h = *ps->p++;

                c <<= 4;
                if (h >= '0' && h <= '9')
                        c |= (unsigned long) (h - '0');
                else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
                        c |= (unsigned long) ((h | 0x20) - 'a' + 10);
                else
                        return fail(ps, "string: bad hex digit in a \\u escape");
        }
        if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || c == 0)
                return fail(ps, "string: \\u escape is not a Unicode scalar value");
        *o += put_utf8(*o, c);
        return 0;
}

static int escape(parser *ps, char **o)
{
        static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
        const char *hit;
        char c;

        if (ps->p >= ps->end)
                return fail(ps, "string: not closed");
        c = *ps->p++;
        if (c == 'u' || c == 'U')
                return unicode_escape(ps, c == 'u' ? 4 : 8, o);
        if (!c || !(hit = strchr(from, c)))
                return fail(ps, "string: unknown escape `\\%c`", c);
        *(*o)++ = to[hit - from];
        return 0;
}

/* "basic" (escapes) or 'literal' (none), on one line. */
static int string(parser *ps, char **out)
{
        char quote = *ps->p++;
        _cleanup_free_ char *buf = NULL;
        char *o;

        if (ps->end - ps->p >= 2 && ps->p[0] == quote && ps->p[1] == quote)
                return fail(ps, "multi-line strings are not supported");
        /* Escapes never make a string longer than its source (4 bytes of
         * UTF-8 for 6 or 10 of \u/\U). */
        if (!(buf = malloc((size_t) (ps->end - ps->p) + 1)))
                return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
        o = buf;
        for (;;) {
                unsigned char c;

                if (ps->p >= ps->end || *ps->p == '\n')
                        return fail(ps, "string: not closed on its line");
                c = (unsigned char) *ps->p++;
                if (c == (unsigned char) quote)
                        break;
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        return fail(ps, "string: control character 0x%02x", c);
                if (c == '\\' && quote == '"') {
                        if (escape(ps, &o) < 0)
                                return -EINVAL;
                        continue;
                }
                *o++ = (char) c;
        }
        *o = '\0';
        *out = TAKE_PTR(buf);
        return 0;
}

static bool is_bare(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

static int key(parser *ps, char **out)
{
        const char *s = ps->p;

        skip_ws(ps);
        if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\''))
                return string(ps, out);
        s = ps->p;
        while (ps->p < ps->end && is_bare(*ps->p))
                ps->p++;
        if (ps->p == s)
                return ps->p < ps->end && *ps->p != '\n'
                               ? fail(ps, "expected a key, found `%c`", *ps->p)
                               : fail(ps, "expected a key");
        *out = strndup(s, (size_t) (ps->p - s));
        return *out ? 0 : gk_error_make(ps->err, ENOMEM, "%s", ps->path);
}

static int value(parser *ps, gk_toml **out);

static int array(parser *ps, gk_toml **out)
{
        _cleanup_(gk_toml_freep) gk_toml *a = node(GK_TOML_ARRAY, ps->line);

        if (!a)
                return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
        ps->p++;
        for (;;) {
                gk_toml *v = NULL;

                skip_ws_nl(ps);
                if (ps->p < ps->end && *ps->p == ']')
                        break;
                if (value(ps, &v) < 0 || add(ps, a, NULL, v) < 0)
                        return -EINVAL;
                skip_ws_nl(ps);
                if (ps->p < ps->end && *ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (ps->p >= ps->end || *ps->p != ']')
                        return fail(ps, "array: expected `,` or `]`");
                break;
        }
        ps->p++;
        *out = TAKE_PTR(a);
        return 0;
}

static int key_value(parser *ps, gk_toml *into);

/* { k = v, ... } on one line. */
static int inline_table(parser *ps, gk_toml **out)
{
        _cleanup_(gk_toml_freep) gk_toml *t = node(GK_TOML_TABLE, ps->line);

        if (!t)
                return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
        t->closed = t->frozen = true;
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '}') {
                ps->p++;
                *out = TAKE_PTR(t);
                return 0;
        }
        for (;;) {
                if (key_value(ps, t) < 0)
                        return -EINVAL;
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (ps->p >= ps->end || *ps->p != '}')
                        return fail(ps, "inline table: expected `,` or `}` on the same line");
                ps->p++;
                *out = TAKE_PTR(t);
                return 0;
        }
}

static bool word(parser *ps, const char *w)
{
        size_t n = strlen(w);

        if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, w, n))
                return false;
        if (ps->p + n < ps->end && (is_bare(ps->p[n]) || ps->p[n] == '.' || ps->p[n] == ':'))
                return false;
        ps->p += n;
        return true;
}

static int value(parser *ps, gk_toml **out)
{
        gk_toml *v;
        int r;

        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p == '\n' || *ps->p == '#')
                return fail(ps, "missing value");
        if (++ps->depth > MAX_DEPTH)
                return fail(ps, "values nested deeper than %d", MAX_DEPTH);
        if (*ps->p == '[') {
                r = array(ps, out);
        } else if (*ps->p == '{') {
                r = inline_table(ps, out);
        } else if (*ps->p == '"' || *ps->p == '\'') {
                if (!(v = node(GK_TOML_STRING, ps->line)))
                        return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
                r = string(ps, &v->str);
                if (r < 0)
                        gk_toml_free(v);
                else
                        *out = v;
        } else if (word(ps, "true") || word(ps, "false")) {
                if (!(v = node(GK_TOML_BOOL, ps->line)))
                        return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
                v->b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
                *out = v;
                r = 0;
        } else {
                r = fail(ps,
                         "unsupported value starting `%.12s` (registries.conf values are "
                         "strings, booleans, arrays and tables)",
                         ps->p);
        }
        ps->depth--;
        return r;
}

/* key = value into table INTO; a key may be given once. */
static int key_value(parser *ps, gk_toml *into)
{
        _cleanup_free_ char *k = NULL;
        unsigned line = ps->line;
        gk_toml *v = NULL;

        if (key(ps, &k) < 0)
                return -EINVAL;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '.')
                return fail(ps, "dotted key `%s.…`: not supported, use a [table]", k);
        if (ps->p >= ps->end || *ps->p != '=')
                return fail(ps, "key `%s`: expected `=`", k);
        ps->p++;
        if (gk_toml_get(into, k))
                return fail(ps, "key `%s` defined twice", k);
        if (value(ps, &v) < 0)
                return -EINVAL;
        v->line = line;
        return add(ps, into, TAKE_PTR(k), v);
}

/* The table header path's step KEY from T: an existing table, the last
 * table of an array of tables, or a new implicit table. */
static int step(parser *ps, gk_toml *t, char *k, gk_toml **next)
{
        gk_toml *v = (gk_toml *) gk_toml_get(t, k);

        if (!v) {
                if (!(v = node(GK_TOML_TABLE, ps->line)))
                        return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
                if (add(ps, t, strdup(k), v) < 0)
                        return -ENOMEM;
                if (!t->keys[t->n - 1])
                        return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
        } else if (v->type == GK_TOML_ARRAY && v->of_tables) {
                v = v->items[v->n - 1];
        } else if (v->type != GK_TOML_TABLE || v->frozen) {
                return fail(ps, "`%s` is %s%s, not a table header's", k,
                            v->frozen ? "an inline table" : "",
                            v->frozen ? "" : gk_toml_type_name(v->type));
        }
        *next = v;
        return 0;
}

/* Makes the last key of a header: a [table] or an element of [[array]]. */
static int header_last(parser *ps, gk_toml *t, char *k, bool array_of, gk_toml **cur)
{
        gk_toml *v = (gk_toml *) gk_toml_get(t, k), *nt;

        if (!array_of) {
                if (v && (v->type != GK_TOML_TABLE || v->closed))
                        return fail(ps, "table `%s` defined twice", k);
                if (!v && step(ps, t, k, &v) < 0)
                        return -ENOMEM;
                v->closed = true;
                *cur = v;
                return 0;
        }
        if (v && (v->type != GK_TOML_ARRAY || !v->of_tables))
                return fail(ps, "`[[%s]]`: `%s` is already %s", k, k, gk_toml_type_name(v->type));
        if (!v) {
                if (!(v = node(GK_TOML_ARRAY, ps->line)) || add(ps, t, strdup(k), v) < 0)
                        return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
                v->of_tables = true;
        }
        if (!(nt = node(GK_TOML_TABLE, ps->line)) || add(ps, v, NULL, nt) < 0)
                return gk_error_make(ps->err, ENOMEM, "%s", ps->path);
        nt->closed = true;
        *cur = nt;
        return 0;
}

static int header(parser *ps, gk_toml *root, gk_toml **cur)
{
        bool array_of = ps->end - ps->p >= 2 && ps->p[1] == '[';
        gk_toml *t = root;

        ps->p += array_of ? 2 : 1;
        for (;;) {
                _cleanup_free_ char *k = NULL;

                if (key(ps, &k) < 0)
                        return -EINVAL;
                skip_ws(ps);
                if (ps->p < ps->end && *ps->p == '.') {
                        ps->p++;
                        if (step(ps, t, k, &t) < 0)
                                return -EINVAL;
                        continue;
                }
                if (ps->p >= ps->end || *ps->p != ']' ||
                    (array_of && (ps->end - ps->p < 2 || ps->p[1] != ']')))
                        return fail(ps, "table header: expected `%s`", array_of ? "]]" : "]");
                ps->p += array_of ? 2 : 1;
                return header_last(ps, t, k, array_of, cur);
        }
}

int gk_toml_parse(const char *text, size_t len, const char *path, gk_toml **out, gk_error **err)
{
        _cleanup_(gk_toml_freep) gk_toml *root = node(GK_TOML_TABLE, 1);
        parser ps = { .p = text, .end = text + len, .path = path, .line = 1, .err = err };
        gk_toml *cur = root;

        if (!root)
                return gk_error_make(err, ENOMEM, "%s", path);
        if (memchr(text, '\0', len))
                return gk_error_make(err, 0, "%s: a NUL byte: not a text file", path);
        if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
                ps.p += 3;
        for (;;) {
                if (skip_ws_nl(&ps) < 0)
                        return -EINVAL;
                if (ps.p >= ps.end)
                        break;
                if (*ps.p == '[' ? header(&ps, root, &cur) < 0 : key_value(&ps, cur) < 0)
                        return -EINVAL;
                if (end_of_line(&ps) < 0)
                        return -EINVAL;
        }
        *out = TAKE_PTR(root);
        return 0;
}
