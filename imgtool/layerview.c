/* The merged view of unpacked layers, looked up in user space the way
 * overlayfs does it.  A "merged directory" is the list of the layers'
 * directories that make it up, top first: the lookup of a name goes down
 * that list until a whiteout, an opaque directory or a non-directory ends
 * it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "layerview.h"
#include "whiteout.h"

#define MAX_DEPTH 128
#define MAX_LINKS 40

typedef struct mdir {
        int *fds; /* owned */
        size_t n;
} mdir;

typedef struct walk {
        mdir stack[MAX_DEPTH]; /* stack[0] is the root; borrowed fds there */
        size_t depth;
        const int *roots;
        size_t n_roots;
} walk;

static void mdir_close(mdir *d)
{
        for (size_t i = 0; i < d->n; i++)
                close(d->fds[i]);
        free(d->fds);
        d->fds = NULL;
        d->n = 0;
}

static void walk_reset(walk *w)
{
        while (w->depth > 0)
                mdir_close(&w->stack[w->depth--]);
}

static bool opaque(int fd)
{
        char v[2];

        return fgetxattr(fd, GK_OVL_OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

/* Looks NAME up in the current merged directory.  Returns 1 with *sub
 * filled for a directory, 0 with *layer_fd and *st for a non-directory (the
 * fd of the directory holding it, borrowed), -ENOENT when absent. */
static int lookup(walk *w, const char *name, mdir *sub, int *layer_fd, struct stat *st)
{
        const mdir *cur = &w->stack[w->depth];
        const int *fds = w->depth ? cur->fds : w->roots;
        size_t n = w->depth ? cur->n : w->n_roots;

        *sub = (mdir){ .fds = calloc(n, sizeof(int)) };
        if (!sub->fds)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct stat s;
                int fd;

                if (fstatat(fds[i], name, &s, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISCHR(s.st_mode) && s.st_rdev == makedev(0, 0))
                        break;
                if (!S_ISDIR(s.st_mode)) {
                        if (sub->n)
                                break; /* hidden below a directory */
                        mdir_close(sub);
                        *layer_fd = fds[i];
                        *st = s;
                        return 0;
                }
                fd = openat(fds[i], name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        break;
                sub->fds[sub->n++] = fd;
                if (opaque(fd))
                        break;
        }
        if (sub->n)
                return 1;
        mdir_close(sub);
        return -ENOENT;
}

/* Replaces the path left to walk by TARGET + "/" + REST. */
static int splice_link(int dfd, const char *name, const char *rest, char **path)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
        char *np;

        if (n <= 0)
                return -EINVAL;
        target[n] = '\0';
        if (asprintf(&np, "%s%s%s", target, *rest ? "/" : "", rest) < 0)
                return -ENOMEM;
        free(*path);
        *path = np;
        return 0;
}

/* Walks to the regular file PATH; returns an fd open for reading. */
static int walk_open(walk *w, const char *path_in)
{
        _cleanup_free_ char *path = strdup(path_in);
        int links = 0;

        if (!path)
                return -ENOMEM;
        for (char *p = path;;) {
                char *name, *rest;
                mdir sub;
                int lfd = -1, r;
                struct stat st;

                if (*p == '/') {
                        walk_reset(w); /* absolute: from the image root */
                        p += strspn(p, "/");
                }
                if (!*p)
                        return -EISDIR;
                name = p;
                rest = strchrnul(p, '/');
                if (*rest)
                        *rest++ = '\0';
                p = rest;
                if (!strcmp(name, "."))
                        continue;
                if (!strcmp(name, "..")) {
                        if (w->depth > 0) /* ".." at the root stays there */
                                mdir_close(&w->stack[w->depth--]);
                        continue;
                }
                r = lookup(w, name, &sub, &lfd, &st);
                if (r < 0)
                        return r;
                if (r == 1) {
                        if (w->depth + 1 >= MAX_DEPTH) {
                                mdir_close(&sub);
                                return -ENAMETOOLONG;
                        }
                        w->stack[++w->depth] = sub;
                        continue;
                }
                if (S_ISLNK(st.st_mode)) {
                        if (++links > MAX_LINKS)
                                return -ELOOP;
                        if (splice_link(lfd, name, rest, &path) < 0)
                                return -EINVAL;
                        p = path;
                        continue;
                }
                if (*rest)
                        return -ENOTDIR;
                if (!S_ISREG(st.st_mode))
                        return -EINVAL;
                r = openat(lfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                return r < 0 ? -errno : r;
        }
}

int gk_layers_read_file(const int *layer_fds, size_t n, const char *path, char **out, size_t *len,
                        gk_error **err)
{
        walk w = { .roots = layer_fds, .n_roots = n };
        _cleanup_close_ int fd = walk_open(&w, path);

        walk_reset(&w);
        if (fd < 0)
                return gk_error_make(err, -fd, "image file `%s`", path);
        return gk_read_fd(fd, path, out, len, err);
}
