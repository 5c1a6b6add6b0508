/* Removing a container: kill what still runs (when allowed), wait for it,
 * remove its cgroups, run the poststop hooks, drop its state. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/destroy.h"
#include "container/hostmounts.h"
#include "container/netcall.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "rdt/rdt.h"
#include "spawn/wait.h"

int gk_state_load_spec(const char *root, const char *id, gk_spec **out, gk_error **err)
{
        _cleanup_free_ char *path = gk_state_path(root, id, "config.json"), *text = NULL;
        size_t len;

        if (!path)
                return gk_error_make(err, ENOMEM, "config");
        if (gk_read_file(path, &text, &len, err) < 0)
                return gk_error_code(*err);
        return gk_spec_parse(text, len, "config.json", out, err);
}

/* Without pidfd_open (kernels before 5.3): look again every 5 ms. */
int gk_container_rdt_remove(const gk_intel_rdt *r, const char *id, gk_error **err)
{
        _cleanup_(gk_error_freep) gk_error *ignored = NULL;
        _cleanup_close_ int root = gk_rdt_open_root(err ? err : &ignored);

        /* not mounted (any more): nothing of ours can be there */
        if (root < 0) {
                if (err)
                        gk_error_freep(err);
                return 0;
        }
        return gk_rdt_remove(root, r, id, err ? err : &ignored);
}

static void wait_gone_polling(const gk_state *st, int64_t deadline)
{
        while (gk_state_init_alive(st) && gk_now_ns() < deadline) {
                waitpid(st->pid, NULL, WNOHANG);
                poll(NULL, 0, 5);
        }
}

static void wait_gone(const gk_state *st)
{
        /* Up to 10 s: the init may be our child (run) or not (create). */
        int64_t deadline = gk_now_ns() + 10 * INT64_C(1000000000);
        _cleanup_close_ int pidfd = gk_pidfd_open(st->pid);

        if (pidfd == -ESRCH)
                return;
        if (pidfd < 0) {
                wait_gone_polling(st, deadline);
                return;
        }
        /* The pid may have been reused before the open: the pidfd is the
         * init's only if the start time still matches after it. */
        if (gk_state_init_alive(st))
                gk_pidfd_wait(pidfd, deadline);
        waitpid(st->pid, NULL, WNOHANG); /* reaped here when it is ours (run) */
}

static void kill_all(gk_cgroup *cg, const gk_state *st)
{
        if (cg)
                gk_cgroup_kill_all(cg, SIGKILL, NULL);
        if (gk_state_init_alive(st))
                kill(st->pid, SIGKILL);
        wait_gone(st);
}

/* A failing poststart hook stops the container (runtime-spec 1.3,
 * lifecycle step 9): every process of it is killed and the state stays,
 * so that `state` says stopped and `delete` removes it. */
void gk_container_stop(const gk_state *st)
{
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;

        if (st->cgroup && st->cgroup[0])
                gk_cgroup_open(st->cgroup, &cg, NULL);
        kill_all(cg, st);
}

static bool own_pid_ns(const gk_spec *spec)
{
        return spec && spec->linux.namespaces[GK_NS_PID].present &&
               !spec->linux.namespaces[GK_NS_PID].path;
}

static int wait_dir_empty(const char *mnt, const char *dir, void *arg)
{
        int64_t *deadline = arg;
        int r = gk_cgroup_wait_empty(dir, *deadline);

        (void) mnt;
        return r == -ENOENT ? 0 : r < 0 ? r : 1; /* 1: stop, one v2 directory told */
}

/* Processes that were just killed may take a moment to leave.  A v2
 * cgroup says when its last one has left (cgroup.events); v1 has no such
 * notice (its release_agent runs a program of the host's choice), so
 * without one, or when the v2 directory is empty but a v1 one is still
 * busy (hybrid), we look again every 5 ms until the same 2 s are up. */
