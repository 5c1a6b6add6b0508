/* containers-policy.json parsing, scope choice and signedIdentity
 * matching (imgtool/policy.c, sigident.c); registries.d reading
 * (imgtool/regsd.c); the signature payload (imgtool/sigpayload.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/policy.h"
#include "../../imgtool/regsd.h"
#include "../../imgtool/sig_internal.h"
#include "gk/cleanup.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static gk_policy *parse_ok(const char *text)
{
        gk_policy *p = NULL;
        gk_error *err = NULL;

        if (gk_policy_parse(text, strlen(text), "policy.json", &p, &err) < 0)
                fail_msg("parse: %s\n%s", err->msg, text);
        return p;
}

static void expect_bad(const char *text, const char *msg_part)
{
        gk_policy *p = NULL;
        gk_error *err = NULL;

        if (gk_policy_parse(text, strlen(text), "policy.json", &p, &err) == 0)
                fail_msg("parse succeeded:\n%s", text);
        assert_null(p);
        if (!strstr(err->msg, msg_part))
                fail_msg("message `%s` lacks `%s`", err->msg, msg_part);
        if (strncmp(err->msg, "policy.json: ", 13))
                fail_msg("message `%s` does not name the file", err->msg);
        gk_error_free(err);
}

static void test_parse_requirements(void **state)
{
        _cleanup_(gk_policy_freep) gk_policy *p = parse_ok(
                "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
                "\"a.io/x\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":\"/k\"}],"
                "\"b.io\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\","
                "\"keyPaths\":[\"/k1\",\"/k2\"],\"signedIdentity\":{\"type\":\"matchRepository\"}}],"
                "\"c.io\":[{\"type\":\"sigstoreSigned\",\"keyData\":\"aGVsbG8=\","
                "\"signedIdentity\":{\"type\":\"exactReference\",\"dockerReference\":\"c.io/a:1\"}}],"
                "\"\":[{\"type\":\"insecureAcceptAnything\"}]},"
                "\"docker-daemon\":{\"\":[{\"type\":\"insecureAcceptAnything\"}]}}}");

        assert_int_equal(p->def.n, 1);
        assert_int_equal(p->def.v[0].type, GK_REQ_REJECT);
        assert_int_equal(p->n_scopes, 5);
        assert_string_equal(p->scopes[0].scope, "a.io/x");
        assert_int_equal(p->scopes[0].reqs.v[0].type, GK_REQ_SIGNED_BY);
        assert_string_equal(p->scopes[0].reqs.v[0].keys.paths[0], "/k");
        assert_int_equal(p->scopes[0].reqs.v[0].ident.type, GK_IDENT_MATCH_REPO_DIGEST_OR_EXACT);
        assert_string_equal(p->scopes[1].reqs.v[0].keys.paths[1], "/k2");
        assert_int_equal(p->scopes[1].reqs.v[0].ident.type, GK_IDENT_MATCH_REPOSITORY);
        assert_int_equal(p->scopes[2].reqs.v[0].type, GK_REQ_SIGSTORE);
        assert_int_equal(p->scopes[2].reqs.v[0].keys.data_len, 5);
        assert_memory_equal(p->scopes[2].reqs.v[0].keys.data, "hello", 5);
        assert_string_equal(p->scopes[2].reqs.v[0].ident.value, "c.io/a:1");
        assert_string_equal(p->scopes[4].transport, "docker-daemon");
}

static void test_refused(void **state)
{
        expect_bad("[]", "must be a JSON object");
        expect_bad("{}", "default: missing");
        expect_bad("{\"default\":[]}", "default: must be a non-empty array");
        expect_bad("{\"default\":[{\"type\":\"reject\"}],\"extra\":1}", "extra: unknown field");
        expect_bad("{\"default\":[{\"type\":\"signedBaseLayer\"}]}",
                   "default[0].type: requirement `signedBaseLayer` is not supported");
        expect_bad("{\"default\":[{\"type\":\"reject\",\"keyPath\":\"/k\"}]}",
                   "default[0].keyPath: not supported by gkimg");
        expect_bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"X509Certificates\","
                   "\"keyPath\":\"/k\"}]}",
                   "default[0].keyType: only GPGKeys");
        expect_bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\"}]}",
                   "exactly one of keyPath, keyPaths and keyData");
        expect_bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\","
                   "\"keyPath\":\"/a\",\"keyData\":\"eA==\"}]}",
                   "exactly one of");
        expect_bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\","
                   "\"keyData\":\"***\"}]}",
                   "keyData: not valid base64");
        expect_bad("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\","
                   "\"fulcio\":{}}]}",
                   "default[0].fulcio: not supported");
        expect_bad("{\"default\":[{\"type\":\"sigstoreSigned\",\"keyPath\":\"/k\","
                   "\"rekorPublicKeyPath\":\"/r\"}]}",
                   "rekorPublicKeyPath");
        expect_bad("{\"default\":[{\"type\":\"sigstoreSigned\"}]}", "keyPath: missing");
        expect_bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":"
                   "\"/k\",\"signedIdentity\":{\"type\":\"exactReference\"}}]}",
                   "dockerReference: missing");
        expect_bad("{\"default\":[{\"type\":\"signedBy\",\"keyType\":\"GPGKeys\",\"keyPath\":"
                   "\"/k\",\"signedIdentity\":{\"type\":\"matchSomething\"}}]}",
                   "signedIdentity.type: unknown identity type");
        expect_bad("{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":"
                   "{\"a.io\":[{\"type\":\"nope\"}]}}}",
                   "transports.docker.\"a.io\"[0].type");
}

static void ref(const char *s, gk_reference *r)
{
        gk_error *err = NULL;

        if (gk_reference_parse(s, r, &err) < 0)
                fail_msg("%s: %s", s, err->msg);
}

static const char *scope_for(const gk_policy *p, const char *image)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        const char *scope = "unset";
        const gk_reqs *q;

        ref(image, &r);
        q = gk_policy_for_docker(p, &r, &scope);
        assert_non_null(q);
        return scope ? scope : "DEFAULT";
}

static void test_scopes(void **state)
{
        _cleanup_(gk_policy_freep) gk_policy *p = parse_ok(
                "{\"default\":[{\"type\":\"reject\"}],\"transports\":{\"docker\":{"
                "\"r.io/ns/app:v1\":[{\"type\":\"reject\"}],"
                "\"r.io/ns/app\":[{\"type\":\"reject\"}],"
                "\"r.io/ns\":[{\"type\":\"reject\"}],"
                "\"r.io\":[{\"type\":\"reject\"}],"
                "\"*.example.com\":[{\"type\":\"reject\"}],"
                "\"docker.io/library/busybox\":[{\"type\":\"reject\"}]},"
                "\"oci\":{\"q.io\":[{\"type\":\"reject\"}]}}}");
        _cleanup_(gk_policy_freep) gk_policy *bare = parse_ok(
                "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}");

        assert_string_equal(scope_for(p, "r.io/ns/app:v1"), "r.io/ns/app:v1");
        assert_string_equal(scope_for(p, "r.io/ns/app:v2"), "r.io/ns/app");
        assert_string_equal(scope_for(p, "r.io/ns/app@sha256:" D64), "r.io/ns/app");
        assert_string_equal(scope_for(p, "r.io/ns/other"), "r.io/ns");
        assert_string_equal(scope_for(p, "r.io/x"), "r.io");
        assert_string_equal(scope_for(p, "a.b.example.com/x"), "*.example.com");
        assert_string_equal(scope_for(p, "busybox"), "docker.io/library/busybox");
        assert_string_equal(scope_for(p, "q.io/x"), "DEFAULT"); /* another transport's */
        assert_string_equal(scope_for(p, "r.iox/ns"), "DEFAULT");
        assert_string_equal(scope_for(bare, "r.io/x"), "DEFAULT");
}

