/* config.json parsing of the linux object: namespaces, id mappings, time
 * offsets, devices, sysctl, masked and read-only paths, seccomp,
 * personality, rootfsPropagation; linux.resources is in
 * spec_parse_resources.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "spec_internal.h"

#define TRY(expr)                                                              \
        do {                                                                   \
                int _r = (expr);                                               \
                if (_r < 0)                                                    \
                        return _r;                                             \
        } while (0)

static int fail_at(sp_ctx *c, const char *key, const char *msg)
{
        sp_push(c, key);
        return sp_fail(c, "%s", msg);
}

static int parse_namespace(sp_ctx *c, yajl_val v, gk_linux *l)
{
        _cleanup_free_ char *type = NULL;
        char *path = NULL;
        int t;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        TRY(sp_str(c, v, "type", &type));
        if (!type)
                return fail_at(c, "type", "required");
        t = gk_ns_type_from_name(type);
        if (t < 0) {
                sp_push(c, "type");
                return sp_fail(c, "unknown namespace \"%s\"", type);
        }
        if (l->namespaces[t].present) {
                sp_push(c, "type");
                return sp_fail(c, "duplicate namespace \"%s\"", type);
        }
        l->namespaces[t].present = true;
        TRY(sp_str(c, v, "path", &path));
        l->namespaces[t].path = path;
        if (path && path[0] != '/')
                return fail_at(c, "path", "must be an absolute path");
        return 0;
}

static int parse_namespaces(sp_ctx *c, yajl_val lv, gk_linux *l)
{
        yajl_val v;
        size_t old;

        TRY(sp_arr(c, lv, "namespaces", &v));
        if (!v)
                return 0;
        old = sp_push(c, "namespaces");
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                TRY(parse_namespace(c, v->u.array.values[i], l));
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

/* A user namespace created by gk needs mappings; mappings need a user
 * namespace (joining one by path takes the mappings it has). */
static int check_userns(sp_ctx *c, const gk_linux *l)
{
        const gk_namespace *u = &l->namespaces[GK_NS_USER];

        if (!u->present) {
                if (l->n_uid_mappings)
                        return fail_at(c, "uidMappings", "given but linux.namespaces has no user namespace");
                if (l->n_gid_mappings)
                        return fail_at(c, "gidMappings", "given but linux.namespaces has no user namespace");
                return 0;
        }
        if (u->path)
                return 0;
        if (!l->n_uid_mappings)
                return fail_at(c, "uidMappings", "required with a new user namespace");
        if (!l->n_gid_mappings)
                return fail_at(c, "gidMappings", "required with a new user namespace");
        return 0;
}

static int parse_time_offset(sp_ctx *c, yajl_val obj, const char *key, gk_time_offset *t)
{
        yajl_val v;
        uint64_t ns = 0;
        size_t old;

        TRY(sp_obj(c, obj, key, &v));
        if (!v)
                return 0;
        t->present = true;
        old = sp_push(c, key);
        TRY(sp_i64(c, v, "secs", INT64_MIN, INT64_MAX, &t->secs));
        TRY(sp_u64(c, v, "nanosecs", 999999999, &ns));
        t->nanosecs = (uint32_t) ns;
        sp_pop(c, old);
        return 0;
}

static int parse_time_offsets(sp_ctx *c, yajl_val lv, gk_linux *l)
{
        yajl_val v;
        size_t old;

        TRY(sp_obj(c, lv, "timeOffsets", &v));
        if (!v)
                return 0;
        old = sp_push(c, "timeOffsets");
        TRY(parse_time_offset(c, v, "monotonic", &l->time_offsets_monotonic));
        TRY(parse_time_offset(c, v, "boottime", &l->time_offsets_boottime));
        if (!l->namespaces[GK_NS_TIME].present || l->namespaces[GK_NS_TIME].path)
                if (l->time_offsets_monotonic.present || l->time_offsets_boottime.present)
                        return sp_fail(c, "needs a new time namespace in linux.namespaces");
        sp_pop(c, old);
        return 0;
}

