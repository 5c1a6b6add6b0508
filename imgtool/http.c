/* libcurl handles set up the same way for every registry request, the
 * answer headers we act on, and the status -> error mapping. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "registry_internal.h"

void gk_http_headers_clear(gk_http_headers *h)
{
        free(h->content_type);
        free(h->digest);
        free(h->www_authenticate);
        free(h->retry_after);
        free(h->ratelimit_limit);
        free(h->ratelimit_remaining);
        free(h->ratelimit_reset);
        free(h->content_range);
        free(h->location);
        free(h->range);
        free(h->link);
        *h = (gk_http_headers){ 0 };
}

static void set_header(char **slot, const char *v, size_t n)
{
        while (n && isspace((unsigned char) v[n - 1]))
                n--;
        free(*slot);
        *slot = strndup(v, n);
}

size_t gk_http_header_cb(char *buf, size_t size, size_t n, void *userdata)
{
        static const struct {
                const char *name;
                size_t off;
        } known[] = {
                { "content-type", offsetof(gk_http_headers, content_type) },
                { "docker-content-digest", offsetof(gk_http_headers, digest) },
                { "www-authenticate", offsetof(gk_http_headers, www_authenticate) },
                { "retry-after", offsetof(gk_http_headers, retry_after) },
                { "ratelimit-limit", offsetof(gk_http_headers, ratelimit_limit) },
                { "ratelimit-remaining", offsetof(gk_http_headers, ratelimit_remaining) },
                { "ratelimit-reset", offsetof(gk_http_headers, ratelimit_reset) },
                { "content-range", offsetof(gk_http_headers, content_range) },
                { "location", offsetof(gk_http_headers, location) },
                { "range", offsetof(gk_http_headers, range) },
                { "link", offsetof(gk_http_headers, link) },
        };
        gk_http_headers *h = userdata;
        size_t len = size * n;
        const char *colon;

        /* A new status line: a redirect's headers are not the answer's. */
        if (len > 5 && !strncmp(buf, "HTTP/", 5)) {
                gk_http_headers_clear(h);
                return len;
        }
        colon = memchr(buf, ':', len);
        if (!colon)
                return len;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
                size_t kn = strlen(known[i].name);
                const char *v = colon + 1;

                if ((size_t) (colon - buf) != kn || strncasecmp(buf, known[i].name, kn))
                        continue;
                while (v < buf + len && (*v == ' ' || *v == '\t'))
                        v++;
                set_header((char **) ((char *) h + known[i].off), v, (size_t) (buf + len - v));
        }
        return len;
}

static int debug_cb(CURL *c, curl_infotype type, char *data, size_t size, void *userp)
{
        if (type == CURLINFO_HEADER_OUT || type == CURLINFO_HEADER_IN || type == CURLINFO_TEXT) {
                const char *tag = type == CURLINFO_HEADER_OUT  ? "> "
                                  : type == CURLINFO_HEADER_IN ? "< "
                                                               : "* ";
                /* Credentials stay out of debug logs. */
                if (size > 14 && !strncasecmp(data, "Authorization:", 14))
                        fprintf(stderr, "%sAuthorization: [redacted]\n", tag);
                else
                        fprintf(stderr, "%s%.*s", tag, (int) size, data);
        }
        return 0;
}

CURL *gk_http_easy(gk_registry *r, const char *url, gk_http_headers *h, gk_error **err)
{
        CURL *c = curl_easy_init();

        if (!c) {
                gk_error_make(err, ENOMEM, "curl");
                return NULL;
        }
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_SHARE, r->share);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "gkimg/" GK_VERSION);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, r->allow_http ? "http,https" : "https");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long) gk_http_stall_seconds());
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, gk_http_header_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
        if (!r->verify_tls) {
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
                curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (r->ca_data)
                curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &r->ca);
        if (r->client_cert && r->client_key) {
                curl_easy_setopt(c, CURLOPT_SSLCERT, r->client_cert);
                curl_easy_setopt(c, CURLOPT_SSLKEY, r->client_key);
        }
        if (r->o.debug) {
                curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
                curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
        }
        return c;
}

/* "errors":[{"code","message","detail"}] -> "CODE: message" */
static void registry_error_text(const char *body, size_t len, char *out, size_t n)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        yajl_val errs, e;
        const char *code, *msg;

        out[0] = '\0';
        if (!body || !len || gk_json_parse(body, len, "error", &v, NULL) < 0)
                return;
        errs = gk_json_get(v, "errors");
        if (!errs || !YAJL_IS_ARRAY(errs) || !errs->u.array.len)
                return;
        e = errs->u.array.values[0];
        code = gk_json_get_str(e, "code");
        msg = gk_json_get_str(e, "message");
        snprintf(out, n, " (%s%s%s)", code ? code : "", code && msg ? ": " : "", msg ? msg : "");
}

