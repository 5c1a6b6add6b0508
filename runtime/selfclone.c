/* The runtime binary, protected from the container (CVE-2019-5736): a
 * process of the container can make gkrun's own code exec /proc/self/exe
 * (a "#!/proc/self/exe" script as the container's command or through
 * `gkrun exec`), hold the binary through /proc/PID/exe and write to it as
 * soon as no process runs it any more.  So create, run and exec first copy
 * the binary into a sealed memfd and re-execute from it: what the container
 * can reach is that copy, which no one can write, truncate or grow. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "selfclone.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: exec allowed even with vm.memfd_noexec=1 */
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

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
                                     : gk_error_make(err, EIO, "protect the runtime binary: "
                                                     "/proc/self/exe shrank while copied");
        }
        if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
                return gk_error_errno(err, "protect the runtime binary: seal");
        return TAKE_FD(mfd);
}

int gk_selfclone_ensure(char **argv, gk_error **err)
{
        _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int mfd = -1;
        int seals;

        if (exe < 0)
                return gk_error_errno(err, "protect the runtime binary: open /proc/self/exe");
        seals = fcntl(exe, F_GET_SEALS);
        if (seals >= 0 && (seals & SEALS) == SEALS)
                return 0; /* running from the sealed copy already */
        mfd = sealed_copy(exe, err);
        if (mfd < 0)
                return mfd;
        fexecve(mfd, argv, environ);
        return gk_error_errno(err, "protect the runtime binary: exec the sealed copy");
}
