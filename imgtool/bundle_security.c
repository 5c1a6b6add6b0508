/* The security defaults of a bundle, those Docker and podman give a
 * container: their default capability set, their default seccomp profile
 * (gk_seccomp_default, bundle-spec/seccomp.md), no_new_privs off; and the
 * flags changing them (--cap-add, --cap-drop, --security-opt). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_internal.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/util.h"

/* podman's containers.conf default_capabilities (Docker's set less
 * AUDIT_WRITE, MKNOD and NET_RAW). */
static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE",     "CAP_FOWNER",     "CAP_FSETID",
        "CAP_KILL",    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP",    "CAP_SETGID",
        "CAP_SETPCAP", "CAP_SETUID",           "CAP_SYS_CHROOT",
};

/* "chown", "CAP_CHOWN", "cap_chown" -> CAP_CHOWN's number; -1 unknown. */
static int cap_number(const char *name)
{
        char buf[64] = "CAP_";
        size_t off = strncasecmp(name, "CAP_", 4) ? 4 : 0;

        if (strlen(name) + off >= sizeof(buf))
                return -1;
        for (size_t i = 0; name[i]; i++)
                buf[off + i] = (char) toupper((unsigned char) name[i]);
        buf[off + strlen(name)] = '\0';
        return gk_cap_from_name(buf);
}

static bool is_all(const char *name)
{
        return !strcasecmp(name, "ALL");
}

static bool strv_has_all(char *const *v)
{
        for (; v && *v; v++)
                if (is_all(*v))
                        return true;
        return false;
}

/* Docker's rules: --cap-add ALL gives every capability but those dropped,
 * --cap-drop ALL keeps only those added, else the default set less the
 * dropped ones plus the added ones. */
static int compute_caps(const gk_bundle_opts *o, bool want[], gk_error **err)
{
        int last = gk_cap_last();
        bool add_all = strv_has_all(o->cap_add), drop_all = strv_has_all(o->cap_drop);

        for (int c = 0; c <= last; c++)
                want[c] = add_all;
        if (!add_all && !drop_all)
                for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
                        want[gk_cap_from_name(default_caps[i])] = true;
        for (char **p = o->cap_drop; p && *p; p++) {
                int c = cap_number(*p);

                if (c < 0 && !is_all(*p))
                        return gk_error_make(err, 0, "--cap-drop `%s`: unknown capability", *p);
                if (c >= 0)
                        want[c] = false;
        }
        for (char **p = o->cap_add; p && *p; p++) {
                int c = cap_number(*p);

                if (c < 0 && !is_all(*p))
                        return gk_error_make(err, 0, "--cap-add `%s`: unknown capability", *p);
                if (c >= 0 && !add_all)
                        want[c] = true;
        }
        return 0;
}

static int set_capset(gk_capset *set, const bool want[], int last)
{
        free(set->caps);
        *set = (gk_capset){ 0 };
        set->caps = calloc((size_t) last + 2, sizeof(int));
        if (!set->caps)
                return -ENOMEM;
        for (int c = 0; c <= last; c++)
                if (want[c])
                        set->caps[set->n++] = c;
        return 0;
}

/* bounding, effective and permitted; no inheritable or ambient ones, so a
 * non-root user gets none (as with Docker and podman). */
static int set_caps(gk_process *p, const gk_bundle_opts *o, gk_error **err)
{
        int last = gk_cap_last();
        _cleanup_free_ bool *want = calloc((size_t) last + 1, sizeof(bool));
        gk_capabilities *c = &p->capabilities;

        if (!want)
                return gk_error_make(err, ENOMEM, "capabilities");
        if (compute_caps(o, want, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        c->present = true;
        if (set_capset(&c->bounding, want, last) < 0 ||
            set_capset(&c->effective, want, last) < 0 || set_capset(&c->permitted, want, last) < 0)
                return gk_error_make(err, ENOMEM, "capabilities");
        free(c->inheritable.caps);
        free(c->ambient.caps);
        c->inheritable = c->ambient = (gk_capset){ 0 };
        return 0;
}

/* Docker's and podman's profile files carry archMap and per-rule
 * includes/excludes that only they evaluate: taken as OCI rules they would
 * allow what the profile means to deny. */
static int check_oci_profile(const char *file, const char *text, size_t len, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        yajl_val sc;

        if (gk_json_parse(text, len, file, &v, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        sc = gk_json_get(v, "syscalls");
        if (gk_json_get(v, "archMap"))
                goto docker;
        for (size_t i = 0; sc && YAJL_IS_ARRAY(sc) && i < sc->u.array.len; i++)
                if (gk_json_get(sc->u.array.values[i], "includes") ||
                    gk_json_get(sc->u.array.values[i], "excludes"))
                        goto docker;
        return 0;
docker:
        return gk_error_make(err, 0,
                             "seccomp profile `%s`: Docker's format (archMap, "
                             "includes, excludes) is not supported: give an OCI "
                             "linux.seccomp object",
                             file);
}

static int load_profile(const char *file, gk_seccomp *sc, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (gk_read_file(file, &text, &len, err) < 0)
                return gk_error_wrap(err, "--security-opt seccomp");
        if (check_oci_profile(file, text, len, err) < 0 ||
            gk_seccomp_parse(text, len, file, sc, err) < 0)
                return gk_error_wrap(err, "--security-opt seccomp");
        return 0;
}

int gk_bundle_set_security(gk_spec *s, const gk_bundle_opts *o, gk_error **err)
{
        gk_seccomp *sc = &s->linux.seccomp;

        if (set_caps(s->process, o, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        s->process->no_new_privileges = o->no_new_privs;
        gk_seccomp_clear(sc);
        if (o->seccomp && !strcmp(o->seccomp, "unconfined"))
                return 0;
        if (o->seccomp)
                return load_profile(o->seccomp, sc, err);
        if (gk_seccomp_default(sc, &s->process->capabilities.bounding) < 0)
                return gk_error_make(err, ENOMEM, "seccomp profile");
        return 0;
}

/* --security-opt seccomp=unconfined|FILE, no-new-privileges[=true|false]
 * (Docker also spells the separator ':'). */
int gk_bundle_security_opt(const char *opt, gk_bundle_opts *o, gk_error **err)
{
        size_t klen = strcspn(opt, "=:");
        const char *val = opt[klen] ? opt + klen + 1 : NULL;

        if (klen == 7 && !strncmp(opt, "seccomp", klen) && val && *val) {
                o->seccomp = val;
                return 0;
        }
        if (klen == 17 && !strncmp(opt, "no-new-privileges", klen)) {
                if (!val)
                        o->no_new_privs = true;
                else if (gk_parse_bool(val, &o->no_new_privs) < 0)
                        goto bad;
                return 0;
        }
bad:
        return gk_error_make(err, 0,
                             "--security-opt `%s`: expected seccomp=unconfined, "
                             "seccomp=FILE or no-new-privileges[=true|false]",
                             opt);
}
