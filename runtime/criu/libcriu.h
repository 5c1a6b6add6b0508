/* The part of libcriu's API (criu/criu.h, CRIU 3.15 and later) that
 * checkpoint and restore use, declared here so that building gkrun needs
 * no CRIU headers (and no protobuf-c ones, which criu.h includes): the
 * library is dlopen()ed at run time (criu_dl.c).  Every call is the
 * criu_local_* form, on an options object of our own. */
#ifndef GK_RUNTIME_LIBCRIU_H
#define GK_RUNTIME_LIBCRIU_H

#include <stdbool.h>

typedef struct criu_opts criu_opts;
/* CriuNotify *: read only through criu_notify_pid */
typedef struct _CriuNotify *criu_notify_arg_t;
typedef int (*criu_notify_fn)(char *action, criu_notify_arg_t na);

/* enum criu_cg_mode */
enum {
        GK_CRIU_CG_IGNORE = 0,
        GK_CRIU_CG_SOFT = 3,
        GK_CRIU_CG_FULL = 4,
        GK_CRIU_CG_STRICT = 5,
};

int criu_local_init_opts(criu_opts **opts);
void criu_local_free_opts(criu_opts *opts);
void criu_local_set_service_fd(criu_opts *opts, int fd);
void criu_local_set_pid(criu_opts *opts, int pid);
void criu_local_set_images_dir_fd(criu_opts *opts, int fd);
void criu_local_set_work_dir_fd(criu_opts *opts, int fd);
int criu_local_set_parent_images(criu_opts *opts, const char *path);
void criu_local_set_leave_running(criu_opts *opts, bool val);
void criu_local_set_ext_unix_sk(criu_opts *opts, bool val);
void criu_local_set_tcp_established(criu_opts *opts, bool val);
void criu_local_set_shell_job(criu_opts *opts, bool val);
void criu_local_set_file_locks(criu_opts *opts, bool val);
void criu_local_set_track_mem(criu_opts *opts, bool val);
void criu_local_set_auto_dedup(criu_opts *opts, bool val);
int criu_local_set_lsm_profile(criu_opts *opts, const char *name);
int criu_local_set_lsm_mount_context(criu_opts *opts, const char *name);
void criu_local_set_orphan_pts_master(criu_opts *opts, bool val);
void criu_local_set_log_level(criu_opts *opts, int level);
int criu_local_set_log_file(criu_opts *opts, const char *name);
int criu_local_set_root(criu_opts *opts, const char *root);
void criu_local_set_manage_cgroups(criu_opts *opts, bool val);
void criu_local_set_manage_cgroups_mode(criu_opts *opts, int mode);
int criu_local_set_freeze_cgroup(criu_opts *opts, const char *name);
int criu_local_add_ext_mount(criu_opts *opts, const char *key, const char *val);
int criu_local_add_cg_root(criu_opts *opts, const char *ctrl, const char *path);
int criu_local_add_inherit_fd(criu_opts *opts, int fd, const char *key);
int criu_local_add_external(criu_opts *opts, const char *key);
void criu_local_set_notify_cb(criu_opts *opts, criu_notify_fn cb);
int criu_notify_pid(criu_notify_arg_t na);
int criu_get_orphan_pts_master_fd(void);
int criu_local_check(criu_opts *opts);
int criu_local_dump(criu_opts *opts);
int criu_local_pre_dump(criu_opts *opts);
int criu_local_restore(criu_opts *opts);
int criu_local_get_version(criu_opts *opts);

#endif
