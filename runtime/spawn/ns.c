/* Namespace helpers: user namespace id maps, the loopback device of a new
 * network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "spawn/ns.h"

int gk_write_id_map(pid_t pid, const char *file, const gk_idmap *maps, size_t n, gk_error **err)
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
                return gk_error_wrap(err, "config.json: linux.%s",
                                     strcmp(file, "uid_map") ? "gidMappings" : "uidMappings");
        return 0;
}

/* A new network namespace has `lo` down: runc and crun set it up, and
 * orchestrators that bring their own networking (podman --network none,
 * ctr without CNI) count on 127.0.0.1.  One ioctl, no netlink library in
 * the lean binary.  The caller is in the new namespace. */
int gk_ns_loopback_up(gk_error **err)
{
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { .ifr_name = "lo" };

        if (fd < 0)
                return gk_error_errno(err, "set `lo` up: socket");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return gk_error_errno(err, "set `lo` up: get flags");
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return gk_error_errno(err, "set `lo` up");
        return 0;
}
