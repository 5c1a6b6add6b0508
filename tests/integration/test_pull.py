"""gkimg pull against real registries on loopback (Debian's docker-registry),
behind a fault-injecting proxy, with a token server and a CDN redirect for
the Docker Hub flow; and images, inspect, rmi, gc, login, logout.

Every bad case checks the message the user sees and that the store is
intact: no blob that looks complete but is not, no name pointing at a
missing image."""
import fcntl
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import termios
import threading
import time

import pytest

import gkregistry as gr
from gkcli import GKIMG, gkimg

HOST_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
OTHER_ARCH = "arm64" if HOST_ARCH != "arm64" else "amd64"


# ---- fixtures ----

@pytest.fixture(scope="module")
def registry():
    reg = gr.Registry()
    yield reg
    reg.stop()


@pytest.fixture
def proxy(registry):
    px = gr.Proxy(registry.port)
    yield px
    px.stop()


@pytest.fixture
def docker_config():
    """An empty DOCKER_CONFIG, so the host's credentials never leak in."""
    d = tempfile.mkdtemp(prefix="gk-dockercfg-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


_counter = [0]


def unique(prefix="app"):
    _counter[0] += 1
    return "gktest/%s%d-%d" % (prefix, os.getpid(), _counter[0])


def small_image(seed=b"", layers=2, compression="gzip", arch="amd64", big=0):
    ls = [[{"name": "etc/hello", "data": b"hello " + seed + b"\n"}],
          [{"name": "bin/tool", "data": hashlib.sha256(seed).digest() * 2000, "mode": 0o755}]]
    if big:
        ls.append([{"name": "big.bin", "data": os.urandom(big)}])
    img = gr.Image(ls[:layers] + ls[2:], compression=compression)
    if arch != "amd64":
        cfg = json.loads(img.config)
        cfg["architecture"] = arch
        img.config = json.dumps(cfg, sort_keys=True).encode()
        rebuild(img)
    return img


def rebuild(img):
    """Recomputes img's manifest after its config changed."""
    img.blobs = {d: b for d, b in img.blobs.items()
                 if d != gr.sha(img.manifest) and not d == img.id}
    img.blobs[gr.sha(img.config)] = img.config
    img.id = gr.sha(img.config)
    m = json.loads(img.manifest)
    m["config"]["digest"] = img.id
    m["config"]["size"] = len(img.config)
    img.manifest = json.dumps(m, sort_keys=True).encode()
    img.blobs[gr.sha(img.manifest)] = img.manifest


def store_blobs(root):
    d = os.path.join(root, "blobs", "sha256")
    return set(os.listdir(d)) if os.path.isdir(d) else set()


def store_leftovers(root):
    out = []
    for sub in ("partial", "tmp"):
        d = os.path.join(root, "blobs", sub)
        if os.path.isdir(d):
            out += [os.path.join(sub, n) for n in os.listdir(d)]
    return out


def images(root):
    r = gkimg(root, "images", "--format", "json", check=True)
    return json.loads(r.stdout)


def assert_store_consistent(root):
    """Every blob's name is its digest, and every named image is complete."""
    d = os.path.join(root, "blobs", "sha256")
    for name in store_blobs(root):
        with open(os.path.join(d, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == name, "blob %s is corrupt" % name
    for im in images(root):
        r = gkimg(root, "inspect", im["name"])
        assert r.returncode == 0, r.stderr
        for layer in json.loads(r.stdout)[0]["layers"]:
            assert layer["digest"][7:] in store_blobs(root)


def assert_blobs_of(root, img):
    have = store_blobs(root)
    for d, _, _, _ in img.layers:
        assert d[7:] in have
    assert img.id[7:] in have


# ---- manifest types ----

def test_pull_oci_manifest(registry, root):
    repo = unique()
    img = small_image(b"oci")
    digest = registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (registry.host, repo)
    r = gkimg(root, "pull", ref, check=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "v1: Pulling from %s/%s" % (registry.host, repo)
    assert "Digest: %s" % digest in lines
    assert "Status: Downloaded newer image for %s" % ref in lines
    assert lines[-1] == ref
    for d, size, _, _ in img.layers:
        assert "%s: Download complete" % d[7:19] in r.stdout
    assert_blobs_of(root, img)
    assert digest[7:] in store_blobs(root)
    [im] = images(root)
    assert im["name"] == ref and im["id"] == img.id and im["manifest"] == digest
    assert im["platform"] == "linux/amd64"
    assert im["size"] == len(img.config) + sum(s for _, s, _, _ in img.layers)
    assert store_leftovers(root) == []
    info = json.loads(gkimg(root, "inspect", ref, check=True).stdout)[0]
    assert info["id"] == img.id
    assert [l["digest"] for l in info["layers"]] == [l[0] for l in img.layers]
    assert info["config"]["rootfs"]["diff_ids"] == img.diff_ids


def test_pull_docker_schema2(registry, root):
    repo = unique()
    img = small_image(b"docker")
    digest = registry.push_image(repo, "latest", img, docker=True)
    ref = "%s/%s" % (registry.host, repo)
    r = gkimg(root, "pull", ref, check=True)
    assert r.stdout.splitlines()[-1] == ref + ":latest"
    info = json.loads(gkimg(root, "inspect", ref, check=True).stdout)[0]
    assert info["mediaType"] == gr.MT_DOCKER_MANIFEST
    assert info["manifest"] == digest
    assert info["layers"][0]["mediaType"] == gr.MT_DOCKER_LAYER
    assert_blobs_of(root, img)


@pytest.mark.parametrize("docker", [False, True], ids=["oci-index", "docker-list"])
def test_pull_multi_platform_index(registry, root, docker):
    repo = unique()
    host = small_image(b"host-" + repr(docker).encode(), arch=HOST_ARCH)
    other = small_image(b"other-" + repr(docker).encode(), arch=OTHER_ARCH)
    att = small_image(b"attestation", layers=1, arch="unknown")
    entries = [(att, {"os": "unknown", "architecture": "unknown"},
                {"attestation": "sha256:" + "0" * 64}),
               (other, {"os": "linux", "architecture": OTHER_ARCH}, {"docker": docker}),
               (host, {"os": "linux", "architecture": HOST_ARCH}, {"docker": docker})]
    index = registry.push_index(repo, "multi", entries, docker=docker)
    ref = "%s/%s:multi" % (registry.host, repo)
    r = gkimg(root, "pull", ref, check=True)
    assert "Digest: %s" % index in r.stdout
    [im] = images(root)
    assert im["id"] == host.id and im["repoDigest"] == index
    assert im["platform"] == "linux/" + HOST_ARCH
    assert_blobs_of(root, host)
    assert other.id[7:] not in store_blobs(root)
    assert att.id[7:] not in store_blobs(root)
    # --platform picks another entry (and renames the tag to it)
    gkimg(root, "pull", "--platform", "linux/" + OTHER_ARCH, ref, check=True)
    [im] = images(root)
    assert im["id"] == other.id
    # by the index digest, too
    r = gkimg(root, "pull", "%s/%s@%s" % (registry.host, repo, index), check=True)
    assert any(i["name"].endswith("@" + index) for i in images(root))
    # no such platform: the error lists the real ones, not the attestation
    r = gkimg(root, "pull", "--platform", "linux/s390x", ref)
    assert r.returncode == 1
    assert "no image for platform linux/s390x in the index" in r.stderr
    assert "linux/" + HOST_ARCH in r.stderr and "linux/" + OTHER_ARCH in r.stderr
    assert "unknown" not in r.stderr


def test_pull_zstd_gzip_and_plain_layers(registry, root):
    repo = unique()
    img = small_image(b"mixed", compression=["zstd", "gzip", None], big=50000)
    registry.push_image(repo, "mixed", img)
    gkimg(root, "pull", "%s/%s:mixed" % (registry.host, repo), check=True)
    info = json.loads(gkimg(root, "inspect", "%s/%s:mixed" % (registry.host, repo),
                            check=True).stdout)[0]
    assert [l["mediaType"] for l in info["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar"]
    assert_blobs_of(root, img)
    assert_store_consistent(root)


def test_pull_by_digest_and_tag_plus_digest(registry, root):
    repo = unique()
    img = small_image(b"bydigest")
    digest = registry.push_image(repo, "t", img)
    by_digest = "%s/%s@%s" % (registry.host, repo, digest)
    r = gkimg(root, "pull", by_digest, check=True)
    assert r.stdout.splitlines()[-1] == by_digest
    r = gkimg(root, "pull", "%s/%s:t@%s" % (registry.host, repo, digest), check=True)
    assert r.stdout.splitlines()[-1] == by_digest
    # the digest is checked: a digest the registry does not have is a 404
    r = gkimg(root, "pull", "%s/%s@sha256:%s" % (registry.host, repo, "ab" * 32))
    assert r.returncode == 1 and "not found in" in r.stderr and "HTTP 404" in r.stderr


def test_repull_costs_one_head(proxy, registry, root):
    repo = unique()
    img = small_image(b"repull")
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (proxy.host, repo)
    gkimg(root, "pull", ref, check=True)
    proxy.clear()
    r = gkimg(root, "pull", ref, check=True)
    assert "Status: Image is up to date for %s" % ref in r.stdout
    assert [(q["method"], "/manifests/v1" in q["path"]) for q in proxy.requests] == \
        [("HEAD", True)], proxy.requests
    # a new image under the same tag is pulled, shared layers are not fetched again
    img2 = small_image(b"repull", layers=1)
    registry.push_image(repo, "v1", img2)
    proxy.clear()
    r = gkimg(root, "pull", ref, check=True)
    assert "Already exists" in r.stdout
    assert not proxy.seen("GET", img.layers[0][0])
    assert images(root)[0]["id"] == img2.id


def test_missing_blob_is_fetched_again(proxy, registry, root):
    """Manifests in the store but a layer gone (by hand): a pull by digest
    makes no manifest request and fetches just that layer."""
    repo = unique()
    img = small_image(b"missing")
    digest = registry.push_image(repo, "v1", img)
    ref = "%s/%s@%s" % (proxy.host, repo, digest)
    gkimg(root, "pull", ref, check=True)
    gone = img.layers[1][0]
    os.unlink(os.path.join(root, "blobs", "sha256", gone[7:]))
    proxy.clear()
    r = gkimg(root, "pull", ref, check=True)
    assert "Downloaded newer image" in r.stdout
    assert not proxy.seen(path="/manifests/")
    assert [q["path"].rsplit("/", 1)[1] for q in proxy.seen("GET", "/blobs/")] == [gone]
    assert_blobs_of(root, img)


def test_quiet_prints_only_the_name(registry, root):
    repo = unique()
    registry.push_image(repo, "q", small_image(b"quiet"))
    r = gkimg(root, "pull", "-q", "%s/%s:q" % (registry.host, repo), check=True)
    assert r.stdout == "%s/%s:q\n" % (registry.host, repo)


ESC_SEQ = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def pull_through_a_pty(root, ref, cols, term="xterm"):
    """gkimg pull on a pty COLS wide (set by the child before exec);
    returns everything it wrote."""
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        os.environ["DOCKER_CONFIG"] = "/nonexistent-gk-docker-config"
        os.environ["TERM"] = term
        os.execv(GKIMG, [GKIMG, "--root", root, "pull", ref])
    out = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        rl, _, _ = select.select([fd], [], [], 1)
        if rl:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out.decode()


def test_progress_on_a_terminal(registry, root):
    repo = unique()
    registry.push_image(repo, "tty", small_image(b"tty", big=400000))
    text = pull_through_a_pty(root, "%s/%s:tty" % (registry.host, repo), 80)
    assert "\x1b[" in text          # lines redrawn in place
    assert "Download complete" in text
    assert "Status: Downloaded newer image" in text


@pytest.mark.parametrize("cols", [80, 200])
def test_progress_fits_the_terminal(proxy, registry, root, cols):
    """At any width no line wraps (a wrapped line leaves fragments at the
    next redraw), and Digest/Status come after the layer lines."""
    repo = unique()
    img = small_image(b"w%d" % cols, big=1000000)
    registry.push_image(repo, "tty", img)
    # slow enough for the bars to be drawn a few times
    proxy.fault(method="GET", path=img.layers[2][0], slow=1000000)
    text = pull_through_a_pty(root, "%s/%s:tty" % (proxy.host, repo), cols)
    assert "\x1b[" in text and "] " in text and "/s" in text, text
    for line in re.split(r"[\r\n]+", ESC_SEQ.sub("", text)):
        assert len(line) < cols, line
    digest_at = text.index("Digest: ")
    assert text.index("Status: Downloaded newer image") > digest_at
    # nothing is drawn after Digest: the layer lines stay above it
    assert "\x1b" not in text[digest_at:], text[digest_at:]
    for d in (layer[0] for layer in img.layers):
        assert text.rindex(d[7:19]) < digest_at


def test_progress_on_a_dumb_terminal_is_plain(registry, root):
    repo = unique()
    img = small_image(b"dumb", big=400000)
    registry.push_image(repo, "tty", img)
    text = pull_through_a_pty(root, "%s/%s:tty" % (registry.host, repo), 80, term="dumb")
    assert "\x1b" not in text, repr(text)
    assert "Download complete" in text
    lines = [ln for ln in text.splitlines() if ln]
    # the layer lines, then Digest, Status and the name pulled, as docker prints them
    assert lines[-3].startswith("Digest: ") and lines[-2].startswith("Status: "), lines[-4:]
    assert not any(ln.startswith(("Digest", "Status")) for ln in lines[:-3]), lines


def pull_in_tmux(root, ref, cols, resize_to=None):
    """gkimg pull in a tmux pane COLS wide (a private tmux server), made
    RESIZE_TO wide while a layer downloads; returns the pane's visible
    screen once the pull has ended."""
    t = ["tmux", "-L", "gk-test-%d-%d" % (os.getpid(), cols), "-f", "/dev/null"]
    cmd = "DOCKER_CONFIG=/nonexistent-gk-docker-config %s --root %s pull %s; echo EXIT=$?; " \
          "sleep 120" % (GKIMG, root, ref)
    subprocess.run(t + ["new-session", "-d", "-x", str(cols), "-y", "30", cmd], check=True,
                   env=dict(os.environ, TERM="xterm"))
    try:
        deadline = time.time() + 60
        screen = ""
        while time.time() < deadline and "EXIT=" not in screen:
            time.sleep(0.1)
            screen = subprocess.run(t + ["capture-pane", "-p"], capture_output=True,
                                    text=True, check=True).stdout
            if resize_to and "/s" in screen:
                subprocess.run(t + ["resize-window", "-x", str(resize_to)], check=True)
                resize_to = None
        assert "EXIT=0" in screen, screen
        assert resize_to is None, "the pull ended before the resize"
        return [ln for ln in screen.splitlines() if ln.strip()]
    finally:
        subprocess.run(t + ["kill-server"], capture_output=True)


@pytest.mark.parametrize("cols,resize_to", [(80, None), (200, None), (100, 50), (60, 200)])
def test_progress_on_screen(proxy, registry, root, cols, resize_to):
    """What the user sees in a real terminal (tmux) at the end: each layer
    once, complete, with no fragment of an earlier draw, at any width and
    after a resize during the download; Digest and Status below."""
    if not shutil.which("tmux"):
        pytest.skip("tmux is not installed (contrib/install-deps.sh --test installs it)")
    repo = unique()
    img = small_image(b"s%d-%s" % (cols, str(resize_to).encode()), big=3000000)
    registry.push_image(repo, "tty", img)
    proxy.fault(method="GET", path=img.layers[2][0], slow=1000000)
    screen = pull_in_tmux(root, "%s/%s:tty" % (proxy.host, repo), cols, resize_to)
    ids = [d[7:19] for d in (layer[0] for layer in img.layers)]
    layer_lines = [ln for ln in screen if re.match(r"[0-9a-f]{12}: ", ln)]
    assert sorted(ln[:12] for ln in layer_lines) == sorted(ids), screen
    assert all(ln.endswith(": Download complete") for ln in layer_lines), screen
    assert not any("Downloading" in ln or "Waiting" in ln for ln in screen), screen
    digest_at = next(i for i, ln in enumerate(screen) if ln.startswith("Digest: "))
    assert all(screen.index(ln) < digest_at for ln in layer_lines), screen
    assert any(ln.startswith("Status: Downloaded newer image") for ln in screen[digest_at:]), \
        screen


# ---- references ----

@pytest.mark.parametrize("ref,msg", [
    ("Alpine", "repository name must be lowercase"),
    ("alpine:bad tag", "contains a space"),
    ("alpine@sha256:123", "not a sha256 digest"),
    ("host:port/x", "not a valid registry host"),
    ("a/-b", "not a valid repository name component"),
])
def test_bad_reference_fails_before_any_request(proxy, root, ref, msg):
    r = gkimg(root, "pull", ref)
    assert r.returncode == 1
    assert msg in r.stderr, r.stderr
    assert proxy.requests == []


def test_unknown_image_and_tag(registry, root):
    r = gkimg(root, "pull", "%s/gktest/nosuch:v1" % registry.host)
    assert r.returncode == 1
    assert "manifest `v1`: not found in %s/gktest/nosuch (HTTP 404)" % registry.host in r.stderr
    assert images(root) == []
    r = gkimg(root, "inspect", "nosuch")
    assert r.returncode == 1 and "image `nosuch` is not in the store" in r.stderr


def test_schema1_refused(proxy, registry, root):
    repo = unique()
    registry.push_image(repo, "old", small_image(b"s1"))
    body = json.dumps({"schemaVersion": 1, "name": repo, "tag": "old", "fsLayers": []}).encode()
    proxy.fault(path="/manifests/", status=200, body=body,
                headers={"Content-Type": "application/vnd.docker.distribution.manifest.v1+prettyjws"})
    r = gkimg(root, "pull", "%s/%s:old" % (proxy.host, repo))
    assert r.returncode == 1
    assert "Docker schema1 manifests are not supported" in r.stderr
    assert images(root) == [] and store_blobs(root) == set()


# ---- bad content ----

def test_corrupt_blob_is_discarded(proxy, registry, root):
    repo = unique()
    img = small_image(b"corrupt")
    registry.push_image(repo, "v1", img)
    bad = img.layers[1][0]
    proxy.fault(method="GET", path=bad, corrupt=True)
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 1
    assert "blob %s: digest mismatch: the content has digest sha256:" % bad in r.stderr
    assert "(discarded)" in r.stderr
    assert bad[7:] not in store_blobs(root)
    assert store_leftovers(root) == []
    assert images(root) == []
    assert_store_consistent(root)
    # a clean registry afterwards: the pull completes
    proxy.clear()
    gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo), check=True)
    assert_blobs_of(root, img)


def test_oversized_blob_is_refused(proxy, registry, root):
    repo = unique()
    img = small_image(b"oversize")
    registry.push_image(repo, "v1", img)
    d = img.layers[0][0]
    proxy.fault(method="GET", path=d, status=200, body=img.blobs[d] + b"extra")
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 1
    assert "blob %s: the registry sent more than the %d bytes the manifest says" % (
        d, img.layers[0][1]) in r.stderr
    assert d[7:] not in store_blobs(root) and images(root) == []


def test_stored_blob_under_a_wrong_size_is_refused(proxy, registry, root):
    """The config is in the store already and hashes right, but the new
    manifest gives it another size: refused as a download would be."""
    repo = unique()
    img = small_image(b"wrongsize")
    registry.push_image(repo, "v1", img)
    gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo), check=True)
    before = store_blobs(root)
    m = json.loads(img.manifest)
    m["config"]["size"] += 7
    proxy.fault(path="/manifests/", status=200, body=json.dumps(m).encode(),
                headers={"Content-Type": m["mediaType"]})
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 1
    assert "blob %s: the manifest says %d bytes, the content has %d" % (
        m["config"]["digest"], len(img.config) + 7, len(img.config)) in r.stderr, r.stderr
    assert store_blobs(root) == before and len(images(root)) == 1
    assert_store_consistent(root)


def test_corrupt_manifest_is_refused(proxy, registry, root):
    repo = unique()
    img = small_image(b"badmanifest")
    digest = registry.push_image(repo, "v1", img)
    proxy.fault(method="GET", path="/manifests/" + digest, status=200,
                body=img.manifest.replace(b"schemaVersion\": 2", b"schemaVersion\":  2"),
                headers={"Content-Type": gr.MT_OCI_MANIFEST})
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 1
    assert "manifest %s: digest mismatch: the registry sent content with digest" % digest \
        in r.stderr
    assert images(root) == [] and store_blobs(root) == set()


# ---- transient failures ----

def test_truncated_blob_is_resumed_with_range(proxy, registry, root):
    repo = unique()
    img = small_image(b"trunc", big=300000)
    registry.push_image(repo, "v1", img)
    d, size = img.layers[2][0], img.layers[2][1]
    proxy.fault(method="GET", path=d, truncate=100000, times=1)
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo), check=True)
    assert "Retrying in" in r.stdout
    gets = proxy.seen("GET", d)
    assert len(gets) == 2
    assert "Range" not in gets[0]["headers"]
    assert gets[1]["headers"].get("Range") == "bytes=100000-"
    assert_blobs_of(root, img)
    assert_store_consistent(root)


