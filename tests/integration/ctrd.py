"""A private containerd for the tests (test_containerd.py, test_cri.py).

Each containerd runs from a complete config written by the test (every path
made private: no file of the host's is read): root, state, sockets and the
runtime's --root under one /tmp/gk-ctrd-* directory.  Its containers'
cgroups go under a parent of ours.  The shim keeps its sockets under
/run/containerd/s whatever containerd's root is: teardown removes the ones
that appeared during the session (and /run/containerd itself if we made it).
"""
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import tomllib
import uuid

import pytest

from orch import (IMAGE, build_docker_archive, build_rootfs_tar, mounts_matching,
                  remove_cgroup_tree, run, toml_dumps, toml_merge, wait_for)

RUN_CONTAINERD = "/run/containerd"
# Snapshotters that cannot work here (or need a config of their own) and the
# restart monitor, which would act on its own: left out, to keep the log quiet.
QUIET = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
         "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
         "io.containerd.internal.v1.restart", "io.containerd.tracing.processor.v1.otlp"]
CRI = "io.containerd.grpc.v1.cri"


def default_config():
    """containerd's own defaults, complete (`containerd config default`
    reads no file)."""
    p = run(["containerd", "config", "default"], check=True)
    return tomllib.loads(p.stdout)


def private_settings(d):
    """Every path of a containerd config that would otherwise be shared with
    the host's containerd, under D: root, state, sockets, opt, the CRI
    plugin's CNI directories."""
    return {
        "root": d + "/root", "state": d + "/state",
        "grpc": {"address": d + "/containerd.sock"},
        "ttrpc": {"address": d + "/containerd.sock.ttrpc"},
        "plugins": {"io.containerd.internal.v1.opt": {"path": d + "/opt"},
                    CRI: {"cni": {"conf_dir": d + "/cni/net.d", "bin_dir": d + "/cni/bin"}}},
    }


def list_dir(path):
    try:
        return set(os.listdir(path))
    except FileNotFoundError:
        return set()


class Containerd:
    """A private containerd; `ctr` against it in our own namespace."""

    def __init__(self, workdir, config=None, ns=None, cgroup_parent=None, netns=False):
        """CONFIG: a config (as a dict) to run with, its paths made private;
        by default containerd's defaults without the CRI plugin.  NS: the
        containerd namespace `ctr` works in (the CRI plugin's is always
        "k8s.io"); CGROUP_PARENT: where its containers' cgroups go, which
        teardown removes (by default named after the namespace).  NETNS: run
        containerd in a network namespace of its own (lo up), so that what a
        CNI plugin makes on "the host" side is made there and goes with it."""
        self.dir = workdir
        self.sock = os.path.join(workdir, "containerd.sock")
        # containerd namespaces are alphanumerics joined by single [._-]:
        # mkdtemp's suffix may put "_" right after the prefix's "-".
        self.ns = ns or "gk-ctrd-" + uuid.uuid4().hex[:12]
        self.cgroup_parent = cgroup_parent or self.ns
        self.netns = netns
        self.fifo_dir = os.path.join(workdir, "fifo")
        os.makedirs(self.fifo_dir)
        self.ids = set()  # every container (and sandbox) id used, for the shim sockets
        if config is None:
            config = default_config()
            config["disabled_plugins"] = [CRI]
        toml_merge(config, private_settings(workdir))
        config["disabled_plugins"] = config.get("disabled_plugins", []) + QUIET
        os.makedirs(os.path.join(workdir, "cni", "net.d"), exist_ok=True)
        self.config = os.path.join(workdir, "config.toml")
        with open(self.config, "w") as f:
            f.write(toml_dumps(config))
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "containerd.log"), "w")
        argv = ["containerd", "--config", self.config]
        if self.netns:
            # unshare execs the shell, which execs containerd: our child's
            # pid stays containerd's.
            argv = ["unshare", "--net", "--", "sh", "-c",
                    'ip link set lo up && exec "$@"', "sh"] + argv
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
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
        containerd's address joined with the namespace and the container id
        (the sandbox's id, for the containers of a pod)."""
        return {hashlib.sha256(os.path.join(self.sock, self.ns, cid).encode()).hexdigest()
                for cid in self.ids}

    def remove_everything(self):
        for cid in self.ctr("containers", "ls", "-q").stdout.split():
            self.ctr("task", "kill", "-s", "SIGKILL", cid, timeout=30)
            self.ctr("task", "rm", "-f", cid, timeout=30)
            self.ctr("containers", "rm", cid, timeout=30)


def private_containerd(tmp_path_factory, config=None, images=None, **kw):
    """A started private containerd (see Containerd for CONFIG and KW),
    stopped and removed with all it made when the caller is done.  IMAGES(cd,
    dir) imports the images the tests need; by default our busybox IMAGE."""
    if os.geteuid() != 0:
        pytest.skip("containerd tests run real containers and need root")
    for prog in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if not shutil.which(prog):
            pytest.skip("%s is not installed (contrib/install-deps.sh --test)" % prog)
    had_run_dir = os.path.exists(RUN_CONTAINERD)
    shims_before = list_dir(os.path.join(RUN_CONTAINERD, "s"))
    workdir = tempfile.mkdtemp(prefix="gk-ctrd-")
    os.chmod(workdir, 0o755)
    cd = None
    try:
        cd = Containerd(workdir, config(workdir) if config else None, **kw)
        cd.start()
        imgdir = str(tmp_path_factory.mktemp("gk-ctrd-image"))
        (images or import_busybox)(cd, imgdir)
        yield cd
    finally:
        if cd:
            stop_and_clean(cd, had_run_dir, shims_before)
        shutil.rmtree(workdir, ignore_errors=True)


def import_busybox(cd, imgdir):
    archive = build_docker_archive(build_rootfs_tar(imgdir), os.path.join(imgdir, "image.tar"))
    cd.ctr("images", "import", archive, check=True, timeout=120)


def quietly(fn, *args):
    try:
        fn(*args)
    except Exception:  # teardown goes on: every later step still runs
        pass


def stop_and_clean(cd, had_run_dir, shims_before):
    # A frozen task would never die: thaw everything under our parent.
    quietly(thaw_tree, cd.cgroup_parent)
    if cd.proc:
        quietly(cd.remove_everything)
        quietly(cd.ctr, "images", "rm", IMAGE)
        quietly(cd.stop)
    for pid in cd.shim_pids():
        quietly(os.kill, pid, signal.SIGKILL)
    for line in reversed(mounts_matching(cd.dir)):
        quietly(run, ["umount", "-l", line.split()[4]])
    quietly(remove_cgroup_tree, cd.cgroup_parent)
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
