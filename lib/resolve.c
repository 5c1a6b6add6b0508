/* Paths opened under a directory fd (gk/resolve.h): openat2 with its
 * EAGAIN retry, and the component walk that stands in for it where the
 * kernel or a seccomp filter lacks it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/resolve.h"

static int sys_openat2(int dirfd, const char *path, struct open_how *how)
{
        for (int tries = 0;; tries++) {
                long fd = syscall(SYS_openat2, dirfd, path, how, sizeof(*how));

                if (fd >= 0)
                        return (int) fd;
                if (errno != EAGAIN || tries >= 256)
                        return -errno;
        }
}

/* Whether openat2 itself is refused, rather than the open it was asked
 * for (an immutable file opened for writing is EPERM too). */
static bool openat2_refused(void)
{
        struct open_how how = { .flags = O_PATH | O_CLOEXEC };
        int fd = sys_openat2(AT_FDCWD, "/", &how);

        if (fd >= 0)
                close(fd);
        return fd == -ENOSYS || fd == -EPERM;
}

/* Opens NAME under DIR without following it: a symlink is ELOOP, as
 * RESOLVE_NO_SYMLINKS makes it (O_PATH|O_NOFOLLOW would open the link). */
static int open_nofollow(int dir, const char *name, int flags)
{
        _cleanup_close_ int fd = openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0) {
                int e = errno;

                if (e == ENOTDIR && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISLNK(st.st_mode))
                        return -ELOOP;
                return -e;
        }
        if ((flags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
                return -ELOOP;
        return TAKE_FD(fd);
}

/* The walk: each directory on the way opened O_PATH|O_NOFOLLOW under the
 * previous one, ".." refused beneath DIRFD (openat2 says EXDEV). */
static int walk(int dirfd, const char *path, int flags, uint64_t resolve)
{
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int cur = -1;
        char *p, *next;

        if (!copy)
                return -ENOMEM;
        p = copy;
        if (*p == '/') {
                if (resolve & RESOLVE_BENEATH)
                        return -EXDEV;
                dirfd = AT_FDCWD;
                cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
                cur = dirfd == AT_FDCWD ? open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)
                                        : fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        }
        if (cur < 0)
                return -errno;
        for (; *p; p = next) {
                size_t len = strcspn(p, "/");
                bool last;
                int fd;

                next = p + len + strspn(p + len, "/");
                last = !*next;
                p[len] = '\0';
                if (!strcmp(p, "..") && (resolve & RESOLVE_BENEATH))
                        return -EXDEV;
                if (!len || (!strcmp(p, ".") && !last))
                        continue;
                fd = open_nofollow(cur, p, last ? flags : O_PATH | O_DIRECTORY);
                if (fd < 0)
                        return fd;
                close(cur);
                cur = fd;
                if (last)
                        return TAKE_FD(cur);
        }
        /* PATH was "" or only slashes and dots: DIRFD itself */
        return open_nofollow(cur, ".", flags);
}

int gk_open_resolved(int dirfd, const char *path, int flags, uint64_t resolve)
{
        struct open_how how = { .flags = (uint64_t) flags | O_CLOEXEC, .resolve = resolve };
        const uint64_t walkable = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        int fd;

        if (resolve & RESOLVE_IN_ROOT) {
                while (*path == '/')
                        path++;
                if (!*path)
                        path = ".";
        }
        fd = sys_openat2(dirfd, path, &how);
        if (fd != -ENOSYS && (fd != -EPERM || !openat2_refused()))
                return fd;
        if ((resolve & RESOLVE_NO_SYMLINKS) && !(resolve & ~walkable))
                return walk(dirfd, path, flags, resolve);
        return -ENOSYS;
}

int gk_error_resolve(gk_error **err, int r, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (n < 0)
                return gk_error_make(err, ENOMEM, "resolve");
        if (r == -ENOSYS)
                return gk_error_plain(err, ENOSYS,
                                      "%s: openat2 is not available (gk needs Linux "
                                      "5.6 or later, and a seccomp filter that allows it)",
                                      what);
        return gk_error_make(err, -r, "%s", what);
}
