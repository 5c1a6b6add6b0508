/* gkrun comes in two builds of the same sources.  The lean one, installed as
 * gkrun, is linked static-pie: a container start maps no shared library and
 * touches only the parts of libc it uses (README, "Performance").  It leaves
 * out what needs libmnl, which has no static archive (the netlink links and
 * nftables rules of org.gk.net.*), and libsystemd (--systemd-cgroup).  For a
 * command that needs them it execs gkrun-full, the same sources linked
 * dynamically with everything, which does the whole command: create or run
 * of a container with a network, delete of one, any command given
 * --systemd-cgroup.  Compiled twice: plainly into gkrun-full (gk_full_exec
 * does nothing), and with GK_LEAN into gkrun, where it also stands in for the
 * functions left out. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "full.h"

#ifndef GK_LIBEXECDIR
#define GK_LIBEXECDIR "/usr/local/libexec/gk"
#endif
#define FULL_NAME "gkrun-full"

bool gk_full_spec_wants(const gk_spec *s)
{
        for (size_t i = 0; i < s->n_annotations; i++)
                if (gk_str_has_prefix(s->annotations[i].key, "org.gk.net."))
                        return true;
        return false;
}

#ifndef GK_LEAN
int gk_full_exec(char **argv, const char *why, gk_error **err)
{
        return 0;
}
#else
#include "cgroup_internal.h"
#include "net_internal.h"

extern char **environ;

/* DIR/gkrun-full into OUT when it is executable. */
static bool beside(const char *dir, size_t len, char out[PATH_MAX])
{
        int n = snprintf(out, PATH_MAX, "%.*s/" FULL_NAME, (int) len, dir);

        return n > 0 && n < PATH_MAX && access(out, X_OK) == 0;
}

/* gkrun-full in the directory of the running gkrun: /proc/self/exe's, or
 * argv[0]'s (after the re-exec from a detached mount, selfclone.c, only
 * argv[0] still names it), found as the shell found it; else GK_LIBEXECDIR. */
static bool find_full(const char *a0, char out[PATH_MAX])
{
        const char *slash, *path = getenv("PATH");
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        if (n > 1 && self[0] == '/') {
                self[n] = 0;
                slash = strrchr(self, '/');
                if (slash > self && beside(self, (size_t) (slash - self), out))
                        return true;
        }
        if ((slash = strrchr(a0, '/')))
                return beside(a0, (size_t) (slash - a0), out) ||
                       beside(GK_LIBEXECDIR, strlen(GK_LIBEXECDIR), out);
        for (const char *p = path; p && *p;) {
                size_t len = strcspn(p, ":");
                int m = snprintf(self, sizeof(self), "%.*s/%s", (int) len, p, a0);

                if (m > 0 && (size_t) m < sizeof(self) && access(self, X_OK) == 0)
                        return beside(p, len, out) || beside(GK_LIBEXECDIR, strlen(GK_LIBEXECDIR), out);
                p += len + (p[len] == ':');
        }
        return beside(GK_LIBEXECDIR, strlen(GK_LIBEXECDIR), out);
}

int gk_full_exec(char **argv, const char *why, gk_error **err)
{
        char path[PATH_MAX];

        if (!find_full(argv[0], path))
                return gk_error_make(err, ENOENT, "%s needs " FULL_NAME ", not found beside gkrun "
                                     "or in " GK_LIBEXECDIR, why);
        execve(path, argv, environ);
        return gk_error_errno(err, "%s needs " FULL_NAME ": exec `%s`", why, path);
}

/* Never reached: what calls them has handed the command over above. */
static int left_out(gk_error **err)
{
        return gk_error_make(err, ENOTSUP, "this gkrun is built without networking and systemd: "
                             "use " FULL_NAME);
}

int gk_link_bridge_ensure(const char *name, struct in_addr gw, unsigned prefix, gk_error **err)
{
        return left_out(err);
}

int gk_link_veth_create(const char *host_name, const char *bridge, pid_t pid, gk_error **err)
{
        return left_out(err);
}

int gk_link_setup_netns(pid_t pid, struct in_addr ip, unsigned prefix, struct in_addr gw,
                        gk_error **err)
{
        return left_out(err);
}

int gk_link_delete(const char *name, gk_error **err)
{
        return left_out(err);
}

int gk_link_bridge_release(const char *name, gk_error **err)
{
        return left_out(err);
}

int gk_nft_add(const gk_net_rec *rec, const char *id, gk_error **err)
{
        return left_out(err);
}

int gk_nft_remove(const char *tag, gk_error **err)
{
        return left_out(err);
}

int gk_cg_systemd_prepare(const char *id, const char *cgroups_path, char **unit, char **path,
                          gk_error **err)
{
        return left_out(err);
}

int gk_cg_systemd_start(const char *id, const char *unit, const char *path, pid_t pid,
                        const gk_resources *res, const gk_cg_files *mem,
                        const gk_cg_files *cpu, gk_error **err)
{
        return left_out(err);
}

int gk_cg_systemd_stop(const char *unit, gk_error **err)
{
        return left_out(err);
}
#endif
