/* The registry headers whose values carry structure, parsed without any
 * I/O so the unit tests can feed them every odd form: Link (the next page
 * of a tag list) and Range (how much of an upload the registry holds). */
#ifndef GK_IMGTOOL_HTTP_PARSE_H
#define GK_IMGTOOL_HTTP_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* The URI of the rel="next" entry of a Link header
 * (`</v2/x/tags/list?last=b&n=2>; rel="next"`), malloc'd; NULL when there
 * is none (or the header is NULL or malformed). */
char *gk_link_next(const char *link);

/* An upload's Range header ("0-1233", or "bytes=0-1233") -> the offset the
 * next chunk starts at (1234).  "0-0" is taken as nothing held (the
 * registry writes an empty upload that way).  NULL: nothing held.  False
 * when the value is not a range starting at 0. */
bool gk_upload_range_next(const char *range, uint64_t *next);

#endif
