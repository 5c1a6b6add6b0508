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

#define TRY(expr)                  \
        do {                       \
                int _r = (expr);   \
                if (_r < 0)        \
                        return _r; \
        } while (0)

static int parse_namespace(sp_ctx *c, yajl_val v, size_t i, void *p)
{
        gk_linux *l = p;
        _cleanup_free_ char *type = NULL;
        char *path = NULL;
        int t;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        TRY(sp_str(c, v, "type", &type));
        if (!type)
                return sp_fail_at(c, "type", "required");
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
                return sp_fail_at(c, "path", "must be an absolute path");
        return 0;
}

/* The elements are not stored in order but by type, each type once. */
static int namespaces(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        if (!YAJL_IS_ARRAY(v))
                return sp_fail(c, "must be an array");
        return sp_each(c, v, parse_namespace, base);
}

/* A user namespace created by gk needs mappings; mappings need a user
 * namespace (joining one by path takes the mappings it has). */
static int check_userns(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        const gk_linux *l = base;
        const gk_namespace *u = &l->namespaces[GK_NS_USER];

        if (!u->present) {
                if (l->n_uid_mappings)
                        return sp_fail_at(c, "uidMappings",
                                          "given but linux.namespaces has no user namespace");
                if (l->n_gid_mappings)
                        return sp_fail_at(c, "gidMappings",
                                          "given but linux.namespaces has no user namespace");
                return 0;
        }
        if (u->path)
                return 0;
        if (!l->n_uid_mappings)
                return sp_fail_at(c, "uidMappings", "required with a new user namespace");
        if (!l->n_gid_mappings)
                return sp_fail_at(c, "gidMappings", "required with a new user namespace");
        return 0;
}

static const sp_field time_offset_fields[] = {
        { "secs", sp_f_int, SP_AT(gk_time_offset, secs), .min = INT64_MIN, .max = INT64_MAX },
        { "nanosecs", sp_f_uint, SP_AT(gk_time_offset, nanosecs), .max = 999999999 },
        SP_END,
};

static int check_timens(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        const gk_linux *l = base;

        if (!l->namespaces[GK_NS_TIME].present || l->namespaces[GK_NS_TIME].path)
                if (l->time_offsets_monotonic.present || l->time_offsets_boottime.present)
                        return sp_fail(c, "needs a new time namespace in linux.namespaces");
        return 0;
}

#define TIME_OFFSET(key, m)                                                        \
        {                                                                          \
                key, sp_f_object, SP_AT(gk_linux, m), SP_HAS(gk_linux, m.present), \
                        .sub = time_offset_fields                                  \
        }

/* Read into gk_linux itself: the offsets are two of its members. */
static const sp_field time_offsets_fields[] = {
        TIME_OFFSET("monotonic", time_offsets_monotonic),
        TIME_OFFSET("boottime", time_offsets_boottime),
        { NULL, check_timens },
        SP_END,
};

static int device_type(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        _cleanup_free_ char *type = NULL;

        TRY(sp_val_str(c, v, &type));
        if (strlen(type) != 1 || !strchr("cbup", type[0]))
                return sp_fail(c, "unknown device type \"%s\" (want c, b, u or p)", type);
        *(char *) SP_PTR(f, base) = type[0];
        return 0;
}

static int device_numbers(sp_ctx *c, yajl_val obj, const sp_field *f, void *base)
{
        const gk_device *d = base;
        yajl_val major = gk_json_get(obj, "major"), minor = gk_json_get(obj, "minor");

        if (d->type != 'p' && (!major || YAJL_IS_NULL(major)))
                return sp_fail_at(c, "major", "required for a character or block device");
        if (d->type != 'p' && (!minor || YAJL_IS_NULL(minor)))
                return sp_fail_at(c, "minor", "required for a character or block device");
        return 0;
}

/* podman writes fileMode as a Go os.FileMode turned into a stat mode, with
 * the file-type bits (8630 = 020666 for a character device); runc and crun
 * take it and use the permission bits, so do we.  A file type there that is
 * not the one `type` names is a contradiction, not something to guess at. */
static int file_mode(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_device *d = base;
        mode_t want = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        uint64_t mode;

        TRY(sp_val_u64(c, v, S_IFMT | 07777, &mode));
        if ((mode & S_IFMT) && (mode & S_IFMT) != want)
                return sp_fail(c, "file type 0%o contradicts type \"%c\"",
                               (unsigned) (mode & S_IFMT), d->type);
        d->file_mode = (mode_t) (mode & 07777);
        return 0;
}

static const sp_field device_fields[] = {
        { "path", sp_f_abs, SP_AT(gk_device, path), .flags = SP_REQUIRED },
        { "type", device_type, SP_AT(gk_device, type), .flags = SP_REQUIRED },
        { "major", sp_f_int, SP_AT(gk_device, major), .min = 0, .max = INT64_MAX },
        { "minor", sp_f_int, SP_AT(gk_device, minor), .min = 0, .max = INT64_MAX },
        { NULL, device_numbers },
        { "fileMode", file_mode, SP_HAS(gk_device, has_file_mode) },
        { "uid", sp_f_uint, SP_AT(gk_device, uid), SP_HAS(gk_device, has_uid) },
        { "gid", sp_f_uint, SP_AT(gk_device, gid), SP_HAS(gk_device, has_gid) },
        SP_END,
};

