"""gkimg tag, untag, history and images --filter on images built here and
imported, compared with podman (the reference) where podman has the same
command: the same archive is loaded into a podman with a private storage,
configuration and signature policy (nothing of the host's is read), and
`history` (table, --no-trunc, -q, --human=false, --format json) and
`images --filter` must say what podman says."""
import json
import os
import shutil
import tempfile

import pytest

import gkimage as gi
from gkcli import Podman, gkimg

# Far enough in the past that "N years ago" cannot change during a test.
HISTORY = [
    {"created": "2021-03-01T10:00:00Z", "created_by":
     "/bin/sh -c #(nop) ADD file:6f1c9d7a3f0c8e1b2a4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f in / "},
    {"created": "2021-03-01T10:00:01Z", "created_by": '/bin/sh -c #(nop)  CMD ["sh"]',
     "empty_layer": True},
    {"created": "2021-06-02T11:30:00.123456Z", "created_by": "RUN make install",
     "comment": "built by hand", "author": "gk"},
    {"created": "2021-06-02T11:31:00Z", "created_by": "LABEL a=1", "empty_layer": True},
]


def layers(seed):
    return [[{"name": "etc/hello", "data": b"hello " + seed + b"\n" * 3000}],
            [{"name": "bin/tool", "data": os.urandom(70000), "mode": 0o755}]]


def image(seed, created="2021-06-02T11:31:00Z", labels=None, compression="gzip", history=None):
    top = {"history": HISTORY if history is None else history, "created": created}
    return gi.Image(layers(seed), config={"Labels": labels or {}}, compression=compression,
                    top=top)


@pytest.fixture(scope="module")
def podman():
    if not shutil.which("podman"):
        pytest.skip("podman is not installed (contrib/install-deps.sh --test)")
    d = tempfile.mkdtemp(prefix="gk-podman-img-")
    yield Podman(d)
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="gk-tagtest-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def load_both(podman, root, img, workdir, name, oci=False):
    """IMG into gkimg's store and podman's under NAME (without a domain:
    gkimg puts it in docker.io, podman in localhost)."""
    path = os.path.join(workdir, name.replace("/", "_").replace(":", "_") + ".tar")
    if oci:
        img.oci_archive(path, tag=name.split(":")[1])
        gkimg(root, "import", path, name, check=True)
        podman("load", "-q", "-i", path)
        podman("tag", img.id[7:], name)
    else:
        img.docker_archive(path, name)
        gkimg(root, "import", path, check=True)
        podman("load", "-q", "-i", path)
    return name


# ---- history ----

@pytest.mark.parametrize("oci", [False, True], ids=["tar-layers", "gzip-layers"])
def test_history_as_podman_prints_it(podman, root, workdir, oci):
    img = image(b"hist-%d" % oci)
    name = load_both(podman, root, img, workdir, "gktest/hist%d:v1" % oci, oci=oci)
    for flags in ([], ["--no-trunc"], ["-q"], ["--quiet", "--no-trunc"], ["--human=false"]):
        ours = gkimg(root, "history", *flags, name, check=True).stdout
        assert ours == podman("history", *flags, name).stdout, flags
    ours = json.loads(gkimg(root, "history", "--format", "json", name, check=True).stdout)
    assert ours == json.loads(podman("history", "--format", "json", name).stdout)
    # What the comparison rests on: the layers' real sizes, none for the
    # empty_layer entries, the ID on the newest line only.
    assert [(h["id"][:7], h["size"]) for h in ours] == [
        (img.id[7:14], 0), ("<missin", len(img.raw[1])), ("<missin", 0),
        ("<missin", len(img.raw[0]))]


def test_history_by_id_and_without_history(podman, root, workdir):
    img = image(b"nohist", history=[])
    name = load_both(podman, root, img, workdir, "gktest/nohist:v1")
    for ref in (img.id[7:19], img.id):
        r = gkimg(root, "history", "--format", "json", ref, check=True)
        assert json.loads(r.stdout) == []
    assert gkimg(root, "history", name, check=True).stdout == \
        podman("history", name).stdout


def test_history_errors(root):
    r = gkimg(root, "history", "gktest/nosuch:1")
    assert (r.returncode, r.stdout, r.stderr) == (
        1, "", "gkimg: history: image `gktest/nosuch:1` is not in the store\n")
    r = gkimg(root, "history", "--format", "yaml", "x")
    assert (r.returncode, r.stderr) == (1, "gkimg: history: --format: `yaml` is not table or "
                                           "json\n")


# ---- tag, untag ----

def names(root):
    r = gkimg(root, "images", "--format", "json", check=True)
    return sorted((i["name"], i["id"]) for i in json.loads(r.stdout))


