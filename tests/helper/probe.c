/* gk-probe: a static helper put inside test rootfses; reports what the
 * container sees.  Placeholder until the probes land. */
#include <stdio.h>

int main(void)
{
        puts("gk-probe");
        return 0;
}
