/* Platforms ("os/arch[/variant]"): parsing, the host's, and picking an
 * index entry for one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "gk/cleanup.h"
#include "manifest.h"

static bool valid_part(const char *s, size_t n)
{
        if (n == 0 || n > 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
                      s[i] == '_' || s[i] == '-' || s[i] == '.'))
                        return false;
        return true;
}

static int set_platform(gk_platform *p, const char *os, const char *arch, const char *variant)
{
        p->os = strdup(os);
        p->arch = strdup(arch);
        p->variant = variant ? strdup(variant) : NULL;
        if (!p->os || !p->arch || (variant && !p->variant)) {
                gk_platform_clear(p);
                return -ENOMEM;
        }
        return 0;
}

int gk_platform_parse(const char *s, gk_platform *out, gk_error **err)
{
        _cleanup_free_ char *buf = s ? strdup(s) : NULL;
        char *os, *arch, *variant, *extra;

        *out = (gk_platform){ 0 };
        if (!buf)
                return gk_error_make(err, s ? ENOMEM : 0, "--platform: missing value");
        os = buf;
        arch = strchr(os, '/');
        if (arch)
                *arch++ = '\0';
        variant = arch ? strchr(arch, '/') : NULL;
        if (variant)
                *variant++ = '\0';
        extra = variant ? strchr(variant, '/') : NULL;
        if (!arch || extra || !valid_part(os, strlen(os)) || !valid_part(arch, strlen(arch)) ||
            (variant && !valid_part(variant, strlen(variant))))
                return gk_error_make(err, 0,
                                     "--platform: `%s` is not OS/ARCH[/VARIANT] "
                                     "(e.g. linux/arm64/v8)",
                                     s);
        if (set_platform(out, os, arch, variant) < 0)
                return gk_error_make(err, ENOMEM, "platform");
        return 0;
}

int gk_platform_host(gk_platform *out, gk_error **err)
{
        static const struct {
                const char *machine, *arch, *variant;
        } map[] = {
                { "x86_64", "amd64", NULL },  { "aarch64", "arm64", "v8" },
                { "armv7l", "arm", "v7" },    { "armv6l", "arm", "v6" },
                { "armv5tel", "arm", "v5" },  { "i686", "386", NULL },
                { "i386", "386", NULL },      { "ppc64le", "ppc64le", NULL },
                { "s390x", "s390x", NULL },   { "riscv64", "riscv64", NULL },
                { "mips64", "mips64", NULL }, { "loongarch64", "loong64", NULL },
        };
        struct utsname u;

        *out = (gk_platform){ 0 };
        if (uname(&u) < 0)
                return gk_error_errno(err, "uname");
        for (size_t i = 0; i < ARRAY_SIZE(map); i++)
                if (!strcmp(u.machine, map[i].machine))
                        return set_platform(out, "linux", map[i].arch, map[i].variant) < 0
                                       ? gk_error_make(err, ENOMEM, "platform")
                                       : 0;
        return set_platform(out, "linux", u.machine, NULL) < 0
                       ? gk_error_make(err, ENOMEM, "platform")
                       : 0;
}

char *gk_platform_string(const gk_platform *p)
{
        char *s = NULL;
        int n;

        if (p->variant)
                n = asprintf(&s, "%s/%s/%s", p->os, p->arch, p->variant);
        else
                n = asprintf(&s, "%s/%s", p->os, p->arch);
        return n < 0 ? NULL : s;
}

/* arm64's only variant is v8, so an entry without one is the same. */
static bool variant_matches(const gk_platform *want, const gk_platform *have)
{
        const char *w = want->variant, *h = have->variant;

        if (!w)
                return true;
        if (!strcmp(want->arch, "arm64")) {
                w = strcmp(w, "v8") ? w : NULL;
                h = h && strcmp(h, "v8") ? h : NULL;
                return (!w && !h) || (w && h && !strcmp(w, h));
        }
        return h && !strcmp(w, h);
}

static int no_match(const gk_manifest *m, const gk_platform *want, gk_error **err)
{
        _cleanup_free_ char *w = gk_platform_string(want);
        char list[1024] = "";
        size_t used = 0;

        for (size_t i = 0; i < m->n_manifests; i++) {
                const gk_descriptor *d = &m->manifests[i];
                _cleanup_free_ char *p = NULL;
                int n;

                if (d->attestation || !d->has_platform)
                        continue;
                p = gk_platform_string(&d->platform);
                n = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
                             p ? p : "?");
                if (n < 0 || (size_t) n >= sizeof(list) - used)
                        break;
                used += (size_t) n;
        }
        return gk_error_plain(err, ENOENT, "no image for platform %s in the index (it has: %s)",
                              w ? w : "?", used ? list : "no platforms");
}

int gk_manifest_select(const gk_manifest *m, const gk_platform *want, size_t *idx, gk_error **err)
{
        ssize_t loose = -1;

        for (size_t i = 0; i < m->n_manifests; i++) {
                const gk_descriptor *d = &m->manifests[i];

                if (d->attestation || !d->has_platform || strcmp(d->platform.os, want->os) ||
                    strcmp(d->platform.arch, want->arch))
                        continue;
                if (variant_matches(want, &d->platform)) {
                        *idx = i;
                        return 0;
                }
                /* A host arm/v7 can run v6 and v5 too, but Docker does not pick
                 * those silently either; remember only variant-less entries. */
                if (!d->platform.variant && loose < 0)
                        loose = (ssize_t) i;
        }
        if (loose >= 0) {
                *idx = (size_t) loose;
                return 0;
        }
        return no_match(m, want, err);
}
