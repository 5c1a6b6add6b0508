/* Idmapped bind mounts (mount options "idmap" and "ridmap", a mount's
 * uidMappings/gidMappings), made as runc and crun make them: gkrun, on the
 * host, clones the source tree (open_tree OPEN_TREE_CLONE), sets
 * MOUNT_ATTR_IDMAP on the detached copy with a user namespace that holds
 * the mappings, and the init moves the tree onto its destination in the
 * rootfs (move_mount onto a dir fd opened inside it).
 *
 * Why in two places: the source is a name on the host, reached before the
 * container's mounts hide it; only a detached tree can be idmapped, and
 * only by a process privileged over the mapping's user namespace, which
 * the init, inside its own user namespace, is not over ours.  The tree
 * travels to the init over the sync socket (container/). */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "rootfs/rootfs.h"
#include "rootfs/rootfs_internal.h"

bool gk_idmount_wanted(const gk_mount *m)
{
        /* runc: mappings without "idmap" make an idmapped mount too */
        return m->idmap || m->n_uid_mappings || m->n_gid_mappings;
}

size_t gk_idmount_count(const gk_spec *s)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_mounts; i++)
                n += gk_idmount_wanted(&s->mounts[i]);
        return n;
}

static bool is_bind(const gk_mount *m)
{
        return m->bind || (m->type && !strcmp(m->type, "bind"));
}

int gk_idmount_validate(const gk_spec *s, gk_error **err)
{
        bool userns = s->linux.namespaces[GK_NS_USER].present;

        for (size_t i = 0; i < s->n_mounts; i++) {
                const gk_mount *m = &s->mounts[i];

                if (!gk_idmount_wanted(m))
                        continue;
                if (!is_bind(m))
                        return gk_error_make(err, 0,
                                             "config.json: mounts[%zu]: `%s`: idmapped mounts are"
                                             " only supported for bind mounts",
                                             i, m->destination);
                if (!m->n_uid_mappings != !m->n_gid_mappings)
                        return gk_error_make(err, 0,
                                             "config.json: mounts[%zu]: `%s`: an idmapped mount"
                                             " needs both uidMappings and gidMappings",
                                             i, m->destination);
                if (!m->n_uid_mappings && !userns)
                        return gk_error_make(
                                err, 0,
                                "config.json: mounts[%zu]: `%s`: idmap without uidMappings and"
                                " gidMappings takes the container's user namespace mappings,"
                                " but there is no user namespace",
                                i, m->destination);
        }
        return 0;
}

int *gk_idmount_fds_new(size_t n)
{
        int *fds = malloc((n ? n : 1) * sizeof(*fds));

        for (size_t i = 0; fds && i < n; i++)
                fds[i] = -1;
        return fds;
}

void gk_idmount_fds_free(int **fds, size_t n)
{
        for (size_t i = 0; *fds && i < n; i++)
                if ((*fds)[i] >= 0)
                        close((*fds)[i]);
        free(*fds);
        *fds = NULL;
}

static int write_map(pid_t pid, const char *file, const gk_idmap *maps, size_t n, gk_error **err)
{
        _cleanup_free_ char *buf = malloc(n * 40 + 1);
        char path[64];
        size_t len = 0;

        if (!buf)
                return gk_error_make(err, ENOMEM, "%s", file);
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(buf + len, n * 40 + 1 - len, "%u %u %u\n",
                                         maps[i].container_id, maps[i].host_id, maps[i].size);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        return gk_write_file_at(AT_FDCWD, path, buf, len, err);
}

/* A user namespace with the mount's own mappings: that of a child made for
 * it, which waits (on a pipe) until its namespace is open, then exits. */
