/* The anonymous volumes of a bundle: for each path the image declares in
 * Volumes, a directory BUNDLE/volumes/N that the container gets bound
 * there, filled with what the image has at that path (owner, mode and
 * content: Docker's and podman's copy-up), so a database image finds its
 * data directory as it was built.  The volume lives as long as the bundle:
 * it survives container runs and goes with `gkimg unbundle`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "bundle_internal.h"
#include "gk/cleanup.h"
#include "whiteout.h"

static bool is_opaque(int fd)
{
        char v[2];

        return fgetxattr(fd, GK_OVL_OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

enum walk { FOUND, ABSENT, HIDES };

/* PATH ("/a/b") in one layer: FOUND with *out its directory; ABSENT when
 * the layer has nothing there (lower layers may); HIDES when the layer
 * hides lower ones there (a whiteout, a non-directory, an opaque
 * directory on the way).  *opaque: the directory found is opaque. */
static enum walk walk_layer(int layer, const char *path, int *out, bool *opaque)
{
        _cleanup_close_ int cur = fcntl(layer, F_DUPFD_CLOEXEC, 3);
        const char *p = path;

        *out = -1;
        while (cur >= 0) {
                _cleanup_free_ char *name = NULL;
                struct stat st;
                size_t len;
                int next;

                while (*p == '/')
                        p++;
                if (!*p) {
                        *opaque = is_opaque(cur);
                        *out = TAKE_FD(cur);
                        return FOUND;
                }
                len = strcspn(p, "/");
                name = strndup(p, len);
                p += len;
                if (!name || fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return ABSENT;
                /* a whiteout, a file or a symlink (not followed: the
                 * volume then starts empty) over the lower layers */
                if (!S_ISDIR(st.st_mode))
                        return HIDES;
                next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return ABSENT;
                close(cur);
                cur = next;
                if (*p && is_opaque(cur)) {
                        /* the rest of the path is in this layer or nowhere */
                        enum walk w = walk_layer(cur, p, out, opaque);

                        *opaque = true;
                        return w == FOUND ? FOUND : HIDES;
                }
        }
        return ABSENT;
}

static void close_all(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

/* Fills VOL_FD with the merged view at PATH of the layers (TOP first). */
static int copy_up(int vol_fd, const char *path, const int *top, size_t n, gk_error **err)
{
        _cleanup_free_ int *found = calloc(n + 1, sizeof(int));
        size_t k = 0;
        int r;

        if (!found)
                return gk_error_make(err, ENOMEM, "volume");
        for (size_t i = 0; i < n; i++) {
                bool opaque = false;
                int fd;
                enum walk w = walk_layer(top[i], path, &fd, &opaque);

                if (w == FOUND)
                        found[k++] = fd;
                if (w == HIDES || (w == FOUND && opaque))
                        break;
        }
        /* gk_flatten_layers wants the bottom first. */
        for (size_t i = 0; i < k / 2; i++) {
                int t = found[i];

                found[i] = found[k - 1 - i];
                found[k - 1 - i] = t;
        }
        r = k ? gk_flatten_layers(found, k, vol_fd, err) : 0;
        close_all(found, k);
        return r;
}

int gk_bundle_make_volumes(int bfd, char *const *paths, const int *top, size_t n, gk_error **err)
{
        _cleanup_close_ int vfd = -1;

        if (!paths || !*paths)
                return 0;
        if (mkdirat(bfd, GK_BUNDLE_VOLUMES, 0700) < 0)
                return gk_error_errno(err, "bundle: mkdir " GK_BUNDLE_VOLUMES);
        vfd = openat(bfd, GK_BUNDLE_VOLUMES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (vfd < 0)
                return gk_error_errno(err, "bundle: open " GK_BUNDLE_VOLUMES);
        for (size_t i = 0; paths[i]; i++) {
                _cleanup_close_ int fd = -1;
                char name[32];

                snprintf(name, sizeof(name), "%zu", i);
                if (mkdirat(vfd, name, 0755) < 0 ||
                    (fd = openat(vfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                        return gk_error_errno(err, "bundle: volume `%s`", paths[i]);
                if (copy_up(fd, paths[i], top, n, err) < 0)
                        return gk_error_wrap(err, "volume `%s`", paths[i]);
        }
        return 0;
}
