/* Where signatures are kept (containers-registries.d(5)):
 *   lookaside   BASE/REPO-PATH@sha256=HEX/signature-N, N from 1 until one
 *               is missing; BASE is file:// (read and written) or
 *               http(s):// (read only)
 *   attachment  the OCI manifest tagged sha256-HEX.sig in the image's
 *               repository, one layer per signature: the payload as a
 *               blob of type simplesigning, its signature in the layer's
 *               dev.cosignproject.cosign/signature annotation. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "json_tree.h"
#include "manifest.h"
#include "registry_internal.h"
#include "sig_internal.h"
#include "upload.h"

#define SIG_MAX (4u << 20)
#define MAX_SIGS 128

void gk_found_sigs_clear(gk_found_sigs *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].data);
                free(s->v[i].sig_b64);
        }
        free(s->v);
        *s = (gk_found_sigs){ 0 };
}

static int add_sig(gk_found_sigs *s, bool sigstore, char *data, size_t len, char *b64)
{
        gk_found_sig *v = realloc(s->v, (s->n + 1) * sizeof(*v));

        if (!v) {
                free(data);
                free(b64);
                return -ENOMEM;
        }
        s->v = v;
        v[s->n++] = (gk_found_sig){
                .sigstore = sigstore, .data = data, .len = len, .sig_b64 = b64
        };
        return 0;
}

/* BASE/PATH@sha256=HEX */
static char *sig_dir(const char *base, const gk_reference *ref, const char *digest)
{
        char *s = NULL;
        size_t bl = strlen(base);

        while (bl && base[bl - 1] == '/')
                bl--;
        if (strncmp(digest, "sha256:", 7))
                return NULL;
        return asprintf(&s, "%.*s/%s@sha256=%s", (int) bl, base, ref->path, digest + 7) < 0 ? NULL
                                                                                            : s;
}

static size_t collect(char *p, size_t size, size_t n, void *u)
{
        gk_found_sig *b = u;
        size_t add = size * n;
        char *nd;

        if (b->len + add > SIG_MAX)
                return 0;
        nd = realloc(b->data, b->len + add + 1);
        if (!nd)
                return 0;
        memcpy(nd + b->len, p, add);
        b->data = nd;
        b->len += add;
        nd[b->len] = '\0';
        return add;
}

/* One signature-N over http(s): 0 with *got false on a 404. */
static int http_get(const char *url, gk_found_sig *b, bool *got, gk_error **err)
{
        CURL *c = curl_easy_init();
        long status = 0;
        CURLcode rc;

        *got = false;
        if (!c)
                return gk_error_make(err, ENOMEM, "lookaside");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        if (rc != CURLE_OK)
                return gk_error_make(err, 0, "lookaside `%s`: %s", url, curl_easy_strerror(rc));
        if (status == 404)
                return 0;
        if (status != 200)
                return gk_error_make(err, 0, "lookaside `%s`: HTTP status %ld", url, status);
        *got = true;
        return 0;
}

static int file_get(const char *path, gk_found_sig *b, bool *got, gk_error **err)
{
        int r;

        *got = false;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        r = gk_read_file(path, &b->data, &b->len, err);
        if (r < 0)
                return gk_error_wrap(err, "lookaside");
        *got = true;
        return 0;
}

static int lookaside_fetch(const char *base, const gk_reference *ref, const char *digest,
                           gk_found_sigs *out, gk_error **err)
{
        _cleanup_free_ char *dir = sig_dir(base, ref, digest);
        bool file = gk_str_has_prefix(base, "file://");

        if (!dir)
                return gk_error_make(err, EINVAL, "lookaside for %s", digest);
        if (!file && !gk_str_has_prefix(base, "http://") && !gk_str_has_prefix(base, "https://"))
                return gk_error_make(err, 0,
                                     "lookaside `%s`: only file://, http:// and https:// "
                                     "are supported",
                                     base);
        for (int i = 1; i <= MAX_SIGS; i++) {
                _cleanup_free_ char *url = NULL;
                gk_found_sig b = { 0 };
                bool got;
                int r;

                if (asprintf(&url, "%s/signature-%d", dir, i) < 0)
                        return gk_error_make(err, ENOMEM, "lookaside");
                r = file ? file_get(url + 7, &b, &got, err) : http_get(url, &b, &got, err);
                if (r < 0 || !got) {
                        free(b.data);
                        return r;
                }
                if (add_sig(out, false, b.data, b.len, NULL) < 0)
                        return gk_error_make(err, ENOMEM, "lookaside");
        }
        return 0;
}

