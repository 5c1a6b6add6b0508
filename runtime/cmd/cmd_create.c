/* gkrun create and gkrun run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "container/container.h"
#include "container/destroy.h"
#include "container/notify.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "gk/util.h"
#include "spawn/console.h"
#include "spawn/signals.h"

typedef struct create_flags {
        const char *bundle, *pid_file, *console_socket;
        bool no_pivot, no_new_keyring, detach, keep, no_subreaper;
        int preserve_fds;
} create_flags;

static int parse_create(int argc, char **argv, create_flags *f, bool run, const char **id,
                        gk_error **err)
{
        const gk_opt opts[] = {
                { "bundle", 'b', GK_OPT_STRING, &f->bundle, "DIR",
                  "the bundle directory (config.json, rootfs); default: the current one" },
                { "pid-file", 0, GK_OPT_STRING, &f->pid_file, "FILE",
                  "write the container init's pid to FILE" },
                { "console-socket", 0, GK_OPT_STRING, &f->console_socket, "PATH",
                  "unix socket that receives the terminal's master fd (process.terminal)" },
                { "no-pivot", 0, GK_OPT_BOOL, &f->no_pivot, NULL,
                  "enter the rootfs with MS_MOVE and chroot instead of pivot_root" },
                { "no-new-keyring", 0, GK_OPT_BOOL, &f->no_new_keyring, NULL,
                  "keep the caller's session keyring (no new one for the container)" },
                { "preserve-fds", 0, GK_OPT_INT, &f->preserve_fds, "N",
                  "pass N more fds (from 3 on) to the container's process" },
                { run ? "detach" : "-", run ? 'd' : 0, GK_OPT_BOOL, &f->detach, NULL,
                  "return once the container runs, instead of waiting for its end" },
                { run ? "keep" : "-", 0, GK_OPT_BOOL, &f->keep, NULL,
                  "do not delete the container when it ends" },
                { "no-subreaper", 0, GK_OPT_BOOL, &f->no_subreaper, NULL,
                  "accepted for runc's callers; gkrun does not become a subreaper" },
                { 0 },
        };
        int first;

        f->bundle = ".";
        if (gk_opts_parse(argc, argv, argv[0], opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first != argc - 1)
                return gk_error_make(err, 0, "%s: requires exactly 1 argument: the container id",
                                     argv[0]);
        if (f->preserve_fds < 0)
                return gk_error_make(err, 0, "%s: --preserve-fds: must not be negative", argv[0]);
        *id = argv[first];
        return 0;
}

/* systemd socket activation: LISTEN_FDS fds from 3 on are passed through. */
static int listen_fds(void)
{
        const char *s = getenv("LISTEN_FDS");
        uint64_t n;

        return s && gk_parse_u64(s, &n) && n < 1024 ? (int) n : 0;
}

static void init_container(gk_container *c, const gk_global *g, const create_flags *f,
                           const char *id)
{
        int lfds = listen_fds();

        *c = (gk_container){
                .g = g,
                .id = id,
                .bundle = strdup(f->bundle),
                .pid_file = f->pid_file,
                .console_socket = f->console_socket,
                .no_pivot = f->no_pivot,
                .no_new_keyring = f->no_new_keyring,
                .preserve_fds = f->preserve_fds > lfds ? f->preserve_fds : lfds,
                .listen_fds = lfds,
                .proc_fd = -1,
        };
}

int cmd_create(int argc, char **argv, const gk_global *g, gk_error **err)
{
        create_flags f = { 0 };
        gk_container c;
        const char *id;
        int r;

        if (parse_create(argc, argv, &f, false, &id, err) < 0)
                return gk_error_code(*err);
        init_container(&c, g, &f, id);
        r = gk_container_create(&c, err);
        gk_container_release(&c);
        return r < 0 ? r : 0;
}

static int run_poststart(gk_container *c, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_free_ char *json = NULL;

        if (!c->spec->hooks.poststart.n)
                return 0;
        if (gk_state_load(c->g->root, c->id, &st, err) < 0 ||
            gk_state_to_oci_json(c->g->root, st, &json, err) < 0)
                return gk_error_code(*err);
        /* runtime-spec 1.3: the run fails; the caller removes the container */
        return gk_hooks_run(&c->spec->hooks.poststart, "poststart", json, err);
}

static int wait_foreground(gk_container *c, int console_listener, gk_error **err)
{
        _cleanup_close_ int conn = -1, master = -1;

        if (console_listener < 0)
                return gk_wait_forward(c->pid);
        conn = accept4(console_listener, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return gk_error_errno(err, "console socket");
        master = gk_console_recv_master(conn, err);
        if (master < 0)
                return master;
        return gk_tty_proxy(master, c->pid, err);
}

static int run_container(gk_container *c, const create_flags *f, gk_error **err)
{
        _cleanup_close_ int listener = -1, notify = -1;
        _cleanup_free_ char *sock = NULL;
        int r, status;

        if (gk_container_load(c, err) < 0)
                return gk_error_code(*err);
        if (f->detach && !f->console_socket && c->spec->process && c->spec->process->terminal)
                return gk_error_make(
                        err, 0,
                        "cannot allocate tty if gkrun will detach without setting console socket");
        if (!f->detach && !f->console_socket && c->spec->process && c->spec->process->terminal) {
                /* A foreground terminal: we are the console socket's other end. */
                listener = gk_console_listen(&sock, err);
                if (listener < 0)
                        return listener;
                c->console_socket = sock;
        }
        /* Nothing needs the moment between ready and start unless the
         * container's sd_notify is relayed: its socket is bound at start. */
        c->start_at_ready = !gk_notify_host();
        r = gk_container_create(c, err);
        if (sock) {
                unlink(sock);
                *strrchr(sock, '/') = '\0';
                rmdir(sock);
        }
        if (r < 0)
                return r;
        if (gk_notify_listen(c->g->root, c->id, &notify, err) < 0 ||
            gk_container_start_run(c, err) < 0 || run_poststart(c, err) < 0) {
                gk_container_delete(c->g, c->id, true, c->spec, NULL);
                return gk_error_code(*err);
        }
        /* Detached, we return once the container is ready (as runc does);
         * in the foreground gkrun itself is the main process. */
        if (f->detach)
                return gk_notify_relay(TAKE_FD(notify), c->pid, c->pid, err);
        if (gk_notify_relay_thread(TAKE_FD(notify), c->pid, getpid(), err) < 0)
                return gk_error_code(*err);
        status = wait_foreground(c, listener, err);
        if (status < 0)
                return status;
        if (!f->keep && gk_container_delete(c->g, c->id, true, c->spec, err) < 0)
                return gk_error_code(*err);
        return status;
}

int cmd_run(int argc, char **argv, const gk_global *g, gk_error **err)
{
        create_flags f = { 0 };
        gk_container c;
        const char *id;
        int r;

        if (parse_create(argc, argv, &f, true, &id, err) < 0)
                return gk_error_code(*err);
        init_container(&c, g, &f, id);
        c.run_mode = true;
        r = run_container(&c, &f, err);
        gk_container_release(&c);
        return r;
}
