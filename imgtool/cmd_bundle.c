/* Placeholder until this command lands. */
#include <errno.h>

#include "commands.h"

int cmd_bundle(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        return gk_error_make(err, ENOSYS, "%s", argv[0]);
}

int cmd_unbundle(int argc, char **argv, const gk_img_global *g, gk_error **err)
{
        return gk_error_make(err, ENOSYS, "%s", argv[0]);
}
