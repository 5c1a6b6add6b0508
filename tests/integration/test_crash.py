"""Crash safety: gkrun and gkimg killed with SIGKILL at every step.

The fault build (`make fault`, O/fault) has a kill point at each step
boundary (include/gk/fault.h): GK_FAULT=NAME makes the process SIGKILL
itself there.  The points are found in the sources, so a new point is
tested here without being listed.

gkrun: for every point of create, start, exec and delete, a container with
a bridge network, a published port and hooks is driven to the point, then
`gkrun delete --force` must leave nothing: no process, mount, cgroup, veth,
lease, nft rule, network file, state entry.

gkimg: for every point of pull and bundle, the next pull or bundle
completes, `gkimg check` finds the store consistent, and after gc nothing
temporary is left.
"""
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, GKRUN, REPO, cgroup_dirs
from gkcli import GKIMG, gkimg
from gkimage import Image
from test_net import NetEnv, assert_all_gone, link_exists, read_leases

FAULT_BUILD = os.environ.get("GK_FAULT_BUILD", os.path.join(BUILD, "fault"))
FGKRUN = os.path.join(FAULT_BUILD, "gkrun")
FGKIMG = os.path.join(FAULT_BUILD, "gkimg")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="crash tests run real containers: need root"),
    pytest.mark.skipif(not os.path.exists(FGKRUN) or not os.path.exists(FGKIMG),
                       reason="no fault build in %s: run `make fault`" % FAULT_BUILD),
]

POINT_RE = re.compile(r'GK_FAULT\("([a-z0-9.-]+)"\)')


def gk_sources():
    """The .c files of gkrun and gkimg: lib/, imgtool/ and runtime/'s
    folders (not runtime/net/, gkrun-net's: its point is tested apart)."""
    return glob.glob(os.path.join(REPO, "*", "*.c")) + \
        [p for p in glob.glob(os.path.join(REPO, "runtime", "*", "*.c"))
         if os.path.basename(os.path.dirname(p)) != "net"]


def fault_points(*commands):
    """Every GK_FAULT("COMMAND.step") in the sources, sorted."""
    found = set()
    for path in gk_sources() + glob.glob(os.path.join(REPO, "include", "gk", "*.h")):
        with open(path, errors="replace") as f:
            found.update(POINT_RE.findall(f.read()))
    return sorted(p for p in found if p.split(".")[0] in commands)


def test_every_point_belongs_to_a_tested_command():
    everything = fault_points("create", "start", "exec", "delete", "pull", "bundle")
    with_prefix = set()
    for path in gk_sources():
        with open(path, errors="replace") as f:
            with_prefix.update(POINT_RE.findall(f.read()))
    assert sorted(with_prefix) == everything
    assert len(everything) >= 30


def test_normal_build_has_no_fault_code():
    points = fault_points("create", "start", "exec", "delete", "pull", "bundle")
    for prog in (GKRUN, GKIMG):
        with open(prog, "rb") as f:
            data = f.read()
        assert b"GK_FAULT" not in data and b"gk_fault_point" not in data, prog
        for p in points:
            assert p.encode() + b"\0" not in data, "%s has fault point %s" % (prog, p)
    nm = subprocess.run(["nm", "-a", GKRUN, GKIMG], capture_output=True, text=True)
    assert nm.returncode == 0 and "gk_fault" not in nm.stdout
    with open(FGKRUN, "rb") as f:
        assert b"create.after-clone\0" in f.read()


def killed(p):
    return p.returncode == -signal.SIGKILL


def fault_env(point):
    e = dict(os.environ)
    e["GK_FAULT"] = point
    return e


# ---- gkrun ----

