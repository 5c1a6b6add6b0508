/* The registry client: one repository, its transport (scheme, TLS), its
 * authentication, and the small requests (ping, manifests, tokens). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "dl.h"
#include "gk/cleanup.h"
#include "gk/util.h"
#include "authfiles.h"
#include "manifest.h"
#include "reference.h"
#include "registry_internal.h"

#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

void gk_response_clear(gk_response *resp)
{
        free(resp->body);
        free(resp->content_type);
        free(resp->digest);
        *resp = (gk_response){ 0 };
}

static int append_file(char **buf, size_t *len, const char *path)
{
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        char *nb;

        if (gk_read_file(path, &data, &n, NULL) < 0)
                return 0;
        nb = realloc(*buf, *len + n + 2);
        if (!nb)
                return -ENOMEM;
        memcpy(nb + *len, data, n);
        *len += n;
        nb[(*len)++] = '\n';
        nb[*len] = '\0';
        *buf = nb;
        return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a > b && !strcmp(s + a - b, suffix);
}

/* docker's certs.d layout: CAs in *.crt, a client pair NAME.cert +
 * NAME.key.  The CAs are used on top of the system's. */
static int load_cert_dir(gk_registry *r, const char *dir, bool explicit_dir, gk_error **err)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        size_t len = 0, n_ca = 0;
        struct dirent *de;

        if (!d)
                return explicit_dir ? gk_error_errno(err, "--cert-dir `%s`", dir) : 0;
        r->have_cert_dir = true;
        if (append_file(&r->ca_data, &len, SYSTEM_CA) < 0)
                return gk_error_make(err, ENOMEM, "certificates");
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;

                if (de->d_name[0] == '.' || asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        continue;
                if (has_suffix(de->d_name, ".crt")) {
                        if (append_file(&r->ca_data, &len, path) < 0)
                                return gk_error_make(err, ENOMEM, "certificates");
                        n_ca++;
                } else if (has_suffix(de->d_name, ".cert")) {
                        free(r->client_cert);
                        r->client_cert = TAKE_PTR(path);
                } else if (has_suffix(de->d_name, ".key")) {
                        free(r->client_key);
                        r->client_key = TAKE_PTR(path);
                }
        }
        if (!n_ca) {
                free(r->ca_data);
                r->ca_data = NULL;
                return 0;
        }
        r->ca = (struct curl_blob){ .data = r->ca_data, .len = len, .flags = CURL_BLOB_NOCOPY };
        return 0;
}

