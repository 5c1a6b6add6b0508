/* Image signatures: checked against containers-policy.json(5) on pull,
 * made on push (see bundle-spec/signatures.md).  Two entry points, so
 * that every command that moves an image from or to a registry (pull,
 * push, copy) makes the same checks with one call. */
#ifndef GK_IMGTOOL_SIGNATURE_H
#define GK_IMGTOOL_SIGNATURE_H

#include <stdbool.h>

#include "gk/error.h"
#include "reference.h"
#include "registry.h"

/* Where the configuration is: --policy and --registries.d, NULL for the
 * defaults (policy.h, regsd.h). */
typedef struct gk_sig_ctx {
        const char *policy_path;
        const char *registries_d;
} gk_sig_ctx;

/* Checks the policy for image REF whose (top-level) manifest has DIGEST,
 * fetching its signatures from the lookaside and, when registries.d says
 * so, its sigstore attachments through REG (REF's repository).  Fails
 * with "`REF`: signature verification failed: REASON" when the policy
 * does not accept it.  No policy file at all (none given, none at the
 * default places) accepts anything, as gkimg did before policies. */
int gk_sig_verify_image(const gk_sig_ctx *c, const gk_reference *ref, const char *digest,
                        gk_registry *reg, gk_error **err);

typedef struct gk_sign_opts {
        const char *gpg_fingerprint; /* --sign-by: a key of $GNUPGHOME */
        const char *sigstore_key;    /* --sign-by-sigstore-private-key: a PEM file */
        const char *passphrase_file; /* --sign-passphrase-file */
} gk_sign_opts;

static inline bool gk_sign_wanted(const gk_sign_opts *o)
{
        return o && (o->gpg_fingerprint || o->sigstore_key);
}

/* A signature of manifest DIGEST as DEST, made before the push sends
 * anything (a wrong key, an unknown fingerprint or a wrong passphrase
 * then fails with the destination untouched) and stored once the
 * manifest is there: a simple-signing signature into the lookaside-staging
 * directory (file:// only) and/or a sigstore signature uploaded as an
 * attachment through REG (DEST's repository, with push access).  *OUT is
 * NULL when O asks for none; gk_sig_store of NULL does nothing. */
typedef struct gk_sig_made gk_sig_made;
int gk_sig_make(const gk_sig_ctx *c, const gk_sign_opts *o, const gk_reference *dest,
                const char *digest, gk_sig_made **out, gk_error **err);
int gk_sig_store(const gk_sig_made *m, gk_registry *reg, gk_error **err);
const char *gk_sig_made_digest(const gk_sig_made *m);
void gk_sig_made_free(gk_sig_made *m);

#endif
