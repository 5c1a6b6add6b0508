/* gkimg images, inspect, rmi and gc: the store seen and tidied by a user. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "digest.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "images_filter.h"
#include "images_format.h"
#include "json_tree.h"
#include "reference.h"
#include "remote.h"
#include "store.h"

/* Docker's style: 1000-based, three significant digits ("7.8MB"). */
static void human_size(char *buf, size_t n, int64_t size)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
        double v = size < 0 ? 0 : (double) size;
        size_t u = 0;

        while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1000;
                u++;
        }
        snprintf(buf, n, v < 10 && u ? "%.3g%s" : "%.4g%s", v, units[u]);
}

static time_t parse_rfc3339(const char *s)
{
        struct tm tm = { 0 };
        const char *rest;

        if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
                return (time_t) -1;
        return timegm(&tm);
}

static void human_age(char *buf, size_t n, const char *created)
{
        time_t t = parse_rfc3339(created), now = time(NULL);
        static const struct {
                long secs;
                const char *unit;
        } steps[] = { { 365L * 86400, "year" }, { 30L * 86400, "month" }, { 7L * 86400, "week" },
                      { 86400, "day" },         { 3600, "hour" },         { 60, "minute" } };
        long d;

        if (t == (time_t) -1) {
                snprintf(buf, n, "N/A");
                return;
        }
        d = (long) (now - t);
        for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
                if (d >= steps[i].secs) {
                        long k = d / steps[i].secs;

                        snprintf(buf, n, "%ld %s%s ago", k, steps[i].unit, k == 1 ? "" : "s");
                        return;
                }
        snprintf(buf, n, "less than a minute ago");
}

/* NAME split into the familiar repository and the tag (or "<none>"). */
static void split_name(const char *name, char **repo, const char **tag)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };

        *repo = NULL;
        *tag = "<none>";
        if (gk_reference_parse(name, &r, NULL) < 0) {
                *repo = strdup(name);
                return;
        }
        *repo = gk_reference_familiar_name(&r);
        if (r.tag && !r.digest) {
                const char *colon = strrchr(name, ':');

                *tag = colon ? colon + 1 : "<none>";
        }
}

/* The strings an image's line shows, in BUF's storage. */
typedef struct row_buf {
        char *repo;
        char id[13], size[32], age[64], created_at[40];
        gk_images_row row;
} row_buf;

static void created_at(char *buf, size_t n, const char *created)
{
        time_t t = parse_rfc3339(created);
        struct tm tm;

        if (t == (time_t) -1 || !gmtime_r(&t, &tm) ||
            !strftime(buf, n, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm))
                snprintf(buf, n, "N/A");
}

static void row_fill(row_buf *b, const gk_store_entry *e)
{
        const char *tag;

        split_name(e->name, &b->repo, &tag);
        snprintf(b->id, sizeof(b->id), "%.12s", gk_digest_hex(e->id));
        human_size(b->size, sizeof(b->size), e->size);
        human_age(b->age, sizeof(b->age), e->created);
        created_at(b->created_at, sizeof(b->created_at), e->created);
        b->row = (gk_images_row){
                .repository = b->repo ? b->repo : e->name,
                .tag = tag,
                .id = b->id,
                /* A registry's digest only: an imported image has none. */
                .digest = e->repo_digest ? e->repo_digest : "<none>",
                .size = b->size,
                .created_at = b->created_at,
                .created_since = b->age,
        };
}

static void print_table(const gk_store_entry *es, size_t n, bool digests)
{
        printf("%-40s %-20s ", "REPOSITORY", "TAG");
        if (digests)
                printf("%-71s ", "DIGEST");
        printf("%-14s %-20s %s\n", "IMAGE ID", "CREATED", "SIZE");
        for (size_t i = 0; i < n; i++) {
                row_buf b;

                row_fill(&b, &es[i]);
                printf("%-40s %-20s ", b.row.repository, b.row.tag);
                if (digests)
                        printf("%-71s ", b.row.digest);
                printf("%-14s %-20s %s\n", b.row.id, b.row.created_since, b.row.size);
                free(b.repo);
        }
}

static void print_template(const gk_store_entry *es, size_t n, const char *tmpl)
{
        for (size_t i = 0; i < n; i++) {
                row_buf b;

                row_fill(&b, &es[i]);
                gk_images_format_row(stdout, tmpl, &b.row);
                free(b.repo);
        }
}

/* -q: each image once, however many names it has (docker images -q). */
static void print_ids(const gk_store_entry *es, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                bool seen = false;

                for (size_t j = 0; j < i && !seen; j++)
                        seen = !strcmp(es[j].id, es[i].id);
                if (!seen)
                        printf("%.12s\n", gk_digest_hex(es[i].id));
        }
}

