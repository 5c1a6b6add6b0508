/* process.cwd made inside the root at create (gk_rootfs_make_cwd,
 * rootfs.h): the rootfs's part of the cwd; entering it is the exec's
 * (spawn/process.c). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/resolve.h"
#include "rootfs/rootfs.h"

static int open_dir_in_root(int rootfd, const char *path)
{
        return gk_open_resolved(rootfd, path, O_PATH | O_DIRECTORY,
                                RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* Each missing directory of CWD is made under its parent's fd, the parent
 * resolved inside the root from the top each time: a symlink on the way
 * is followed as runc follows it, inside the root, and never out of it.
 * A dangling one is not followed to make its target (runc's MkdirAll
 * fails on it with EEXIST too).  Mode 0755 (the init's umask is 0) and
 * owned by the container's root, whatever process.user and its umask, as
 * runc makes them.  What is not ENOENT (a file in the way, a magic link,
 * no openat2) is left for the init to report at chdir (spawn/process.c). */
int gk_rootfs_make_cwd(int rootfd, const char *cwd, gk_error **err)
{
        _cleanup_free_ char *path = cwd ? strdup(cwd) : NULL;
        _cleanup_close_ int parent = -1;
        char *s, *name, save;
        int fd;

        if (!cwd)
                return 0;
        if (!path)
                return gk_error_make(err, ENOMEM, "cwd");
        fd = open_dir_in_root(rootfd, path);
        if (fd >= 0)
                close(fd);
        if (fd != -ENOENT)
                return 0;
        parent = open_dir_in_root(rootfd, "/");
        for (s = path + strspn(path, "/"); parent >= 0 && *s; s += strspn(s, "/")) {
                name = s;
                s += strcspn(s, "/");
                save = *s;
                *s = '\0';
                fd = open_dir_in_root(rootfd, path);
                if (fd == -ENOENT) {
                        if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
                                return gk_error_errno(
                                        err,
                                        "create cwd (\"%s\") set in config.json failed:"
                                        " mkdir \"%s\"",
                                        cwd, path);
                        fd = open_dir_in_root(rootfd, path);
                        if (fd == -ENOENT)
                                return gk_error_make(err, EEXIST,
                                                     "create cwd (\"%s\") set in config.json"
                                                     " failed: mkdir \"%s\" (a dangling symlink)",
                                                     cwd, path);
                }
                close(parent);
                parent = fd;
                *s = save;
        }
        return 0;
}
