/* What the signature files share: the signed payload (sigpayload.c), the
 * GPG mechanism (sig_gpg.c), the sigstore one (sig_sigstore.c) and the
 * places signatures are kept (sigstore_io.c). */
#ifndef GK_IMGTOOL_SIG_INTERNAL_H
#define GK_IMGTOOL_SIG_INTERNAL_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"
#include "policy.h"
#include "reference.h"
#include "regsd.h"
#include "registry.h"

/* critical.type of the two payloads (containers-signature(5), cosign) */
#define GK_SIG_TYPE_SIMPLE "atomic container signature"
#define GK_SIG_TYPE_COSIGN "cosign container image signature"
#define GK_MT_COSIGN_LAYER "application/vnd.dev.cosign.simplesigning.v1+json"
#define GK_COSIGN_SIG_ANNOTATION "dev.cosignproject.cosign/signature"

/* {"critical":{"identity":{"docker-reference":REF},"image":
 * {"docker-manifest-digest":DIGEST},"type":TYPE},"optional":...} */
int gk_sig_payload_make(const char *type, const char *ref, const char *digest, char **out,
                        size_t *len, gk_error **err);
/* The claims of payload BUF, which must be of TYPE. */
int gk_sig_payload_parse(const char *type, const char *buf, size_t len, char **ref, char **digest,
                         gk_error **err);

/* The key material of a requirement, every file read (keyPath[s]) or the
 * data given: *out is a NULL-terminated array of buffers. */
typedef struct gk_keyblob {
        char *data;
        size_t len;
        const char *name; /* the path, or "keyData" */
} gk_keyblob;
int gk_keys_read(const gk_keys *k, gk_keyblob **out, size_t *n, gk_error **err);
void gk_keyblobs_free(gk_keyblob *b, size_t n);

/* GPG: a private keyring in a temporary GNUPGHOME holding only KEYS. */
typedef struct gk_gpg_verifier gk_gpg_verifier;
int gk_gpg_verifier_new(const gk_keys *keys, gk_gpg_verifier **out, gk_error **err);
void gk_gpg_verifier_free(gk_gpg_verifier *v);
/* The payload of signature SIG when a trusted key made it. */
int gk_gpg_verify(gk_gpg_verifier *v, const char *sig, size_t len, char **payload, size_t *plen,
                  gk_error **err);
/* Signs PAYLOAD with key FPR of the caller's keyring ($GNUPGHOME). */
int gk_gpg_sign(const char *fpr, const char *passphrase, const char *payload, size_t len,
                char **sig, size_t *slen, gk_error **err);

/* sigstore: SIG_B64 (the annotation: base64 of an ASN.1 ECDSA signature
 * of the SHA-256 of PAYLOAD) made by one of KEYS (PEM public keys).
 * -ENOKEY: a key of the policy cannot be read or holds no public key. */
int gk_sigstore_verify(const gk_keys *keys, const char *payload, size_t len, const char *sig_b64,
                       gk_error **err);
int gk_sigstore_sign(const char *keyfile, const char *passphrase, const char *payload, size_t len,
                     char **sig_b64, gk_error **err);
/* The private key in cosign's encrypted format (cosign_key.h) that TEXT
 * (LEN bytes, read from KEYFILE) holds, opened with PASSPHRASE (NULL: none
 * given, the empty one is tried).  A wrong passphrase is an error naming
 * KEYFILE and saying so (sig_cosign.c). */
int gk_cosign_key_load(const char *keyfile, const char *text, size_t len, const char *passphrase,
                       EVP_PKEY **out, gk_error **err);

/* The signatures of an image, as found. */
typedef struct gk_found_sig {
        bool sigstore; /* else simple signing (a GPG message) */
        char *data;    /* the GPG message, or the sigstore payload */
        size_t len;
        char *sig_b64; /* sigstore only */
} gk_found_sig;

typedef struct gk_found_sigs {
        gk_found_sig *v;
        size_t n;
} gk_found_sigs;

void gk_found_sigs_clear(gk_found_sigs *s);

/* Every signature of DIGEST: lookaside signature-1, -2, ... until one is
 * missing, then (when CFG says) the attachment's layers through REG. */
int gk_sigs_fetch(const gk_sigstore_cfg *cfg, gk_registry *reg, const gk_reference *ref,
                  const char *digest, gk_found_sigs *out, gk_error **err);
/* Writes SIG as the next signature-N of DIGEST under CFG's write URL. */
int gk_lookaside_put(const gk_sigstore_cfg *cfg, const gk_reference *ref, const char *digest,
                     const char *sig, size_t len, gk_error **err);
/* Adds a layer (PAYLOAD, SIG_B64) to DIGEST's attachment at REG. */
int gk_attachment_put(gk_registry *reg, const char *digest, const char *payload, size_t len,
                      const char *sig_b64, gk_error **err);

#endif
