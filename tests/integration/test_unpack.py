"""Layer unpacking: gkimg's layer directories, stacked by overlayfs, show
exactly what `umoci unpack` of the same image shows, file by file; hostile
layers are refused with the entry named and nothing written outside.

Images are built here with tarfile (tests/integration/gkimage.py) into OCI
layouts; `gkimg import` unpacks their layers into the store and `gkimg
bundle` names the layer directories in its overlay annotation.
"""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import GKIMG
from gkimage import Image

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="unpacking keeps owners: needs root")

LONG = "l" * 200
UTF = "données/ünïcödé-文件.txt"


def d(name, **kw):
    return dict(name=name, type="dir", **kw)


def f(name, data=b"", **kw):
    return dict(name=name, data=data, **kw)


def sym(name, target):
    return dict(name=name, type="symlink", target=target)


def hard(name, target):
    return dict(name=name, type="hardlink", target=target)


BASE = [
    d("./"), d("etc"), f("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"),
    d("usr"), d("usr/bin"), f("usr/bin/busybox", b"BB" * 1000, mode=0o755),
    sym("usr/bin/sh", "busybox"), sym("usr/bin/abs", "/etc/passwd"),
    f("usr/bin/suid", b"s", mode=0o4755), f("usr/bin/sgid", b"g", mode=0o2711, gid=42),
    f("usr/bin/h1", b"hardlinked", mode=0o750, uid=7), hard("usr/bin/h2", "usr/bin/h1"),
    d("a"), f("a/x", b"x"), f("a/y", b"y"), d("a/sub", mode=0o700), f("a/sub/z", b"z"),
    d("b"), f("b/1", b"1"), f("b/2", b"2"),
    d("opq"), f("opq/old1", b"o"), d("opq/olddir"), f("opq/olddir/f", b"f"),
    f("f2d", b"was a file"), d("d2f"), f("d2f/inner", b"i"),
    f("del_me", b"bye"), f("readd", b"v1"),
    d("run"), dict(name="run/fifo", type="fifo", mode=0o620),
    f(LONG, b"long"), d("données"), f(UTF, b"utf8"),
    f("xattr", b"x", xattrs={"user.gk": "value", "security.capability":
                             "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"}),
    f("owned", b"o", uid=1000, gid=1000, mode=0o600),
    d("c"), f("c/old", b"c"), d("sticky", mode=0o1777),
    f("zeros", b"\0" * 70000),
]
CHANGES = [
    f(".wh.del_me"), d("a"), f("a/.wh.x"), f(".wh.b"),
    d("opq", mode=0o711), f("opq/.wh..wh..opq"), f("opq/new", b"n"),
    f(".wh.readd"),
    d("f2d"), f("f2d/child", b"c"),          # file -> directory
    f("d2f", b"now a file"),                 # directory -> file
    d("usr"), d("usr/bin"), f("usr/bin/suid", b"s2", mode=0o6755),
    f(".wh.c"), d("c"), f("c/new", b"new c"),  # deleted and re-created in one layer
    d("deep"), d("deep/er"), f("deep/er/file", b"deep"),
]
READD = [
    f("readd", b"v2"),                       # deleted above, added again
    d("b"), f("b/new", b"b"),                # directory deleted above, re-created
    d("a"), d("a/sub", mode=0o755), f("a/sub/h3", b"h3"), hard("a/sub/h4", "a/sub/h3"),
    d("usr"), d("usr/bin"), sym("usr/bin/sh", "/usr/bin/busybox"),
    d("deep"), f("deep/.wh.er"),
]


