"""Bundles of images the way Docker and podman run them: every runtime
runs a gkimg bundle (its ociVersion is the oldest that covers its fields,
so crun 1.8.1 takes it), root in it has Docker's and podman's default
capabilities and seccomp profile (chown, su, setpriv work; keyctl, unshare,
mount are refused), the bundle flags change what the container sees, the
image's Volumes get a volume with the image's content, and the image's
labels and OCI fields are config.json annotations as umoci writes them.
"""
import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import GKRUN, PROBE, REPO
from gkcli import Podman, gkimg, run
from gkimage import Image, dir_tar
from orch import remove_hidden_unified

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="runs real containers: needs root")

RUNTIMES = {"gkrun": GKRUN, "runc": "/usr/sbin/runc", "crun": "/usr/bin/crun"}
REF = "gktest/bb:1"
LABELS = {"com.example.tier": "web", "org.opencontainers.image.title": "busybox for gk"}


def d(name, **kw):
    return dict(name=name, type="dir", **kw)


def f(name, data=b"", **kw):
    return dict(name=name, data=data, **kw)


def hybrid_cgroups():
    """crun 1.8 refuses a host that mounts cgroup2 beside v1 controllers."""
    return os.path.ismount("/sys/fs/cgroup/unified")


class Runtimes:
    """Runs bundles under one runtime with its own --root; deletes what it
    made at the end."""

    def __init__(self, name, work):
        self.name, self.work = name, work
        self.state = os.path.join(work, "state-" + name)
        self.ids = []

    def cmd(self, *args):
        cmd = [RUNTIMES[self.name], "--root", self.state] + [str(a) for a in args]
        if self.name == "crun" and hybrid_cgroups():
            cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   'umount /sys/fs/cgroup/unified && exec "$@"', "sh"] + cmd
        return cmd

    def run(self, bundle, timeout=60):
        cid = "gki-" + uuid.uuid4().hex[:10]
        self.ids.append(cid)
        return run(self.cmd("run", "--bundle", bundle, cid), timeout=timeout)

    def cleanup(self):
        for cid in self.ids:
            subprocess.run(self.cmd("delete", "--force", cid), capture_output=True, timeout=30)
        if self.name == "crun":  # its v2 directories, under the hidden mount
            remove_hidden_unified(*self.ids)


class Store:
    def __init__(self, work):
        self.work = work
        self.root = os.path.join(work, "store")
        self.n = 0

    def gkimg(self, *args, check=True):
        return gkimg(self.root, *args, check=check)

    def bundle(self, *flags, cmd=None, ref=REF, check=True):
        """gkimg bundle --copy FLAGS REF DIR [-- CMD]; returns DIR."""
        self.n += 1
        path = os.path.join(self.work, "b%d" % self.n)
        tail = ["--"] + list(cmd) if cmd else []
        p = self.gkimg("bundle", "--copy", *flags, ref, path, *tail, check=check)
        return path if check else (path, p)

    def config(self, path):
        with open(os.path.join(path, "config.json")) as fh:
            return json.load(fh)

    def cleanup(self):
        for name in os.listdir(self.work):
            if os.path.exists(os.path.join(self.work, name, "gk-bundle.json")):
                self.gkimg("unbundle", os.path.join(self.work, name), check=False)


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """busybox-static with gk-probe, a declared volume whose directory the
    image fills (owner 1000, mode 0750), labels and exposed ports."""
    work = tmp_path_factory.mktemp("gk-ib")
    rootfs = str(work / "rootfs")
    subprocess.run([os.path.join(REPO, "bundle-spec", "mkrootfs.sh"), rootfs, PROBE], check=True)
    data = [d("data", mode=0o750, uid=1000, gid=1000), f("data/seed", b"from the image\n")]
    return Image([dir_tar(rootfs), data],
                 config={"Cmd": ["/bin/sh", "-c", "echo hello; id -u"],
                         "Volumes": {"/data": {}}, "Labels": LABELS,
                         "ExposedPorts": {"80/tcp": {}, "53/udp": {}}},
                 top={"author": "gk tests"})


