"""A container that joins a user namespace by path and makes new ones, as
containerd's CRI runs the containers of a Kubernetes pod with
`hostUsers: false`: the sandbox has its own user namespace (0 -> host
100000), the app container joins its user, network, IPC and UTS namespaces
by path and gets new mount, pid and cgroup namespaces, which must be owned
by the joined user namespace (else the app's root cannot even make its
mounts private).  runc does it; so must gkrun."""
import json
import os
import subprocess

import pytest

from conftest import GKRUN
from gkcli import wait_for
from test_exec_console import ConsoleSocket, read_until

RUNC = "/usr/sbin/runc"
USERNS = [{"containerID": 0, "hostID": 100000, "size": 65536}]
RUNTIMES = ["gkrun", "runc"]


def userns_bundle(gk, args):
    """Its own copy of the rootfs, owned by the container's root."""
    b = gk.bundle(args, copy_rootfs=True)
    subprocess.run(["chown", "-R", "100000:100000", os.path.join(b.path, "rootfs")], check=True)
    b.linux["uidMappings"] = list(USERNS)
    b.linux["gidMappings"] = list(USERNS)
    return b


class Runtime:
    """gkrun or runc on the test's --root; what it made deleted at the end."""

    def __init__(self, gk, name):
        self.gk = gk
        self.binary = GKRUN if name == "gkrun" else RUNC
        self.made = []

    def __call__(self, *args, **kw):
        return self.gk.gkrun(*args, binary=self.binary, **kw)

    def create(self, b):
        b.write()
        cid = self.gk.new_id()
        self.made.append(cid)
        p = self("create", "--bundle", b.path, cid)
        assert p.returncode == 0, p.stderr
        self("start", cid, check=True)
        return cid

    def pid(self, cid):
        return json.loads(self("state", cid, check=True).stdout)["pid"]

    def cleanup(self):
        for cid in reversed(self.made):
            self("delete", "--force", cid, timeout=30)


@pytest.fixture(params=RUNTIMES)
def rt(gk, request):
    r = Runtime(gk, request.param)
    r.name = request.param
    yield r
    r.cleanup()


def ns_link(pid, ns):
    return os.readlink("/proc/%d/ns/%s" % (pid, ns))


def host_ids(pid):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return fields["Uid"].split(), fields["NSpid"].split()


def sandbox(gk, rt):
    b = userns_bundle(gk, ["/bin/sleep", "1000"])
    b.linux["namespaces"] = [{"type": t} for t in
                             ("user", "pid", "network", "ipc", "uts", "mount")]
    cid = rt.create(b)
    return cid, rt.pid(cid)


def app_bundle(gk, sandbox_pid, args):
    b = userns_bundle(gk, args)
    b.linux["namespaces"] = (
        [{"type": t, "path": "/proc/%d/ns/%s" % (sandbox_pid, f)}
         for t, f in (("user", "user"), ("network", "net"), ("ipc", "ipc"), ("uts", "uts"))] +
        [{"type": t} for t in ("mount", "pid", "cgroup")])
    del b.config["hostname"]  # the UTS namespace is the sandbox's
    return b


def test_app_joins_the_sandbox_user_namespace(gk, rt):
    sb, sb_pid = sandbox(gk, rt)
    b = app_bundle(gk, sb_pid, ["/bin/sh", "-c",
                                "gk-probe observe > /tmp/observed; exec sleep 1000"])
    app = rt.create(b)
    pid = rt.pid(app)
    # as the host sees it: the sandbox's root, in its user and network
    # namespaces, pid 1 of its own pid namespace
    uids, nspid = host_ids(pid)
    assert uids == ["100000"] * 4
    assert nspid[-1] == "1" and len(nspid) == 2, nspid
    for ns in ("user", "net", "ipc", "uts"):
        assert ns_link(pid, ns) == ns_link(sb_pid, ns), ns
    for ns in ("mnt", "pid", "cgroup"):
        assert ns_link(pid, ns) != ns_link(sb_pid, ns), ns
    with open("/proc/%d/uid_map" % pid) as f, open("/proc/%d/uid_map" % sb_pid) as g:
        assert f.read() == g.read()
    # the new namespaces are the joined user namespace's: its root could
    # mount /proc (of its own pid namespace) in its own mount namespace
    obs = json.loads(wait_for(lambda: rt("exec", app, "cat", "/tmp/observed").stdout,
                              what="the init's observation"))
    # (the probe is the shell's child: the shell, the init, is pid 1)
    assert obs["ppid"] == 1 and obs["uid"] == 0 and obs["euid"] == 0
    assert any(m["point"] == "/proc" and m["type"] == "proc" for m in obs["mounts"]), \
        obs["mounts"]
    # exec joins all of it
    p = rt("exec", app, "/bin/sh", "-c", "id -u; cat /proc/1/cmdline | tr '\\0' ' '")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == ["0", "sleep 1000 "], p.stdout
    # kill and delete leave nothing of it; the sandbox lives on
    rt("kill", app, "KILL", check=True)
    wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
             open("/proc/%d/stat" % pid).read().split()[2] == "Z", what="the app's end")
    rt("delete", app, check=True)
    assert rt("state", app).returncode != 0
    assert os.path.exists("/proc/%d" % sb_pid)


