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
from gkcli import GKIMG, NO_DOCKER_CONFIG, Podman, gkimg
from test_pull import (HOST_ARCH, OTHER_ARCH, registry, small_image, tls_registry,  # noqa: F401
                       unique)

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


# ---- push ----

@pytest.fixture(scope="module")
def registry2():
    reg = gr.Registry()
    yield reg
    reg.stop()


def blob_writes(px):
    """The requests that send or create blobs (anything but a HEAD/GET)."""
    return [q for q in px.requests
            if "/blobs/" in q["path"] and q["method"] in ("POST", "PUT", "PATCH")]


def pull_via(root, host, repo, tag="v1", *extra):
    r = gkimg(root, "pull", *extra, "%s/%s:%s" % (host, repo, tag))
    assert r.returncode == 0, r.stderr
    return r


def skopeo_raw(ref):
    return skopeo("inspect", "--tls-verify=false", "--raw", "docker://" + ref).stdout


def assert_copyable(ref, img, tmp):
    """skopeo copies what was pushed into an OCI layout: every blob there,
    each verified by skopeo against its digest."""
    out = os.path.join(tmp, "layout")
    skopeo("copy", "--src-tls-verify=false", "docker://" + ref, "oci:" + out)
    with open(os.path.join(out, "index.json")) as f:
        idx = json.load(f)
    blobs = set(os.listdir(os.path.join(out, "blobs", "sha256")))
    for ly in img.layers:
        assert ly[0][7:] in blobs
    # (a Docker schema2 config is rewritten to OCI's by skopeo: only an
    # OCI image keeps its config digest in an OCI layout)
    if json.loads(skopeo_raw(ref)).get("mediaType") != gr.MT_DOCKER_MANIFEST:
        assert img.id[7:] in blobs
    return idx


def test_push_to_another_repository_mounts(registry, proxy, root, tmp_path):
    repo = unique("src")
    img = small_image(b"mount", big=200000)
    digest = registry.push_image(repo, "v1", img, docker=True)
    pull_via(root, proxy.host, repo)
    proxy.clear()
    dest = "%s/%s:pushed" % (proxy.host, unique("dst"))
    r = gkimg(root, "push", "%s/%s:v1" % (proxy.host, repo), dest)
    assert r.returncode == 0, r.stderr
    assert "digest: %s" % digest in r.stdout
    # the same manifest, byte for byte: nothing was converted
    assert gr.sha(skopeo_raw(dest)) == digest
    # every blob mounted from the source repository, none sent
    posts = [q for q in blob_writes(proxy) if q["method"] == "POST"]
    assert len(posts) == len(img.layers) + 1
    assert all("mount=" in q["path"] and "from=" + repo in q["path"] for q in posts)
    assert [q for q in blob_writes(proxy) if q["method"] != "POST"] == []
    assert r.stdout.count("Mounted from " + repo) == len(img.layers)
    assert_copyable(dest, img, str(tmp_path))
    # a second push sends nothing: every blob is there already
    proxy.clear()
    r = gkimg(root, "push", "%s/%s:v1" % (proxy.host, repo), dest, check=True)
    assert blob_writes(proxy) == []
    assert len(proxy.seen("HEAD", "/blobs/")) >= len(img.layers) + 1
    assert r.stdout.count("Layer already exists") == len(img.layers)
    assert len(proxy.seen("PUT", "/manifests/")) == 1


def test_push_registry_refusing_mounts_uploads(registry, proxy, root, tmp_path):
    repo = unique("src")
    img = small_image(b"nomount")
    digest = registry.push_image(repo, "v1", img)
    pull_via(root, proxy.host, repo)
    proxy.refuse_mounts = True
    proxy.clear()
    dest = "%s/%s:v2" % (proxy.host, unique("dst"))
    r = gkimg(root, "push", "%s/%s:v1" % (proxy.host, repo), dest)
    assert r.returncode == 0, r.stderr
    # asked to mount, got a session (202), uploaded into it
    assert len([q for q in blob_writes(proxy) if q["method"] == "POST"]) == len(img.layers) + 1
    puts = [q for q in blob_writes(proxy) if q["method"] == "PUT"]
    assert len(puts) == len(img.layers) + 1 and all("digest=sha256" in q["path"] for q in puts)
    assert "Mounted" not in r.stdout
    assert gr.sha(skopeo_raw(dest)) == digest
    assert_copyable(dest, img, str(tmp_path))


def test_push_to_another_registry(registry, registry2, root, tmp_path):
    repo = unique("src")
    img = small_image(b"reg2", big=300000, compression="zstd")
    digest = registry.push_image(repo, "v1", img)
    pull_via(root, registry.host, repo)
    image_id = json.loads(gkimg(root, "inspect", "%s/%s:v1" % (registry.host, repo),
                                check=True).stdout)[0]["id"]
    dest = "%s/%s:copy" % (registry2.host, unique("dst"))
    # by image ID, as docker push takes it too
    r = gkimg(root, "push", image_id[7:19], dest)
    assert r.returncode == 0, r.stderr
    assert "Mounted" not in r.stdout
    assert gr.sha(skopeo_raw(dest)) == digest
    assert_copyable(dest, img, str(tmp_path))
    # and gkimg pulls it back into a fresh store, the same image
    other = tempfile.mkdtemp(prefix="gk-store-")
    try:
        gkimg(other, "pull", "-q", dest, check=True)
        got = json.loads(gkimg(other, "inspect", dest, check=True).stdout)[0]
        assert got["id"] == image_id and got["manifest"] == digest
    finally:
        shutil.rmtree(other, ignore_errors=True)


