/* The error object every fallible function fills.
 *
 * A function that can fail takes `gk_error **err` as its last argument,
 * returns a negative errno (or NULL) on failure and fills *err; on success it
 * leaves *err alone.  Only main() prints.  Callers add context with
 * gk_error_wrap() as the error travels up:
 *
 *     _cleanup_(gk_error_freep) gk_error *err = NULL;
 *     if (load_spec(path, &spec, &err) < 0)
 *             die_with(err);
 */
#ifndef GK_ERROR_H
#define GK_ERROR_H

#include <stdarg.h>

typedef struct gk_error {
        int errnum; /* positive errno, or 0 when the reason is in msg alone */
        char *msg;
} gk_error;

/* Sets *err to "FMT: strerror(errnum)" (": strerror" left out when errnum is
 * 0) and returns -errnum, or -EINVAL when errnum is 0.  An error already in
 * *err is replaced. */
int gk_error_make(gk_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int gk_error_makev(gk_error **err, int errnum, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* Like gk_error_make, but the message is FMT alone (for strings that
 * orchestrators match word for word) while errnum is still carried. */
int gk_error_plain(gk_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Prefixes the message in *err with "FMT: " and returns the error's
 * negative errno (or -EINVAL).  Does nothing to a NULL *err. */
int gk_error_wrap(gk_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* For a recursive walk: puts directory DIR in front of the path the
 * message names, so that an error deep in a tree reads "stat `usr/lib/x`:
 * ..." rather than "`usr`: `lib`: stat `x`: ...".  The named path is the
 * first backquoted one when nothing but a verb precedes it (no ':');
 * without one the message is wrapped as "`DIR`: ...".  Returns the
 * error's negative errno (or -EINVAL). */
int gk_error_wrap_dir(gk_error **err, const char *dir);

/* The negative errno of *err, as the failing function returned it. */
int gk_error_code(const gk_error *err);

/* What to return after a callee failed and filled *ERR: the negative errno
 * it carries (ENOSPC, EROFS, ... from the call that failed), or FALLBACK
 * (a negative errno) when it carries none (a message alone, or no error
 * object because the caller passed ERR NULL). */
int gk_error_code_or(gk_error **err, int fallback);

void gk_error_free(gk_error *err);
void gk_error_freep(gk_error **err);

/* Convenience: gk_error_make() with errno as errnum. */
#define gk_error_errno(err, ...) gk_error_make((err), errno, __VA_ARGS__)

#endif
