/* The parent side of create: validate, make the state directory, the
 * cgroup and the namespaces' init, hand the init its id maps and cgroup,
 * run the runtime hooks when it asks, and save the state once it is
 * ready.  A guard undoes everything when a step fails. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/container.h"
#include "container/hostmounts.h"
#include "container/destroy.h"
#include "container/netcall.h"
#include "rdt/rdt.h"
#include "container/notify.h"
#include "container/rootless.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "rootfs/rootfs.h"
#include "security/seccomp_notify.h"
#include "security/security.h"
#include "spawn/ns.h"
#include "sync/sync.h"

/* Not applied yet, only checked: nothing of resctrl is touched before the
 * init exists. */
static int check_rdt(const gk_intel_rdt *r, gk_error **err)
{
        _cleanup_close_ int root = gk_rdt_open_root(err);

        return root < 0 ? root : gk_rdt_check(root, r, err);
}

static int apply_rdt(const gk_container *c, gk_error **err)
{
        _cleanup_close_ int root = gk_rdt_open_root(err);

        if (root < 0 || gk_rdt_apply(root, &c->spec->linux.intel_rdt, c->id, c->pid, err) < 0)
                return gk_error_wrap(err, "config.json: linux.intelRdt");
        return 0;
}

static int check_spec(gk_container *c, gk_error **err)
{
        const gk_spec *s = c->spec;

        if (!s->process)
                return gk_error_make(err, 0, "config.json: process: must be set for gkrun");
        if (s->linux.namespaces[GK_NS_USER].present && !s->linux.namespaces[GK_NS_USER].path &&
            (!s->linux.n_uid_mappings || !s->linux.n_gid_mappings))
                return gk_error_make(
                        err, 0,
                        "config.json: linux.uidMappings: user namespaces enabled, but no mappings found");
        if ((s->hostname && s->hostname[0]) && !s->linux.namespaces[GK_NS_UTS].present)
                return gk_error_make(
                        err, 0,
                        "config.json: hostname: unable to set hostname without a private UTS namespace");
        /* setdomainname would change the caller's */
        if ((s->domainname && s->domainname[0]) && !s->linux.namespaces[GK_NS_UTS].present)
                return gk_error_make(
                        err, 0,
                        "config.json: domainname: unable to set domainname without a private UTS namespace");
        if (gk_sysctl_validate(s, err) < 0 || gk_rootless_check(c, err) < 0)
                return gk_error_code(*err);
        if (gk_idmount_validate(s, err) < 0)
                return gk_error_code(*err);
        if (s->process->terminal && !c->console_socket && !c->run_mode)
                return gk_error_make(
                        err, 0,
                        "cannot allocate tty if gkrun will detach without setting console socket");
        if (!s->process->terminal && c->console_socket)
                return gk_error_make(
                        err, 0,
                        "cannot use console socket if gkrun will not detach or allocate tty");
        /* Its mounts would land on the caller's own tree. */
        if (!s->linux.namespaces[GK_NS_MOUNT].present && !strcmp(c->rootfs, "/"))
                return gk_error_make(err, 0,
                                     "config.json: root.path: `/` needs a mount namespace");
        if (gk_lsm_validate_mount_label(s->linux.mount_label, err) < 0)
                return gk_error_code(*err);
        if (s->process->apparmor_profile &&
            gk_lsm_validate(s->process->apparmor_profile, NULL, err) < 0)
                return gk_error_wrap(err, "config.json: process.apparmorProfile");
        if (s->process->selinux_label && gk_lsm_validate(NULL, s->process->selinux_label, err) < 0)
                return gk_error_wrap(err, "config.json: process.selinuxLabel");
        if (s->linux.seccomp.present && gk_seccomp_validate(&s->linux.seccomp, err) < 0)
                return gk_error_wrap(err, "config.json: linux.seccomp");
        if (s->linux.n_net_devices && gk_netcall_netdev_check(c, err) < 0)
                return gk_error_code(*err);
        if (s->linux.intel_rdt.present && check_rdt(&s->linux.intel_rdt, err) < 0)
                return gk_error_wrap(err, "config.json: linux.intelRdt");
        return 0;
}

