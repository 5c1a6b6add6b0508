/* cmd/: gkrun's command line: main.c (global flags, the verb table, the
 * one place that prints: errors, and the output of state/list/ps/spec/
 * events), one cmd_*.c per verb parsing its own flags.  It owns no
 * mechanism: a command calls container/, spawn/, cgroup/ and prints what
 * they return; nothing below cmd/ includes a cmd_*.c's functions (only the
 * gk_global flags of this header).
 *
 * The command table's contract: one function per gkrun verb, one file each
 * (cmd_*.c).  A command parses its own flags from argv (argv[0] is the verb),
 * returns the process exit status on success paths it owns, or a negative
 * errno with *err filled; main() prints the error and exits 1. */
#ifndef GK_RUNTIME_COMMANDS_H
#define GK_RUNTIME_COMMANDS_H

#include <stdbool.h>

#include "gk/error.h"

typedef struct gk_global {
        const char *root;      /* --root, default /run/gkrun */
        const char *log_path;  /* --log */
        bool log_json;         /* --log-format json */
        bool debug;
        bool systemd_cgroup;
        int rootless;          /* -1 auto, 0, 1 */
        char **argv;           /* main's, to re-execute (selfclone.h) */
        /* main's printer for what fails without failing the command (a
         * poststart or poststop hook): stderr and the --log file */
        void (*warn)(const struct gk_global *g, const char *msg);
} gk_global;

typedef int (*gk_command_fn)(int argc, char **argv, const gk_global *g,
                             gk_error **err);

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

/* Parses a command that takes no flags and exactly one container id. */
int gk_cmd_one_id(int argc, char **argv, const char **id, gk_error **err);

#endif
