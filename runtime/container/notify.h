/* sd_notify through the container: when NOTIFY_SOCKET is set in gkrun's
 * environment (systemd Type=notify, podman --sdnotify=container), the
 * container gets a socket of its own at /run/notify/notify.sock and gkrun
 * passes its READY=1 on to the caller's socket, with MAINPID.
 *
 * Order, as runc's callers expect it:
 *   create   gk_notify_prepare: ROOT/ID/notify/ bound read-only on
 *            /run/notify, NOTIFY_SOCKET=/run/notify/notify.sock in the env
 *   start    gk_notify_listen before the user process runs, then
 *            gk_notify_relay: blocks until READY= (or the init is gone)
 *   run      as start; in the foreground the relay runs in a thread
 *            (gk_notify_relay_thread) while gkrun waits for the container */
#ifndef GK_RUNTIME_NOTIFY_H
#define GK_RUNTIME_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "container/container.h"
#include "gk/error.h"

#define GK_NOTIFY_DIR "/run/notify"
#define GK_NOTIFY_SOCKET GK_NOTIFY_DIR "/notify.sock"

/* The caller's NOTIFY_SOCKET, or NULL when it is unset or empty. */
const char *gk_notify_host(void);

/* create/run: the state directory exists; adds the mount and the env
 * entry to c->spec.  Does nothing without NOTIFY_SOCKET. */
int gk_notify_prepare(gk_container *c, gk_error **err);

/* start/run: binds ROOT/ID/notify/notify.sock and puts the socket in *FD,
 * or -1 when there is nothing to relay: no NOTIFY_SOCKET, or a container
 * created without one.  Returns 0 or -errno. */
int gk_notify_listen(const char *root, const char *id, int *fd, gk_error **err);

/* Waits on FD (from gk_notify_listen) for a READY= line while WATCH
 * lives, then sends that line and MAINPID=MAINPID to the caller's socket
 * and waits for its BARRIER=1 acknowledgement.  Closes FD. */
int gk_notify_relay(int fd, pid_t watch, pid_t mainpid, gk_error **err);

/* gk_notify_relay in a detached thread that blocks every signal (the
 * foreground run reads its signals from a signalfd). */
int gk_notify_relay_thread(int fd, pid_t watch, pid_t mainpid, gk_error **err);

#endif
