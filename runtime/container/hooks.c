/* OCI hooks: each runs with the container's state JSON on stdin, its own
 * args and env, and an optional timeout; a failing hook fails the
 * operation it belongs to (poststart too, since runtime-spec 1.3), except
 * poststop hooks, whose failures are warnings (gk_hooks_run_warn). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "container/container.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "spawn/wait.h"

static _Noreturn void exec_hook(const gk_hook *h, int in)
{
        char *default_args[] = { h->path, NULL };
        char *empty_env[] = { NULL };

        dup2(in, STDIN_FILENO);
        /* The hook's output must not mix with the container's stdio when
         * that is a terminal the caller parses; keep stderr for messages. */
        execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
        _exit(127);
}

/* Without pidfd_open (kernels before 5.3): look again every 5 ms. */
static int wait_hook_polling(pid_t pid, int64_t deadline, int *status)
{
        for (;;) {
                pid_t r = waitpid(pid, status, WNOHANG);

                if (r == pid)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (gk_now_ns() > deadline)
                        return -ETIMEDOUT;
                poll(NULL, 0, 5);
        }
}

static int reap(pid_t pid, int *status)
{
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

/* The hook is our child and not yet reaped, so its pid cannot have been
 * reused: its pidfd says when it ends, or the timeout passes first. */
static int wait_hook(pid_t pid, const gk_hook *h, int *status)
{
        _cleanup_close_ int pidfd = -1;
        int64_t deadline;
        int r;

        if (!h->has_timeout)
                return reap(pid, status);
        deadline = gk_now_ns() + (int64_t) h->timeout * 1000000000;
        pidfd = gk_pidfd_open(pid);
        if (pidfd >= 0)
                r = gk_pidfd_wait(pidfd, deadline);
        else /* ENOSYS: a kernel before 5.3 */
                r = wait_hook_polling(pid, deadline, status);
        if (r == -ETIMEDOUT) {
                kill(pid, SIGKILL);
                reap(pid, status);
                return r;
        }
        if (r < 0 || pidfd < 0) /* polling has reaped it */
                return r;
        return reap(pid, status);
}

static int run_one(const gk_hook *h, const char *what, size_t i, const char *state, gk_error **err)
{
        int p[2], status = 0, r;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return gk_error_errno(err, "%s hook", what);
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return gk_error_errno(err, "%s hook: fork", what);
        }
        if (pid == 0) {
                close(p[1]);
                exec_hook(h, p[0]);
        }
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);
        gk_write_all(p[1], state, strlen(state));
        close(p[1]);
        r = wait_hook(pid, h, &status);
        if (r == -ETIMEDOUT)
                return gk_error_make(err, 0, "%s hook #%zu `%s`: timed out after %d s", what, i,
                                     h->path, h->timeout);
        if (r < 0)
                return gk_error_make(err, -r, "%s hook #%zu `%s`", what, i, h->path);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return gk_error_make(err, 0, "%s hook #%zu `%s`: cannot execute (exit status 127)",
                                     what, i, h->path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return gk_error_make(err, 0, "%s hook #%zu `%s`: %s %d", what, i, h->path,
                                     WIFEXITED(status) ? "exit status" : "killed by signal",
                                     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return 0;
}

int gk_hooks_run(const gk_hook_list *hooks, const char *what, const char *state_json,
                 gk_error **err)
{
        for (size_t i = 0; i < hooks->n; i++)
                if (run_one(&hooks->hooks[i], what, i, state_json, err) < 0)
                        return gk_error_code(*err);
        return 0;
}

/* The runtime spec (lifecycle step 13): if a poststop hook fails, the
 * runtime logs a warning and the remaining hooks and the lifecycle go on
 * as if it had succeeded.  main's printer logs it. */
void gk_hooks_run_warn(const gk_global *g, const gk_hook_list *hooks, const char *what,
                       const char *state_json)
{
        for (size_t i = 0; i < hooks->n; i++) {
                _cleanup_(gk_error_freep) gk_error *err = NULL;

                if (run_one(&hooks->hooks[i], what, i, state_json, &err) < 0 && g->warn)
                        g->warn(g, err->msg);
        }
}
