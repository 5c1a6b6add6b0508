/* gkrun spec (a default config.json) and gkrun features. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/spec.h"
#include "gk/util.h"
#include "rdt/rdt.h"
#include "security/security.h"
#include "spawn/attrs.h"

int cmd_spec(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_spec_freep) gk_spec *spec = NULL;
        _cleanup_free_ char *text = NULL, *path = NULL;
        const char *bundle = NULL;
        bool rootless = false;
        const gk_opt opts[] = {
                { "bundle", 'b', GK_OPT_STRING, &bundle, "DIR",
                  "where to write config.json (default: the current directory)" },
                { "rootless", 0, GK_OPT_BOOL, &rootless, NULL,
                  "a config for running without root (user namespace, no cgroup limits)" },
                { 0 },
        };
        size_t len;
        int first;

        if (gk_opts_parse(argc, argv, "spec", opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first != argc)
                return gk_error_make(err, 0, "spec: takes no arguments");
        if (asprintf(&path, "%s/config.json", bundle ? bundle : ".") < 0)
                return gk_error_make(err, ENOMEM, "spec");
        if (access(path, F_OK) == 0)
                return gk_error_make(err, 0, "File %s exists. Remove it first", path);
        if (gk_spec_default(rootless, &spec, err) < 0 || gk_spec_emit(spec, &text, &len, err) < 0)
                return gk_error_code(*err);
        {
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

                if (fd < 0 || gk_write_all(fd, text, len) < 0 || gk_write_all(fd, "\n", 1) < 0)
                        return gk_error_errno(err, "write `%s`", path);
        }
        return 0;
}

static void strs(yajl_gen gen, const char *key, const char *const *v, size_t n)
{
        gk_json_str(gen, key);
        yajl_gen_array_open(gen);
        for (size_t i = 0; i < n; i++)
                gk_json_str(gen, v[i]);
        yajl_gen_array_close(gen);
}

static const char *const hooks[] = { "prestart",       "createRuntime", "createContainer",
                                     "startContainer", "poststart",     "poststop" };
/* Mount options any kernel gkrun runs on has: MS_* flags, propagation,
 * and what is passed on as filesystem data. */
static const char *const mount_options[] = {
        "acl",        "async",      "atime",         "bind",       "defaults",
        "dev",        "diratime",   "dirsync",       "exec",       "iversion",
        "lazytime",   "loud",       "mand",          "noacl",      "noatime",
        "nodev",      "nodiratime", "noexec",        "noiversion", "nolazytime",
        "nomand",     "norelatime", "nostrictatime", "nosuid",     "private",
        "rbind",      "relatime",   "remount",       "ro",         "rprivate",
        "rshared",    "rslave",     "runbindable",   "rw",         "shared",
        "silent",     "slave",      "strictatime",   "suid",       "sync",
        "unbindable",
};
/* Recursive attributes: mount_setattr(2), Linux 5.12. */
static const char *const mount_setattr_options[] = {
        "ratime",      "rdev",    "rdiratime",   "rexec",          "rnoatime", "rnodev",
        "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid",  "rnosymfollow",
        "rrelatime",   "rro",     "rrw",         "rstrictatime",   "rsuid",    "rsymfollow",
};
static const char *const namespaces[] = { "cgroup", "ipc",  "mount", "network",
                                          "pid",    "time", "user",  "uts" };

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static bool has_mount_setattr(void)
{
        /* an fd of -1: EBADF where the call exists */
        return syscall(SYS_mount_setattr, -1, "", 0, NULL, 0) < 0 && errno != ENOSYS;
}

/* MS_NOSYMFOLLOW came with Linux 5.10: older kernels refuse the flag. */
static bool has_nosymfollow(void)
{
        struct utsname u;
        unsigned major = 0, minor = 0;

        return uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
               (major > 5 || (major == 5 && minor >= 10));
}

/* Whether the kernel knows MOUNT_ATTR_IDMAP: asked with a user namespace
 * fd that cannot be open (INT_MAX), it says EBADF; a kernel without it
 * EINVAL (unknown attribute), one without mount_setattr ENOSYS. */
static bool idmap_supported(void)
{
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = INT_MAX };

        return syscall(SYS_mount_setattr, -1, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 &&
               errno == EBADF;
}

/* The options this kernel has, sorted as runc lists them; idmap and
 * ridmap where the kernel has idmapped mounts. */
static void mount_opts(yajl_gen gen)
{
        const char *v[ARRAY_SIZE(mount_options) + ARRAY_SIZE(mount_setattr_options) + 5];
        size_t n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++)
                v[n++] = mount_options[i];
        if (has_nosymfollow()) {
                v[n++] = "nosymfollow";
                v[n++] = "symfollow";
        }
        for (size_t i = 0; has_mount_setattr() && i < ARRAY_SIZE(mount_setattr_options); i++)
                v[n++] = mount_setattr_options[i];
        v[n++] = "tmpcopyup"; /* a copy, nothing the kernel must have */
        if (idmap_supported()) {
                v[n++] = "idmap";
                v[n++] = "ridmap";
        }
        qsort(v, n, sizeof(v[0]), cmp_str);
        strs(gen, "mountOptions", v, n);
}

