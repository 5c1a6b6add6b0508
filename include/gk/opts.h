/* Command-line flags the way orchestrators spell them: --flag value,
 * --flag=value, -flag value (single-dash long), bool flags with an optional
 * =true/=false, and repeated string flags collected into a vector. */
#ifndef GK_OPTS_H
#define GK_OPTS_H

#include <stdbool.h>

#include "gk/error.h"

enum gk_opt_type {
        GK_OPT_BOOL,   /* bool *        */
        GK_OPT_STRING, /* const char ** */
        GK_OPT_INT,    /* int *         */
        GK_OPT_STRV,   /* char ***: appended, NULL-terminated, caller frees with gk_strvfree */
};

typedef struct gk_opt {
        const char *name;  /* long name without dashes: "pid-file" */
        char short_name;   /* 'b' or 0 */
        enum gk_opt_type type;
        void *target;
} gk_opt;

/* Parses flags from argv[1] on (argv[0] is the verb) and stops at the first
 * positional argument or after "--"; *first_arg is its index.  Unknown flags
 * are an error naming the flag: "create: flag provided but not defined: -x"
 * (without "VERB: " when verb is NULL, for the program's global flags). */
int gk_opts_parse(int argc, char **argv, const char *verb, const gk_opt *opts,
                  int *first_arg, gk_error **err);

/* Interprets "true"/"false"/"1"/"0" (runc's --rootless also takes "auto"). */
int gk_parse_bool(const char *s, bool *out);

#endif
