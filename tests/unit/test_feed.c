/* What an upload may read of a blob still downloading, and when the
 * download waits for it (imgtool/feed.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../imgtool/feed.h"

/* Never the last byte before the digest is checked. */
static void test_last_byte_held(void **state)
{
        gk_blob_feed f = { .fd = -1 };

        assert_int_equal(gk_blob_feed_readable(&f, 100), 0);
        f.landed = 40;
        assert_int_equal(gk_blob_feed_readable(&f, 100), 40);
        f.landed = 100;
        assert_int_equal(gk_blob_feed_readable(&f, 100), 99);
        f.landed = 1;
        assert_int_equal(gk_blob_feed_readable(&f, 1), 0);
        f.verified = true;
        assert_int_equal(gk_blob_feed_readable(&f, 1), 1);
        f.landed = 0; /* the store's copy: landed says nothing */
        assert_int_equal(gk_blob_feed_readable(&f, 100), 100);
}

static void test_empty_blob(void **state)
{
        gk_blob_feed f = { .fd = -1 };

        assert_int_equal(gk_blob_feed_readable(&f, 0), 0);
        f.verified = true;
        assert_int_equal(gk_blob_feed_readable(&f, 0), 0);
}

/* The download waits when held, or when a reader is on it and it is
 * GK_FEED_AHEAD bytes ahead; with nobody reading it never waits. */
static void test_download_waits(void **state)
{
        gk_blob_feed f = { .fd = -1, .landed = 64u << 20 };

        assert_false(gk_blob_feed_wait(&f));
        f.hold = true;
        assert_true(gk_blob_feed_wait(&f));
        f.hold = false;
        f.paced = true;
        f.taken = f.landed - GK_FEED_AHEAD;
        assert_true(gk_blob_feed_wait(&f));
        f.taken++;
        assert_false(gk_blob_feed_wait(&f));
        f.landed = 0;
        f.taken = 0;
        assert_false(gk_blob_feed_wait(&f));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_last_byte_held),
                cmocka_unit_test(test_empty_blob),
                cmocka_unit_test(test_download_waits),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
