/* gkrun: global flags, the command table, and the one place errors are
 * printed (stderr, and the --log file as text or JSON lines). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "container/rootless.h"
#include "container/selfclone.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/util.h"

static const struct {
        const char *name;
        gk_command_fn fn;
        const char *help;
        const char *args; /* after "gkrun NAME [OPTIONS]", for --help */
} commands[] = {
        { "create", cmd_create, "create a container", "CONTAINER_ID" },
        { "start", cmd_start, "execute the user process in a created container", "CONTAINER_ID" },
        { "run", cmd_run, "create and start a container", "CONTAINER_ID" },
        { "state", cmd_state, "output the state of a container", "CONTAINER_ID" },
        { "kill", cmd_kill, "send a signal to the container's init (or all its processes)",
          "CONTAINER_ID [SIGNAL]" },
        { "delete", cmd_delete, "delete a container", "CONTAINER_ID" },
        { "list", cmd_list, "list containers", "" },
        { "ps", cmd_ps, "list the processes of a container", "CONTAINER_ID [PS_ARGS...]" },
        { "exec", cmd_exec, "execute a new process inside a container",
          "CONTAINER_ID COMMAND [ARG...]" },
        { "spec", cmd_spec, "create a default config.json", "" },
        { "features", cmd_features, "show the enabled features", "" },
        { "update", cmd_update, "update a container's resource limits", "CONTAINER_ID" },
        { "pause", cmd_pause, "freeze every process of a container", "CONTAINER_ID" },
        { "resume", cmd_resume, "thaw a paused container", "CONTAINER_ID" },
        { "events", cmd_events, "show a container's events and statistics", "CONTAINER_ID" },
        { "checkpoint", cmd_checkpoint, "checkpoint a running container (CRIU)", "CONTAINER_ID" },
        { "restore", cmd_restore, "restore a container from a checkpoint (CRIU)", "CONTAINER_ID" },
};

/* A command's --help, on stdout as runc prints it: the flags come from
 * the table its parser used (gk_opts_help), so they cannot drift. */
static void command_help(size_t i, const char *flags)
{
        printf("usage: gkrun %s [OPTIONS]%s%s\n\n%s\n\noptions:\n%s", commands[i].name,
               *commands[i].args ? " " : "", commands[i].args, commands[i].help, flags);
}

