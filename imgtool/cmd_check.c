/* gkimg check [--repair [--tls-verify=false] [--cert-dir DIR]]: prints
 * each problem and leftover of the store, then a summary line; with
 * --repair, mends what it can (store_repair.c), says what it did, and
 * checks again.  Exits 1 when the store is (still) inconsistent. */
#include <errno.h>
#include <stdio.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "store_check.h"

static void print_result(const gk_store_check *res)
{
        for (size_t i = 0; i < res->n_problems; i++)
                printf("problem: %s\n", res->problems[i]);
        for (size_t i = 0; i < res->n_leftovers; i++)
                printf("leftover: %s\n", res->leftovers[i]);
        printf("%zu blobs, %zu images, %zu layers checked: %zu problems, %zu leftovers%s\n",
               res->blobs, res->images, res->layers, res->n_problems, res->n_leftovers,
               res->n_leftovers ? " (gkimg gc removes them)" : "");
        fflush(stdout);
}

static int repair(gk_store *s, gk_store_check *res, const gk_registry_opts *reg, gk_error **err)
{
        _cleanup_strv_ char **log = NULL;
        size_t n = 0;

        if (gk_store_repair(s, res, reg, &log, &n, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (size_t i = 0; i < n; i++)
                printf("repair: %s\n", log[i]);
        printf("checking again\n");
        gk_store_check_clear(res);
        return gk_store_check_run(s, res, err) < 0 ? -EIO : 0;
}

int cmd_check(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        const char *cert_dir = NULL;
        bool do_repair = false, tls_verify = true;
        gk_store_check res;
        const gk_opt opts[] = {
                { "repair", 0, GK_OPT_BOOL, &do_repair, NULL,
                  "fetch damaged blobs again, unpack damaged layers again" },
                { "tls-verify", 0, GK_OPT_BOOL, &tls_verify, NULL,
                  "verify registries' certificates (--tls-verify=false: do not)" },
                { "cert-dir", 0, GK_OPT_STRING, &cert_dir, "DIR",
                  "CA certificates (*.crt) for registries" },
                { 0 },
        };
        gk_registry_opts reg;
        int first;

        if (gk_opts_parse(argc, argv, "check", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first < argc)
                return gk_error_make(err, 0, "check: unexpected argument `%s`", argv[first]);
        reg = (gk_registry_opts){ .insecure = !tls_verify,
                                  .cert_dir = cert_dir,
                                  .debug = g->debug };
        if (gk_store_open(g->root, &s, err) < 0 || gk_store_check_run(s, &res, err) < 0)
                return gk_error_code_or(err, -EIO);
        print_result(&res);
        if (do_repair && (res.n_bad_blobs || res.n_bad_layers)) {
                if (repair(s, &res, &reg, err) < 0) {
                        gk_store_check_clear(&res);
                        return gk_error_code_or(err, -EIO);
                }
                print_result(&res);
        }
        first = res.n_problems ? 1 : 0;
        gk_store_check_clear(&res);
        return first;
}
