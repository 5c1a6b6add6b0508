/* Unit tests of gkrun-net's logic that needs no network: the org.gk.net.*
 * annotations, the record del works from, resolv.conf. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gk/cleanup.h"
#include "net/net_internal.h"

static int parse(const char *mode, const char *ports, const char *bridge, const char *subnet,
                 const char *dns, gk_net_conf *conf, gk_error **err)
{
        gk_kv kv[5] = { 0 };
        size_t n = 0;

#define ADD(k, v) \
        if (v)    \
        kv[n++] = (gk_kv){ (char *) (k), (char *) (v) }
        ADD(GK_ANN_NET_MODE, mode);
        ADD(GK_ANN_NET_PORTS, ports);
        ADD(GK_ANN_NET_BRIDGE, bridge);
        ADD(GK_ANN_NET_SUBNET, subnet);
        ADD(GK_ANN_NET_DNS, dns);
#undef ADD
        return gk_net_conf_parse(kv, n, conf, err);
}

static void expect_error(const char *mode, const char *ports, const char *bridge,
                         const char *subnet, const char *dns, const char *needle)
{
        gk_net_conf conf;
        gk_error *err = NULL;

        assert_true(parse(mode, ports, bridge, subnet, dns, &conf, &err) < 0);
        assert_non_null(err);
        if (!strstr(err->msg, needle))
                fail_msg("message `%s` lacks `%s`", err->msg, needle);
        gk_error_free(err);
}

static void test_defaults(void **state)
{
        gk_net_conf conf;
        gk_error *err = NULL;

        assert_int_equal(parse(NULL, NULL, NULL, NULL, NULL, &conf, &err), 0);
        assert_int_equal(conf.mode, GK_NET_UNSET);
        assert_int_equal(parse("bridge", NULL, NULL, NULL, NULL, &conf, &err), 0);
        assert_int_equal(conf.mode, GK_NET_BRIDGE);
        assert_string_equal(conf.bridge, "gk0");
        assert_string_equal(inet_ntoa(conf.subnet), "172.29.0.0");
        assert_int_equal(conf.prefix, 16);
        assert_int_equal(conf.n_ports, 0);
        assert_string_equal(inet_ntoa(gk_ipam_gateway(conf.subnet)), "172.29.0.1");
        assert_int_equal(parse("none", NULL, NULL, NULL, NULL, &conf, &err), 0);
        assert_int_equal(conf.mode, GK_NET_NONE);
        assert_int_equal(parse("host", NULL, NULL, NULL, NULL, &conf, &err), 0);
        assert_int_equal(conf.mode, GK_NET_HOST);
        assert_null(err);
}

static void test_ports(void **state)
{
        gk_net_conf conf;
        gk_error *err = NULL;

        assert_int_equal(parse("bridge", "8080:80,53:5353/udp,1:65535/tcp", "br-x", "10.1.2.0/24",
                               "1.1.1.1,9.9.9.9", &conf, &err),
                         0);
        assert_int_equal(conf.n_ports, 3);
        assert_int_equal(conf.ports[0].host, 8080);
        assert_int_equal(conf.ports[0].ctr, 80);
        assert_int_equal(conf.ports[0].proto, IPPROTO_TCP);
        assert_int_equal(conf.ports[1].host, 53);
        assert_int_equal(conf.ports[1].ctr, 5353);
        assert_int_equal(conf.ports[1].proto, IPPROTO_UDP);
        assert_int_equal(conf.ports[2].ctr, 65535);
        assert_string_equal(conf.bridge, "br-x");
        assert_int_equal(conf.n_dns, 2);
        /* the same host port on both protocols is fine */
        assert_int_equal(parse("bridge", "53:53/tcp,53:53/udp", NULL, NULL, NULL, &conf, &err), 0);
        assert_null(err);
}

static void test_bad_annotations(void **state)
{
        expect_error("bogus", NULL, NULL, NULL, NULL,
                     "org.gk.net.mode`: `bogus`: must be none, host or bridge");
        expect_error(NULL, "80:80", NULL, NULL, NULL, "org.gk.net.mode");
        expect_error("none", "80:80", NULL, NULL, NULL, "takes no ports");
        expect_error("bridge", "80", NULL, NULL, NULL,
                     "org.gk.net.ports`: `80`: want HOST:CONTAINER");
        expect_error("bridge", "0:80", NULL, NULL, NULL, "`0:80`");
        expect_error("bridge", "80:65536", NULL, NULL, NULL, "`80:65536`");
        expect_error("bridge", "80:80/sctp", NULL, NULL, NULL, "`80:80/sctp`");
        expect_error("bridge", "80:80,", NULL, NULL, NULL, "empty item");
        expect_error("bridge", "80:80,,81:81", NULL, NULL, NULL, "``");
        expect_error("bridge", "-1:80", NULL, NULL, NULL, "`-1:80`");
        expect_error("bridge", "80:80,80:81", NULL, NULL, NULL,
                     "host port 80/tcp published twice");
        expect_error("bridge", NULL, "this-name-is-too-long", NULL, NULL, "org.gk.net.bridge");
        expect_error("bridge", NULL, "a/b", NULL, NULL, "org.gk.net.bridge");
        expect_error("bridge", NULL, "", NULL, NULL, "org.gk.net.bridge");
        expect_error("bridge", NULL, NULL, "10.0.0.0", NULL, "want an IPv4 subnet");
        expect_error("bridge", NULL, NULL, "10.0.0.1/24", NULL, "host bits set");
        expect_error("bridge", NULL, NULL, "10.0.0.0/31", NULL, "prefix length must be 8 to 30");
        expect_error("bridge", NULL, NULL, "fd00::/64", NULL, "want an IPv4 subnet");
        expect_error("bridge", NULL, NULL, NULL, "1.1.1.1,nope", "`nope`: not an IPv4 address");
        expect_error("bridge", NULL, NULL, NULL, "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", "at most 3");
}

