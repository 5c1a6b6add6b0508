/* The procfs handle gkrun writes /proc through (procfs.h).  Two sources,
 * both held as an fd from before the container could touch them:
 *
 * - a fresh procfs (fsopen("proc") + fsmount), detached: it is in no
 *   mount tree at all, so no symlink or mount of the container lies on
 *   the way to it;
 * - where the kernel refuses that (old kernels; a user namespace whose
 *   mount namespace holds no fully visible procfs, which is the case once
 *   a container's /proc has masked paths), the /proc that gkrun itself
 *   runs with, opened before the container's mounts exist (the init opens
 *   it before it joins or builds any of them, `exec` before it joins the
 *   container's mount namespace).  An fd pins the mount it was opened
 *   on: nothing mounted later on that path changes what it refers to.
 *
 * Either way every lookup beneath it is openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV: no link
 * leads elsewhere and no mount stacked on a directory of it (something a
 * privileged container, or the host, put on /proc/sys/...) is entered;
 * the file opened is checked to be on procfs before anything is written.
 * "self" is a symlink, so it is read (readlinkat) and its number used. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/resolve.h"
#include "gk/util.h"
#include "security/procfs.h"

/* The root directory of every procfs (PROC_ROOT_INO). */
#define PROC_ROOT_INO 1

static bool is_procfs_root(int fd)
{
        struct statfs sf;
        struct stat st;

        return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC && fstat(fd, &st) == 0 &&
               S_ISDIR(st.st_mode) && st.st_ino == PROC_ROOT_INO;
}

int gk_procfs_open_caller(void)
{
        _cleanup_close_ int fd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0 || !is_procfs_root(fd))
                return -1;
        return TAKE_FD(fd);
}

static int open_fresh(bool pids_only)
{
        _cleanup_close_ int fsfd = fsopen("proc", FSOPEN_CLOEXEC);
        _cleanup_close_ int mfd = -1;

        if (fsfd < 0)
                return -errno;
        if (pids_only && fsconfig(fsfd, FSCONFIG_SET_STRING, "subset", "pid", 0) < 0)
                return -errno;
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC,
                      MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (mfd < 0)
                return -errno;
        if (!is_procfs_root(mfd))
                return -EXDEV;
        return TAKE_FD(mfd);
}

int gk_procfs_open_fresh(void)
{
        return open_fresh(false);
}

int gk_procfs_open_pids(void)
{
        return open_fresh(true);
}

void gk_procfs_prefer_fresh(int *procfd)
{
        int fd = gk_procfs_open_fresh();

        if (fd < 0)
                return;
        if (*procfd >= 0)
                close(*procfd);
        *procfd = fd;
}

/* PATH with a leading "self" replaced by our pid as PROCFD's procfs
 * numbers it (which differs between pid namespaces). */
static int expand_self(int procfd, const char *path, char *buf, size_t size, gk_error **err)
{
        char pid[32];
        ssize_t n;

        if (strncmp(path, "self/", 5) != 0) {
                if ((size_t) snprintf(buf, size, "%s", path) >= size)
                        return gk_error_make(err, ENAMETOOLONG, "/proc/%s", path);
                return 0;
        }
        n = readlinkat(procfd, "self", pid, sizeof(pid) - 1);
        if (n <= 0)
                return gk_error_make(err, n < 0 ? errno : EINVAL,
                                     "read /proc/self (gkrun is not in that procfs)");
        pid[n] = '\0';
        if (strspn(pid, "0123456789") != (size_t) n)
                return gk_error_make(err, EXDEV, "/proc/self is \"%s\", not a pid", pid);
        if ((size_t) snprintf(buf, size, "%s/%s", pid, path + 5) >= size)
                return gk_error_make(err, ENAMETOOLONG, "/proc/%s", path);
        return 0;
}

int gk_procfs_open_at(int procfd, const char *path, int flags, gk_error **err)
{
        /* openat2 refuses O_NOCTTY with O_PATH */
        int how_flags = flags | (flags & O_PATH ? 0 : O_NOCTTY);
        _cleanup_close_ int fd = -1;
        char real[256];
        struct statfs sf;
        int r;

        if (procfd < 0)
                return gk_error_make(err, ENOENT,
                                     "open /proc/%s: no procfs gkrun can trust"
                                     " (fsopen refused and gkrun's own /proc is not procfs)",
                                     path);
        if ((r = expand_self(procfd, path, real, sizeof(real), err)) < 0)
                return r;
        fd = gk_open_resolved(procfd, real, how_flags,
                              RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                      RESOLVE_NO_XDEV);
        if (fd == -EXDEV)
                return gk_error_make(err, EXDEV, "open /proc/%s: something is mounted on its path",
                                     path);
        if (fd < 0)
                return gk_error_resolve(err, fd, "open /proc/%s", path);
        if (fstatfs(fd, &sf) < 0)
                return gk_error_errno(err, "statfs /proc/%s", path);
        if (sf.f_type != PROC_SUPER_MAGIC)
                return gk_error_make(err, EXDEV, "open /proc/%s: not a file of procfs", path);
        return TAKE_FD(fd);
}

int gk_procfs_write(int procfd, const char *path, const char *value, gk_error **err)
{
        _cleanup_close_ int fd = gk_procfs_open_at(procfd, path, O_WRONLY, err);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return fd;
        n = write(fd, value, len);
        if (n < 0)
                return gk_error_errno(err, "write /proc/%s", path);
        if ((size_t) n != len)
                return gk_error_make(err, EIO, "write /proc/%s: short write", path);
        return 0;
}

int gk_procfs_fd_path(int procfd, int fd, char *buf, size_t size, gk_error **err)
{
        _cleanup_close_ int dir = gk_procfs_open_at(procfd, "self/fd", O_PATH | O_DIRECTORY, err);
        char name[16];
        ssize_t n;

        if (dir < 0)
                return dir;
        snprintf(name, sizeof(name), "%d", fd);
        /* readlinkat reads the link itself, it does not follow it */
        n = readlinkat(dir, name, buf, size - 1);
        if (n < 0)
                return gk_error_errno(err, "read /proc/self/fd/%d", fd);
        if ((size_t) n >= size - 1)
                return gk_error_make(err, ENAMETOOLONG, "read /proc/self/fd/%d", fd);
        buf[n] = '\0';
        return 0;
}