@pytest.fixture
def store(image):
    work = tempfile.mkdtemp(prefix="gk-ib-")
    os.chmod(work, 0o755)
    s = Store(work)
    try:
        s.gkimg("import", image.docker_archive(os.path.join(work, "bb.tar"), REF))
        yield s
        s.cleanup()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def runtime_fixture(names):
    @pytest.fixture(params=names)
    def rt(request, store):
        if not os.access(RUNTIMES[request.param], os.X_OK):
            pytest.skip("%s is not installed" % request.param)
        r = Runtimes(request.param, store.work)
        yield r
        r.cleanup()
    return rt


any_rt = runtime_fixture(["gkrun", "runc", "crun"])
rt = runtime_fixture(["gkrun", "runc"])


def lines(p):
    return p.stdout.splitlines()


# ---- every runtime runs a gkimg bundle ----

def test_every_runtime_runs_the_bundle(store, any_rt):
    path = store.bundle("--env", "WHO=gk", cmd=["/bin/sh", "-c",
                                                 "echo $WHO; cat /data/seed; exit 3"])
    assert store.config(path)["ociVersion"] == "1.1.0"
    p = any_rt.run(path)
    assert p.returncode == 3, p.stderr
    assert lines(p)[:2] == ["gk", "from the image"]


def test_oci_version_is_the_oldest_covering_the_fields(store):
    # no seccomp profile: nothing newer than 1.0.0 is used
    assert store.config(store.bundle("--security-opt", "seccomp=unconfined"))["ociVersion"] \
        == "1.0.0"


# ---- Docker's and podman's defaults ----

DOCKER_CAPS = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
               "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
               "CAP_SYS_CHROOT"}


def probe_caps(out, key="CapEff"):
    for line in out.splitlines():
        if line.startswith(key + ":"):
            return set(line.split()[1:])
    raise AssertionError("no %s in %r" % (key, out))


def test_root_has_the_default_caps_and_seccomp(store, rt):
    script = "; ".join([
        "gk-probe caps", "echo seccomp=$(gk-probe seccomp) nnp=$(gk-probe nnp)",
        "chown 1000:1000 /tmp && stat -c chown=%u:%g /tmp",
        "su -s /bin/sh gkuser -c 'echo su=$(id -u)'",
        "echo setpriv-$(setpriv --inh-caps +chown --ambient-caps +chown gk-probe caps | "
        "grep CapAmb)",
        "echo keyctl=$(gk-probe syscall keyctl)", "echo unshare=$(gk-probe syscall unshare)",
        "echo mount=$(gk-probe syscall mount /tmp)",
        "echo chroot=$(chroot / true && echo ok)",
        "echo user-$(su -s /bin/sh gkuser -c 'gk-probe caps' | grep CapEff)"])
    p = rt.run(store.bundle(cmd=["/bin/sh", "-c", script]))
    assert p.returncode == 0, p.stderr
    assert probe_caps(p.stdout) == DOCKER_CAPS
    assert probe_caps(p.stdout, "CapBnd") == DOCKER_CAPS
    out = lines(p)
    for want in ("seccomp=2 nnp=0", "chown=1000:1000", "su=1000",
                 "setpriv-CapAmb: CAP_CHOWN", "keyctl=errno=EPERM", "unshare=errno=EPERM",
                 "mount=errno=EPERM", "chroot=ok", "user-CapEff:"):
        assert want in out, (want, p.stdout)


@pytest.mark.parametrize("flags,script,want", [
    (["--cap-drop", "chown"], "chown 5 /tmp 2>/dev/null || echo refused", "refused"),
    (["--cap-drop", "ALL", "--cap-add", "CAP_KILL"], "gk-probe caps | grep CapEff",
     "CapEff: CAP_KILL"),
    (["--cap-add", "SYS_ADMIN"], "gk-probe syscall unshare", "ok"),
    (["--security-opt", "seccomp=unconfined"], "gk-probe seccomp", "0"),
    (["--security-opt", "no-new-privileges"], "gk-probe nnp", "1"),
    (["--read-only"], "touch /x 2>/dev/null || echo read-only", "read-only"),
    (["--read-only", "--tmpfs", "/tmp:size=1m,mode=1777"],
     "touch /tmp/x && grep ' /tmp ' /proc/mounts | cut -d' ' -f3,4 | tr , ' '",
     "tmpfs rw nosuid nodev noexec relatime size=1024k"),
])
def test_flags_change_what_the_container_sees(store, flags, script, want):
    r = Runtimes("gkrun", store.work)
    try:
        p = r.run(store.bundle(*flags, cmd=["/bin/sh", "-c", script]))
    finally:
        r.cleanup()
    assert p.returncode == 0, p.stderr
    assert lines(p)[-1] == want, p.stdout


