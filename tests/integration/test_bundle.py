"""gkimg bundle / unbundle / import / export, and bundles run by gkrun.

config.json is checked the way a user reads it: the image's Entrypoint,
Cmd, Env, WorkingDir and User (resolved through the image's own
/etc/passwd and /etc/group), the flags' resources and network annotations.
The end-to-end tests import (or pull from a loopback registry) an image built
from busybox-static, bundle it and run it with gkrun.
"""
import functools
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

import pytest

import gkcli
from conftest import GKRUN, PROBE, REPO
from gkimage import Image, dir_tar
import gkregistry as gr

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="bundles keep owners: needs root")

PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n"
GROUP = b"root:x:0:\napp:x:1001:\nextra:x:2000:other,app\nwheel:x:10:root\n"


def d(name, **kw):
    return dict(name=name, type="dir", **kw)


def f(name, data=b"", **kw):
    return dict(name=name, data=data, **kw)


ETC = [d("etc"), f("etc/passwd", PASSWD), f("etc/group", GROUP), d("srv"), d("home")]
CONFIG = {"Entrypoint": ["/bin/echo"], "Cmd": ["hello"], "Env": ["FOO=bar", "PATH=/usr/bin:/bin"],
          "WorkingDir": "/srv", "User": "app", "StopSignal": "SIGTERM"}


# gkimg here is meant to succeed unless a test says check=False
gkimg = functools.partial(gkcli.gkimg, check=True)


class Store:
    def __init__(self, work):
        self.work = work
        self.root = os.path.join(work, "store")
        self.n = 0

    def add(self, layers, config=None, ref="gktest/img:1"):
        self.n += 1
        img = Image(layers, config=config)
        gkimg(self.root, "import", img.oci_layout(os.path.join(self.work, "l%d" % self.n), "x"),
              ref)
        return img

    def bundle(self, *args, ref="gktest/img:1", check=True):
        self.n += 1
        path = os.path.join(self.work, "b%d" % self.n)
        p = gkimg(self.root, "bundle", *self._split(args, ref, path), check=check)
        return path, p

    @staticmethod
    def _split(args, ref, path):
        args = list(args)
        if "--" in args:
            i = args.index("--")
            return args[:i] + [ref, path] + args[i:]
        return args + [ref, path]

    def config(self, *args, **kw):
        path, _ = self.bundle(*args, **kw)
        with open(os.path.join(path, "config.json")) as fh:
            return json.load(fh)


@pytest.fixture
def store():
    work = tempfile.mkdtemp(prefix="gk-bundle-")
    yield Store(work)
    shutil.rmtree(work, ignore_errors=True)


def test_config_from_image(store):
    store.add([ETC], CONFIG)
    cfg = store.config()
    p = cfg["process"]
    assert p["args"] == ["/bin/echo", "hello"]
    assert "FOO=bar" in p["env"] and "PATH=/usr/bin:/bin" in p["env"]
    assert "HOME=/home/app" in p["env"]
    assert p["cwd"] == "/srv"
    assert p["user"] == {"uid": 1000, "gid": 1001, "additionalGids": [2000]}
    assert p.get("terminal", False) is False
    assert cfg["root"] == {"path": "rootfs"}
    ann = cfg["annotations"]
    assert ann["org.opencontainers.image.ref.name"] == "docker.io/gktest/img:1"
    assert ann["org.opencontainers.image.stopSignal"] == "SIGTERM"
    assert ann["org.gk.net.mode"] == "none"
    ov = json.loads(ann["org.gk.rootfs.overlay"])
    assert ov["upperdir"] == "upper" and ov["workdir"] == "work"
    assert all(os.path.isabs(x) and os.path.isdir(x) for x in ov["lowerdir"])
    assert {"type": "network"} in cfg["linux"]["namespaces"]
    assert "resources" not in cfg["linux"] or not cfg["linux"]["resources"].get("memory")


