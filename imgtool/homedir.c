/* See homedir.h. */
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "homedir.h"

const char *gk_home_dir(void)
{
        const char *home = getenv("HOME");
        struct passwd *pw;

        if (home && *home)
                return home;
        pw = getpwuid(getuid());
        return pw && pw->pw_dir ? pw->pw_dir : "/";
}