def test_connection_dropping_every_n_bytes_still_finishes(proxy, registry, root):
    """Every transfer of the layer is cut after 100 kB, far more drops than
    the retry limit: each resume gets further, so none counts against it."""
    repo = unique()
    img = small_image(b"drops", big=1200000)
    registry.push_image(repo, "v1", img)
    d = img.layers[2][0]
    proxy.fault(method="GET", path=d, truncate=100000)
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 0, r.stderr
    gets = proxy.seen("GET", d)
    assert len(gets) > 10
    assert gets[-1]["headers"].get("Range") == "bytes=%d-" % (100000 * (len(gets) - 1))
    assert_blobs_of(root, img)
    assert_store_consistent(root)


def test_server_errors_are_retried(proxy, registry, root):
    repo = unique()
    img = small_image(b"retry")
    registry.push_image(repo, "v1", img)
    proxy.fault(method="GET", path=img.layers[0][0], status=500, times=2)
    proxy.fault(method="GET", path="/manifests/sha256", status=503, times=1)
    gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo), check=True)
    assert len(proxy.seen("GET", img.layers[0][0])) == 3
    assert_blobs_of(root, img)


def test_persistent_500_gives_up_clearly(proxy, registry, root):
    repo = unique()
    img = small_image(b"fivehundred")
    registry.push_image(repo, "v1", img)
    d = img.layers[1][0]
    proxy.fault(method="GET", path=d, status=500,
                body=b'{"errors":[{"code":"UNKNOWN","message":"boom"}]}')
    t = time.time()
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 1
    assert "blob %s: giving up after 5 attempts: HTTP 500" % d in r.stderr
    assert len(proxy.seen("GET", d)) == 5
    assert time.time() - t < 20
    assert d[7:] not in store_blobs(root) and images(root) == []
    assert_store_consistent(root)


