/* `gkimg bundle --copy`: the image as one plain directory, for hosts
 * without overlayfs and for other runtimes.  The unpacked layers are
 * copied bottom to top, applying their whiteouts (remove) and opaque
 * directories (empty first), as the overlay would show them.  Files are
 * cloned where the filesystem can (FICLONE), else their data extents are
 * copied in the kernel (copy_file_range) or, across filesystems, by read
 * and write; holes are never written. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "bundle_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "whiteout.h"

typedef struct hardlink {
        ino_t ino;
        int dfd; /* dup of the directory the first copy went to */
        char *name;
} hardlink;

typedef struct flat {
        hardlink *links; /* per layer: inodes with st_nlink > 1 already copied */
        size_t n_links;
} flat;

static void links_clear(flat *f)
{
        for (size_t i = 0; i < f->n_links; i++) {
                close(f->links[i].dfd);
                free(f->links[i].name);
        }
        free(f->links);
        f->links = NULL;
        f->n_links = 0;
}

/* xattrs of a node reached by PATH (not followed), or of FD. */
static int copy_xattrs(int sfd, int dfd, const char *spath, const char *dpath, gk_error **err)
{
        char names[4096], value[65536];
        ssize_t n = sfd >= 0 ? flistxattr(sfd, names, sizeof(names))
                             : llistxattr(spath, names, sizeof(names));

        if (n < 0)
                return errno == ENOTSUP ? 0 : gk_error_errno(err, "list xattrs");
        for (char *k = names; k < names + n; k += strlen(k) + 1) {
                ssize_t vl;

                if (gk_xattr_reserved(k))
                        continue;
                vl = sfd >= 0 ? fgetxattr(sfd, k, value, sizeof(value))
                              : lgetxattr(spath, k, value, sizeof(value));
                if (vl < 0)
                        return gk_error_errno(err, "get xattr `%s`", k);
                if ((dfd >= 0 ? fsetxattr(dfd, k, value, (size_t) vl, 0)
                              : lsetxattr(dpath, k, value, (size_t) vl, 0)) < 0)
                        return gk_error_errno(err, "set xattr `%s`", k);
        }
        return 0;
}

/* A directory of a lower layer kept under this layer's: overlayfs shows
 * the upper directory's xattrs only, so the lower's go first. */
static int clear_xattrs(int dfd, gk_error **err)
{
        char names[4096];
        ssize_t n = flistxattr(dfd, names, sizeof(names));

        for (char *k = names; n > 0 && k < names + n; k += strlen(k) + 1)
                if (!gk_xattr_reserved(k) && fremovexattr(dfd, k) < 0 && errno != ENODATA)
                        return gk_error_errno(err, "remove xattr `%s`", k);
        return 0;
}