def test_bind_volume_and_anonymous_volume(store, rt):
    host = os.path.join(store.work, "host")
    os.makedirs(host)
    with open(os.path.join(host, "h"), "w") as fh:
        fh.write("from the host\n")
    script = ("cat /mnt/h; touch /mnt/x 2>/dev/null || echo ro; stat -c %u:%a /data; "
              "cat /data/seed; echo kept >> /data/log; cat /data/log")
    path = store.bundle("-v", "%s:/mnt:ro" % host, cmd=["/bin/sh", "-c", script])
    p = rt.run(path)
    assert p.returncode == 0, p.stderr
    assert lines(p) == ["from the host", "ro", "1000:750", "from the image", "kept"]
    # the volume outlives the container: a second run sees its writes
    p = rt.run(path)
    assert lines(p)[-2:] == ["kept", "kept"], p.stdout + p.stderr
    store.gkimg("unbundle", path)
    assert not os.path.exists(path)


def test_volume_flags_replace_the_anonymous_volume(store):
    path = store.bundle("--tmpfs", "/data")
    mounts = {m["destination"]: m for m in store.config(path)["mounts"]}
    assert mounts["/data"]["type"] == "tmpfs"
    assert not os.path.exists(os.path.join(path, "volumes"))


@pytest.mark.parametrize("flags,message", [
    (["--cap-add", "CAP_NOSUCH"], "--cap-add `CAP_NOSUCH`: unknown capability"),
    (["--cap-drop", "bogus"], "--cap-drop `bogus`: unknown capability"),
    (["--security-opt", "apparmor=x"], "--security-opt `apparmor=x`: expected seccomp="),
    (["--security-opt", "seccomp=/nonexistent.json"], "/nonexistent.json"),
    (["--tmpfs", "tmp"], "--tmpfs `tmp`: `tmp` must be an absolute path"),
    (["--tmpfs", "/t:size=1m,bogus"], "--tmpfs `/t:size=1m,bogus`: unknown option `bogus`"),
    (["-v", "/nonexistent-gk:/x"], "-v `/nonexistent-gk:/x`: host path `/nonexistent-gk`"),
    (["-v", "named:/x"], "must be an absolute host path (named volumes are not supported)"),
    (["-v", "/tmp"], "-v `/tmp`: expected HOST:CONTAINER[:ro|rw]"),
    (["-v", "/tmp:/x:rx"], "-v `/tmp:/x:rx`: unknown option `rx`"),
    (["-v", "/tmp:/x/../y"], "must be an absolute path in the container"),
    (["-v", "/tmp:/x", "--tmpfs", "/x"], "`/x` is mounted twice"),
])
def test_bad_flag_values_are_clear_errors(store, flags, message):
    path, p = store.bundle(*flags, check=False)
    assert p.returncode != 0 and message in p.stderr, p.stderr
    assert not os.path.exists(path)


