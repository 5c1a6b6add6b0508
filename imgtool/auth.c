/* WWW-Authenticate challenges and token server answers (see auth.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "gk/cleanup.h"
#include "gk/json.h"

#define DEFAULT_TOKEN_LIFETIME 60

void gk_challenge_clear(gk_challenge *c)
{
        free(c->realm);
        free(c->service);
        free(c->scope);
        free(c->error);
        *c = (gk_challenge){ 0 };
}

static bool is_tchar(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
        while (*p == ' ' || *p == '\t')
                p++;
        return p;
}

/* A token or a quoted-string at *p into a new string; NULL on bad syntax. */
static char *parse_value(const char **p)
{
        const char *s = *p;
        char *out, *o;

        if (*s != '"') {
                while (is_tchar(*s) || *s == '/' || *s == ':' || *s == '=')
                        s++;
                if (s == *p)
                        return NULL;
                out = strndup(*p, (size_t) (s - *p));
                *p = s;
                return out;
        }
        out = o = calloc(1, strlen(s) + 1);
        if (!out)
                return NULL;
        for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1])
                        s++;
                *o++ = *s;
        }
        if (*s != '"') {
                free(out);
                return NULL;
        }
        *o = '\0';
        *p = s + 1;
        return out;
}

/* Does a "name=" auth-param start at P (else a new challenge does)? */
static bool at_param(const char *p)
{
        while (is_tchar(*p))
                p++;
        p = skip_ws(p);
        return *p == '=' && p[1] != '=';
}

static void set_param(gk_challenge *c, const char *name, size_t n, char *value)
{
        char **slot = NULL;

        if (n == 5 && !strncasecmp(name, "realm", 5))
                slot = &c->realm;
        else if (n == 7 && !strncasecmp(name, "service", 7))
                slot = &c->service;
        else if (n == 5 && !strncasecmp(name, "scope", 5))
                slot = &c->scope;
        else if (n == 5 && !strncasecmp(name, "error", 5))
                slot = &c->error;
        if (slot && !*slot)
                *slot = value;
        else
                free(value);
}

/* Parses the params of one challenge from *p up to the next challenge. */
static int parse_params(const char **pp, gk_challenge *c)
{
        const char *p = *pp;

        for (;;) {
                const char *name;
                size_t n;
                char *value;

                p = skip_ws(p);
                while (*p == ',' || *p == ' ' || *p == '\t')
                        p++;
                if (!*p || !at_param(p))
                        break;
                name = p;
                while (is_tchar(*p))
                        p++;
                n = (size_t) (p - name);
                p = skip_ws(skip_ws(p) + 1);
                if (!(value = parse_value(&p)))
                        return -EINVAL;
                set_param(c, name, n, value);
        }
        *pp = p;
        return 0;
}

static int parse_all(const char *header, gk_challenge *best)
{
        const char *p = header;

        while (*(p = skip_ws(p))) {
                gk_challenge c = { 0 };
                const char *scheme = p;
                size_t n;

                while (is_tchar(*p))
                        p++;
                n = (size_t) (p - scheme);
                if (n == 0)
                        return -EINVAL;
                p = skip_ws(p);
                /* token68 (Negotiate's blob): not ours, skip it */
                if (*p && *p != ',' && !at_param(p)) {
                        while (*p && *p != ',' && *p != ' ')
                                p++;
                }
                if (n == 6 && !strncasecmp(scheme, "Bearer", 6))
                        c.scheme = GK_AUTH_BEARER;
                else if (n == 5 && !strncasecmp(scheme, "Basic", 5))
                        c.scheme = GK_AUTH_BASIC;
                if (parse_params(&p, &c) < 0) {
                        gk_challenge_clear(&c);
                        return -EINVAL;
                }
                if (c.scheme > best->scheme && (c.scheme == GK_AUTH_BASIC || c.realm)) {
                        gk_challenge_clear(best);
                        *best = c;
                } else {
                        gk_challenge_clear(&c);
                }
                while (*p == ',' || *p == ' ')
                        p++;
        }
        return 0;
}

int gk_auth_parse_challenge(const char *header, gk_challenge *out, gk_error **err)
{
        *out = (gk_challenge){ 0 };
        if (!header || !*header)
                return gk_error_make(err, 0,
                                     "registry answered 401 without a WWW-Authenticate "
                                     "challenge");
        if (parse_all(header, out) < 0 || out->scheme == GK_AUTH_NONE) {
                gk_challenge_clear(out);
                return gk_error_make(err, 0,
                                     "registry's WWW-Authenticate `%.200s` has no Bearer "
                                     "or Basic challenge gkimg understands",
                                     header);
        }
        if (out->scheme == GK_AUTH_BEARER && strncmp(out->realm, "https://", 8) &&
            strncmp(out->realm, "http://", 7)) {
                int r = gk_error_make(err, 0,
                                      "registry's Bearer realm `%.200s` is not an http(s) "
                                      "URL",
                                      out->realm);

                gk_challenge_clear(out);
                return r;
        }
        return 0;
}

int gk_auth_parse_token(const char *json, size_t len, int64_t now, char **token, int64_t *expires,
                        gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        const char *t;
        int64_t lifetime = DEFAULT_TOKEN_LIFETIME;
        yajl_val e;

        if (gk_json_parse(json, len, "token server answer", &v, err) < 0)
                return gk_error_code_or(err, -EINVAL);
        t = gk_json_get_str(v, "token");
        if (!t || !*t)
                t = gk_json_get_str(v, "access_token");
        if (!t || !*t)
                return gk_error_make(err, 0, "token server answer: no `token` or `access_token`");
        e = gk_json_get(v, "expires_in");
        if (e && (!gk_json_int64(e, &lifetime) || lifetime < 0))
                return gk_error_make(err, 0,
                                     "token server answer: expires_in: must be a "
                                     "non-negative integer");
        /* The spec's minimum: shorter lifetimes are treated as 60 s. */
        if (lifetime < DEFAULT_TOKEN_LIFETIME)
                lifetime = DEFAULT_TOKEN_LIFETIME;
        if (!(*token = strdup(t)))
                return gk_error_make(err, ENOMEM, "token");
        *expires = now + lifetime;
        return 0;
}

void gk_credentials_clear(gk_credentials *c)
{
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        if (c->identity_token)
                explicit_bzero(c->identity_token, strlen(c->identity_token));
        free(c->username);
        free(c->password);
        free(c->identity_token);
        *c = (gk_credentials){ 0 };
}

char *gk_base64_encode(const void *data, size_t len)
{
        char *out = malloc(4 * ((len + 2) / 3) + 1);

        if (out)
                EVP_EncodeBlock((unsigned char *) out, data, (int) len);
        return out;
}

int gk_base64_decode(const char *s, char **out, size_t *len)
{
        size_t n = strlen(s), pad = 0;
        int r;

        if (n % 4)
                return -EINVAL;
        *out = malloc(n / 4 * 3 + 1);
        if (!*out)
                return -ENOMEM;
        r = EVP_DecodeBlock((unsigned char *) *out, (const unsigned char *) s, (int) n);
        if (r < 0) {
                free(*out);
                *out = NULL;
                return -EINVAL;
        }
        while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
                pad++;
        *len = (size_t) r - pad;
        (*out)[*len] = '\0';
        return 0;
}
