/* OCI image layout members of an image set (see oci_layout.h). */
#include <errno.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "json_tree.h"
#include "oci_layout.h"

int gk_layout_write_blobs(const gk_layout_sink *sink, gk_store *s, const gk_image_set *set,
                          gk_error **err)
{
        for (size_t i = 0; i < set->n_children; i++) {
                const gk_set_doc *c = &set->children[i];

                if (sink->add_blob(sink->ctx, s, c->digest, (int64_t) c->len, err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        if (sink->add_blob(sink->ctx, s, set->top.digest, (int64_t) set->top.len, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < set->n_blobs; i++)
                if (sink->add_blob(sink->ctx, s, set->blobs[i].digest, set->blobs[i].size, err) <
                    0)
                        return gk_error_code_or(err, -EIO);
        return 0;
}

static void gen_entry(yajl_gen g, const gk_image_set *set, const char *ref_name,
                      const char *full_name)
{
        const char *mt = set->top.m.media_type;

        yajl_gen_map_open(g);
        gk_json_kstr(g, "mediaType",
                     mt                ? mt
                     : set->n_children ? "application/vnd.oci.image.index.v1+json"
                                       : "application/vnd.oci.image.manifest.v1+json");
        gk_json_kstr(g, "digest", set->top.digest);
        gk_json_kint(g, "size", (long long) set->top.len);
        if (ref_name || full_name) {
                gk_json_str(g, "annotations");
                yajl_gen_map_open(g);
                if (full_name)
                        gk_json_kstr(g, "io.containerd.image.name", full_name);
                if (ref_name)
                        gk_json_kstr(g, GK_OCI_REF_NAME, ref_name);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
}

/* Keeps OLD's entries, but not one REF_NAME now names: a tag names one image. */
static void gen_old_entries(yajl_gen g, yajl_val ms, const char *ref_name)
{
        for (size_t i = 0; ms && YAJL_IS_ARRAY(ms) && i < ms->u.array.len; i++) {
                yajl_val e = ms->u.array.values[i];
                const char *rn = gk_json_get_str(gk_json_get(e, "annotations"), GK_OCI_REF_NAME);

                if (ref_name && rn && !strcmp(rn, ref_name))
                        continue;
                gk_json_gen_tree(g, e);
        }
}

int gk_layout_index_json(const char *old, size_t old_len, const gk_image_set *set,
                         const char *ref_name, const char *full_name, char **out, size_t *len,
                         gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        _cleanup_(gk_json_freep) yajl_val ix = NULL;

        if (!g)
                return gk_error_make(err, ENOMEM, "index.json");
        if (old && gk_json_parse(old, old_len, "index.json", &ix, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (ix && !YAJL_IS_OBJECT(ix))
                return gk_error_make(err, 0, "index.json: must be an object");
        yajl_gen_map_open(g);
        gk_json_kint(g, "schemaVersion", 2);
        gk_json_kstr(g, "mediaType", "application/vnd.oci.image.index.v1+json");
        gk_json_str(g, "manifests");
        yajl_gen_array_open(g);
        gen_old_entries(g, gk_json_get(ix, "manifests"), ref_name);
        gen_entry(g, set, ref_name, full_name);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, len, err);
}