def procs_of(cid, marks):
    """Processes that belong to the container: in its cgroup, or running
    its command line (marked), or a gkrun (or clone of one) working on it."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open("/proc/%s/cgroup" % pid) as f:
                cg = f.read()
            with open("/proc/%s/stat" % pid) as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if zombie:
            continue
        if any(m in cmd for m in marks) or ("/gkrun/%s\n" % cid) in cg:
            found.append((int(pid), cmd))
    return found


def mounts_under(*paths):
    with open("/proc/self/mountinfo") as f:
        lines = f.read().splitlines()
    return [l for l in lines if any(p in l for p in paths)]


class CrashEnv:
    def __init__(self, gk, net):
        self.gk = gk
        self.net = net
        self.mark = str(random.randint(100000, 999999))

    def bundle(self):
        port = random.randint(20000, 40000)
        b = self.net.bundle(["/bin/sleep", self.mark], ports="%d:80" % port)
        hook = {"path": "/bin/sh", "args": ["sh", "-c", "exit 0"]}
        b.config["hooks"] = {"prestart": [hook], "createRuntime": [hook],
                             "poststart": [hook], "poststop": [hook]}
        b.write()
        return b

    def tags(self, cid):
        """Net tags a crash may have left: gkrun-net's record in the
        state directory, the leases."""
        tags = set()
        state_dir = os.path.join(os.path.realpath(self.gk.root), cid)
        try:
            with open(os.path.join(state_dir, "net.record")) as f:
                record = f.read()
            tags.update(w[4:] for w in record.split() if w.startswith("tag="))
        except OSError:
            pass
        for d, tag in read_leases().values():
            if d == state_dir:
                tags.add(tag)
        return tags

    def assert_nothing_left(self, cid, bundle, tags):
        deadline = time.time() + 5
        while procs_of(cid, [self.mark]) and time.time() < deadline:
            time.sleep(0.05)
        assert procs_of(cid, [self.mark]) == []
        assert mounts_under(bundle.path, self.gk.root, cid) == []
        assert cgroup_dirs(cid) == []
        for tag in tags:
            assert not link_exists("gk" + tag)
            assert not os.path.exists("/run/gkrun-net/files/" + tag)
        assert_all_gone(self.net, [cid])
        assert not os.path.exists(os.path.join(self.gk.root, cid))
        listed = self.gk.gkrun("list", "--quiet", check=True).stdout.split()
        assert cid not in listed


@pytest.fixture
def crash(gk):
    env = NetEnv(gk)
    yield CrashEnv(gk, env)
    env.cleanup()


def drive(crash, point):
    """Runs the command of POINT up to it; returns (cid, bundle, process)."""
    gk = crash.gk
    b = crash.bundle()
    cid = gk.new_id()
    env = fault_env(point)
    cmd = point.split(".")[0]
    if cmd == "create":
        return cid, b, run_fault(gk, env, "create", "--bundle", b.path, cid)
    gk.create(b, cid=cid)
    if cmd == "start":
        return cid, b, run_fault(gk, env, "start", cid)
    gk.gkrun("start", cid, check=True)
    if cmd == "exec":
        return cid, b, run_fault(gk, env, "exec", cid, "/bin/sleep", crash.mark)
    assert cmd == "delete"
    return cid, b, run_fault(gk, env, "delete", "--force", cid)


def run_fault(gk, env, *args):
    with tempfile.TemporaryFile("w+") as out:
        p = subprocess.run([FGKRUN, "--root", gk.root] + list(args), stdout=out,
                           stderr=subprocess.STDOUT, text=True, timeout=60, env=env)
        out.seek(0)
        p.stdout = out.read()
    return p


@pytest.mark.slow
@pytest.mark.parametrize("point", fault_points("create", "start", "exec", "delete"))
def test_gkrun_killed_at_point_leaves_nothing_after_delete_force(crash, point):
    gk = crash.gk
    cid, b, p = drive(crash, point)
    assert killed(p), "fault point %s not reached: exit %s: %s" % (point, p.returncode,
                                                                   p.stdout)
    tags = crash.tags(cid)
    d = gk.gkrun("delete", "--force", cid)
    assert d.returncode == 0, d.stderr
    crash.assert_nothing_left(cid, b, tags)


def test_gkrun_net_killed_mid_add_is_undone_by_the_rollback(crash):
    """gkrun-net's own point (runtime/net/, not one of gkrun's: the loop
    above kills gkrun): gkrun-net dies with the veth made, gkrun reports it
    naming gkrun-net, and its rollback's del removes everything."""
    gk = crash.gk
    files_before = set(os.listdir("/run/gkrun-net/files")) \
        if os.path.isdir("/run/gkrun-net/files") else set()
    b = crash.bundle()
    cid = gk.new_id()
    p = run_fault(gk, fault_env("net-add.after-veth"), "create", "--bundle", b.path, cid)
    assert p.returncode == 1, p.stdout
    assert "gkrun: gkrun-net add: killed by signal 9" in p.stdout, p.stdout
    crash.assert_nothing_left(cid, b, set())
    files_after = set(os.listdir("/run/gkrun-net/files"))
    assert files_after <= files_before