int gk_registry_new(const char *domain, const char *path, const gk_registry_opts *o,
                    gk_registry **out, gk_error **err)
{
        _cleanup_(gk_registry_freep) gk_registry *r = calloc(1, sizeof(*r));
        _cleanup_free_ char *dir = NULL;
        const char *host = !strcmp(domain, GK_DOCKER_DOMAIN) ? GK_DOCKER_REGISTRY : domain;
        static bool curl_ready;

        if (gk_dl_curl(err) < 0)
                return -ELIBACC;
        if (!curl_ready) {
                curl_global_init(CURL_GLOBAL_DEFAULT);
                curl_ready = true;
        }
        if (!r || !(r->domain = strdup(domain)) || !(r->path = strdup(path)) ||
            !(r->host = strdup(host)) || !(r->share = curl_share_init()))
                return gk_error_make(err, ENOMEM, "registry");
        r->o = *o;
        if (r->o.parallel <= 0)
                r->o.parallel = 4;
        r->allow_http = o->insecure || gk_host_is_loopback(domain);
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(r->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        if (o->cert_dir)
                dir = strdup(o->cert_dir);
        else if (asprintf(&dir, "/etc/gk/certs.d/%s", domain) < 0)
                dir = NULL;
        if (!dir)
                return gk_error_make(err, ENOMEM, "registry");
        if (load_cert_dir(r, dir, o->cert_dir != NULL, err) < 0)
                return gk_error_code_or(err, -EIO);
        /* Loopback registries are trusted like docker's default insecure
         * ones, unless certificates were set up for them. */
        r->verify_tls = !o->insecure && (!gk_host_is_loopback(domain) || r->have_cert_dir);
        if (asprintf(&r->base, "https://%s", r->host) < 0)
                return gk_error_make(err, ENOMEM, "registry");
        r->scheme_known = !r->allow_http;
        *out = TAKE_PTR(r);
        return 0;
}

void gk_registry_free(gk_registry *r)
{
        if (!r)
                return;
        if (r->share)
                curl_share_cleanup(r->share);
        gk_challenge_clear(&r->challenge);
        gk_credentials_clear(&r->creds);
        if (r->auth_header)
                explicit_bzero(r->auth_header, strlen(r->auth_header));
        free(r->auth_header);
        free(r->ca_data);
        free(r->client_cert);
        free(r->client_key);
        free(r->scope);
        free(r->base);
        free(r->domain);
        free(r->path);
        free(r->host);
        free(r);
}

void gk_registry_freep(gk_registry **r)
{
        gk_registry_free(*r);
}

int gk_registry_set_scope(gk_registry *r, const char *scopes, gk_error **err)
{
        char *s = strdup(scopes);

        if (!s)
                return gk_error_make(err, ENOMEM, "registry");
        free(r->scope);
        r->scope = s;
        return 0;
}

/* ---- one synchronous request ---- */

typedef struct body_buf {
        char *data;
        size_t len, max;
        bool too_big;
} body_buf;

static size_t body_cb(char *ptr, size_t size, size_t n, void *userdata)
{
        body_buf *b = userdata;
        size_t len = size * n;
        char *nd;

        if (b->len + len > b->max) {
                b->too_big = true;
                return 0;
        }
        nd = realloc(b->data, b->len + len + 1);
        if (!nd)
                return 0;
        memcpy(nd + b->len, ptr, len);
        b->data = nd;
        b->len += len;
        b->data[b->len] = '\0';
        return len;
}

typedef struct request {
        const char *url;  /* absolute, or NULL: base + path */
        const char *path; /* "/v2/..." */
        bool head;
        const char *extra; /* one more header line, may be NULL */
        const char *post;  /* form body for POST, may be NULL */
        bool no_auth;      /* token server requests carry their own */
        const char *auth;  /* explicit Authorization line */
        size_t max;
        const gk_call *call; /* gk_registry_call: method, headers, body */
} request;

/* A gk_call's method, its headers and its body (a body-less POST or PUT
 * sends an empty one, with Content-Length: 0). */
static void set_call(CURL *c, const gk_call *k, struct curl_slist **hdrs)
{
        bool with_body = k->body || !strcmp(k->method, "POST") || !strcmp(k->method, "PUT") ||
                         !strcmp(k->method, "PATCH");

        for (size_t i = 0; i < ARRAY_SIZE(k->headers) && k->headers[i]; i++)
                *hdrs = curl_slist_append(*hdrs, k->headers[i]);
        /* no 100-continue round trip: registries answer at once anyway */
        *hdrs = curl_slist_append(*hdrs, "Expect:");
        if (with_body) {
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) k->body_len);
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, k->body ? k->body : "");
        }
        if (strcmp(k->method, "POST") && strcmp(k->method, "GET") && strcmp(k->method, "HEAD"))
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, k->method);
}

static CURLcode perform_once(gk_registry *r, const request *q, const gk_http_deadline *dl,
                             gk_http_headers *h, body_buf *b, char *errbuf, gk_error **err)
{
        _cleanup_free_ char *url = NULL;
        struct curl_slist *hdrs = NULL;
        CURLcode rc;
        CURL *c;

        if (!q->url && asprintf(&url, "%s%s", r->base, q->path) < 0)
                return CURLE_OUT_OF_MEMORY;
        if (q->no_auth) {
                if (q->extra)
                        hdrs = curl_slist_append(hdrs, q->extra);
                if (q->auth)
                        hdrs = curl_slist_append(hdrs, q->auth);
        } else if (gk_registry_auth_headers(r, q->extra, &hdrs, err) < 0) {
                return CURLE_LOGIN_DENIED;
        }
        c = gk_http_easy(r, q->url ? q->url : url, h, err);
        if (!c) {
                curl_slist_free_all(hdrs);
                return CURLE_OUT_OF_MEMORY;
        }
        if (q->call)
                set_call(c, q->call, &hdrs);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_NOBODY, q->head ? 1L : 0L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        if (!gk_http_deadline_arm(dl, c)) {
                curl_easy_cleanup(c);
                curl_slist_free_all(hdrs);
                return CURLE_OPERATION_TIMEDOUT;
        }
        if (q->post)
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->post);
        rc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
        curl_easy_cleanup(c);
        curl_slist_free_all(hdrs);
        return rc;
}

