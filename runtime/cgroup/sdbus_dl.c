/* The sd-bus calls of the systemd cgroup driver (cgroup_systemd.c), with
 * libsystemd loaded by dlopen() the first time one is made (gk/dlfwd.h).
 * gkrun links these definitions instead of the library, so the commands
 * that never talk to systemd (every one without --systemd-cgroup) do not
 * map libsystemd and the five libraries it pulls in: about 0.8 MiB less
 * resident memory and less relocation work at each exec.  A call the
 * driver makes that is not here is simply taken from libsystemd at link
 * time (the Makefile keeps -lsystemd, with --as-needed).
 *
 * Without libsystemd every call fails with -ELIBACC ("can not access a
 * needed shared library"), which the driver reports. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "gk/dlfwd.h"

#define B sd_bus
#define M sd_bus_message

/* X(RET, FAIL, NAME, PARAMS, ARGS): NAME's forwarding definition returns
 * FAIL when libsystemd cannot be loaded. */
#define CALLS(X)                                                                                  \
        X(int, -ELIBACC, sd_bus_open_system, (B * *ret), (ret))                                   \
        X(int, -ELIBACC, sd_bus_open_user, (B * *ret), (ret))                                     \
        X(int, -ELIBACC, sd_bus_new, (B * *ret), (ret))                                           \
        X(int, -ELIBACC, sd_bus_set_address, (B * bus, const char *address), (bus, address))      \
        X(int, -ELIBACC, sd_bus_start, (B * bus), (bus))                                          \
        X(B *, NULL, sd_bus_flush_close_unref, (B * bus), (bus))                                  \
        X(int, -ELIBACC, sd_bus_call,                                                             \
          (B * bus, M * m, uint64_t usec, sd_bus_error * ret_error, M * *reply),                  \
          (bus, m, usec, ret_error, reply))                                                       \
        X(int, -ELIBACC, sd_bus_process, (B * bus, M * *r), (bus, r))                             \
        X(int, -ELIBACC, sd_bus_wait, (B * bus, uint64_t timeout_usec), (bus, timeout_usec))      \
        X(int, -ELIBACC, sd_bus_match_signal,                                                     \
          (B * bus, sd_bus_slot * *ret, const char *sender, const char *path,                     \
           const char *interface, const char *member, sd_bus_message_handler_t callback,          \
           void *userdata),                                                                       \
          (bus, ret, sender, path, interface, member, callback, userdata))                        \
        X(sd_bus_slot *, NULL, sd_bus_slot_unref, (sd_bus_slot * slot), (slot))                   \
        X(int, -ELIBACC, sd_bus_message_new_method_call,                                          \
          (B * bus, M * *m, const char *destination, const char *path, const char *interface,     \
           const char *member),                                                                   \
          (bus, m, destination, path, interface, member))                                         \
        X(int, -ELIBACC, sd_bus_message_open_container, (M * m, char type, const char *contents), \
          (m, type, contents))                                                                    \
        X(int, -ELIBACC, sd_bus_message_close_container, (M * m), (m))                            \
        X(M *, NULL, sd_bus_message_unref, (M * m), (m))                                          \
        X(int, 0, sd_bus_error_has_name, (const sd_bus_error *e, const char *name), (e, name))

#define VOID_CALLS(X) X(sd_bus_error_free, (sd_bus_error * e), (e))

/* The variadic calls go to the library's va_list forms. */
#define VARIADIC(X) X(sd_bus_message_appendv) X(sd_bus_message_readv) X(sd_bus_call_methodv)

GK_DL_LIBRARY("libsystemd.so.0", "for --systemd-cgroup")
GK_DL_FORWARDERS

typedef int (*msg_va_fn)(M *, const char *, va_list);

int sd_bus_message_append(M *m, const char *types, ...)
{
        va_list ap;
        int r;

        if (!ready())
                return -ELIBACC;
        va_start(ap, types);
        r = ((msg_va_fn) fns[i_sd_bus_message_appendv])(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_message_read(M *m, const char *types, ...)
{
        va_list ap;
        int r;

        if (!ready())
                return -ELIBACC;
        va_start(ap, types);
        r = ((msg_va_fn) fns[i_sd_bus_message_readv])(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_call_method(B *bus, const char *destination, const char *path, const char *interface,
                       const char *member, sd_bus_error *ret_error, M **reply, const char *types,
                       ...)
{
        int (*fn)(B *, const char *, const char *, const char *, const char *, sd_bus_error *,
                  M **, const char *, va_list);
        va_list ap;
        int r;

        if (!ready())
                return -ELIBACC;
        fn = (int (*)(B *, const char *, const char *, const char *, const char *, sd_bus_error *,
                      M **, const char *, va_list)) fns[i_sd_bus_call_methodv];
        va_start(ap, types);
        r = fn(bus, destination, path, interface, member, ret_error, reply, types, ap);
        va_end(ap);
        return r;
}
