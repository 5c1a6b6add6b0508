/* Docker image reference parsing (see reference.h for the grammar). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "reference.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static bool is_alnum_lower(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_alnum_lower(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_path_component(const char *s, size_t n)
{
        size_t i = 0;

        if (n == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
                return false;
        while (i < n) {
                if (is_alnum_lower(s[i])) {
                        i++;
                        continue;
                }
                if (s[i] == '.') {
                        i++;
                } else if (s[i] == '_') {
                        i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else {
                        return false;
                }
                if (i >= n || !is_alnum_lower(s[i]))
                        return false;
        }
        return true;
}

/* One DNS label: [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool valid_label(const char *s, size_t n)
{
        if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool valid_port(const char *s, size_t n)
{
        unsigned long v = 0;

        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return false;
                v = v * 10 + (unsigned long) (s[i] - '0');
        }
        return v >= 1 && v <= 65535;
}

/* host[:port] where host is dot-separated labels or a bracketed IPv6. */
static bool valid_domain(const char *s, size_t n)
{
        const char *end = s + n, *port = NULL, *p;

        if (n && s[0] == '[') {
                const char *close = memchr(s, ']', n);

                if (!close || close == s + 1)
                        return false;
                for (p = s + 1; p < close; p++)
                        if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.')
                                return false;
                if (close + 1 == end)
                        return true;
                return close[1] == ':' && valid_port(close + 2, (size_t) (end - close - 2));
        }
        port = memchr(s, ':', n);
        if (port) {
                if (!valid_port(port + 1, (size_t) (end - port - 1)))
                        return false;
                end = port;
        }
        for (p = s; p <= end;) {
                const char *dot = memchr(p, '.', (size_t) (end - p));
                const char *stop = dot ? dot : end;

                if (!valid_label(p, (size_t) (stop - p)))
                        return false;
                if (!dot)
                        break;
                p = dot + 1;
        }
        return true;
}

