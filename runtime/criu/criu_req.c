/* One libcriu request: its options, image and work directories, log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "criu/criu_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

int gk_criu_cg_mode(const char *s, int *mode, gk_error **err)
{
        static const struct {
                const char *name;
                int mode;
        } modes[] = {
                { "soft", GK_CRIU_CG_SOFT },
                { "full", GK_CRIU_CG_FULL },
                { "strict", GK_CRIU_CG_STRICT },
                { "ignore", GK_CRIU_CG_IGNORE },
        };

        for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
                if (!strcmp(s, modes[i].name)) {
                        *mode = modes[i].mode;
                        return 0;
                }
        return gk_error_make(err, 0,
                             "invalid value for --manage-cgroups-mode: `%s` (want soft, full, "
                             "strict or ignore)",
                             s);
}

int gk_criu_empty_ns_check(const char *verb, char **names, gk_error **err)
{
        for (size_t i = 0; names && names[i]; i++)
                if (strcmp(names[i], "network"))
                        return gk_error_make(err, 0,
                                             "%s: --empty-ns `%s`: CRIU can leave only the "
                                             "network namespace empty",
                                             verb, names[i]);
        return 0;
}

/* libcriu (3.17) has no call for CRIU's empty_ns: it goes in a config
 * file that `criu swrk` reads at its start (CRIU_CONFIG_FILE), the
 * CLI's `--empty-ns net`. */
static int write_config(gk_criu_req *q, const gk_criu_flags *f, gk_error **err)
{
        static const char text[] = "empty-ns net\n";

        if (!f->empty_ns || !f->empty_ns[0])
                return 0;
        if (asprintf(&q->config, "%s/gkrun-criu.conf", q->log_dir) < 0) {
                q->config = NULL;
                return gk_error_make(err, ENOMEM, "%s", q->verb);
        }
        return gk_write_file_atomic(q->config, text, sizeof(text) - 1, 0600, false, err);
}

/* libcriu would fork `criu swrk` itself, but a fork made by the libc
 * that dlopen() brought into a static gkrun crashes in the child (that
 * libc never set the process up): we start it, with our libc, and hand
 * libcriu the socket.  libcriu closes it after one request, so each
 * request has a swrk of its own, reaped when it is answered. */
