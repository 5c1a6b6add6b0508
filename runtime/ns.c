/* Namespace helpers: user namespace id maps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "runtime.h"

int gk_write_id_map(pid_t pid, const char *file, const gk_idmap *maps, size_t n,
                    gk_error **err)
{
        _cleanup_free_ char *buf = NULL;
        char path[64];
        size_t len = 0, cap = n * 40 + 1;

        buf = malloc(cap);
        if (!buf)
                return gk_error_make(err, ENOMEM, "%s", file);
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(buf + len, cap - len, "%u %u %u\n", maps[i].container_id,
                                         maps[i].host_id, maps[i].size);
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        if (gk_write_file_at(AT_FDCWD, path, buf, len, err) < 0)
                return gk_error_wrap(err, "config.json: linux.%s", strcmp(file, "uid_map") ? "gidMappings" : "uidMappings");
        return 0;
}
