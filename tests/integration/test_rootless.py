"""gkrun run by an unprivileged user (rootless), next to runc 1.1 doing the same.

Each test makes a user of its own (useradd, a unique name), a directory it
owns with a busybox rootfs and `RUNTIME spec --rootless` written by the
user, and an XDG_RUNTIME_DIR for it; every command runs as that user
(setpriv).  Teardown kills every process of that uid by PID (the user is
ours alone), removes its files and deletes the user with its /etc/subuid
and /etc/subgid lines, even when the test failed.

Where runc 1.1.5 differs, the expectation says so and why:
  - sysfs mount without a network namespace of the container's own: gkrun
    binds the host's /sys (as crun), runc 1.1 fails with EPERM
    (opencontainers/runc#3672, a fallback came in a later runc);
  - a bind mount of a source with locked nosuid/nodev/noexec remounted
    read-only: gkrun keeps the locked flags, runc 1.1 drops them and the
    remount fails with EPERM;
  - `ps` and `kill --all` of a container without a cgroup of its own:
    gkrun finds its processes by pid namespace, runc 1.1 fails asking the
    cgroup it has not;
  - XDG_RUNTIME_DIR unset: both fail, runc on /run/runc's permission,
    gkrun saying what to set.
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import GKRUN
from gkcli import run, wait_for

RUNC = "/usr/sbin/runc"
RUNTIMES = ["gkrun", "runc"]


def runtime_binary(name):
    return GKRUN if name == "gkrun" else RUNC


def uid_pids(uid):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(d))
                        break
        except OSError:
            pass
    return pids


def drop_sub_ids(name):
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(path) as f:
                lines = f.readlines()
        except FileNotFoundError:
            continue
        keep = [l for l in lines if l.split(":")[0] != name]
        if keep != lines:
            with open(path, "w") as f:
                f.writelines(keep)


def sub_range(name, path):
    """The user's (start, count) in /etc/subuid or /etc/subgid, or None."""
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[0] == name:
                    return int(parts[1]), int(parts[2])
    except FileNotFoundError:
        pass
    return None


class User:
    """A throwaway user, its home for bundles and its XDG_RUNTIME_DIR."""

    def __init__(self, rootfs_src):
        self.name = "gkrl" + uuid.uuid4().hex[:8]
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", self.name], check=True,
                       capture_output=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.dir = tempfile.mkdtemp(prefix="gk-rootless-")
        os.chmod(self.dir, 0o755)
        self.xdg = os.path.join(self.dir, "xdg")
        os.mkdir(self.xdg, 0o700)
        self.rootfs_src = rootfs_src
        self.nbundles = 0
        os.chown(self.dir, self.uid, self.gid)
        os.chown(self.xdg, self.uid, self.gid)

    def env(self, xdg=True):
        e = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "HOME": self.dir}
        if xdg:
            e["XDG_RUNTIME_DIR"] = self.xdg
        return e

    def cmd(self, *args, xdg=True, cwd=None, check=False, timeout=60, prefix=()):
        """ARGS as the user, with its environment (no XDG_RUNTIME_DIR when
        XDG is False); PREFIX runs before setpriv (as root)."""
        env = ["env", "-i"] + ["%s=%s" % kv for kv in self.env(xdg).items()]
        argv = list(prefix) + ["setpriv", "--reuid", str(self.uid), "--regid", str(self.gid),
                               "--init-groups"] + env + [str(a) for a in args]
        return run(argv, cwd=cwd or self.dir, check=check, timeout=timeout)

    def bundle(self, runtime):
        """A bundle of the user's: its own copy of the rootfs and the
        config.json of `RUNTIME spec --rootless`, written by the user."""
        self.nbundles += 1
        path = os.path.join(self.dir, "bundle%d" % self.nbundles)
        os.mkdir(path)
        shutil.copytree(self.rootfs_src, os.path.join(path, "rootfs"), symlinks=True)
        subprocess.run(["chown", "-R", "%d:%d" % (self.uid, self.gid), path], check=True)
        self.cmd(runtime_binary(runtime), "spec", "--rootless", cwd=path, check=True)
        return path

    def cleanup_processes(self):
        for _ in range(50):
            pids = uid_pids(self.uid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)

    def cleanup(self):
        self.cleanup_processes()
        shutil.rmtree(self.dir, ignore_errors=True)
        subprocess.run(["userdel", self.name], capture_output=True)
        drop_sub_ids(self.name)