/* A list from one of the spec's name tables, in enum order. */
static void names(yajl_gen gen, const char *key, const char *(*name)(int) )
{
        gk_json_str(gen, key);
        yajl_gen_array_open(gen);
        for (int i = 0; name(i); i++)
                gk_json_str(gen, name(i));
        yajl_gen_array_close(gen);
}

/* The capabilities this libcap knows (cap_max_bits: its own list, or the
 * running kernel's when that is longer and it asks), by their spec names. */
static void caps(yajl_gen gen)
{
        int last = (int) cap_max_bits() - 1;

        gk_json_str(gen, "capabilities");
        yajl_gen_array_open(gen);
        for (int c = 0; c <= last && c <= gk_cap_last(); c++)
                if (gk_cap_name(c))
                        gk_json_str(gen, gk_cap_name(c));
        yajl_gen_array_close(gen);
}

/* Actions by libseccomp's API level: KILL_PROCESS and LOG need level 3,
 * NOTIFY level 5 (seccomp_api_get(3)). */
static void seccomp_actions(yajl_gen gen)
{
        unsigned api = seccomp_api_get();

        gk_json_str(gen, "actions");
        yajl_gen_array_open(gen);
        for (int i = 0; gk_seccomp_action_name(i); i++) {
                const char *a = gk_seccomp_action_name(i);

                if ((!strcmp(a, "SCMP_ACT_KILL_PROCESS") || !strcmp(a, "SCMP_ACT_LOG")) && api < 3)
                        continue;
                if (!strcmp(a, "SCMP_ACT_NOTIFY") && api < 5)
                        continue;
                gk_json_str(gen, a);
        }
        yajl_gen_array_close(gen);
}

/* Every architecture of the spec's list that this libseccomp resolves. */
static void seccomp_archs(yajl_gen gen)
{
        gk_json_str(gen, "archs");
        yajl_gen_array_open(gen);
        for (size_t i = 0; gk_seccomp_arch_name(i); i++) {
                char lower[32];
                const char *a = gk_seccomp_arch_name(i) + strlen("SCMP_ARCH_");
                size_t k = 0;

                for (; k < sizeof(lower) - 1 && a[k]; k++)
                        lower[k] = (char) tolower((unsigned char) a[k]);
                lower[k] = '\0';
                if (seccomp_arch_resolve_name(lower))
                        gk_json_str(gen, gk_seccomp_arch_name(i));
        }
        yajl_gen_array_close(gen);
}

static void seccomp_flags(yajl_gen gen)
{
        gk_json_str(gen, "knownFlags");
        yajl_gen_array_open(gen);
        for (size_t i = 0; gk_seccomp_flag_name(i); i++)
                gk_json_str(gen, gk_seccomp_flag_name(i));
        yajl_gen_array_close(gen);
        gk_json_str(gen, "supportedFlags");
        yajl_gen_array_open(gen);
        for (size_t i = 0; gk_seccomp_flag_name(i); i++)
                if (gk_seccomp_flag_supported(gk_seccomp_flag_name(i)))
                        gk_json_str(gen, gk_seccomp_flag_name(i));
        yajl_gen_array_close(gen);
}

static void seccomp_features(yajl_gen gen)
{
        gk_json_str(gen, "seccomp");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", true);
        seccomp_actions(gen);
        names(gen, "operators", gk_seccomp_op_name);
        seccomp_archs(gen);
        seccomp_flags(gen);
        yajl_gen_map_close(gen);
}

/* The cgroup drivers built in: cgroupfs v1 and v2, and systemd (a
 * transient scope over D-Bus; libsystemd is opened when asked for).  No
 * systemd --user manager (rootless) yet. */
static void cgroup_features(yajl_gen gen)
{
        gk_json_str(gen, "cgroup");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "v1", true);
        gk_json_kbool(gen, "v2", true);
        gk_json_kbool(gen, "systemd", true);
        gk_json_kbool(gen, "systemdUser", false);
        gk_json_kbool(gen, "rdma", true);
        yajl_gen_map_close(gen);
}

/* linux.memoryPolicy: the modes and flags gkrun knows (the spec's, some
 * of which a kernel may lack). */
static void memory_policy(yajl_gen gen)
{
        const char *name;

        gk_json_str(gen, "memoryPolicy");
        yajl_gen_map_open(gen);
        gk_json_str(gen, "modes");
        yajl_gen_array_open(gen);
        for (size_t i = 0; (name = gk_mpol_mode_name(i, NULL)); i++)
                gk_json_str(gen, name);
        yajl_gen_array_close(gen);
        gk_json_str(gen, "flags");
        yajl_gen_array_open(gen);
        for (size_t i = 0; (name = gk_mpol_flag_name(i, NULL)); i++)
                gk_json_str(gen, name);
        yajl_gen_array_close(gen);
        yajl_gen_map_close(gen);
}