/* runc 1.1 takes a relative mount destination from / and warns; so do we. */
static void warn_relative_destinations(const gk_container *c)
{
        for (size_t i = 0; c->g->warn && i < c->spec->n_mounts; i++) {
                _cleanup_free_ char *msg = NULL;

                if (!c->spec->mounts[i].relative_destination)
                        continue;
                if (asprintf(&msg,
                             "config.json: mounts[%zu].destination: `%s` is not absolute;"
                             " taken as `%s` (relative destinations may be refused in future)",
                             i, c->spec->mounts[i].destination + 1,
                             c->spec->mounts[i].destination) >= 0)
                        c->g->warn(c->g, msg);
        }
}

static int load_config(gk_container *c, gk_error **err)
{
        _cleanup_free_ char *path = NULL, *root = NULL;
        char real[PATH_MAX];
        struct stat st;

        if (!realpath(c->bundle, real))
                return gk_error_errno(err, "bundle `%s`", c->bundle);
        free(c->bundle);
        c->bundle = strdup(real);
        if (asprintf(&path, "%s/config.json", c->bundle) < 0)
                return gk_error_make(err, ENOMEM, "config.json");
        if (gk_read_file(path, &c->config_text, &c->config_len, err) < 0)
                return gk_error_code(*err);
        if (gk_spec_parse(c->config_text, c->config_len, "config.json", &c->spec, err) < 0)
                return gk_error_code(*err);
        if (!c->spec->root.path)
                return gk_error_make(err, 0, "config.json: root.path: must be set");
        if (c->spec->root.path[0] == '/')
                root = strdup(c->spec->root.path);
        else if (asprintf(&root, "%s/%s", c->bundle, c->spec->root.path) < 0)
                root = NULL;
        if (!root)
                return gk_error_make(err, ENOMEM, "config.json");
        if (!realpath(root, real) || stat(real, &st) < 0)
                return gk_error_errno(err, "config.json: root.path: `%s`", root);
        if (!S_ISDIR(st.st_mode))
                return gk_error_make(err, ENOTDIR, "config.json: root.path: `%s`", root);
        c->rootfs = strdup(real);
        return 0;
}

int gk_container_load(gk_container *c, gk_error **err)
{
        c->spawn = GK_SPAWN_INIT;
        c->console_fd = c->fifo_fd = c->seccomp_listener = -1;
        c->proc_fd = -1;
        for (int t = 0; t < GK_NS_COUNT; t++)
                c->ns_fds[t] = -1;
        if (gk_id_validate(c->id, err) < 0 || load_config(c, err) < 0)
                return gk_error_code(*err);
        return 0;
}

static int open_namespaces(gk_container *c, gk_error **err)
{
        for (int t = 0; t < GK_NS_COUNT; t++) {
                const gk_namespace *ns = &c->spec->linux.namespaces[t];

                c->ns_fds[t] = -1;
                if (!ns->present)
                        continue;
                if (!ns->path) {
                        /* cgroup and time namespaces are made by the init
                         * itself once it is in its cgroup (see init.c). */
                        if (t != GK_NS_CGROUP && t != GK_NS_TIME)
                                c->clone_flags |= gk_ns_clone_flag(t);
                        continue;
                }
                c->ns_fds[t] = open(ns->path, O_RDONLY | O_CLOEXEC);
                if (c->ns_fds[t] < 0)
                        return gk_error_errno(err, "config.json: linux.namespaces: %s path `%s`",
                                              gk_ns_type_name(t), ns->path);
        }
        return 0;
}

static int make_fifo(gk_container *c, gk_error **err)
{
        _cleanup_free_ char *path = gk_state_path(c->g->root, c->id, "exec.fifo");

        if (!path)
                return gk_error_make(err, ENOMEM, "exec fifo");
        /* 0622: the init opens it for writing after switching to the
         * container's user; the state directory keeps others out. */
        if (mkfifo(path, 0600) < 0 || chmod(path, 0622) < 0)
                return gk_error_errno(err, "create exec fifo `%s`", path);
        c->fifo_fd = open(path, O_PATH | O_CLOEXEC);
        if (c->fifo_fd < 0)
                return gk_error_errno(err, "open exec fifo `%s`", path);
        return 0;
}

void gk_container_fill_state(const gk_container *c, gk_state *st)
{
        *st = (gk_state){
                .id = (char *) c->id,
                .pid = c->pid,
                .start_time = c->pid > 0 ? gk_proc_start_time(c->pid) : 0,
                .bundle = c->bundle,
                .rootfs = c->rootfs,
                .created_ns = gk_now_ns(),
                .owner = geteuid(),
                .systemd_cgroup = c->g->systemd_cgroup,
                .creating = true,
                .annotations = c->spec->annotations,
                .n_annotations = c->spec->n_annotations,
        };
}

