/* registries.conf (imgtool/toml.c, regconf.c, regconf_resolve.c): the TOML
 * subset parser's strictness and its messages (FILE:LINE), drop-in merging,
 * and the order of the locations a reference is pulled from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../imgtool/regconf.h"
#include "../../imgtool/toml.h"
#include "gk/cleanup.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static gk_regconf *conf(const char *text)
{
        gk_regconf *c = NULL;
        gk_error *err = NULL;

        if (gk_regconf_add_text(&c, text, strlen(text), "r.conf", &err) < 0)
                fail_msg("%s", err->msg);
        return c;
}

static void expect_bad(const char *text, const char *msg_part)
{
        gk_regconf *c = NULL;
        gk_error *err = NULL;

        if (gk_regconf_add_text(&c, text, strlen(text), "r.conf", &err) == 0)
                fail_msg("`%s` was accepted", text);
        if (!strstr(err->msg, msg_part))
                fail_msg("message `%s` lacks `%s`", err->msg, msg_part);
        gk_error_free(err);
        gk_regconf_free(c);
}

static void test_toml_values(void **state)
{
        const char *text = "# c\na = \"x\\ty\\u00e9\" # c\nb = 'raw\\n'\nc = true\n"
                           "d = [\n  \"1\", # c\n  '2',\n]\n[t]\ne = { f = false, g = [] }\n"
                           "[[arr]]\nh = \"1\"\n[[arr]]\n[arr.sub]\ni = \"2\"\n";
        gk_toml *t = NULL;
        gk_error *err = NULL;
        const gk_toml *v;

        if (gk_toml_parse(text, strlen(text), "t.toml", &t, &err) < 0)
                fail_msg("%s", err->msg);
        assert_string_equal(gk_toml_get(t, "a")->str, "x\ty\xc3\xa9");
        assert_string_equal(gk_toml_get(t, "b")->str, "raw\\n");
        assert_true(gk_toml_get(t, "c")->b);
        assert_int_equal(gk_toml_get(t, "d")->n, 2);
        assert_string_equal(gk_toml_get(t, "d")->items[1]->str, "2");
        v = gk_toml_get(gk_toml_get(t, "t"), "e");
        assert_false(gk_toml_get(v, "f")->b);
        v = gk_toml_get(t, "arr");
        assert_true(v->of_tables);
        assert_int_equal(v->n, 2);
        assert_string_equal(gk_toml_get(gk_toml_get(v->items[1], "sub"), "i")->str, "2");
        gk_toml_free(t);
}

static void expect_toml_bad(const char *text, const char *msg_part)
{
        gk_toml *t = NULL;
        gk_error *err = NULL;

        if (gk_toml_parse(text, strlen(text), "t.toml", &t, &err) == 0)
                fail_msg("`%s` was accepted", text);
        if (!strstr(err->msg, msg_part))
                fail_msg("`%s`: message `%s` lacks `%s`", text, err->msg, msg_part);
        gk_error_free(err);
}

static void test_toml_refused(void **state)
{
        expect_toml_bad("a = 1\n", "t.toml:1: unsupported value");
        expect_toml_bad("\n\na = \"x\na = 'y'\n", "t.toml:3: string: not closed");
        expect_toml_bad("a = \"x\"\na = \"y\"\n", "t.toml:2: key `a` defined twice");
        expect_toml_bad("[t]\n[t]\n", "t.toml:2: table `t` defined twice");
        expect_toml_bad("a.b = \"x\"\n", "dotted key");
        expect_toml_bad("a = \"\"\"x\"\"\"\n", "multi-line strings");
        expect_toml_bad("a = \"x\" b = \"y\"\n", "one key = value a line");
        expect_toml_bad("a = \"\\q\"\n", "unknown escape");
        expect_toml_bad("a = \"\\ud800\"\n", "not a Unicode scalar");
        expect_toml_bad("a = [\"x\" \"y\"]\n", "expected `,` or `]`");
        expect_toml_bad("a = { b = \"x\"\n}\n", "same line");
        expect_toml_bad("a = {}\n[a.b]\n", "inline table");
        expect_toml_bad("a = []\n[[a]]\n", "`[[a]]`: `a` is already an array");
        expect_toml_bad("[[a]\n", "expected `]]`");
        expect_toml_bad(
                "a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
                "nested deeper");
}

static void test_conf_refused(void **state)
{
        expect_bad("[[registry]]\nlocation = \"a.io\"\nfoo = true\n",
                   "r.conf:3: [[registry]] `foo`: not a key gkimg supports");
        expect_bad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = \"b\"\n"
                   "insecure = \"yes\"\n",
                   "r.conf:5: [[registry.mirror]] `insecure`: must be a boolean");
        expect_bad("[[registry]]\nlocation = \"https://a.io\"\n", "URI schemes are not supported");
        expect_bad("[[registry]]\nblocked = true\n", "neither `location` nor `prefix`");
        expect_bad("[[registry]]\nprefix = \"a.io\"\n", "`location`: must be set");
        expect_bad("[[registry]]\nprefix = \"*.a.io/x\"\n", "a wildcard prefix is *.domain alone");
        expect_bad("[[registry]]\nlocation = \"a.io\"\npull-from-mirror = \"all\"\n",
                   "only a [[registry.mirror]] may set it");
        expect_bad("[[registry]]\nlocation = \"a.io\"\nmirror-by-digest-only = true\n"
                   "[[registry.mirror]]\nlocation = \"m.io\"\npull-from-mirror = \"tag-only\"\n",
                   "exclude each other");
        expect_bad("[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\n"
                   "pull-from-mirror = \"sometimes\"\nlocation = \"m\"\n",
                   "must be all, digest-only or tag-only");
        expect_bad("short-name-mode = \"prompt\"\n", "must be enforcing, permissive or disabled");
        expect_bad("unqualified-search-registries = [\"a.io/ns\"]\n", "must be host[:port]");
        expect_bad("[aliases]\n\"a.io/x\" = \"b.io/x\"\n", "must be a short name");
        expect_bad("[aliases]\n\"x\" = \"b.io/x:1\"\n", "without a tag or digest");
        expect_bad("[aliases]\n\"x\" = \"y\"\n", "must be registry/repository");
        expect_bad("[registries.search]\nregistries = [\"a.io\"]\n", "version 1 format");
        expect_bad("credential-helpers = [\"pass\"]\n", "`credential-helpers`");
        expect_bad("additional-layer-store-auth-helper = \"x\"\n", "not a key gkimg supports");
}

static void expect_sources(const gk_regconf *c, const char *ref, const char *want)
{
        _cleanup_(gk_reference_clear) gk_reference r = { 0 };
        gk_error *err = NULL;
        gk_source *v = NULL;
        size_t n = 0;
        char got[1024] = "";

        assert_int_equal(gk_reference_parse(ref, &r, NULL), 0);
        if (gk_regconf_sources(c, &r, &v, &n, &err) < 0) {
                snprintf(got, sizeof(got), "error: %s", err->msg);
                gk_error_free(err);
        }
        for (size_t i = 0; i < n; i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s%s%s", i ? " " : "",
                         v[i].mirror ? "m:" : "", v[i].name, v[i].insecure ? "(insecure)" : "");
        gk_sources_free(v, n);
        if (strncmp(got, want, strlen(want)))
                fail_msg("%s: got `%s`, want `%s`", ref, got, want);
}

static void test_sources_order(void **state)
{
        gk_regconf *c = conf("[[registry]]\nprefix = \"example.com/foo\"\n"
                             "location = \"internal.example.net/bar\"\n"
                             "[[registry.mirror]]\nlocation = \"m0.local/mirror-for-foo\"\n"
                             "[[registry.mirror]]\nlocation = \"m1.local/mirrors/foo\"\n"
                             "insecure = true\n"
                             "[[registry.mirror]]\nlocation = \"m2.local\"\n"
                             "pull-from-mirror = \"digest-only\"\n"
                             "[[registry.mirror]]\nlocation = \"m3.local\"\n"
                             "pull-from-mirror = \"tag-only\"\n"
                             "[[registry]]\nlocation = \"registry.com\"\n"
                             "mirror-by-digest-only = true\n"
                             "[[registry.mirror]]\nlocation = \"mirror.registry.com\"\n"
                             "[[registry]]\nprefix = \"*.wild.io\"\ninsecure = true\n"
                             "[[registry]]\nlocation = \"bad.io\"\nblocked = true\n");

        /* the man page's example, in its order */
        expect_sources(c, "example.com/foo/image:latest",
                       "m:m0.local/mirror-for-foo/image m:m1.local/mirrors/foo/image(insecure) "
                       "m:m3.local/image internal.example.net/bar/image");
        expect_sources(c, "example.com/foo/image@sha256:" D64,
                       "m:m0.local/mirror-for-foo/image m:m1.local/mirrors/foo/image(insecure) "
                       "m:m2.local/image internal.example.net/bar/image");
        /* a prefix ends at a component: example.com/foobar is not under it */
        expect_sources(c, "example.com/foobar/x:1", "example.com/foobar/x");
        expect_sources(c, "registry.com/a:1", "registry.com/a");
        expect_sources(c, "registry.com/a@sha256:" D64, "m:mirror.registry.com/a registry.com/a");
        expect_sources(c, "a.b.wild.io/x:1", "a.b.wild.io/x(insecure)");
        expect_sources(c, "wild.io/x:1", "wild.io/x");
        expect_sources(c, "bad.io/x:1",
                       "error: registry `bad.io` is blocked by the [[registry]] with prefix "
                       "`bad.io` in r.conf");
        expect_sources(c, "alpine", "docker.io/library/alpine");
        gk_regconf_free(c);
}

