/* containers-policy.json(5) parsing (see policy.h).  Strict, as the
 * containers/image reader is: an unknown member of a requirement is an
 * error, so a misspelt keyPath cannot turn into "no key". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "homedir.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "policy.h"

typedef struct field_ctx {
        const char *what;  /* the file */
        const char *where; /* "transports.docker.\"x\"[0]" */
} field_ctx;

static int bad(const field_ctx *c, const char *field, const char *why, gk_error **err)
{
        return gk_error_make(err, 0, "%s: %s%s%s: %s", c->what, c->where, *field ? "." : "", field,
                             why);
}

static void reqs_clear(gk_reqs *r)
{
        for (size_t i = 0; i < r->n; i++) {
                gk_strvfree(r->v[i].keys.paths);
                free(r->v[i].keys.data);
                free(r->v[i].ident.value);
                free(r->v[i].ident.prefix);
                free(r->v[i].ident.signed_prefix);
        }
        free(r->v);
        *r = (gk_reqs){ 0 };
}

void gk_policy_free(gk_policy *p)
{
        if (!p)
                return;
        reqs_clear(&p->def);
        for (size_t i = 0; i < p->n_scopes; i++) {
                free(p->scopes[i].transport);
                free(p->scopes[i].scope);
                reqs_clear(&p->scopes[i].reqs);
        }
        free(p->scopes);
        free(p->path);
        free(p);
}

void gk_policy_freep(gk_policy **p)
{
        gk_policy_free(*p);
}

/* Every member of OBJ must be one of ALLOWED (NULL-terminated). */
static int only_members(const field_ctx *c, yajl_val obj, const char *const *allowed,
                        gk_error **err)
{
        for (size_t i = 0; i < obj->u.object.len; i++) {
                const char *k = obj->u.object.keys[i];
                bool ok = false;

                for (size_t a = 0; allowed[a] && !ok; a++)
                        ok = !strcmp(k, allowed[a]);
                if (!ok)
                        return bad(c, k, "not supported by gkimg (unknown field)", err);
        }
        return 0;
}

static int str_member(const field_ctx *c, yajl_val obj, const char *key, bool required, char **out,
                      gk_error **err)
{
        yajl_val v = gk_json_get(obj, key);

        if (!v)
                return required ? bad(c, key, "missing", err) : 0;
        if (!YAJL_IS_STRING(v))
                return bad(c, key, "must be a string", err);
        *out = strdup(v->u.string);
        return *out ? 0 : gk_error_make(err, ENOMEM, "%s", c->what);
}

/* ---- signedIdentity ---- */

static const struct {
        const char *name;
        gk_ident_type type;
        const char *value_key; /* the member it needs, or NULL */
} ident_types[] = {
        { "matchRepoDigestOrExact", GK_IDENT_MATCH_REPO_DIGEST_OR_EXACT, NULL },
        { "matchExact", GK_IDENT_MATCH_EXACT, NULL },
        { "matchRepository", GK_IDENT_MATCH_REPOSITORY, NULL },
        { "exactReference", GK_IDENT_EXACT_REFERENCE, "dockerReference" },
        { "exactRepository", GK_IDENT_EXACT_REPOSITORY, "dockerRepository" },
        { "remapIdentity", GK_IDENT_REMAP, NULL },
};

static int parse_ident(const field_ctx *c, yajl_val v, gk_ident *id, gk_error **err)
{
        const char *allowed[] = { "type", NULL, NULL, NULL };
        const char *t;
        size_t i;

        id->type = GK_IDENT_MATCH_REPO_DIGEST_OR_EXACT;
        if (!v)
                return 0;
        if (!YAJL_IS_OBJECT(v))
                return bad(c, "signedIdentity", "must be an object", err);
        t = gk_json_get_str(v, "type");
        if (!t)
                return bad(c, "signedIdentity.type", "missing or not a string", err);
        for (i = 0; i < ARRAY_SIZE(ident_types); i++)
                if (!strcmp(t, ident_types[i].name))
                        break;
        if (i == ARRAY_SIZE(ident_types))
                return bad(c, "signedIdentity.type", "unknown identity type", err);
        id->type = ident_types[i].type;
        allowed[1] = ident_types[i].value_key;
        if (id->type == GK_IDENT_REMAP) {
                allowed[1] = "prefix";
                allowed[2] = "signedPrefix";
        }
        if (only_members(c, v, allowed, err) < 0)
                return gk_error_wrap(err, "signedIdentity");
        if (ident_types[i].value_key &&
            str_member(c, v, ident_types[i].value_key, true, &id->value, err) < 0)
                return -EINVAL;
        if (id->type == GK_IDENT_REMAP &&
            (str_member(c, v, "prefix", true, &id->prefix, err) < 0 ||
             str_member(c, v, "signedPrefix", true, &id->signed_prefix, err) < 0))
                return -EINVAL;
        if (id->value) {
                _cleanup_(gk_reference_clear) gk_reference r = { 0 };
                _cleanup_(gk_error_freep) gk_error *e = NULL;

                if (gk_reference_parse(id->value, &r, &e) < 0)
                        return bad(c, "signedIdentity", e->msg, err);
        }
        return 0;
}