@pytest.fixture
def user(rootfs):
    if os.geteuid() != 0:
        pytest.skip("making a user takes root")
    u = User(rootfs)
    yield u
    u.cleanup()


def config(path):
    with open(os.path.join(path, "config.json")) as f:
        return json.load(f)


def write_config(path, cfg):
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def set_args(path, args, change=None):
    cfg = config(path)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = list(args)
    if change:
        change(cfg)
    write_config(path, cfg)


def rt(user, runtime, *args, **kw):
    return user.cmd(runtime_binary(runtime), *args, **kw)


def new_id():
    return "gkrl-" + uuid.uuid4().hex[:8]


SHOW = ("id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups;"
        " echo x > /dev/null && echo devnull-ok; test -c /dev/null && echo devnull-chr;"
        " test -d /sys/class && echo sys-ok; test -d /sys/fs/cgroup && echo cgroup-ok")


def map_lines(text):
    return [l.split() for l in text.splitlines() if len(l.split()) == 3 and l.split()[0].isdigit()]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_spec_rootless_runs_as_the_user(user, runtime):
    b = user.bundle(runtime)
    set_args(b, ["sh", "-c", SHOW])
    p = rt(user, runtime, "run", new_id(), cwd=b)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0:2] == ["0", "0"], p.stdout  # root inside
    assert map_lines(p.stdout) == [["0", str(user.uid), "1"], ["0", str(user.gid), "1"]]
    assert "deny" in lines  # only the user's own gid mapped: setgroups denied
    for want in ("devnull-ok", "devnull-chr", "sys-ok", "cgroup-ok"):
        assert want in lines, p.stdout
    # the state directory of the user's runtime, under XDG_RUNTIME_DIR
    state = os.path.join(user.xdg, runtime)
    st = os.stat(state)
    assert st.st_uid == user.uid and oct(st.st_mode & 0o7777) == oct(0o1700)


def test_spec_rootless_matches_runc(user):
    """`gkrun spec --rootless` as a user writes what runc's writes (but
    the ociVersion), the user's own ids in the maps."""
    ours, runc = user.bundle("gkrun"), user.bundle("runc")
    a, b = config(ours), config(runc)
    a.pop("ociVersion"), b.pop("ociVersion")
    # the same namespaces (with a cgroup one on a pure v2 host), where
    # runc lists cgroup before user
    key = lambda n: n["type"]  # noqa: E731
    a["linux"]["namespaces"].sort(key=key)
    b["linux"]["namespaces"].sort(key=key)
    assert a == b
    assert a["linux"]["uidMappings"] == [{"containerID": 0, "hostID": user.uid, "size": 1}]
    assert a["linux"]["gidMappings"] == [{"containerID": 0, "hostID": user.gid, "size": 1}]


