/* Parent directories of layer entries, seen through the layers below (see
 * unpack_walk.h).  The walk keeps two cursors in step: the directory of
 * this layer (an fd) and the merged directory of the layers below (the
 * list of their directories at that path, top first, cut at a whiteout,
 * an opaque directory or a non-directory, as overlayfs looks names up). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "unpack_walk.h"
#include "whiteout.h"

#define MAX_LINKS 40

typedef struct mdir {
        int *fds; /* owned */
        size_t n;
} mdir;

static void mdir_clear(mdir *d)
{
        for (size_t i = 0; i < d->n; i++)
                close(d->fds[i]);
        free(d->fds);
        *d = (mdir){ 0 };
}

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int fd)
{
        char v[2];

        return fgetxattr(fd, GK_OVL_OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

static int mdir_roots(const gk_parent_walk *w, mdir *out)
{
        *out = (mdir){ .fds = calloc(w->n_lower + 1, sizeof(int)) };
        if (!out->fds)
                return -ENOMEM;
        for (size_t i = 0; i < w->n_lower; i++) {
                int fd = fcntl(w->lower[i], F_DUPFD_CLOEXEC, 3);

                if (fd < 0) {
                        mdir_clear(out);
                        return -errno;
                }
                out->fds[out->n++] = fd;
        }
        return 0;
}

/* NAME in merged directory CUR: 1 with *sub for a directory (*st: the top
 * one's), 0 for anything else (*holder: the borrowed fd of the directory
 * holding it), -ENOENT when the layers below have nothing there. */
static int lower_lookup(const mdir *cur, const char *name, mdir *sub, int *holder, struct stat *st)
{
        *sub = (mdir){ .fds = calloc(cur->n + 1, sizeof(int)) };
        if (!sub->fds)
                return -ENOMEM;
        for (size_t i = 0; i < cur->n; i++) {
                struct stat s;
                int fd;

                if (fstatat(cur->fds[i], name, &s, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (is_whiteout(&s))
                        break;
                if (!S_ISDIR(s.st_mode)) {
                        if (sub->n)
                                break; /* hidden below a directory */
                        mdir_clear(sub);
                        *holder = cur->fds[i];
                        *st = s;
                        return 0;
                }
                fd = openat(cur->fds[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        break;
                if (!sub->n)
                        *st = s;
                sub->fds[sub->n++] = fd;
                if (is_opaque(fd))
                        break;
        }
        if (sub->n)
                return 1;
        mdir_clear(sub);
        return -ENOENT;
}

int gk_copy_dir_meta(int sfd, int dfd, const struct stat *st, gk_error **err)
{
        _cleanup_free_ char *names = NULL;
        char value[65536];
        ssize_t n = flistxattr(sfd, NULL, 0);

        if (fchown(dfd, st->st_uid, st->st_gid) < 0 || fchmod(dfd, st->st_mode & 07777) < 0)
                return gk_error_errno(err, "owner and mode");
        if (n <= 0)
                return 0;
        names = malloc((size_t) n);
        if (!names)
                return gk_error_make(err, ENOMEM, "xattrs");
        n = flistxattr(sfd, names, (size_t) n);
        for (char *k = names; n > 0 && k < names + n; k += strlen(k) + 1) {
                ssize_t vl;

                if (gk_xattr_reserved(k))
                        continue;
                vl = fgetxattr(sfd, k, value, sizeof(value));
                if (vl < 0)
                        return gk_error_errno(err, "get xattr `%s`", k);
                if (fsetxattr(dfd, k, value, (size_t) vl, 0) < 0)
                        return gk_error_errno(err, "set xattr `%s`", k);
        }
        return 0;
}

/* The components of A, then of B, then of C, with "." dropped and ".."
 * taking one back but never above the root (the rule of a path resolved
 * inside the image's root); an absolute B starts again from the root. */
static int join_in_root(const char *a, const char *b, const char *c, char **out)
{
        const char *parts[3] = { b[0] == '/' ? "" : a, b, c };
        size_t cap = strlen(a) + strlen(b) + strlen(c) + 4, n = 0;
        char *buf = malloc(cap);

        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < 3; i++)
                for (const char *p = parts[i]; *p;) {
                        const char *end = strchrnul(p, '/');
                        size_t len = (size_t) (end - p);

                        if (len == 2 && p[0] == '.' && p[1] == '.') {
                                while (n > 0 && buf[n - 1] != '/')
                                        n--;
                                if (n > 0)
                                        n--;
                        } else if (len && !(len == 1 && p[0] == '.')) {
                                if (n)
                                        buf[n++] = '/';
                                memcpy(buf + n, p, len);
                                n += len;
                        }
                        p = *end ? end + 1 : end;
                }
        if (!n)
                buf[n++] = '.';
        buf[n] = '\0';
        *out = buf;
        return 0;
}

typedef struct walk {
        const gk_parent_walk *w;
        bool create;
        int cur;    /* owned; this layer's directory at `done` */
        mdir lower; /* the layers below at `done` */
        char *done; /* resolved so far ("" at the root) */
} walk;

static void walk_clear(walk *k)
{
        if (k->cur >= 0)
                close(k->cur);
        k->cur = -1;
        mdir_clear(&k->lower);
        free(k->done);
        k->done = NULL;
}

static int walk_start(walk *k, gk_error **err)
{
        walk_clear(k);
        k->cur = fcntl(k->w->root, F_DUPFD_CLOEXEC, 3);
        k->done = strdup("");
        if (k->cur < 0 || !k->done || mdir_roots(k->w, &k->lower) < 0)
                return gk_error_make(err, ENOMEM, "walk");
        return 0;
}

/* A directory was made in the current one: its mtime is the unpack's. */
static int touched(walk *k)
{
        if (!k->w->copied)
                return 0;
        return k->w->copied(k->w->ctx, *k->done ? k->done : ".", NULL) < 0 ? (errno = ENOMEM, -1)
                                                                           : 0;
}

/* Makes NAME here as a copy of the lower directory whose top is TOP. */
static int copy_lower_dir(walk *k, const char *name, const mdir *below, const struct stat *top,
                          int *out, gk_error **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *path = NULL;

        if (mkdirat(k->cur, name, 0700) < 0)
                return gk_error_errno(err, "mkdir `%s`", name);
        fd = openat(k->cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open `%s`", name);
        if (gk_copy_dir_meta(below->fds[0], fd, top, err) < 0)
                return gk_error_wrap(err, "`%s` as the layers below have it", name);
        if (asprintf(&path, "%s%s%s", k->done, *k->done ? "/" : "", name) < 0)
                return gk_error_make(err, ENOMEM, "walk");
        if (k->w->copied && k->w->copied(k->w->ctx, path, top) < 0)
                return gk_error_make(err, ENOMEM, "walk");
        *out = TAKE_FD(fd);
        return 0;
}

/* NAME is not in this layer: what the layers below have there decides.
 * Returns 1 when a lower symlink must be followed (its target in
 * *target), 0 with *out and *below set, < 0 on error. */
static int step_lower(walk *k, const char *name, int *out, mdir *below, char **target,
                      gk_error **err)
{
        char buf[PATH_MAX];
        struct stat st;
        int holder = -1, r;
        ssize_t n;

        r = lower_lookup(&k->lower, name, below, &holder, &st);
        if (r == -ENOMEM)
                return gk_error_make(err, ENOMEM, "walk");
        if (r == 1)
                return k->create ? copy_lower_dir(k, name, below, &st, out, err)
                                 : gk_error_make(err, ENOENT, "`%s`", name);
        if (r == 0 && S_ISLNK(st.st_mode)) {
                n = readlinkat(holder, name, buf, sizeof(buf) - 1);
                if (n <= 0)
                        return gk_error_errno(err, "readlink `%s` of the layers below", name);
                buf[n] = '\0';
                *target = strdup(buf);
                return *target ? 1 : gk_error_make(err, ENOMEM, "walk");
        }
        if (r == 0)
                return gk_error_make(err, ENOTDIR, "`%s` is not a directory in the layers below",
                                     name);
        if (!k->create)
                return gk_error_make(err, ENOENT, "`%s`", name);
        /* Nothing below either: a new directory, as tar makes it. */
        if (mkdirat(k->cur, name, 0755) < 0)
                return gk_error_errno(err, "mkdir `%s`", name);
        if (touched(k) < 0)
                return gk_error_make(err, ENOMEM, "walk");
        *out = openat(k->cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return *out < 0 ? gk_error_errno(err, "open `%s`", name) : 0;
}

/* NAME exists in this layer (ST): a directory is entered; a whiteout of
 * this layer is a directory deleted below and made again here, so it
 * becomes opaque; anything else is in the way. */
static int step_here(walk *k, const char *name, const struct stat *st, int *out, mdir *below,
                     gk_error **err)
{
        struct stat lst;
        int holder, fd;

        *below = (mdir){ 0 };
        if (S_ISDIR(st->st_mode)) {
                fd = openat(k->cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return gk_error_errno(err, "open `%s`", name);
                if (!is_opaque(fd) &&
                    lower_lookup(&k->lower, name, below, &holder, &lst) == -ENOMEM) {
                        close(fd);
                        return gk_error_make(err, ENOMEM, "walk");
                }
                *out = fd;
                return 0;
        }
        if (S_ISLNK(st->st_mode))
                return gk_error_make(err, 0, "goes through symlink `%s`", name);
        if (!is_whiteout(st) || !k->create)
                return gk_error_make(err, ENOTDIR, "`%s`", name);
        if (unlinkat(k->cur, name, 0) < 0)
                return gk_error_errno(err, "replace whiteout `%s`", name);
        if (mkdirat(k->cur, name, 0755) < 0 || touched(k) < 0)
                return gk_error_errno(err, "mkdir `%s`", name);
        fd = openat(k->cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open `%s`", name);
        if (fsetxattr(fd, GK_OVL_OPAQUE_XATTR, "y", 1, 0) < 0) {
                close(fd);
                return gk_error_errno(err, "set %s on `%s`", GK_OVL_OPAQUE_XATTR, name);
        }
        *out = fd;
        return 0;
}

/* One component; 1 when the walk must start again on *restart. */
static int step(walk *k, const char *name, const char *rest, char **restart, gk_error **err)
{
        _cleanup_free_ char *target = NULL;
        struct stat st;
        mdir below = { 0 };
        int next = -1, r;
        char *done;

        if (fstatat(k->cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                r = step_here(k, name, &st, &next, &below, err);
        else if (errno != ENOENT)
                r = gk_error_errno(err, "`%s`", name);
        else
                r = step_lower(k, name, &next, &below, &target, err);
        if (r == 1)
                return join_in_root(k->done, target, rest, restart) < 0
                               ? gk_error_make(err, ENOMEM, "walk")
                               : 1;
        if (r < 0) {
                mdir_clear(&below);
                return r;
        }
        if (asprintf(&done, "%s%s%s", k->done, *k->done ? "/" : "", name) < 0) {
                close(next);
                mdir_clear(&below);
                return gk_error_make(err, ENOMEM, "walk");
        }
        free(k->done);
        k->done = done;
        close(k->cur);
        k->cur = next;
        mdir_clear(&k->lower);
        k->lower = below;
        return 0;
}

int gk_parent_open(const gk_parent_walk *w, const char *path, bool create, char **resolved,
                   gk_error **err)
{
        _cleanup_free_ char *todo = strdup(path);
        walk k = { .w = w, .create = create, .cur = -1 };
        int links = 0, r;

        if (!todo || walk_start(&k, err) < 0)
                return gk_error_make(err, ENOMEM, "`%s`", path);
        for (char *p = todo; *p;) {
                char *name = p, *rest = strchrnul(p, '/'), *restart = NULL;

                if (*rest)
                        *rest++ = '\0';
                p = rest;
                if (!strcmp(name, "."))
                        continue;
                r = step(&k, name, rest, &restart, err);
                if (r == 1 && ++links > MAX_LINKS) {
                        free(restart);
                        r = gk_error_make(err, ELOOP, "too many symlinks in the layers below");
                }
                if (r < 0) {
                        walk_clear(&k);
                        return gk_error_wrap(err, "`%s`", path);
                }
                if (r == 1) { /* through a lower symlink: again from the root */
                        free(todo);
                        p = todo = restart;
                        if (walk_start(&k, err) < 0)
                                return gk_error_code_or(err, -ENOMEM);
                }
        }
        *resolved = strdup(*k.done ? k.done : ".");
        r = *resolved ? TAKE_FD(k.cur) : gk_error_make(err, ENOMEM, "walk");
        walk_clear(&k);
        return r;
}

int gk_parent_copy_root(const gk_parent_walk *w, gk_error **err)
{
        struct stat st;

        if (!w->n_lower)
                return 0;
        if (fstat(w->lower[0], &st) < 0)
                return gk_error_errno(err, "the root of the layers below");
        if (gk_copy_dir_meta(w->lower[0], w->root, &st, err) < 0)
                return gk_error_wrap(err, "the root as the layers below have it");
        return w->copied && w->copied(w->ctx, ".", &st) < 0 ? gk_error_make(err, ENOMEM, "root")
                                                            : 0;
}

/* The bytes of SFD into DFD, in the kernel where it can. */
static int copy_bytes(int sfd, int dfd, off_t size, gk_error **err)
{
        char buf[65536];
        off_t done = 0;

        while (done < size) {
                ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, (size_t) (size - done), 0);

                if (n < 0 &&
                    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
                        break;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gk_error_errno(err, "copy");
                if (n == 0)
                        return 0;
                done += n;
        }
        while (done < size) {
                ssize_t n = read(sfd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gk_error_errno(err, "read");
                if (n == 0)
                        return 0;
                if (gk_write_all(dfd, buf, (size_t) n) < 0)
                        return gk_error_errno(err, "write");
                done += n;
        }
        return 0;
}

/* The lower layers' file NAME of directory DIR (resolved: real
 * directories all the way), opened for reading. */
static int lower_file(const gk_parent_walk *w, const char *dir, const char *name, struct stat *st)
{
        _cleanup_free_ char *copy = strdup(dir);
        mdir cur = { 0 }, sub;
        char *save = NULL;
        int holder = -1, r, fd;

        if (!copy || mdir_roots(w, &cur) < 0)
                return -ENOMEM;
        for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                if (!strcmp(comp, "."))
                        continue;
                r = lower_lookup(&cur, comp, &sub, &holder, st);
                mdir_clear(&cur);
                if (r != 1)
                        return r == 0 ? -ENOTDIR : r;
                cur = sub;
        }
        r = lower_lookup(&cur, name, &sub, &holder, st);
        if (r == 1)
                mdir_clear(&sub);
        fd = r == 0 && S_ISREG(st->st_mode)
                     ? openat(holder, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                     : -1;
        if (r == 0 && fd < 0)
                r = S_ISREG(st->st_mode) ? -errno : -EPERM;
        mdir_clear(&cur);
        return r < 0 ? r : r == 1 ? -EISDIR : fd;
}

int gk_parent_copy_up(const gk_parent_walk *w, int dfd, const char *dir, const char *name,
                      gk_error **err)
{
        _cleanup_close_ int sfd = -1, fd = -1;
        struct stat st;
        struct timespec ts[2];

        if (!w->n_lower)
                return 0;
        sfd = lower_file(w, dir, name, &st);
        if (sfd == -ENOENT || sfd == -ENOTDIR)
                return 0; /* not in the image at all: the caller says so */
        if (sfd < 0)
                return gk_error_make(err, -sfd,
                                     "a hardlink to a lower layer's `%s` must name a "
                                     "regular file",
                                     name);
        fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return gk_error_errno(err, "copy up `%s`", name);
        if (copy_bytes(sfd, fd, st.st_size, err) < 0 || gk_copy_dir_meta(sfd, fd, &st, err) < 0)
                return gk_error_wrap(err, "copy up `%s`", name);
        ts[0] = st.st_atim;
        ts[1] = st.st_mtim;
        if (futimens(fd, ts) < 0)
                return gk_error_errno(err, "copy up `%s`: times", name);
        return 0;
}
