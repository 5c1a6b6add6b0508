/* gkimg pull [--platform OS/ARCH[/VARIANT]] [--all-platforms] [--tls-verify=false]
 *            [--cert-dir DIR] [--creds USER[:PASS]] [--authfile FILE] [--quiet] REF */
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
        const char *platform = NULL, *cert_dir = NULL, *creds = NULL, *authfile = NULL;
        bool tls_verify = true, quiet = false, all = false;
        int parallel = 0, first;
        const gk_opt opts[] = {
                { "platform", 0, GK_OPT_STRING, &platform, "OS/ARCH[/VARIANT]",
                  "platform to pick from an index (default: the host's)" },
                { "all-platforms", 0, GK_OPT_BOOL, &all, NULL,
                  "an index with every platform's image (the name is the host's or "
                  "--platform's; push and export --all-platforms send the index)" },
                { "tls-verify", 0, GK_OPT_BOOL, &tls_verify, NULL,
                  "verify the registry's certificate (--tls-verify=false: do not)" },
                { "cert-dir", 0, GK_OPT_STRING, &cert_dir, "DIR",
                  "CA certificates (*.crt) for the registry" },
                { "creds", 0, GK_OPT_STRING, &creds, "USER[:PASS]",
                  "credentials instead of the saved ones" },
                { "authfile", 0, GK_OPT_STRING, &authfile, "FILE",
                  "the auth file to read credentials from (default: $REGISTRY_AUTH_FILE, "
                  "then containers-auth.json(5)'s order)" },
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
                            .all_platforms = all,
                            .reg = { .insecure = !tls_verify,
                                     .cert_dir = cert_dir,
                                     .parallel = parallel,
                                     .debug = g->debug,
                                     .creds = creds,
                                     .authfile = authfile },
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