static bool matches(gk_ident_type t, const char *value, const char *image, const char *signed_ref)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        gk_ident id = { .type = t, .value = (char *) value };
        const char *why = NULL;
        bool ok;

        ref(image, &r);
        ok = gk_ident_matches(&id, &r, signed_ref, &why);
        if (!ok)
                assert_non_null(why);
        return ok;
}

static void test_identity(void **state)
{
        const gk_ident_type rdoe = GK_IDENT_MATCH_REPO_DIGEST_OR_EXACT;

        /* by tag: exact; by digest: the repository */
        assert_true(matches(rdoe, NULL, "r.io/a:v1", "r.io/a:v1"));
        assert_false(matches(rdoe, NULL, "r.io/a:v1", "r.io/a:v2"));
        assert_false(matches(rdoe, NULL, "r.io/a:v1", "r.io/b:v1"));
        assert_true(matches(rdoe, NULL, "r.io/a@sha256:" D64, "r.io/a:v9"));
        assert_false(matches(rdoe, NULL, "r.io/a@sha256:" D64, "r.io/b:v9"));
        /* normalized on both sides */
        assert_true(matches(rdoe, NULL, "busybox", "docker.io/library/busybox:latest"));
        assert_false(matches(rdoe, NULL, "busybox", "not a reference"));
        assert_false(matches(rdoe, NULL, "busybox", NULL));

        /* a bare name in the signature is no tag */
        assert_false(matches(rdoe, NULL, "r.io/a:latest", "r.io/a"));
        assert_false(matches(GK_IDENT_MATCH_EXACT, NULL, "r.io/a:latest", "r.io/a"));
        assert_true(matches(GK_IDENT_MATCH_REPOSITORY, NULL, "r.io/a:latest", "r.io/a"));
        assert_true(matches(rdoe, NULL, "r.io/a@sha256:" D64, "r.io/a"));
        assert_true(matches(GK_IDENT_MATCH_EXACT, NULL, "r.io/a:v1", "r.io/a:v1"));
        assert_false(matches(GK_IDENT_MATCH_EXACT, NULL, "r.io/a@sha256:" D64, "r.io/a:v1"));
        assert_true(matches(GK_IDENT_MATCH_REPOSITORY, NULL, "r.io/a:v1", "r.io/a:v2"));
        assert_false(matches(GK_IDENT_MATCH_REPOSITORY, NULL, "r.io/a:v1", "r.io/ab:v1"));
        assert_true(matches(GK_IDENT_EXACT_REFERENCE, "o.io/z:1", "r.io/a:v1", "o.io/z:1"));
        assert_false(matches(GK_IDENT_EXACT_REFERENCE, "o.io/z:1", "r.io/a:v1", "r.io/a:v1"));
        assert_true(matches(GK_IDENT_EXACT_REPOSITORY, "o.io/z", "r.io/a:v1", "o.io/z:7"));
        assert_false(matches(GK_IDENT_EXACT_REPOSITORY, "o.io/z", "r.io/a:v1", "o.io/y:7"));
}