static int get_blob(gk_registry *reg, const char *digest, char **out, size_t *len, gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        _cleanup_free_ char *path = NULL;
        gk_call k = { .method = "GET", .max = SIG_MAX };
        char got[GK_SHA256_BUF];

        if (gk_digest_check(digest, "signature layer", err) < 0)
                return -EBADMSG;
        if (asprintf(&path, "/v2/%s/blobs/%s", reg->path, digest) < 0)
                return gk_error_make(err, ENOMEM, "signature");
        k.path = path;
        if (gk_registry_call(reg, &k, &h, out, len, err) < 0)
                return gk_error_wrap(err, "signature blob %s", digest);
        if (h.status != 200)
                return gk_http_status_error(reg, digest, &h, *out, *len, err);
        gk_digest_buf(*out ? *out : "", *len, got);
        if (strcmp(got, digest))
                return gk_error_make(err, EBADMSG, "signature blob %s: digest mismatch", digest);
        return 0;
}

static char *attachment_tag(const char *digest)
{
        char *t = NULL;

        return asprintf(&t, "sha256-%s.sig", digest + 7) < 0 ? NULL : t;
}

/* The attachment manifest of DIGEST, or *doc NULL when there is none. */
static int attachment_get(gk_registry *reg, const char *digest, yajl_val *doc, gk_error **err)
{
        _cleanup_(gk_response_clear) gk_response resp = { 0 };
        _cleanup_free_ char *tag = attachment_tag(digest);
        int r;

        *doc = NULL;
        if (!tag)
                return gk_error_make(err, ENOMEM, "signature");
        r = gk_registry_manifest(reg, tag, false, &resp, err);
        if (r == -ENOENT) {
                gk_error_free(*err);
                *err = NULL;
                return 0;
        }
        if (r < 0)
                return gk_error_wrap(err, "sigstore attachment");
        if (gk_json_parse(resp.body, resp.len, "sigstore attachment", doc, err) < 0)
                return -EBADMSG;
        return 0;
}

static int attachment_fetch(gk_registry *reg, const char *digest, gk_found_sigs *out,
                            gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val doc = NULL;
        yajl_val layers;

        if (attachment_get(reg, digest, &doc, err) < 0)
                return -EIO;
        layers = gk_json_get(doc, "layers");
        for (size_t i = 0; layers && YAJL_IS_ARRAY(layers) && i < layers->u.array.len; i++) {
                yajl_val l = layers->u.array.values[i];
                const char *mt = gk_json_get_str(l, "mediaType");
                const char *d = gk_json_get_str(l, "digest");
                const char *sig = gk_json_get_str(gk_json_get(l, "annotations"),
                                                  GK_COSIGN_SIG_ANNOTATION);
                char *data = NULL, *b64;
                size_t len = 0;

                if (!mt || strcmp(mt, GK_MT_COSIGN_LAYER) || !d || !sig)
                        continue; /* not a signature this policy could accept */
                if (get_blob(reg, d, &data, &len, err) < 0) {
                        free(data);
                        return -EIO;
                }
                if (!(b64 = strdup(sig)) || add_sig(out, true, data, len, b64) < 0)
                        return gk_error_make(err, ENOMEM, "signature");
        }
        return 0;
}

int gk_sigs_fetch(const gk_sigstore_cfg *cfg, gk_registry *reg, const gk_reference *ref,
                  const char *digest, gk_found_sigs *out, gk_error **err)
{
        if (lookaside_fetch(cfg->read_url, ref, digest, out, err) < 0)
                return -EIO;
        if (cfg->attachments && reg && attachment_fetch(reg, digest, out, err) < 0)
                return -EIO;
        return 0;
}

int gk_lookaside_put(const gk_sigstore_cfg *cfg, const gk_reference *ref, const char *digest,
                     const char *sig, size_t len, gk_error **err)
{
        _cleanup_free_ char *dir = NULL;

        if (!gk_str_has_prefix(cfg->write_url, "file://"))
                return gk_error_make(err, 0,
                                     "lookaside-staging `%s`: gkimg writes signatures to file:// "
                                     "only",
                                     cfg->write_url);
        dir = sig_dir(cfg->write_url + 7, ref, digest);
        if (!dir)
                return gk_error_make(err, EINVAL, "lookaside for %s", digest);
        if (gk_mkdir_p(dir, 0755, err) < 0)
                return gk_error_wrap(err, "lookaside-staging");
        for (int i = 1; i <= MAX_SIGS; i++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int fd = -1;

                if (asprintf(&path, "%s/signature-%d", dir, i) < 0)
                        return gk_error_make(err, ENOMEM, "lookaside");
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0 || gk_write_all(fd, sig, len) < 0 || fsync(fd) < 0) {
                        int r = gk_error_errno(err, "lookaside-staging: write `%s`", path);

                        unlink(path);
                        return r;
                }
                return 0;
        }
        return gk_error_make(err, 0, "lookaside-staging `%s`: too many signatures", dir);
}

