/* Simple signing with GPG through GPGME.  A verification imports only the
 * policy's keys into a private, temporary GNUPGHOME, so the caller's
 * keyring (and its trust settings) play no part; the directory is
 * removed afterwards.  A signature counts when GPG checked it good and
 * the key (or subkey) that made it is one of those imported. */
#include <errno.h>
#include <fcntl.h>
#include <gpgme.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "sig_internal.h"

struct gk_gpg_verifier {
        gpgme_ctx_t ctx;
        char home[64];
        char **fprs; /* NULL-terminated: every key and subkey imported */
        size_t n_fprs;
};

/* Loads libgpgme (dl_gpgme.c) for a message naming it when it is missing,
 * then initialises it as GPGME requires before the first context. */
static int gpg_init(gk_error **err)
{
        static bool done;

        if (gk_dl_gpgme(err) < 0)
                return -ELIBACC;
        if (!done) {
                gpgme_check_version(NULL);
                done = true;
        }
        return 0;
}

static int gpg_fail(gpgme_error_t e, const char *what, gk_error **err)
{
        return gk_error_make(err, 0, "%s: %s", what, gpgme_strerror(e));
}

void gk_gpg_verifier_free(gk_gpg_verifier *v)
{
        if (!v)
                return;
        if (v->ctx)
                gpgme_release(v->ctx);
        if (v->home[0])
                gk_rm_rf_at(AT_FDCWD, v->home, NULL);
        gk_strvfree(v->fprs);
        free(v);
}

static int add_fpr(gk_gpg_verifier *v, const char *fpr)
{
        char **n = realloc(v->fprs, (v->n_fprs + 2) * sizeof(char *));

        if (!n)
                return -ENOMEM;
        v->fprs = n;
        if (!(n[v->n_fprs] = strdup(fpr)))
                return -ENOMEM;
        n[++v->n_fprs] = NULL;
        return 0;
}

static int import_key(gk_gpg_verifier *v, const gk_keyblob *k, gk_error **err)
{
        gpgme_data_t d = NULL;
        gpgme_import_result_t res;
        gpgme_error_t e = gpgme_data_new_from_mem(&d, k->data, k->len, 0);

        if (!e)
                e = gpgme_op_import(v->ctx, d);
        gpgme_data_release(d);
        if (e)
                return gpg_fail(e, k->name, err);
        res = gpgme_op_import_result(v->ctx);
        if (!res || res->considered == 0 || res->imported + res->unchanged == 0)
                return gk_error_make(err, 0, "policy key `%s`: no GPG public key in it", k->name);
        return 0;
}

static int list_fprs(gk_gpg_verifier *v, gk_error **err)
{
        gpgme_key_t key;
        gpgme_error_t e = gpgme_op_keylist_start(v->ctx, NULL, 0);

        while (!e && !(e = gpgme_op_keylist_next(v->ctx, &key))) {
                for (gpgme_subkey_t s = key->subkeys; s; s = s->next)
                        if (s->fpr && add_fpr(v, s->fpr) < 0) {
                                gpgme_key_unref(key);
                                return gk_error_make(err, ENOMEM, "gpg");
                        }
                gpgme_key_unref(key);
        }
        if (gpgme_err_code(e) != GPG_ERR_EOF)
                return gpg_fail(e, "gpg: listing the policy's keys", err);
        return 0;
}

int gk_gpg_verifier_new(const gk_keys *keys, gk_gpg_verifier **out, gk_error **err)
{
        gk_gpg_verifier *v;
        gk_keyblob *kb = NULL;
        size_t n = 0;
        gpgme_error_t e;
        int r = gpg_init(err);

        if (r < 0)
                return r;
        if (!(v = calloc(1, sizeof(*v))))
                return gk_error_make(err, ENOMEM, "gpg");
        snprintf(v->home, sizeof(v->home), "/tmp/gkimg-gpg-XXXXXX");
        if (!mkdtemp(v->home)) {
                v->home[0] = '\0';
                r = gk_error_errno(err, "gpg: temporary GNUPGHOME");
        } else if ((e = gpgme_new(&v->ctx)) ||
                   (e = gpgme_ctx_set_engine_info(v->ctx, GPGME_PROTOCOL_OpenPGP, NULL, v->home)))
                r = gpg_fail(e, "gpg", err);
        else if (gk_keys_read(keys, &kb, &n, err) < 0)
                r = -EIO;
        for (size_t i = 0; r == 0 && i < n; i++)
                r = import_key(v, &kb[i], err);
        gk_keyblobs_free(kb, n);
        if (r == 0)
                r = list_fprs(v, err);
        if (r < 0) {
                gk_gpg_verifier_free(v);
                return r;
        }
        *out = v;
        return 0;
}