def imported(root, workdir, seed, name):
    img = image(seed)
    path = os.path.join(workdir, "%s.tar" % seed.decode())
    img.docker_archive(path, name)
    gkimg(root, "import", path, check=True)
    return img


def test_tag_adds_normalized_names(root, workdir):
    img = imported(root, workdir, b"tag", "gktest/src:1")
    other = imported(root, workdir, b"tag-other", "gktest/other:1")
    r = gkimg(root, "tag", "gktest/src:1", "newname", "localhost:5000/team/app:2.0", check=True)
    assert (r.stdout, r.stderr) == ("", "")
    # by ID prefix, and moving a name that named another image
    gkimg(root, "tag", img.id[7:17], "gktest/other:1", check=True)
    assert names(root) == sorted([
        ("docker.io/gktest/src:1", img.id), ("docker.io/library/newname:latest", img.id),
        ("localhost:5000/team/app:2.0", img.id), ("docker.io/gktest/other:1", img.id)])
    assert other.id not in [i for _, i in names(root)]
    # the new name is an image like the old one
    h = gkimg(root, "history", "-q", "--no-trunc", "newname", check=True).stdout
    assert h.splitlines()[0] == img.id[7:]


def test_tag_refusals(root, workdir):
    imported(root, workdir, b"tag-bad", "gktest/bad:1")
    before = names(root)
    for args, msg in [
            (["gktest/nosuch:1", "x"], "tag: image `gktest/nosuch:1` is not in the store"),
            (["gktest/bad:1", "Bad/Upper"],
             "tag: invalid reference `Bad/Upper`: repository name must be lowercase"),
            (["gktest/bad:1", "x:-tag"],
             "tag: invalid reference `x:-tag`: `-tag` is not a valid tag"),
            (["gktest/bad:1", "x@sha256:" + "0" * 64],
             "tag: `x@sha256:%s`: a tag cannot be a digest" % ("0" * 64)),
            (["gktest/bad:1"], "tag: usage: gkimg tag SRC NEW..."),
    ]:
        r = gkimg(root, "tag", *args)
        assert (r.returncode, r.stdout) == (1, ""), args
        assert r.stderr.startswith("gkimg: " + msg), (args, r.stderr)
    assert names(root) == before


def test_untag(root, workdir):
    img = imported(root, workdir, b"untag", "gktest/untag:1")
    other = imported(root, workdir, b"untag-other", "gktest/keep:1")
    gkimg(root, "tag", "gktest/untag:1", "gktest/untag:2", "gktest/untag:3", check=True)
    r = gkimg(root, "untag", img.id[7:19], "gktest/untag:2")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert names(root) == sorted([("docker.io/gktest/untag:1", img.id),
                                  ("docker.io/gktest/untag:3", img.id),
                                  ("docker.io/gktest/keep:1", other.id)])
    r = gkimg(root, "untag", "gktest/untag:1", "gktest/keep:1")
    assert (r.returncode, r.stderr) == (
        1, "gkimg: untag: `gktest/keep:1` is not a name of image %s\n" % img.id[7:19])
    gkimg(root, "untag", "gktest/untag:3", check=True)
    assert names(root) == [("docker.io/gktest/keep:1", other.id)]


# ---- images --filter ----

@pytest.fixture
def two_images(podman, root, workdir):
    """An older image with labels and a newer one without, in both stores."""
    old = image(b"filter-old", created="2022-01-01T00:00:00Z",
                labels={"com.example.a": "1", "b": "two"})
    new = image(b"filter-new", created="2023-01-01T00:00:00Z")
    load_both(podman, root, old, workdir, "gktest/fold:v1")
    load_both(podman, root, new, workdir, "gktest/fnew:v2")
    yield old, new
    podman("rmi", "-f", old.id[7:], new.id[7:], check=False)


def ids(out):
    return sorted(set(out.split()))


FILTERS = [
    ["reference=gktest/fold"], ["reference=fnew:v2"], ["reference=gktest/f*"],
    ["reference=*:v1"], ["reference=nomatch"], ["reference=fold", "reference=fnew"],
    ["label=b"], ["label=b=two"], ["label=b=2"], ["label=com.example.a=1", "label=b"],
    ["before=gktest/fnew:v2"], ["since=gktest/fold:v1"], ["before=gktest/fold:v1"],
    ["dangling=true"], ["dangling=false"], ["readonly=false"], ["readonly=true"],
    ["reference=gktest/f*", "label=b"], ["label!=b"],
]


