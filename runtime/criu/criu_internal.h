/* What checkpoint and restore share: one libcriu request's options, its
 * directories and log, the reason of a failure, the external mounts. */
#ifndef GK_RUNTIME_CRIU_INTERNAL_H
#define GK_RUNTIME_CRIU_INTERNAL_H

#include <stdbool.h>

#include "criu/criu.h"
#include "criu/libcriu.h"
#include "gk/spec.h"

/* runc's key for a network namespace joined by path: the same images
 * restore under either runtime. */
#define GK_CRIU_EXT_NETNS "extRootNetNS"
#define GK_CRIU_DESCRIPTORS "descriptors.json"

typedef struct gk_criu_req {
        const char *verb;     /* "checkpoint" or "restore", for messages */
        const char *log_name; /* dump.log, restore.log */
        char *log_dir;        /* the work path, or the image path */
        char *config;         /* a CRIU config file of ours there, or NULL */
        criu_opts *opts;
        int image_fd, work_fd;
} gk_criu_req;

/* Loads libcriu, opens (MKDIR: makes) the image path and the work path
 * and sets up the log there. */
int gk_criu_req_open(gk_criu_req *q, const char *verb, const char *log_name,
                     const gk_criu_flags *f, bool mkdir_images, gk_error **err);
void gk_criu_req_close(gk_criu_req *q);

/* FN(opts): one libcriu request, to a `criu swrk` started for it.  An
 * error is filled only when swrk could not be started; FN's own
 * failure is returned as is (gk_criu_fail tells why). */
int gk_criu_call(gk_criu_req *q, int (*fn)(criu_opts *), gk_error **err);

/* The options both commands take (tcp, unix sockets, cgroups, ...). */
void gk_criu_req_common(gk_criu_req *q, const gk_criu_flags *f, bool terminal);

/* The error of a failed request R ("dump"): CRIU's own reason, the last
 * error of its log, and whether CRIU can run on this host at all (a
 * `criu check` through libcriu). */
int gk_criu_fail(gk_criu_req *q, const char *what, int r, gk_error **err);

/* The mounts whose source is outside the container, named to CRIU: at
 * dump by their place in the container, at restore mapped to their
 * source now.  CGROUP2_DIR is the container's cgroup2 directory at
 * restore (or NULL). */
int gk_criu_mounts_dump(gk_criu_req *q, const gk_spec *spec, gk_error **err);
int gk_criu_mounts_restore(gk_criu_req *q, const gk_spec *spec, const char *bundle,
                           const char *cgroup2_dir, gk_error **err);

/* The config's mountpoints made in the rootfs at ROOT, as create makes
 * them: CRIU mounts on what is there, and a rootfs fresh from the image
 * (podman's --import, containerd's restore in a new snapshot) lacks those
 * create made (a bind's file like /run/.containerenv, a volume's dir). */
int gk_criu_mountpoints(const gk_spec *spec, const char *bundle, const char *root, gk_error **err);

#endif
