/* console.c: the pty of a container with terminal: true. */
#ifndef GK_RUNTIME_SPAWN_CONSOLE_H
#define GK_RUNTIME_SPAWN_CONSOLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "gk/error.h"
#include "gk/spec.h"

int gk_console_setup(int console_sock, const gk_console_size *size, uid_t uid,
                     bool bind_dev_console, gk_error **err);
/* Sends a pty master over a unix socket (restore: the one CRIU kept). */
int gk_console_send_master(int sock, int master, gk_error **err);
/* Receives the pty master sent by an init over a unix socket. */
int gk_console_recv_master(int sock, gk_error **err);
/* A listening socket for run/exec with -t in the foreground: path in *path. */
int gk_console_listen(char **path, gk_error **err);
/* Copies between our stdio and MASTER until the child exits; returns its
 * wait status. Forwards signals and window size. */
int gk_tty_proxy(int master, pid_t child, gk_error **err);

#endif
