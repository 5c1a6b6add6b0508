/* gkimg history [--no-trunc] [--human=false] [--quiet] [--format json] REF
 * The config's history of a store image, newest first, as `podman history`
 * prints it: the image ID on the newest line and <missing> below, the
 * creation time relative (podman's wording), the command cut at 45
 * characters, the size of the layer each entry made (none for an
 * empty_layer entry; layers are matched to entries from the top, as podman
 * does) uncompressed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "store.h"

typedef struct hist_row {
        const char *id; /* the image's on the newest line, else "<missing>" */
        const char *created, *created_by, *comment; /* may be NULL */
        int64_t size;
} hist_row;

typedef struct hist_opts {
        bool no_trunc, human, quiet;
        const char *format;
} hist_opts;

/* The tar stream's length: a gzip member's trailer holds it (mod 2^32;
 * layers are one member), an uncompressed tar is itself; anything else
 * (zstd) counts as stored. */
static int64_t layer_size(gk_store *s, const gk_store_layer *l)
{
        _cleanup_close_ int fd = gk_store_open_blob(s, l->digest, NULL);
        unsigned char t[4];
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return l->size > 0 ? l->size : 0;
        if (!l->media_type || !strstr(l->media_type, "gzip") || st.st_size < 18)
                return st.st_size;
        if (pread(fd, t, sizeof(t), st.st_size - 4) != (ssize_t) sizeof(t))
                return st.st_size;
        return (int64_t) ((uint32_t) t[0] | (uint32_t) t[1] << 8 | (uint32_t) t[2] << 16 |
                          (uint32_t) t[3] << 24);
}

static const char *str_or_null(yajl_val o, const char *key)
{
        const char *v = gk_json_get_str(o, key);

        return v && *v ? v : NULL;
}

/* ROWS (room for every entry of HISTORY), newest first. */
static size_t build_rows(gk_store *s, const gk_store_image *img, yajl_val history, hist_row *rows)
{
        size_t n = history->u.array.len, li = img->n_layers;

        for (size_t k = 0; k < n; k++) {
                yajl_val h = history->u.array.values[n - 1 - k];
                yajl_val empty = gk_json_get(h, "empty_layer");

                rows[k] = (hist_row){
                        .id = k ? "<missing>" : img->config_digest,
                        .created = str_or_null(h, "created"),
                        .created_by = str_or_null(h, "created_by"),
                        .comment = str_or_null(h, "comment"),
                };
                if (empty && YAJL_IS_TRUE(empty))
                        continue;
                if (li > 0)
                        rows[k].size = layer_size(s, &img->layers[--li]);
        }
        return n;
}

static time_t parse_time(const char *s)
{
        struct tm tm = { 0 };

        if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
                return (time_t) -1;
        return timegm(&tm);
}

/* go-units' HumanDuration, which podman prints with " ago". */
static void human_duration(char *buf, size_t n, long secs)
{
        long min = secs / 60, hours = (secs + 1800) / 3600;

        if (secs < 1)
                snprintf(buf, n, "Less than a second ago");
        else if (secs == 1)
                snprintf(buf, n, "1 second ago");
        else if (secs < 60)
                snprintf(buf, n, "%ld seconds ago", secs);
        else if (min == 1)
                snprintf(buf, n, "About a minute ago");
        else if (min < 60)
                snprintf(buf, n, "%ld minutes ago", min);
        else if (hours == 1)
                snprintf(buf, n, "About an hour ago");
        else if (hours < 48)
                snprintf(buf, n, "%ld hours ago", hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, n, "%ld days ago", hours / 24);
        else if (hours < 24 * 30 * 2)
                snprintf(buf, n, "%ld weeks ago", hours / 24 / 7);
        else if (hours < 24 * 365 * 2)
                snprintf(buf, n, "%ld months ago", hours / 24 / 30);
        else
                snprintf(buf, n, "%ld years ago", secs / 3600 / 24 / 365);
}

/* RFC 3339 in UTC, seconds only (Go's time.RFC3339). */
static void rfc3339(char *buf, size_t n, const char *created)
{
        time_t t = parse_time(created);
        struct tm tm;

        if (t == (time_t) -1 || !gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, n, "0001-01-01T00:00:00Z"); /* Go's zero time */
}

static void created_text(char *buf, size_t n, const char *created, bool human)
{
        time_t t = parse_time(created);

        if (!human)
                rfc3339(buf, n, created);
        else if (t == (time_t) -1)
                snprintf(buf, n, "N/A");
        else
                human_duration(buf, n, (long) (time(NULL) - t));
}

/* go-units' HumanSizeWithPrecision(size, 3), with podman's space. */
static void human_size(char *buf, size_t n, int64_t size)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
        double v = (double) size;
        size_t u = 0;

        while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1000;
                u++;
        }
        snprintf(buf, n, "%.3g %s", v, units[u]);
}

#define COLS 5