# also in the v2 VM (make check-cgv2): its no-delegation and systemd paths
@pytest.mark.cgroup
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_lifecycle_as_the_user(user, runtime):
    b = user.bundle(runtime)
    set_args(b, ["sleep", "1000"])
    cid = new_id()
    rt(user, runtime, "create", cid, cwd=b, check=True)
    assert os.path.isdir(os.path.join(user.xdg, runtime, cid))
    st = json.loads(rt(user, runtime, "state", cid, check=True).stdout)
    assert st["status"] == "created"
    pid = st["pid"]
    # the host sees the container's process as the user's
    with open("/proc/%d/status" % pid) as f:
        uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
    assert set(uids) == {str(user.uid)}
    rt(user, runtime, "start", cid, check=True)
    wait_for(lambda: json.loads(rt(user, runtime, "state", cid).stdout)["status"] == "running",
             what="running")
    listed = json.loads(rt(user, runtime, "list", "-f", "json", check=True).stdout)
    assert [(c["id"], c["owner"]) for c in listed] == [(cid, user.name)]
    rt(user, runtime, "exec", "-d", cid, "sleep", "999", check=True)
    ps = rt(user, runtime, "ps", "-f", "json", cid)
    if runtime == "gkrun":  # the init and the exec'd sleep, by pid namespace
        assert ps.returncode == 0, ps.stderr
        pids = json.loads(ps.stdout)
        assert len(pids) == 2 and pid in pids, pids
        sleeper = [p for p in pids if p != pid][0]
        with open("/proc/%d/cmdline" % sleeper) as f:
            assert f.read().split("\0")[0] == "sleep"
    else:  # runc 1.1 asks the container's cgroup, which it has not
        assert ps.returncode != 0 and "unable to get all container pids" in ps.stderr
    p = rt(user, runtime, "exec", cid, "sh", "-c", "id -u; cat /proc/self/uid_map", check=True)
    assert p.stdout.split()[:4] == ["0", "0", str(user.uid), "1"]
    # TERM to all: the exec'd sleep dies of it, the init (pid 1 of its
    # namespace, no handler) does not
    k = rt(user, runtime, "kill", "--all", cid, "TERM")
    if runtime == "gkrun":  # every process of its pid namespace
        assert k.returncode == 0, k.stderr
        wait_for(lambda: not os.path.exists("/proc/%d" % sleeper), what="exec'd sleep killed")
        assert os.path.exists("/proc/%d" % pid)
    else:  # runc 1.1 asks the cgroup it has not
        assert k.returncode != 0 and "no such file or directory" in k.stderr, k.stderr
    rt(user, runtime, "kill", cid, "KILL", check=True)
    wait_for(lambda: json.loads(rt(user, runtime, "state", cid).stdout)["status"] == "stopped",
             what="stopped")
    rt(user, runtime, "delete", cid, check=True)
    assert not os.path.exists(os.path.join(user.xdg, runtime, cid))
    assert json.loads(rt(user, runtime, "list", "-f", "json").stdout or "null") in ([], None)


