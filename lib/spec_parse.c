/* config.json parsing, top level: ociVersion, process, root, hostname,
 * mounts (with option decomposition), hooks and annotations; linux.* is in
 * spec_parse_linux.c.  One pass over the yajl tree, by the tables of
 * spec_fields.c; every failure names the field ("config.json: process.args:
 * must be a non-empty array"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "spec_internal.h"

/* Runs a sp_* reader and leaves the calling function on failure. */
#define TRY(expr)                  \
        do {                       \
                int _r = (expr);   \
                if (_r < 0)        \
                        return _r; \
        } while (0)

static int additional_gid(sp_ctx *c, yajl_val e, size_t i, void *p)
{
        gk_user *u = p;
        uint64_t g;

        TRY(sp_val_u64(c, e, UINT32_MAX, &g));
        u->additional_gids[i] = (gid_t) g;
        return 0;
}

static int additional_gids(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_user *u = base;

        if (!YAJL_IS_ARRAY(v))
                return sp_fail(c, "must be an array");
        u->additional_gids = sp_calloc(c, v->u.array.len, sizeof(gid_t));
        if (!u->additional_gids)
                return -ENOMEM;
        u->n_additional_gids = v->u.array.len;
        return sp_each(c, v, additional_gid, u);
}

static const sp_field user_fields[] = {
        { "uid", sp_f_uint, SP_AT(gk_user, uid) },
        { "gid", sp_f_uint, SP_AT(gk_user, gid) },
        { "umask", sp_f_uint, SP_AT(gk_user, umask), SP_HAS(gk_user, has_umask), .max = 0777 },
        { "username", sp_f_str, SP_AT(gk_user, username) },
        { "additionalGids", additional_gids },
        SP_END,
};

static int capset(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_capset *set = SP_PTR(f, base);
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;

        TRY(sp_val_strv(c, v, &names, &n));
        set->caps = sp_calloc(c, n, sizeof(int));
        if (!set->caps)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int cap = gk_cap_from_name(names[i]);

                if (cap < 0) {
                        sp_push_idx(c, i);
                        return sp_fail(c, "unknown capability \"%s\"", names[i]);
                }
                set->caps[set->n++] = cap;
        }
        return 0;
}

static const sp_field capabilities_fields[] = {
        { "bounding", capset, SP_AT(gk_capabilities, bounding) },
        { "effective", capset, SP_AT(gk_capabilities, effective) },
        { "inheritable", capset, SP_AT(gk_capabilities, inheritable) },
        { "permitted", capset, SP_AT(gk_capabilities, permitted) },
        { "ambient", capset, SP_AT(gk_capabilities, ambient) },
        SP_END,
};

static int rlimit_order(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        const gk_rlimit *rl = base;

        return rl->soft > rl->hard ? sp_fail(c, "soft limit is above the hard limit") : 0;
}

static const sp_field rlimit_type_fields[] = {
        { "type", sp_f_str, SP_AT(gk_rlimit, type), .flags = SP_REQUIRED },
        SP_END,
};

static const sp_field rlimit_limit_fields[] = {
        { "soft", sp_f_uint, SP_AT(gk_rlimit, soft), .flags = SP_REQUIRED },
        { "hard", sp_f_uint, SP_AT(gk_rlimit, hard), .flags = SP_REQUIRED },
        { NULL, rlimit_order },
        SP_END,
};

/* Each type once: which ones were seen is kept across the elements, and
 * checked before the limits, so the two tables. */
static int rlimit(sp_ctx *c, yajl_val e, size_t i, void *p)
{
        gk_process *proc = p;
        gk_rlimit *rl = &proc->rlimits[i];
        uint64_t bit, seen = 0;
        size_t old;

        TRY(sp_fields(c, e, rlimit_type_fields, rl));
        rl->resource = gk_rlimit_from_name(rl->type);
        old = sp_push(c, "type");
        if (rl->resource < 0)
                return sp_fail(c, "unknown rlimit \"%s\"", rl->type);
        bit = UINT64_C(1) << rl->resource;
        for (size_t j = 0; j < i; j++)
                seen |= UINT64_C(1) << proc->rlimits[j].resource;
        if (seen & bit)
                return sp_fail(c, "duplicate rlimit \"%s\"", rl->type);
        sp_pop(c, old);
        return sp_fields(c, e, rlimit_limit_fields, rl);
}

static int rlimits(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_process *p = base;

        if (!YAJL_IS_ARRAY(v))
                return sp_fail(c, "must be an array");
        p->rlimits = sp_calloc(c, v->u.array.len, sizeof(gk_rlimit));
        if (!p->rlimits)
                return -ENOMEM;
        p->n_rlimits = v->u.array.len;
        return sp_each(c, v, rlimit, p);
}

static const sp_field console_size_fields[] = {
        { "height", sp_f_uint, SP_AT(gk_console_size, height), .flags = SP_REQUIRED },
        { "width", sp_f_uint, SP_AT(gk_console_size, width), .flags = SP_REQUIRED },
        SP_END,
};

