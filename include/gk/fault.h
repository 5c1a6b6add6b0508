/* Fault injection for the crash tests (tests/integration/test_crash.py).
 *
 * GK_FAULT("create.after-clone") marks a step boundary where a crash must
 * leave only what `gkrun delete --force` (or the next gkimg pull/bundle,
 * or gc) can clean.  Built with -DGK_FAULT_INJECTION (`make fault`, into
 * O/fault), a point kills its process with SIGKILL when the environment
 * variable GK_FAULT names it.  The normal build compiles every point to
 * nothing: no code, no strings.
 *
 * The points are the GK_FAULT("...") strings in the sources: the test
 * finds them there, so a new point is tested without being listed again.
 * Names start with the command whose run reaches them (create, start,
 * exec, delete, pull, bundle); a point must be reached by that command's
 * ordinary run (the test fails for a point it cannot reach).  Only the
 * parent side may have points: a cloned child shares the environment.
 *
 * GK_RACE("cgroup.parent-removed") is true, in the fault build only, when
 * the environment variable GK_RACE names it: it stands in for a race
 * lost to a concurrent process, so the recovery path runs on demand.
 *
 * GK_PAUSE("exec.child") stops the calling process (SIGSTOP), in the fault
 * build only, when the environment variable GK_PAUSE names it: a test then
 * looks at the process at that point (its fds, say) and sends SIGCONT.
 * Unlike GK_FAULT it may stand on the child side. */
#ifndef GK_FAULT_H
#define GK_FAULT_H

#ifdef GK_FAULT_INJECTION
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void gk_fault_point(const char *name)
{
        static const char *want;
        static int read_env;

        if (!read_env) {
                want = getenv("GK_FAULT");
                read_env = 1;
        }
        if (want && !strcmp(want, name))
                raise(SIGKILL);
}
#define GK_FAULT(name) gk_fault_point(name)

static inline int gk_fault_race(const char *name)
{
        const char *want = getenv("GK_RACE");

        return want && !strcmp(want, name);
}
#define GK_RACE(name) gk_fault_race(name)

static inline void gk_fault_pause(const char *name)
{
        const char *want = getenv("GK_PAUSE");

        if (want && !strcmp(want, name))
                raise(SIGSTOP);
}
#define GK_PAUSE(name) gk_fault_pause(name)
#else
#define GK_FAULT(name) ((void) 0)
#define GK_RACE(name) 0
#define GK_PAUSE(name) ((void) 0)
#endif

#endif
