/* The config.json parser's dispatch: reads an object's members by a table
 * of rows (spec_internal.h), and the parsers of the common row types.  The
 * field parsers of spec_parse*.c are tables of these plus the few checks
 * that are the spec's own (an absolute path, a known name). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/json.h"
#include "spec_internal.h"

int sp_fail_at(sp_ctx *c, const char *key, const char *msg)
{
        sp_push(c, key);
        return sp_fail(c, "%s", msg);
}

static int field(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        yajl_val v = gk_json_get(obj, f->key);
        bool absent = !v || YAJL_IS_NULL(v);
        size_t old;
        int r;

        if (absent) {
                if ((f->flags & SP_REQUIRED) || (!v && (f->flags & SP_KEY_REQUIRED)))
                        return sp_fail_at(c, f->key, "required");
                if (!(f->flags & SP_RAW))
                        return 0;
                v = NULL;
        }
        old = sp_push(c, f->key);
        r = f->parse(c, v, f, base);
        if (r < 0)
                return r; /* the path stays where the error is */
        if (v && f->has)
                *(bool *) ((char *) base + f->has - 1) = true;
        sp_pop(c, old);
        return 0;
}

int sp_fields(sp_ctx *c, yajl_val obj, const sp_field *t, void *base)
{
        if (!YAJL_IS_OBJECT(obj))
                return sp_fail(c, "must be an object");
        for (; t->key || t->parse; t++) {
                int r = t->key ? field(c, obj, t, base) : t->parse(c, obj, t, base);

                if (r < 0)
                        return r;
        }
        return 0;
}

int sp_each(sp_ctx *c, yajl_val v, int (*fn)(sp_ctx *c, yajl_val e, size_t i, void *ctx),
            void *ctx)
{
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t old = sp_push_idx(c, i);
                int r = fn(c, v->u.array.values[i], i, ctx);

                if (r < 0)
                        return r;
                sp_pop(c, old);
        }
        return 0;
}

int sp_f_str(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return sp_val_str(c, v, SP_PTR(f, base));
}

int sp_f_abs(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char **s = SP_PTR(f, base);
        int r = sp_val_str(c, v, s);

        if (r < 0)
                return r;
        return (*s)[0] == '/' ? 0 : sp_fail(c, "must be an absolute path");
}

int sp_f_bool(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
                return sp_fail(c, "must be a boolean");
        *(bool *) SP_PTR(f, base) = YAJL_IS_TRUE(v);
        return 0;
}

int sp_f_uint(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        uint64_t n, max = f->max;
        void *p = SP_PTR(f, base);
        int r;

        if (!max)
                max = f->width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * f->width)) - 1;
        r = sp_val_u64(c, v, max, &n);
        if (r < 0)
                return r;
        switch (f->width) {
        case 1:
                *(uint8_t *) p = (uint8_t) n;
                break;
        case 2:
                *(uint16_t *) p = (uint16_t) n;
                break;
        case 4:
                *(uint32_t *) p = (uint32_t) n;
                break;
        default:
                *(uint64_t *) p = n;
                break;
        }
        return 0;
}

int sp_f_int(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        void *p = SP_PTR(f, base);
        int64_t n;
        int r = sp_val_i64(c, v, f->min, (int64_t) f->max, &n);

        if (r < 0)
                return r;
        if (f->width == 4)
                *(int32_t *) p = (int32_t) n;
        else
                *(int64_t *) p = n;
        return 0;
}

int sp_f_strv(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return sp_val_strv(c, v, SP_PTR(f, base), SP_AUXPTR(f, base));
}

int sp_f_map(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return sp_val_map(c, v, SP_PTR(f, base), SP_AUXPTR(f, base));
}

int sp_f_object(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return sp_fields(c, v, f->sub, SP_PTR(f, base));
}

typedef struct array_ctx {
        const sp_array *a;
        char *elems;
        void *base;
} array_ctx;

static int array_elem(sp_ctx *c, yajl_val e, size_t i, void *p)
{
        array_ctx *ac = p;
        void *elem = ac->elems + i * ac->a->elem_size;
        int r = sp_fields(c, e, ac->a->fields, elem);

        if (r < 0 || !ac->a->after)
                return r;
        return ac->a->after(c, elem, ac->base);
}

/* The elements are allocated and counted before any is read, so that a
 * failure half-way leaves them for the spec's free to release. */
int sp_f_array(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        array_ctx ac = { .a = f->sub, .base = base };
        void **out = SP_PTR(f, base);

        if (!YAJL_IS_ARRAY(v))
                return sp_fail(c, "must be an array");
        ac.elems = sp_calloc(c, v->u.array.len, ac.a->elem_size);
        if (!ac.elems)
                return -ENOMEM;
        *out = ac.elems;
        *(size_t *) SP_AUXPTR(f, base) = v->u.array.len;
        return sp_each(c, v, array_elem, &ac);
}

/* A field of the runtime spec that gkrun does not apply: refused rather
 * than skipped, since the container would not get what it asks for.  An
 * empty value (false, "", [], {}) asks for nothing and passes: runtimes
 * and orchestrators write empty defaults. */
int sp_f_unsupported(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        (void) f;
        (void) base;
        if (YAJL_IS_FALSE(v) || (YAJL_IS_STRING(v) && !*YAJL_GET_STRING(v)) ||
            (YAJL_IS_ARRAY(v) && !v->u.array.len) || (YAJL_IS_OBJECT(v) && !v->u.object.len))
                return 0;
        return sp_fail(c, "not supported by gkrun");
}
