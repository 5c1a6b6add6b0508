/* yajl helpers: tree parsing with located errors, checked number access,
 * and generator shortcuts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"

int gk_json_parse(const char *text, size_t len, const char *what, yajl_val *out,
                  gk_error **err)
{
        _cleanup_free_ char *copy = NULL;
        char ebuf[256] = "";
        yajl_val v;

        /* yajl_tree_parse wants a NUL-terminated string. */
        copy = malloc(len + 1);
        if (!copy)
                return gk_error_make(err, ENOMEM, "%s", what);
        memcpy(copy, text, len);
        copy[len] = '\0';
        if (strlen(copy) != len)
                return gk_error_make(err, 0, "%s: invalid JSON: NUL byte in text", what);
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

int gk_json_gen_finish(yajl_gen g, char **out, size_t *len, gk_error **err)
{
        const unsigned char *buf;
        size_t n;
        char *s;

        if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
                return gk_error_make(err, 0, "JSON generation failed");
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
