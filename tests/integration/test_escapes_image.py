"""Hostile images and registries against the host's disk and time (the
image side of test_escapes.py).  Each test makes gkimg meet the attack,
asserts it fails with an error naming what and why, and that the host is
unchanged: the small tmpfs the test mounts is not filled, the store has no
leftovers, the pull ends.

 1. a small layer with a huge sparse file: holes stay holes, in the store
    and in a `bundle --copy` rootfs, on the store's filesystem or another
 2. a layer that inflates (compressed zeros): refused past
    GKIMG_LAYER_MAX_SIZE, the layer named, nothing of it left
 3. a registry that dribbles a few bytes a second, or stops sending: the
    pull fails on its deadline (GKIMG_TIMEOUT_BASE + size / GKIMG_MIN_RATE)
    or on a stall (GKIMG_STALL_TIMEOUT), naming the blob or manifest, the
    registry and the reason
"""
import gzip
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

import gkregistry as gr
from gkcli import gkimg
from gkimage import Image

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")

GIB = 1 << 30
MARK = b"the only data of the sparse file\n"


@pytest.fixture
def work():
    path = tempfile.mkdtemp(prefix="gk-escimg-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tmpfs(work):
    """mount(SIZE) -> a fresh tmpfs of SIZE bytes under the test's directory,
    unmounted at the end."""
    mounted = []

    def mount(size):
        path = os.path.join(work, "tmpfs%d" % len(mounted))
        os.mkdir(path)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0755" % size,
                        "gk-test-tmpfs", path], check=True)
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        if subprocess.run(["umount", path]).returncode != 0:
            subprocess.run(["umount", "-l", path])


def used(path):
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def sparse_layer(work, size, offset):
    """A layer tar (GNU tar --sparse, pax) with data/sparse: SIZE bytes, all
    hole but MARK at OFFSET, and a plain etc/group."""
    src = os.path.join(work, "src")
    os.makedirs(os.path.join(src, "data"))
    os.makedirs(os.path.join(src, "etc"))
    with open(os.path.join(src, "etc", "group"), "w") as f:
        f.write("root:x:0:\n")
    with open(os.path.join(src, "data", "sparse"), "wb") as f:
        f.truncate(size)
        f.seek(offset)
        f.write(MARK)
    tar = os.path.join(work, "layer.tar")
    subprocess.run(["tar", "--sparse", "--format=pax", "--numeric-owner", "-C", src,
                    "-cf", tar, "."], check=True)
    shutil.rmtree(src)
    with open(tar, "rb") as f:
        return f.read()


def import_image(work, root, layers, name, env=None):
    layout = Image(layers).oci_layout(os.path.join(work, "layout-" + name))
    return gkimg(root, "import", layout, name, env=env)


