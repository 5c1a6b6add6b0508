/* gkrun restore: runc's flags, through CRIU (criu/). */
#include <stddef.h>

#include "gk/cleanup.h"

#include "cmd/commands.h"
#include "criu/criu.h"
#include "gk/opts.h"

int cmd_restore(int argc, char **argv, const gk_global *g, gk_error **err)
{
        gk_criu_flags f = { .image_path = "checkpoint", .bundle = ".", .cg_mode = -1 };
        const char *cg_mode = NULL;
        bool no_subreaper = false, lazy_pages = false;
        _cleanup_(gk_strvfreep) char **empty_ns = NULL;
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
                { "empty-ns", 0, GK_OPT_STRV, &empty_ns, "NS",
                  "a namespace dumped empty is made, its content left out (network)" },
                { "auto-dedup", 0, GK_OPT_BOOL, &f.auto_dedup, NULL,
                  "punch the restored pages out of the images" },
                { "lsm-profile", 0, GK_OPT_STRING, &f.lsm_profile, "TYPE:NAME",
                  "the LSM profile of the restored processes (apparmor:P, selinux:L)" },
                { "lsm-mount-context", 0, GK_OPT_STRING, &f.lsm_mount_context, "CONTEXT",
                  "the SELinux mount context of the restored mounts" },
                { "lazy-pages", 0, GK_OPT_BOOL, &lazy_pages, NULL,
                  "fetch memory lazily (refused: not supported)" },
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
        if (lazy_pages)
                return gk_error_make(err, 0, "restore: --lazy-pages: not supported");
        if (gk_criu_empty_ns_check("restore", empty_ns, err) < 0)
                return gk_error_code(*err);
        f.empty_ns = empty_ns;
        return gk_criu_restore(g, argv[first], &f, err);
}
