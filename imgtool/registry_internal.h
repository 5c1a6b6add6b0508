/* What registry.c (requests, auth), http.c (libcurl setup, answers) and
 * fetch.c (parallel blob downloads) share. */
#ifndef GK_IMGTOOL_REGISTRY_INTERNAL_H
#define GK_IMGTOOL_REGISTRY_INTERNAL_H

#include <curl/curl.h>
#include <stdint.h>

#include "auth.h"
#include "registry.h"

#define GK_MAX_ATTEMPTS 5
#define GK_MANIFEST_MAX (4u << 20)

/* What the headers of the final answer said (redirects reset it). */
typedef struct gk_http_headers {
        long status;
        char *content_type;
        char *digest;
        char *www_authenticate;
        char *retry_after;
        char *ratelimit_limit, *ratelimit_remaining, *ratelimit_reset;
        char *content_range;
        char *location, *range, *link; /* uploads, tag list pages */
} gk_http_headers;

void gk_http_headers_clear(gk_http_headers *h);
/* CURLOPT_HEADERFUNCTION for a gk_http_headers. */
size_t gk_http_header_cb(char *buf, size_t size, size_t n, void *userdata);

struct gk_registry {
        char *domain, *path, *host;
        char *base; /* "https://host" or "http://host", once known */
        bool scheme_known;
        bool allow_http; /* loopback or insecure */
        bool verify_tls; /* off with --tls-verify=false, and for loopback
                          * without a cert dir (docker's insecure default) */
        bool have_cert_dir;
        gk_registry_opts o;
        CURLSH *share;
        struct curl_blob ca; /* system CAs + cert dir, when a cert dir has any */
        char *ca_data;
        char *client_cert, *client_key;
        /* auth */
        gk_challenge challenge; /* the last one seen */
        bool have_creds, creds_loaded;
        gk_credentials creds;
        char *auth_header;    /* "Authorization: Bearer ..." or Basic */
        int64_t auth_expires; /* seconds since the epoch; 0: no expiry */
        char *scope;          /* token scopes asked for instead of the challenge's */
};

/* One request of any method with retries and auth (registry.c).  PATH is
 * "/v2/...", a path on the registry or an absolute URL (a Location). */
typedef struct gk_call {
        const char *method; /* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" */
        const char *path;
        const char *headers[3]; /* extra header lines, NULL-terminated early */
        const void *body;       /* sent as is, BODY_LEN bytes */
        size_t body_len;
        size_t max; /* answer size limit (0: GK_MANIFEST_MAX) */
} gk_call;

/* Performs K; H gets the final answer's headers (any status: the caller
 * decides), *BODY (BODY may be NULL) the answer. */
int gk_registry_call(gk_registry *r, const gk_call *k, gk_http_headers *h, char **body,
                     size_t *len, gk_error **err);

/* A new easy handle with everything common set (share, TLS, timeouts,
 * redirects, proxy from the environment). */
CURL *gk_http_easy(gk_registry *r, const char *url, gk_http_headers *h, gk_error **err);

/* The headers to send: Authorization (when we have a valid one) + EXTRA.
 * refresh: renew a token about to expire first. */
int gk_registry_auth_headers(gk_registry *r, const char *extra, struct curl_slist **out,
                             gk_error **err);
/* Answers the challenge of a 401 (H) by fetching a token or choosing Basic.
 * Fails when there is nothing new to try. */
int gk_registry_authenticate(gk_registry *r, const gk_http_headers *h, bool retried,
                             gk_error **err);

/* The error for a non-2xx answer, with the registry's error body. */
int gk_http_status_error(gk_registry *r, const char *what, const gk_http_headers *h,
                         const char *body, size_t len, gk_error **err);
/* Transient: worth retrying (5xx, 408, resets, stalls, truncation). */
bool gk_http_retryable(CURLcode rc, long status);
/* Milliseconds to wait before attempt ATTEMPT (1-based), honouring a
 * short Retry-After. */
int64_t gk_http_backoff_ms(int attempt, const gk_http_headers *h);
int64_t gk_now_ms(void);

/* The time limits of one transfer (http_deadline.c): no data for
 * GKIMG_STALL_TIMEOUT seconds is a stall (set on every handle by
 * gk_http_easy); the whole transfer, over all its attempts, must end by a
 * deadline scaled to its expected size. */
typedef struct gk_http_deadline {
        int64_t at;       /* gk_now_ms() at which it is over */
        int64_t budget;   /* ms it was given */
        int64_t size;     /* bytes it was scaled to */
        bool size_is_max; /* SIZE is a cap (a manifest by tag), not the size */
} gk_http_deadline;

int gk_http_stall_seconds(void);
/* Starts the clock for a transfer of SIZE bytes (-1: unknown). */
void gk_http_deadline_start(gk_http_deadline *d, int64_t size);
/* Limits handle C to the time left; false when none is. */
bool gk_http_deadline_arm(const gk_http_deadline *d, CURL *c);
bool gk_http_deadline_passed(const gk_http_deadline *d);
/* Why a transfer ended in CURLE_OPERATION_TIMEDOUT after GOT bytes:
 * "stalled: no data for 30s (...)" or "too slow: ...". */
void gk_http_timeout_reason(const gk_http_deadline *d, uint64_t got, char *buf, size_t n);

/* GET /v2/: decides the scheme when no request has done it yet. */
int gk_registry_ping(gk_registry *r, gk_error **err);

/* Decides https or http for a loopback/insecure registry: the first
 * request's TLS failure falls back to http. */
bool gk_http_tls_failure(CURLcode rc);

/* The errno that says what a failed transfer's CURLcode says (a refused
 * connection ECONNREFUSED, a timeout ETIMEDOUT, a TLS failure EPROTO;
 * anything else EIO: a local write error the writer keeps itself), for
 * the gk_error whose message carries curl's own words. */
int gk_http_curl_errno(CURLcode rc);

/* True when a TLS handshake failed because the server answered in plain
 * HTTP (OpenSSL reads "HTTP/1.1 ..." as a record of a bad version or
 * length): no retry will change that. */
bool gk_http_spoke_plain(CURLcode rc, const char *curl_err);

/* A failed transfer's reason in the user's terms: a plain-HTTP server as
 * Docker words it, an untrusted certificate with the ways to trust it
 * (certs.d of DOMAIN, --cert-dir, --tls-verify=false), else curl's own
 * words (CURL_ERR when set).  Returns BUF or a static string. */
const char *gk_http_transport_text(CURLcode rc, const char *curl_err, const char *domain,
                                   char *buf, size_t n);

#endif
