/* The read side of registries.conf for pull, inspect and tags: a reference
 * as the user typed it becomes candidate names (short names expanded) and
 * each name its locations (mirrors, then the registry), tried in order until
 * one works.  A location that fails is reported as a warning when another
 * follows; when all fail, the error names every location and its reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "regconf.h"
#include "regconf_try.h"

/* Failures no other location can mend: stop at once. */
static bool local_failure(int r)
{
        return r == -ENOSPC || r == -EROFS || r == -EDQUOT || r == -ENOMEM || r == -EINTR;
}

typedef struct tried {
        char *text; /* "LOCATION: REASON; ..." */
        size_t n;
        gk_error *last; /* the only error when there was one attempt */
} tried;

static void tried_add(tried *t, const gk_source *src, gk_error **e)
{
        char *n = NULL;

        if (asprintf(&n, "%s%s%s%s: %s", t->text ? t->text : "", t->text ? "; " : "",
                     src->mirror ? "mirror " : "", src->name, *e ? (*e)->msg : "failed") >= 0) {
                free(t->text);
                t->text = n;
        }
        t->n++;
        gk_error_free(t->last);
        t->last = TAKE_PTR(*e);
}

/* The sources of every candidate name, in order, flattened. */
typedef struct plan {
        gk_reference *refs;
        size_t n_refs;
        gk_source **src;
        size_t *n_src;
} plan;

static void plan_clear(plan *p)
{
        for (size_t i = 0; i < p->n_refs; i++) {
                gk_reference_clear(&p->refs[i]);
                gk_sources_free(p->src[i], p->n_src[i]);
        }
        free(p->refs);
        free(p->src);
        free(p->n_src);
}

static int make_plan(const gk_regconf *c, const char *input, plan *p, gk_error **err)
{
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;

        if (gk_regconf_is_short_name(input)) {
                if (gk_regconf_resolve_short(c, input, &names, err) < 0)
                        return gk_error_code_or(err, -EINVAL);
        } else if (!(names = calloc(2, sizeof(char *))) || !(names[0] = strdup(input))) {
                return gk_error_make(err, ENOMEM, "registries.conf");
        }
        while (names[n])
                n++;
        p->refs = calloc(n, sizeof(*p->refs));
        p->src = calloc(n, sizeof(*p->src));
        p->n_src = calloc(n, sizeof(*p->n_src));
        if (!p->refs || !p->src || !p->n_src)
                return gk_error_make(err, ENOMEM, "registries.conf");
        for (size_t i = 0; i < n; i++) {
                if (gk_reference_parse(names[i], &p->refs[i], err) < 0)
                        return gk_error_code_or(err, -EINVAL);
                p->n_refs++;
                if (gk_regconf_sources(c, &p->refs[i], &p->src[i], &p->n_src[i], err) < 0)
                        return gk_error_code_or(err, -EACCES);
        }
        return 0;
}

static const gk_source *next_source(const plan *p, size_t i, size_t j)
{
        if (j + 1 < p->n_src[i])
                return &p->src[i][j + 1];
        return i + 1 < p->n_refs && p->n_src[i + 1] ? &p->src[i + 1][0] : NULL;
}

static int run_plan(const plan *p, const char *input, const gk_registry_opts *o, gk_try_fn fn,
                    void *data, gk_error **err)
{
        tried t = { 0 };
        int r = -ENOENT;

        for (size_t i = 0; i < p->n_refs; i++)
                for (size_t j = 0; j < p->n_src[i]; j++) {
                        const gk_source *src = &p->src[i][j], *next = next_source(p, i, j);
                        gk_registry_opts ro = *o;
                        gk_error *e = NULL;

                        ro.insecure = o->insecure || src->insecure;
                        r = fn(&p->refs[i], src, &ro, data, &e);
                        if (r == 0 || local_failure(r)) {
                                if (r < 0)
                                        *err = e;
                                goto out;
                        }
                        if (next)
                                gk_regconf_warn("%s%s: %s: trying %s%s next",
                                                src->mirror ? "mirror " : "", src->name,
                                                e ? e->msg : "failed",
                                                next->mirror ? "mirror " : "", next->name);
                        tried_add(&t, src, &e);
                }
        if (t.n == 1) {
                *err = TAKE_PTR(t.last);
        } else {
                gk_error_make(err, 0, "`%s`: no location had it (%zu tried): %s", input, t.n,
                              t.text ? t.text : "");
                /* The errno of the last one, for callers that test it. */
                if (*err && t.last)
                        (*err)->errnum = t.last->errnum;
        }
out:
        free(t.text);
        gk_error_free(t.last);
        return r;
}

int gk_regconf_try(const char *input, const gk_registry_opts *o, gk_try_fn fn, void *data,
                   gk_error **err)
{
        _cleanup_(gk_regconf_freep) gk_regconf *c = NULL;
        plan p = { 0 };
        int r;

        if (gk_regconf_load(&c, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        r = make_plan(c, input, &p, err);
        if (r == 0)
                r = run_plan(&p, input, o, fn, data, err);
        plan_clear(&p);
        return r;
}

int gk_regconf_check_push(const gk_reference *ref, bool *insecure, gk_error **err)
{
        _cleanup_(gk_regconf_freep) gk_regconf *c = NULL;

        if (gk_regconf_load(&c, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        return gk_regconf_push_check(c, ref, insecure, err);
}
