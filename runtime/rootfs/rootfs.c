/* The container's root filesystem, built by the init in its own mount
 * namespace: the rootfs bind, the config's mounts in order, /dev, then
 * pivot_root, masked and read-only paths, sysctls and a read-only root.
 * Every destination is resolved inside the rootfs through a directory fd
 * (openat2 RESOLVE_IN_ROOT): a symlink in the image cannot send a mount
 * out of the container. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/overlay.h"
#include "gk/resolve.h"
#include "gk/util.h"
#include "security/procfs.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"

static int openat2_in_root(int rootfd, const char *path, int flags)
{
        return gk_open_resolved(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* A component NAME of PATH (under PARENT) that exists but cannot be
 * followed is a dangling symlink: as runc does, the path continues at the
 * link's target, inside the root.  Puts in *out where the path goes now:
 * the target (relative to DIR, the component's directory, when relative)
 * and REST, the components after it.  0 when NAME is not a symlink. */
static int follow_dangling(int parent, const char *dir, const char *name, const char *rest,
                           char **out)
{
        char target[PATH_MAX];
        struct stat st;
        ssize_t n;
        int r;

        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                return 0;
        n = readlinkat(parent, name, target, sizeof(target) - 1);
        if (n <= 0)
                return -EINVAL;
        target[n] = '\0';
        r = asprintf(out, "%s/%s/%s", target[0] == '/' ? "" : dir, target, rest ? rest : "");
        return r < 0 ? -ENOMEM : 1;
}

static int make_path(int rootfd, const char *path, bool mkfile, int links, gk_error **err);

/* The missing component of P that starts after BASE (the '/' before it,
 * or NULL at the top), made under PARENT: a directory, or the file when
 * it is the LAST one and MKFILE; a dangling symlink is followed instead
 * (REST: what comes after the component), which makes the rest of the
 * path too and returns 1. */
static int make_component(int rootfd, int parent, char *p, char *base, const char *rest, bool last,
                          bool mkfile, int links, const char *path, gk_error **err)
{
        _cleanup_free_ char *next = NULL;
        const char *name = base ? base + 1 : p;
        int r, fd;

        if (base)
                *base = '\0';
        r = follow_dangling(parent, base ? p : "", name, rest, &next);
        if (base)
                *base = '/';
        if (r < 0)
                return gk_error_make(err, -r, "resolve `%s` in rootfs", p);
        if (r > 0) {
                if (links >= 40)
                        return gk_error_make(err, ELOOP, "resolve `%s` in rootfs", path);
                r = make_path(rootfd, next, mkfile, links + 1, err);
                return r < 0 ? r : 1;
        }
        if (last && mkfile) {
                fd = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                            0644);
                if (fd < 0 && errno != EEXIST)
                        return gk_error_errno(err, "create `%s` in rootfs", p);
                if (fd >= 0)
                        close(fd);
        } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                return gk_error_errno(err, "mkdir `%s` in rootfs", p);
        }
        return 0;
}

/* Creates the missing directories of PATH (and, with mkfile, its last
 * component as a file), each under a parent resolved inside the root;
 * dangling symlinks on the way are followed (at most 40, the kernel's
 * limit), their targets made inside the root. */
static int make_path(int rootfd, const char *path, bool mkfile, int links, gk_error **err)
{
        _cleanup_free_ char *p = strdup(path);
        char *s, *base;

        if (!p)
                return gk_error_make(err, ENOMEM, "%s", path);
        for (s = p; *s == '/'; s++)
                ;
        /* Mostly only the last component is missing (a mount point in
         * /dev, say): its parent is tried first, the walk from the top
         * only when that is missing too. */
        base = strrchr(s, '/');
        if (base && base[1]) {
                _cleanup_close_ int parent = -1;

                *base = '\0';
                parent = openat2_in_root(rootfd, p, O_PATH | O_DIRECTORY);
                *base = '/';
                if (parent >= 0) {
                        int r = make_component(rootfd, parent, p, base, NULL, true, mkfile, links,
                                               path, err);

                        return r < 0 ? r : 0;
                }
        }
        while (s && *s) {
                char *slash = strchr(s, '/');
                bool last = !slash || !slash[strspn(slash, "/")];
                _cleanup_close_ int parent = -1;
                int fd;

                if (slash)
                        *slash = '\0';
                fd = openat2_in_root(rootfd, p, O_PATH);
                if (fd >= 0) {
                        close(fd);
                } else if (fd == -ENOENT) {
                        int r;

                        base = strrchr(p, '/');
                        if (base)
                                *base = '\0';
                        parent = openat2_in_root(rootfd, base ? p : "/", O_PATH | O_DIRECTORY);
                        if (base)
                                *base = '/';
                        if (parent < 0)
                                return gk_error_resolve(err, parent, "resolve `%s` in rootfs", p);
                        r = make_component(rootfd, parent, p, base, slash ? slash + 1 : NULL, last,
                                           mkfile, links, path, err);
                        if (r != 0) /* an error, or a followed link made the rest */
                                return r < 0 ? r : 0;
                } else {
                        return gk_error_resolve(err, fd, "resolve `%s` in rootfs", p);
                }
                if (!slash)
                        break;
                *slash = '/';
                s = slash + 1;
        }
        return 0;
}

