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
#include <fcntl.h>
#include <linux/magic.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "security/procfs.h"
#include "rootfs/rootfs_internal.h"

static const char *const allowed_in_proc[] = {
        "/proc/cpuinfo",
        "/proc/diskstats",
        "/proc/meminfo",
        "/proc/stat",
        "/proc/swaps",
        "/proc/uptime",
        "/proc/loadavg",
        "/proc/slabinfo",
        "/proc/net/dev",
        "/proc/sys/kernel/ns_last_pid",
        "/proc/sys/crypto/fips_enabled",
};

/* FD's path inside the root ROOTFD into BUF: the kernel's name of FD as
 * seen with ROOTFD as our root (chroot for the one read, then back), so
 * that no rename of the bundle's directories above the rootfs, since or
 * during the read, changes it: only what lies inside the rootfs counts. */
static int path_in_root(const gk_container *c, int rootfd, int fd, char *buf, size_t size,
                        gk_error **err)
{
        _cleanup_close_ int host = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (host < 0 || cwd < 0)
                return gk_error_errno(err, "open / and .");
        if (fchdir(rootfd) < 0 || chroot(".") < 0)
                return gk_error_errno(err, "chroot to the rootfs");
        r = gk_procfs_fd_path(c->proc_fd, fd, buf, size, err);
        if (fchdir(host) < 0 || chroot(".") < 0 || fchdir(cwd) < 0)
                return gk_error_errno(err, "chroot back from the rootfs");
        if (r < 0)
                return r;
        if (buf[0] != '/')
                return gk_error_make(err, EXDEV, "resolves to `%s`, outside the rootfs", buf);
        return 0;
}

static bool is_procfs(const char *path)
{
        struct statfs sf;

        return path && statfs(path, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

int gk_mount_dest_check(const gk_container *c, int rootfd, int fd, const gk_mount *m,
                        const char *bind_src, gk_error **err)
{
        char where[PATH_MAX], said[PATH_MAX + 32] = "";
        int r = path_in_root(c, rootfd, fd, where, sizeof(where), err);

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
                return gk_error_plain(err, EPERM,
                                      "%s\"%s\" cannot be mounted because it is not"
                                      " of type proc",
                                      said, where);
        }
        for (size_t i = 0; i < ARRAY_SIZE(allowed_in_proc); i++)
                if (!strcmp(where, allowed_in_proc[i]))
                        return 0;
        return gk_error_plain(err, EPERM, "%s\"%s\" cannot be mounted because it is inside /proc",
                              said, where);
}
