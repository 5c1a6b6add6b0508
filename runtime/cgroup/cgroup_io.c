/* Reads and writes of cgroup control files through the cgroup's directory
 * fd: one open, one read or write, so the kernel's own error for a value
 * reaches the user with the field and the value named. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

int gk_cg_open_write(int dirfd, const char *file, const char *field, gk_error **err)
{
        int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);

        if (fd >= 0)
                return fd;
        if (errno == ENOENT)
                return gk_error_plain(err, ENOENT,
                                      "%s: not supported here: the cgroup has no `%s` "
                                      "(controller not enabled, or not in this kernel)",
                                      field, file);
        return gk_error_errno(err, "%s: open `%s`", field, file);
}

int gk_cg_write_fd(int fd, const char *file, const char *value, const char *field, gk_error **err)
{
        size_t len = strlen(value);
        ssize_t n;

        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return gk_error_errno(err, "%s: cannot set %s (%s)", field, value, file);
        if ((size_t) n != len)
                return gk_error_make(err, EIO, "%s: cannot set %s (%s): short write", field, value,
                                     file);
        return 0;
}

int gk_cg_write(int dirfd, const char *file, const char *value, const char *field, gk_error **err)
{
        _cleanup_close_ int fd = gk_cg_open_write(dirfd, file, field, err);

        return fd < 0 ? fd : gk_cg_write_fd(fd, file, value, field, err);
}

int gk_cg_writef(int dirfd, const char *file, const char *field, gk_error **err, const char *fmt,
                 ...)
{
        char buf[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(buf))
                return gk_error_make(err, E2BIG, "%s: value too long", field);
        return gk_cg_write(dirfd, file, buf, field, err);
}

ssize_t gk_cg_read(int dirfd, const char *file, char *buf, size_t size, gk_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        buf[0] = '\0';
        if (fd < 0)
                return gk_error_errno(err, "open cgroup file `%s`", file);
        n = gk_read_all(fd, buf, size - 1);
        if (n < 0)
                return gk_error_make(err, (int) -n, "read cgroup file `%s`", file);
        buf[n] = '\0';
        return n;
}

int gk_cg_read_u64(int dirfd, const char *file, uint64_t *out, gk_error **err)
{
        char buf[64];
        ssize_t n = gk_cg_read(dirfd, file, buf, sizeof(buf), err);

        if (n < 0)
                return (int) n;
        buf[strcspn(buf, " \n")] = '\0';
        if (!strcmp(buf, "max")) {
                *out = UINT64_MAX;
                return 0;
        }
        if (!gk_parse_u64(buf, out))
                return gk_error_make(err, EINVAL, "cgroup file `%s`: not a number: %s", file, buf);
        return 0;
}

bool gk_cg_keyed_u64(const char *text, const char *key, uint64_t *out)
{
        size_t klen = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                if (!strncmp(l, key, klen) && l[klen] == ' ') {
                        char *end;
                        unsigned long long v;

                        errno = 0;
                        v = strtoull(l + klen + 1, &end, 10);
                        if (errno || end == l + klen + 1)
                                return false;
                        *out = v;
                        return true;
                }
        }
        return false;
}

bool gk_cg_exists(int dirfd, const char *file)
{
        return faccessat(dirfd, file, F_OK, 0) == 0;
}
