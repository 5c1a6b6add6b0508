/* fuzz-sources: imgtool/auth.c */
/* fuzz-libs: yajl libcrypto */
/* WWW-Authenticate headers and token answers come from the network: the
 * parsers must never crash, and a Bearer challenge they accept always has
 * an http(s) realm.  Base64 round-trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = strndup((const char *) data, size), *tok = NULL, *b64, *back = NULL;
        gk_challenge c = { 0 };
        gk_error *err = NULL;
        int64_t exp = 0;
        size_t n = 0;

        if (!s)
                return 0;
        if (gk_auth_parse_challenge(s, &c, &err) == 0) {
                if (c.scheme == GK_AUTH_NONE)
                        abort();
                if (c.scheme == GK_AUTH_BEARER && (!c.realm || (strncmp(c.realm, "http://", 7) &&
                                                                strncmp(c.realm, "https://", 8))))
                        abort();
                gk_challenge_clear(&c);
        } else {
                if (!err || c.realm)
                        abort();
                gk_error_free(err);
                err = NULL;
        }
        if (gk_auth_parse_token((const char *) data, size, 1000, &tok, &exp, &err) == 0) {
                if (!tok || exp < 1060)
                        abort();
                free(tok);
        } else {
                gk_error_free(err);
        }
        b64 = gk_base64_encode(data, size);
        if (!b64 || gk_base64_decode(b64, &back, &n) < 0 || n != size || memcmp(back, data, size))
                abort();
        free(b64);
        free(back);
        free(s);
        return 0;
}
