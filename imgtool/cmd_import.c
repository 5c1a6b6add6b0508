/* gkimg import / export: images without a registry.
 *   import FILE [REF]   docker-archive (docker save), oci-archive or an OCI
 *                       layout directory; layers unpacked right away, the
 *                       name given only once everything is in place
 *   import FILE:TAG     one image of an OCI layout or archive, by its tag
 *   export REF FILE     an oci-archive (what skopeo and umoci read), or
 *                       with --format docker-archive what docker and
 *                       podman load */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "export.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/util.h"
#include "image.h"
#include "image_set.h"
#include "manifest.h"
#include "store.h"
#include "import_source.h"

/* The store has the image; its layers get unpacked before it is named, so
 * a hostile or broken layer leaves no name behind. */
static int finish_image(gk_store *s, const char *manifest_digest, const char *name,
                        bool allow_devices, gk_error **err)
{
        _cleanup_(gk_image_freep) gk_image *img = NULL;

        if (gk_image_load(s, manifest_digest, &img, err) < 0 ||
            gk_image_unpack_layers(s, img, allow_devices, err) < 0 ||
            gk_store_tag(s, name, manifest_digest, NULL, NULL, err) < 0)
                return gk_error_wrap(err, "image `%s`", name);
        printf("Loaded image: %s\n", name);
        return 0;
}

/* A manifest descriptor: its blobs into the store.  An index is resolved
 * to this host's platform. */
static int need_manifest(gk_import_source *src, const char *digest, const char *media_type,
                         char **manifest_digest, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        gk_manifest m = { 0 };
        size_t len, idx;
        int r;

        if (gk_import_need_blob(src, digest, err) < 0 ||
            gk_store_read_blob(src->store, digest, &text, &len, err) < 0 ||
            gk_manifest_parse(text, len, media_type, &m, err) < 0)
                return gk_error_wrap(err, "manifest %s", digest ? digest : "?");
        if (m.kind == GK_MANIFEST_INDEX) {
                gk_platform host = { 0 };

                r = gk_platform_host(&host, err);
                if (r >= 0)
                        r = gk_manifest_select(&m, &host, &idx, err);
                if (r >= 0)
                        r = need_manifest(src, m.manifests[idx].digest,
                                          m.manifests[idx].media_type, manifest_digest, err);
                gk_platform_clear(&host);
                gk_manifest_clear(&m);
                return r;
        }
        r = gk_import_need_blob(src, m.config.digest, err);
        for (size_t i = 0; r >= 0 && i < m.n_layers; i++)
                r = gk_import_need_blob(src, m.layers[i].digest, err);
        gk_manifest_clear(&m);
        if (r < 0)
                return r;
        *manifest_digest = strdup(digest);
        return *manifest_digest ? 0 : gk_error_make(err, ENOMEM, "import");
}

/* The repository an image with only a tag in its index.json entry gets:
 * "localhost/" and the file's name without its archive extensions
 * (skopeo's oci-archive:x.tar:v1 imports as localhost/x:v1), as podman
 * names images that come without a registry. */
static char *default_repo(const char *file)
{
        static const char *const exts[] = { ".tar.gz", ".tar.zst", ".tar.xz",
                                            ".tgz",    ".tar",     ".oci" };
        _cleanup_free_ char *copy = strdup(file);
        char *base, *out;
        size_t len, k = 0;

        if (!copy)
                return NULL;
        len = strlen(copy);
        while (len > 1 && copy[len - 1] == '/')
                copy[--len] = '\0';
        base = strrchr(copy, '/') ? strrchr(copy, '/') + 1 : copy;
        len = strlen(base);
        for (size_t i = 0; i < ARRAY_SIZE(exts); i++)
                if (len > strlen(exts[i]) && !strcasecmp(base + len - strlen(exts[i]), exts[i])) {
                        len -= strlen(exts[i]);
                        break;
                }
        out = malloc(len + sizeof("localhost/imported"));
        if (!out)
                return NULL;
        k = (size_t) snprintf(out, len + sizeof("localhost/imported"), "localhost/");
        for (size_t i = 0; i < len; i++) {
                char c = (char) tolower((unsigned char) base[i]);
                bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                          (k > 10 && (c == '.' || c == '_' || c == '-'));

                out[k] = ok ? c : k > 10 ? '-' : 'x';
                k++;
        }
        if (k == 10)
                k += (size_t) snprintf(out + k, 9, "imported");
        out[k] = '\0';
        return out;
}

/* The name of an index.json entry: the REF given, else the full name
 * containerd and docker write, else ref.name when it is more than a tag,
 * else REPO:ref.name. */
