/* gkimg check: prints each problem and leftover of the store, then a
 * summary line; exits 1 when the store is inconsistent. */
#include <errno.h>
#include <stdio.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "store_check.h"

int cmd_check(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        gk_store_check res;
        const gk_opt opts[] = { { 0 } };
        int first;

        if (gk_opts_parse(argc, argv, "check", opts, &first, err) < 0)
                return -EINVAL;
        if (first < argc)
                return gk_error_make(err, 0, "check: unexpected argument `%s`", argv[first]);
        if (gk_store_open(g->root, &s, err) < 0 || gk_store_check_run(s, &res, err) < 0)
                return -EIO;
        for (size_t i = 0; i < res.n_problems; i++)
                printf("problem: %s\n", res.problems[i]);
        for (size_t i = 0; i < res.n_leftovers; i++)
                printf("leftover: %s\n", res.leftovers[i]);
        printf("%zu blobs, %zu images, %zu layers checked: %zu problems, %zu leftovers%s\n",
               res.blobs, res.images, res.layers, res.n_problems, res.n_leftovers,
               res.n_leftovers ? " (gkimg gc removes them)" : "");
        fflush(stdout);
        first = res.n_problems ? 1 : 0;
        gk_store_check_clear(&res);
        return first;
}
