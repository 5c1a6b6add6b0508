/* The default config.json of `gkrun spec`: the same starter spec the
 * reference runtime writes (busybox-friendly `sh`, a read-only rootfs, the
 * usual /proc /dev /sys mounts, three capabilities), and its rootless
 * variant (a user namespace mapping the caller's ids to root, no network
 * namespace, /sys bind-mounted, no cgroup device rules, no gid= options);
 * on a pure cgroup v2 host both have a cgroup namespace, as runc's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "spec_internal.h"

#define DEFAULT_OCI_VERSION "1.3.0"

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL",
                                            "CAP_NET_BIND_SERVICE" };

static const char *const default_masked[] = {
        "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/sys/firmware",       "/proc/scsi",
};

static const char *const default_readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                "/proc/sysrq-trigger" };

static const struct {
        const char *destination, *type, *source;
        const char *options[8];
} default_mounts[] = {
        { "/proc", "proc", "proc", { NULL } },
        { "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k" } },
        { "/dev/pts",
          "devpts",
          "devpts",
          { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" } },
        { "/dev/shm",
          "tmpfs",
          "shm",
          { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" } },
        { "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev" } },
        { "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro" } },
        { "/sys/fs/cgroup",
          "cgroup",
          "cgroup",
          { "nosuid", "noexec", "nodev", "relatime", "ro" } },
};

static const struct {
        const char *destination, *type, *source;
        const char *options[8];
} rootless_sys = { "/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro" } };

static char **strv_from(const char *const *v, size_t n, bool rootless)
{
        char **out = calloc(n + 1, sizeof(char *));
        size_t k = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                /* Ids other than the one mapped do not exist in a rootless
                 * container's user namespace. */
                if (rootless &&
                    (gk_str_has_prefix(v[i], "gid=") || gk_str_has_prefix(v[i], "uid=")))
                        continue;
                out[k] = strdup(v[i]);
                if (!out[k++]) {
                        gk_strvfree(out);
                        return NULL;
                }
        }
        return out;
}

static size_t opts_len(const char *const *o)
{
        size_t n = 0;

        while (n < 8 && o[n])
                n++;
        return n;
}

static int set_caps(gk_capset *set)
{
        set->caps = calloc(ARRAY_SIZE(default_caps), sizeof(int));
        if (!set->caps)
                return -ENOMEM;
        for (size_t i = 0; i < ARRAY_SIZE(default_caps); i++)
                set->caps[set->n++] = gk_cap_from_name(default_caps[i]);
        return 0;
}

static int default_process(gk_process **out)
{
        static const char *const args[] = { "sh" };
        static const char *const env[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"
        };
        _cleanup_(gk_process_freep) gk_process *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->terminal = true;
        p->args = strv_from(args, 1, false);
        p->n_args = 1;
        p->env = strv_from(env, 2, false);
        p->n_env = 2;
        p->cwd = strdup("/");
        p->rlimits = calloc(1, sizeof(gk_rlimit));
        if (!p->args || !p->env || !p->cwd || !p->rlimits)
                return -ENOMEM;
        p->n_rlimits = 1;
        p->rlimits[0] = (gk_rlimit){ RLIMIT_NOFILE, strdup("RLIMIT_NOFILE"), 1024, 1024 };
        if (!p->rlimits[0].type)
                return -ENOMEM;
        p->capabilities.present = true;
        if (set_caps(&p->capabilities.bounding) < 0 || set_caps(&p->capabilities.effective) < 0 ||
            set_caps(&p->capabilities.permitted) < 0 || set_caps(&p->capabilities.ambient) < 0)
                return -ENOMEM;
        p->no_new_privileges = true;
        *out = TAKE_PTR(p);
        return 0;
}

static int default_mount(gk_mount *m, const char *dest, const char *type, const char *source,
                         const char *const *options, bool rootless)
{
        size_t n = opts_len(options);

        m->destination = strdup(dest);
        m->type = strdup(type);
        m->source = strdup(source);
        if (!m->destination || !m->type || !m->source)
                return -ENOMEM;
        if (n) {
                m->options = strv_from(options, n, rootless);
                if (!m->options)
                        return -ENOMEM;
                m->n_options = gk_strv_len(m->options);
        }
        return 0;
}

