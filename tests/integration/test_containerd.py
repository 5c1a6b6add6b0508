"""gkrun under containerd's runc shim (io.containerd.runc.v2 with
--runc-binary): the same scenarios against runc and gkrun.

The tests start a containerd of their own: root, state, sockets and the
runtime's --root under one /tmp/gk-ctrd-* directory, a namespace (and so a
cgroup parent) named after it.  The shim keeps its sockets under
/run/containerd/s whatever containerd's root is: teardown removes the ones
that appeared during the session (and /run/containerd itself if we made it).
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import GKRUN
from orch import (IMAGE, build_docker_archive, build_rootfs_tar, cgroup_children,
                  mounts_matching, remove_cgroup_tree, run, run_pty, runtime_ids,
                  runtime_path, wait_for)

pytestmark = pytest.mark.slow

RUN_CONTAINERD = "/run/containerd"
CONFIG = """\
version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.restart",
                    "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{d}/containerd.sock"
[ttrpc]
  address = "{d}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"
"""


def list_dir(path):
    try:
        return set(os.listdir(path))
    except FileNotFoundError:
        return set()


class Containerd:
    """A private containerd; `ctr` against it in our own namespace."""

    def __init__(self, workdir):
        self.dir = workdir
        self.sock = os.path.join(workdir, "containerd.sock")
        # containerd namespaces are alphanumerics joined by single [._-]:
        # mkdtemp's suffix may put "_" right after the prefix's "-".
        self.ns = "gk-ctrd-" + uuid.uuid4().hex[:12]
        self.fifo_dir = os.path.join(workdir, "fifo")
        os.makedirs(self.fifo_dir)
        self.ids = set()  # every container id used, for the shim sockets
        self.config = os.path.join(workdir, "config.toml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(d=workdir))
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", self.config],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: os.path.exists(self.sock) and
                     self.ctr("version").returncode == 0, timeout=30, what="containerd")
        except AssertionError:
            self.stop()
            with open(os.path.join(self.dir, "containerd.log")) as f:
                pytest.skip("containerd does not start here: " + f.read()[-500:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def ctr(self, *args, timeout=90, **kw):
        return run(["ctr", "-a", self.sock, "-n", self.ns] + [str(a) for a in args],
                   timeout=timeout, **kw)

    def shim_pids(self):
        """The shims our containerd started: their command line names our socket."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and \
                    self.sock.encode() in argv:
                pids.append(int(entry))
        return pids

    def shim_socket_names(self):
        """The shim names its socket /run/containerd/s/HEX, HEX the sha256 of
        containerd's address joined with the namespace and the container id."""
        return {hashlib.sha256(os.path.join(self.sock, self.ns, cid).encode()).hexdigest()
                for cid in self.ids}

    def remove_everything(self):
        for cid in self.ctr("containers", "ls", "-q").stdout.split():
            self.ctr("task", "kill", "-s", "SIGKILL", cid, timeout=30)
            self.ctr("task", "rm", "-f", cid, timeout=30)
            self.ctr("containers", "rm", cid, timeout=30)


class Ctr:
    """`ctr run --runtime io.containerd.runc.v2 --runc-binary RUNTIME` for one test."""

    def __init__(self, cd, runtime):
        self.cd = cd
        self.runtime = runtime
        self.runc_root = os.path.join(cd.dir, "runc-" + runtime)
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
                "--runc-binary", runtime_path(self.runtime), "--runc-root", self.runc_root,
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
    if os.geteuid() != 0:
        pytest.skip("containerd tests run real containers and need root")
    for prog in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if not shutil.which(prog):
            pytest.skip("%s is not installed (contrib/install-deps.sh --test)" % prog)
    had_run_dir = os.path.exists(RUN_CONTAINERD)
    shims_before = list_dir(os.path.join(RUN_CONTAINERD, "s"))
    workdir = tempfile.mkdtemp(prefix="gk-ctrd-")
    os.chmod(workdir, 0o755)
    cd = Containerd(workdir)
    try:
        cd.start()
        imgdir = str(tmp_path_factory.mktemp("gk-ctrd-image"))
        archive = build_docker_archive(build_rootfs_tar(imgdir), os.path.join(imgdir, "image.tar"))
        cd.ctr("images", "import", archive, check=True, timeout=120)
        yield cd
    finally:
        stop_and_clean(cd, had_run_dir, shims_before)


def quietly(fn, *args):
    try:
        fn(*args)
    except Exception:  # teardown goes on: every later step still runs
        pass


def stop_and_clean(cd, had_run_dir, shims_before):
    # A frozen task would never die: thaw everything under our namespace.
    quietly(thaw_tree, cd.ns)
    if cd.proc:
        quietly(cd.remove_everything)
        quietly(cd.ctr, "images", "rm", IMAGE)
        quietly(cd.stop)
    for pid in cd.shim_pids():
        quietly(os.kill, pid, signal.SIGKILL)
    for line in reversed(mounts_matching(cd.dir)):
        quietly(run, ["umount", "-l", line.split()[4]])
    quietly(remove_cgroup_tree, cd.ns)
    # Only our shims' sockets: another containerd may be using the others.
    shim_dir = os.path.join(RUN_CONTAINERD, "s")
    for name in (list_dir(shim_dir) - shims_before) & cd.shim_socket_names():
        quietly(os.unlink, os.path.join(shim_dir, name))
    if not had_run_dir:
        for sub in ("s", "fifo", "runc", ""):
            quietly(os.rmdir, os.path.join(RUN_CONTAINERD, sub))
    shutil.rmtree(cd.dir, ignore_errors=True)


def thaw_tree(parent):
    top = "/sys/fs/cgroup/freezer/" + parent
    for dirpath, _, files in os.walk(top):
        if "freezer.state" in files:
            quietly(write_file, os.path.join(dirpath, "freezer.state"), "THAWED")


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


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


def freezer_state(pid):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrl, path = line.strip().split(":", 2)
            if "freezer" in ctrl.split(","):
                with open("/sys/fs/cgroup/freezer%s/freezer.state" % path) as g:
                    return g.read().strip()
    return None


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
