/* Link and upload Range header values (imgtool/http_parse.c): the next
 * page of a tag list, and the offset an interrupted upload resumes at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/http_parse.h"
#include "gk/cleanup.h"

static void expect_next(const char *link, const char *want)
{
        char *got = gk_link_next(link);

        const char *l = link ? link : "(null)";

        if (!want && got)
                fail_msg("`%s`: got `%s`, expected none", l, got);
        if (want && (!got || strcmp(got, want)))
                fail_msg("`%s`: got `%s`, expected `%s`", l, got ? got : "(none)", want);
        free(got);
}

static void test_link(void **state)
{
        (void) state;
        /* distribution's form */
        expect_next("</v2/a/tags/list?last=v2&n=2>; rel=\"next\"", "/v2/a/tags/list?last=v2&n=2");
        expect_next("<https://r.example/v2/a/tags/list?last=x>;rel=next",
                    "https://r.example/v2/a/tags/list?last=x");
        /* several entries; next is not the first */
        expect_next("</first>; rel=\"first\", </p2>; rel=\"next\"", "/p2");
        expect_next("</p2>; title=\"a, b; c\"; rel=\"prev next\"", "/p2");
        expect_next("</p2>; REL=\"Next\"", "/p2");
        /* no next, or malformed */
        expect_next("</p1>; rel=\"prev\"", NULL);
        expect_next("</p1>; rel=\"nextpage\"", NULL);
        expect_next("<>; rel=\"next\"", NULL);
        expect_next("/p2; rel=\"next\"", NULL);
        expect_next("</p2; rel=\"next\"", NULL);
        expect_next("", NULL);
        expect_next(NULL, NULL);
}

static void test_range(void **state)
{
        uint64_t next = 99;

        (void) state;
        assert_true(gk_upload_range_next("0-1233", &next));
        assert_int_equal(next, 1234);
        assert_true(gk_upload_range_next("bytes=0-9", &next));
        assert_int_equal(next, 10);
        assert_true(gk_upload_range_next(" 0-1 ", &next));
        assert_int_equal(next, 2);
        /* distribution's empty upload, and no header at all */
        assert_true(gk_upload_range_next("0-0", &next));
        assert_int_equal(next, 0);
        next = 5;
        assert_true(gk_upload_range_next(NULL, &next));
        assert_int_equal(next, 0);
        /* not a range from 0 */
        assert_false(gk_upload_range_next("5-10", &next));
        assert_false(gk_upload_range_next("0-", &next));
        assert_false(gk_upload_range_next("0--5", &next));
        assert_false(gk_upload_range_next("0-12x", &next));
        assert_false(gk_upload_range_next("0-99999999999999999999999", &next));
        assert_false(gk_upload_range_next("", &next));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_link),
                cmocka_unit_test(test_range),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