# also in the v2 VM (make check-cgv2): its no-delegation and systemd paths
@pytest.mark.cgroup
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_memory_limit_needs_a_delegated_cgroup(user, runtime):
    """No cgroup is delegated here: a limit cannot be had, and the run fails
    leaving nothing; gkrun says what to delegate."""
    b = user.bundle(runtime)
    set_args(b, ["true"], lambda c: c["linux"].__setitem__(
        "resources", {"memory": {"limit": 64 << 20}}))
    cid = new_id()
    p = rt(user, runtime, "run", cid, cwd=b)
    assert p.returncode != 0
    if runtime == "gkrun":
        assert "linux.resources.memory" in p.stderr and "delegate" in p.stderr, p.stderr
    else:  # v1, and v2 in its words
        assert ("cannot set memory limit" in p.stderr or
                "rootless needs no limits" in p.stderr), p.stderr
    assert not os.path.exists(os.path.join(user.xdg, runtime, cid))
    assert not uid_pids(user.uid)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_device_rules_are_ignored(user, runtime):
    """As runc's rootless cgroup manager: device cgroup rules (which
    podman and containerd always write) do not stop a rootless container."""
    b = user.bundle(runtime)
    set_args(b, ["sh", "-c", "echo x > /dev/null && echo ok"], lambda c: c["linux"].__setitem__(
        "resources", {"devices": [{"allow": False, "access": "rwm"}]}))
    p = rt(user, runtime, "run", new_id(), cwd=b)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_subordinate_ids_through_newuidmap(user, runtime):
    """Mapping more than the user's own ids takes newuidmap/newgidmap and
    the user's /etc/subuid and /etc/subgid ranges."""
    if not shutil.which("newuidmap"):
        pytest.skip("newuidmap missing (contrib/install-deps.sh --test installs uidmap)")
    subu, subg = sub_range(user.name, "/etc/subuid"), sub_range(user.name, "/etc/subgid")
    if not subu or not subg:
        start = 3000000 + (user.uid % 1000) * 65536
        subprocess.run(["usermod", "--add-subuids", "%d-%d" % (start, start + 65535),
                        "--add-subgids", "%d-%d" % (start, start + 65535), user.name],
                       check=True)
        subu = subg = (start, 65536)

    def maps(c):
        c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": user.uid, "size": 1},
                                     {"containerID": 1, "hostID": subu[0], "size": subu[1]}]
        c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": user.gid, "size": 1},
                                     {"containerID": 1, "hostID": subg[0], "size": subg[1]}]
        c["root"]["readonly"] = False
        for caps in c["process"]["capabilities"].values():
            caps.append("CAP_CHOWN")

    b = user.bundle(runtime)
    set_args(b, ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; cat /proc/self/setgroups;"
                 " touch /f && chown 1000:1000 /f && stat -c %u:%g /f"], maps)
    p = rt(user, runtime, "run", new_id(), cwd=b)
    assert p.returncode == 0, p.stderr
    assert map_lines(p.stdout) == [
        ["0", str(user.uid), "1"], ["1", str(subu[0]), str(subu[1])],
        ["0", str(user.gid), "1"], ["1", str(subg[0]), str(subg[1])]]
    assert p.stdout.splitlines()[4:] == ["allow", "1000:1000"]
    # the file the container's uid 1000 owns is the host's subordinate id
    st = os.stat(os.path.join(b, "rootfs", "f"))
    assert (st.st_uid, st.st_gid) == (subu[0] + 999, subg[0] + 999)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_unmapped_ids_refused(user, runtime):
    """A user cannot map ids that are not its own nor its ranges'."""
    b = user.bundle(runtime)
    set_args(b, ["true"], lambda c: c["linux"].__setitem__(
        "uidMappings", [{"containerID": 0, "hostID": 0, "size": 1}]))
    p = rt(user, runtime, "run", new_id(), cwd=b)
    assert p.returncode != 0
    if runtime == "gkrun":
        assert "linux.uidMappings" in p.stderr, p.stderr
    assert not uid_pids(user.uid)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_without_xdg_runtime_dir(user, runtime):
    b = user.bundle(runtime)
    set_args(b, ["true"])
    p = rt(user, runtime, "run", new_id(), cwd=b, xdg=False)
    assert p.returncode != 0
    if runtime == "gkrun":
        assert "XDG_RUNTIME_DIR is not set" in p.stderr and "--root" in p.stderr, p.stderr
    else:
        assert "/run/runc" in p.stderr
    # --root instead works
    p = rt(user, runtime, "--root", os.path.join(user.dir, "state"), "run", new_id(), cwd=b,
           xdg=False)
    assert p.returncode == 0, p.stderr