static int remove_cgroup(gk_cgroup *cg, gk_error **err)
{
        int64_t deadline = gk_now_ns() + 2 * INT64_C(1000000000);
        bool notified = false;
        int r;

        for (;;) {
                gk_error_freep(err);
                r = gk_cgroup_destroy(cg, err);
                if (r != -EBUSY || gk_now_ns() >= deadline)
                        return r;
                gk_cgroup_kill_all(cg, SIGKILL, NULL);
                if (!notified && gk_cgroup_each_dir(cg, wait_dir_empty, &deadline) > 0)
                        notified = true;
                else
                        poll(NULL, 0, 5);
        }
}

static void run_poststop(const gk_global *g, const gk_state *st, const gk_spec *spec)
{
        _cleanup_(gk_error_freep) gk_error *err = NULL;
        _cleanup_free_ char *json = NULL;

        if (!spec || !spec->hooks.poststop.n || gk_state_to_oci_json(g->root, st, &json, &err) < 0)
                return;
        gk_hooks_run_warn(g, &spec->hooks.poststop, "poststop", json);
}

int gk_container_delete(const gk_global *g, const char *id, bool force, const gk_spec *spec,
                        gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        _cleanup_(gk_spec_freep) gk_spec *saved = NULL;
        _cleanup_close_ int lock = -1;
        enum gk_status status;
        int r = gk_state_load(g->root, id, &st, err);

        if (r < 0) {
                /* A directory left by a create that died before its first
                 * state write: nothing else can exist yet.  With --force a
                 * container that is already gone is success, as with runc:
                 * podman cleans up after a failed create that way. */
                _cleanup_free_ char *dir = gk_state_path(g->root, id, NULL);

                if (force && r == -ENOENT) {
                        if (err)
                                gk_error_freep(err);
                        if (dir && access(dir, F_OK) == 0)
                                return gk_state_remove(g->root, id, err);
                        return 0;
                }
                return r;
        }
        lock = gk_state_lock(g->root, id, err);
        if (lock < 0)
                return lock;
        status = gk_state_status(g->root, st);
        if (status != GK_STATUS_STOPPED && status != GK_STATUS_CREATED && !force)
                return gk_error_plain(err, EBUSY,
                                      "cannot delete container %s that is not stopped: %s", id,
                                      gk_status_name(status));
        if (st->cgroup && st->cgroup[0] && gk_cgroup_open(st->cgroup, &cg, err) < 0)
                return gk_error_code(*err);
        if (cg && status == GK_STATUS_PAUSED)
                gk_cgroup_freeze(cg, false, NULL);
        /* the config saved at create, unless the caller (run) has it: its
         * pid namespace and poststop hooks; none when create died early */
        if (!spec) {
                _cleanup_(gk_error_freep) gk_error *no_config = NULL;

                if (gk_state_load_spec(g->root, id, &saved, &no_config) == 0)
                        spec = saved;
        }
        GK_FAULT("delete.before-kill");
        /* The kernel killed everything in a pid namespace whose init is
         * gone; anything else found in the cgroup is killed when its
         * removal finds it busy. */
        if (status != GK_STATUS_STOPPED || !own_pid_ns(spec))
                kill_all(cg, st);
        GK_FAULT("delete.after-kill");
        if (cg && remove_cgroup(cg, err) < 0)
                return gk_error_wrap(err, "delete %s", id);
        GK_FAULT("delete.after-cgroup");
        /* the annotations, not the result: a create that died during
         * gkrun-net add left no result, but maybe a veth */
        if ((st->net || gk_netcall_wanted(st->annotations, st->n_annotations)) &&
            gk_netcall_del(g->root, id, st->net, err) < 0)
                return gk_error_wrap(err, "delete %s: network", id);
        GK_FAULT("delete.after-network");
        if (st->rootfs && gk_hostmounts_release(g->root, id, st->rootfs, err) < 0)
                return gk_error_wrap(err, "delete %s: mounts", id);
        if (spec && spec->linux.intel_rdt.present &&
            gk_container_rdt_remove(&spec->linux.intel_rdt, id, err) < 0)
                return gk_error_wrap(err, "delete %s: config.json: linux.intelRdt", id);
        run_poststop(g, st, spec);
        GK_FAULT("delete.after-poststop");
        return gk_state_remove(g->root, id, err);
}
