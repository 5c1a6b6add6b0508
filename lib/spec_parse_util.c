/* The config.json parser's building blocks: the field path kept for error
 * messages, and typed readers of JSON values that refuse a wrong type with
 * a message naming the field. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "spec_internal.h"

void sp_init(sp_ctx *c, const char *what, gk_error **err)
{
        c->what = what;
        c->err = err;
        c->len = 0;
        c->path[0] = '\0';
}

/* Appends the pieces (NULL-ended) to the path; a path too long for the
 * buffer is cut, the message stays useful.  Every field read pushes and
 * pops, so this stays clear of printf. */
static size_t sp_append(sp_ctx *c, const char *piece, ...)
{
        size_t old = c->len;
        va_list ap;

        va_start(ap, piece);
        for (const char *p = piece; p; p = va_arg(ap, const char *)) {
                size_t n = strlen(p), room = sizeof(c->path) - 1 - c->len;

                if (n > room)
                        n = room;
                memcpy(c->path + c->len, p, n);
                c->len += n;
        }
        va_end(ap);
        c->path[c->len] = '\0';
        return old;
}

size_t sp_push(sp_ctx *c, const char *key)
{
        return sp_append(c, c->len ? "." : "", key, (const char *) NULL);
}

size_t sp_push_idx(sp_ctx *c, size_t i)
{
        char digits[24], *d = digits + sizeof(digits);

        *--d = '\0';
        do
                *--d = (char) ('0' + i % 10);
        while (i /= 10);
        return sp_append(c, "[", d, "]", (const char *) NULL);
}

size_t sp_push_mapkey(sp_ctx *c, const char *key)
{
        return sp_append(c, "[\"", key, "\"]", (const char *) NULL);
}

void sp_pop(sp_ctx *c, size_t len)
{
        c->len = len;
        c->path[len] = '\0';
}

int sp_fail(sp_ctx *c, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return gk_error_make(c->err, ENOMEM, "%s", c->what);
        if (c->len)
                return gk_error_make(c->err, 0, "%s: %s: %s", c->what, c->path, msg);
        return gk_error_make(c->err, 0, "%s: %s", c->what, msg);
}

int sp_nomem(sp_ctx *c)
{
        return gk_error_make(c->err, ENOMEM, "%s", c->what);
}

void *sp_calloc(sp_ctx *c, size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);

        if (!p)
                sp_nomem(c);
        return p;
}

int sp_val_str(sp_ctx *c, yajl_val v, char **out)
{
        if (!YAJL_IS_STRING(v))
                return sp_fail(c, "must be a string");
        free(*out);
        *out = strdup(v->u.string);
        return *out ? 0 : sp_nomem(c);
}

int sp_val_u64(sp_ctx *c, yajl_val v, uint64_t max, uint64_t *out)
{
        uint64_t n;

        if (!gk_json_uint64(v, &n))
                return sp_fail(c, "must be a non-negative integer");
        if (n > max)
                return sp_fail(c, "must be at most %" PRIu64, max);
        *out = n;
        return 0;
}

int sp_val_i64(sp_ctx *c, yajl_val v, int64_t min, int64_t max, int64_t *out)
{
        int64_t n;

        if (!gk_json_int64(v, &n))
                return sp_fail(c, "must be an integer");
        if (n < min || n > max)
                return sp_fail(c, "must be between %" PRId64 " and %" PRId64, min, max);
        *out = n;
        return 0;
}

int sp_val_strv(sp_ctx *c, yajl_val v, char ***out, size_t *n)
{
        char **strv;
        size_t len;

        if (!YAJL_IS_ARRAY(v))
                return sp_fail(c, "must be an array of strings");
        len = v->u.array.len;
        strv = sp_calloc(c, len + 1, sizeof(char *));
        if (!strv)
                return -ENOMEM;
        gk_strvfree(*out);
        *out = strv;
        *n = 0;
        for (size_t i = 0; i < len; i++) {
                yajl_val e = v->u.array.values[i];

                if (!YAJL_IS_STRING(e)) {
                        size_t old = sp_push_idx(c, i);
                        int r = sp_fail(c, "must be a string");

                        sp_pop(c, old);
                        return r;
                }
                strv[i] = strdup(e->u.string);
                if (!strv[i])
                        return sp_nomem(c);
                *n = i + 1;
        }
        return 0;
}

/* Looks KEY up and pushes it on the path; NULL when absent or null. */
static yajl_val member(sp_ctx *c, yajl_val obj, const char *key, size_t *old)
{
        yajl_val v = gk_json_get(obj, key);

        if (!v || YAJL_IS_NULL(v))
                return NULL;
        *old = sp_push(c, key);
        return v;
}

static int done(sp_ctx *c, size_t old, int r)
{
        if (r >= 0)
                sp_pop(c, old);
        return r < 0 ? r : 1;
}

int sp_str(sp_ctx *c, yajl_val obj, const char *key, char **out)
{
        size_t old;
        yajl_val v = member(c, obj, key, &old);

        return v ? done(c, old, sp_val_str(c, v, out)) : 0;
}

int sp_val_map(sp_ctx *c, yajl_val v, gk_kv **out, size_t *n)
{
        size_t len;
        gk_kv *kv;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        len = v->u.object.len;
        kv = sp_calloc(c, len, sizeof(*kv));
        if (!kv)
                return -ENOMEM;
        spec_kv_free(*out, *n);
        *out = kv;
        *n = len;
        for (size_t i = 0; i < len; i++) {
                yajl_val e = v->u.object.values[i];
                size_t old = sp_push_mapkey(c, v->u.object.keys[i]);

                if (!YAJL_IS_STRING(e))
                        return sp_fail(c, "must be a string");
                sp_pop(c, old);
                kv[i].key = strdup(v->u.object.keys[i]);
                kv[i].value = strdup(e->u.string);
                if (!kv[i].key || !kv[i].value)
                        return sp_nomem(c);
        }
        return 0;
}
