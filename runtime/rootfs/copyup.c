/* "tmpcopyup": a tmpfs that starts with a copy of what the rootfs held at
 * its destination (crun's option, podman's default for volumes on /tmp and
 * the like).  The copy goes from the directory under the new mount (an fd
 * opened before the mount) to the tmpfs, entry by entry through dir fds,
 * nothing followed: a symlink in the image is copied as a symlink, and
 * never leads the copy out of the rootfs.  Kept: contents, modes, owners,
 * symlinks, hard links (within the copy), xattrs (security.* where the
 * kernel lets us), devices and fifos. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "rootfs/rootfs_internal.h"

#define MAX_DEPTH 256

typedef struct copy_link {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to the copy's top */
} copy_link;

typedef struct copy_ctx {
        int top; /* the tmpfs */
        copy_link *links;
        size_t n_links;
} copy_ctx;

/* An id the container's user namespace cannot map (a file of the image
 * owned by a host id outside it shows as the overflow id) stays the
 * tmpfs's default owner: EINVAL/EOVERFLOW from chown are not failures. */
static int chown_kept(int r)
{
        return r < 0 && errno != EINVAL && errno != EOVERFLOW ? -1 : 0;
}

static bool xattr_optional(const char *name, int e)
{
        /* security.* and trusted.* need privileges we may not have in a
         * user namespace; a filesystem may not take a namespace at all */
        return e == EOPNOTSUPP || ((e == EPERM || e == EACCES) && strncmp(name, "user.", 5) != 0);
}

static int copy_xattrs(int from, int to, const char *path, gk_error **err)
{
        _cleanup_free_ char *names = NULL, *value = NULL;
        ssize_t n = flistxattr(from, NULL, 0);

        if (n < 0 && (errno == EOPNOTSUPP || errno == ENODATA))
                return 0;
        if (n < 0)
                return gk_error_errno(err, "list xattrs of `%s`", path);
        if (n == 0)
                return 0;
        names = malloc((size_t) n);
        value = malloc(XATTR_SIZE_MAX);
        if (!names || !value)
                return gk_error_make(err, ENOMEM, "xattrs of `%s`", path);
        n = flistxattr(from, names, (size_t) n);
        for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t) strlen(names + off) + 1) {
                const char *name = names + off;
                ssize_t v = fgetxattr(from, name, value, XATTR_SIZE_MAX);

                if (v < 0 && xattr_optional(name, errno))
                        continue;
                if (v < 0)
                        return gk_error_errno(err, "read xattr %s of `%s`", name, path);
                if (fsetxattr(to, name, value, (size_t) v, 0) < 0 && !xattr_optional(name, errno))
                        return gk_error_errno(err, "copy xattr %s of `%s`", name, path);
        }
        return 0;
}

static int copy_data(int from, int to, const struct stat *st, const char *path, gk_error **err)
{
        off_t left = st->st_size;

        while (left > 0) {
                ssize_t n = sendfile(to, from, NULL, left > (1 << 30) ? (1 << 30) : (size_t) left);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gk_error_errno(err, "copy `%s`", path);
                if (n == 0) /* shrank while copied */
                        break;
                left -= n;
        }
        return 0;
}

/* The path, under the copy's top, of a file already copied that is the
 * same inode as ST: the new name becomes a hard link to it. */
static const char *copied_before(copy_ctx *x, const struct stat *st, const char *path)
{
        copy_link *v;

        for (size_t i = 0; i < x->n_links; i++)
                if (x->links[i].dev == st->st_dev && x->links[i].ino == st->st_ino)
                        return x->links[i].path;
        v = realloc(x->links, (x->n_links + 1) * sizeof(*v));
        if (!v)
                return NULL; /* a copy instead of a link: no failure */
        x->links = v;
        v[x->n_links] = (copy_link){ st->st_dev, st->st_ino, strdup(path) };
        if (v[x->n_links].path)
                x->n_links++;
        return NULL;
}

