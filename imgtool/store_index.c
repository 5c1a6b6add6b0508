/* The store's image names: ROOT/images.json, read without a lock (it is
 * only ever replaced whole by a rename) and rewritten under
 * ROOT/images.lock, so concurrent pulls each add their name. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "manifest.h"
#include "reference.h"
#include "store_internal.h"

#define INDEX_FILE "images.json"

typedef struct entries {
        gk_store_entry *v;
        size_t n;
} entries;

static void entry_clear(gk_store_entry *e)
{
        free(e->name);
        free(e->manifest_digest);
        free(e->repo_digest);
        free(e->id);
        free(e->created);
        free(e->platform);
        *e = (gk_store_entry){ 0 };
}

void gk_store_entries_free(gk_store_entry *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                entry_clear(&v[i]);
        free(v);
}

static void entries_clear(entries *es)
{
        gk_store_entries_free(es->v, es->n);
        *es = (entries){ 0 };
}

static char *dup_str(yajl_val o, const char *key)
{
        const char *s = gk_json_get_str(o, key);

        return s ? strdup(s) : NULL;
}

static int load_entry(yajl_val o, gk_store_entry *e, size_t i, gk_error **err)
{
        e->name = dup_str(o, "name");
        e->manifest_digest = dup_str(o, "manifest");
        e->repo_digest = dup_str(o, "repoDigest");
        e->id = dup_str(o, "id");
        e->created = dup_str(o, "created");
        e->platform = dup_str(o, "platform");
        if (!gk_json_int64(gk_json_get(o, "size"), &e->size))
                e->size = -1;
        if (!gk_json_int64(gk_json_get(o, "pulled"), &e->pulled))
                e->pulled = 0;
        if (!e->name || gk_digest_check(e->manifest_digest, "manifest", NULL) < 0 ||
            gk_digest_check(e->id, "id", NULL) < 0)
                return gk_error_make(err, 0,
                                     "store: " INDEX_FILE ": images[%zu]: name, manifest "
                                     "and id wanted",
                                     i);
        return 0;
}

static int load_entries(gk_store *s, entries *out, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val root = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        yajl_val arr;
        int r;

        *out = (entries){ 0 };
        r = gk_read_file_at(s->root_fd, INDEX_FILE, &text, &len, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return gk_error_make(err, -r, "store: read `%s/" INDEX_FILE "`", s->root);
        if (gk_json_parse(text, len, "store: " INDEX_FILE, &root, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        arr = gk_json_get(root, "images");
        if (!arr || !YAJL_IS_ARRAY(arr))
                return gk_error_make(err, 0, "store: " INDEX_FILE ": images: must be an array");
        out->v = calloc(arr->u.array.len + 1, sizeof(gk_store_entry));
        if (!out->v)
                return gk_error_make(err, ENOMEM, "store");
        for (size_t i = 0; i < arr->u.array.len; i++) {
                out->n++;
                if (load_entry(arr->u.array.values[i], &out->v[i], i, err) < 0) {
                        entries_clear(out);
                        return -EINVAL;
                }
        }
        return 0;
}

static void gen_entry(yajl_gen g, const gk_store_entry *e)
{
        yajl_gen_map_open(g);
        gk_json_kstr(g, "name", e->name);
        gk_json_kstr(g, "manifest", e->manifest_digest);
        if (e->repo_digest)
                gk_json_kstr(g, "repoDigest", e->repo_digest);
        gk_json_kstr(g, "id", e->id);
        if (e->created)
                gk_json_kstr(g, "created", e->created);
        if (e->platform)
                gk_json_kstr(g, "platform", e->platform);
        gk_json_kint(g, "size", e->size);
        gk_json_kint(g, "pulled", e->pulled);
        yajl_gen_map_close(g);
}

static int save_entries(gk_store *s, const entries *es, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);
        _cleanup_free_ char *text = NULL, *path = NULL;
        size_t len = 0;

        if (!g || asprintf(&path, "%s/" INDEX_FILE, s->root) < 0)
                return gk_error_make(err, ENOMEM, "store");
        yajl_gen_map_open(g);
        gk_json_kint(g, "schemaVersion", 1);
        gk_json_str(g, "images");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < es->n; i++)
                gen_entry(g, &es->v[i]);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        if (gk_json_gen_finish(g, &text, &len, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        /* Blobs renamed in by this process must not be lost to a crash
         * once a name points at them. */
        gk_store_sync_blobs(s);
        return gk_write_file_atomic(path, text, len, 0600, true, err);
}