int gk_open_in_root(int rootfd, const char *path, int flags, bool mkdirs, bool mkfile,
                    gk_error **err)
{
        int fd = openat2_in_root(rootfd, path, flags);

        if (fd == -ENOENT && mkdirs) {
                if (make_path(rootfd, path, mkfile, 0, err) < 0)
                        return gk_error_code(*err);
                fd = openat2_in_root(rootfd, path, flags);
        }
        if (fd < 0)
                return gk_error_resolve(err, fd, "open `%s` in rootfs", path);
        return fd;
}

/* Set while gk_rootfs_finalize works from its own procfs's fd directory:
 * fds are then named relative to it. */
static bool fd_names_relative;

void gk_fd_path(char buf[static 32], int fd)
{
        snprintf(buf, 32, fd_names_relative ? "%d" : "/proc/self/fd/%d", fd);
}

/* Flags of the mount at TARGET that a remount must keep (locked in a user
 * namespace), unless the config clears them. */
static unsigned long kept_flags(const char *target, unsigned long clear)
{
        struct statvfs sv;
        unsigned long f = 0;

        if (statvfs(target, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_RDONLY)
                f |= MS_RDONLY;
        return f & ~clear;
}

#define REMOUNT_FLAGS                                                                \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | \
         MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK)

int gk_remount_at(int rootfd, const char *dest, unsigned long flags, unsigned long clear,
                  gk_error **err)
{
        _cleanup_close_ int fd = gk_open_in_root(rootfd, dest, O_PATH, false, false, err);
        char target[32];

        if (fd < 0)
                return fd;
        gk_fd_path(target, fd);
        flags |= kept_flags(target, clear);
        if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
                return gk_error_errno(err, "remount `%s`", dest);
        return 0;
}

static int bind_source(const gk_container *c, const gk_mount *m, char **out, gk_error **err)
{
        if (!m->source)
                return gk_error_make(err, 0, "bind mount `%s`: no source", m->destination);
        if (m->source[0] == '/')
                *out = strdup(m->source);
        else if (asprintf(out, "%s/%s", c->bundle, m->source) < 0)
                *out = NULL;
        return *out ? 0 : gk_error_make(err, ENOMEM, "mount");
}

/* The bind mount's source, made by gkrun already (idmount.c): its fd,
 * taken, or -1. */
static int take_idmapped_tree(gk_container *c, const gk_mount *m)
{
        size_t i = (size_t) (m - c->spec->mounts);

        if (!c->idmount_fds || i >= c->spec->n_mounts)
                return -1;
        return TAKE_FD(c->idmount_fds[i]);
}

static int mount_bind(gk_container *c, int rootfd, const gk_mount *m, gk_error **err)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_close_ int fd = -1, tree = take_idmapped_tree(c, m);
        struct stat st;
        char target[32];

        if (tree >= 0) {
                if (gk_idmount_attach(c, rootfd, m, tree, err) < 0)
                        return gk_error_code(*err);
        } else {
                if (bind_source(c, m, &src, err) < 0)
                        return gk_error_code(*err);
                if (stat(src, &st) < 0)
                        return gk_error_errno(err, "bind mount source `%s`", src);
                fd = gk_open_in_root(rootfd, m->destination, O_PATH, true, !S_ISDIR(st.st_mode),
                                     err);
                if (fd < 0 || gk_mount_dest_check(c, rootfd, fd, m, src, err) < 0)
                        return gk_error_code(*err);
                gk_fd_path(target, fd);
                if (mount(src, target, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) < 0)
                        return gk_error_errno(err, "bind mount `%s` on `%s`", src, m->destination);
        }
        if (m->flags & REMOUNT_FLAGS &&
            gk_remount_at(rootfd, m->destination, m->flags & REMOUNT_FLAGS, m->clear_flags, err) <
                    0)
                return gk_error_code(*err);
        return 0;
}

