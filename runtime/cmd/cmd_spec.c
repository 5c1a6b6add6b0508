/* gkrun spec (a default config.json) and gkrun features. */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/spec.h"
#include "gk/util.h"

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

static bool lsm_enabled(const char *path)
{
        _cleanup_free_ char *s = NULL;

        return gk_read_file(path, &s, NULL, NULL) == 0 && s[0] == 'Y';
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
        strs(gen, "mountOptions", mount_options, ARRAY_SIZE(mount_options));
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
        gk_json_str(gen, "intelRdt");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", false);
        yajl_gen_map_close(gen);
        gk_json_str(gen, "mountExtensions");
        yajl_gen_map_open(gen);
        gk_json_str(gen, "idmap");
        yajl_gen_map_open(gen);
        gk_json_kbool(gen, "enabled", false);
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
        gk_json_str(gen, "annotations");
        yajl_gen_map_open(gen);
        snprintf(ver, sizeof(ver), "%u.%u.%u", v ? v->major : 0, v ? v->minor : 0,
                 v ? v->micro : 0);
        gk_json_kstr(gen, "io.github.seccomp.libseccomp.version", ver);
        gk_json_kstr(gen, "org.opencontainers.runc.checkpoint.enabled", "false");
        yajl_gen_map_close(gen);
        yajl_gen_map_close(gen);
        if (gk_json_gen_finish(gen, &out, NULL, err) < 0)
                return gk_error_code(*err);
        puts(out);
        return 0;
}