def test_flags_override_image(store):
    store.add([ETC], CONFIG)
    cfg = store.config("--env", "FOO=baz", "-e", "NEW=1", "--workdir", "/tmp", "--user",
                       "0:extra", "--hostname", "box", "--tty", "--mem", "64m", "--cpus", "1.5",
                       "--pids", "100", "--net", "bridge", "-p", "8080:80", "-p", "5353:53/udp",
                       "--", "/bin/true", "arg")
    p = cfg["process"]
    assert p["args"] == ["/bin/echo", "/bin/true", "arg"]  # Entrypoint stays, Cmd replaced
    assert "FOO=baz" in p["env"] and "FOO=bar" not in p["env"] and "NEW=1" in p["env"]
    assert p["cwd"] == "/tmp"
    assert p["user"] == {"uid": 0, "gid": 2000}
    assert p["terminal"] is True and "TERM=xterm" in p["env"]
    assert cfg["hostname"] == "box"
    res = cfg["linux"]["resources"]
    assert res["memory"]["limit"] == 64 << 20
    assert res["cpu"]["quota"] == 150000 and res["cpu"]["period"] == 100000
    assert res["pids"]["limit"] == 100
    assert cfg["annotations"]["org.gk.net.mode"] == "bridge"
    assert cfg["annotations"]["org.gk.net.ports"] == "8080:80,5353:53/udp"
    host = store.config("--net", "host")
    assert "network" not in [n["type"] for n in host["linux"]["namespaces"]]


@pytest.mark.parametrize("spec,want", [
    ("app", {"uid": 1000, "gid": 1001, "additionalGids": [2000]}),
    ("1000", {"uid": 1000, "gid": 1001, "additionalGids": [2000]}),
    ("app:extra", {"uid": 1000, "gid": 2000}),
    ("app:10", {"uid": 1000, "gid": 10}),
    ("4242", {"uid": 4242, "gid": 0}),
    ("root", {"uid": 0, "gid": 0, "additionalGids": [10]}),
])
def test_user_resolution(store, spec, want):
    store.add([ETC], CONFIG)
    assert store.config("--user", spec)["process"]["user"] == want


@pytest.mark.parametrize("args,message", [
    (["--user", "nosuch"], "user `nosuch` is not in the image's /etc/passwd"),
    (["--user", "app:nogroup"], "group `nogroup` is not in the image's /etc/group"),
    (["--user", "app:"], "expected USER[:GROUP]"),
    (["--workdir", "rel"], "working directory `rel` must be absolute"),
    (["--mem", "lots"], "--mem `lots`: expected BYTES"),
    (["--cpus", "0"], "--cpus `0`: expected a number of CPUs"),
    (["--pids", "-1"], "--pids `-1`: expected a positive number"),
    (["--net", "weird"], "--net `weird`: expected none, host or bridge"),
    (["-p", "80:80"], "-p needs --net bridge"),
    (["--net", "bridge", "-p", "80"], "-p `80`: expected HOST:CONTAINER[/tcp|udp]"),
    (["--net", "bridge", "-p", "1:70000/tcp"], "with ports 1-65535"),
    (["--env", "NOEQUALS"], "--env `NOEQUALS`: expected KEY=VALUE"),
])
def test_bad_flags(store, args, message):
    store.add([ETC], CONFIG)
    path, p = store.bundle(*args, check=False)
    assert p.returncode != 0 and message in p.stderr, p.stderr
    assert not os.path.exists(path), "a failed bundle left its directory"
    assert not os.listdir(os.path.join(store.root, "bundles")) if os.path.isdir(
        os.path.join(store.root, "bundles")) else True


def test_no_command_and_unknown_image(store):
    store.add([ETC], {})
    _, p = store.bundle(check=False)
    assert "the image has no Entrypoint or Cmd: give a command after --" in p.stderr
    _, p = store.bundle(ref="gktest/nosuch:1", check=False)
    assert p.returncode != 0 and "gktest/nosuch:1" in p.stderr and "not in the store" in p.stderr


def test_user_through_layers_whiteouts_and_symlinks(store):
    """/etc/passwd is read as the container will see it."""
    top = [d("etc"), f("etc/.wh.passwd"), f("etc/passwd.real", b"app:x:77:77::/h:/bin/sh\n"),
           dict(name="etc/passwd", type="symlink", target="../../../../etc/passwd.real")]
    store.add([ETC, top], {"Cmd": ["x"]})
    assert store.config("--user", "app")["process"]["user"]["uid"] == 77
    # an opaque /etc hides the lower group file: no supplementary groups
    opaque = [d("etc"), f("etc/.wh..wh..opq"), f("etc/passwd", b"app:x:5:5::/:/bin/sh\n")]
    store.add([ETC, opaque], {"Cmd": ["x"]}, ref="gktest/opq:1")
    assert store.config("--user", "app", ref="gktest/opq:1")["process"]["user"] == \
        {"uid": 5, "gid": 5}
    gone = [d("etc"), f("etc/.wh.passwd")]
    store.add([ETC, gone], {"Cmd": ["x"]}, ref="gktest/gone:1")
    _, p = store.bundle("--user", "app", ref="gktest/gone:1", check=False)
    assert "user `app` is not in the image's /etc/passwd" in p.stderr