@pytest.mark.parametrize("chunk,cut", [(None, 100000), (65536, 30000)],
                         ids=["monolithic", "chunked"])
def test_push_resumes_a_dropped_upload(registry, proxy, root, tmp_path, chunk, cut):
    """The connection drops after CUT bytes of the big layer, which the
    registry keeps: gkimg asks the session where it stands (GET: Range)
    and sends the rest from there, not from byte 0."""
    repo = unique("src")
    img = small_image(b"drop" + str(chunk).encode(), big=400000)
    digest = registry.push_image(repo, "v1", img)
    pull_via(root, registry.host, repo)
    big = max(img.layers, key=lambda ly: ly[1])
    proxy.clear()
    proxy.drop_after = cut
    env = {"GKIMG_PUSH_CHUNK": str(chunk)} if chunk else {}
    dest = "%s/%s:v1" % (proxy.host, unique("dst"))
    r = gkimg(root, "push", "--parallel", "1", "%s/%s:v1" % (registry.host, repo), dest, env=env)
    assert r.returncode == 0, r.stderr
    assert proxy.dropped == 1
    assert "Resuming at byte %d" % cut in r.stdout
    # the session was asked where it stands, and the rest went from there
    reqs = proxy.requests
    status = [i for i, q in enumerate(reqs) if q["method"] == "GET" and "/uploads/" in q["path"]]
    assert len(status) == 1, reqs
    after = [q for q in reqs[status[0]:] if q["method"] in ("PATCH", "PUT")
             and "/blobs/uploads/" in q["path"]]
    assert (after[0]["content_range"] or "").startswith("%d-" % cut), after
    assert sum(q["body_len"] for q in after) == big[1] - cut
    if chunk:
        assert all(q["body_len"] <= chunk for q in reqs if q["method"] == "PATCH")
    assert gr.sha(skopeo_raw(dest)) == digest
    assert_copyable(dest, img, str(tmp_path))


def test_push_with_token_auth(hub, root, tmp_path):
    ts, reg = hub
    repo = unique("tok")
    img = small_image(b"tokpush")
    digest = reg.push_image(repo, "v1", img)
    gkimg(root, "pull", "-q", "%s/%s:v1" % (reg.host, repo), check=True)
    before = len(ts.requests)
    dest_repo = unique("tokdst")
    dest = "%s/%s:v1" % (reg.host, dest_repo)
    r = gkimg(root, "push", "--creds", "alice:s3cret", "%s/%s:v1" % (reg.host, repo), dest)
    assert r.returncode == 0, r.stderr
    toks = ts.requests[before:]
    # one token, for push and pull on the destination (and pull on the
    # source, to mount from it), with alice's login
    assert len(toks) == 1, toks
    path = toks[0]["path"]
    assert "scope=repository%3A" + dest_repo.replace("/", "%2F") + "%3Apush%2Cpull" in path
    assert "scope=repository%3A" + repo.replace("/", "%2F") + "%3Apull" in path
    assert toks[0]["headers"]["Authorization"].startswith("Basic ")
    assert "Mounted from " + repo in r.stdout
    assert gr.sha(skopeo_raw(dest)) == digest


def test_push_renews_an_expired_token(hub, root):
    """The registry stops taking the token in the middle of the push (a
    401 with a new challenge to a blob upload): a new token, and on."""
    ts, reg = hub
    px = PushProxy(reg.port)
    try:
        repo = unique("tokexp")
        img = small_image(b"tokexp")
        digest = reg.push_image(repo, "v1", img)
        gkimg(root, "pull", "-q", "%s/%s:v1" % (reg.host, repo), check=True)
        dest_repo = unique("tokexpdst")
        challenge = ('Bearer realm="%s",service="gk-registry",scope="repository:%s:push,pull"'
                     % (ts.realm, dest_repo))
        px.answer_once = ("PUT", "digest=" + img.layers[1][0], 401,
                          {"WWW-Authenticate": challenge})
        before = ts.issued
        r = gkimg(root, "push", "--parallel", "1", "%s/%s:v1" % (reg.host, repo),
                  "%s/%s:v1" % (px.host, dest_repo))
        assert r.returncode == 0, r.stderr
        assert "token expired" in r.stdout
        assert ts.issued - before == 2
        assert gr.sha(skopeo_raw("%s/%s:v1" % (reg.host, dest_repo))) == digest
    finally:
        px.stop()


