/* The global flags (gkrun --root, --log, --systemd-cgroup, ...) as every
 * command passes them down to container/: where the state directories are,
 * how cgroups are made, and main's printer for warnings.  Parsed by
 * cmd/main.c; here so that container/ needs nothing of cmd/. */
#ifndef GK_RUNTIME_MODEL_GLOBAL_H
#define GK_RUNTIME_MODEL_GLOBAL_H

#include <stdbool.h>

typedef struct gk_global {
        const char *root;     /* --root, default /run/gkrun (a user's: XDG_RUNTIME_DIR/gkrun) */
        const char *log_path; /* --log */
        bool log_json;        /* --log-format json */
        bool debug;
        bool systemd_cgroup;
        int rootless; /* -1 auto, 0, 1 */
        /* gkrun itself runs in a user namespace other than the initial one
         * (root of rootless podman's): as runc, rootless though euid is 0 */
        bool in_userns;
        char **argv; /* main's, to re-execute (selfclone.h) */
        /* main's printer for what fails without failing the command (a
         * poststart or poststop hook): stderr and the --log file */
        void (*warn)(const struct gk_global *g, const char *msg);
} gk_global;

#endif
