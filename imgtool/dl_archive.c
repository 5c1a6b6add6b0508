/* The libarchive calls of unpacking (unpack.c, unpack_stream.c), import
 * and export, with libarchive loaded by dlopen() the first time one is
 * made: gkimg links these definitions instead of the library, so a command
 * that neither unpacks nor reads or writes an archive (bundle of an
 * unpacked image, images, inspect...) does not map libarchive, libxml2 and
 * the compressors (see dl.h).  A call that is not listed here is taken
 * from libarchive at link time (the Makefile keeps -larchive, with
 * --as-needed): `ldd gkimg` then shows libarchive again. */
#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "dl.h"

#ifndef GK_ARCHIVE_SONAME
#define GK_ARCHIVE_SONAME "libarchive.so.13"
#endif

typedef struct archive A;
typedef struct archive_entry E;

/* X(RET, FAIL, NAME, PARAMS, ARGS): NAME's forwarding definition returns
 * FAIL when libarchive cannot be loaded.  Only the constructors can be
 * reached then (everything else takes what they return), so the other
 * FAILs are never seen. */
#define CALLS(X)                                                                           \
        X(A *, NULL, archive_read_new, (void), ())                                         \
        X(A *, NULL, archive_write_new, (void), ())                                        \
        X(E *, NULL, archive_entry_new, (void), ())                                        \
        X(int, ARCHIVE_FATAL, archive_read_free, (A * a), (a))                             \
        X(int, ARCHIVE_FATAL, archive_write_free, (A * a), (a))                            \
        X(int, ARCHIVE_FATAL, archive_write_close, (A * a), (a))                           \
        X(int, 0, archive_errno, (A * a), (a))                                             \
        X(const char *, "libarchive is not loaded", archive_error_string, (A * a), (a))    \
        X(int, ARCHIVE_FATAL, archive_read_support_filter_bzip2, (A * a), (a))             \
        X(int, ARCHIVE_FATAL, archive_read_support_filter_gzip, (A * a), (a))              \
        X(int, ARCHIVE_FATAL, archive_read_support_filter_xz, (A * a), (a))                \
        X(int, ARCHIVE_FATAL, archive_read_support_filter_zstd, (A * a), (a))              \
        X(int, ARCHIVE_FATAL, archive_read_support_format_raw, (A * a), (a))               \
        X(int, ARCHIVE_FATAL, archive_read_support_format_tar, (A * a), (a))               \
        X(int, ARCHIVE_FATAL, archive_read_open,                                           \
          (A * a, void *data, archive_open_callback *o, archive_read_callback *r,          \
           archive_close_callback *c),                                                     \
          (a, data, o, r, c))                                                              \
        X(int, ARCHIVE_FATAL, archive_read_open_fd, (A * a, int fd, size_t block),         \
          (a, fd, block))                                                                  \
        X(int, ARCHIVE_FATAL, archive_read_next_header, (A * a, E * *e), (a, e))           \
        X(la_ssize_t, ARCHIVE_FATAL, archive_read_data, (A * a, void *buf, size_t n),      \
          (a, buf, n))                                                                     \
        X(int, ARCHIVE_FATAL, archive_read_data_block,                                     \
          (A * a, const void **buf, size_t *n, la_int64_t *off), (a, buf, n, off))         \
        X(int, ARCHIVE_FATAL, archive_write_set_format_pax_restricted, (A * a), (a))       \
        X(int, ARCHIVE_FATAL, archive_write_open_filename, (A * a, const char *f), (a, f)) \
        X(int, ARCHIVE_FATAL, archive_write_header, (A * a, E * e), (a, e))                \
        X(la_ssize_t, ARCHIVE_FATAL, archive_write_data, (A * a, const void *b, size_t n), \
          (a, b, n))                                                                       \
        X(time_t, 0, archive_entry_atime, (E * e), (e))                                    \
        X(int, 0, archive_entry_atime_is_set, (E * e), (e))                                \
        X(long, 0, archive_entry_atime_nsec, (E * e), (e))                                 \
        X(time_t, 0, archive_entry_mtime, (E * e), (e))                                    \
        X(long, 0, archive_entry_mtime_nsec, (E * e), (e))                                 \
        X(mode_t, 0, archive_entry_filetype, (E * e), (e))                                 \
        X(mode_t, 0, archive_entry_perm, (E * e), (e))                                     \
        X(la_int64_t, 0, archive_entry_uid, (E * e), (e))                                  \
        X(la_int64_t, 0, archive_entry_gid, (E * e), (e))                                  \
        X(la_int64_t, 0, archive_entry_size, (E * e), (e))                                 \
        X(int, 0, archive_entry_size_is_set, (E * e), (e))                                 \
        X(dev_t, 0, archive_entry_rdevmajor, (E * e), (e))                                 \
        X(dev_t, 0, archive_entry_rdevminor, (E * e), (e))                                 \
        X(const char *, NULL, archive_entry_pathname, (E * e), (e))                        \
        X(const char *, NULL, archive_entry_pathname_utf8, (E * e), (e))                   \
        X(const char *, NULL, archive_entry_hardlink, (E * e), (e))                        \
        X(const char *, NULL, archive_entry_symlink, (E * e), (e))                         \
        X(const char *, NULL, archive_entry_symlink_utf8, (E * e), (e))                    \
        X(int, 0, archive_entry_xattr_reset, (E * e), (e))                                 \
        X(int, ARCHIVE_EOF, archive_entry_xattr_next,                                      \
          (E * e, const char **name, const void **value, size_t *n), (e, name, value, n))

/* X(NAME, PARAMS, ARGS): the calls that return nothing. */
#define VOID_CALLS(X)                                                      \
        X(archive_entry_free, (E * e), (e))                                \
        X(archive_entry_set_filetype, (E * e, unsigned int t), (e, t))     \
        X(archive_entry_set_mtime, (E * e, time_t t, long ns), (e, t, ns)) \
        X(archive_entry_set_pathname, (E * e, const char *p), (e, p))      \
        X(archive_entry_set_perm, (E * e, mode_t m), (e, m))               \
        X(archive_entry_set_size, (E * e, la_int64_t n), (e, n))

/* The variadic call, written out below. */
#define VARIADIC(X) X(archive_set_error)

GK_DL_LIBRARY(GK_ARCHIVE_SONAME, "to unpack layers and read or write archives")

int gk_dl_archive(gk_error **err)
{
        return ready() ? 0 : gk_dl_fail(&lib, err);
}

GK_DL_FORWARDERS

/* libarchive has no va_list form: the message is formatted here. */
void(archive_set_error)(A *a, int num, const char *fmt, ...)
{
        char msg[512];
        va_list ap;

        if (!ready())
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        ((void (*)(A *, int, const char *, ...)) fns[i_archive_set_error])(a, num, "%s", msg);
}