static void test_record_round_trip(void **state)
{
        gk_net_rec r = { 0 }, back;
        gk_error *err = NULL;
        _cleanup_free_ char *text = NULL;

        assert_int_equal(parse("bridge", "8080:80,53:53/udp", "gkt1", "10.9.0.0/16", NULL, &r.conf,
                               &err),
                         0);
        memcpy(r.tag, "0123456789", 11);
        inet_pton(AF_INET, "10.9.3.4", &r.ip);
        assert_int_equal(gk_net_rec_format(&r, &text), 0);
        assert_string_equal(text, "v1 mode=bridge tag=0123456789 bridge=gkt1 subnet=10.9.0.0/16 "
                                  "ip=10.9.3.4 ports=8080:80/tcp,53:53/udp");
        assert_int_equal(gk_net_rec_parse(text, &back, &err), 0);
        assert_int_equal(back.conf.mode, GK_NET_BRIDGE);
        assert_string_equal(back.tag, "0123456789");
        assert_string_equal(back.conf.bridge, "gkt1");
        assert_int_equal(back.ip.s_addr, r.ip.s_addr);
        assert_string_equal(inet_ntoa(back.gw), "10.9.0.1");
        assert_int_equal(back.conf.prefix, 16);
        assert_int_equal(back.conf.n_ports, 2);
        assert_int_equal(back.conf.ports[1].proto, IPPROTO_UDP);
        /* written before the lease is taken: no ip yet, del looks the
         * lease up by its owner */
        free(text);
        text = NULL;
        r.ip.s_addr = 0;
        assert_int_equal(gk_net_rec_format(&r, &text), 0);
        assert_string_equal(text, "v1 mode=bridge tag=0123456789 bridge=gkt1 subnet=10.9.0.0/16 "
                                  "ports=8080:80/tcp,53:53/udp");
        assert_int_equal(gk_net_rec_parse(text, &back, &err), 0);
        assert_int_equal(back.ip.s_addr, 0);
        /* newer keys are skipped */
        assert_int_equal(gk_net_rec_parse("v1 mode=none tag=0123456789 future=1", &back, &err), 0);
        assert_int_equal(back.conf.mode, GK_NET_NONE);
        assert_null(err);
}

static void test_bad_records(void **state)
{
        static const char *const bad[] = {
                "",
                "v2 mode=none tag=0123456789",
                "v1 mode=none",
                "v1",
                "v1 mode=bridge tag=0123456789 bridge=gk0 ip=10.0.0.2",
                "v1 mode=bridge tag=../../etc bridge=gk0 subnet=10.0.0.0/24 ip=10.0.0.2",
                "v1 mode=bridge tag=0123456789 bridge=a/b subnet=10.0.0.0/24 ip=10.0.0.2",
        };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                gk_net_rec r;
                gk_error *err = NULL;

                assert_true(gk_net_rec_parse(bad[i], &r, &err) < 0);
                assert_non_null(err);
                assert_non_null(strstr(err->msg, "network record"));
                gk_error_free(err);
        }
}

static void test_resolv_conf(void **state)
{
        const char *host = "# generated\nsearch example.org\nnameserver 127.0.0.53\n"
                           "nameserver 10.0.0.53\nnameserver fd00::53\noptions edns0\n";
        gk_net_conf conf = { 0 };
        _cleanup_free_ char *a = gk_net_resolv_conf(host, &conf), *b = NULL, *c = NULL;

        assert_string_equal(a, "search example.org\nnameserver 10.0.0.53\noptions edns0\n");
        /* only loopback resolvers on the host: Docker's public fallback */
        b = gk_net_resolv_conf("nameserver 127.0.0.1\n", &conf);
        assert_string_equal(b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        /* org.gk.net.dns replaces the host's servers, keeps search/options */
        inet_pton(AF_INET, "192.0.2.53", &conf.dns[0]);
        conf.n_dns = 1;
        c = gk_net_resolv_conf(host, &conf);
        assert_string_equal(c, "nameserver 192.0.2.53\nsearch example.org\noptions edns0\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),        cmocka_unit_test(test_ports),
                cmocka_unit_test(test_bad_annotations), cmocka_unit_test(test_record_round_trip),
                cmocka_unit_test(test_bad_records),     cmocka_unit_test(test_resolv_conf),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
