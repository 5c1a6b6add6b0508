/* Opening a path under a directory fd without leaving it: openat2(2) with
 * RESOLVE_* flags, the one way gkrun and gkimg resolve paths in a rootfs,
 * a layer or procfs. */
#ifndef GK_RESOLVE_H
#define GK_RESOLVE_H

#include <stdint.h>

#include "gk/error.h"

/* Opens PATH under DIRFD with openat2 FLAGS (O_CLOEXEC added; no O_CREAT)
 * and RESOLVE (RESOLVE_*); the fd, or -errno.  With RESOLVE_IN_ROOT, "/" is DIRFD and
 * an empty PATH names it too.
 *
 * A resolution that walks ".." fails with EAGAIN whenever a mount or rename
 * anywhere on the system raced it: that is tried again (a bounded number
 * of times), as the kernel's documentation asks of callers.
 *
 * Without openat2 (before Linux 5.6: ENOSYS; or refused by a seccomp
 * filter: EPERM), a resolution that follows no symlink (RESOLVE_NO_SYMLINKS,
 * with or without RESOLVE_BENEATH) is made one component at a time with
 * O_NOFOLLOW, which keeps the same promise.  The others have no safe
 * fallback and fail with -ENOSYS: gk_error_resolve says so. */
int gk_open_resolved(int dirfd, const char *path, int flags, uint64_t resolve);

/* gk_error_make(ERR, -R, FMT...) for a failed gk_open_resolved, with -ENOSYS
 * explained ("openat2 is not available: gk needs Linux 5.6 or later"). */
int gk_error_resolve(gk_error **err, int r, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
