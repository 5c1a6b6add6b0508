/* config.json of a bundle: `gkrun spec`'s defaults, then the image config
 * (Entrypoint, Cmd, Env, WorkingDir, User) the way docker run reads it,
 * then the flags of `gkimg bundle`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "bundle_internal.h"
#include "gk/annotations.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/overlay.h"
#include "gk/util.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int strv_push(char ***v, size_t *n, const char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[*n] = strdup(s);
        if (!nv[*n])
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

/* Appends the strings of a JSON array (null or absent: nothing). */
static int push_json_strings(yajl_val arr, const char *what, char ***v, size_t *n, gk_error **err)
{
        if (!arr || YAJL_IS_NULL(arr))
                return 0;
        if (!YAJL_IS_ARRAY(arr))
                return gk_error_make(err, 0, "image config: %s: must be an array of strings",
                                     what);
        for (size_t i = 0; i < arr->u.array.len; i++) {
                const char *s = YAJL_GET_STRING(arr->u.array.values[i]);

                if (!s)
                        return gk_error_make(err, 0, "image config: %s[%zu]: must be a string",
                                             what, i);
                if (strv_push(v, n, s) < 0)
                        return gk_error_make(err, ENOMEM, "%s", what);
        }
        return 0;
}

static bool env_has(char *const *env, size_t n, const char *key)
{
        size_t klen = strlen(key);

        for (size_t i = 0; i < n; i++)
                if (!strncmp(env[i], key, klen) && env[i][klen] == '=')
                        return true;
        return false;
}

static int set_args(gk_process *p, yajl_val cfg, const gk_bundle_opts *o, gk_error **err)
{
        char **args = NULL;
        size_t n = 0;

        if (push_json_strings(gk_json_get(cfg, "Entrypoint"), "Entrypoint", &args, &n, err) < 0)
                goto fail;
        if (o->cmd && *o->cmd) {
                for (char **c = o->cmd; *c; c++)
                        if (strv_push(&args, &n, *c) < 0)
                                goto oom;
        } else if (push_json_strings(gk_json_get(cfg, "Cmd"), "Cmd", &args, &n, err) < 0) {
                goto fail;
        }
        if (n == 0) {
                gk_error_make(err, 0,
                              "the image has no Entrypoint or Cmd: give a command after --");
                goto fail;
        }
        gk_strvfree(p->args);
        p->args = args;
        p->n_args = n;
        return 0;
oom:
        gk_error_make(err, ENOMEM, "args");
fail:
        gk_strvfree(args);
        return gk_error_code_or(err, -EINVAL);
}

static int set_env(gk_process *p, yajl_val cfg, const gk_bundle_opts *o, const char *home,
                   gk_error **err)
{
        char **env = NULL;
        size_t n = 0;
        int r = push_json_strings(gk_json_get(cfg, "Env"), "Env", &env, &n, err);

        for (char **e = o->env; r >= 0 && e && *e; e++) {
                if (!strchr(*e, '=') || **e == '=') {
                        r = gk_error_make(err, 0, "--env `%s`: expected KEY=VALUE", *e);
                        break;
                }
                r = gk_env_set(&env, &n, *e);
        }
        if (r >= 0 && !env_has(env, n, "PATH"))
                r = strv_push(&env, &n, DEFAULT_PATH);
        if (r >= 0 && !env_has(env, n, "HOME")) {
                _cleanup_free_ char *h = NULL;

                r = asprintf(&h, "HOME=%s", home && *home ? home : "/") < 0
                            ? -ENOMEM
                            : strv_push(&env, &n, h);
        }
        if (r >= 0 && o->tty && !env_has(env, n, "TERM"))
                r = strv_push(&env, &n, "TERM=xterm");
        if (r < 0) {
                gk_strvfree(env);
                return r == -ENOMEM ? gk_error_make(err, ENOMEM, "env") : r;
        }
        gk_strvfree(p->env);
        p->env = env;
        p->n_env = n;
        return 0;
}

