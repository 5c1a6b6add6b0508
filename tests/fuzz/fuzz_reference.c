/* fuzz-sources: imgtool/reference.c imgtool/digest.c */
/* fuzz-libs: yajl libcrypto */
/* Image references: whatever the input, parsing either fails with a
 * message or yields a reference whose canonical string parses again to
 * the same reference (normalization is idempotent), with a valid name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

static void same(const gk_reference *a, const gk_reference *b)
{
        if (strcmp(a->domain, b->domain) || strcmp(a->path, b->path) ||
            (!a->digest != !b->digest) || (a->digest && strcmp(a->digest, b->digest)))
                abort();
        /* The canonical string drops the tag when there is a digest. */
        if (!a->digest && strcmp(a->tag, b->tag))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = strndup((const char *) data, size), *canon = NULL, *fam = NULL;
        gk_reference r = { 0 }, r2 = { 0 };
        gk_error *err = NULL;

        if (!s)
                return 0;
        if (gk_reference_parse(s, &r, &err) < 0) {
                if (!err || !err->msg || r.domain)
                        abort();
                gk_error_free(err);
                free(s);
                return 0;
        }
        if (!r.domain || !r.path || (!r.tag && !r.digest))
                abort();
        canon = gk_reference_string(&r);
        fam = gk_reference_familiar_name(&r);
        if (!canon || !fam || gk_reference_parse(canon, &r2, NULL) < 0)
                abort();
        same(&r, &r2);
        (void) gk_host_is_loopback(r.domain);
        (void) gk_reference_api_host(&r);
        gk_reference_clear(&r);
        gk_reference_clear(&r2);
        free(canon);
        free(fam);
        free(s);
        return 0;
}