# ---- gkimg ----

from test_pull import registry, small_image, unique, store_leftovers, assert_store_consistent  # noqa: E402,F401


def assert_check(root, leftovers_ok=True):
    r = gkimg(root, "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 problems" in r.stdout, r.stdout
    if not leftovers_ok:
        assert " 0 leftovers" in r.stdout, r.stdout
    return r.stdout


def assert_clean_after_gc(root):
    g = gkimg(root, "gc")
    assert g.returncode == 0, g.stderr
    assert_check(root, leftovers_ok=False)
    assert store_leftovers(root) == []
    for sub in ("layers/tmp", "bundles"):
        d = os.path.join(root, sub)
        assert not os.path.isdir(d) or os.listdir(d) == [], sub
    assert [n for n in os.listdir(root) if ".tmp." in n] == []


@pytest.fixture
def store_root():
    d = tempfile.mkdtemp(prefix="gk-crash-store-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("point", fault_points("pull"))
def test_gkimg_killed_mid_pull_next_pull_completes(registry, store_root, point):
    root = store_root
    repo = unique("crash")
    img = small_image(point.encode(), big=400000)
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (registry.host, repo)
    p = gkimg(root, "pull", ref, binary=FGKIMG, env=fault_env(point))
    assert killed(p), "fault point %s not reached: exit %s: %s" % (point, p.returncode,
                                                                   p.stderr)
    assert_check(root)
    r = gkimg(root, "pull", ref)
    assert r.returncode == 0, r.stderr
    assert_store_consistent(root)
    assert_check(root)
    assert_clean_after_gc(root)
    r = gkimg(root, "inspect", ref)
    assert r.returncode == 0 and img.id in r.stdout, r.stderr


@pytest.mark.slow
@pytest.mark.parametrize("point", fault_points("bundle"))
def test_gkimg_killed_mid_bundle_next_bundle_completes(registry, store_root, point):
    root = store_root
    repo = unique("crashb")
    img = small_image(point.encode())
    registry.push_image(repo, "v1", img)
    ref = "%s/%s:v1" % (registry.host, repo)
    r = gkimg(root, "pull", ref)
    assert r.returncode == 0, r.stderr
    bundle = os.path.join(root, "..", os.path.basename(root) + "-bundle")
    bundle = os.path.realpath(bundle)
    try:
        p = gkimg(root, "bundle", ref, bundle, "--", "/bin/sh", binary=FGKIMG,
                  env=fault_env(point))
        assert killed(p), "fault point %s not reached: exit %s: %s" % (point, p.returncode,
                                                                       p.stderr)
        assert_check(root)
        if not os.path.exists(os.path.join(bundle, "config.json")):
            r = gkimg(root, "bundle", ref, bundle, "--", "/bin/sh")
            assert r.returncode == 0, r.stderr
        with open(os.path.join(bundle, "config.json")) as f:
            assert json.load(f)["process"]["args"] == ["/bin/sh"]
        for name in ("rootfs", "upper", "work"):
            assert os.path.isdir(os.path.join(bundle, name))
        assert_check(root)
        r = gkimg(root, "unbundle", bundle)
        assert r.returncode == 0, r.stderr
        assert not os.path.exists(bundle)
        assert_clean_after_gc(root)
    finally:
        shutil.rmtree(bundle, ignore_errors=True)


def test_gc_drops_the_record_of_a_bundle_killed_before_its_marker(registry, store_root):
    root = store_root
    repo = unique("crashr")
    registry.push_image(repo, "v1", small_image(b"record"))
    ref = "%s/%s:v1" % (registry.host, repo)
    assert gkimg(root, "pull", ref).returncode == 0
    bundle = os.path.realpath(root) + "-bundle"
    p = gkimg(root, "bundle", ref, bundle, "--", "/bin/sh", binary=FGKIMG,
              env=fault_env("bundle.after-register"))
    assert killed(p)
    os.rmdir(bundle)  # the user gives up on it
    out = assert_check(root)
    assert "bundle `%s` is gone" % bundle in out
    assert_clean_after_gc(root)
