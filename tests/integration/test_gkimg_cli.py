"""gkimg's command line as a user sees it, against a loopback registry:
rmi of an image with several names, images -q/--digests/--format, and
per-command --help.  Every assertion is on the exact lines printed."""
import json
import re
import subprocess

import pytest

import gkregistry as gr
from gkcli import GKIMG, gkimg
from test_pull import small_image, unique


@pytest.fixture(scope="module")
def registry():
    reg = gr.Registry()
    yield reg
    reg.stop()


def names(root):
    r = gkimg(root, "images", "--format", "json", check=True)
    return sorted(i["name"] for i in json.loads(r.stdout))


def pulled(registry, root, seed, *tags, repo=None):
    """One image pushed under every TAG of REPO and pulled by each."""
    repo = repo or unique("cli")
    img = small_image(seed)
    refs = []
    for t in tags:
        digest = registry.push_image(repo, t, img)
        refs.append("%s/%s:%s" % (registry.host, repo, t))
        gkimg(root, "pull", "-q", refs[-1], check=True)
    return img, refs, digest


# ---- rmi ----

def conflict(img):
    return ("gkimg: conflict: unable to delete %s (must be forced) - image is referenced "
            "in multiple repositories\n" % img.id[7:19])


def test_rmi_by_id_of_an_image_with_two_tags_must_be_forced(registry, root):
    img, (ra, rb), _ = pulled(registry, root, b"two-tags", "a", "b")
    for ref in (img.id[7:19], img.id):
        r = gkimg(root, "rmi", ref)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", conflict(img))
    assert names(root) == [ra, rb]
    r = gkimg(root, "rmi", "--force", img.id[7:19], check=True)
    assert r.stdout == "Untagged: %s\nUntagged: %s\nDeleted: %s\n" % (ra, rb, img.id)
    assert names(root) == []


def test_rmi_across_repositories_must_be_forced(registry, root):
    img, [ra], _ = pulled(registry, root, b"two-repos", "v1")
    _, [rb], _ = pulled(registry, root, b"two-repos", "v1")
    r = gkimg(root, "rmi", img.id[7:])
    assert (r.returncode, r.stdout, r.stderr) == (1, "", conflict(img))
    r = gkimg(root, "rmi", "-f", img.id[7:], check=True)
    assert sorted(r.stdout.splitlines()) == sorted(["Untagged: " + ra, "Untagged: " + rb,
                                                    "Deleted: " + img.id])
    assert r.stdout.splitlines()[-1] == "Deleted: " + img.id


def test_rmi_name_untags_and_deletes_with_the_last_name(registry, root):
    img, (ra, rb), _ = pulled(registry, root, b"untag", "a", "b")
    r = gkimg(root, "rmi", ra, check=True)
    assert (r.stdout, r.stderr) == ("Untagged: %s\n" % ra, "")
    assert names(root) == [rb]
    r = gkimg(root, "rmi", rb, check=True)
    assert r.stdout == "Untagged: %s\nDeleted: %s\n" % (rb, img.id)
    assert names(root) == []
    # the blobs stay for gc
    assert gkimg(root, "gc", check=True).stdout.startswith("removed ")


def test_rmi_by_id_of_a_tag_and_its_digest_is_one_reference(registry, root):
    """docker's rule: a tag plus digest names of the same repository are one
    reference; an ID removes them all without --force."""
    img, [ref], digest = pulled(registry, root, b"tag-digest", "v1")
    by_digest = ref.rsplit(":", 1)[0] + "@" + digest
    gkimg(root, "pull", "-q", by_digest, check=True)
    assert names(root) == sorted([ref, by_digest])
    r = gkimg(root, "rmi", img.id[7:19], check=True)
    assert sorted(r.stdout.splitlines()[:2]) == sorted(["Untagged: " + ref,
                                                        "Untagged: " + by_digest])
    assert r.stdout.splitlines()[2:] == ["Deleted: " + img.id]
    assert names(root) == []


def test_rmi_goes_on_after_a_refusal(registry, root):
    img, (ra, rb), _ = pulled(registry, root, b"goes-on", "a", "b")
    other, [rc], _ = pulled(registry, root, b"goes-on-other", "c")
    r = gkimg(root, "rmi", img.id[7:19], rc)
    assert (r.returncode, r.stderr) == (1, conflict(img))
    assert r.stdout == "Untagged: %s\nDeleted: %s\n" % (rc, other.id)
    assert names(root) == [ra, rb]


# ---- images -q, --digests, --format ----

def human(size):
    """docker's size: 1000-based, three significant digits."""
    v, units = float(size), ["B", "kB", "MB", "GB", "TB"]
    u = 0
    while v >= 1000 and u + 1 < len(units):
        v /= 1000
        u += 1
    return ("%.3g%s" if v < 10 and u else "%.4g%s") % (v, units[u])


def size_of(img):
    return human(len(img.config) + sum(s for _, s, _, _ in img.layers))


