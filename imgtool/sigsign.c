/* Signing what is pushed (signature.h): a GPG simple signature goes to
 * the lookaside-staging directory, a sigstore one to the attachment of
 * the manifest's digest, as skopeo copy --sign-by* do.  Made before the
 * push sends anything, stored after its manifests. */
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

/* Made before anything is pushed, kept until the manifest is there. */
struct gk_sig_made {
        char *name; /* DEST, canonical */
        char *digest;
        gk_reference dest;
        gk_sigstore_cfg cfg;
        char *gpg_sig; /* a GPG message for the lookaside, or NULL */
        size_t gpg_len;
        char *cosign_payload; /* a sigstore attachment's layer, or NULL */
        size_t cosign_len;
        char *cosign_sig;
};

void gk_sig_made_free(gk_sig_made *m)
{
        if (!m)
                return;
        free(m->name);
        free(m->digest);
        gk_reference_clear(&m->dest);
        gk_sigstore_cfg_clear(&m->cfg);
        free(m->gpg_sig);
        free(m->cosign_payload);
        free(m->cosign_sig);
        free(m);
}

const char *gk_sig_made_digest(const gk_sig_made *m)
{
        return m->digest;
}

static int make_gpg(gk_sig_made *m, const gk_sign_opts *o, const char *pass, gk_error **err)
{
        _cleanup_free_ char *payload = NULL;
        size_t len = 0;

        if (gk_sig_payload_make(GK_SIG_TYPE_SIMPLE, m->name, m->digest, &payload, &len, err) < 0 ||
            gk_gpg_sign(o->gpg_fingerprint, pass, payload, len, &m->gpg_sig, &m->gpg_len, err) < 0)
                return -EINVAL;
        return 0;
}

static int make_sigstore(gk_sig_made *m, const gk_sign_opts *o, const char *pass, gk_error **err)
{
        if (!m->cfg.attachments)
                return gk_error_make(err, 0,
                                     "--sign-by-sigstore-private-key: registries.d does not set "
                                     "use-sigstore-attachments for `%s`",
                                     m->name);
        if (gk_sig_payload_make(GK_SIG_TYPE_COSIGN, m->name, m->digest, &m->cosign_payload,
                                &m->cosign_len, err) < 0 ||
            gk_sigstore_sign(o->sigstore_key, pass, m->cosign_payload, m->cosign_len,
                             &m->cosign_sig, err) < 0)
                return -EINVAL;
        return 0;
}

static int make(gk_sig_made *m, const gk_sig_ctx *c, const gk_sign_opts *o, gk_error **err)
{
        _cleanup_(passphrase_freep) char *pass = NULL;

        if (read_passphrase(o->passphrase_file, &pass, err) < 0 ||
            gk_regsd_lookup(c ? c->registries_d : NULL, &m->dest, &m->cfg, err) < 0 ||
            (o->gpg_fingerprint && make_gpg(m, o, pass, err) < 0) ||
            (o->sigstore_key && make_sigstore(m, o, pass, err) < 0))
                return gk_error_wrap(err, "sign `%s`", m->name);
        return 0;
}

int gk_sig_make(const gk_sig_ctx *c, const gk_sign_opts *o, const gk_reference *dest,
                const char *digest, gk_sig_made **out, gk_error **err)
{
        gk_sig_made *m;

        *out = NULL;
        if (!gk_sign_wanted(o))
                return 0;
        if (!(m = calloc(1, sizeof(*m))) || !(m->name = gk_reference_string(dest)) ||
            !(m->digest = strdup(digest))) {
                gk_sig_made_free(m);
                return gk_error_make(err, ENOMEM, "sign");
        }
        /* the canonical name parses back to DEST: M owns its copy */
        if (gk_reference_parse(m->name, &m->dest, err) < 0 || make(m, c, o, err) < 0) {
                gk_sig_made_free(m);
                return gk_error_code_or(err, -EINVAL);
        }
        *out = m;
        return 0;
}

int gk_sig_store(const gk_sig_made *m, gk_registry *reg, gk_error **err)
{
        if (!m)
                return 0;
        if ((m->gpg_sig &&
             gk_lookaside_put(&m->cfg, &m->dest, m->digest, m->gpg_sig, m->gpg_len, err) < 0) ||
            (m->cosign_sig && gk_attachment_put(reg, m->digest, m->cosign_payload, m->cosign_len,
                                                m->cosign_sig, err) < 0))
                return gk_error_wrap(err, "sign `%s`", m->name);
        return 0;
}