/* Loopback and insecure registries: HTTPS first, plain HTTP when the
 * server does not speak TLS. */
static void fall_back_to_http(gk_registry *r)
{
        char *base = NULL;

        if (asprintf(&base, "http://%s", r->host) < 0)
                return;
        free(r->base);
        r->base = base;
}

static int transport_error(gk_registry *r, const request *q, CURLcode rc, const char *detail,
                           gk_error **err)
{
        char text[512];

        return gk_error_plain(err, gk_http_curl_errno(rc), "%s%s: %s", q->url ? "" : r->base,
                              q->url ? q->url : q->path,
                              gk_http_transport_text(rc, detail, r->domain, text, sizeof(text)));
}

/* A stall or the deadline: named by the registry (or the token server's
 * URL), with the reason. */
static int timeout_error(gk_registry *r, const request *q, const gk_http_deadline *dl,
                         const body_buf *b, gk_error **err)
{
        char why[256];

        gk_http_timeout_reason(dl, b->len, why, sizeof(why));
        if (q->url)
                return gk_error_plain(err, ETIMEDOUT, "%s: %s", q->url, why);
        return gk_error_plain(err, ETIMEDOUT, "registry %s %s", r->domain, why);
}

/* One request with retries of transient failures; fills H and B with the
 * final answer (any status).  The deadline covers every attempt: only a
 * stall is worth another. */
static int perform(gk_registry *r, const request *q, gk_http_headers *h, body_buf *b,
                   gk_error **err)
{
        gk_http_deadline dl;

        gk_http_deadline_start(&dl, (int64_t) (q->max ? q->max : GK_MANIFEST_MAX));
        dl.size_is_max = true;
        for (int attempt = 1;; attempt++) {
                char errbuf[CURL_ERROR_SIZE] = "";
                CURLcode rc;

                gk_http_headers_clear(h);
                free(b->data);
                *b = (body_buf){ .max = q->max ? q->max : GK_MANIFEST_MAX };
                rc = perform_once(r, q, &dl, h, b, errbuf, err);
                if (rc == CURLE_LOGIN_DENIED || rc == CURLE_OUT_OF_MEMORY)
                        return *err ? gk_error_code(*err) : gk_error_make(err, ENOMEM, "request");
                if (!r->scheme_known && !q->url) {
                        if (rc != CURLE_OK && gk_http_tls_failure(rc)) {
                                fall_back_to_http(r);
                                r->scheme_known = true;
                                attempt--;
                                continue;
                        }
                        if (rc == CURLE_OK)
                                r->scheme_known = true;
                }
                if (b->too_big)
                        return gk_error_plain(err, EFBIG, "%s: the answer is larger than %u bytes",
                                              q->url ? q->url : q->path, (unsigned) b->max);
                if (rc == CURLE_OPERATION_TIMEDOUT &&
                    (gk_http_deadline_passed(&dl) || attempt >= GK_MAX_ATTEMPTS))
                        return timeout_error(r, q, &dl, b, err);
                if (!gk_http_retryable(rc, h->status) || gk_http_spoke_plain(rc, errbuf) ||
                    attempt >= GK_MAX_ATTEMPTS) {
                        if (rc != CURLE_OK)
                                return transport_error(r, q, rc, errbuf, err);
                        return 0;
                }
                usleep((useconds_t) gk_http_backoff_ms(attempt, h) * 1000);
        }
}

/* A registry request answering 401 once with authentication. */
static int registry_request(gk_registry *r, const request *q, gk_http_headers *h, body_buf *b,
                            gk_error **err)
{
        for (int round = 0; round < 3; round++) {
                if (perform(r, q, h, b, err) < 0)
                        return gk_error_code_or(err, -EIO);
                if (h->status != 401)
                        return 0;
                if (gk_registry_authenticate(r, h, round > 0, err) < 0)
                        return -EACCES;
        }
        return 0;
}

