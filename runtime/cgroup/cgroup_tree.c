/* What lies below a container's cgroup: sub-cgroups its processes made
 * (systemd in a container makes a whole tree).  They belong to the
 * container: ps and kill --all see their processes, delete removes them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

#define MAX_DEPTH 32

static int add_pids(int dirfd, pid_t **v, size_t *count, size_t *cap, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        int r;

        if ((r = gk_read_file_at(dirfd, "cgroup.procs", &text, NULL, err)) < 0)
                return r;
        for (char *t = strtok_r(text, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
                int64_t p;

                if (!gk_parse_i64(t, &p) || p <= 0)
                        continue;
                if (*count == *cap) {
                        pid_t *nv = realloc(*v, (*cap = *cap ? *cap * 2 : 16) * sizeof(**v));

                        if (!nv)
                                return gk_error_make(err, ENOMEM, "cgroup pids");
                        *v = nv;
                }
                (*v)[(*count)++] = (pid_t) p;
        }
        return 0;
}

static int walk_pids(int dirfd, unsigned depth, pid_t **v, size_t *count, size_t *cap,
                     gk_error **err)
{
        _cleanup_close_ int dup_fd = -1;
        DIR *d;
        struct dirent *e;
        int r;

        if ((r = add_pids(dirfd, v, count, cap, err)) < 0 || depth >= MAX_DEPTH)
                return r;
        dup_fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup_fd < 0 || !(d = fdopendir(dup_fd)))
                return gk_error_errno(err, "list cgroup");
        dup_fd = -1; /* the DIR owns it now */
        while (r == 0 && (e = readdir(d))) {
                _cleanup_close_ int sub = -1;

                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub >= 0) /* a sub-cgroup may go while we look */
                        r = walk_pids(sub, depth + 1, v, count, cap, err);
        }
        closedir(d);
        return r;
}

int gk_cg_tree_pids(int dirfd, pid_t **pids, size_t *n, gk_error **err)
{
        _cleanup_free_ pid_t *v = NULL;
        size_t count = 0, cap = 0;
        int r = walk_pids(dirfd, 0, &v, &count, &cap, err);

        if (r < 0)
                return r;
        *pids = TAKE_PTR(v);
        *n = count;
        return 0;
}

/* Removes every sub-cgroup of DIRFD, deepest first; best effort (one still
 * holding a process stays, and the caller's rmdir says EBUSY). */
static void rmdir_children(int dirfd, unsigned depth)
{
        _cleanup_close_ int dup_fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;
        struct dirent *e;

        if (dup_fd < 0 || depth >= MAX_DEPTH || !(d = fdopendir(dup_fd)))
                return;
        dup_fd = -1;
        while ((e = readdir(d))) {
                _cleanup_close_ int sub = -1;

                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                        continue;
                sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sub >= 0)
                        rmdir_children(sub, depth + 1);
                (void) unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
        }
        closedir(d);
}

void gk_cg_tree_clear(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0)
                rmdir_children(fd, 0);
}

int gk_cg_remove_below(const char *root, const char *path, unsigned count, gk_error **err)
{
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s%s", root, path) < 0)
                return gk_error_make(err, ENOMEM, "cgroup");
        for (unsigned i = 0; i < count; i++) {
                int e = rmdir(p) < 0 ? errno : 0;
                char *slash;

                /* sub-cgroups the container made go first; most have none */
                if (i == 0 && (e == EBUSY || e == ENOTEMPTY)) {
                        gk_cg_tree_clear(p);
                        e = rmdir(p) < 0 ? errno : 0;
                }
                if (e && e != ENOENT) {
                        errno = e;
                        if (i == 0)
                                return gk_error_errno(err, "remove cgroup `%s`", p);
                        break; /* a parent still in use by someone else */
                }
                slash = strrchr(p, '/');
                if (!slash || slash - p <= (ptrdiff_t) strlen(root))
                        break;
                *slash = '\0';
        }
        return 0;
}
