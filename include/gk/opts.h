/* Command-line flags the way orchestrators spell them: --flag value,
 * --flag=value, -flag value (single-dash long), bool flags with an optional
 * =true/=false, and repeated string flags collected into a vector. */
#ifndef GK_OPTS_H
#define GK_OPTS_H

#include <errno.h>
#include <stdbool.h>

#include "gk/error.h"

enum gk_opt_type {
        GK_OPT_BOOL,   /* bool *        */
        GK_OPT_STRING, /* const char ** */
        GK_OPT_INT,    /* int *         */
        GK_OPT_STRV,   /* char ***: appended, NULL-terminated, caller frees with gk_strvfree */
};

typedef struct gk_opt {
        const char *name; /* long name without dashes: "pid-file" */
        char short_name;  /* 'b' or 0 */
        enum gk_opt_type type;
        void *target;
        /* For --help (optional): what the value is ("BYTES"; by default
         * string, int or list, as docker says) and what the flag does. */
        const char *arg;
        const char *help;
} gk_opt;

/* Parses flags from argv[1] on (argv[0] is the verb) and stops at the first
 * positional argument or after "--"; *first_arg is its index.  Unknown flags
 * are an error naming the flag: "create: flag provided but not defined: -x"
 * (without "VERB: " when verb is NULL, for the program's global flags). */
int gk_opts_parse(int argc, char **argv, const char *verb, const gk_opt *opts, int *first_arg,
                  gk_error **err);

/* With help on (a program's main turns it on once), --help and -h, where
 * the table does not define them, make gk_opts_parse fail with
 * GK_OPTS_HELP: *err's message is then the flags' list (gk_opts_help), for
 * main to print on stdout with the command's usage, exiting 0.  Off (the
 * default), they are unknown flags like any other. */
#define GK_OPTS_HELP ECANCELED
void gk_opts_set_help(bool on);

/* The flags of OPTS, one a line ("  -f, --force   what it does"), and the
 * help flag itself last; NULL when out of memory. */
char *gk_opts_help(const gk_opt *opts);

/* Interprets "true"/"false"/"1"/"0" (runc's --rootless also takes "auto"). */
int gk_parse_bool(const char *s, bool *out);

#endif
