/* What a loaded registries.conf says about one reference (regconf.h): its
 * [[registry]] by longest prefix, the ordered locations to pull it from,
 * whether a push may go, and what a short name expands to. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "regconf.h"

void gk_sources_free(gk_source *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].domain);
                free(v[i].path);
                free(v[i].name);
        }
        free(v);
}

/* "domain/path[:tag][@digest]", the string prefixes are matched against. */
static char *ref_string(const gk_reference *ref)
{
        char *s = NULL;

        if (asprintf(&s, "%s/%s%s%s%s%s", ref->domain, ref->path, ref->tag ? ":" : "",
                     ref->tag ? ref->tag : "", ref->digest ? "@" : "",
                     ref->digest ? ref->digest : "") < 0)
                return NULL;
        return s;
}

/* The length of PREFIX's match of REF, or -1: a prefix ends where a
 * component, tag or digest does; *.domain matches any subdomain. */
static long match_prefix(const char *ref, const char *prefix)
{
        size_t n = strlen(prefix);
        const char *at;

        if (!strncmp(prefix, "*.", 2)) {
                at = strstr(ref, prefix + 1);
                if (!at || memchr(ref, '/', (size_t) (at - ref)))
                        return -1;
                n = (size_t) (at - ref) + strlen(prefix + 1);
        } else if (strncmp(ref, prefix, n)) {
                return -1;
        }
        return !ref[n] || strchr(":/@", ref[n]) ? (long) n : -1;
}

static const gk_regconf_registry *find_registry(const gk_regconf *c, const char *refstr,
                                                long *matched)
{
        const gk_regconf_registry *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; c && i < c->n_regs; i++) {
                long m = match_prefix(refstr, c->regs[i].prefix);

                if (m >= 0 && strlen(c->regs[i].prefix) > best_len) {
                        best = &c->regs[i];
                        best_len = strlen(best->prefix);
                        *matched = m;
                }
        }
        return best;
}

static int blocked_error(const gk_regconf_registry *r, gk_error **err)
{
        return gk_error_plain(err, EACCES,
                              "registry `%s` is blocked by the [[registry]] with prefix `%s` "
                              "in %s",
                              r->ep.location && *r->ep.location ? r->ep.location : r->prefix,
                              r->prefix, r->origin);
}

/* Endpoint E's source for REFSTR, whose first MATCHED bytes are the
 * registry's prefix. */
static int add_source(gk_source *s, const gk_regconf_endpoint *e, const char *refstr, long matched,
                      bool mirror, gk_error **err)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        _cleanup_free_ char *rewritten = NULL;

        if (asprintf(&rewritten, "%s%s", *e->location ? e->location : "",
                     *e->location ? refstr + matched : refstr) < 0)
                return gk_error_make(err, ENOMEM, "registries.conf");
        if (gk_reference_parse(rewritten, &r, err) < 0)
                return gk_error_wrap(err, "%s `%s`", mirror ? "mirror" : "location", e->location);
        s->domain = TAKE_PTR(r.domain);
        s->path = TAKE_PTR(r.path);
        s->insecure = e->insecure;
        s->mirror = mirror;
        if (asprintf(&s->name, "%s/%s", s->domain, s->path) < 0)
                return gk_error_make(err, ENOMEM, "registries.conf");
        return 0;
}

static bool mirror_applies(const gk_regconf_registry *r, const gk_regconf_endpoint *m,
                           bool digested)
{
        if (r->mirror_by_digest_only)
                return digested;
        return m->use == GK_MIRROR_ALL || (m->use == GK_MIRROR_DIGEST_ONLY) == digested;
}

