/* gkrun state and gkrun list. */
#include <dirent.h>
#include <pwd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/util.h"

int cmd_state(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_free_ char *json = NULL;
        const char *id;

        if (gk_cmd_one_id(argc, argv, &id, err) < 0 || gk_state_load(g->root, id, &st, err) < 0 ||
            gk_state_to_oci_json(g->root, st, &json, err) < 0)
                return gk_error_code(*err);
        puts(json);
        return 0;
}

typedef struct row {
        gk_state *st;
        enum gk_status status;
} row;

static int cmp_rows(const void *a, const void *b)
{
        return strcmp(((const row *) a)->st->id, ((const row *) b)->st->id);
}

/* The OWNER of list, as runc shows it: the user's name in /etc/passwd
 * (read directly: the static binary has no NSS), else "#UID". */
static const char *owner_name(uid_t uid, char buf[64])
{
        _cleanup_fclose_ FILE *f = uid ? fopen("/etc/passwd", "re") : NULL;
        struct passwd pw, *res = NULL;
        char line[4096];

        if (!uid)
                return "root";
        while (f && fgetpwent_r(f, &pw, line, sizeof(line), &res) == 0 && res)
                if (pw.pw_uid == uid) {
                        snprintf(buf, 64, "%s", pw.pw_name);
                        return buf;
                }
        snprintf(buf, 64, "#%u", (unsigned) uid);
        return buf;
}

static void print_json(const gk_global *g, row *rows, size_t n)
{
        _cleanup_(gk_json_genp) yajl_gen gen = gk_json_gen_new(false);
        _cleanup_free_ char *out = NULL;
        char created[64], owner[64];

        yajl_gen_array_open(gen);
        for (size_t i = 0; i < n; i++) {
                const gk_state *st = rows[i].st;

                gk_format_time_rfc3339(created, sizeof(created), st->created_ns);
                yajl_gen_map_open(gen);
                gk_json_kstr(gen, "ociVersion", "1.3.0");
                gk_json_kstr(gen, "id", st->id);
                gk_json_kint(gen, "pid", rows[i].status == GK_STATUS_STOPPED ? 0 : st->pid);
                gk_json_kstr(gen, "status", gk_status_name(rows[i].status));
                gk_json_kstr(gen, "bundle", st->bundle);
                gk_json_kstr(gen, "rootfs", st->rootfs);
                gk_json_kstr(gen, "created", created);
                gk_json_kstr(gen, "owner", owner_name(st->owner, owner));
                yajl_gen_map_close(gen);
        }
        yajl_gen_array_close(gen);
        if (gk_json_gen_finish(gen, &out, NULL, NULL) == 0)
                puts(out);
}

static void print_table(row *rows, size_t n)
{
        printf("%-12s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
               "OWNER");
        for (size_t i = 0; i < n; i++) {
                char created[64], owner[64];

                gk_format_time_rfc3339(created, sizeof(created), rows[i].st->created_ns);
                printf("%-12s %-8d %-10s %-40s %-32s %s\n", rows[i].st->id,
                       rows[i].status == GK_STATUS_STOPPED ? 0 : rows[i].st->pid,
                       gk_status_name(rows[i].status), rows[i].st->bundle, created,
                       owner_name(rows[i].st->owner, owner));
        }
}

int cmd_list(int argc, char **argv, const gk_global *g, gk_error **err)
{
        bool quiet = false;
        const char *format = "table";
        const gk_opt opts[] = {
                { "quiet", 'q', GK_OPT_BOOL, &quiet, NULL, "print the container ids only" },
                { "format", 'f', GK_OPT_STRING, &format, "table|json", "output format" },
                { 0 },
        };
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_free_ row *rows = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int first;

        if (gk_opts_parse(argc, argv, "list", opts, &first, err) < 0)
                return gk_error_code(*err);
        if (strcmp(format, "table") && strcmp(format, "json"))
                return gk_error_make(err, 0, "list: invalid format option \"%s\"", format);
        d = opendir(g->root);
        while (d && (de = readdir(d))) {
                gk_state *st = NULL;

                if (de->d_name[0] == '.' || gk_state_load(g->root, de->d_name, &st, NULL) < 0)
                        continue;
                if (n == cap) {
                        row *nr = realloc(rows, (cap = cap ? cap * 2 : 16) * sizeof(row));
                        if (!nr) {
                                gk_state_free(st);
                                break;
                        }
                        rows = nr;
                }
                rows[n].st = st;
                rows[n++].status = gk_state_status(g->root, st);
        }
        if (n)
                qsort(rows, n, sizeof(row), cmp_rows);
        if (quiet)
                for (size_t i = 0; i < n; i++)
                        puts(rows[i].st->id);
        else if (!strcmp(format, "json"))
                print_json(g, rows, n);
        else
                print_table(rows, n);
        for (size_t i = 0; i < n; i++)
                gk_state_free(rows[i].st);
        return 0;
}