def test_seccomp_profile_files(store):
    prof = os.path.join(store.work, "prof.json")
    with open(prof, "w") as fh:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["getcwd"], "action": "SCMP_ACT_ERRNO"}]}, fh)
    path = store.bundle("--security-opt", "seccomp=" + prof, cmd=["gk-probe", "cwd"])
    assert store.config(path)["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ALLOW"
    r = Runtimes("gkrun", store.work)
    try:
        p = r.run(path)
    finally:
        r.cleanup()
    assert p.returncode == 0 and p.stdout == "errno=EPERM\n", p.stdout + p.stderr
    # Docker's and podman's own format has rules only they evaluate
    _, p = store.bundle("--security-opt", "seccomp=/usr/share/containers/seccomp.json",
                        check=False)
    if os.path.exists("/usr/share/containers/seccomp.json"):
        assert "Docker's format (archMap, includes, excludes) is not supported" in p.stderr


# ---- annotations as umoci writes them ----

def test_annotations_match_umoci(store, image):
    if not shutil.which("umoci"):
        pytest.skip("umoci is not installed")
    layout = image.oci_layout(os.path.join(store.work, "layout"), "v1")
    ub = os.path.join(store.work, "umoci-bundle")
    subprocess.run(["umoci", "unpack", "--image", layout + ":v1", ub], check=True,
                   capture_output=True)
    with open(os.path.join(ub, "config.json")) as fh:
        theirs = json.load(fh)["annotations"]
    ours = store.config(store.bundle())["annotations"]
    assert theirs["org.opencontainers.image.exposedPorts"] == "53/udp,80/tcp"
    # umoci also writes the fields the image lacks, empty (stopSignal)
    theirs = {k: v for k, v in theirs.items() if v}
    assert {k: ours.get(k) for k in theirs} == theirs
    assert ours["com.example.tier"] == "web"


# ---- imports and exports ----

def test_skopeo_oci_archive_imports_by_its_tag(store, image):
    layout = image.oci_layout(os.path.join(store.work, "src"), "x")
    archive = os.path.join(store.work, "x.tar")
    subprocess.run(["skopeo", "copy", "oci:%s:x" % layout, "oci-archive:%s:v1" % archive],
                   check=True, capture_output=True)
    p = store.gkimg("import", archive)
    assert p.stdout == "Loaded image: localhost/x:v1\n"
    path = store.bundle(ref="localhost/x:v1")
    assert store.config(path)["annotations"]["org.gk.image.id"] == image.id


def several_images_layout(path, images):
    """An OCI layout holding IMAGES ({tag: Image}), like skopeo's after
    several copies into one oci:DIR."""
    index = None
    for tag, img in images.items():
        img.oci_layout(path, tag)
        with open(os.path.join(path, "index.json")) as fh:
            entry = json.load(fh)
        if index is None:
            index = entry
        else:
            index["manifests"] += entry["manifests"]
    with open(os.path.join(path, "index.json"), "w") as fh:
        json.dump(index, fh)
    return path


def test_layout_with_several_images_whole_or_by_tag(store):
    one = Image([[f("one", b"1")]], config={"Cmd": ["/one"]})
    two = Image([[f("two", b"2")]], config={"Cmd": ["/two"]})
    layout = several_images_layout(os.path.join(store.work, "multi"), {"a": one, "b": two})
    p = store.gkimg("import", layout)
    assert p.stdout.splitlines() == ["Loaded image: localhost/multi:a",
                                     "Loaded image: localhost/multi:b"]
    p = store.gkimg("import", layout + ":b", "gktest/picked:1")
    assert p.stdout == "Loaded image: gktest/picked:1\n"
    assert store.config(store.bundle(ref="gktest/picked:1"))["process"]["args"] == ["/two"]
    p = store.gkimg("import", layout + ":nosuch", check=False)
    assert p.returncode != 0 and "`%s` has no image tagged `nosuch`" % layout in p.stderr
    p = store.gkimg("import", layout, "gktest/one:1", check=False)
    assert p.returncode != 0 and "holds 2 images: REF can name only one" in p.stderr


def test_export_docker_archive_loads_in_podman_and_back(store, image):
    if not shutil.which("podman"):
        pytest.skip("podman is not installed")
    out = os.path.join(store.work, "saved.tar")
    store.gkimg("export", "--format", "docker-archive", REF, out)
    os.makedirs(os.path.join(store.work, "podman"))
    podman = Podman(os.path.join(store.work, "podman"))
    p = podman("load", "-i", out)
    assert p.returncode == 0, p.stderr
    assert "Loaded image: docker.io/gktest/bb:1" in p.stdout
    p = podman("image", "inspect", "docker.io/gktest/bb:1")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)[0]
    assert "sha256:" + info["Id"] == image.id
    assert info["RootFS"]["Layers"] == image.diff_ids
    # and gkimg reads it back as it reads docker save's
    fresh = Store(os.path.join(store.work, "fresh"))
    os.makedirs(fresh.work)
    p = fresh.gkimg("import", out)
    assert p.stdout == "Loaded image: docker.io/gktest/bb:1\n"
    p = store.gkimg("export", "--format", "tarball", REF, out, check=False)
    assert "--format `tarball`: expected oci-archive or docker-archive" in p.stderr
