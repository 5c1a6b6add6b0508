/* `gkimg inspect docker://REF`: an image at its registry, nothing stored.
 * The summary has skopeo inspect's fields and names (tools parse them):
 * Name, Digest (of what the reference names: the index for a
 * multi-platform image), RepoTags, Created, DockerVersion, Labels,
 * Architecture, Variant, Os, Layers, LayersData, Env, the image chosen
 * from an index for the host's platform as skopeo does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "json_tree.h"
#include "manifest.h"
#include "reference.h"
#include "regconf_try.h"
#include "registry_internal.h"
#include "remote.h"

#define CONFIG_MAX (16u << 20)

typedef struct remote {
        gk_reference ref;
        gk_registry *reg;
        char *name;   /* "domain/path" */
        char *digest; /* of the top manifest */
        gk_response top, img;
        gk_manifest m; /* the image manifest's (img's, or top's) */
        char *config;
        size_t config_len;
} remote;

static void remote_clear(remote *x)
{
        gk_reference_clear(&x->ref);
        gk_registry_free(x->reg);
        free(x->name);
        free(x->digest);
        gk_response_clear(&x->top);
        gk_response_clear(&x->img);
        gk_manifest_clear(&x->m);
        free(x->config);
}

/* The image manifest: the top one, or the host's entry of an index. */
static int resolve_image(remote *x, gk_error **err)
{
        _cleanup_(gk_platform_clear) gk_platform want = { 0 };
        gk_manifest top = { 0 };
        size_t i;
        int r;

        if (gk_manifest_parse(x->top.body, x->top.len, x->top.content_type, &top, err) < 0)
                return gk_error_code_or(err, -EPROTO);
        if (top.kind == GK_MANIFEST_IMAGE) {
                x->m = top;
                return 0;
        }
        r = gk_platform_host(&want, err);
        if (r == 0)
                r = gk_manifest_select(&top, &want, &i, err);
        if (r == 0)
                r = gk_registry_manifest(x->reg, top.manifests[i].digest, false, &x->img, err);
        if (r == 0)
                r = gk_manifest_parse(x->img.body, x->img.len, x->img.content_type, &x->m, err);
        if (r == 0 && x->m.kind != GK_MANIFEST_IMAGE)
                r = gk_error_make(err, 0, "index entry %s is not an image manifest",
                                  top.manifests[i].digest);
        gk_manifest_clear(&top);
        return r < 0 ? gk_error_code_or(err, -EPROTO) : 0;
}

static int fetch_config(remote *x, gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        _cleanup_free_ char *path = NULL, *what = NULL;
        const char *d = x->m.config.digest;
        gk_call k = { .method = "GET", .max = CONFIG_MAX };
        char got[GK_SHA256_BUF];

        if (asprintf(&path, "/v2/%s/blobs/%s", x->ref.path, d) < 0 ||
            asprintf(&what, "config %s", d) < 0)
                return gk_error_make(err, ENOMEM, "inspect");
        k.path = path;
        if (gk_registry_call(x->reg, &k, &h, &x->config, &x->config_len, err) < 0)
                return gk_error_wrap(err, "%s", what);
        if (h.status != 200)
                return gk_http_status_error(x->reg, what, &h, x->config, x->config_len, err);
        gk_digest_buf(x->config ? x->config : "", x->config_len, got);
        if (strcmp(got, d))
                return gk_error_plain(err, EBADMSG,
                                      "%s: digest mismatch: the registry sent content with "
                                      "digest %s",
                                      what, got);
        return 0;
}

static void gen_str_array(yajl_gen g, char **v)
{
        yajl_gen_array_open(g);
        for (size_t i = 0; v && v[i]; i++)
                gk_json_str(g, v[i]);
        yajl_gen_array_close(g);
}

/* KEY: the value at V, or null (skopeo's nil map or slice). */
static void gen_tree_or_null(yajl_gen g, const char *key, yajl_val v)
{
        gk_json_str(g, key);
        if (v)
                gk_json_gen_tree(g, v);
        else
                yajl_gen_null(g);
}

