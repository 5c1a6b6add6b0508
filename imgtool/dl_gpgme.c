/* The GPGME calls of simple signing (sig_gpg.c), with libgpgme loaded by
 * dlopen() the first time one is made: only the commands that sign or
 * verify with GPG map libgpgme and libassuan (see dl.h).  A call that is
 * not listed here is taken from libgpgme at link time (the Makefile keeps
 * -lgpgme, with --as-needed): `readelf -d gkimg` then shows libgpgme
 * again, and test_gkimg_cli.py fails.  Only exported symbols are listed:
 * gpgme_check_version is a macro over gpgme_check_version_internal, and
 * gpgme_error / gpgme_err_code are inline (gpg-error.h), so they need no
 * library. */
#include <gpgme.h>
#include <pthread.h>
#include <stdbool.h>

#include "dl.h"

#ifndef GK_GPGME_SONAME
#define GK_GPGME_SONAME "libgpgme.so.11"
#endif

/* What a call returns when libgpgme cannot be loaded (sig_gpg.c calls
 * gk_dl_gpgme() first, so it is never reported as a bad signature). */
#define NO_GPGME gpgme_error(GPG_ERR_NOT_OPERATIONAL)

typedef gpgme_error_t gerr;

/* X(RET, FAIL, NAME, PARAMS, ARGS): NAME's forwarding definition returns
 * FAIL when libgpgme cannot be loaded. */
#define CALLS(X)                                                                                  \
        X(const char *, NULL, gpgme_check_version_internal, (const char *req, size_t off),        \
          (req, off))                                                                             \
        X(const char *, "libgpgme is not loaded", gpgme_strerror, (gerr e), (e))                  \
        X(gerr, NO_GPGME, gpgme_error_from_errno, (int e), (e))                                   \
        X(gerr, NO_GPGME, gpgme_new, (gpgme_ctx_t * ctx), (ctx))                                  \
        X(gerr, NO_GPGME, gpgme_ctx_set_engine_info,                                              \
          (gpgme_ctx_t ctx, gpgme_protocol_t proto, const char *file, const char *home),          \
          (ctx, proto, file, home))                                                               \
        X(gerr, NO_GPGME, gpgme_set_pinentry_mode, (gpgme_ctx_t ctx, gpgme_pinentry_mode_t m),    \
          (ctx, m))                                                                               \
        X(gerr, NO_GPGME, gpgme_data_new, (gpgme_data_t * d), (d))                                \
        X(gerr, NO_GPGME, gpgme_data_new_from_mem,                                                \
          (gpgme_data_t * d, const char *buf, size_t size, int copy), (d, buf, size, copy))       \
        X(char *, NULL, gpgme_data_release_and_get_mem, (gpgme_data_t d, size_t * len), (d, len)) \
        X(gerr, NO_GPGME, gpgme_get_key,                                                          \
          (gpgme_ctx_t ctx, const char *fpr, gpgme_key_t *key, int secret),                       \
          (ctx, fpr, key, secret))                                                                \
        X(int, -1, gpgme_io_writen, (int fd, const void *buf, size_t n), (fd, buf, n))            \
        X(gerr, NO_GPGME, gpgme_op_import, (gpgme_ctx_t ctx, gpgme_data_t keys), (ctx, keys))     \
        X(gpgme_import_result_t, NULL, gpgme_op_import_result, (gpgme_ctx_t ctx), (ctx))          \
        X(gerr, NO_GPGME, gpgme_op_keylist_start,                                                 \
          (gpgme_ctx_t ctx, const char *pattern, int secret), (ctx, pattern, secret))             \
        X(gerr, NO_GPGME, gpgme_op_keylist_next, (gpgme_ctx_t ctx, gpgme_key_t * key),            \
          (ctx, key))                                                                             \
        X(gerr, NO_GPGME, gpgme_op_sign,                                                          \
          (gpgme_ctx_t ctx, gpgme_data_t plain, gpgme_data_t sig, gpgme_sig_mode_t mode),         \
          (ctx, plain, sig, mode))                                                                \
        X(gerr, NO_GPGME, gpgme_op_verify,                                                        \
          (gpgme_ctx_t ctx, gpgme_data_t sig, gpgme_data_t text, gpgme_data_t plain),             \
          (ctx, sig, text, plain))                                                                \
        X(gpgme_verify_result_t, NULL, gpgme_op_verify_result, (gpgme_ctx_t ctx), (ctx))          \
        X(gerr, NO_GPGME, gpgme_signers_add, (gpgme_ctx_t ctx, const gpgme_key_t key), (ctx, key))

/* X(NAME, PARAMS, ARGS): the calls that return nothing. */
#define VOID_CALLS(X)                                                                    \
        X(gpgme_release, (gpgme_ctx_t ctx), (ctx))                                       \
        X(gpgme_set_armor, (gpgme_ctx_t ctx, int yes), (ctx, yes))                       \
        X(gpgme_set_passphrase_cb, (gpgme_ctx_t ctx, gpgme_passphrase_cb_t cb, void *h), \
          (ctx, cb, h))                                                                  \
        X(gpgme_data_release, (gpgme_data_t d), (d))                                     \
        X(gpgme_free, (void *p), (p))                                                    \
        X(gpgme_key_unref, (gpgme_key_t key), (key))

#define VARIADIC GK_DL_NONE

GK_DL_LIBRARY(GK_GPGME_SONAME, "to sign or verify with GPG")

int gk_dl_gpgme(gk_error **err)
{
        return ready() ? 0 : gk_dl_fail(&lib, err);
}

GK_DL_FORWARDERS
