/* security/: capabilities, seccomp (and its notify listener), LSM labels,
 * which sysctls may be set: what is checked and applied to a process from
 * a gk_spec's fields; and the verified procfs every write to /proc goes
 * through (procfs.h: LSM labels, sysctls, rootfs/'s masked paths).  It
 * knows nothing of containers, state or the parent/init protocol, includes
 * nothing of runtime/'s other folders, and never prints.
 *
 * Process security settings applied in the container's init (and exec'd
 * processes) just before execve: capabilities, seccomp, LSM labels.
 * Order at the call site (process.c): setuid/setgid with keep-caps,
 * gk_caps_apply, then gk_seccomp_load last. */
#ifndef GK_RUNTIME_SECURITY_H
#define GK_RUNTIME_SECURITY_H

#include <stdbool.h>

#include "gk/error.h"
#include "gk/spec.h"

/* Checks what the kernel/libseccomp must resolve (syscall names,
 * architectures, flags) so that create fails before anything exists. */
int gk_seccomp_validate(const gk_seccomp *sc, gk_error **err);

/* Builds the filter with libseccomp and loads it.  Returns, through
 * *notify_fd, the listener fd when an action is SCMP_ACT_NOTIFY (else -1). */
/* Whether this libseccomp, on this kernel, can set the filter flag NAME
 * (SECCOMP_FILTER_FLAG_*): gkrun features. */
bool gk_seccomp_flag_supported(const char *name);

int gk_seccomp_load(const gk_seccomp *sc, int *notify_fd, gk_error **err);

/* Drops the bounding set to caps->bounding, then sets effective, permitted,
 * inheritable and ambient.  Call after the uid change (with
 * PR_SET_KEEPCAPS). */
int gk_caps_apply(const gk_capabilities *caps, gk_error **err);

/* AppArmor profile and SELinux exec label for the next execve, written
 * through PROCFD (procfs.h); a clear error when one is asked for and the
 * LSM is not enabled. */
int gk_lsm_apply(int procfd, const char *apparmor_profile, const char *selinux_label,
                 gk_error **err);

/* The "LSM not enabled" check of gk_lsm_apply alone, for create time on
 * the host (before anything exists). */
int gk_lsm_validate(const char *apparmor_profile, const char *selinux_label, gk_error **err);
/* linux.mountLabel: a context= option needs SELinux (rootfs/ adds it). */
int gk_lsm_validate_mount_label(const char *label, gk_error **err);

/* linux.sysctl: each key only in a namespace the container owns
 * (sysctl.c), checked at create before anything exists. */
int gk_sysctl_validate(const gk_spec *spec, gk_error **err);

#endif