static int save_state(const gk_container *c, gk_state *st, gk_error **err)
{
        _cleanup_free_ char *cg = NULL;

        if (c->cg && gk_cgroup_to_string(c->cg, &cg, err) < 0)
                return gk_error_code(*err);
        st->cgroup = cg;
        return gk_state_save(c->g->root, st, err);
}

/* createRuntime hooks see "creating" (runtime-spec 1.0.2 and later);
 * prestart hooks, deprecated and older than that wording, see "created"
 * as crun and the validation suite have it.  The status is given, not
 * derived: in run mode there is no exec fifo, so a derived status of a
 * finished create would read "running". */
static int run_runtime_hooks(gk_container *c, gk_state *st, gk_error **err)
{
        _cleanup_free_ char *json = NULL, *json_created = NULL;

        if (c->spec->hooks.prestart.n &&
            (gk_state_to_oci_json_as(st, GK_STATUS_CREATED, &json_created, err) < 0 ||
             gk_hooks_run(&c->spec->hooks.prestart, "prestart", json_created, err) < 0))
                return gk_error_code(*err);
        if (c->spec->hooks.create_runtime.n &&
            (gk_state_to_oci_json_as(st, GK_STATUS_CREATING, &json, err) < 0 ||
             gk_hooks_run(&c->spec->hooks.create_runtime, "createRuntime", json, err) < 0))
                return gk_error_code(*err);
        return 0;
}

/* A GK_SYNC_STATE to the init; when it is gone, its own error. */
static int send_state(gk_container *c, const char *buf, size_t len, const char *what,
                      gk_error **err)
{
        if (gk_sync_send_data(c->spawn.sync, GK_SYNC_STATE, buf, len) == 0)
                return 0;
        gk_sync_expect(c->spawn.sync, GK_SYNC_ERROR, err);
        return err && *err ? gk_error_code(*err) : gk_error_errno(err, "send %s", what);
}

/* The createContainer and startContainer hooks run inside the container,
 * but their state is the runtime's: written here, with the init's pid as
 * the host sees it, and handed to the init (init.c receive_hook_state). */
static int send_hook_state(gk_container *c, const gk_state *st, gk_error **err)
{
        _cleanup_free_ char *creating = NULL, *created = NULL, *buf = NULL;
        size_t a, b;

        if (!c->spec->hooks.create_container.n && !c->spec->hooks.start_container.n)
                return 0;
        if (gk_state_to_oci_json_as(st, GK_STATUS_CREATING, &creating, err) < 0 ||
            gk_state_to_oci_json_as(st, GK_STATUS_CREATED, &created, err) < 0)
                return gk_error_code(*err);
        a = strlen(creating);
        b = strlen(created);
        buf = malloc(a + b + 2);
        if (!buf)
                return gk_error_make(err, ENOMEM, "hook state");
        memcpy(buf, creating, a + 1);
        memcpy(buf + a + 1, created, b + 1);
        return send_state(c, buf, a + b + 2, "hook state", err);
}

/* The seccomp listener's state names the init by its pid as we see it:
 * written here too, rather than by the init from a /proc of its own. */
static int send_listener_state(gk_container *c, gk_error **err)
{
        _cleanup_free_ char *json = NULL;

        if (c->seccomp_listener < 0)
                return 0;
        /* without no_new_privs the filter is loaded before create returns */
        if (gk_seccomp_listener_state(c->spec, c->id, c->bundle,
                                      c->spec->process->no_new_privileges ? "running" : "creating",
                                      (long) c->pid, (long) c->pid, &json, err) < 0)
                return gk_error_code(*err);
        return send_state(c, json, strlen(json), "seccomp listener state", err);
}

/* A user namespace joined by path must own the namespaces made new, as
 * runc has it: made from outside it they would be the host's, and the
 * init, root only in the joined one, could not even make its mounts
 * private.  So a first stage joins the namespaces given by path (user
 * first), makes the new ones, the pid namespace too, and clones the init
 * into them (init.c enter_joined_namespaces); we take the init over, and
 * the rest goes as for any init.  The common case keeps its one clone. */