/* The cells of one line of the table. */
static void row_cells(const hist_row *r, const hist_opts *o, char cells[COLS][512])
{
        const char *by = r->created_by ? r->created_by : "";
        const char *id = r->id;

        if (!strncmp(id, "sha256:", 7))
                id += 7;
        snprintf(cells[0], 512, o->no_trunc ? "%s" : "%.12s", id);
        created_text(cells[1], 512, r->created, o->human);
        if (!o->no_trunc && strlen(by) > 45)
                snprintf(cells[2], 512, "%.42s...", by);
        else
                snprintf(cells[2], 512, "%s", by);
        human_size(cells[3], 512, r->size);
        snprintf(cells[4], 512, "%s", r->comment ? r->comment : "");
}

/* podman's tabwriter: each column as wide as its widest cell plus two, at
 * least 12; the last one as it is. */
static int print_table(const hist_row *rows, size_t n, const hist_opts *o, gk_error **err)
{
        static const char *const head[COLS] = { "ID", "CREATED", "CREATED BY", "SIZE", "COMMENT" };
        char(*cells)[COLS][512] = calloc(n + 1, sizeof(*cells));
        size_t w[COLS] = { 0 };

        if (!cells)
                return gk_error_make(err, ENOMEM, "history");
        for (int c = 0; c < COLS; c++)
                snprintf(cells[0][c], 512, "%s", head[c]);
        for (size_t i = 0; i < n; i++)
                row_cells(&rows[i], o, cells[i + 1]);
        for (size_t i = 0; i <= n; i++)
                for (int c = 0; c < COLS - 1; c++)
                        if (strlen(cells[i][c]) + 2 > w[c])
                                w[c] = strlen(cells[i][c]) + 2;
        for (size_t i = 0; i <= n; i++) {
                for (int c = 0; c < COLS - 1; c++)
                        printf("%-*s", (int) (w[c] < 12 ? 12 : w[c]), cells[i][c]);
                printf("%s\n", cells[i][COLS - 1]);
        }
        free(cells);
        return 0;
}

/* podman's fields: its ImageHistoryLayer ("tags" left out when empty, as
 * there) and the "Created" its report adds. */
static int print_json(const hist_row *rows, size_t n, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);
        _cleanup_free_ char *out = NULL;
        char t[64];

        if (!g)
                return gk_error_make(err, ENOMEM, "history");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                const char *id = rows[i].id;

                yajl_gen_map_open(g);
                gk_json_kstr(g, "id", strncmp(id, "sha256:", 7) ? id : id + 7);
                rfc3339(t, sizeof(t), rows[i].created);
                gk_json_kstr(g, "created", rows[i].created ? rows[i].created : t);
                if (rows[i].created_by)
                        gk_json_kstr(g, "CreatedBy", rows[i].created_by);
                gk_json_kint(g, "size", rows[i].size);
                if (rows[i].comment)
                        gk_json_kstr(g, "comment", rows[i].comment);
                gk_json_kstr(g, "Created", t);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        if (gk_json_gen_finish(g, &out, NULL, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        printf("%s", out);
        return 0;
}

static int show(const hist_row *rows, size_t n, const hist_opts *o, gk_error **err)
{
        if (!strcmp(o->format, "json"))
                return print_json(rows, n, err);
        if (o->quiet) {
                for (size_t i = 0; i < n; i++) {
                        const char *id = rows[i].id + (strncmp(rows[i].id, "sha256:", 7) ? 0 : 7);

                        printf(o->no_trunc ? "%s\n" : "%.12s\n", id);
                }
                return 0;
        }
        return print_table(rows, n, o, err);
}

int cmd_history(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        _cleanup_(gk_json_freep) yajl_val config = NULL;
        _cleanup_free_ hist_row *rows = NULL;
        hist_opts o = { .human = true, .format = "table" };
        const gk_opt opts[] = {
                { "no-trunc", 0, GK_OPT_BOOL, &o.no_trunc, NULL, "the whole ID and command" },
                { "human", 'H', GK_OPT_BOOL, &o.human, NULL,
                  "creation times relative (--human=false: RFC 3339)" },
                { "quiet", 'q', GK_OPT_BOOL, &o.quiet, NULL, "only the IDs" },
                { "format", 0, GK_OPT_STRING, &o.format, "table|json", "output format" },
                { 0 },
        };
        yajl_val history;
        size_t n;
        int first;

        if (gk_opts_parse(argc, argv, "history", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first + 1 != argc)
                return gk_error_make(err, 0, "history: usage: gkimg history REF");
        if (strcmp(o.format, "table") && strcmp(o.format, "json"))
                return gk_error_make(err, 0, "history: --format: `%s` is not table or json",
                                     o.format);
        if (gk_store_open(g->root, &s, err) < 0 ||
            gk_store_resolve(s, argv[first], &img, err) < 0 ||
            gk_json_parse(img->config, img->config_len, "image config", &config, err) < 0)
                return gk_error_wrap(err, "history");
        history = gk_json_get(config, "history");
        if (!history || !YAJL_IS_ARRAY(history))
                return show(NULL, 0, &o, err);
        rows = calloc(history->u.array.len + 1, sizeof(*rows));
        if (!rows)
                return gk_error_make(err, ENOMEM, "history");
        n = build_rows(s, img, history, rows);
        return show(rows, n, &o, err);
}
