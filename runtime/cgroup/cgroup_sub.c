/* gkrun exec --cgroup: the exec'd process joins an existing sub-cgroup of
 * the container's instead of the container's cgroup itself (runc 1.1's
 * semantics).  Each argument is [CONTROLLER[,CONTROLLER...]:]PATH, PATH
 * relative to the container's cgroup; a PATH alone (the only --cgroup then)
 * is for every hierarchy, a CONTROLLER: prefix (v1 only) for that
 * controller's hierarchy.  The sub-cgroup is opened here, in place of the
 * container's directory the join would use: everything downstream (clone
 * into it on v2, the "0" written to `tasks` on v1, a move by pid) then
 * goes there without knowing.  Nothing is made: a missing sub-cgroup is an
 * error, as with runc. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/resolve.h"

#ifndef RESOLVE_BENEATH
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#endif

typedef struct subs {
        const char *all;                /* PATH alone: every hierarchy */
        const char *v1[GK_CG_MAX_HIER]; /* per v1 hierarchy */
} subs;

/* A path below the container's: relative, without "..". */
static int check_path(const char *arg, const char *path, gk_error **err)
{
        _cleanup_free_ char *copy = strdup(path);
        char *save = NULL;

        if (!copy)
                return gk_error_make(err, ENOMEM, "--cgroup");
        if (!*path)
                return gk_error_make(err, 0, "invalid --cgroup argument: %s (empty path)", arg);
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save))
                if (!strcmp(c, ".."))
                        return gk_error_make(err, 0,
                                             "invalid --cgroup argument: %s (the path must stay "
                                             "below the container's cgroup)",
                                             arg);
        return 0;
}

/* The v1 hierarchy controller NAME is on ("name=systemd" or "systemd":
 * the named one), or -1. */
static int hier_of(const gk_cgroup *cg, const char *name)
{
        int c;

        if (!strcmp(name, "name=systemd") || !strcmp(name, "systemd")) {
                for (size_t h = 0; h < cg->lay->n_v1; h++)
                        if (!cg->lay->v1[h].ctrls)
                                return (int) h;
                return -1;
        }
        c = gk_cg_ctrl_from_name(name);
        return c < 0 ? -1 : cg->lay->v1_of[c];
}

static int parse_one(const gk_cgroup *cg, const char *arg, size_t n, subs *s, gk_error **err)
{
        const char *colon = strchr(arg, ':');
        _cleanup_free_ char *ctrls = NULL;
        char *save = NULL;

        if (!colon) {
                if (n != 1)
                        return gk_error_make(err, 0,
                                             "invalid --cgroup argument: %s (missing "
                                             "<controller>: prefix)",
                                             arg);
                s->all = arg;
                return check_path(arg, arg, err);
        }
        if (strchr(colon + 1, ':'))
                return gk_error_make(err, 0, "invalid --cgroup argument: %s", arg);
        if (!cg->lay->n_v1)
                return gk_error_make(err, 0,
                                     "invalid --cgroup argument: %s (cgroup v2 has no "
                                     "<controller>: prefix: give the path alone)",
                                     arg);
        if (check_path(arg, colon + 1, err) < 0)
                return gk_error_code(*err);
        if (!(ctrls = strndup(arg, (size_t) (colon - arg))))
                return gk_error_make(err, ENOMEM, "--cgroup");
        if (!*ctrls || strstr(ctrls, ",,") || ctrls[strlen(ctrls) - 1] == ',' || *ctrls == ',')
                return gk_error_make(err, 0,
                                     "invalid --cgroup argument: %s (empty <controller> prefix)",
                                     arg);
        for (char *c = strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
                int h = hier_of(cg, c);

                if (h < 0)
                        return gk_error_make(err, 0,
                                             "invalid --cgroup argument: %s (controller %s is "
                                             "not a v1 hierarchy of this host)",
                                             arg, c);
                if (s->v1[h])
                        return gk_error_make(err, 0,
                                             "invalid --cgroup argument(s): controller %s "
                                             "specified multiple times",
                                             c);
                s->v1[h] = colon + 1;
        }
        return 0;
}

/* Opens SUB below directory DIR (MNT + the container's path, for
 * messages) into *FD, in place of the directory the join would use. */
static int open_sub(int dir, const char *mnt, const gk_cgroup *cg, const char *sub, int *fd,
                    gk_error **err)
{
        int r;

        if (dir < 0)
                return dir;
        while (*sub == '/')
                sub++;
        r = gk_open_resolved(dir, sub, O_RDONLY | O_DIRECTORY,
                             RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (r < 0)
                return gk_error_resolve(err, r, "sub-cgroup `%s%s/%s`", mnt, cg->path, sub);
        if (*fd >= 0)
                close(*fd);
        *fd = r;
        return 0;
}

int gk_cgroup_use_sub(gk_cgroup *cg, char *const *args, size_t n, gk_error **err)
{
        subs s = { 0 };

        for (size_t i = 0; i < n; i++)
                if (parse_one(cg, args[i], n, &s, err) < 0)
                        return gk_error_code(*err);
        for (size_t h = 0; h < cg->lay->n_v1; h++) {
                const char *sub = s.all ? s.all : s.v1[h];

                if (sub && open_sub(gk_cg_v1_dir(cg, h, err), cg->lay->v1[h].mnt, cg, sub,
                                    &cg->v1_fd[h], err) < 0)
                        return gk_error_code(*err);
        }
        /* the unified hierarchy (pure v2, or a hybrid's) has no
         * controller prefix: it follows a path alone */
        if (s.all && cg->lay->v2_mnt &&
            open_sub(gk_cg_v2_dir(cg, err), cg->lay->v2_mnt, cg, s.all, &cg->v2_fd, err) < 0)
                return gk_error_code(*err);
        return 0;
}