static const sp_array device_array = { sizeof(gk_device), device_fields, NULL };

static int abs_paths(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char ***paths = SP_PTR(f, base);
        size_t *n = SP_AUXPTR(f, base);

        TRY(sp_f_strv(c, v, f, base));
        for (size_t i = 0; i < *n; i++)
                if ((*paths)[i][0] != '/') {
                        sp_push_idx(c, i);
                        return sp_fail(c, "must be an absolute path");
                }
        return 0;
}

static int seccomp_op(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        _cleanup_free_ char *op = NULL;
        int o;

        TRY(sp_val_str(c, v, &op));
        o = spec_seccomp_op_from_name(op);
        if (o < 0)
                return sp_fail(c, "unknown operator \"%s\"", op);
        *(enum gk_seccomp_op *) SP_PTR(f, base) = (enum gk_seccomp_op) o;
        return 0;
}

static const sp_field seccomp_arg_fields[] = {
        { "index", sp_f_uint, SP_AT(gk_seccomp_arg, index), .max = 5, .flags = SP_KEY_REQUIRED },
        { "value", sp_f_uint, SP_AT(gk_seccomp_arg, value), .flags = SP_KEY_REQUIRED },
        { "valueTwo", sp_f_uint, SP_AT(gk_seccomp_arg, value_two) },
        { "op", seccomp_op, SP_AT(gk_seccomp_arg, op), .flags = SP_REQUIRED },
        SP_END,
};

static const sp_array seccomp_arg_array = { sizeof(gk_seccomp_arg), seccomp_arg_fields, NULL };

static int seccomp_action(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        _cleanup_free_ char *name = NULL;
        int a;

        TRY(sp_val_str(c, v, &name));
        a = spec_seccomp_action_from_name(name);
        if (a < 0)
                return sp_fail(c, "unknown action \"%s\"", name);
        *(enum gk_seccomp_action *) SP_PTR(f, base) = (enum gk_seccomp_action) a;
        return 0;
}