static int ioprio_class(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_io_priority *io = base;
        _cleanup_free_ char *cls = NULL;

        TRY(sp_val_str(c, v, &cls));
        io->class = spec_ioprio_class_from_name(cls);
        return io->class < 0 ? sp_fail(c, "unknown class \"%s\"", cls) : 0;
}

static const sp_field io_priority_fields[] = {
        { "class", ioprio_class, .flags = SP_REQUIRED },
        { "priority", sp_f_int, SP_AT(gk_io_priority, priority), .min = 0, .max = 7 },
        SP_END,
};

/* Absent, null or empty alike: a process runs something. */
static int args(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        if (!YAJL_IS_ARRAY(v) || v->u.array.len == 0)
                return sp_fail(c, "must be a non-empty array");
        return sp_f_strv(c, v, f, base);
}

static const sp_field process_fields[] = {
        { "terminal", sp_f_bool, SP_AT(gk_process, terminal) },
        { "consoleSize", sp_f_object, SP_AT(gk_process, console_size),
          SP_HAS(gk_process, console_size.present), .sub = console_size_fields },
        { "ioPriority", sp_f_object, SP_AT(gk_process, io_priority),
          SP_HAS(gk_process, io_priority.present), .sub = io_priority_fields },
        { "user", sp_f_object, SP_AT(gk_process, user), .sub = user_fields },
        { "args", args, SP_AT(gk_process, args), SP_AUX(gk_process, n_args), .flags = SP_RAW },
        { "env", sp_f_strv, SP_AT(gk_process, env), SP_AUX(gk_process, n_env) },
        { "cwd", sp_f_abs, SP_AT(gk_process, cwd), .flags = SP_REQUIRED },
        { "capabilities", sp_f_object, SP_AT(gk_process, capabilities),
          SP_HAS(gk_process, capabilities.present), .sub = capabilities_fields },
        { "rlimits", rlimits },
        { "noNewPrivileges", sp_f_bool, SP_AT(gk_process, no_new_privileges) },
        { "apparmorProfile", sp_f_str, SP_AT(gk_process, apparmor_profile) },
        { "oomScoreAdj", sp_f_int, SP_AT(gk_process, oom_score_adj),
          SP_HAS(gk_process, has_oom_score_adj), .min = -1000, .max = 1000 },
        { "selinuxLabel", sp_f_str, SP_AT(gk_process, selinux_label) },
        /* runtime-spec fields gkrun does not apply: refused, never skipped */
        { "ioPriority", sp_f_unsupported },
        { "scheduler", sp_f_unsupported },
        { "execCPUAffinity", sp_f_unsupported },
        SP_END,
};

int spec_parse_process(sp_ctx *c, yajl_val v, gk_process **out)
{
        _cleanup_(gk_process_freep) gk_process *p = NULL;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        p = calloc(1, sizeof(*p));
        if (!p)
                return sp_nomem(c);
        TRY(sp_fields(c, v, process_fields, p));
        *out = TAKE_PTR(p);
        return 0;
}

static int idmap_range(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        const gk_idmap *m = base;

        if (m->size == 0 || (uint64_t) m->container_id + m->size > UINT32_MAX + UINT64_C(1) ||
            (uint64_t) m->host_id + m->size > UINT32_MAX + UINT64_C(1))
                return sp_fail(c, "range out of bounds (size must be positive and the "
                                  "range within 32 bits)");
        return 0;
}

static const sp_field idmap_fields[] = {
        { "containerID", sp_f_uint, SP_AT(gk_idmap, container_id), .flags = SP_REQUIRED },
        { "hostID", sp_f_uint, SP_AT(gk_idmap, host_id), .flags = SP_REQUIRED },
        { "size", sp_f_uint, SP_AT(gk_idmap, size), .flags = SP_REQUIRED },
        { NULL, idmap_range },
        SP_END,
};

const sp_array spec_idmap_array = { sizeof(gk_idmap), idmap_fields, NULL };

static int root_path(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char **path = SP_PTR(f, base);

        TRY(sp_val_str(c, v, path));
        return (*path)[0] ? 0 : sp_fail(c, "must not be empty");
}

static const sp_field root_fields[] = {
        { "path", root_path, SP_AT(gk_root, path), .flags = SP_REQUIRED },
        { "readonly", sp_f_bool, SP_AT(gk_root, readonly) },
        SP_END,
};

