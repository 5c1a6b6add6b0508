/* What both kinds of probe read the same way (probe.c prints lines,
 * observe.c one JSON document): errno names, the rlimit table, the
 * process's ids and its open fds.  Each caller formats the facts itself. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np */
#endif
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"

const char *errno_name(int err)
{
        static char buf[64];
        const char *name = strerrorname_np(err);

        if (name)
                snprintf(buf, sizeof(buf), "errno=%s", name);
        else
                snprintf(buf, sizeof(buf), "errno=%d", err);
        return buf;
}

const struct probe_rlimit probe_rlimits[] = {
        { "AS", RLIMIT_AS },
        { "CORE", RLIMIT_CORE },
        { "CPU", RLIMIT_CPU },
        { "DATA", RLIMIT_DATA },
        { "FSIZE", RLIMIT_FSIZE },
        { "LOCKS", RLIMIT_LOCKS },
        { "MEMLOCK", RLIMIT_MEMLOCK },
        { "MSGQUEUE", RLIMIT_MSGQUEUE },
        { "NICE", RLIMIT_NICE },
        { "NOFILE", RLIMIT_NOFILE },
        { "NPROC", RLIMIT_NPROC },
        { "RSS", RLIMIT_RSS },
        { "RTPRIO", RLIMIT_RTPRIO },
        { "RTTIME", RLIMIT_RTTIME },
        { "SIGPENDING", RLIMIT_SIGPENDING },
        { "STACK", RLIMIT_STACK },
};
const size_t probe_nrlimits = N(probe_rlimits);

void probe_ids(struct probe_ids *ids)
{
        ids->uid = getuid();
        ids->gid = getgid();
        ids->euid = geteuid();
        ids->egid = getegid();
        ids->ngroups = getgroups((int) N(ids->groups), ids->groups);
        /* umask(2) can only be read by setting it: put it back at once */
        ids->umask = umask(0);
        umask(ids->umask);
}

int probe_fd_next(DIR *d, const char **fd, char *target, size_t size)
{
        struct dirent *e;

        while ((e = readdir(d))) {
                ssize_t n;

                /* the directory's own fd is the probe's, not the container's */
                if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
                        continue;
                n = readlinkat(dirfd(d), e->d_name, target, size - 1);
                target[n < 0 ? 0 : n] = '\0';
                *fd = e->d_name;
                return 1;
        }
        return 0;
}
