/* `gkimg images --format TEMPLATE`: a small subset of the Go templates
 * docker's --format takes, enough for the scripts people write:
 *   {{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} {{.Size}} {{.CreatedAt}}
 *   {{.CreatedSince}}
 * (spaces inside the braces allowed), "\t" and "\n" written as two
 * characters turn into a tab and a newline, and each image's line ends with
 * a newline.  Anything else between braces is an error, found before any
 * line is printed. */
#ifndef GK_IMGTOOL_IMAGES_FORMAT_H
#define GK_IMGTOOL_IMAGES_FORMAT_H

#include <stdio.h>

#include "gk/error.h"

/* One line of `gkimg images`, as printed. */
typedef struct gk_images_row {
        const char *repository, *tag;
        const char *id;            /* 12 hex digits, as docker shows it */
        const char *digest;        /* "sha256:…" or "<none>" */
        const char *size;          /* "7.8MB" */
        const char *created_at;    /* "2026-11-02 10:11:12 +0000 UTC" */
        const char *created_since; /* "3 weeks ago" */
} gk_images_row;

/* Fails when TMPL names a field this subset does not have. */
int gk_images_format_check(const char *tmpl, gk_error **err);
/* Writes ROW to F as TMPL says (checked first), with a newline. */
void gk_images_format_row(FILE *f, const char *tmpl, const gk_images_row *row);

#endif
