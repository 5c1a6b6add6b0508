/* The libcurl calls of the registry client (registry.c, http.c, fetch.c),
 * with libcurl loaded by dlopen() the first time one is made: gkimg links
 * these definitions instead of the library, so only the commands that talk
 * to a registry map libcurl and the thirty-odd libraries it pulls in (see
 * dl.h).  A call the client makes that is not listed here is taken from
 * libcurl at link time (the Makefile keeps -lcurl, with --as-needed):
 * `ldd gkimg` then shows libcurl again. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#include "dl.h"

#ifndef GK_CURL_SONAME
#define GK_CURL_SONAME "libcurl.so.4"
#endif

/* X(RET, FAIL, NAME, PARAMS, ARGS): NAME's forwarding definition returns
 * FAIL when libcurl cannot be loaded. */
#define CALLS(X)                                                                                 \
        X(CURLcode, CURLE_FAILED_INIT, curl_global_init, (long flags), (flags))                  \
        X(CURL *, NULL, curl_easy_init, (void), ())                                              \
        X(CURLcode, CURLE_FAILED_INIT, curl_easy_perform, (CURL * c), (c))                       \
        X(const char *, "libcurl is not loaded", curl_easy_strerror, (CURLcode e), (e))          \
        X(char *, NULL, curl_easy_escape, (CURL * c, const char *s, int len), (c, s, len))       \
        X(CURLcode, CURLE_FAILED_INIT, curl_easy_pause, (CURL * c, int mask), (c, mask))         \
        X(CURLM *, NULL, curl_multi_init, (void), ())                                            \
        X(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_add_handle, (CURLM * m, CURL * c), (m, c)) \
        X(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_remove_handle, (CURLM * m, CURL * c),      \
          (m, c))                                                                                \
        X(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_cleanup, (CURLM * m), (m))                 \
        X(CURLMsg *, NULL, curl_multi_info_read, (CURLM * m, int *left), (m, left))              \
        X(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_perform, (CURLM * m, int *running),        \
          (m, running))                                                                          \
        X(CURLMcode, CURLM_INTERNAL_ERROR, curl_multi_poll,                                      \
          (CURLM * m, struct curl_waitfd fds[], unsigned int nfds, int ms, int *numfds),         \
          (m, fds, nfds, ms, numfds))                                                            \
        X(CURLSH *, NULL, curl_share_init, (void), ())                                           \
        X(CURLSHcode, CURLSHE_NOT_BUILT_IN, curl_share_cleanup, (CURLSH * s), (s))               \
        X(struct curl_slist *, NULL, curl_slist_append, (struct curl_slist * l, const char *s),  \
          (l, s))

/* X(NAME, PARAMS, ARGS): the calls that return nothing. */
#define VOID_CALLS(X)                         \
        X(curl_easy_cleanup, (CURL * c), (c)) \
        X(curl_free, (void *p), (p))          \
        X(curl_slist_free_all, (struct curl_slist * l), (l))

/* The variadic calls, written out below. */
#define VARIADIC(X) \
        X(curl_easy_setopt) X(curl_easy_getinfo) X(curl_multi_setopt) X(curl_share_setopt)

GK_DL_LIBRARY(GK_CURL_SONAME, "to talk to registries")

int gk_dl_curl(gk_error **err)
{
        return ready() ? 0 : gk_dl_fail(&lib, err);
}

GK_DL_FORWARDERS

/* A setopt takes one value after the option, of the type the option's
 * number says (curl numbers them by type, CURLOPTTYPE_*); it is passed on
 * with that type, as va_arg needs.  The multi options use the same
 * numbering. */
typedef void (*any_fn)(void);
#define SETOPT(fn, h, opt, ap)                                                             \
        ((opt) < CURLOPTTYPE_OBJECTPOINT     ? (fn) ((h), (opt), va_arg((ap), long))       \
         : (opt) < CURLOPTTYPE_FUNCTIONPOINT ? (fn) ((h), (opt), va_arg((ap), void *))     \
         : (opt) < CURLOPTTYPE_OFF_T         ? (fn) ((h), (opt), va_arg((ap), any_fn))     \
         : (opt) < CURLOPTTYPE_BLOB          ? (fn) ((h), (opt), va_arg((ap), curl_off_t)) \
                                             : (fn) ((h), (opt), va_arg((ap), void *)))

CURLcode(curl_easy_setopt)(CURL *c, CURLoption opt, ...)
{
        CURLcode (*fn)(CURL *, CURLoption, ...);
        CURLcode r;
        va_list ap;

        if (!ready())
                return CURLE_FAILED_INIT;
        fn = (CURLcode(*)(CURL *, CURLoption, ...)) fns[i_curl_easy_setopt];
        va_start(ap, opt);
        r = SETOPT(fn, c, opt, ap);
        va_end(ap);
        return r;
}

CURLMcode(curl_multi_setopt)(CURLM *m, CURLMoption opt, ...)
{
        CURLMcode (*fn)(CURLM *, CURLMoption, ...);
        CURLMcode r;
        va_list ap;

        if (!ready())
                return CURLM_INTERNAL_ERROR;
        fn = (CURLMcode(*)(CURLM *, CURLMoption, ...)) fns[i_curl_multi_setopt];
        va_start(ap, opt);
        r = SETOPT(fn, m, opt, ap);
        va_end(ap);
        return r;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode(curl_easy_getinfo)(CURL *c, CURLINFO info, ...)
{
        CURLcode (*fn)(CURL *, CURLINFO, ...);
        CURLcode r;
        va_list ap;

        if (!ready())
                return CURLE_FAILED_INIT;
        fn = (CURLcode(*)(CURL *, CURLINFO, ...)) fns[i_curl_easy_getinfo];
        va_start(ap, info);
        r = fn(c, info, va_arg(ap, void *));
        va_end(ap);
        return r;
}

/* The share options are not numbered by type: SHARE and UNSHARE take a
 * curl_lock_data (an int), the lock functions a function, USERDATA a
 * pointer. */
CURLSHcode(curl_share_setopt)(CURLSH *s, CURLSHoption opt, ...)
{
        CURLSHcode (*fn)(CURLSH *, CURLSHoption, ...);
        CURLSHcode r;
        va_list ap;

        if (!ready())
                return CURLSHE_NOT_BUILT_IN;
        fn = (CURLSHcode(*)(CURLSH *, CURLSHoption, ...)) fns[i_curl_share_setopt];
        va_start(ap, opt);
        switch (opt) {
        case CURLSHOPT_SHARE:
        case CURLSHOPT_UNSHARE:
                r = fn(s, opt, va_arg(ap, int));
                break;
        case CURLSHOPT_LOCKFUNC:
        case CURLSHOPT_UNLOCKFUNC:
                r = fn(s, opt, va_arg(ap, any_fn));
                break;
        default:
                r = fn(s, opt, va_arg(ap, void *));
                break;
        }
        va_end(ap);
        return r;
}