def test_second_bundle_reuses_layers_and_unbundle(store):
    store.add([ETC], CONFIG)
    b1, _ = store.bundle()
    layers = os.path.join(store.root, "layers", "chains")
    before = {n: os.stat(os.path.join(layers, n)).st_ino for n in os.listdir(layers)}
    b2, _ = store.bundle()
    after = {n: os.stat(os.path.join(layers, n)).st_ino for n in os.listdir(layers)}
    assert before == after
    assert sorted(os.listdir(b2)) == ["config.json", "gk-bundle.json", "rootfs", "upper", "work"]
    assert os.listdir(os.path.join(b2, "rootfs")) == []
    regs = os.listdir(os.path.join(store.root, "bundles"))
    assert len(regs) == 2
    gkimg(store.root, "unbundle", b1)
    assert not os.path.exists(b1) and os.path.isdir(b2)
    assert len(os.listdir(os.path.join(store.root, "bundles"))) == 1
    gkimg(store.root, "unbundle", b2)
    assert os.listdir(os.path.join(store.root, "bundles")) == []


def test_gc_keeps_the_layers_of_live_bundles(store):
    img = store.add([ETC], CONFIG)
    b, _ = store.bundle()
    gkimg(store.root, "rmi", "gktest/img:1")
    gkimg(store.root, "gc")
    layers = os.path.join(store.root, "layers", "chains")
    assert os.listdir(layers) == [img.chain_ids[0][7:]]
    gkimg(store.root, "unbundle", b)
    gkimg(store.root, "gc")
    assert os.listdir(layers) == []


def test_unbundle_refuses_what_is_not_a_bundle(store):
    other = os.path.join(store.work, "precious")
    os.makedirs(os.path.join(other, "rootfs"))
    p = gkimg(store.root, "unbundle", other, check=False)
    assert p.returncode != 0
    assert "is not a gk bundle (no gk-bundle.json): not removed" in p.stderr
    assert os.path.isdir(os.path.join(other, "rootfs"))
    p = gkimg(store.root, "unbundle", os.path.join(store.work, "nosuch"), check=False)
    assert p.returncode != 0 and "No such file or directory" in p.stderr


def test_bundle_dir_must_be_new_or_empty(store):
    store.add([ETC], CONFIG)
    full = os.path.join(store.work, "full")
    os.makedirs(full)
    open(os.path.join(full, "keep"), "w").close()
    p = gkimg(store.root, "bundle", "gktest/img:1", full, check=False)
    assert p.returncode != 0 and "is not empty" in p.stderr
    assert os.listdir(full) == ["keep"]
    empty = os.path.join(store.work, "empty")
    os.makedirs(empty)
    gkimg(store.root, "bundle", "gktest/img:1", empty)
    assert os.path.exists(os.path.join(empty, "config.json"))


def test_docker_archive_import_and_oci_export(store):
    img = Image([ETC, [f("hello", b"hi")]], config=CONFIG)
    archive = img.docker_archive(os.path.join(store.work, "save.tar"), "gktest/saved:2")
    p = gkimg(store.root, "import", archive)
    assert "Loaded image: gktest/saved:2" in p.stdout
    cfg = store.config(ref="gktest/saved:2")
    assert cfg["process"]["args"] == ["/bin/echo", "hello"]
    assert cfg["annotations"]["org.gk.image.id"] == img.id
    # export, then read it back with skopeo and with a fresh gkimg store
    out = os.path.join(store.work, "out.tar")
    gkimg(store.root, "export", "gktest/saved:2", out)
    layout = os.path.join(store.work, "skopeo-layout")
    subprocess.run(["skopeo", "copy", "oci-archive:%s:2" % out, "oci:%s:x" % layout],
                   check=True, capture_output=True)
    assert os.path.exists(os.path.join(layout, "index.json"))
    fresh = os.path.join(store.work, "fresh")
    p = gkimg(fresh, "import", out)
    assert "Loaded image: docker.io/gktest/saved:2" in p.stdout
    gkimg(fresh, "bundle", "gktest/saved:2", os.path.join(store.work, "fb"))
    with open(os.path.join(store.work, "fb", "config.json")) as fh:
        assert json.load(fh)["annotations"]["org.gk.image.id"] == img.id