static void test_remap(void **state)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        gk_ident id = { .type = GK_IDENT_REMAP,
                        .prefix = (char *) "mirror.io/m",
                        .signed_prefix = (char *) "origin.io/o" };
        const char *why;

        ref("mirror.io/m/app:v1", &r);
        assert_true(gk_ident_matches(&id, &r, "origin.io/o/app:v1", &why));
        assert_false(gk_ident_matches(&id, &r, "mirror.io/m/app:v1", &why));
        gk_reference_clear(&r);
        /* "mirror.io/mx" does not start with the prefix at a boundary */
        ref("mirror.io/mx/app:v1", &r);
        assert_false(gk_ident_matches(&id, &r, "origin.io/ox/app:v1", &why));
        assert_true(gk_ident_matches(&id, &r, "mirror.io/mx/app:v1", &why));
}

static void regsd_for(const char *text, const char *image, const char *rd, const char *wr,
                      bool att)
{
        _cleanup_(gk_regsd_clear) gk_regsd d = { 0 };
        _cleanup_(gk_sigstore_cfg_clear) gk_sigstore_cfg c = { 0 };
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        gk_error *err = NULL;

        if (gk_regsd_parse(text, "x.yaml", &d, &err) < 0)
                fail_msg("%s", err->msg);
        ref(image, &r);
        assert_int_equal(gk_regsd_resolve(&d, &r, &c, &err), 0);
        assert_string_equal(c.read_url, rd);
        assert_string_equal(c.write_url, wr);
        assert_int_equal(c.attachments, att);
}