static int spawn_init_joined_userns(gk_container *c, gk_error **err)
{
        c->two_stage = true;
        c->unshare_flags = c->clone_flags;
        c->late_flags = 0;
        /* born in ours, and not in a pid namespace given by path: the
         * first stage enters that for its child only, so that the pid it
         * hands over is the one we see */
        switch (gk_spawn_clone(&c->spawn, 0, -1, err)) {
        case 0:
                gk_init_main(c);
        case 1:
                break;
        default:
                return gk_error_wrap(err, "container init");
        }
        if (gk_spawn_take_over(&c->spawn, err) < 0)
                return gk_error_wrap(err, "container init");
        c->pid = c->spawn.pid;
        return 0;
}

/* Clones the init into its new namespaces (a joined pid namespace is
 * entered for the child only). */
static int spawn_init(gk_container *c, gk_error **err)
{
        uint64_t flags;

        if (gk_spawn_cgroups(&c->spawn, c->cg, 0, err) < 0)
                return gk_error_code(*err);
        if (c->ns_fds[GK_NS_USER] >= 0 && c->clone_flags)
                return spawn_init_joined_userns(c, err);
        /* The namespaces nothing of ours needs before GO the init makes
         * itself, first thing: their cost (a network namespace's above
         * all) then overlaps with our cgroup work.  The pid namespace can
         * only be had at the clone, and a new user namespace must own the
         * others.  Attaching a network needs the init's one at once. */
        c->unshare_flags = c->netcall || c->spec->linux.n_net_devices
                                   ? 0
                                   : c->clone_flags & (CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS |
                                                       CLONE_NEWIPC);
        /* Not when the clone puts the init in the container's memory
         * cgroup (v2): made by the clone they are charged to ours, as
         * crun's and runc's are, not against the container's memory limit
         * (a network namespace and a copy of our mount table) */
        if (gk_spawn_clone_charges(&c->spawn))
                c->unshare_flags = 0;
        /* A new IPC namespace makes its mqueue filesystem with the
         * credentials of the moment: in a new user namespace, only once the
         * init is root there, or /dev/mqueue belongs to nobody (as crun). */
        if (c->clone_flags & CLONE_NEWUSER) {
                c->late_flags = c->clone_flags & CLONE_NEWIPC;
                c->unshare_flags &= ~c->late_flags;
        }
        flags = (uint64_t) (c->clone_flags & ~c->unshare_flags & ~c->late_flags);
        c->spawn.dumpable_until_go = (c->clone_flags & CLONE_NEWUSER) && geteuid() != 0;
        switch (gk_spawn_clone(&c->spawn, flags, c->ns_fds[GK_NS_PID], err)) {
        case 0:
                gk_init_main(c);
        case 1:
                c->pid = c->spawn.pid;
                return 0;
        default:
                return gk_error_wrap(err, "container init");
        }
}

static int write_id_maps(const gk_container *c, gk_error **err)
{
        const gk_linux *l = &c->spec->linux;

        if (!(c->clone_flags & CLONE_NEWUSER))
                return 0;
        return gk_id_maps_write(c->pid, l->uid_mappings, l->n_uid_mappings, l->gid_mappings,
                                l->n_gid_mappings, err);
}

/* The idmapped mounts' trees, made here on the host once the init's user
 * namespace has its mappings (rootfs/idmount.c), kept until sent. */
static int make_idmounts(gk_container *c, gk_error **err)
{
        _cleanup_close_ int own = -1;
        int userns = c->ns_fds[GK_NS_USER];
        char path[64];

        if (!gk_idmount_count(c->spec))
                return 0;
        if (userns < 0 && (c->clone_flags & CLONE_NEWUSER)) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) c->pid);
                userns = own = open(path, O_RDONLY | O_CLOEXEC);
                if (own < 0)
                        return gk_error_errno(err, "open `%s`", path);
        }
        c->idmount_fds = gk_idmount_fds_new(c->spec->n_mounts);
        if (!c->idmount_fds)
                return gk_error_make(err, ENOMEM, "idmapped mounts");
        return gk_idmount_open(c, userns, c->idmount_fds, err);
}

/* After GO: the trees, in the config's order, GK_SYNC_MAX_FDS a message. */
static int send_idmounts(gk_container *c, gk_error **err)
{
        int batch[GK_SYNC_MAX_FDS];
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; c->idmount_fds && i <= c->spec->n_mounts && r == 0; i++) {
                if (i < c->spec->n_mounts && c->idmount_fds[i] >= 0)
                        batch[n++] = c->idmount_fds[i];
                if (n && (n == GK_SYNC_MAX_FDS || i == c->spec->n_mounts)) {
                        r = gk_sync_send_fds(c->spawn.sync, GK_SYNC_MOUNTS, batch, n);
                        n = 0;
                }
        }
        gk_idmount_fds_free(&c->idmount_fds, c->spec->n_mounts);
        if (r < 0)
                return gk_error_make(err, -r, "send idmapped mounts to the init");
        return 0;
}