def test_import_errors(store):
    bogus = os.path.join(store.work, "bogus.tar")
    with tarfile.open(bogus, "w") as tf:
        tf.add(__file__, arcname="readme.txt")
    p = gkimg(store.root, "import", bogus, check=False)
    assert p.returncode != 0 and "is neither a docker-archive" in p.stderr
    img = Image([ETC])
    layout = img.oci_layout(os.path.join(store.work, "l"), "latest")
    with open(os.path.join(layout, "index.json")) as fh:
        index = json.load(fh)
    del index["manifests"][0]["annotations"]
    with open(os.path.join(layout, "index.json"), "w") as fh:
        json.dump(index, fh)
    p = gkimg(store.root, "import", layout, check=False)
    assert "index.json names no image (give REF)" in p.stderr
    os.unlink(os.path.join(layout, "blobs", "sha256", img.layers[0][0][7:]))
    p = gkimg(store.root, "import", layout, "gktest/x:1", check=False)
    assert p.returncode != 0 and img.layers[0][0][7:] in p.stderr


# ---- end to end with gkrun ----

def gkrun_mounts_overlays():
    try:
        with open(GKRUN, "rb") as fh:
            return b"org.gk.rootfs.overlay" in fh.read()
    except OSError:
        return False


needs_gkrun = pytest.mark.skipif(not gkrun_mounts_overlays(),
                                 reason="gkrun does not mount org.gk.rootfs.overlay yet")


@pytest.fixture(scope="module")
def busybox_image(tmp_path_factory):
    """An image built from busybox-static (mkrootfs.sh) plus gk-probe."""
    work = tmp_path_factory.mktemp("gk-bb")
    rootfs = str(work / "rootfs")
    subprocess.run([os.path.join(REPO, "bundle-spec", "mkrootfs.sh"), rootfs, PROBE], check=True)
    extra = [d("srv", mode=0o777), f("srv/motd", b"from the image\n"),
             d("bin"), f("bin/.wh.vi")]
    return Image([dir_tar(rootfs), extra],
                 config={"Cmd": ["/bin/sh", "-c", "echo $GREETING; id -u; pwd"],
                         "Env": ["GREETING=hello"], "WorkingDir": "/srv", "User": "gkuser"})


@pytest.fixture
def e2e(busybox_image, gk):
    work = tempfile.mkdtemp(prefix="gk-e2e-")
    s = Store(work)
    try:
        archive = busybox_image.docker_archive(os.path.join(work, "bb.tar"),
                                               "gktest/busybox:1")
        gkimg(s.root, "import", archive)
        yield s, gk
        for name in os.listdir(work):
            if os.path.exists(os.path.join(work, name, "gk-bundle.json")):
                gkimg(s.root, "unbundle", os.path.join(work, name))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def mounts_mentioning(path):
    with open("/proc/self/mountinfo") as fh:
        return [l for l in fh if path in l]


@needs_gkrun
def test_run_image_end_to_end(e2e):
    s, gk = e2e
    path, _ = s.bundle("--env", "EXTRA=1", ref="gktest/busybox:1")
    p = gk.gkrun("run", "--bundle", path, gk.new_id())
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:3] == ["hello", "1000", "/srv"]
    path, _ = s.bundle("--", "/bin/sh", "-c", "cat /srv/motd; test -e /bin/vi || echo "
                       "gone; echo $EXTRA$HOME; exit 7", ref="gktest/busybox:1")
    p = gk.gkrun("run", "--bundle", path, gk.new_id())
    assert p.returncode == 7, p.stderr
    assert p.stdout.split("\n")[:3] == ["from the image", "gone", "/home/gkuser"]
    assert mounts_mentioning(path) == []