/* The derived fields (flags, data) are filled by parsing the emitted spec
 * back; gk_spec_default goes through that so both agree by construction. */
static int default_mounts_fill(gk_spec *s, bool rootless)
{
        s->mounts = calloc(ARRAY_SIZE(default_mounts), sizeof(gk_mount));
        if (!s->mounts)
                return -ENOMEM;
        s->n_mounts = ARRAY_SIZE(default_mounts);
        for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
                bool sys = rootless && strcmp(default_mounts[i].destination, "/sys") == 0;
                int r;

                if (sys)
                        r = default_mount(&s->mounts[i], rootless_sys.destination,
                                          rootless_sys.type, rootless_sys.source,
                                          rootless_sys.options, true);
                else
                        r = default_mount(&s->mounts[i], default_mounts[i].destination,
                                          default_mounts[i].type, default_mounts[i].source,
                                          default_mounts[i].options, rootless);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int one_idmap(gk_idmap **m, size_t *n, uint32_t host)
{
        *m = calloc(1, sizeof(gk_idmap));
        if (!*m)
                return -ENOMEM;
        **m = (gk_idmap){ .container_id = 0, .host_id = host, .size = 1 };
        *n = 1;
        return 0;
}

/* A pure cgroup v2 host: runc's starter spec then has a cgroup namespace
 * too (its /sys/fs/cgroup is a fresh cgroup2 mount of the container's
 * own cgroup). */
static bool cgroup2_unified(void)
{
        struct statfs sf;

        return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270;
}

static int default_linux(gk_linux *l, bool rootless)
{
        static const int ns[] = { GK_NS_PID, GK_NS_NETWORK, GK_NS_IPC, GK_NS_UTS, GK_NS_MOUNT };

        for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
                l->namespaces[ns[i]].present = true;
        l->namespaces[GK_NS_CGROUP].present = cgroup2_unified();
        if (rootless) {
                l->namespaces[GK_NS_NETWORK].present = false;
                l->namespaces[GK_NS_USER].present = true;
                if (one_idmap(&l->uid_mappings, &l->n_uid_mappings, geteuid()) < 0 ||
                    one_idmap(&l->gid_mappings, &l->n_gid_mappings, getegid()) < 0)
                        return -ENOMEM;
        } else {
                l->resources.present = true;
                l->resources.devices = calloc(1, sizeof(gk_device_rule));
                if (!l->resources.devices)
                        return -ENOMEM;
                l->resources.n_devices = 1;
                l->resources.devices[0] = (gk_device_rule){ false, 'a', -1, -1, strdup("rwm") };
                if (!l->resources.devices[0].access)
                        return -ENOMEM;
        }
        l->masked_paths = strv_from(default_masked, ARRAY_SIZE(default_masked), false);
        l->readonly_paths = strv_from(default_readonly, ARRAY_SIZE(default_readonly), false);
        if (!l->masked_paths || !l->readonly_paths)
                return -ENOMEM;
        l->n_masked_paths = ARRAY_SIZE(default_masked);
        l->n_readonly_paths = ARRAY_SIZE(default_readonly);
        return 0;
}

static int default_build(gk_spec *s, bool rootless)
{
        s->oci_version = strdup(DEFAULT_OCI_VERSION);
        s->root.path = strdup("rootfs");
        s->hostname = strdup("runc");
        if (!s->oci_version || !s->root.path || !s->hostname)
                return -ENOMEM;
        s->root.readonly = true;
        if (default_process(&s->process) < 0 || default_mounts_fill(s, rootless) < 0 ||
            default_linux(&s->linux, rootless) < 0)
                return -ENOMEM;
        return 0;
}

int gk_spec_default(bool rootless, gk_spec **out, gk_error **err)
{
        _cleanup_(gk_spec_freep) gk_spec *s = calloc(1, sizeof(*s));
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (!s || default_build(s, rootless) < 0)
                return gk_error_make(err, ENOMEM, "default spec");
        /* Round-trip through the parser so the derived fields (mount
         * flags, propagation) are exactly what a loaded config.json has. */
        if (gk_spec_emit(s, &text, &len, err) < 0)
                return gk_error_code(*err);
        return gk_spec_parse(text, len, "default spec", out, err);
}
