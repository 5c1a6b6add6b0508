/* The payload both signature kinds sign (containers-signature(5) and
 * cosign's simple signing): which manifest digest, under which docker
 * reference.  Unknown members of "critical" are refused, as the format
 * asks: a verifier must understand every critical claim. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "sig_internal.h"

int gk_sig_payload_make(const char *type, const char *ref, const char *digest, char **out,
                        size_t *len, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);

        if (!g)
                return gk_error_make(err, ENOMEM, "signature");
        yajl_gen_map_open(g);
        gk_json_str(g, "critical");
        yajl_gen_map_open(g);
        gk_json_str(g, "identity");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "docker-reference", ref);
        yajl_gen_map_close(g);
        gk_json_str(g, "image");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "docker-manifest-digest", digest);
        yajl_gen_map_close(g);
        gk_json_kstr(g, "type", type);
        yajl_gen_map_close(g);
        gk_json_str(g, "optional");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "creator", "gkimg " GK_VERSION);
        gk_json_kint(g, "timestamp", (long long) time(NULL));
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, len, err);
}

static int want_members(yajl_val o, const char *const *keys, const char *what, gk_error **err)
{
        size_t n = 0;

        if (!YAJL_IS_OBJECT(o))
                return gk_error_make(err, EBADMSG, "signature payload: %s: must be an object",
                                     what);
        for (; keys[n]; n++)
                if (!gk_json_get(o, keys[n]))
                        return gk_error_make(err, EBADMSG, "signature payload: %s.%s: missing",
                                             what, keys[n]);
        if (o->u.object.len != n)
                return gk_error_make(err, EBADMSG,
                                     "signature payload: %s: unknown critical member", what);
        return 0;
}

int gk_sig_payload_parse(const char *type, const char *buf, size_t len, char **ref, char **digest,
                         gk_error **err)
{
        static const char *const crit_keys[] = { "identity", "image", "type", NULL };
        static const char *const id_keys[] = { "docker-reference", NULL };
        static const char *const img_keys[] = { "docker-manifest-digest", NULL };
        _cleanup_(gk_json_freep) yajl_val doc = NULL;
        yajl_val c;
        const char *t, *r, *d;

        if (gk_json_parse(buf, len, "signature payload", &doc, err) < 0)
                return -EBADMSG;
        c = gk_json_get(doc, "critical");
        if (want_members(c, crit_keys, "critical", err) < 0 ||
            want_members(gk_json_get(c, "identity"), id_keys, "critical.identity", err) < 0 ||
            want_members(gk_json_get(c, "image"), img_keys, "critical.image", err) < 0)
                return -EBADMSG;
        t = gk_json_get_str(c, "type");
        r = gk_json_get_str(gk_json_get(c, "identity"), "docker-reference");
        d = gk_json_get_str(gk_json_get(c, "image"), "docker-manifest-digest");
        if (!t || strcmp(t, type))
                return gk_error_make(err, EBADMSG, "signature payload: critical.type: not `%s`",
                                     type);
        if (!r || !d)
                return gk_error_make(err, EBADMSG,
                                     "signature payload: identity and digest must be strings");
        *ref = strdup(r);
        *digest = strdup(d);
        return *ref && *digest ? 0 : gk_error_make(err, ENOMEM, "signature payload");
}

void gk_keyblobs_free(gk_keyblob *b, size_t n)
{
        for (size_t i = 0; b && i < n; i++)
                free(b[i].data);
        free(b);
}

int gk_keys_read(const gk_keys *k, gk_keyblob **out, size_t *n, gk_error **err)
{
        size_t cnt = k->data ? 1 : gk_strv_len(k->paths);
        gk_keyblob *b = calloc(cnt + 1, sizeof(*b));

        if (!b)
                return gk_error_make(err, ENOMEM, "policy keys");
        if (k->data) {
                b[0].data = malloc(k->data_len + 1);
                if (!b[0].data) {
                        free(b);
                        return gk_error_make(err, ENOMEM, "policy keys");
                }
                memcpy(b[0].data, k->data, k->data_len);
                b[0].data[k->data_len] = '\0';
                b[0].len = k->data_len;
                b[0].name = "keyData";
        }
        for (size_t i = 0; !k->data && i < cnt; i++) {
                b[i].name = k->paths[i];
                if (gk_read_file(k->paths[i], &b[i].data, &b[i].len, err) < 0) {
                        gk_keyblobs_free(b, cnt);
                        return gk_error_wrap(err, "policy key");
                }
        }
        *out = b;
        *n = cnt;
        return 0;
}
