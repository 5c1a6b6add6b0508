"""What gkimg does at a registry without pulling: `inspect docker://REF`
(skopeo inspect's fields), `tags docker://REPO` (skopeo list-tags) and
`push` from the store.  Against Debian's docker-registry on loopback
(gkregistry.py), plain, behind a recording/fault-injecting proxy, and with
token auth; skopeo is the reference every answer is compared with."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

import gkregistry as gr
from gkpushproxy import PushProxy
from gkcli import GKIMG, NO_DOCKER_CONFIG, gkimg
from test_pull import HOST_ARCH, OTHER_ARCH, small_image, unique

SKOPEO = "/usr/bin/skopeo"


def skopeo(*args, check=True):
    p = subprocess.run([SKOPEO, *args], capture_output=True, timeout=120)
    if check:
        assert p.returncode == 0, p.stderr.decode()
    return p


def gkimg_bytes(root, *args):
    """gkimg's stdout as bytes (what --raw must keep exact)."""
    p = subprocess.run([GKIMG, "--root", root, *args], capture_output=True, timeout=120,
                       env=dict(os.environ, DOCKER_CONFIG=NO_DOCKER_CONFIG))
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout


# ---- fixtures ----

@pytest.fixture(scope="module")
def registry():
    reg = gr.Registry()
    yield reg
    reg.stop()


@pytest.fixture
def proxy(registry):
    px = PushProxy(registry.port)
    yield px
    px.stop()


@pytest.fixture(scope="module")
def hub():
    d = tempfile.mkdtemp(prefix="gk-hub-")
    key = gr.TokenKey(d)
    ts = gr.TokenServer(key, users={"alice": "s3cret"}, private=["gktest/private"],
                        require_login=False)
    reg = gr.Registry(token=ts)
    yield ts, reg
    reg.stop()
    ts.stop()
    shutil.rmtree(d, ignore_errors=True)


# ---- inspect docker:// ----

SKOPEO_FIELDS = ("Name", "Digest", "RepoTags", "Created", "DockerVersion", "Labels",
                 "Architecture", "Os", "Layers", "Env")


@pytest.mark.parametrize("docker", [False, True], ids=["oci", "docker"])
def test_inspect_remote_matches_skopeo(registry, root, docker):
    repo = unique("insp")
    img = small_image(b"insp" + bytes([docker]))
    cfg = json.loads(img.config)
    cfg["config"] = {"Env": ["PATH=/bin", "A=b"], "Labels": {"org.x": "y"}}
    cfg["docker_version"] = "24.0.7"
    img.config = json.dumps(cfg, sort_keys=True).encode()
    from test_pull import rebuild
    rebuild(img)
    digest = registry.push_image(repo, "v1", img, docker=docker)
    registry.push_image(repo, "other", img, docker=docker)
    ref = "docker://%s/%s:v1" % (registry.host, repo)
    r = gkimg(root, "inspect", ref, check=True)
    got = json.loads(r.stdout)
    want = json.loads(skopeo("inspect", "--tls-verify=false", ref).stdout)
    for k in SKOPEO_FIELDS:
        assert got[k] == want[k], k
    assert got["Digest"] == digest
    assert sorted(got["RepoTags"]) == ["other", "v1"]
    assert got["Env"] == ["PATH=/bin", "A=b"] and got["Labels"] == {"org.x": "y"}
    # LayersData (newer skopeo prints it too): the manifest's descriptors
    man = json.loads(skopeo("inspect", "--tls-verify=false", "--raw", ref).stdout)
    assert got["LayersData"] == [{"MIMEType": ld["mediaType"], "Digest": ld["digest"],
                                  "Size": ld["size"], "Annotations": None}
                                 for ld in man["layers"]]
    # skopeo's layout: four spaces, a newline at the end
    assert r.stdout.startswith('{\n    "Name": ') and r.stdout.endswith("}\n")
    # --raw and --config: byte-exact
    raw = gkimg_bytes(root, "inspect", "--raw", ref)
    assert raw == skopeo("inspect", "--tls-verify=false", "--raw", ref).stdout
    conf = gkimg_bytes(root, "inspect", "--config", ref)
    assert conf == skopeo("inspect", "--tls-verify=false", "--config", "--raw",
                                 ref).stdout == img.config
    # nothing was stored
    assert not os.path.exists(os.path.join(root, "images.json"))


