/* gkimg images --format TEMPLATE (see images_format.h). */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "gk/cleanup.h"
#include "images_format.h"

static const struct {
        const char *name;
        size_t offset;
} fields[] = {
        { "Repository", offsetof(gk_images_row, repository) },
        { "Tag", offsetof(gk_images_row, tag) },
        { "ID", offsetof(gk_images_row, id) },
        { "Digest", offsetof(gk_images_row, digest) },
        { "Size", offsetof(gk_images_row, size) },
        { "CreatedAt", offsetof(gk_images_row, created_at) },
        { "CreatedSince", offsetof(gk_images_row, created_since) },
};

/* The field an action "{{ .Name }}" starting at S names; *end gets the
 * character after its closing braces.  -1 when it is none of ours. */
static ssize_t action_field(const char *s, const char **end)
{
        const char *close = strstr(s + 2, "}}"), *p = s + 2, *q;

        if (!close)
                return -1;
        *end = close + 2;
        while (p < close && isspace((unsigned char) *p))
                p++;
        q = close;
        while (q > p && isspace((unsigned char) q[-1]))
                q--;
        if (p >= q || *p != '.')
                return -1;
        p++;
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
                if (strlen(fields[i].name) == (size_t) (q - p) &&
                    !strncmp(fields[i].name, p, (size_t) (q - p)))
                        return (ssize_t) i;
        return -1;
}

int gk_images_format_check(const char *tmpl, gk_error **err)
{
        for (const char *s = strstr(tmpl, "{{"); s; s = strstr(s, "{{")) {
                const char *end = NULL;

                if (action_field(s, &end) < 0) {
                        if (!end)
                                return gk_error_make(err, 0,
                                                     "images: --format: `{{` without "
                                                     "`}}`");
                        return gk_error_make(err, 0,
                                             "images: --format: `%.*s` is not one of "
                                             "{{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} "
                                             "{{.Size}} {{.CreatedAt}} {{.CreatedSince}}",
                                             (int) (end - s), s);
                }
                s = end;
        }
        return 0;
}

void gk_images_format_row(FILE *f, const char *tmpl, const gk_images_row *row)
{
        for (const char *s = tmpl; *s;) {
                const char *end;
                ssize_t i;

                if (s[0] == '\\' && (s[1] == 't' || s[1] == 'n')) {
                        fputc(s[1] == 't' ? '\t' : '\n', f);
                        s += 2;
                } else if (s[0] == '{' && s[1] == '{' && (i = action_field(s, &end)) >= 0) {
                        fputs(*(const char *const *) ((const char *) row + fields[i].offset), f);
                        s = end;
                } else {
                        fputc(*s++, f);
                }
        }
        fputc('\n', f);
}
