/* Placeholder: replaced by the real cgroup implementation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

struct gk_cgroup {
        char *path;
};

int gk_cgroup_create(const char *id, const char *cgroups_path,
                     const gk_resources *resources, bool systemd,
                     gk_cgroup **out, gk_error **err)
{
        *out = calloc(1, sizeof(**out));
        (*out)->path = strdup("");
        return 0;
}
int gk_cgroup_enter(gk_cgroup *cg, pid_t pid, gk_error **err) { return 0; }
int gk_cgroup_v2_fd(gk_cgroup *cg) { return -1; }
int gk_cgroup_to_string(const gk_cgroup *cg, char **out, gk_error **err)
{
        *out = strdup(cg->path);
        return 0;
}
int gk_cgroup_open(const char *saved, gk_cgroup **out, gk_error **err)
{
        *out = calloc(1, sizeof(**out));
        (*out)->path = strdup(saved);
        return 0;
}
const char *gk_cgroup_path(const gk_cgroup *cg) { return cg->path; }
int gk_cgroup_pids(gk_cgroup *cg, pid_t **pids, size_t *n, gk_error **err)
{
        *pids = NULL;
        *n = 0;
        return 0;
}
int gk_cgroup_kill_all(gk_cgroup *cg, int sig, gk_error **err) { return 0; }
int gk_cgroup_freeze(gk_cgroup *cg, bool freeze, gk_error **err) { return -ENOSYS; }
int gk_cgroup_is_frozen(gk_cgroup *cg, bool *frozen, gk_error **err)
{
        *frozen = false;
        return 0;
}
int gk_cgroup_update(gk_cgroup *cg, const gk_resources *r, gk_error **err) { return -ENOSYS; }
int gk_cgroup_stats_read(gk_cgroup *cg, gk_cgroup_stats *st, gk_error **err) { return -ENOSYS; }
int gk_cgroup_destroy(gk_cgroup *cg, gk_error **err) { return 0; }
void gk_cgroup_free(gk_cgroup *cg)
{
        if (cg)
                free(cg->path);
        free(cg);
}
void gk_cgroup_freep(gk_cgroup **cg) { gk_cgroup_free(*cg); *cg = NULL; }