int gk_criu_call(gk_criu_req *q, int (*fn)(criu_opts *), gk_error **err)
{
        int sv[2], r, status;
        pid_t pid;

        if (socketpair(AF_LOCAL, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return gk_error_errno(err, "%s: socket for `criu swrk`", q->verb);
        pid = fork();
        if (pid < 0) {
                r = gk_error_errno(err, "%s: fork `criu swrk`", q->verb);
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (pid == 0) {
                char fd[16];
                int keep = dup(sv[1]); /* without close-on-exec */

                snprintf(fd, sizeof(fd), "%d", keep);
                if (q->config)
                        setenv("CRIU_CONFIG_FILE", q->config, 1);
                execlp("criu", "criu", "swrk", fd, (char *) NULL);
                _exit(127);
        }
        close(sv[1]);
        criu_local_set_service_fd(q->opts, sv[0]);
        r = fn(q->opts); /* closes sv[0] */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return gk_error_make(err, ENOENT,
                                     "%s: CRIU is not installed (cannot run `criu swrk`)",
                                     q->verb);
        return r;
}

static int open_dir(const char *path, bool make, const char *what, gk_error **err)
{
        int fd;

        if (make && mkdir(path, 0700) < 0 && errno != EEXIST)
                return gk_error_errno(err, "%s `%s`", what, path);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "%s `%s`", what, path);
        return fd;
}

int gk_criu_req_open(gk_criu_req *q, const char *verb, const char *log_name,
                     const gk_criu_flags *f, bool mkdir_images, gk_error **err)
{
        int r;

        *q = (gk_criu_req){ .verb = verb, .log_name = log_name, .image_fd = -1, .work_fd = -1 };
        if (gk_criu_load(verb, err) < 0)
                return gk_error_code(*err);
        q->image_fd = open_dir(f->image_path, mkdir_images, "image path", err);
        if (q->image_fd < 0)
                return gk_error_wrap(err, "%s", verb);
        if (f->work_path) {
                q->work_fd = open_dir(f->work_path, true, "work path", err);
                if (q->work_fd < 0)
                        return gk_error_wrap(err, "%s", verb);
        }
        q->log_dir = realpath(f->work_path ? f->work_path : f->image_path, NULL);
        r = criu_local_init_opts(&q->opts);
        if (r < 0 || !q->log_dir)
                return gk_error_make(err, r < 0 ? -r : ENOMEM, "%s: libcriu options", verb);
        criu_local_set_images_dir_fd(q->opts, q->image_fd);
        if (q->work_fd >= 0)
                criu_local_set_work_dir_fd(q->opts, q->work_fd);
        criu_local_set_log_level(q->opts, 4);
        if (criu_local_set_log_file(q->opts, log_name) < 0)
                return gk_error_make(err, ENOMEM, "%s: libcriu options", verb);
        if (gk_criu_empty_ns_check(verb, f->empty_ns, err) < 0 || write_config(q, f, err) < 0)
                return gk_error_code(*err);
        return 0;
}

void gk_criu_req_close(gk_criu_req *q)
{
        if (q->opts)
                criu_local_free_opts(q->opts);
        if (q->image_fd >= 0)
                close(q->image_fd);
        if (q->work_fd >= 0)
                close(q->work_fd);
        if (q->config)
                unlink(q->config);
        free(q->config);
        free(q->log_dir);
        q->opts = NULL;
        q->log_dir = q->config = NULL;
        q->image_fd = q->work_fd = -1;
}

void gk_criu_req_common(gk_criu_req *q, const gk_criu_flags *f, bool terminal)
{
        criu_local_set_tcp_established(q->opts, f->tcp_established);
        criu_local_set_ext_unix_sk(q->opts, f->ext_unix_sk);
        criu_local_set_shell_job(q->opts, f->shell_job);
        criu_local_set_file_locks(q->opts, f->file_locks);
        criu_local_set_auto_dedup(q->opts, f->auto_dedup);
        /* the pty master stays ours (restore sends it to the console
         * socket); CRIU keeps the slave side */
        criu_local_set_orphan_pts_master(q->opts, terminal);
        criu_local_set_manage_cgroups(q->opts, true);
        criu_local_set_manage_cgroups_mode(q->opts, f->cg_mode < 0 ? GK_CRIU_CG_SOFT : f->cg_mode);
}

/* CRIU's reason in its log: the first "Error (file:line): REASON" (the
 * cause; "Dumping FAILED" follows it), or, when CRIU failed before it
 * looked at any process, while it probed the kernel as `criu check`
 * does (kerndat), that error, and *EARLY set. */
static char *log_reason(gk_criu_req *q, bool *early)
{
        _cleanup_free_ char *text = NULL;
        char *first = NULL, *kerndat = NULL, *p, *end;
        size_t len;
        int dfd = q->work_fd >= 0 ? q->work_fd : q->image_fd;

        if (gk_read_file_at(dfd, q->log_name, &text, &len, NULL) < 0)
                return NULL;
        /* "(00.012345) Error (criu/x.c:1): ..." at the debug level */
        for (p = strstr(text, "Error ("); p; p = end ? strstr(end + 1, "Error (") : NULL) {
                end = strchr(p, '\n');
                if (end)
                        *end = '\0';
                if (!first)
                        first = p;
                if (!kerndat && strstr(p, "kerndat"))
                        kerndat = p;
        }
        *early = kerndat != NULL;
        p = kerndat ? kerndat : first;
        if (!p)
                return NULL;
        end = strstr(p, "): ");
        p = end ? end + 3 : p;
        len = strlen(p);
        while (len && (p[len - 1] == '.' || p[len - 1] == ' '))
                p[--len] = '\0';
        return strdup(p);
}

int gk_criu_fail(gk_criu_req *q, const char *what, int r, gk_error **err)
{
        bool early = false;
        _cleanup_free_ char *reason = log_reason(q, &early);
        struct utsname u;
        int errnum = r < 0 && r != -EBADE ? -r : 0;

        if (err && *err) /* swrk did not start: gk_criu_call said why */
                return gk_error_code(*err);
        if (!reason)
                reason = strdup(errnum ? strerror(errnum) : "no reason in its log");
        /* CRIU that cannot start (its kernel feature detection failing,
         * as `criu check` does) fails every request: say so rather than
         * "dump failed". */
        if (early) {
                if (uname(&u) < 0)
                        snprintf(u.release, sizeof(u.release), "?");
                return gk_error_make(err, errnum,
                                     "%s: CRIU cannot run on this host (its kernel probe, as in "
                                     "`criu check`, fails on kernel %s): %s (log: %s/%s)",
                                     q->verb, u.release, reason ? reason : "?", q->log_dir,
                                     q->log_name);
        }
        return gk_error_make(err, errnum, "%s: criu %s failed: %s (log: %s/%s)", q->verb, what,
                             reason ? reason : "?", q->log_dir, q->log_name);
}