int gk_registry_call(gk_registry *r, const gk_call *k, gk_http_headers *h, char **body,
                     size_t *len, gk_error **err)
{
        _cleanup_free_ char *url = NULL;
        body_buf b = { 0 };
        request q = { .head = !strcmp(k->method, "HEAD"), .max = k->max, .call = k };
        int rr;

        /* A Location the registry gave: relative to it, or absolute. */
        if (k->path[0] != '/') {
                q.url = k->path;
        } else if (!strncmp(k->path, "/v2/", 4)) {
                q.path = k->path;
        } else {
                if (asprintf(&url, "%s%s", r->base, k->path) < 0)
                        return gk_error_make(err, ENOMEM, "registry");
                q.url = url;
        }
        rr = registry_request(r, &q, h, &b, err);
        if (rr < 0 || !body) {
                free(b.data);
                return rr;
        }
        *body = b.data;
        if (len)
                *len = b.len;
        return 0;
}

static int check_manifest_digest(const char *ref, const gk_response *out, gk_error **err)
{
        char got[GK_SHA256_BUF];

        if (!out->body)
                return 0;
        gk_digest_buf(out->body, out->len, got);
        if (!strncmp(ref, "sha256:", 7) && strcmp(got, ref))
                return gk_error_plain(err, EBADMSG,
                                      "manifest %s: digest mismatch: the registry "
                                      "sent content with digest %s",
                                      ref, got);
        if (out->digest && strcmp(got, out->digest))
                return gk_error_plain(err, EBADMSG,
                                      "manifest `%s`: digest mismatch: "
                                      "Docker-Content-Digest says %s, the content has %s",
                                      ref, out->digest, got);
        return 0;
}

int gk_registry_manifest(gk_registry *r, const char *ref, bool head, gk_response *out,
                         gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        _cleanup_free_ char *path = NULL, *what = NULL;
        body_buf b = { 0 };
        request q = { .head = head, .extra = GK_MANIFEST_ACCEPT };

        *out = (gk_response){ 0 };
        if (asprintf(&path, "/v2/%s/manifests/%s", r->path, ref) < 0 ||
            asprintf(&what, "manifest `%s`", ref) < 0)
                return gk_error_make(err, ENOMEM, "registry");
        q.path = path;
        if (registry_request(r, &q, &h, &b, err) < 0) {
                free(b.data);
                return gk_error_wrap(err, "%s", what);
        }
        if (h.status < 200 || h.status > 299) {
                int rr = gk_http_status_error(r, what, &h, b.data, b.len, err);

                free(b.data);
                return rr;
        }
        out->status = h.status;
        out->body = head ? NULL : b.data;
        out->len = head ? 0 : b.len;
        if (head)
                free(b.data);
        out->content_type = TAKE_PTR(h.content_type);
        if (h.digest && gk_digest_check(h.digest, "Docker-Content-Digest", NULL) == 0)
                out->digest = TAKE_PTR(h.digest);
        if (check_manifest_digest(ref, out, err) < 0) {
                gk_response_clear(out);
                return -EBADMSG;
        }
        return 0;
}

/* ---- auth ---- */

static int load_creds(gk_registry *r, gk_error **err)
{
        if (r->creds_loaded)
                return 0;
        r->creds_loaded = true;
        if (r->o.creds) {
                const char *colon = strchr(r->o.creds, ':');

                r->creds.username = colon ? strndup(r->o.creds, (size_t) (colon - r->o.creds))
                                          : strdup(r->o.creds);
                r->creds.password = strdup(colon ? colon + 1 : "");
                if (!r->creds.username || !r->creds.password)
                        return gk_error_make(err, ENOMEM, "--creds");
                r->have_creds = true;
                return 0;
        }
        return gk_auth_find(r->o.authfile, r->domain, r->path, &r->creds, &r->have_creds, err);
}

static int basic_header(gk_registry *r, char **out, gk_error **err)
{
        _cleanup_free_ char *pair = NULL, *b64 = NULL;

        if (asprintf(&pair, "%s:%s", r->creds.username,
                     r->creds.password ? r->creds.password : "") < 0 ||
            !(b64 = gk_base64_encode(pair, strlen(pair))) ||
            asprintf(out, "Authorization: Basic %s", b64) < 0)
                return gk_error_make(err, ENOMEM, "auth");
        explicit_bzero(pair, strlen(pair));
        return 0;
}

/* "a b" -> "a&scope=b", each escaped: the token server takes one scope
 * parameter per repository. */