/* ---- keys ---- */

static int parse_keys(const field_ctx *c, yajl_val v, gk_keys *k, gk_error **err)
{
        yajl_val paths = gk_json_get(v, "keyPaths");
        _cleanup_free_ char *data = NULL, *path = NULL;
        int given = !!gk_json_get(v, "keyPath") + !!paths + !!gk_json_get(v, "keyData");

        if (given != 1)
                return bad(c, "keyPath", "exactly one of keyPath, keyPaths and keyData is needed",
                           err);
        if (str_member(c, v, "keyPath", false, &path, err) < 0 ||
            str_member(c, v, "keyData", false, &data, err) < 0)
                return -EINVAL;
        if (data) {
                if (gk_base64_decode(data, &k->data, &k->data_len) < 0)
                        return bad(c, "keyData", "not valid base64", err);
                return 0;
        }
        if (path) {
                k->paths = calloc(2, sizeof(char *));
                if (!k->paths)
                        return gk_error_make(err, ENOMEM, "%s", c->what);
                k->paths[0] = TAKE_PTR(path);
                return 0;
        }
        if (!YAJL_IS_ARRAY(paths) || paths->u.array.len == 0)
                return bad(c, "keyPaths", "must be a non-empty array of strings", err);
        k->paths = calloc(paths->u.array.len + 1, sizeof(char *));
        if (!k->paths)
                return gk_error_make(err, ENOMEM, "%s", c->what);
        for (size_t i = 0; i < paths->u.array.len; i++) {
                yajl_val p = paths->u.array.values[i];

                if (!YAJL_IS_STRING(p))
                        return bad(c, "keyPaths", "must be a non-empty array of strings", err);
                if (!(k->paths[i] = strdup(p->u.string)))
                        return gk_error_make(err, ENOMEM, "%s", c->what);
        }
        return 0;
}

/* ---- requirements, one row per type ---- */

static int parse_signed_by(const field_ctx *c, yajl_val v, gk_req *r, gk_error **err)
{
        static const char *const allowed[] = { "type",    "keyType",        "keyPath", "keyPaths",
                                               "keyData", "signedIdentity", NULL };
        const char *kt = gk_json_get_str(v, "keyType");

        if (only_members(c, v, allowed, err) < 0)
                return -EINVAL;
        if (!kt)
                return bad(c, "keyType", "missing or not a string", err);
        if (strcmp(kt, "GPGKeys"))
                return bad(c, "keyType",
                           "only GPGKeys is supported (X509Certificates and "
                           "signedByGPGKeys are refused)",
                           err);
        if (parse_keys(c, v, &r->keys, err) < 0)
                return -EINVAL;
        return parse_ident(c, gk_json_get(v, "signedIdentity"), &r->ident, err);
}

static int parse_sigstore(const field_ctx *c, yajl_val v, gk_req *r, gk_error **err)
{
        static const char *const refused[] = {
                "fulcio", "rekorPublicKeyPath", "rekorPublicKeyData", "keyPaths", "keyDatas", NULL
        };
        static const char *const allowed[] = { "type", "keyPath", "keyData", "signedIdentity",
                                               NULL };

        for (size_t i = 0; refused[i]; i++)
                if (gk_json_get(v, refused[i]))
                        return bad(c, refused[i],
                                   "not supported by gkimg (only a public key in keyPath or "
                                   "keyData)",
                                   err);
        if (only_members(c, v, allowed, err) < 0)
                return -EINVAL;
        if (!gk_json_get(v, "keyPath") && !gk_json_get(v, "keyData"))
                return bad(c, "keyPath", "missing (a public key in keyPath or keyData)", err);
        if (parse_keys(c, v, &r->keys, err) < 0)
                return -EINVAL;
        return parse_ident(c, gk_json_get(v, "signedIdentity"), &r->ident, err);
}

