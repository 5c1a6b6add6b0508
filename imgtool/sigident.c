/* signedIdentity: which docker reference a signature may claim for the
 * image being pulled (containers-policy.json(5)).  Both sides are
 * normalized first (docker.io/library/...), so "busybox" and
 * "docker.io/library/busybox:latest" are the same identity. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "policy.h"

static bool same_string(const gk_reference *a, const gk_reference *b)
{
        _cleanup_free_ char *x = gk_reference_string(a), *y = gk_reference_string(b);

        return x && y && !strcmp(x, y);
}

static bool same_repo(const gk_reference *a, const gk_reference *b)
{
        return !strcmp(a->domain, b->domain) && !strcmp(a->path, b->path);
}

static bool repo_digest_or_exact(const gk_reference *image, const gk_reference *sig)
{
        return image->digest ? same_repo(image, sig) : same_string(image, sig);
}

/* IMAGE with PREFIX replaced by SIGNED_PREFIX, when PREFIX covers a
 * whole leading part of its name ("host", "host/ns", "host/ns/repo"). */
static int remap(const gk_ident *id, const gk_reference *image, gk_reference *out, bool *hit)
{
        _cleanup_free_ char *s = gk_reference_string(image), *n = NULL;
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        size_t pl = strlen(id->prefix);

        *hit = false;
        if (!s)
                return -1;
        if (strncmp(s, id->prefix, pl) || (s[pl] && !strchr("/:@", s[pl])))
                return 0;
        if (asprintf(&n, "%s%s", id->signed_prefix, s + pl) < 0)
                return -1;
        if (gk_reference_parse(n, out, &e) < 0)
                return -1;
        *hit = true;
        return 0;
}

/* A tag or a digest written out: the parser adds ":latest" to a bare
 * name, which an exact match must not take as the signer's word. */
static bool names_version(const char *s)
{
        const char *last = strrchr(s, '/');

        return strchr(s, '@') || strchr(last ? last : s, ':');
}

bool gk_ident_matches(const gk_ident *id, const gk_reference *image, const char *signed_ref,
                      const char **why)
{
        _cleanup_(gk_reference_clear) gk_reference sig = { 0 }, want = { 0 };
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        bool hit, ok = false;

        *why = "the signature's identity does not match the image";
        if (!signed_ref || gk_reference_parse(signed_ref, &sig, &e) < 0) {
                *why = "the signature's identity is not a valid docker reference";
                return false;
        }
        if (!names_version(signed_ref) &&
            (id->type == GK_IDENT_MATCH_EXACT || id->type == GK_IDENT_EXACT_REFERENCE ||
             (!image->digest && id->type != GK_IDENT_MATCH_REPOSITORY &&
              id->type != GK_IDENT_EXACT_REPOSITORY))) {
                *why = "the signature's identity names no tag or digest";
                return false;
        }
        switch (id->type) {
        case GK_IDENT_MATCH_REPO_DIGEST_OR_EXACT:
                ok = repo_digest_or_exact(image, &sig);
                break;
        case GK_IDENT_MATCH_EXACT:
                ok = same_string(image, &sig);
                break;
        case GK_IDENT_MATCH_REPOSITORY:
                ok = same_repo(image, &sig);
                break;
        case GK_IDENT_EXACT_REFERENCE:
                ok = gk_reference_parse(id->value, &want, &e) == 0 && same_string(&want, &sig);
                break;
        case GK_IDENT_EXACT_REPOSITORY:
                ok = gk_reference_parse(id->value, &want, &e) == 0 && same_repo(&want, &sig);
                break;
        case GK_IDENT_REMAP:
                if (remap(id, image, &want, &hit) < 0)
                        return false;
                ok = repo_digest_or_exact(hit ? &want : image, &sig);
                break;
        }
        return ok;
}
