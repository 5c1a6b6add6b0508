"""gkrun exec, terminals through --console-socket, and run -t in the
foreground."""
import array
import json
import os
import pty
import select
import socket
import subprocess
import time

import pytest

from conftest import GKRUN


def test_listen_fds_are_passed_on(gk, tmp_path):
    b = gk.bundle(["/bin/sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; ls /proc/self/fd"])
    b.write()
    r, w = os.pipe()
    os.dup2(r, 3)
    env = dict(os.environ, LISTEN_FDS="1")
    p = subprocess.run([GKRUN, "--root", gk.root, "run", "--bundle", b.path, gk.new_id()],
                       capture_output=True, text=True, pass_fds=(3,), env=env, timeout=30)
    os.close(r)
    os.close(w)
    lines = p.stdout.split("\n")
    assert lines[0] == "1 1", p.stderr
    assert "3" in p.stdout.split()[2:]


def running(gk, args=("/bin/sleep", "100"), **kw):
    b = gk.bundle(list(args), **kw)
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    return cid, b


def test_exec_runs_in_the_containers_namespaces(gk):
    cid, _ = running(gk)
    p = gk.gkrun("exec", cid, "/bin/sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '",
                 check=True)
    lines = p.stdout.split("\n")
    assert lines[0] == "gktest"
    assert lines[1].startswith("/bin/sleep 100")


@pytest.mark.parametrize("userns", [False, True], ids=["host-userns", "private-userns"])
def test_exec_joins_the_containers_cgroups(gk, userns):
    """An exec'd process is in the container's cgroup on every hierarchy,
    as its init is (on v1 it joins them itself, before the namespaces)."""
    b = gk.bundle(["/bin/sleep", "100"], copy_rootfs=userns)
    if userns:
        b.linux["namespaces"].append({"type": "user"})
        b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        subprocess.run(["chown", "-R", "100000:100000", os.path.join(b.path, "rootfs")],
                       check=True)
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    p = gk.gkrun("exec", cid, "/bin/sh", "-c", "cat /proc/1/cgroup; echo --; cat /proc/self/cgroup",
                 check=True)
    init, own = p.stdout.split("--\n")
    assert init.strip() and own.strip() == init.strip(), p.stdout
    assert "/" + cid in init


def test_exec_exit_status_env_cwd_user(gk):
    cid, _ = running(gk)
    p = gk.gkrun("exec", "--env", "X=1", "--cwd", "/tmp", "--user", "1000:1000", cid,
                 "/bin/sh", "-c", "echo $X; pwd; id -u; exit 3")
    assert p.returncode == 3
    assert p.stdout.split() == ["1", "/tmp", "1000"]


def test_exec_process_file(gk):
    cid, _ = running(gk)
    proc = {"args": ["/bin/sh", "-c", "echo from-process-json $Y"], "cwd": "/",
            "env": ["Y=2"], "user": {"uid": 0, "gid": 0}}
    path = os.path.join(gk.workdir, "process.json")
    json.dump(proc, open(path, "w"))
    p = gk.gkrun("exec", "--process", path, cid, check=True)
    assert p.stdout.strip() == "from-process-json 2"


def test_exec_detach_pid_file(gk):
    cid, _ = running(gk)
    pidfile = os.path.join(gk.workdir, "exec.pid")
    gk.gkrun("exec", "-d", "--pid-file", pidfile, cid, "/bin/sleep", "50", check=True)
    pid = int(open(pidfile).read())
    assert open("/proc/%d/cmdline" % pid).read().startswith("/bin/sleep")
    p = gk.gkrun("ps", "--format", "json", cid, check=True)
    assert pid in json.loads(p.stdout)


def test_exec_in_stopped_container_is_refused(gk):
    cid, _ = running(gk, ("/bin/true",))
    for _ in range(100):
        if gk.state(cid)["status"] == "stopped":
            break
        time.sleep(0.02)
    p = gk.gkrun("exec", cid, "/bin/true")
    assert p.returncode != 0 and "cannot exec in a stopped container" in p.stderr


def test_exec_missing_binary(gk):
    cid, _ = running(gk)
    p = gk.gkrun("exec", cid, "/nosuch")
    assert p.returncode != 0 and '"/nosuch"' in p.stderr


def test_exec_process_cannot_open_gkrun_binary(gk):
    """While `gkrun exec` sets up, its child runs gkrun's code inside the
    container's pid namespace: a process of the container watching
    /proc/*/exe must never reach the gkrun binary (the CVE-2019-5736
    route to overwriting it)."""
    cid, _ = running(gk, ("/bin/sh", "-c",
                          "while :; do for p in /proc/[0-9]*; do readlink $p/exe; done;"
                          " done > /tmp/seen 2>/dev/null"))
    for _ in range(30):
        gk.gkrun("exec", cid, "/bin/true", check=True)
    p = gk.gkrun("exec", cid, "/bin/sh", "-c", "sort -u /tmp/seen", check=True)
    assert "/bin/busybox" in p.stdout  # the watcher did see processes
    assert "gkrun" not in p.stdout


