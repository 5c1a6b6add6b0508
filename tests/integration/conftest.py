"""Shared fixtures for gk's integration tests.

Tests run the real binaries as a user would and assert on what a user
observes.  Every test gets its own gkrun --root (so tests never see each
other's containers) and its teardown removes every container it made, even
when the test failed: `gkrun delete --force`, then, if gkrun itself is
broken, a kill by PID and an rmdir of the cgroups it created.
"""
import json
import os
import signal
import subprocess
import shutil
import tempfile
import time
import uuid

import pytest

# Test files import these from here or from gkcli: one definition.
from gkcli import BUILD, CGROUP_ROOT, GKIMG, GKRUN, PROBE, REPO, run  # noqa: F401

DEFAULT_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]

# Every capability up to Linux 4.x's last (what runc 1.1 knows), and those
# Linux 5.8/5.9 added.
ALL_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
]
ALL_CAPS_5_9 = ALL_CAPS + ["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]

def pytest_configure(config):
    config.addinivalue_line("markers", "cgroup: cgroup tests, also run in the cgroup-v2 VM")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "numa: needs two NUMA nodes, also run in a two-node VM")
    config.addinivalue_line("markers", "criu: checkpoint/restore, run in the cgroup-v2 VM")


def base_config(args=None, rootfs="rootfs", terminal=False):
    """A config.json like `runc spec`'s, as a dict tests can change."""
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": terminal,
            "user": {"uid": 0, "gid": 0},
            "args": list(args or ["/bin/true"]),
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: list(DEFAULT_CAPS) for k in
                             ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": True},
        "hostname": "gktest",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666",
                         "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=1777"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in
                           ("pid", "network", "ipc", "uts", "mount")],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                            "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                            "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                              "/proc/sysrq-trigger"],
        },
    }


@pytest.fixture(scope="session")
def rootfs(tmp_path_factory):
    """A busybox rootfs with gk-probe in /bin, built once per session.
    Shared: bundles mount it read-only unless they ask for a copy."""
    path = tmp_path_factory.mktemp("gk-rootfs") / "rootfs"
    subprocess.run([os.path.join(REPO, "bundle-spec", "mkrootfs.sh"), str(path), PROBE],
                   check=True)
    return str(path)


class Bundle:
    def __init__(self, path, config):
        self.path = path
        self.config = config

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config["linux"]

    def write(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2)
        return self.path


class Gk:
    """One test's gkrun: its own --root, its containers removed at the end."""

    def __init__(self, workdir, rootfs):
        self.workdir = workdir
        self.root = os.path.join(workdir, "state")
        self.rootfs_src = rootfs
        self.ids = []
        self.nbundles = 0

    def new_id(self):
        cid = "gkt-" + uuid.uuid4().hex[:10]
        self.ids.append(cid)
        return cid

    def bundle(self, args=None, copy_rootfs=False, **kw):
        """A bundle directory whose config.json is written by .write() (or
        by run/create, which write it)."""
        self.nbundles += 1
        path = os.path.join(self.workdir, "bundle%d" % self.nbundles)
        os.makedirs(path)
        if copy_rootfs:
            shutil.copytree(self.rootfs_src, os.path.join(path, "rootfs"), symlinks=True)
            cfg = base_config(args, "rootfs", **kw)
            cfg["root"]["readonly"] = False
        else:
            cfg = base_config(args, self.rootfs_src, **kw)
        return Bundle(path, cfg)

    def gkrun(self, *args, binary=GKRUN, root=True, **kw):
        """BINARY (gkrun) --root of this test ARGS, through gkcli.run (check,
        input, timeout, env and subprocess's own keywords); stdin is the
        test's unless INPUT is given."""
        kw.setdefault("stdin", None)
        return run([binary] + (["--root", self.root] if root else []) + list(args), **kw)

    def run(self, bundle, *extra, cid=None, **kw):
        """gkrun run of a bundle in the foreground; returns CompletedProcess."""
        bundle.write()
        cid = cid or self.new_id()
        return self.gkrun("run", "--bundle", bundle.path, *extra, cid, **kw)

    def create(self, bundle, *extra, cid=None, check=True, **kw):
        bundle.write()
        cid = cid or self.new_id()
        self.gkrun("create", "--bundle", bundle.path, *extra, cid, check=check, **kw)
        return cid

    def state(self, cid):
        p = self.gkrun("state", cid, check=True)
        return json.loads(p.stdout)

    def cleanup(self):
        for cid in self.ids:
            try:
                self.gkrun("delete", "--force", cid, timeout=30)
            except Exception:
                pass
            kill_leftover(self.root, cid)
        shutil.rmtree(self.workdir, ignore_errors=True)


def cgroup_dirs(cid):
    """Every cgroup directory named after the container, on every hierarchy."""
    found = []
    for hier in os.listdir(CGROUP_ROOT) if os.path.isdir(CGROUP_ROOT) else []:
        base = os.path.join(CGROUP_ROOT, hier)
        for rel in ("gkrun/" + cid, cid):
            d = os.path.join(base, rel)
            if os.path.isdir(d):
                found.append(d)
    for rel in ("gkrun/" + cid, cid):  # pure v2: the root is the hierarchy
        d = os.path.join(CGROUP_ROOT, rel)
        if os.path.isdir(d) and os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
            found.append(d)
    return found


def kill_leftover(root, cid):
    """Last resort when gkrun could not delete: kill by PID, rmdir cgroups."""
    try:
        with open(os.path.join(root, cid, "state.json")) as f:
            pid = json.load(f).get("pid")
        if pid:
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass
    for d in cgroup_dirs(cid):
        for _ in range(50):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)


@pytest.fixture
def root():
    """An empty directory for a gkimg --root, removed at the end."""
    d = tempfile.mkdtemp(prefix="gk-store-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def gk(rootfs):
    if os.geteuid() != 0:
        pytest.skip("integration tests run real containers and need root")
    workdir = tempfile.mkdtemp(prefix="gk-test-")
    os.chmod(workdir, 0o755)  # a container's root in a user namespace must reach its bundle
    g = Gk(workdir, rootfs)
    yield g
    g.cleanup()
