/* The sd-bus calls of the systemd cgroup driver (cgroup_systemd.c), with
 * libsystemd loaded by dlopen() the first time one is made.  gkrun links
 * these definitions instead of the library, so the commands that never
 * talk to systemd (every one without --systemd-cgroup) do not map
 * libsystemd and the five libraries it pulls in: about 0.8 MiB less
 * resident memory and less relocation work at each exec.  A call the
 * driver makes that is not here is simply taken from libsystemd at link
 * time (the Makefile keeps -lsystemd, with --as-needed).
 *
 * Without libsystemd every call fails with -ELIBACC ("can not access a
 * needed shared library"), which the driver reports. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

static void *sym(const char *name)
{
        static void *lib;

        if (!lib)
                lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        return lib ? dlsym(lib, name) : NULL;
}

/* One forwarding definition: RET NAME PARAMS calls the library's NAME with
 * ARGS, or returns FAIL when it cannot be found. */
#define FORWARD(ret, fail, name, params, args)                  \
        ret name params                                         \
        {                                                       \
                static ret(*fn) params;                         \
                if (!fn)                                        \
                        fn = (ret(*) params) sym(#name);        \
                return fn ? fn args : fail;                     \
        }

FORWARD(int, -ELIBACC, sd_bus_open_system, (sd_bus **ret), (ret))
FORWARD(int, -ELIBACC, sd_bus_new, (sd_bus **ret), (ret))
FORWARD(int, -ELIBACC, sd_bus_set_address, (sd_bus *bus, const char *address), (bus, address))
FORWARD(int, -ELIBACC, sd_bus_start, (sd_bus *bus), (bus))
FORWARD(sd_bus *, NULL, sd_bus_flush_close_unref, (sd_bus *bus), (bus))
FORWARD(int, -ELIBACC, sd_bus_call,
        (sd_bus *bus, sd_bus_message *m, uint64_t usec, sd_bus_error *ret_error,
         sd_bus_message **reply),
        (bus, m, usec, ret_error, reply))
FORWARD(int, -ELIBACC, sd_bus_process, (sd_bus *bus, sd_bus_message **r), (bus, r))
FORWARD(int, -ELIBACC, sd_bus_wait, (sd_bus *bus, uint64_t timeout_usec), (bus, timeout_usec))
FORWARD(int, -ELIBACC, sd_bus_match_signal,
        (sd_bus *bus, sd_bus_slot **ret, const char *sender, const char *path,
         const char *interface, const char *member, sd_bus_message_handler_t callback,
         void *userdata),
        (bus, ret, sender, path, interface, member, callback, userdata))
FORWARD(sd_bus_slot *, NULL, sd_bus_slot_unref, (sd_bus_slot *slot), (slot))
FORWARD(int, -ELIBACC, sd_bus_message_new_method_call,
        (sd_bus *bus, sd_bus_message **m, const char *destination, const char *path,
         const char *interface, const char *member),
        (bus, m, destination, path, interface, member))
FORWARD(int, -ELIBACC, sd_bus_message_open_container,
        (sd_bus_message *m, char type, const char *contents), (m, type, contents))
FORWARD(int, -ELIBACC, sd_bus_message_close_container, (sd_bus_message *m), (m))
FORWARD(sd_bus_message *, NULL, sd_bus_message_unref, (sd_bus_message *m), (m))
FORWARD(int, 0, sd_bus_error_has_name, (const sd_bus_error *e, const char *name), (e, name))

void sd_bus_error_free(sd_bus_error *e)
{
        static void (*fn)(sd_bus_error *);

        if (!fn)
                fn = (void (*)(sd_bus_error *)) sym("sd_bus_error_free");
        if (fn)
                fn(e);
}

/* The variadic calls go to the library's va_list forms. */
int sd_bus_message_append(sd_bus_message *m, const char *types, ...)
{
        static int (*fn)(sd_bus_message *, const char *, va_list);
        va_list ap;
        int r;

        if (!fn)
                fn = (int (*)(sd_bus_message *, const char *, va_list)) sym("sd_bus_message_appendv");
        if (!fn)
                return -ELIBACC;
        va_start(ap, types);
        r = fn(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_message_read(sd_bus_message *m, const char *types, ...)
{
        static int (*fn)(sd_bus_message *, const char *, va_list);
        va_list ap;
        int r;

        if (!fn)
                fn = (int (*)(sd_bus_message *, const char *, va_list)) sym("sd_bus_message_readv");
        if (!fn)
                return -ELIBACC;
        va_start(ap, types);
        r = fn(m, types, ap);
        va_end(ap);
        return r;
}

int sd_bus_call_method(sd_bus *bus, const char *destination, const char *path,
                       const char *interface, const char *member, sd_bus_error *ret_error,
                       sd_bus_message **reply, const char *types, ...)
{
        static int (*fn)(sd_bus *, const char *, const char *, const char *, const char *,
                         sd_bus_error *, sd_bus_message **, const char *, va_list);
        va_list ap;
        int r;

        if (!fn)
                fn = (int (*)(sd_bus *, const char *, const char *, const char *, const char *,
                              sd_bus_error *, sd_bus_message **, const char *, va_list))
                        sym("sd_bus_call_methodv");
        if (!fn)
                return -ELIBACC;
        va_start(ap, types);
        r = fn(bus, destination, path, interface, member, ret_error, reply, types, ap);
        va_end(ap);
        return r;
}