static int copy_meta_fd(int sfd, int dfd, const struct stat *st, gk_error **err)
{
        struct timespec ts[2] = { st->st_atim, st->st_mtim };

        if (fchown(dfd, st->st_uid, st->st_gid) < 0 || fchmod(dfd, st->st_mode & 07777) < 0)
                return gk_error_errno(err, "owner and mode");
        if (S_ISDIR(st->st_mode) && clear_xattrs(dfd, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (copy_xattrs(sfd, dfd, NULL, NULL, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (futimens(dfd, ts) < 0)
                return gk_error_errno(err, "times");
        return 0;
}

/* Symlinks, fifos, devices: by name, never followed. */
static int copy_meta_at(int sdir, int ddir, const char *name, const struct stat *st,
                        gk_error **err)
{
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        char sp[300], dp[300];

        if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return gk_error_errno(err, "owner");
        if (!S_ISLNK(st->st_mode) && fchmodat(ddir, name, st->st_mode & 07777, 0) < 0)
                return gk_error_errno(err, "mode");
        snprintf(sp, sizeof(sp), "/proc/self/fd/%d/%s", sdir, name);
        snprintf(dp, sizeof(dp), "/proc/self/fd/%d/%s", ddir, name);
        if (copy_xattrs(-1, -1, sp, dp, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return gk_error_errno(err, "times");
        return 0;
}

/* [OFF, END) of SFD into DFD at the same offsets by read and write: for
 * filesystems copy_file_range cannot join (EXDEV across filesystems). */
static int copy_range_rw(int sfd, int dfd, off_t off, off_t end, gk_error **err)
{
        char buf[64 * 1024];

        while (off < end) {
                size_t want = end - off < (off_t) sizeof(buf) ? (size_t) (end - off) : sizeof(buf);
                ssize_t n = pread(sfd, buf, want, off);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gk_error_errno(err, "read");
                if (n == 0)
                        return 0; /* shrunk under us: the size is set at the end */
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = pwrite(dfd, buf + done, (size_t) (n - done), off + done);

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return gk_error_errno(err, "write");
                        done += w;
                }
                off += n;
        }
        return 0;
}

/* One data extent [OFF, END) in the kernel while it can; *in_kernel goes
 * false for good once copy_file_range says it cannot join these two files. */
static int copy_range(int sfd, int dfd, off_t off, off_t end, bool *in_kernel, gk_error **err)
{
        while (*in_kernel && off < end) {
                loff_t in = off, out = off;
                ssize_t n = copy_file_range(sfd, &in, dfd, &out, (size_t) (end - off), 0);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                              errno == EOPNOTSUPP)) {
                        *in_kernel = false;
                        break;
                }
                if (n < 0)
                        return gk_error_errno(err, "copy");
                if (n == 0)
                        return 0;
                off += n;
        }
        return copy_range_rw(sfd, dfd, off, end, err);
}

/* Only the data extents (SEEK_DATA / SEEK_HOLE), then the size: a hole of
 * the layer stays a hole of the copy, so a small layer with a huge sparse
 * file cannot fill the bundle's filesystem with zeros. */
static int copy_data(int sfd, int dfd, off_t size, gk_error **err)
{
        bool in_kernel = true;
        off_t pos = 0;

        if (ioctl(dfd, FICLONE, sfd) == 0)
                return 0;
        while (pos < size) {
                off_t data = lseek(sfd, pos, SEEK_DATA), hole;

                if (data < 0 && errno == ENXIO)
                        break;  /* only a hole is left */
                if (data < 0) { /* no SEEK_DATA here: the rest is data */
                        data = pos;
                        hole = size;
                } else if ((hole = lseek(sfd, data, SEEK_HOLE)) < 0) {
                        return gk_error_errno(err, "seek a hole");
                }
                if (hole > size)
                        hole = size;
                if (data >= hole)
                        break;
                if (copy_range(sfd, dfd, data, hole, &in_kernel, err) < 0)
                        return gk_error_code_or(err, -EIO);
                pos = hole;
        }
        if (ftruncate(dfd, size) < 0)
                return gk_error_errno(err, "truncate");
        return 0;
}

static int copy_file(flat *f, int sdir, int ddir, const char *name, const struct stat *st,
                     gk_error **err)
{
        _cleanup_close_ int sfd = -1, dfd = -1;
        hardlink *nl;

        for (size_t i = 0; st->st_nlink > 1 && i < f->n_links; i++)
                if (f->links[i].ino == st->st_ino) {
                        if (linkat(f->links[i].dfd, f->links[i].name, ddir, name, 0) < 0)
                                return gk_error_errno(err, "hardlink");
                        return 0;
                }
        sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (sfd < 0 || dfd < 0)
                return gk_error_errno(err, "open");
        if (copy_data(sfd, dfd, st->st_size, err) < 0 || copy_meta_fd(sfd, dfd, st, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (st->st_nlink <= 1)
                return 0;
        nl = realloc(f->links, (f->n_links + 1) * sizeof(*nl));
        if (!nl)
                return gk_error_make(err, ENOMEM, "copy");
        f->links = nl;
        nl[f->n_links] = (hardlink){ st->st_ino, fcntl(ddir, F_DUPFD_CLOEXEC, 3), strdup(name) };
        f->n_links++;
        return 0;
}

static int copy_node(flat *f, int sdir, int ddir, const char *name, const struct stat *st,
                     gk_error **err)
{
        char target[4096];
        ssize_t n;

        switch (st->st_mode & S_IFMT) {
        case S_IFREG:
                return copy_file(f, sdir, ddir, name, st, err);
        case S_IFLNK:
                n = readlinkat(sdir, name, target, sizeof(target) - 1);
                if (n < 0)
                        return gk_error_errno(err, "readlink");
                target[n] = '\0';
                if (symlinkat(target, ddir, name) < 0)
                        return gk_error_errno(err, "symlink");
                return copy_meta_at(sdir, ddir, name, st, err);
        case S_IFIFO:
        case S_IFCHR:
        case S_IFBLK:
                if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0)
                        return gk_error_errno(err, "mknod");
                return copy_meta_at(sdir, ddir, name, st, err);
        default:
                return 0;
        }
}

static bool is_opaque(int fd)
{
        char v[2];

        return fgetxattr(fd, GK_OVL_OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

static int apply_dir(flat *f, int sdir, int ddir, gk_error **err);

/* A directory of the layer over whatever the lower layers left at NAME. */
static int apply_subdir(flat *f, int sdir, int ddir, const char *name, const struct stat *st,
                        gk_error **err)
{
        _cleanup_close_ int s = openat(sdir, name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = -1;
        struct stat dst;

        if (s < 0)
                return gk_error_errno(err, "open");
        if (fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
            (!S_ISDIR(dst.st_mode) || is_opaque(s)) && gk_rm_rf_at(ddir, name, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (mkdirat(ddir, name, 0700) < 0 && errno != EEXIST)
                return gk_error_errno(err, "mkdir");
        d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
                return gk_error_errno(err, "open");
        if (apply_dir(f, s, d, err) < 0)
                return gk_error_code_or(err, -EIO);
        return copy_meta_fd(s, d, st, err);
}

static int apply_dir(flat *f, int sdir, int ddir, gk_error **err)
{
        _cleanup_closedir_ DIR *d = fdopendir(fcntl(sdir, F_DUPFD_CLOEXEC, 3));
        struct dirent *de;

        if (!d)
                return gk_error_errno(err, "opendir");
        while ((de = readdir(d))) {
                const char *name = de->d_name;
                struct stat st;
                int r;

                if (!strcmp(name, ".") || !strcmp(name, ".."))
                        continue;
                if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return gk_error_errno(err, "stat `%s`", name);
                if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                        r = gk_rm_rf_at(ddir, name, err); /* a whiteout */
                else if (S_ISDIR(st.st_mode))
                        r = apply_subdir(f, sdir, ddir, name, &st, err);
                else if ((r = gk_rm_rf_at(ddir, name, err)) >= 0)
                        r = copy_node(f, sdir, ddir, name, &st, err);
                if (r < 0)
                        return gk_error_wrap_dir(err, name);
        }
        return 0;
}

int gk_flatten_layers(const int *fds, size_t n, int dst_fd, gk_error **err)
{
        flat f = { 0 };

        for (size_t i = 0; i < n; i++) {
                struct stat st;
                int r = apply_dir(&f, fds[i], dst_fd, err);

                links_clear(&f); /* hardlinks never cross layers */
                if (r >= 0 && fstat(fds[i], &st) == 0)
                        r = copy_meta_fd(fds[i], dst_fd, &st, err);
                if (r < 0)
                        return gk_error_wrap(err, "copy layer %zu", i + 1);
        }
        return 0;
}
