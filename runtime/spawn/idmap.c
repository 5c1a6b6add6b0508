/* A new user namespace's id maps, written from outside.  Root writes
 * /proc/PID/{uid,gid}_map itself.  A user may write only one line that
 * maps its own id, and for gid_map only once setgroups is "deny"
 * (user_namespaces(7)); anything more (ranges from /etc/subuid and
 * /etc/subgid) goes through the setuid helpers newuidmap and newgidmap,
 * which check the ranges against those files.  As runc: setgroups is
 * denied only when the gid map is the user's own gid alone. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "spawn/ns.h"

/* MAPS is one line mapping ID (ours) alone. */
static bool own_id_only(const gk_idmap *maps, size_t n, unsigned id)
{
        return n == 1 && maps[0].host_id == id && maps[0].size == 1;
}

/* TOOL in $PATH (a setuid helper: its own checks make its location
 * harmless), else /usr/bin's. */
static int find_tool(const char *name, char out[PATH_MAX])
{
        const char *p = getenv("PATH");

        for (p = p && *p ? p : "/usr/bin"; *p;) {
                size_t n = strcspn(p, ":");

                if (n && snprintf(out, PATH_MAX, "%.*s/%s", (int) n, p, name) < PATH_MAX &&
                    access(out, X_OK) == 0)
                        return 0;
                p += n + (p[n] == ':');
        }
        snprintf(out, PATH_MAX, "/usr/bin/%s", name);
        return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

/* Runs TOOL PID C H S... and returns its failure with what it printed. */
static int run_tool(const char *tool, const char *field, pid_t pid, const gk_idmap *maps, size_t n,
                    gk_error **err)
{
        _cleanup_free_ char **argv = calloc(3 * n + 3, sizeof(char *));
        _cleanup_free_ char *nums = malloc((3 * n + 1) * 16);
        char path[PATH_MAX], msg[512] = "";
        int pipefd[2], status;
        size_t k = 0;
        ssize_t len;
        pid_t child;

        if (!argv || !nums)
                return gk_error_make(err, ENOMEM, "%s", tool);
        if (find_tool(tool, path) < 0)
                return gk_error_make(err, 0,
                                     "config.json: linux.%s: mapping more than uid/gid %u takes "
                                     "%s (Debian package uidmap), not found in PATH",
                                     field, (unsigned) geteuid(), tool);
        argv[k++] = (char *) tool;
        snprintf(nums, 16, "%d", (int) pid);
        argv[k++] = nums;
        for (size_t i = 0; i < n; i++) {
                unsigned v[3] = { maps[i].container_id, maps[i].host_id, maps[i].size };

                for (int j = 0; j < 3; j++) {
                        char *s = nums + 16 * k;
                        snprintf(s, 16, "%u", v[j]);
                        argv[k++] = s;
                }
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return gk_error_errno(err, "%s: pipe", tool);
        child = fork();
        if (child < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return gk_error_errno(err, "%s: fork", tool);
        }
        if (child == 0) {
                dup2(pipefd[1], STDERR_FILENO);
                dup2(pipefd[1], STDOUT_FILENO);
                execv(path, argv);
                _exit(127);
        }
        close(pipefd[1]);
        len = read(pipefd[0], msg, sizeof(msg) - 1);
        close(pipefd[0]);
        msg[len > 0 ? len : 0] = '\0';
        msg[strcspn(msg, "\n")] = '\0';
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        return gk_error_make(err, 0,
                             "config.json: linux.%s: %s failed (%s): a user maps only its own "
                             "id and the ranges /etc/%s gives it",
                             field, path, msg[0] ? msg : "no message",
                             strcmp(tool, "newuidmap") ? "subgid" : "subuid");
}

static int deny_setgroups(pid_t pid, gk_error **err)
{
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/setgroups", (int) pid);
        if (gk_write_file_at(AT_FDCWD, path, "deny", 4, err) < 0)
                return gk_error_wrap(err, "config.json: linux.gidMappings");
        return 0;
}

int gk_id_maps_write(pid_t pid, const gk_idmap *uids, size_t nu, const gk_idmap *gids, size_t ng,
                     gk_error **err)
{
        bool root = geteuid() == 0;

        if (root || own_id_only(uids, nu, geteuid())) {
                if (gk_write_id_map(pid, "uid_map", uids, nu, err) < 0)
                        return gk_error_code(*err);
        } else if (run_tool("newuidmap", "uidMappings", pid, uids, nu, err) < 0) {
                return gk_error_code(*err);
        }
        if (root)
                return gk_write_id_map(pid, "gid_map", gids, ng, err);
        if (own_id_only(gids, ng, getegid())) {
                if (deny_setgroups(pid, err) < 0 ||
                    gk_write_id_map(pid, "gid_map", gids, ng, err) < 0)
                        return gk_error_code(*err);
                return 0;
        }
        return run_tool("newgidmap", "gidMappings", pid, gids, ng, err);
}
