"""Layer unpacking: gkimg's layer directories, stacked by overlayfs, show
exactly what `umoci unpack` of the same image shows, file by file; hostile
layers are refused with the entry named and nothing written outside.

Images are built here with tarfile (tests/integration/gkimage.py) into OCI
layouts; `gkimg import` unpacks their layers into the store and `gkimg
bundle` names the layer directories in its overlay annotation.
"""
import functools
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

import gkcli
from gkcli import GKIMG
from gkimage import Image, layer_dir

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


# gkimg here is meant to succeed unless a test says check=False
gkimg = functools.partial(gkcli.gkimg, check=True)


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


def snapshot(root, since=None):
    """Everything a user can observe of each file, and the hardlink groups.
    A directory made at unpack time (mtime at or after SINCE, a time
    before the unpack) has mtime "new": the two tools made it at different
    instants."""
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
                entry["mtime"] = int(st.st_mtime)
            elif stat.S_ISDIR(st.st_mode):
                new = since is not None and st.st_mtime >= since - 1
                entry["mtime"] = "new" if new else int(st.st_mtime)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                entry["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
            out[rel] = entry
    root_st = os.lstat(root)
    out["."] = {"mode": oct(stat.S_IMODE(root_st.st_mode)), "owner": (root_st.st_uid, root_st.st_gid),
                "xattrs": xattrs(root)}
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
    layer = lambda i: layer_dir(root, img.chain_ids[i])
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
    dirs = os.path.join(root, "layers", "chains")
    inodes = {n: os.stat(os.path.join(dirs, n)).st_ino for n in os.listdir(dirs)}
    assert len(inodes) == 2
    gkimg(root, "import", other.oci_layout(os.path.join(work, "l2"), "x"), "gktest/other:1")
    assert sorted(os.listdir(dirs)) == sorted(d[7:] for d in other.chain_ids)
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
                                 "is not in the image", "shadow"),
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
    layers = os.listdir(os.path.join(root, "layers", "chains"))
    assert img.chain_ids[1][7:] not in layers and img.chain_ids[0][7:] in layers
    assert os.listdir(os.path.join(root, "layers", "tmp")) == []
    p = gkimg(root, "bundle", "gktest/evil:1", os.path.join(work, "b"), check=False)
    assert p.returncode != 0 and "not in the store" in p.stderr
    assert not os.path.exists(os.path.join(work, "b"))


def test_devices_kept_when_allowed(work):
    root = os.path.join(work, "store")
    img = Image([[d("dev"), dict(name="dev/sda", type="block", major=8, minor=0, mode=0o660)]])
    gkimg(root, "import", "--allow-devices", img.oci_layout(os.path.join(work, "l"), "x"),
          "gktest/dev:1")
    st = os.lstat(os.path.join(layer_dir(root, img.chain_ids[0]), "dev", "sda"))
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
    assert sorted(os.listdir(os.path.join(root, "layers", "chains"))) == [img.chain_ids[0][7:]]


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
    assert os.listdir(os.path.join(root, "layers", "chains")) == []
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
    assert sorted(os.listdir(os.path.join(root, "layers", "chains"))) == \
        sorted(d[7:] for d in img.chain_ids)
    assert os.listdir(os.path.join(root, "layers", "tmp")) == []


# ---- layers without their parents' entries: unpacked as the layers below
# show those parents (owner, mode, xattrs, times, symlinks), as umoci's
# in-order application makes them ----

