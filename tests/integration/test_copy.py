"""`gkimg copy SRC DEST` between registries (docker://), OCI layout
directories (oci:), oci-archives, docker-archives and the store (gk:), and
`pull --all-platforms` / `export --all-platforms`.  Against two of Debian's
docker-registry on loopback (gkregistry.py); skopeo reads everything gkimg
writes (inspect --raw for the digests, copy for the blobs: it verifies
each against its digest)."""
import json
import os
import shutil
import subprocess
import tarfile
import tempfile

import pytest

import gkimage
import gkregistry as gr
from gkcli import Podman, gkimg
from test_pull import HOST_ARCH, OTHER_ARCH, registry, small_image, unique  # noqa: F401

SKOPEO = "/usr/bin/skopeo"


def skopeo(*args, check=True):
    p = subprocess.run([SKOPEO, *args], capture_output=True, timeout=120)
    if check:
        assert p.returncode == 0, p.stderr.decode()
    return p


def raw(ref):
    """The manifest (or index) at REF (any transport), as skopeo reads it."""
    extra = ["--tls-verify=false"] if ref.startswith("docker://") else []
    return skopeo("inspect", *extra, "--raw", ref).stdout


def copy(root, *args):
    r = gkimg(root, "copy", *args)
    assert r.returncode == 0, r.stderr
    return r


def skopeo_reads(ref, tmp):
    """skopeo copies REF into a fresh OCI layout: every blob there and
    matching its digest."""
    out = os.path.join(str(tmp), "skopeo-check-%d" % len(os.listdir(str(tmp))))
    extra = ["--src-tls-verify=false"] if ref.startswith("docker://") else []
    skopeo("copy", *extra, ref, "oci:" + out)
    return out


@pytest.fixture(scope="module")
def registry2():
    reg = gr.Registry()
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def multi(registry):
    """An index of two platforms (the host's first) at registry."""
    repo = unique("multi")
    a, b = small_image(b"ca", arch=HOST_ARCH), small_image(b"cb", arch=OTHER_ARCH)
    index = registry.push_index(repo, "multi", [(a, {"os": "linux", "architecture": HOST_ARCH},
                                                 {}),
                                                (b, {"os": "linux",
                                                     "architecture": OTHER_ARCH}, {})])
    return "%s/%s:multi" % (registry.host, repo), index, a, b


def children_there(ref_repo, imgs):
    for img in imgs:
        assert raw("docker://%s@%s" % (ref_repo, gr.sha(img.manifest))) == img.manifest


# ---- registry -> registry ----

def test_registry_to_registry_all_keeps_the_index(multi, registry2, root, tmp_path):
    src, index, a, b = multi
    dest_repo = "%s/%s" % (registry2.host, unique("dst"))
    r = copy(root, "--all", "docker://" + src, "docker://%s:all" % dest_repo)
    assert index in r.stdout
    got = raw("docker://%s:all" % dest_repo)
    assert gr.sha(got) == index
    children_there(dest_repo, (a, b))
    skopeo_reads("docker://%s:all" % dest_repo, tmp_path)
    # skopeo copy --all of the same source gives the same digest
    skopeo("copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
           "docker://" + src, "docker://%s:sk" % dest_repo)
    assert gr.sha(raw("docker://%s:sk" % dest_repo)) == index
    # nothing was named in the store
    assert "multi" not in gkimg(root, "images", check=True).stdout


def test_registry_to_registry_one_platform_by_default(multi, registry2, root):
    """As skopeo without --all: the host's image alone, its manifest as it is."""
    src, index, a, b = multi
    dest = "%s/%s:one" % (registry2.host, unique("dst"))
    copy(root, "docker://" + src, "docker://" + dest)
    assert raw("docker://" + dest) == a.manifest
    dest = "%s/%s:other" % (registry2.host, unique("dst"))
    copy(root, "--platform", "linux/" + OTHER_ARCH, "docker://" + src, "docker://" + dest)
    assert raw("docker://" + dest) == b.manifest


def test_same_registry_mounts(registry, root):
    repo = unique("msrc")
    img = small_image(b"cmount")
    digest = registry.push_image(repo, "v1", img)
    dest = "%s/%s:v1" % (registry.host, unique("mdst"))
    r = copy(root, "docker://%s/%s:v1" % (registry.host, repo), "docker://" + dest)
    assert "Mounted from " + repo in r.stdout
    assert gr.sha(raw("docker://" + dest)) == digest


# ---- OCI layout directory ----

