/* yajl helpers: tree parsing with located errors, checked number access,
 * and generator shortcuts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"

/* yajl's tree parser and yajl_tree_free recurse once per level: a few MB
 * of "[[[[" (an image config from a hostile registry, say) overflows the
 * stack.  Nesting is counted first, outside strings. */
static bool too_deep(const char *text, size_t len)
{
        bool in_str = false, esc = false;
        unsigned depth = 0;

        for (size_t i = 0; i < len; i++) {
                char c = text[i];

                if (in_str) {
                        if (esc)
                                esc = false;
                        else if (c == '\\')
                                esc = true;
                        else if (c == '"')
                                in_str = false;
                } else if (c == '"') {
                        in_str = true;
                } else if (c == '[' || c == '{') {
                        if (++depth > GK_JSON_MAX_DEPTH)
                                return true;
                } else if ((c == ']' || c == '}') && depth) {
                        depth--;
                }
        }
        return false;
}

int gk_json_parse(const char *text, size_t len, const char *what, yajl_val *out, gk_error **err)
{
        _cleanup_free_ char *copy = NULL;
        char ebuf[256] = "";
        yajl_val v;

        /* yajl_tree_parse wants a NUL-terminated string. */
        copy = malloc(len + 1);
        if (!copy)
                return gk_error_make(err, ENOMEM, "%s", what);
        if (len) /* an empty body may come with text == NULL */
                memcpy(copy, text, len);
        copy[len] = '\0';
        if (strlen(copy) != len)
                return gk_error_make(err, 0, "%s: invalid JSON: NUL byte in text", what);
        if (too_deep(copy, len))
                return gk_error_make(err, 0, "%s: invalid JSON: nested deeper than %d levels",
                                     what, GK_JSON_MAX_DEPTH);
        v = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
        if (!v) {
                size_t n = strlen(ebuf);
                /* yajl ends its message with a newline and a context dump. */
                char *nl = strchr(ebuf, '\n');
                if (nl)
                        *nl = '\0';
                else if (n && ebuf[n - 1] == '\n')
                        ebuf[n - 1] = '\0';
                return gk_error_make(err, 0, "%s: invalid JSON: %s", what,
                                     ebuf[0] ? ebuf : "parse error");
        }
        *out = v;
        return 0;
}

void gk_json_freep(yajl_val *v)
{
        if (*v)
                yajl_tree_free(*v);
        *v = NULL;
}

yajl_val gk_json_get(yajl_val obj, const char *key)
{
        if (!YAJL_IS_OBJECT(obj))
                return NULL;
        for (size_t i = 0; i < obj->u.object.len; i++)
                if (strcmp(obj->u.object.keys[i], key) == 0)
                        return obj->u.object.values[i];
        return NULL;
}

const char *gk_json_get_str(yajl_val obj, const char *key)
{
        yajl_val v = gk_json_get(obj, key);

        return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

bool gk_json_int64(yajl_val v, int64_t *out)
{
        if (!YAJL_IS_INTEGER(v))
                return false;
        *out = YAJL_GET_INTEGER(v);
        return true;
}

bool gk_json_uint64(yajl_val v, uint64_t *out)
{
        const char *s;
        char *end;
        unsigned long long n;

        if (!YAJL_IS_NUMBER(v))
                return false;
        /* yajl keeps the text: integers above INT64_MAX fail its int
         * conversion but are valid uint64 values (e.g. rlimits). */
        s = YAJL_GET_NUMBER(v);
        if (!s || *s == '-' || !*s)
                return false;
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno || *end)
                return false;
        *out = n;
        return true;
}

yajl_gen gk_json_gen_new(bool pretty)
{
        yajl_gen g = yajl_gen_alloc(NULL);

        if (!g)
                return NULL;
        if (pretty) {
                yajl_gen_config(g, yajl_gen_beautify, 1);
                yajl_gen_config(g, yajl_gen_indent_string, "  ");
        }
        return g;
}

void gk_json_genp(yajl_gen *g)
{
        if (*g)
                yajl_gen_free(*g);
        *g = NULL;
}

void gk_json_str(yajl_gen g, const char *s)
{
        if (s)
                yajl_gen_string(g, (const unsigned char *) s, strlen(s));
        else
                yajl_gen_null(g);
}

void gk_json_kstr(yajl_gen g, const char *key, const char *value)
{
        gk_json_str(g, key);
        gk_json_str(g, value);
}

void gk_json_kint(yajl_gen g, const char *key, long long value)
{
        gk_json_str(g, key);
        yajl_gen_integer(g, value);
}

void gk_json_kbool(yajl_gen g, const char *key, bool value)
{
        gk_json_str(g, key);
        yajl_gen_bool(g, value);
}

/* The UTF-8 structure yajl's lexer insists on when it reads the text back
 * (lead byte, then the right number of continuation bytes). */
static size_t bad_utf8_at(const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n;) {
                size_t more;

                if (s[i] < 0x80)
                        more = 0;
                else if ((s[i] >> 5) == 0x6)
                        more = 1;
                else if ((s[i] >> 4) == 0xe)
                        more = 2;
                else if ((s[i] >> 3) == 0x1e)
                        more = 3;
                else
                        return i;
                if (more >= n - i)
                        return i;
                for (size_t k = 1; k <= more; k++)
                        if ((s[i + k] >> 6) != 0x2)
                                return i;
                i += more + 1;
        }
        return n;
}

int gk_json_gen_finish(yajl_gen g, char **out, size_t *len, gk_error **err)
{
        const unsigned char *buf;
        size_t n, bad;
        char *s;

        if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
                return gk_error_make(err, 0, "JSON generation failed");
        /* yajl_gen copies bytes >= 0x80 as they are: a path or a passwd
         * field that is not UTF-8 would give a file no reader accepts (a
         * state.json gkrun could never load again). */
        if ((bad = bad_utf8_at(buf, n)) < n)
                return gk_error_make(err, EILSEQ,
                                     "JSON generation: a string is not valid UTF-8 "
                                     "(byte 0x%02x)",
                                     buf[bad]);
        s = malloc(n + 1);
        if (!s)
                return gk_error_make(err, ENOMEM, "JSON generation");
        memcpy(s, buf, n);
        s[n] = '\0';
        *out = s;
        if (len)
                *len = n;
        return 0;
}