static char *scope_params(CURL *e, const char *scopes)
{
        _cleanup_free_ char *copy = strdup(scopes);
        char *out = NULL, *save = NULL;

        if (!copy)
                return NULL;
        for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                char *esc = curl_easy_escape(e, w, 0), *n = NULL;

                if (!esc ||
                    asprintf(&n, "%s%s%s", out ? out : "", out ? "&scope=" : "", esc) < 0) {
                        curl_free(esc);
                        free(out);
                        return NULL;
                }
                curl_free(esc);
                free(out);
                out = n;
        }
        return out;
}

static char *token_url(gk_registry *r, const gk_challenge *c)
{
        _cleanup_free_ char *scope = NULL;
        char *url = NULL, *svc, *sc;
        CURL *e = curl_easy_init();
        int n;

        if (!e)
                return NULL;
        /* A login check (no repository) asks for a token without a scope. */
        if (!c->scope && !r->scope && *r->path &&
            asprintf(&scope, "repository:%s:pull", r->path) < 0) {
                curl_easy_cleanup(e);
                return NULL;
        }
        if (r->scope) {
                /* A push asks for its own scopes, whatever the challenge of
                 * the request that met the 401 said (a HEAD's is pull). */
                free(scope);
                if (!(scope = scope_params(e, r->scope))) {
                        curl_easy_cleanup(e);
                        return NULL;
                }
        }
        svc = c->service ? curl_easy_escape(e, c->service, 0) : NULL;
        sc = r->scope            ? strdup(scope)
             : c->scope || scope ? curl_easy_escape(e, c->scope ? c->scope : scope, 0)
                                 : NULL;
        n = asprintf(&url, "%s%s%s%s%s%s", c->realm, strchr(c->realm, '?') ? "&" : "?",
                     sc ? "scope=" : "", sc ? sc : "", svc ? (sc ? "&service=" : "service=") : "",
                     svc ? svc : "");
        curl_free(svc);
        curl_free(sc);
        curl_easy_cleanup(e);
        return n < 0 ? NULL : url;
}

static int token_request(gk_registry *r, const char *url, body_buf *b, gk_http_headers *h,
                         gk_error **err)
{
        _cleanup_free_ char *basic = NULL, *form = NULL;
        request q = { .url = url, .no_auth = true, .max = 1u << 20 };

        if (r->have_creds && r->creds.identity_token) {
                /* docker's OAuth2 refresh-token grant for identity tokens */
                CURL *e = curl_easy_init();
                char *tok = e ? curl_easy_escape(e, r->creds.identity_token, 0) : NULL;
                const char *qm = strchr(url, '?');

                if (!tok || asprintf(&form,
                                     "grant_type=refresh_token&client_id=gkimg&"
                                     "refresh_token=%s&%s",
                                     tok, qm ? qm + 1 : "") < 0) {
                        curl_free(tok);
                        curl_easy_cleanup(e);
                        return gk_error_make(err, ENOMEM, "auth");
                }
                curl_free(tok);
                curl_easy_cleanup(e);
                q.post = form;
        } else if (r->have_creds && basic_header(r, &basic, err) < 0) {
                return gk_error_code_or(err, -ENOMEM);
        }
        q.auth = basic;
        return perform(r, &q, h, b, err);
}

static int fetch_token(gk_registry *r, const gk_challenge *c, gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        _cleanup_free_ char *url = token_url(r, c), *token = NULL;
        body_buf b = { 0 };
        int64_t expires = 0;
        int rr;

        if (!url)
                return gk_error_make(err, ENOMEM, "auth");
        rr = token_request(r, url, &b, &h, err);
        if (rr == 0 && (h.status == 401 || h.status == 403))
                rr = r->have_creds
                             ? gk_error_plain(err, EACCES,
                                              "token server `%s` refused the login "
                                              "for `%s` (HTTP %ld): wrong username or password?",
                                              c->realm, r->creds.username, h.status)
                             : gk_error_plain(err, EACCES,
                                              "token server `%s` refused anonymous "
                                              "access (HTTP %ld): log in with `gkimg login %s`",
                                              c->realm, h.status, r->domain);
        else if (rr == 0 && h.status == 429)
                rr = gk_http_status_error(r, "token", &h, b.data, b.len, err);
        else if (rr == 0 && (h.status < 200 || h.status > 299))
                rr = gk_error_plain(err, EPROTO, "token server `%s` answered HTTP %ld", c->realm,
                                    h.status);
        if (rr == 0)
                rr = gk_auth_parse_token(b.data ? b.data : "", b.len, (int64_t) time(NULL), &token,
                                         &expires, err);
        free(b.data);
        if (rr < 0)
                return rr;
        free(r->auth_header);
        r->auth_header = NULL;
        if (asprintf(&r->auth_header, "Authorization: Bearer %s", token) < 0)
                return gk_error_make(err, ENOMEM, "auth");
        explicit_bzero(token, strlen(token));
        r->auth_expires = expires;
        return 0;
}

