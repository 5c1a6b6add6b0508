/* Bundles on disk: create (directories, marker, registration, config.json
 * last) and remove (only what carries gk's marker). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "bundle_internal.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/json.h"
#include "gk/overlay.h"
#include "gk/units.h"
#include "gk/util.h"

int gk_bundle_check_port(const char *spec, gk_error **err)
{
        gk_port_map p;

        if (gk_parse_port_map(spec, strlen(spec), &p) < 0)
                return gk_error_make(err, 0,
                                     "-p `%s`: expected HOST:CONTAINER[/tcp|udp] "
                                     "with ports 1-65535",
                                     spec);
        return 0;
}

/* ROOT/bundles/<sha256 of the bundle's absolute path>.json */
static int registration_path(const char *root, const char *abs, char **out, gk_error **err)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        char hex[2 * EVP_MAX_MD_SIZE + 1];

        if (!EVP_Digest(abs, strlen(abs), md, &len, EVP_sha256(), NULL))
                return gk_error_make(err, 0, "sha256");
        for (unsigned i = 0; i < len; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        if (asprintf(out, "%s/bundles/%s.json", root, hex) < 0)
                return gk_error_make(err, ENOMEM, "bundle");
        return 0;
}

/* The marker and the registration share one format. */
static int bundle_record(const char *abs, const gk_bundle_image *img, bool copy, char **out,
                         gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);

        if (!g)
                return gk_error_make(err, ENOMEM, "bundle");
        yajl_gen_map_open(g);
        gk_json_kint(g, "gkBundle", 1);
        gk_json_kstr(g, "path", abs);
        gk_json_kstr(g, "image", img->ref);
        gk_json_kstr(g, "id", img->id);
        gk_json_kstr(g, "rootfs", copy ? "copy" : "overlay");
        gk_json_str(g, "layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < img->n_layers; i++)
                gk_json_str(g, img->diff_ids[i]);
        yajl_gen_array_close(g);
        /* What gc keeps: the unpacked layers are keyed by chain id. */
        gk_json_str(g, "chains");
        yajl_gen_array_open(g);
        for (size_t i = 0; img->chain_ids && i < img->n_layers; i++)
                gk_json_str(g, img->chain_ids[i]);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, NULL, err);
}