static int set_user(gk_process *p, const int *fds, size_t nfds, yajl_val cfg,
                    const gk_bundle_opts *o, char **home, gk_error **err)
{
        const char *spec = o->user ? o->user : gk_json_get_str(cfg, "User");
        gk_bundle_user u;

        if (gk_bundle_resolve_user(fds, nfds, spec, &u, err) < 0) {
                gk_bundle_user_clear(&u);
                return -EINVAL;
        }
        p->user.uid = u.uid;
        p->user.gid = u.gid;
        free(p->user.additional_gids);
        p->user.additional_gids = TAKE_PTR(u.gids);
        p->user.n_additional_gids = u.n_gids;
        *home = TAKE_PTR(u.home);
        gk_bundle_user_clear(&u);
        return 0;
}

static int set_cwd(gk_process *p, yajl_val cfg, const gk_bundle_opts *o, gk_error **err)
{
        const char *cwd = o->workdir ? o->workdir : gk_json_get_str(cfg, "WorkingDir");
        char *d;

        if (!cwd || !*cwd)
                cwd = "/";
        if (cwd[0] != '/')
                return gk_error_make(err, 0, "working directory `%s` must be absolute", cwd);
        d = strdup(cwd);
        if (!d)
                return gk_error_make(err, ENOMEM, "cwd");
        free(p->cwd);
        p->cwd = d;
        return 0;
}

static void set_resources(gk_resources *r, const gk_bundle_opts *o)
{
        if (o->has_mem) {
                r->present = r->has_memory = true;
                r->memory.has_limit = true;
                r->memory.limit = o->mem;
        }
        if (o->has_cpus) {
                r->present = r->has_cpu = true;
                r->cpu.has_period = r->cpu.has_quota = true;
                r->cpu.period = 100000;
                r->cpu.quota = (int64_t) (o->cpu_millis * 100);
        }
        if (o->has_pids) {
                r->present = r->has_pids = true;
                r->pids_limit = o->pids;
        }
}

static int set_network(gk_spec *s, const gk_bundle_opts *o, gk_error **err)
{
        _cleanup_free_ char *ports = NULL;
        size_t len = 0;
        const char *mode = o->net ? o->net : "none";

        if (strcmp(mode, "none") && strcmp(mode, "host") && strcmp(mode, "bridge"))
                return gk_error_make(err, 0, "--net `%s`: expected none, host or bridge", mode);
        if (o->ports && *o->ports && strcmp(mode, "bridge"))
                return gk_error_make(err, 0, "-p needs --net bridge");
        s->linux.namespaces[GK_NS_NETWORK].present = strcmp(mode, "host") != 0;
        if (gk_spec_add_annotation(s, GK_ANN_NET_MODE, mode) < 0)
                return gk_error_make(err, ENOMEM, "annotations");
        for (char **p = o->ports; p && *p; p++)
                len += strlen(*p) + 1;
        if (len) {
                size_t off = 0;

                ports = malloc(len);
                if (!ports)
                        return gk_error_make(err, ENOMEM, "ports");
                for (char **p = o->ports; *p; p++)
                        off += (size_t) snprintf(ports + off, len - off, "%s%s", off ? "," : "",
                                                 *p);
        }
        if (ports && gk_spec_add_annotation(s, GK_ANN_NET_PORTS, ports) < 0)
                return gk_error_make(err, ENOMEM, "annotations");
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* "80/tcp,53/udp": the ExposedPorts keys, sorted (as umoci writes them). */
static int exposed_ports(yajl_val cfg, char **out)
{
        yajl_val ports = gk_json_get(cfg, "ExposedPorts");
        _cleanup_free_ const char **keys = NULL;
        size_t n = ports && YAJL_IS_OBJECT(ports) ? ports->u.object.len : 0, len = 1, off = 0;

        *out = NULL;
        if (!n)
                return 0;
        keys = calloc(n, sizeof(char *));
        if (!keys)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                keys[i] = ports->u.object.keys[i];
                len += strlen(keys[i]) + 1;
        }
        qsort(keys, n, sizeof(char *), cmp_str);
        *out = malloc(len);
        if (!*out)
                return -ENOMEM;
        (*out)[0] = '\0';
        for (size_t i = 0; i < n; i++)
                off += (size_t) snprintf(*out + off, len - off, "%s%s", i ? "," : "", keys[i]);
        return 0;
}