/* What of it this host allows, as annotations (the features document has
 * no place for it): the modes and the flags (with MPOL_BIND) its kernel
 * takes, and its nodes with memory. */
static void memory_policy_host(yajl_gen gen)
{
        _cleanup_free_ char *nodes = NULL;
        char modes[256] = "", flags[128] = "";
        const char *name;
        int v;

        for (size_t i = 0; (name = gk_mpol_mode_name(i, &v)); i++)
                if (gk_attrs_mempolicy_works(v))
                        snprintf(modes + strlen(modes), sizeof(modes) - strlen(modes), "%s%s",
                                 modes[0] ? "," : "", name);
        for (size_t i = 0; (name = gk_mpol_flag_name(i, &v)); i++)
                if (gk_attrs_mempolicy_works(2 /* MPOL_BIND */ | v))
                        snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags), "%s%s",
                                 flags[0] ? "," : "", name);
        gk_json_kstr(gen, "io.github.gk.memoryPolicy.hostModes", modes);
        gk_json_kstr(gen, "io.github.gk.memoryPolicy.hostFlags", flags);
        if (gk_read_file("/sys/devices/system/node/has_memory", &nodes, NULL, NULL) == 0) {
                nodes[strcspn(nodes, "\n")] = '\0';
                gk_json_kstr(gen, "io.github.gk.memoryPolicy.hostNodes", nodes);
        }
}

/* linux.intelRdt: applied where resctrl is mounted (runtime/rdt/) */
static void rdt_feature(yajl_gen gen)
{
        _cleanup_(gk_error_freep) gk_error *no = NULL;
        _cleanup_close_ int root = gk_rdt_open_root(&no);

        gk_json_str(gen, "intelRdt");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", root >= 0);
        gk_json_kbool(gen, "schemata", root >= 0);
        gk_json_kbool(gen, "monitoring",
                      root >= 0 && faccessat(root, "info/L3_MON", F_OK, 0) == 0);
        yajl_gen_map_close(gen);
}

/* linux.netDevices: moved by gkrun-net at create (bundle-spec/netdevices.md) */
static void net_devices_feature(yajl_gen gen)
{
        gk_json_str(gen, "netDevices");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", true);
        yajl_gen_map_close(gen);
}

static void idmap_feature(yajl_gen gen)
{
        gk_json_str(gen, "mountExtensions");
        yajl_gen_map_open(gen);
        gk_json_str(gen, "idmap");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", idmap_supported());
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
}

int cmd_features(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen gen = gk_json_gen_new(true);
        _cleanup_free_ char *out = NULL;
        const struct scmp_version *v = seccomp_version();
        const gk_opt opts[] = { { 0 } };
        char ver[32];
        int first;

        if (gk_opts_parse(argc, argv, "features", opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first != argc)
                return gk_error_make(err, 0, "features: takes no arguments");

        yajl_gen_map_open(gen);
        gk_json_kstr(gen, "ociVersionMin", "1.0.0");
        gk_json_kstr(gen, "ociVersionMax", "1.3.0");
        strs(gen, "hooks", hooks, ARRAY_SIZE(hooks));
        mount_opts(gen);
        gk_json_str(gen, "linux");
        yajl_gen_map_open(gen);
        strs(gen, "namespaces", namespaces, ARRAY_SIZE(namespaces));
        caps(gen);
        cgroup_features(gen);
        seccomp_features(gen);
        /* features-linux.md: "enabled" is whether the runtime supports the
         * LSM (security/lsm.c), not whether this host has it on; a label
         * for an LSM the host lacks is refused at create */
        gk_json_str(gen, "apparmor");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", true);
        yajl_gen_map_close(gen);
        gk_json_str(gen, "selinux");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", true);
        yajl_gen_map_close(gen);
        rdt_feature(gen);
        net_devices_feature(gen);
        memory_policy(gen);
        idmap_feature(gen);
        yajl_gen_map_close(gen);
        gk_json_str(gen, "annotations");
        yajl_gen_map_open(gen);
        snprintf(ver, sizeof(ver), "%u.%u.%u", v ? v->major : 0, v ? v->minor : 0,
                 v ? v->micro : 0);
        gk_json_kstr(gen, "io.github.seccomp.libseccomp.version", ver);
        /* gkrun checkpoint/restore, through CRIU when it is installed */
        gk_json_kstr(gen, "org.opencontainers.runc.checkpoint.enabled", "true");
        memory_policy_host(gen);
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
        if (gk_json_gen_finish(gen, &out, NULL, err) < 0)
                return gk_error_code(*err);
        puts(out);
        return 0;
}
