/* What a dl_*.c needs to define the calls of a library it loads lazily
 * (see dl.h).  The file lists the library's calls as X-macro lists before
 * using these:
 *   CALLS(X)       X(RET, FAIL, NAME, PARAMS, ARGS): returns FAIL unloaded
 *   VOID_CALLS(X)  X(NAME, PARAMS, ARGS): returns nothing
 *   VARIADIC(X)    X(NAME): written out by hand, calling fns[i_NAME]
 * then GK_DL_LIBRARY(SONAME, PURPOSE) makes the table, `lib` and `ready()`
 * (loads once, true when loaded), and GK_DL_FORWARDERS the definitions. */
#ifndef GK_IMGTOOL_DL_FORWARD_H
#define GK_IMGTOOL_DL_FORWARD_H

#include <pthread.h>
#include <stdbool.h>

#include "dl.h"

#define GK_DL_INDEX(ret, fail, name, params, args) i_##name,
#define GK_DL_VINDEX(name, params, args) i_##name,
#define GK_DL_XINDEX(name) i_##name,
#define GK_DL_NAME(ret, fail, name, params, args) #name,
#define GK_DL_VNAME(name, params, args) #name,
#define GK_DL_XNAME(name) #name,

#define GK_DL_LIBRARY(SONAME, PURPOSE)                                                  \
        enum { CALLS(GK_DL_INDEX) VOID_CALLS(GK_DL_VINDEX) VARIADIC(GK_DL_XINDEX) N_CALLS }; \
        static const char *const names[] = { CALLS(GK_DL_NAME) VOID_CALLS(GK_DL_VNAME)   \
                                                     VARIADIC(GK_DL_XNAME) };            \
        static void *fns[N_CALLS];                                                      \
        static gk_dl_lib lib = { .soname = (SONAME), .purpose = (PURPOSE),              \
                                 .names = names, .fns = fns, .n = N_CALLS };            \
        static pthread_once_t once = PTHREAD_ONCE_INIT;                                 \
        static void load(void)                                                          \
        {                                                                               \
                gk_dl_open(&lib);                                                       \
        }                                                                               \
        static bool ready(void)                                                         \
        {                                                                               \
                pthread_once(&once, load);                                              \
                return lib.handle != NULL;                                              \
        }

#define GK_DL_FORWARD(ret, fail, name, params, args)                            \
        ret(name) params                                                        \
        {                                                                       \
                return ready() ? ((ret(*) params) fns[i_##name]) args : (fail); \
        }
#define GK_DL_FORWARD_VOID(name, params, args)                  \
        void(name) params                                       \
        {                                                       \
                if (ready())                                    \
                        ((void (*) params) fns[i_##name]) args; \
        }
#define GK_DL_FORWARDERS CALLS(GK_DL_FORWARD) VOID_CALLS(GK_DL_FORWARD_VOID)

#endif