/* podman writes fileMode as a Go os.FileMode turned into a stat mode, with
 * the file-type bits (8630 = 020666 for a character device); runc and crun
 * take it and use the permission bits, so do we.  A file type there that is
 * not the one `type` names is a contradiction, not something to guess at. */
static int parse_file_mode(sp_ctx *c, yajl_val v, char type, uint64_t *perm)
{
        mode_t want = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
        uint64_t mode = 0;
        int r;

        TRY(r = sp_u64(c, v, "fileMode", S_IFMT | 07777, &mode));
        if (r > 0 && (mode & S_IFMT) && (mode & S_IFMT) != want) {
                sp_push(c, "fileMode");
                return sp_fail(c, "file type 0%o contradicts type \"%c\"",
                               (unsigned) (mode & S_IFMT), type);
        }
        *perm = mode & 07777;
        return r;
}

static int parse_device(sp_ctx *c, yajl_val v, gk_device *d)
{
        _cleanup_free_ char *type = NULL;
        uint64_t mode = 0;
        int r, rmaj, rmin;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        TRY(sp_str(c, v, "path", &d->path));
        if (!d->path)
                return fail_at(c, "path", "required");
        if (d->path[0] != '/')
                return fail_at(c, "path", "must be an absolute path");
        TRY(sp_str(c, v, "type", &type));
        if (!type)
                return fail_at(c, "type", "required");
        if (strlen(type) != 1 || !strchr("cbup", type[0])) {
                sp_push(c, "type");
                return sp_fail(c, "unknown device type \"%s\" (want c, b, u or p)", type);
        }
        d->type = type[0];
        TRY(rmaj = sp_i64(c, v, "major", 0, INT64_MAX, &d->major));
        TRY(rmin = sp_i64(c, v, "minor", 0, INT64_MAX, &d->minor));
        if (d->type != 'p' && !rmaj)
                return fail_at(c, "major", "required for a character or block device");
        if (d->type != 'p' && !rmin)
                return fail_at(c, "minor", "required for a character or block device");
        TRY(r = parse_file_mode(c, v, d->type, &mode));
        d->has_file_mode = r > 0;
        d->file_mode = (mode_t) mode;
        TRY(r = sp_u32(c, v, "uid", &d->uid));
        d->has_uid = r > 0;
        TRY(r = sp_u32(c, v, "gid", &d->gid));
        d->has_gid = r > 0;
        return 0;
}