static void test_registries_d(void **state)
{
        const char *y = "# comment\n"
                        "default-docker:\n"
                        "  sigstore: file:///def   # old name\n"
                        "docker:\n"
                        "  r.io:\n"
                        "    lookaside: \"https://sigs.r.io/\"\n"
                        "    lookaside-staging: 'file:///stage'\n"
                        "  r.io/ns/app:\n"
                        "    use-sigstore-attachments: true\n"
                        "  other.io:\n"
                        "    use-sigstore-attachments: false\n"
                        "unrelated:\n"
                        "  key: value\n";
        gk_regsd d = { 0 };
        gk_error *err = NULL;

        regsd_for(y, "r.io/ns/app:v1", "https://sigs.r.io/", "file:///stage", true);
        regsd_for(y, "r.io/x", "https://sigs.r.io/", "file:///stage", false);
        regsd_for(y, "z.io/x", "file:///def", "file:///def", false);
        assert_int_equal(gk_regsd_parse("docker:\n  a.io:\n    lookaside: [1]\n", "x.yaml", &d,
                                        &err),
                         -EINVAL);
        assert_non_null(strstr(err->msg, "x.yaml: line 3: only plain"));
        gk_error_free(err);
        err = NULL;
        gk_regsd_clear(&d);
        assert_int_equal(gk_regsd_parse("default-docker:\n  lookaside: a\ndefault-docker:\n",
                                        "x.yaml", &d, &err),
                         -EINVAL);
        assert_non_null(strstr(err->msg, "line 3: default-docker configured twice"));
        gk_error_free(err);
        gk_regsd_clear(&d);
}

static void test_payload(void **state)
{
        _cleanup_free_ char *text = NULL, *r = NULL, *d = NULL;
        size_t len = 0;
        gk_error *err = NULL;

        assert_int_equal(gk_sig_payload_make(GK_SIG_TYPE_SIMPLE, "r.io/a:v1", "sha256:" D64, &text,
                                             &len, &err),
                         0);
        assert_int_equal(gk_sig_payload_parse(GK_SIG_TYPE_SIMPLE, text, len, &r, &d, &err), 0);
        assert_string_equal(r, "r.io/a:v1");
        assert_string_equal(d, "sha256:" D64);
        /* a payload of the other kind, an unknown critical claim */
        assert_int_equal(gk_sig_payload_parse(GK_SIG_TYPE_COSIGN, text, len, &r, &d, &err),
                         -EBADMSG);
        gk_error_free(err);
        err = NULL;
        {
                const char *x = "{\"critical\":{\"identity\":{\"docker-reference\":\"a\"},"
                                "\"image\":{\"docker-manifest-digest\":\"b\"},\"type\":"
                                "\"atomic container signature\",\"more\":1}}";
                char *rr = NULL, *dd = NULL;

                assert_int_equal(gk_sig_payload_parse(GK_SIG_TYPE_SIMPLE, x, strlen(x), &rr, &dd,
                                                      &err),
                                 -EBADMSG);
                assert_non_null(strstr(err->msg, "unknown critical member"));
                gk_error_free(err);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_requirements),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_scopes),
                cmocka_unit_test(test_identity),
                cmocka_unit_test(test_remap),
                cmocka_unit_test(test_registries_d),
                cmocka_unit_test(test_payload),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
