/* File, string and number helpers. */

#include <errno.h>
#include <linux/openat2.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"

#define GK_READ_MAX (64u << 20)

int gk_read_fd(int fd, const char *what, char **out, size_t *len, gk_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap = 0;

        for (;;) {
                ssize_t n;

                if (cap - size < 4096) {
                        char *nb;

                        cap = cap ? cap * 2 : 8192;
                        if (cap > GK_READ_MAX + 1)
                                return gk_error_make(err, EFBIG, "read `%s`", what);
                        nb = realloc(buf, cap);
                        if (!nb)
                                return gk_error_make(err, ENOMEM, "read `%s`", what);
                        buf = nb;
                }
                n = read(fd, buf + size, cap - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return gk_error_errno(err, "read `%s`", what);
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = '\0';
        *out = TAKE_PTR(buf);
        if (len)
                *len = size;
        return 0;
}

int gk_read_file_at(int dirfd, const char *path, char **out, size_t *len, gk_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return gk_error_errno(err, "open `%s`", path);
        return gk_read_fd(fd, path, out, len, err);
}

int gk_read_file(const char *path, char **out, size_t *len, gk_error **err)
{
        return gk_read_file_at(AT_FDCWD, path, out, len, err);
}

int gk_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t gk_read_all(int fd, void *buf, size_t len)
{
        char *p = buf;
        size_t got = 0;

        while (got < len) {
                ssize_t n = read(fd, p + got, len - got);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        return (ssize_t) got;
}

int gk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                         gk_error **err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int) getpid()) < 0)
                return gk_error_make(err, ENOMEM, "write `%s`", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return gk_error_errno(err, "create `%s`", tmp);
        r = gk_write_all(fd, data, len);
        if (r == 0 && durable && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return gk_error_make(err, -r, "write `%s`", tmp);
        }
        if (rename(tmp, path) < 0) {
                r = gk_error_errno(err, "rename `%s` to `%s`", tmp, path);
                unlink(tmp);
                return r;
        }
        if (durable) {
                _cleanup_free_ char *dir = strdup(path);
                char *slash = dir ? strrchr(dir, '/') : NULL;
                _cleanup_close_ int dfd = -1;

                if (slash)
                        *slash = '\0';
                dfd = open(slash ? (dir[0] ? dir : "/") : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        fsync(dfd);
        }
        return 0;
}

int gk_write_file_at(int dirfd, const char *path, const char *data, size_t len, gk_error **err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return gk_error_errno(err, "open `%s`", path);
        n = write(fd, data, len);
        if (n < 0)
                return gk_error_errno(err, "write `%.*s` to `%s`", (int) (len > 64 ? 64 : len),
                                      data, path);
        if ((size_t) n != len)
                return gk_error_make(err, EIO, "short write to `%s`", path);
        return 0;
}

int gk_write_file(const char *path, const char *data, gk_error **err)
{
        return gk_write_file_at(AT_FDCWD, path, data, strlen(data), err);
}

int gk_mkdir_p(const char *path, mode_t mode, gk_error **err)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return gk_error_make(err, ENOMEM, "mkdir `%s`", path);
        for (char *s = p + 1;; s++) {
                if (*s == '/' || *s == '\0') {
                        char c = *s;

                        *s = '\0';
                        if (mkdir(p, mode) < 0 && errno != EEXIST)
                                return gk_error_errno(err, "mkdir `%s`", p);
                        *s = c;
                        if (!c)
                                break;
                }
        }
        return 0;
}

static int rm_rf_children(int dfd, dev_t dev, gk_error **err)
{
        _cleanup_closedir_ DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                close(dfd);
                return gk_error_errno(err, "opendir");
        }
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        if (S_ISDIR(st.st_mode)) {
                                int cfd;

                                if (st.st_dev != dev)
                                        return gk_error_make(err, EBUSY, "`%s` is a mount point",
                                                             de->d_name);
                                cfd = openat(dirfd(d), de->d_name,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (cfd < 0)
                                        return gk_error_errno(err, "open `%s`", de->d_name);
                                if (rm_rf_children(cfd, dev, err) < 0)
                                        return gk_error_wrap_dir(err, de->d_name);
                                if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 &&
                                    errno != ENOENT)
                                        return gk_error_errno(err, "rmdir `%s`", de->d_name);
                                continue;
                        }
                }
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                        return gk_error_errno(err, "unlink `%s`", de->d_name);
        }
        return 0;
}

int gk_rm_rf_at(int dirfd, const char *name, gk_error **err)
{
        struct stat st;
        int fd;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : gk_error_errno(err, "stat `%s`", name);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        return gk_error_errno(err, "unlink `%s`", name);
                return 0;
        }
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open `%s`", name);
        if (rm_rf_children(fd, st.st_dev, err) < 0)
                return gk_error_wrap(err, "remove `%s`", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return gk_error_errno(err, "rmdir `%s`", name);
        return 0;
}

bool gk_parse_u64(const char *s, uint64_t *out)
{
        char *end;
        unsigned long long v;

        if (!s || !*s || *s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || *end)
                return false;
        *out = v;
        return true;
}

bool gk_parse_i64(const char *s, int64_t *out)
{
        char *end;
        long long v;

        if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9')))
                return false;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || *end)
                return false;
        *out = v;
        return true;
}

size_t gk_strv_len(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

char **gk_strv_dup(char *const *v)
{
        size_t n = gk_strv_len(v);
        char **c;

        if (!v)
                return NULL;
        c = calloc(n + 1, sizeof(*c));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                c[i] = strdup(v[i]);
                if (!c[i]) {
                        gk_strvfree(c);
                        return NULL;
                }
        }
        return c;
}

bool gk_str_has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

DIR *gk_opendir_at(int at, const char *name)
{
        int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d) {
                int saved = errno;

                close(fd);
                errno = saved;
        }
        return d;
}

char *gk_mountinfo_unescape(const char *s)
{
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                return NULL;
        while (*s) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 4;
                } else {
                        *o++ = *s++;
                }
        }
        *o = '\0';
        return out;
}

int64_t gk_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int gk_format_time_rfc3339(char *buf, size_t size, int64_t ns)
{
        time_t secs = (time_t) (ns / 1000000000);
        struct tm tm;
        char base[32];

        if (!gmtime_r(&secs, &tm))
                return -EINVAL;
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        if (snprintf(buf, size, "%s.%09lldZ", base, (long long) (ns % 1000000000)) >= (int) size)
                return -ENOSPC;
        return 0;
}

bool gk_in_user_namespace(void)
{
        _cleanup_free_ char *map = NULL;
        unsigned long inside, outside, count;

        if (gk_read_file("/proc/self/uid_map", &map, NULL, NULL) < 0)
                return false;
        if (sscanf(map, "%lu %lu %lu", &inside, &outside, &count) != 3)
                return true;
        return !(inside == 0 && outside == 0 && count == 4294967295UL);
}
