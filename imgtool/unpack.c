/* Layer unpacking: the tar entries of the decompressed stream
 * (unpack_stream.c) each written under the layer directory's fd.  The
 * naming rules live in whiteout.c; the store of unpacked layers in
 * layerstore.c. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "archive_error.h"
#include "gk/cleanup.h"
#include "gk/resolve.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "unpack.h"
#include "unpack_stream.h"
#include "unpack_walk.h"
#include "whiteout.h"

typedef struct dir_time {
        char *path;
        struct timespec ts[2];
} dir_time;

typedef struct unpack_ctx {
        int root; /* the layer directory */
        const gk_unpack_opts *o;
        struct archive *a;     /* the tar reader */
        char *cached_dir;      /* parent directory of the last entry ... */
        int cached_fd;         /* ... its fd ... */
        char *cached_resolved; /* ... and where it is in the layer */
        gk_parent_walk pw;     /* parents as the layers below show them */
        dir_time *dirs;        /* directory times, set once all is written */
        size_t n_dirs, cap_dirs;
        uint64_t written; /* data bytes so far, against o->limit */
        bool have_openat2;
} unpack_ctx;

static void uncache(unpack_ctx *c)
{
        free(c->cached_dir);
        free(c->cached_resolved);
        c->cached_dir = c->cached_resolved = NULL;
        if (c->cached_fd >= 0)
                close(c->cached_fd);
        c->cached_fd = -1;
}

/* One component under DFD, never following a symlink. */
static int open_component(int dfd, const char *name)
{
        return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static bool is_whiteout(const struct stat *st)
{
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static int set_opaque(int fd, const char *path, gk_error **err)
{
        if (fsetxattr(fd, GK_OVL_OPAQUE_XATTR, "y", 1, 0) < 0)
                return gk_error_errno(err, "set %s on `%s`", GK_OVL_OPAQUE_XATTR, path);
        return 0;
}

/* No mount crossed either: a layer directory is one filesystem.  No
 * fallback for that without openat2 (-ENOSYS): the caller walks. */
static int openat2_beneath(int root, const char *path)
{
        return gk_open_resolved(root, path, O_RDONLY | O_DIRECTORY,
                                RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                        RESOLVE_NO_XDEV);
}

/* A directory of the layer that is known to be there under its resolved
 * name (directory times at the end): one component at a time, never
 * through a symlink, without openat2. */
static int open_resolved(unpack_ctx *c, const char *path)
{
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;
        int cur = fcntl(c->root, F_DUPFD_CLOEXEC, 3);

        if (!copy || cur < 0) {
                if (cur >= 0)
                        close(cur);
                return -1;
        }
        for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                int next = strcmp(comp, ".") ? open_component(cur, comp)
                                             : fcntl(cur, F_DUPFD_CLOEXEC, 3);

                close(cur);
                if (next < 0)
                        return -1;
                cur = next;
        }
        return cur;
}

/* An owned fd of directory PATH as this layer sees it (see unpack_walk.h),
 * with *resolved its place in the layer directory.  The fast path: a
 * directory this layer already has, all of it real directories, is itself
 * whatever lies below. */
static int resolve_dir(unpack_ctx *c, const char *path, bool create, char **resolved,
                       gk_error **err)
{
        int fd = -1;

        if (c->have_openat2) {
                fd = openat2_beneath(c->root, path);
                if (fd == -ENOSYS || fd == -EPERM)
                        c->have_openat2 = false; /* old kernel or seccomp: walk */
        }
        if (fd >= 0) {
                *resolved = strdup(path);
                if (*resolved)
                        return fd;
                close(fd);
                return gk_error_make(err, ENOMEM, "`%s`", path);
        }
        return gk_parent_open(&c->pw, path, create, resolved, err);
}

/* An fd of directory PATH (clean, relative) inside the layer; borrowed from
 * the cache, valid until the next call; c->cached_resolved is where it is.
 * Entries of one directory come together in a tar, so most calls hit the
 * cache. */
static int get_dir(unpack_ctx *c, const char *path, gk_error **err)
{
        char *resolved = NULL;
        int fd;

        if (c->cached_dir && !strcmp(c->cached_dir, path))
                return c->cached_fd;
        uncache(c);
        fd = resolve_dir(c, path, true, &resolved, err);
        if (fd < 0)
                return fd;
        c->cached_dir = strdup(path);
        c->cached_resolved = resolved;
        if (!c->cached_dir) {
                close(fd);
                return gk_error_make(err, ENOMEM, "`%s`", path);
        }
        c->cached_fd = fd;
        return fd;
}

static int add_dir_time(unpack_ctx *c, const char *path, const struct timespec ts[2])
{
        dir_time *d;

        if (c->n_dirs == c->cap_dirs) {
                size_t cap = c->cap_dirs ? c->cap_dirs * 2 : 64;
                dir_time *nd = realloc(c->dirs, cap * sizeof(*nd));

                if (!nd)
                        return -ENOMEM;
                c->dirs = nd;
                c->cap_dirs = cap;
        }
        d = &c->dirs[c->n_dirs];
        d->path = strdup(path);
        if (!d->path)
                return -ENOMEM;
        d->ts[0] = ts[0];
        d->ts[1] = ts[1];
        c->n_dirs++;
        return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2]);