def test_xdg_runtime_dir_not_writable(user):
    os.chmod(user.xdg, 0o500)
    b = user.bundle("gkrun")
    set_args(b, ["true"])
    p = rt(user, "gkrun", "run", new_id(), cwd=b)
    assert p.returncode != 0
    assert "XDG_RUNTIME_DIR `%s`" % user.xdg in p.stderr and "Permission denied" in p.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_sysfs_without_own_network_namespace(user, runtime):
    """A sysfs mount cannot be made by a user namespace that does not own
    the network namespace: gkrun binds the host's /sys instead (as crun);
    runc 1.1 fails (opencontainers/runc#3672)."""
    def sysfs(c):
        c["mounts"] = [m if m["destination"] != "/sys" else
                       {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                        "options": ["nosuid", "noexec", "nodev", "ro"]} for m in c["mounts"]]
    b = user.bundle(runtime)
    set_args(b, ["sh", "-c", "test -d /sys/class/net && echo sys-ok"], sysfs)
    p = rt(user, runtime, "run", new_id(), cwd=b)
    if runtime == "gkrun":
        assert p.returncode == 0 and p.stdout.strip() == "sys-ok", p.stderr
    else:
        assert p.returncode != 0 and "operation not permitted" in p.stderr, p.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_bind_of_locked_flags_read_only(user, runtime):
    """A bind mount whose source has nosuid,nodev,noexec (flags locked in a
    user namespace) remounted read-only keeps those flags: gkrun does; runc
    1.1 drops them and the remount fails with EPERM.  The source is a tmpfs
    in a throwaway mount namespace (unshare -m) the user's runtime starts
    in, so nothing is mounted on the host."""
    src = os.path.join(user.dir, "locked")
    os.mkdir(src)
    b = user.bundle(runtime)
    set_args(b, ["sh", "-c", "grep ' /mnt ' /proc/self/mountinfo"],
             lambda c: c["mounts"].append({"destination": "/mnt", "type": "bind", "source": src,
                                           "options": ["rbind", "ro"]}))
    mount = "mount -t tmpfs -o nosuid,nodev,noexec,mode=755 gkrl %s && exec \"$@\"" % src
    p = rt(user, runtime, "run", new_id(), cwd=b,
           prefix=["unshare", "-m", "--propagation", "private", "sh", "-c", mount, "sh"])
    if runtime == "gkrun":
        assert p.returncode == 0, p.stderr
        opts = p.stdout.split()[5].split(",")
        assert {"ro", "nosuid", "nodev", "noexec"} <= set(opts), p.stdout
    else:
        assert p.returncode != 0 and "operation not permitted" in p.stderr, p.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_rlimit_above_hard_limit(user, runtime):
    import resource
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files here")
    b = user.bundle(runtime)
    set_args(b, ["true"], lambda c: c["process"].__setitem__(
        "rlimits", [{"type": "RLIMIT_NOFILE", "hard": hard * 2, "soft": 1024}]))
    p = rt(user, runtime, "run", new_id(), cwd=b)
    assert p.returncode != 0
    if runtime == "gkrun":
        assert "process.rlimits[0]: RLIMIT_NOFILE hard" in p.stderr and "only root" in p.stderr
    else:
        assert "error setting rlimit" in p.stderr, p.stderr


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_oom_score_adj_below_own(user, runtime):
    with open("/proc/self/oom_score_adj") as f:
        own = int(f.read())
    if own <= -1000:
        pytest.skip("oom_score_adj already at its lowest")
    b = user.bundle(runtime)
    set_args(b, ["true"], lambda c: c["process"].__setitem__("oomScoreAdj", own - 1))
    p = rt(user, runtime, "run", new_id(), cwd=b)
    assert p.returncode != 0
    if runtime == "gkrun":
        assert "process.oomScoreAdj" in p.stderr and "only raise" in p.stderr, p.stderr
    else:
        assert "oom_score_adj" in p.stderr, p.stderr
    assert not uid_pids(user.uid)


def test_no_user_namespace_refused(user):
    b = user.bundle("gkrun")
    def no_userns(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "user"]
        del c["linux"]["uidMappings"], c["linux"]["gidMappings"]
    set_args(b, ["true"], no_userns)
    p = rt(user, "gkrun", "run", new_id(), cwd=b)
    assert p.returncode != 0 and "needs a user namespace" in p.stderr, p.stderr


def pure_cgroup_v2():
    return os.path.exists("/sys/fs/cgroup/cgroup.controllers")


