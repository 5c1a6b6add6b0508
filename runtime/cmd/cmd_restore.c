/* gkrun restore: runc's flags, through CRIU (criu/). */
#include <stddef.h>

#include "cmd/commands.h"
#include "criu/criu.h"
#include "gk/opts.h"

int cmd_restore(int argc, char **argv, const gk_global *g, gk_error **err)
{
        gk_criu_flags f = { .image_path = "checkpoint", .bundle = ".", .cg_mode = -1 };
        const char *cg_mode = NULL;
        bool no_subreaper = false;
        const gk_opt opts[] = {
                { "image-path", 0, GK_OPT_STRING, &f.image_path, "DIR",
                  "where the checkpoint images go (default ./checkpoint)" },
                { "work-path", 0, GK_OPT_STRING, &f.work_path, "DIR",
                  "where CRIU writes its log and work files (default: the image path)" },
                { "bundle", 'b', GK_OPT_STRING, &f.bundle, "DIR",
                  "the bundle of the restored container (default .)" },
                { "detach", 'd', GK_OPT_BOOL, &f.detach, NULL, "return once the container runs" },
                { "pid-file", 0, GK_OPT_STRING, &f.pid_file, "FILE",
                  "write the restored init's pid to FILE" },
                { "console-socket", 0, GK_OPT_STRING, &f.console_socket, "PATH",
                  "unix socket that receives the terminal's master fd" },
                { "no-pivot", 0, GK_OPT_BOOL, &f.no_pivot, NULL,
                  "do not use pivot_root (the rootfs on a ramdisk)" },
                { "no-subreaper", 0, GK_OPT_BOOL, &no_subreaper, NULL,
                  "accepted for runc's callers; gkrun is the restored init's subreaper" },
                { "tcp-established", 0, GK_OPT_BOOL, &f.tcp_established, NULL,
                  "allow open TCP connections" },
                { "ext-unix-sk", 0, GK_OPT_BOOL, &f.ext_unix_sk, NULL,
                  "allow external unix sockets" },
                { "shell-job", 0, GK_OPT_BOOL, &f.shell_job, NULL,
                  "allow a shell job (a process on the caller's terminal)" },
                { "file-locks", 0, GK_OPT_BOOL, &f.file_locks, NULL, "handle file locks" },
                { "manage-cgroups-mode", 0, GK_OPT_STRING, &cg_mode, "MODE",
                  "cgroups mode: soft, full, strict or ignore" },
                { 0 },
        };
        int first;

        if (gk_opts_parse(argc, argv, argv[0], opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first != argc - 1)
                return gk_error_make(err, 0,
                                     "restore: requires exactly 1 argument: the "
                                     "container id");
        if (cg_mode && gk_criu_cg_mode(cg_mode, &f.cg_mode, err) < 0)
                return gk_error_code(*err);
        return gk_criu_restore(g, argv[first], &f, err);
}
