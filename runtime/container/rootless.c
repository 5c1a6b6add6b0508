/* gkrun as a user: the state root under $XDG_RUNTIME_DIR, and the config
 * fields a user cannot have, refused before anything is made with the
 * reason (rather than an EPERM from deep inside the init). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container/netcall.h"
#include "container/rootless.h"
#include "gk/annotations.h"
#include "gk/cleanup.h"
#include "gk/util.h"

int gk_rootless_state_root(char **out, gk_error **err)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        _cleanup_free_ char *root = NULL;

        if (!xdg || !*xdg)
                return gk_error_make(err, 0,
                                     "XDG_RUNTIME_DIR is not set: as a user (uid %u) gkrun keeps "
                                     "its state in $XDG_RUNTIME_DIR/gkrun; set it (as a login "
                                     "session does: /run/user/%u) or give --root",
                                     (unsigned) geteuid(), (unsigned) geteuid());
        if (xdg[0] != '/')
                return gk_error_make(err, 0, "XDG_RUNTIME_DIR `%s`: not an absolute path", xdg);
        if (faccessat(AT_FDCWD, xdg, W_OK | X_OK, AT_EACCESS) < 0)
                return gk_error_errno(err,
                                      "XDG_RUNTIME_DIR `%s`: not a directory uid %u can write "
                                      "(gkrun keeps its state there; give --root otherwise)",
                                      xdg, (unsigned) geteuid());
        if (asprintf(&root, "%s/gkrun", xdg) < 0)
                return gk_error_make(err, ENOMEM, "state root");
        if (mkdir(root, 0700) < 0 && errno != EEXIST)
                return gk_error_errno(err, "create state root `%s`", root);
        /* as runc: the XDG base directory spec prunes what lacks it */
        if (chmod(root, 01700) < 0 && errno != EPERM)
                return gk_error_errno(err, "chmod state root `%s`", root);
        *out = TAKE_PTR(root);
        return 0;
}

bool gk_rootless_user(const gk_global *g)
{
        return geteuid() != 0 || g->in_userns;
}

/* runc 1.1's choice: a user always; root in the initial user namespace
 * never; root in another one (under rootlesskit, or rootless podman's
 * conmon) too, but with --systemd-cgroup, where runc asks the user bus
 * whose systemd it is and takes root's when none answers, which is where
 * we are without one. */
bool gk_rootless_cgroups(const gk_global *g)
{
        if (g->rootless >= 0)
                return g->rootless;
        if (geteuid() != 0)
                return true;
        return g->in_userns && !g->systemd_cgroup;
}

/* As runc's: a user's state goes under $XDG_RUNTIME_DIR (an error when it
 * is unset); root's in the initial user namespace to /run/gkrun, even with
 * $XDG_RUNTIME_DIR set (/run/user/0); root in another user namespace
 * (rootlesskit; rootless podman's conmon passes the user's XDG_RUNTIME_DIR
 * on) uses $XDG_RUNTIME_DIR when it is set, unless $USER says root. */
bool gk_rootless_state_in_xdg(const gk_global *g)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR"), *user = getenv("USER");

        if (geteuid() != 0)
                return true;
        if (!xdg || !*xdg || !g->in_userns)
                return false;
        return !user || strcmp(user, "root");
}

/* Whether ID is inside one of MAPS' container ranges. */
static bool mapped(const gk_idmap *maps, size_t n, unsigned long id)
{
        for (size_t i = 0; i < n; i++)
                if (id >= maps[i].container_id && id - maps[i].container_id < maps[i].size)
                        return true;
        return false;
}

/* uid= and gid= of a mount's data name ids in the container: a user's
 * mount of a filesystem with an unmapped owner is refused by the kernel
 * with a bare EINVAL (runc checks this too). */
static int check_mount_ids(const gk_spec *s, gk_error **err)
{
        const gk_linux *l = &s->linux;

        /* in gkrun's own user namespace (root of rootless podman's) the ids
         * are that namespace's, which the kernel checks */
        if (!l->namespaces[GK_NS_USER].present || !l->n_uid_mappings)
                return 0;
        for (size_t i = 0; i < s->n_mounts; i++) {
                const gk_mount *m = &s->mounts[i];

                for (size_t k = 0; k < m->n_options; k++) {
                        const char *o = m->options[k];
                        bool uid = gk_str_has_prefix(o, "uid="),
                             gid = gk_str_has_prefix(o, "gid=");
                        uint64_t id;

                        if (!uid && !gid)
                                continue;
                        if (!gk_parse_u64(o + 4, &id))
                                continue;
                        if (uid ? mapped(l->uid_mappings, l->n_uid_mappings, id)
                                : mapped(l->gid_mappings, l->n_gid_mappings, id))
                                continue;
                        return gk_error_make(err, 0,
                                             "config.json: mounts[%zu]: option `%s`: %s %llu is "
                                             "not mapped in the container's user namespace",
                                             i, o, uid ? "uid" : "gid", (unsigned long long) id);
                }
        }
        return 0;
}

/* Only root raises a hard limit: the init's CAP_SYS_RESOURCE is its user
 * namespace's, which setrlimit does not count. */
static int check_rlimits(const gk_process *p, gk_error **err)
{
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit cur;

                if (getrlimit(p->rlimits[i].resource, &cur) < 0)
                        continue;
                if (cur.rlim_max == RLIM_INFINITY || p->rlimits[i].hard <= cur.rlim_max)
                        continue;
                return gk_error_plain(err, EPERM,
                                      "config.json: process.rlimits[%zu]: %s hard %llu is above "
                                      "the current hard limit %llu, which only root can raise",
                                      i, p->rlimits[i].type,
                                      (unsigned long long) p->rlimits[i].hard,
                                      (unsigned long long) cur.rlim_max);
        }
        return 0;
}

