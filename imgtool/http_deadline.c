/* How long a registry gets to answer.  Two limits, both kept by libcurl:
 *   a stall: no data at all for GKIMG_STALL_TIMEOUT seconds (30), which
 *     retries catch when the network hiccups;
 *   a deadline for the whole transfer, scaled to what it should carry:
 *     GKIMG_TIMEOUT_BASE seconds (60) plus one second per GKIMG_MIN_RATE
 *     bytes (32 KiB) of the descriptor's size, over every attempt.  It is
 *     what stops a registry that dribbles a few bytes a second, which a
 *     stall timeout never sees, and it is final: a retry would only
 *     dribble again. */
#include <stdio.h>
#include <stdlib.h>

#include "gk/util.h"
#include "registry_internal.h"

#define DEFAULT_STALL_S 30
#define DEFAULT_BASE_S 60
#define DEFAULT_MIN_RATE (32 * 1024)
#define UNKNOWN_SIZE (1LL << 30) /* what a transfer without a size is given time for */

static uint64_t env_u64(const char *name, uint64_t def, uint64_t max)
{
        const char *e = getenv(name);
        uint64_t v;

        return e && gk_parse_u64(e, &v) && v > 0 && v <= max ? v : def;
}

int gk_http_stall_seconds(void)
{
        return (int) env_u64("GKIMG_STALL_TIMEOUT", DEFAULT_STALL_S, 3600);
}

static int base_seconds(void)
{
        return (int) env_u64("GKIMG_TIMEOUT_BASE", DEFAULT_BASE_S, 86400);
}

static uint64_t min_rate(void)
{
        return env_u64("GKIMG_MIN_RATE", DEFAULT_MIN_RATE, 1ULL << 40);
}

void gk_http_deadline_start(gk_http_deadline *d, int64_t size)
{
        uint64_t rate = min_rate(), s = (uint64_t) (size >= 0 ? size : UNKNOWN_SIZE);
        uint64_t ms = (uint64_t) base_seconds() * 1000 + s / rate * 1000 + s % rate * 1000 / rate;

        if (ms > (uint64_t) INT64_MAX / 2)
                ms = (uint64_t) INT64_MAX / 2;
        *d = (gk_http_deadline){ .budget = (int64_t) ms,
                                 .at = gk_now_ms() + (int64_t) ms,
                                 .size = size };
}

bool gk_http_deadline_arm(const gk_http_deadline *d, CURL *c)
{
        int64_t left = d->at - gk_now_ms();

        if (left <= 0)
                return false;
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) left);
        return true;
}

/* libcurl says "timed out" for both limits: the clock tells which.  A
 * stall ending within the last quarter second is called too slow, which
 * it nearly was. */
bool gk_http_deadline_passed(const gk_http_deadline *d)
{
        return gk_now_ms() + 250 >= d->at;
}

void gk_http_timeout_reason(const gk_http_deadline *d, uint64_t got, char *buf, size_t n)
{
        if (!gk_http_deadline_passed(d)) {
                snprintf(buf, n, "stalled: no data for %ds (GKIMG_STALL_TIMEOUT)",
                         gk_http_stall_seconds());
                return;
        }
        snprintf(buf, n,
                 "too slow: %llu of %s%lld bytes in %llds (the limit: %ds plus 1s per "
                 "%llu bytes; GKIMG_TIMEOUT_BASE, GKIMG_MIN_RATE)",
                 (unsigned long long) got, d->size < 0 || d->size_is_max ? "at most " : "",
                 (long long) (d->size >= 0 ? d->size : UNKNOWN_SIZE),
                 (long long) (d->budget + 500) / 1000, base_seconds(),
                 (unsigned long long) min_rate());
}
