"""gkrun under containerd's runc shim (io.containerd.runc.v2 with
--runc-binary): the same scenarios against runc and gkrun.

The tests start a containerd of their own from a complete config written
here (containerd's defaults, or a config under test, with every path made
private; no file of the host's is read): root, state, sockets and the
runtime's --root under one /tmp/gk-ctrd-* directory, a namespace (and so a
cgroup parent) named after it (see ctrd.py).  The contrib config is checked
the same way, merged into Debian's stock file and into containerd's
defaults, with the CRI plugin on.
"""
import json
import os
import tomllib
import uuid

import pytest

from conftest import GKRUN, REPO
from ctrd import CRI, default_config, private_containerd
from orch import (IMAGE, LOOPBACK_SCRIPT, cgroup_children, freezer_state, mounts_matching, run,
                  run_pty, runtime_ids, runtime_path, toml_merge, wait_for)

pytestmark = pytest.mark.slow


class Ctr:
    """`ctr run --runtime io.containerd.runc.v2 --runc-binary RUNTIME` for one test."""

    def __init__(self, cd, runtime):
        self.cd = cd
        self.runtime = runtime
        self.runc_root = os.path.join(cd.dir, "runc-" + runtime)
        self.binary = runtime_path(runtime)  # the shim's --runc-binary (a test may wrap it)
        self.ids = []

    def __call__(self, *args, **kw):
        return self.cd.ctr(*args, **kw)

    def new_id(self):
        cid = "gk-%s-%s" % (self.runtime, uuid.uuid4().hex[:8])
        self.ids.append(cid)
        self.cd.ids.add(cid)
        return cid

    def run_args(self, *opts):
        return ["run", "--runtime", "io.containerd.runc.v2",
                "--runc-binary", self.binary, "--runc-root", self.runc_root,
                "--fifo-dir", self.cd.fifo_dir] + list(opts)

    def run(self, *opts, cmd, cid=None, **kw):
        cid = cid or self.new_id()
        return cid, self(*self.run_args(*opts), IMAGE, cid, *cmd, **kw)

    def cmd(self, *args):
        return ["ctr", "-a", self.cd.sock, "-n", self.cd.ns] + list(args)

    def start_detached(self, *opts, cmd=("sleep", "1000")):
        cid, p = self.run("-d", *opts, cmd=cmd)
        assert p.returncode == 0, p.stderr
        return cid

    def task_status(self, cid):
        p = self("task", "ls", check=True)
        for line in p.stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return f[2]
        return None

    def task_pid(self, cid):
        p = self("task", "ls", check=True)
        return int([l.split()[1] for l in p.stdout.splitlines()[1:] if l.split()[0] == cid][0])

    def remove(self, cid):
        self("task", "kill", "-s", "SIGKILL", cid)
        wait_for(lambda: self.task_status(cid) in (None, "STOPPED"), what="task to stop")
        p = self("task", "rm", cid)
        self("containers", "rm", cid)
        return p

    def assert_clean(self):
        """Nothing of this test's containers is left behind."""
        for cid in self.ids:
            if cid in self("containers", "ls", "-q").stdout.split():
                self.remove(cid)
        assert not set(self.ids) & set(self("containers", "ls", "-q").stdout.split())
        root = os.path.join(self.runc_root, self.cd.ns)
        left = runtime_ids(self.runtime, root) & set(self.ids)
        assert not left, "%s --root %s list still shows %s" % (self.runtime, root, left)
        assert not mounts_matching(*self.ids), "mounts left"
        wait_for(lambda: not [c for c in cgroup_children(self.cd.ns)
                              if os.path.basename(c) in self.ids],
                 what="container cgroups to go")


@pytest.fixture(scope="session")
def containerd(tmp_path_factory):
    yield from private_containerd(tmp_path_factory)


@pytest.fixture(params=["runc", "gkrun"])
def ctr(request, containerd):
    if request.param == "gkrun" and not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built (GK_BUILD=%s)" % os.path.dirname(GKRUN))
    c = Ctr(containerd, request.param)
    yield c
    for cid in c.ids:
        if cid in containerd.ctr("containers", "ls", "-q").stdout.split():
            c.remove(cid)


def test_run_rm_output_and_exit_status(ctr):
    cid, p = ctr.run("--rm", cmd=["sh", "-c", "echo hello; echo oops >&2; exit 7"])
    assert p.returncode == 7, p.stderr
    assert p.stdout == "hello\n" and "oops" in p.stderr
    assert cid not in ctr("containers", "ls", "-q").stdout.split()
    ctr.assert_clean()


def test_loopback_is_up_without_cni(ctr):
    """ctr run without CNI: a new network namespace with lo alone, up."""
    cid, p = ctr.run("--rm", cmd=["sh", "-c", "ls /sys/class/net; " + LOOPBACK_SCRIPT])
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["lo", "0x9", "over-lo"], p.stdout + p.stderr
    ctr.assert_clean()


