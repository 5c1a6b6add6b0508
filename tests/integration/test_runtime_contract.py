"""What orchestrators rely on from the runtime's command line, checked
against runc (the reference) and gkrun side by side: NOTIFY_SOCKET, exit
codes and messages of delete/kill that shims parse, the pid file and the
state of a container whose process has died, device fileModes as podman
writes them, the loopback device of a new network namespace."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import base_config
from orch import LOOPBACK_SCRIPT, RuntimeUnderTest, run, runtime_fixture, wait_for


class Runtime(RuntimeUnderTest):
    id_prefix = "gkc-"

    def bundle(self, args, edit=None):
        """A bundle of the shared rootfs; EDIT(config) may change its config."""
        path = tempfile.mkdtemp(dir=self.workdir, prefix="bundle-")
        cfg = base_config(args, self.rootfs)
        if edit:
            edit(cfg)
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f)
        return path


rt = runtime_fixture(Runtime, "gk-contract-")


class NotifyReceiver:
    """The caller's NOTIFY_SOCKET, read as systemd reads it: at once, in the
    background, answering BARRIER=1 by closing the pipe it carries."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, 4096, 4)
            except socket.timeout:
                continue
            except OSError:
                return
            for fd in fds:
                os.close(fd)
            self.messages.append(data.decode())

    def receive(self, want, timeout=20):
        wait_for(lambda: any(want in m for m in self.messages), timeout=timeout,
                 what="%r on NOTIFY_SOCKET" % want)
        return "".join(self.messages)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def notify(tmp_path):
    r = NotifyReceiver(str(tmp_path / "host-notify.sock"))
    yield r
    r.close()


# Reports the env it got, then READY=1 after a moment, then lives on.
NOTIFY_SCRIPT = ("echo $NOTIFY_SOCKET > /dev/shm/env; sleep 1; "
                 "gk-probe notify READY=1 > /dev/shm/sent; sleep 1000")


def test_notify_socket_create_start(rt, notify):
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    cid = rt.new_id()
    rt("create", "--bundle", rt.bundle(["sh", "-c", NOTIFY_SCRIPT]), cid, env=env, check=True)
    t = time.time()
    p = rt("start", cid, env=env)
    assert p.returncode == 0, p.stderr
    # start returns once the container said READY (after its sleep 1).
    assert time.time() - t >= 0.9
    got = notify.receive("MAINPID=")
    assert "READY=1" in got
    assert "MAINPID=%d" % rt.state(cid)["pid"] in got
    p = rt("exec", cid, "cat", "/dev/shm/env", "/dev/shm/sent")
    assert p.stdout.split() == ["/run/notify/notify.sock", "ok"]


def test_notify_socket_run_detached(rt, notify):
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    cid = rt.new_id()
    p = rt("run", "-d", "--bundle", rt.bundle(["sh", "-c", NOTIFY_SCRIPT]), cid, env=env)
    assert p.returncode == 0, p.stderr
    got = notify.receive("MAINPID=")
    assert "READY=1" in got and "MAINPID=%d" % rt.state(cid)["pid"] in got


def test_notify_socket_run_foreground(rt, notify):
    if rt.name == "runc":
        pytest.skip("runc 1.1 waits for READY=1 forever in the foreground")
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    cid = rt.new_id()
    p = rt("run", "--bundle", rt.bundle(["sh", "-c", "gk-probe notify READY=1; sleep 0.5"]),
           cid, env=env)
    assert p.returncode == 0, p.stderr
    # gkrun is the main process here: systemd watches it, not the container.
    got = notify.receive("MAINPID=")
    assert "READY=1" in got


def test_without_notify_socket_nothing_is_mounted(rt):
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    cid = rt.new_id()
    p = rt("run", "--bundle", rt.bundle(["sh", "-c", "grep -c /run/notify /proc/self/mountinfo; "
                                         "echo ${NOTIFY_SOCKET:-unset}"]), cid, env=env)
    assert p.stdout.split() == ["0", "unset"]


def test_delete_force_of_a_missing_container_succeeds(rt):
    """podman cleans up after a failed create with `delete --force`."""
    p = rt("delete", "--force", "nosuch-" + uuid.uuid4().hex[:6])
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    p = rt("delete", "nosuch")
    assert p.returncode != 0 and "does not exist" in p.stderr


