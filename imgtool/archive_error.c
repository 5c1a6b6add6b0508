/* libarchive's error state turned into a gk_error (archive_error.h). */
#include <archive.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_error.h"
#include "gk/cleanup.h"

int gk_archive_errno(struct archive *a)
{
        int e = archive_errno(a);

        /* ARCHIVE_ERRNO_FILE_FORMAT is EILSEQ and ARCHIVE_ERRNO_MISC -1:
         * libarchive's words for a bad archive, not a failed call */
        return e > 0 && e != EILSEQ ? e : 0;
}

int gk_archive_error(gk_error **err, struct archive *a, const char *fmt, ...)
{
        _cleanup_free_ char *prefix = NULL;
        const char *msg = archive_error_string(a);
        int e = gk_archive_errno(a);
        va_list ap;

        if (fmt) {
                va_start(ap, fmt);
                if (vasprintf(&prefix, fmt, ap) < 0)
                        prefix = NULL;
                va_end(ap);
        }
        if (!msg)
                msg = e ? strerror(e) : "unknown libarchive error";
        if (e && strstr(msg, strerror(e)))
                e = -e; /* carried, but not said twice */
        if (e > 0)
                return gk_error_make(err, e, "%s%s%s", prefix && *prefix ? prefix : "",
                                     prefix && *prefix ? ": " : "", msg);
        return gk_error_plain(err, e < 0 ? -e : EINVAL, "%s%s%s", prefix && *prefix ? prefix : "",
                              prefix && *prefix ? ": " : "", msg);
}