int gk_registry_authenticate(gk_registry *r, const gk_http_headers *h, bool retried,
                             gk_error **err)
{
        gk_challenge c;

        if (gk_auth_parse_challenge(h->www_authenticate, &c, err) < 0)
                return -EACCES;
        gk_challenge_clear(&r->challenge);
        r->challenge = c;
        if (load_creds(r, err) < 0) {
                gk_error_wrap(err, "credentials for %s", r->domain);
                return gk_error_code_or(err, -EIO);
        }
        /* The token we got was for this request's scope: a second 401
         * means no access, asking again would not change that. */
        if (retried)
                return gk_error_plain(err, EACCES,
                                      "access denied by %s: repository `%s` does not "
                                      "exist or needs a login (`gkimg login %s`) (HTTP 401)",
                                      r->domain, r->path, r->domain);
        free(r->auth_header);
        r->auth_header = NULL;
        r->auth_expires = 0;
        if (c.scheme == GK_AUTH_BEARER)
                return fetch_token(r, &r->challenge, err);
        if (!r->have_creds || !r->creds.password)
                return gk_error_plain(err, EACCES,
                                      "access denied by %s: repository `%s` does not "
                                      "exist or needs a login (`gkimg login %s`) (HTTP 401)",
                                      r->domain, r->path, r->domain);
        return basic_header(r, &r->auth_header, err);
}

int gk_registry_auth_headers(gk_registry *r, const char *extra, struct curl_slist **out,
                             gk_error **err)
{
        struct curl_slist *l = NULL;

        /* A token about to expire is renewed before it fails mid-transfer. */
        if (r->auth_header && r->auth_expires && r->auth_expires - 10 < (int64_t) time(NULL) &&
            r->challenge.scheme == GK_AUTH_BEARER && fetch_token(r, &r->challenge, err) < 0)
                return -EACCES;
        if (extra)
                l = curl_slist_append(l, extra);
        if (r->auth_header)
                l = curl_slist_append(l, r->auth_header);
        *out = l;
        return 0;
}

int gk_registry_check_login(const char *domain, const gk_registry_opts *o, const char *username,
                            const char *password, gk_error **err)
{
        _cleanup_(gk_registry_freep) gk_registry *r = NULL;
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        body_buf b = { 0 };
        request q = { .path = "/v2/" };
        int rr;

        if (gk_registry_new(domain, "", o, &r, err) < 0)
                return gk_error_code_or(err, -EIO);
        r->creds_loaded = r->have_creds = true;
        r->creds.username = strdup(username);
        r->creds.password = strdup(password);
        if (!r->creds.username || !r->creds.password)
                return gk_error_make(err, ENOMEM, "login");
        rr = perform(r, &q, &h, &b, err);
        if (rr == 0 && h.status == 401) {
                rr = gk_registry_authenticate(r, &h, false, err);
                if (rr == 0)
                        rr = perform(r, &q, &h, &b, err);
        }
        free(b.data);
        if (rr < 0)
                return rr;
        if (h.status == 401 || h.status == 403)
                return gk_error_plain(err, EACCES,
                                      "%s refused the login for `%s` (HTTP %ld): "
                                      "wrong username or password?",
                                      domain, username, h.status);
        if (h.status < 200 || h.status > 299)
                return gk_error_plain(err, EPROTO, "%s/v2/: answered HTTP %ld: not a registry?",
                                      domain, h.status);
        return 0;
}

int gk_registry_ping(gk_registry *r, gk_error **err)
{
        _cleanup_(gk_http_headers_clear) gk_http_headers h = { 0 };
        body_buf b = { 0 };
        request q = { .path = "/v2/" };
        int rr;

        /* Settles http or https; a 401 here is answered by the blob
         * requests themselves (they carry the repository's scope). */
        rr = perform(r, &q, &h, &b, err);
        free(b.data);
        return rr < 0 ? gk_error_wrap(err, "registry %s", r->domain) : 0;
}
