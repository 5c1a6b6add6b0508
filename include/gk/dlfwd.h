/* Calls into a shared library loaded with dlopen() the first time one is
 * made, shared by gkimg (libcurl, libarchive: imgtool/dl_*.c) and gkrun
 * (libsystemd's sd-bus: runtime/cgroup/sdbus_dl.c).  A program links these
 * forwarding definitions instead of the library, so a command that never
 * makes such a call neither maps the library nor relocates it (nor the
 * dozens it pulls in); a static gkrun can still reach libsystemd.
 *
 * A dl_*.c lists the library's calls as X-macro lists, then uses these:
 *   CALLS(X)       X(RET, FAIL, NAME, PARAMS, ARGS): returns FAIL unloaded
 *   VOID_CALLS(X)  X(NAME, PARAMS, ARGS): returns nothing
 *   VARIADIC(X)    X(SYMBOL): written out by hand, calling fns[i_SYMBOL]
 *                  (a va_list form such as sd_bus_message_appendv, or the
 *                  variadic call itself)
 * GK_DL_LIBRARY(SONAME, PURPOSE) makes the table, `lib` and `ready()`
 * (loads once, thread-safe, true when loaded); GK_DL_FORWARDERS the
 * definitions. */
#ifndef GK_DLFWD_H
#define GK_DLFWD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"

/* One library and the functions taken from it, all resolved at once. */
typedef struct gk_dl_lib {
        const char *soname;
        const char *purpose; /* "to talk to registries", for the error */
        const char *const *names;
        void **fns; /* filled in the order of names */
        size_t n;
        void *handle; /* NULL when the library could not be loaded */
        char error[256];
} gk_dl_lib;

/* Loads L and resolves every name (call it once, under pthread_once). */
void gk_dl_open(gk_dl_lib *l);

/* The error of a library that could not be loaded: -ELIBACC, "`SONAME` is
 * needed PURPOSE: REASON". */
int gk_dl_fail(const gk_dl_lib *l, gk_error **err);

#define GK_DL_INDEX(ret, fail, name, params, args) i_##name,
#define GK_DL_VINDEX(name, params, args) i_##name,
#define GK_DL_XINDEX(name) i_##name,
#define GK_DL_NAME(ret, fail, name, params, args) #name,
#define GK_DL_VNAME(name, params, args) #name,
#define GK_DL_XNAME(name) #name,

#define GK_DL_LIBRARY(SONAME, PURPOSE)                                                       \
        enum { CALLS(GK_DL_INDEX) VOID_CALLS(GK_DL_VINDEX) VARIADIC(GK_DL_XINDEX) N_CALLS }; \
        static const char *const names[] = { CALLS(GK_DL_NAME) VOID_CALLS(GK_DL_VNAME)       \
                                                     VARIADIC(GK_DL_XNAME) };                \
        static void *fns[N_CALLS];                                                           \
        static gk_dl_lib lib = { .soname = (SONAME),                                         \
                                 .purpose = (PURPOSE),                                       \
                                 .names = names,                                             \
                                 .fns = fns,                                                 \
                                 .n = N_CALLS };                                             \
        static pthread_once_t once = PTHREAD_ONCE_INIT;                                      \
        static void load(void)                                                               \
        {                                                                                    \
                gk_dl_open(&lib);                                                            \
        }                                                                                    \
        static bool ready(void)                                                              \
        {                                                                                    \
                pthread_once(&once, load);                                                   \
                return lib.handle != NULL;                                                   \
        }

#define GK_DL_FORWARD(ret, fail, name, params, args)                            \
        ret(name) params                                                        \
        {                                                                       \
                return ready() ? ((ret(*) params) fns[i_##name]) args : (fail); \
        }
#define GK_DL_FORWARD_VOID(name, params, args)                 \
        void(name) params                                      \
        {                                                      \
                if (ready())                                   \
                        ((void(*) params) fns[i_##name]) args; \
        }
#define GK_DL_FORWARDERS CALLS(GK_DL_FORWARD) VOID_CALLS(GK_DL_FORWARD_VOID)

/* A list with nothing in it, for VOID_CALLS or VARIADIC. */
#define GK_DL_NONE(X)

#endif