/* "tmpcopyup": the tmpfs just mounted on DEST gets a copy of what BELOW
 * (the destination's directory, opened before the mount) holds. */
static int copy_up(int rootfd, int below, const gk_mount *m, gk_error **err)
{
        _cleanup_close_ int top = gk_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY,
                                                  false, false, err);
        struct stat b, t;

        if (top < 0)
                return gk_error_wrap(err, "tmpcopyup");
        /* the same path must now lead to the new tmpfs, not elsewhere */
        if (fstat(below, &b) < 0 || fstat(top, &t) < 0)
                return gk_error_errno(err, "tmpcopyup: stat `%s`", m->destination);
        if (b.st_dev == t.st_dev)
                return gk_error_make(err, EXDEV, "tmpcopyup: `%s` is not the new tmpfs",
                                     m->destination);
        if (gk_copyup(below, top, err) < 0)
                return gk_error_wrap(err, "tmpcopyup of `%s`", m->destination);
        return 0;
}

/* linux.mountLabel as a context= option, where runc puts it: every
 * filesystem mount but proc, sysfs, mqueue and cgroup (create checked that
 * SELinux is enabled).  *OUT: the data to mount with, to free. */
static int labelled_data(const gk_container *c, const gk_mount *m, char **out, gk_error **err)
{
        static const char *const unlabelled[] = { "proc", "sysfs", "mqueue", "cgroup", "cgroup2" };
        const char *label = c->spec->linux.mount_label;

        *out = NULL;
        if (!label || !*label)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(unlabelled); i++)
                if (!strcmp(m->type, unlabelled[i]))
                        return 0;
        if (asprintf(out, "%s%scontext=\"%s\"", m->data ? m->data : "", m->data ? "," : "",
                     label) < 0)
                return gk_error_make(err, ENOMEM, "linux.mountLabel");
        return 0;
}

static int mount_fs(gk_container *c, int rootfd, const gk_mount *m, gk_error **err)
{
        _cleanup_close_ int fd = gk_open_in_root(rootfd, m->destination, O_PATH, true, false, err);
        _cleanup_free_ char *labelled = NULL;
        char target[32];

        if (fd < 0 || gk_mount_dest_check(c, rootfd, fd, m, NULL, err) < 0)
                return gk_error_code(*err);
        gk_fd_path(target, fd);
        if (!strcmp(m->type, "cgroup") || !strcmp(m->type, "cgroup2"))
                return gk_mount_cgroupfs(c, target, m, err);
        if (labelled_data(c, m, &labelled, err) < 0)
                return gk_error_code(*err);
        /* a read-only tmpcopyup tmpfs is filled first, then made read-only */
        if (mount(m->source ? m->source : m->type, target, m->type,
                  m->flags & ~(MS_BIND | MS_REC | (m->tmpcopyup ? MS_RDONLY : 0)),
                  labelled ? labelled : m->data) == 0) {
                if (!m->tmpcopyup)
                        return 0;
                if (copy_up(rootfd, fd, m, err) < 0)
                        return gk_error_code(*err);
                if (m->flags & MS_RDONLY)
                        return gk_remount_at(rootfd, m->destination, m->flags & REMOUNT_FLAGS, 0,
                                             err);
                return 0;
        }
        /* sysfs cannot be mounted from a user namespace that does not own
         * the network namespace: take the host's, read-only. */
        if (errno == EPERM && !strcmp(m->type, "sysfs")) {
                if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) == 0)
                        return gk_remount_at(rootfd, m->destination,
                                             MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, err);
        }
        return gk_error_errno(err, "mount %s on `%s`", m->type, m->destination);
}

