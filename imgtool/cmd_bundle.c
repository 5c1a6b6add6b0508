/* gkimg bundle / unbundle: flags, the image from the store with its layers
 * unpacked (once, shared), and the bundle written by bundle.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "bundle_internal.h"
#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "gk/units.h"
#include "gk/util.h"
#include "image.h"
#include "store.h"

/* "512m", "1G", "1048576" -> bytes (gk/units.h, as gkrun update reads
 * them); at least one byte. */
static int parse_bytes(const char *s, int64_t *out, gk_error **err)
{
        if (gk_parse_size(s, out) < 0 || *out < 1)
                return gk_error_make(err, 0,
                                     "bundle: --mem `%s`: expected BYTES (a number, "
                                     "optionally with k, m, g or t)",
                                     s);
        return 0;
}

static int parse_cpus(const char *s, uint64_t *millis, gk_error **err)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (end == s || *end || errno || !(v >= 0.01) || v > 4096)
                return gk_error_make(err, 0,
                                     "bundle: --cpus `%s`: expected a number of CPUs "
                                     "like 1 or 0.5",
                                     s);
        *millis = (uint64_t) (v * 1000 + 0.5);
        return 0;
}

typedef struct bundle_args {
        const char *mem, *cpus, *pids;
        bool allow_devices;
        char **ports, **env, **security_opts;
} bundle_args;

static int check_args(const bundle_args *a, gk_bundle_opts *o, gk_error **err)
{
        uint64_t pids;

        if (a->mem && parse_bytes(a->mem, &o->mem, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        o->has_mem = a->mem != NULL;
        if (a->cpus && parse_cpus(a->cpus, &o->cpu_millis, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        o->has_cpus = a->cpus != NULL;
        if (a->pids) {
                if (!gk_parse_u64(a->pids, &pids) || pids == 0 || pids > INT64_MAX)
                        return gk_error_make(err, 0,
                                             "bundle: --pids `%s`: expected a positive "
                                             "number",
                                             a->pids);
                o->pids = (int64_t) pids;
                o->has_pids = true;
        }
        for (char **p = a->ports; p && *p; p++)
                if (gk_bundle_check_port(*p, err) < 0)
                        return gk_error_wrap(err, "bundle");
        o->ports = a->ports;
        o->env = a->env;
        for (char **p = a->security_opts; p && *p; p++)
                if (gk_bundle_security_opt(*p, o, err) < 0)
                        return gk_error_wrap(err, "bundle");
        if (gk_bundle_check_mounts(o, err) < 0)
                return gk_error_wrap(err, "bundle");
        return 0;
}

int cmd_bundle(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_strv_ char **ports = NULL, **env = NULL, **cap_add = NULL, **cap_drop = NULL,
                            **sec = NULL, **tmpfs = NULL, **binds = NULL;
        _cleanup_(gk_image_freep) gk_image *img = NULL;
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        gk_bundle_opts o = { 0 };
        bundle_args a = { 0 };
        const gk_opt opts[] = {
                { "copy", 0, GK_OPT_BOOL, &o.copy, NULL,
                  "write a plain rootfs (for other runtimes), not an overlay" },
                { "mem", 'm', GK_OPT_STRING, &a.mem, "BYTES", "memory limit (k, m, g suffixes)" },
                { "memory", 0, GK_OPT_STRING, &a.mem, "BYTES", "the same as --mem" },
                { "cpus", 0, GK_OPT_STRING, &a.cpus, "N",
                  "CPU limit, in CPUs (0.5 is half of one)" },
                { "pids", 0, GK_OPT_STRING, &a.pids, "N",
                  "most processes the container may have" },
                { "net", 0, GK_OPT_STRING, &o.net, "none|host|bridge", "network" },
                { "publish", 'p', GK_OPT_STRV, &ports, "HOST:CTR[/tcp|udp]",
                  "publish a port (bridge network; repeatable)" },
                { "env", 'e', GK_OPT_STRV, &env, "K=V",
                  "set an environment variable (repeatable)" },
                { "workdir", 'w', GK_OPT_STRING, &o.workdir, "DIR", "working directory" },
                { "user", 'u', GK_OPT_STRING, &o.user, "USER[:GROUP]",
                  "user, by name (from the image) or number" },
                { "hostname", 0, GK_OPT_STRING, &o.hostname, "NAME", "host name" },
                { "tty", 't', GK_OPT_BOOL, &o.tty, NULL, "give the process a terminal" },
                { "allow-devices", 0, GK_OPT_BOOL, &a.allow_devices, NULL,
                  "unpack device files the image holds" },
                { "cap-add", 0, GK_OPT_STRV, &cap_add, "CAP",
                  "add a capability to the defaults (repeatable)" },
                { "cap-drop", 0, GK_OPT_STRV, &cap_drop, "CAP",
                  "drop a capability (ALL: every one; repeatable)" },
                { "security-opt", 0, GK_OPT_STRV, &sec, "OPT",
                  "seccomp=unconfined|FILE or no-new-privileges" },
                { "read-only", 0, GK_OPT_BOOL, &o.read_only, NULL,
                  "mount the root filesystem read-only" },
                { "tmpfs", 0, GK_OPT_STRV, &tmpfs, "PATH[:OPTS]", "mount a tmpfs (repeatable)" },
                { "volume", 'v', GK_OPT_STRV, &binds, "HOST:CTR[:ro]",
                  "bind mount a host path (repeatable)" },
                { 0 },
        };
        int first;

        if (gk_opts_parse(argc, argv, "bundle", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (argc - first < 2)
                return gk_error_make(err, 0,
                                     "usage: gkimg bundle [FLAGS] REF DIR [-- CMD [ARG...]]");
        a.ports = ports;
        a.env = env;
        a.security_opts = sec;
        o.cap_add = cap_add;
        o.cap_drop = cap_drop;
        o.tmpfs = tmpfs;
        o.binds = binds;
        if (check_args(&a, &o, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (argc - first > 2)
                o.cmd = argv + first + 2 + !strcmp(argv[first + 2], "--");
        /* The gc lock, held shared until the bundle is recorded, keeps gc
         * from removing layers between their unpack and the record. */
        if (gk_store_open(g->root, &s, err) < 0 || gk_store_hold(s, err) < 0 ||
            gk_image_load(s, argv[first], &img, err) < 0 ||
            gk_image_unpack_layers(s, img, a.allow_devices, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_bundle_create(gk_store_root(s), argv[first + 1], &img->b, &o, err) < 0 ? -EIO
                                                                                         : 0;
}

int cmd_unbundle(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        const gk_opt opts[] = { { 0 } };
        int first;

        if (gk_opts_parse(argc, argv, "unbundle", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (argc - first != 1)
                return gk_error_make(err, 0, "usage: gkimg unbundle DIR");
        return gk_bundle_remove(g->root, argv[first], err) < 0 ? -EIO : 0;
}