static void gen_layers(yajl_gen g, yajl_val layers)
{
        size_t n = layers && YAJL_IS_ARRAY(layers) ? layers->u.array.len : 0;

        gk_json_str(g, "Layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
                gk_json_str(g, gk_json_get_str(layers->u.array.values[i], "digest"));
        yajl_gen_array_close(g);
        gk_json_str(g, "LayersData");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                yajl_val l = layers->u.array.values[i];
                int64_t size = 0;

                gk_json_int64(gk_json_get(l, "size"), &size);
                yajl_gen_map_open(g);
                gk_json_kstr(g, "MIMEType", gk_json_get_str(l, "mediaType"));
                gk_json_kstr(g, "Digest", gk_json_get_str(l, "digest"));
                gk_json_kint(g, "Size", size);
                gen_tree_or_null(g, "Annotations", gk_json_get(l, "annotations"));
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static int summary(remote *x, char **out, size_t *len, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);
        _cleanup_(gk_json_freep) yajl_val cfg = NULL, man = NULL;
        _cleanup_(gk_strvfreep) char **tags = NULL;
        const gk_response *im = x->img.body ? &x->img : &x->top;
        yajl_val inner;
        const char *s;
        size_t n = 0;

        if (!g)
                return gk_error_make(err, ENOMEM, "inspect");
        if (gk_json_parse(x->config, x->config_len, "image config", &cfg, err) < 0 ||
            gk_json_parse(im->body, im->len, "manifest", &man, err) < 0 ||
            gk_registry_tags(x->reg, 0, &tags, &n, err) < 0)
                return gk_error_code_or(err, -EPROTO);
        inner = gk_json_get(cfg, "config");
        yajl_gen_config(g, yajl_gen_indent_string, "    ");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "Name", x->name);
        gk_json_kstr(g, "Digest", x->digest);
        gk_json_str(g, "RepoTags");
        gen_str_array(g, tags);
        gk_json_kstr(g, "Created", gk_json_get_str(cfg, "created"));
        s = gk_json_get_str(cfg, "docker_version");
        gk_json_kstr(g, "DockerVersion", s ? s : "");
        gen_tree_or_null(g, "Labels", gk_json_get(inner, "Labels"));
        gk_json_kstr(g, "Architecture", gk_json_get_str(cfg, "architecture"));
        if ((s = gk_json_get_str(cfg, "variant")) && *s)
                gk_json_kstr(g, "Variant", s);
        gk_json_kstr(g, "Os", gk_json_get_str(cfg, "os"));
        gen_layers(g, gk_json_get(man, "layers"));
        gen_tree_or_null(g, "Env", gk_json_get(inner, "Env"));
        yajl_gen_map_close(g);
        if (gk_json_gen_finish(g, out, len, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        return 0;
}

static int run(remote *x, const gk_source *src, const gk_registry_opts *o, gk_remote_what what,
               char **out, size_t *len, gk_error **err)
{
        const char *ref;

        if (gk_registry_new(src->domain, src->path, o, &x->reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        ref = x->ref.digest ? x->ref.digest : x->ref.tag;
        if (gk_registry_manifest(x->reg, ref, false, &x->top, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (what == GK_REMOTE_RAW) {
                *out = TAKE_PTR(x->top.body);
                *len = x->top.len;
                return 0;
        }
        x->digest = malloc(GK_SHA256_BUF);
        if (!x->digest)
                return gk_error_make(err, ENOMEM, "inspect");
        gk_digest_buf(x->top.body, x->top.len, x->digest);
        if (resolve_image(x, err) < 0 || fetch_config(x, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (what == GK_REMOTE_CONFIG) {
                *out = TAKE_PTR(x->config);
                *len = x->config_len;
                return 0;
        }
        return summary(x, out, len, err);
}

typedef struct attempt {
        gk_remote_what what;
        char **out;
        size_t *len;
} attempt;

/* One location of registries.conf's list; Name is the logical one. */
static int inspect_at(const gk_reference *ref, const gk_source *src, const gk_registry_opts *o,
                      void *data, gk_error **err)
{
        attempt *a = data;
        remote x = { 0 };
        int r = 0;

        if (!(x.ref.domain = strdup(ref->domain)) || !(x.ref.path = strdup(ref->path)) ||
            (ref->tag && !(x.ref.tag = strdup(ref->tag))) ||
            (ref->digest && !(x.ref.digest = strdup(ref->digest))) ||
            !(x.name = gk_reference_name(&x.ref)))
                r = gk_error_make(err, ENOMEM, "inspect");
        if (r == 0)
                r = run(&x, src, o, a->what, a->out, a->len, err);
        remote_clear(&x);
        return r;
}

int gk_remote_inspect(const char *ref, const gk_registry_opts *o, gk_remote_what what, char **out,
                      size_t *len, gk_error **err)
{
        attempt a = { what, out, len };
        gk_reference check = { 0 };
        int r;

        if (gk_reference_parse(ref, &check, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        gk_reference_clear(&check);
        r = gk_regconf_try(ref, o, inspect_at, &a, err);
        if (r < 0)
                gk_error_wrap(err, "inspect `%s`", ref);
        return r;
}