@pytest.mark.cgroup
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_delegated_cgroup_v2_limits(user, runtime):
    """On cgroup v2 a subtree the user owns (what systemd's Delegate=yes
    gives: the directory, its cgroup.procs, cgroup.subtree_control and
    cgroup.threads) takes the container's cgroup and its limits, named by
    linux.cgroupsPath; the user's commands start inside the subtree, as a
    delegated session's do (moving a process takes write access to the
    common ancestor's cgroup.procs).  Runs in the cgroup-v2 VM (make
    check-cgv2)."""
    if not pure_cgroup_v2():
        pytest.skip("needs a pure cgroup v2 host (make check-cgv2)")
    with open("/sys/fs/cgroup/cgroup.subtree_control") as f:
        if not {"memory", "pids"} <= set(f.read().split()):
            pytest.skip("memory and pids are not enabled for the root's children")
    deleg = os.path.join("/sys/fs/cgroup", user.name)
    shell = os.path.join(deleg, "shell")
    os.mkdir(deleg)
    try:
        for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(deleg, f), user.uid, user.gid)
        os.mkdir(shell)
        os.chown(shell, user.uid, user.gid)
        os.chown(os.path.join(shell, "cgroup.procs"), user.uid, user.gid)

        def limits(c):
            c["linux"]["cgroupsPath"] = "/%s/ctr" % user.name
            c["linux"]["resources"] = {"memory": {"limit": 64 << 20}, "pids": {"limit": 50},
                                       "devices": [{"allow": False, "access": "rwm"}]}
        b = user.bundle(runtime)
        set_args(b, ["sleep", "1000"], limits)
        cid = new_id()
        enter = ['sh', '-c', 'echo $$ > %s/cgroup.procs && exec "$@"' % shell, 'sh']
        p = rt(user, runtime, "create", cid, cwd=b, prefix=enter)
        assert p.returncode == 0, p.stderr
        pid = json.loads(rt(user, runtime, "state", cid, check=True).stdout)["pid"]
        with open("/proc/%d/cgroup" % pid) as f:
            path = f.read().strip().split("::", 1)[1]
        assert path == "/%s/ctr" % user.name
        cg = "/sys/fs/cgroup" + path
        with open(cg + "/memory.max") as f:
            assert f.read().strip() == str(64 << 20)
        with open(cg + "/pids.max") as f:
            assert f.read().strip() == "50"
        assert os.stat(cg).st_uid == user.uid
        ps = rt(user, runtime, "ps", "-f", "json", cid, check=True)
        assert json.loads(ps.stdout) == [pid]
        # started, then exec, ps, kill, list and state as the user: the
        # exec'd process joins the container's cgroup (moving it takes the
        # common ancestor's cgroup.procs, the delegated one: the user's
        # commands run in the subtree, as a session's)
        rt(user, runtime, "start", cid, check=True, prefix=enter)
        p = rt(user, runtime, "exec", cid, "sh", "-c", "cat /proc/self/cgroup", prefix=enter)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip().endswith("/%s/ctr" % user.name) or p.stdout.strip() == "0::/", \
            p.stdout
        rt(user, runtime, "exec", "-d", cid, "sleep", "999", check=True, prefix=enter)
        with open(cg + "/cgroup.procs") as f:
            procs = sorted(int(x) for x in f.read().split())
        assert len(procs) == 2 and pid in procs, procs
        ps = rt(user, runtime, "ps", "-f", "json", cid, check=True)
        assert sorted(json.loads(ps.stdout)) == procs
        listed = json.loads(rt(user, runtime, "list", "-f", "json", check=True).stdout)
        assert [(c["id"], c["status"], c["owner"]) for c in listed] == \
            [(cid, "running", user.name)]
        sleeper = [x for x in procs if x != pid][0]
        rt(user, runtime, "kill", "--all", cid, "TERM", check=True)
        wait_for(lambda: not os.path.exists("/proc/%d" % sleeper), what="exec'd sleep killed")
        rt(user, runtime, "kill", cid, "KILL", check=True)
        wait_for(lambda: json.loads(rt(user, runtime, "state", cid).stdout)["status"] ==
                 "stopped", what="stopped")
        rt(user, runtime, "delete", "--force", cid, check=True)
        assert not os.path.exists(cg)
    finally:
        user.cleanup_processes()
        for d in (os.path.join(deleg, "ctr"), shell, deleg):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