static int copy_file(copy_ctx *x, int from_dir, int to_dir, const char *name,
                     const struct stat *st, const char *path, gk_error **err)
{
        _cleanup_close_ int from = -1, to = -1;
        const char *first = st->st_nlink > 1 ? copied_before(x, st, path) : NULL;

        if (first) {
                if (linkat(x->top, first, to_dir, name, 0) < 0)
                        return gk_error_errno(err, "link `%s` to `%s`", path, first);
                return 0;
        }
        from = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (from < 0)
                return gk_error_errno(err, "open `%s`", path);
        to = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (to < 0)
                return gk_error_errno(err, "create `%s`", path);
        if (copy_data(from, to, st, path, err) < 0 || copy_xattrs(from, to, path, err) < 0)
                return gk_error_code(*err);
        if (chown_kept(fchown(to, st->st_uid, st->st_gid)) < 0)
                return gk_error_errno(err, "chown `%s`", path);
        /* after the chown, which clears setuid/setgid */
        if (fchmod(to, st->st_mode & 07777) < 0)
                return gk_error_errno(err, "chmod `%s`", path);
        return 0;
}

static int copy_other(int from_dir, int to_dir, const char *name, const struct stat *st,
                      const char *path, gk_error **err)
{
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(from_dir, name, target, sizeof(target) - 1);

                if (n < 0)
                        return gk_error_errno(err, "readlink `%s`", path);
                target[n] = '\0';
                if (symlinkat(target, to_dir, name) < 0)
                        return gk_error_errno(err, "symlink `%s`", path);
        } else if (mknodat(to_dir, name, st->st_mode, st->st_rdev) < 0) {
                return gk_error_errno(err, "mknod `%s`", path);
        } else if (fchmodat(to_dir, name, st->st_mode & 07777, 0) < 0) {
                return gk_error_errno(err, "chmod `%s`", path);
        }
        if (chown_kept(fchownat(to_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW)) < 0)
                return gk_error_errno(err, "chown `%s`", path);
        return 0;
}

static int copy_tree(copy_ctx *x, int from, int to, const char *rel, int depth, gk_error **err);

static int copy_entry(copy_ctx *x, int from_dir, int to_dir, const char *name, const char *path,
                      int depth, gk_error **err)
{
        _cleanup_close_ int from = -1, to = -1;
        struct stat st;

        if (fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return gk_error_errno(err, "stat `%s`", path);
        if (S_ISREG(st.st_mode))
                return copy_file(x, from_dir, to_dir, name, &st, path, err);
        if (!S_ISDIR(st.st_mode))
                return copy_other(from_dir, to_dir, name, &st, path, err);
        if (depth >= MAX_DEPTH)
                return gk_error_make(err, ELOOP, "copy `%s`: too deep", path);
        if (mkdirat(to_dir, name, 0700) < 0)
                return gk_error_errno(err, "mkdir `%s`", path);
        from = openat(from_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        to = openat(to_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (from < 0 || to < 0)
                return gk_error_errno(err, "open `%s`", path);
        if (copy_tree(x, from, to, path, depth + 1, err) < 0 ||
            copy_xattrs(from, to, path, err) < 0)
                return gk_error_code(*err);
        if (chown_kept(fchown(to, st.st_uid, st.st_gid)) < 0)
                return gk_error_errno(err, "chown `%s`", path);
        /* last: a directory without write permission was filled first */
        if (fchmod(to, st.st_mode & 07777) < 0)
                return gk_error_errno(err, "chmod `%s`", path);
        return 0;
}

static int copy_tree(copy_ctx *x, int from, int to, const char *rel, int depth, gk_error **err)
{
        int dfd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return gk_error_errno(err, "read `%s`", *rel ? rel : "/");
        }
        while (r == 0 && (errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0)
                        r = gk_error_make(err, ENOMEM, "copy");
                else
                        r = copy_entry(x, from, to, de->d_name, path, depth, err);
        }
        if (r == 0 && errno)
                r = gk_error_errno(err, "read `%s`", *rel ? rel : "/");
        closedir(d);
        return r;
}

int gk_copyup(int from, int to, gk_error **err)
{
        copy_ctx x = { .top = to };
        int r = copy_tree(&x, from, to, "", 0, err);

        for (size_t i = 0; i < x.n_links; i++)
                free(x.links[i].path);
        free(x.links);
        return r;
}