static char *entry_name(yajl_val d, const char *ref, const char *repo)
{
        yajl_val ann = gk_json_get(d, "annotations");
        const char *full = gk_json_get_str(ann, "io.containerd.image.name");
        const char *tag = gk_json_get_str(ann, "org.opencontainers.image.ref.name");
        char *name = NULL;

        if (ref || full)
                return strdup(ref ? ref : full);
        if (tag && (strchr(tag, '/') || strchr(tag, ':')))
                return strdup(tag);
        if (tag && *tag && asprintf(&name, "%s:%s", repo, tag) < 0)
                return NULL;
        return name;
}

/* Does the entry carry TAG (its ref.name, or the tag of its full name)? */
static bool entry_has_tag(yajl_val d, const char *tag)
{
        yajl_val ann = gk_json_get(d, "annotations");
        const char *full = gk_json_get_str(ann, "io.containerd.image.name");
        const char *rn = gk_json_get_str(ann, "org.opencontainers.image.ref.name");
        const char *colon = full ? strrchr(full, ':') : NULL;

        return (rn && !strcmp(rn, tag)) ||
               (colon && !strchr(colon, '/') && !strcmp(colon + 1, tag));
}

static int import_oci(gk_import_source *s, const char *ref, const char *tag, bool allow_devices,
                      gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val idx = NULL;
        _cleanup_free_ char *repo = default_repo(s->file);
        size_t picked = 0;
        yajl_val ms;

        if (!repo)
                return gk_error_make(err, ENOMEM, "import");
        if (gk_json_parse(s->index_json, s->index_len, "index.json", &idx, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        ms = gk_json_get(idx, "manifests");
        if (!ms || !YAJL_IS_ARRAY(ms) || ms->u.array.len == 0)
                return gk_error_make(err, 0, "`%s`: index.json lists no image", s->file);
        for (size_t i = 0; i < ms->u.array.len; i++)
                picked += !tag || entry_has_tag(ms->u.array.values[i], tag);
        if (picked == 0)
                return gk_error_make(err, 0, "`%s` has no image tagged `%s`", s->file, tag);
        if (ref && picked > 1)
                return gk_error_make(err, 0,
                                     "`%s` holds %zu images: REF can name only one "
                                     "(pick one with %s:TAG)",
                                     s->file, picked, s->file);
        for (size_t i = 0; i < ms->u.array.len; i++) {
                _cleanup_free_ char *md = NULL, *name = NULL;
                yajl_val d = ms->u.array.values[i];

                if (tag && !entry_has_tag(d, tag))
                        continue;
                name = entry_name(d, ref, repo);
                if (!name)
                        return gk_error_make(err, 0,
                                             "`%s`: index.json names no image "
                                             "(give REF)",
                                             s->file);
                if (need_manifest(s, gk_json_get_str(d, "digest"), gk_json_get_str(d, "mediaType"),
                                  &md, err) < 0 ||
                    finish_image(s->store, md, name, allow_devices, err) < 0)
                        return gk_error_code_or(err, -EIO);
        }
        return 0;
}

static int import_docker(gk_import_source *s, const char *ref, bool allow_devices, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val m = NULL;

        if (gk_json_parse(s->manifest_json, s->manifest_len, "manifest.json", &m, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (!YAJL_IS_ARRAY(m) || m->u.array.len == 0)
                return gk_error_make(err, 0, "`%s`: manifest.json lists no image", s->file);
        if (ref && m->u.array.len > 1)
                return gk_error_make(err, 0, "`%s` holds %zu images: REF can name only one",
                                     s->file, m->u.array.len);
        for (size_t i = 0; i < m->u.array.len; i++) {
                _cleanup_free_ char *md = NULL;
                yajl_val e = m->u.array.values[i], tags = gk_json_get(e, "RepoTags");
                size_t ntags = tags && YAJL_IS_ARRAY(tags) ? tags->u.array.len : 0;
                const char *first = ref     ? ref
                                    : ntags ? YAJL_GET_STRING(tags->u.array.values[0])
                                            : NULL;

                if (!first)
                        return gk_error_make(err, 0, "`%s`: the image has no RepoTags (give REF)",
                                             s->file);
                if (gk_import_docker_manifest(s, e, &md, err) < 0 ||
                    finish_image(s->store, md, first, allow_devices, err) < 0)
                        return gk_error_code_or(err, -EIO);
                for (size_t t = 1; !ref && t < ntags; t++) {
                        const char *tag = YAJL_GET_STRING(tags->u.array.values[t]);

                        if (tag && gk_store_tag(s->store, tag, md, NULL, NULL, err) < 0)
                                return gk_error_code_or(err, -EIO);
                }
        }
        return 0;
}

/* FILE, or FILE:TAG naming one image of an OCI layout or archive (as
 * skopeo's oci:DIR:TAG) when FILE itself does not exist. */
static int split_source(const char *arg, char **file, char **tag, gk_error **err)
{
        const char *colon = strrchr(arg, ':');
        struct stat st;

        *tag = NULL;
        if (stat(arg, &st) == 0 || !colon || colon == arg || !colon[1] || strchr(colon, '/')) {
                *file = strdup(arg);
                return *file ? 0 : gk_error_make(err, ENOMEM, "import");
        }
        *file = strndup(arg, (size_t) (colon - arg));
        *tag = strdup(colon + 1);
        return *file && *tag ? 0 : gk_error_make(err, ENOMEM, "import");
}

int cmd_import(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_import_close) gk_import_source s = { .layout_fd = -1 };
        _cleanup_(gk_store_freep) gk_store *store = NULL;
        _cleanup_free_ char *file = NULL, *tag = NULL;
        bool allow_devices = false;
        const gk_opt opts[] = {
                { "allow-devices", 0, GK_OPT_BOOL, &allow_devices, NULL,
                  "accept device files in layers" },
                { 0 },
        };
        const char *ref;
        int first;

        if (gk_opts_parse(argc, argv, "import", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (argc - first < 1 || argc - first > 2)
                return gk_error_make(err, 0,
                                     "usage: gkimg import [--allow-devices] FILE[:TAG] "
                                     "[REF]");
        ref = argc - first == 2 ? argv[first + 1] : NULL;
        if (split_source(argv[first], &file, &tag, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        /* Held shared: gc must not remove blobs imported but not named yet. */
        if (gk_store_open(g->root, &store, err) < 0 || gk_store_hold(store, err) < 0 ||
            gk_import_open(store, file, &s, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (s.index_json)
                return import_oci(&s, ref, tag, allow_devices, err);
        if (tag)
                return gk_error_make(err, 0,
                                     "`%s`: :TAG picks an image of an OCI layout or "
                                     "archive, and this is a docker-archive",
                                     file);
        if (s.manifest_json)
                return import_docker(&s, ref, allow_devices, err);
        return gk_error_make(err, 0,
                             "`%s` is neither a docker-archive (manifest.json) nor an "
                             "OCI archive or layout (index.json)",
                             file);
}

/* export --all-platforms: the index the image came with, which the store
 * must hold whole (pull --all-platforms, copy --all into the store). */
static int export_index(gk_store *s, const gk_image *img, const char *ref, char **index,
                        gk_error **err)
{
        if (gk_image_set_find_index(s, img->si->name, img->si->manifest_digest, index, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (!*index)
                return gk_error_make(err, 0,
                                     "export `%s`: --all-platforms: the store holds one platform "
                                     "of it (`gkimg pull --all-platforms` brings them all)",
                                     ref);
        return 0;
}

int cmd_export(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_image_freep) gk_image *img = NULL;
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_free_ char *index = NULL;
        const char *format = "oci-archive";
        bool all = false;
        const gk_opt opts[] = {
                { "format", 0, GK_OPT_STRING, &format, "oci-archive|docker-archive",
                  "archive format (default oci-archive)" },
                { "all-platforms", 0, GK_OPT_BOOL, &all, NULL,
                  "the whole index with every platform (oci-archive only)" },
                { 0 },
        };
        int first;

        if (gk_opts_parse(argc, argv, "export", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (argc - first != 2)
                return gk_error_make(err, 0,
                                     "usage: gkimg export [--format oci-archive|"
                                     "docker-archive] [--all-platforms] REF FILE");
        if (strcmp(format, "oci-archive") && strcmp(format, "docker-archive"))
                return gk_error_make(err, 0,
                                     "export: --format `%s`: expected oci-archive or "
                                     "docker-archive",
                                     format);
        if (all && strcmp(format, "oci-archive"))
                return gk_error_make(err, 0,
                                     "export: --all-platforms: a docker-archive holds one "
                                     "platform's image");
        if (gk_store_open(g->root, &s, err) < 0 || gk_image_load(s, argv[first], &img, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        if (!strcmp(format, "docker-archive"))
                return gk_export_docker_archive(s, img, argv[first + 1], err);
        if (all && export_index(s, img, argv[first], &index, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        return gk_export_oci_archive(s, img, index, argv[first + 1], err);
}