static int apply_mount(gk_container *c, int rootfd, const gk_mount *m, gk_error **err)
{
        int r;

        if (m->tmpcopyup && (m->bind || !m->type || strcmp(m->type, "tmpfs") != 0))
                return gk_error_make(err, 0, "`%s`: tmpcopyup is only for tmpfs mounts",
                                     m->destination);
        if (m->bind || (m->type && !strcmp(m->type, "bind")))
                r = mount_bind(c, rootfd, m, err);
        else if (m->type)
                r = mount_fs(c, rootfd, m, err);
        else
                return gk_error_make(err, 0, "mount `%s`: no type", m->destination);
        if (r < 0)
                return r;
        if (m->propagation || m->attr_set || m->attr_clr) {
                _cleanup_close_ int fd = gk_open_in_root(rootfd, m->destination, O_PATH, false,
                                                         false, err);
                char target[32];

                if (fd < 0)
                        return fd;
                gk_fd_path(target, fd);
                if (m->propagation && mount(NULL, target, NULL, m->propagation, NULL) < 0)
                        return gk_error_errno(err, "set propagation of `%s`", m->destination);
                if ((m->attr_set || m->attr_clr) &&
                    gk_mount_setattr(fd, m->attr_set, m->attr_clr, err) < 0)
                        return gk_error_wrap(err, "mount `%s`", m->destination);
        }
        return 0;
}

static bool has_dev_tmpfs(const gk_spec *s)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (!strcmp(s->mounts[i].destination, "/dev") && !s->mounts[i].bind &&
                    (!s->mounts[i].type || strcmp(s->mounts[i].type, "bind")))
                        return true;
        return false;
}

/* Without a mount namespace of its own the container shares its caller's:
 * then / is the caller's and must not be touched (no propagation change,
 * no pivot_root, no move onto /); the rootfs gets a chroot, and what is
 * mounted under it is removed by delete (hostmounts.c). */
static bool own_mount_ns(const gk_container *c)
{
        return c->spec->linux.namespaces[GK_NS_MOUNT].present;
}

/* c->rootfs was resolved (realpath) by gkrun on the host before the init
 * existed: it has no symlink, and one now means the path was swapped since
 * (a symlink to "/" would make the host's root the container's). */
static int open_rootfs(const gk_container *c, int flags, gk_error **err)
{
        int fd = gk_open_resolved(AT_FDCWD, c->rootfs, flags | O_DIRECTORY, RESOLVE_NO_SYMLINKS);

        if (fd == -ELOOP)
                return gk_error_plain(err, ELOOP,
                                      "open rootfs `%s`: a symlink was put in its"
                                      " path since create resolved it",
                                      c->rootfs);
        if (fd < 0)
                return gk_error_make(err, -fd, "open rootfs `%s`", c->rootfs);
        return fd;
}

/* The rootfs reached again by its path (TOP) must be what was opened
 * before (BEFORE), or, with ON_TOP, the mount just made on it: the same
 * directory for a bind, another filesystem for an overlay.  A directory
 * renamed into its place since is neither. */
static int check_rootfs_mount(const gk_container *c, int before, int top, bool on_top,
                              gk_error **err)
{
        struct stat b, t;
        bool overlay = on_top && gk_spec_annotation(c->spec, GK_OVERLAY_ANNOTATION) != NULL;

        if (fstat(before, &b) < 0 || fstat(top, &t) < 0)
                return gk_error_errno(err, "stat rootfs `%s`", c->rootfs);
        if (overlay ? t.st_dev == b.st_dev : (t.st_dev != b.st_dev || t.st_ino != b.st_ino))
                return gk_error_plain(err, EXDEV,
                                      "rootfs `%s` was replaced while the container"
                                      " was being created",
                                      c->rootfs);
        return 0;
}

