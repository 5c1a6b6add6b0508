/* The floor of a container start on this host, for tests/bench/runtime.py:
 *   bench-floor ROOTFS        clone with the pid, mount, uts, ipc and net
 *                             namespaces a default config.json asks for, mount
 *                             proc and a tmpfs /dev inside ROOTFS, pivot_root
 *                             into it, exec /bin/true; the parent waits.
 *   bench-floor --fork ROOTFS fork + exec ROOTFS/bin/true, waited for.
 *   bench-floor --maxrss CMD [ARG...]
 *                             runs CMD and prints its peak RSS in KiB (wait4's
 *                             ru_maxrss: CMD and the children it reaped).  A
 *                             child of a big parent (python) would report the
 *                             parent's RSS, recorded when exec drops its mm.
 * Exit status: the child's.  Nothing a runtime must also do (config parsing,
 * state, cgroups, devices, capabilities, masked paths) is done here, so a
 * runtime's time divided by this one says how much of its start is its own.
 * Build: cc -O2 -static -o bench-floor tests/bench/floor.c */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *rootfs;

static int fail(const char *what)
{
        perror(what);
        return 127;
}

/* In the child, in its new namespaces: the mounts, pivot_root, exec. */
static int child(void *arg)
{
        char *const argv[] = { "/bin/true", NULL };
        char *const envp[] = { "PATH=/bin", NULL };

        (void) arg;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return fail("make / private");
        if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return fail("bind rootfs");
        if (chdir(rootfs) < 0)
                return fail("chdir rootfs");
        if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return fail("mount proc");
        if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID, "mode=755,size=65536k") < 0)
                return fail("mount dev");
        /* pivot_root(".", ".") stacks the old root on top of the new one;
         * detaching "." then leaves only the new root */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return fail("pivot_root");
        if (umount2(".", MNT_DETACH) < 0)
                return fail("detach old root");
        if (chdir("/") < 0)
                return fail("chdir /");
        execve(argv[0], argv, envp);
        return fail("exec /bin/true");
}

int main(int argc, char **argv)
{
        static char stack[64 * 1024] __attribute__((aligned(16)));
        int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
        struct rusage ru;
        int status;
        pid_t pid;

        if (argc >= 3 && !strcmp(argv[1], "--maxrss")) {
                pid = fork();
                if (pid == 0) {
                        execvp(argv[2], argv + 2);
                        _exit(fail(argv[2]));
                }
                if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
                        return fail("fork/wait4");
                printf("%ld\n", ru.ru_maxrss);
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (argc == 3 && !strcmp(argv[1], "--fork")) {
                char path[4096];

                snprintf(path, sizeof(path), "%s/bin/true", argv[2]);
                pid = fork();
                if (pid == 0) {
                        execl(path, "true", (char *) NULL);
                        _exit(fail(path));
                }
        } else if (argc == 2) {
                rootfs = argv[1];
                pid = clone(child, stack + sizeof(stack), flags | SIGCHLD, NULL);
        } else {
                fprintf(stderr, "usage: bench-floor [--fork] ROOTFS | --maxrss CMD [ARG...]\n");
                return 2;
        }
        if (pid < 0)
                return fail("clone");
        if (waitpid(pid, &status, 0) < 0)
                return fail("waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
