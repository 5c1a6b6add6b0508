/* The small value grammars both tools read from users: sizes ("512m",
 * gkrun update's flags and gkimg bundle --mem) and published ports
 * ("8080:80/tcp", gkimg bundle -p and the org.gk.net.ports annotation that
 * gkrun reads), one parser each so a value gkimg accepts is one gkrun
 * takes. */
#ifndef GK_UNITS_H
#define GK_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* docker/go-units' RAMInBytes grammar, as runc's update flags take it:
 * NUMBER[.FRACTION][ ][KMGTP][i][B], binary multiples, case-insensitive
 * ("512", "64k", "1.5g", "2GiB", "10 MB"); "-1" is -1.  -EINVAL on
 * anything else, -ERANGE above INT64_MAX bytes. */
int gk_parse_size(const char *s, int64_t *out);

typedef struct gk_port_map {
        uint16_t host, ctr;
        uint8_t proto; /* IPPROTO_TCP (the default) or IPPROTO_UDP */
} gk_port_map;

/* One "HOST:CONTAINER[/tcp|udp]" of LEN bytes at S (one item of a
 * comma-separated list need not be cut out): ports 1-65535 in decimal.
 * -EINVAL when it is not that. */
int gk_parse_port_map(const char *s, size_t len, gk_port_map *out);

#endif