def test_kill_and_state_of_a_container_whose_process_died(rt):
    cid = rt.new_id()
    rt("run", "-d", "--bundle", rt.bundle(["sleep", "1000"]), cid, check=True)
    pid = rt.state(cid)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: rt.state(cid)["status"] == "stopped", what="stopped state")
    # containerd's shim treats "container not running" on kill as not-found.
    p = rt("kill", cid, "KILL")
    assert p.returncode != 0 and "container not running" in p.stderr, p.stderr
    p = rt("delete", cid)
    assert p.returncode == 0, p.stderr
    assert rt("state", cid).returncode != 0


def test_pid_file_is_written_before_create_returns(rt):
    cid = rt.new_id()
    pid_file = os.path.join(rt.workdir, "init.pid")
    rt("create", "--bundle", rt.bundle(["true"]), "--pid-file", pid_file, cid, check=True)
    with open(pid_file) as f:
        assert int(f.read()) == rt.state(cid)["pid"]
    assert rt.state(cid)["status"] == "created"


def test_kill_of_a_paused_container_completes(rt):
    """SIGKILL thaws a paused container (the kill then actually happens)."""
    cid = rt.new_id()
    rt("run", "-d", "--bundle", rt.bundle(["sleep", "1000"]), cid, check=True)
    rt("pause", cid, check=True)
    assert rt.state(cid)["status"] == "paused"
    rt("kill", cid, "KILL", check=True)
    wait_for(lambda: rt.state(cid)["status"] == "stopped", what="the paused container to die")


def test_version_lines(rt):
    p = rt("--version")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].startswith(rt.name + " version ")
    assert any(l.startswith("spec: 1.") for l in lines)


def test_update_resources_from_stdin(rt):
    """containerd's shim sends `update --resources -` with the
    LinuxResources JSON on stdin."""
    cid = rt.new_id()
    rt("run", "-d", "--bundle", rt.bundle(["sleep", "1000"]), cid, check=True)
    pid = rt.state(cid)["pid"]
    p = run([rt.path, "--root", rt.root, "update", "--resources", "-", cid],
            input=json.dumps({"memory": {"limit": 67108864}, "pids": {"limit": 33}}))
    assert p.returncode == 0, p.stderr
    with open("/proc/%d/cgroup" % pid) as f:
        paths = dict((l.split(":")[1], l.strip().split(":", 2)[2]) for l in f)
    if "memory" in paths:  # cgroup v1
        with open("/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % paths["memory"]) as f:
            assert f.read().strip() == "67108864"
        with open("/sys/fs/cgroup/pids%s/pids.max" % paths["pids"]) as f:
            assert f.read().strip() == "33"
    else:
        with open("/sys/fs/cgroup%s/memory.max" % paths[""]) as f:
            assert f.read().strip() == "67108864"


def test_device_file_mode_with_file_type_bits(rt):
    """podman --device and --privileged write fileMode with the file-type
    bits (8630 = 020666): the permission bits are what the node gets."""
    def edit(cfg):
        cfg["linux"]["devices"] = [
            {"path": "/dev/gkzero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o20666,
             "uid": 0, "gid": 0},
            {"path": "/dev/gknull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o20640,
             "uid": 0, "gid": 0}]
    cid = rt.new_id()
    p = rt("run", "--bundle", rt.bundle(["stat", "-c", "%n %a %F %t:%T", "/dev/gkzero",
                                         "/dev/gknull"], edit), cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["/dev/gkzero 666 character special file 1:5",
                                     "/dev/gknull 640 character special file 1:3"]


def test_loopback_is_up_in_a_new_network_namespace(rt):
    cid = rt.new_id()
    p = rt("run", "--bundle", rt.bundle(["sh", "-c", LOOPBACK_SCRIPT]), cid)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0x9", "over-lo"], p.stdout + p.stderr


def test_a_joined_network_namespace_is_left_as_it_is(rt):
    """A namespace given by path is the caller's: its lo stays down."""
    holder = subprocess.Popen(["unshare", "-n", "sleep", "1000"])
    try:
        ns = "/proc/%d/ns/net" % holder.pid
        wait_for(lambda: os.readlink(ns) != os.readlink("/proc/self/ns/net"),
                 what="the new network namespace")

        def edit(cfg):
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                          if n["type"] != "network"]
            cfg["linux"]["namespaces"].append({"type": "network", "path": ns})
        cid = rt.new_id()
        p = rt("run", "--bundle", rt.bundle(["cat", "/sys/class/net/lo/flags"], edit), cid)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split() == ["0x8"]  # IFF_LOOPBACK alone: down
    finally:
        holder.kill()
        holder.wait()
