/* The org.gk.rootfs.overlay annotation: parse, format, and mount it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/overlay.h"

void gk_overlay_free(gk_overlay *ov)
{
        if (!ov)
                return;
        gk_strvfree(ov->lowerdirs);
        free(ov->upperdir);
        free(ov->workdir);
        free(ov);
}

void gk_overlay_freep(gk_overlay **ov)
{
        gk_overlay_free(*ov);
}

static int parse_dir(yajl_val root, const char *key, const char *what, char **out, gk_error **err)
{
        yajl_val v = gk_json_get(root, key);
        const char *s = YAJL_GET_STRING(v);

        if (!v || YAJL_IS_NULL(v))
                return 0;
        if (!s || !*s)
                return gk_error_make(err, 0, "%s: %s: must be a non-empty string", what, key);
        *out = strdup(s);
        return *out ? 0 : gk_error_make(err, ENOMEM, "%s", what);
}

static int parse_lowers(yajl_val root, const char *what, gk_overlay *ov, gk_error **err)
{
        yajl_val v = gk_json_get(root, "lowerdir");

        if (!v || !YAJL_IS_ARRAY(v) || v->u.array.len == 0)
                return gk_error_make(err, 0, "%s: lowerdir: must be a non-empty array", what);
        ov->lowerdirs = calloc(v->u.array.len + 1, sizeof(char *));
        if (!ov->lowerdirs)
                return gk_error_make(err, ENOMEM, "%s", what);
        for (size_t i = 0; i < v->u.array.len; i++) {
                const char *s = YAJL_GET_STRING(v->u.array.values[i]);

                if (!s || s[0] != '/')
                        return gk_error_make(err, 0, "%s: lowerdir[%zu]: must be an absolute path",
                                             what, i);
                ov->lowerdirs[i] = strdup(s);
                if (!ov->lowerdirs[i])
                        return gk_error_make(err, ENOMEM, "%s", what);
                ov->n_lowerdirs++;
        }
        return 0;
}

int gk_overlay_parse(const char *json, const char *what, gk_overlay **out, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val root = NULL;
        _cleanup_(gk_overlay_freep) gk_overlay *ov = NULL;

        if (!json)
                return gk_error_make(err, 0, "%s: missing", what);
        if (gk_json_parse(json, strlen(json), what, &root, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (!YAJL_IS_OBJECT(root))
                return gk_error_make(err, 0, "%s: must be a JSON object", what);
        ov = calloc(1, sizeof(*ov));
        if (!ov)
                return gk_error_make(err, ENOMEM, "%s", what);
        if (parse_lowers(root, what, ov, err) < 0 ||
            parse_dir(root, "upperdir", what, &ov->upperdir, err) < 0 ||
            parse_dir(root, "workdir", what, &ov->workdir, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (!ov->upperdir != !ov->workdir)
                return gk_error_make(err, 0, "%s: upperdir and workdir go together", what);
        *out = TAKE_PTR(ov);
        return 0;
}

int gk_overlay_format(const gk_overlay *ov, char **out, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);

        if (!g)
                return gk_error_make(err, ENOMEM, "overlay annotation");
        yajl_gen_map_open(g);
        gk_json_str(g, "lowerdir");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < ov->n_lowerdirs; i++)
                gk_json_str(g, ov->lowerdirs[i]);
        yajl_gen_array_close(g);
        if (ov->upperdir) {
                gk_json_kstr(g, "upperdir", ov->upperdir);
                gk_json_kstr(g, "workdir", ov->workdir);
        }
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, NULL, err);
}

/* ---- mounting ---- */

/* The open layer directories, kept open until the mount exists so the
 * kernel resolves exactly what was opened. */
typedef struct ovl_fds {
        int *lower;
        size_t n;
        int upper, work;
        bool proc; /* /proc/self/fd/N names work */
} ovl_fds;

