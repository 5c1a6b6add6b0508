/* gkrun spec (a default config.json) and gkrun features. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/spec.h"
#include "gk/util.h"
#include "rdt/rdt.h"
#include "spawn/attrs.h"

int cmd_spec(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_spec_freep) gk_spec *spec = NULL;
        _cleanup_free_ char *text = NULL, *path = NULL;
        const char *bundle = NULL;
        bool rootless = false;
        const gk_opt opts[] = {
                { "bundle", 'b', GK_OPT_STRING, &bundle },
                { "rootless", 0, GK_OPT_BOOL, &rootless },
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
static const char *const mount_options[] = {
        "acl",          "async",       "atime",          "bind",
        "defaults",     "dev",         "diratime",       "dirsync",
        "exec",         "iversion",    "lazytime",       "loud",
        "mand",         "noacl",       "noatime",        "nodev",
        "nodiratime",   "noexec",      "noiversion",     "nolazytime",
        "nomand",       "norelatime",  "nostrictatime",  "nosuid",
        "nosymfollow",  "private",     "ratime",         "rbind",
        "rdev",         "rdiratime",   "relatime",       "remount",
        "rexec",        "rnoatime",    "rnodev",         "rnodiratime",
        "rnoexec",      "rnorelatime", "rnostrictatime", "rnosuid",
        "rnosymfollow", "ro",          "rprivate",       "rrelatime",
        "rro",          "rrw",         "rshared",        "rslave",
        "rstrictatime", "rsuid",       "rsymfollow",     "runbindable",
        "rw",           "shared",      "silent",         "slave",
        "strictatime",  "suid",        "symfollow",      "sync",
        "tmpcopyup",    "unbindable",
};
/* Whether the kernel knows MOUNT_ATTR_IDMAP: asked with a user namespace
 * fd that cannot be open (INT_MAX), it says EBADF; a kernel without it
 * EINVAL (unknown attribute), one without mount_setattr ENOSYS. */
static bool idmap_supported(void)
{
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = INT_MAX };

        return syscall(SYS_mount_setattr, -1, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0 &&
               errno == EBADF;
}

/* mount_options, with "idmap" and "ridmap" in their places when they work. */
static void mount_opts(yajl_gen gen, bool idmap)
{
        static const char *const idmap_opts[] = { "idmap", "ridmap" };
        size_t k = idmap ? 0 : ARRAY_SIZE(idmap_opts);

        gk_json_str(gen, "mountOptions");
        yajl_gen_array_open(gen);
        for (size_t i = 0; i < ARRAY_SIZE(mount_options); i++) {
                for (; k < ARRAY_SIZE(idmap_opts) && strcmp(idmap_opts[k], mount_options[i]) < 0;
                     k++)
                        gk_json_str(gen, idmap_opts[k]);
                gk_json_str(gen, mount_options[i]);
        }
        yajl_gen_array_close(gen);
}

static const char *const namespaces[] = { "cgroup", "ipc",  "mount", "network",
                                          "pid",    "time", "user",  "uts" };
static const char *const archs[] = { "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_X86_64",
                                     "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM" };

/* A list from one of the spec's name tables, in enum order. */
static void names(yajl_gen gen, const char *key, const char *(*name)(int) )
{
        gk_json_str(gen, key);
        yajl_gen_array_open(gen);
        for (int i = 0; name(i); i++)
                gk_json_str(gen, name(i));
        yajl_gen_array_close(gen);
}

static void caps(yajl_gen gen)
{
        gk_json_str(gen, "capabilities");
        yajl_gen_array_open(gen);
        for (int c = 0; c <= gk_cap_last(); c++)
                if (gk_cap_name(c))
                        gk_json_str(gen, gk_cap_name(c));
        yajl_gen_array_close(gen);
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

static bool lsm_enabled(const char *path)
{
        _cleanup_free_ char *s = NULL;

        return gk_read_file(path, &s, NULL, NULL) == 0 && s[0] == 'Y';
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

int cmd_features(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen gen = gk_json_gen_new(true);
        _cleanup_free_ char *out = NULL;
        const struct scmp_version *v = seccomp_version();
        char ver[32];

        yajl_gen_map_open(gen);
        gk_json_kstr(gen, "ociVersionMin", "1.0.0");
        gk_json_kstr(gen, "ociVersionMax", "1.2.0");
        strs(gen, "hooks", hooks, ARRAY_SIZE(hooks));
        mount_opts(gen, idmap_supported());
        gk_json_str(gen, "linux");
        yajl_gen_map_open(gen);
        strs(gen, "namespaces", namespaces, ARRAY_SIZE(namespaces));
        caps(gen);
        gk_json_str(gen, "cgroup");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "v1", true);
        gk_json_kbool(gen, "v2", true);
        gk_json_kbool(gen, "systemd", false);
        gk_json_kbool(gen, "systemdUser", false);
        gk_json_kbool(gen, "rdma", true);
        yajl_gen_map_close(gen);
        gk_json_str(gen, "seccomp");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", true);
        names(gen, "actions", gk_seccomp_action_name);
        names(gen, "operators", gk_seccomp_op_name);
        strs(gen, "archs", archs, ARRAY_SIZE(archs));
        yajl_gen_map_close(gen);
        gk_json_str(gen, "apparmor");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", lsm_enabled("/sys/module/apparmor/parameters/enabled"));
        yajl_gen_map_close(gen);
        gk_json_str(gen, "selinux");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", access("/sys/fs/selinux/enforce", F_OK) == 0);
        yajl_gen_map_close(gen);
        rdt_feature(gen);
        /* moved by gkrun-net at create (bundle-spec/netdevices.md) */
        gk_json_str(gen, "netDevices");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", true);
        yajl_gen_map_close(gen);
        memory_policy(gen);
        gk_json_str(gen, "mountExtensions");
        yajl_gen_map_open(gen);
        gk_json_str(gen, "idmap");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", idmap_supported());
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
        gk_json_str(gen, "annotations");
        yajl_gen_map_open(gen);
        snprintf(ver, sizeof(ver), "%u.%u.%u", v ? v->major : 0, v ? v->minor : 0,
                 v ? v->micro : 0);
        gk_json_kstr(gen, "io.github.seccomp.libseccomp.version", ver);
        gk_json_kstr(gen, "org.opencontainers.runc.checkpoint.enabled", "false");
        memory_policy_host(gen);
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
        if (gk_json_gen_finish(gen, &out, NULL, err) < 0)
                return gk_error_code(*err);
        puts(out);
        return 0;
}
