/* Layer manifests (see treemanifest.h).  The tree is walked one directory
 * at a time, each reopened from the root without following symlinks, so
 * a deep tree holds no more than a few fds; files are stat'ed and hashed
 * through their directory's fd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <search.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/resolve.h"
#include "gk/util.h"
#include "treemanifest.h"

typedef struct mline {
        char *path; /* escaped */
        char *rest; /* the fields after it */
} mline;

typedef struct mlines {
        mline *v;
        size_t n, cap;
} mlines;

typedef struct seen_ino {
        dev_t dev;
        ino_t ino;
        char *path; /* escaped, the first name met */
} seen_ino;

typedef struct mwalk {
        int root;
        mlines out;
        void *inodes; /* tsearch tree of seen_ino */
        char **dirs;  /* directories left to walk (relative, raw) */
        size_t n_dirs, cap_dirs;
        gk_hasher *h;
        char buf[1 << 17];
} mwalk;

static void mlines_clear(mlines *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].path);
                free(l->v[i].rest);
        }
        free(l->v);
        *l = (mlines){ 0 };
}

static int mlines_add(mlines *l, char *path, char *rest)
{
        if (!path || !rest)
                goto fail;
        if (l->n == l->cap) {
                size_t cap = l->cap ? 2 * l->cap : 256;
                mline *v = realloc(l->v, cap * sizeof(*v));

                if (!v)
                        goto fail;
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = (mline){ path, rest };
        return 0;
fail:
        free(path);
        free(rest);
        return -ENOMEM;
}

static char *escape(const char *s)
{
        size_t n = 0;
        char *out, *p;

        for (const char *c = s; *c; c++)
                n += ((unsigned char) *c <= 0x20 || *c == 0x7f || *c == '\\') ? 4 : 1;
        out = p = calloc(1, n + 1);
        if (!out)
                return NULL;
        for (const unsigned char *c = (const unsigned char *) s; *c; c++) {
                static const char hex[] = "0123456789abcdef";

                if (*c <= 0x20 || *c == 0x7f || *c == '\\') {
                        *p++ = '\\';
                        *p++ = 'x';
                        *p++ = hex[*c >> 4];
                        *p++ = hex[*c & 0xf];
                } else {
                        *p++ = (char) *c;
                }
        }
        *p = '\0';
        return out;
}

static int cmp_ino(const void *a, const void *b)
{
        const seen_ino *x = a, *y = b;

        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void free_ino(void *p)
{
        seen_ino *s = p;

        free(s->path);
        free(s);
}

/* The directory REL of the tree, never through a symlink. */
static int open_beneath(int root, const char *rel)
{
        return gk_open_resolved(root, rel, O_RDONLY | O_DIRECTORY,
                                RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* sha256 of the data extents of FD, each with its offset.  A file with
 * as many blocks as bytes has no hole: one extent from 0, without asking
 * the filesystem. */
static int hash_file(mwalk *w, int fd, const struct stat *st, char *hex)
{
        char digest[GK_SHA256_BUF];
        off_t pos = 0, size = st->st_size;
        bool dense = (off_t) st->st_blocks * 512 >= size;

        gk_hasher_reset(w->h);
        while (pos < size) {
                off_t data = dense ? 0 : lseek(fd, pos, SEEK_DATA), hole;
                char mark[64];

                if (data < 0 && errno == ENXIO)
                        break;
                if (dense) {
                        hole = size;
                } else if (data < 0) {
                        data = pos;
                        hole = size;
                } else if ((hole = lseek(fd, data, SEEK_HOLE)) < 0) {
                        return -errno;
                }
                if (hole > size)
                        hole = size;
                snprintf(mark, sizeof(mark), "@%lld\n", (long long) data);
                gk_hasher_update(w->h, mark, strlen(mark));
                for (off_t off = data; off < hole;) {
                        size_t want = hole - off < (off_t) sizeof(w->buf) ? (size_t) (hole - off)
                                                                          : sizeof(w->buf);
                        ssize_t n = pread(fd, w->buf, want, off);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return -errno;
                        if (n == 0)
                                break;
                        gk_hasher_update(w->h, w->buf, (size_t) n);
                        off += n;
                }
                pos = hole;
        }
        gk_hasher_final(w->h, digest);
        memcpy(hex, digest + 7, 65);
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* A short hash of the xattrs of FD, or when it is -1 of NAME under DFD
 * (not followed), "-" when it has none. */
static int hash_xattrs(mwalk *w, int fd, int dfd, const char *name, char out[17])
{
        char path[64 + 256], names[8192], digest[GK_SHA256_BUF], *sorted[4096];
        size_t count = 0;
        ssize_t n;

        if (fd < 0 && name)
                snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, name);
        else if (fd < 0)
                return -EINVAL;
        n = fd >= 0 ? flistxattr(fd, names, sizeof(names))
                    : llistxattr(path, names, sizeof(names));
        if (n < 0 && errno != ENOTSUP && errno != ENODATA)
                return -errno;
        if (n <= 0) {
                memcpy(out, "-", 2);
                return 0;
        }
        gk_hasher_reset(w->h);
        /* Sorted: the kernel lists names in the order they were set. */
        for (char *k = names; k < names + n; k += strlen(k) + 1)
                sorted[count++] = k;
        qsort(sorted, count, sizeof(char *), cmp_str);
        for (size_t i = 0; i < count; i++) {
                ssize_t vl = fd >= 0 ? fgetxattr(fd, sorted[i], w->buf, sizeof(w->buf))
                                     : lgetxattr(path, sorted[i], w->buf, sizeof(w->buf));

                if (vl < 0)
                        return -errno;
                gk_hasher_update(w->h, sorted[i], strlen(sorted[i]) + 1);
                gk_hasher_update(w->h, w->buf, (size_t) vl);
        }
        gk_hasher_final(w->h, digest);
        memcpy(out, digest + 7, 16);
        out[16] = '\0';
        return 0;
}

static char type_char(mode_t m)
{
        switch (m & S_IFMT) {
        case S_IFREG:
                return 'f';
        case S_IFDIR:
                return 'd';
        case S_IFLNK:
                return 'l';
        case S_IFCHR:
                return 'c';
        case S_IFBLK:
                return 'b';
        case S_IFIFO:
                return 'p';
        default:
                return 's';
        }
}

/* WHAT of the file open as FD: content hash, or "=FIRST" for a further
 * hardlink. */
static int file_what(mwalk *w, int fd, const struct stat *st, const char *epath, char **what)
{
        seen_ino key = { st->st_dev, st->st_ino, NULL }, *s, **found;
        char hex[65];
        int r;

        if (st->st_nlink > 1 && (found = tfind(&key, &w->inodes, cmp_ino)))
                return asprintf(what, "=%s", (*found)->path) < 0 ? -ENOMEM : 0;
        r = hash_file(w, fd, st, hex);
        if (r < 0)
                return r;
        if (st->st_nlink > 1) {
                s = malloc(sizeof(*s));
                if (!s || !(s->path = strdup(epath))) {
                        free(s);
                        return -ENOMEM;
                }
                s->dev = st->st_dev;
                s->ino = st->st_ino;
                if (!tsearch(s, &w->inodes, cmp_ino)) {
                        free_ino(s);
                        return -ENOMEM;
                }
        }
        *what = strdup(hex);
        return *what ? 0 : -ENOMEM;
}

static int other_what(int dfd, const char *name, const struct stat *st, char **what)
{
        char target[4096];
        ssize_t n;

        if (S_ISLNK(st->st_mode)) {
                n = readlinkat(dfd, name, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                *what = escape(target);
        } else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
                return asprintf(what, "%u:%u", major(st->st_rdev), minor(st->st_rdev)) < 0
                               ? -ENOMEM
                               : 0;
        } else {
                *what = strdup("-");
        }
        return *what ? 0 : -ENOMEM;
}

static int add_entry(mwalk *w, int dfd, const char *name, const char *rel, const struct stat *st)
{
        _cleanup_free_ char *what = NULL;
        _cleanup_close_ int fd = -1;
        char *epath = escape(rel), *rest = NULL, xh[17];
        long long size = S_ISREG(st->st_mode) || S_ISLNK(st->st_mode) ? st->st_size : 0;
        int r = 0;

        if (!epath)
                return -ENOMEM;
        if (S_ISREG(st->st_mode)) {
                fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        r = -errno;
        }
        if (r == 0)
                r = hash_xattrs(w, fd, dfd, name, xh);
        if (r == 0)
                r = S_ISREG(st->st_mode)   ? file_what(w, fd, st, epath, &what)
                    : S_ISDIR(st->st_mode) ? ((what = strdup("-")) ? 0 : -ENOMEM)
                                           : other_what(dfd, name, st, &what);
        if (r == 0 && asprintf(&rest, "%c %o %u:%u %lld %lld.%09ld %s %s", type_char(st->st_mode),
                               (unsigned) (st->st_mode & 07777), st->st_uid, st->st_gid, size,
                               (long long) st->st_mtim.tv_sec, st->st_mtim.tv_nsec, xh, what) < 0)
                r = -ENOMEM;
        if (r < 0) {
                free(epath);
                return r;
        }
        return mlines_add(&w->out, epath, rest);
}

static int push_dir(mwalk *w, char *rel)
{
        if (!rel)
                return -ENOMEM;
        if (w->n_dirs == w->cap_dirs) {
                size_t cap = w->cap_dirs ? 2 * w->cap_dirs : 64;
                char **v = realloc(w->dirs, cap * sizeof(char *));

                if (!v) {
                        free(rel);
                        return -ENOMEM;
                }
                w->dirs = v;
                w->cap_dirs = cap;
        }
        w->dirs[w->n_dirs++] = rel;
        return 0;
}

/* The entries of directory REL; its subdirectories are queued. */
static int walk_dir(mwalk *w, const char *rel)
{
        _cleanup_closedir_ DIR *d = NULL;
        int fd = open_beneath(w->root, rel);
        struct dirent *de;

        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *child = NULL;
                struct stat st;
                int r;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (asprintf(&child, "%s%s%s", strcmp(rel, ".") ? rel : "",
                             strcmp(rel, ".") ? "/" : "", de->d_name) < 0)
                        return -ENOMEM;
                r = add_entry(w, dirfd(d), de->d_name, child, &st);
                if (r == 0 && S_ISDIR(st.st_mode))
                        r = push_dir(w, TAKE_PTR(child));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cmp_line(const void *a, const void *b)
{
        return strcmp(((const mline *) a)->path, ((const mline *) b)->path);
}

static int walk_tree(int dirfd, mlines *out)
{
        mwalk *w = calloc(1, sizeof(*w));
        struct stat st;
        int r;

        if (!w || !(w->h = gk_hasher_new())) {
                free(w);
                return -ENOMEM;
        }
        w->root = dirfd;
        r = fstat(dirfd, &st) < 0 ? -errno : 0;
        if (r == 0) {
                /* The root, as ".": /proc/self/fd/N/. names it. */
                char *rest = NULL, xh[17];

                r = hash_xattrs(w, dirfd, -1, NULL, xh);
                if (r == 0 && asprintf(&rest, "d %o %u:%u 0 %lld.%09ld %s -",
                                       (unsigned) (st.st_mode & 07777), st.st_uid, st.st_gid,
                                       (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec, xh) < 0)
                        r = -ENOMEM;
                if (r == 0)
                        r = mlines_add(&w->out, strdup("."), rest);
        }
        if (r == 0)
                r = push_dir(w, strdup("."));
        while (r == 0 && w->n_dirs) {
                char *rel = w->dirs[--w->n_dirs];

                r = walk_dir(w, rel);
                free(rel);
        }
        while (w->n_dirs)
                free(w->dirs[--w->n_dirs]);
        free(w->dirs);
        tdestroy(w->inodes, free_ino);
        gk_hasher_free(w->h);
        *out = w->out;
        free(w);
        if (r < 0)
                mlines_clear(out);
        else
                qsort(out->v, out->n, sizeof(mline), cmp_line);
        return r;
}

int gk_tree_manifest(int dirfd, const char *header, char **out, size_t *len, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        mlines l = { 0 };
        size_t size;
        int r = walk_tree(dirfd, &l);
        FILE *f;

        if (r < 0)
                return gk_error_make(err, -r, "manifest of the layer");
        f = open_memstream(&text, &size);
        if (!f) {
                mlines_clear(&l);
                return gk_error_make(err, ENOMEM, "manifest");
        }
        fprintf(f, "%s\n", header);
        for (size_t i = 0; i < l.n; i++)
                fprintf(f, "%s %s\n", l.v[i].path, l.v[i].rest);
        r = fclose(f);
        mlines_clear(&l);
        if (r != 0)
                return gk_error_make(err, ENOMEM, "manifest");
        *len = size;
        *out = TAKE_PTR(text);
        return 0;
}

char *gk_tree_manifest_header(const char *text, size_t len)
{
        const char *nl = memchr(text, '\n', len);

        return nl ? strndup(text, (size_t) (nl - text)) : NULL;
}

/* The lines of TEXT after its header, sorted as written. */
static int parse(const char *text, size_t len, mlines *out)
{
        const char *p = memchr(text, '\n', len), *end = text + len;

        *out = (mlines){ 0 };
        if (!p)
                return -EINVAL;
        for (p++; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *sp;

                if (!nl)
                        nl = end;
                sp = memchr(p, ' ', (size_t) (nl - p));
                if (!sp) {
                        mlines_clear(out);
                        return -EINVAL;
                }
                if (mlines_add(out, strndup(p, (size_t) (sp - p)),
                               strndup(sp + 1, (size_t) (nl - sp - 1))) < 0) {
                        mlines_clear(out);
                        return -ENOMEM;
                }
                p = nl + 1;
        }
        qsort(out->v, out->n, sizeof(mline), cmp_line);
        return 0;
}

/* Which fields of two lines of one path differ, for the message. */
static void what_changed(const char *was, const char *now, char *buf, size_t size)
{
        static const char *const names[] = { "type", "mode", "owner", "size", "mtime", "xattrs" };
        const char *a = was, *b = now;
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < 7 && *a && *b; i++) {
                size_t la = strcspn(a, " "), lb = strcspn(b, " ");
                const char *name = i < 6 ? names[i]
                                   : was[0] == 'f'
                                           ? (a[0] == '=' || b[0] == '=' ? "hardlinks" : "content")
                                   : was[0] == 'l' ? "link target"
                                                   : "device";

                if (i == 6) /* the last field takes the rest (a target has spaces escaped) */
                        la = strlen(a), lb = strlen(b);
                if (la != lb || memcmp(a, b, la))
                        used += (size_t) snprintf(buf + used, used < size ? size - used : 0,
                                                  "%s%s", used ? ", " : "", name);
                a += la + (a[la] == ' ');
                b += lb + (b[lb] == ' ');
        }
}

static int add_diff(char ***v, size_t *n, const char *path, const char *what)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));

        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (asprintf(&nv[*n], "`%s`: %s", path, what) < 0)
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

int gk_tree_manifest_compare(int dirfd, const char *text, size_t len, char ***diffs, size_t *n,
                             gk_error **err)
{
        mlines want, got;
        size_t i = 0, j = 0;
        int r;

        *diffs = NULL;
        *n = 0;
        if (parse(text, len, &want) < 0)
                return gk_error_make(err, EINVAL, "the manifest is not readable");
        r = walk_tree(dirfd, &got);
        if (r < 0) {
                mlines_clear(&want);
                return gk_error_make(err, -r, "walk the layer");
        }
        while (r == 0 && (i < want.n || j < got.n)) {
                int c = i == want.n ? 1 : j == got.n ? -1 : strcmp(want.v[i].path, got.v[j].path);
                char buf[128];

                if (c < 0) {
                        r = add_diff(diffs, n, want.v[i++].path, "deleted");
                } else if (c > 0) {
                        r = add_diff(diffs, n, got.v[j++].path, "added");
                } else {
                        if (strcmp(want.v[i].rest, got.v[j].rest)) {
                                char msg[160];

                                what_changed(want.v[i].rest, got.v[j].rest, buf, sizeof(buf));
                                snprintf(msg, sizeof(msg), "changed (%s)", buf);
                                r = add_diff(diffs, n, want.v[i].path, msg);
                        }
                        i++;
                        j++;
                }
        }
        mlines_clear(&want);
        mlines_clear(&got);
        return r < 0 ? gk_error_make(err, -r, "compare the layer") : 0;
}