static void ovl_fds_close(ovl_fds *f)
{
        for (size_t i = 0; i < f->n; i++)
                if (f->lower[i] >= 0)
                        close(f->lower[i]);
        free(f->lower);
        if (f->upper >= 0)
                close(f->upper);
        if (f->work >= 0)
                close(f->work);
}

static int open_dir(int at, const char *path, gk_error **err)
{
        int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return gk_error_errno(err, "overlay: open `%s`", path);
        return fd;
}

static int ovl_fds_open(const gk_overlay *ov, int bundle_fd, ovl_fds *f, gk_error **err)
{
        *f = (ovl_fds){ .upper = -1, .work = -1 };
        f->lower = malloc(ov->n_lowerdirs * sizeof(int));
        if (!f->lower)
                return gk_error_make(err, ENOMEM, "overlay");
        for (; f->n < ov->n_lowerdirs; f->n++) {
                f->lower[f->n] = open_dir(AT_FDCWD, ov->lowerdirs[f->n], err);
                if (f->lower[f->n] < 0)
                        return f->lower[f->n];
        }
        if (ov->upperdir) {
                f->upper = open_dir(bundle_fd, ov->upperdir, err);
                if (f->upper < 0)
                        return f->upper;
                f->work = open_dir(bundle_fd, ov->workdir, err);
                if (f->work < 0)
                        return f->work;
        }
        f->proc = access("/proc/self/fd", X_OK) == 0;
        return 0;
}

/* A short name for an open directory: with /proc, "/proc/self/fd/N" (which
 * is how many layers fit in one page of mount options on old kernels),
 * else the path itself. */
static const char *fd_name(const ovl_fds *f, int fd, const char *path, char *buf, size_t size)
{
        if (!f->proc)
                return path;
        snprintf(buf, size, "/proc/self/fd/%d", fd);
        return buf;
}

/* The kernel's own explanation, from the filesystem context's log. */
static int fs_fail(int fsfd, int errnum, const char *step, gk_error **err)
{
        char log[512] = "", line[256];
        ssize_t n;

        while ((n = read(fsfd, line, sizeof(line) - 1)) > 0) {
                line[n] = '\0';
                if (n > 2 && line[1] == ' ')
                        snprintf(log, sizeof(log), ": %s", line + 2);
        }
        return gk_error_make(err, errnum, "mount overlay: %s%s", step,
                             *log ? log : " (the kernel log may say why)");
}

enum how { BY_FD, BY_NAME };

static int set_dir(int fsfd, const char *key, enum how how, const ovl_fds *f, int fd,
                   const char *path)
{
        char buf[64];

        if (how == BY_FD)
                return fsconfig(fsfd, FSCONFIG_SET_FD, key, NULL, fd);
        return fsconfig(fsfd, FSCONFIG_SET_STRING, key, fd_name(f, fd, path, buf, sizeof(buf)), 0);
}

