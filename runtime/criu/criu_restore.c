/* gkrun restore: a new container from CRIU images and a bundle.  Its
 * cgroup is made again with the config's limits and CRIU puts the
 * restored processes there; the rootfs is bind-mounted where CRIU builds
 * the mount namespace from; the state is written for the restored init
 * (its new pid, running).  Hooks: prestart and createRuntime once CRIU
 * has made the namespaces (as runc), poststart once it runs; the
 * createContainer and startContainer hooks, which run in the container
 * before its process starts, do not apply to a process that goes on. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container/container.h"
#include "container/destroy.h"
#include "container/state.h"
#include "criu/criu_internal.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "spawn/console.h"
#include "spawn/signals.h"
#include "spawn/spawn.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

typedef struct restore {
        gk_container c;
        const gk_criu_flags *f;
        gk_state st;
        char *cg_text;
        char cg2_dir[PATH_MAX]; /* the cgroup2 directory, or "" */
        char cg_rel[PATH_MAX];  /* its path below the hierarchy's mount */
        char *criu_root;        /* STATE/ID/criu-root while restoring */
        int netns_fd;
        gk_error *notify_err;
} restore;

/* libcriu's notify callback takes no argument of ours */
static restore *current;

static int cg2_dir(const char *mnt, const char *dir, void *arg)
{
        restore *x = arg;
        struct statfs sf;

        if (!x->cg_rel[0] || (statfs(mnt, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)) {
                snprintf(x->cg_rel, sizeof(x->cg_rel), "%s", dir + strlen(mnt));
                if (statfs(mnt, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                        snprintf(x->cg2_dir, sizeof(x->cg2_dir), "%s", dir);
        }
        return 0;
}

static int save(restore *x, gk_error **err)
{
        x->st.cgroup = x->cg_text;
        return gk_state_save(x->c.g->root, &x->st, err);
}

/* The cgroup, made with its limits before CRIU runs (its soft mode then
 * leaves their values alone), and the state that names it. */
static int make_cgroup(restore *x, gk_error **err)
{
        gk_container *c = &x->c;
        const gk_linux *l = &c->spec->linux;

        if (gk_cgroup_plan(c->id, l->cgroups_path, l->resources.present ? &l->resources : NULL,
                           c->g->systemd_cgroup, &c->cg, err) < 0 ||
            gk_cgroup_make_early(c->cg, err) < 0 || gk_cgroup_make_late(c->cg, err) < 0 ||
            gk_cgroup_to_string(c->cg, &x->cg_text, err) < 0)
                return gk_error_wrap(err, "restore");
        gk_cgroup_each_dir(c->cg, cg2_dir, x);
        gk_container_fill_state(c, &x->st);
        return save(x, err);
}

/* CRIU makes the mount namespace under a root that must be a mount
 * point: the rootfs bound at STATE/ID/criu-root.  A slave, not private:
 * nothing of it reaches the host's other mounts, yet a container root
 * dumped as the slave of a host mount (a rootfs under a shared mount, as
 * containerd's shim makes) is given that master again, which CRIU copies
 * from this mount (move_mount's set-group refuses a private source). */
static int bind_root(restore *x, gk_error **err)
{
        x->criu_root = gk_state_path(x->c.g->root, x->c.id, "criu-root");
        if (!x->criu_root)
                return gk_error_make(err, ENOMEM, "restore");
        if (mkdir(x->criu_root, 0755) < 0)
                return gk_error_errno(err, "restore: `%s`", x->criu_root);
        if (mount(x->c.rootfs, x->criu_root, NULL, MS_BIND | MS_REC, NULL) < 0 ||
            mount(NULL, x->criu_root, NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return gk_error_errno(err, "restore: bind rootfs `%s`", x->c.rootfs);
        return 0;
}

static void unbind_root(restore *x)
{
        if (!x->criu_root)
                return;
        umount2(x->criu_root, MNT_DETACH);
        rmdir(x->criu_root);
        free(x->criu_root);
        x->criu_root = NULL;
}

static int run_hooks(restore *x, pid_t pid, const gk_hook_list *hooks, const char *what,
                     enum gk_status as, gk_error **err)
{
        _cleanup_free_ char *json = NULL;

        if (!hooks->n)
                return 0;
        x->st.pid = pid;
        if (gk_state_to_oci_json_as(&x->st, as, &json, err) < 0 ||
            gk_hooks_run(hooks, what, json, err) < 0)
                return gk_error_code(*err);
        return 0;
}

static int send_console(restore *x, gk_error **err)
{
        _cleanup_close_ int sock = -1;
        int master = criu_get_orphan_pts_master_fd();

        if (!x->f->console_socket || master < 0)
                return 0;
        sock = gk_spawn_console_connect(x->f->console_socket, err);
        if (sock < 0)
                return sock;
        return gk_console_send_master(sock, master, err);
}

/* CRIU's notifications: a non-zero return makes it fail the restore. */
static int notify(char *action, criu_notify_arg_t na)
{
        restore *x = current;
        const gk_hooks *h = &x->c.spec->hooks;
        int r = 0;

        if (!strcmp(action, "setup-namespaces")) {
                pid_t pid = criu_notify_pid(na);
                r = run_hooks(x, pid, &h->prestart, "prestart", GK_STATUS_CREATED, &x->notify_err);
                if (r == 0)
                        r = run_hooks(x, pid, &h->create_runtime, "createRuntime",
                                      GK_STATUS_CREATING, &x->notify_err);
        } else if (!strcmp(action, "orphan-pts-master")) {
                r = send_console(x, &x->notify_err);
        }
        return r < 0 ? -1 : 0;
}

/* The init's stdio pipes of the dump, replaced by ours. */
static int inherit_stdio(gk_criu_req *q, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        size_t len;

        if (gk_read_file_at(q->image_fd, GK_CRIU_DESCRIPTORS, &text, &len, NULL) < 0)
                return 0;
        if (gk_json_parse(text, len, GK_CRIU_DESCRIPTORS, &v, err) < 0)
                return gk_error_wrap(err, "restore");
        for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len && i < 3; i++) {
                const char *s = YAJL_GET_STRING(v->u.array.values[i]);
                if (s && !strncmp(s, "pipe:", 5) &&
                    criu_local_add_inherit_fd(q->opts, (int) i, s) < 0)
                        return gk_error_make(err, ENOMEM, "restore: stdio");
        }
        return 0;
}

static int set_netns(restore *x, gk_criu_req *q, gk_error **err)
{
        const gk_namespace *ns = &x->c.spec->linux.namespaces[GK_NS_NETWORK];
        int r;

        if (!ns->present || !ns->path)
                return 0;
        /* not close-on-exec: `criu swrk` takes it from us */
        x->netns_fd = open(ns->path, O_RDONLY);
        if (x->netns_fd < 0)
                return gk_error_errno(err, "restore: network namespace `%s`", ns->path);
        r = criu_local_add_inherit_fd(q->opts, x->netns_fd, GK_CRIU_EXT_NETNS);
        return r < 0 ? gk_error_make(err, -r, "restore: network namespace") : 0;
}

static int criu_restore(restore *x, gk_criu_req *q, gk_error **err)
{
        int pid;

        if (bind_root(x, err) < 0 ||
            gk_criu_mountpoints(x->c.spec, x->c.bundle, x->criu_root, err) < 0 ||
            inherit_stdio(q, err) < 0 || set_netns(x, q, err) < 0 ||
            gk_criu_mounts_restore(q, x->c.spec, x->c.bundle, x->cg2_dir[0] ? x->cg2_dir : NULL,
                                   err) < 0)
                return gk_error_code(*err);
        if (criu_local_set_root(q->opts, x->criu_root) < 0 ||
            (x->cg_rel[0] && criu_local_add_cg_root(q->opts, NULL, x->cg_rel) < 0) ||
            (x->f->lsm_profile && criu_local_set_lsm_profile(q->opts, x->f->lsm_profile) < 0) ||
            (x->f->lsm_mount_context &&
             criu_local_set_lsm_mount_context(q->opts, x->f->lsm_mount_context) < 0))
                return gk_error_make(err, ENOMEM, "restore: libcriu options");
        gk_criu_req_common(q, x->f, x->c.spec->process && x->c.spec->process->terminal);
        current = x;
        criu_local_set_notify_cb(q->opts, notify);
        /* CRIU's restored init is its child: ours once it exits */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return gk_error_errno(err, "restore: child subreaper");
        pid = gk_criu_call(q, criu_local_restore, err);
        current = NULL;
        if (x->notify_err) {
                gk_error_freep(err);
                *err = TAKE_PTR(x->notify_err);
                return gk_error_wrap(err, "restore");
        }
        if (pid <= 0)
                return gk_criu_fail(q, "restore", pid < 0 ? pid : -EBADE, err);
        x->st.pid = pid;
        x->st.start_time = gk_proc_start_time(pid);
        return 0;
}

static int save_config(restore *x, gk_error **err)
{
        _cleanup_free_ char *cfg = gk_state_path(x->c.g->root, x->c.id, "config.json");

        if (!cfg ||
            gk_write_file_atomic(cfg, x->c.config_text, x->c.config_len, 0600, false, err) < 0)
                return err && *err ? gk_error_code(*err) : -ENOMEM;
        return 0;
}

static int finish(restore *x, gk_error **err)
{
        char buf[32];

        x->st.creating = false;
        if (save_config(x, err) < 0 || save(x, err) < 0)
                return gk_error_code(*err);
        if (x->f->pid_file) {
                int n = snprintf(buf, sizeof(buf), "%d", (int) x->st.pid);
                if (gk_write_file_atomic(x->f->pid_file, buf, (size_t) n, 0644, false, err) < 0)
                        return gk_error_wrap(err, "restore: pid file");
        }
        return 0;
}

static int restore_steps(restore *x, gk_error **err)
{
        gk_criu_req q;
        int r;

        if (gk_state_dir_create(x->c.g->root, x->c.id, err) < 0)
                return gk_error_code(*err);
        r = gk_criu_req_open(&q, "restore", "restore.log", x->f, false, err);
        if (r == 0)
                r = make_cgroup(x, err);
        if (r == 0)
                r = criu_restore(x, &q, err);
        unbind_root(x);
        gk_criu_req_close(&q);
        if (r == 0)
                r = finish(x, err);
        if (r == 0)
                return 0;
        if (x->c.cg) {
                gk_cgroup_kill_all(x->c.cg, SIGKILL, NULL);
                gk_cgroup_destroy(x->c.cg, NULL);
        }
        gk_state_remove(x->c.g->root, x->c.id, NULL);
        return r;
}

int gk_criu_restore(const gk_global *g, const char *id, const gk_criu_flags *f, gk_error **err)
{
        restore x = { .f = f, .netns_fd = -1 };
        _cleanup_free_ char *json = NULL;
        int r = 0;

        x.c = (gk_container){ .g = g, .id = id, .bundle = strdup(f->bundle ? f->bundle : ".") };
        if (gk_criu_load("restore", err) < 0)
                goto out;
        r = gk_container_load(&x.c, err);
        if (r < 0 || (r = restore_steps(&x, err)) < 0)
                goto out;
        if (x.c.spec->hooks.poststart.n &&
            gk_state_to_oci_json_as(&x.st, GK_STATUS_RUNNING, &json, NULL) == 0)
                gk_hooks_run_warn(g, &x.c.spec->hooks.poststart, "poststart", json);
        if (!f->detach) {
                /* in the foreground gkrun stands for the container, as
                 * after run: its exit status, then it is removed */
                r = gk_wait_forward(x.st.pid);
                gk_container_delete(g, id, true, x.c.spec, NULL);
        }
out:
        if (x.netns_fd >= 0)
                close(x.netns_fd);
        free(x.cg_text);
        gk_container_release(&x.c);
        return err && *err ? gk_error_code(*err) : (f->detach ? 0 : r);
}