def test_registry_to_oci_dir_and_back(multi, registry2, root, tmp_path):
    src, index, a, b = multi
    layout = str(tmp_path / "layout")
    copy(root, "--all", "docker://" + src, "oci:%s:v1" % layout)
    assert gr.sha(raw("oci:%s:v1" % layout)) == index
    for img in (a, b):
        for d in list(img.blobs) + [gr.sha(img.manifest)]:
            assert os.path.exists(os.path.join(layout, "blobs", "sha256", d[7:])), d
    with open(os.path.join(layout, "oci-layout")) as f:
        assert json.load(f) == {"imageLayoutVersion": "1.0.0"}
    skopeo_reads("oci:%s:v1" % layout, tmp_path)
    # added to: a second tag, then the first tag moved to another image
    copy(root, "docker://" + src, "oci:%s:v2" % layout)
    assert raw("oci:%s:v2" % layout) == a.manifest
    assert gr.sha(raw("oci:%s:v1" % layout)) == index
    copy(root, "--platform", "linux/" + OTHER_ARCH, "docker://" + src, "oci:%s:v1" % layout)
    with open(os.path.join(layout, "index.json")) as f:
        entries = json.load(f)["manifests"]
    names = [e["annotations"]["org.opencontainers.image.ref.name"] for e in entries]
    assert sorted(names) == ["v1", "v2"]
    assert raw("oci:%s:v1" % layout) == b.manifest
    # and back to a registry, the index whole
    copy(root, "--all", "docker://" + src, "oci:%s:all" % layout)
    dest = "%s/%s:back" % (registry2.host, unique("dst"))
    copy(root, "--all", "oci:%s:all" % layout, "docker://" + dest)
    assert gr.sha(raw("docker://" + dest)) == index
    children_there(dest.rsplit(":", 1)[0], (a, b))


def test_skopeo_layout_to_registry(registry, registry2, root, tmp_path):
    """A layout skopeo wrote, copied by gkimg: the same manifest digest."""
    repo = unique("skl")
    img = small_image(b"skl", compression="zstd")
    digest = registry.push_image(repo, "v1", img)
    layout = str(tmp_path / "sk")
    skopeo("copy", "--src-tls-verify=false", "docker://%s/%s:v1" % (registry.host, repo),
           "oci:%s:t" % layout)
    dest = "%s/%s:v1" % (registry2.host, unique("dst"))
    copy(root, "oci:%s:t" % layout, "docker://" + dest)
    assert gr.sha(raw("docker://" + dest)) == digest


# ---- archives ----

def test_oci_archive_to_registry(registry, registry2, root, tmp_path):
    repo = unique("oa")
    img = small_image(b"ociarch")
    digest = registry.push_image(repo, "v1", img)
    archive = str(tmp_path / "img.tar")
    skopeo("copy", "--src-tls-verify=false", "docker://%s/%s:v1" % (registry.host, repo),
           "oci-archive:%s:tagged" % archive)
    dest = "%s/%s:v1" % (registry2.host, unique("dst"))
    copy(root, "oci-archive:%s:tagged" % archive, "docker://" + dest)
    assert gr.sha(raw("docker://" + dest)) == digest
    skopeo_reads("docker://" + dest, tmp_path)
    # one image in the archive: the tag may be left out
    dest2 = "%s/%s:v2" % (registry2.host, unique("dst"))
    copy(root, "oci-archive:" + archive, "docker://" + dest2)
    assert gr.sha(raw("docker://" + dest2)) == digest


def test_store_to_oci_archive(registry, root, tmp_path):
    repo = unique("st")
    img = small_image(b"store2oa")
    digest = registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (registry.host, repo)
    gkimg(root, "pull", "-q", ref, check=True)
    archive = str(tmp_path / "out.tar")
    copy(root, "gk:" + ref, "oci-archive:%s:mine" % archive)
    assert gr.sha(raw("oci-archive:%s:mine" % archive)) == digest
    skopeo_reads("oci-archive:%s:mine" % archive, tmp_path)
    with tarfile.open(archive) as t:
        idx = json.load(t.extractfile("index.json"))
    assert idx["manifests"][0]["annotations"] == {"org.opencontainers.image.ref.name": "mine"}
    # and into the store under another name, by image ID
    image_id = json.loads(gkimg(root, "inspect", ref, check=True).stdout)[0]["id"]
    copy(root, "oci-archive:%s:mine" % archive, "gk:localhost/copied:1")
    got = json.loads(gkimg(root, "inspect", "localhost/copied:1", check=True).stdout)[0]
    assert got["id"] == image_id and got["manifest"] == digest