@needs_gkrun
def test_two_containers_of_one_image_do_not_share_writes(e2e):
    s, gk = e2e
    a, _ = s.bundle("--user", "0", "--", "/bin/sh", "-c",
                    "echo A > /srv/mine; rm /srv/motd; sleep 2; cat /srv/mine; ls /srv",
                    ref="gktest/busybox:1")
    b, _ = s.bundle("--user", "0", "--", "/bin/sh", "-c",
                    "sleep 1; ls /srv; echo B > /srv/mine; cat /srv/mine",
                    ref="gktest/busybox:1")
    pa = subprocess.Popen([GKRUN, "--root", gk.root, "run", "--bundle", a, gk.new_id()],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pb = gk.gkrun("run", "--bundle", b, gk.new_id())
    out_a, err_a = pa.communicate(timeout=30)
    assert pa.returncode == 0 and pb.returncode == 0, err_a + pb.stderr
    assert pb.stdout.split() == ["motd", "B"]
    assert out_a.split() == ["A", "mine"]
    # each container's writes are in its own bundle's upper directory
    assert open(os.path.join(a, "upper", "srv", "mine")).read() == "A\n"
    assert open(os.path.join(b, "upper", "srv", "mine")).read() == "B\n"
    for path in (a, b):
        gkimg(s.root, "unbundle", path)
        assert not os.path.exists(path) and mounts_mentioning(path) == []


@needs_gkrun
def test_run_with_legacy_overlay_mount(e2e):
    s, gk = e2e
    path, _ = s.bundle("--", "/bin/cat", "/srv/motd", ref="gktest/busybox:1")
    env = dict(os.environ, GK_TEST_OVERLAY_LEGACY="1")
    p = gk.gkrun("run", "--bundle", path, gk.new_id(), env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "from the image\n"


@needs_gkrun
def test_copy_bundle_runs(e2e):
    s, gk = e2e
    path, _ = s.bundle("--copy", "--", "/bin/sh", "-c", "cat /srv/motd; id -un",
                       ref="gktest/busybox:1")
    assert os.path.exists(os.path.join(path, "rootfs", "bin", "busybox"))
    p = gk.gkrun("run", "--bundle", path, gk.new_id())
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["from the image", "gkuser"]


def cgroup_value(script_out, key):
    for line in script_out.splitlines():
        if line.startswith(key + ": "):
            return line[len(key) + 2:]
    raise AssertionError("no %s line in %r" % (key, script_out))


@needs_gkrun
def test_pull_bundle_run_with_flags_and_limits(e2e, busybox_image):
    """From a registry to a running container: output, exit code, the
    flags' user, workdir, env and hostname, and the limits as the
    container's own cgroup files show them (v1 or v2)."""
    s, gk = e2e
    reg = gr.Registry()
    root = os.path.join(s.work, "pulled")
    bundle = os.path.join(s.work, "pulled-bundle")
    try:
        reg.push_image("gktest/busybox", "1", busybox_image)
        ref = "%s/gktest/busybox:1" % reg.host
        gkimg(root, "pull", "-q", ref)
        cg = "$(cat /sys/fs/cgroup/%s /sys/fs/cgroup/%s 2>/dev/null)"
        script = "; ".join([
            "id -u; id -g; pwd; hostname; echo $GREETING $EXTRA",
            "echo mem: " + cg % ("memory.max", "memory/memory.limit_in_bytes"),
            "echo pids: " + cg % ("pids.max", "pids/pids.max"),
            "echo cpu: " + cg % ("cpu.max", "cpu/cpu.cfs_quota_us"),
            "exit 9"])
        gkimg(root, "bundle", "--mem", "48m", "--pids", "40", "--cpus", "0.5", "--user",
              "1234:4321", "--workdir", "/tmp", "--env", "EXTRA=x1", "--hostname", "gkbox",
              ref, bundle, "--", "/bin/sh", "-c", script)
        p = gk.gkrun("run", "--bundle", bundle, gk.new_id())
        assert p.returncode == 9, p.stderr
        assert p.stdout.split("\n")[:5] == ["1234", "4321", "/tmp", "gkbox", "hello x1"], p.stdout
        assert cgroup_value(p.stdout, "mem") == str(48 << 20)
        assert cgroup_value(p.stdout, "pids") == "40"
        assert cgroup_value(p.stdout, "cpu").split()[0] == "50000"
    finally:
        if os.path.exists(os.path.join(bundle, "gk-bundle.json")):
            gkimg(root, "unbundle", bundle)
        reg.stop()
    assert not os.path.exists(bundle) and mounts_mentioning(bundle) == []
