"""Behaviour the OCI runtime validation suite checks (tests/conformance),
kept here as fast regression tests: rootfsPropagation "shared", and
poststart/poststop hooks whose failure is only a warning, the status
prestart hooks see, containers without a mount namespace, the seccomp
notify listener."""
import errno
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import threading

import pytest

from conftest import GKRUN


def hooks_with_failing_first(log, kind):
    """A failing hook, then one that records that it ran."""
    return {kind: [{"path": "/bin/false", "args": ["false"]},
                   {"path": "/bin/sh", "args": ["sh", "-c", "echo ran >> %s" % log]}]}


def test_rootfs_propagation_shared(gk):
    b = gk.bundle(["/bin/sh", "-c", "awk '$5 == \"/\"' /proc/self/mountinfo"])
    b.linux["rootfsPropagation"] = "shared"
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert "shared:" in p.stdout


def test_failing_poststart_hook_warns_and_later_hooks_run(gk, tmp_path):
    log = tmp_path / "poststart.log"
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststart")
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert "warning: poststart hook #0 `/bin/false`: exit status 1" in p.stderr
    assert log.read_text() == "ran\n"


def test_failing_poststart_hook_does_not_fail_start(gk, tmp_path):
    log = tmp_path / "poststart.log"
    b = gk.bundle(["/bin/sleep", "100"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststart")
    cid = gk.create(b)
    p = gk.gkrun("start", cid)
    assert p.returncode == 0, p.stderr
    assert "warning: poststart hook #0" in p.stderr
    assert gk.state(cid)["status"] == "running"
    assert log.read_text() == "ran\n"


def test_failing_poststop_hook_warns_and_later_hooks_run(gk, tmp_path):
    log = tmp_path / "poststop.log"
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststop")
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    gk.gkrun("kill", cid, "KILL")
    p = gk.gkrun("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    assert "warning: poststop hook #0" in p.stderr
    assert log.read_text() == "ran\n"


def hooks_saving_stdin(tmp_path, kinds):
    return {k: [{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s" % (tmp_path / k)]}]
            for k in kinds}


def test_prestart_hook_sees_created_create_runtime_creating(gk, tmp_path):
    """Prestart hooks get status "created" (as crun, and as the validation
    suite's hooks_stdin wants); createRuntime keeps "creating"."""
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_saving_stdin(tmp_path, ["prestart", "createRuntime"])
    cid = gk.create(b)
    pid = gk.state(cid)["pid"]
    pre = json.loads((tmp_path / "prestart").read_text())
    assert (pre["status"], pre["id"], pre["pid"]) == ("created", cid, pid)
    assert pre["bundle"] == b.path
    assert json.loads((tmp_path / "createRuntime").read_text())["status"] == "creating"


def test_prestart_hook_sees_created_in_run_mode(gk, tmp_path):
    """run has no exec fifo: the status must still be "created", not a
    derived "running"."""
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_saving_stdin(tmp_path, ["prestart", "createRuntime"])
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "prestart").read_text())["status"] == "created"
    assert json.loads((tmp_path / "createRuntime").read_text())["status"] == "creating"


# A container without a mount namespace mounts in its caller's namespace:
# these tests run gkrun only inside a throwaway one (`unshare -m`), so a bug
# cannot leave mounts on the host.  Made shared inside (fresh peer groups of
# its own, none with the host): delete must also remove the copies that
# propagate under a shared parent, and / must stay shared, not become a
# slave.
IN_THROWAWAY_NS = """
mount --make-rshared /
show() { echo "$1=$2"; }
under_bundle() { awk -v b="$B" 'index($5, b) == 1' /proc/self/mountinfo | wc -l; }
G="$GKRUN --root $ROOT"
"""


def run_in_throwaway_mount_ns(gk, b, cid, script):
    b.write()
    env = dict(os.environ, GKRUN=GKRUN, ROOT=gk.root, B=b.path, ID=cid)
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        IN_THROWAWAY_NS + script],
                       env=env, capture_output=True, text=True, timeout=120)
    vals = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    return p, vals


def no_mount_ns_bundle(gk, args):
    b = gk.bundle(args, copy_rootfs=True)
    b.linux["namespaces"] = []
    del b.config["hostname"]
    with open(os.path.join(b.path, "rootfs", "gk-marker"), "w") as f:
        f.write("in the container's root\n")
    return b


def test_no_mount_namespace_shares_the_callers(gk):
    """No linux.namespaces at all (the suite's linux_ns_itype): the
    container is in its caller's mount namespace, chrooted in its rootfs,
    with masks and read-only paths; delete leaves no mount behind."""
    b = no_mount_ns_bundle(gk, ["/bin/sh", "-c",
                                "echo inside=$(readlink /proc/self/ns/mnt); "
                                "cat /gk-marker; cat /proc/kcore | wc -c; "
                                "echo x > /proc/sys/kernel/hostname 2>/dev/null || echo ro=yes"])
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
show caller "$(readlink /proc/self/ns/mnt)"
show root_before "$(awk '$5 == "/"' /proc/self/mountinfo | cut -d' ' -f7-)"
$G run --bundle "$B" "$ID"
show rc $?
show left "$(under_bundle)"
show root_after "$(awk '$5 == "/"' /proc/self/mountinfo | cut -d' ' -f7-)"
""")
    assert v.get("rc") == "0", p.stdout + p.stderr
    assert v["inside"] == v["caller"]
    assert "in the container's root" in p.stdout
    assert "\n0\n" in p.stdout, "/proc/kcore must be masked"
    assert v.get("ro") == "yes", "/proc/sys must be read-only"
    assert v["left"] == "0", "mounts left under the bundle"
    assert v["root_after"] == v["root_before"] and "shared:" in v["root_after"]


def test_no_mount_namespace_create_exec_delete(gk):
    """create, exec (chrooted like the init), delete --force of a running
    container: the mounts exist while it lives and are gone after."""
    b = no_mount_ns_bundle(gk, ["/bin/sleep", "100"])
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
$G create --bundle "$B" "$ID" || exit 1
pid=$($G state "$ID" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
show ctr "$(readlink /proc/$pid/ns/mnt)"
show caller "$(readlink /proc/self/ns/mnt)"
show during "$(under_bundle)"
$G start "$ID"
show exec "$($G exec "$ID" cat /gk-marker)"
$G delete --force "$ID"
show rc $?
show left "$(under_bundle)"
""")
    assert v.get("rc") == "0", p.stdout + p.stderr
    assert v["ctr"] == v["caller"]
    assert int(v["during"]) > 3, p.stdout
    assert v["exec"] == "in the container's root"
    assert v["left"] == "0", "mounts left under the bundle"


