/* Errors keep the errno of what failed: gk_error_code_or() (lib/error.c)
 * and the errno a failed curl transfer is reported with
 * (imgtool/http.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/registry_internal.h"
#include "gk/error.h"

static void test_code_or_keeps_the_callee_errno(void **state)
{
        gk_error *err = NULL;

        (void) state;
        assert_int_equal(gk_error_make(&err, ENOSPC, "write `%s`", "x"), -ENOSPC);
        assert_int_equal(gk_error_code_or(&err, -EIO), -ENOSPC);
        assert_string_equal(err->msg, "write `x`: No space left on device");
        gk_error_free(err);
}

static void test_code_or_falls_back_without_an_errno(void **state)
{
        gk_error *err = NULL;

        (void) state;
        assert_int_equal(gk_error_code_or(NULL, -EIO), -EIO);
        assert_int_equal(gk_error_code_or(&err, -EIO), -EIO);
        gk_error_make(&err, 0, "a message alone");
        assert_int_equal(gk_error_code_or(&err, -ENOENT), -ENOENT);
        gk_error_free(err);
}

static void test_curl_codes_map_to_errnos(void **state)
{
        (void) state;
        assert_int_equal(gk_http_curl_errno(CURLE_COULDNT_CONNECT), ECONNREFUSED);
        assert_int_equal(gk_http_curl_errno(CURLE_OPERATION_TIMEDOUT), ETIMEDOUT);
        assert_int_equal(gk_http_curl_errno(CURLE_COULDNT_RESOLVE_HOST), EHOSTUNREACH);
        assert_int_equal(gk_http_curl_errno(CURLE_SSL_CONNECT_ERROR), EPROTO);
        assert_int_equal(gk_http_curl_errno(CURLE_RECV_ERROR), ECONNRESET);
        assert_int_equal(gk_http_curl_errno(CURLE_OUT_OF_MEMORY), ENOMEM);
        assert_int_equal(gk_http_curl_errno(CURLE_WRITE_ERROR), EIO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_code_or_keeps_the_callee_errno),
                cmocka_unit_test(test_code_or_falls_back_without_an_errno),
                cmocka_unit_test(test_curl_codes_map_to_errnos),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
