/* A `docker save` image as an OCI image manifest in the store: the
 * archive has no manifest of its own, only manifest.json's Config and
 * Layers, so one is made (layers as the archive holds them, their media
 * type from their first bytes).  Shared by gkimg import and copy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "import_source.h"
#include "manifest.h"

static const char *sniff_layer_type(gk_store *s, const char *digest, int64_t *size)
{
        _cleanup_close_ int fd = gk_store_open_blob(s, digest, NULL);
        unsigned char m[4] = { 0 };
        struct stat st;

        *size = fd >= 0 && fstat(fd, &st) == 0 ? st.st_size : 0;
        if (fd < 0 || pread(fd, m, sizeof(m), 0) < 2)
                return "application/vnd.oci.image.layer.v1.tar";
        if (m[0] == 0x1f && m[1] == 0x8b)
                return "application/vnd.oci.image.layer.v1.tar+gzip";
        if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                return "application/vnd.oci.image.layer.v1.tar+zstd";
        return "application/vnd.oci.image.layer.v1.tar";
}

static void gen_descriptor(yajl_gen g, const char *media_type, const char *digest, int64_t size)
{
        yajl_gen_map_open(g);
        gk_json_kstr(g, "mediaType", media_type);
        gk_json_kstr(g, "digest", digest);
        gk_json_kint(g, "size", size);
        yajl_gen_map_close(g);
}

/* docker save's manifest.json entry as an OCI manifest in the store. */
int gk_import_docker_manifest(gk_import_source *s, yajl_val entry, char **digest, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        _cleanup_free_ char *text = NULL;
        const char *cfg = gk_import_member_digest(s, gk_json_get_str(entry, "Config") ?: "");
        yajl_val layers = gk_json_get(entry, "Layers");
        int64_t size;
        size_t len;

        if (!cfg || !layers || !YAJL_IS_ARRAY(layers))
                return gk_error_make(err, 0,
                                     "`%s`: manifest.json: entry without Config or Layers "
                                     "in the archive",
                                     s->file);
        sniff_layer_type(s->store, cfg, &size);
        yajl_gen_map_open(g);
        gk_json_kint(g, "schemaVersion", 2);
        gk_json_kstr(g, "mediaType", GK_MT_OCI_MANIFEST);
        gk_json_str(g, "config");
        gen_descriptor(g, GK_MT_OCI_CONFIG, cfg, size);
        gk_json_str(g, "layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < layers->u.array.len; i++) {
                const char *name = YAJL_GET_STRING(layers->u.array.values[i]);
                const char *d = name ? gk_import_member_digest(s, name) : NULL;
                const char *mt;

                if (!d)
                        return gk_error_make(err, 0,
                                             "`%s`: manifest.json: layer `%s` is not in "
                                             "the archive",
                                             s->file, name ?: "?");
                mt = sniff_layer_type(s->store, d, &size);
                gen_descriptor(g, mt, d, size);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        if (gk_json_gen_finish(g, &text, &len, err) < 0)
                return gk_error_code_or(err, -EIO);
        return gk_store_put_blob(s->store, text, len, NULL, digest, err);
}