def test_run_tty(ctr):
    cid = ctr.new_id()
    status, out = run_pty(ctr.cmd(*ctr.run_args("--rm", "--tty"), IMAGE, cid, "sh", "-c",
                                  "tty; [ -t 0 ] && echo stdin-tty; exit 3"))
    assert status == 3, out
    assert "/dev/pts/0" in out and "stdin-tty" in out
    ctr.assert_clean()


def test_detached_then_exec(ctr):
    cid = ctr.start_detached()
    assert ctr.task_status(cid) == "RUNNING"
    p = ctr("task", "exec", "--fifo-dir", ctr.cd.fifo_dir, "--exec-id", "e1", cid,
            "sh", "-c", "echo exec-out; echo exec-err >&2; exit 4")
    assert p.returncode == 4
    assert p.stdout == "exec-out\n" and "exec-err" in p.stderr
    status, out = run_pty(ctr.cmd("task", "exec", "--fifo-dir", ctr.cd.fifo_dir, "--tty",
                                  "--exec-id", "e2", cid, "sh", "-c",
                                  "tty; [ -t 0 ] && echo in-tty; exit 5"))
    assert status == 5, out
    assert "/dev/pts/" in out and "in-tty" in out
    # A detached exec keeps running; the shim reports it in `task ps`.
    p = ctr("task", "exec", "--fifo-dir", ctr.cd.fifo_dir, "-d", "--exec-id", "e3", cid,
            "sleep", "999")
    assert p.returncode == 0, p.stderr
    wait_for(lambda: len(ctr("task", "ps", cid).stdout.splitlines()) == 3, what="exec in ps")
    assert "e3" in ctr("task", "ps", cid).stdout
    # The runtime's error reaches the user.
    p = ctr("task", "exec", "--fifo-dir", ctr.cd.fifo_dir, "--exec-id", "e4", cid, "/nosuch")
    assert p.returncode != 0
    assert "OCI runtime exec failed" in p.stderr and '"/nosuch"' in p.stderr
    ctr.remove(cid)
    ctr.assert_clean()


def test_kill_and_exit_status(ctr):
    cid = ctr.start_detached(cmd=("sh", "-c", "trap 'exit 42' TERM; while :; do sleep 0.1; done"))
    p = ctr("task", "kill", cid)  # SIGTERM
    assert p.returncode == 0, p.stderr
    wait_for(lambda: ctr.task_status(cid) == "STOPPED", what="task to stop")
    # Killing a stopped task is "not found", as the shim reports it for runc.
    p = ctr("task", "kill", "-s", "SIGKILL", cid)
    assert p.returncode != 0 and "not found" in p.stderr, p.stderr
    p = ctr("task", "rm", cid)
    assert p.returncode == 0
    assert "exit code 42" in p.stderr
    ctr("containers", "rm", cid, check=True)
    # SIGKILL of a running task: 137.
    cid = ctr.start_detached()
    ctr("task", "kill", "-s", "SIGKILL", cid, check=True)
    wait_for(lambda: ctr.task_status(cid) == "STOPPED", what="task to stop")
    assert "exit code 137" in ctr("task", "rm", cid).stderr
    ctr("containers", "rm", cid, check=True)
    ctr.assert_clean()


def test_pause_resume(ctr):
    cid = ctr.start_detached()
    pid = ctr.task_pid(cid)
    ctr("task", "pause", cid, check=True)
    assert ctr.task_status(cid) == "PAUSED"
    assert freezer_state(pid) in ("FROZEN", None)
    ctr("task", "resume", cid, check=True)
    assert ctr.task_status(cid) == "RUNNING"
    assert freezer_state(pid) in ("THAWED", None)
    p = ctr("task", "exec", "--fifo-dir", ctr.cd.fifo_dir, "--exec-id", "after", cid, "true")
    assert p.returncode == 0, p.stderr
    # A paused task can still be killed and removed.
    ctr("task", "pause", cid, check=True)
    ctr.remove(cid)
    ctr.assert_clean()


def host_cgroup_file(pid, ctrl, name):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.strip().split(":", 2)
            if ctrl in ctrls.split(","):
                with open("/sys/fs/cgroup/%s%s/%s" % (ctrl, path, name)) as g:
                    return g.read().strip()
    return None


@pytest.mark.skipif(os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
                    reason="reads cgroup v1 files")