static bool trusted(const gk_gpg_verifier *v, const char *fpr)
{
        size_t fl = fpr ? strlen(fpr) : 0;

        /* GPG may report a long key id instead of the fingerprint: a
         * suffix of one of ours */
        for (size_t i = 0; fl >= 16 && i < v->n_fprs; i++) {
                size_t l = strlen(v->fprs[i]);

                if (l >= fl && !strcasecmp(v->fprs[i] + l - fl, fpr))
                        return true;
        }
        return false;
}

int gk_gpg_verify(gk_gpg_verifier *v, const char *sig, size_t len, char **payload, size_t *plen,
                  gk_error **err)
{
        gpgme_data_t sd = NULL, plain = NULL;
        gpgme_verify_result_t res;
        gpgme_error_t e = gpgme_data_new_from_mem(&sd, sig, len, 0);
        char *mem;
        size_t ml = 0;
        int r = 0;

        if (!e)
                e = gpgme_data_new(&plain);
        if (!e)
                e = gpgme_op_verify(v->ctx, sd, NULL, plain);
        gpgme_data_release(sd);
        if (e) {
                gpgme_data_release(plain);
                return gpg_fail(e, "not a valid GPG signature", err);
        }
        res = gpgme_op_verify_result(v->ctx);
        if (!res || !res->signatures || res->signatures->next)
                r = gk_error_make(err, 0, "GPG signature: must hold exactly one signature");
        else if (gpgme_err_code(res->signatures->status) == GPG_ERR_NO_PUBKEY)
                r = gk_error_make(err, 0, "signed by key %s, not one the policy trusts",
                                  res->signatures->fpr ? res->signatures->fpr : "?");
        else if (res->signatures->status)
                r = gpg_fail(res->signatures->status, "GPG signature", err);
        else if (!trusted(v, res->signatures->fpr))
                r = gk_error_make(err, 0, "signed by key %s, not one the policy trusts",
                                  res->signatures->fpr);
        mem = gpgme_data_release_and_get_mem(plain, &ml);
        if (r == 0 && !(*payload = malloc(ml + 1)))
                r = gk_error_make(err, ENOMEM, "gpg");
        if (r == 0) {
                memcpy(*payload, mem, ml);
                (*payload)[ml] = '\0';
                *plen = ml;
        }
        gpgme_free(mem);
        return r;
}

static gpgme_error_t passphrase_cb(void *hook, const char *uid_hint, const char *info,
                                   int prev_bad, int fd)
{
        const char *pass = hook;

        if (prev_bad)
                return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
        if (gpgme_io_writen(fd, pass, strlen(pass)) || gpgme_io_writen(fd, "\n", 1))
                return gpgme_error_from_errno(errno);
        return 0;
}

static int sign_with(gpgme_ctx_t ctx, const char *fpr, const char *passphrase, const char *payload,
                     size_t len, char **sig, size_t *slen, gk_error **err)
{
        gpgme_key_t key = NULL;
        gpgme_data_t in = NULL, out = NULL;
        gpgme_error_t e = gpgme_get_key(ctx, fpr, &key, 1);
        char *mem;
        size_t ml = 0;

        if (e)
                return gk_error_make(err, 0,
                                     "--sign-by `%s`: no such secret key in the keyring: %s", fpr,
                                     gpgme_strerror(e));
        if (passphrase) {
                gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
                gpgme_set_passphrase_cb(ctx, passphrase_cb, (void *) passphrase);
        }
        e = gpgme_signers_add(ctx, key);
        gpgme_key_unref(key);
        if (!e)
                e = gpgme_data_new_from_mem(&in, payload, len, 0);
        if (!e)
                e = gpgme_data_new(&out);
        if (!e)
                e = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_NORMAL);
        gpgme_data_release(in);
        if (e) {
                gpgme_data_release(out);
                return gk_error_make(err, 0, "--sign-by `%s`: signing failed: %s", fpr,
                                     gpgme_strerror(e));
        }
        mem = gpgme_data_release_and_get_mem(out, &ml);
        *sig = malloc(ml ? ml : 1);
        if (*sig)
                memcpy(*sig, mem, ml);
        *slen = ml;
        gpgme_free(mem);
        return *sig ? 0 : gk_error_make(err, ENOMEM, "gpg");
}

int gk_gpg_sign(const char *fpr, const char *passphrase, const char *payload, size_t len,
                char **sig, size_t *slen, gk_error **err)
{
        gpgme_ctx_t ctx = NULL;
        gpgme_error_t e;
        int r;

        if ((r = gpg_init(err)) < 0)
                return r;
        if ((e = gpgme_new(&ctx)))
                return gpg_fail(e, "gpg", err);
        gpgme_set_armor(ctx, 0);
        r = sign_with(ctx, fpr, passphrase, payload, len, sig, slen, err);
        gpgme_release(ctx);
        return r;
}
