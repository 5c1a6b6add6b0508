/* The policy's verdict on one image (signature.h): every requirement of
 * the scope that applies must hold; a signature requirement holds when
 * one of the image's signatures is good, made by one of its keys, for
 * this manifest digest, under an identity signedIdentity accepts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "sig_internal.h"
#include "signature.h"

typedef struct verdict {
        const gk_reference *ref;
        const char *digest;
        const gk_found_sigs *sigs;
        char reason[512]; /* why the last signature looked at was not taken */
} verdict;

/* The claims of PAYLOAD (of TYPE) against the image. */
static bool claims_fit(verdict *v, const gk_req *q, int i, const char *type, const char *payload,
                       size_t len)
{
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        _cleanup_free_ char *ref = NULL, *digest = NULL;
        const char *why;

        if (gk_sig_payload_parse(type, payload, len, &ref, &digest, &e) < 0) {
                snprintf(v->reason, sizeof(v->reason), "signature %d: %s", i, e->msg);
                return false;
        }
        if (strcmp(digest, v->digest)) {
                snprintf(v->reason, sizeof(v->reason),
                         "signature %d is for manifest %s, not this image's %s", i, digest,
                         v->digest);
                return false;
        }
        if (!gk_ident_matches(&q->ident, v->ref, ref, &why)) {
                snprintf(v->reason, sizeof(v->reason), "signature %d: %s (it names `%s`)", i, why,
                         ref);
                return false;
        }
        return true;
}

static int check_signed_by(verdict *v, const gk_req *q, bool *ok, gk_error **err)
{
        gk_gpg_verifier *g = NULL;
        int seen = 0;

        *ok = false;
        if (gk_gpg_verifier_new(&q->keys, &g, err) < 0)
                return -EINVAL;
        for (size_t i = 0; i < v->sigs->n && !*ok; i++) {
                _cleanup_(gk_error_freep) gk_error *e = NULL;
                _cleanup_free_ char *payload = NULL;
                const gk_found_sig *s = &v->sigs->v[i];
                size_t len = 0;

                if (s->sigstore)
                        continue;
                seen++;
                if (gk_gpg_verify(g, s->data, s->len, &payload, &len, &e) < 0) {
                        snprintf(v->reason, sizeof(v->reason), "signature %d: %s", seen, e->msg);
                        continue;
                }
                *ok = claims_fit(v, q, seen, GK_SIG_TYPE_SIMPLE, payload, len);
        }
        gk_gpg_verifier_free(g);
        if (!seen)
                snprintf(v->reason, sizeof(v->reason),
                         "no simple-signing signature found (signedBy needs one)");
        return 0;
}

static int check_sigstore(verdict *v, const gk_req *q, bool *ok, gk_error **err)
{
        int seen = 0;

        *ok = false;
        for (size_t i = 0; i < v->sigs->n && !*ok; i++) {
                _cleanup_(gk_error_freep) gk_error *e = NULL;
                const gk_found_sig *s = &v->sigs->v[i];
                int r;

                if (!s->sigstore)
                        continue;
                seen++;
                r = gk_sigstore_verify(&q->keys, s->data, s->len, s->sig_b64, &e);
                if (r == -ENOKEY) {
                        *err = TAKE_PTR(e); /* the policy's key is broken: not the image's fault */
                        return r;
                }
                if (r < 0) {
                        snprintf(v->reason, sizeof(v->reason), "sigstore signature %d: %s", seen,
                                 e->msg);
                        continue;
                }
                *ok = claims_fit(v, q, seen, GK_SIG_TYPE_COSIGN, s->data, s->len);
        }
        if (!seen)
                snprintf(v->reason, sizeof(v->reason),
                         "no sigstore signature found (sigstoreSigned needs one; is "
                         "use-sigstore-attachments set in registries.d?)");
        return 0;
}

static bool needs_sigs(const gk_reqs *reqs)
{
        for (size_t i = 0; i < reqs->n; i++)
                if (reqs->v[i].type == GK_REQ_SIGNED_BY || reqs->v[i].type == GK_REQ_SIGSTORE)
                        return true;
        return false;
}

static int evaluate(const gk_sig_ctx *c, const gk_policy *p, verdict *v, gk_found_sigs *sigs,
                    gk_registry *reg, gk_error **err)
{
        _cleanup_(gk_sigstore_cfg_clear) gk_sigstore_cfg cfg = { 0 };
        const char *scope = NULL;
        const gk_reqs *reqs = gk_policy_for_docker(p, v->ref, &scope);

        if (!reqs)
                return gk_error_make(err, ENOMEM, "policy");
        if (needs_sigs(reqs) &&
            (gk_regsd_lookup(c ? c->registries_d : NULL, v->ref, &cfg, err) < 0 ||
             gk_sigs_fetch(&cfg, reg, v->ref, v->digest, sigs, err) < 0))
                return -EIO;
        for (size_t i = 0; i < reqs->n; i++) {
                const gk_req *q = &reqs->v[i];
                bool ok = true;

                if (q->type == GK_REQ_REJECT)
                        return gk_error_plain(err, EACCES, "%s rejects it (%s: reject)", p->path,
                                              scope ? scope : "default");
                if ((q->type == GK_REQ_SIGNED_BY && check_signed_by(v, q, &ok, err) < 0) ||
                    (q->type == GK_REQ_SIGSTORE && check_sigstore(v, q, &ok, err) < 0))
                        return -EINVAL;
                if (!ok)
                        return gk_error_plain(err, EACCES, "%s", v->reason);
        }
        return 0;
}

int gk_sig_verify_image(const gk_sig_ctx *c, const gk_reference *ref, const char *digest,
                        gk_registry *reg, gk_error **err)
{
        _cleanup_(gk_policy_freep) gk_policy *p = NULL;
        _cleanup_free_ char *name = gk_reference_string(ref);
        _cleanup_(gk_found_sigs_clear) gk_found_sigs sigs = { 0 };
        verdict v = { .ref = ref, .digest = digest, .sigs = &sigs };

        if (!name)
                return gk_error_make(err, ENOMEM, "policy");
        if (gk_policy_load(c ? c->policy_path : NULL, &p, err) < 0)
                return -EINVAL;
        if (!p)
                return 0;
        if (evaluate(c, p, &v, &sigs, reg, err) < 0)
                return gk_error_wrap(err, "%s: signature verification failed", name);
        return 0;
}
