/* Mount destinations inside /proc, refused as runc refuses them
 * (libcontainer/rootfs_linux.go, checkProcMount): a mount over a file of
 * /proc/sys or /proc/self would change what the container, and gkrun
 * writing there, reach through that path.  Only /proc itself (a procfs)
 * and the few files lxcfs emulates may be mounted on.
 *
 * The rule is applied to where the destination resolves inside the
 * rootfs, not to its text: an image symlink /data -> /proc/sys/net makes
 * a mount on "/data" one inside /proc.  The path is the kernel's name for
 * the fd the mount is then made on (read through the init's own procfs),
 * so the check and the mount see the same place. */
#include <errno.h>
#include <linux/magic.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>

#include "gk/cleanup.h"
#include "procfs.h"
#include "rootfs_internal.h"

static const char *const allowed_in_proc[] = {
        "/proc/cpuinfo",   "/proc/diskstats", "/proc/meminfo",
        "/proc/stat",      "/proc/swaps",     "/proc/uptime",
        "/proc/loadavg",   "/proc/slabinfo",  "/proc/net/dev",
        "/proc/sys/kernel/ns_last_pid",       "/proc/sys/crypto/fips_enabled",
};

/* FD's path inside the root ROOTFS into BUF, from the kernel's full one. */
static int path_in_root(const gk_container *c, int fd, char *buf, size_t size, gk_error **err)
{
        char full[PATH_MAX];
        size_t n = strcmp(c->rootfs, "/") ? strlen(c->rootfs) : 0;
        int r = gk_procfs_fd_path(c->proc_fd, fd, full, sizeof(full), err);

        if (r < 0)
                return r;
        if (strncmp(full, c->rootfs, n) != 0 || (full[n] != '/' && full[n] != '\0'))
                return gk_error_make(err, EXDEV, "resolves to `%s`, outside the rootfs", full);
        if ((size_t) snprintf(buf, size, "%s", full[n] ? full + n : "/") >= size)
                return gk_error_make(err, ENAMETOOLONG, "`%s`", full);
        return 0;
}

static bool is_procfs(const char *path)
{
        struct statfs sf;

        return path && statfs(path, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

int gk_mount_dest_check(const gk_container *c, int fd, const gk_mount *m, const char *bind_src,
                        gk_error **err)
{
        char where[PATH_MAX], said[PATH_MAX + 32] = "";
        int r = path_in_root(c, fd, where, sizeof(where), err);

        if (r < 0)
                return gk_error_wrap(err, "destination \"%s\"", m->destination);
        if (strncmp(where, "/proc", 5) != 0 || (where[5] != '/' && where[5] != '\0'))
                return 0;
        if (strcmp(where, m->destination) != 0)
                snprintf(said, sizeof(said), "destination \"%s\" resolves to ", m->destination);
        if (!where[5]) {
                /* a new procfs, or a bind of one */
                if (bind_src ? is_procfs(bind_src) : (m->type && !strcmp(m->type, "proc")))
                        return 0;
                return gk_error_plain(err, EPERM, "%s\"%s\" cannot be mounted because it is not"
                                      " of type proc", said, where);
        }
        for (size_t i = 0; i < ARRAY_SIZE(allowed_in_proc); i++)
                if (!strcmp(where, allowed_in_proc[i]))
                        return 0;
        return gk_error_plain(err, EPERM, "%s\"%s\" cannot be mounted because it is inside /proc",
                              said, where);
}