static void expect_short(const gk_regconf *c, const char *s, const char *want)
{
        gk_error *err = NULL;
        char **v = NULL, got[512] = "";

        if (gk_regconf_resolve_short(c, s, &v, &err) < 0) {
                snprintf(got, sizeof(got), "error: %s", err->msg);
                gk_error_free(err);
        }
        for (size_t i = 0; v && v[i]; i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "", v[i]);
        gk_strvfree(v);
        if (strncmp(got, want, strlen(want)))
                fail_msg("%s: got `%s`, want `%s`", s, got, want);
}

static void test_short_names_and_drop_ins(void **state)
{
        gk_regconf *c = conf("unqualified-search-registries = [\"a.io\", \"b.io:5000\"]\n"
                             "[aliases]\n\"app\" = \"c.io/team/app\"\n\"gone\" = \"c.io/gone\"\n");
        const char *drop = "short-name-mode = \"enforcing\"\n[aliases]\n\"gone\" = \"\"\n";
        gk_error *err = NULL;

        assert_true(gk_regconf_is_short_name("alpine"));
        assert_true(gk_regconf_is_short_name("user/app:1"));
        assert_false(gk_regconf_is_short_name("localhost/app"));
        assert_false(gk_regconf_is_short_name("a.io/app"));
        assert_false(gk_regconf_is_short_name("host:5000/app"));
        expect_short(c, "app:1", "c.io/team/app:1");
        expect_short(c, "x/y@sha256:" D64, "a.io/x/y@sha256:" D64 " b.io:5000/x/y@sha256:" D64);
        expect_short(c, "gone", "c.io/gone");
        expect_short(c, "other", "a.io/other b.io:5000/other");
        /* a later file: enforcing, and an alias erased by "" */
        assert_int_equal(gk_regconf_add_text(&c, drop, strlen(drop), "d.conf", &err), 0);
        expect_short(c, "app", "c.io/team/app");
        expect_short(c, "gone", "error: short name `gone`: short-name resolution enforced");
        gk_regconf_free(c);
        c = conf("unqualified-search-registries = []\n");
        expect_short(c, "x",
                     "error: short name `x` did not resolve to an alias and no "
                     "unqualified-search registries are defined in r.conf");
        gk_regconf_free(c);
        /* nothing configured: Docker Hub, as always */
        c = conf("");
        expect_short(c, "alpine:3", "alpine:3");
        gk_regconf_free(c);
}

static void test_drop_in_replaces_by_prefix(void **state)
{
        gk_regconf *c = conf("[[registry]]\nlocation = \"a.io\"\nblocked = true\n"
                             "[[registry]]\nlocation = \"a.io\"\n"
                             "[[registry]]\nlocation = \"b.io\"\n");
        const char *drop = "[[registry]]\nprefix = \"a.io\"\nlocation = \"c.io\"\n";
        gk_error *err = NULL;

        /* in one file the first entry of a prefix wins */
        expect_sources(c, "a.io/x:1", "error: registry `a.io` is blocked");
        assert_int_equal(gk_regconf_add_text(&c, drop, strlen(drop), "d.conf", &err), 0);
        expect_sources(c, "a.io/x:1", "c.io/x");
        expect_sources(c, "b.io/x:1", "b.io/x");
        assert_string_equal(c->files, "r.conf, d.conf");
        gk_regconf_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_toml_values),
                cmocka_unit_test(test_toml_refused),
                cmocka_unit_test(test_conf_refused),
                cmocka_unit_test(test_sources_order),
                cmocka_unit_test(test_short_names_and_drop_ins),
                cmocka_unit_test(test_drop_in_replaces_by_prefix),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
