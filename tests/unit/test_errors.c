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

static void test_wrap_dir_joins_the_path(void **state)
{
        gk_error *err = NULL;

        (void) state;
        gk_error_make(&err, ENOENT, "stat `%s`", "x");
        gk_error_wrap_dir(&err, "lib");
        assert_int_equal(gk_error_wrap_dir(&err, "usr"), -ENOENT);
        assert_string_equal(err->msg, "stat `usr/lib/x`: No such file or directory");
        gk_error_free(err);
        err = NULL;
        gk_error_make(&err, EBUSY, "`%s` is a mount point", "proc");
        gk_error_wrap_dir(&err, "a");
        assert_string_equal(err->msg, "`a/proc` is a mount point: Device or resource busy");
        gk_error_free(err);
        err = NULL;
        /* no path named up front: the directory is named once */
        gk_error_make(&err, EIO, "read: `%s` failed", "q");
        gk_error_wrap_dir(&err, "b");
        gk_error_wrap_dir(&err, "a");
        assert_string_equal(err->msg, "`a/b`: read: `q` failed: Input/output error");
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

static void test_tls_failures_in_the_users_terms(void **state)
{
        char buf[512];
        const char *t;

        (void) state;
        t = gk_http_transport_text(CURLE_SSL_CONNECT_ERROR,
                                   "error:0A00010B:SSL routines::wrong version number",
                                   "r.example", buf, sizeof(buf));
        assert_non_null(strstr(t, "server gave HTTP response to HTTPS client"));
        assert_null(strstr(t, "SSL routines"));
        assert_true(gk_http_spoke_plain(CURLE_SSL_CONNECT_ERROR, "packet length too long"));
        assert_false(gk_http_spoke_plain(CURLE_SSL_CONNECT_ERROR, "handshake failure"));
        t = gk_http_transport_text(CURLE_PEER_FAILED_VERIFICATION,
                                   "SSL certificate problem: self-signed certificate", "r.example",
                                   buf, sizeof(buf));
        assert_non_null(strstr(t, "SSL certificate problem: self-signed certificate"));
        assert_non_null(strstr(t, "/etc/gk/certs.d/r.example/"));
        assert_non_null(strstr(t, "--cert-dir"));
        assert_non_null(strstr(t, "--tls-verify=false"));
        t = gk_http_transport_text(CURLE_COULDNT_CONNECT, "", "r.example", buf, sizeof(buf));
        assert_string_equal(t, curl_easy_strerror(CURLE_COULDNT_CONNECT));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_code_or_keeps_the_callee_errno),
                cmocka_unit_test(test_code_or_falls_back_without_an_errno),
                cmocka_unit_test(test_curl_codes_map_to_errnos),
                cmocka_unit_test(test_wrap_dir_joins_the_path),
                cmocka_unit_test(test_tls_failures_in_the_users_terms),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