# --rootless auto|true|false, decided as runc 1.1.5 decides: a user:
# rootless cgroups (auto, true); false makes the cgroup as root would, and
# a user may not.  Root in a user namespace of its own (what rootlesskit
# gives: `unshare -Urm`): auto is rootless too, and the state goes under
# $XDG_RUNTIME_DIR unless $USER is root.

@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("value", ["auto", "true", "false"])
def test_rootless_flag_as_the_user(user, runtime, value):
    b = user.bundle(runtime)
    set_args(b, ["true"])
    cid = new_id()
    p = rt(user, runtime, "--rootless", value, "run", cid, cwd=b)
    if value == "false":  # the cgroup made as root makes it: EACCES
        assert p.returncode != 0 and "permission denied" in p.stderr.lower(), p.stderr
        assert "cgroup" in p.stderr, p.stderr
    else:
        assert p.returncode == 0, p.stderr
    assert not os.path.exists(os.path.join(user.xdg, runtime, cid))
    assert not uid_pids(user.uid)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_rootless_flag_invalid(user, runtime):
    b = user.bundle(runtime)
    set_args(b, ["true"])
    cid = new_id()
    p = rt(user, runtime, "--rootless", "maybe", "run", cid, cwd=b)
    assert p.returncode != 0
    assert not os.path.exists(os.path.join(user.xdg, runtime, cid))
    if runtime == "gkrun":
        assert "--rootless" in p.stderr and "auto" in p.stderr, p.stderr
    else:
        assert "ParseBool" in p.stderr, p.stderr