@pytest.mark.parametrize("status,msg", [
    (401, "access denied by {host}: repository `{repo}` does not exist or needs a login"),
    (403, "access denied by {host}: repository `{repo}` does not exist or needs a login"),
    (404, "not found in {host}/{repo} (HTTP 404) (BLOB_UNKNOWN: blob unknown)"),
])
def test_blob_4xx_fail_at_once(proxy, registry, root, status, msg):
    repo = unique()
    img = small_image(b"4xx%d" % status)
    registry.push_image(repo, "v1", img)
    d = img.layers[0][0]
    body = b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}'
    headers = {"WWW-Authenticate": 'Basic realm="x"'} if status == 401 else {}
    proxy.fault(method="GET", path=d, status=status, body=body, headers=headers)
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 1
    assert msg.format(host=proxy.host, repo=repo) in r.stderr, r.stderr
    assert len(proxy.seen("GET", d)) == 1
    assert images(root) == []


def test_rate_limit_is_reported_not_hammered(proxy, registry, root):
    repo = unique()
    registry.push_image(repo, "v1", small_image(b"ratelimit"))
    proxy.fault(path="/manifests/", status=429,
                headers={"RateLimit-Limit": "100;w=21600", "RateLimit-Remaining": "0;w=21600",
                         "Retry-After": "3600"},
                body=b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}')
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo))
    assert r.returncode == 1
    assert "rate limit is reached (HTTP 429 Too Many Requests)" in r.stderr
    assert "limit 100;w=21600, 0;w=21600 remaining" in r.stderr
    assert "retry after 3600 seconds" in r.stderr
    assert len(proxy.requests) == 1