def gkimg(root, *args, check=True):
    p = subprocess.run([GKIMG, "--root", root] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError("gkimg %s: exit %d\n%s%s" % (" ".join(map(str, args)),
                                                           p.returncode, p.stdout, p.stderr))
    return p


@pytest.fixture
def work():
    path = tempfile.mkdtemp(prefix="gk-unpack-")
    yield path
    subprocess.run(["umount", "-R", os.path.join(path, "merged")], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return ()
    return tuple(sorted((n, os.getxattr(path, n, follow_symlinks=False)) for n in names
                        if not n.startswith("trusted.overlay.")))


def snapshot(root):
    """Everything a user can observe of each file, and the hardlink groups."""
    out, inodes = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            entry = {"type": stat.S_IFMT(st.st_mode), "mode": oct(stat.S_IMODE(st.st_mode)),
                     "owner": (st.st_uid, st.st_gid), "xattrs": xattrs(p)}
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as fh:
                    entry["sha256"] = hashlib.sha256(fh.read()).hexdigest()
                entry["size"] = st.st_size
                entry["mtime"] = int(st.st_mtime)
                if st.st_nlink > 1:
                    inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)
            elif stat.S_ISLNK(st.st_mode):
                entry["target"] = os.readlink(p)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                entry["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            out[rel] = entry
    root_st = os.lstat(root)
    out["."] = {"mode": oct(stat.S_IMODE(root_st.st_mode)), "owner": (root_st.st_uid, root_st.st_gid)}
    links = sorted(sorted(g) for g in inodes.values() if len(g) > 1)
    return out, links


def assert_same_tree(got, want):
    (g, gl), (w, wl) = got, want
    missing = sorted(set(w) - set(g))
    extra = sorted(set(g) - set(w))
    differ = sorted((k, g[k], w[k]) for k in set(g) & set(w) if g[k] != w[k])
    assert not missing and not extra and not differ, (
        "missing: %s\nextra: %s\ndiffer (path, gkimg, umoci): %s" % (missing, extra, differ))
    assert gl == wl, "hardlink groups: gkimg %s, umoci %s" % (gl, wl)


def bundle_lowerdirs(bundle):
    with open(os.path.join(bundle, "config.json")) as fh:
        cfg = json.load(fh)
    return json.loads(cfg["annotations"]["org.gk.rootfs.overlay"])["lowerdir"]


def umoci_rootfs(work, layout, tag):
    out = os.path.join(work, "umoci")
    subprocess.run(["umoci", "unpack", "--image", "%s:%s" % (layout, tag), out], check=True,
                   capture_output=True)
    return os.path.join(out, "rootfs")


def mount_lowers(work, lowers):
    merged = os.path.join(work, "merged")
    os.makedirs(merged, exist_ok=True)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    "ro,lowerdir=" + ":".join(lowers), merged], check=True)
    return merged


def test_unpack_matches_umoci(work):
    img = Image([BASE, CHANGES, READD], config={"Cmd": ["/bin/sh"]},
                compression=["gzip", "gzip", None])
    layout = img.oci_layout(os.path.join(work, "layout"), "t1")
    root = os.path.join(work, "store")
    gkimg(root, "import", layout, "gktest/multi:1")
    gkimg(root, "bundle", "gktest/multi:1", os.path.join(work, "bundle"))
    lowers = bundle_lowerdirs(os.path.join(work, "bundle"))
    assert len(lowers) == 3
    want = snapshot(umoci_rootfs(work, layout, "t1"))
    merged = mount_lowers(work, lowers)
    try:
        assert_same_tree(snapshot(merged), want)
    finally:
        subprocess.run(["umount", merged], check=True)
    # --copy flattens the same layers into a plain directory
    gkimg(root, "bundle", "--copy", "gktest/multi:1", os.path.join(work, "copy"))
    assert_same_tree(snapshot(os.path.join(work, "copy", "rootfs")), want)


def test_layers_are_in_overlay_format(work):
    # (an empty xattr value is kept; umoci, through Go's archive/tar, drops it)
    img = Image([BASE, CHANGES, READD + [f("empty", xattrs={"user.empty": ""})]])
    layout = img.oci_layout(os.path.join(work, "layout"), "t1")
    root = os.path.join(work, "store")
    gkimg(root, "import", layout, "gktest/multi:1")
    layer = lambda i: os.path.join(root, "layers", "sha256", img.diff_ids[i][7:])
    for path in ("del_me", "readd", "b", "a/x"):
        st = os.lstat(os.path.join(layer(1), path))
        assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0), path
    assert os.getxattr(os.path.join(layer(1), "opq"), "trusted.overlay.opaque") == b"y"
    # ".wh.c" then "c/": the re-created directory hides the old one
    assert os.getxattr(os.path.join(layer(1), "c"), "trusted.overlay.opaque") == b"y"
    assert not os.path.exists(os.path.join(layer(1), ".wh.del_me"))
    assert not os.path.exists(os.path.join(layer(1), "opq", ".wh..wh..opq"))
    st = os.lstat(os.path.join(layer(0), "usr/bin/suid"))
    assert stat.S_IMODE(st.st_mode) == 0o4755
    h1, h2 = (os.lstat(os.path.join(layer(0), "usr/bin", n)) for n in ("h1", "h2"))
    assert h1.st_ino == h2.st_ino and h1.st_uid == 7
    assert os.getxattr(os.path.join(layer(0), "xattr"), "user.gk") == b"value"
    assert os.getxattr(os.path.join(layer(2), "empty"), "user.empty") == b""
    assert int(os.lstat(os.path.join(layer(0), "a/sub/z")).st_mtime) == 1700000000
    assert sorted(os.listdir(os.path.join(root, "layers", "tmp"))) == []


