/* Parsing of copy's SRC and DEST (see transport.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "reference.h"
#include "transport.h"

static const struct {
        const char *prefix;
        gk_transport_kind kind;
} prefixes[] = {
        { "docker://", GK_TRANSPORT_DOCKER },
        { "oci:", GK_TRANSPORT_OCI },
        { "oci-archive:", GK_TRANSPORT_OCI_ARCHIVE },
        { "docker-archive:", GK_TRANSPORT_DOCKER_ARCHIVE },
        { "gk:", GK_TRANSPORT_STORE },
};

#define KNOWN "docker://, oci:, oci-archive:, docker-archive: or gk:"

void gk_transport_clear(gk_transport *t)
{
        free(t->path);
        free(t->ref);
        *t = (gk_transport){ 0 };
}

const char *gk_transport_name(gk_transport_kind kind)
{
        switch (kind) {
        case GK_TRANSPORT_DOCKER:
                return "docker";
        case GK_TRANSPORT_OCI:
                return "oci";
        case GK_TRANSPORT_OCI_ARCHIVE:
                return "oci-archive";
        case GK_TRANSPORT_DOCKER_ARCHIVE:
                return "docker-archive";
        case GK_TRANSPORT_STORE:
                return "gk";
        }
        return "?";
}

/* An OCI ref.name, as the image-spec's annotation grammar allows:
 * alphanumeric components joined by one of "-._:@/+" (skopeo's check). */
static bool oci_tag_ok(const char *t)
{
        bool prev_sep = true;

        for (; *t; t++) {
                bool alnum = (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
                             (*t >= '0' && *t <= '9');

                if (!alnum && (prev_sep || !strchr("-._:@/+", *t)))
                        return false;
                prev_sep = !alnum;
        }
        return !prev_sep;
}

static int check_docker(const char *arg, const char *rest, gk_error **err)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };

        if (gk_reference_parse(rest, &r, err) < 0)
                return gk_error_wrap(err, "`%s`", arg);
        return 0;
}

/* docker-archive's ":@N": N digits, as skopeo (strconv.Atoi) takes them. */
static int parse_index(const char *arg, gk_transport *t, gk_error **err)
{
        const char *n = t->ref + 1;
        char *end = NULL;
        unsigned long v;

        if (*n == '-')
                return gk_error_make(err, 0, "`%s`: invalid source index %s: must not be negative",
                                     arg, t->ref);
        errno = 0;
        v = *n >= '0' && *n <= '9' ? strtoul(n, &end, 10) : 0;
        if (!end || *end || errno || v > INT_MAX)
                return gk_error_make(err, 0, "`%s`: invalid source index %s: must be a number",
                                     arg, t->ref);
        t->has_index = true;
        t->index = v;
        free(TAKE_PTR(t->ref));
        return 0;
}

/* "FILE[:REF]" of the file transports. */
static int split_file(const char *arg, gk_transport *t, const char *rest, gk_error **err)
{
        const char *colon = strchr(rest, ':');

        t->path = colon ? strndup(rest, (size_t) (colon - rest)) : strdup(rest);
        if (!t->path || (colon && !(t->ref = strdup(colon + 1))))
                return gk_error_make(err, ENOMEM, "transport");
        if (!*t->path)
                return gk_error_make(err, 0, "`%s`: no %s named", arg,
                                     t->kind == GK_TRANSPORT_OCI ? "directory" : "file");
        if (t->ref && !*t->ref)
                return gk_error_make(err, 0, "`%s`: empty %s after the ':'", arg,
                                     t->kind == GK_TRANSPORT_DOCKER_ARCHIVE ? "reference" : "tag");
        if (t->ref && t->kind == GK_TRANSPORT_DOCKER_ARCHIVE)
                return t->ref[0] == '@' ? parse_index(arg, t, err)
                                        : check_docker(arg, t->ref, err);
        if (t->ref && !oci_tag_ok(t->ref))
                return gk_error_make(err, 0,
                                     "`%s`: tag `%s`: must be letters and digits joined by "
                                     "one of -._:@/+",
                                     arg, t->ref);
        return 0;
}

static int parse_rest(const char *arg, const char *rest, gk_transport *t, gk_error **err)
{
        switch (t->kind) {
        case GK_TRANSPORT_DOCKER:
                if (check_docker(arg, rest, err) < 0)
                        return gk_error_code_or(err, -EINVAL);
                break;
        case GK_TRANSPORT_STORE:
                if (!*rest)
                        return gk_error_make(err, 0, "`%s`: no image named", arg);
                break;
        default:
                return split_file(arg, t, rest, err);
        }
        t->path = strdup(rest);
        return t->path ? 0 : gk_error_make(err, ENOMEM, "transport");
}

int gk_transport_parse(const char *arg, gk_transport *out, gk_error **err)
{
        gk_transport t = { 0 };
        size_t n;
        int r;

        *out = (gk_transport){ 0 };
        for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
                if (strncmp(arg, prefixes[i].prefix, strlen(prefixes[i].prefix)))
                        continue;
                t.kind = prefixes[i].kind;
                r = parse_rest(arg, arg + strlen(prefixes[i].prefix), &t, err);
                if (r < 0) {
                        gk_transport_clear(&t);
                        return r;
                }
                *out = t;
                return 0;
        }
        if (!strncmp(arg, "docker:", 7))
                return gk_error_make(err, 0, "`%s`: a registry is named docker://REF", arg);
        n = strcspn(arg, ":/");
        if (arg[n] == ':' && n > 0)
                return gk_error_make(err, 0, "`%s`: unknown transport `%.*s` (use " KNOWN ")", arg,
                                     (int) n, arg);
        return gk_error_make(err, 0, "`%s`: no transport (use " KNOWN ")", arg);
}
