/* gkrun start: lets a created container's init execute the user process
 * by opening its exec fifo, then runs the poststart hooks. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "container/container.h"
#include "container/destroy.h"
#include "container/notify.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/opts.h"

static int one_id(int argc, char **argv, const char **id, gk_error **err)
{
        const gk_opt opts[] = { { 0 } };
        int first;

        if (gk_opts_parse(argc, argv, argv[0], opts, &first, err) < 0)
                return gk_error_code(*err);
        if (first != argc - 1)
                return gk_error_make(err, 0, "%s: requires exactly 1 argument: the container id",
                                     argv[0]);
        *id = argv[first];
        return 0;
}

/* Waits for the init's write end of the fifo to close: the init keeps it
 * until the execve of the container's process (or its exit), so the process
 * runs when start returns.  What the init writes before is its error: the
 * startContainer hooks or the exec failed. */
static int wait_exec(int fd, const gk_state *st, gk_error **err)
{
        char msg[4000];
        size_t len = 0;

        for (;;) {
                struct pollfd p = { fd, POLLIN, 0 };
                int n = poll(&p, 1, 100);

                if (n > 0) {
                        ssize_t r = read(fd, msg + len, sizeof(msg) - 1 - len);

                        if (r > 0 && (len += (size_t) r) < sizeof(msg) - 1)
                                continue;
                        if (r == 0 || len == sizeof(msg) - 1 ||
                            (r < 0 && errno != EAGAIN && errno != EINTR))
                                break;
                }
                if (!gk_state_init_alive(st)) {
                        /* what it wrote before it died */
                        ssize_t r = read(fd, msg + len, sizeof(msg) - 1 - len);

                        len += r > 0 ? (size_t) r : 0;
                        break;
                }
        }
        msg[len] = '\0';
        return len ? gk_error_make(err, 0, "%s", msg) : 0;
}

/* Reads the init's byte from the fifo, watching that the init lives. */
static int open_fifo(const char *root, const gk_state *st, gk_error **err)
{
        _cleanup_free_ char *path = gk_state_path(root, st->id, "exec.fifo");
        _cleanup_close_ int fd = -1;
        char byte;

        if (!path)
                return gk_error_make(err, ENOMEM, "start");
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open exec fifo");
        for (;;) {
                struct pollfd p = { fd, POLLIN, 0 };
                int n = poll(&p, 1, 100);

                if (n > 0 && (p.revents & POLLIN) && read(fd, &byte, 1) == 1)
                        break;
                if (!gk_state_init_alive(st))
                        return gk_error_make(err, 0, "container init exited before start");
        }
        GK_FAULT("start.before-fifo-unlink");
        unlink(path);
        return wait_exec(fd, st, err);
}

static int poststart(const gk_global *g, const gk_state *st, gk_error **err)
{
        _cleanup_(gk_spec_freep) gk_spec *spec = NULL;
        _cleanup_free_ char *json = NULL;

        if (gk_state_load_spec(g->root, st->id, &spec, err) < 0)
                return gk_error_code(*err);
        if (!spec->hooks.poststart.n)
                return 0;
        if (gk_state_to_oci_json(g->root, st, &json, err) < 0)
                return gk_error_code(*err);
        return gk_hooks_run(&spec->hooks.poststart, "poststart", json, err);
}

int cmd_start(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_close_ int lock = -1, notify = -1;
        const char *id = NULL;

        if (one_id(argc, argv, &id, err) < 0 || gk_state_load(g->root, id, &st, err) < 0)
                return gk_error_code(*err);
        lock = gk_state_lock(g->root, id, err);
        if (lock < 0)
                return lock;
        switch (gk_state_status(g->root, st)) {
        case GK_STATUS_CREATED:
                break;
        case GK_STATUS_STOPPED:
                return gk_error_make(err, 0, "cannot start a container that has stopped");
        case GK_STATUS_RUNNING:
        case GK_STATUS_PAUSED:
                return gk_error_make(err, 0, "cannot start an already running container");
        case GK_STATUS_CREATING:
                return gk_error_make(err, 0,
                                     "cannot start a container that is still being created");
        }
        /* The container's notify socket listens before its process runs. */
        if (gk_notify_listen(g->root, id, &notify, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("start.before-fifo");
        if (open_fifo(g->root, st, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("start.after-fifo");
        /* runtime-spec 1.3: a failing poststart hook is an error and stops
         * the container; it stays, stopped, for delete (as runc's start). */
        if (poststart(g, st, err) < 0) {
                gk_container_stop(st);
                return gk_error_code(*err);
        }
        close(TAKE_FD(lock));
        GK_FAULT("start.after-poststart");
        return gk_notify_relay(TAKE_FD(notify), st->pid, st->pid, err);
}

int gk_cmd_one_id(int argc, char **argv, const char **id, gk_error **err)
{
        return one_id(argc, argv, id, err);
}