def test_docker_archive_to_registry(registry, registry2, root, tmp_path):
    """A docker-archive has no manifest: one is made, with the archive's
    uncompressed layers; the image ID (config digest) is kept."""
    repo = unique("da")
    img = small_image(b"dockarch")
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (registry.host, repo)
    archive = str(tmp_path / "docker.tar")
    copy(root, "docker://" + ref, "docker-archive:%s:%s" % (archive, ref))
    skopeo_id = json.loads(skopeo("inspect", "--config", "--raw",
                                  "docker-archive:" + archive).stdout)
    assert skopeo_id == json.loads(img.config)
    dest = "%s/%s:v1" % (registry2.host, unique("dst"))
    copy(root, "docker-archive:" + archive, "docker://" + dest)
    man = json.loads(raw("docker://" + dest))
    assert man["config"]["digest"] == img.id
    cfg = json.loads(img.config)
    assert [ly["digest"] for ly in man["layers"]] == cfg["rootfs"]["diff_ids"]
    skopeo_reads("docker://" + dest, tmp_path)
    # by REF among several RepoTags: docker-archive:FILE:REF
    dest2 = "%s/%s:v1" % (registry2.host, unique("dst"))
    copy(root, "docker-archive:%s:%s" % (archive, ref), "docker://" + dest2)
    assert json.loads(raw("docker://" + dest2))["config"]["digest"] == img.id


def test_docker_archive_index(root, tmp_path):
    """docker-archive:FILE:@N, skopeo's form: the N-th image of manifest.json
    (0-based), for an archive of several images or of images not tagged.
    skopeo picks the same image: its dir: copy (no conversion) has the same
    config and layers."""
    a, b = small_image(b"da-at0"), small_image(b"da-at1")
    archive = gkimage.docker_archive(str(tmp_path / "two.tar"), [(a, ["gktest/at:0"]), (b, [])])
    for n, img in enumerate((a, b)):
        src = "docker-archive:%s:@%d" % (archive, n)
        out = tmp_path / ("at%d" % n)
        copy(root, src, "oci:%s" % out)
        man = json.loads(raw("oci:%s" % out))
        assert man["config"]["digest"] == img.id
        assert [ly["digest"] for ly in man["layers"]] == img.diff_ids
        sk = tmp_path / ("sk%d" % n)
        skopeo("copy", src, "dir:%s" % sk)
        with open(sk / "manifest.json") as f:
            skman = json.load(f)
        assert skman["config"]["digest"] == img.id
        assert [ly["digest"] for ly in skman["layers"]] == img.diff_ids
        skopeo_reads("oci:%s" % out, tmp_path)
    # by its RepoTag as before
    copy(root, "docker-archive:%s:gktest/at:0" % archive, "oci:%s:bytag" % (tmp_path / "at0"))

    def both_fail(src, dest, words):
        r = gkimg(root, "copy", src, dest)
        assert r.returncode == 1 and words in r.stderr, r.stderr
        # gkimg wrote nothing (skopeo leaves an empty layout behind)
        assert not os.path.exists(dest.split(":")[1])
        p = skopeo("copy", src, dest, check=False)
        assert p.returncode != 0 and words.lower() in p.stderr.decode().lower(), p.stderr
    # out of range, named with the count; none named among two
    both_fail("docker-archive:%s:@2" % archive, "oci:%s" % (tmp_path / "x"),
              "invalid source index @2, only 2 manifest items available")
    r = gkimg(root, "copy", "docker-archive:" + archive, "oci:%s" % (tmp_path / "y"))
    assert r.returncode == 1 and "lists 2 images" in r.stderr and ":@N" in r.stderr, r.stderr
    # @N picks what to read: as a destination it is refused
    both_fail("oci:%s" % (tmp_path / "at0"), "docker-archive:%s:@0" % (tmp_path / "d.tar"),
              "destination reference must not contain a manifest index @0")
    assert not os.path.exists(str(tmp_path / "d.tar"))


# ---- pull --all-platforms, push, export --all-platforms ----

def test_pull_all_platforms_then_push_keeps_the_index(multi, registry2, root, tmp_path):
    src, index, a, b = multi
    r = gkimg(root, "pull", "--all-platforms", src)
    assert r.returncode == 0, r.stderr
    # the name is the host's image, as a plain pull
    got = json.loads(gkimg(root, "inspect", src, check=True).stdout)[0]
    assert got["manifest"] == gr.sha(a.manifest)
    # gc keeps the other platform: it is part of the image pulled
    gkimg(root, "gc", check=True)
    dest_repo = "%s/%s" % (registry2.host, unique("dst"))
    r = gkimg(root, "push", src, dest_repo + ":all")
    assert r.returncode == 0, r.stderr
    assert "digest: " + index in r.stdout
    assert gr.sha(raw("docker://%s:all" % dest_repo)) == index
    children_there(dest_repo, (a, b))
    archive = str(tmp_path / "all.tar")
    gkimg(root, "export", "--all-platforms", src, archive, check=True)
    assert gr.sha(raw("oci-archive:" + archive)) == index
    skopeo("copy", "--all", "oci-archive:" + archive, "oci:" + str(tmp_path / "skall"))
    # copy --all out of the store keeps it too
    copy(root, "--all", "gk:" + src, "docker://%s:fromstore" % dest_repo)
    assert gr.sha(raw("docker://%s:fromstore" % dest_repo)) == index