def test_images_filter_as_podman(podman, root, two_images):
    """Every filter of FILTERS on one pair of images (loading them is the
    slow part), the differences listed together."""
    mine = {two_images[0].id[7:19], two_images[1].id[7:19]}
    wrong = []
    for filters in FILTERS:
        args = [a for f in filters for a in ("--filter", f)]
        ours = ids(gkimg(root, "images", "-q", *args, check=True).stdout)
        theirs = podman("images", "-q", "--no-trunc", *args).stdout
        # podman's store may hold other tests' images: only ours count
        want = [i for i in ids(" ".join(t.split(":")[-1][:12] for t in theirs.split()))
                if i in mine]
        if ours != want:
            wrong.append((filters, ours, want))
    assert wrong == []
    # the comparison means something: both images, one, and none were seen
    assert {len(ids(gkimg(root, "images", "-q", "--filter", f[0]).stdout))
            for f in FILTERS if len(f) == 1} == {0, 1, 2}


def test_images_filter_by_id_and_digest(root, two_images):
    old, new = two_images
    listed = json.loads(gkimg(root, "images", "--format", "json", check=True).stdout)
    manifest = [i["manifest"] for i in listed if i["id"] == old.id][0]
    for f in ("id=" + old.id[7:15], "id=" + old.id, "digest=" + manifest):
        r = gkimg(root, "images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", f,
                  check=True)
        assert r.stdout == "gktest/fold:v1\n", f


def test_images_filter_where_podman_4_differs(root, two_images):
    """Two labels must both be there, and reference!= excludes, as docker
    and podman 5 have it (podman 4.3 takes either label, and ignores
    reference!=)."""
    def listed(*filters):
        args = [a for f in filters for a in ("--filter", f)]
        return gkimg(root, "images", "--format", "{{.Repository}}:{{.Tag}}", *args,
                     check=True).stdout
    assert listed("label=com.example.a=1", "label=nosuch") == ""
    assert listed("label=com.example.a=1", "label=b") == "gktest/fold:v1\n"
    assert listed("reference=gktest/f*", "reference!=*fold*") == "gktest/fnew:v2\n"


def test_images_filter_reference_shows_matching_names_only(root, two_images):
    """Like docker (podman 4 lists every name of a matching image)."""
    gkimg(root, "tag", "gktest/fold:v1", "gktest/other:x", check=True)
    r = gkimg(root, "images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "reference=*fold*",
              check=True)
    assert r.stdout == "gktest/fold:v1\n"


def test_images_filter_refusals(podman, root, two_images):
    for f, msg in [
            ("foo=bar", "`foo=bar`: unsupported filter `foo` (reference, before, since, "
                        "dangling, label, id, digest, readonly)"),
            ("dangling=maybe", "`dangling=maybe`: `maybe` is not true or false"),
            ("label", "`label`: must be KEY=VALUE or KEY!=VALUE"),
            ("since=gktest/nosuch:1",
             "`since=gktest/nosuch:1`: image `gktest/nosuch:1` is not in the store"),
    ]:
        r = gkimg(root, "images", "--filter", f)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", "gkimg: images: --filter " + msg +
                                                      "\n"), f
        if f != "since=gktest/nosuch:1":
            assert podman("images", "--filter", f, check=False).returncode != 0


# ---- tag of a pulled multi-platform image ----

@pytest.fixture(scope="module")
def registry():
    import gkregistry as gr
    reg = gr.Registry()
    yield reg
    reg.stop()


def test_tag_of_a_pulled_index_keeps_its_digest(registry, root):
    """The new name is the same image as the old: the index the registry
    knows it by (the digest a pull by the new name would check) and the
    platform's manifest, by name and by the index's digest."""
    from test_pull import HOST_ARCH, OTHER_ARCH, small_image, unique
    repo = unique("tag")
    host, other = small_image(b"tag-host", arch=HOST_ARCH), small_image(b"tag-o", arch=OTHER_ARCH)
    index = registry.push_index(repo, "multi", [
        (other, {"os": "linux", "architecture": OTHER_ARCH}, {}),
        (host, {"os": "linux", "architecture": HOST_ARCH}, {})])
    ref = "%s/%s:multi" % (registry.host, repo)
    gkimg(root, "pull", "-q", ref, check=True)
    gkimg(root, "tag", ref, "gktest/renamed:1", check=True)
    gkimg(root, "tag", "%s/%s@%s" % (registry.host, repo, index), "gktest/renamed:2", check=True)
    listed = {i["name"]: i for i in json.loads(
        gkimg(root, "images", "--format", "json", check=True).stdout)}
    for name in ("docker.io/gktest/renamed:1", "docker.io/gktest/renamed:2"):
        assert (listed[name]["id"], listed[name]["repoDigest"], listed[name]["manifest"]) == (
            host.id, index, listed[ref]["manifest"]), name
