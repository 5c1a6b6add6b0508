/* Waiting for a process to end or a cgroup to empty: one poll on an fd
 * the kernel signals, instead of looking again every few milliseconds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "spawn/wait.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int gk_pidfd_open(pid_t pid)
{
        /* pidfds are close-on-exec by the kernel's choice */
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);

        return fd < 0 ? -errno : fd;
}

/* Milliseconds until DEADLINE for poll(): -1 without one, 0 once it has
 * passed, rounded up so that a wait never ends early. */
static int ms_left(int64_t deadline)
{
        int64_t left;

        if (!deadline)
                return -1;
        left = deadline - gk_now_ns();
        if (left <= 0)
                return 0;
        left = (left + 999999) / 1000000;
        return left > 60 * 60 * 1000 ? 60 * 60 * 1000 : (int) left;
}

/* One poll for EVENTS on FD until DEADLINE: 1 when they came, 0 on
 * timeout, or -errno. */
static int poll_one(int fd, short events, int64_t deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int n = poll(&p, 1, ms_left(deadline));

                if (n > 0)
                        return 1;
                if (n == 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int gk_pidfd_wait(int pidfd, int64_t deadline)
{
        int r = poll_one(pidfd, POLLIN, deadline);

        if (r < 0)
                return r;
        return r ? 0 : -ETIMEDOUT;
}

/* 1 when cgroup.events (open at FD) says "populated 0", 0 when it says
 * populated, or -errno. */
static int is_empty(int fd)
{
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        const char *p;

        if (n < 0)
                return -errno;
        buf[n] = '\0';
        p = strstr(buf, "populated ");
        if (!p)
                return -EPROTO;
        return p[strlen("populated ")] == '0';
}

int gk_cgroup_wait_empty(const char *dir, int64_t deadline)
{
        _cleanup_close_ int fd = -1;
        char path[4096];
        int r;

        if (snprintf(path, sizeof(path), "%s/cgroup.events", dir) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* The kernel raises POLLPRI on each change of the file after the
         * last read, so reading first and then polling misses nothing. */
        for (;;) {
                r = is_empty(fd);
                if (r != 0)
                        return r < 0 ? r : 0;
                r = poll_one(fd, POLLPRI, deadline);
                if (r < 0)
                        return r;
                if (r == 0)
                        return is_empty(fd) == 1 ? 0 : -ETIMEDOUT;
        }
}
