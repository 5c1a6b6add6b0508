/* SCMP_ACT_NOTIFY with linux.seccomp.listenerPath: the notify fd of the
 * loaded filter goes to the listener (a unix stream socket) in one message
 * with SCM_RIGHTS, together with the container process state JSON of the
 * runtime spec (ociVersion, fds ["seccompFd"], pid, metadata, state).
 *
 * The listener path is on the host, out of the container's reach once its
 * root is set up: gkrun connects before the init is cloned, the init
 * inherits the connected socket and sends over it right after loading the
 * filter (seccomp is applied last, just before execve). */
#ifndef GK_RUNTIME_SECCOMP_NOTIFY_H
#define GK_RUNTIME_SECCOMP_NOTIFY_H

#include <stdbool.h>

#include "gk/error.h"
#include "gk/spec.h"

/* True when SC has a listener and an SCMP_ACT_NOTIFY rule. */
bool gk_seccomp_wants_listener(const gk_seccomp *sc);

/* Connects to SC's listenerPath; returns the socket (close-on-exec). */
int gk_seccomp_listener_connect(const gk_seccomp *sc, gk_error **err);

/* The container process state JSON for process PID (0: the one we are,
 * its pid read from /proc/self: call while /proc is still the caller's),
 * with the container's ID, BUNDLE, annotations, STATUS and INIT_PID (0:
 * the process is the init). */
int gk_seccomp_listener_state(const gk_spec *spec, const char *id, const char *bundle,
                              const char *status, long pid, long init_pid, char **out,
                              gk_error **err);

/* Sends STATE_JSON and NOTIFY_FD over SOCK in one message. */
int gk_seccomp_listener_send(int sock, int notify_fd, const char *state_json, gk_error **err);

#endif
