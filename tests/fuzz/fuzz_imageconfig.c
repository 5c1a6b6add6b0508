/* fuzz-sources: imgtool/bundle_spec.c imgtool/bundle_security.c imgtool/bundle_mounts.c */
/* fuzz-sources: imgtool/bundle_user.c imgtool/layerview.c imgtool/whiteout.c */
/* fuzz-libs: yajl */
/* The image config (from a registry or an imported archive) turned into a
 * bundle's config.json by `gkimg bundle`, with the User resolved through
 * the image's /etc/passwd and /etc/group.  Input: CONFIG \0 PASSWD \0
 * GROUP (the files go into a one-layer image in a tmpfs directory).
 * Whatever the input: refused with a message, or a config.json gkrun
 * accepts, with a command, an absolute cwd, PATH and HOME set. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle_internal.h"
#include "gk/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int layer_fd = -1;

static void setup(void)
{
        char dir[64];

        snprintf(dir, sizeof(dir), "/dev/shm/gk-fuzz-imgcfg-%d", (int) getpid());
        if ((mkdir(dir, 0700) < 0 && errno != EEXIST))
                abort();
        layer_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (layer_fd < 0 || (mkdirat(layer_fd, "etc", 0755) < 0 && errno != EEXIST))
                abort();
}

static void put(const char *name, const uint8_t *data, size_t size)
{
        int fd = openat(layer_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0 || (size && write(fd, data, size) != (ssize_t) size))
                abort();
        close(fd);
}

static bool has_env(const gk_process *p, const char *prefix)
{
        for (size_t i = 0; i < p->n_env; i++)
                if (!strncmp(p->env[i], prefix, strlen(prefix)))
                        return true;
        return false;
}

/* Splits off the next \0-terminated part of the input. */
static const uint8_t *part(const uint8_t **data, size_t *size, size_t *n)
{
        const uint8_t *start = *data, *z = memchr(start, 0, *size);

        *n = z ? (size_t) (z - start) : *size;
        *data += z ? *n + 1 : *n;
        *size -= z ? *n + 1 : *n;
        return start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *cfg, *pw, *gr;
        size_t ncfg, npw, ngr;
        gk_bundle_image img = { .ref = "fuzz:latest" };
        gk_bundle_opts o = { .tty = size & 1 };
        gk_bundle_build b = { .img = &img, .o = &o, .nfds = 1, .abs = "/fuzz-bundle" };
        gk_spec *spec = NULL;
        gk_error *err = NULL;
        char *out = NULL;

        if (layer_fd < 0)
                setup();
        cfg = part(&data, &size, &ncfg);
        pw = part(&data, &size, &npw);
        gr = part(&data, &size, &ngr);
        put("etc/passwd", pw, npw);
        put("etc/group", gr, ngr);
        img.config = (const char *) cfg;
        img.config_len = ncfg;
        b.fds = &layer_fd;
        if (gk_bundle_build_spec(&b, &out, &err) < 0) {
                if (!err || !err->msg || out)
                        abort();
                gk_error_free(err);
                return 0;
        }
        if (gk_spec_parse(out, strlen(out), "config.json", &spec, &err) < 0) {
                fprintf(stderr, "gkrun refuses the bundle's config.json: %s\n%s\n", err->msg, out);
                abort();
        }
        if (!spec->process || !spec->process->n_args || !spec->process->cwd ||
            spec->process->cwd[0] != '/' || !has_env(spec->process, "PATH=") ||
            !has_env(spec->process, "HOME="))
                abort();
        gk_spec_free(spec);
        free(out);
        return 0;
}
