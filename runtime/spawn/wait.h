/* Waiting for something to happen without sleeping in a loop: a process
 * ending (a pidfd) and a v2 cgroup emptying (cgroup.events).  Deadlines
 * are CLOCK_MONOTONIC nanoseconds as gk_now_ns() gives them. */
#ifndef GK_RUNTIME_WAIT_H
#define GK_RUNTIME_WAIT_H

#include <stdint.h>
#include <sys/types.h>

/* A pidfd of PID (close-on-exec), or -errno: -ENOSYS on kernels before
 * 5.3, where callers fall back to polling the pid. */
int gk_pidfd_open(pid_t pid);

/* Waits until the process behind PIDFD has ended (exited, not
 * necessarily reaped) or DEADLINE has passed: 0, -ETIMEDOUT or -errno.
 * A DEADLINE of 0 waits without limit. */
int gk_pidfd_wait(int pidfd, int64_t deadline);

/* Waits until the v2 cgroup directory DIR (an absolute path) holds no
 * process in its subtree ("populated 0" in cgroup.events) or DEADLINE has
 * passed: 0, -ETIMEDOUT, -ENOENT when DIR has no cgroup.events (a v1
 * hierarchy, or the directory is gone), or -errno. */
int gk_cgroup_wait_empty(const char *dir, int64_t deadline);

#endif
