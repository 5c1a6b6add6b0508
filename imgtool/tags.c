/* A repository's tags: GET /v2/NAME/tags/list, page after page as the
 * Link header says (distribution's ?n=COUNT&last=TAG). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "http_parse.h"
#include "registry_internal.h"
#include "remote.h"

/* At most this many pages: a registry whose Link goes round in circles
 * stops here instead of looping forever. */
#define MAX_PAGES 100000

const char *gk_remote_strip(const char *arg)
{
        return arg && !strncmp(arg, "docker://", 9) ? arg + 9 : NULL;
}

static int add_page(const char *body, size_t len, const char *what, char ***tags, size_t *n,
                    gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        yajl_val list;
        char **nt;

        if (gk_json_parse(body ? body : "", len, what, &v, err) < 0)
                return gk_error_code_or(err, -EPROTO);
        list = gk_json_get(v, "tags");
        /* An empty repository's answer has "tags": null. */
        if (!list || YAJL_IS_NULL(list))
                return 0;
        if (!YAJL_IS_ARRAY(list))
                return gk_error_make(err, 0, "%s: tags: must be an array", what);
        nt = realloc(*tags, (*n + list->u.array.len + 1) * sizeof(char *));
        if (!nt)
                return gk_error_make(err, ENOMEM, "tags");
        *tags = nt;
        for (size_t i = 0; i < list->u.array.len; i++) {
                yajl_val t = list->u.array.values[i];

                if (!YAJL_IS_STRING(t))
                        return gk_error_make(err, 0, "%s: tags[%zu]: must be a string", what, i);
                if (!(nt[*n] = strdup(t->u.string)))
                        return gk_error_make(err, ENOMEM, "tags");
                nt[++*n] = NULL;
        }
        return 0;
}

static int get_page(gk_registry *r, const char *path, char **next, char ***tags, size_t *n,
                    gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        _cleanup_free_ char *body = NULL, *what = NULL;
        gk_call k = { .method = "GET", .path = path, .max = 16u << 20 };
        size_t len = 0;

        if (asprintf(&what, "tags of %s/%s", r->domain, r->path) < 0)
                return gk_error_make(err, ENOMEM, "tags");
        if (gk_registry_call(r, &k, &h, &body, &len, err) < 0)
                return gk_error_wrap(err, "%s", what);
        if (h.status != 200)
                return gk_http_status_error(r, what, &h, body, len, err);
        if (add_page(body, len, what, tags, n, err) < 0)
                return gk_error_code_or(err, -EPROTO);
        *next = gk_link_next(h.link);
        return 0;
}

int gk_registry_tags(gk_registry *r, int page_size, char ***tags, size_t *n, gk_error **err)
{
        _cleanup_(gk_strvfreep) char **v = calloc(1, sizeof(char *));
        _cleanup_free_ char *path = NULL;
        size_t count = 0;

        if (!v || (page_size > 0 ? asprintf(&path, "/v2/%s/tags/list?n=%d", r->path, page_size)
                                 : asprintf(&path, "/v2/%s/tags/list", r->path)) < 0)
                return gk_error_make(err, ENOMEM, "tags");
        for (int page = 0; path; page++) {
                char *next = NULL;

                if (page >= MAX_PAGES)
                        return gk_error_make(err, 0,
                                             "tags of %s/%s: more than %d pages: the registry's "
                                             "Link header goes round in circles?",
                                             r->domain, r->path, MAX_PAGES);
                if (get_page(r, path, &next, &v, &count, err) < 0)
                        return gk_error_code_or(err, -EIO);
                free(path);
                path = next;
        }
        *tags = TAKE_PTR(v);
        *n = count;
        return 0;
}