/* 1: this kernel does not take layers this way (try the next way). */
static int mount_new_api(const gk_overlay *ov, const ovl_fds *f, int target_fd, enum how how,
                         gk_error **err)
{
        _cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
        _cleanup_close_ int mfd = -1;

        if (fsfd < 0) {
                if (errno == ENOSYS)
                        return 1;
                return gk_error_errno(err, "mount overlay: fsopen (is overlayfs available?)");
        }
        for (size_t i = 0; i < f->n; i++) {
                if (set_dir(fsfd, "lowerdir+", how, f, f->lower[i], ov->lowerdirs[i]) == 0)
                        continue;
                if (i == 0 && errno == EINVAL)
                        return 1;
                return fs_fail(fsfd, errno, ov->lowerdirs[i], err);
        }
        if (ov->upperdir && (set_dir(fsfd, "upperdir", how, f, f->upper, ov->upperdir) < 0 ||
                             set_dir(fsfd, "workdir", how, f, f->work, ov->workdir) < 0)) {
                if (how == BY_FD && errno == EINVAL)
                        return 1;
                return fs_fail(fsfd, errno, ov->upperdir, err);
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return fs_fail(fsfd, errno, "create", err);
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
        if (mfd < 0)
                return fs_fail(fsfd, errno, "fsmount", err);
        if (move_mount(mfd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
            0)
                return gk_error_errno(err, "mount overlay: move_mount onto the root");
        return 0;
}

static bool opt_safe(const char *s)
{
        return !strpbrk(s, ",:\\");
}

/* mount(2): every option in one page, so layers go by their short
 * /proc/self/fd names. */
static int mount_legacy(const gk_overlay *ov, const ovl_fds *f, int target_fd, gk_error **err)
{
        size_t cap = (size_t) sysconf(_SC_PAGESIZE), len = 0;
        _cleanup_free_ char *data = malloc(cap);
        char buf[64], target[64];
        int n;

        if (!data)
                return gk_error_make(err, ENOMEM, "overlay");
        for (size_t i = 0; i < f->n; i++) {
                const char *name = fd_name(f, f->lower[i], ov->lowerdirs[i], buf, sizeof(buf));

                if (!opt_safe(name))
                        return gk_error_make(err, 0, "mount overlay: `%s`: `,` `:` `\\` in a path",
                                             name);
                n = snprintf(data + len, cap - len, "%s%s", i ? ":" : "lowerdir=", name);
                if (n < 0 || (size_t) n >= cap - len)
                        goto too_long;
                len += (size_t) n;
        }
        if (ov->upperdir) {
                char wbuf[64];
                const char *u = fd_name(f, f->upper, ov->upperdir, buf, sizeof(buf));
                const char *w = fd_name(f, f->work, ov->workdir, wbuf, sizeof(wbuf));

                if (!opt_safe(u) || !opt_safe(w))
                        return gk_error_make(err, 0,
                                             "mount overlay: `,` `:` `\\` in upperdir or workdir");
                n = snprintf(data + len, cap - len, ",upperdir=%s,workdir=%s", u, w);
                if (n < 0 || (size_t) n >= cap - len)
                        goto too_long;
        }
        snprintf(target, sizeof(target), "/proc/self/fd/%d", target_fd);
        if (mount("overlay", target, "overlay", 0, data) < 0)
                return gk_error_errno(err, "mount overlay (%zu layers)", f->n);
        return 0;
too_long:
        return gk_error_make(err, E2BIG,
                             "mount overlay: %zu layers do not fit in the mount options", f->n);
}

int gk_overlay_mount(const gk_overlay *ov, int bundle_fd, int target_fd, unsigned flags,
                     gk_error **err)
{
        ovl_fds f;
        int r = 1;

        if (ovl_fds_open(ov, bundle_fd, &f, err) < 0) {
                ovl_fds_close(&f);
                return gk_error_code_or(err, -EIO);
        }
        if (!(flags & GK_OVERLAY_LEGACY)) {
                r = mount_new_api(ov, &f, target_fd, BY_FD, err);
                if (r == 1)
                        r = mount_new_api(ov, &f, target_fd, BY_NAME, err);
        }
        if (r == 1)
                r = mount_legacy(ov, &f, target_fd, err);
        ovl_fds_close(&f);
        return r;
}

int gk_overlay_mount_from_annotation(const char *value, int bundle_fd, int target_fd,
                                     gk_error **err)
{
        _cleanup_(gk_overlay_freep) gk_overlay *ov = NULL;
        const char *legacy = getenv("GK_TEST_OVERLAY_LEGACY");
        unsigned flags = legacy && !strcmp(legacy, "1") ? GK_OVERLAY_LEGACY : 0;

        if (gk_overlay_parse(value, "annotation " GK_OVERLAY_ANNOTATION, &ov, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        return gk_overlay_mount(ov, bundle_fd, target_fd, flags, err);
}
