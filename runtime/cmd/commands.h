/* cmd/: gkrun's command line: main.c (global flags, the verb table, the
 * one place that prints: errors, and the output of state/list/ps/spec/
 * events), one cmd_*.c per verb parsing its own flags.  It owns no
 * mechanism: a command calls container/, spawn/, cgroup/ and prints what
 * they return; nothing below cmd/ includes this header (the global flags
 * every command passes down, gk_global, are model/global.h's).
 *
 * The command table's contract: one function per gkrun verb, one file each
 * (cmd_*.c).  A command parses its own flags from argv (argv[0] is the verb),
 * returns the process exit status on success paths it owns, or a negative
 * errno with *err filled; main() prints the error and exits 1. */
#ifndef GK_RUNTIME_COMMANDS_H
#define GK_RUNTIME_COMMANDS_H

#include <stdbool.h>

#include "model/global.h"
#include "gk/error.h"

typedef int (*gk_command_fn)(int argc, char **argv, const gk_global *g, gk_error **err);

int cmd_create(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_start(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_run(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_state(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_kill(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_delete(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_list(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_ps(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_exec(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_spec(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_features(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_update(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_pause(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_resume(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_events(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_checkpoint(int argc, char **argv, const gk_global *g, gk_error **err);
int cmd_restore(int argc, char **argv, const gk_global *g, gk_error **err);

/* Parses a command that takes no flags and exactly one container id. */
int gk_cmd_one_id(int argc, char **argv, const char **id, gk_error **err);

#endif