class ConsoleSocket:
    """A --console-socket listener that receives the pty master."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "console.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)

    def master(self, timeout=10):
        self.sock.settimeout(timeout)
        conn, _ = self.sock.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 1, 1)
        conn.close()
        assert len(fds) == 1
        return fds[0]


def read_until(fd, needle, timeout=10):
    buf = b""
    end = time.time() + timeout
    while needle not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            buf += data
    return buf.decode(errors="replace")


def test_console_socket_gets_the_master_before_create_returns(gk):
    cs = ConsoleSocket(gk.workdir)
    b = gk.bundle(["/bin/sh", "-c", "tty; stty size; echo done"], terminal=True)
    b.process["consoleSize"] = {"height": 33, "width": 101}
    cid = gk.create(b, "--console-socket", cs.path)
    master = cs.master(timeout=1)  # already sent: create has returned
    gk.gkrun("start", cid, check=True)
    out = read_until(master, b"done")
    assert "/dev/pts/0" in out
    assert "33 101" in out
    os.close(master)


def test_terminal_without_console_socket_is_refused_on_create(gk):
    b = gk.bundle(["/bin/sh"], terminal=True)
    b.write()
    p = gk.gkrun("create", "--bundle", b.path, gk.new_id())
    assert p.returncode != 0
    assert "cannot allocate tty if gkrun will detach without setting console socket" in p.stderr


def test_run_with_terminal_in_the_foreground(gk):
    """What a newcomer does: gkrun run with terminal: true, from a terminal."""
    b = gk.bundle(["/bin/sh"], terminal=True)
    b.write()
    cid = gk.new_id()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(GKRUN, [GKRUN, "--root", gk.root, "run", "--bundle", b.path, cid])
    read_until(fd, b"#")
    os.write(fd, b"echo in-$((6*7)); tty; exit 7\r")
    out = read_until(fd, b"dev/pts")
    _, status = os.waitpid(pid, 0)
    assert "in-42" in out
    assert "/dev/pts/0" in out
    assert os.waitstatus_to_exitcode(status) == 7


def test_exec_tty_through_console_socket(gk):
    cid, _ = running(gk)
    cs = ConsoleSocket(gk.workdir)
    p = subprocess.Popen([GKRUN, "--root", gk.root, "exec", "-t", "--console-socket", cs.path,
                          "-d", cid, "/bin/sh", "-c", "tty; echo exec-done; sleep 1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    master = cs.master()
    out = read_until(master, b"exec-done")
    p.wait(timeout=10)
    assert p.returncode == 0, p.stderr.read()
    assert "/dev/pts/" in out and "exec-done" in out
    os.close(master)


def test_exec_cap_adds_a_capability(gk):
    cid, _ = running(gk)
    before = gk.gkrun("exec", cid, "/bin/gk-probe", "caps", check=True).stdout
    after = gk.gkrun("exec", "--cap", "CAP_SYS_TIME", cid, "/bin/gk-probe", "caps",
                     check=True).stdout
    assert "CAP_SYS_TIME" not in before
    eff = [l for l in after.split("\n") if l.lower().startswith("capeff")][0]
    assert "CAP_SYS_TIME" in eff


def test_exec_preserve_fds(gk):
    cid, _ = running(gk)
    r, w = os.pipe()
    os.write(w, b"through-fd-3\n")
    os.close(w)
    os.dup2(r, 3)
    p = subprocess.run([GKRUN, "--root", gk.root, "exec", "--preserve-fds", "1", cid,
                        "/bin/sh", "-c", "cat <&3"], capture_output=True, text=True,
                       pass_fds=(3,), timeout=30)
    os.close(r)
    assert p.stdout.strip() == "through-fd-3", p.stderr


def test_kill_all_reaches_every_process(gk):
    cid, _ = running(gk, ("/bin/sh", "-c", "sleep 100 & sleep 100 & wait"))
    time.sleep(0.2)
    pids = json.loads(gk.gkrun("ps", "--format", "json", cid, check=True).stdout)
    assert len(pids) == 3
    gk.gkrun("kill", "--all", cid, "KILL", check=True)
    for _ in range(100):
        if all(not os.path.exists("/proc/%d" % p) or
               open("/proc/%d/stat" % p).read().split()[2] == "Z" for p in pids):
            break
        time.sleep(0.05)
    assert gk.state(cid)["status"] == "stopped"