SPECIAL = [
    d("./", mode=0o755, mtime=1600000000, xattrs={"user.root": "r"}),
    d("tmp", mode=0o1777, mtime=1600000001),
    d("var", mtime=1600000002),
    d("var/mail", mode=0o2775, gid=8, mtime=1600000003, xattrs={"user.mail": "m"}),
    d("opt", mtime=1600000004),
    d("opt/data", mode=0o700, uid=1000, gid=1000, xattrs={"user.gk": "data"}, mtime=1600000005),
    d("srv", mtime=1600000006), d("srv/www", mode=0o711, uid=33, gid=33, mtime=1600000007),
    d("srv/www/old", mtime=1600000008), f("srv/www/old/f", b"old"),
    d("etc", mode=0o755, mtime=1600000009), d("etc/conf.d", mode=0o750, gid=4, mtime=1600000010),
    f("etc/conf.d/a", b"a"), f("etc/conf.d/keep", b"k"),
    # merged /usr: lib -> usr/lib (relative), lib64 -> /usr/lib (absolute)
    d("usr", mtime=1600000011), d("usr/lib", mode=0o755, mtime=1600000012),
    f("usr/lib/libc.so", b"libc", mode=0o755, xattrs={"user.lib": "c"}),
    sym("lib", "usr/lib"), sym("lib64", "/usr/lib"), sym("up", "../../.."),
    d("usr/share", mtime=1600000013), sym("usr/share/docs", "../../srv/www"),
]
NO_PARENTS = [
    f("tmp/x", b"x"),                          # 1777 stays
    f("var/mail/y", b"y", gid=8, mode=0o660),  # 2775 root:mail stays
    f("opt/data/z", b"z", uid=1000),           # 0700 1000:1000 and its xattr stay
    f("srv/www/.wh.old"),                      # a whiteout in an implicit directory
    f("etc/conf.d/.wh..wh..opq"), f("etc/conf.d/b", b"b"),  # opaque over an implicit one
    f("lib/x", b"through lib -> usr/lib"),     # lands in usr/lib/x
    d("lib/sub", mode=0o750),                  # a directory through the symlink
    f("lib/sub/s", b"s"),
    f("lib64/y", b"through an absolute link"),
    f("up/usr/lib/z", b"up climbs no higher than the root"),
    f("usr/share/docs/index.html", b"<p>"),    # a relative link up and across
    hard("lib/libc-link", "lib/libc.so"),      # a hardlink to a lower layer's file
    f("new/deep/file", b"parents no layer has"),
    d("var/mail", mode=0o2770, gid=8),          # listed after a file made it: the entry wins
]
ON_TOP = [
    d("./", mode=0o751),                       # the root listed: its own metadata only
    f("lib/sub/t", b"t"),                      # through the symlink, into this layer's dir
    f("tmp/x2", b"x2"),
    d("usr/lib", mode=0o700),                  # a listed parent takes its own entry
    f("usr/lib/w", b"w"),
]


def compare_with_umoci(work, img, tag, root, ref, since):
    """The overlay of the bundle's layers and the --copy rootfs, each against
    umoci's unpack of the same image."""
    layout = img.oci_layout(os.path.join(work, "layout-" + tag), tag)
    gkimg(root, "import", layout, ref)
    bundle = os.path.join(work, "bundle-" + tag)
    gkimg(root, "bundle", ref, bundle, "--", "/x")
    out = os.path.join(work, "umoci-" + tag)
    subprocess.run(["umoci", "unpack", "--image", "%s:%s" % (layout, tag), out], check=True,
                   capture_output=True)
    want = snapshot(os.path.join(out, "rootfs"), since)
    merged = mount_lowers(work, bundle_lowerdirs(bundle))
    try:
        assert_same_tree(snapshot(merged, since), want)
    finally:
        subprocess.run(["umount", merged], check=True)
    copy = os.path.join(work, "copy-" + tag)
    gkimg(root, "bundle", "--copy", ref, copy, "--", "/x")
    assert_same_tree(snapshot(os.path.join(copy, "rootfs"), since), want)
    return want[0], bundle_lowerdirs(bundle)


