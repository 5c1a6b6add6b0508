/* --systemd-cgroup: cgroupsPath is "slice:prefix:name" and systemd would
 * make the cgroup as a transient scope (StartTransientUnit over D-Bus).
 *
 * Not implemented yet: talking D-Bus would add libsystemd (sd-bus) to
 * gkrun's dependencies.  The path is still checked, and the error says
 * why it fails, never silently falling back to cgroupfs paths. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgroup_internal.h"
#include "gk/util.h"

static int check_path(const char *path, gk_error **err)
{
        const char *c1, *c2;

        if (!path || !*path)
                return 0; /* the default: system.slice:gkrun:ID */
        c1 = strchr(path, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || strchr(c2 + 1, ':') || !c2[1])
                return gk_error_make(err, 0, "config.json: linux.cgroupsPath: expected "
                                     "\"slice:prefix:name\" with --systemd-cgroup, got \"%s\"",
                                     path);
        if (c1 != path && (c1 - path < 7 || strncmp(c1 - 6, ".slice", 6)))
                return gk_error_make(err, 0, "config.json: linux.cgroupsPath: \"%.*s\" is not a "
                                     "slice name (NAME.slice)", (int) (c1 - path), path);
        return 0;
}

int gk_cg_systemd_create(const char *id, const char *cgroups_path, gk_error **err)
{
        char comm[64] = "";
        ssize_t n;
        int r;

        (void) id;
        if ((r = check_path(cgroups_path, err)) < 0)
                return r;
        n = gk_cg_read(-1, "/proc/1/comm", comm, sizeof(comm), NULL);
        if (n > 0)
                comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, "systemd"))
                return gk_error_make(err, 0, "--systemd-cgroup: systemd is not running (PID 1 is "
                                     "\"%s\"); use cgroupfs paths", comm[0] ? comm : "unknown");
        return gk_error_make(err, ENOTSUP, "--systemd-cgroup: the systemd cgroup driver is not "
                             "implemented yet; use cgroupfs paths");
}