def test_push_errors(registry, hub, root):
    repo = unique("err")
    img = small_image(b"errs")
    registry.push_image(repo, "v1", img)
    pull_via(root, registry.host, repo)
    src = "%s/%s:v1" % (registry.host, repo)
    # an image the store does not have
    r = gkimg(root, "push", "nosuch:tag", "%s/x/y:z" % registry.host)
    assert r.returncode == 1
    assert "push `nosuch:tag` to %s/x/y:z" % registry.host in r.stderr
    assert "not in the store" in r.stderr
    # a registry that is down
    down = "127.0.0.1:%d" % gr.free_port()
    r = gkimg(root, "push", src, "%s/x/y:z" % down)
    assert r.returncode == 1
    assert src in r.stderr and down in r.stderr
    assert "connect" in r.stderr.lower(), r.stderr
    # a token server that refuses the login
    ts, hreg = hub
    r = gkimg(root, "push", "--creds", "alice:wrong", src, "%s/x/y:z" % hreg.host)
    assert r.returncode == 1
    assert src in r.stderr and hreg.host in r.stderr
    assert "refused the login for `alice`" in r.stderr, r.stderr
    # a digest as the destination
    r = gkimg(root, "push", src, "%s/x/y@sha256:%s" % (registry.host, "0" * 64))
    assert r.returncode == 1 and "name a tag, not a digest" in r.stderr


def test_push_multi_platform_image(registry, registry2, root):
    """A pull keeps one platform: push sends that image's manifest.  With
    every platform in the store (two pulls), the index goes, after them."""
    repo = unique("idx")
    a, b = small_image(b"pa", arch=HOST_ARCH), small_image(b"pb", arch=OTHER_ARCH)
    index = registry.push_index(repo, "multi", [(a, {"os": "linux", "architecture": HOST_ARCH},
                                                 {}),
                                                (b, {"os": "linux",
                                                     "architecture": OTHER_ARCH}, {})])
    src = "%s/%s:multi" % (registry.host, repo)
    gkimg(root, "pull", "-q", src, check=True)
    dest = "%s/%s:one" % (registry2.host, unique("dst"))
    gkimg(root, "push", src, dest, check=True)
    assert gr.sha(skopeo_raw(dest)) == gr.sha(a.manifest)
    gkimg(root, "pull", "-q", "--platform", "linux/" + OTHER_ARCH, src, check=True)
    dest = "%s/%s:all" % (registry2.host, unique("dst"))
    r = gkimg(root, "push", src, dest, check=True)
    assert "digest: " + index in r.stdout
    assert gr.sha(skopeo_raw(dest)) == index
    for img in (a, b):
        ref = dest.rsplit(":", 1)[0] + "@" + gr.sha(img.manifest)
        assert skopeo_raw(ref) == img.manifest


@pytest.fixture
def podman_dir():
    """Short: podman wants its runroot under 50 characters."""
    d = tempfile.mkdtemp(prefix="gk-pod-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_podman_pulls_what_gkimg_pushed(registry, root, podman_dir):
    """podman (private vfs storage and configuration under tmp_path, nothing
    of the host's) pulls the pushed image: same manifest digest, same ID."""
    if not shutil.which("podman"):
        pytest.skip("podman is not installed")
    repo = unique("pod")
    img = small_image(b"podman", compression="zstd")
    digest = registry.push_image(repo, "v1", img)
    pull_via(root, registry.host, repo)
    dest = "%s/%s:v1" % (registry.host, unique("poddst"))
    gkimg(root, "push", "%s/%s:v1" % (registry.host, repo), dest, check=True)
    podman = Podman(podman_dir)
    p = podman("pull", "--tls-verify=false", "-q", dest)
    assert p.stdout.strip() == img.id[7:]
    p = podman("images", "--digests", "--format", "{{.Digest}}")
    assert p.stdout.split() == [digest]


def test_push_inspect_tags_over_tls(tls_registry, root):
    """--cert-dir and --tls-verify work for push, inspect and tags as for
    pull: the CA verifies the registry, another CA fails naming the fix."""
    reg, good, bad = tls_registry
    repo = unique("tlssrc")
    img = small_image(b"tlspush")
    digest = reg.push_image(repo, "v1", img)
    src = "%s/%s:v1" % (reg.host, repo)
    gkimg(root, "pull", "-q", "--cert-dir", good, src, check=True)
    dest = "%s/%s:v1" % (reg.host, unique("tlsdst"))
    r = gkimg(root, "push", "--cert-dir", bad, src, dest)
    assert r.returncode == 1
    assert src in r.stderr and reg.host in r.stderr
    assert "not trusted" in r.stderr and "--cert-dir" in r.stderr, r.stderr
    gkimg(root, "push", "--cert-dir", good, src, dest, check=True)
    gkimg(root, "push", "--tls-verify=false", "--cert-dir", bad, src, dest, check=True)
    got = json.loads(gkimg(root, "inspect", "--cert-dir", good, "docker://" + dest,
                           check=True).stdout)
    assert got["Digest"] == digest
    r = gkimg(root, "inspect", "--cert-dir", bad, "docker://" + dest)
    assert r.returncode == 1 and "not trusted" in r.stderr
    r = gkimg(root, "tags", "--cert-dir", good, "docker://" + dest.rsplit(":", 1)[0],
              check=True)
    assert json.loads(r.stdout)["Tags"] == ["v1"]
