/* How many bytes one layer may write when it is unpacked: a bound on a
 * decompression bomb (a few MB of gzip or zstd that inflate to gigabytes of
 * zeros).  Holes of sparse entries are not written, so they do not count;
 * every data byte does, whatever its value.
 *
 * The default scales with the layer: 100 times its compressed size, at
 * least 1 GiB.  Real layers compress 2 to 10 times; zeros and repeated
 * text are what reach 100.  GKIMG_LAYER_MAX_SIZE=BYTES (k, m, g, t
 * suffixes; 0: no limit) replaces the default with a fixed limit. */
#include <errno.h>
#include <stdlib.h>

#include "unpack.h"

#define DEFAULT_RATIO 100
#define DEFAULT_FLOOR (1ULL << 30)

/* "64m", "1G", "1048576" -> bytes. */
static bool parse_size(const char *s, uint64_t *out)
{
        unsigned long long v, mult = 1;
        char *end;

        if (*s < '0' || *s > '9')
                return false;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return false;
        switch (*end | 0x20) {
        case 't':
                mult <<= 10; /* fall through */
        case 'g':
                mult <<= 10; /* fall through */
        case 'm':
                mult <<= 10; /* fall through */
        case 'k':
                mult <<= 10;
                end++;
                break;
        default:
                break;
        }
        if (mult > 1 && (*end | 0x20) == 'b')
                end++;
        if (*end || (v && v > UINT64_MAX / mult))
                return false;
        *out = v * mult;
        return true;
}

int gk_layer_limit_get(int64_t compressed, gk_layer_limit *out, gk_error **err)
{
        const char *e = getenv("GKIMG_LAYER_MAX_SIZE");
        uint64_t v;

        if (e && *e) {
                if (!parse_size(e, &v))
                        return gk_error_make(err, 0,
                                             "GKIMG_LAYER_MAX_SIZE `%s`: expected BYTES "
                                             "(a number, optionally with k, m, g or t; 0: no "
                                             "limit)",
                                             e);
                *out = (gk_layer_limit){ .max_bytes = v, .from_env = true };
                return 0;
        }
        v = compressed <= 0 ? 0
            : (uint64_t) compressed > UINT64_MAX / DEFAULT_RATIO
                    ? UINT64_MAX
                    : (uint64_t) compressed * DEFAULT_RATIO;
        *out = (gk_layer_limit){ .max_bytes = v > DEFAULT_FLOOR ? v : DEFAULT_FLOOR };
        return 0;
}
