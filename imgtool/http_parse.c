/* Link and Range header values (see http_parse.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

/* Does the parameter list P..END (`; rel="next"; title=x`) say rel=next?
 * rel may hold several space-separated relations. */
static bool rel_is_next(const char *p, const char *end)
{
        while (p < end) {
                const char *v, *ve;

                while (p < end && (*p == ';' || isspace((unsigned char) *p)))
                        p++;
                if (end - p < 4 || strncasecmp(p, "rel=", 4)) {
                        p = memchr(p, ';', (size_t) (end - p));
                        if (!p)
                                return false;
                        continue;
                }
                v = p + 4;
                if (v < end && *v == '"') {
                        v++;
                        ve = memchr(v, '"', (size_t) (end - v));
                        if (!ve)
                                return false;
                } else {
                        ve = v;
                        while (ve < end && *ve != ';' && !isspace((unsigned char) *ve))
                                ve++;
                }
                for (const char *w = v; w < ve;) {
                        const char *we = w;

                        while (we < ve && !isspace((unsigned char) *we))
                                we++;
                        if (we - w == 4 && !strncasecmp(w, "next", 4))
                                return true;
                        w = we;
                        while (w < ve && isspace((unsigned char) *w))
                                w++;
                }
                p = ve + 1;
        }
        return false;
}

char *gk_link_next(const char *link)
{
        const char *p = link;

        while (p && *p) {
                const char *lt = strchr(p, '<'), *gt, *next;

                if (!lt || !(gt = strchr(lt, '>')))
                        return NULL;
                /* The entry's parameters run to the next entry's '<' (a ','
                 * may also appear inside a quoted title, so not that). */
                next = strchr(gt, '<');
                if (rel_is_next(gt + 1, next ? next : gt + strlen(gt)))
                        return gt - lt > 1 ? strndup(lt + 1, (size_t) (gt - lt - 1)) : NULL;
                p = next;
        }
        return NULL;
}

bool gk_upload_range_next(const char *range, uint64_t *next)
{
        const char *p = range;
        char *end;
        unsigned long long last;

        *next = 0;
        if (!range)
                return true;
        while (isspace((unsigned char) *p))
                p++;
        if (!strncasecmp(p, "bytes=", 6))
                p += 6;
        if (p[0] != '0' || p[1] != '-' || !isdigit((unsigned char) p[2]))
                return false;
        errno = 0;
        last = strtoull(p + 2, &end, 10);
        while (isspace((unsigned char) *end))
                end++;
        if (errno || *end || last >= INT64_MAX)
                return false;
        *next = last == 0 ? 0 : last + 1;
        return true;
}