def test_inspect_remote_index(registry, root):
    repo = unique("insp-idx")
    a, b = small_image(b"ia", arch=HOST_ARCH), small_image(b"ib", arch=OTHER_ARCH)
    digest = registry.push_index(repo, "multi", [(a, {"os": "linux", "architecture": HOST_ARCH},
                                                  {}),
                                                 (b, {"os": "linux",
                                                      "architecture": OTHER_ARCH}, {})])
    ref = "docker://%s/%s:multi" % (registry.host, repo)
    got = json.loads(gkimg(root, "inspect", ref, check=True).stdout)
    want = json.loads(skopeo("inspect", "--tls-verify=false", ref).stdout)
    for k in SKOPEO_FIELDS:
        assert got[k] == want[k], k
    assert got["Digest"] == digest and got["Architecture"] == HOST_ARCH
    assert got["Layers"] == [ly[0] for ly in a.layers]
    raw = gkimg_bytes(root, "inspect", "--raw", ref)
    assert gr.sha(raw) == digest
    by_digest = "docker://%s/%s@%s" % (registry.host, repo, digest)
    assert json.loads(gkimg(root, "inspect", by_digest, check=True).stdout)["Digest"] == digest


def test_inspect_remote_errors(registry, root):
    repo = unique("insp-err")
    r = gkimg(root, "inspect", "docker://%s/%s:nosuch" % (registry.host, repo))
    assert r.returncode == 1
    assert "inspect `%s/%s:nosuch`" % (registry.host, repo) in r.stderr
    assert "not found in %s/%s" % (registry.host, repo) in r.stderr
    down = gr.free_port()
    r = gkimg(root, "inspect", "docker://127.0.0.1:%d/x/y:z" % down)
    assert r.returncode == 1
    assert "127.0.0.1:%d" % down in r.stderr
    assert "connect" in r.stderr.lower(), r.stderr
    r = gkimg(root, "inspect", "--raw", "--config", "docker://%s/x:y" % registry.host)
    assert r.returncode == 1 and "exclude each other" in r.stderr


def test_inspect_and_tags_with_token_auth(hub, root):
    ts, reg = hub
    img = small_image(b"private")
    reg.push_image("gktest/private", "v1", img)
    ref = "docker://%s/gktest/private:v1" % reg.host
    r = gkimg(root, "inspect", ref)
    assert r.returncode == 1
    assert "gktest/private" in r.stderr and reg.host in r.stderr
    assert "access denied" in r.stderr or "needs a login" in r.stderr, r.stderr
    r = gkimg(root, "inspect", "--creds", "alice:s3cret", ref, check=True)
    assert json.loads(r.stdout)["Layers"] == [ly[0] for ly in img.layers]
    r = gkimg(root, "tags", "--creds", "alice:s3cret", "docker://%s/gktest/private" % reg.host,
              check=True)
    assert json.loads(r.stdout)["Tags"] == ["v1"]
    r = gkimg(root, "tags", "--creds", "alice:wrong", "docker://%s/gktest/private" % reg.host)
    assert r.returncode == 1
    assert "refused the login for `alice`" in r.stderr and "gktest/private" in r.stderr


# ---- tags ----

def test_tags_follow_pages(registry, proxy, root):
    """docker-registry 2.8 answers every tag at once: the proxy pages them
    as distribution 3 and Docker Hub do."""
    proxy.tag_page = 100
    repo = unique("tags")
    img = small_image(b"tags")
    names = ["v%d" % i for i in range(7)] + ["latest"]
    for t in names:
        registry.push_image(repo, t, img)
    ref = "docker://%s/%s" % (proxy.host, repo)
    r = gkimg(root, "tags", "--page-size", "3", ref, check=True)
    got = json.loads(r.stdout)
    want = json.loads(skopeo("list-tags", "--tls-verify=false", ref).stdout)
    assert got == want
    assert sorted(got["Tags"]) == sorted(names)
    assert got["Repository"] == "%s/%s" % (proxy.host, repo)
    pages = proxy.seen("GET", "/tags/list")
    # 8 tags, 3 a page: the Link header led to a second and third page
    assert len([p for p in pages if "last=" in p["path"]]) >= 2, pages
    assert all("n=3" in p["path"] for p in pages if "n=" in p["path"])
    # without --page-size: whatever one answer holds
    assert json.loads(gkimg(root, "tags", ref, check=True).stdout) == want


def test_tags_errors(registry, root):
    r = gkimg(root, "tags", "docker://%s/gktest/nosuch-repo" % registry.host)
    assert r.returncode == 1
    assert "gktest/nosuch-repo" in r.stderr and registry.host in r.stderr
    assert "not found" in r.stderr or "NAME_UNKNOWN" in r.stderr, r.stderr
    r = gkimg(root, "tags", "docker://%s/gktest/x:tag" % registry.host)
    assert r.returncode == 1 and "without a tag" in r.stderr
    r = gkimg(root, "tags", "%s/gktest/x" % registry.host)
    assert r.returncode == 1 and "docker://" in r.stderr