static int mapped_userns(const gk_mount *m, gk_error **err)
{
        _cleanup_close_ int rd = -1, wr = -1;
        int p[2], fd = -1, r = 0;
        char path[64];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return gk_error_errno(err, "pipe");
        rd = p[0];
        wr = p[1];
        pid = (pid_t) syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
        if (pid < 0)
                return gk_error_errno(err, "user namespace for the mappings");
        if (pid == 0) {
                char b;

                close(wr);
                while (read(rd, &b, 1) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        if (write_map(pid, "uid_map", m->uid_mappings, m->n_uid_mappings, err) < 0)
                r = gk_error_wrap(err, "uidMappings");
        else if (write_map(pid, "gid_map", m->gid_mappings, m->n_gid_mappings, err) < 0)
                r = gk_error_wrap(err, "gidMappings");
        if (r == 0) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = gk_error_errno(err, "open `%s`", path);
        }
        close(TAKE_FD(wr));
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return r < 0 ? r : fd;
}

static int source_path(const gk_container *c, const gk_mount *m, char **out, gk_error **err)
{
        if (!m->source)
                return gk_error_make(err, 0, "no source");
        if (m->source[0] == '/')
                *out = strdup(m->source);
        else if (asprintf(out, "%s/%s", c->bundle, m->source) < 0)
                *out = NULL;
        return *out ? 0 : gk_error_make(err, ENOMEM, "mount");
}

static const char *idmap_reason(int e)
{
        switch (e) {
        case EINVAL:
        case EOPNOTSUPP:
                return "its filesystem does not support idmapped mounts";
        case EPERM:
                return "the mapping is not allowed (already idmapped, or not ours)";
        case ENOSYS:
                return "the kernel has no mount_setattr (Linux 5.12)";
        default:
                return NULL;
        }
}

/* The idmapped copy of M's source, as a detached tree; USERNS: the
 * container's user namespace, for a mount without mappings of its own. */
static int idmapped_tree(const gk_container *c, const gk_mount *m, int userns, gk_error **err)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_close_ int own = -1, tree = -1;
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
        const char *why;

        if (source_path(c, m, &src, err) < 0)
                return gk_error_code(*err);
        if (m->n_uid_mappings) {
                own = mapped_userns(m, err);
                if (own < 0)
                        return own;
                userns = own;
        }
        /* the bind's own recursion ("rbind") decides what is cloned;
         * "ridmap" whether the mapping reaches the submounts */
        tree = open_tree(AT_FDCWD, src,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0));
        if (tree < 0)
                return gk_error_errno(err, "source `%s`", src);
        attr.userns_fd = (uint64_t) userns;
        if (syscall(SYS_mount_setattr, tree, "",
                    AT_EMPTY_PATH | (m->idmap_recursive ? AT_RECURSIVE : 0), &attr,
                    sizeof(attr)) < 0) {
                int e = errno;

                why = idmap_reason(e);
                if (why)
                        return gk_error_plain(err, e, "cannot idmap `%s`: %s (%s)", src, why,
                                              strerror(e));
                return gk_error_make(err, e, "cannot idmap `%s`", src);
        }
        return TAKE_FD(tree);
}

int gk_idmount_open(const gk_container *c, int userns, int *fds, gk_error **err)
{
        const gk_spec *s = c->spec;

        for (size_t i = 0; i < s->n_mounts; i++) {
                const gk_mount *m = &s->mounts[i];

                if (!gk_idmount_wanted(m))
                        continue;
                fds[i] = idmapped_tree(c, m, userns, err);
                if (fds[i] < 0) {
                        fds[i] = -1;
                        return gk_error_wrap(err, "config.json: mounts[%zu]: `%s`", i,
                                             m->destination);
                }
        }
        return 0;
}

/* Init: the idmapped tree TREE onto DEST, opened inside the rootfs. */
int gk_idmount_attach(gk_container *c, int rootfd, const gk_mount *m, int tree, gk_error **err)
{
        _cleanup_free_ char *src = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (source_path(c, m, &src, err) < 0)
                return gk_error_code(*err);
        if (fstat(tree, &st) < 0)
                return gk_error_errno(err, "idmapped mount `%s`", m->destination);
        fd = gk_open_in_root(rootfd, m->destination, O_PATH, true, !S_ISDIR(st.st_mode), err);
        if (fd < 0 || gk_mount_dest_check(c, rootfd, fd, m, src, err) < 0)
                return gk_error_code(*err);
        if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return gk_error_errno(err, "idmapped mount `%s` on `%s`", src, m->destination);
        return 0;
}
