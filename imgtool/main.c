/* gkimg: the command table and global flags. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "regconf.h"

static const struct {
        const char *name;
        gk_img_command_fn fn;
        const char *args; /* after "gkimg VERB [OPTIONS]" */
        const char *help;
} commands[] = {
        { "pull", cmd_pull, "REF", "pull an image from a registry into the store" },
        { "images", cmd_images, "", "list the images in the store" },
        { "inspect", cmd_inspect, "REF... | docker://REF",
          "show an image's manifest and config (docker://: at its registry)" },
        { "rmi", cmd_rmi, "REF|ID...", "remove image names" },
        { "gc", cmd_gc, "", "delete what no image references" },
        { "check", cmd_check, "", "verify every blob and image; list leftovers" },
        { "login", cmd_login, "[REGISTRY]", "save credentials for a registry" },
        { "logout", cmd_logout, "[REGISTRY]", "remove saved credentials for a registry" },
        { "bundle", cmd_bundle, "REF DIR [-- CMD [ARG...]]",
          "write an OCI bundle of an image for gkrun" },
        { "unbundle", cmd_unbundle, "DIR", "remove a bundle and whatever it holds" },
        { "import", cmd_import, "FILE[:TAG] [REF]", "import a docker-archive or oci-archive" },
        { "export", cmd_export, "REF FILE", "export an image as an oci-archive" },
        { "push", cmd_push, "REF|ID DEST", "push an image from the store to a registry" },
        { "copy", cmd_copy, "SRC DEST",
          "copy an image between registries (docker://), oci:, oci-archive:, "
          "docker-archive: and the store (gk:)" },
        { "tags", cmd_tags, "docker://REPO", "list the tags of a repository at its registry" },
        { "tag", cmd_tag, "SRC NEW...", "add names to an image in the store" },
        { "untag", cmd_untag, "IMAGE [NAME...]", "remove names (all without NAME) from an image" },
        { "history", cmd_history, "REF", "show the history of an image in the store" },
};

/* A warning that does not stop the command (a mirror skipped). */
static void print_warning(const char *msg)
{
        fprintf(stderr, "gkimg: warning: %s\n", msg);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: gkimg [--root DIR] [--debug] [--registries-conf FILE] [--policy FILE]\n"
                   "             [--registries.d DIR] COMMAND [ARG...]\n\ncommands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\n`gkimg COMMAND --help` shows a command's flags.\n");
}

/* `gkimg VERB --help`: the parser's own flag table, listed in FLAGS. */
static void command_help(size_t i, const char *flags)
{
        printf("usage: gkimg %s [OPTIONS]%s%s\n\n%s\n\nflags:\n%s", commands[i].name,
               *commands[i].args ? " " : "", commands[i].args, commands[i].help, flags);
}

int main(int argc, char **argv)
{
        _cleanup_(gk_error_freep) gk_error *err = NULL;
        gk_img_global g = { .root = "/var/lib/gk" };
        bool help = false, version = false;
        const char *regconf = NULL;
        const gk_opt opts[] = {
                { "root", 0, GK_OPT_STRING, &g.root },
                { "registries-conf", 0, GK_OPT_STRING, &regconf },
                { "debug", 0, GK_OPT_BOOL, &g.debug },
                { "policy", 0, GK_OPT_STRING, &g.sig.policy_path },
                { "registries.d", 0, GK_OPT_STRING, &g.sig.registries_d },
                { "help", 'h', GK_OPT_BOOL, &help },
                { "version", 'v', GK_OPT_BOOL, &version },
                { 0 },
        };
        int first, r;

        if (gk_opts_parse(argc, argv, NULL, opts, &first, &err) < 0) {
                fprintf(stderr, "gkimg: %s\n", err->msg);
                return 2;
        }
        /* As podman: the option and CONTAINERS_REGISTRIES_CONF are one
         * setting, so every command (and what it runs) sees the same file. */
        if (regconf && setenv("CONTAINERS_REGISTRIES_CONF", regconf, 1) < 0) {
                fprintf(stderr, "gkimg: --registries-conf: out of memory\n");
                return 1;
        }
        gk_regconf_set_warn(print_warning);
        if (version) {
                printf("gkimg version " GK_VERSION "\n");
                return 0;
        }
        /* Every command's --help, from the table its parser uses. */
        gk_opts_set_help(true);
        if (help || first >= argc) {
                usage(help ? stdout : stderr);
                return help ? 0 : 2;
        }
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                if (strcmp(argv[first], commands[i].name))
                        continue;
                r = commands[i].fn(argc - first, argv + first, &g, &err);
                if (r < 0 && err && err->errnum == GK_OPTS_HELP) {
                        command_help(i, err->msg);
                        return 0;
                }
                if (r < 0) {
                        fprintf(stderr, "gkimg: %s\n", err ? err->msg : "failed");
                        return 1;
                }
                return r;
        }
        fprintf(stderr, "gkimg: unknown command \"%s\"\n", argv[first]);
        usage(stderr);
        return 2;
}