static int print_json(const gk_store_entry *es, size_t n, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);
        _cleanup_free_ char *out = NULL;

        if (!g)
                return gk_error_make(err, ENOMEM, "images");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *repo = NULL;
                const char *tag;

                split_name(es[i].name, &repo, &tag);
                yajl_gen_map_open(g);
                gk_json_kstr(g, "name", es[i].name);
                gk_json_kstr(g, "repository", repo ? repo : es[i].name);
                gk_json_kstr(g, "tag", strcmp(tag, "<none>") ? tag : NULL);
                gk_json_kstr(g, "id", es[i].id);
                gk_json_kstr(g, "manifest", es[i].manifest_digest);
                gk_json_kstr(g, "repoDigest", es[i].repo_digest);
                gk_json_kstr(g, "created", es[i].created);
                gk_json_kstr(g, "platform", es[i].platform);
                gk_json_kint(g, "size", es[i].size);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        if (gk_json_gen_finish(g, &out, NULL, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        printf("%s", out);
        return 0;
}

static int check_format(const char *format, gk_error **err)
{
        if (!strcmp(format, "table") || !strcmp(format, "json"))
                return 0;
        if (!strncmp(format, "table ", 6))
                return gk_error_make(err, 0,
                                     "images: --format: `table TEMPLATE` is not "
                                     "supported: give TEMPLATE alone");
        if (!strstr(format, "{{"))
                return gk_error_make(err, 0,
                                     "images: --format: `%s` is not table, json or a "
                                     "template",
                                     format);
        return gk_images_format_check(format, err);
}

/* The creation time of the image REF names, for before= and since=. */
static int image_created(gk_store *s, const char *ref, time_t *out, gk_error **err)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        _cleanup_(gk_json_freep) yajl_val config = NULL;

        if (gk_store_resolve(s, ref, &img, err) < 0 ||
            gk_json_parse(img->config, img->config_len, "image config", &config, err) < 0)
                return gk_error_code_or(err, -ENOENT);
        *out = parse_rfc3339(gk_json_get_str(config, "created"));
        if (*out == (time_t) -1)
                return gk_error_make(err, 0, "image `%s` has no creation time", ref);
        return 0;
}

static bool wants_labels(const gk_image_filters *fs)
{
        for (size_t i = 0; i < fs->n; i++)
                if (fs->v[i].key == GK_FILTER_LABEL)
                        return true;
        return false;
}

static bool entry_matches(gk_store *s, const gk_image_filters *fs, const gk_store_entry *e)
{
        _cleanup_(gk_json_freep) yajl_val config = NULL;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        gk_image_facts f = {
                .name = e->name,
                .id = e->id,
                .manifest_digest = e->manifest_digest,
                .repo_digest = e->repo_digest,
                .created = parse_rfc3339(e->created),
        };

        /* Labels are in the config only: read when asked for (an image
         * whose config cannot be read has none). */
        if (wants_labels(fs) && gk_store_read_blob(s, e->id, &text, &len, NULL) == 0 &&
            gk_json_parse(text, len, "image config", &config, NULL) == 0)
                f.labels = gk_json_get(gk_json_get(config, "config"), "Labels");
        return gk_image_filters_match(fs, &f);
}

/* Moves the N entries of ES that ARGS' filters let through to its front,
 * in order (the others stay behind them, to be freed); *shown: how many. */
static int filter_entries(gk_store *s, char **args, gk_store_entry *es, size_t n, size_t *shown,
                          gk_error **err)
{
        _cleanup_(gk_image_filters_clear) gk_image_filters fs = { 0 };
        size_t kept = 0;

        if (gk_image_filters_parse(args, &fs, err) < 0)
                return gk_error_wrap(err, "images");
        for (size_t i = 0; i < fs.n; i++)
                if ((fs.v[i].key == GK_FILTER_BEFORE || fs.v[i].key == GK_FILTER_SINCE) &&
                    image_created(s, fs.v[i].value, &fs.v[i].when, err) < 0)
                        return gk_error_wrap(err, "images: --filter `%s`", args[i]);
        for (size_t i = 0; i < n; i++) {
                gk_store_entry keep = es[i];

                if (!entry_matches(s, &fs, &keep))
                        continue;
                es[i] = es[kept];
                es[kept++] = keep;
        }
        *shown = kept;
        return 0;
}