def test_metrics_and_limits(ctr):
    cid = ctr.start_detached("--memory-limit", "67108864", "--cpus", "0.5")
    pid = ctr.task_pid(cid)
    assert host_cgroup_file(pid, "memory", "memory.limit_in_bytes") == "67108864"
    assert host_cgroup_file(pid, "cpu", "cpu.cfs_quota_us") == "50000"
    ctr("task", "exec", "--fifo-dir", ctr.cd.fifo_dir, "-d", "--exec-id", "bg", cid,
        "sleep", "999", check=True)
    p = ctr("task", "metrics", "--format", "json", cid)
    assert p.returncode == 0, p.stderr
    m = json.loads(p.stdout)
    text = json.dumps(m)
    assert "67108864" in text, text
    assert m["data"]["pids"]["current"] == 2 if "data" in m and "pids" in m["data"] \
        else '"current": 2' in text, text
    ctr.remove(cid)
    ctr.assert_clean()


def test_failed_create_is_reported_and_cleaned(ctr):
    cid, p = ctr.run("--rm", cmd=["/nosuch"])
    assert p.returncode != 0
    assert "OCI runtime create failed" in p.stderr and '"/nosuch"' in p.stderr, p.stderr
    if cid in ctr("containers", "ls", "-q").stdout.split():
        ctr("containers", "rm", cid, check=True)
    ctr.assert_clean()


# --- contrib/containerd/config.toml in a complete config, the CRI plugin on ----------

# /etc/containerd/config.toml as Debian 12's containerd package (1.6.20)
# ships it: the file the contrib README says to merge the snippet into.
DEBIAN_STOCK_CONFIG = """\
version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
"""


def contrib_snippet(gkrun_root):
    """contrib/containerd/config.toml with this build's gkrun for the
    installed one, and a --root of ours."""
    with open(os.path.join(REPO, "contrib", "containerd", "config.toml"), "rb") as f:
        snippet = tomllib.load(f)
    opts = snippet["plugins"][CRI]["containerd"]["runtimes"]["gkrun"]["options"]
    assert opts["BinaryName"] == "/usr/local/bin/gkrun"
    opts["BinaryName"] = GKRUN
    opts["Root"] = gkrun_root
    return snippet


@pytest.fixture(params=["debian-stock", "containerd-default"])
def cri_containerd(request, tmp_path_factory):
    """A private containerd, CRI plugin on, whose config is the contrib
    snippet merged into Debian's stock file or into containerd's defaults."""
    if not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built (GK_BUILD=%s)" % os.path.dirname(GKRUN))

    def config(d):
        base = tomllib.loads(DEBIAN_STOCK_CONFIG) if request.param == "debian-stock" \
            else default_config()
        return toml_merge(base, contrib_snippet(d + "/gkrun-root"))
    yield from private_containerd(tmp_path_factory, config)


def test_contrib_config_keeps_cri_and_runs_gkrun(cri_containerd):
    cd = cri_containerd
    p = cd.ctr("plugins", "ls", check=True)
    assert any(l.split()[:2] == ["io.containerd.grpc.v1", "cri"] and l.split()[-1] == "ok"
               for l in p.stdout.splitlines()), p.stdout
    # What the CRI plugin was configured with: runc stays the default.
    dump = tomllib.loads(run(["containerd", "--config", cd.config, "config", "dump"],
                             check=True).stdout)
    cfg = dump["plugins"][CRI]["containerd"]
    assert cfg["default_runtime_name"] == "runc"
    assert cfg["runtimes"]["runc"]["runtime_type"] == "io.containerd.runc.v2"
    gk = cfg["runtimes"]["gkrun"]
    assert gk["runtime_type"] == "io.containerd.runc.v2"
    opts = gk["options"]
    assert opts["BinaryName"] == GKRUN and opts["SystemdCgroup"] is False
    # A container through the configured runtime, as the plugin starts it.
    run_args = ["run", "--runtime", gk["runtime_type"], "--runc-binary", opts["BinaryName"],
                "--runc-root", opts["Root"], "--fifo-dir", cd.fifo_dir]
    cid = "gk-cri-" + uuid.uuid4().hex[:8]
    cd.ids.add(cid)
    p = cd.ctr(*run_args, "--rm", IMAGE, cid, "sh", "-c",
               "echo via-gkrun; cat /sys/class/net/lo/flags")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["via-gkrun", "0x9"]
    cid = "gk-cri-" + uuid.uuid4().hex[:8]
    cd.ids.add(cid)
    cd.ctr(*run_args, "-d", IMAGE, cid, "sleep", "1000", check=True)
    assert cid in runtime_ids("gkrun", os.path.join(opts["Root"], cd.ns))
    cd.ctr("task", "kill", "-s", "SIGKILL", cid, check=True)
    wait_for(lambda: cd.ctr("task", "rm", cid).returncode == 0, what="the task to go")
    cd.ctr("containers", "rm", cid, check=True)
    assert cid not in runtime_ids("gkrun", os.path.join(opts["Root"], cd.ns))