USERNS = ("unshare", "-Urm")  # root in a user and mount namespace of the user's


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_root_in_a_user_namespace(user, runtime):
    """euid 0 in a user namespace the user made (rootlesskit's setup):
    `spec --rootless` maps that root; --rootless auto is rootless (no
    cgroup can be made, none is asked), false fails making it; the state
    is under $XDG_RUNTIME_DIR, or root's /run/RUNTIME when $USER is root,
    which that root cannot write."""
    b = user.bundle(runtime)
    os.unlink(os.path.join(b, "config.json"))
    user.cmd(*USERNS, runtime_binary(runtime), "spec", "--rootless", cwd=b, check=True)
    assert config(b)["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 0, "size": 1}]
    set_args(b, ["sleep", "1000"])
    cid = new_id()
    binary = runtime_binary(runtime)
    # create, the state under XDG_RUNTIME_DIR, then delete, in one namespace
    script = ('%s create %s && test -d "$XDG_RUNTIME_DIR/%s/%s" && echo state-in-xdg;'
              ' %s delete --force %s' % (binary, cid, runtime, cid, binary, cid))
    p = user.cmd(*USERNS, "sh", "-c", script, cwd=b)
    assert p.returncode == 0 and p.stdout.split() == ["state-in-xdg"], (p.stdout, p.stderr)
    p = user.cmd(*USERNS, binary, "--rootless", "false", "run", new_id(), cwd=b)
    assert p.returncode != 0 and "permission denied" in p.stderr.lower(), p.stderr
    assert "cgroup" in p.stderr, p.stderr
    p = user.cmd(*USERNS, "env", "USER=root", binary, "run", new_id(), cwd=b)
    assert p.returncode != 0 and "/run/%s" % runtime in p.stderr, p.stderr
    assert "permission denied" in p.stderr.lower(), p.stderr
    assert os.listdir(os.path.join(user.xdg, runtime)) == []
    # the killed init is reparented to the host's init, which reaps it
    wait_for(lambda: not uid_pids(user.uid), what="the user's processes gone")


# --systemd-cgroup as a user asks the user's own systemd (systemd --user),
# as runc 1.1.5 does.  Neither this host nor the v2 VM runs systemd, so the
# test makes the places both runtimes look for it: a pid namespace whose PID
# 1 is a script named `systemd` (what gkrun checks) and, in a mount
# namespace of its own, a /run/systemd/system directory (what runc checks).
# Then on cgroup v1 both refuse (a user's systemd cgroups need v2); on v2
# without a user bus both say what is missing; with one (a socket the test
# listens on at $XDG_RUNTIME_DIR/bus) both connect to it.  A real
# systemd --user is not started: it takes systemd as PID 1 with logind and
# user@.service, which neither test machine has.

def systemd_pid1(user, tmp, script):
    """SCRIPT (shell, as the user) run under a pid namespace whose PID 1 is
    a script named systemd, with /run/systemd/system in a private mount
    namespace."""
    init = os.path.join(tmp, "systemd")
    env = " ".join("%s=%s" % kv for kv in user.env().items())
    with open(init, "w") as f:
        f.write("#!/bin/sh\nmkdir -p /run/systemd && mount -t tmpfs gkrl /run/systemd &&"
                " mkdir /run/systemd/system || exit 99\n"
                "cd %s && setpriv --reuid %d --regid %d --init-groups env -i %s sh -c '%s'\n"
                % (tmp, user.uid, user.gid, env, script))
    os.chmod(init, 0o755)
    return run(["unshare", "--pid", "--fork", "--mount-proc", "-m", "--propagation", "private",
                init], timeout=60)


# also in the v2 VM (make check-cgv2): its no-delegation and systemd paths
@pytest.mark.cgroup
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_systemd_cgroup_as_the_user_without_its_systemd(user, runtime):
    b = user.bundle(runtime)
    set_args(b, ["true"])
    cid = new_id()
    p = systemd_pid1(user, b, "%s --systemd-cgroup run %s" % (runtime_binary(runtime), cid))
    assert p.returncode not in (0, 99), (p.stdout, p.stderr)
    if not pure_cgroup_v2():
        if runtime == "gkrun":
            assert "--systemd-cgroup" in p.stderr and "cgroup v2" in p.stderr, p.stderr
        else:
            assert "cannot use rootless systemd cgroups manager on cgroup v1" in p.stderr
    elif runtime == "gkrun":
        assert "systemd --user" in p.stderr, p.stderr
        assert "DBUS_SESSION_BUS_ADDRESS is not set" in p.stderr, p.stderr
        assert "%s/bus" % user.xdg in p.stderr, p.stderr
    else:
        assert "failed to connect to dbus" in p.stderr, p.stderr
        assert "systemctl --user" in p.stderr, p.stderr
    assert not os.path.exists(os.path.join(user.xdg, runtime, cid))
    assert not uid_pids(user.uid)


# also in the v2 VM (make check-cgv2): its no-delegation and systemd paths
@pytest.mark.cgroup
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_systemd_cgroup_as_the_user_asks_the_user_bus(user, runtime):
    if not pure_cgroup_v2():
        pytest.skip("a user's systemd cgroups need pure cgroup v2 (make check-cgv2)")
    import socket
    bus = os.path.join(user.xdg, "bus")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(bus)
    os.chown(bus, user.uid, user.gid)
    srv.listen(1)
    srv.settimeout(30)
    b = user.bundle(runtime)
    set_args(b, ["true"])
    cid = new_id()
    import threading
    got = {}

    def accept():
        try:
            conn, _ = srv.accept()
            conn.settimeout(10)
            hello = b""
            while len(hello) < 5:  # godbus writes the NUL byte on its own
                chunk = conn.recv(64)
                if not chunk:
                    break
                hello += chunk
            got["hello"] = hello
            conn.close()
        except OSError as e:
            got["error"] = e
    t = threading.Thread(target=accept)
    t.start()
    try:
        p = systemd_pid1(user, b, "%s --systemd-cgroup run %s" % (runtime_binary(runtime), cid))
    finally:
        t.join(40)
        srv.close()
    assert got.get("hello", b"").startswith(b"\0AUTH"), (got, p.stderr)
    assert p.returncode != 0
    assert not os.path.exists(os.path.join(user.xdg, runtime, cid))
    assert not uid_pids(user.uid)
