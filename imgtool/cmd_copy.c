/* gkimg copy [--all] [--platform P] [--src-tls-verify=false] [--dest-tls-verify=false]
 *            [--tls-verify=false] [--src-cert-dir D] [--dest-cert-dir D] [--cert-dir D]
 *            [--src-creds U:P] [--dest-creds U:P] [--{src-,dest-,}authfile F]
 *            [--sign-by FPR | --sign-by-sigstore-private-key F [--sign-passphrase-file F]]
 *            [--quiet] SRC DEST
 * The flags are skopeo copy's; --tls-verify and --cert-dir apply to both
 * sides (a side's own flag wins).  Signatures: the policy is checked on a
 * registry source (as pull does), and --sign-by* sign a registry
 * destination (as push does); other destinations cannot hold them. */
#include <errno.h>
#include <stdio.h>

#include "commands.h"
#include "copy.h"
#include "gk/cleanup.h"
#include "gk/opts.h"

typedef struct side_flags {
        int tls_verify; /* -1: not given */
        const char *cert_dir, *creds, *authfile;
} side_flags;

static gk_registry_opts side_opts(const side_flags *f, const side_flags *both, int parallel,
                                  bool debug)
{
        int verify = f->tls_verify >= 0 ? f->tls_verify : both->tls_verify;

        return (gk_registry_opts){ .insecure = verify == 0,
                                   .cert_dir = f->cert_dir ? f->cert_dir : both->cert_dir,
                                   .creds = f->creds,
                                   .authfile = f->authfile ? f->authfile : both->authfile,
                                   .parallel = parallel,
                                   .debug = debug };
}

int cmd_copy(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_(gk_progress_freep) gk_progress *p = NULL;
        _cleanup_free_ char *digest = NULL;
        side_flags src = { -1 }, dest = { -1 }, both = { 1 };
        bool all = false, quiet = false, sv = true, dv = true, bv = true;
        const char *platform = NULL;
        gk_sign_opts sign = { 0 };
        int parallel = 0, first;
        const gk_opt opts[] = {
                { "all", 'a', GK_OPT_BOOL, &all, NULL,
                  "every platform of an index, and the index itself (digest kept)" },
                { "platform", 0, GK_OPT_STRING, &platform, "OS/ARCH[/VARIANT]",
                  "the platform to copy from an index (default: the host's)" },
                { "tls-verify", 0, GK_OPT_BOOL, &bv, NULL,
                  "verify both registries' certificates (--tls-verify=false: do not)" },
                { "src-tls-verify", 0, GK_OPT_BOOL, &sv, NULL, "the same, for SRC alone" },
                { "dest-tls-verify", 0, GK_OPT_BOOL, &dv, NULL, "the same, for DEST alone" },
                { "cert-dir", 0, GK_OPT_STRING, &both.cert_dir, "DIR",
                  "CA certificates (*.crt) for both registries" },
                { "src-cert-dir", 0, GK_OPT_STRING, &src.cert_dir, "DIR", "the same, for SRC" },
                { "dest-cert-dir", 0, GK_OPT_STRING, &dest.cert_dir, "DIR", "the same, for DEST" },
                { "src-creds", 0, GK_OPT_STRING, &src.creds, "USER[:PASS]",
                  "credentials for SRC instead of the saved ones" },
                { "dest-creds", 0, GK_OPT_STRING, &dest.creds, "USER[:PASS]",
                  "credentials for DEST instead of the saved ones" },
                { "authfile", 0, GK_OPT_STRING, &both.authfile, "FILE",
                  "the auth file for both registries (default: containers-auth.json(5)'s "
                  "order)" },
                { "src-authfile", 0, GK_OPT_STRING, &src.authfile, "FILE", "the same, for SRC" },
                { "dest-authfile", 0, GK_OPT_STRING, &dest.authfile, "FILE",
                  "the same, for DEST" },
                { "sign-by", 0, GK_OPT_STRING, &sign.gpg_fingerprint, "FINGERPRINT",
                  "sign DEST with this GPG key (into the lookaside-staging of registries.d)" },
                { "sign-by-sigstore-private-key", 0, GK_OPT_STRING, &sign.sigstore_key, "FILE",
                  "sign DEST with this PEM private key (a sigstore attachment)" },
                { "sign-passphrase-file", 0, GK_OPT_STRING, &sign.passphrase_file, "FILE",
                  "the signing key's passphrase (first line)" },
                { "parallel", 0, GK_OPT_INT, &parallel, "N", "blobs moved at once (1 to 32)" },
                { "quiet", 'q', GK_OPT_BOOL, &quiet, NULL, "print only the copied digest" },
                { 0 },
        };
        gk_copy_opts o;

        if (gk_opts_parse(argc, argv, "copy", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (argc - first != 2)
                return gk_error_make(err, 0, "copy: usage: gkimg copy [OPTIONS] SRC DEST");
        if (parallel < 0 || parallel > 32)
                return gk_error_make(err, 0, "copy: --parallel: must be between 1 and 32");
        /* a flag given says so by moving off its default */
        both.tls_verify = bv;
        src.tls_verify = sv ? -1 : 0;
        dest.tls_verify = dv ? -1 : 0;
        o = (gk_copy_opts){ .src_reg = side_opts(&src, &both, parallel, g->debug),
                            .dest_reg = side_opts(&dest, &both, parallel, g->debug),
                            .all = all,
                            .platform = platform,
                            .sig = &g->sig,
                            .sign = sign };
        p = gk_progress_new(stdout, quiet ? GK_PROGRESS_QUIET : GK_PROGRESS_AUTO);
        if (!p)
                return gk_error_make(err, ENOMEM, "copy");
        if (gk_store_open(g->root, &s, err) < 0)
                return gk_error_code_or(err, -EIO);
        if (gk_copy(s, argv[first], argv[first + 1], &o, p, &digest, err) < 0)
                return gk_error_wrap(err, "copy");
        if (quiet)
                printf("%s\n", digest);
        else
                printf("Copied %s to %s: %s\n", argv[first], argv[first + 1], digest);
        return 0;
}