/* A blob from memory, in one PUT (signatures are small). */
static int put_blob(gk_registry *reg, const char *data, size_t len, char *digest, gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 }, h2 = { 0 };
        _cleanup_free_ char *path = NULL, *url = NULL, *body = NULL, *body2 = NULL;
        gk_call k = { .method = "POST" };
        const char *loc;
        size_t bl = 0;

        gk_digest_buf(data, len, digest);
        if (asprintf(&path, "/v2/%s/blobs/uploads/", reg->path) < 0)
                return gk_error_make(err, ENOMEM, "signature");
        k.path = path;
        if (gk_registry_call(reg, &k, &h, &body, &bl, err) < 0)
                return gk_error_wrap(err, "signature upload");
        if (h.status != 202 || !h.location)
                return gk_http_status_error(reg, "signature upload", &h, body, bl, err);
        loc = h.location;
        if (asprintf(&url, "%s%s%sdigest=%s", loc[0] == '/' ? reg->base : "", loc,
                     strchr(loc, '?') ? "&" : "?", digest) < 0)
                return gk_error_make(err, ENOMEM, "signature");
        k = (gk_call){ .method = "PUT",
                       .path = url,
                       .body = data,
                       .body_len = len,
                       .headers = { "Content-Type: application/octet-stream" } };
        if (gk_registry_call(reg, &k, &h2, &body2, &bl, err) < 0)
                return gk_error_wrap(err, "signature upload");
        if (h2.status != 201)
                return gk_http_status_error(reg, "signature upload", &h2, body2, bl, err);
        return 0;
}

/* The attachment's config: cosign's, listing the layers as diff_ids. */
static int make_config(yajl_val old_layers, const char *new_digest, char **out, size_t *len,
                       gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);

        if (!g)
                return gk_error_make(err, ENOMEM, "signature");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "architecture", "");
        gk_json_str(g, "config");
        yajl_gen_map_open(g);
        yajl_gen_map_close(g);
        gk_json_kstr(g, "created", "0001-01-01T00:00:00Z");
        gk_json_kstr(g, "os", "");
        gk_json_str(g, "rootfs");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "type", "layers");
        gk_json_str(g, "diff_ids");
        yajl_gen_array_open(g);
        for (size_t i = 0; old_layers && i < old_layers->u.array.len; i++)
                gk_json_str(g, gk_json_get_str(old_layers->u.array.values[i], "digest"));
        gk_json_str(g, new_digest);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, len, err);
}

static void gen_desc(yajl_gen g, const char *mt, const char *digest, size_t size)
{
        yajl_gen_map_open(g);
        gk_json_kstr(g, "mediaType", mt);
        gk_json_kint(g, "size", (long long) size);
        gk_json_kstr(g, "digest", digest);
}

static int make_manifest(yajl_val old_layers, const char *cfg_digest, size_t cfg_len,
                         const char *pl_digest, size_t pl_len, const char *sig_b64, char **out,
                         size_t *len, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);

        if (!g)
                return gk_error_make(err, ENOMEM, "signature");
        yajl_gen_map_open(g);
        gk_json_kint(g, "schemaVersion", 2);
        gk_json_kstr(g, "mediaType", GK_MT_OCI_MANIFEST);
        gk_json_str(g, "config");
        gen_desc(g, GK_MT_OCI_CONFIG, cfg_digest, cfg_len);
        yajl_gen_map_close(g);
        gk_json_str(g, "layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; old_layers && i < old_layers->u.array.len; i++)
                gk_json_gen_tree(g, old_layers->u.array.values[i]);
        gen_desc(g, GK_MT_COSIGN_LAYER, pl_digest, pl_len);
        gk_json_str(g, "annotations");
        yajl_gen_map_open(g);
        gk_json_kstr(g, GK_COSIGN_SIG_ANNOTATION, sig_b64);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, len, err);
}

int gk_attachment_put(gk_registry *reg, const char *digest, const char *payload, size_t len,
                      const char *sig_b64, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val old = NULL;
        _cleanup_free_ char *cfg = NULL, *man = NULL, *tag = attachment_tag(digest);
        char pl_digest[GK_SHA256_BUF], cfg_digest[GK_SHA256_BUF];
        size_t cfg_len = 0, man_len = 0;
        yajl_val layers;

        if (!tag)
                return gk_error_make(err, ENOMEM, "signature");
        /* the signatures already there stay, ours is added */
        if (attachment_get(reg, digest, &old, err) < 0)
                return -EIO;
        layers = gk_json_get(old, "layers");
        if (layers && !YAJL_IS_ARRAY(layers))
                return gk_error_make(err, EBADMSG, "sigstore attachment %s: layers: not an array",
                                     tag);
        if (put_blob(reg, payload, len, pl_digest, err) < 0 ||
            make_config(layers, pl_digest, &cfg, &cfg_len, err) < 0 ||
            put_blob(reg, cfg, cfg_len, cfg_digest, err) < 0 ||
            make_manifest(layers, cfg_digest, cfg_len, pl_digest, len, sig_b64, &man, &man_len,
                          err) < 0)
                return -EIO;
        return gk_registry_put_manifest(reg, tag, GK_MT_OCI_MANIFEST, man, man_len, err);
}