static int parse_devices(sp_ctx *c, yajl_val lv, gk_linux *l)
{
        yajl_val v;
        size_t old;

        TRY(sp_arr(c, lv, "devices", &v));
        if (!v)
                return 0;
        l->devices = sp_calloc(c, v->u.array.len, sizeof(gk_device));
        if (!l->devices)
                return -ENOMEM;
        l->n_devices = v->u.array.len;
        old = sp_push(c, "devices");
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                TRY(parse_device(c, v->u.array.values[i], &l->devices[i]));
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_abs_paths(sp_ctx *c, yajl_val lv, const char *key, char ***out, size_t *n)
{
        size_t old;

        TRY(sp_strv(c, lv, key, out, n));
        old = sp_push(c, key);
        for (size_t i = 0; i < *n; i++)
                if ((*out)[i][0] != '/') {
                        sp_push_idx(c, i);
                        return sp_fail(c, "must be an absolute path");
                }
        sp_pop(c, old);
        return 0;
}

static int parse_seccomp_arg(sp_ctx *c, yajl_val v, gk_seccomp_arg *a)
{
        _cleanup_free_ char *op = NULL;
        uint64_t idx = 0;
        int o;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        if (!gk_json_get(v, "index"))
                return fail_at(c, "index", "required");
        TRY(sp_u64(c, v, "index", 5, &idx));
        a->index = (unsigned) idx;
        if (!gk_json_get(v, "value"))
                return fail_at(c, "value", "required");
        TRY(sp_u64(c, v, "value", UINT64_MAX, &a->value));
        TRY(sp_u64(c, v, "valueTwo", UINT64_MAX, &a->value_two));
        TRY(sp_str(c, v, "op", &op));
        if (!op)
                return fail_at(c, "op", "required");
        o = spec_seccomp_op_from_name(op);
        if (o < 0) {
                sp_push(c, "op");
                return sp_fail(c, "unknown operator \"%s\"", op);
        }
        a->op = (enum gk_seccomp_op) o;
        return 0;
}

static int parse_action(sp_ctx *c, yajl_val obj, const char *key, enum gk_seccomp_action *out)
{
        _cleanup_free_ char *name = NULL;
        int a;

        TRY(sp_str(c, obj, key, &name));
        if (!name)
                return fail_at(c, key, "required");
        a = spec_seccomp_action_from_name(name);
        if (a < 0) {
                sp_push(c, key);
                return sp_fail(c, "unknown action \"%s\"", name);
        }
        *out = (enum gk_seccomp_action) a;
        return 0;
}

static int parse_errno_ret(sp_ctx *c, yajl_val obj, const char *key,
                           enum gk_seccomp_action action, bool *has, uint32_t *out)
{
        int r;

        TRY(r = sp_u32(c, obj, key, out));
        *has = r > 0;
        if (*has && action != GK_SCMP_ERRNO && action != GK_SCMP_TRACE)
                return fail_at(c, key, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        return 0;
}

static int parse_seccomp_rule(sp_ctx *c, yajl_val v, gk_seccomp_rule *rule)
{
        yajl_val args;
        size_t old;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        TRY(sp_strv(c, v, "names", &rule->names, &rule->n_names));
        if (!rule->n_names)
                return fail_at(c, "names", "must be a non-empty array");
        TRY(parse_action(c, v, "action", &rule->action));
        TRY(parse_errno_ret(c, v, "errnoRet", rule->action, &rule->has_errno_ret, &rule->errno_ret));
        TRY(sp_arr(c, v, "args", &args));
        if (!args)
                return 0;
        rule->args = sp_calloc(c, args->u.array.len, sizeof(gk_seccomp_arg));
        if (!rule->args)
                return -ENOMEM;
        rule->n_args = args->u.array.len;
        old = sp_push(c, "args");
        for (size_t i = 0; i < args->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                TRY(parse_seccomp_arg(c, args->u.array.values[i], &rule->args[i]));
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int check_names(sp_ctx *c, const char *key, char **names, size_t n,
                       bool (*known)(const char *), const char *what)
{
        size_t old = sp_push(c, key);

        for (size_t i = 0; i < n; i++)
                if (!known(names[i])) {
                        sp_push_idx(c, i);
                        return sp_fail(c, "unknown %s \"%s\"", what, names[i]);
                }
        sp_pop(c, old);
        return 0;
}

static int parse_seccomp_body(sp_ctx *c, yajl_val v, gk_seccomp *s)
{
        yajl_val sc;
        size_t old;

        TRY(parse_action(c, v, "defaultAction", &s->default_action));
        if (s->default_action == GK_SCMP_NOTIFY)
                return fail_at(c, "defaultAction", "SCMP_ACT_NOTIFY cannot be the default action");
        TRY(parse_errno_ret(c, v, "defaultErrnoRet", s->default_action, &s->has_default_errno_ret,
                            &s->default_errno_ret));
        TRY(sp_strv(c, v, "architectures", &s->architectures, &s->n_architectures));
        TRY(check_names(c, "architectures", s->architectures, s->n_architectures,
                        spec_seccomp_arch_known, "architecture"));
        TRY(sp_strv(c, v, "flags", &s->flags, &s->n_flags));
        TRY(check_names(c, "flags", s->flags, s->n_flags, spec_seccomp_flag_known, "flag"));
        TRY(sp_str(c, v, "listenerPath", &s->listener_path));
        TRY(sp_str(c, v, "listenerMetadata", &s->listener_metadata));
        TRY(sp_arr(c, v, "syscalls", &sc));
        if (!sc)
                return 0;
        s->syscalls = sp_calloc(c, sc->u.array.len, sizeof(gk_seccomp_rule));
        if (!s->syscalls)
                return -ENOMEM;
        s->n_syscalls = sc->u.array.len;
        old = sp_push(c, "syscalls");
        for (size_t i = 0; i < sc->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                TRY(parse_seccomp_rule(c, sc->u.array.values[i], &s->syscalls[i]));
                if (s->syscalls[i].action == GK_SCMP_NOTIFY && !s->listener_path)
                        return fail_at(c, "action", "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_seccomp(sp_ctx *c, yajl_val lv, gk_seccomp *s)
{
        yajl_val v;
        size_t old;

        TRY(sp_obj(c, lv, "seccomp", &v));
        if (!v)
                return 0;
        s->present = true;
        old = sp_push(c, "seccomp");
        TRY(parse_seccomp_body(c, v, s));
        sp_pop(c, old);
        return 0;
}

int gk_seccomp_parse(const char *text, size_t len, const char *what, gk_seccomp *out,
                     gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        sp_ctx c;
        int r;

        *out = (gk_seccomp){ 0 };
        if (gk_json_parse(text, len, what, &v, err) < 0)
                return gk_error_code(*err);
        sp_init(&c, what, err);
        if (!YAJL_IS_OBJECT(v))
                return sp_fail(&c, "must be an object");
        out->present = true;
        r = parse_seccomp_body(&c, v, out);
        if (r < 0)
                gk_seccomp_clear(out);
        return r;
}

static int parse_personality(sp_ctx *c, yajl_val lv, gk_personality *p)
{
        yajl_val v;
        size_t old;

        TRY(sp_obj(c, lv, "personality", &v));
        if (!v)
                return 0;
        p->present = true;
        old = sp_push(c, "personality");
        TRY(sp_str(c, v, "domain", &p->domain));
        if (!p->domain)
                return fail_at(c, "domain", "required");
        if (strcmp(p->domain, "LINUX") != 0 && strcmp(p->domain, "LINUX32") != 0) {
                sp_push(c, "domain");
                return sp_fail(c, "unknown domain \"%s\" (want LINUX or LINUX32)", p->domain);
        }
        sp_pop(c, old);
        return 0;
}

static int parse_misc(sp_ctx *c, yajl_val lv, gk_linux *l)
{
        yajl_val v;

        TRY(sp_str(c, lv, "cgroupsPath", &l->cgroups_path));
        TRY(sp_str(c, lv, "rootfsPropagation", &l->rootfs_propagation));
        if (l->rootfs_propagation) {
                l->rootfs_propagation_flags = spec_propagation_flags(l->rootfs_propagation);
                if (!l->rootfs_propagation_flags) {
                        sp_push(c, "rootfsPropagation");
                        return sp_fail(c, "unknown propagation \"%s\"", l->rootfs_propagation);
                }
        }
        TRY(sp_map(c, lv, "sysctl", &l->sysctl, &l->n_sysctl));
        TRY(parse_abs_paths(c, lv, "maskedPaths", &l->masked_paths, &l->n_masked_paths));
        TRY(parse_abs_paths(c, lv, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths));
        TRY(sp_str(c, lv, "mountLabel", &l->mount_label));
        TRY(sp_obj(c, lv, "intelRdt", &v));
        if (v) {
                size_t old = sp_push(c, "intelRdt");

                TRY(sp_str(c, v, "closID", &l->intel_rdt_clos_id));
                sp_pop(c, old);
        }
        return 0;
}

int spec_parse_linux(sp_ctx *c, yajl_val lv, gk_linux *l)
{
        yajl_val v;

        TRY(parse_namespaces(c, lv, l));
        TRY(spec_parse_idmaps(c, lv, "uidMappings", &l->uid_mappings, &l->n_uid_mappings));
        TRY(spec_parse_idmaps(c, lv, "gidMappings", &l->gid_mappings, &l->n_gid_mappings));
        TRY(check_userns(c, l));
        TRY(parse_time_offsets(c, lv, l));
        TRY(parse_devices(c, lv, l));
        TRY(parse_misc(c, lv, l));
        TRY(sp_obj(c, lv, "resources", &v));
        if (v) {
                size_t old = sp_push(c, "resources");

                TRY(spec_parse_resources(c, v, &l->resources));
                sp_pop(c, old);
        }
        TRY(parse_seccomp(c, lv, &l->seccomp));
        TRY(parse_personality(c, lv, &l->personality));
        return 0;
}