def test_implicit_parents_match_umoci(work):
    import time
    since = time.time()
    root = os.path.join(work, "store")
    img = Image([SPECIAL, NO_PARENTS, ON_TOP], compression=["gzip", None, "gzip"])
    got, lowers = compare_with_umoci(work, img, "t1", root, "gktest/implicit:1", since)
    # what umoci (and now gkimg) show, spelled out
    assert got["tmp"]["mode"] == oct(0o1777) and got["tmp"]["mtime"] == 1600000001
    assert (got["var/mail"]["mode"], got["var/mail"]["owner"]) == (oct(0o2770), (0, 8))
    assert got["var/mail"]["xattrs"] == () and got["."]["mode"] == oct(0o751)
    assert got["opt/data"]["owner"] == (1000, 1000)
    assert got["opt/data"]["xattrs"] == (("user.gk", b"data"),)
    assert got["lib"]["target"] == "usr/lib" and "usr/lib/x" in got and "usr/lib/y" in got
    assert "usr/lib/sub/t" in got and got["usr/lib/z"]["size"] == 33
    assert "srv/www/index.html" in got and "srv/www/old" not in got
    assert sorted(k for k in got if k.startswith("etc/conf.d/")) == ["etc/conf.d/b"]
    assert got["etc/conf.d"]["mode"] == oct(0o750)
    # the layer directory itself: the file went through the symlink
    mid = lowers[1]
    assert not os.path.lexists(os.path.join(mid, "lib"))
    assert os.path.isfile(os.path.join(mid, "usr/lib/x"))
    st = os.lstat(os.path.join(mid, "tmp"))
    assert stat.S_IMODE(st.st_mode) == 0o1777 and int(st.st_mtime) == 1600000001


def test_same_layer_under_two_parents(work):
    """One layer (one diff_id) over two different bases: unpacked once per
    chain, each as its own base shows its parents; a third image that
    shares the first's layers shares their unpacked directories."""
    import time
    since = time.time()
    root = os.path.join(work, "store")
    base_b = [d("./"), d("tmp", mode=0o700, uid=5, gid=5, mtime=1500000000),
              d("var"), d("var/mail", mode=0o755), d("opt"), d("opt/data"),
              d("srv"), d("srv/www"), d("srv/www/old"), d("etc"), d("etc/conf.d"),
              d("lib", mode=0o711), d("usr"), d("usr/share"), d("usr/share/docs"),
              d("lib64"), d("up"), f("lib/libc.so", b"a real dir here")]
    one = Image([SPECIAL, NO_PARENTS])
    two = Image([base_b, NO_PARENTS])
    assert one.diff_ids[1] == two.diff_ids[1]
    a, la = compare_with_umoci(work, one, "a", root, "gktest/a:1", since)
    b, lb = compare_with_umoci(work, two, "b", root, "gktest/b:1", since)
    assert a["tmp"]["mode"] == oct(0o1777) and b["tmp"]["mode"] == oct(0o700)
    assert b["tmp"]["owner"] == (5, 5) and "lib/x" in b and "usr/lib/x" in a
    assert la[0] != lb[0] and la[1] != lb[1]          # top first: two chains
    chains = os.listdir(os.path.join(root, "layers", "chains"))
    assert len(chains) == 4
    three = Image([SPECIAL, NO_PARENTS, ON_TOP])
    _, lc = compare_with_umoci(work, three, "c", root, "gktest/c:1", since)
    assert lc[1:] == la
    assert len(os.listdir(os.path.join(root, "layers", "chains"))) == 5


def test_lower_symlink_stays_in_the_image(work, sentinel):
    """A lower layer's symlink aimed at the host is followed inside the
    image's root, never out of it."""
    root = os.path.join(work, "store")
    img = Image([[sym("evil", SENTINEL), sym("rel", "../../../../../.." + SENTINEL)],
                 [f("evil/x", b"x"), f("rel/y", b"y")]])
    gkimg(root, "import", img.oci_layout(os.path.join(work, "l"), "x"), "gktest/evil:1")
    gkimg(root, "bundle", "gktest/evil:1", os.path.join(work, "b"), "--", "/x")
    top = bundle_lowerdirs(os.path.join(work, "b"))[0]
    assert os.path.isfile(os.path.join(top, SENTINEL[1:], "x"))
    assert os.path.isfile(os.path.join(top, SENTINEL[1:], "y"))


# ---- a store that notices corruption: each unpacked layer's manifest ----

