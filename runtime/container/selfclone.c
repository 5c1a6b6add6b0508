/* The runtime binary, protected from the container (CVE-2019-5736): a
 * process of the container can make gkrun's own code exec /proc/self/exe
 * (a "#!/proc/self/exe" script as the container's command or through
 * `gkrun exec`), hold the binary through /proc/PID/exe and write to it as
 * soon as no process runs it any more.  The container's process itself
 * can be that exec: an image whose entrypoint is /proc/self/exe makes its
 * pid 1 the binary, and any later `gkrun exec` gives it a process to hold
 * /proc/1/exe.  So create, run and exec always re-execute themselves from
 * a file that no one can write through that path, before anything else:
 *
 * - nothing to do when /proc/self/exe is already on a read-only mount (an
 *   installation on a read-only /usr, or the second pass of this) or is a
 *   sealed memfd: a write through /proc/PID/exe fails with EROFS or EPERM;
 * - otherwise a read-only clone of the binary's mount: open_tree() clones
 *   a bind mount of the file alone, detached (in no mount namespace, so no
 *   one can remount it), mount_setattr() makes it read-only, and gkrun
 *   execs the file through it.  No copy: it costs two system calls, no
 *   memory, and the page cache is shared with every other run;
 * - without those calls or the privilege for them (rootless), a copy in a
 *   sealed memfd, which no one can write, truncate or grow. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "container/selfclone.h"
#include "gk/cleanup.h"
#include "gk/spec.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: exec allowed even with vm.memfd_noexec=1 */
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define GK_OPEN_TREE_CLONE 1
#define GK_MOUNT_ATTR_RDONLY 0x00000001ULL

/* The kernel's struct mount_attr (<linux/mount.h> clashes with glibc's). */
struct gk_mount_attr {
        uint64_t attr_set, attr_clr, propagation, userns_fd;
};

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

/* Internal: from the first pass to the protected second one. */
#define SELF_DIR_ENV "_GKRUN_SELF_DIR"

static char self_dir[PATH_MAX];

void gk_self_dir_note(void)
{
        const char *handed = getenv(SELF_DIR_ENV);
        char exe[PATH_MAX];
        ssize_t n;
        char *slash;

        if (handed && handed[0] == '/') {
                snprintf(self_dir, sizeof(self_dir), "%s", handed);
        } else if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0 && exe[0] == '/') {
                exe[n] = '\0';
                slash = strrchr(exe, '/');
                snprintf(self_dir, sizeof(self_dir), "%.*s", (int) (slash - exe), exe);
        }
        unsetenv(SELF_DIR_ENV);
}

const char *gk_self_dir(void)
{
        return self_dir;
}

static int sealed_copy(int exe, gk_error **err)
{
        _cleanup_close_ int mfd = memfd_create("gk-sealed-runtime",
                                               MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        struct stat st;
        off_t off = 0;

        if (mfd < 0 && errno == EINVAL) /* a kernel before MFD_EXEC */
                mfd = memfd_create("gk-sealed-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return gk_error_errno(err, "protect the runtime binary: memfd_create");
        if (fstat(exe, &st) < 0)
                return gk_error_errno(err, "protect the runtime binary: stat /proc/self/exe");
        while (off < st.st_size) {
                ssize_t n = sendfile(mfd, exe, &off, (size_t) (st.st_size - off));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? gk_error_errno(err, "protect the runtime binary: copy")
                                     : gk_error_make(err, EIO,
                                                     "protect the runtime binary: "
                                                     "/proc/self/exe shrank while copied");
        }
        if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
                return gk_error_errno(err, "protect the runtime binary: seal");
        return TAKE_FD(mfd);
}

/* An O_PATH fd of the binary on a detached read-only mount, or -1. */
static int readonly_clone(void)
{
        struct gk_mount_attr attr = { .attr_set = GK_MOUNT_ATTR_RDONLY };
        _cleanup_close_ int fd = (int) syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe",
                                               GK_OPEN_TREE_CLONE | O_CLOEXEC);

        if (fd < 0 || syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return -1;
        return TAKE_FD(fd);
}

static bool already_protected(int exe)
{
        struct statfs sfs;
        int seals = fcntl(exe, F_GET_SEALS);

        if (seals >= 0 && (seals & SEALS) == SEALS)
                return true;
        return fstatfs(exe, &sfs) == 0 && (sfs.f_flags & ST_RDONLY);
}

int gk_selfclone_ensure(char **argv, gk_error **err)
{
        _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;

        if (exe < 0)
                return gk_error_errno(err, "protect the runtime binary: open /proc/self/exe");
        if (already_protected(exe))
                return 0;
        fd = readonly_clone();
        if (fd < 0)
                fd = sealed_copy(exe, err);
        if (fd < 0)
                return fd;
        close(TAKE_FD(exe));
        if (self_dir[0])
                setenv(SELF_DIR_ENV, self_dir, 1);
        fexecve(fd, argv, environ);
        return gk_error_errno(err, "protect the runtime binary: exec the protected copy");
}