/* Lowering oom_score_adj takes CAP_SYS_RESOURCE in the host's user
 * namespace: a user can only keep or raise its own. */
static int check_oom_score_adj(const gk_process *p, gk_error **err)
{
        _cleanup_free_ char *s = NULL;
        long cur;

        if (!p->has_oom_score_adj || gk_read_file("/proc/self/oom_score_adj", &s, NULL, NULL) < 0)
                return 0;
        cur = strtol(s, NULL, 10);
        if (p->oom_score_adj >= cur)
                return 0;
        return gk_error_plain(err, EPERM,
                              "config.json: process.oomScoreAdj: %d is below gkrun's own (%ld): "
                              "an unprivileged user can only raise it",
                              p->oom_score_adj, cur);
}

/* A user namespace made by a user with only its own gid mapped has
 * setgroups denied (idmap.c): no group list can be set in it. */
static int check_groups(const gk_spec *s, gk_error **err)
{
        const gk_linux *l = &s->linux;

        if (!s->process->user.n_additional_gids || l->n_gid_mappings != 1 ||
            l->gid_mappings[0].host_id != getegid() || l->gid_mappings[0].size != 1)
                return 0;
        return gk_error_make(err, 0,
                             "config.json: process.user.additionalGids: a user namespace that "
                             "maps gid %u alone denies setgroups (map more gids, from "
                             "/etc/subgid, through linux.gidMappings)",
                             (unsigned) getegid());
}

int gk_rootless_check(const gk_container *c, gk_error **err)
{
        const gk_spec *s = c->spec;

        if (!gk_rootless_user(c->g))
                return 0;
        /* root of a user namespace (rootless podman's) has its ids mapped
         * already: the container may share that namespace */
        if (geteuid() != 0 && !s->linux.namespaces[GK_NS_USER].present)
                return gk_error_make(err, 0,
                                     "config.json: linux.namespaces: a rootless container (gkrun "
                                     "run by uid %u) needs a user namespace (`gkrun spec "
                                     "--rootless` writes one)",
                                     (unsigned) geteuid());
        if (gk_netcall_wanted(s->annotations, s->n_annotations))
                return gk_error_make(err, 0,
                                     "config.json: annotations: " GK_ANN_NET_PREFIX
                                     "*: gkrun-net needs root (a rootless container has "
                                     "the host's network or its own without links)");
        if (check_mount_ids(s, err) < 0 || (geteuid() != 0 && check_groups(s, err) < 0) ||
            check_rlimits(s->process, err) < 0 || check_oom_score_adj(s->process, err) < 0)
                return gk_error_code(*err);
        return 0;
}

/* The first limit RES asks for (what needs a cgroup), or NULL: device
 * rules are left out, as runc's rootless cgroup manager ignores them (a
 * user cannot load a device filter, and cannot make device nodes). */
static const char *first_limit(const gk_resources *res)
{
        if (!res || !res->present)
                return NULL;
        if (res->has_memory)
                return "memory";
        if (res->has_cpu)
                return "cpu";
        if (res->has_pids)
                return "pids";
        if (res->has_blkio)
                return "blockIO";
        if (res->n_hugepage_limits)
                return "hugepageLimits";
        if (res->has_network || res->n_net_priorities || res->has_net_class_id)
                return "network";
        if (res->n_rdma)
                return "rdma";
        if (res->n_unified)
                return "unified";
        return NULL;
}

/* Whether the nearest existing directory at or above DIR is one we may
 * make directories in. */
static int dir_writable(const char *mnt, const char *dir, void *arg)
{
        _cleanup_free_ char *p = strdup(dir);
        const char **denied = arg;

        (void) mnt;
        if (!p)
                return -ENOMEM;
        while (access(p, F_OK) < 0 && strrchr(p, '/') && strrchr(p, '/') != p)
                *strrchr(p, '/') = '\0';
        if (faccessat(AT_FDCWD, p, W_OK | X_OK, AT_EACCESS) == 0)
                return 0;
        *denied = mnt;
        return -EACCES;
}

int gk_rootless_cgroup_plan(gk_container *c, gk_error **err)
{
        gk_resources *res = &c->spec->linux.resources;
        const char *cgpath = c->spec->linux.cgroups_path, *limit, *denied = NULL;

        if (gk_cgroup_plan(c->id, cgpath, res->present ? res : NULL, c->g->systemd_cgroup, &c->cg,
                           err) < 0)
                return gk_error_code(*err);
        /* as runc's rootless manager: device rules are not applied */
        gk_cgroup_no_devices(c->cg);
        /* a path given is made or fails; systemd makes its own */
        if ((cgpath && *cgpath) || c->g->systemd_cgroup)
                return 0;
        if (gk_cgroup_each_dir(c->cg, dir_writable, &denied) != -EACCES)
                return 0;
        limit = first_limit(res);
        gk_cgroup_freep(&c->cg);
        if (!limit)
                return 0;
        return gk_error_plain(
                err, EACCES,
                "config.json: linux.resources.%s: a limit needs a cgroup, and uid %u cannot make "
                "one under `%s` (no cgroup is delegated to it): remove the limits, or have root "
                "delegate one to the user (cgroup v2: a subtree it owns, as systemd's "
                "Delegate=yes gives; v1: a directory it owns on each hierarchy) and name it in "
                "linux.cgroupsPath",
                limit, (unsigned) geteuid(), denied);
}
