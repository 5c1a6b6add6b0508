/* gkimg inspect [--raw | --config] [REGISTRY FLAGS] docker://REF
 * gkimg tags [--page-size N] [REGISTRY FLAGS] docker://REPO
 * The registry, asked without pulling (remote.h); output as skopeo's
 * inspect and list-tags print it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "reference.h"
#include "regconf_try.h"
#include "remote.h"

/* The registry flags both commands take: one set of rows, spliced into
 * each command's table, and one conversion to registry options. */
typedef struct reg_flags {
        const char *cert_dir, *creds, *authfile;
        bool tls_verify;
} reg_flags;

/* clang-format off */
#define REG_FLAG_ROWS(f)                                                                  \
        { "tls-verify", 0, GK_OPT_BOOL, &(f)->tls_verify, NULL,                           \
          "verify the registry's certificate (--tls-verify=false: do not)" },             \
        { "cert-dir", 0, GK_OPT_STRING, &(f)->cert_dir, "DIR",                            \
          "CA certificates (*.crt) for the registry" },                                   \
        { "creds", 0, GK_OPT_STRING, &(f)->creds, "USER[:PASS]",                          \
          "credentials instead of the saved ones" },                                      \
        { "authfile", 0, GK_OPT_STRING, &(f)->authfile, "FILE",                           \
          "the auth file to read credentials from (default: $REGISTRY_AUTH_FILE, "        \
          "then containers-auth.json(5)'s order)" }
/* clang-format on */

static gk_registry_opts reg_opts(const reg_flags *f, const gk_img_global *g)
{
        return (gk_registry_opts){ .insecure = !f->tls_verify,
                                   .cert_dir = f->cert_dir,
                                   .creds = f->creds,
                                   .authfile = f->authfile,
                                   .debug = g->debug };
}

/* One positional docker:// argument after the flags. */
static int one_remote_arg(int argc, char **argv, int first, const char *verb, const char **out,
                          gk_error **err)
{
        if (first >= argc)
                return gk_error_make(err, 0, "%s: missing docker://REFERENCE", verb);
        if (first + 1 < argc)
                return gk_error_make(err, 0, "%s: unexpected argument `%s`", verb,
                                     argv[first + 1]);
        *out = gk_remote_strip(argv[first]);
        if (!*out)
                return gk_error_make(err, 0, "%s: `%s`: must start with docker://", verb,
                                     argv[first]);
        return 0;
}

int cmd_inspect_remote(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_free_ char *out = NULL;
        reg_flags rf = { .tls_verify = true };
        const char *ref;
        bool raw = false, config = false;
        const gk_opt opts[] = {
                { "raw", 0, GK_OPT_BOOL, &raw, NULL, "the manifest or index, byte for byte" },
                { "config", 0, GK_OPT_BOOL, &config, NULL, "the image's config blob" },
                REG_FLAG_ROWS(&rf),
                { 0 },
        };
        gk_registry_opts o;
        size_t len = 0;
        int first;

        if (gk_opts_parse(argc, argv, "inspect", opts, &first, err) < 0 ||
            one_remote_arg(argc, argv, first, "inspect", &ref, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (raw && config)
                return gk_error_make(err, 0, "inspect: --raw and --config exclude each other");
        o = reg_opts(&rf, g);
        if (gk_remote_inspect(ref, &o,
                              raw      ? GK_REMOTE_RAW
                              : config ? GK_REMOTE_CONFIG
                                       : GK_REMOTE_SUMMARY,
                              &out, &len, err) < 0)
                return gk_error_code_or(err, -EIO);
        fwrite(out, 1, len, stdout);
        return 0;
}

static int print_tags(const char *name, char **tags, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);
        _cleanup_free_ char *out = NULL;

        if (!g)
                return gk_error_make(err, ENOMEM, "tags");
        yajl_gen_config(g, yajl_gen_indent_string, "    ");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "Repository", name);
        gk_json_str(g, "Tags");
        yajl_gen_array_open(g);
        for (size_t i = 0; tags[i]; i++)
                gk_json_str(g, tags[i]);
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        if (gk_json_gen_finish(g, &out, NULL, err) < 0)
                return gk_error_code_or(err, -ENOMEM);
        printf("%s", out);
        return 0;
}

/* One location of registries.conf's list (mirrors first). */
static int tags_at(const gk_reference *ref, const gk_source *src, const gk_registry_opts *o,
                   void *data, gk_error **err)
{
        _cleanup_(gk_registry_freep) gk_registry *r = NULL;
        _cleanup_(gk_strvfreep) char **tags = NULL;
        _cleanup_free_ char *name = gk_reference_name(ref);
        size_t n = 0;

        if (!name)
                return gk_error_make(err, ENOMEM, "tags");
        if (gk_registry_new(src->domain, src->path, o, &r, err) < 0 ||
            gk_registry_tags(r, *(const int *) data, &tags, &n, err) < 0)
                return gk_error_code_or(err, -EIO);
        return print_tags(name, tags, err);
}

int cmd_tags(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_reference_clear) gk_reference ref = { 0 };
        reg_flags rf = { .tls_verify = true };
        const char *repo;
        int page_size = 0, first;
        const gk_opt opts[] = {
                { "page-size", 0, GK_OPT_INT, &page_size, "N",
                  "tags asked for a page (default: the registry's choice)" },
                REG_FLAG_ROWS(&rf),
                { 0 },
        };
        gk_registry_opts o;

        if (gk_opts_parse(argc, argv, "tags", opts, &first, err) < 0 ||
            one_remote_arg(argc, argv, first, "tags", &repo, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (page_size < 0)
                return gk_error_make(err, 0, "tags: --page-size: must be positive");
        if (gk_reference_parse(repo, &ref, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        /* skopeo refuses a tag or digest here: a repository has the tags. */
        if (strchr(repo + strcspn(repo, "/"), ':') || ref.digest)
                return gk_error_make(err, 0,
                                     "tags: `%s`: name a repository, without a tag or digest",
                                     repo);
        o = reg_opts(&rf, g);
        if (gk_regconf_try(repo, &o, tags_at, &page_size, err) < 0)
                return gk_error_wrap(err, "tags of `%s`", repo);
        return 0;
}
