/* Placeholder: replaced by the networking implementation. */
#include "net.h"

int gk_net_prepare(gk_container *c, char **record, gk_error **err)
{
        *record = NULL;
        return 0;
}

int gk_net_attach(gk_container *c, const char *record, gk_error **err)
{
        return 0;
}

int gk_net_teardown(const char *root, const char *id, const char *record, gk_error **err)
{
        return 0;
}
