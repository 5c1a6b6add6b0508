/* signals.c: the foreground loop of run/exec without a tty, and signal
 * names. */
#ifndef GK_RUNTIME_SPAWN_SIGNALS_H
#define GK_RUNTIME_SPAWN_SIGNALS_H

#include <sys/types.h>

/* Forwards signals to PID and returns its exit status (128+signal when
 * killed). */
int gk_wait_forward(pid_t pid);
int gk_exit_status(int wstatus);
int gk_signal_parse(const char *s, int *sig);

#endif
