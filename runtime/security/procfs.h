/* A procfs gkrun may write through once the container's mounts exist
 * (sysctls, LSM exec labels, time namespace offsets) and read fd paths
 * from: never the container's /proc by name, which a symlink in the
 * image, a volume or a mount made by the container can redirect onto
 * another file of /proc (runc's CVE-2025-52881). */
#ifndef GK_RUNTIME_PROCFS_H
#define GK_RUNTIME_PROCFS_H

#include <stddef.h>

#include "gk/error.h"

/* The /proc of the calling process's mount namespace, checked to be the
 * root of a procfs.  Only sound while nothing of the container can have
 * changed that tree: the init calls it before it joins or builds any
 * mount of the container, `gkrun exec` before it joins the container's
 * mount namespace.  -1 and no error when there is none. */
int gk_procfs_open_caller(void);

/* A new procfs of the calling process's pid namespace, mounted nowhere
 * (fsopen/fsmount): no tree the container can change contains it.  A
 * negative errno when the kernel refuses (before Linux 5.2: ENOSYS; in a
 * user namespace whose mount namespace shows no unmasked procfs: EPERM). */
int gk_procfs_open_fresh(void);

/* gk_procfs_open_fresh with only the pid directories (subset=pid, Linux
 * 5.8): nothing in it that the container's own /proc does not show, so a
 * process the container can reach may hold it. */
int gk_procfs_open_pids(void);

/* Replaces *PROCFD with a fresh procfs when the kernel gives one, else
 * keeps what it holds (gk_procfs_open_caller's). */
void gk_procfs_prefer_fresh(int *procfd);

/* Opens PATH ("sys/net/...", or "self/..." for the calling process)
 * beneath PROCFD: no symlink, no magic link, no mount crossed, and the
 * file opened is on procfs. */
int gk_procfs_open_at(int procfd, const char *path, int flags, gk_error **err);

/* One write(2) of VALUE to PATH beneath PROCFD (a sysctl takes one). */
int gk_procfs_write(int procfd, const char *path, const char *value, gk_error **err);

/* The path of our FD as the kernel names it (relative to our root),
 * read through PROCFD. */
int gk_procfs_fd_path(int procfd, int fd, char *buf, size_t size, gk_error **err);

#endif