def test_slow_registry_still_completes(proxy, registry, root):
    repo = unique()
    img = small_image(b"slow", big=100000)
    registry.push_image(repo, "v1", img)
    proxy.fault(method="GET", path=img.layers[2][0], slow=100000)
    gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo), check=True)
    assert_blobs_of(root, img)


def test_stalled_transfer_is_retried(proxy, registry, root):
    repo = unique()
    img = small_image(b"stall")
    registry.push_image(repo, "v1", img)
    d = img.layers[1][0]
    proxy.fault(method="GET", path=d, stall=True, stall_seconds=10, times=1)
    t = time.time()
    r = gkimg(root, "pull", "%s/%s:v1" % (proxy.host, repo), env={"GKIMG_STALL_TIMEOUT": "2"},
              check=True)
    assert time.time() - t < 10
    assert "Retrying in" in r.stdout
    assert len(proxy.seen("GET", d)) == 2
    assert_blobs_of(root, img)


def test_interrupted_pull_resumes(proxy, registry, root):
    repo = unique()
    img = small_image(b"interrupt", big=1500000)
    registry.push_image(repo, "v1", img)
    d = img.layers[2][0]
    proxy.fault(method="GET", path=d, slow=200000, times=1)
    ref = "%s/%s:v1" % (proxy.host, repo)
    p = subprocess.Popen([GKIMG, "--root", root, "pull", ref], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    partial = os.path.join(root, "blobs", "partial", d[7:])
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(partial) and os.path.getsize(partial) > 300000:
            break
        time.sleep(0.05)
    p.kill()
    p.wait()
    got = os.path.getsize(partial)
    assert 0 < got < img.layers[2][1]
    assert d[7:] not in store_blobs(root) and images(root) == []
    gkimg(root, "pull", ref, check=True)
    last = proxy.seen("GET", d)[-1]
    assert last["headers"].get("Range") == "bytes=%d-" % got
    assert_blobs_of(root, img)
    assert store_leftovers(root) == []
    assert_store_consistent(root)


def test_concurrent_pulls_both_succeed(registry, root):
    repos = [unique() for _ in range(3)]
    imgs = [small_image(b"conc%d" % i, big=200000) for i in range(3)]
    for repo, img in zip(repos, imgs):
        registry.push_image(repo, "v1", img)
    refs = ["%s/%s:v1" % (registry.host, repo) for repo in repos]
    # two different images and two pulls of the same one, all at once
    procs = [subprocess.Popen([GKIMG, "--root", root, "pull", ref], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for ref in refs + [refs[0]]]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert sorted(i["name"] for i in images(root)) == sorted(refs)
    for img in imgs:
        assert_blobs_of(root, img)
    assert store_leftovers(root) == []
    assert_store_consistent(root)


@pytest.fixture
def small_fs():
    d = tempfile.mkdtemp(prefix="gk-full-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "gk-full", d], check=True)
    yield d
    subprocess.run(["umount", "-l", d], check=False)
    os.rmdir(d)


def test_full_disk_leaves_the_store_intact(registry, small_fs):
    root = small_fs
    repo = unique()
    ok = small_image(b"fits", layers=1)
    registry.push_image(repo, "small", ok)
    gkimg(root, "pull", "%s/%s:small" % (registry.host, repo), check=True)
    before = store_blobs(root)
    with open(os.path.join(root, "images.json"), "rb") as f:
        index = f.read()
    big = small_image(b"toobig", big=2 * 1024 * 1024)
    registry.push_image(repo, "big", big)
    r = gkimg(root, "pull", "%s/%s:big" % (registry.host, repo))
    assert r.returncode == 1
    assert "No space left on device" in r.stderr, r.stderr
    assert big.layers[2][0] in r.stderr
    assert big.layers[2][0][7:] not in store_blobs(root)
    assert before <= store_blobs(root)
    assert [p for p in store_leftovers(root) if p.startswith("tmp")] == []
    with open(os.path.join(root, "images.json"), "rb") as f:
        assert f.read() == index
    assert_store_consistent(root)


# ---- the Docker Hub flow: token auth and a CDN redirect ----

@pytest.fixture(scope="module")
def hub():
    d = tempfile.mkdtemp(prefix="gk-hub-")
    key = gr.TokenKey(d)
    ts = gr.TokenServer(key, users={"alice": "s3cret"}, private=["gktest/private"])
    reg = gr.Registry(token=ts)
    yield ts, reg
    reg.stop()
    ts.stop()
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def hub_proxy(hub):
    ts, reg = hub
    px = gr.Proxy(reg.port)
    px.fault(method="GET", path="/blobs/", redirect=True)
    yield ts, reg, px
    px.stop()


def test_token_auth_and_cdn_redirect(hub_proxy, root):
    ts, reg, px = hub_proxy
    repo = unique("hub")
    img = small_image(b"hub", big=100000)
    reg.push_image(repo, "v1", img)
    px.cdn.blobs.update(img.blobs)
    before = ts.issued
    gkimg(root, "pull", "%s/%s:v1" % (px.host, repo), check=True)
    assert_blobs_of(root, img)
    # one anonymous token, reused for every request
    assert ts.issued - before == 1
    tok = [q for q in ts.requests if repo.replace("/", "%2F") in q["path"]][-1]
    assert "scope=repository%3A" + repo.replace("/", "%2F") + "%3Apull" in tok["path"]
    assert "service=gk-registry" in tok["path"]
    assert "Authorization" not in tok["headers"]
    # the registry got the token; the CDN got the blobs and never the token
    assert all(q["headers"].get("Authorization", "").startswith("Bearer ")
               for q in px.requests[1:])
    cdn = [q for q in px.cdn.requests if "/cdn/" in q["path"]]
    assert len(cdn) == len(img.layers) + 1
    assert not any("Authorization" in q["headers"] for q in cdn)


def test_expired_token_is_renewed_mid_pull(hub_proxy, root):
    """A registry that stops taking the token (it expired) answers 401 with
    a new challenge: the pull fetches a new token and goes on."""
    ts, reg, px = hub_proxy
    repo = unique("hub")
    img = small_image(b"expiry")
    reg.push_image(repo, "v1", img)
    px.cdn.blobs.update(img.blobs)
    d = img.layers[1][0]
    challenge = 'Bearer realm="%s",service="gk-registry",scope="repository:%s:pull"' % (
        ts.realm, repo)
    px.faults.insert(0, gr.Fault(method="GET", path=d, times=1, status=401,
                                 headers={"WWW-Authenticate": challenge},
                                 body=b'{"errors":[{"code":"UNAUTHORIZED"}]}'))
    before = ts.issued
    r = gkimg(root, "pull", "%s/%s:v1" % (px.host, repo), check=True)
    assert "token expired" in r.stdout
    assert ts.issued - before == 2
    assert_blobs_of(root, img)


def test_private_repo_needs_login(hub_proxy, root, docker_config):
    ts, reg, px = hub_proxy
    repo = "gktest/private"
    img = small_image(b"private")
    reg.push_image(repo, "v1", img)
    px.cdn.blobs.update(img.blobs)
    ref = "%s/%s:v1" % (px.host, repo)
    r = gkimg(root, "pull", ref, docker_config=docker_config)
    assert r.returncode == 1
    assert "needs a login (`gkimg login %s`)" % px.host in r.stderr
    # a wrong password is refused by the token server, and not saved
    r = gkimg(root, "login", "-u", "alice", "--password-stdin", px.host, input="wrong\n",
              docker_config=docker_config)
    assert r.returncode == 1 and "wrong username or password" in r.stderr
    # saved where podman login saves: $XDG_RUNTIME_DIR/containers/auth.json
    cfg_path = os.path.join(docker_config, "containers", "auth.json")
    assert not os.path.exists(cfg_path)
    r = gkimg(root, "login", "-u", "alice", "--password-stdin", px.host, input="s3cret\n",
              docker_config=docker_config)
    assert r.returncode == 0, r.stderr
    assert "Login Succeeded" in r.stdout
    assert stat.S_IMODE(os.stat(cfg_path).st_mode) == 0o600
    with open(cfg_path) as f:
        cfg = json.load(f)
    assert cfg["auths"][px.host]["auth"] == "YWxpY2U6czNjcmV0"  # alice:s3cret
    gkimg(root, "pull", ref, docker_config=docker_config, check=True)
    assert_blobs_of(root, img)
    tok = [q for q in ts.requests if "gktest%2Fprivate" in q["path"]][-1]
    assert tok["headers"]["Authorization"] == "Basic YWxpY2U6czNjcmV0"
    r = gkimg(root, "logout", px.host, docker_config=docker_config, check=True)
    with open(cfg_path) as f:
        assert px.host not in json.load(f)["auths"]
    r = gkimg(root, "logout", px.host, docker_config=docker_config)
    assert r.returncode == 1 and "not logged in to %s" % px.host in r.stderr


def test_credentials_from_a_helper(hub_proxy, root, docker_config):
    ts, reg, px = hub_proxy
    repo = "gktest/private"
    img = small_image(b"private-helper")
    reg.push_image(repo, "helper", img)
    px.cdn.blobs.update(img.blobs)
    bindir = os.path.join(docker_config, "bin")
    os.makedirs(bindir)
    helper = os.path.join(bindir, "docker-credential-gktest")
    with open(helper, "w") as f:
        f.write("#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread url\n"
                "echo \"$url\" >> %s/asked\n"
                "printf '{\"ServerURL\":\"%%s\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}' "
                "\"$url\"\n" % docker_config)
    os.chmod(helper, 0o755)
    with open(os.path.join(docker_config, "config.json"), "w") as f:
        json.dump({"auths": {}, "credHelpers": {px.host: "gktest"}}, f)
    gkimg(root, "pull", "%s/%s:helper" % (px.host, repo), docker_config=docker_config,
          env={"PATH": bindir + ":" + os.environ["PATH"]}, check=True)
    with open(os.path.join(docker_config, "asked")) as f:
        assert f.read().split() == [px.host]
    # a broken helper is an error naming it
    with open(os.path.join(docker_config, "config.json"), "w") as f:
        json.dump({"credsStore": "nosuchhelper"}, f)
    r = gkimg(root, "pull", "%s/%s:helper" % (px.host, repo), docker_config=docker_config)
    assert r.returncode == 1 and "docker-credential-nosuchhelper" in r.stderr


# ---- images, rmi, gc ----

def test_images_rmi_gc(registry, root):
    repo = unique()
    a = small_image(b"gc-a")
    b = small_image(b"gc-b", big=10000)
    registry.push_image(repo, "a", a)
    registry.push_image(repo, "b", b)
    ra, rb = ("%s/%s:%s" % (registry.host, repo, t) for t in "ab")
    gkimg(root, "pull", ra, check=True)
    gkimg(root, "pull", rb, check=True)
    table = gkimg(root, "images", check=True).stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    rows = [l.split() for l in table[1:]]
    assert sorted(r[1] for r in rows) == ["a", "b"]
    assert a.id[7:19] in table[1] + table[2]
    r = gkimg(root, "rmi", ra, check=True)
    assert r.stdout == "Untagged: %s\nDeleted: %s\n" % (ra, a.id)
    assert [i["name"] for i in images(root)] == [rb]
    r = gkimg(root, "gc", check=True)
    assert r.stdout.startswith("removed ")
    have = store_blobs(root)
    assert a.id[7:] not in have and a.layers[1][0][7:] not in have
    assert_blobs_of(root, b)
    assert_store_consistent(root)
    # by ID prefix
    r = gkimg(root, "rmi", b.id[7:19], check=True)
    assert r.stdout == "Untagged: %s\nDeleted: %s\n" % (rb, b.id)
    r = gkimg(root, "rmi", rb)
    assert r.returncode == 1 and "image `%s` is not in the store" % rb in r.stderr
    gkimg(root, "gc", check=True)
    assert store_blobs(root) == set()


def test_short_names_resolve_in_the_store(registry, root):
    """`inspect alpine` finds docker.io/library/alpine:latest: names are
    normalized the same way everywhere."""
    repo = unique()
    img = small_image(b"short")
    digest = registry.push_image(repo, "v1", img)
    gkimg(root, "pull", "%s/%s:v1" % (registry.host, repo), check=True)
    for ref in ("%s/%s:v1" % (registry.host, repo), img.id, img.id[7:19], digest,
                "%s/%s@%s" % (registry.host, repo, digest)):
        r = gkimg(root, "inspect", ref)
        assert r.returncode == 0, (ref, r.stderr)
        assert json.loads(r.stdout)[0]["id"] == img.id


# ---- TLS ----

@pytest.fixture(scope="module")
def tls_registry():
    d = tempfile.mkdtemp(prefix="gk-tls-")
    ca, crt, key = gr.make_ca_and_cert(d)
    good, bad, other = (os.path.join(d, n) for n in ("good", "bad", "other"))
    for n in (good, bad, other):
        os.makedirs(n)
    other_ca, _, _ = gr.make_ca_and_cert(other, name="gk-other-ca")
    shutil.copy(ca, os.path.join(good, "ca.crt"))
    shutil.copy(other_ca, os.path.join(bad, "ca.crt"))
    reg = gr.Registry(tls=(crt, key))
    yield reg, good, bad
    reg.stop()
    shutil.rmtree(d, ignore_errors=True)


def test_tls_with_cert_dir(tls_registry, root):
    reg, good, bad = tls_registry
    repo = unique("tls")
    img = small_image(b"tls")
    reg.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (reg.host, repo)
    # the CA from --cert-dir verifies the registry's certificate
    gkimg(root, "pull", "--cert-dir", good, ref, check=True)
    assert_blobs_of(root, img)
    # a cert dir with another CA: verification is on, and fails
    r = gkimg(root, "pull", "--cert-dir", bad, ref)
    assert r.returncode == 1
    assert "SSL certificate problem: unable to get local issuer certificate" in r.stderr, r.stderr
    # no cert dir: a loopback registry is trusted as docker trusts it
    gkimg(root, "pull", ref, check=True)
    gkimg(root, "pull", "--tls-verify=false", "--cert-dir", bad, ref, check=True)
    r = gkimg(root, "pull", "--cert-dir", "/nonexistent-gk", ref)
    assert r.returncode == 1 and "--cert-dir `/nonexistent-gk`" in r.stderr


def test_tls_with_etc_gk_certs_d(tls_registry, root):
    """Without --cert-dir the registry's own /etc/gk/certs.d/HOST/ is used."""
    reg, good, bad = tls_registry
    repo = unique("certsd")
    img = small_image(b"certsd")
    reg.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (reg.host, repo)
    made = [p for p in ("/etc/gk", "/etc/gk/certs.d") if not os.path.exists(p)]
    hostdir = os.path.join("/etc/gk/certs.d", reg.host)
    assert not os.path.exists(hostdir)
    try:
        shutil.copytree(bad, hostdir)
        r = gkimg(root, "pull", ref)
        assert r.returncode == 1
        assert "SSL certificate problem" in r.stderr, r.stderr
        shutil.rmtree(hostdir)
        shutil.copytree(good, hostdir)
        gkimg(root, "pull", ref, check=True)
        assert_blobs_of(root, img)
    finally:
        shutil.rmtree(hostdir, ignore_errors=True)
        for p in reversed(made):
            os.rmdir(p)


def mapped(host):
    """127.0.0.1:PORT under a name gkimg does not take for loopback (the
    IPv4-mapped IPv6 address): the traffic stays on lo, the registry is
    treated as a remote one (HTTPS only, certificates verified)."""
    return "[::ffff:%s]:%s" % tuple(host.rsplit(":", 1))


def test_plain_http_registry_under_a_remote_name(registry, root):
    repo = unique("plain")
    img = small_image(b"plain")
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (mapped(registry.host), repo)
    r = gkimg(root, "pull", ref)
    assert r.returncode == 1
    assert "server gave HTTP response to HTTPS client" in r.stderr, r.stderr
    assert "--tls-verify=false" in r.stderr and "SSL" not in r.stderr, r.stderr
    # the advice works
    gkimg(root, "pull", "--tls-verify=false", ref, check=True)
    assert_blobs_of(root, img)


def test_untrusted_certificate_says_how_to_trust_it(tls_registry, root):
    reg, good, bad = tls_registry
    repo = unique("untrusted")
    img = small_image(b"untrusted")
    reg.push_image(repo, "v1", img)
    host = mapped(reg.host)
    r = gkimg(root, "pull", "%s/%s:v1" % (host, repo))
    assert r.returncode == 1
    assert "SSL certificate problem" in r.stderr, r.stderr
    for hint in ("--cert-dir", "/etc/gk/certs.d/%s/" % host, "--tls-verify=false"):
        assert hint in r.stderr, (hint, r.stderr)
    gkimg(root, "pull", "--tls-verify=false", "%s/%s:v1" % (host, repo), check=True)
    assert_blobs_of(root, img)


# ---- Basic auth (htpasswd) ----

def test_basic_auth_registry(root, docker_config):
    reg = gr.Registry(users={"bob": "b0bpw"})
    try:
        repo = unique("basic")
        img = small_image(b"basic")
        reg.push_image(repo, "v1", img)
        ref = "%s/%s:v1" % (reg.host, repo)
        r = gkimg(root, "pull", ref, docker_config=docker_config)
        assert r.returncode == 1
        assert "access denied by %s: repository `%s` does not exist or needs a login" % (
            reg.host, repo) in r.stderr
        login = ["login", "-u", "bob", "--password-stdin", reg.host]
        r = gkimg(root, *login, input="nope\n", docker_config=docker_config)
        assert r.returncode == 1
        assert "%s refused the login for `bob` (HTTP 401): wrong username or password?" % (
            reg.host) in r.stderr
        r = gkimg(root, *login, input="b0bpw\n", docker_config=docker_config)
        assert r.returncode == 0, r.stderr
        gkimg(root, "pull", ref, docker_config=docker_config, check=True)
        assert_blobs_of(root, img)
    finally:
        reg.stop()


# ---- a store that notices corruption ----

def flip_byte(path):
    with open(path, "r+b") as fh:
        data = fh.read()
        fh.seek(len(data) // 2)
        fh.write(bytes([data[len(data) // 2] ^ 0xff]))


def blob_path(root, digest):
    return os.path.join(root, "blobs", "sha256", digest[7:])


def test_pull_fetches_a_damaged_blob_again(proxy, registry, root):
    """One byte of a layer flipped, another layer truncated, the manifest
    flipped: a pull checks what it finds and fetches exactly those again."""
    repo = unique()
    img = small_image(b"damaged")
    digest = registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (proxy.host, repo)
    gkimg(root, "pull", ref, check=True)
    flipped, cut = img.layers[1][0], img.layers[0][0]
    flip_byte(blob_path(root, flipped))
    os.truncate(blob_path(root, cut), 10)
    flip_byte(blob_path(root, digest))
    proxy.clear()
    r = gkimg(root, "pull", ref, check=True)
    assert "Already exists" not in r.stdout and "Downloaded newer image" in r.stdout, r.stdout
    got = sorted(q["path"].rsplit("/", 1)[1] for q in proxy.seen("GET", "/blobs/"))
    assert got == sorted([flipped, cut])
    assert proxy.seen("GET", "/manifests/" + digest)
    assert_store_consistent(root)
    assert gkimg(root, "check").returncode == 0


@pytest.mark.parametrize("fmt", ["oci-archive", "docker-archive"])
def test_export_refuses_a_damaged_blob_and_check_repairs_it(proxy, registry, root, fmt):
    repo = unique()
    img = small_image(b"export-damaged")
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (proxy.host, repo)
    gkimg(root, "pull", ref, check=True)
    layer = img.layers[1][0]
    flip_byte(blob_path(root, layer))
    out = os.path.join(root, "out.tar")
    r = gkimg(root, "export", "--format", fmt, ref, out)
    assert r.returncode == 1
    assert "blob %s: the store's copy is damaged: its content has digest sha256:" % layer \
        in r.stderr, r.stderr
    assert "gkimg check --repair" in r.stderr
    assert not [n for n in os.listdir(root) if n.startswith("out.tar")]
    r = gkimg(root, "check")
    assert r.returncode == 1
    assert "problem: blob %s: the content has digest sha256:" % layer in r.stdout, r.stdout
    proxy.clear()
    r = gkimg(root, "check", "--repair")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "repair: blob %s: fetched again from the registry of %s\n" % (layer, ref) in r.stdout
    assert r.stdout.endswith(": 0 problems, 0 leftovers\n"), r.stdout
    assert [q["path"].rsplit("/", 1)[1] for q in proxy.seen("GET", "/blobs/")] == [layer]
    assert_store_consistent(root)
    gkimg(root, "export", "--format", fmt, ref, out, check=True)
    if shutil.which("skopeo") and fmt == "oci-archive":
        layout = os.path.join(root, "skopeo-layout")
        p = subprocess.run(["skopeo", "copy", "oci-archive:%s:v1" % out, "oci:%s:x" % layout],
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