/* Splits options into flags and the filesystem's own data, in one pass. */
static int mount_decompose(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        gk_mount *m = base;
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

/* An idmapped mount maps both ids or neither. */
static int mount_idmap(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        gk_mount *m = base;

        if (!m->uid_mappings != !m->gid_mappings) {
                sp_push(c, m->uid_mappings ? "gidMappings" : "uidMappings");
                return sp_fail(c, "required with %s",
                               m->uid_mappings ? "uidMappings" : "gidMappings");
        }
        if (m->uid_mappings)
                m->idmap = true;
        return 0;
}

/* Mount options gkrun does not apply (spec_mount_option knows them). */
static int mount_options_unsupported(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        const gk_mount *m = base;
        const char *opt = m->tmpcopyup ? "tmpcopyup" : m->idmap_recursive ? "ridmap" : "idmap";

        (void) v;
        (void) f;
        if (!m->tmpcopyup && !m->idmap)
                return 0;
        sp_push(c, "options");
        return sp_fail(c, "\"%s\": not supported by gkrun", opt);
}

static const sp_field mount_fields[] = {
        { "destination", sp_f_abs, SP_AT(gk_mount, destination), .flags = SP_REQUIRED },
        { "type", sp_f_str, SP_AT(gk_mount, type) },
        { "source", sp_f_str, SP_AT(gk_mount, source) },
        { "options", sp_f_strv, SP_AT(gk_mount, options), SP_AUX(gk_mount, n_options) },
        { NULL, mount_decompose },
        { "uidMappings", sp_f_array, SP_AT(gk_mount, uid_mappings),
          SP_AUX(gk_mount, n_uid_mappings), .sub = &spec_idmap_array },
        { "gidMappings", sp_f_array, SP_AT(gk_mount, gid_mappings),
          SP_AUX(gk_mount, n_gid_mappings), .sub = &spec_idmap_array },
        { NULL, mount_idmap },
        /* runtime-spec fields gkrun does not apply: refused, never skipped */
        { "uidMappings", sp_f_unsupported },
        { "gidMappings", sp_f_unsupported },
        { NULL, mount_options_unsupported },
        SP_END,
};

static const sp_array mount_array = { sizeof(gk_mount), mount_fields, NULL };

static int hook_timeout(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        int64_t t;

        TRY(sp_val_i64(c, v, INT64_MIN, INT64_MAX, &t));
        if (t <= 0 || t > INT32_MAX)
                return sp_fail(c, "must be a positive integer");
        *(int *) SP_PTR(f, base) = (int) t;
        return 0;
}

static const sp_field hook_fields[] = {
        { "path", sp_f_abs, SP_AT(gk_hook, path), .flags = SP_REQUIRED },
        { "args", sp_f_strv, SP_AT(gk_hook, args), SP_AUX(gk_hook, n_args) },
        { "env", sp_f_strv, SP_AT(gk_hook, env), SP_AUX(gk_hook, n_env) },
        { "timeout", hook_timeout, SP_AT(gk_hook, timeout), SP_HAS(gk_hook, has_timeout) },
        SP_END,
};

static const sp_array hook_array = { sizeof(gk_hook), hook_fields, NULL };

#define HOOK_LIST(key, m)                                                         \
        {                                                                         \
                key, sp_f_array, SP_AT(gk_hooks, m.hooks), SP_AUX(gk_hooks, m.n), \
                        .sub = &hook_array                                        \
        }

static const sp_field hooks_fields[] = {
        HOOK_LIST("prestart", prestart),
        HOOK_LIST("createRuntime", create_runtime),
        HOOK_LIST("createContainer", create_container),
        HOOK_LIST("startContainer", start_container),
        HOOK_LIST("poststart", poststart),
        HOOK_LIST("poststop", poststop),
        SP_END,
};

static int oci_version(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char **version = SP_PTR(f, base);

        TRY(sp_val_str(c, v, version));
        if (strncmp(*version, "1.", 2) != 0)
                return sp_fail(c, "unsupported version \"%s\" (gk supports 1.x)", *version);
        return 0;
}

static int process(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return spec_parse_process(c, v, SP_PTR(f, base));
}

static const sp_field spec_fields[] = {
        { "ociVersion", oci_version, SP_AT(gk_spec, oci_version), .flags = SP_REQUIRED },
        { "process", process, SP_AT(gk_spec, process) },
        { "root", sp_f_object, SP_AT(gk_spec, root), .flags = SP_REQUIRED, .sub = root_fields },
        { "hostname", sp_f_str, SP_AT(gk_spec, hostname) },
        { "domainname", sp_f_str, SP_AT(gk_spec, domainname) },
        { "mounts", sp_f_array, SP_AT(gk_spec, mounts), SP_AUX(gk_spec, n_mounts),
          .sub = &mount_array },
        { "hooks", sp_f_object, SP_AT(gk_spec, hooks), .sub = hooks_fields },
        { "annotations", sp_f_map, SP_AT(gk_spec, annotations), SP_AUX(gk_spec, n_annotations) },
        { "linux", sp_f_object, SP_AT(gk_spec, linux), .sub = spec_linux_fields },
        SP_END,
};

static int parse_top(sp_ctx *c, yajl_val top, gk_spec *s)
{
        if (!YAJL_IS_OBJECT(top))
                return sp_fail(c, "must be a JSON object");
        return sp_fields(c, top, spec_fields, s);
}

int gk_spec_parse(const char *text, size_t len, const char *what, gk_spec **out, gk_error **err)
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