static int write_pid_file(const char *path, pid_t pid, gk_error **err)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%d", (int) pid);

        return gk_write_file_atomic(path, buf, (size_t) n, 0644, false, err);
}

static int setup_parent_side(gk_container *c, gk_state *st, gk_error **err)
{
        const gk_process *p = c->spec->process;

        if (write_id_maps(c, err) < 0 || make_idmounts(c, err) < 0)
                return gk_error_code(*err);
        if (p->has_oom_score_adj) {
                char path[64], val[16];
                snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int) c->pid);
                snprintf(val, sizeof(val), "%d", p->oom_score_adj);
                if (gk_write_file(path, val, err) < 0)
                        return gk_error_wrap(err, "config.json: process.oomScoreAdj");
        }
        /* the one call of gkrun-net at create: the init's network
         * namespace exists, and it mounts /etc files add writes only
         * once released */
        if (c->netcall && gk_netcall_add(c, err) < 0)
                return gk_error_code(*err);
        if (c->spec->linux.n_net_devices && gk_netcall_netdev(c, err) < 0)
                return gk_error_code(*err);
        if (c->spec->linux.intel_rdt.present && apply_rdt(c, err) < 0)
                return gk_error_code(*err);
        st->net = c->net;
        GK_FAULT("create.after-net-attach");
        /* what changed since the save after the cgroup: the attached
         * network */
        return c->net ? save_state(c, st, err) : 0;
}

/* The config as the container was made from it (`delete` runs its
 * poststop hooks, `exec` takes its process defaults): written while the
 * init sets itself up. */
static int save_config(gk_container *c, gk_error **err)
{
        _cleanup_free_ char *cfg = gk_state_path(c->g->root, c->id, "config.json");

        if (!cfg || gk_write_file_atomic(cfg, c->config_text, c->config_len, 0600, false, err) < 0)
                return err && *err ? gk_error_code(*err) : -ENOMEM;
        GK_FAULT("create.after-config-saved");
        return 0;
}

static int finish_create(gk_container *c, gk_state *st, gk_error **err)
{
        st->creating = false;
        if (save_state(c, st, err) < 0)
                return gk_error_code(*err);
        if (c->pid_file && write_pid_file(c->pid_file, c->pid, err) < 0)
                return gk_error_wrap(err, "pid file");
        return 0;
}

/* Undoes a failed create: the init (and anything it forked), the cgroup,
 * the state directory. */
static void create_rollback(gk_container *c)
{
        if (c->spawn.pid > 0) {
                if (c->cg)
                        gk_cgroup_kill_all(c->cg, SIGKILL, NULL);
                gk_spawn_abort(&c->spawn);
                c->pid = 0;
        }
        if (c->cg)
                gk_cgroup_destroy(c->cg, NULL);
        if (c->netcall)
                gk_netcall_del(c->g->root, c->id, NULL, NULL);
        if (c->spec && c->spec->linux.intel_rdt.present)
                gk_container_rdt_remove(&c->spec->linux.intel_rdt, c->id, NULL);
        gk_hostmounts_release(c->g->root, c->id, c->rootfs, NULL);
        gk_state_remove(c->g->root, c->id, NULL);
}

