/* libarchive's errors as gk_errors: its message, and the errno it kept
 * when a system call failed under it (a full disk while writing an
 * archive, a read error), so that they are not all "invalid". */
#ifndef GK_IMGTOOL_ARCHIVE_ERROR_H
#define GK_IMGTOOL_ARCHIVE_ERROR_H

#include "gk/error.h"

struct archive;

/* The system errno behind A's last error, or 0 when libarchive's own code
 * says the archive is malformed (ARCHIVE_ERRNO_FILE_FORMAT, EILSEQ) or it
 * has none (ARCHIVE_ERRNO_MISC, -1). */
int gk_archive_errno(struct archive *a);

/* Sets *err to "FMT: MESSAGE" (MESSAGE alone for a NULL FMT) with A's
 * message, followed by ": strerror" when a system errno is behind it and
 * the message does not already say it; returns that errno negated, or
 * -EINVAL for a malformed archive. */
int gk_archive_error(gk_error **err, struct archive *a, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
