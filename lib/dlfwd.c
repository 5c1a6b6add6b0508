/* The loader behind the forwarders of gk/dlfwd.h (imgtool/dl_*.c,
 * runtime/cgroup/sdbus_dl.c). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>

#include "gk/dlfwd.h"

void gk_dl_open(gk_dl_lib *l)
{
        const char *e;

        l->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
        if (!l->handle) {
                e = dlerror();
                snprintf(l->error, sizeof(l->error), "%s", e ? e : "cannot load it");
                return;
        }
        /* Every function now, not each on its first call: an older library
         * missing one fails here, before a command has done half its work. */
        for (size_t i = 0; i < l->n; i++) {
                l->fns[i] = dlsym(l->handle, l->names[i]);
                if (!l->fns[i]) {
                        snprintf(l->error, sizeof(l->error), "%s: no function `%s`", l->soname,
                                 l->names[i]);
                        dlclose(l->handle);
                        l->handle = NULL;
                        return;
                }
        }
}

int gk_dl_fail(const gk_dl_lib *l, gk_error **err)
{
        return gk_error_plain(err, ELIBACC, "`%s` is needed %s: %s", l->soname, l->purpose,
                              l->error);
}
