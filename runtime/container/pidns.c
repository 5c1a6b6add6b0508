/* A container's processes by pid namespace: every /proc entry whose
 * ns/pid is the init's.  Without a cgroup of its own (a user's container
 * that asks for no limits) this is what ps and kill --all have. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "container/pidns.h"
#include "gk/cleanup.h"

static int ns_of(pid_t pid, struct stat *st)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int) pid);
        return stat(path, st);
}

int gk_pidns_pids(pid_t init, pid_t **pids, size_t *n, gk_error **err)
{
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ pid_t *out = malloc(sizeof(pid_t));
        struct stat want, self, st;
        size_t cap = 1, k = 0;
        struct dirent *e;

        if (!out)
                return gk_error_make(err, ENOMEM, "pids");
        out[k++] = init;
        if (ns_of(init, &want) < 0 || stat("/proc/self/ns/pid", &self) < 0 ||
            (want.st_ino == self.st_ino && want.st_dev == self.st_dev))
                goto done;
        d = opendir("/proc");
        if (!d)
                return gk_error_errno(err, "open /proc");
        while ((e = readdir(d))) {
                char *end;
                long pid = strtol(e->d_name, &end, 10);

                if (*end || pid <= 0 || pid == init || ns_of((pid_t) pid, &st) < 0 ||
                    st.st_ino != want.st_ino || st.st_dev != want.st_dev)
                        continue;
                if (k == cap) {
                        pid_t *grown = realloc(out, (cap *= 2) * sizeof(pid_t));

                        if (!grown)
                                return gk_error_make(err, ENOMEM, "pids");
                        out = grown;
                }
                out[k++] = (pid_t) pid;
        }
done:
        *pids = TAKE_PTR(out);
        *n = k;
        return 0;
}
