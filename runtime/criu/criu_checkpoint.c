/* gkrun checkpoint: the running container's process tree dumped by CRIU
 * into the image path, then (unless --leave-running or --pre-dump) the
 * container removed, as runc does: its processes are gone. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container/destroy.h"
#include "container/state.h"
#include "criu/criu_internal.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* The cgroup CRIU freezes the container through: the v1 freezer's
 * directory, else the cgroup2 one. */
static int freezer_dir(const char *mnt, const char *dir, void *arg)
{
        char *out = arg;
        size_t n = strlen(mnt);
        struct statfs sf;

        if (n >= 8 && !strcmp(mnt + n - 8, "/freezer"))
                snprintf(out, PATH_MAX, "%s", dir);
        else if (!out[0] && statfs(mnt, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                snprintf(out, PATH_MAX, "%s", dir);
        return 0;
}

static int set_freezer(gk_criu_req *q, const gk_state *st, gk_error **err)
{
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        char dir[PATH_MAX] = "";
        int r;

        if (!st->cgroup || !st->cgroup[0] || gk_cgroup_open(st->cgroup, &cg, NULL) < 0)
                return 0;
        gk_cgroup_each_dir(cg, freezer_dir, dir);
        if (!dir[0])
                return 0;
        r = criu_local_set_freeze_cgroup(q->opts, dir);
        return r < 0 ? gk_error_make(err, -r, "checkpoint: freezer cgroup `%s`", dir) : 0;
}

/* Where the init's stdio went (runc's descriptors.json): restore hands a
 * pipe of its own in place of each pipe here. */
static int save_descriptors(gk_criu_req *q, pid_t pid, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        size_t len;

        yajl_gen_array_open(g);
        for (int i = 0; i < 3; i++) {
                char link[64], target[PATH_MAX];
                ssize_t n;

                snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int) pid, i);
                n = readlink(link, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = '\0';
                gk_json_str(g, n < 0 ? "/dev/null" : target);
        }
        yajl_gen_array_close(g);
        if (gk_json_gen_finish(g, &text, &len, err) < 0)
                return gk_error_wrap(err, "checkpoint: %s", GK_CRIU_DESCRIPTORS);
        fd = openat(q->image_fd, GK_CRIU_DESCRIPTORS, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0600);
        if (fd < 0 || gk_write_all(fd, text, len) < 0)
                return gk_error_errno(err, "checkpoint: write %s", GK_CRIU_DESCRIPTORS);
        return 0;
}

/* A network namespace joined by path is not the container's to dump:
 * restore joins the one it is given under the same key. */
static int add_external_netns(gk_criu_req *q, const gk_spec *spec, gk_error **err)
{
        const gk_namespace *ns = &spec->linux.namespaces[GK_NS_NETWORK];
        _cleanup_free_ char *key = NULL;
        struct stat st;
        int r;

        if (!ns->present || !ns->path)
                return 0;
        if (stat(ns->path, &st) < 0)
                return gk_error_errno(err, "checkpoint: network namespace `%s`", ns->path);
        if (asprintf(&key, "net[%llu]:%s", (unsigned long long) st.st_ino, GK_CRIU_EXT_NETNS) < 0)
                return gk_error_make(err, ENOMEM, "checkpoint");
        r = criu_local_add_external(q->opts, key);
        return r < 0 ? gk_error_make(err, -r, "checkpoint: external `%s`", key) : 0;
}

/* --parent-path: the images of an earlier pre-dump, relative to ours. */
static int set_parent(gk_criu_req *q, const gk_criu_flags *f, gk_error **err)
{
        struct stat st;

        if (!f->parent_path)
                return 0;
        if (f->parent_path[0] == '/')
                return gk_error_make(err, 0,
                                     "checkpoint: --parent-path: must be relative to the image "
                                     "path (like ../pre-dump)");
        if (fstatat(q->image_fd, f->parent_path, &st, 0) < 0)
                return gk_error_errno(err, "checkpoint: --parent-path `%s`", f->parent_path);
        if (!S_ISDIR(st.st_mode))
                return gk_error_make(err, ENOTDIR, "checkpoint: --parent-path `%s`",
                                     f->parent_path);
        if (criu_local_set_parent_images(q->opts, f->parent_path) < 0)
                return gk_error_make(err, ENOMEM, "checkpoint: --parent-path");
        criu_local_set_track_mem(q->opts, true);
        return 0;
}

static int dump(gk_criu_req *q, const gk_state *st, const gk_spec *spec, const gk_criu_flags *f,
                gk_error **err)
{
        int r;

        criu_local_set_pid(q->opts, st->pid);
        if (set_parent(q, f, err) < 0)
                return gk_error_code(*err);
        if (f->pre_dump) {
                criu_local_set_track_mem(q->opts, true);
                r = gk_criu_call(q, criu_local_pre_dump, err);
                return r < 0 ? gk_criu_fail(q, "pre-dump", r, err) : 0;
        }
        if (save_descriptors(q, st->pid, err) < 0)
                return gk_error_code(*err);
        if (criu_local_set_root(q->opts, st->rootfs) < 0)
                return gk_error_make(err, ENOMEM, "checkpoint: root");
        if (gk_criu_mounts_dump(q, spec, err) < 0 || add_external_netns(q, spec, err) < 0 ||
            set_freezer(q, st, err) < 0)
                return gk_error_code(*err);
        gk_criu_req_common(q, f, spec->process && spec->process->terminal);
        criu_local_set_leave_running(q->opts, f->leave_running);
        r = gk_criu_call(q, criu_local_dump, err);
        return r < 0 ? gk_criu_fail(q, "dump", r, err) : 0;
}

int gk_criu_checkpoint(const gk_global *g, const char *id, const gk_criu_flags *f, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_(gk_spec_freep) gk_spec *spec = NULL;
        _cleanup_close_ int lock = -1;
        gk_criu_req q;
        enum gk_status status;
        int r;

        if (gk_criu_load("checkpoint", err) < 0)
                return gk_error_code(*err);
        lock = gk_state_lock(g->root, id, err);
        if (lock < 0 || gk_state_load(g->root, id, &st, err) < 0)
                return gk_error_code(*err);
        /* paused too, as runc: containerd's shim pauses the task before
         * it asks for the checkpoint (CRIU finds its cgroup frozen and
         * leaves it so) and resumes it after */
        status = gk_state_status(g->root, st);
        if (status != GK_STATUS_RUNNING && status != GK_STATUS_PAUSED)
                return gk_error_plain(err, 0, "checkpoint: container \"%s\" is not running", id);
        if (gk_state_load_spec(g->root, id, &spec, err) < 0)
                return gk_error_code(*err);
        r = gk_criu_req_open(&q, "checkpoint", "dump.log", f, true, err);
        if (r == 0)
                r = dump(&q, st, spec, f, err);
        gk_criu_req_close(&q);
        if (r < 0 || f->leave_running || f->pre_dump)
                return r;
        /* CRIU has killed the processes: what is left of the container
         * (cgroup, state) goes, and its id is free for the restore */
        close(TAKE_FD(lock));
        return gk_container_delete(g, id, true, spec, err);
}