static int parse_plain(const field_ctx *c, yajl_val v, gk_req *r, gk_error **err)
{
        static const char *const allowed[] = { "type", NULL };

        (void) r;
        return only_members(c, v, allowed, err);
}

static const struct {
        const char *name;
        gk_req_type type;
        int (*parse)(const field_ctx *c, yajl_val v, gk_req *r, gk_error **err);
} req_types[] = {
        { "insecureAcceptAnything", GK_REQ_ACCEPT, parse_plain },
        { "reject", GK_REQ_REJECT, parse_plain },
        { "signedBy", GK_REQ_SIGNED_BY, parse_signed_by },
        { "sigstoreSigned", GK_REQ_SIGSTORE, parse_sigstore },
};

static int parse_req(field_ctx *c, yajl_val v, gk_req *r, gk_error **err)
{
        const char *t;

        if (!YAJL_IS_OBJECT(v))
                return bad(c, "", "must be an object", err);
        t = gk_json_get_str(v, "type");
        if (!t)
                return bad(c, "type", "missing or not a string", err);
        for (size_t i = 0; i < ARRAY_SIZE(req_types); i++)
                if (!strcmp(t, req_types[i].name)) {
                        r->type = req_types[i].type;
                        return req_types[i].parse(c, v, r, err);
                }
        return gk_error_make(err, 0, "%s: %s.type: requirement `%s` is not supported by gkimg",
                             c->what, c->where, t);
}

static int parse_reqs(const char *what, const char *where, yajl_val v, gk_reqs *out,
                      gk_error **err)
{
        field_ctx c = { .what = what, .where = where };

        if (!YAJL_IS_ARRAY(v) || v->u.array.len == 0)
                return bad(&c, "", "must be a non-empty array of requirements", err);
        out->v = calloc(v->u.array.len, sizeof(gk_req));
        if (!out->v)
                return gk_error_make(err, ENOMEM, "%s", what);
        for (size_t i = 0; i < v->u.array.len; i++) {
                _cleanup_free_ char *w = NULL;

                if (asprintf(&w, "%s[%zu]", where, i) < 0)
                        return gk_error_make(err, ENOMEM, "%s", what);
                c.where = w;
                out->n = i + 1;
                if (parse_req(&c, v->u.array.values[i], &out->v[i], err) < 0)
                        return -EINVAL;
        }
        return 0;
}

static int parse_transport(gk_policy *p, const char *what, const char *name, yajl_val t,
                           gk_error **err)
{
        gk_scope *ns;

        if (!YAJL_IS_OBJECT(t))
                return gk_error_make(err, 0, "%s: transports.%s: must be an object", what, name);
        ns = realloc(p->scopes, (p->n_scopes + t->u.object.len) * sizeof(gk_scope));
        if (!ns && t->u.object.len)
                return gk_error_make(err, ENOMEM, "%s", what);
        p->scopes = ns;
        for (size_t i = 0; i < t->u.object.len; i++) {
                gk_scope *s = &p->scopes[p->n_scopes];
                _cleanup_free_ char *where = NULL;

                *s = (gk_scope){ .transport = strdup(name), .scope = strdup(t->u.object.keys[i]) };
                p->n_scopes++;
                if (!s->transport || !s->scope ||
                    asprintf(&where, "transports.%s.\"%s\"", name, s->scope) < 0)
                        return gk_error_make(err, ENOMEM, "%s", what);
                if (parse_reqs(what, where, t->u.object.values[i], &s->reqs, err) < 0)
                        return -EINVAL;
        }
        return 0;
}

