"""gkrun checkpoint and restore (CRIU), against runc where it has them.

CRIU runs only where `criu check` passes: in the cgroup-v2 VM
(`tests/run-tests.sh --criu-only`, see bundle-spec/checkpoint.md), not on
a host whose kernel CRIU 3.17 does not know (6.18: its vDSO probe fails).
There, the one test that runs is that both commands say so, with CRIU's
reason, and leave the container as it was.
"""
import json
import os
import select
import shutil
import socket
import subprocess
import time

import pytest

from conftest import GKRUN, run
from gkcli import wait_for

RUNC = "/usr/sbin/runc"
LIBCRIU = "/usr/lib/x86_64-linux-gnu/libcriu.so.2"

pytestmark = pytest.mark.criu


def criu_check():
    """(True, "") where `criu check` passes, else (False, why)."""
    if not shutil.which("criu"):
        return False, "criu is not installed (contrib/install-deps.sh --test)"
    p = run(["criu", "check"], timeout=60)
    if p.returncode == 0:
        return True, ""
    lines = [ln for ln in (p.stderr + p.stdout).splitlines() if "Error" in ln]
    return False, "`criu check` fails here (%s): %s" % (os.uname().release,
                                                        lines[-1] if lines else "?")


CRIU_OK, CRIU_WHY = criu_check()
needs_criu = pytest.mark.skipif(not CRIU_OK, reason="CRIU cannot run on this host: %s; run "
                                "these in the cgroup-v2 VM: tests/run-tests.sh --criu-only"
                                % CRIU_WHY)

# Appends 1, 2, 3... to /data/log (a bind mount of the test's directory):
# a restored counter goes on from where it was, a restarted one from 1.
COUNTER = "i=0; while :; do i=$((i+1)); echo $i >> /data/log; sleep 0.1; done"


class Runtime:
    """One runtime's CLI with the test's --root; removes its containers."""

    def __init__(self, gk, binary):
        self.gk = gk
        self.binary = binary
        self.name = os.path.basename(binary)
        self.ids = []

    def __call__(self, *args, **kw):
        return self.gk.gkrun(*args, binary=self.binary, **kw)

    def run_detached(self, bundle, cid):
        """run -d with pipes for stdio (CRIU dumps pipes; a deleted temp
        file outside the container it could not)."""
        bundle.write()
        self.ids.append(cid)
        r, w = os.pipe()
        try:
            p = subprocess.run([self.binary, "--root", self.gk.root, "run", "-d", "--bundle",
                                bundle.path, cid], stdin=r, stdout=w, stderr=w, timeout=60)
        finally:
            os.close(r)
            os.close(w)
        assert p.returncode == 0, "%s run -d failed" % self.name

    def state(self, cid):
        p = self("state", cid, check=True)
        return json.loads(p.stdout)

    def cleanup(self):
        for cid in self.ids:
            try:
                self("delete", "--force", cid, timeout=30)
            except Exception:
                pass


@pytest.fixture(params=[GKRUN, RUNC], ids=["gkrun", "runc"])
def rt(request, gk):
    if request.param == RUNC and not os.path.exists(RUNC):
        pytest.skip("runc is not installed (contrib/install-deps.sh --test)")
    r = Runtime(gk, request.param)
    yield r
    r.cleanup()


def counter_bundle(gk, args=None, netns=True):
    data = os.path.join(gk.workdir, "data%d" % (gk.nbundles + 1))
    os.makedirs(data)
    b = gk.bundle(["sh", "-c", args or COUNTER])
    b.config["mounts"].append({"destination": "/data", "type": "bind", "source": data,
                               "options": ["rbind", "rw"]})
    if not netns:
        b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    return b, data


def json_docs(path):
    """The JSON documents written one after the other in PATH."""
    with open(path) as f:
        text, docs, i = f.read(), [], 0
    dec = json.JSONDecoder()
    while text[i:].strip():
        i += len(text[i:]) - len(text[i:].lstrip())
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)
    return docs


def numbers(data, name="log"):
    try:
        with open(os.path.join(data, name)) as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def consecutive(ns):
    return ns == list(range(1, len(ns) + 1))


def images(gk, name):
    d = os.path.join(gk.workdir, name)
    os.makedirs(d, exist_ok=True)
    return d