static void usage(FILE *f)
{
        fprintf(f,
                "usage: gkrun [--root DIR] [--log FILE] [--log-format text|json] [--debug]\n"
                "             [--systemd-cgroup] [--rootless BOOL] COMMAND [ARG...]\n\ncommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

/* LEVEL is "error" or "warning": the line on stderr is "gkrun: MSG" or
 * "gkrun: warning: MSG", the --log line carries the level. */
static void log_line(const gk_global *g, const char *level, const char *msg)
{
        _cleanup_close_ int fd = -1;
        char now[64];

        if (!strcmp(level, "error"))
                fprintf(stderr, "gkrun: %s\n", msg);
        else
                fprintf(stderr, "gkrun: %s: %s\n", level, msg);
        if (!g->log_path)
                return;
        fd = open(g->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        gk_format_time_rfc3339(now, sizeof(now), gk_now_ns());
        if (g->log_json) {
                _cleanup_(gk_json_genp) yajl_gen gen = gk_json_gen_new(false);
                _cleanup_free_ char *line = NULL;
                size_t len;

                yajl_gen_map_open(gen);
                gk_json_kstr(gen, "level", level);
                gk_json_kstr(gen, "msg", msg);
                gk_json_kstr(gen, "time", now);
                yajl_gen_map_close(gen);
                if (gk_json_gen_finish(gen, &line, &len, NULL) == 0) {
                        gk_write_all(fd, line, len);
                        gk_write_all(fd, "\n", 1);
                }
        } else {
                dprintf(fd, "time=\"%s\" level=%s msg=\"%s\"\n", now, level, msg);
        }
}

static void log_error(const gk_global *g, const char *msg)
{
        log_line(g, "error", msg);
}

static void log_warning(const gk_global *g, const char *msg)
{
        log_line(g, "warning", msg);
}

/* --root when not given: root's /run/gkrun, a user's under
 * $XDG_RUNTIME_DIR (runc: /run/runc and $XDG_RUNTIME_DIR/runc). */
static int default_root(gk_global *g, char **owned, gk_error **err)
{
        if (!gk_rootless_state_in_xdg(g)) {
                g->root = "/run/gkrun";
                return 0;
        }
        if (gk_rootless_state_root(owned, err) < 0)
                return gk_error_code(*err);
        g->root = *owned;
        return 0;
}

int main(int argc, char **argv)
{
        _cleanup_(gk_error_freep) gk_error *err = NULL;
        gk_global g = { .rootless = -1, .argv = argv, .warn = log_warning };
        const char *log_format = "text", *rootless = NULL, *criu = NULL;
        _cleanup_free_ char *xdg_root = NULL;
        bool help = false, version = false;
        const gk_opt opts[] = {
                { "root", 0, GK_OPT_STRING, &g.root },
                { "log", 0, GK_OPT_STRING, &g.log_path },
                { "log-format", 0, GK_OPT_STRING, &log_format },
                { "debug", 0, GK_OPT_BOOL, &g.debug },
                { "systemd-cgroup", 0, GK_OPT_BOOL, &g.systemd_cgroup },
                { "rootless", 0, GK_OPT_STRING, &rootless },
                { "criu", 0, GK_OPT_STRING, &criu },
                { "help", 'h', GK_OPT_BOOL, &help },
                { "version", 'v', GK_OPT_BOOL, &version },
                { 0 },
        };
        int first, r;

        gk_self_dir_note();
        g.in_userns = gk_in_user_namespace();
        if (gk_opts_parse(argc, argv, NULL, opts, &first, &err) < 0) {
                log_error(&g, err->msg);
                return 2;
        }
        g.log_json = !strcmp(log_format, "json");
        if (!g.log_json && strcmp(log_format, "text")) {
                log_error(&g, "invalid value for --log-format: want text or json");
                return 2;
        }
        if (rootless && strcmp(rootless, "auto")) {
                bool b;
                if (gk_parse_bool(rootless, &b) < 0) {
                        log_error(&g, "invalid value for --rootless: want true, false or auto");
                        return 2;
                }
                g.rootless = b;
        }
        if (version) {
                printf("gkrun version " GK_VERSION "\nspec: 1.3.0\n");
                return 0;
        }
        /* Every command's --help and -h, from the table its parser uses. */
        gk_opts_set_help(true);
        if (help || first >= argc) {
                usage(help ? stdout : stderr);
                return help ? 0 : 2;
        }
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                if (strcmp(argv[first], commands[i].name))
                        continue;
                if (!g.root && commands[i].fn != cmd_spec && commands[i].fn != cmd_features &&
                    default_root(&g, &xdg_root, &err) < 0) {
                        log_error(&g, err->msg);
                        return 1;
                }
                /* The commands that start processes in a container run
                 * only from a binary the container cannot write. */
                if ((commands[i].fn == cmd_create || commands[i].fn == cmd_run ||
                     commands[i].fn == cmd_exec) &&
                    gk_selfclone_ensure(argv, &err) < 0) {
                        log_error(&g, err->msg);
                        return 1;
                }
                r = commands[i].fn(argc - first, argv + first, &g, &err);
                if (r < 0 && err && err->errnum == GK_OPTS_HELP) {
                        command_help(i, err->msg);
                        return 0;
                }
                if (r < 0) {
                        log_error(&g, err ? err->msg : strerror(-r));
                        return 1;
                }
                return r;
        }
        fprintf(stderr, "gkrun: unknown command \"%s\"\n", argv[first]);
        usage(stderr);
        return 2;
}
