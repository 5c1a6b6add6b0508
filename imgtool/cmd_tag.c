/* gkimg tag SRC NEW...      more names for an image (podman tag)
 * gkimg untag IMAGE [NAME...] names taken off an image (podman untag):
 * every name without NAME; an image left without names is deleted by the
 * next gc, as gkimg keeps no unnamed images. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "gk/cleanup.h"
#include "gk/opts.h"
#include "store.h"

int cmd_tag(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        const gk_opt opts[] = { { 0 } };
        int first;

        if (gk_opts_parse(argc, argv, "tag", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first + 2 > argc)
                return gk_error_make(err, 0, "tag: usage: gkimg tag SRC NEW...");
        if (gk_store_open(g->root, &s, err) < 0)
                return gk_error_code_or(err, -EIO);
        for (int i = first + 1; i < argc; i++)
                if (gk_store_add_name(s, argv[first], argv[i], err) < 0)
                        return gk_error_wrap(err, "tag");
        return 0;
}

/* Every name of the image ID. */
static int untag_all(gk_store *s, const char *id, gk_error **err)
{
        _cleanup_strv_ char **names = NULL;
        _cleanup_free_ char *deleted = NULL;

        return gk_store_untag(s, id, true, &names, &deleted, err);
}

/* NAME, which must be one of the image ID's names. */
static int untag_one(gk_store *s, const char *id, const char *name, gk_error **err)
{
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        _cleanup_strv_ char **names = NULL;
        _cleanup_free_ char *deleted = NULL;
        gk_error *e = NULL;

        if (gk_store_resolve(s, name, &img, &e) < 0 || !img->name ||
            strcmp(img->config_digest, id)) {
                gk_error_free(e);
                return gk_error_plain(err, ENOENT, "`%s` is not a name of image %.12s", name,
                                      id + strlen("sha256:"));
        }
        return gk_store_untag(s, img->name, false, &names, &deleted, err);
}

int cmd_untag(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        _cleanup_(gk_store_freep) gk_store *s = NULL;
        _cleanup_(gk_store_image_freep) gk_store_image *img = NULL;
        const gk_opt opts[] = { { 0 } };
        int first;

        if (gk_opts_parse(argc, argv, "untag", opts, &first, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (first >= argc)
                return gk_error_make(err, 0, "untag: usage: gkimg untag IMAGE [NAME...]");
        if (gk_store_open(g->root, &s, err) < 0 || gk_store_resolve(s, argv[first], &img, err) < 0)
                return gk_error_wrap(err, "untag");
        if (first + 1 == argc)
                return untag_all(s, img->config_digest, err) < 0 ? gk_error_wrap(err, "untag") : 0;
        for (int i = first + 1; i < argc; i++)
                if (untag_one(s, img->config_digest, argv[i], err) < 0)
                        return gk_error_wrap(err, "untag");
        return 0;
}