/* The image config's Labels, then what the OCI image spec's conversion
 * rules make annotations of (they win over a label of the same name),
 * then gk's. */
static int image_annotations(gk_spec *s, yajl_val root, yajl_val cfg)
{
        static const char *const top[][2] = {
                { "os", "org.opencontainers.image.os" },
                { "architecture", "org.opencontainers.image.architecture" },
                { "variant", "org.opencontainers.image.variant" },
                { "os.version", "org.opencontainers.image.os.version" },
                { "author", "org.opencontainers.image.author" },
                { "created", "org.opencontainers.image.created" },
        };
        yajl_val labels = gk_json_get(cfg, "Labels");
        _cleanup_free_ char *ports = NULL;

        for (size_t i = 0; labels && YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++) {
                const char *v = YAJL_GET_STRING(labels->u.object.values[i]);

                if (v && gk_spec_set_annotation(s, labels->u.object.keys[i], v) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < ARRAY_SIZE(top); i++) {
                const char *v = gk_json_get_str(root, top[i][0]);

                if (v && gk_spec_set_annotation(s, top[i][1], v) < 0)
                        return -ENOMEM;
        }
        if (exposed_ports(cfg, &ports) < 0 ||
            (ports &&
             gk_spec_set_annotation(s, "org.opencontainers.image.exposedPorts", ports) < 0))
                return -ENOMEM;
        return 0;
}

static int set_annotations(gk_spec *s, const gk_bundle_image *img, yajl_val root, yajl_val cfg,
                           const char *overlay_json, gk_error **err)
{
        const char *stop = gk_json_get_str(cfg, "StopSignal");

        if (image_annotations(s, root, cfg) < 0 ||
            gk_spec_set_annotation(s, "org.opencontainers.image.ref.name", img->ref) < 0 ||
            (img->id && gk_spec_set_annotation(s, GK_ANN_IMAGE_ID, img->id) < 0) ||
            (stop && gk_spec_set_annotation(s, "org.opencontainers.image.stopSignal", stop) < 0) ||
            (overlay_json && gk_spec_set_annotation(s, GK_OVERLAY_ANNOTATION, overlay_json) < 0))
                return gk_error_make(err, ENOMEM, "annotations");
        return 0;
}

static int set_hostname(gk_spec *s, const gk_bundle_opts *o, gk_error **err)
{
        if (!o->hostname)
                return 0;
        free(s->hostname);
        s->hostname = strdup(o->hostname);
        return s->hostname ? 0 : gk_error_make(err, ENOMEM, "hostname");
}

/* The spec's version is written last, once every field is known. */
static int set_version(gk_spec *s, gk_error **err)
{
        free(s->oci_version);
        s->oci_version = strdup(gk_spec_min_version(s));
        return s->oci_version ? 0 : gk_error_make(err, ENOMEM, "ociVersion");
}

int gk_bundle_build_spec(const gk_bundle_build *b, char **out, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val root = NULL;
        _cleanup_(gk_spec_freep) gk_spec *s = NULL;
        _cleanup_free_ char *home = NULL;
        const gk_bundle_opts *o = b->o;
        yajl_val cfg;
        gk_process *p;

        if (gk_json_parse(b->img->config, b->img->config_len, "image config", &root, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        cfg = gk_json_get(root, "config");
        if (gk_spec_default(false, &s, err) < 0)
                return gk_error_code(*err);
        p = s->process;
        p->terminal = o->tty;
        if (set_args(p, cfg, o, err) < 0 || set_user(p, b->fds, b->nfds, cfg, o, &home, err) < 0 ||
            set_env(p, cfg, o, home, err) < 0 || set_cwd(p, cfg, o, err) < 0 ||
            set_network(s, o, err) < 0 ||
            set_annotations(s, b->img, root, cfg, b->overlay_json, err) < 0 ||
            gk_bundle_set_security(s, o, err) < 0 ||
            gk_bundle_set_mounts(s, o, b->volumes, b->abs, err) < 0 || set_hostname(s, o, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        set_resources(&s->linux.resources, o);
        if (set_version(s, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        return gk_spec_emit(s, out, NULL, err);
}
