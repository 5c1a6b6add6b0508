/* The container's mounts whose source is outside its mount namespace,
 * which CRIU dumps by name only (--ext-mount-map): the config's bind
 * mounts, the cgroup mount where it is a bind of the container's cgroup
 * directory, masked files (binds of /dev/null) and device nodes that are
 * binds of the host's (in a user namespace).  At dump each is named by
 * its place in the container; at restore the same name maps to what is
 * to be mounted there now.  A name CRIU does not meet is unused. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "criu/criu_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "rootfs/rootfs.h"

/* the nodes gkrun makes in every container (rootfs/dev.c) */
static const char *const default_devices[] = {
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

static bool is_bind(const gk_mount *m)
{
        return m->bind || (m->type && !strcmp(m->type, "bind"));
}

static bool is_cgroup(const gk_mount *m)
{
        return m->type && (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2"));
}

static int add(gk_criu_req *q, const char *key, const char *val, gk_error **err)
{
        int r = criu_local_add_ext_mount(q->opts, key, val);

        if (r < 0)
                return gk_error_make(err, -r, "%s: external mount `%s`", q->verb, key);
        return 0;
}

/* The masked paths that are files: a masked directory is a tmpfs, which
 * CRIU dumps with its (empty) content. */
static int add_masked(gk_criu_req *q, const gk_spec *spec, bool restore, gk_error **err)
{
        for (size_t i = 0; i < spec->linux.n_masked_paths; i++) {
                const char *p = spec->linux.masked_paths[i];
                struct stat st;

                /* procfs and sysfs paths as the host has them: the
                 * container's are the same kernel's */
                if (stat(p, &st) < 0 || S_ISDIR(st.st_mode))
                        continue;
                if (add(q, p, restore ? "/dev/null" : p, err) < 0)
                        return gk_error_code(*err);
        }
        return 0;
}

static int add_devices(gk_criu_req *q, const gk_spec *spec, gk_error **err)
{
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
                if (add(q, default_devices[i], default_devices[i], err) < 0)
                        return gk_error_code(*err);
        for (size_t i = 0; i < spec->linux.n_devices; i++)
                if (add(q, spec->linux.devices[i].path, spec->linux.devices[i].path, err) < 0)
                        return gk_error_code(*err);
        return 0;
}

int gk_criu_mounts_dump(gk_criu_req *q, const gk_spec *spec, gk_error **err)
{
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const gk_mount *m = &spec->mounts[i];

                if ((is_bind(m) || is_cgroup(m)) &&
                    add(q, m->destination, m->destination, err) < 0)
                        return gk_error_code(*err);
        }
        if (add_masked(q, spec, false, err) < 0 || add_devices(q, spec, err) < 0)
                return gk_error_code(*err);
        return 0;
}

int gk_criu_mounts_restore(gk_criu_req *q, const gk_spec *spec, const char *bundle,
                           const char *cgroup2_dir, gk_error **err)
{
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const gk_mount *m = &spec->mounts[i];
                _cleanup_free_ char *src = NULL;

                if (is_cgroup(m)) {
                        if (cgroup2_dir && add(q, m->destination, cgroup2_dir, err) < 0)
                                return gk_error_code(*err);
                        continue;
                }
                if (!is_bind(m) || !m->source)
                        continue;
                /* a relative source is the bundle's, as at create */
                if (m->source[0] == '/')
                        src = strdup(m->source);
                else if (asprintf(&src, "%s/%s", bundle, m->source) < 0)
                        src = NULL;
                if (!src)
                        return gk_error_make(err, ENOMEM, "%s: external mounts", q->verb);
                if (add(q, m->destination, src, err) < 0)
                        return gk_error_code(*err);
        }
        if (add_masked(q, spec, true, err) < 0 || add_devices(q, spec, err) < 0)
                return gk_error_code(*err);
        return 0;
}

/* DEST is inside a tmpfs of the config's (PATH itself or below it). */
static bool under_tmpfs(const gk_spec *spec, const char *dest)
{
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const gk_mount *m = &spec->mounts[i];
                size_t n = strlen(m->destination);

                while (n > 1 && m->destination[n - 1] == '/')
                        n--;
                if (m->type && !strcmp(m->type, "tmpfs") && !strncmp(dest, m->destination, n) &&
                    (dest[n] == '/' || (n == 1 && dest[0] == '/')))
                        return true;
        }
        return false;
}

/* Whether the mount at M's destination is a directory: a bind takes its
 * source's type (a relative source is the bundle's), others are dirs. */
static bool mount_is_dir(const gk_mount *m, const char *bundle)
{
        _cleanup_free_ char *src = NULL;
        struct stat st;

        if (!is_bind(m) || !m->source)
                return true;
        if (m->source[0] == '/')
                src = strdup(m->source);
        else if (asprintf(&src, "%s/%s", bundle, m->source) < 0)
                src = NULL;
        return !src || stat(src, &st) < 0 || S_ISDIR(st.st_mode);
}

int gk_criu_mountpoints(const gk_spec *spec, const char *bundle, const char *root, gk_error **err)
{
        _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (rootfd < 0)
                return gk_error_errno(err, "restore: rootfs `%s`", root);
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const gk_mount *m = &spec->mounts[i];
                int fd;

                /* CRIU restores a tmpfs with its content (the mountpoints
                 * in it), and makes the cgroup mount itself */
                if (is_cgroup(m) || !strcmp(m->destination, "/") ||
                    under_tmpfs(spec, m->destination))
                        continue;
                fd = gk_open_in_root(rootfd, m->destination, O_PATH | O_CLOEXEC, true,
                                     !mount_is_dir(m, bundle), err);
                if (fd < 0)
                        return gk_error_wrap(err, "restore: mountpoint of mounts[%zu]", i);
                close(fd);
        }
        return 0;
}