def test_hooks_and_cgroup_see_the_init(gk, rt, tmp_path):
    """The init is the second stage: the state (and the hooks' state) names
    it, and it is in the container's cgroup."""
    sb, sb_pid = sandbox(gk, rt)
    b = app_bundle(gk, sb_pid, ["/bin/sleep", "1000"])
    b.config["hooks"] = {k: [{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s" % (tmp_path / k)]}]
                         for k in ("createRuntime", "poststart")}
    app = rt.create(b)
    pid = rt.pid(app)
    assert open("/proc/%d/cmdline" % pid).read() == "/bin/sleep\x001000\x00"
    for k in ("createRuntime", "poststart"):
        assert json.loads((tmp_path / k).read_text())["pid"] == pid, k
    with open("/proc/%d/cgroup" % pid) as f:
        assert app in f.read()


def test_terminal_through_the_console_socket(gk, rt):
    """The init's pty, made in its own mount namespace, reaches the
    console socket."""
    sb, sb_pid = sandbox(gk, rt)
    cs = ConsoleSocket(gk.workdir)
    b = app_bundle(gk, sb_pid, ["/bin/sh", "-c", "tty; id -u; echo done; exec sleep 1000"])
    b.process["terminal"] = True
    b.write()
    app = gk.new_id()
    rt.made.append(app)
    p = rt("create", "--bundle", b.path, "--console-socket", cs.path, app)
    assert p.returncode == 0, p.stderr
    master = cs.master(timeout=5)
    try:
        rt("start", app, check=True)
        out = read_until(master, b"done").split()
        assert out[:3] == ["/dev/pts/0", "0", "done"], out
    finally:
        os.close(master)


def test_pid_namespace_joined_too(gk, rt):
    """The pod's pid namespace shared (shareProcessNamespace): the state's
    pid is the init's as the host sees it, in the sandbox's namespace."""
    sb, sb_pid = sandbox(gk, rt)
    b = app_bundle(gk, sb_pid, ["/bin/sleep", "1000"])
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "pid"]
    b.linux["namespaces"].append({"type": "pid", "path": "/proc/%d/ns/pid" % sb_pid})
    app = rt.create(b)
    pid = rt.pid(app)
    assert open("/proc/%d/cmdline" % pid).read() == "/bin/sleep\x001000\x00"
    assert ns_link(pid, "pid") == ns_link(sb_pid, "pid")
    assert host_ids(pid)[1][-1] != "1"
    p = rt("exec", app, "/bin/sh", "-c", "ls /proc | grep -c '^[0-9]'")
    assert p.returncode == 0 and int(p.stdout) >= 3, (p.stdout, p.stderr)


def test_idmapped_mount_in_a_joined_user_namespace(gk):
    """Without a mapping of its own, an idmapped mount takes the container's
    user namespace: here the joined one."""
    rt = Runtime(gk, "gkrun")
    try:
        sb, sb_pid = sandbox(gk, rt)
        src = os.path.join(gk.workdir, "vol")
        os.makedirs(src)
        os.chmod(src, 0o777)
        b = app_bundle(gk, sb_pid, ["/bin/sh", "-c", "gk-probe stat /tmp/vol; touch /tmp/vol/new"])
        b.config["mounts"].append({"destination": "/tmp/vol", "type": "bind", "source": src,
                                   "options": ["bind", "idmap"]})
        b.write()
        p = gk.gkrun("run", "--bundle", b.path, gk.new_id())
        if "its filesystem does not support idmapped mounts" in p.stderr:
            # tmpfs has idmapped mounts from Linux 6.3 (the VM's kernel is 6.1)
            pytest.skip("this kernel cannot idmap %s's filesystem" % src)
        assert p.returncode == 0, p.stderr
        assert p.stdout.split()[:2] == ["0", "0"], p.stdout
        st = os.stat(os.path.join(src, "new"))
        assert (st.st_uid, st.st_gid) == (0, 0)
    finally:
        rt.cleanup()


def test_first_stage_failure_is_reported_and_leaves_nothing(gk):
    """A namespace the first stage cannot join (here a network namespace
    given as the pid one) fails create with its reason, and leaves no
    container, process or cgroup behind."""
    from conftest import cgroup_dirs
    rt = Runtime(gk, "gkrun")
    try:
        sb, sb_pid = sandbox(gk, rt)
        b = app_bundle(gk, sb_pid, ["/bin/sleep", "1000"])
        b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "pid"]
        bad = "/proc/%d/ns/net" % sb_pid
        b.linux["namespaces"].append({"type": "pid", "path": bad})
        b.write()
        before = set(os.listdir("/proc"))
        cid = gk.new_id()
        p = gk.gkrun("create", "--bundle", b.path, cid)
        assert p.returncode != 0
        assert "join pid namespace `%s`" % bad in p.stderr, p.stderr
        assert gk.gkrun("list", "-q").stdout.split() == [sb]
        assert cgroup_dirs(cid) == []
        left = [d for d in set(os.listdir("/proc")) - before if d.isdigit() and
                os.path.exists("/proc/%s/cmdline" % d) and
                open("/proc/%s/cmdline" % d).read().startswith(GKRUN)]
        assert left == []
    finally:
        rt.cleanup()
