/* Placeholder until this command lands. */
#include <errno.h>

#include "commands.h"

int cmd_events(int argc, char **argv, const gk_global *g, gk_error **err)
{
        return gk_error_make(err, ENOSYS, "%s", argv[0]);
}
