/* config.json parsing, top level: ociVersion, process, root, hostname,
 * mounts (with option decomposition), hooks and annotations; linux.* is in
 * spec_parse_linux.c.  One pass over the yajl tree; every failure names the
 * field ("config.json: process.args: must be a non-empty array"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "spec_internal.h"

/* Runs a sp_* reader and leaves the calling function on failure. */
#define TRY(expr)                                                              \
        do {                                                                   \
                int _r = (expr);                                               \
                if (_r < 0)                                                    \
                        return _r;                                             \
        } while (0)

static int required(sp_ctx *c, const char *key, int r)
{
        size_t old;

        if (r != 0)
                return r;
        old = sp_push(c, key);
        r = sp_fail(c, "required");
        sp_pop(c, old);
        return r;
}

static int parse_user(sp_ctx *c, yajl_val proc, gk_user *u)
{
        yajl_val v, gids;
        uint64_t umask = 0;
        size_t old;
        int r;

        TRY(sp_obj(c, proc, "user", &v));
        if (!v)
                return 0;
        old = sp_push(c, "user");
        TRY(sp_u32(c, v, "uid", &u->uid));
        TRY(sp_u32(c, v, "gid", &u->gid));
        TRY(r = sp_u64(c, v, "umask", 0777, &umask));
        u->has_umask = r > 0;
        u->umask = (mode_t) umask;
        TRY(sp_str(c, v, "username", &u->username));
        TRY(sp_arr(c, v, "additionalGids", &gids));
        if (gids) {
                size_t o2 = sp_push(c, "additionalGids");

                u->additional_gids = sp_calloc(c, gids->u.array.len, sizeof(gid_t));
                if (!u->additional_gids)
                        return -ENOMEM;
                u->n_additional_gids = gids->u.array.len;
                for (size_t i = 0; i < gids->u.array.len; i++) {
                        uint64_t g;
                        size_t o3 = sp_push_idx(c, i);

                        TRY(sp_val_u64(c, gids->u.array.values[i], UINT32_MAX, &g));
                        u->additional_gids[i] = (gid_t) g;
                        sp_pop(c, o3);
                }
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_capset(sp_ctx *c, yajl_val caps, const char *key, gk_capset *set)
{
        _cleanup_strv_ char **names = NULL;
        size_t n = 0, old;

        TRY(sp_strv(c, caps, key, &names, &n));
        if (!names)
                return 0;
        set->caps = sp_calloc(c, n, sizeof(int));
        if (!set->caps)
                return -ENOMEM;
        old = sp_push(c, key);
        for (size_t i = 0; i < n; i++) {
                int cap = gk_cap_from_name(names[i]);

                if (cap < 0) {
                        sp_push_idx(c, i);
                        return sp_fail(c, "unknown capability \"%s\"", names[i]);
                }
                set->caps[set->n++] = cap;
        }
        sp_pop(c, old);
        return 0;
}

static int parse_capabilities(sp_ctx *c, yajl_val proc, gk_capabilities *caps)
{
        yajl_val v;
        size_t old;

        TRY(sp_obj(c, proc, "capabilities", &v));
        if (!v)
                return 0;
        caps->present = true;
        old = sp_push(c, "capabilities");
        TRY(parse_capset(c, v, "bounding", &caps->bounding));
        TRY(parse_capset(c, v, "effective", &caps->effective));
        TRY(parse_capset(c, v, "inheritable", &caps->inheritable));
        TRY(parse_capset(c, v, "permitted", &caps->permitted));
        TRY(parse_capset(c, v, "ambient", &caps->ambient));
        sp_pop(c, old);
        return 0;
}

static int parse_rlimit(sp_ctx *c, yajl_val v, gk_rlimit *rl, uint64_t *seen)
{
        size_t old;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        TRY(required(c, "type", sp_str(c, v, "type", &rl->type)));
        rl->resource = gk_rlimit_from_name(rl->type);
        old = sp_push(c, "type");
        if (rl->resource < 0)
                return sp_fail(c, "unknown rlimit \"%s\"", rl->type);
        if (*seen & (UINT64_C(1) << rl->resource))
                return sp_fail(c, "duplicate rlimit \"%s\"", rl->type);
        *seen |= UINT64_C(1) << rl->resource;
        sp_pop(c, old);
        TRY(required(c, "soft", sp_u64(c, v, "soft", UINT64_MAX, &rl->soft)));
        TRY(required(c, "hard", sp_u64(c, v, "hard", UINT64_MAX, &rl->hard)));
        if (rl->soft > rl->hard)
                return sp_fail(c, "soft limit is above the hard limit");
        return 0;
}

static int parse_rlimits(sp_ctx *c, yajl_val proc, gk_process *p)
{
        yajl_val v;
        uint64_t seen = 0;
        size_t old;

        TRY(sp_arr(c, proc, "rlimits", &v));
        if (!v)
                return 0;
        p->rlimits = sp_calloc(c, v->u.array.len, sizeof(gk_rlimit));
        if (!p->rlimits)
                return -ENOMEM;
        p->n_rlimits = v->u.array.len;
        old = sp_push(c, "rlimits");
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                TRY(parse_rlimit(c, v->u.array.values[i], &p->rlimits[i], &seen));
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_console_io(sp_ctx *c, yajl_val proc, gk_process *p)
{
        yajl_val v;
        size_t old;
        uint64_t n = 0;
        int64_t prio = 0;
        _cleanup_free_ char *cls = NULL;

        TRY(sp_obj(c, proc, "consoleSize", &v));
        if (v) {
                p->console_size.present = true;
                old = sp_push(c, "consoleSize");
                TRY(required(c, "height", sp_u64(c, v, "height", UINT32_MAX, &n)));
                p->console_size.height = (unsigned) n;
                TRY(required(c, "width", sp_u64(c, v, "width", UINT32_MAX, &n)));
                p->console_size.width = (unsigned) n;
                sp_pop(c, old);
        }
        TRY(sp_obj(c, proc, "ioPriority", &v));
        if (v) {
                p->io_priority.present = true;
                old = sp_push(c, "ioPriority");
                TRY(required(c, "class", sp_str(c, v, "class", &cls)));
                p->io_priority.class = spec_ioprio_class_from_name(cls);
                if (p->io_priority.class < 0) {
                        sp_push(c, "class");
                        return sp_fail(c, "unknown class \"%s\"", cls);
                }
                TRY(sp_i64(c, v, "priority", 0, 7, &prio));
                p->io_priority.priority = (int) prio;
                sp_pop(c, old);
        }
        return 0;
}

static int parse_process_body(sp_ctx *c, yajl_val v, gk_process *p)
{
        yajl_val args;
        int64_t oom = 0;
        int r;

        TRY(sp_bool(c, v, "terminal", &p->terminal));
        TRY(parse_console_io(c, v, p));
        TRY(parse_user(c, v, &p->user));
        args = gk_json_get(v, "args");
        if (!YAJL_IS_ARRAY(args) || args->u.array.len == 0) {
                sp_push(c, "args");
                return sp_fail(c, "must be a non-empty array");
        }
        TRY(sp_strv(c, v, "args", &p->args, &p->n_args));
        TRY(sp_strv(c, v, "env", &p->env, &p->n_env));
        TRY(required(c, "cwd", sp_str(c, v, "cwd", &p->cwd)));
        if (p->cwd[0] != '/') {
                sp_push(c, "cwd");
                return sp_fail(c, "must be an absolute path");
        }
        TRY(parse_capabilities(c, v, &p->capabilities));
        TRY(parse_rlimits(c, v, p));
        TRY(sp_bool(c, v, "noNewPrivileges", &p->no_new_privileges));
        TRY(sp_str(c, v, "apparmorProfile", &p->apparmor_profile));
        TRY(r = sp_i64(c, v, "oomScoreAdj", -1000, 1000, &oom));
        p->has_oom_score_adj = r > 0;
        p->oom_score_adj = (int) oom;
        TRY(sp_str(c, v, "selinuxLabel", &p->selinux_label));
        return 0;
}

int spec_parse_process(sp_ctx *c, yajl_val v, gk_process **out)
{
        _cleanup_(gk_process_freep) gk_process *p = NULL;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        p = calloc(1, sizeof(*p));
        if (!p)
                return sp_nomem(c);
        TRY(parse_process_body(c, v, p));
        *out = TAKE_PTR(p);
        return 0;
}

int spec_parse_idmaps(sp_ctx *c, yajl_val obj, const char *key, gk_idmap **out, size_t *n)
{
        yajl_val v;
        size_t old;

        TRY(sp_arr(c, obj, key, &v));
        if (!v)
                return 0;
        *out = sp_calloc(c, v->u.array.len, sizeof(gk_idmap));
        if (!*out)
                return -ENOMEM;
        *n = v->u.array.len;
        old = sp_push(c, key);
        for (size_t i = 0; i < v->u.array.len; i++) {
                yajl_val e = v->u.array.values[i];
                gk_idmap *m = &(*out)[i];
                size_t o2 = sp_push_idx(c, i);

                if (!YAJL_IS_OBJECT(e))
                        return sp_fail(c, "must be an object");
                TRY(required(c, "containerID", sp_u32(c, e, "containerID", &m->container_id)));
                TRY(required(c, "hostID", sp_u32(c, e, "hostID", &m->host_id)));
                TRY(required(c, "size", sp_u32(c, e, "size", &m->size)));
                if (m->size == 0 || (uint64_t) m->container_id + m->size > UINT32_MAX + UINT64_C(1) ||
                    (uint64_t) m->host_id + m->size > UINT32_MAX + UINT64_C(1))
                        return sp_fail(c, "range out of bounds (size must be positive and the "
                                          "range within 32 bits)");
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_root(sp_ctx *c, yajl_val top, gk_root *root)
{
        yajl_val v;
        size_t old;

        TRY(required(c, "root", sp_obj(c, top, "root", &v)));
        old = sp_push(c, "root");
        TRY(required(c, "path", sp_str(c, v, "path", &root->path)));
        if (!root->path[0]) {
                sp_push(c, "path");
                return sp_fail(c, "must not be empty");
        }
        TRY(sp_bool(c, v, "readonly", &root->readonly));
        sp_pop(c, old);
        return 0;
}

/* Splits options into flags and the filesystem's own data, in one pass. */
static int mount_decompose(sp_ctx *c, gk_mount *m)
{
        size_t total = 0, pos = 0;

        for (size_t i = 0; i < m->n_options; i++)
                total += strlen(m->options[i]) + 1;
        m->data = sp_calloc(c, total + 1, 1);
        if (!m->data)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_options; i++) {
                const char *o = m->options[i];
                size_t n = strlen(o);

                if (n == 0) {
                        sp_push(c, "options");
                        sp_push_idx(c, i);
                        return sp_fail(c, "must not be empty");
                }
                if (spec_mount_option(o, m))
                        continue;
                if (pos)
                        m->data[pos++] = ',';
                memcpy(m->data + pos, o, n);
                pos += n;
        }
        m->data[pos] = '\0';
        if (pos == 0) {
                free(m->data);
                m->data = NULL;
        }
        return 0;
}

static int parse_mount(sp_ctx *c, yajl_val v, gk_mount *m)
{
        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        TRY(required(c, "destination", sp_str(c, v, "destination", &m->destination)));
        if (m->destination[0] != '/') {
                sp_push(c, "destination");
                return sp_fail(c, "must be an absolute path");
        }
        TRY(sp_str(c, v, "type", &m->type));
        TRY(sp_str(c, v, "source", &m->source));
        TRY(sp_strv(c, v, "options", &m->options, &m->n_options));
        TRY(mount_decompose(c, m));
        TRY(spec_parse_idmaps(c, v, "uidMappings", &m->uid_mappings, &m->n_uid_mappings));
        TRY(spec_parse_idmaps(c, v, "gidMappings", &m->gid_mappings, &m->n_gid_mappings));
        if (!m->uid_mappings != !m->gid_mappings) {
                sp_push(c, m->uid_mappings ? "gidMappings" : "uidMappings");
                return sp_fail(c, "required with %s", m->uid_mappings ? "uidMappings" : "gidMappings");
        }
        if (m->uid_mappings)
                m->idmap = true;
        return 0;
}

static int parse_mounts(sp_ctx *c, yajl_val top, gk_spec *s)
{
        yajl_val v;
        size_t old;

        TRY(sp_arr(c, top, "mounts", &v));
        if (!v)
                return 0;
        s->mounts = sp_calloc(c, v->u.array.len, sizeof(gk_mount));
        if (!s->mounts)
                return -ENOMEM;
        s->n_mounts = v->u.array.len;
        old = sp_push(c, "mounts");
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                TRY(parse_mount(c, v->u.array.values[i], &s->mounts[i]));
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_hook(sp_ctx *c, yajl_val v, gk_hook *h)
{
        int64_t t = 0;
        int r;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        TRY(required(c, "path", sp_str(c, v, "path", &h->path)));
        if (h->path[0] != '/') {
                sp_push(c, "path");
                return sp_fail(c, "must be an absolute path");
        }
        TRY(sp_strv(c, v, "args", &h->args, &h->n_args));
        TRY(sp_strv(c, v, "env", &h->env, &h->n_env));
        TRY(r = sp_i64(c, v, "timeout", INT64_MIN, INT64_MAX, &t));
        if (r > 0 && (t <= 0 || t > INT32_MAX)) {
                sp_push(c, "timeout");
                return sp_fail(c, "must be a positive integer");
        }
        h->has_timeout = r > 0;
        h->timeout = (int) t;
        return 0;
}

static int parse_hook_list(sp_ctx *c, yajl_val hooks, const char *key, gk_hook_list *l)
{
        yajl_val v;
        size_t old;

        TRY(sp_arr(c, hooks, key, &v));
        if (!v)
                return 0;
        l->hooks = sp_calloc(c, v->u.array.len, sizeof(gk_hook));
        if (!l->hooks)
                return -ENOMEM;
        l->n = v->u.array.len;
        old = sp_push(c, key);
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                TRY(parse_hook(c, v->u.array.values[i], &l->hooks[i]));
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_hooks(sp_ctx *c, yajl_val top, gk_hooks *h)
{
        yajl_val v;
        size_t old;

        TRY(sp_obj(c, top, "hooks", &v));
        if (!v)
                return 0;
        old = sp_push(c, "hooks");
        TRY(parse_hook_list(c, v, "prestart", &h->prestart));
        TRY(parse_hook_list(c, v, "createRuntime", &h->create_runtime));
        TRY(parse_hook_list(c, v, "createContainer", &h->create_container));
        TRY(parse_hook_list(c, v, "startContainer", &h->start_container));
        TRY(parse_hook_list(c, v, "poststart", &h->poststart));
        TRY(parse_hook_list(c, v, "poststop", &h->poststop));
        sp_pop(c, old);
        return 0;
}

static int parse_version(sp_ctx *c, yajl_val top, gk_spec *s)
{
        TRY(required(c, "ociVersion", sp_str(c, top, "ociVersion", &s->oci_version)));
        if (strncmp(s->oci_version, "1.", 2) != 0) {
                sp_push(c, "ociVersion");
                return sp_fail(c, "unsupported version \"%s\" (gk supports 1.x)", s->oci_version);
        }
        return 0;
}

static int parse_top(sp_ctx *c, yajl_val top, gk_spec *s)
{
        yajl_val v;

        if (!YAJL_IS_OBJECT(top))
                return sp_fail(c, "must be a JSON object");
        TRY(parse_version(c, top, s));
        v = gk_json_get(top, "process");
        if (v && !YAJL_IS_NULL(v)) {
                size_t old = sp_push(c, "process");

                TRY(spec_parse_process(c, v, &s->process));
                sp_pop(c, old);
        }
        TRY(parse_root(c, top, &s->root));
        TRY(sp_str(c, top, "hostname", &s->hostname));
        TRY(sp_str(c, top, "domainname", &s->domainname));
        TRY(parse_mounts(c, top, s));
        TRY(parse_hooks(c, top, &s->hooks));
        TRY(sp_map(c, top, "annotations", &s->annotations, &s->n_annotations));
        TRY(sp_obj(c, top, "linux", &v));
        if (v) {
                size_t old = sp_push(c, "linux");

                TRY(spec_parse_linux(c, v, &s->linux));
                sp_pop(c, old);
        }
        return 0;
}

int gk_spec_parse(const char *text, size_t len, const char *what, gk_spec **out,
                  gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val top = NULL;
        _cleanup_(gk_spec_freep) gk_spec *s = NULL;
        sp_ctx c;

        if (gk_json_parse(text, len, what, &top, err) < 0)
                return gk_error_code(*err);
        sp_init(&c, what, err);
        s = calloc(1, sizeof(*s));
        if (!s)
                return sp_nomem(&c);
        TRY(parse_top(&c, top, s));
        *out = TAKE_PTR(s);
        return 0;
}

int gk_process_parse(const char *text, size_t len, const char *what, gk_process **out,
                     gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val top = NULL;
        sp_ctx c;

        if (gk_json_parse(text, len, what, &top, err) < 0)
                return gk_error_code(*err);
        sp_init(&c, what, err);
        return spec_parse_process(&c, top, out);
}

int gk_spec_load(const char *bundle, gk_spec **out, gk_error **err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;

        if (asprintf(&path, "%s/config.json", bundle ? bundle : ".") < 0)
                return gk_error_make(err, ENOMEM, "config.json");
        if (gk_read_file(path, &text, &len, err) < 0)
                return gk_error_code(*err);
        return gk_spec_parse(text, len, "config.json", out, err);
}

const char *gk_spec_annotation(const gk_spec *spec, const char *key)
{
        for (size_t i = 0; spec && i < spec->n_annotations; i++)
                if (strcmp(spec->annotations[i].key, key) == 0)
                        return spec->annotations[i].value;
        return NULL;
}
