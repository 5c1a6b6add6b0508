/* fuzz-sources: imgtool/unpack.c imgtool/unpack_stream.c imgtool/whiteout.c */
/* fuzz-sources: imgtool/dl_archive.c imgtool/unpack_walk.c imgtool/archive_error.c */
/* fuzz-libs: yajl libarchive libcrypto */
/* Layer tars: every entry name through the cleaning and whiteout rules
 * (their invariants asserted), then the whole input unpacked for real into
 * a scratch directory next to an empty sentinel directory, which must stay
 * empty: whatever the input, nothing is written outside the layer. */
#include <archive.h>
#include <dirent.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/util.h"
#include "unpack.h"
#include "whiteout.h"

static char base[64];
static int base_fd = -1;

static void check_clean(const char *name)
{
        char *clean = NULL;
        gk_error *err = NULL;
        enum gk_wh_kind kind;
        const char *hidden;

        if (gk_entry_path_clean(name, &clean, &err) < 0) {
                if (!err || !err->msg)
                        abort(); /* a refusal always says why */
                gk_error_free(err);
                return;
        }
        if (clean[0] == '/' || strstr(clean, "//") ||
            (strcmp(clean, ".") &&
             (!strcmp(clean, "..") || !strncmp(clean, "../", 3) || strstr(clean, "/../") ||
              strstr(clean, "/./") || !strncmp(clean, "./", 2))))
                abort();
        if (gk_whiteout_classify(clean, &kind, &hidden, &err) == 0) {
                if (kind == GK_WH_FILE && (!hidden || !*hidden || strchr(hidden, '/')))
                        abort();
        } else {
                gk_error_free(err);
        }
        free(clean);
}

static void check_names(const uint8_t *data, size_t size)
{
        struct archive *a = archive_read_new();
        struct archive_entry *e;

        archive_read_support_format_tar(a);
        if (archive_read_open_memory(a, data, size) == ARCHIVE_OK)
                while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                        const char *n = archive_entry_pathname(e);
                        const char *l = archive_entry_hardlink(e);

                        if (n)
                                check_clean(n);
                        if (l)
                                check_clean(l);
                }
        archive_read_free(a);
}

/* How many names directory FD holds besides those listed in EXCEPT. */
static int count_entries(int fd, const char *except)
{
        DIR *d = fdopendir(dup(fd));
        struct dirent *de;
        int n = 0;

        if (!d)
                abort();
        rewinddir(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
                    (!except || !strstr(except, de->d_name)))
                        n++;
        closedir(d);
        return n;
}

static void cleanup(void)
{
        gk_rm_rf_at(AT_FDCWD, base, NULL);
}

static void setup(void)
{
        snprintf(base, sizeof(base), "/tmp/gk-fuzz-tar-%d", (int) getpid());
        if (mkdir(base, 0700) < 0)
                abort();
        base_fd = open(base, O_RDONLY | O_DIRECTORY);
        if (base_fd < 0 || mkdirat(base_fd, "sentinel", 0700) < 0)
                abort();
        atexit(cleanup);
}

static void unpack(const uint8_t *data, size_t size)
{
        gk_unpack_opts o = { .what = "fuzz", .allow_devices = false };
        gk_error *err = NULL;
        int mfd = memfd_create("layer", MFD_CLOEXEC), dfd, sfd;

        if (mfd < 0 || gk_write_all(mfd, data, size) < 0 || lseek(mfd, 0, SEEK_SET) < 0)
                abort();
        if (mkdirat(base_fd, "layer", 0755) < 0)
                abort();
        dfd = openat(base_fd, "layer", O_RDONLY | O_DIRECTORY);
        if (dfd < 0)
                abort();
        if (gk_unpack_fd(mfd, dfd, &o, NULL, &err) < 0)
                gk_error_free(err);
        close(dfd);
        close(mfd);
        /* The sentinel is still empty and nothing else appeared. */
        sfd = openat(base_fd, "sentinel", O_RDONLY | O_DIRECTORY);
        if (sfd < 0 || count_entries(sfd, NULL) != 0 ||
            count_entries(base_fd, "layer sentinel") != 0)
                abort();
        close(sfd);
        if (gk_rm_rf_at(base_fd, "layer", NULL) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (base_fd < 0)
                setup();
        check_names(data, size);
        unpack(data, size);
        return 0;
}
