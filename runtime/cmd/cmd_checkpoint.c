/* gkrun checkpoint: runc's flags, through CRIU (criu/). */
#include <stddef.h>

#include "cmd/commands.h"
#include "criu/criu.h"
#include "gk/opts.h"

int cmd_checkpoint(int argc, char **argv, const gk_global *g, gk_error **err)
{
        gk_criu_flags f = { .image_path = "checkpoint", .cg_mode = -1 };
        const char *cg_mode = NULL, *page_server = NULL;
        const gk_opt opts[] = {
                { "image-path", 0, GK_OPT_STRING, &f.image_path, "DIR",
                  "where the checkpoint images go (default ./checkpoint)" },
                { "work-path", 0, GK_OPT_STRING, &f.work_path, "DIR",
                  "where CRIU writes its log and work files (default: the image path)" },
                { "parent-path", 0, GK_OPT_STRING, &f.parent_path, "DIR",
                  "the pre-dump this dump is relative to (from the image path)" },
                { "leave-running", 0, GK_OPT_BOOL, &f.leave_running, NULL,
                  "keep the container running after the checkpoint" },
                { "tcp-established", 0, GK_OPT_BOOL, &f.tcp_established, NULL,
                  "allow open TCP connections" },
                { "ext-unix-sk", 0, GK_OPT_BOOL, &f.ext_unix_sk, NULL,
                  "allow external unix sockets" },
                { "shell-job", 0, GK_OPT_BOOL, &f.shell_job, NULL,
                  "allow a shell job (a process on the caller's terminal)" },
                { "file-locks", 0, GK_OPT_BOOL, &f.file_locks, NULL, "handle file locks" },
                { "pre-dump", 0, GK_OPT_BOOL, &f.pre_dump, NULL,
                  "dump memory only, leaving the container running" },
                { "manage-cgroups-mode", 0, GK_OPT_STRING, &cg_mode, "MODE",
                  "cgroups mode: soft, full, strict or ignore" },
                { "empty-ns", 0, GK_OPT_STRING, &f.empty_ns, "NS",
                  "a namespace to leave empty (refused: libcriu has no call for it)" },
                { "page-server", 0, GK_OPT_STRING, &page_server, "ADDR:PORT",
                  "a CRIU page server (refused: not supported)" },
                { 0 },
        };
        int first;

        if (gk_opts_parse(argc, argv, argv[0], opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first != argc - 1)
                return gk_error_make(err, 0,
                                     "checkpoint: requires exactly 1 argument: the "
                                     "container id");
        if (cg_mode && gk_criu_cg_mode(cg_mode, &f.cg_mode, err) < 0)
                return gk_error_code(*err);
        if (page_server)
                return gk_error_make(err, 0, "checkpoint: --page-server: not supported");
        return gk_criu_checkpoint(g, argv[first], &f, err);
}
