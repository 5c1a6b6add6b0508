"""`gkimg copy docker://A docker://B` sends each blob while it downloads
(imgtool/push_stream.c): the upload to B reads the download's file as it
grows, waits when it catches up, and gets the blob's last byte only once
the whole blob has matched its digest.  The source sits behind
gkregistry.Proxy, which serves slowly, cuts, corrupts or ignores a Range:
the copy lands exactly the source's bytes at B, or no blob at all."""
import glob
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest

import gkregistry as gr
from gkcli import GKIMG, NO_DOCKER_CONFIG
from test_pull import proxy, registry, small_image, unique  # noqa: F401 (fixtures)

BIG = 3 << 20  # random, so its gzip blob is about as big


@pytest.fixture
def source(registry):
    """The source registry (test_pull's, with `proxy` in front of it)."""
    return registry


@pytest.fixture
def dest():
    """A registry of its own for each test: what lands there is this test's."""
    reg = gr.Registry()
    yield reg
    reg.stop()


def seeded(source):
    """An image with a BIG random layer at SOURCE: (repo, image, big layer's digest)."""
    repo = unique("stream")
    img = small_image(repo.encode(), big=BIG)
    source.push_image(repo, "v1", img)
    big = max(img.layers, key=lambda l: l[1])[0]
    return repo, img, big


ACCEPT = ("application/vnd.oci.image.manifest.v1+json, "
          "application/vnd.docker.distribution.manifest.v2+json")


def status(url, method="HEAD"):
    """The registry's answer to URL (docker-registry hides an OCI manifest
    from a client that does not accept one)."""
    req = urllib.request.Request(url, method=method, headers={"Accept": ACCEPT})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def blob_status(reg, repo, digest):
    return status("http://%s/v2/%s/blobs/%s" % (reg.host, repo, digest))


