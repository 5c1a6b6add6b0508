/* Which linux.sysctl keys a container may set, checked at create before
 * anything exists.  /proc/sys is mostly host-wide: a key is accepted only
 * when the namespace it belongs to is the container's own, as runc does
 * (libcontainer/configs/validate), with runc's messages, which
 * containerd and CRI users see:
 *   - the System V IPC keys and fs.mqueue.*: an IPC namespace;
 *   - net.*: a network namespace that is not gkrun's;
 *   - kernel.domainname: a UTS namespace (kernel.hostname never: the
 *     "hostname" field sets it);
 *   - nothing else (kernel.printk_ratelimit would change the host's). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gk/cleanup.h"
#include "security/security.h"

static const char *const ipc_keys[] = {
        "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
        "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

/* A key is dot-separated names: no '/', which would be a path (runc also
 * takes "net/ipv4/..." and turns it around; gkrun keeps one form), no
 * empty name, so no "..", and no leading or trailing dot. */
static bool key_ok(const char *key)
{
        if (!*key || strchr(key, '/') || key[0] == '.' || key[strlen(key) - 1] == '.' ||
            strstr(key, ".."))
                return false;
        return true;
}

static bool is_ipc_key(const char *key)
{
        for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
                if (!strcmp(key, ipc_keys[i]))
                        return true;
        return !strncmp(key, "fs.mqueue.", 10);
}

/* Whether the container has a namespace of type T other than gkrun's own:
 * a new one, or one joined by a path that is not ours (joining gkrun's
 * own namespace by path is the host's again).  -errno when the path
 * cannot be looked at. */
static int owns_namespace(const gk_spec *s, int t, gk_error **err)
{
        const gk_namespace *ns = &s->linux.namespaces[t];
        struct stat theirs, ours;
        char self[64];

        if (!ns->present)
                return 0;
        if (!ns->path)
                return 1;
        snprintf(self, sizeof(self), "/proc/self/ns/%s", gk_ns_proc_name(t));
        if (stat(self, &ours) < 0)
                return gk_error_errno(err, "stat `%s`", self);
        if (stat(ns->path, &theirs) < 0)
                return gk_error_errno(err, "invalid %s namespace path `%s`", gk_ns_type_name(t),
                                      ns->path);
        return theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino;
}

static int check_key(const gk_spec *s, const char *key, gk_error **err)
{
        int own;

        if (!key_ok(key))
                return gk_error_make(err, 0, "invalid key \"%s\"", key);
        if (is_ipc_key(key)) {
                if ((own = owns_namespace(s, GK_NS_IPC, err)) < 0)
                        return own;
                return own ? 0
                           : gk_error_plain(err, EPERM,
                                            "sysctl \"%s\" is not allowed in the"
                                            " hosts ipc namespace",
                                            key);
        }
        if (!strncmp(key, "net.", 4)) {
                if ((own = owns_namespace(s, GK_NS_NETWORK, err)) < 0)
                        return own;
                return own ? 0
                           : gk_error_plain(err, EPERM,
                                            "sysctl \"%s\" not allowed in host"
                                            " network namespace",
                                            key);
        }
        if ((own = owns_namespace(s, GK_NS_UTS, err)) < 0)
                return own;
        if (own && !strcmp(key, "kernel.domainname"))
                return 0;
        if (own && !strcmp(key, "kernel.hostname"))
                return gk_error_plain(err, EPERM,
                                      "sysctl \"%s\" is not allowed as it conflicts"
                                      " with the OCI \"hostname\" field",
                                      key);
        return gk_error_plain(err, EPERM, "sysctl \"%s\" is not in a separate kernel namespace",
                              key);
}

int gk_sysctl_validate(const gk_spec *s, gk_error **err)
{
        for (size_t i = 0; i < s->linux.n_sysctl; i++)
                if (check_key(s, s->linux.sysctl[i].key, err) < 0)
                        return gk_error_wrap(err, "config.json: linux.sysctl");
        return 0;
}
