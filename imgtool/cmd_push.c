/* gkimg push [--tls-verify=false] [--cert-dir DIR] [--creds USER[:PASS]]
 *            [--parallel N] [--quiet] [--sign-by FPR]
 *            [--sign-by-sigstore-private-key FILE] [--sign-passphrase-file FILE]
 *            REF|ID DEST */
#include <errno.h>
#include <stdio.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "push.h"

int cmd_push(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_(gk_progress_freep) gk_progress *p = NULL;
        _cleanup_(gk_push_result_clear) gk_push_result res = { 0 };
        const char *cert_dir = NULL, *creds = NULL, *authfile = NULL;
        bool tls_verify = true, quiet = false;
        int parallel = 0, first;
        gk_sign_opts sign = { 0 };
        const gk_opt opts[] = {
                { "tls-verify", 0, GK_OPT_BOOL, &tls_verify, NULL,
                  "verify the registry's certificate (--tls-verify=false: do not)" },
                { "cert-dir", 0, GK_OPT_STRING, &cert_dir, "DIR",
                  "CA certificates (*.crt) for the registry" },
                { "creds", 0, GK_OPT_STRING, &creds, "USER[:PASS]",
                  "credentials instead of the saved ones" },
                { "authfile", 0, GK_OPT_STRING, &authfile, "FILE",
                  "the auth file to read credentials from (default: $REGISTRY_AUTH_FILE, "
                  "then containers-auth.json(5)'s order)" },
                { "quiet", 'q', GK_OPT_BOOL, &quiet, NULL, "print only the pushed digest" },
                { "parallel", 0, GK_OPT_INT, &parallel, "N", "blobs sent at once (1 to 32)" },
                { "sign-by", 0, GK_OPT_STRING, &sign.gpg_fingerprint, "FINGERPRINT",
                  "sign with this GPG key (into the lookaside-staging of registries.d)" },
                { "sign-by-sigstore-private-key", 0, GK_OPT_STRING, &sign.sigstore_key, "FILE",
                  "sign with this PEM private key (a sigstore attachment)" },
                { "sign-passphrase-file", 0, GK_OPT_STRING, &sign.passphrase_file, "FILE",
                  "the signing key's passphrase (first line)" },
                { 0 },
        };
        gk_push_opts o;

        if (gk_opts_parse(argc, argv, "push", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first + 2 > argc)
                return gk_error_make(err, 0, "push: usage: gkimg push REF|ID DEST");
        if (first + 2 < argc)
                return gk_error_make(err, 0, "push: unexpected argument `%s`", argv[first + 2]);
        if (parallel < 0 || parallel > 32)
                return gk_error_make(err, 0, "push: --parallel: must be between 1 and 32");
        o = (gk_push_opts){ .reg = { .insecure = !tls_verify,
                                     .cert_dir = cert_dir,
                                     .creds = creds,
                                     .authfile = authfile,
                                     .parallel = parallel,
                                     .debug = g->debug },
                            .sig = &g->sig,
                            .sign = sign };
        p = gk_progress_new(stdout, quiet ? GK_PROGRESS_QUIET : GK_PROGRESS_AUTO);
        if (!p)
                return gk_error_make(err, ENOMEM, "push");
        if (gk_store_open(g->root, &s, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (gk_push(s, argv[first], argv[first + 1], &o, p, &res, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (quiet)
                printf("%s\n", res.digest);
        return 0;
}