def test_checkpoint_without_libcriu_says_criu_is_not_installed(gk):
    """libcriu missing (hidden in a mount namespace of the test's own):
    the error names it, and nothing else is tried."""
    cid = gk.new_id()
    hide = 'mount --bind /dev/null "$1" && ' if os.path.exists(LIBCRIU) else ""
    p = run(["unshare", "-m", "--propagation", "private", "sh", "-c",
             hide + 'exec "$2" --root "$3" checkpoint "$4"', "sh", LIBCRIU, GKRUN, gk.root, cid])
    assert p.returncode == 1, p.stderr
    assert "checkpoint: CRIU is not installed (" in p.stderr, p.stderr
    assert "libcriu.so.2" in p.stderr, p.stderr


@pytest.mark.skipif(CRIU_OK, reason="CRIU runs here: the tests below check it works")
@pytest.mark.skipif(not shutil.which("criu"), reason="criu is not installed")
def test_where_criu_cannot_run_both_commands_say_why(gk):
    """This host's kernel (6.18) is newer than CRIU 3.17 knows: checkpoint
    says CRIU cannot run here and why (CRIU's own reason), and the
    container goes on counting; restore says the same."""
    b, data = counter_bundle(gk)
    rt = Runtime(gk, GKRUN)
    cid = gk.new_id()
    rt.run_detached(b, cid)
    wait_for(lambda: len(numbers(data)) >= 3, what="the counter")
    img = images(gk, "img")
    p = rt("checkpoint", "--image-path", img, cid)
    assert p.returncode == 1
    assert ("gkrun: checkpoint: CRIU cannot run on this host (its kernel probe, as in "
            "`criu check`, fails on kernel %s)" % os.uname().release) in p.stderr, p.stderr
    # CRIU's reason, from its log, and where the log is
    assert "kerndat" in p.stderr and "(log: %s/dump.log)" % img in p.stderr, p.stderr
    assert rt.state(cid)["status"] == "running"
    n = len(numbers(data))
    wait_for(lambda: len(numbers(data)) > n + 2, what="the counter going on")
    assert consecutive(numbers(data))
    p = rt("restore", "-d", "--image-path", img, "--bundle", b.path, gk.new_id())
    assert p.returncode == 1
    assert "gkrun: restore: CRIU cannot run on this host" in p.stderr, p.stderr
    assert "(log: %s/restore.log)" % img in p.stderr, p.stderr


def checkpoint(rt, cid, img, *flags):
    p = rt("checkpoint", "--image-path", img, *flags, cid, timeout=120)
    assert p.returncode == 0, "%s checkpoint: %s" % (rt.name, p.stderr + p.stdout)


