/* libcriu, loaded with dlopen() by checkpoint and restore only
 * (gk/dlfwd.h): every other command neither maps it nor the protobuf-c
 * it pulls in, and a gkrun built where CRIU is not installed still has
 * both commands.  libcriu talks CRIU's RPC to a `criu swrk` that
 * criu_req.c starts (libcriu's own fork of it cannot run in a static
 * gkrun). */
#include <errno.h>
#include <stddef.h>

#include "criu/criu.h"
#include "criu/libcriu.h"
#include "gk/dlfwd.h"

#define O criu_opts
#define CALLS(X)                                                                                \
        X(int, -ELIBACC, criu_local_init_opts, (O * *o), (o))                                   \
        X(int, -ELIBACC, criu_local_set_parent_images, (O * o, const char *p), (o, p))          \
        X(int, -ELIBACC, criu_local_set_log_file, (O * o, const char *p), (o, p))               \
        X(int, -ELIBACC, criu_local_set_root, (O * o, const char *p), (o, p))                   \
        X(int, -ELIBACC, criu_local_set_freeze_cgroup, (O * o, const char *p), (o, p))          \
        X(int, -ELIBACC, criu_local_set_lsm_profile, (O * o, const char *p), (o, p))            \
        X(int, -ELIBACC, criu_local_set_lsm_mount_context, (O * o, const char *p), (o, p))      \
        X(int, -ELIBACC, criu_local_add_ext_mount, (O * o, const char *k, const char *v),       \
          (o, k, v))                                                                            \
        X(int, -ELIBACC, criu_local_add_cg_root, (O * o, const char *c, const char *p),         \
          (o, c, p))                                                                            \
        X(int, -ELIBACC, criu_local_add_inherit_fd, (O * o, int fd, const char *k), (o, fd, k)) \
        X(int, -ELIBACC, criu_local_add_external, (O * o, const char *k), (o, k))               \
        X(int, 0, criu_notify_pid, (criu_notify_arg_t na), (na))                                \
        X(int, -1, criu_get_orphan_pts_master_fd, (void), ())                                   \
        X(int, -ELIBACC, criu_local_check, (O * o), (o))                                        \
        X(int, -ELIBACC, criu_local_dump, (O * o), (o))                                         \
        X(int, -ELIBACC, criu_local_pre_dump, (O * o), (o))                                     \
        X(int, -ELIBACC, criu_local_restore, (O * o), (o))                                      \
        X(int, -ELIBACC, criu_local_get_version, (O * o), (o))

#define VOID_CALLS(X)                                                 \
        X(criu_local_free_opts, (O * o), (o))                         \
        X(criu_local_set_pid, (O * o, int pid), (o, pid))             \
        X(criu_local_set_service_fd, (O * o, int fd), (o, fd))        \
        X(criu_local_set_images_dir_fd, (O * o, int fd), (o, fd))     \
        X(criu_local_set_work_dir_fd, (O * o, int fd), (o, fd))       \
        X(criu_local_set_leave_running, (O * o, bool v), (o, v))      \
        X(criu_local_set_ext_unix_sk, (O * o, bool v), (o, v))        \
        X(criu_local_set_tcp_established, (O * o, bool v), (o, v))    \
        X(criu_local_set_shell_job, (O * o, bool v), (o, v))          \
        X(criu_local_set_file_locks, (O * o, bool v), (o, v))         \
        X(criu_local_set_track_mem, (O * o, bool v), (o, v))          \
        X(criu_local_set_auto_dedup, (O * o, bool v), (o, v))         \
        X(criu_local_set_orphan_pts_master, (O * o, bool v), (o, v))  \
        X(criu_local_set_log_level, (O * o, int l), (o, l))           \
        X(criu_local_set_manage_cgroups, (O * o, bool v), (o, v))     \
        X(criu_local_set_manage_cgroups_mode, (O * o, int m), (o, m)) \
        X(criu_local_set_notify_cb, (O * o, criu_notify_fn cb), (o, cb))

#define VARIADIC GK_DL_NONE

GK_DL_LIBRARY("libcriu.so.2", "for checkpoint and restore")
GK_DL_FORWARDERS

int gk_criu_load(const char *verb, gk_error **err)
{
        if (ready())
                return 0;
        return gk_error_plain(err, ELIBACC, "%s: CRIU is not installed (%s)", verb, lib.error);
}