static int record_dir_time(unpack_ctx *c, const char *path, struct archive_entry *e)
{
        struct timespec ts[2];

        entry_times(e, ts);
        return add_dir_time(c, path, ts);
}

/* A directory made as a copy of the layers' below keeps their times, as
 * umoci restores a parent's after writing into it. */
static int copied_dir(void *ctx, const char *path, const struct stat *st)
{
        struct timespec now[2] = { { .tv_nsec = UTIME_NOW }, { .tv_nsec = UTIME_NOW } };
        struct timespec ts[2];

        if (!st)
                return add_dir_time(ctx, path, now);
        ts[0] = st->st_atim;
        ts[1] = st->st_mtim;
        return add_dir_time(ctx, path, ts);
}

/* Directory times last: writing into a directory changes its mtime.  In
 * the order recorded, so a directory's own entry wins over the copy made
 * of the layers' below before it. */
static int apply_dir_times(unpack_ctx *c, gk_error **err)
{
        for (size_t i = 0; i < c->n_dirs; i++) {
                _cleanup_close_ int fd = -1;

                if (c->have_openat2)
                        fd = openat2_beneath(c->root, c->dirs[i].path);
                else
                        fd = open_resolved(c, c->dirs[i].path);
                if (fd < 0)
                        continue; /* replaced by a later entry */
                if (futimens(fd, c->dirs[i].ts) < 0)
                        return gk_error_errno(err, "set times of `%s`", c->dirs[i].path);
        }
        return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
        ts[0] = ts[1];
        if (archive_entry_atime_is_set(e)) {
                ts[0].tv_sec = archive_entry_atime(e);
                ts[0].tv_nsec = archive_entry_atime_nsec(e);
        }
}

static int entry_owner(struct archive_entry *e, uid_t *uid, gid_t *gid, gk_error **err)
{
        la_int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);

        if (u < 0 || u >= (la_int64_t) UINT32_MAX || g < 0 || g >= (la_int64_t) UINT32_MAX)
                return gk_error_make(err, 0, "owner %lld:%lld out of range", (long long) u,
                                     (long long) g);
        *uid = (uid_t) u;
        *gid = (gid_t) g;
        return 0;
}

/* xattrs from the entry: on FD when it is set, else on NAME under PFD
 * without following it (symlinks, fifos, devices cannot be opened for
 * fsetxattr; the /proc/self/fd path reaches the parent by its fd). */
static int apply_xattrs(struct archive_entry *e, int fd, int pfd, const char *name, gk_error **err)
{
        const char *key;
        const void *value;
        size_t size;
        char path[64 + 256];

        if (archive_entry_xattr_reset(e) == 0)
                return 0;
        if (fd < 0)
                snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pfd, name);
        while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
                int r;

                if (gk_xattr_reserved(key))
                        continue;
                r = fd >= 0 ? fsetxattr(fd, key, value, size, 0)
                            : lsetxattr(path, key, value, size, 0);
                if (r < 0)
                        return gk_error_errno(err, "set xattr `%s`", key);
        }
        return 0;
}

