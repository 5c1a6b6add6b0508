"""A real distribution image end to end: the Debian minbase image of
debimage.py (three gzip layers: file, directory and opaque whiteouts, a
file deleted and added back, a file turned into a symlink) is pushed to a
loopback registry, pulled with gkimg and compared file by file with what
skopeo + umoci make of the same image; then a container runs in it.

The image is built once with mmdebstrap and cached under /var/cache/gk-test
(the first run of a day needs the Debian mirror; offline with no cache the
tests skip and say why)."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import debimage
import gkregistry as gr
import gkcli
from test_bundle import needs_gkrun
from test_unpack import assert_same_tree, bundle_lowerdirs, mount_lowers, snapshot

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="unpacking keeps owners: needs root")]


@pytest.fixture(scope="module")
def debian():
    """(registry reference, store root) of the image pulled once by gkimg."""
    for tool in ("skopeo", "umoci"):
        if not shutil.which(tool):
            pytest.skip("%s is not installed (contrib/install-deps.sh --test)" % tool)
    try:
        layout = debimage.layout()
    except debimage.Unavailable as e:
        pytest.skip("no Debian image: %s" % e)
    work = tempfile.mkdtemp(prefix="gk-debian-")
    reg = gr.Registry()
    try:
        ref = debimage.push(layout, reg.host, "gktest/debian")
        root = os.path.join(work, "store")
        gkimg(root, "pull", "-q", ref)
        yield ref, root, work
    finally:
        reg.stop()
        subprocess.run(["umount", os.path.join(work, "merged")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def gkimg(root, *args):
    """A Debian image is large: 300 s."""
    return gkcli.gkimg(root, *args, check=True, timeout=300)


def test_debian_unpack_matches_umoci(debian):
    ref, root, work = debian
    since = time.time()
    bundle = os.path.join(work, "cmp-bundle")
    gkimg(root, "bundle", ref, bundle)
    lowers = bundle_lowerdirs(bundle)
    assert len(lowers) == 3
    oci, umoci = os.path.join(work, "oci"), os.path.join(work, "umoci")
    subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + ref,
                    "oci:%s:t" % oci], check=True, capture_output=True, timeout=300)
    subprocess.run(["umoci", "unpack", "--image", "%s:t" % oci, umoci], check=True,
                   capture_output=True, timeout=300)
    want = snapshot(os.path.join(umoci, "rootfs"), since)
    shutil.rmtree(umoci)
    merged = mount_lowers(work, lowers)
    try:
        got = snapshot(merged, since)
    finally:
        subprocess.run(["umount", merged], check=True)
    assert_same_tree(got, want)
    # what the layers did is visible (the image is not trivially the base)
    g, _ = got
    assert "etc/motd" not in g and "usr/share/doc/libc6" not in g
    assert "usr/share/doc/dpkg/copyright" in g and "usr/share/doc/dpkg/changelog.gz" in g
    assert "usr/share/doc/dpkg/THANKS.gz" not in g
    assert sorted(k for k in g if k.startswith("var/log/")) == ["var/log/gk-build.log"]
    assert g["etc/issue.net"]["target"] == "issue"
    assert g["opt/gk/hello"]["xattrs"] == (("user.gk.origin", b"debimage.py"),)
    # parents the third layer does not list keep what the base gave them
    assert g["lib"]["target"] == "usr/lib" and "usr/lib/gk-lib" in g
    assert g["tmp"]["mode"] == oct(0o1777)
    assert (g["var/mail"]["mode"], g["var/mail"]["owner"]) == (oct(0o2775), (0, 8))
    assert isinstance(g["usr/lib"]["mtime"], int) and isinstance(g["usr"]["mtime"], int)
    assert len(g) > 5000
    gkimg(root, "unbundle", bundle)


@needs_gkrun
def test_debian_container_runs(debian, gk):
    ref, root, work = debian
    bundle = os.path.join(work, "run-bundle")
    gkimg(root, "bundle", ref, bundle, "--", "/bin/sh", "-c",
          "cat /etc/debian_version; dpkg-query -W -f='${Package} ${Status}\\n' dpkg bash; "
          "/opt/gk/hello-again; id -u; test -e /etc/motd || echo no motd")
    try:
        p = gk.gkrun("run", "--bundle", bundle, gk.new_id())
        assert p.returncode == 0, p.stderr
        lines = p.stdout.split("\n")
        assert lines[0].startswith("12."), p.stdout
        assert lines[1:6] == ["bash install ok installed", "dpkg install ok installed",
                              "hello from the debian image", "0",
                              "no motd"], p.stdout
    finally:
        gkimg(root, "unbundle", bundle)


@needs_gkrun
def test_debian_root_runs_apt_chown_su_setpriv(debian, gk):
    """Root in a bundle has Docker's and podman's default capabilities:
    apt drops to _apt (setgroups, setresuid), chown, su and setpriv work
    (with the three capabilities of `runc spec` all of them fail)."""
    ref, root, work = debian
    bundle = os.path.join(work, "apt-bundle")
    script = "; ".join([
        "mkdir -p /srv/repo && : > /srv/repo/Packages",
        "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*",
        "echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list.d/local.list",
        "apt-get update -q > /tmp/apt.log 2>&1 && ! grep '^[WE]:' /tmp/apt.log && echo apt ok",
        "chown nobody /srv/repo && stat -c %U /srv/repo",
        "su nobody -s /bin/sh -c 'id -un'",
        "setpriv --reuid=65534 --regid=65534 --clear-groups id -u"])
    gkimg(root, "bundle", ref, bundle, "--", "/bin/sh", "-c", script)
    try:
        p = gk.gkrun("run", "--bundle", bundle, gk.new_id())
        assert p.returncode == 0, p.stderr
        assert p.stdout.split("\n")[:4] == ["apt ok", "nobody", "nobody", "65534"], \
            p.stdout + p.stderr
    finally:
        gkimg(root, "unbundle", bundle)