/* An errno return is for the action at F->aux that can return one. */
static int errno_ret(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        enum gk_seccomp_action action = *(enum gk_seccomp_action *) SP_AUXPTR(f, base);

        TRY(sp_f_uint(c, v, f, base));
        if (action != GK_SCMP_ERRNO && action != GK_SCMP_TRACE)
                return sp_fail(c, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
        return 0;
}

static int rule_names(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        if (v)
                TRY(sp_f_strv(c, v, f, base));
        if (!*(size_t *) SP_AUXPTR(f, base))
                return sp_fail(c, "must be a non-empty array");
        return 0;
}

static const sp_field seccomp_rule_fields[] = {
        { "names", rule_names, SP_AT(gk_seccomp_rule, names), SP_AUX(gk_seccomp_rule, n_names),
          .flags = SP_RAW },
        { "action", seccomp_action, SP_AT(gk_seccomp_rule, action), .flags = SP_REQUIRED },
        { "errnoRet", errno_ret, SP_AT(gk_seccomp_rule, errno_ret),
          SP_HAS(gk_seccomp_rule, has_errno_ret), SP_AUX(gk_seccomp_rule, action) },
        { "args", sp_f_array, SP_AT(gk_seccomp_rule, args), SP_AUX(gk_seccomp_rule, n_args),
          .sub = &seccomp_arg_array },
        SP_END,
};

static int rule_listener(sp_ctx *c, void *elem, void *base)
{
        const gk_seccomp_rule *rule = elem;
        const gk_seccomp *s = base;

        if (rule->action == GK_SCMP_NOTIFY && !s->listener_path)
                return sp_fail_at(c, "action", "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
        return 0;
}

static const sp_array seccomp_rule_array = { sizeof(gk_seccomp_rule), seccomp_rule_fields,
                                             rule_listener };

static int default_action(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        TRY(seccomp_action(c, v, f, base));
        if (*(enum gk_seccomp_action *) SP_PTR(f, base) == GK_SCMP_NOTIFY)
                return sp_fail(c, "SCMP_ACT_NOTIFY cannot be the default action");
        return 0;
}

static int known_names(sp_ctx *c, yajl_val v, const sp_field *f, void *base,
                       bool (*known)(const char *), const char *what)
{
        char ***names = SP_PTR(f, base);
        size_t *n = SP_AUXPTR(f, base);

        TRY(sp_f_strv(c, v, f, base));
        for (size_t i = 0; i < *n; i++)
                if (!known((*names)[i])) {
                        sp_push_idx(c, i);
                        return sp_fail(c, "unknown %s \"%s\"", what, (*names)[i]);
                }
        return 0;
}

static int architectures(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return known_names(c, v, f, base, spec_seccomp_arch_known, "architecture");
}

static int seccomp_flags(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        return known_names(c, v, f, base, spec_seccomp_flag_known, "flag");
}

const sp_field spec_seccomp_fields[] = {
        { "defaultAction", default_action, SP_AT(gk_seccomp, default_action),
          .flags = SP_REQUIRED },
        { "defaultErrnoRet", errno_ret, SP_AT(gk_seccomp, default_errno_ret),
          SP_HAS(gk_seccomp, has_default_errno_ret), SP_AUX(gk_seccomp, default_action) },
        { "architectures", architectures, SP_AT(gk_seccomp, architectures),
          SP_AUX(gk_seccomp, n_architectures) },
        { "flags", seccomp_flags, SP_AT(gk_seccomp, flags), SP_AUX(gk_seccomp, n_flags) },
        { "listenerPath", sp_f_str, SP_AT(gk_seccomp, listener_path) },
        { "listenerMetadata", sp_f_str, SP_AT(gk_seccomp, listener_metadata) },
        { "syscalls", sp_f_array, SP_AT(gk_seccomp, syscalls), SP_AUX(gk_seccomp, n_syscalls),
          .sub = &seccomp_rule_array },
        SP_END,
};

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
        r = sp_fields(&c, v, spec_seccomp_fields, out);
        if (r < 0)
                gk_seccomp_clear(out);
        return r;
}

static int domain(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char **d = SP_PTR(f, base);

        TRY(sp_val_str(c, v, d));
        if (strcmp(*d, "LINUX") != 0 && strcmp(*d, "LINUX32") != 0)
                return sp_fail(c, "unknown domain \"%s\" (want LINUX or LINUX32)", *d);
        return 0;
}

static const sp_field personality_fields[] = {
        { "domain", domain, SP_AT(gk_personality, domain), .flags = SP_REQUIRED },
        /* runtime-spec fields gkrun does not apply: refused, never skipped */
        { "flags", sp_f_unsupported },
        SP_END,
};

static int propagation(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_linux *l = base;

        TRY(sp_val_str(c, v, &l->rootfs_propagation));
        l->rootfs_propagation_flags = spec_propagation_flags(l->rootfs_propagation);
        if (!l->rootfs_propagation_flags)
                return sp_fail(c, "unknown propagation \"%s\"", l->rootfs_propagation);
        return 0;
}

/* Read into gk_linux itself: closID is its only member. */
static const sp_field intel_rdt_fields[] = {
        { "closID", sp_f_str, SP_AT(gk_linux, intel_rdt_clos_id) },
        /* runtime-spec fields gkrun does not apply: refused, never skipped */
        { "closID", sp_f_unsupported },
        { "l3CacheSchema", sp_f_unsupported },
        { "memBwSchema", sp_f_unsupported },
        { "schemata", sp_f_unsupported },
        { "enableCMT", sp_f_unsupported },
        { "enableMBM", sp_f_unsupported },
        { "enableMonitoring", sp_f_unsupported },
        SP_END,
};

const sp_field spec_linux_fields[] = {
        { "namespaces", namespaces },
        { "uidMappings", sp_f_array, SP_AT(gk_linux, uid_mappings),
          SP_AUX(gk_linux, n_uid_mappings), .sub = &spec_idmap_array },
        { "gidMappings", sp_f_array, SP_AT(gk_linux, gid_mappings),
          SP_AUX(gk_linux, n_gid_mappings), .sub = &spec_idmap_array },
        { NULL, check_userns },
        { "timeOffsets", sp_f_object, .sub = time_offsets_fields },
        { "devices", sp_f_array, SP_AT(gk_linux, devices), SP_AUX(gk_linux, n_devices),
          .sub = &device_array },
        { "cgroupsPath", sp_f_str, SP_AT(gk_linux, cgroups_path) },
        { "rootfsPropagation", propagation },
        { "sysctl", sp_f_map, SP_AT(gk_linux, sysctl), SP_AUX(gk_linux, n_sysctl) },
        { "maskedPaths", abs_paths, SP_AT(gk_linux, masked_paths),
          SP_AUX(gk_linux, n_masked_paths) },
        { "readonlyPaths", abs_paths, SP_AT(gk_linux, readonly_paths),
          SP_AUX(gk_linux, n_readonly_paths) },
        { "mountLabel", sp_f_str, SP_AT(gk_linux, mount_label) },
        { "intelRdt", sp_f_object, .sub = intel_rdt_fields },
        { "resources", sp_f_object, SP_AT(gk_linux, resources),
          SP_HAS(gk_linux, resources.present), .sub = spec_resources_fields },
        { "seccomp", sp_f_object, SP_AT(gk_linux, seccomp), SP_HAS(gk_linux, seccomp.present),
          .sub = spec_seccomp_fields },
        { "personality", sp_f_object, SP_AT(gk_linux, personality),
          SP_HAS(gk_linux, personality.present), .sub = personality_fields },
        /* runtime-spec fields gkrun does not apply: refused, never skipped */
        { "mountLabel", sp_f_unsupported },
        { "memoryPolicy", sp_f_unsupported },
        { "netDevices", sp_f_unsupported },
        SP_END,
};
