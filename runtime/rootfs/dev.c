/* /dev inside the container: the default device nodes and links when /dev
 * is a fresh tmpfs, and the nodes of linux.devices.  In a user namespace
 * mknod is refused, so nodes are bind mounts of the host's instead. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"

static const struct {
        const char *name;
        unsigned maj, min;
} default_devices[] = {
        { "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
        { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const struct {
        const char *name, *target;
} default_links[] = {
        { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
        { "ptmx", "pts/ptmx" },
};

/* mknod NAME in DFD, replacing what is there; chown only when the node
 * is to belong to someone other than us, who made it. */
static int mknod_in(int dfd, const char *name, const char *path, mode_t mode, dev_t dev, uid_t uid,
                    gid_t gid, gk_error **err)
{
        if (mknodat(dfd, name, mode, dev) < 0) {
                if (errno != EEXIST)
                        return gk_error_errno(err, "mknod `%s`", path);
                unlinkat(dfd, name, 0);
                if (mknodat(dfd, name, mode, dev) < 0)
                        return gk_error_errno(err, "mknod `%s`", path);
        }
        if ((uid != geteuid() || gid != getegid()) &&
            fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return gk_error_errno(err, "chown `%s`", path);
        return 0;
}

/* Creates node PATH (absolute in the container) of type MODE. */
static int make_node(gk_container *c, int rootfd, const char *path, mode_t mode, dev_t dev,
                     uid_t uid, gid_t gid, gk_error **err)
{
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_close_ int dfd = -1;
        char *slash = dir ? strrchr(dir, '/') : NULL;
        const char *name;

        if (!slash)
                return gk_error_make(err, EINVAL, "device `%s`", path);
        *slash = '\0';
        name = slash + 1;
        dfd = gk_open_in_root(rootfd, dir[0] ? dir : "/", O_PATH | O_DIRECTORY, true, false, err);
        if (dfd < 0)
                return dfd;
        if (!c->spec->linux.namespaces[GK_NS_USER].present && !c->g->in_userns)
                return mknod_in(dfd, name, path, mode, dev, uid, gid, err);
        {
                _cleanup_close_ int fd = -1;
                char target[32];

                fd = openat(dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return gk_error_errno(err, "create `%s`", path);
                gk_fd_path(target, fd);
                if (mount(path, target, NULL, MS_BIND, NULL) < 0)
                        return gk_error_errno(err,
                                              "bind mount host `%s` (a user namespace cannot "
                                              "mknod: its nodes are the host's)",
                                              path);
        }
        return 0;
}

int gk_dev_setup_default(gk_container *c, int rootfd, gk_error **err)
{
        _cleanup_close_ int dfd = gk_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, false,
                                                  false, err);

        if (dfd < 0)
                return dfd;
        for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
                dev_t dev = makedev(default_devices[i].maj, default_devices[i].min);
                char path[32];
                int r;

                snprintf(path, sizeof(path), "/dev/%s", default_devices[i].name);
                /* all in the /dev just opened, without a user namespace */
                if (c->spec->linux.namespaces[GK_NS_USER].present || c->g->in_userns)
                        r = make_node(c, rootfd, path, S_IFCHR | 0666, dev, 0, 0, err);
                else
                        r = mknod_in(dfd, default_devices[i].name, path, S_IFCHR | 0666, dev, 0, 0,
                                     err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ARRAY_SIZE(default_links); i++)
                if (symlinkat(default_links[i].target, dfd, default_links[i].name) < 0 &&
                    errno != EEXIST)
                        return gk_error_errno(err, "symlink /dev/%s", default_links[i].name);
        if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dfd, "core") < 0 &&
            errno != EEXIST)
                return gk_error_errno(err, "symlink /dev/core");
        return 0;
}

int gk_dev_create_devices(gk_container *c, int rootfd, gk_error **err)
{
        const gk_linux *l = &c->spec->linux;

        for (size_t i = 0; i < l->n_devices; i++) {
                const gk_device *d = &l->devices[i];
                mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
                mode_t mode = d->has_file_mode ? (d->file_mode & 07777) : 0666;

                if (make_node(c, rootfd, d->path, type | mode,
                              makedev((unsigned) d->major, (unsigned) d->minor),
                              d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, err) < 0)
                        return gk_error_wrap(err, "config.json: linux.devices[%zu]", i);
        }
        return 0;
}

int gk_rootfs_reopen_null_stdio(const gk_container *c, gk_error **err)
{
        _cleanup_close_ int null = -1;
        struct stat st;

        if (!c->spec->linux.namespaces[GK_NS_MOUNT].present)
                return 0; /* the caller's mounts: its /dev/null is ours */
        null = open("/dev/null", O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        /* a container without its null device keeps what it was given */
        if (null < 0 || fstat(null, &st) < 0 || !S_ISCHR(st.st_mode) ||
            st.st_rdev != makedev(1, 3))
                return 0;
        for (int fd = 0; fd < 3; fd++) {
                struct stat fs;

                if (fstat(fd, &fs) < 0 || !S_ISCHR(fs.st_mode) || fs.st_rdev != st.st_rdev)
                        continue;
                if (dup3(null, fd, 0) < 0)
                        return gk_error_errno(err, "reopen /dev/null as fd %d", fd);
        }
        return 0;
}
