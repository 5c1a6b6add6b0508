/* fuzz-sources: imgtool/toml.c imgtool/regconf.c imgtool/regconf_resolve.c */
/* fuzz-sources: imgtool/reference.c imgtool/digest.c imgtool/homedir.c */
/* fuzz-libs: yajl libcrypto */
/* registries.conf files (toml.c, regconf.c): whatever the text, parsing
 * either fails with a message naming the file, or yields a configuration
 * every entry of which is complete (a prefix, a location unless the prefix
 * is a *.domain wildcard, a location for each mirror), and resolving a few
 * references through it either fails with a message or gives sources whose
 * names parse again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "regconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void resolve(const gk_regconf *c, const char *s)
{
        gk_reference ref = { 0 };
        gk_source *v = NULL;
        char **names = NULL;
        gk_error *err = NULL;
        size_t n = 0;

        if (gk_regconf_is_short_name(s)) {
                if (gk_regconf_resolve_short(c, s, &names, &err) < 0) {
                        if (!err || !err->msg)
                                abort();
                        gk_error_free(err);
                        return;
                }
                if (!names || !names[0])
                        abort();
                gk_strvfree(names);
        }
        if (gk_reference_parse(s, &ref, NULL) < 0)
                abort();
        if (gk_regconf_sources(c, &ref, &v, &n, &err) < 0) {
                if (!err || !err->msg)
                        abort();
                gk_error_free(err);
        } else {
                if (n == 0 || v[n - 1].mirror)
                        abort();
                for (size_t i = 0; i < n; i++) {
                        gk_reference again = { 0 };

                        if (!v[i].name || gk_reference_parse(v[i].name, &again, NULL) < 0)
                                abort();
                        gk_reference_clear(&again);
                }
                gk_sources_free(v, n);
        }
        gk_reference_clear(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        gk_regconf *c = NULL;
        gk_error *err = NULL;

        if (gk_regconf_add_text(&c, (const char *) data, size, "fuzz.conf", &err) < 0) {
                if (!err || !err->msg || !strstr(err->msg, "fuzz.conf"))
                        abort();
                gk_error_free(err);
                gk_regconf_free(c);
                return 0;
        }
        for (size_t i = 0; i < c->n_regs; i++) {
                const gk_regconf_registry *r = &c->regs[i];

                if (!r->prefix || !*r->prefix || !r->ep.location || !r->origin ||
                    (!*r->ep.location && strncmp(r->prefix, "*.", 2)))
                        abort();
                for (size_t j = 0; j < r->n_mirrors; j++)
                        if (!r->mirrors[j].location || !*r->mirrors[j].location)
                                abort();
        }
        resolve(c, "alpine:3");
        resolve(c, "example.com/foo/image:latest");
        resolve(c, "a.example.com/x@sha256:"
                   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        gk_regconf_free(c);
        return 0;
}