/* Owner, then mode (chown clears setuid), then xattrs (chown also clears
 * security.capability), then times. */
static int apply_meta_fd(struct archive_entry *e, int fd, gk_error **err)
{
        uid_t uid;
        gid_t gid;
        struct timespec ts[2];

        if (entry_owner(e, &uid, &gid, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (fchown(fd, uid, gid) < 0)
                return gk_error_errno(err, "chown");
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return gk_error_errno(err, "chmod");
        if (apply_xattrs(e, fd, -1, NULL, err) < 0)
                return gk_error_code_or(err, -EIO);
        entry_times(e, ts);
        if (futimens(fd, ts) < 0)
                return gk_error_errno(err, "set times");
        return 0;
}

/* The same for nodes that cannot be opened: by name under PFD. */
static int apply_meta_at(struct archive_entry *e, int pfd, const char *name, bool chmod,
                         gk_error **err)
{
        uid_t uid;
        gid_t gid;
        struct timespec ts[2];

        if (entry_owner(e, &uid, &gid, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return gk_error_errno(err, "chown");
        /* fchmodat follows symlinks; only called for fifos and devices,
         * which this process just created under a confined parent. */
        if (chmod && fchmodat(pfd, name, archive_entry_perm(e) & 07777, 0) < 0)
                return gk_error_errno(err, "chmod");
        if (apply_xattrs(e, -1, pfd, name, err) < 0)
                return gk_error_code_or(err, -EIO);
        entry_times(e, ts);
        if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return gk_error_errno(err, "set times");
        return 0;
}

/* Counted before the write: a layer over its limit writes nothing more. */
static int charge(unpack_ctx *c, size_t size, gk_error **err)
{
        const gk_layer_limit *l = &c->o->limit;

        c->written += size;
        if (!l->max_bytes || c->written <= l->max_bytes)
                return 0;
        return gk_error_plain(err, EFBIG,
                              "the layer writes more than its limit of %llu bytes "
                              "(%s)",
                              (unsigned long long) l->max_bytes,
                              l->from_env ? "set by GKIMG_LAYER_MAX_SIZE"
                                          : "100 times its compressed size, at least 1 GiB; "
                                            "GKIMG_LAYER_MAX_SIZE changes it");
}

/* Each block at its own offset: libarchive gives a sparse entry's data
 * blocks only, so its holes are skipped by the offsets and stay holes. */
static int write_data(unpack_ctx *c, struct archive_entry *e, int fd, gk_error **err)
{
        la_int64_t end = 0;

        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = archive_read_data_block(c->a, &buf, &size, &off);

                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return gk_archive_error(err, c->a, "read");
                if (off < 0)
                        return gk_error_make(err, 0, "data block at offset %lld", (long long) off);
                if (charge(c, size, err) < 0)
                        return -EFBIG;
                for (size_t done = 0; done < size;) {
                        ssize_t n = pwrite(fd, (const char *) buf + done, size - done,
                                           off + (off_t) done);

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return gk_error_errno(err, "write");
                        done += (size_t) n;
                }
                if (off + (la_int64_t) size > end)
                        end = off + (la_int64_t) size;
        }
        /* A sparse file's last hole has no data block. */
        if (archive_entry_size_is_set(e) && end < archive_entry_size(e) &&
            ftruncate(fd, archive_entry_size(e)) < 0)
                return gk_error_errno(err, "truncate");
        return 0;
}

/* Makes room for NAME under PFD.  An existing directory is kept when the
 * new entry is a directory too (tar semantics: metadata is updated);
 * anything else is removed.  *was_whiteout says NAME was deleted from lower
 * layers, so a directory re-created here must be opaque. */
static int clear_slot(unpack_ctx *c, int pfd, const char *name, bool want_dir, bool *keep_dir,
                      bool *was_whiteout, gk_error **err)
{
        struct stat st;

        *keep_dir = *was_whiteout = false;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return gk_error_errno(err, "stat");
        }
        if (S_ISDIR(st.st_mode)) {
                if (want_dir) {
                        *keep_dir = true;
                        return 0;
                }
                /* PFD is the cached directory, the parent of what goes
                 * away, so the cache stays valid. */
                return gk_rm_rf_at(pfd, name, err);
        }
        *was_whiteout = is_whiteout(&st);
        if (unlinkat(pfd, name, 0) < 0)
                return gk_error_errno(err, "remove the previous entry");
        return 0;
}

/* A directory already there (copied from the layers below, or an earlier
 * entry) takes an entry's xattrs only, as umoci applies a header: those it
 * had go first (overlayfs's own stay). */
static int clear_xattrs(int fd, const char *name, gk_error **err)
{
        char names[8192];
        ssize_t n = flistxattr(fd, names, sizeof(names));

        for (char *k = names; n > 0 && k < names + n; k += strlen(k) + 1)
                if (!gk_xattr_reserved(k) && fremovexattr(fd, k) < 0 && errno != ENODATA)
                        return gk_error_errno(err, "`%s`: remove xattr `%s`", name, k);
        return 0;
}

static int make_dir(unpack_ctx *c, struct archive_entry *e, int pfd, const char *name,
                    gk_error **err)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        bool keep, was_wh;

        if (clear_slot(c, pfd, name, true, &keep, &was_wh, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (!keep && mkdirat(pfd, name, 0700) < 0)
                return gk_error_errno(err, "mkdir");
        fd = open_component(pfd, name);
        if (fd < 0)
                return gk_error_errno(err, "open");
        if (was_wh && set_opaque(fd, name, err) < 0)
                return gk_error_code_or(err, -EIO);
        if ((keep && clear_xattrs(fd, name, err) < 0) || apply_meta_fd(e, fd, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* Its times are set at the end, by its place in the layer. */
        if (!strcmp(c->cached_resolved, "."))
                path = strdup(name);
        else if (asprintf(&path, "%s/%s", c->cached_resolved, name) < 0)
                path = NULL;
        if (!path || record_dir_time(c, path, e) < 0)
                return gk_error_make(err, ENOMEM, "mkdir");
        return 0;
}

static int make_file(unpack_ctx *c, struct archive_entry *e, int pfd, const char *name,
                     gk_error **err)
{
        _cleanup_close_ int fd = -1;
        bool keep, was_wh;

        if (clear_slot(c, pfd, name, false, &keep, &was_wh, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* O_EXCL: never through whatever else could be at NAME. */
        fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return gk_error_errno(err, "create");
        if (write_data(c, e, fd, err) < 0)
                return gk_error_code_or(err, -EIO);
        return apply_meta_fd(e, fd, err);
}

static int make_symlink(unpack_ctx *c, struct archive_entry *e, int pfd, const char *name,
                        gk_error **err)
{
        const char *target = archive_entry_symlink(e);
        bool keep, was_wh;

        if (!target)
                target = archive_entry_symlink_utf8(e);
        if (!target || !*target)
                return gk_error_make(err, 0, "symlink without a target");
        if (clear_slot(c, pfd, name, false, &keep, &was_wh, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* The target is stored as written: it is resolved later, inside
         * the container's root, never by the unpacker. */
        if (symlinkat(target, pfd, name) < 0)
                return gk_error_errno(err, "symlink");
        return apply_meta_at(e, pfd, name, false, err);
}

static int make_special(unpack_ctx *c, struct archive_entry *e, int pfd, const char *name,
                        gk_error **err)
{
        mode_t type = archive_entry_filetype(e);
        dev_t dev = 0;
        bool keep, was_wh;

        if (type == AE_IFCHR || type == AE_IFBLK) {
                if (!c->o->allow_devices)
                        return gk_error_make(err, 0,
                                             "%s device nodes are not allowed in layers "
                                             "(--allow-devices keeps them)",
                                             type == AE_IFCHR ? "character" : "block");
                dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        }
        if (clear_slot(c, pfd, name, false, &keep, &was_wh, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (mknodat(pfd, name, type | 0600, dev) < 0)
                return gk_error_errno(err, "mknod");
        return apply_meta_at(e, pfd, name, true, err);
}

/* A hardlink's target is a file of the image as this layer sees it: one
 * this layer wrote, or one of a layer below, which is first copied up into
 * this layer (as overlayfs would on a write), so the two names share an
 * inode here and hide the lower file.  A link to anything else (the host)
 * cannot be expressed. */
static int make_hardlink(unpack_ctx *c, const char *link, int pfd, const char *name,
                         gk_error **err)
{
        _cleanup_free_ char *target = NULL, *tdir = NULL, *tres = NULL;
        _cleanup_close_ int tfd = -1;
        const char *tbase;
        bool keep, was_wh;
        struct stat st;

        if (gk_entry_path_clean(link, &target, err) < 0)
                return gk_error_wrap(err, "hardlink target");
        if (gk_path_split(target, &tdir, &tbase) < 0)
                return gk_error_make(err, ENOMEM, "hardlink");
        if (!tbase)
                return gk_error_make(err, 0, "hardlink to the layer root");
        tfd = resolve_dir(c, tdir, c->pw.n_lower > 0, &tres, NULL);
        if (tfd >= 0 && fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
            gk_parent_copy_up(&c->pw, tfd, tres, tbase, err) < 0)
                return gk_error_wrap(err, "hardlink target `%s`", link);
        if (tfd < 0 || fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return gk_error_make(err, 0, "hardlink target `%s` is not in the image", link);
        if (S_ISDIR(st.st_mode))
                return gk_error_make(err, 0, "hardlink target `%s` is a directory", link);
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return gk_error_make(err, 0, "hardlink target `%s` is deleted", link);
        if (clear_slot(c, pfd, name, false, &keep, &was_wh, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (linkat(tfd, tbase, pfd, name, 0) < 0)
                return gk_error_errno(err, "hardlink to `%s`", link);
        return 0;
}

/* ".wh.NAME": NAME is deleted from the layers below.  What this layer
 * itself has at NAME stays (a whiteout only applies to lower layers); a
 * directory of this layer becomes opaque instead. */
static int make_whiteout(int pfd, const char *name, gk_error **err)
{
        struct stat st;

        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                _cleanup_close_ int fd = -1;

                if (!S_ISDIR(st.st_mode))
                        return 0;
                fd = open_component(pfd, name);
                if (fd < 0)
                        return gk_error_errno(err, "open");
                return set_opaque(fd, name, err);
        }
        if (errno != ENOENT)
                return gk_error_errno(err, "stat");
        if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
                return gk_error_errno(err, "create whiteout");
        return 0;
}

static const char *entry_name(struct archive_entry *e)
{
        const char *n = archive_entry_pathname(e);

        return n ? n : archive_entry_pathname_utf8(e);
}

static int apply_node(unpack_ctx *c, struct archive_entry *e, const char *path, gk_error **err)
{
        _cleanup_free_ char *dir = NULL;
        const char *base, *link = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        int pfd;

        if (gk_path_split(path, &dir, &base) < 0)
                return gk_error_make(err, ENOMEM, "split");
        if (!base) { /* the layer root itself ("./") */
                if (type != AE_IFDIR || link)
                        return gk_error_make(err, 0, "the layer root must be a directory");
                if (clear_xattrs(c->root, ".", err) < 0 || apply_meta_fd(e, c->root, err) < 0)
                        return gk_error_code_or(err, -EIO);
                return record_dir_time(c, ".", e) < 0 ? gk_error_make(err, ENOMEM, "root") : 0;
        }
        pfd = get_dir(c, dir, err);
        if (pfd < 0)
                return pfd;
        if (link)
                return make_hardlink(c, link, pfd, base, err);
        switch (type) {
        case AE_IFDIR:
                return make_dir(c, e, pfd, base, err);
        case AE_IFREG:
                return make_file(c, e, pfd, base, err);
        case AE_IFLNK:
                return make_symlink(c, e, pfd, base, err);
        case AE_IFIFO:
        case AE_IFCHR:
        case AE_IFBLK:
                return make_special(c, e, pfd, base, err);
        case AE_IFSOCK:
                return 0; /* a socket is meaningless once its server is gone */
        default:
                return gk_error_make(err, 0, "unknown entry type 0%o", (unsigned) type);
        }
}

static int apply_entry(unpack_ctx *c, struct archive_entry *e, gk_error **err)
{
        _cleanup_free_ char *path = NULL, *dir = NULL;
        const char *name = entry_name(e), *hidden, *base;
        enum gk_wh_kind kind;
        int pfd, r;

        if (!name)
                return gk_error_make(err, 0, "entry with an unreadable name");
        if (gk_entry_path_clean(name, &path, err) < 0 ||
            gk_whiteout_classify(path, &kind, &hidden, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        switch (kind) {
        case GK_WH_META:
                return 0;
        case GK_WH_OPAQUE:
        case GK_WH_FILE:
                if (gk_path_split(path, &dir, &base) < 0)
                        return gk_error_make(err, ENOMEM, "split");
                pfd = get_dir(c, dir, err);
                if (pfd < 0)
                        r = pfd;
                else if (kind == GK_WH_OPAQUE)
                        r = set_opaque(pfd, dir, err);
                else
                        r = make_whiteout(pfd, hidden, err);
                break;
        default:
                r = apply_node(c, e, path, err);
        }
        if (r < 0)
                return gk_error_wrap(err, "entry `%s`", name);
        return 0;
}

static int read_entries(unpack_ctx *c, gk_unpack_stats *stats, gk_error **err)
{
        struct archive_entry *e;

        for (;;) {
                int r = archive_read_next_header(c->a, &e);

                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return gk_archive_error(err, c->a, "read");
                r = apply_entry(c, e, err);
                if (r < 0)
                        return r; /* ENOSPC, EROFS, EFBIG as they came */
                if (stats->entries++ == 0)
                        GK_FAULT("bundle.mid-unpack");
        }
}

static int finish_digest(gk_unpack_stream *s, gk_unpack_stats *stats, const gk_unpack_opts *o,
                         gk_error **err)
{
        if (gk_unpack_stream_finish(s, &stats->bytes, stats->diff_id, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (o->diff_id && strcmp(o->diff_id, stats->diff_id))
                return gk_error_plain(err, EBADMSG, "content is %s, not the diff_id %s",
                                      stats->diff_id, o->diff_id);
        return 0;
}

static void ctx_free(unpack_ctx *c)
{
        uncache(c);
        for (size_t i = 0; i < c->n_dirs; i++)
                free(c->dirs[i].path);
        free(c->dirs);
        if (c->a)
                archive_read_free(c->a);
}

int gk_unpack_fd(int blob_fd, int dirfd, const gk_unpack_opts *o, gk_unpack_stats *stats,
                 gk_error **err)
{
        static const gk_unpack_opts none = { 0 };
        gk_unpack_stats local = { 0 };
        unpack_ctx c = { .root = dirfd, .cached_fd = -1, .have_openat2 = true };
        gk_unpack_stream *s = NULL;
        int r;

        o = o ? o : &none;
        c.o = o;
        c.pw = (gk_parent_walk){ .root = dirfd,
                                 .lower = o->lower,
                                 .n_lower = o->n_lower,
                                 .copied = copied_dir,
                                 .ctx = &c };
        stats = stats ? stats : &local;
        memset(stats, 0, sizeof(*stats));
        r = gk_parent_copy_root(&c.pw, err);
        if (r >= 0)
                r = gk_unpack_stream_open(blob_fd, &s, err);
        if (r < 0)
                goto out;
        c.a = archive_read_new();
        if (!c.a) {
                r = gk_error_make(err, ENOMEM, "libarchive");
                goto out;
        }
        archive_read_support_format_tar(c.a);
        if (archive_read_open(c.a, s, NULL, gk_unpack_stream_read, NULL) != ARCHIVE_OK) {
                r = gk_archive_error(err, c.a, "read");
                goto out;
        }
        r = read_entries(&c, stats, err);
        if (r >= 0)
                r = finish_digest(s, stats, o, err);
        if (r >= 0)
                r = apply_dir_times(&c, err);
        stats->written = c.written;
out:
        /* The tar reader first: it may hold a block of the stream. */
        ctx_free(&c);
        gk_unpack_stream_free(s);
        if (r < 0 && o->what)
                gk_error_wrap(err, "%s", o->what);
        return r < 0 ? r : 0;
}