def test_no_mount_namespace_with_host_root_is_refused(gk):
    """root.path "/" without a mount namespace would put the config's
    mounts on the caller's own tree."""
    b = no_mount_ns_bundle(gk, ["/bin/true"])
    b.config["root"] = {"path": "/", "readonly": False}
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
$G run --bundle "$B" "$ID"
show rc $?
""")
    assert v.get("rc") not in (None, "0")
    assert "config.json: root.path: `/` needs a mount namespace" in p.stderr


def test_no_mount_namespace_failed_create_leaves_no_mount(gk):
    b = no_mount_ns_bundle(gk, ["/bin/nosuch"])
    b.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs"})
    b.config["hooks"] = {"createContainer": [{"path": "/bin/false"}]}
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
$G create --bundle "$B" "$ID"
show rc $?
show left "$(under_bundle)"
""")
    assert v.get("rc") not in (None, "0"), p.stdout + p.stderr
    assert "createContainer hook" in p.stderr
    assert v["left"] == "0", "mounts left under the bundle"


# struct seccomp_notif (80 bytes) and seccomp_notif_resp (24 bytes) of
# <linux/seccomp.h>; ioctls _IOWR('!', 0 / 1, ...).
NOTIF_RECV = 0xC0000000 | (80 << 16) | (ord("!") << 8) | 0
NOTIF_SEND = 0xC0000000 | (24 << 16) | (ord("!") << 8) | 1


