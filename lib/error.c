/* The error object: make, wrap, free. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/error.h"

static int code_of(int errnum)
{
        return errnum > 0 ? -errnum : -EINVAL;
}

int gk_error_makev(gk_error **err, int errnum, const char *fmt, va_list ap)
{
        char *msg = NULL, *full = NULL;
        gk_error *e;

        if (errnum < 0)
                errnum = -errnum;
        if (!err)
                return code_of(errnum);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        if (msg && errnum) {
                if (asprintf(&full, "%s: %s", msg, strerror(errnum)) < 0)
                        full = NULL;
                free(msg);
                msg = full;
        }
        e = calloc(1, sizeof(*e));
        if (!e) {
                free(msg);
                return code_of(errnum);
        }
        e->errnum = errnum;
        e->msg = msg ? msg : strdup("out of memory");
        gk_error_free(*err);
        *err = e;
        return code_of(errnum);
}

int gk_error_make(gk_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = gk_error_makev(err, errnum, fmt, ap);
        va_end(ap);
        return r;
}

int gk_error_plain(gk_error **err, int errnum, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        gk_error_makev(err, 0, fmt, ap);
        va_end(ap);
        if (errnum < 0)
                errnum = -errnum;
        if (err && *err)
                (*err)->errnum = errnum;
        return code_of(errnum);
}

int gk_error_wrap(gk_error **err, const char *fmt, ...)
{
        char *prefix = NULL, *full = NULL;
        va_list ap;

        if (!err || !*err)
                return -EINVAL;
        va_start(ap, fmt);
        if (vasprintf(&prefix, fmt, ap) < 0)
                prefix = NULL;
        va_end(ap);
        if (prefix && asprintf(&full, "%s: %s", prefix, (*err)->msg) >= 0) {
                free((*err)->msg);
                (*err)->msg = full;
        }
        free(prefix);
        return gk_error_code(*err);
}

int gk_error_wrap_dir(gk_error **err, const char *dir)
{
        char *full = NULL, *msg;
        const char *tick;
        size_t head;

        if (!err || !*err)
                return -EINVAL;
        msg = (*err)->msg;
        tick = strchr(msg, '`');
        head = tick ? (size_t) (tick - msg) : 0;
        if (!tick || memchr(msg, ':', head))
                return gk_error_wrap(err, "`%s`", dir);
        if (asprintf(&full, "%.*s`%s/%s", (int) head, msg, dir, tick + 1) >= 0) {
                free(msg);
                (*err)->msg = full;
        }
        return gk_error_code(*err);
}

int gk_error_code(const gk_error *err)
{
        return err ? code_of(err->errnum) : 0;
}

int gk_error_code_or(gk_error **err, int fallback)
{
        if (!err || !*err || (*err)->errnum <= 0)
                return fallback;
        return -(*err)->errnum;
}

void gk_error_free(gk_error *err)
{
        if (!err)
                return;
        free(err->msg);
        free(err);
}

void gk_error_freep(gk_error **err)
{
        if (!err)
                return;
        gk_error_free(*err);
        *err = NULL;
}
