/* Scope-bound cleanup: attributes that free, close or unref when a variable
 * goes out of scope, and TAKE_PTR/TAKE_FD to hand ownership out explicitly. */
#ifndef GK_CLEANUP_H
#define GK_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void gk_freep(void *p)
{
        free(*(void **) p);
}

static inline void gk_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void gk_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

static inline void gk_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* Frees a NULL-terminated array of strings and the array itself. */
static inline void gk_strvfree(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static inline void gk_strvfreep(char ***v)
{
        gk_strvfree(*v);
}

#define _cleanup_free_ _cleanup_(gk_freep)
#define _cleanup_close_ _cleanup_(gk_closep)
#define _cleanup_fclose_ _cleanup_(gk_fclosep)
#define _cleanup_closedir_ _cleanup_(gk_closedirp)
#define _cleanup_strv_ _cleanup_(gk_strvfreep)

#define TAKE_PTR(p)                         \
        ({                                  \
                __typeof__(p) _taken = (p); \
                (p) = NULL;                 \
                _taken;                     \
        })

#define TAKE_FD(fd)                \
        ({                         \
                int _taken = (fd); \
                (fd) = -1;         \
                _taken;            \
        })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