def test_layers_shared_and_compression(work):
    """A layer is unpacked once, whatever image or compression brings it."""
    root = os.path.join(work, "store")
    base = Image([BASE, CHANGES], compression="gzip")
    other = Image([BASE, CHANGES, READD], compression="zstd")
    gkimg(root, "import", base.oci_layout(os.path.join(work, "l1"), "x"), "gktest/base:1")
    dirs = os.path.join(root, "layers", "sha256")
    inodes = {n: os.stat(os.path.join(dirs, n)).st_ino for n in os.listdir(dirs)}
    assert len(inodes) == 2
    gkimg(root, "import", other.oci_layout(os.path.join(work, "l2"), "x"), "gktest/other:1")
    assert sorted(os.listdir(dirs)) == sorted(d[7:] for d in other.diff_ids)
    for name, ino in inodes.items():
        assert os.stat(os.path.join(dirs, name)).st_ino == ino, "layer unpacked again"


def test_crashed_unpack_leftovers_are_cleaned(work):
    root = os.path.join(work, "store")
    junk = os.path.join(root, "layers", "tmp", "abc-1-2-0")
    os.makedirs(os.path.join(junk, "half"))
    img = Image([BASE])
    gkimg(root, "import", img.oci_layout(os.path.join(work, "l"), "x"), "gktest/x:1")
    assert os.listdir(os.path.join(root, "layers", "tmp")) == []


SENTINEL = "/tmp/gk-sentinel-unpack"

HOSTILE = {
    "absolute": ([f(SENTINEL + "/evil", b"x")], "absolute names are not allowed",
                 SENTINEL + "/evil"),
    "dotdot": ([f("a/../../../../../../.." + SENTINEL + "/evil", b"x")],
               "`..` leads outside the layer", "evil"),
    "symlink-then-file": ([sym("link", SENTINEL), f("link/evil", b"x")],
                          "symlink", "link/evil"),
    "relative-symlink-then-file": ([sym("up", "../../../../../../../../.."),
                                    f("up" + SENTINEL + "/evil", b"x")], "symlink", "up"),
    "symlink-dir-then-file": ([d("a"), sym("a/b", SENTINEL), d("a/b/c")], "symlink", "a/b/c"),
    "hardlink-absolute": ([hard("shadow", "/etc/shadow")], "absolute names are not allowed",
                          "shadow"),
    "hardlink-dotdot": ([hard("shadow", "../../../../../../../../etc/shadow")],
                        "leads outside", "shadow"),
    "hardlink-through-symlink": ([sym("etc", "/etc"), hard("shadow", "etc/shadow")],
                                 "is not in this layer", "shadow"),
    "block-device": ([d("dev"), dict(name="dev/sda", type="block", major=8, minor=0)],
                     "block device nodes are not allowed", "dev/sda"),
    "char-device": ([d("dev"), dict(name="dev/mem", type="char", major=1, minor=1)],
                    "character device nodes are not allowed", "dev/mem"),
    "bad-whiteout": ([f("a/.wh..")], "is not valid", "a/.wh.."),
}


@pytest.fixture
def sentinel():
    shutil.rmtree(SENTINEL, ignore_errors=True)
    os.makedirs(SENTINEL)
    shadow = os.stat("/etc/shadow")
    yield SENTINEL
    assert os.listdir(SENTINEL) == [], "something was written outside the layer"
    now = os.stat("/etc/shadow")
    assert (now.st_nlink, now.st_mtime) == (shadow.st_nlink, shadow.st_mtime)
    shutil.rmtree(SENTINEL, ignore_errors=True)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layer_refused(work, sentinel, case):
    entries, message, entry = HOSTILE[case]
    root = os.path.join(work, "store")
    img = Image([BASE, entries])
    p = gkimg(root, "import", img.oci_layout(os.path.join(work, "l"), "x"), "gktest/evil:1",
              check=False)
    assert p.returncode != 0
    assert message in p.stderr and entry in p.stderr, p.stderr
    assert "layer sha256:" in p.stderr
    # the bad layer is not in the store, the good one is, and no name was given
    layers = os.listdir(os.path.join(root, "layers", "sha256"))
    assert img.diff_ids[1][7:] not in layers and img.diff_ids[0][7:] in layers
    assert os.listdir(os.path.join(root, "layers", "tmp")) == []
    p = gkimg(root, "bundle", "gktest/evil:1", os.path.join(work, "b"), check=False)
    assert p.returncode != 0 and "not in the store" in p.stderr
    assert not os.path.exists(os.path.join(work, "b"))


