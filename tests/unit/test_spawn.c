/* Unit tests of the spawner's sync discipline (runtime/spawn/spawn.c): the
 * parent learns "exec'd" only from the GK_SYNC_EXEC marker followed by
 * the end of file, "failed" from the child's error, and a child that dies
 * without a word is neither; the pid guard leaves nothing.  No namespaces:
 * runs without root. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "gk/cleanup.h"
#include "spawn/spawn.h"
#include "sync/sync.h"

enum child_does { EXECS, FAILS_AFTER_MARKER, DIES_BEFORE_MARKER, SLEEPS };

static int spawn(gk_spawn *s, enum child_does what)
{
        gk_error *err = NULL;
        int r;

        *s = GK_SPAWN_INIT;
        r = gk_spawn_clone(s, 0, -1, &err);
        if (r != 0) {
                gk_error_free(err);
                return r;
        }
        switch (what) {
        case EXECS:
                gk_sync_send(s->sync_child, GK_SYNC_EXEC);
                execl("/bin/true", "true", (char *) NULL);
                _exit(127);
        case FAILS_AFTER_MARKER:
                gk_sync_send(s->sync_child, GK_SYNC_EXEC);
                gk_error_make(&err, ENOENT, "exec: \"/nosuch\"");
                gk_sync_send_error(s->sync_child, err);
                _exit(127);
        case DIES_BEFORE_MARKER:
                _exit(0);
        case SLEEPS:
                pause();
                _exit(0);
        }
        _exit(1);
}

static void test_exec_is_marker_then_end_of_file(void **state)
{
        gk_spawn s;
        gk_error *err = NULL;

        assert_int_equal(spawn(&s, EXECS), 1);
        assert_true(s.pid > 0);
        assert_int_equal(gk_spawn_wait_exec(&s, &err), 0);
        assert_null(err);
        gk_spawn_abort(&s); /* reaps it */
        assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
        gk_spawn_release(&s);
}

static void test_error_after_marker_is_the_childs(void **state)
{
        gk_spawn s;
        gk_error *err = NULL;

        assert_int_equal(spawn(&s, FAILS_AFTER_MARKER), 1);
        assert_int_equal(gk_spawn_wait_exec(&s, &err), -ENOENT);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "exec: \"/nosuch\""));
        gk_error_free(err);
        gk_spawn_abort(&s);
        gk_spawn_release(&s);
}

static void test_death_before_marker_is_not_success(void **state)
{
        gk_spawn s;
        gk_error *err = NULL;

        assert_int_equal(spawn(&s, DIES_BEFORE_MARKER), 1);
        assert_true(gk_spawn_wait_exec(&s, &err) < 0);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "exited during setup"));
        gk_error_free(err);
        gk_spawn_abort(&s);
        gk_spawn_release(&s);
}

static void test_guard_kills_and_reaps(void **state)
{
        gk_spawn s;
        pid_t pid;

        assert_int_equal(spawn(&s, SLEEPS), 1);
        pid = s.pid;
        assert_true(s.pidfd >= 0);
        gk_spawn_abort(&s);
        assert_int_equal(s.pid, 0);
        assert_int_equal(s.pidfd, -1);
        /* reaped: no such child any more */
        assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
        assert_int_equal(errno, ECHILD);
        gk_spawn_release(&s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exec_is_marker_then_end_of_file),
                cmocka_unit_test(test_error_after_marker_is_the_childs),
                cmocka_unit_test(test_death_before_marker_is_not_success),
                cmocka_unit_test(test_guard_kills_and_reaps),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
