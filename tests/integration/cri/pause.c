/* pause: the process of a test pod's sandbox container, which holds the
 * pod's namespaces.  It sleeps until SIGINT or SIGTERM (then exits 0, so a
 * StopPodSandbox ends it without the SIGKILL fallback) and reaps every child
 * that reaches it: as pid 1 of a pod-wide pid namespace, orphans of the
 * other containers are re-parented to it.  Compiled -static at test time,
 * so the image needs nothing else. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig)
{
        (void) sig;
        _exit(0);
}

static void reap(int sig)
{
        (void) sig;
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

static int on(int sig, void (*fn)(int), int flags)
{
        struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };

        sigemptyset(&sa.sa_mask);
        return sigaction(sig, &sa, NULL);
}

int main(void)
{
        if (on(SIGINT, quit, 0) < 0 || on(SIGTERM, quit, 0) < 0 ||
            on(SIGCHLD, reap, SA_NOCLDSTOP | SA_RESTART) < 0)
                return 1;
        for (;;)
                pause();
}