def copy_cmd(root, src, dst, *extra):
    return [GKIMG, "--root", root, "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            *extra, "docker://" + src, "docker://" + dst]


def run_copy(root, src, dst, *extra, timeout=120):
    env = dict(os.environ, DOCKER_CONFIG=NO_DOCKER_CONFIG, XDG_RUNTIME_DIR=NO_DOCKER_CONFIG,
               XDG_CONFIG_HOME=NO_DOCKER_CONFIG)
    return subprocess.run(copy_cmd(root, src, dst, *extra), capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def landed_exactly(img, dest, repo):
    """Every blob of IMG at DEST's REPO with its digest, and the manifest."""
    for d in img.blobs:
        if d != gr.sha(img.manifest):
            assert blob_status(dest, repo, d) == 200, d
            with urllib.request.urlopen("http://%s/v2/%s/blobs/%s" % (dest.host, repo, d),
                                        timeout=30) as r:
                assert gr.sha(r.read()) == d
    assert status("http://%s/v2/%s/manifests/v1" % (dest.host, repo)) == 200


def test_upload_begins_before_the_download_ends(source, proxy, dest, root):
    """A source that sends the big layer at 1 MB/s: B's upload session
    holds a MB of it while the store's partial file is still short."""
    repo, img, big = seeded(source)
    proxy.fault(path=big, method="GET", slow=1 << 20)
    partial = os.path.join(root, "blobs", "partial", big.split(":")[1])
    uploads = os.path.join(dest.dir, "data", "docker", "registry", "v2", "repositories",
                           repo, "_uploads", "*", "data")
    env = dict(os.environ, DOCKER_CONFIG=NO_DOCKER_CONFIG, XDG_RUNTIME_DIR=NO_DOCKER_CONFIG)
    p = subprocess.Popen(copy_cmd(root, "%s/%s:v1" % (proxy.host, repo),
                                  "%s/%s:v1" % (dest.host, repo)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                         stdin=subprocess.DEVNULL)
    both = []
    try:
        while p.poll() is None:
            try:
                have = os.path.getsize(partial)
            except OSError:
                have = None
            sent = max((os.path.getsize(f) for f in glob.glob(uploads)), default=0)
            if have is not None and have < BIG and sent >= 1 << 20:
                both.append((have, sent))
            time.sleep(0.05)
        out, errs = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, errs
    assert both, "B got no MB of the layer before its download ended"
    landed_exactly(img, dest, repo)
    # the store has it too, checked, as a pull's
    assert os.path.exists(os.path.join(root, "blobs", "sha256", big.split(":")[1]))


def test_corrupt_source_lands_nothing(source, proxy, dest, root):
    """The big layer comes with a byte changed: the copy fails naming the
    digest, B never gets the blob (its upload lacked the last byte), nor a
    manifest, and the store keeps nothing of it."""
    repo, img, big = seeded(source)
    proxy.fault(path=big, method="GET", corrupt=True)
    r = run_copy(root, "%s/%s:v1" % (proxy.host, repo), "%s/%s:v1" % (dest.host, repo))
    assert r.returncode != 0
    assert "digest mismatch" in r.stderr and big in r.stderr, r.stderr
    assert blob_status(dest, repo, big) == 404
    assert status("http://%s/v2/%s/manifests/v1" % (dest.host, repo)) == 404
    assert not os.path.exists(os.path.join(root, "blobs", "sha256", big.split(":")[1]))


def test_cut_download_resumes_and_the_upload_goes_on(source, proxy, dest, root):
    """The first answer for the big layer is cut after 1 MB: the download
    resumes with a Range, the upload waits for it, and B gets the blob."""
    repo, img, big = seeded(source)
    proxy.fault(path=big, method="GET", times=1, truncate=1 << 20)
    r = run_copy(root, "%s/%s:v1" % (proxy.host, repo), "%s/%s:v1" % (dest.host, repo))
    assert r.returncode == 0, r.stderr
    gets = proxy.seen("GET", big)
    assert len(gets) == 2 and gets[1]["headers"].get("Range", "").startswith("bytes=")
    landed_exactly(img, dest, repo)


def test_source_ignoring_range_starts_the_upload_over(source, proxy, dest, root):
    """A first answer with a byte changed, cut after 1 MB; the resume is
    answered 200 with the whole right blob: the download starts its file
    over, and so must the upload (what it sent of the first file is not
    the blob's; kept, B would refuse the digest)."""
    repo, img, big = seeded(source)
    proxy.fault(path=big, method="GET", times=1, corrupt=True, truncate=1 << 20)
    proxy.fault(path=big, method="GET", times=1, status=200, body=img.blobs[big])
    r = run_copy(root, "%s/%s:v1" % (proxy.host, repo), "%s/%s:v1" % (dest.host, repo))
    assert r.returncode == 0, r.stderr
    assert len(proxy.seen("GET", big)) == 2
    landed_exactly(img, dest, repo)


def test_resumed_download_failing_its_digest_starts_the_upload_over(source, proxy, dest, root):
    """A first answer with a byte changed, cut after 1 MB; the resume (206)
    brings the right rest: the whole fails its digest, the download starts
    over from byte 0, and the upload with it."""
    repo, img, big = seeded(source)
    proxy.fault(path=big, method="GET", times=1, corrupt=True, truncate=1 << 20)
    r = run_copy(root, "%s/%s:v1" % (proxy.host, repo), "%s/%s:v1" % (dest.host, repo))
    assert r.returncode == 0, r.stderr
    gets = proxy.seen("GET", big)
    assert len(gets) == 3 and "Range" not in gets[2]["headers"]
    landed_exactly(img, dest, repo)


def test_blobs_the_destination_has_are_not_waited_for(source, dest, root, tmp_path):
    """B has every blob already (an earlier copy): a copy by an empty store
    downloads them all, sends none, and ends (no download waits for an
    upload that never reads)."""
    repo, img, big = seeded(source)
    to = "%s/%s:v1" % (dest.host, repo)
    assert run_copy(root, "%s/%s:v1" % (source.host, repo), to).returncode == 0
    other = str(tmp_path / "store2")
    r = run_copy(other, "%s/%s:v1" % (source.host, repo), "%s/%s:v2" % (dest.host, repo),
                 timeout=60)
    assert r.returncode == 0, r.stderr
    assert os.path.exists(os.path.join(other, "blobs", "sha256", big.split(":")[1]))
    assert status("http://%s/v2/%s/manifests/v2" % (dest.host, repo)) == 200


def test_two_copies_of_one_image_at_once(source, dest, root):
    """Two copies from one store at once (one blob writer each; the other
    waits for it and reads the store's copy): both land."""
    repo, img, big = seeded(source)
    results = {}

    def one(tag):
        results[tag] = run_copy(root, "%s/%s:v1" % (source.host, repo),
                                "%s/%s-%s:v1" % (dest.host, repo, tag))

    ts = [threading.Thread(target=one, args=(t,)) for t in ("a", "b")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for tag, r in results.items():
        assert r.returncode == 0, r.stderr
        landed_exactly(img, dest, "%s-%s" % (repo, tag))


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_fewer_slots_than_blobs(source, dest, root, parallel):
    """--parallel below the image's four blobs: sessions wait for slots,
    downloads for their readers, and each side takes the blobs in the same
    order, so the copy ends with every blob there."""
    repo, img, big = seeded(source)
    r = run_copy(root, "%s/%s:v1" % (source.host, repo), "%s/%s:v1" % (dest.host, repo),
                 "--parallel", parallel, timeout=60)
    assert r.returncode == 0, r.stderr
    landed_exactly(img, dest, repo)


def test_errors_name_the_side_that_failed(source, proxy, dest, root):
    """A destination that is down is named in the error, not the source
    whose download it interrupted; a source that loses a blob is named."""
    repo, img, big = seeded(source)
    down = "127.0.0.1:%d" % gr.free_port()
    r = run_copy(root, "%s/%s:v1" % (source.host, repo), "%s/%s:v1" % (down, repo))
    assert r.returncode != 0
    assert r.stderr.startswith("gkimg: copy: docker://%s/%s:v1: " % (down, repo)), r.stderr
    proxy.fault(path=big, method="GET", status=404, body=b"")
    r = run_copy(root, "%s/%s:v1" % (proxy.host, repo), "%s/%s:v1" % (dest.host, repo))
    assert r.returncode != 0
    assert r.stderr.startswith("gkimg: copy: docker://%s/%s:v1: " % (proxy.host, repo)), r.stderr
    assert big in r.stderr
    assert status("http://%s/v2/%s/manifests/v1" % (dest.host, repo)) == 404
