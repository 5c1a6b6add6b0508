/* gkimg's command table contract: one function per verb, one file each
 * (cmd_*.c).  argv[0] is the verb; a command returns its exit status, or a
 * negative errno with *err filled (main prints it and exits 1). */
#ifndef GK_IMGTOOL_COMMANDS_H
#define GK_IMGTOOL_COMMANDS_H

#include <stdbool.h>

#include "gk/error.h"
#include "signature.h"

typedef struct gk_img_global {
        const char *root; /* --root, default /var/lib/gk */
        bool debug;
        gk_sig_ctx sig; /* --policy, --registries.d */
} gk_img_global;

typedef int (*gk_img_command_fn)(int argc, char **argv, const gk_img_global *g, gk_error **err);

/* issue: pull into the store */
int cmd_pull(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_images(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_inspect(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_rmi(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_gc(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_check(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_login(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_logout(int argc, char **argv, const gk_img_global *g, gk_error **err);
/* issue: unpack and bundles */
int cmd_bundle(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_unbundle(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_import(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_export(int argc, char **argv, const gk_img_global *g, gk_error **err);
/* issue 19: the registry without pulling */
int cmd_inspect_remote(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_tags(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_push(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_tag(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_untag(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_history(int argc, char **argv, const gk_img_global *g, gk_error **err);
int cmd_copy(int argc, char **argv, const gk_img_global *g, gk_error **err);

#endif