static const char *iso_or_null(yajl_val config)
{
        const char *c = gk_json_get_str(config, "created");

        return c && *c ? c : NULL;
}

static char *config_platform(yajl_val config)
{
        gk_platform p = {
                .os = (char *) gk_json_get_str(config, "os"),
                .arch = (char *) gk_json_get_str(config, "architecture"),
                .variant = (char *) gk_json_get_str(config, "variant"),
        };

        if (!p.os || !p.arch)
                return NULL;
        if (p.variant && !*p.variant)
                p.variant = NULL;
        return gk_platform_string(&p);
}

/* Fills E's id, created, platform and size from the image's blobs. */
static int describe(gk_store *s, const gk_store_image *img, gk_store_entry *e, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val config = NULL;
        const char *created;

        if (gk_json_parse(img->config, img->config_len, "image config", &config, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        created = iso_or_null(config);
        e->id = strdup(img->config_digest);
        e->created = created ? strdup(created) : NULL;
        e->platform = config_platform(config);
        e->size = (int64_t) img->config_len;
        for (size_t i = 0; i < img->n_layers; i++)
                e->size += img->layers[i].size > 0 ? img->layers[i].size : 0;
        e->pulled = (int64_t) time(NULL);
        return e->id ? 0 : gk_error_make(err, ENOMEM, "store");
}

static bool same_str(const char *a, const char *b)
{
        return a == b || (a && b && !strcmp(a, b));
}

/* *changed: E's name was not there, or named another image. */
static int set_entry(entries *es, gk_store_entry *e, bool *changed, gk_error **err)
{
        *changed = true;
        for (size_t i = 0; i < es->n; i++)
                if (!strcmp(es->v[i].name, e->name)) {
                        *changed = !same_str(es->v[i].manifest_digest, e->manifest_digest) ||
                                   !same_str(es->v[i].repo_digest, e->repo_digest);
                        entry_clear(&es->v[i]);
                        es->v[i] = *e;
                        *e = (gk_store_entry){ 0 };
                        return 0;
                }
        gk_store_entry *v = realloc(es->v, (es->n + 1) * sizeof(*v));

        if (!v)
                return gk_error_make(err, ENOMEM, "store");
        es->v = v;
        es->v[es->n++] = *e;
        *e = (gk_store_entry){ 0 };
        return 0;
}

int gk_store_tag(gk_store *s, const char *ref, const char *manifest_digest,
                 const char *repo_digest, bool *changed, gk_error **err)
{
        bool dummy;
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        _cleanup_(entry_clear) gk_store_entry e = { 0 };
        _cleanup_(entries_clear) entries es = { 0 };
        _cleanup_close_ int lock = -1;

        if (gk_reference_parse(ref, &r, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (gk_store_load_image(s, manifest_digest, NULL, &img, err) < 0)
                return gk_error_wrap(err, "name `%s`", ref);
        e.name = gk_reference_string(&r);
        e.manifest_digest = strdup(img->manifest_digest);
        if (!repo_digest && strcmp(img->manifest_digest, manifest_digest))
                repo_digest = manifest_digest; /* an index was named */
        e.repo_digest = repo_digest ? strdup(repo_digest) : NULL;
        if (!e.name || !e.manifest_digest || (repo_digest && !e.repo_digest))
                return gk_error_make(err, ENOMEM, "store");
        if (describe(s, img, &e, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        lock = gk_store_lock(s, "images.lock", LOCK_EX, err);
        if (lock < 0)
                return lock;
        if (load_entries(s, &es, err) < 0 ||
            set_entry(&es, &e, changed ? changed : &dummy, err) < 0)
                return gk_error_code_or(err, -EIO);
        return save_entries(s, &es, err);
}

int gk_store_list(gk_store *s, gk_store_entry **out, size_t *n, gk_error **err)
{
        entries es;

        if (load_entries(s, &es, err) < 0)
                return gk_error_code_or(err, -EIO);
        *out = es.v;
        *n = es.n;
        return 0;
}

/* "sha256:abc…", "abc…": 4 to 64 hex digits, an ID or its prefix? */
static const char *id_prefix(const char *ref)
{
        const char *hex = strncmp(ref, "sha256:", 7) ? ref : ref + 7;
        size_t n = strlen(hex);

        if (n < 4 || n > 64)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) hex[i]) || isupper((unsigned char) hex[i]))
                        return NULL;
        return hex;
}

static bool entry_matches_ref(const gk_store_entry *e, const gk_reference *r, const char *canon)
{
        _cleanup_free_ char *repo = NULL;
        size_t n;

        if (!strcmp(e->name, canon))
                return true;
        if (!r->digest || !(repo = gk_reference_name(r)))
                return false;
        n = strlen(repo);
        if (strncmp(e->name, repo, n) || (e->name[n] != ':' && e->name[n] != '@'))
                return false;
        return !strcmp(e->manifest_digest, r->digest) ||
               (e->repo_digest && !strcmp(e->repo_digest, r->digest));
}

/* Index of the entry REF names, -1 when none; -2 with *err when an ID
 * prefix is ambiguous. */
static ssize_t find_entry(const entries *es, const char *ref, gk_error **err)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        _cleanup_free_ char *canon = NULL;
        const char *hex = id_prefix(ref);
        ssize_t found = -1;

        if (gk_reference_parse(ref, &r, NULL) == 0 && (canon = gk_reference_string(&r)))
                for (size_t i = 0; i < es->n; i++)
                        if (entry_matches_ref(&es->v[i], &r, canon))
                                return (ssize_t) i;
        if (!hex)
                return -1;
        for (size_t i = 0; i < es->n; i++) {
                if (strncmp(gk_digest_hex(es->v[i].id), hex, strlen(hex)))
                        continue;
                if (found >= 0 && strcmp(es->v[found].id, es->v[i].id)) {
                        gk_error_make(err, 0, "image ID prefix `%s` is ambiguous", ref);
                        return -2;
                }
                found = (ssize_t) i;
        }
        return found;
}

static int not_found(const char *ref, gk_error **err)
{
        return gk_error_plain(err, ENOENT, "image `%s` is not in the store", ref);
}

int gk_store_resolve(gk_store *s, const char *ref, gk_store_image **out, gk_error **err)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        _cleanup_(entries_clear) entries es = { 0 };
        _cleanup_(gk_error_freep) gk_error *perr = NULL;
        ssize_t i;
        int rr;

        if (!ref || !*ref)
                return gk_error_make(err, 0, "missing image reference");
        /* Names and IDs first: a full image ID is a blob too (the config). */
        if (load_entries(s, &es, err) < 0)
                return gk_error_code_or(err, -EIO);
        i = find_entry(&es, ref, err);
        if (i == -2)
                return -EINVAL;
        if (i >= 0)
                return gk_store_load_image(s, es.v[i].manifest_digest, es.v[i].name, out, err);
        if (gk_digest_check(ref, "image", NULL) == 0 && gk_store_has_blob(s, ref))
                return gk_store_load_image(s, ref, NULL, out, err);
        rr = gk_reference_parse(ref, &r, &perr);
        if (rr < 0 && !id_prefix(ref))
                return gk_error_make(err, 0, "%s", perr->msg);
        if (rr == 0 && r.digest && gk_store_has_blob(s, r.digest))
                return gk_store_load_image(s, r.digest, NULL, out, err);
        return not_found(ref, err);
}

/* The repository part of a canonical name ("host/app" of "host/app:1" or
 * "host/app@sha256:…") and whether the name is a digest one. */
static size_t name_repo_len(const char *name, bool *by_digest)
{
        const char *at = strchr(name, '@'), *slash = strrchr(name, '/'), *colon;

        *by_digest = at != NULL;
        if (at)
                return (size_t) (at - name);
        colon = strrchr(slash ? slash : name, ':');
        return colon ? (size_t) (colon - name) : strlen(name);
}

/* Docker's rule for removing by ID without --force: the image's names must
 * be one reference, i.e. at most one tag, and digest names only of that
 * tag's repository; two tags are two names a user may still want. */
static bool names_are_one_reference(const entries *es, const char *id)
{
        const char *first = NULL, *tag = NULL;
        size_t first_len = 0;

        for (size_t j = 0; j < es->n; j++) {
                const char *name = es->v[j].name;
                size_t len;
                bool by_digest;

                if (strcmp(es->v[j].id, id))
                        continue;
                len = name_repo_len(name, &by_digest);
                if (!by_digest && tag)
                        return false;
                if (!by_digest)
                        tag = name;
                if (first && (len != first_len || strncmp(name, first, len)))
                        return false;
                first = name;
                first_len = len;
        }
        return true;
}

static bool id_has_names(const entries *es, const char *id)
{
        for (size_t j = 0; j < es->n; j++)
                if (!strcmp(es->v[j].id, id))
                        return true;
        return false;
}

/* Moves the names to drop (entry I alone, or every name of ID) from ES to
 * NAMES, which has room for all of them. */
static void drop_names(entries *es, ssize_t i, const char *id, char **names)
{
        size_t n = 0, kept = 0;

        for (size_t j = 0; j < es->n; j++) {
                bool drop = id ? !strcmp(es->v[j].id, id) : j == (size_t) i;

                if (drop) {
                        names[n++] = TAKE_PTR(es->v[j].name);
                        entry_clear(&es->v[j]);
                } else {
                        es->v[kept++] = es->v[j];
                }
        }
        es->n = kept;
}

int gk_store_untag(gk_store *s, const char *ref, bool force, char ***removed, char **deleted,
                   gk_error **err)
{
        _cleanup_(entries_clear) entries es = { 0 };
        _cleanup_strv_ char **names = NULL;
        _cleanup_close_ int lock = gk_store_lock(s, "images.lock", LOCK_EX, err);
        _cleanup_free_ char *id = NULL;
        const char *hex = id_prefix(ref);
        ssize_t i;
        bool by_id;

        if (lock < 0)
                return lock;
        if (load_entries(s, &es, err) < 0)
                return gk_error_code_or(err, -EIO);
        i = find_entry(&es, ref, err);
        if (i == -2)
                return -EINVAL;
        if (i < 0)
                return not_found(ref, err);
        /* A name removes that name; an ID removes every name of the image. */
        by_id = hex && !strncmp(gk_digest_hex(es.v[i].id), hex, strlen(hex));
        if (by_id && !force && !names_are_one_reference(&es, es.v[i].id))
                return gk_error_plain(err, EBUSY,
                                      "conflict: unable to delete %.12s (must be "
                                      "forced) - image is referenced in multiple repositories",
                                      gk_digest_hex(es.v[i].id));
        if (!(id = strdup(es.v[i].id)) || !(names = calloc(es.n + 1, sizeof(char *))))
                return gk_error_make(err, ENOMEM, "store");
        drop_names(&es, i, by_id ? id : NULL, names);
        if (save_entries(s, &es, err) < 0)
                return gk_error_code_or(err, -EIO);
        *removed = TAKE_PTR(names);
        *deleted = id_has_names(&es, id) ? NULL : TAKE_PTR(id);
        return 0;
}

int gk_store_add_name(gk_store *s, const char *src, const char *ref, gk_error **err)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        _cleanup_(entries_clear) entries es = { 0 };
        ssize_t i;

        if (gk_reference_parse(ref, &r, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (r.digest)
                return gk_error_make(err, 0, "`%s`: a tag cannot be a digest", ref);
        if (load_entries(s, &es, err) < 0)
                return gk_error_code_or(err, -EIO);
        i = find_entry(&es, src, err);
        if (i == -2)
                return -EINVAL;
        if (i >= 0)
                return gk_store_tag(s, ref, es.v[i].manifest_digest, es.v[i].repo_digest, NULL,
                                    err);
        /* A digest the store has without a name (pulled, then untagged). */
        if (gk_store_resolve(s, src, &img, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        return gk_store_tag(s, ref, img->manifest_digest, NULL, NULL, err);
}
