/* Writing and removing OCI bundles of an image whose layers are unpacked
 * in the store (see unpack.h).
 *
 * A bundle made here holds:
 *   config.json      from gk_spec_default() plus the image config and flags
 *   rootfs/          empty (overlay mode: gkrun mounts the overlay on it
 *                    inside the container, see gk/overlay.h), or a plain
 *                    copy of the image (--copy)
 *   upper/ work/     the overlay's writable layer (overlay mode)
 *   volumes/N        an anonymous volume per path the image declares in
 *                    Volumes, bound there (bundle_volumes.c)
 *   gk-bundle.json   what unbundle checks before removing anything
 * config.json is written last, so a bundle interrupted half-way is never
 * runnable.  The store keeps ROOT/bundles/<sha256 of DIR>.json naming the
 * layers each live bundle uses, so gc can keep them. */
#ifndef GK_IMGTOOL_BUNDLE_H
#define GK_IMGTOOL_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gk/error.h"

#define GK_BUNDLE_MARKER "gk-bundle.json"

typedef struct gk_bundle_opts {
        bool copy; /* a plain rootfs directory instead of an overlay */
        bool has_mem, has_cpus, has_pids;
        int64_t mem;         /* bytes */
        uint64_t cpu_millis; /* --cpus 1.5 = 1500 */
        int64_t pids;
        const char *net; /* NULL, "none", "host" or "bridge" */
        char **ports;    /* -p HOST:CTR[/proto], checked */
        char **env;      /* --env K=V */
        const char *workdir, *user, *hostname;
        bool tty;
        char **cmd;                 /* after --: replaces the image's Cmd */
        char **cap_add, **cap_drop; /* names with or without CAP_, or ALL */
        const char *seccomp;        /* NULL: the default profile; "unconfined"; a file */
        bool no_new_privs;
        bool read_only; /* the rootfs */
        char **tmpfs;   /* --tmpfs PATH[:OPTS] */
        char **binds;   /* -v HOST:CTR[:OPTS] */
} gk_bundle_opts;

typedef struct gk_bundle_image {
        const char *ref;    /* as the user wrote it */
        const char *id;     /* the config's digest */
        const char *config; /* the image config JSON */
        size_t config_len;
        char **layer_dirs; /* unpacked layers, bottom first (manifest order) */
        char **diff_ids;
        char **chain_ids; /* their keys in the layer store (recorded for gc) */
        size_t n_layers;
} gk_bundle_image;

/* Parses "-p HOST:CTR[/tcp|udp]" strictly (ports 1-65535). */
int gk_bundle_check_port(const char *spec, gk_error **err);

/* Writes a bundle into DIR (created; an existing DIR must be empty). */
int gk_bundle_create(const char *root, const char *dir, const gk_bundle_image *img,
                     const gk_bundle_opts *o, gk_error **err);

/* Removes the bundle DIR and all it holds; refuses a directory without
 * gk's marker. */
int gk_bundle_remove(const char *root, const char *dir, gk_error **err);

/* The user of USER_SPEC ("name", "uid", "name:group", "uid:gid", ...)
 * resolved the way docker does through the image's /etc/passwd and
 * /etc/group read from LAYER_FDS (top first).  *home is the passwd home
 * (or "/"); *gids the supplementary groups listing the user by name. */
typedef struct gk_bundle_user {
        uid_t uid;
        gid_t gid;
        gid_t *gids;
        size_t n_gids;
        char *home;
} gk_bundle_user;

int gk_bundle_resolve_user(const int *layer_fds, size_t n, const char *user_spec,
                           gk_bundle_user *out, gk_error **err);
void gk_bundle_user_clear(gk_bundle_user *u);

#endif