def test_images_quiet_lists_each_id_once(registry, root):
    img, _, _ = pulled(registry, root, b"quiet-ids", "a", "b")
    other, _, _ = pulled(registry, root, b"quiet-other", "c")
    r = gkimg(root, "images", "-q", check=True)
    assert r.stdout == "%s\n%s\n" % (img.id[7:19], other.id[7:19])
    assert gkimg(root, "images", "--quiet", "--digests", check=True).stdout == r.stdout


def test_images_digests_column(registry, root):
    img, [ref], digest = pulled(registry, root, b"digests", "v1")
    table = gkimg(root, "images", "--digests", check=True).stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    row = table[1].split()
    assert row[:4] == [ref.rsplit(":", 1)[0], "v1", digest, img.id[7:19]]
    assert row[-1] == size_of(img)
    assert table[0].index("DIGEST") == table[1].index(digest)
    assert table[0].index("IMAGE ID") == table[1].index(img.id[7:19])
    assert "DIGEST" not in gkimg(root, "images", check=True).stdout


def test_images_format_template(registry, root, tmp_path):
    img, [ref], digest = pulled(registry, root, b"template", "v1")
    imported = small_image(b"template-imported")
    imported.oci_archive(str(tmp_path / "i.tar"))
    gkimg(root, "import", str(tmp_path / "i.tar"), "gktest/imported:1", check=True)
    tmpl = r"{{.Repository}}:{{.Tag}}\t{{ .ID }}\t{{.Digest}}\t{{.Size}}\t{{.CreatedAt}}\n--"
    r = gkimg(root, "images", "--format", tmpl, check=True)
    assert r.stdout == (
        "%s\t%s\t%s\t%s\t2024-01-01 00:00:00 +0000 UTC\n--\n"
        "gktest/imported:1\t%s\t<none>\t%s\t2024-01-01 00:00:00 +0000 UTC\n--\n"
        % (ref, img.id[7:19], digest, size_of(img), imported.id[7:19], size_of(imported)))
    r = gkimg(root, "images", "--format", "{{.ID}} is {{.CreatedSince}}", check=True)
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith(img.id[7:19] + " is ")
    assert lines[0].endswith(" ago")
    # json and table are still formats, not templates
    assert gkimg(root, "images", "--format", "table", check=True).stdout.startswith("REPOSITORY")
    assert gkimg(root, "images", "--format", "json", check=True).stdout.startswith("[")


@pytest.mark.parametrize("fmt,msg", [
    ("{{.Name}}", "images: --format: `{{.Name}}` is not one of {{.Repository}} {{.Tag}} "
                  "{{.ID}} {{.Digest}} {{.Size}} {{.CreatedAt}} {{.CreatedSince}}"),
    ("{{.ID}", "images: --format: `{{` without `}}`"),
    ("yaml", "images: --format: `yaml` is not table, json or a template"),
    ("table {{.ID}}", "images: --format: `table TEMPLATE` is not supported: give TEMPLATE "
                      "alone"),
])
def test_images_format_errors(registry, root, fmt, msg):
    pulled(registry, root, b"format-errors", "v1")
    r = gkimg(root, "images", "--format", fmt)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "gkimg: %s\n" % msg)


# ---- --help ----

COMMANDS = ["pull", "images", "inspect", "rmi", "gc", "check", "login", "logout", "bundle",
            "unbundle", "import", "export"]


def test_rmi_help_exact(root):
    r = gkimg(root, "rmi", "--help")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == ("usage: gkimg rmi [OPTIONS] REF|ID...\n"
                        "\n"
                        "remove image names\n"
                        "\n"
                        "flags:\n"
                        "  -f, --force   by ID: remove every name, however many\n"
                        "  -h, --help    show this help\n")
    assert gkimg(root, "rmi", "-h").stdout == r.stdout


def help_flags(text):
    """(--name, takes a value) of every flag a --help lists: the left column
    is "-f, --force" or "    --format VALUE", three spaces before the help."""
    flags = []
    for line in text.split("flags:\n", 1)[1].splitlines():
        left = line.strip().split("   ", 1)[0].split()
        long_ = next(w for w in left if w.startswith("--"))
        flags.append((long_, left[-1] != long_))
    return flags


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help_from_its_parser(root, cmd):
    r = gkimg(root, cmd, "--help")
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    assert lines[0].startswith("usage: gkimg %s [OPTIONS]" % cmd)
    assert lines[3:5] == ["", "flags:"] and lines[-1].split()[:2] == ["-h,", "--help"]
    # every flag listed is one the parser takes: given before --help, it is
    # parsed (a flag the parser lacks fails with "flag provided but not defined")
    for flag, value in help_flags(r.stdout):
        if flag == "--help":
            continue
        arg = flag + "=1" if value else flag
        r2 = gkimg(root, cmd, arg, "--help")
        assert (r2.returncode, r2.stdout) == (0, r.stdout), (arg, r2.stderr)
    r3 = gkimg(root, cmd, "--no-such-flag", "--help")
    assert r3.returncode != 0
    assert "%s: flag provided but not defined: -no-such-flag" % cmd in r3.stderr