int cmd_images(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_strv_ char **filters = NULL;
        const char *format = "table";
        bool quiet = false, digests = false;
        gk_store_entry *es = NULL;
        size_t n = 0, shown = 0;
        const gk_opt opts[] = {
                { "format", 0, GK_OPT_STRING, &format, "table|json|TEMPLATE",
                  "output format; TEMPLATE: {{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} "
                  "{{.Size}} {{.CreatedAt}} {{.CreatedSince}}, \\t, \\n" },
                { "quiet", 'q', GK_OPT_BOOL, &quiet, NULL, "only image IDs, each once" },
                { "digests", 0, GK_OPT_BOOL, &digests, NULL, "show a DIGEST column" },
                { "filter", 'f', GK_OPT_STRV, &filters, "KEY=VALUE",
                  "only what matches: reference=GLOB, before=IMAGE, since=IMAGE, "
                  "dangling=BOOL, label=KEY[=VALUE], id=ID, digest=DIGEST, readonly=BOOL; "
                  "KEY!=VALUE excludes (repeatable)" },
                { 0 },
        };
        int first, r = 0;

        if (gk_opts_parse(argc, argv, "images", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first < argc)
                return gk_error_make(err, 0, "images: unexpected argument `%s`", argv[first]);
        if (check_format(format, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (gk_store_open(g->root, &s, err) < 0 || gk_store_list(s, &es, &n, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (filter_entries(s, filters, es, n, &shown, err) < 0) {
                gk_store_entries_free(es, n);
                return gk_error_code_or(err, -EINVAL);
        }
        if (quiet)
                print_ids(es, shown);
        else if (!strcmp(format, "json"))
                r = print_json(es, shown, err);
        else if (!strcmp(format, "table"))
                print_table(es, shown, digests);
        else
                print_template(es, shown, format);
        gk_store_entries_free(es, n);
        return r;
}

static void gen_layers(yajl_gen g, const gk_store_image *img)
{
        gk_json_str(g, "layers");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < img->n_layers; i++) {
                yajl_gen_map_open(g);
                gk_json_kstr(g, "digest", img->layers[i].digest);
                gk_json_kstr(g, "mediaType", img->layers[i].media_type);
                gk_json_kint(g, "size", img->layers[i].size);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static int inspect_one(gk_store *s, const char *ref, yajl_gen g, gk_error **err)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        _cleanup_(gk_json_freep) yajl_val config = NULL;

        if (gk_store_resolve(s, ref, &img, err) < 0 ||
            gk_json_parse(img->config, img->config_len, "image config", &config, err) < 0)
                return gk_error_code_or(err, -EIO);
        yajl_gen_map_open(g);
        gk_json_kstr(g, "id", img->config_digest);
        gk_json_kstr(g, "name", img->name);
        gk_json_kstr(g, "manifest", img->manifest_digest);
        gk_json_kstr(g, "mediaType", img->manifest_media_type);
        gen_layers(g, img);
        gk_json_str(g, "config");
        gk_json_gen_tree(g, config);
        yajl_gen_map_close(g);
        return 0;
}

int cmd_inspect(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_(gk_json_genp) yajl_gen gen = gk_json_gen_new(true);
        _cleanup_free_ char *out = NULL;
        const gk_opt opts[] = { { 0 } };
        int first;

        /* docker://REF: the image at its registry, with its own flags. */
        for (int i = 1; i < argc; i++)
                if (gk_remote_strip(argv[i]))
                        return cmd_inspect_remote(argc, argv, g, err);
        if (gk_opts_parse(argc, argv, "inspect", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first >= argc)
                return gk_error_make(err, 0, "inspect: missing image reference");
        if (!gen || gk_store_open(g->root, &s, err) < 0)
                return gk_error_code_or(err, -EIO);
        yajl_gen_array_open(gen);
        for (int i = first; i < argc; i++)
                if (inspect_one(s, argv[i], gen, err) < 0)
                        return gk_error_code_or(err, -ENOENT);
        yajl_gen_array_close(gen);
        if (gk_json_gen_finish(gen, &out, NULL, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        printf("%s", out);
        return 0;
}

int cmd_rmi(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        bool force = false;
        const gk_opt opts[] = { { "force", 'f', GK_OPT_BOOL, &force, NULL,
                                  "by ID: remove every name, however many" },
                                { 0 } };
        int first;

        if (gk_opts_parse(argc, argv, "rmi", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first >= argc)
                return gk_error_make(err, 0, "rmi: missing image reference");
        if (gk_store_open(g->root, &s, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* Like docker rmi: every name is tried; the first failure is
         * reported after the others are done. */
        for (int i = first; i < argc; i++) {
                _cleanup_(gk_error_freep) gk_error *e = NULL;
                _cleanup_strv_ char **names = NULL;
                _cleanup_free_ char *deleted = NULL;

                if (gk_store_untag(s, argv[i], force, &names, &deleted, &e) < 0) {
                        if (!*err)
                                *err = TAKE_PTR(e);
                        continue;
                }
                for (char **n = names; *n; n++)
                        printf("Untagged: %s\n", *n);
                if (deleted)
                        printf("Deleted: %s\n", deleted);
        }
        return *err ? gk_error_code(*err) : 0;
}

int cmd_gc(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        gk_store_gc_stats st;
        const gk_opt opts[] = { { 0 } };
        char size[32];
        int first;

        if (gk_opts_parse(argc, argv, "gc", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first < argc)
                return gk_error_make(err, 0, "gc: unexpected argument `%s`", argv[first]);
        if (gk_store_open(g->root, &s, err) < 0 || gk_store_gc(s, &st, err) < 0)
                return gk_error_code_or(err, -EIO);
        human_size(size, sizeof(size), (int64_t) st.bytes);
        printf("removed %llu blobs and %llu layers, %s reclaimed\n", (unsigned long long) st.blobs,
               (unsigned long long) st.layers, size);
        return 0;
}