def restore(rt, b, cid, img, *flags):
    rt.ids.append(cid)
    p = rt("restore", "-d", "--image-path", img, "--bundle", b.path, *flags, cid, timeout=120,
           stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "%s restore: %s" % (rt.name, p.stderr + p.stdout)


def settled(data):
    """The counter's numbers once it has stopped writing."""
    last = None
    for _ in range(20):
        cur = numbers(data)
        if cur == last:
            return cur
        last = cur
        time.sleep(0.3)
    raise AssertionError("the counter still writes: %s" % last[-3:])


@needs_criu
def test_checkpoint_then_restore_counts_on(gk, rt):
    """The counter is checkpointed (and stopped: the container is gone),
    then restored under its id: it counts on from where it stopped, in
    a container that is running with a new pid."""
    b, data = counter_bundle(gk)
    b.linux["resources"] = {"pids": {"limit": 77}, "memory": {"limit": 64 << 20}}
    cid = gk.new_id()
    rt.run_detached(b, cid)
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    old_pid = rt.state(cid)["pid"]
    img = images(gk, "img")
    checkpoint(rt, cid, img)
    before = settled(data)
    assert consecutive(before) and len(before) >= 5
    assert rt("state", cid).returncode != 0, "the checkpointed container is still there"
    restore(rt, b, cid, img)
    st = rt.state(cid)
    assert st["status"] == "running" and st["pid"] != old_pid
    os.kill(st["pid"], 0)
    wait_for(lambda: len(numbers(data)) > len(before) + 5, what="the restored counter")
    after = numbers(data)
    assert consecutive(after), "restarted, not restored: %s" % after[len(before) - 2:][:10]
    # in a cgroup with the config's limits
    assert cgroup_file(st["pid"], "pids.max") == "77"
    assert cgroup_file(st["pid"], "memory.max") == str(64 << 20)


def cgroup_file(pid, name):
    """NAME in PID's cgroup2 directory (the VM is pure cgroup v2)."""
    with open("/proc/%d/cgroup" % pid) as f:
        rel = [ln.split(":", 2)[2].strip() for ln in f if ln.startswith("0::")][0]
    with open(os.path.join("/sys/fs/cgroup", rel.lstrip("/"), name)) as f:
        return f.read().strip()


@needs_criu
def test_leave_running_then_restore_under_a_new_id(gk, rt):
    """--leave-running: the container goes on counting; its images
    restored under another id (the first one deleted) count on from the
    checkpoint, not from 1; the prestart hook runs at the restore too."""
    b, data = counter_bundle(gk)
    hooked = os.path.join(gk.workdir, "prestart")
    b.config["hooks"] = {"prestart": [{"path": "/bin/sh", "args": [
        "sh", "-c", 'cat >> "$0"; echo >> "$0"', hooked]}]}
    cid = gk.new_id()
    rt.run_detached(b, cid)
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    img = images(gk, "img")
    checkpoint(rt, cid, img, "--leave-running")
    at = len(numbers(data))
    assert rt.state(cid)["status"] == "running"
    wait_for(lambda: len(numbers(data)) > at + 3, what="the counter after --leave-running")
    assert rt("delete", "--force", cid).returncode == 0
    before = settled(data)
    new = gk.new_id()
    restore(rt, b, new, img)
    st = rt.state(new)
    assert st["status"] == "running"
    # the prestart hook ran again, for the restored container
    runs = json_docs(hooked)
    assert [r["id"] for r in runs] == [cid, new]
    assert runs[1]["pid"] == st["pid"]
    wait_for(lambda: len(numbers(data)) > len(before) + 3, what="the restored counter")
    resumed = numbers(data)[len(before):]
    # from the count at the checkpoint (at or before `at`), then on by one
    assert 5 < resumed[0] <= at + 1, resumed[:5]
    assert resumed == list(range(resumed[0], resumed[0] + len(resumed)))


@needs_criu
def test_pre_dump_then_dump(gk, rt):
    """--pre-dump leaves the container running; the dump with
    --parent-path on it restores a counter that counts on."""
    b, data = counter_bundle(gk)
    cid = gk.new_id()
    rt.run_detached(b, cid)
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    pre, final = images(gk, "pre"), images(gk, "final")
    checkpoint(rt, cid, pre, "--pre-dump")
    assert rt.state(cid)["status"] == "running"
    n = len(numbers(data))
    wait_for(lambda: len(numbers(data)) > n + 2, what="the counter after --pre-dump")
    checkpoint(rt, cid, final, "--parent-path", "../pre")
    before = settled(data)
    restore(rt, b, cid, final)
    wait_for(lambda: len(numbers(data)) > len(before) + 3, what="the restored counter")
    assert consecutive(numbers(data))


# A TCP listener and a client of it on the container's loopback: the
# client sends 1, 2, 3... over the connection, the listener appends them.
# (The listener's stdin never ends: busybox nc closes on its EOF.)
TCP = ("sleep 100000 | nc -l -p 7000 >> /data/log & sleep 1; "
       "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done | nc 127.0.0.1 7000")


@needs_criu
def test_tcp_established(gk, rt, request):
    """An established connection on the container's own loopback:
    refused without --tcp-established (the container goes on), dumped and
    restored with it, the numbers going on over the same connection."""
    if rt.name == "runc":
        request.node.add_marker(pytest.mark.xfail(
            reason="runc 1.1.5's restore of it fails in its notify step "
                   "(`criu failed: type NOTIFY errno 0`)"))
    b, data = counter_bundle(gk, TCP)
    cid = gk.new_id()
    rt.run_detached(b, cid)
    wait_for(lambda: len(numbers(data)) >= 5, what="numbers over the connection")
    img = images(gk, "img")
    p = rt("checkpoint", "--image-path", images(gk, "refused"), cid, timeout=120)
    assert p.returncode != 0, "an established connection dumped without --tcp-established"
    assert rt.state(cid)["status"] == "running"
    checkpoint(rt, cid, img, "--tcp-established")
    before = settled(data)
    restore(rt, b, cid, img, "--tcp-established")
    wait_for(lambda: len(numbers(data)) > len(before) + 5, what="numbers after the restore")
    assert consecutive(numbers(data))


def lo_is_up(rt, cid):
    p = rt("exec", cid, "ip", "-o", "link", "show", "lo", check=True)
    return ",UP" in p.stdout


@needs_criu
def test_empty_ns_network(gk, rt):
    """--empty-ns network: the container's network namespace is dumped
    without its content; restored, it is a new one as the kernel makes
    it (lo down, where it was up), and the counter counts on."""
    b, data = counter_bundle(gk)
    cid = gk.new_id()
    rt.run_detached(b, cid)
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    assert lo_is_up(rt, cid)
    img = images(gk, "img")
    checkpoint(rt, cid, img, "--empty-ns", "network")
    before = settled(data)
    restore(rt, b, cid, img, "--empty-ns", "network")
    wait_for(lambda: len(numbers(data)) > len(before) + 3, what="the restored counter")
    assert consecutive(numbers(data))
    assert not lo_is_up(rt, cid), "the network namespace was restored with its content"


def test_empty_ns_other_than_network_is_refused(gk):
    """CRIU leaves only a network namespace empty: another name is refused
    before anything is done, naming it."""
    p = gk.gkrun("checkpoint", "--empty-ns", "ipc", gk.new_id())
    assert p.returncode == 1
    assert "checkpoint: --empty-ns `ipc`: CRIU can leave only the network namespace " \
        "empty" in p.stderr, p.stderr


class ConsoleSocket:
    """A --console-socket listener: each connection brings a pty master."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(2)

    def master(self, timeout=60):
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        with conn:
            _, fds, _, _ = socket.recv_fds(conn, 1, 1)
        assert len(fds) == 1
        return fds[0]

    def close(self):
        self.sock.close()


def read_tty(fd, timeout=0.5, limit=3):
    """What the terminal has: read until TIMEOUT seconds pass without
    output, or LIMIT seconds in all (a counter writing every 0.1 s never
    goes quiet)."""
    out = b""
    end = time.monotonic() + limit
    while time.monotonic() < end and select.select([fd], [], [], timeout)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


@needs_criu
def test_terminal_restored_through_the_console_socket(gk, rt):
    """A container with a terminal (its master at the caller, as conmon
    holds it): checkpointed, then restored with --console-socket, which
    receives a new master, on which the restored counter writes on."""
    b, data = counter_bundle(gk, "i=0; while :; do i=$((i+1)); echo $i >> /data/log; "
                             "echo n=$i; sleep 0.1; done")
    b.process["terminal"] = True
    cs = ConsoleSocket(os.path.join(gk.workdir, "console.sock"))
    cid = gk.new_id()
    b.write()
    rt.ids.append(cid)
    masters = []
    try:
        p = rt("run", "-d", "--console-socket", cs.path, "--bundle", b.path, cid, timeout=60,
               stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
        masters.append(cs.master())
        wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
        assert "n=3" in read_tty(masters[0])
        img = images(gk, "img")
        checkpoint(rt, cid, img)
        before = settled(data)
        read_tty(masters[0], 0.1)
        p = rt("restore", "-d", "--image-path", img, "--bundle", b.path, "--console-socket",
               cs.path, cid, timeout=120, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, "%s restore: %s" % (rt.name, p.stderr)
        masters.append(cs.master(timeout=5))
        wait_for(lambda: len(numbers(data)) > len(before) + 3, what="the restored counter")
        assert consecutive(numbers(data))
        later = "n=%d" % (len(before) + 3)
        out = ""
        for _ in range(20):
            out += read_tty(masters[1])
            if later in out:
                break
        assert later in out, out[-200:]
    finally:
        for fd in masters:
            os.close(fd)
        cs.close()


def test_stdio_null_device_is_the_containers_own(gk):
    """stdin given as the host's /dev/null (what conmon gives a container
    without -i) is the container's own /dev/null once it runs: the same
    mount as a /dev/null it opens itself (no host fd left in it, and CRIU
    finds the fd's mount in the container's: podman's checkpoint failed
    with "Can't lookup mount=N for fd=0 path=/dev/null" before).  gkrun
    only: runc 1.1.5 leaves the host's fd there."""
    rt = Runtime(gk, GKRUN)
    b = gk.bundle(["sh", "-c", "exec 3</dev/null; grep mnt_id /proc/self/fdinfo/0 "
                   "/proc/self/fdinfo/3"])
    b.write()
    cid = gk.new_id()
    rt.ids.append(cid)
    p = rt("run", "--bundle", b.path, cid, stdin=subprocess.DEVNULL, timeout=60)
    assert p.returncode == 0, p.stderr
    ids = [ln.split()[-1] for ln in p.stdout.splitlines()]
    assert len(ids) == 2 and ids[0] == ids[1], p.stdout