/* DIR made absolute without following its last component. */
static int absolute_dir(const char *dir, char **out, gk_error **err)
{
        _cleanup_free_ char *d1 = strdup(dir), *d2 = strdup(dir);
        char parent[PATH_MAX];
        const char *base;

        if (!d1 || !d2)
                return gk_error_make(err, ENOMEM, "bundle");
        base = basename(d2);
        if (!*base || !strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/"))
                return gk_error_make(err, 0, "bundle directory `%s`: name a new directory", dir);
        if (!realpath(dirname(d1), parent))
                return gk_error_errno(err, "bundle directory `%s`", dir);
        if (asprintf(out, "%s/%s", strcmp(parent, "/") ? parent : "", base) < 0)
                return gk_error_make(err, ENOMEM, "bundle");
        return 0;
}

static void undo_bundle(const char *abs, int bfd, bool created);

/* A bundle gkimg began at ABS and never finished (killed before its
 * config.json, written last): its marker names ABS. */
static bool unfinished_bundle(int fd, const char *abs)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        _cleanup_free_ char *text = NULL;
        const char *path;
        size_t len;

        if (faccessat(fd, "config.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
            gk_read_file_at(fd, GK_BUNDLE_MARKER, &text, &len, NULL) < 0 ||
            gk_json_parse(text, len, GK_BUNDLE_MARKER, &v, NULL) < 0)
                return false;
        path = gk_json_get_str(v, "path");
        return path && !strcmp(path, abs);
}

/* DIR is created, or an existing empty directory is taken, or what an
 * interrupted `gkimg bundle` left there is cleared and taken. */
static int make_bundle_dir(const char *abs, bool *created, gk_error **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd;

        *created = mkdir(abs, 0711) == 0;
        if (!*created && errno != EEXIST)
                return gk_error_errno(err, "create bundle directory `%s`", abs);
        fd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open bundle directory `%s`", abs);
        if (*created)
                return fd;
        if (unfinished_bundle(fd, abs))
                undo_bundle(abs, fd, false);
        d = fdopendir(dup(fd));
        while (d && (de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
                        close(fd);
                        return gk_error_make(err, EEXIST, "bundle directory `%s` is not empty",
                                             abs);
                }
        return fd;
}

/* upper/ is the root of the merged view: it takes the image root's owner
 * and mode (overlayfs shows the topmost layer's root). */
static int make_overlay_dirs(int bfd, int top_fd, gk_error **err)
{
        struct stat st;

        if (fstat(top_fd, &st) < 0)
                return gk_error_errno(err, "stat top layer");
        if (mkdirat(bfd, "rootfs", 0755) < 0 || mkdirat(bfd, "upper", 0755) < 0 ||
            mkdirat(bfd, "work", 0700) < 0)
                return gk_error_errno(err, "bundle: mkdir");
        if (fchownat(bfd, "upper", st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(bfd, "upper", st.st_mode & 07777, 0) < 0)
                return gk_error_errno(err, "bundle: upper");
        return 0;
}

static int overlay_annotation(const gk_bundle_image *img, char **out, gk_error **err)
{
        gk_overlay ov = { .upperdir = "upper", .workdir = "work" };
        int r;

        ov.lowerdirs = calloc(img->n_layers + 1, sizeof(char *));
        if (!ov.lowerdirs)
                return gk_error_make(err, ENOMEM, "overlay");
        for (size_t i = 0; i < img->n_layers; i++)
                ov.lowerdirs[i] = img->layer_dirs[img->n_layers - 1 - i]; /* top first */
        ov.n_lowerdirs = img->n_layers;
        r = gk_overlay_format(&ov, out, err);
        free(ov.lowerdirs);
        return r;
}

static void close_fds(int *fds, size_t n)
{
        for (size_t i = 0; fds && i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        free(fds);
}

/* The layer directories, top first. */
static int open_layers(const gk_bundle_image *img, int **out, gk_error **err)
{
        int *fds = malloc((img->n_layers + 1) * sizeof(int));

        if (!fds)
                return gk_error_make(err, ENOMEM, "layers");
        for (size_t i = 0; i < img->n_layers; i++) {
                const char *path = img->layer_dirs[img->n_layers - 1 - i];

                fds[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fds[i] < 0) {
                        int r = gk_error_errno(err, "layer `%s`", path);

                        close_fds(fds, i);
                        return r;
                }
        }
        *out = fds;
        return 0;
}

static int write_in(int bfd, const char *abs, const char *name, const char *text, mode_t mode,
                    bool durable, gk_error **err)
{
        _cleanup_free_ char *path = NULL;

        (void) bfd;
        if (asprintf(&path, "%s/%s", abs, name) < 0)
                return gk_error_make(err, ENOMEM, "bundle");
        return gk_write_file_atomic(path, text, strlen(text), mode, durable, err);
}

static int make_copy_rootfs(int bfd, const int *top_first, size_t n, gk_error **err)
{
        _cleanup_close_ int rfd = -1;
        _cleanup_free_ int *bottom_first = malloc((n + 1) * sizeof(int));

        if (!bottom_first)
                return gk_error_make(err, ENOMEM, "copy");
        for (size_t i = 0; i < n; i++)
                bottom_first[i] = top_first[n - 1 - i];
        if (mkdirat(bfd, "rootfs", 0755) < 0)
                return gk_error_errno(err, "bundle: mkdir rootfs");
        rfd = openat(bfd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (rfd < 0)
                return gk_error_errno(err, "bundle: open rootfs");
        return gk_flatten_layers(bottom_first, n, rfd, err);
}

static int fill_bundle(int bfd, const char *abs, const gk_bundle_image *img,
                       const gk_bundle_opts *o, const int *fds, gk_error **err)
{
        _cleanup_free_ char *record = NULL, *overlay = NULL, *config = NULL;
        _cleanup_(gk_json_freep) yajl_val root = NULL;
        _cleanup_strv_ char **volumes = NULL;
        gk_bundle_build b = { .img = img, .o = o, .fds = fds, .nfds = img->n_layers, .abs = abs };

        if (bundle_record(abs, img, o->copy, &record, err) < 0 ||
            write_in(bfd, abs, GK_BUNDLE_MARKER, record, 0644, false, err) < 0)
                return gk_error_code_or(err, -EIO);
        GK_FAULT("bundle.after-marker");
        if (o->copy) {
                if (make_copy_rootfs(bfd, fds, img->n_layers, err) < 0)
                        return gk_error_code_or(err, -EIO);
        } else if (make_overlay_dirs(bfd, fds[0], err) < 0 ||
                   overlay_annotation(img, &overlay, err) < 0) {
                return gk_error_code_or(err, -EIO);
        }
        GK_FAULT("bundle.after-rootfs");
        if (gk_json_parse(img->config, img->config_len, "image config", &root, err) < 0 ||
            gk_bundle_volume_paths(gk_json_get(root, "config"), o, &volumes, err) < 0 ||
            gk_bundle_make_volumes(bfd, volumes, fds, img->n_layers, err) < 0)
                return gk_error_code_or(err, -EIO);
        b.volumes = volumes;
        b.overlay_json = overlay;
        if (gk_bundle_build_spec(&b, &config, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        /* Last, and durable: its presence is what makes the bundle
         * runnable. */
        return write_in(bfd, abs, "config.json", config, 0644, true, err);
}

static int register_bundle(const char *root, const char *abs, const gk_bundle_image *img,
                           bool copy, char **reg, gk_error **err)
{
        _cleanup_free_ char *dir = NULL, *record = NULL;

        if (asprintf(&dir, "%s/bundles", root) < 0)
                return gk_error_make(err, ENOMEM, "bundle");
        if (gk_mkdir_p(dir, 0700, err) < 0 || registration_path(root, abs, reg, err) < 0 ||
            bundle_record(abs, img, copy, &record, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_write_file_atomic(*reg, record, strlen(record), 0600, false, err);
}

static void undo_bundle(const char *abs, int bfd, bool created)
{
        static const char *const made[] = { "config.json", GK_BUNDLE_MARKER, "rootfs",
                                            "upper",       "work",           GK_BUNDLE_VOLUMES };

        if (created) {
                gk_rm_rf_at(AT_FDCWD, abs, NULL);
                return;
        }
        for (size_t i = 0; i < ARRAY_SIZE(made); i++)
                gk_rm_rf_at(bfd, made[i], NULL);
}

int gk_bundle_create(const char *root, const char *dir, const gk_bundle_image *img,
                     const gk_bundle_opts *o, gk_error **err)
{
        _cleanup_free_ char *abs = NULL, *reg = NULL;
        _cleanup_close_ int bfd = -1;
        int *fds = NULL;
        bool created = false;
        int r;

        if (img->n_layers == 0)
                return gk_error_make(err, 0, "image `%s` has no layers", img->ref);
        if (absolute_dir(dir, &abs, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (open_layers(img, &fds, err) < 0)
                return gk_error_code_or(err, -EIO);
        bfd = make_bundle_dir(abs, &created, err);
        if (bfd < 0) {
                close_fds(fds, img->n_layers);
                return bfd;
        }
        GK_FAULT("bundle.after-dir");
        r = register_bundle(root, abs, img, o->copy, &reg, err);
        if (r >= 0) {
                GK_FAULT("bundle.after-register");
                r = fill_bundle(bfd, abs, img, o, fds, err);
        }
        if (r >= 0)
                GK_FAULT("bundle.after-config");
        close_fds(fds, img->n_layers);
        if (r < 0) {
                undo_bundle(abs, bfd, created);
                if (reg)
                        unlink(reg);
                return gk_error_wrap(err, "bundle `%s`", dir);
        }
        return 0;
}

static int check_marker(int bfd, const char *dir, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        int64_t ver = 0;
        size_t len;

        if (gk_read_file_at(bfd, GK_BUNDLE_MARKER, &text, &len, NULL) < 0)
                return gk_error_make(err, 0, "`%s` is not a gk bundle (no %s): not removed", dir,
                                     GK_BUNDLE_MARKER);
        if (gk_json_parse(text, len, GK_BUNDLE_MARKER, &v, err) < 0 ||
            !gk_json_int64(gk_json_get(v, "gkBundle"), &ver) || ver != 1)
                return gk_error_make(err, 0, "`%s` is not a gk bundle (bad %s): not removed", dir,
                                     GK_BUNDLE_MARKER);
        return 0;
}

int gk_bundle_remove(const char *root, const char *dir, gk_error **err)
{
        _cleanup_free_ char *abs = NULL, *reg = NULL, *rootfs = NULL;
        _cleanup_close_ int bfd = -1;
        struct stat bst, rst;

        if (absolute_dir(dir, &abs, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        bfd = open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (bfd < 0)
                return gk_error_errno(err, "bundle `%s`", dir);
        if (check_marker(bfd, dir, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        /* gkrun mounts inside the container; a rootfs mounted on the host
         * (by hand, or by another runtime) would stop the removal. */
        if (asprintf(&rootfs, "%s/rootfs", abs) < 0)
                return gk_error_make(err, ENOMEM, "unbundle");
        if (fstat(bfd, &bst) == 0 && fstatat(bfd, "rootfs", &rst, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(rst.st_mode) && rst.st_dev != bst.st_dev &&
            umount2(rootfs, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                return gk_error_errno(err, "unmount `%s`", rootfs);
        if (gk_rm_rf_at(AT_FDCWD, abs, err) < 0)
                return gk_error_wrap(err, "unbundle `%s`", dir);
        if (registration_path(root, abs, &reg, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (unlink(reg) < 0 && errno != ENOENT)
                return gk_error_errno(err, "unbundle: `%s`", reg);
        return 0;
}