class SeccompListener:
    """A listenerPath server: takes the message gkrun sends on each
    connection (state JSON + notify fd) and answers every notification on
    those fds with ERRNO."""

    def __init__(self, path, answer_errno):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.errno = answer_errno
        self.states, self.nfds, self.handled = [], [], []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.accept_loop, daemon=True)]
        self.threads[0].start()

    @property
    def state(self):
        return self.states[0] if self.states else None

    def accept_loop(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self.serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def serve(self, conn):
        with conn:
            conn.settimeout(30)
            try:
                msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            except OSError:
                return
            if not fds:
                return
            self.states.append(json.loads(msg))
            self.nfds.append(len(fds))
            try:
                self.answer(fds[0])
            finally:
                for fd in fds:
                    os.close(fd)

    def answer(self, nfd):
        while not self.stop.is_set():
            r, _, _ = select.select([nfd], [], [], 0.1)
            if not r:
                continue
            req = bytearray(80)
            try:
                fcntl.ioctl(nfd, NOTIF_RECV, req, True)
            except OSError:
                return  # the filter's last process is gone
            nid, pid, _, nr = struct.unpack_from("=QIIi", req)
            self.handled.append((nr, pid))
            resp = bytearray(struct.pack("=QqiI", nid, 0, -self.errno, 0))
            try:
                fcntl.ioctl(nfd, NOTIF_SEND, resp, True)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        for t in list(self.threads):
            t.join(10)
        self.sock.close()


@pytest.mark.parametrize("nnp", [True, False])
def test_seccomp_notify_fd_goes_to_listener(gk, tmp_path, nnp):
    """SCMP_ACT_NOTIFY on mkdir with a listenerPath: the listener gets the
    container process state and the notify fd, and its answer (an errno of
    its choice) is what mkdir in the container returns."""
    path = tmp_path / "listener.sock"
    listener = SeccompListener(path, errno.ENOTUNIQ)
    try:
        b = gk.bundle(["/bin/sh", "-c", "exec mkdir /tmp/x"])
        b.process["noNewPrivileges"] = nnp
        b.linux["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": str(path),
            "listenerMetadata": "gk-test-meta",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
        }
        b.config["annotations"] = {"org.gk.test": "yes"}
        cid = gk.new_id()
        p = gk.run(b, cid=cid)
    finally:
        listener.close()
    assert p.returncode == 1, p.stdout + p.stderr
    assert os.strerror(errno.ENOTUNIQ) in p.stderr
    assert listener.handled, "no notification reached the listener"
    st = listener.state
    assert listener.nfds == [1]
    assert st["fds"] == ["seccompFd"] and st["metadata"] == "gk-test-meta"
    # the container's pid 1 made the call: its pid as the host sees it
    assert st["pid"] == st["state"]["pid"] == listener.handled[0][1]
    assert (st["state"]["id"], st["state"]["bundle"]) == (cid, b.path)
    assert st["state"]["annotations"] == {"org.gk.test": "yes"}
    assert st["ociVersion"] and st["state"]["status"] in ("creating", "running")


def test_seccomp_listener_unreachable_fails_create(gk, tmp_path):
    b = gk.bundle(["/bin/true"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "none.sock"),
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    p = gk.run(b)
    assert p.returncode != 0
    assert "listenerPath: connect to `%s`" % (tmp_path / "none.sock") in p.stderr


def test_seccomp_notify_fd_of_exec_goes_to_listener(gk, tmp_path):
    """gkrun exec loads the container's filter too: its notify fd reaches
    the listener with the exec'd process's pid and the init's."""
    path = tmp_path / "listener.sock"
    listener = SeccompListener(path, errno.ENOTUNIQ)
    try:
        b = gk.bundle(["/bin/sleep", "100"])
        b.linux["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(path),
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
        cid = gk.create(b)
        gk.gkrun("start", cid, check=True)
        init = gk.state(cid)["pid"]
        p = gk.gkrun("exec", cid, "mkdir", "/tmp/y")
        gk.gkrun("delete", "--force", cid)
    finally:
        listener.close()
    assert p.returncode == 1 and os.strerror(errno.ENOTUNIQ) in p.stderr, p.stderr
    assert len(listener.states) == 2, listener.states
    ex = listener.states[1]
    assert ex["state"]["pid"] == init and ex["pid"] not in (0, init)
    assert ex["pid"] == listener.handled[-1][1]


def test_start_returns_after_the_process_exec(gk):
    """`gkrun start` returns once the container's process has replaced the
    init: a signal sent right after start reaches the program and its
    handlers, not an init that drops it (the suite's killsig).  The
    startContainer hook, which the init runs between start and the execve,
    makes that window half a second wide."""
    b = gk.bundle(["/bin/sleep", "100"])
    b.config["hooks"] = {"startContainer": [{"path": "/bin/sleep", "args": ["sleep", "0.5"]}]}
    cid = gk.create(b)
    pid = gk.state(cid)["pid"]
    gk.gkrun("start", cid, check=True)
    with open("/proc/%d/comm" % pid) as f:
        assert f.read().strip() == "sleep"