static int rate_limit_error(const char *what, const gk_http_headers *h, gk_error **err)
{
        char limit[160] = "", reset[96] = "";

        if (h->ratelimit_limit)
                snprintf(limit, sizeof(limit), "; limit %s, %s remaining", h->ratelimit_limit,
                         h->ratelimit_remaining ? h->ratelimit_remaining : "0");
        if (h->retry_after)
                snprintf(reset, sizeof(reset), "; retry after %s%s", h->retry_after,
                         isdigit((unsigned char) h->retry_after[0]) ? " seconds" : "");
        else if (h->ratelimit_reset)
                snprintf(reset, sizeof(reset), "; the limit resets in %s seconds",
                         h->ratelimit_reset);
        return gk_error_plain(err, EAGAIN,
                              "%s: the registry's rate limit is reached (HTTP 429 "
                              "Too Many Requests)%s%s",
                              what, limit, reset);
}

int gk_http_status_error(gk_registry *r, const char *what, const gk_http_headers *h,
                         const char *body, size_t len, gk_error **err)
{
        char detail[512];
        long st = h->status;

        if (st == 429)
                return rate_limit_error(what, h, err);
        registry_error_text(body, len, detail, sizeof(detail));
        if (st == 401 || st == 403)
                return gk_error_plain(err, EACCES,
                                      "%s: access denied by %s: repository `%s` does "
                                      "not exist or needs a login (`gkimg login %s`) (HTTP %ld)%s",
                                      what, r->domain, r->path, r->domain, st, detail);
        if (st == 404)
                return gk_error_plain(err, ENOENT, "%s: not found in %s/%s (HTTP 404)%s", what,
                                      r->domain, r->path, detail);
        return gk_error_plain(err, st >= 500 ? EIO : EPROTO, "%s: registry %s answered HTTP %ld%s",
                              what, r->domain, st, detail);
}

bool gk_http_retryable(CURLcode rc, long status)
{
        switch (rc) {
        case CURLE_OK:
                return status >= 500 || status == 408;
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_COULDNT_CONNECT:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SSL_CONNECT_ERROR:
                return true;
        default:
                return false;
        }
}

int gk_http_curl_errno(CURLcode rc)
{
        switch (rc) {
        case CURLE_OUT_OF_MEMORY:
                return ENOMEM;
        case CURLE_OPERATION_TIMEDOUT:
                return ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return EHOSTUNREACH;
        case CURLE_COULDNT_CONNECT:
                return ECONNREFUSED;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
                return ECONNRESET;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_WEIRD_SERVER_REPLY:
                return EPROTO;
        case CURLE_URL_MALFORMAT:
                return EINVAL;
        case CURLE_LOGIN_DENIED:
        case CURLE_REMOTE_ACCESS_DENIED:
                return EACCES;
        case CURLE_FILESIZE_EXCEEDED:
                return EFBIG;
        default:
                return EIO; /* a write callback's refusal among them */
        }
}

bool gk_http_spoke_plain(CURLcode rc, const char *curl_err)
{
        static const char *const signs[] = { "wrong version number", "packet length too long",
                                             "record layer failure" };

        if (rc != CURLE_SSL_CONNECT_ERROR || !curl_err)
                return false;
        for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++)
                if (strcasestr(curl_err, signs[i]))
                        return true;
        return false;
}

const char *gk_http_transport_text(CURLcode rc, const char *curl_err, const char *domain,
                                   char *buf, size_t n)
{
        const char *curl_text = curl_err && *curl_err ? curl_err : curl_easy_strerror(rc);

        if (gk_http_spoke_plain(rc, curl_err)) {
                snprintf(buf, n,
                         "server gave HTTP response to HTTPS client (registry %s speaks plain "
                         "HTTP: --tls-verify=false allows it)",
                         domain);
                return buf;
        }
        if (rc == CURLE_PEER_FAILED_VERIFICATION) {
                snprintf(buf, n,
                         "%s: the certificate of registry %s is not trusted: put its CA "
                         "certificate in /etc/gk/certs.d/%s/ca.crt or in a directory given "
                         "with --cert-dir DIR, or skip the check with --tls-verify=false",
                         curl_text, domain, domain);
                return buf;
        }
        return curl_text;
}

bool gk_http_tls_failure(CURLcode rc)
{
        return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_GOT_NOTHING ||
               rc == CURLE_RECV_ERROR || rc == CURLE_UNSUPPORTED_PROTOCOL;
}

int64_t gk_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gk_http_backoff_ms(int attempt, const gk_http_headers *h)
{
        uint64_t ra;
        int64_t ms = 200LL << (attempt > 6 ? 6 : attempt - 1);

        if (h && h->retry_after && gk_parse_u64(h->retry_after, &ra) && ra <= 10)
                return (int64_t) ra * 1000;
        if (ms > 5000)
                ms = 5000;
        /* Jitter, so parallel transfers do not come back in lockstep. */
        return ms + (int64_t) (rand() % (int) (ms / 4 + 1));
}
