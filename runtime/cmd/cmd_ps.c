/* gkrun ps [--format table|json] ID [-- PS_ARGS]: the container's processes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container/pidns.h"
#include "cmd/commands.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "gk/util.h"

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

/* Runs ps(1) with ARGS and prints its header and the rows of our pids. */
static int ps_table(char **args, const pid_t *pids, size_t n, gk_error **err)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        int pid_col = -1, p[2];
        pid_t child;

        if (pipe(p) < 0)
                return gk_error_errno(err, "ps");
        child = fork();
        if (child == 0) {
                dup2(p[1], 1);
                close(p[0]);
                execvp("ps", args);
                _exit(127);
        }
        close(p[1]);
        f = fdopen(p[0], "r");
        for (int row = 0; f && getline(&line, &cap, f) > 0; row++) {
                if (row == 0) {
                        char *save = NULL, *copy = strdup(line);
                        int col = 0;

                        for (char *t = strtok_r(copy, " \t\n", &save); t;
                             t = strtok_r(NULL, " \t\n", &save), col++)
                                if (!strcmp(t, "PID"))
                                        pid_col = col;
                        free(copy);
                        fputs(line, stdout);
                        continue;
                }
                char *save = NULL, *copy = strdup(line), *t = strtok_r(copy, " \t", &save);

                for (int col = 0; t && col < pid_col; col++)
                        t = strtok_r(NULL, " \t", &save);
                if (t && has_pid(pids, n, strtol(t, NULL, 10)))
                        fputs(line, stdout);
                free(copy);
        }
        waitpid(child, NULL, 0);
        if (pid_col < 0)
                return gk_error_make(err, 0, "ps: couldn't find PID field in ps output");
        return 0;
}

int cmd_ps(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        const char *format = "table";
        const gk_opt opts[] = { { "format", 'f', GK_OPT_STRING, &format, "table|json",
                                  "output format (json: the pids)" },
                                { 0 } };
        char *default_args[] = { "ps", "-ef", NULL };
        size_t n = 0;
        int first;

        if (gk_opts_parse(argc, argv, "ps", opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first >= argc)
                return gk_error_make(err, 0, "ps: requires the container id");
        if (strcmp(format, "table") && strcmp(format, "json"))
                return gk_error_make(err, 0, "ps: invalid format option \"%s\"", format);
        if (gk_state_load(g->root, argv[first], &st, err) < 0)
                return gk_error_code(*err);
        if (gk_state_status(g->root, st) == GK_STATUS_STOPPED)
                return gk_error_plain(err, ESRCH, "container not running");
        if (st->cgroup && st->cgroup[0] && gk_cgroup_open(st->cgroup, &cg, err) == 0)
                gk_cgroup_pids(cg, &pids, &n, err);
        if (!n) {
                /* No cgroup to ask: the init's pid namespace. */
                free(TAKE_PTR(pids));
                if (gk_pidns_pids(st->pid, &pids, &n, err) < 0)
                        return gk_error_code(*err);
        }
        if (!strcmp(format, "json")) {
                printf("[");
                for (size_t i = 0; i < n; i++)
                        printf("%s%d", i ? "," : "", (int) pids[i]);
                printf("]\n");
                return 0;
        }
        if (first + 1 < argc) {
                argv[first] = "ps";
                return ps_table(argv + first, pids, n, err);
        }
        return ps_table(default_args, pids, n, err);
}