int gk_rootfs_prepare(gk_container *c, gk_error **err)
{
        const gk_spec *s = c->spec;
        _cleanup_close_ int rootfd = -1, below = -1;

        /* Nothing we mount may propagate back to the host. Always a slave,
         * even for rootfsPropagation "shared": pivot_root fails with EINVAL
         * when the old root's parent is shared; the requested propagation
         * is applied to the new / once pivoted (gk_rootfs_finalize). */
        if (own_mount_ns(c) && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return gk_error_errno(err, "make / a slave mount");
        below = open_rootfs(c, O_PATH, err);
        if (below < 0 || gk_rootfs_mount_root(c, below, err) < 0)
                return gk_error_code(*err);
        rootfd = open_rootfs(c, O_PATH, err);
        if (rootfd < 0 || check_rootfs_mount(c, below, rootfd, true, err) < 0)
                return gk_error_code(*err);
        for (size_t i = 0; i < s->n_mounts; i++)
                if (apply_mount(c, rootfd, &s->mounts[i], err) < 0)
                        return gk_error_wrap(err, "config.json: mounts[%zu]", i);
        if (has_dev_tmpfs(s) && gk_dev_setup_default(c, rootfd, err) < 0)
                return gk_error_code(*err);
        if (gk_dev_create_devices(c, rootfd, err) < 0)
                return gk_error_code(*err);
        /* gk_rootfs_pivot checks that the path still leads here. */
        if (fchdir(rootfd) < 0)
                return gk_error_errno(err, "chdir to rootfs `%s`", c->rootfs);
        return 0;
}

int gk_rootfs_pivot(gk_container *c, gk_error **err)
{
        _cleanup_close_ int prepared = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int newroot = -1;

        if (prepared < 0)
                return gk_error_errno(err, "open rootfs `%s`", c->rootfs);
        newroot = open_rootfs(c, O_RDONLY, err);
        if (newroot < 0 || check_rootfs_mount(c, prepared, newroot, false, err) < 0)
                return gk_error_code(*err);
        if (fchdir(newroot) < 0)
                return gk_error_errno(err, "chdir to rootfs `%s`", c->rootfs);
        if (!own_mount_ns(c)) {
                if (chroot(".") < 0)
                        return gk_error_errno(err, "chroot to rootfs `%s`", c->rootfs);
                return chdir("/") < 0 ? gk_error_errno(err, "chdir /") : 0;
        }
        if (c->no_pivot) {
                if (mount(c->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return gk_error_errno(err, "move rootfs to /");
                if (chroot(".") < 0)
                        return gk_error_errno(err, "chroot");
                return chdir("/") < 0 ? gk_error_errno(err, "chdir /") : 0;
        }
        /* pivot_root(".", "."): the old root ends up stacked on the new one
         * and is detached right away; made a slave first so the detach
         * does not propagate to the host. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return gk_error_errno(err, "pivot_root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return gk_error_errno(err, "make old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
                return gk_error_errno(err, "detach old root");
        return chdir("/") < 0 ? gk_error_errno(err, "chdir /") : 0;
}

/* The container's /dev/null, checked to be the null device: a symlink
 * there (from the image, or a /dev that is not gkrun's tmpfs) would bind
 * what it points to, e.g. a file of /proc/sys, writable over a masked path
 * (runc's CVE-2025-31133). */
static int open_dev_null(int rootfd, gk_error **err)
{
        _cleanup_close_ int fd = openat2_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW);
        struct stat st;

        if (fd < 0)
                return gk_error_resolve(err, fd, "config.json: linux.maskedPaths: open /dev/null");
        if (fstat(fd, &st) < 0)
                return gk_error_errno(err, "config.json: linux.maskedPaths: stat /dev/null");
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return gk_error_plain(err, EPERM,
                                      "config.json: linux.maskedPaths: /dev/null in the"
                                      " container is not the null device (%s)",
                                      S_ISLNK(st.st_mode) ? "a symlink" : "another file");
        return TAKE_FD(fd);
}

static int mask_path(int rootfd, int *nullfd, const char *path, gk_error **err)
{
        _cleanup_close_ int fd = openat2_in_root(rootfd, path, O_PATH);
        struct stat st;
        char target[32], source[32];

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return gk_error_resolve(err, fd, "config.json: linux.maskedPaths: `%s`", path);
        if (fstat(fd, &st) < 0)
                return gk_error_errno(err, "config.json: linux.maskedPaths: `%s`", path);
        gk_fd_path(target, fd);
        if (S_ISDIR(st.st_mode)) {
                if (mount("tmpfs", target, "tmpfs", MS_RDONLY, "size=0k,mode=0755") < 0)
                        return gk_error_errno(err, "config.json: linux.maskedPaths: `%s`", path);
        } else {
                if (*nullfd < 0 && (*nullfd = open_dev_null(rootfd, err)) < 0)
                        return *nullfd;
                gk_fd_path(source, *nullfd);
                if (mount(source, target, NULL, MS_BIND, NULL) < 0)
                        return gk_error_errno(err, "config.json: linux.maskedPaths: `%s`", path);
        }
        return 0;
}

static int readonly_path(int rootfd, const char *path, gk_error **err)
{
        _cleanup_close_ int fd = openat2_in_root(rootfd, path, O_PATH);
        char target[32];

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return gk_error_resolve(err, fd, "config.json: linux.readonlyPaths: `%s`", path);
        gk_fd_path(target, fd);
        if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
                return gk_error_errno(err, "config.json: linux.readonlyPaths: `%s`", path);
        if (gk_remount_at(rootfd, path, MS_RDONLY, 0, err) < 0)
                return gk_error_wrap(err, "config.json: linux.readonlyPaths");
        return 0;
}

/* Through the init's own procfs (procfs.h), not the container's /proc:
 * a symlink of the image or a volume on the way (/data -> /proc/sys/net
 * with a mount on /data) would take the value to another sysctl.  The
 * keys were checked at create (sysctl.c): dots, no '/'. */
static int write_sysctls(int procfd, const gk_linux *l, gk_error **err)
{
        for (size_t i = 0; i < l->n_sysctl; i++) {
                _cleanup_free_ char *path = NULL;

                if (asprintf(&path, "sys/%s", l->sysctl[i].key) < 0)
                        return gk_error_make(err, ENOMEM, "sysctl");
                for (char *p = path + 4; *p; p++)
                        if (*p == '.')
                                *p = '/';
                if (gk_procfs_write(procfd, path, l->sysctl[i].value, err) < 0)
                        return gk_error_wrap(err, "config.json: linux.sysctl: \"%s\"",
                                             l->sysctl[i].key);
        }
        return 0;
}

static int protect_paths(const gk_linux *l, int rootfd, gk_error **err)
{
        _cleanup_close_ int nullfd = -1;

        for (size_t i = 0; i < l->n_masked_paths; i++)
                if (mask_path(rootfd, &nullfd, l->masked_paths[i], err) < 0)
                        return gk_error_code(*err);
        for (size_t i = 0; i < l->n_readonly_paths; i++)
                if (readonly_path(rootfd, l->readonly_paths[i], err) < 0)
                        return gk_error_code(*err);
        return 0;
}

/* Masked and read-only paths are mounted on fds by their /proc/self/fd/N
 * names; pivoted, /proc is the container's, where the image (no procfs on
 * /proc) or a mount can put other things at those names.  They are looked
 * up in the init's own procfs instead: from its fd directory as the
 * working directory, by relative names. */
static int protect_paths_from_own_procfs(const gk_container *c, int rootfd, gk_error **err)
{
        _cleanup_close_ int fddir = -1;
        int r;

        if (!c->spec->linux.n_masked_paths && !c->spec->linux.n_readonly_paths)
                return 0;
        fddir = gk_procfs_open_at(c->proc_fd, "self/fd", O_PATH | O_DIRECTORY, err);
        if (fddir < 0)
                return gk_error_wrap(err, "masked and read-only paths");
        if (fchdir(fddir) < 0)
                return gk_error_errno(err, "chdir to /proc/self/fd");
        fd_names_relative = true;
        r = protect_paths(&c->spec->linux, rootfd, err);
        fd_names_relative = false;
        if (fchdir(rootfd) < 0 && r == 0)
                return gk_error_errno(err, "chdir /");
        return r;
}

int gk_rootfs_finalize(gk_container *c, gk_error **err)
{
        const gk_spec *s = c->spec;
        _cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (rootfd < 0)
                return gk_error_errno(err, "open /");
        /* A missing process.cwd is made now, as runc makes it: after the
         * mounts (it may lie in one) and before anything turns read-only. */
        if (s->process && gk_rootfs_make_cwd(rootfd, s->process->cwd, err) < 0)
                return gk_error_code(*err);
        if (write_sysctls(c->proc_fd, &s->linux, err) < 0 ||
            protect_paths_from_own_procfs(c, rootfd, err) < 0)
                return gk_error_code(*err);
        if (s->root.readonly &&
            mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | kept_flags("/", 0), NULL) <
                    0)
                return gk_error_errno(err, "config.json: root.readonly: remount / read-only");
        /* Without a mount namespace the rootfs bind is in the caller's
         * peer groups; leaving them would keep delete's unmount from
         * reaching the copies made in its peers. */
        if (s->linux.rootfs_propagation_flags && own_mount_ns(c) &&
            mount(NULL, "/", NULL, s->linux.rootfs_propagation_flags, NULL) < 0)
                return gk_error_errno(err, "config.json: linux.rootfsPropagation");
        return 0;
}
