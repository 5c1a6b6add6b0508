/* gkimg pull [--platform OS/ARCH[/VARIANT]] [--tls-verify=false]
 *            [--cert-dir DIR] [--quiet] REF */
#include <errno.h>
#include <stdio.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "pull.h"

int cmd_pull(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_(gk_progress_freep) gk_progress *p = NULL;
        _cleanup_(gk_pull_result_clear) gk_pull_result res = { 0 };
        const char *platform = NULL, *cert_dir = NULL;
        bool tls_verify = true, quiet = false;
        int parallel = 0, first;
        const gk_opt opts[] = {
                { "platform", 0, GK_OPT_STRING, &platform, "OS/ARCH[/VARIANT]",
                  "platform to pick from an index (default: the host's)" },
                { "tls-verify", 0, GK_OPT_BOOL, &tls_verify, NULL,
                  "verify the registry's certificate (--tls-verify=false: do not)" },
                { "cert-dir", 0, GK_OPT_STRING, &cert_dir, "DIR",
                  "CA certificates (*.crt) for the registry" },
                { "quiet", 'q', GK_OPT_BOOL, &quiet, NULL, "print only the image's name" },
                { "parallel", 0, GK_OPT_INT, &parallel, "N",
                  "layers downloaded at once (1 to 32)" },
                { 0 },
        };
        gk_pull_opts o;

        if (gk_opts_parse(argc, argv, "pull", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first >= argc)
                return gk_error_make(err, 0, "pull: missing image reference");
        if (first + 1 < argc)
                return gk_error_make(err, 0, "pull: unexpected argument `%s`", argv[first + 1]);
        if (parallel < 0 || parallel > 32)
                return gk_error_make(err, 0, "pull: --parallel: must be between 1 and 32");
        o = (gk_pull_opts){ .platform = platform,
                            .reg = { .insecure = !tls_verify,
                                     .cert_dir = cert_dir,
                                     .parallel = parallel,
                                     .debug = g->debug },
                            .sig = &g->sig };
        p = gk_progress_new(stdout, quiet ? GK_PROGRESS_QUIET : GK_PROGRESS_AUTO);
        if (!p)
                return gk_error_make(err, ENOMEM, "pull");
        if (gk_store_open(g->root, &s, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (gk_pull(s, argv[first], &o, p, &res, err) < 0)
                return gk_error_code_or(err, -EIO);
        printf("%s\n", res.name);
        return 0;
}