static int create_steps(gk_container *c, gk_error **err)
{
        gk_state st;

        if (!c->run_mode && make_fifo(c, err) < 0)
                return gk_error_code(*err);
        /* Without a mount namespace the init mounts in ours: note what is
         * there already, so that only its mounts are removed later. */
        if (!c->spec->linux.namespaces[GK_NS_MOUNT].present &&
            gk_hostmounts_record(c->g->root, c->id, c->rootfs, err) < 0)
                return gk_error_code(*err);
        if (gk_notify_prepare(c, err) < 0)
                return gk_error_code(*err);
        if (c->console_socket &&
            (c->console_fd = gk_spawn_console_connect(c->console_socket, err)) < 0)
                return gk_error_code(*err);
        if (gk_seccomp_wants_listener(&c->spec->linux.seccomp) &&
            (c->seccomp_listener = gk_seccomp_listener_connect(&c->spec->linux.seccomp, err)) < 0)
                return gk_error_code(*err);
        if (open_namespaces(c, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.before-cgroup");
        if (gk_rootless_cgroups(c->g)
                    ? gk_rootless_cgroup_plan(c, err) < 0
                    : gk_cgroup_plan(c->id, c->spec->linux.cgroups_path,
                                     c->spec->linux.resources.present ? &c->spec->linux.resources
                                                                      : NULL,
                                     c->g->systemd_cgroup, &c->cg, err) < 0)
                return gk_error_code(*err);
        if (c->cg && gk_cgroup_make_early(c->cg, err) < 0)
                return gk_error_code(*err);
        /* The state is saved after each step that makes something (the
         * cgroup, the lease), before the next one: `delete --force` finds
         * whatever a crash at any point leaves. */
        gk_container_fill_state(c, &st);
        if (gk_cgroup_made_any(c->cg) && save_state(c, &st, err) < 0)
                return gk_error_code(*err);
        c->netcall = gk_netcall_wanted(c->spec->annotations, c->spec->n_annotations);
        if (c->netcall && gk_netcall_prepare(c, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.after-net-prepare");
        if (spawn_init(c, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.after-clone");
        /* while the init makes its namespaces; saved at once, with the
         * number of path components made on every hierarchy */
        st.pid = c->pid;
        st.start_time = gk_proc_start_time(c->pid);
        if ((c->cg && gk_cgroup_make_late(c->cg, err) < 0) || save_state(c, &st, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.after-cgroup");
        if (setup_parent_side(c, &st, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.after-parent-setup");
        /* GO carries the v1 cgroup files the init joins through, opened
         * while it was still making its namespaces */
        if (gk_spawn_go(&c->spawn, err) < 0 || send_hook_state(c, &st, err) < 0 ||
            send_listener_state(c, err) < 0 || send_idmounts(c, err) < 0)
                return gk_error_code(*err);
        if (save_config(c, err) < 0)
                return gk_error_code(*err);
        if (gk_container_runtime_hooks(c) && gk_sync_expect(c->spawn.sync, GK_SYNC_HOOKS, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.before-hooks");
        if (run_runtime_hooks(c, &st, err) < 0) {
                return gk_error_code(*err);
        }
        GK_FAULT("create.after-hooks");
        if (gk_container_runtime_hooks(c))
                gk_sync_send(c->spawn.sync, GK_SYNC_HOOKS_DONE);
        if (gk_sync_expect(c->spawn.sync, GK_SYNC_READY, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.after-ready");
        return finish_create(c, &st, err);
}

int gk_container_create(gk_container *c, gk_error **err)
{
        int r;

        if (!c->spec && gk_container_load(c, err) < 0)
                return gk_error_code(*err);
        if (check_spec(c, err) < 0)
                return gk_error_code(*err);
        warn_relative_destinations(c);
        if (gk_state_dir_create(c->g->root, c->id, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.after-state-dir");
        r = create_steps(c, err);
        if (r == 0)
                GK_FAULT("create.after-finish");
        if (r < 0)
                create_rollback(c);
        if (c->console_fd >= 0)
                close(TAKE_FD(c->console_fd));
        if (c->fifo_fd >= 0)
                close(TAKE_FD(c->fifo_fd));
        if (c->seccomp_listener >= 0)
                close(TAKE_FD(c->seccomp_listener));
        gk_idmount_fds_free(&c->idmount_fds, c->spec->n_mounts);
        return r;
}

int gk_container_start_run(gk_container *c, gk_error **err)
{
        if (!c->start_at_ready && gk_sync_send(c->spawn.sync, GK_SYNC_START) < 0)
                return gk_error_make(err, EPIPE, "container init exited before start");
        return gk_spawn_wait_exec(&c->spawn, err);
}

void gk_container_release(gk_container *c)
{
        gk_spawn_release(&c->spawn);
        for (int t = 0; t < GK_NS_COUNT; t++)
                if (c->ns_fds[t] >= 0)
                        close(TAKE_FD(c->ns_fds[t]));
        gk_cgroup_freep(&c->cg);
        gk_spec_freep(&c->spec);
        free(c->bundle);
        free(c->rootfs);
        free(c->config_text);
        free(c->net);
        c->bundle = c->rootfs = c->config_text = c->net = NULL;
}
