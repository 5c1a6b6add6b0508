"""gkimg says why a write failed: exporting onto a full filesystem says
"No space left on device" and onto a read-only one "Read-only file
system" (libarchive's errno kept with its message), leaving no partial
archive; a store on a full filesystem says ENOSPC's words too.  Each test
mounts a small tmpfs of its own and unmounts it, even on failure."""
import os
import shutil
import subprocess
import tempfile

import pytest

from gkcli import gkimg
from gkimage import Image

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="gk-werr-")
    small = os.path.join(d, "small")
    os.makedirs(small)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "gk-werr", small], check=True)
    try:
        yield d, small
    finally:
        subprocess.run(["umount", small], check=True)
        shutil.rmtree(d, ignore_errors=True)


def big_image():
    return Image([[dict(name="big.bin", data=os.urandom(3 << 20))]], config={"Cmd": ["/x"]})


def imported(d):
    root = os.path.join(d, "store")
    p = gkimg(root, "import", big_image().oci_layout(os.path.join(d, "layout"), "x"),
              "gktest/werr:1")
    assert p.returncode == 0, p.stderr
    return root


def test_export_onto_a_full_filesystem_says_no_space(work):
    d, small = work
    root = imported(d)
    p = gkimg(root, "export", "gktest/werr:1", os.path.join(small, "out.tar"))
    assert p.returncode == 1
    assert p.stderr.startswith("gkimg: export: ")
    assert p.stderr.endswith(": No space left on device\n"), p.stderr
    assert os.listdir(small) == []


def test_export_onto_a_read_only_filesystem_says_read_only(work):
    d, small = work
    root = imported(d)
    subprocess.run(["mount", "-o", "remount,ro", small], check=True)
    out = os.path.join(small, "out.tar")
    p = gkimg(root, "export", "gktest/werr:1", out)
    assert p.returncode == 1
    assert p.stderr.startswith("gkimg: export: `%s`: " % out), p.stderr
    assert p.stderr.endswith(": Read-only file system\n"), p.stderr


def test_import_into_a_store_on_a_full_filesystem_says_no_space(work):
    d, small = work
    p = gkimg(os.path.join(small, "store"), "import",
              big_image().oci_layout(os.path.join(d, "layout"), "x"), "gktest/werr:1")
    assert p.returncode == 1
    assert p.stderr.endswith(": No space left on device\n"), p.stderr
    assert "Input/output error" not in p.stderr


def test_copy_onto_a_full_filesystem_names_the_whole_path(work):
    """A file deep in the tree that does not fit is named as one path, not
    one backquoted component per directory level."""
    d, small = work
    root = os.path.join(d, "store")
    img = Image([[dict(name="usr/lib/x/big.bin", data=os.urandom(3 << 20))]],
                config={"Cmd": ["/x"]})
    p = gkimg(root, "import", img.oci_layout(os.path.join(d, "layout"), "x"), "gktest/deep:1")
    assert p.returncode == 0, p.stderr
    p = gkimg(root, "bundle", "--copy", "gktest/deep:1", os.path.join(small, "b"))
    assert p.returncode == 1
    assert "`usr/lib/x/big.bin`" in p.stderr, p.stderr
    assert "`usr`:" not in p.stderr and "`lib`:" not in p.stderr, p.stderr
    assert p.stderr.endswith(": No space left on device\n"), p.stderr
