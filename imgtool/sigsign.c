/* Signing what was pushed (signature.h): a GPG simple signature goes to
 * the lookaside-staging directory, a sigstore one to the attachment of
 * the manifest's digest, as skopeo copy --sign-by* do. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "sig_internal.h"
#include "signature.h"

/* The passphrase is wiped before its memory is given back (the key it
 * opens is, in sig_cosign.c). */
static void passphrase_freep(char **p)
{
        if (*p)
                explicit_bzero(*p, strlen(*p));
        free(*p);
}

static int read_passphrase(const char *path, char **out, gk_error **err)
{
        size_t len = 0, first;

        *out = NULL;
        if (!path)
                return 0;
        if (gk_read_file(path, out, &len, err) < 0)
                return gk_error_wrap(err, "--sign-passphrase-file");
        /* the first line, as skopeo reads it; the rest wiped at once */
        first = strcspn(*out, "\r\n");
        explicit_bzero(*out + first, len - first);
        return 0;
}

static int sign_gpg(const gk_sign_opts *o, const char *pass, const gk_sigstore_cfg *cfg,
                    const gk_reference *dest, const char *name, const char *digest, gk_error **err)
{
        _cleanup_free_ char *payload = NULL, *sig = NULL;
        size_t len = 0, slen = 0;

        if (gk_sig_payload_make(GK_SIG_TYPE_SIMPLE, name, digest, &payload, &len, err) < 0 ||
            gk_gpg_sign(o->gpg_fingerprint, pass, payload, len, &sig, &slen, err) < 0)
                return -EINVAL;
        return gk_lookaside_put(cfg, dest, digest, sig, slen, err);
}

static int sign_sigstore(const gk_sign_opts *o, const char *pass, const gk_sigstore_cfg *cfg,
                         const char *name, const char *digest, gk_registry *reg, gk_error **err)
{
        _cleanup_free_ char *payload = NULL, *sig = NULL;
        size_t len = 0;

        if (!cfg->attachments)
                return gk_error_make(err, 0,
                                     "--sign-by-sigstore-private-key: registries.d does not set "
                                     "use-sigstore-attachments for `%s`",
                                     name);
        if (gk_sig_payload_make(GK_SIG_TYPE_COSIGN, name, digest, &payload, &len, err) < 0 ||
            gk_sigstore_sign(o->sigstore_key, pass, payload, len, &sig, err) < 0)
                return -EINVAL;
        return gk_attachment_put(reg, digest, payload, len, sig, err);
}

int gk_sig_sign_image(const gk_sig_ctx *c, const gk_sign_opts *o, const gk_reference *dest,
                      const char *digest, gk_registry *reg, gk_error **err)
{
        _cleanup_(gk_sigstore_cfg_clear) gk_sigstore_cfg cfg = { 0 };
        _cleanup_free_ char *name = NULL;
        _cleanup_(passphrase_freep) char *pass = NULL;

        if (!gk_sign_wanted(o))
                return 0;
        if (!(name = gk_reference_string(dest)))
                return gk_error_make(err, ENOMEM, "sign");
        if (read_passphrase(o->passphrase_file, &pass, err) < 0 ||
            gk_regsd_lookup(c ? c->registries_d : NULL, dest, &cfg, err) < 0 ||
            (o->gpg_fingerprint && sign_gpg(o, pass, &cfg, dest, name, digest, err) < 0) ||
            (o->sigstore_key && sign_sigstore(o, pass, &cfg, name, digest, reg, err) < 0))
                return gk_error_wrap(err, "sign `%s`", name);
        return 0;
}
