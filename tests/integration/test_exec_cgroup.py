"""`exec --cgroup [CONTROLLER[,...]:]PATH` (runc 1.1's semantics): the
exec'd process joins an existing sub-cgroup of the container's, on every
hierarchy (PATH alone) or on the named controllers' (v1).  Each test runs
against runc and gkrun alike; the sub-cgroups are made by the test below
the container's own cgroup and removed before the container is deleted.
"""
import json
import os
import time

import pytest

from conftest import base_config
from orch import RuntimeUnderTest, runtime_fixture

pytestmark = pytest.mark.cgroup


class Runtime(RuntimeUnderTest):
    id_prefix = "gkc-"

    def start(self):
        path = os.path.join(self.workdir, "bundle-%d" % len(self.ids))
        os.makedirs(path)
        os.chmod(path, 0o755)
        cfg = base_config(["sleep", "1000"], self.rootfs)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f)
        cid = self.new_id()
        self("run", "-d", "--bundle", path, cid, check=True)
        return cid, self.state(cid)["pid"]


rt = runtime_fixture(Runtime, "gk-execcg-")


def mounts():
    """[(set of controllers or {""} for cgroup2, mount point)]"""
    out = []
    for line in open("/proc/self/mountinfo"):
        pre, post = line.split(" - ", 1)
        fstype, _, opts = post.split()[:3]
        if fstype == "cgroup2":
            out.append(({""}, pre.split()[4]))
        elif fstype == "cgroup":
            out.append((set(opts.split(",")), pre.split()[4]))
    return out


def cgroups_of(pid):
    """{controllers field of /proc/PID/cgroup: its path}"""
    out = {}
    for line in open("/proc/%d/cgroup" % pid):
        _, ctrls, path = line.rstrip("\n").split(":", 2)
        out[ctrls] = path
    return out


def host_dir(ctrls, path):
    want = set(ctrls.split(",")) if ctrls else {""}
    for opts, mnt in mounts():
        if want <= opts:
            return mnt + path
    return None


class Subs:
    """SUB made below the container's cgroup on every hierarchy it is in
    (cpuset given its parent's cpus and mems, or nothing could join it)."""

    def __init__(self, pid, sub):
        self.dirs = []
        for ctrls, path in cgroups_of(pid).items():
            parent = host_dir(ctrls, path)
            if not parent:
                continue
            d = os.path.join(parent, sub)
            os.mkdir(d)
            self.dirs.append(d)
            if "cpuset" in ctrls.split(",") and os.path.exists(d + "/cpuset.cpus"):
                for f in ("cpuset.cpus", "cpuset.mems"):
                    with open(os.path.join(parent, f)) as src, open(os.path.join(d, f), "w") as dst:
                        dst.write(src.read())

    def remove(self):
        for d in self.dirs:
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


@pytest.fixture
def container(rt):
    cid, pid = rt.start()
    made = []

    def subs(name):
        s = Subs(pid, name)
        made.append(s)
        return s
    yield rt, cid, pid, subs
    for s in made:
        s.remove()


def exec_cgroups(rt, cid, *flags):
    p = rt("exec", *flags, cid, "cat", "/proc/self/cgroup")
    assert p.returncode == 0, p.stderr
    out = {}
    for line in p.stdout.splitlines():
        _, ctrls, path = line.split(":", 2)
        out[ctrls] = path
    return out


def test_path_alone_every_hierarchy(container):
    rt, cid, pid, subs = container
    subs("sub")
    base = cgroups_of(pid)
    got = exec_cgroups(rt, cid, "--cgroup", "sub")
    for ctrls, path in base.items():
        assert got[ctrls] == path.rstrip("/") + "/sub", (ctrls, got)


def test_without_flag_container_cgroup(container):
    rt, cid, pid, subs = container
    subs("sub")
    assert exec_cgroups(rt, cid) == cgroups_of(pid)


def v1_only():
    if all(opts == {""} for opts, _ in mounts()):
        pytest.skip("per-controller paths are for cgroup v1")


def test_per_controller(container):
    v1_only()
    rt, cid, pid, subs = container
    subs("sub")
    base = cgroups_of(pid)
    got = exec_cgroups(rt, cid, "--cgroup", "cpu,cpuacct:sub", "--cgroup", "memory:sub")
    for ctrls, path in base.items():
        named = set(ctrls.split(",")) & {"cpu", "cpuacct", "memory"}
        want = path.rstrip("/") + "/sub" if named else path
        assert got[ctrls] == want, (ctrls, got)


def test_missing_sub_cgroup_refused(container):
    rt, cid, pid, subs = container
    p = rt("exec", "--cgroup", "nosuch", cid, "true")
    assert p.returncode != 0
    assert "nosuch" in p.stderr and "no such file or directory" in p.stderr.lower(), p.stderr


@pytest.mark.parametrize("args,msg", [
    (["--cgroup", "a", "--cgroup", "b"], "invalid --cgroup argument: a (missing <controller>: prefix)"),
    (["--cgroup", "cpu:a:b"], "invalid --cgroup argument: cpu:a:b"),
])
def test_bad_arguments_refused(container, args, msg):
    rt, cid, pid, subs = container
    p = rt("exec", *args, cid, "true")
    assert p.returncode != 0
    assert msg in p.stderr, p.stderr


def test_gkrun_refuses_what_leaves_the_container(container):
    """runc refuses `..` too ("is not a sub cgroup path"), an unknown
    controller ("unknown controller"); gkrun's words differ."""
    rt, cid, pid, subs = container
    for arg, runc_msg, gk_msg in [
            ("../x", "is not a sub cgroup path", "must stay below the container's cgroup"),
            ("foo:x", "unknown controller foo", "controller foo is not"),
    ]:
        if arg == "foo:x" and all(opts == {""} for opts, _ in mounts()):
            gk_msg = runc_msg = ""
        p = rt("exec", "--cgroup", arg, cid, "true")
        assert p.returncode != 0, arg
        assert (runc_msg if rt.name == "runc" else gk_msg) in p.stderr, p.stderr
