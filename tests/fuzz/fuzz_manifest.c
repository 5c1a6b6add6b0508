/* fuzz-sources: imgtool/manifest.c imgtool/platform.c imgtool/digest.c */
/* fuzz-libs: yajl libcrypto */
/* Manifests and indexes from a registry: parsing never crashes; what it
 * accepts is well formed (valid digests, known layer types, an index
 * entry picked for any platform is a real, non-attestation entry). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "manifest.h"

static void check_desc(const gk_descriptor *d)
{
        if (gk_digest_check(d->digest, "fuzz", NULL) < 0)
                abort();
}

static void check_select(const gk_manifest *m, const char *plat)
{
        gk_platform p = { 0 };
        gk_error *err = NULL;
        size_t i = 0;

        if (gk_platform_parse(plat, &p, NULL) < 0)
                abort();
        if (gk_manifest_select(m, &p, &i, &err) == 0) {
                if (i >= m->n_manifests || m->manifests[i].attestation ||
                    strcmp(m->manifests[i].platform.os, p.os))
                        abort();
        } else {
                gk_error_free(err);
        }
        gk_platform_clear(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        gk_manifest m;
        gk_error *err = NULL;

        if (gk_manifest_parse((const char *) data, size, size % 2 ? GK_MT_OCI_INDEX : NULL, &m,
                              &err) < 0) {
                if (!err)
                        abort();
                gk_error_free(err);
                return 0;
        }
        if (m.kind == GK_MANIFEST_IMAGE) {
                check_desc(&m.config);
                for (size_t i = 0; i < m.n_layers; i++) {
                        check_desc(&m.layers[i]);
                        if (!gk_layer_media_type_ok(m.layers[i].media_type) ||
                            m.layers[i].size < 0)
                                abort();
                }
        } else {
                for (size_t i = 0; i < m.n_manifests; i++)
                        check_desc(&m.manifests[i]);
                check_select(&m, "linux/amd64");
                check_select(&m, "linux/arm64/v8");
                check_select(&m, "linux/arm/v7");
        }
        gk_manifest_clear(&m);
        return 0;
}