def assert_sparse(path, size, offset):
    st = os.stat(path)
    assert st.st_size == size
    # A hole costs nothing: the file holds its one block of data, not SIZE.
    assert st.st_blocks * 512 < (1 << 20), "%s: %d blocks" % (path, st.st_blocks)
    with open(path, "rb") as f:
        f.seek(offset)
        assert f.read(len(MARK)) == MARK
        f.seek(offset // 2)
        assert f.read(4096) == b"\0" * 4096


def store_leftovers(root):
    """What an unpack or a download may have left half done."""
    left = []
    for sub in ("layers/tmp", "blobs/tmp"):
        d = os.path.join(root, sub)
        if os.path.isdir(d):
            left += [os.path.join(sub, n) for n in os.listdir(d) if not n.startswith(".")]
    return left


def images(root):
    p = gkimg(root, "images", "--format", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


# --- 1. sparse files stay sparse --------------------------------------------

def test_sparse_file_copy_does_not_fill_the_filesystem(work, tmpfs):
    """The report: a 2 GiB sparse file in a tiny layer, store and --copy
    bundle on one 64 MiB filesystem.  Writing the holes as zeros would
    fill it (`copy: No space left on device`)."""
    fs = tmpfs(64 << 20)
    root = os.path.join(fs, "store")
    layer = sparse_layer(work, 2 * GIB, GIB)
    p = import_image(work, root, [layer], "sparse:v1")
    assert p.returncode == 0, p.stderr
    before = used(fs)
    bundle = os.path.join(fs, "bundle")
    p = gkimg(root, "bundle", "--copy", "sparse:v1", bundle, "--", "/bin/true")
    assert p.returncode == 0, p.stderr
    assert_sparse(os.path.join(bundle, "rootfs", "data", "sparse"), 2 * GIB, GIB)
    assert used(fs) - before < (4 << 20)
    # The store's layer directory kept the tar's holes too.
    layers = os.path.join(root, "layers", "chains")
    for d in os.listdir(layers):
        assert_sparse(os.path.join(layers, d, "fs", "data", "sparse"), 2 * GIB, GIB)
    assert gkimg(root, "unbundle", bundle).returncode == 0


def test_copy_bundle_on_another_filesystem(work, tmpfs):
    """Store on the host's disk, bundle on a tmpfs: copy_file_range cannot
    cross filesystems (EXDEV); the copy falls back and keeps holes."""
    root = os.path.join(work, "store")
    layer = sparse_layer(work, 2 * GIB, GIB)
    files = [{"name": "etc", "type": "dir"},
             {"name": "etc/passwd", "data": b"root:x:0:0::/:/bin/sh\n" * 500},
             {"name": "etc/link", "type": "symlink", "target": "passwd"},
             {"name": "etc/hard", "type": "hardlink", "target": "etc/passwd"},
             {"name": "bin", "type": "dir"},
             {"name": "bin/tool", "data": os.urandom(300000), "mode": 0o4755}]
    p = import_image(work, root, [layer, files], "cross:v1")
    assert p.returncode == 0, p.stderr
    fs = tmpfs(32 << 20)
    bundle = os.path.join(fs, "bundle")
    p = gkimg(root, "bundle", "--copy", "cross:v1", bundle, "--", "/bin/true")
    assert p.returncode == 0, p.stderr
    rootfs = os.path.join(bundle, "rootfs")
    assert_sparse(os.path.join(rootfs, "data", "sparse"), 2 * GIB, GIB)
    with open(os.path.join(rootfs, "etc", "group")) as f:
        assert f.read() == "root:x:0:\n"
    for e in files:
        if "data" in e:
            with open(os.path.join(rootfs, e["name"]), "rb") as f:
                assert f.read() == e["data"], e["name"]
    assert os.stat(os.path.join(rootfs, "bin/tool")).st_mode & 0o7777 == 0o4755
    assert os.readlink(os.path.join(rootfs, "etc/link")) == "passwd"
    assert os.stat(os.path.join(rootfs, "etc/hard")).st_ino == \
        os.stat(os.path.join(rootfs, "etc/passwd")).st_ino
    assert gkimg(root, "unbundle", bundle).returncode == 0
    assert os.listdir(fs) == []


def test_sparse_layer_same_content_as_umoci(work):
    """umoci unpack of the same layer is the reference for the content (it
    writes the holes as zeros: its st_blocks only shows in the message)."""
    if not shutil.which("umoci"):
        pytest.skip("umoci is not installed")
    size, offset = 64 << 20, 40 << 20
    layer = sparse_layer(work, size, offset)
    img = Image([layer])
    layout = img.oci_layout(os.path.join(work, "layout"))
    root = os.path.join(work, "store")
    assert gkimg(root, "import", layout, "um:v1").returncode == 0
    ours = os.path.join(root, "layers", "chains", img.chain_ids[0][7:], "fs", "data", "sparse")
    theirs_dir = os.path.join(work, "umoci")
    subprocess.run(["umoci", "unpack", "--image", layout + ":latest", theirs_dir], check=True,
                   capture_output=True)
    theirs = os.path.join(theirs_dir, "rootfs", "data", "sparse")

    def digest(path):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest()

    assert os.stat(ours).st_size == os.stat(theirs).st_size == size
    assert digest(ours) == digest(theirs)
    assert os.stat(ours).st_blocks * 512 < (1 << 20), \
        "gkimg: %d blocks, umoci: %d" % (os.stat(ours).st_blocks, os.stat(theirs).st_blocks)


# --- 2. a layer that inflates --------------------------------------------------

def zeros_layer(n):
    """A tar with one file of N zero bytes, written as data (not sparse):
    gzip makes it about a thousandth of that."""
    raw = Image([[{"name": "zeros", "data": b"\0" * n}]]).raw[0]
    return raw


def test_inflating_layer_is_refused_at_its_limit(work, tmpfs):
    fs = tmpfs(96 << 20)
    root = os.path.join(fs, "store")
    img = Image([zeros_layer(128 << 20)])
    assert img.layers[0][1] < (1 << 20)  # the attack: a small blob
    layout = img.oci_layout(os.path.join(work, "layout"))
    before = used(fs)
    p = gkimg(root, "import", layout, "bomb:v1", env={"GKIMG_LAYER_MAX_SIZE": "16m"})
    assert p.returncode != 0
    short = img.layers[0][0][:19]
    assert re.search(r"layer %s: entry `zeros`: the layer writes more than its limit of "
                     r"16777216 bytes \(set by GKIMG_LAYER_MAX_SIZE\)" % short, p.stderr), p.stderr
    # Nothing of the layer stays: no layer directory, no temporary one,
    # no image name; the filesystem holds what it held plus the blobs.
    assert os.listdir(os.path.join(root, "layers", "chains")) == []
    assert store_leftovers(root) == []
    assert images(root) == []
    assert used(fs) - before < (4 << 20)
    # Holes are not data: the 2 GiB sparse file passes a 1 MiB limit.
    p = import_image(work, root, [sparse_layer(work, 2 * GIB, GIB)], "sparse:v1",
                     env={"GKIMG_LAYER_MAX_SIZE": "1m"})
    assert p.returncode == 0, p.stderr


def test_layer_limit_bad_value_is_refused(work):
    root = os.path.join(work, "store")
    p = import_image(work, root, [[{"name": "a", "data": b"a"}]], "x:v1",
                     env={"GKIMG_LAYER_MAX_SIZE": "lots"})
    assert p.returncode != 0
    assert "GKIMG_LAYER_MAX_SIZE `lots`: expected BYTES" in p.stderr, p.stderr
    assert images(root) == []


# --- 3. slow and stalled registries -------------------------------------------

class SlowRegistry(http.server.BaseHTTPRequestHandler):
    """Registry v2 for one image: what server_obj.slow names ("manifest" or
    "layer") is dribbled at 3 bytes a second, or (server_obj.stall) gets
    its headers and then nothing more."""

    def do_HEAD(self):
        self.answer()

    def do_GET(self):
        self.answer()

    def answer(self):
        srv = self.server_obj
        srv.record(self)
        path = self.path.split("?")[0]
        img = srv.img
        if path in ("/v2/", "/v2"):
            return self.send(b"{}", "application/json")
        if path.endswith("/manifests/v1") or path.endswith("/manifests/" + gr.sha(img.manifest)):
            return self.send(img.manifest, gr.MT_OCI_MANIFEST, srv.slow == "manifest")
        for d, blob in img.blobs.items():
            if path.endswith("/blobs/" + d):
                return self.send(blob, "application/octet-stream",
                                 srv.slow == "layer" and d == img.layers[0][0])
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def send(self, body, ctype, slow=False):
        srv = self.server_obj
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if ctype == gr.MT_OCI_MANIFEST:
            self.send_header("Docker-Content-Digest", gr.sha(body))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            if not slow:
                self.wfile.write(body)
                return
            if srv.stall:
                self.wfile.flush()
                srv.done.wait(60)
                return
            for i in range(0, len(body), 3):
                if srv.done.is_set():
                    return
                self.wfile.write(body[i:i + 3])
                self.wfile.flush()
                srv.done.wait(1)
        except OSError:
            pass
        finally:
            self.close_connection = True


@pytest.fixture
def slow_registry():
    srv = gr.ThreadServer(SlowRegistry)
    srv.img = Image([[{"name": "etc/slow", "data": os.urandom(2000)}]])
    srv.slow, srv.stall = None, False
    srv.done = threading.Event()
    yield srv
    srv.done.set()
    srv.stop()


def pull_fails(root, srv, env, limit):
    t = time.time()
    p = gkimg(root, "pull", "127.0.0.1:%d/slow:v1" % srv.port, env=env, timeout=limit + 30)
    took = time.time() - t
    assert p.returncode != 0, p.stdout
    assert took < limit, "pull took %.1fs: %s" % (took, p.stderr)
    # Nothing named, nothing half written but the documented partial blob
    # (blobs/partial, which the next pull resumes).
    assert images(root) == []
    assert store_leftovers(root) == []
    return p.stderr


def test_dribbling_blob_fails_on_its_deadline(slow_registry, work):
    srv = slow_registry
    srv.slow = "layer"
    digest, size = srv.img.layers[0][:2]
    root = os.path.join(work, "store")
    err = pull_fails(root, srv, {"GKIMG_TIMEOUT_BASE": "2", "GKIMG_MIN_RATE": "100000"}, 15)
    assert re.search(r"blob %s: registry 127\.0\.0\.1:%d too slow: \d+ of %d bytes in 2s "
                     r"\(the limit: 2s plus 1s per 100000 bytes; GKIMG_TIMEOUT_BASE, "
                     r"GKIMG_MIN_RATE\)" % (digest, srv.port, size), err), err
    assert not os.path.exists(os.path.join(root, "blobs", "sha256", digest[7:]))
    # Final: one request, not one per retry.
    assert len([r for r in srv.requests if r["path"].endswith(digest)]) == 1


def test_dribbling_manifest_fails_on_its_deadline(slow_registry, work):
    srv = slow_registry
    srv.slow = "manifest"
    root = os.path.join(work, "store")
    # A manifest by tag is given time for the 4 MiB it may be at most.
    err = pull_fails(root, srv, {"GKIMG_TIMEOUT_BASE": "2", "GKIMG_MIN_RATE": "10000000"}, 15)
    assert re.search(r"manifest `(v1|sha256:[0-9a-f]{64})`: registry 127\.0\.0\.1:%d too slow: "
                     r"\d+ of at most 4194304 bytes in 2s" % srv.port, err), err


def test_stalled_blob_fails_after_its_retries(slow_registry, work):
    srv = slow_registry
    srv.slow, srv.stall = "layer", True
    digest = srv.img.layers[0][0]
    root = os.path.join(work, "store")
    err = pull_fails(root, srv, {"GKIMG_STALL_TIMEOUT": "1"}, 25)
    assert ("blob %s: giving up after 5 attempts: registry 127.0.0.1:%d stalled: no data "
            "for 1s (GKIMG_STALL_TIMEOUT)" % (digest, srv.port)) in err, err
    assert len([r for r in srv.requests if r["path"].endswith(digest)]) == 5
