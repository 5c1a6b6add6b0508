/* Size and port grammars (gk/units.h). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "gk/units.h"
#include "gk/util.h"

int gk_parse_size(const char *s, int64_t *out)
{
        static const char units[] = "kmgtp";
        uint64_t whole = 0, frac = 0, scale = 1, mult = 1;
        const char *p = s, *u;

        if (!strcmp(s, "-1")) {
                *out = -1;
                return 0;
        }
        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*p - '0');
        }
        if (*p == '.') {
                if (p[1] < '0' || p[1] > '9')
                        return -EINVAL;
                /* digits past nanounits cannot change a byte count */
                for (p++; *p >= '0' && *p <= '9'; p++)
                        if (scale < 1000000000) {
                                frac = frac * 10 + (uint64_t) (*p - '0');
                                scale *= 10;
                        }
        }
        if (*p == ' ')
                p++;
        if (*p && (u = strchr(units, *p | 0x20))) {
                for (long i = 0; i <= u - units; i++)
                        mult *= 1024;
                p++;
                if ((*p | 0x20) == 'i')
                        p++;
        }
        if ((*p | 0x20) == 'b')
                p++;
        if (*p)
                return -EINVAL;
        if (whole > (uint64_t) INT64_MAX / mult)
                return -ERANGE;
        *out = (int64_t) (whole * mult + frac * mult / scale);
        return 0;
}

/* Decimal 1-65535, LEN bytes at S; "+8", " 8", "0x50" are not ports. */
static int port_number(const char *s, size_t len, uint16_t *out)
{
        char buf[8];
        uint64_t v;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (!gk_parse_u64(buf, &v) || v < 1 || v > 65535)
                return -EINVAL;
        *out = (uint16_t) v;
        return 0;
}

int gk_parse_port_map(const char *s, size_t len, gk_port_map *out)
{
        const char *colon = memchr(s, ':', len), *slash = memchr(s, '/', len);
        size_t end = slash ? (size_t) (slash - s) : len;
        gk_port_map p = { .proto = IPPROTO_TCP };

        if (!colon || colon > s + end)
                return -EINVAL;
        if (slash) {
                size_t plen = len - end - 1;

                if (plen == 3 && !memcmp(slash + 1, "udp", 3))
                        p.proto = IPPROTO_UDP;
                else if (plen != 3 || memcmp(slash + 1, "tcp", 3))
                        return -EINVAL;
        }
        if (port_number(s, (size_t) (colon - s), &p.host) < 0 ||
            port_number(colon + 1, end - (size_t) (colon - s) - 1, &p.ctr) < 0)
                return -EINVAL;
        *out = p;
        return 0;
}