def test_check_notices_changed_layers_and_repair_unpacks_them(work):
    root = os.path.join(work, "store")
    img = Image([BASE, CHANGES, READD], config={"Cmd": ["/bin/sh"]})
    layout = img.oci_layout(os.path.join(work, "layout"), "t1")
    gkimg(root, "import", layout, "gktest/multi:1")
    p = gkimg(root, "check")
    assert p.stdout.endswith(": 0 problems, 0 leftovers\n"), p.stdout
    assert "3 layers checked" in p.stdout
    base, mid = layer_dir(root, img.chain_ids[0]), layer_dir(root, img.chain_ids[1])
    # a file patched in place, its size and mtime put back; one added; one deleted
    path = os.path.join(base, "etc/passwd")
    st = os.stat(path)
    with open(path, "r+b") as fh:
        fh.write(b"X")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    with open(os.path.join(mid, "deep/er/planted"), "w") as fh:
        fh.write("planted")
    os.unlink(os.path.join(mid, "f2d/child"))
    p = gkimg(root, "check", check=False)
    assert p.returncode == 1, p.stdout
    c0, c1 = img.chain_ids[0], img.chain_ids[1]
    for line in ("layer %s: `etc/passwd`: changed (content) since it was unpacked" % c0,
                 "layer %s: `deep/er/planted`: added since it was unpacked" % c1,
                 "layer %s: `f2d/child`: deleted since it was unpacked" % c1):
        assert "problem: " + line + "\n" in p.stdout, p.stdout
    assert img.chain_ids[2] not in p.stdout
    p = gkimg(root, "check", "--repair")
    assert "repair: layer %s: unpacked again for docker.io/gktest/multi:1\n" % c0 in p.stdout
    assert "repair: layer %s: unpacked again" % c1 in p.stdout
    assert p.stdout.endswith(": 0 problems, 0 leftovers\n"), p.stdout
    # as the blobs say again: the same as umoci's unpack
    gkimg(root, "bundle", "gktest/multi:1", os.path.join(work, "bundle"))
    merged = mount_lowers(work, bundle_lowerdirs(os.path.join(work, "bundle")))
    try:
        assert_same_tree(snapshot(merged), snapshot(umoci_rootfs(work, layout, "t1")))
    finally:
        subprocess.run(["umount", merged], check=True)


def test_layers_of_an_older_gkimg_are_not_used(work):
    """A store written by a gkimg that keyed layers by diff_id: those
    directories are never used (the image is unpacked again by chain id),
    check calls them leftovers, and gc removes them once no bundle names
    them."""
    root = os.path.join(work, "store")
    img = Image([BASE, CHANGES])
    gkimg(root, "import", img.oci_layout(os.path.join(work, "l"), "x"), "gktest/old:1")
    old = [os.path.join(root, "layers", "sha256", d[7:]) for d in img.diff_ids]
    for o in old:
        os.makedirs(os.path.join(o, "stale"))
    bundles = os.path.join(root, "bundles")
    os.makedirs(bundles, exist_ok=True)
    live = os.path.join(work, "oldbundle")
    os.makedirs(live)
    with open(os.path.join(live, "gk-bundle.json"), "w") as fh:
        json.dump({"gkBundle": 1, "path": live}, fh)
    with open(os.path.join(bundles, "old.json"), "w") as fh:
        json.dump({"gkBundle": 1, "path": live, "layers": [img.diff_ids[1]]}, fh)
    gkimg(root, "bundle", "gktest/old:1", os.path.join(work, "b"), "--", "/x")
    lowers = bundle_lowerdirs(os.path.join(work, "b"))
    assert not any("/layers/sha256/" in l for l in lowers)
    assert not os.path.exists(os.path.join(lowers[0], "stale"))
    p = gkimg(root, "check")
    for o in old:
        assert "leftover: layers/sha256/%s (unpacked by an older gkimg" % os.path.basename(o) \
            in p.stdout, p.stdout
    gkimg(root, "gc")
    assert os.listdir(os.path.join(root, "layers", "sha256")) == [img.diff_ids[1][7:]]
    shutil.rmtree(live)
    gkimg(root, "gc")
    assert os.listdir(os.path.join(root, "layers", "sha256")) == []
    assert len(os.listdir(os.path.join(root, "layers", "chains"))) == 2