def test_devices_kept_when_allowed(work):
    root = os.path.join(work, "store")
    img = Image([[d("dev"), dict(name="dev/sda", type="block", major=8, minor=0, mode=0o660)]])
    gkimg(root, "import", "--allow-devices", img.oci_layout(os.path.join(work, "l"), "x"),
          "gktest/dev:1")
    st = os.lstat(os.path.join(root, "layers", "sha256", img.diff_ids[0][7:], "dev", "sda"))
    assert stat.S_ISBLK(st.st_mode) and st.st_rdev == os.makedev(8, 0)
    assert stat.S_IMODE(st.st_mode) == 0o660


def test_wrong_diff_id_refused(work):
    root = os.path.join(work, "store")
    img = Image([BASE, CHANGES])
    cfg = json.loads(img.config)
    cfg["rootfs"]["diff_ids"][1] = "sha256:" + "0" * 64
    layout = os.path.join(work, "l")
    img.oci_layout(layout, "x")
    # the same layers under a config that lies about the second diff_id
    cfg_bytes = json.dumps(cfg).encode()
    cfg_digest = hashlib.sha256(cfg_bytes).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", cfg_digest), "wb") as fh:
        fh.write(cfg_bytes)
    man = json.loads(img.manifest)
    man["config"] = {"mediaType": man["config"]["mediaType"], "digest": "sha256:" + cfg_digest,
                     "size": len(cfg_bytes)}
    man_bytes = json.dumps(man).encode()
    man_digest = hashlib.sha256(man_bytes).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", man_digest), "wb") as fh:
        fh.write(man_bytes)
    with open(os.path.join(layout, "index.json")) as fh:
        index = json.load(fh)
    index["manifests"][0].update(digest="sha256:" + man_digest, size=len(man_bytes))
    with open(os.path.join(layout, "index.json"), "w") as fh:
        json.dump(index, fh)
    p = gkimg(root, "import", layout, "gktest/liar:1", check=False)
    assert p.returncode != 0
    assert "not the diff_id sha256:" + "0" * 64 in p.stderr, p.stderr
    assert "0" * 64 not in os.listdir(os.path.join(root, "layers", "sha256"))


def test_truncated_layer_refused(work):
    root = os.path.join(work, "store")
    img = Image([BASE], compression="gzip")
    layout = img.oci_layout(os.path.join(work, "l"), "x")
    digest = img.layers[0][0]
    path = os.path.join(layout, "blobs", "sha256", digest[7:])
    with open(path, "rb") as fh:
        data = fh.read()
    # keep the blob digest honest so the store accepts it: rewrite the
    # manifest with the truncated blob
    short = data[: len(data) // 2]
    sd = hashlib.sha256(short).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", sd), "wb") as fh:
        fh.write(short)
    man = json.loads(img.manifest)
    man["layers"][0].update(digest="sha256:" + sd, size=len(short))
    mb = json.dumps(man).encode()
    md = hashlib.sha256(mb).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", md), "wb") as fh:
        fh.write(mb)
    with open(os.path.join(layout, "index.json"), "w") as fh:
        json.dump({"schemaVersion": 2, "manifests": [{"mediaType": man["mediaType"],
                   "digest": "sha256:" + md, "size": len(mb)}]}, fh)
    p = gkimg(root, "import", layout, "gktest/short:1", check=False)
    assert p.returncode != 0 and "layer sha256:" in p.stderr, p.stderr
    assert os.listdir(os.path.join(root, "layers", "sha256")) == []
    assert os.listdir(os.path.join(root, "layers", "tmp")) == []


def test_concurrent_unpacks_of_one_layer(work):
    """Four imports of one image at once: all succeed, each layer is
    stored once, nothing is left in the temporary directory."""
    root = os.path.join(work, "store")
    img = Image([BASE, CHANGES, READD])
    layout = img.oci_layout(os.path.join(work, "l"), "x")
    procs = [subprocess.Popen([GKIMG, "--root", root, "import", layout, "gktest/c:%d" % i],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(4)]
    for p in procs:
        out, errout = p.communicate(timeout=120)
        assert p.returncode == 0, errout
    assert sorted(os.listdir(os.path.join(root, "layers", "sha256"))) == \
        sorted(d[7:] for d in img.diff_ids)
    assert os.listdir(os.path.join(root, "layers", "tmp")) == []