int gk_regconf_sources(const gk_regconf *c, const gk_reference *ref, gk_source **out, size_t *n,
                       gk_error **err)
{
        _cleanup_free_ char *refstr = ref_string(ref);
        const gk_regconf_registry *reg;
        gk_regconf_endpoint self = { .location = (char *) "" };
        gk_source *v;
        long matched = 0;

        *out = NULL;
        *n = 0;
        if (!refstr)
                return gk_error_make(err, ENOMEM, "registries.conf");
        reg = find_registry(c, refstr, &matched);
        if (reg && reg->blocked)
                return blocked_error(reg, err);
        if (!(v = calloc(reg ? reg->n_mirrors + 1 : 1, sizeof(*v))))
                return gk_error_make(err, ENOMEM, "registries.conf");
        for (size_t i = 0; reg && i < reg->n_mirrors; i++) {
                if (!mirror_applies(reg, &reg->mirrors[i], ref->digest != NULL))
                        continue;
                if (add_source(&v[(*n)++], &reg->mirrors[i], refstr, matched, true, err) < 0)
                        goto fail;
        }
        if (add_source(&v[(*n)++], reg ? &reg->ep : &self, refstr, matched, false, err) < 0)
                goto fail;
        *out = v;
        return 0;
fail:
        gk_sources_free(v, *n);
        *n = 0;
        return gk_error_code_or(err, -EINVAL);
}

int gk_regconf_push_check(const gk_regconf *c, const gk_reference *ref, bool *insecure,
                          gk_error **err)
{
        _cleanup_free_ char *refstr = ref_string(ref);
        const gk_regconf_registry *reg;
        long matched = 0;

        if (!refstr)
                return gk_error_make(err, ENOMEM, "registries.conf");
        reg = find_registry(c, refstr, &matched);
        if (reg && reg->blocked)
                return blocked_error(reg, err);
        *insecure = reg && reg->ep.insecure;
        return 0;
}

bool gk_regconf_is_short_name(const char *s)
{
        size_t n = strcspn(s, "/");

        if (!s[n])
                return true;
        return !memchr(s, '.', n) && !memchr(s, ':', n) &&
               !(n == 9 && !strncmp(s, "localhost", 9));
}

static int one(char ***out, const char *a, const char *b, const char *c, gk_error **err)
{
        char **v = calloc(2, sizeof(char *));

        if (!v || asprintf(&v[0], "%s%s%s", a, b, c) < 0) {
                free(v);
                return gk_error_make(err, ENOMEM, "short name");
        }
        *out = v;
        return 0;
}

int gk_regconf_resolve_short(const gk_regconf *c, const char *s, char ***out, gk_error **err)
{
        size_t n = strcspn(s, ":@"), count;
        _cleanup_free_ char *name = strndup(s, n);
        char **v;

        *out = NULL;
        if (!name)
                return gk_error_make(err, ENOMEM, "short name");
        for (size_t i = 0; c && i < c->n_aliases; i++)
                if (!strcmp(c->aliases[i].name, name) && c->aliases[i].value)
                        return one(out, c->aliases[i].value, s + n, "", err);
        /* Nothing configured: Docker's default, as gkimg has always done. */
        if (!c || !c->search)
                return one(out, s, "", "", err);
        count = gk_strv_len(c->search);
        if (count == 0)
                return gk_error_make(err, 0,
                                     "short name `%s` did not resolve to an alias and no "
                                     "unqualified-search registries are defined in %s",
                                     s, c->search_origin);
        /* A prompt would be podman's answer on a terminal; gkimg asks
         * for the name instead, terminal or not. */
        if (count > 1 && c->mode == GK_SHORT_NAME_ENFORCING)
                return gk_error_make(err, 0,
                                     "short name `%s`: short-name resolution enforced but "
                                     "cannot prompt without a TTY: it could come from any of "
                                     "%zu unqualified-search registries (%s): name the "
                                     "registry or add an [aliases] entry",
                                     s, count, c->search_origin);
        if (!(v = calloc(count + 1, sizeof(char *))))
                return gk_error_make(err, ENOMEM, "short name");
        for (size_t i = 0; i < count; i++)
                if (asprintf(&v[i], "%s/%s", c->search[i], s) < 0) {
                        v[i] = NULL;
                        gk_strvfree(v);
                        return gk_error_make(err, ENOMEM, "short name");
                }
        *out = v;
        return 0;
}
