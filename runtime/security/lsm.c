/* LSM labels for the next execve: process.apparmorProfile and
 * process.selinuxLabel.  Each is written to the kernel's "exec" attribute
 * of the calling process, so it takes effect at the exec of the user's
 * program.  Asking for a label on a host without that LSM is an error, not
 * a silent no-op: the user would believe the container is confined. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "security/procfs.h"
#include "security/security.h"

#define APPARMOR_ENABLED "/sys/module/apparmor/parameters/enabled"

static bool apparmor_enabled(void)
{
        _cleanup_close_ int fd = open(APPARMOR_ENABLED, O_RDONLY | O_CLOEXEC);
        char c = 0;

        if (fd >= 0)
                return read(fd, &c, 1) == 1 && c == 'Y';
        /* Inside a container /sys may be missing; the kernel's own
         * per-LSM attribute directory then tells (Linux >= 5.8). */
        return access("/proc/self/attr/apparmor", F_OK) == 0;
}

static bool selinux_enabled(void)
{
        return access("/sys/fs/selinux/enforce", F_OK) == 0 ||
               access("/proc/self/attr/selinux", F_OK) == 0;
}

/* The LSM's own exec attribute (Linux >= 5.8), else the shared one;
 * through PROCFD, never the container's /proc: a mount of the container
 * over /proc/self/attr would take the label somewhere else, onto a host
 * sysctl even (runc's CVE-2025-52881). */
static int open_exec_attr(int procfd, const char *lsm, gk_error **err)
{
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "self/attr/%s/exec", lsm);
        fd = gk_procfs_open_at(procfd, path, O_WRONLY, err);
        if (fd == -ENOENT)
                fd = gk_procfs_open_at(procfd, "self/attr/exec", O_WRONLY, err);
        return fd;
}

/* One write(2) of the whole value: the kernel checks it there. */
static int write_exec_attr(int procfd, const char *lsm, const char *value, gk_error **err)
{
        _cleanup_close_ int fd = open_exec_attr(procfd, lsm, err);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return gk_error_wrap(err, "open the %s exec attribute", lsm);
        n = write(fd, value, len);
        if (n < 0)
                return gk_error_errno(err, "write `%s` to the %s exec attribute", value, lsm);
        if ((size_t) n != len)
                return gk_error_make(err, EIO, "write `%s` to the %s exec attribute", value, lsm);
        return 0;
}

static int apply_apparmor(int procfd, const char *profile, gk_error **err)
{
        _cleanup_free_ char *cmd = NULL;

        if (asprintf(&cmd, "exec %s", profile) < 0)
                return gk_error_make(err, ENOMEM, "apparmor");
        if (write_exec_attr(procfd, "apparmor", cmd, err) < 0)
                return gk_error_wrap(err, "apparmor profile \"%s\"", profile);
        return 0;
}

static int apply_selinux(int procfd, const char *label, gk_error **err)
{
        if (write_exec_attr(procfd, "selinux", label, err) < 0)
                return gk_error_wrap(err, "selinux label \"%s\"", label);
        return 0;
}

int gk_lsm_validate(const char *apparmor_profile, const char *selinux_label, gk_error **err)
{
        if (apparmor_profile && *apparmor_profile && !apparmor_enabled())
                return gk_error_make(
                        err, 0,
                        "apparmor profile \"%s\" requested but AppArmor is not enabled on this host",
                        apparmor_profile);
        if (selinux_label && *selinux_label && !selinux_enabled())
                return gk_error_make(
                        err, 0,
                        "selinux label \"%s\" requested but SELinux is not enabled on this host",
                        selinux_label);
        return 0;
}

int gk_lsm_validate_mount_label(const char *label, gk_error **err)
{
        if (label && *label && !selinux_enabled())
                return gk_error_make(err, 0,
                                     "config.json: linux.mountLabel: \"%s\" requested but SELinux"
                                     " is not enabled on this host (it would be the mounts'"
                                     " context= option)",
                                     label);
        return 0;
}

int gk_lsm_apply(int procfd, const char *apparmor_profile, const char *selinux_label,
                 gk_error **err)
{
        if (gk_lsm_validate(apparmor_profile, selinux_label, err) < 0)
                return gk_error_code(*err);
        if (apparmor_profile && *apparmor_profile &&
            apply_apparmor(procfd, apparmor_profile, err) < 0)
                return gk_error_code(*err);
        if (selinux_label && *selinux_label && apply_selinux(procfd, selinux_label, err) < 0)
                return gk_error_code(*err);
        return 0;
}