static bool valid_tag(const char *t)
{
        size_t n = strlen(t);

        if (n == 0 || n > TAG_MAX_LEN || !(is_alnum(t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!is_alnum(t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
                        return false;
        return true;
}

/* Docker's rule: the first component is a registry when it has a '.' or a
 * ':', is "localhost", or has upper-case letters (never valid in a path). */
static bool looks_like_domain(const char *s, size_t n)
{
        if (memchr(s, '.', n) || memchr(s, ':', n) || (n == 9 && !strncmp(s, "localhost", 9)))
                return true;
        for (size_t i = 0; i < n; i++)
                if (isupper((unsigned char) s[i]))
                        return true;
        return false;
}

/* Splits "name[:tag]" at the tag's colon: the last ':' after the last '/'. */
static char *split_tag(char *name)
{
        char *slash = strrchr(name, '/');
        char *colon = strrchr(slash ? slash : name, ':');

        if (!colon)
                return NULL;
        *colon = '\0';
        return colon + 1;
}

static int parse_path(const char *ref, const char *path, gk_error **err)
{
        const char *p = path;

        if (!*p)
                return gk_error_make(err, 0, "invalid reference `%s`: missing repository name",
                                     ref);
        for (;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t) (slash - p) : strlen(p);

                if (!valid_path_component(p, n)) {
                        for (size_t i = 0; i < n; i++)
                                if (isupper((unsigned char) p[i]))
                                        return gk_error_make(err, 0,
                                                             "invalid reference `%s`: "
                                                             "repository name must be lowercase",
                                                             ref);
                        return gk_error_make(err, 0,
                                             "invalid reference `%s`: `%.*s` is not a "
                                             "valid repository name component",
                                             ref, (int) n, p);
                }
                if (!slash)
                        return 0;
                p = slash + 1;
        }
}

static int split_domain(const char *ref, char *name, gk_reference *out, gk_error **err)
{
        char *slash = strchr(name, '/');
        const char *path = name;

        if (slash && looks_like_domain(name, (size_t) (slash - name))) {
                if (!valid_domain(name, (size_t) (slash - name)))
                        return gk_error_make(err, 0,
                                             "invalid reference `%s`: `%.*s` is not a "
                                             "valid registry host",
                                             ref, (int) (slash - name), name);
                out->domain = strndup(name, (size_t) (slash - name));
                path = slash + 1;
        } else {
                out->domain = strdup(GK_DOCKER_DOMAIN);
        }
        if (!out->domain)
                return gk_error_make(err, ENOMEM, "reference");
        if (!strcmp(out->domain, "index.docker.io")) {
                free(out->domain);
                if (!(out->domain = strdup(GK_DOCKER_DOMAIN)))
                        return gk_error_make(err, ENOMEM, "reference");
        }
        if (parse_path(ref, path, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        if (!strcmp(out->domain, GK_DOCKER_DOMAIN) && !strchr(path, '/'))
                return asprintf(&out->path, "library/%s", path) < 0
                               ? gk_error_make(err, ENOMEM, "reference")
                               : 0;
        out->path = strdup(path);
        return out->path ? 0 : gk_error_make(err, ENOMEM, "reference");
}

static int parse_digest_part(const char *ref, const char *d, gk_reference *out, gk_error **err)
{
        _cleanup_(gk_error_freep) gk_error *e = NULL;

        if (gk_digest_check(d, "digest", &e) < 0)
                return gk_error_make(err, 0, "invalid reference `%s`: %s", ref, e->msg);
        out->digest = strdup(d);
        return out->digest ? 0 : gk_error_make(err, ENOMEM, "reference");
}

static int parse_into(const char *s, gk_reference *out, gk_error **err)
{
        _cleanup_free_ char *buf = NULL;
        char *at, *tag, *name;

        if (!s || !*s)
                return gk_error_make(err, 0, "invalid reference: empty image name");
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return gk_error_make(err, 0,
                                             "invalid reference `%s`: contains a space "
                                             "or a control character",
                                             s);
        if (!(buf = strdup(s)))
                return gk_error_make(err, ENOMEM, "reference");
        at = strchr(buf, '@');
        if (at) {
                *at = '\0';
                if (parse_digest_part(s, at + 1, out, err) < 0)
                        return gk_error_code_or(err, -EINVAL);
        }
        name = buf;
        tag = split_tag(name);
        if (tag && !valid_tag(tag))
                return gk_error_make(err, 0,
                                     "invalid reference `%s`: `%s` is not a valid tag "
                                     "(letters, digits, '_', '.', '-', at most 128)",
                                     s, tag);
        if (split_domain(s, name, out, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        /* Counted on the normalized name, as distribution does. */
        if (strlen(out->domain) + 1 + strlen(out->path) > NAME_MAX_LEN)
                return gk_error_make(err, 0,
                                     "invalid reference `%.40s...`: repository name "
                                     "is longer than %d characters",
                                     s, NAME_MAX_LEN);
        if (tag || !out->digest)
                out->tag = strdup(tag ? tag : "latest");
        if ((tag || !out->digest) && !out->tag)
                return gk_error_make(err, ENOMEM, "reference");
        return 0;
}

int gk_reference_parse(const char *s, gk_reference *out, gk_error **err)
{
        int r;

        *out = (gk_reference){ 0 };
        r = parse_into(s, out, err);
        if (r < 0)
                gk_reference_clear(out);
        return r;
}

void gk_reference_clear(gk_reference *r)
{
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        *r = (gk_reference){ 0 };
}

char *gk_reference_name(const gk_reference *r)
{
        char *s = NULL;

        return asprintf(&s, "%s/%s", r->domain, r->path) < 0 ? NULL : s;
}

char *gk_reference_string(const gk_reference *r)
{
        char *s = NULL;
        int n;

        if (r->digest)
                n = asprintf(&s, "%s/%s@%s", r->domain, r->path, r->digest);
        else
                n = asprintf(&s, "%s/%s:%s", r->domain, r->path, r->tag ? r->tag : "latest");
        return n < 0 ? NULL : s;
}

char *gk_reference_familiar_name(const gk_reference *r)
{
        if (strcmp(r->domain, GK_DOCKER_DOMAIN))
                return gk_reference_name(r);
        if (!strncmp(r->path, "library/", 8) && !strchr(r->path + 8, '/'))
                return strdup(r->path + 8);
        return strdup(r->path);
}

const char *gk_reference_api_host(const gk_reference *r)
{
        return strcmp(r->domain, GK_DOCKER_DOMAIN) ? r->domain : GK_DOCKER_REGISTRY;
}

bool gk_host_is_loopback(const char *domain)
{
        size_t n;
        const char *colon;

        if (!domain)
                return false;
        if (!strncmp(domain, "[::1]", 5))
                return domain[5] == '\0' || domain[5] == ':';
        colon = strchr(domain, ':');
        n = colon ? (size_t) (colon - domain) : strlen(domain);
        if (n == 9 && !strncmp(domain, "localhost", 9))
                return true;
        if (n > 4 && !strncmp(domain, "127.", 4)) {
                int dots = 0;

                for (size_t i = 4; i < n; i++) {
                        if (domain[i] == '.')
                                dots++;
                        else if (!isdigit((unsigned char) domain[i]))
                                return false;
                }
                return dots == 2;
        }
        return false;
}
