/* Signal names, exit statuses, and the foreground wait of run/exec that
 * forwards our signals to the container's process. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "spawn/signals.h"

int gk_exit_status(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return 255;
}

int gk_signal_parse(const char *s, int *sig)
{
        uint64_t n;

        if (gk_parse_u64(s, &n)) {
                if (n == 0 || n > 64)
                        return -EINVAL;
                *sig = (int) n;
                return 0;
        }
        if (!strncasecmp(s, "SIG", 3))
                s += 3;
        for (int i = 1; i < 32; i++) {
                const char *abbr = sigabbrev_np(i);

                if (abbr && !strcasecmp(s, abbr)) {
                        *sig = i;
                        return 0;
                }
        }
        if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
                int64_t off = 0;
                bool min = !strncasecmp(s, "RTMIN", 5);

                if (s[5] && !gk_parse_i64(s + 5 + (s[5] == '+'), &off))
                        return -EINVAL;
                *sig = (int) ((min ? SIGRTMIN : SIGRTMAX) + off);
                return *sig >= SIGRTMIN && *sig <= SIGRTMAX ? 0 : -EINVAL;
        }
        return -EINVAL;
}

int gk_wait_forward(pid_t pid)
{
        sigset_t mask, old;
        _cleanup_close_ int sfd = -1;
        int status = 0;

        sigemptyset(&mask);
        for (int s = 1; s < 32; s++)
                if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS && s != SIGFPE &&
                    s != SIGILL && s != SIGTTOU && s != SIGTTIN && s != SIGTSTP)
                        sigaddset(&mask, s);
        sigprocmask(SIG_BLOCK, &mask, &old);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        for (;;) {
                struct signalfd_siginfo si;
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid || (r < 0 && errno != EINTR))
                        break;
                if (sfd < 0) {
                        waitpid(pid, &status, 0);
                        break;
                }
                if (read(sfd, &si, sizeof(si)) != sizeof(si))
                        continue;
                if (si.ssi_signo != SIGCHLD)
                        kill(pid, (int) si.ssi_signo);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        return gk_exit_status(status);
}