def test_main_help_points_at_command_help(root):
    r = gkimg(root, "--help")
    assert r.returncode == 0 and "`gkimg COMMAND --help` shows a command's flags." in r.stdout
    for cmd in COMMANDS:
        assert "\n  %-10s " % cmd in r.stdout


# ---- pull: new or up to date ----

def final_layer_lines(out, img):
    """The last line of each layer's progress, bottom layer first."""
    last = {}
    for line in out.splitlines():
        short = line.split(":", 1)[0]
        last[short] = line
    return [last[d[7:19]] for d, _, _, _ in img.layers]


def test_pull_says_what_is_new(registry, root):
    repo = unique("news")
    img = small_image(b"news")
    bigger = small_image(b"news", big=3000)  # img's two layers and one more
    digest = registry.push_image(repo, "a", img)
    registry.push_image(repo, "b", img)
    ref_a, ref_b = ("%s/%s:%s" % (registry.host, repo, t) for t in "ab")
    head = ["a: Pulling from %s/%s" % (registry.host, repo)]
    tail = ["Digest: " + digest]

    r = gkimg(root, "pull", ref_a, check=True)
    assert final_layer_lines(r.stdout, img) == [
        "%s: Download complete (%s)" % (d[7:19], human(s)) for d, s, _, _ in img.layers]
    assert "Already exists" not in r.stdout
    assert r.stdout.splitlines()[-3:] == tail + ["Status: Downloaded newer image for " + ref_a,
                                                 ref_a]
    # the same again: nothing new
    r = gkimg(root, "pull", ref_a, check=True)
    exists = ["%s: Already exists" % d[7:19] for d, _, _, _ in img.layers]
    assert r.stdout.splitlines() == head + exists + tail + [
        "Status: Image is up to date for " + ref_a, ref_a]
    # a new name for an image already here is news, though nothing is fetched
    r = gkimg(root, "pull", ref_b, check=True)
    assert r.stdout.splitlines() == ["b" + head[0][1:]] + exists + tail + [
        "Status: Downloaded newer image for " + ref_b, ref_b]
    # a new image under a: the shared layers exist, the new one is fetched
    digest2 = registry.push_image(repo, "a", bigger)
    r = gkimg(root, "pull", ref_a, check=True)
    assert final_layer_lines(r.stdout, bigger) == exists + [
        "%s: Download complete (%s)" % (bigger.layers[2][0][7:19], human(bigger.layers[2][1]))]
    assert r.stdout.splitlines()[-3:] == ["Digest: " + digest2,
                                          "Status: Downloaded newer image for " + ref_a, ref_a]
    # a moved back to the first image, all of it in the store: a moved, so news
    registry.push_image(repo, "a", img)
    r = gkimg(root, "pull", ref_a, check=True)
    assert r.stdout.splitlines() == head + exists + tail + [
        "Status: Downloaded newer image for " + ref_a, ref_a]
    r = gkimg(root, "pull", ref_a, check=True)
    assert r.stdout.splitlines()[-2] == "Status: Image is up to date for " + ref_a


# ---- start-up: the libraries gkimg maps ----
# imgtool/dl_*.c load libcurl, libarchive, libgpgme and libsodium with
# dlopen at their first call; a call someone adds without forwarding it
# there makes the library NEEDED again (the Makefile links it --as-needed).

START_LIBS = {"libc.so.6", "libcrypto.so.3", "libyajl.so.2"}
LAZY_LIBS = ("libcurl", "libarchive", "libgpgme", "libsodium")


def test_gkimg_needs_only_libc_libcrypto_and_yajl():
    out = subprocess.run(["readelf", "-d", GKIMG], capture_output=True, text=True,
                         check=True).stdout
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out))
    extra = sorted(needed - START_LIBS)
    assert not extra, ("gkimg links %s at start: forward its calls that gkimg makes in "
                       "imgtool/dl_*.c" % ", ".join(extra))
    assert needed == START_LIBS


def loaded(r):
    """The shared objects the dynamic loader loaded for run R (LD_DEBUG=files),
    at start or by dlopen."""
    return set(re.findall(r"\bfile=(\S+) \[\d+\];", r.stderr))


def lazy_loaded(r):
    return sorted(lib for lib in loaded(r) if lib.startswith(LAZY_LIBS))


def test_images_on_an_empty_store_loads_no_lazy_library(root):
    r = gkimg(root, "images", check=True, env={"LD_DEBUG": "files"})
    assert r.stdout.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert "libc.so.6" in loaded(r)  # LD_DEBUG did report
    assert lazy_loaded(r) == []


def test_pull_loads_libcurl_when_it_talks_to_a_registry(registry, root):
    """The check above can fail: LD_DEBUG reports a library loaded by dlopen."""
    repo = unique("lazy")
    registry.push_image(repo, "a", small_image(b"lazy"))
    ref = "%s/%s:a" % (registry.host, repo)
    r = gkimg(root, "pull", "-q", ref, check=True, env={"LD_DEBUG": "files"})
    assert "libcurl.so.4" in lazy_loaded(r)
    assert "libgpgme.so.11" not in lazy_loaded(r)
