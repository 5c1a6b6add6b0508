/* gkrun kill [--all] ID [SIGNAL] and gkrun delete [--force] ID. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "cgroup/cgroup.h"
#include "container/pidns.h"
#include "cmd/commands.h"
#include "container/destroy.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "spawn/signals.h"

/* A frozen process dies only once thawed: after SIGKILL, thaw a paused
 * container (as runc does) so that an orchestrator's kill, and the wait
 * for the exit that follows it, complete. */
static void thaw_if_killed(const gk_state *st, gk_cgroup **cg, enum gk_status status, int sig)
{
        if (sig != SIGKILL || status != GK_STATUS_PAUSED || !st->cgroup || !st->cgroup[0])
                return;
        if (*cg || gk_cgroup_open(st->cgroup, cg, NULL) >= 0)
                gk_cgroup_freeze(*cg, false, NULL);
}

/* --all for a container without a cgroup of its own (rootless, no
 * limits): every process of its pid namespace. */
static int kill_pidns(const gk_state *st, enum gk_status status, int sig, gk_error **err)
{
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;

        if (status == GK_STATUS_STOPPED)
                return 0;
        if (gk_pidns_pids(st->pid, &pids, &n, err) < 0)
                return gk_error_code(*err);
        for (size_t i = 0; i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        return gk_error_errno(err, "kill %d", (int) pids[i]);
        return 0;
}

int cmd_kill(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        bool all = false;
        const gk_opt opts[] = { { "all", 'a', GK_OPT_BOOL, &all, NULL,
                                  "signal every process of the container, not only its init" },
                                { 0 } };
        int first, sig = SIGTERM;
        enum gk_status status;

        if (gk_opts_parse(argc, argv, "kill", opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first >= argc || argc - first > 2)
                return gk_error_make(err, 0, "kill: requires 1 or 2 arguments: ID [SIGNAL]");
        if (argc - first == 2 && gk_signal_parse(argv[first + 1], &sig) < 0)
                return gk_error_make(err, 0, "unknown signal \"%s\"", argv[first + 1]);
        if (gk_state_load(g->root, argv[first], &st, err) < 0)
                return gk_error_code(*err);
        status = gk_state_status(g->root, st);
        if (status == GK_STATUS_STOPPED && !all)
                return gk_error_plain(err, ESRCH, "container not running");
        if (all && !(st->cgroup && st->cgroup[0]))
                return kill_pidns(st, status, sig, err);
        if (all) {
                if (!st->cgroup || !st->cgroup[0] || gk_cgroup_open(st->cgroup, &cg, err) < 0 ||
                    gk_cgroup_kill_all(cg, sig, err) < 0)
                        return err && *err ? gk_error_code(*err) : -EINVAL;
                thaw_if_killed(st, &cg, status, sig);
                return 0;
        }
        if (kill(st->pid, sig) < 0)
                return errno == ESRCH ? gk_error_plain(err, ESRCH, "container not running")
                                      : gk_error_errno(err, "kill %d", (int) st->pid);
        thaw_if_killed(st, &cg, status, sig);
        return 0;
}

int cmd_delete(int argc, char **argv, const gk_global *g, gk_error **err)
{
        bool force = false;
        const gk_opt opts[] = { { "force", 'f', GK_OPT_BOOL, &force, NULL,
                                  "kill the container first if it still runs" },
                                { 0 } };
        int first;

        if (gk_opts_parse(argc, argv, "delete", opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first != argc - 1)
                return gk_error_make(err, 0,
                                     "delete: requires exactly 1 argument: the container id");
        if (gk_id_validate(argv[first], err) < 0)
                return gk_error_code(*err);
        return gk_container_delete(g, argv[first], force, NULL, err) < 0 ? gk_error_code(*err) : 0;
}