def test_export_all_platforms_needs_them(multi, root, tmp_path):
    src, index, a, b = multi
    gkimg(root, "pull", "-q", src, check=True)
    r = gkimg(root, "export", "--all-platforms", src, str(tmp_path / "x.tar"))
    assert r.returncode == 1
    assert "--all-platforms" in r.stderr and "one platform" in r.stderr, r.stderr


# ---- errors ----

def test_copy_errors(registry, root, tmp_path):
    repo = unique("err")
    img = small_image(b"cerr")
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (registry.host, repo)
    layout = str(tmp_path / "lay")
    copy(root, "docker://" + ref, "oci:%s:v1" % layout)

    def fails(*args):
        r = gkimg(root, "copy", *args)
        assert r.returncode == 1, r.stdout
        assert r.stderr.startswith("gkimg: copy: "), r.stderr
        return r.stderr

    # a tag the layout does not have
    e = fails("oci:%s:foo" % layout, "oci:%s/x" % tmp_path)
    assert 'oci:%s:foo: no image tagged "foo" in index.json' % layout in e
    # a missing file
    e = fails("oci-archive:%s/nosuch.tar" % tmp_path, "docker://%s/x/y:z" % registry.host)
    assert "oci-archive:%s/nosuch.tar" % tmp_path in e and "No such file" in e
    # a file where a layout directory is meant, and the reverse
    f = str(tmp_path / "file")
    open(f, "w").close()
    e = fails("oci:" + f, "oci:%s/d" % tmp_path)
    assert "oci:%s: not a directory" % f in e
    e = fails("oci-archive:" + layout, "oci:%s/d" % tmp_path)
    assert "oci-archive:%s: a directory" % layout in e
    # unknown transport, none at all
    e = fails("ftp:/x", "oci:/tmp/y")
    assert "unknown transport `ftp`" in e
    e = fails("alpine", "oci:/tmp/y")
    assert "`alpine`: no transport" in e and "docker://" in e
    # a registry that is down
    down = "127.0.0.1:%d" % gr.free_port()
    e = fails("docker://%s/x/y:z" % down, "oci:%s/d" % tmp_path)
    assert down in e and "connect" in e.lower()
    e = fails("docker://" + ref, "docker://%s/x/y:z" % down)
    assert down in e and "connect" in e.lower()
    # a tag the registry does not have
    e = fails("docker://%s/%s:nosuch" % (registry.host, repo), "oci:%s/d" % tmp_path)
    assert "nosuch" in e and registry.host in e
    # a store image that is not there
    e = fails("gk:nosuch:tag", "oci:%s/d" % tmp_path)
    assert "gk:nosuch:tag" in e and "not in the store" in e
    # a docker-archive cannot hold an index
    e = fails("--all", "docker://" + ref, "docker-archive:%s/d.tar" % tmp_path)
    assert "one platform" in e
    # nothing was left behind in the destinations that failed
    assert not os.path.exists(str(tmp_path / "d")) or not os.listdir(str(tmp_path / "d"))


# ---- podman reads what gkimg copied ----

def test_podman_pulls_a_copied_docker_archive(registry, registry2, root, tmp_path):
    """The manifest gkimg made for a docker-archive (uncompressed layers)
    is one podman pulls: private storage and configuration, nothing of the
    host's."""
    if not shutil.which("podman"):
        pytest.skip("podman is not installed")
    repo = unique("podsrc")
    img = small_image(b"podcopy")
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (registry.host, repo)
    archive = str(tmp_path / "d.tar")
    copy(root, "docker://" + ref, "docker-archive:%s:%s" % (archive, ref))
    dest = "%s/%s:v1" % (registry2.host, unique("poddst"))
    copy(root, "docker-archive:" + archive, "docker://" + dest)
    d = tempfile.mkdtemp(prefix="gk-pod-")
    try:
        p = Podman(d)("pull", "--tls-verify=false", "-q", dest)
        assert p.stdout.strip() == img.id[7:]
    finally:
        shutil.rmtree(d, ignore_errors=True)