int gk_policy_parse(const char *text, size_t len, const char *what, gk_policy **out,
                    gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val doc = NULL;
        _cleanup_(gk_policy_freep) gk_policy *p = calloc(1, sizeof(*p));
        static const char *const allowed[] = { "default", "transports", NULL };
        field_ctx c = { .what = what, .where = "" };
        yajl_val tr;

        if (!p || !(p->path = strdup(what)))
                return gk_error_make(err, ENOMEM, "%s", what);
        if (gk_json_parse(text, len, what, &doc, err) < 0)
                return -EINVAL;
        if (!YAJL_IS_OBJECT(doc))
                return gk_error_make(err, 0, "%s: must be a JSON object", what);
        for (size_t i = 0; i < doc->u.object.len; i++)
                if (strcmp(doc->u.object.keys[i], allowed[0]) &&
                    strcmp(doc->u.object.keys[i], allowed[1]))
                        return gk_error_make(err, 0, "%s: %s: unknown field", what,
                                             doc->u.object.keys[i]);
        if (!gk_json_get(doc, "default"))
                return bad(&c, "default", "missing (containers-policy.json(5) requires it)", err);
        if (parse_reqs(what, "default", gk_json_get(doc, "default"), &p->def, err) < 0)
                return -EINVAL;
        tr = gk_json_get(doc, "transports");
        if (tr && !YAJL_IS_OBJECT(tr))
                return gk_error_make(err, 0, "%s: transports: must be an object", what);
        for (size_t i = 0; tr && i < tr->u.object.len; i++)
                if (parse_transport(p, what, tr->u.object.keys[i], tr->u.object.values[i], err) <
                    0)
                        return -EINVAL;
        *out = TAKE_PTR(p);
        return 0;
}

static int load_file(const char *path, gk_policy **out, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        if (gk_read_file(path, &text, &len, err) < 0)
                return gk_error_wrap(err, "policy");
        return gk_policy_parse(text, len, path, out, err);
}

int gk_policy_load(const char *path, gk_policy **out, gk_error **err)
{
        _cleanup_free_ char *user = NULL;

        *out = NULL;
        if (path)
                return load_file(path, out, err);
        if (asprintf(&user, "%s/" GK_POLICY_USER_PATH, gk_home_dir()) >= 0 &&
            access(user, F_OK) == 0)
                return load_file(user, out, err);
        if (access(GK_POLICY_PATH, F_OK) == 0)
                return load_file(GK_POLICY_PATH, out, err);
        return 0;
}

/* ---- scopes ---- */

static int strv_push(char ***v, size_t *n, char *s)
{
        char **nv;

        if (!s)
                return -ENOMEM;
        nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

char **gk_docker_scopes(const gk_reference *ref, bool wildcards)
{
        _cleanup_(gk_strvfreep) char **v = NULL;
        _cleanup_free_ char *name = gk_reference_name(ref);
        size_t n = 0;
        char *slash;

        if (!name || strv_push(&v, &n, gk_reference_string(ref)) < 0 ||
            strv_push(&v, &n, strdup(name)) < 0)
                return NULL;
        while ((slash = strrchr(name, '/'))) {
                *slash = '\0';
                if (strv_push(&v, &n, strdup(name)) < 0)
                        return NULL;
        }
        /* "*.example.com" for "a.example.com": hosts without a port only. */
        for (const char *d = strchr(ref->domain, '.'); wildcards && d && !strchr(ref->domain, ':');
             d = strchr(d + 1, '.')) {
                char *w = NULL;

                if (asprintf(&w, "*%s", d) < 0 || strv_push(&v, &n, w) < 0)
                        return NULL;
        }
        if (!v)
                v = calloc(1, sizeof(char *));
        return TAKE_PTR(v);
}

static const gk_scope *find_scope(const gk_policy *p, const char *transport, const char *scope)
{
        for (size_t i = 0; i < p->n_scopes; i++)
                if (!strcmp(p->scopes[i].transport, transport) &&
                    !strcmp(p->scopes[i].scope, scope))
                        return &p->scopes[i];
        return NULL;
}

const gk_reqs *gk_policy_for_docker(const gk_policy *p, const gk_reference *ref,
                                    const char **scope)
{
        _cleanup_(gk_strvfreep) char **cands = gk_docker_scopes(ref, true);
        const gk_scope *s = NULL;

        if (!cands)
                return NULL;
        for (size_t i = 0; cands[i] && !s; i++)
                s = find_scope(p, "docker", cands[i]);
        if (!s)
                s = find_scope(p, "docker", "");
        *scope = s ? s->scope : NULL;
        return s ? &s->reqs : &p->def;
}
