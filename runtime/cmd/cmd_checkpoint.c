/* gkrun checkpoint: runc's flags, through CRIU (criu/). */
#include <stddef.h>

#include "gk/cleanup.h"

#include "cmd/commands.h"
#include "criu/criu.h"
#include "gk/opts.h"

int cmd_checkpoint(int argc, char **argv, const gk_global *g, gk_error **err)
{
        gk_criu_flags f = { .image_path = "checkpoint", .cg_mode = -1 };
        const char *cg_mode = NULL, *page_server = NULL, *status_fd = NULL;
        _cleanup_(gk_strvfreep) char **empty_ns = NULL;
        bool lazy_pages = false;
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
                { "empty-ns", 0, GK_OPT_STRV, &empty_ns, "NS",
                  "dump a namespace as empty: its content is not restored (network)" },
                { "auto-dedup", 0, GK_OPT_BOOL, &f.auto_dedup, NULL,
                  "punch the pages of a parent dump out of its images" },
                { "lazy-pages", 0, GK_OPT_BOOL, &lazy_pages, NULL,
                  "leave memory to be fetched at restore (refused: not supported)" },
                { "status-fd", 0, GK_OPT_STRING, &status_fd, "FD",
                  "the lazy-pages server's readiness (taken; used only with --lazy-pages)" },
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
        if (lazy_pages)
                return gk_error_make(err, 0, "checkpoint: --lazy-pages: not supported");
        if (gk_criu_empty_ns_check("checkpoint", empty_ns, err) < 0)
                return gk_error_code(*err);
        f.empty_ns = empty_ns;
        return gk_criu_checkpoint(g, argv[first], &f, err);
}
