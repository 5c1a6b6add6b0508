/* fuzz-sources: imgtool/whiteout.c */
/* fuzz-libs: yajl */
/* The pure layer-entry rules, fast (fuzz_tar runs them inside a real
 * unpack): a cleaned name stays inside the layer and cleaning it again
 * changes nothing; the whiteout kind follows from the last component alone
 * and a file whiteout hides one sane name in the same directory; split
 * gives back the path; overlayfs's own xattrs are always reserved. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "whiteout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean_path(const char *clean)
{
        if (!*clean || clean[0] == '/' || strstr(clean, "//") || (clean[strlen(clean) - 1] == '/'))
                abort();
        if (!strcmp(clean, "."))
                return;
        for (const char *p = clean; *p;) {
                size_t n = strcspn(p, "/");

                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        abort();
                p += n + (p[n] == '/');
        }
}

static void check_kind(const char *clean)
{
        const char *base = strrchr(clean, '/') ? strrchr(clean, '/') + 1 : clean, *hidden;
        enum gk_wh_kind kind;
        gk_error *err = NULL;

        if (gk_whiteout_classify(clean, &kind, &hidden, &err) < 0) {
                if (!err || strncmp(base, ".wh.", 4))
                        abort();
                gk_error_free(err);
                return;
        }
        if ((kind == GK_WH_NONE) != !!strncmp(base, ".wh.", 4))
                abort();
        if ((kind == GK_WH_OPAQUE) != !strcmp(base, ".wh..wh..opq"))
                abort();
        if (kind == GK_WH_FILE &&
            (!hidden || hidden != base + 4 || !*hidden || strchr(hidden, '/') ||
             !strcmp(hidden, ".") || !strcmp(hidden, "..") || !strncmp(hidden, ".wh.", 4)))
                abort();
        if (kind != GK_WH_FILE && hidden)
                abort();
}

static void check_split(const char *clean)
{
        char *dir = NULL;
        const char *base = NULL;
        size_t dl;

        if (gk_path_split(clean, &dir, &base) < 0)
                abort();
        if (!strcmp(clean, ".")) {
                if (base || strcmp(dir, "."))
                        abort();
        } else if (!strcmp(dir, ".")) {
                if (base != clean)
                        abort();
        } else {
                dl = strlen(dir);
                if (strncmp(clean, dir, dl) || clean[dl] != '/' || base != clean + dl + 1 ||
                    strchr(base, '/'))
                        abort();
        }
        free(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *name = strndup((const char *) data, size), *clean = NULL, *again = NULL;
        gk_error *err = NULL;

        if (!name)
                return 0;
        if (!strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13)) {
                if (!gk_xattr_reserved(name))
                        abort();
        } else if (gk_xattr_reserved(name)) {
                abort();
        }
        if (gk_entry_path_clean(name, &clean, &err) < 0) {
                if (!err || !err->msg || clean)
                        abort();
                gk_error_free(err);
                free(name);
                return 0;
        }
        check_clean_path(clean);
        if (gk_entry_path_clean(clean, &again, NULL) < 0 || strcmp(clean, again))
                abort();
        check_kind(clean);
        check_split(clean);
        free(again);
        free(clean);
        free(name);
        return 0;
}
